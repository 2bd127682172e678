"""The till's four panes: widgets and their models, no store.

Each pane lays out its widgets (every one keeps the objectName tests and
tools find it by) and answers questions about what the cashier picked;
:class:`storeapp.ui.till.till.Till` wires their buttons to the actions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain.store.validation import MAX_QUANTITY
from storeapp.listeners.api import palette
from storeapp.ui.models import (
    SORT_ROLE,
    CartTableModel,
    CustomerListModel,
    OrderRow,
    OrderTableModel,
    ProductTableModel,
    money,
)
from storeapp.ui.till.widgets import (
    CartTable,
    MessageLine,
    ProductTable,
    QuantityDelegate,
    SearchBox,
)

#: The registration form: field, label, placeholder.
REGISTER_FIELDS = (
    ("username", "&Username", "ada"),
    ("email", "E&mail", "ada@example.com"),
    ("password", "Pass&word", "at least 8 characters"),
)

#: The background of a field a registration refused. A colour, not a style
#: sheet: a style sheet would change the field's height and move the form.
INVALID_BACKGROUND = QColor("#fdecea")


V = TypeVar("V", bound=QTableView)


def table(name: str, model: Any, parent: QWidget) -> QTableView:
    return set_up_table(QTableView(parent), name, model)


def set_up_table(view: V, name: str, model: Any) -> V:
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # one Tab stop: arrows move inside, Tab moves on
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    # Not ResizeToContents: that re-measures every row on every change.
    # Sized once, after the first load.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    return view


def labelled(text: str, buddy: QWidget, parent: QWidget) -> QLabel:
    """A label whose Alt+letter (``&`` in ``text``) puts the cursor in ``buddy``."""
    label = QLabel(text, parent)
    label.setBuddy(buddy)
    return label


class CustomerPane(QGroupBox):
    """Register a customer; pick the one being served.

    A registration's message (an error names its field, which is outlined
    and gets the cursor) shows in the room reserved under the form."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Customer", parent)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        for field, label, placeholder in REGISTER_FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"register{field.capitalize()}")
            edit.setPlaceholderText(placeholder)
            if field == "password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            form.addRow(labelled(label, edit, self), edit)
            self.fields[field] = edit
        self.message = MessageLine("customerMessage", self)
        form.addRow(self.message)
        self.register_button = QPushButton("Register customer", self)
        self.register_button.setObjectName("registerButton")
        form.addRow(self.register_button)
        self.model = CustomerListModel(self)
        self.picker = QComboBox(self)
        self.picker.setObjectName("customerPicker")
        self.picker.setModel(self.model)
        self.picker.setPlaceholderText("Pick a customer")
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.picker.setMinimumContentsLength(8)
        form.addRow(labelled("&Serving", self.picker, self), self.picker)
        self.setLayout(form)

    def values(self) -> dict[str, str]:
        return {field: edit.text() for field, edit in self.fields.items()}

    def clear_fields(self) -> None:
        for edit in self.fields.values():
            edit.clear()

    def clear_errors(self) -> None:
        for edit in self.fields.values():
            edit.setPalette(QPalette())

    def mark_field(self, field: str | None) -> bool:
        """Outline ``field`` and put the cursor there, its text selected
        (False if ``field`` is not one of the form's)."""
        edit = self.fields.get(field or "")
        if edit is None:
            return False
        colours = QPalette(edit.palette())
        colours.setColor(QPalette.ColorRole.Base, INVALID_BACKGROUND)
        colours.setColor(QPalette.ColorRole.Text, QColor(palette.ERROR_TEXT))
        edit.setPalette(colours)
        edit.setFocus()
        edit.selectAll()
        return True

    def start_new(self) -> None:
        """An empty form, the cursor in Username."""
        self.clear_fields()
        self.clear_errors()
        self.fields["username"].setFocus()

    def current_user_id(self) -> int | None:
        index = self.picker.currentIndex()
        customer = self.model.row_at(index) if index >= 0 else None
        return customer.user_id if customer is not None else None

    def select(self, user_id: int) -> None:
        row = self.model.row_of(user_id)
        if row >= 0:
            self.picker.setCurrentIndex(row)


