"""The Products window: add and edit products (SKU, name, price) and restock them.

Every change goes through the store, so the checks are the domain's own
(:mod:`storeapp.domain.store.validation`): a refused value is one message
under the form, the cursor goes to the field it names, and nothing is
written. Stock is never typed over: an existing product's stock only grows
through *Restock* (:meth:`Store.restock`, one guarded UPDATE that cannot
lose a sale made meanwhile); a new product's first stock is part of adding
it.

Its list is the till's catalogue model (C++ cells, kept up to date by the
till from the products' model signals, whoever changed them), seen through
a filter of its own: one refresh path for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QItemSelection, QSortFilterProxyModel, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain import DomainError, Store, ValidationError
from storeapp.domain.demo import CATALOGUE, reset_catalogue
from storeapp.domain.store.validation import MAX_INVENTORY
from storeapp.listeners.api import palette
from storeapp.ui.confirm import confirm
from storeapp.ui.models import SORT_ROLE, ProductTableModel, money

ERROR_STYLE = f"color: {palette.ERROR_TEXT};"
OK_STYLE = f"color: {palette.OK_TEXT};"

#: The largest whole number a QSpinBox holds is 2**31 - 1; the domain's
#: ceiling for stock is lower, so the spin boxes use that.
SPIN_MAX = min(MAX_INVENTORY, 2**31 - 1)


class ProductsDialog(QDialog):
    """Add, edit and restock products; non-modal, so the till stays usable.

    ``model`` is the till's catalogue model and ``reload()`` refreshes it at
    once after an action here (the model signals refresh it anyway, a
    moment later, for changes made anywhere else).
    """

    def __init__(
        self,
        store: Store,
        model: ProductTableModel,
        reload: Callable[[], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("productsDialog")
        self.setWindowTitle("Products and stock")
        self.store = store
        self.model = model
        self._reload = reload
        #: The product being edited (None: the form adds a new one).
        self.editing: Any = None

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(SORT_ROLE)
        self.search = QLineEdit(self)
        self.search.setObjectName("productsSearch")
        self.search.setPlaceholderText("Search by name or SKU…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView(self)
        self.table.setObjectName("productsTable")
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.table.setTabKeyNavigation(False)  # one Tab stop; arrows move inside
        self.table.resizeColumnsToContents()
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        model.dataChanged.connect(lambda *_: self._show_stock())

        self.form_box = QGroupBox("New product", self)
        self.sku = self._line("productSku", "e.g. COF-250")
        self.name = self._line("productName", "e.g. Coffee beans 250 g")
        self.price = self._line("productPrice", "e.g. 4.99")
        self.stock = QSpinBox(self)
        self.stock.setObjectName("productStock")
        self.stock.setRange(0, SPIN_MAX)
        self.stock.setToolTip("The stock a new product starts with; later, use Restock.")
        self.new_button = QPushButton("&New product", self)
        self.new_button.setObjectName("productNewButton")
        self.new_button.setToolTip("Clear the form to add a product (Ctrl+N)")
        self.new_button.clicked.connect(self.start_new)
        self.save_button = QPushButton("&Save product", self)
        self.save_button.setObjectName("productSaveButton")
        self.save_button.setToolTip("Add the product, or save the changes (Enter)")
        self.save_button.clicked.connect(self.save)
        self.form = form = QFormLayout()
        for label, field in (
            ("S&KU", self.sku),
            ("N&ame", self.name),
            ("&Price", self.price),
            ("S&tarting stock", self.stock),
        ):
            form.addRow(self._label(label, field), field)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        form.addRow(buttons)
        self.form_box.setLayout(form)

        self.restock_box = QGroupBox("Restock", self)
        self.in_stock = QLabel("Select a product to restock it.", self)
        self.in_stock.setObjectName("productInStock")
        self.restock_quantity = QSpinBox(self)
        self.restock_quantity.setObjectName("restockQuantity")
        self.restock_quantity.setRange(1, SPIN_MAX)
        self.restock_quantity.setValue(10)
        self.restock_quantity.setToolTip("Units delivered, added to the stock (Enter restocks)")
        self.restock_button = QPushButton("&Restock", self)
        self.restock_button.setObjectName("restockButton")
        self.restock_button.setToolTip(
            "Add the units to the stock; sales made meanwhile are never lost"
        )
        self.restock_button.clicked.connect(self.restock)
        self.restock_quantity.lineEdit().returnPressed.connect(self.restock)
        restock_row = QHBoxLayout()
        restock_row.addWidget(self._label("A&dd", self.restock_quantity))
        restock_row.addWidget(self.restock_quantity)
        restock_row.addWidget(QLabel("units", self))
        restock_row.addStretch(1)
        restock_row.addWidget(self.restock_button)
        restock_layout = QVBoxLayout(self.restock_box)
        restock_layout.addWidget(self.in_stock)
        restock_layout.addLayout(restock_row)

        self.message = QLabel("", self)
        self.message.setObjectName("productsMessage")
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        side = QVBoxLayout()
        side.addWidget(self.form_box)
        side.addWidget(self.restock_box)
        side.addWidget(self.message)
        side.addStretch(1)
        columns = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self._label("Searc&h", self.search))
        left.addWidget(self.search)
        left.addWidget(self.table, 1)
        columns.addLayout(left, 3)
        columns.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(close)
        # Enter is wired where it is pressed (a field saves, the quantity
        # restocks); no button is the dialog's default, or Enter would press
        # it as well.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        QShortcut(QKeySequence.StandardKey.New, self, self.start_new)
        self.resize(820, 480)
        self.start_new()

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit(self)
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.returnPressed.connect(self.save)
        return edit

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    # ------------------------------------------------------------ selection

    def selected_product(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.row_at(self.proxy.mapToSource(rows[0]).row())

    def select_product(self, product_id: int) -> None:
        """Select ``product_id``'s row (and edit it), if it is shown."""
        row = self.model.row_of(product_id)
        if row >= 0:
            self.table.selectRow(self.proxy.mapFromSource(self.model.index(row, 0)).row())

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        product = self.selected_product()
        if product is None:
            if self.editing is not None:
                self.start_new()
            return
        self.editing = product
        self.form_box.setTitle(f"Edit {product.sku}")
        self.sku.setText(product.sku)
        self.name.setText(product.name)
        self.price.setText(f"{product.unit_price:.2f}")
        # An existing product's stock is never typed over: Restock adds to it.
        self.form.setRowVisible(self.stock, False)
        self.stock.setEnabled(False)
        self.save_button.setText("&Save changes")
        self._show_stock()

    def _show_stock(self) -> None:
        """The selected product's stock as the model has it now; Restock on or off."""
        product = self.selected_product()
        self.restock_button.setEnabled(product is not None)
        self.restock_quantity.setEnabled(product is not None)
        if product is None:
            self.in_stock.setText("Select a product to restock it.")
        else:
            self.in_stock.setText(f"{product.name}: {product.inventory:,} in stock")

    def start_new(self) -> None:
        """Empty the form for a new product (Ctrl+N)."""
        self.table.selectionModel().clear()
        self.editing = None
        self.form_box.setTitle("New product")
        for edit in (self.sku, self.name, self.price):
            edit.clear()
        self.form.setRowVisible(self.stock, True)
        self.stock.setEnabled(True)
        self.stock.setValue(0)
        self.save_button.setText("&Save product")
        self._show_stock()
        self.sku.setFocus()

    # -------------------------------------------------------------- actions

    def save(self) -> None:
        """Add the product in the form, or save the changes to the one edited."""
        values = {"sku": self.sku.text(), "name": self.name.text(), "unit_price": self.price.text()}
        try:
            if self.editing is None:
                product = self.store.add_product(inventory=self.stock.value(), **values)
                done = f"Added {product.name} ({product.sku}), {product.inventory:,} in stock."
            else:
                product = self.store.update_product(self.editing.id, **values)
                done = f"Saved {product.name} ({product.sku}) at {money(product.unit_price)}."
        except DomainError as exc:
            self._refused(exc)
            return
        self._reload()
        self.select_product(product.id)
        self._say(done, error=False)

    def restock(self) -> None:
        """Add the units in the spin box to the selected product's stock."""
        product = self.selected_product()
        if product is None:
            self._say("Select a product to restock.", error=True)
            return
        quantity = self.restock_quantity.value()
        try:
            product = self.store.restock(product.id, quantity)
        except DomainError as exc:
            self._refused(exc)
            return
        self._reload()
        self._show_stock()
        self._say(
            f"Restocked {product.name}: +{quantity:,}, now {product.inventory:,} in stock.",
            error=False,
        )

    def _refused(self, exc: DomainError) -> None:
        self._say(str(exc), error=True)
        field = exc.field if isinstance(exc, ValidationError) else None
        widget = {
            "sku": self.sku,
            "name": self.name,
            "unit_price": self.price,
            "inventory": self.stock,
            "quantity": self.restock_quantity,
        }.get(field or "")
        if widget is not None:
            widget.setFocus()

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message.setText(text)


def reset_demo_catalogue(parent: QWidget, store: Store, till: Any) -> bool:
    """Demo > Reset demo data: ask, then put the demo catalogue back as it
    first was and say so in ``till``'s message. Returns whether it was reset."""
    if not confirm(
        parent,
        "confirmResetDemo",
        "Reset demo data",
        f"Put the {len(CATALOGUE)} demo products back as they first were?",
        "Their names, prices and stock are set again, and deleted ones are added back. "
        "Orders, customers and products of your own are kept.",
        "&Reset the catalogue",
        QMessageBox.Icon.Question,
    ):
        return False
    try:
        changed = reset_catalogue(store)
    except DomainError as exc:  # e.g. the database was busy: nothing was written
        till.show_error(str(exc))
        return False
    till.reload_products()
    if changed:
        till.show_info(f"Demo catalogue reset: {changed} product(s) put back.")
    else:
        till.show_info("The demo catalogue was already as it first was.")
    return True
