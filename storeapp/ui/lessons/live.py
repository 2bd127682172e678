"""What the live lessons' Try it buttons do in the running app.

Each action goes through the same services the till uses, on their own
cart (the cashier's cart is left alone), and answers in a sentence; bad
luck (an empty catalogue, a plugin that failed) is a sentence too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from storeapp.domain import DomainError, Store
from storeapp.domain.demo import DEMO_PASSWORD
from storeapp.domain.errors import DuplicateUser
from storeapp.listeners.api import PluginState
from storeapp.listeners.manager import PluginManager
from storeapp.ui.lessons.catalogue import PLACE_ORDER, REGISTER_CUSTOMER, REPLUG_ANALYTICS


class LiveLessons:
    """Runs a live lesson's action; the till is told so it shows the result."""

    def __init__(
        self,
        store: Store,
        manager: PluginManager,
        till: Any,
        set_plugin_enabled: Callable[[str, bool], None],
    ) -> None:
        self.store = store
        self.manager = manager
        self.till = till
        self.set_plugin_enabled = set_plugin_enabled

    def run(self, action: str) -> str:
        try:
            if action == REGISTER_CUSTOMER:
                return self.register_customer()
            if action == PLACE_ORDER:
                return self.place_order()
            if action == REPLUG_ANALYTICS:
                return self.replug("analytics")
        except DomainError as exc:
            return f"Could not do it: {exc}"
        raise ValueError(f"unknown lesson action {action!r}")

    def register_customer(self) -> str:
        for n in range(len(self.store.list_customers()) + 1, 10_000):
            name = f"learner{n}"
            try:
                user = self.store.register_user(name, f"{name}@example.com", DEMO_PASSWORD)
            except DuplicateUser:
                continue
            self.till.reload_customers()
            customer = "a customer" if user.customer is not None else "NO customer"
            return f"Registered {name}: the user was saved and got {customer}."
        return "Could not find a free learner name."

    def place_order(self) -> str:
        self.till.ensure_customers()
        user_id = self.till.current_user_id()
        if user_id is None:
            customers = self.store.list_customers()
            if not customers:
                return "Nobody to serve: register a customer first."
            user_id = customers[0].user_id
        product = next((p for p in self.store.list_products() if p.inventory > 0), None)
        if product is None:
            return "Every product is out of stock: nothing to sell."
        cart = self.store.create_cart()
        self.store.add_to_cart(cart.id, product.id, 1)
        order = self.store.place_order(cart.id, user_id)
        return f"Placed order #{order.id}: 1 x {product.name}."

    def replug(self, name: str) -> str:
        if name not in self.manager:
            return f"The {name} plugin is not installed."
        record = self.manager.record(name)
        if record.state == PluginState.FAILED:
            return f"The {name} plugin failed ({record.error}); it cannot be switched on."
        if record.enabled:
            self.set_plugin_enabled(name, False)
        self.set_plugin_enabled(name, True)
        return f"Switched {record.title} off and on. " + self.place_order()