class CataloguePane(QGroupBox):
    """The products, searchable and sortable; a quantity and "Add to cart".

    A scanner types a SKU and Enter into the search box; a cashier types
    part of a name, then Down to move into the results and Enter to add."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Catalogue", parent)
        self.model = ProductTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(SORT_ROLE)
        self.search = SearchBox(self)
        self.search.setObjectName("productSearch")
        self.search.setPlaceholderText("Scan or type a SKU or name, then Enter…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = set_up_table(ProductTable(self), "productTable", self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.quantity = QSpinBox(self)
        self.quantity.setObjectName("quantitySpin")
        self.quantity.setRange(1, 999)
        self.add_button = QPushButton("Add to cart", self)
        self.add_button.setObjectName("addToCartButton")
        self.message = MessageLine("catalogueMessage", self)
        row = QHBoxLayout()
        row.addWidget(labelled("&Qty", self.quantity, self))
        row.addWidget(self.quantity)
        row.addStretch(1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addLayout(row)
        layout.addWidget(self.message)
        self.search.down_pressed.connect(self.enter_results)
        self.table.up_from_top.connect(self.search.setFocus)

    def selected_product(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())

    def matches(self, text: str) -> list[Any]:
        """The products ``text`` names: the one whose SKU it is (any case),
        else every product the search shows."""
        code = text.strip().casefold()
        exact = [p for p in self.model.rows() if str(p.sku).casefold() == code]
        if exact:
            return exact
        rows = range(self.proxy.rowCount())
        return [
            self.model.row_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row()) for r in rows
        ]

    def enter_results(self) -> None:
        """Move the cursor from the search into the results, on the first."""
        if self.proxy.rowCount():
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def reset_search(self) -> None:
        """Ready for the next scan: an empty search, quantity 1, the cursor in it."""
        self.search.clear()
        self.quantity.setValue(1)
        self.search.setFocus()


class CartPane(QGroupBox):
    """The cart's lines (quantities edit in place) and total, checkout, and
    the message about the cart."""

    def __init__(self, parent: QWidget, commit_quantity: Callable[[int, int], None]) -> None:
        super().__init__("Cart", parent)
        self.model = CartTableModel(self)
        self.table = set_up_table(CartTable(self), "cartTable", self.model)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setItemDelegateForColumn(
            CartTable.QTY_COLUMN, QuantityDelegate(commit_quantity, MAX_QUANTITY, self.table)
        )
        self.total = QLabel("Total: 0.00", self)
        self.total.setObjectName("cartTotal")
        self.total.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.remove_button = QPushButton("Remove line", self)
        self.remove_button.setObjectName("removeFromCartButton")
        self.checkout_button = QPushButton("Checkout", self)
        self.checkout_button.setObjectName("checkoutButton")
        self.checkout_button.setStyleSheet("font-weight: bold; padding: 6px 18px;")
        self.message = MessageLine("cashierMessage", self)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.checkout_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.total)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

    def show_cart(self, cart: Any) -> None:
        """Show ``cart``'s lines and total (None: an empty cart)."""
        items = list(cart.items) if cart is not None else []
        self.model.set_rows(items)
        for row in range(self.model.rowCount()):  # the quantity is edited in place
            item = self.model.item(row, CartTable.QTY_COLUMN)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        self.total.setText(f"Total: {money(cart.total) if cart is not None else '0.00'}")
        self.checkout_button.setEnabled(bool(items))
        self.remove_button.setEnabled(bool(items))

    def selected_item(self) -> Any:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def show_message(self, text: str, *, error: bool) -> None:
        self.message.show_text(text, error=error)


class OrdersPane(QGroupBox):
    """The order history (one customer's or everyone's); cancel an order.

    Its title says whose orders are shown; the filter is a labelled check
    box. Nothing is ever selected for the cashier: when the selected order
    leaves the list (another filter, another customer), the selection goes
    with it instead of moving to a neighbour (Qt's default), so Cancel never
    points at an order the cashier did not pick. Cancel is enabled only for
    a selected order that is still placed.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Orders (newest first)", parent)
        self.model = OrderTableModel(self)
        self._removing = False
        self._chosen: Any = None
        # Connected before the view exists, so before its selection model,
        # which moves the current row off a row about to go.
        self.model.rowsAboutToBeRemoved.connect(self._rows_going)
        self.model.rowsRemoved.connect(self._rows_gone)
        self.table = table("orderTable", self.model, self)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.model.dataChanged.connect(lambda *_: self.update_actions())
        self.show_all = QCheckBox("Show a&ll customers' orders", self)
        self.show_all.setObjectName("showAllOrders")
        self.show_all.setToolTip(
            "On: every customer's orders. Off: only the orders of the customer being served."
        )
        self.show_all.setChecked(True)
        self.cancel_button = QPushButton("Ca&ncel order…", self)
        self.cancel_button.setObjectName("cancelOrderButton")
        self.cancel_button.setToolTip("Cancel the selected order and put its items back in stock")
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.update_actions()

    def show_scope(self, username: str | None) -> None:
        """Say whose orders are shown: everyone's, ``username``'s, or nobody's yet."""
        if self.show_all.isChecked():
            self.setTitle("Orders of all customers (newest first)")
        elif username is None:
            self.setTitle("Orders: pick a customer to see theirs")
        else:
            self.setTitle(f"Orders of {username} (newest first)")

    def selected_order(self) -> OrderRow | None:
        """The order the cashier selected (a current row alone, as Tab into
        the table leaves, is not a choice)."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def clear_selection(self) -> None:
        self.table.selectionModel().clear()  # the selection and the current index
        self._chosen = None
        self.update_actions()

    def cancel_blocked(self) -> str | None:
        """Why Cancel is off, or None when it is on."""
        order = self.selected_order()
        if order is None:
            return "Select an order to cancel."
        if order.status != "placed":
            return f"Order #{order.id} is already {order.status}."
        return None

    def update_actions(self) -> None:
        blocked = self.cancel_blocked()
        self.cancel_button.setEnabled(blocked is None)
        self.cancel_button.setToolTip(
            blocked or "Cancel the selected order and put its items back in stock"
        )

    def _selection_changed(self, *_args: Any) -> None:
        if not self._removing:  # the cashier's choice, not Qt's stand-in
            order = self.selected_order()
            self._chosen = order.id if order is not None else None
        self.update_actions()

    def _rows_going(self, *_args: Any) -> None:
        self._removing = True

    def _rows_gone(self, *_args: Any) -> None:
        self._removing = False
        order = self.selected_order()
        if order is not None and order.id != self._chosen:
            self.clear_selection()
        else:
            self.update_actions()
