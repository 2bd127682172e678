"""The point-of-sale window: customers, catalogue, cart, orders, plugin docks."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, QSortFilterProxyModel, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain import DomainError, Store, ValidationError
from storeapp.domain.demo import seed_customers
from storeapp.domain.models import Product
from storeapp.domain.signals import (
    order_cancelled,
    order_created,
    post_delete,
    post_save,
    user_registered,
)
from storeapp.listeners.api import PluginRecord, PluginState, plugin_state_changed
from storeapp.listeners.manager import PluginManager
from storeapp.ui.bridge import GuiBridge
from storeapp.ui.models import (
    SORT_ROLE,
    CartTableModel,
    CustomerListModel,
    OrderTableModel,
    ProductTableModel,
    money,
)
from storeapp.ui.plugins_dialog import PluginsDialog
from storeapp.ui.simulator import Simulation, SimulationResult
from storeapp.ui.simulator import summary as simulation_summary

logger = logging.getLogger("storeapp.ui")

ORDER_HISTORY_LIMIT = 200
DOCK_AREAS = {
    "emailLogDock": Qt.DockWidgetArea.BottomDockWidgetArea,
    "inventoryDock": Qt.DockWidgetArea.RightDockWidgetArea,
    "analyticsDock": Qt.DockWidgetArea.RightDockWidgetArea,
    "signalInspectorDock": Qt.DockWidgetArea.BottomDockWidgetArea,
}

ERROR_STYLE = "color: #c62828;"
OK_STYLE = "color: #2e7d32;"


def cashier_action(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a UI action; domain errors become a message, anything else is
    logged and shown as a short notice, never as a traceback."""

    @functools.wraps(method)
    def wrapper(self: MainWindow, *args: Any) -> Any:
        try:
            return method(self)
        except DomainError as exc:
            self.show_error(str(exc))
        except Exception as exc:
            logger.exception("Unexpected error in %s", method.__name__)
            self.show_error(
                f"Something went wrong ({type(exc).__name__}); nothing was lost. "
                "Details are in the log."
            )
        return None

    return wrapper


