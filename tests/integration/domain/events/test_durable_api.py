"""The durable receivers' API: Signal.connect(durable=...) and a plugin's
connect_durable, delivered by the worker from the events a real checkout logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from storeapp.domain import Store
from storeapp.domain.demo import DEMO_PASSWORD, seed_catalogue
from storeapp.domain.events.durable import registry
from storeapp.domain.events.worker import DurableWorker
from storeapp.domain.signals import order_created, user_registered
from storeapp.listeners import core
from storeapp.listeners.api import HeadlessHost, ListenerPlugin


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    seed_catalogue(s)
    yield s
    s.close()


def test_signal_connect_with_durable_gets_each_committed_event(store):
    got: list[dict[str, Any]] = []

    def welcome(signal, sender, event_id, payload, attempt, **kwargs):
        got.append({"signal": signal, "sender": sender, "attempt": attempt, **payload})

    user_registered.connect(welcome, durable="test.welcome")
    try:
        store.register_user("ada", "ada@example.com", DEMO_PASSWORD)
        DurableWorker(store.engine).run_once()
    finally:
        registry.disconnect("test.welcome")

    assert [(g["signal"], g["sender"], g["username"], g["attempt"]) for g in got] == [
        ("user_registered", "User", "ada", 1)
    ]


def test_a_durable_receiver_refuses_what_does_not_apply():
    with pytest.raises(ValueError, match="durable receiver takes no sender"):
        order_created.connect(lambda **kw: None, sender=object, durable="test.x")


class Ledger(ListenerPlugin):
    name = "ledger"
    orders: list[int] = []

    def ready(self) -> None:
        self.connect_durable(order_created, self.book, "orders")

    def book(self, payload: dict[str, Any], **kwargs: Any) -> None:
        Ledger.orders.append(payload["order_id"])


def test_a_plugins_durable_receiver_is_named_after_it_and_leaves_on_shutdown(store, tmp_path):
    Ledger.orders = []  # a class attribute: the other backend's run filled it
    core.ready()  # a customer for the new user
    plugin = Ledger(HeadlessHost(store, tmp_path))
    plugin.ready()
    assert registry.get("ledger.orders") is not None
    user = store.register_user("bob", "bob@example.com", DEMO_PASSWORD)
    cart = store.create_cart()
    store.add_to_cart(cart.id, store.list_products()[0].id, 1)
    order = store.place_order(cart.id, user.id)

    DurableWorker(store.engine).run_once()
    plugin.shutdown()
    core.shutdown()

    assert Ledger.orders == [order.id]
    assert registry.get("ledger.orders") is None
