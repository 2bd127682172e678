"""The till: the window's central widget, where the cashier works.

It registers customers, fills a cart, checks out and cancels orders through
the store, and keeps its lists up to date as a listener of the domain's
signals (orders, customers, products committed anywhere: another thread, a
plugin, a simulation). Receivers run in the sender's thread, so they only
hand work to the GUI thread through the bridge.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QGridLayout, QMessageBox, QWidget

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
from storeapp.ui.bridge import GuiBridge
from storeapp.ui.models import money
from storeapp.ui.till.panes import CartPane, CataloguePane, CustomerPane, OrdersPane

logger = logging.getLogger("storeapp.ui")

ORDER_HISTORY_LIMIT = 200


def cashier_action(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a UI action; domain errors become a message, anything else is
    logged and shown as a short notice, never as a traceback."""

    @functools.wraps(method)
    def wrapper(self: Till, *args: Any) -> Any:
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


class Till(QWidget):
    """Customer, catalogue, cart and orders, and what the cashier does with them.

    ``status(text, milliseconds)`` shows a message in the window's status
    bar as well as under the cart. Call :meth:`start` once the window is
    assembled and :meth:`stop` when it closes.
    """

    def __init__(
        self,
        store: Store,
        bridge: GuiBridge,
        status: Callable[[str, int], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        self._status = status
        self.cart_id: Any = None
        self._pending_lock = threading.Lock()
        self._pending_orders: list[Any] = []

        self.customer = CustomerPane(self)
        self.catalogue = CataloguePane(self)
        self.cart = CartPane(self)
        self.orders = OrdersPane(self)
        grid = QGridLayout(self)
        grid.addWidget(self.customer, 0, 0)
        grid.addWidget(self.catalogue, 0, 1)
        grid.addWidget(self.cart, 0, 2)
        grid.addWidget(self.orders, 1, 0, 1, 3)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)

        for edit in self.customer.fields.values():
            edit.returnPressed.connect(self.register_customer)
        self.customer.register_button.clicked.connect(self.register_customer)
        self.customer.picker.currentIndexChanged.connect(lambda _i: self.reload_orders())
        self.catalogue.table.doubleClicked.connect(lambda _i: self.add_to_cart())
        self.catalogue.add_button.clicked.connect(self.add_to_cart)
        self.cart.remove_button.clicked.connect(self.remove_from_cart)
        self.cart.checkout_button.clicked.connect(self.checkout)
        self.orders.show_all.toggled.connect(lambda _c: self.reload_orders())
        self.orders.cancel_button.clicked.connect(self.cancel_order)

    def start(self) -> None:
        """Listen to the domain and show what the store holds now."""
        self._connect_domain()
        self.reload_products()
        self.reload_customers()
        self.reload_orders()
        self.refresh_cart(None)
        for view in (self.catalogue.table, self.cart.table, self.orders.table):
            view.resizeColumnsToContents()
        # Sized for content that is not there yet at start-up.
        self.cart.table.setColumnWidth(0, 140)
        for column, width in enumerate((70, 120, 80, 50, 80)):
            self.orders.table.setColumnWidth(column, width)

    def stop(self) -> None:
        """Stop listening (the window is closing)."""
        order_created.disconnect(dispatch_uid="ui.orders")
        order_cancelled.disconnect(dispatch_uid="ui.orders.cancelled")
        user_registered.disconnect(dispatch_uid="ui.customers")
        post_save.disconnect(dispatch_uid="ui.products", sender=Product)
        post_delete.disconnect(dispatch_uid="ui.products.deleted", sender=Product)

    # ------------------------------------------------------- domain signals

    def _connect_domain(self) -> None:
        order_created.connect(
            self._on_orders_changed, on_commit=True, dispatch_uid="ui.orders", remote=True
        )
        order_cancelled.connect(
            self._on_orders_changed,
            on_commit=True,
            dispatch_uid="ui.orders.cancelled",
            remote=True,
        )
        user_registered.connect(
            self._on_customers_changed, on_commit=True, dispatch_uid="ui.customers", remote=True
        )
        post_save.connect(
            self._on_products_changed,
            sender=Product,
            on_commit=True,
            dispatch_uid="ui.products",
            remote=True,
        )
        post_delete.connect(
            self._on_products_changed,
            sender=Product,
            on_commit=True,
            dispatch_uid="ui.products.deleted",
            remote=True,
        )

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
        if not self.orders.show_all.isChecked():
            user_id = self.current_user_id()
            orders = [o for o in orders if o.customer.user_id == user_id]
        if orders:
            self.orders.model.upsert_front(orders, ORDER_HISTORY_LIMIT)

    def _on_customers_changed(self, sender: Any, **kwargs: Any) -> None:
        self.bridge.coalesce("ui.customers", self.reload_customers)

    def _on_products_changed(self, sender: Any, **kwargs: Any) -> None:
        self._reload_products_soon()

    def _reload_products_soon(self) -> None:
        # Any thread. Read on the bridge's reader thread, shown on the GUI thread.
        self.bridge.coalesce_load(
            "ui.products", self.store.list_products, self.catalogue.model.set_rows
        )

    # ---------------------------------------------------------------- reloads

    def reload_products(self) -> None:
        """At once, after the cashier's own action (an older background
        refresh still on its way is dropped)."""
        self.bridge.load_now("ui.products", self.store.list_products, self.catalogue.model.set_rows)

    def reload_customers(self) -> None:
        current = self.current_user_id()
        self.customer.model.set_rows(self.store.list_customers())
        if current is not None:
            self.customer.select(current)

    def reload_orders(self) -> None:
        show_all = self.orders.show_all.isChecked()
        user_id = None if show_all else self.current_user_id()
        serving = self.customer.model.row_at(self.customer.picker.currentIndex())
        self.orders.show_scope(serving.user.username if serving is not None else None)
        if user_id is None and not show_all:
            self.orders.model.set_rows([])
            return
        self.orders.model.set_rows(
            self.store.list_orders(user_id=user_id, limit=ORDER_HISTORY_LIMIT)
        )

    def refresh_cart(self, cart: Any) -> None:
        self.cart.show_cart(cart)

    # ---------------------------------------------------------------- actions

    def current_user_id(self) -> int | None:
        return self.customer.current_user_id()

    @cashier_action
    def register_customer(self) -> None:
        self.customer.clear_errors()
        values = self.customer.values()
        try:
            user = self.store.register_user(values["username"], values["email"], values["password"])
        except ValidationError as exc:
            self.customer.show_field_error(exc.field, str(exc))
            self.show_error(str(exc))
            return
        self.customer.clear_fields()
        self.reload_customers()
        self.customer.select(user.id)
        self.show_info(f"Registered {user.username}; now serving them.")

    @cashier_action
    def register_demo_customers(self) -> None:
        made = seed_customers(self.store)
        self.reload_customers()
        if made:
            self.customer.select(made[0].id)
            self.show_info(f"Registered {len(made)} demo customer(s).")
        else:
            self.show_info("The demo customers are already registered.")

    def ensure_customers(self) -> None:
        """Register the demo customers if there is nobody to serve (a simulation)."""
        if not self.customer.model.rowCount():
            seed_customers(self.store)
            self.reload_customers()

    @cashier_action
    def add_to_cart(self) -> None:
        product = self.catalogue.selected_product()
        if product is None:
            self.show_error("Select a product in the catalogue first.")
            return
        if self.cart_id is None:
            self.cart_id = self.store.create_cart().id
        cart = self.store.add_to_cart(self.cart_id, product.id, self.catalogue.quantity.value())
        self.refresh_cart(cart)
        self.catalogue.quantity.setValue(1)
        self.show_info(f"Added {product.name}.")

    @cashier_action
    def remove_from_cart(self) -> None:
        item = self.cart.selected_item()
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
        if self.cart_id is None or not self.cart.model.rowCount():
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
        """Cancel the selected order, once the cashier has confirmed it."""
        blocked = self.orders.cancel_blocked()
        if blocked is not None:
            self.show_error(blocked)
            return
        order = self.orders.selected_order()
        if not self.confirm_cancel(order):
            self.show_info(f"Order #{order.id} was not cancelled.")
            return
        order = self.store.cancel_order(order.id)
        self.reload_orders()
        self.reload_products()
        self.show_info(f"Order #{order.id} cancelled; its items are back in stock.")

    def confirm_cancel(self, order: Any) -> bool:
        """Ask before cancelling ``order``; keeping it is the default (Enter, Esc)."""
        items = sum(item.quantity for item in order.items)
        box = QMessageBox(self)
        box.setObjectName("confirmCancelOrder")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Cancel order")
        box.setText(
            f"Cancel order #{order.id} for {order.customer.user.username}: "
            f"{items} item{'s' if items != 1 else ''}, {money(order.total)}?"
        )
        box.setInformativeText("Its items go back in stock. This cannot be undone.")
        cancel = box.addButton("&Cancel the order", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("&Keep it", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        box.deleteLater()
        return box.clickedButton() is cancel

    # --------------------------------------------------------------- messages

    def show_error(self, text: str) -> None:
        self.cart.show_message(text, error=True)
        self._status(text, 8000)

    def show_info(self, text: str) -> None:
        self.cart.show_message(text, error=False)
        self._status(text, 5000)