def _table(name: str, model: Any, parent: QWidget) -> QTableView:
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


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: Store,
        manager: PluginManager,
        bridge: GuiBridge,
        settings: QSettings,
        notices: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.manager = manager
        self.bridge = bridge
        self.settings = settings
        self.cart_id: Any = None
        self._pending_lock = threading.Lock()
        self._pending_orders: list[Any] = []
        self.docks: dict[str, QDockWidget] = {}
        self.plugin_actions: dict[str, QAction] = {}
        self.plugins_dialog: PluginsDialog | None = None
        self._closed = False
        self.setObjectName("mainWindow")
        self.setWindowTitle("storeapp — point of sale")
        self.resize(1400, 860)
        self.setDockNestingEnabled(True)

        self._build_central()
        self._build_menus()
        self.statusBar().setObjectName("statusBar")
        self.reenable_button = QPushButton("", self)
        self.reenable_button.setObjectName("reenablePluginButton")
        self.reenable_button.hide()
        self.reenable_button.clicked.connect(self._reenable_auto_disabled)
        self.statusBar().addPermanentWidget(self.reenable_button)
        self.simulation: Simulation | None = None
        self.last_simulation: SimulationResult | None = None
        for record in manager.records():
            self._sync_plugin(record)
        self._arrange_docks()
        self._connect_domain()
        self.reload_products()
        self.reload_customers()
        self.reload_orders()
        self.refresh_cart(None)
        for view in (self.product_table, self.cart_table, self.order_table):
            view.resizeColumnsToContents()
        # Sized for content that is not there yet at start-up.
        self.cart_table.setColumnWidth(0, 140)
        for column, width in enumerate((70, 120, 80, 50, 80)):
            self.order_table.setColumnWidth(column, width)
        for notice in notices or ():
            self.notify(notice)

    # ------------------------------------------------------------------ layout

    def _build_central(self) -> None:
        central = QWidget(self)
        grid = QGridLayout(central)

        # Customer: register, pick.
        customer_box = QGroupBox("Customer", central)
        form = QFormLayout()
        self.register_fields: dict[str, QLineEdit] = {}
        self.register_errors: dict[str, QLabel] = {}
        for field, label, placeholder in (
            ("username", "Username", "ada"),
            ("email", "Email", "ada@example.com"),
            ("password", "Password", "at least 8 characters"),
        ):
            edit = QLineEdit(customer_box)
            edit.setObjectName(f"register{field.capitalize()}")
            edit.setPlaceholderText(placeholder)
            if field == "password":
                edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.returnPressed.connect(self.register_customer)
            error = QLabel("", customer_box)
            error.setObjectName(f"register{field.capitalize()}Error")
            error.setStyleSheet(ERROR_STYLE)
            error.setWordWrap(True)
            error.hide()
            column = QVBoxLayout()
            column.setSpacing(1)
            column.addWidget(edit)
            column.addWidget(error)
            form.addRow(label, column)
            self.register_fields[field] = edit
            self.register_errors[field] = error
        self.register_button = QPushButton("Register customer", customer_box)
        self.register_button.setObjectName("registerButton")
        self.register_button.clicked.connect(self.register_customer)
        form.addRow(self.register_button)
        self.customer_model = CustomerListModel(self)
        self.customer_picker = QComboBox(customer_box)
        self.customer_picker.setObjectName("customerPicker")
        self.customer_picker.setModel(self.customer_model)
        self.customer_picker.setPlaceholderText("— pick a customer —")
        self.customer_picker.currentIndexChanged.connect(lambda _i: self.reload_orders())
        form.addRow("Serving", self.customer_picker)
        customer_box.setLayout(form)

        # Catalogue.
        catalogue_box = QGroupBox("Catalogue", central)
        self.product_model = ProductTableModel(self)
        self.product_proxy = QSortFilterProxyModel(self)
        self.product_proxy.setSourceModel(self.product_model)
        self.product_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.product_proxy.setFilterKeyColumn(-1)
        self.product_proxy.setSortRole(SORT_ROLE)
        self.product_search = QLineEdit(catalogue_box)
        self.product_search.setObjectName("productSearch")
        self.product_search.setPlaceholderText("Search by name or SKU…")
        self.product_search.setClearButtonEnabled(True)
        self.product_search.textChanged.connect(self.product_proxy.setFilterFixedString)
        self.product_table = _table("productTable", self.product_proxy, catalogue_box)
        self.product_table.setSortingEnabled(True)
        self.product_table.sortByColumn(1, Qt.SortOrder.AscendingOrder)
        self.product_table.doubleClicked.connect(lambda _i: self.add_to_cart())
        self.quantity_spin = QSpinBox(catalogue_box)
        self.quantity_spin.setObjectName("quantitySpin")
        self.quantity_spin.setRange(1, 999)
        self.add_button = QPushButton("Add to cart", catalogue_box)
        self.add_button.setObjectName("addToCartButton")
        self.add_button.clicked.connect(self.add_to_cart)
        row = QHBoxLayout()
        row.addWidget(QLabel("Qty", catalogue_box))
        row.addWidget(self.quantity_spin)
        row.addStretch(1)
        row.addWidget(self.add_button)
        layout = QVBoxLayout(catalogue_box)
        layout.addWidget(self.product_search)
        layout.addWidget(self.product_table)
        layout.addLayout(row)

        # Cart.
        cart_box = QGroupBox("Cart", central)
        self.cart_model = CartTableModel(self)
        self.cart_table = _table("cartTable", self.cart_model, cart_box)
        self.cart_total = QLabel("Total: 0.00", cart_box)
        self.cart_total.setObjectName("cartTotal")
        self.cart_total.setStyleSheet("font-size: 16px; font-weight: bold;")
        self.remove_button = QPushButton("Remove line", cart_box)
        self.remove_button.setObjectName("removeFromCartButton")
        self.remove_button.clicked.connect(self.remove_from_cart)
        self.checkout_button = QPushButton("Checkout", cart_box)
        self.checkout_button.setObjectName("checkoutButton")
        self.checkout_button.setStyleSheet("font-weight: bold; padding: 6px 18px;")
        self.checkout_button.clicked.connect(self.checkout)
        self.message = QLabel("", cart_box)
        self.message.setObjectName("cashierMessage")
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.checkout_button)
        layout = QVBoxLayout(cart_box)
        layout.addWidget(self.cart_table)
        layout.addWidget(self.cart_total)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

        # Orders.
        orders_box = QGroupBox("Orders (newest first)", central)
        self.order_model = OrderTableModel(self)
        self.order_table = _table("orderTable", self.order_model, orders_box)
        self.show_all_orders = QPushButton("All customers", orders_box)
        self.show_all_orders.setObjectName("showAllOrders")
        self.show_all_orders.setCheckable(True)
        self.show_all_orders.setChecked(True)
        self.show_all_orders.toggled.connect(lambda _c: self.reload_orders())
        self.cancel_button = QPushButton("Cancel order", orders_box)
        self.cancel_button.setObjectName("cancelOrderButton")
        self.cancel_button.clicked.connect(self.cancel_order)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all_orders)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(orders_box)
        layout.addWidget(self.order_table)
        layout.addLayout(buttons)

        grid.addWidget(customer_box, 0, 0)
        grid.addWidget(catalogue_box, 0, 1)
        grid.addWidget(cart_box, 0, 2)
        grid.addWidget(orders_box, 1, 0, 1, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        self.setCentralWidget(central)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        self.demo_menu = bar.addMenu("&Demo")
        self.demo_menu.setObjectName("demoMenu")
        demo_action = QAction("Register demo customers", self)
        demo_action.setObjectName("demoCustomersAction")
        demo_action.triggered.connect(self.register_demo_customers)
        self.demo_menu.addAction(demo_action)
        simulate_action = QAction("Simulate rush hour…", self)
        simulate_action.setObjectName("simulateAction")
        simulate_action.triggered.connect(self.ask_simulation)
        self.demo_menu.addAction(simulate_action)

        self.plugins_menu = bar.addMenu("&Plugins")
        self.plugins_menu.setObjectName("pluginsMenu")
        for record in self.manager.records():
            action = QAction(record.title, self)
            action.setObjectName(f"pluginAction_{record.name}")
            action.setCheckable(True)
            action.toggled.connect(functools.partial(self._on_plugin_action, record.name))
            self.plugins_menu.addAction(action)
            self.plugin_actions[record.name] = action
        self.plugins_menu.addSeparator()
        manage = QAction("Manage plugins…", self)
        manage.setObjectName("managePluginsAction")
        manage.triggered.connect(self.open_plugins_dialog)
        self.plugins_menu.addAction(manage)

        self.view_menu = bar.addMenu("&View")
        self.view_menu.setObjectName("viewMenu")

    # ------------------------------------------------------- domain signals

    def _connect_domain(self) -> None:
        # The window is a listener too: it refreshes its own lists after
        # commits made anywhere (another thread, a plugin, a simulation).
        order_created.connect(self._on_orders_changed, on_commit=True, dispatch_uid="ui.orders")
        order_cancelled.connect(
            self._on_orders_changed, on_commit=True, dispatch_uid="ui.orders.cancelled"
        )
        user_registered.connect(
            self._on_customers_changed, on_commit=True, dispatch_uid="ui.customers"
        )
        post_save.connect(
            self._on_products_changed, sender=Product, on_commit=True, dispatch_uid="ui.products"
        )
        post_delete.connect(
            self._on_products_changed,
            sender=Product,
            on_commit=True,
            dispatch_uid="ui.products.deleted",
        )
        plugin_state_changed.connect(self._on_plugin_state_changed, dispatch_uid="ui.plugins")

    def _disconnect_domain(self) -> None:
        order_created.disconnect(dispatch_uid="ui.orders")
        order_cancelled.disconnect(dispatch_uid="ui.orders.cancelled")
        user_registered.disconnect(dispatch_uid="ui.customers")
        post_save.disconnect(dispatch_uid="ui.products", sender=Product)
        post_delete.disconnect(dispatch_uid="ui.products.deleted", sender=Product)
        plugin_state_changed.disconnect(dispatch_uid="ui.plugins")

    def _on_orders_changed(self, sender: Any, order: Any = None, **kwargs: Any) -> None:
        # Any thread. The order travels with the event: the GUI thread only
        # inserts rows (no query per refresh, few calls back into Python).
        if order is not None:
            with self._pending_lock:
                self._pending_orders.append(order)
        self.bridge.coalesce("ui.orders", self._apply_pending_orders)
        self._reload_products_soon()

    def _apply_pending_orders(self) -> None:
        with self._pending_lock:
            orders, self._pending_orders = self._pending_orders, []
        if not self.show_all_orders.isChecked():
            user_id = self.current_user_id()
            orders = [o for o in orders if o.customer.user_id == user_id]
        if orders:
            self.order_model.upsert_front(orders, ORDER_HISTORY_LIMIT)

    def _on_customers_changed(self, sender: Any, **kwargs: Any) -> None:
        self.bridge.coalesce("ui.customers", self.reload_customers)

    def _on_products_changed(self, sender: Any, **kwargs: Any) -> None:
        self._reload_products_soon()

    def _reload_products_soon(self) -> None:
        # Any thread. Read on the bridge's reader thread, shown on the GUI thread.
        self.bridge.coalesce_load(
            "ui.products", self.store.list_products, self.product_model.set_rows
        )

    def _on_plugin_state_changed(self, sender: Any, record: PluginRecord, **kwargs: Any) -> None:
        self.bridge.call_in_gui(lambda: self._sync_plugin(record))

    # ---------------------------------------------------------------- reloads

    def reload_products(self) -> None:
        """At once, after the cashier's own action (an older background
        refresh still on its way is dropped)."""
        self.bridge.load_now("ui.products", self.store.list_products, self.product_model.set_rows)

    def reload_customers(self) -> None:
        current = self.current_user_id()
        self.customer_model.set_rows(self.store.list_customers())
        if current is not None:
            self.select_customer(current)

    def reload_orders(self) -> None:
        user_id = None if self.show_all_orders.isChecked() else self.current_user_id()
        if user_id is None and not self.show_all_orders.isChecked():
            self.order_model.set_rows([])
            return
        self.order_model.set_rows(
            self.store.list_orders(user_id=user_id, limit=ORDER_HISTORY_LIMIT)
        )

    def refresh_cart(self, cart: Any) -> None:
        items = list(cart.items) if cart is not None else []
        self.cart_model.set_rows(items)
        total = cart.total if cart is not None else 0
        self.cart_total.setText(f"Total: {money(total) if cart is not None else '0.00'}")
        self.checkout_button.setEnabled(bool(items))
        self.remove_button.setEnabled(bool(items))

    # ---------------------------------------------------------------- actions

    def current_user_id(self) -> int | None:
        index = self.customer_picker.currentIndex()
        customer = self.customer_model.row_at(index) if index >= 0 else None
        return customer.user_id if customer is not None else None

    def select_customer(self, user_id: int) -> None:
        row = self.customer_model.row_of(user_id)
        if row >= 0:
            self.customer_picker.setCurrentIndex(row)

    def _clear_register_errors(self) -> None:
        for label in self.register_errors.values():
            label.clear()
            label.hide()

    @cashier_action
    def register_customer(self) -> None:
        self._clear_register_errors()
        values = {f: e.text() for f, e in self.register_fields.items()}
        try:
            user = self.store.register_user(values["username"], values["email"], values["password"])
        except ValidationError as exc:
            label = self.register_errors.get(exc.field or "")
            if label is not None:
                label.setText(str(exc))
                label.show()
                self.register_fields[exc.field].setFocus()  # type: ignore[index]
            self.show_error(str(exc))
            return
        for edit in self.register_fields.values():
            edit.clear()
        self.reload_customers()
        self.select_customer(user.id)
        self.show_info(f"Registered {user.username}; now serving them.")

    @cashier_action
    def register_demo_customers(self) -> None:
        made = seed_customers(self.store)
        self.reload_customers()
        if made:
            self.select_customer(made[0].id)
            self.show_info(f"Registered {len(made)} demo customer(s).")
        else:
            self.show_info("The demo customers are already registered.")

    def selected_product(self) -> Any:
        index = self.product_table.currentIndex()
        if not index.isValid():
            return None
        return self.product_model.row_at(self.product_proxy.mapToSource(index).row())

    @cashier_action
    def add_to_cart(self) -> None:
        product = self.selected_product()
        if product is None:
            self.show_error("Select a product in the catalogue first.")
            return
        if self.cart_id is None:
            self.cart_id = self.store.create_cart().id
        cart = self.store.add_to_cart(self.cart_id, product.id, self.quantity_spin.value())
        self.refresh_cart(cart)
        self.quantity_spin.setValue(1)
        self.show_info(f"Added {product.name}.")

    @cashier_action
    def remove_from_cart(self) -> None:
        index = self.cart_table.currentIndex()
        item = self.cart_model.row_at(index.row()) if index.isValid() else None
        if item is None or self.cart_id is None:
            self.show_error("Select a cart line to remove.")
            return
        self.refresh_cart(self.store.remove_from_cart(self.cart_id, item.product_id))

    @cashier_action
    def checkout(self) -> None:
        user_id = self.current_user_id()
        if user_id is None:
            self.show_error("Pick a customer before checking out.")
            return
        if self.cart_id is None or not self.cart_model.rowCount():
            self.show_error("The cart is empty: add a product first.")
            return
        order = self.store.place_order(self.cart_id, user_id)
        self.cart_id = None
        self.refresh_cart(None)
        self.reload_orders()
        self.reload_products()
        self.show_info(
            f"Order #{order.id} placed for {order.customer.user.username}: {money(order.total)}."
        )

    @cashier_action
    def cancel_order(self) -> None:
        index = self.order_table.currentIndex()
        order = self.order_model.row_at(index.row()) if index.isValid() else None
        if order is None:
            self.show_error("Select an order to cancel.")
            return
        order = self.store.cancel_order(order.id)
        self.reload_orders()
        self.reload_products()
        self.show_info(f"Order #{order.id} cancelled; its items are back in stock.")

    # --------------------------------------------------------------- messages

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setText(text)
        self.statusBar().showMessage(text, 8000)

    def show_info(self, text: str) -> None:
        self.message.setStyleSheet(OK_STYLE)
        self.message.setText(text)
        self.statusBar().showMessage(text, 5000)

    def notify(self, text: str) -> None:
        """A non-modal notice (plugins, the plugin manager)."""
        if not self._closed:
            self.statusBar().showMessage(text, 10000)

    # ---------------------------------------------------------------- plugins

    def _on_plugin_action(self, name: str, checked: bool) -> None:
        record = self.manager.record(name)
        if checked == record.enabled or record.required or record.state == PluginState.FAILED:
            return
        self.set_plugin_enabled(name, checked)

    def set_plugin_enabled(self, name: str, enabled: bool) -> None:
        try:
            record = self.manager.set_enabled(name, enabled)
        except ValueError as exc:
            self.notify(str(exc))
            record = self.manager.record(name)
        self._save_plugin_choice()
        self._sync_plugin(record)
        if record.state == PluginState.FAILED:
            self.notify(f"Plugin {record.title} {record.error}")
        else:
            self.notify(f"Plugin {record.title} {'enabled' if record.enabled else 'disabled'}.")

    def _save_plugin_choice(self) -> None:
        disabled = [r.name for r in self.manager.records() if r.state == PluginState.DISABLED]
        self.settings.setValue("plugins/disabled", ",".join(disabled))
        self.settings.sync()

    def _sync_plugin(self, record: PluginRecord) -> None:
        """Make the menu action, the dock and the dialog show ``record``."""
        if self._closed:
            return
        if record.enabled:
            self._ensure_dock(record)  # may mark the plugin failed
        action = self.plugin_actions.get(record.name)
        if action is not None:
            action.blockSignals(True)
            action.setChecked(record.enabled)
            action.setEnabled(not record.required and record.state != PluginState.FAILED)
            tip = record.description
            if record.state == PluginState.FAILED:
                action.setText(f"{record.title} (failed)")
                tip = record.error or ""
            elif record.required:
                action.setText(f"{record.title} (required)")
            action.setToolTip(tip)
            action.blockSignals(False)
        dock = self.docks.get(record.name)
        if dock is not None:
            dock.setVisible(record.enabled)
        if record.extra.get("auto_disabled") and not record.enabled:
            self.reenable_button.setText(f"Re-enable {record.title}")
            self.reenable_button.setProperty("plugin", record.name)
            self.reenable_button.setToolTip(record.error or "")
            self.reenable_button.show()
        elif self.reenable_button.property("plugin") == record.name and record.enabled:
            self.reenable_button.hide()
        if self.plugins_dialog is not None:
            self.plugins_dialog.model.refresh()

    def _ensure_dock(self, record: PluginRecord) -> None:
        if record.name in self.docks or record.plugin is None or record.panel is not None:
            return
        try:
            panel = record.plugin.create_panel()
        except Exception as exc:
            self.manager.mark_failed(record.name, exc, "failed to create its panel")
            self.notify(f"Plugin {record.title} failed to create its panel; it was disabled.")
            return
        if panel is None:
            return
        record.panel = panel
        dock = QDockWidget(record.title, self)
        dock.setObjectName(record.cls.panel_object_name or f"{record.name}Dock")  # type: ignore[union-attr]
        dock.setWidget(panel)
        area = DOCK_AREAS.get(dock.objectName(), Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(area, dock)
        self.docks[record.name] = dock
        self.view_menu.addAction(dock.toggleViewAction())

    def _reenable_auto_disabled(self) -> None:
        name = self.reenable_button.property("plugin")
        self.reenable_button.hide()
        if name:
            self.set_plugin_enabled(str(name), True)

    # -------------------------------------------------------------- simulation

    def ask_simulation(self) -> None:
        count, ok = QInputDialog.getInt(
            self, "Rush hour", "How many random orders?", 500, 1, 100_000, 100
        )
        if ok:
            self.start_simulation(count)

    def start_simulation(
        self, count: int, *, seed: int | None = None, show_dialog: bool = True
    ) -> Simulation | None:
        """Place ``count`` random orders from a worker thread (``--simulate N``)."""
        if self.simulation is not None and self.simulation.is_running():
            self.show_error("A simulation is already running.")
            return None
        if not self.customer_model.rowCount():
            seed_customers(self.store)
            self.reload_customers()
        simulation = Simulation(
            self.store,
            count,
            self,
            seed=seed,
            show_dialog=show_dialog,
            yield_to_gui=self.bridge.yield_to_gui,
        )
        simulation.finished.connect(self._simulation_finished)
        self.simulation = simulation
        simulation.start()
        self.show_info(f"Rush hour: placing {count:,} random orders…")
        return simulation

    def _simulation_finished(self, result: SimulationResult) -> None:
        self.last_simulation = result
        if self._closed:
            return
        text = simulation_summary(result)
        if result.errors:
            self.show_error(f"{text} {result.errors[0]}")
        else:
            self.show_info(text)

    def _arrange_docks(self) -> None:
        """Email log and inspector side by side at the bottom; inventory
        above analytics on the right."""
        by_name = {d.objectName(): d for d in self.docks.values()}
        email, inspector = by_name.get("emailLogDock"), by_name.get("signalInspectorDock")
        if email is not None and inspector is not None:
            self.splitDockWidget(email, inspector, Qt.Orientation.Horizontal)
            self.resizeDocks([email, inspector], [45, 55], Qt.Orientation.Horizontal)
        inventory, analytics = by_name.get("inventoryDock"), by_name.get("analyticsDock")
        if inventory is not None and analytics is not None:
            self.resizeDocks([inventory, analytics], [40, 60], Qt.Orientation.Vertical)
        right = [d for d in (inventory, analytics) if d is not None]
        if right:
            self.resizeDocks(right[:1], [440], Qt.Orientation.Horizontal)
        bottom = [d for d in (email, inspector) if d is not None]
        if bottom:
            self.resizeDocks(bottom[:1], [300], Qt.Orientation.Vertical)

    def open_plugins_dialog(self) -> PluginsDialog:
        if self.plugins_dialog is None:
            self.plugins_dialog = PluginsDialog(self.manager, self.set_plugin_enabled, self)
        self.plugins_dialog.model.refresh()
        self.plugins_dialog.show()
        self.plugins_dialog.raise_()
        return self.plugins_dialog

    # ---------------------------------------------------------------- closing

    def shutdown(self) -> None:
        """Disconnect everything; safe to call twice, and from closeEvent."""
        if self._closed:
            return
        self._closed = True
        if self.simulation is not None and self.simulation.is_running():
            self.simulation.cancel()
            self.simulation.join(timeout=10)
        self.bridge.close()
        try:
            self._disconnect_domain()
        finally:
            self.manager.shutdown_all()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        # Let queued GUI calls drain before the store goes away.
        QTimer.singleShot(0, self.store.close)
