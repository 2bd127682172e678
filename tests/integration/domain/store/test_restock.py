"""Restocking: one guarded UPDATE that adds to the stock the database holds,
its model signals and its event, and threads restocking while others check
out the same products (on SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select

from storeapp.domain import InvalidState, NotFound, OutOfStock, Store, ValidationError
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Order, OrderItem, OrderStatus, Product
from storeapp.domain.signals import post_save, pre_save
from storeapp.domain.store.validation import MAX_INVENTORY


def product_events(store: Store) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [
            row.payload
            for row in eventlog.read_after(conn)
            if row.signal == eventlog.PRODUCT_CHANGED
        ]


def test_restock_adds_to_the_stock_and_returns_the_product_as_restocked(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)

    restocked = store.restock(tea.id, 12)

    assert restocked.inventory == 17
    assert (restocked.id, restocked.name) == (tea.id, "Green tea")
    assert store.stock_levels() == {tea.id: 17}


def test_restock_sends_the_products_pre_save_and_post_save_with_the_stock_it_gets(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    seen: list[tuple[str, Any, int, Any]] = []

    def on_pre(sender, instance, **kwargs):
        seen.append(("pre_save", sender, instance.inventory, kwargs.get("changed_fields")))

    def on_post(sender, instance, created, **kwargs):
        assert created is False
        seen.append(("post_save", sender, instance.inventory, kwargs.get("changed_fields")))

    with (
        pre_save.connected_to(on_pre, sender=Product),
        post_save.connected_to(on_post, sender=Product),
    ):
        store.restock(tea.id, 3)

    assert seen == [
        ("pre_save", Product, 8, frozenset({"inventory"})),
        ("post_save", Product, 8, frozenset({"inventory"})),
    ]


def test_restock_writes_a_product_changed_event_with_the_new_stock(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)

    store.restock(tea.id, 4)

    assert product_events(store)[-1] == {
        "product_id": tea.id,
        "action": "updated",
        "changes": {"inventory": 9},
    }


def test_a_model_signal_receiver_that_raises_undoes_the_restock(store, table_rows):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    before = table_rows()

    def refuse(sender, **kwargs):
        raise RuntimeError("the supplier's invoice is missing")

    with post_save.connected_to(refuse, sender=Product):
        with pytest.raises(RuntimeError):
            store.restock(tea.id, 3)

    assert table_rows() == before


@pytest.mark.parametrize(
    ("quantity", "error", "message"),
    [
        (0, ValidationError, "Quantity to add must be at least 1."),
        (-3, ValidationError, "Quantity to add must be at least 1."),
        ("5", ValidationError, "Quantity to add must be a whole number."),
        (2.5, ValidationError, "Quantity to add must be a whole number."),
        (True, ValidationError, "Quantity to add must be a whole number."),
        (MAX_INVENTORY, ValidationError, "would pass the most a product can hold"),
    ],
)
def test_a_bad_restock_is_refused_readably_and_writes_nothing(
    store, table_rows, quantity, error, message
):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    before = table_rows()

    with pytest.raises(error) as excinfo:
        store.restock(tea.id, quantity)

    assert message in str(excinfo.value)
    assert table_rows() == before


def test_restocking_a_product_that_does_not_exist_is_refused(store, table_rows):
    before = table_rows()

    with pytest.raises(NotFound, match="Product 999 does not exist."):
        store.restock(999, 5)

    assert table_rows() == before


# -- restocking while others check out ---------------------------------------------

RESTOCKERS = 3
BUYERS = 5
ROUNDS = 30


def sold_per_product(store: Store) -> Counter[int]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(OrderItem.product_id, OrderItem.quantity)
            .join(Order, OrderItem.order_id == Order.id)
            .where(Order.status == OrderStatus.PLACED)
        )
        sold: Counter[int] = Counter()
        for product_id, quantity in rows:
            sold[product_id] += quantity
        return sold


def test_threads_restocking_and_checking_out_the_same_products_conserve_stock_exactly(
    store, core_ready
):
    initial = {store.add_product(f"P{i}", f"Product {i}", "1.00", 4).id: 4 for i in range(3)}
    users = [
        store.register_user(f"buyer{i}", f"buyer{i}@example.com", "s3cret-pass").id
        for i in range(BUYERS)
    ]
    product_ids = list(initial)
    restocked: Counter[int] = Counter()
    restocks = [0]
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(RESTOCKERS + BUYERS)
    failures: list[BaseException] = []

    def restocker(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(ROUNDS):
            product_id, quantity = rng.choice(product_ids), rng.randint(1, 3)
            try:
                store.restock(product_id, quantity)
            except InvalidState:  # the database was busy: nothing was written
                continue
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
                return
            with lock:
                restocked[product_id] += quantity
                restocks[0] += 1

    def buyer(seed: int, user_id: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(ROUNDS):
            try:
                cart = store.create_cart()
                for product_id in rng.sample(product_ids, k=2):
                    store.set_cart_quantity(cart.id, product_id, rng.randint(1, 3))
                store.place_order(cart.id, user_id)
                outcome = "placed"
            except OutOfStock:
                outcome = "out of stock"
            except InvalidState:
                outcome = "busy"
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
                return
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=restocker, args=(i,)) for i in range(RESTOCKERS)]
    threads += [threading.Thread(target=buyer, args=(100 + i, u)) for i, u in enumerate(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    stock, sold = store.stock_levels(), sold_per_product(store)
    for product_id, first in initial.items():
        assert stock[product_id] + sold[product_id] == first + restocked[product_id]
        assert stock[product_id] >= 0
    # Both sides really raced: orders were placed and stock was added.
    assert outcomes["placed"] > 0 and sum(restocked.values()) > 0
    # One product_changed event per restock that committed, none for the others.
    updates = [p for p in product_events(store) if p["action"] == "updated"]
    assert len(updates) == restocks[0]
