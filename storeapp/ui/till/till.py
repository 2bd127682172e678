"""The till: the window's central widget, where the cashier works.

It registers customers, fills a cart, checks out and cancels orders through
the store, and keeps its lists up to date as a listener of the domain's
signals (orders, customers, products committed anywhere: another thread, a
plugin, a simulation). Receivers run in the sender's thread, so they only
hand work to the GUI thread through the bridge.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtWidgets import QGridLayout, QTableView, QWidget

from storeapp.domain import Store
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
from storeapp.ui.confirm import confirm
from storeapp.ui.models import OrderRow, money
from storeapp.ui.till.cashier import CashierActions, cashier_action
from storeapp.ui.till.panes import CartPane, CataloguePane, CustomerPane, OrdersPane

logger = logging.getLogger("storeapp.ui")

ORDER_HISTORY_LIMIT = 200


def columns_width(view: QTableView) -> int:
    """The width ``view`` needs to show all its columns: their widths, the
    last one's wanted width (it stretches; it is set to that), a vertical
    scroll bar, the frame."""
    last = view.model().columnCount() - 1
    widths = sum(view.columnWidth(c) for c in range(last))
    wanted = max(view.horizontalHeader().sectionSizeHint(last), view.sizeHintForColumn(last))
    header = view.horizontalHeader()
    # A stretched last section never gets narrower than its size when the
    # stretch was switched on: make that size the one it needs.
    header.setStretchLastSection(False)
    view.setColumnWidth(last, wanted)
    header.setStretchLastSection(True)
    bar = view.verticalScrollBar().sizeHint().width()
    return widths + wanted + bar + 2 * view.frameWidth()


class Till(CashierActions, QWidget):
    """Customer, catalogue, cart and orders, and what the cashier does with them.

    Each customer has a cart of their own: picking who is served shows
    their cart (a cart filled with nobody picked goes to the first customer
    picked), and checkout charges the customer whose cart it is. Messages
    show once, in the pane they are about. Call :meth:`start` once the
    window is assembled and :meth:`stop` when it closes.
    """

    def __init__(self, store: Store, bridge: GuiBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.bridge = bridge
        #: Each customer's cart id (None: the cart filled with nobody picked).
        self.carts: dict[int | None, Any] = {}
        self._serving: int | None = None
        self._pending_lock = threading.Lock()
        self._pending_orders: list[Any] = []

        self.customer = CustomerPane(self)
        self.catalogue = CataloguePane(self)
        self.cart = CartPane(self, self._quantity_edited)
        self.orders = OrdersPane(self)
        self.messages = {
            "customer": self.customer.message,
            "catalogue": self.catalogue.message,
            "cart": self.cart.message,
        }
        grid = QGridLayout(self)
        grid.addWidget(self.customer, 0, 0)
        grid.addWidget(self.catalogue, 0, 1)
        grid.addWidget(self.cart, 0, 2)
        grid.addWidget(self.orders, 1, 0, 1, 3)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(2, 2)
        grid.setRowStretch(0, 2)  # the catalogue and the cart first
        grid.setRowStretch(1, 1)

        for edit in self.customer.fields.values():
            edit.returnPressed.connect(self.register_customer)
        self.customer.register_button.clicked.connect(self.register_customer)
        self.customer.picker.currentIndexChanged.connect(lambda _i: self.serve_picked())
        self.catalogue.search.returnPressed.connect(self.add_from_search)
        self.catalogue.quantity.lineEdit().returnPressed.connect(self.add_from_search)
        self.catalogue.table.enter_pressed.connect(self.add_to_cart)
        self.catalogue.table.doubleClicked.connect(lambda _i: self.add_to_cart())
        self.catalogue.add_button.clicked.connect(self.add_to_cart)
        self.cart.remove_button.clicked.connect(self.remove_from_cart)
        self.cart.checkout_button.clicked.connect(self.checkout)
        self.orders.show_all.toggled.connect(lambda _c: self.reload_orders())
        self.orders.cancel_button.clicked.connect(self.cancel_order)
        self.actions_for_menu = self.make_actions(self)

    def start(self) -> None:
        """Listen to the domain and show what the store holds now."""
        self._connect_domain()
        self.reload_products()
        self.reload_customers()
        self.reload_orders()
        self._serving = self.current_user_id()
        self.refresh_cart(None)
        for view in (self.catalogue.table, self.cart.table, self.orders.table):
            view.resizeColumnsToContents()
        # Sized for content that is not there yet at start-up.
        self.cart.table.setColumnWidth(0, 140)
        for column, width in enumerate((70, 120, 80, 50, 80)):
            self.orders.table.setColumnWidth(column, width)
        # Every column of the catalogue (its In stock) and the cart (Price,
        # Line total) in view without scrolling sideways: the window's
        # layout gives the till this width before the side panels get any.
        for view in (self.catalogue.table, self.cart.table):
            view.setMinimumWidth(columns_width(view))

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

    # ---------------------------------------------------------------- actions
    # (the cashier's own are in CashierActions)

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
    def cancel_order(self) -> None:
        """Cancel the selected order, once the cashier has confirmed it."""
        blocked = self.orders.cancel_blocked()
        if blocked is not None:
            self.show_error(blocked)
            return
        order = self.orders.selected_order()
        if order is None:  # cancel_blocked() said there is one
            return
        if not self.confirm_cancel(order):
            self.show_info(f"Order #{order.id} was not cancelled.")
            return
        cancelled = self.store.cancel_order(order.id)
        self.reload_orders()
        self.reload_products()
        self.show_info(f"Order #{cancelled.id} cancelled; its items are back in stock.")

    def confirm_cancel(self, order: OrderRow) -> bool:
        """Ask before cancelling ``order``; keeping it is the default (Enter, Esc)."""
        items = order.quantity
        return confirm(
            self,
            "confirmCancelOrder",
            "Cancel order",
            f"Cancel order #{order.id} for {order.username}: "
            f"{items} item{'s' if items != 1 else ''}, {money(order.total)}?",
            "Its items go back in stock. This cannot be undone.",
            "&Cancel the order",
        )
