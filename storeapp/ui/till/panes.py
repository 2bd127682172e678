"""The till's four panes: widgets and their models, no store.

Each pane lays out its widgets (every one keeps the objectName tests and
tools find it by) and answers questions about what the cashier picked;
:class:`storeapp.ui.till.till.Till` wires their buttons to the actions.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
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

from storeapp.listeners.api import palette
from storeapp.ui.models import (
    SORT_ROLE,
    CartTableModel,
    CustomerListModel,
    OrderTableModel,
    ProductTableModel,
    money,
)

ERROR_STYLE = f"color: {palette.ERROR_TEXT};"
OK_STYLE = f"color: {palette.OK_TEXT};"

#: The registration form: field, label, placeholder.
REGISTER_FIELDS = (
    ("username", "Username", "ada"),
    ("email", "Email", "ada@example.com"),
    ("password", "Password", "at least 8 characters"),
)


def table(name: str, model: Any, parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    header = view.horizontalHeader()
    # Not ResizeToContents: that re-measures every row on every change.
    # Sized once, after the first load.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    return view


class CustomerPane(QGroupBox):
    """Register a customer; pick the one being served."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Customer", parent)
        form = QFormLayout()
        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        for field, label, placeholder in REGISTER_FIELDS:
            edit = QLineEdit(self)
            edit.setObjectName(f"register{field.capitalize()}")
            edit.setPlaceholderText(placeholder)
            if field == "password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            error = QLabel("", self)
            error.setObjectName(f"register{field.capitalize()}Error")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            column = QVBoxLayout()
            column.setSpacing(1)
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(label, column)
            self.fields[field] = edit
            self.errors[field] = error
        self.register_button = QPushButton("Register customer", self)
        self.register_button.setObjectName("registerButton")
        form.addRow(self.register_button)
        self.model = CustomerListModel(self)
        self.picker = QComboBox(self)
        self.picker.setObjectName("customerPicker")
        self.picker.setModel(self.model)
        self.picker.setPlaceholderText("— pick a customer —")
        form.addRow("Serving", self.picker)
        self.setLayout(form)

    def values(self) -> dict[str, str]:
        return {field: edit.text() for field, edit in self.fields.items()}

    def clear_fields(self) -> None:
        for edit in self.fields.values():
            edit.clear()

    def clear_errors(self) -> None:
        for label in self.errors.values():
            label.clear()
            label.hide()

    def show_field_error(self, field: str | None, text: str) -> None:
        """Show ``text`` under ``field`` and put the cursor there (if it is one)."""
        label = self.errors.get(field or "")
        if field is not None and label is not None:
            label.setText(text)
            label.show()
            self.fields[field].setFocus()

    def current_user_id(self) -> int | None:
        index = self.picker.currentIndex()
        customer = self.model.row_at(index) if index >= 0 else None
        return customer.user_id if customer is not None else None

    def select(self, user_id: int) -> None:
        row = self.model.row_of(user_id)
        if row >= 0:
            self.picker.setCurrentIndex(row)


class CataloguePane(QGroupBox):
    """The products, searchable and sortable; a quantity and "Add to cart"."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Catalogue", parent)
        self.model = ProductTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setSortRole(SORT_ROLE)
        self.search = QLineEdit(self)
        self.search.setObjectName("productSearch")
        self.search.setPlaceholderText("Search by name or SKU…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = table("productTable", self.proxy, self)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.quantity = QSpinBox(self)
        self.quantity.setObjectName("quantitySpin")
        self.quantity.setRange(1, 999)
        self.add_button = QPushButton("Add to cart", self)
        self.add_button.setObjectName("addToCartButton")
        row = QHBoxLayout()
        row.addWidget(QLabel("Qty", self))
        row.addWidget(self.quantity)
        row.addStretch(1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addLayout(row)

    def selected_product(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())


class CartPane(QGroupBox):
    """The cart's lines and total, checkout, and the message to the cashier."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("Cart", parent)
        self.model = CartTableModel(self)
        self.table = table("cartTable", self.model, self)
        self.total = QLabel("Total: 0.00", self)
        self.total.setObjectName("cartTotal")
        self.total.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.remove_button = QPushButton("Remove line", self)
        self.remove_button.setObjectName("removeFromCartButton")
        self.checkout_button = QPushButton("Checkout", self)
        self.checkout_button.setObjectName("checkoutButton")
        self.checkout_button.setStyleSheet("font-weight: bold; padding: 6px 18px;")
        self.message = QLabel("", self)
        self.message.setObjectName("cashierMessage")
        self.message.setWordWrap(True)
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
        self.total.setText(f"Total: {money(cart.total) if cart is not None else '0.00'}")
        self.checkout_button.setEnabled(bool(items))
        self.remove_button.setEnabled(bool(items))

    def selected_item(self) -> Any:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def show_message(self, text: str, *, error: bool) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.message.setText(text)


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

    def selected_order(self) -> Any:
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
