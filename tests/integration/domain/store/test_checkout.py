"""Checkout on a real SQLite file: the ORM-or-fast-path choice, and checkouts
racing for the last items (stock is never oversold).

Threads share one Store; processes open the same SQLite file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import event

from storeapp.domain import OutOfStock, Store
from storeapp.domain.models import Order, OrderItem, Product, User
from storeapp.domain.signals import order_created, post_save, pre_save
from storeapp.domain.store import CheckoutPath, checkout_path

THREADS = 8
LAST_ITEMS = 3


@dataclass
class Shop:
    store: Store
    user: User
    tea: Product  # 3.50
    mug: Product  # 9.50

    def check_out(self, tea: int, mug: int) -> Order:
        cart = self.store.create_cart()
        self.store.add_to_cart(cart.id, self.tea.id, tea)
        self.store.add_to_cart(cart.id, self.mug.id, mug)
        return self.store.place_order(cart.id, self.user.id)


@pytest.fixture
def shop(store, core_ready) -> Shop:
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 50)
    mug = store.add_product("MUG", "Stoneware mug", "9.50", 50)
    return Shop(store, user, tea, mug)


@contextmanager
def orm_inserts() -> Iterator[list[str]]:
    """The models the ORM's flush inserts meanwhile (SQLAlchemy's own mapper
    event, which fires whether or not a storeapp signal has receivers)."""
    inserted: list[str] = []

    def spy(mapper, connection, target):
        inserted.append(type(target).__name__)

    for model in (Order, OrderItem):
        event.listen(model, "after_insert", spy)
    try:
        yield inserted
    finally:
        for model in (Order, OrderItem):
            event.remove(model, "after_insert", spy)


def ignore(sender, **kwargs):
    pass


# -- the ORM-or-fast-path choice ------------------------------------------------------


def test_checkout_takes_the_fast_path_when_nobody_listens_to_order_saves(shop):
    assert checkout_path() is CheckoutPath.FAST  # core listens to User saves only

    with orm_inserts() as inserted:
        order = shop.check_out(tea=2, mug=1)

    assert inserted == []
    assert [(i.product.name, i.quantity) for i in order.items] == [
        ("Green tea", 2),
        ("Stoneware mug", 1),
    ]
    assert shop.store.get_order(order.id).total == Decimal("16.50")


@pytest.mark.parametrize("model", [Order, OrderItem], ids=lambda m: m.__name__)
@pytest.mark.parametrize("signal", [pre_save, post_save], ids=lambda s: s.name)
def test_checkout_goes_through_the_orm_when_someone_listens_to_order_or_item_saves(
    shop, signal, model
):
    heard = []

    def record(sender, instance, **kwargs):
        heard.append((sender, instance, kwargs.get("created")))

    with signal.connected_to(record, sender=model), orm_inserts() as inserted:
        order = shop.check_out(tea=2, mug=1)

    assert sorted(inserted) == ["Order", "OrderItem", "OrderItem"]
    written = [order] if model is Order else order.items
    assert [(sender, instance.id) for sender, instance, _ in heard] == [
        (model, w.id) for w in written
    ]
    if signal is post_save:
        assert {created for _, _, created in heard} == {True}


def test_a_receiver_connected_between_checkouts_switches_the_next_one_to_the_orm(shop):
    heard = []

    with orm_inserts() as inserted:
        shop.check_out(tea=1, mug=1)
        with post_save.connected_to(lambda sender, instance, **kw: heard.append(instance)):
            second = shop.check_out(tea=1, mug=1)
        shop.check_out(tea=1, mug=1)

    assert inserted == ["Order", "OrderItem", "OrderItem"]
    assert [i.id for i in heard if isinstance(i, Order)] == [second.id]


def test_both_paths_write_and_return_the_same_order(shop):
    def seen(order: Order) -> tuple:
        return (
            order.status,
            order.total,
            order.customer.user.username,
            order.placed_at.tzinfo is not None,
            [(i.product.name, i.product_id, i.quantity, i.unit_price) for i in order.items],
            {i.order_id for i in order.items} == {order.id},
        )

    fast = shop.check_out(tea=2, mug=1)
    with post_save.connected_to(ignore, sender=Order):
        orm = shop.check_out(tea=2, mug=1)

    assert (
        seen(fast)
        == seen(orm)
        == (
            "placed",
            Decimal("16.50"),
            "ada",
            True,
            [
                ("Green tea", shop.tea.id, 2, Decimal("3.50")),
                ("Stoneware mug", shop.mug.id, 1, Decimal("9.50")),
            ],
            True,
        )
    )
    assert seen(shop.store.get_order(fast.id)) == seen(fast)
    assert seen(shop.store.get_order(orm.id)) == seen(orm)
    assert shop.store.stock_levels() == {shop.tea.id: 46, shop.mug.id: 48}


# -- racing for the last items --------------------------------------------------------


def stock_and_orders(store: Store, product_id: int) -> tuple[int, int]:
    return store.stock_levels()[product_id], len(store.list_orders())


def test_threads_racing_for_the_last_items_sell_exactly_that_many(store, core_ready):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", LAST_ITEMS)
    carts = [store.add_to_cart(store.create_cart().id, tea.id, 1) for _ in range(THREADS)]
    start = threading.Barrier(THREADS + 1)
    done = threading.Event()
    outcomes: list[object] = []
    lowest_stock_seen = [LAST_ITEMS]
    created = []

    def check_out(cart_id):
        start.wait()
        try:
            outcomes.append(store.place_order(cart_id, user.id))
        except Exception as exc:
            outcomes.append(exc)

    def watch_stock():
        start.wait()
        while not done.is_set():
            lowest_stock_seen[0] = min(lowest_stock_seen[0], store.stock_levels()[tea.id])

    def on_order(sender, order, **kwargs):
        created.append(order.id)

    buyers = [threading.Thread(target=check_out, args=(c.id,)) for c in carts]
    watcher = threading.Thread(target=watch_stock)
    with order_created.connected_to(on_order):
        for thread in buyers + [watcher]:
            thread.start()
        for thread in buyers:
            thread.join()
        done.set()
        watcher.join()

    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"Order": LAST_ITEMS, "OutOfStock": THREADS - LAST_ITEMS}
    assert stock_and_orders(store, tea.id) == (0, LAST_ITEMS)
    assert lowest_stock_seen[0] >= 0
    assert sorted(created) == sorted(o.id for o in outcomes if not isinstance(o, OutOfStock))


CHECKOUT_SCRIPT = """
import json, sys
from storeapp.domain import OutOfStock, Store

url, user_id, cart_ids = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
store = Store.open(url)
print("ready", flush=True)
sys.stdin.readline()  # wait until every process is ready
sold = out_of_stock = 0
for cart_id in cart_ids:
    try:
        store.place_order(cart_id, user_id)
        sold += 1
    except OutOfStock:
        out_of_stock += 1
store.close()
print(json.dumps({"sold": sold, "out_of_stock": out_of_stock}), flush=True)
"""


def test_processes_racing_for_the_last_items_sell_exactly_that_many(store, core_ready):
    processes, carts_each, last_items = 2, 5, 4
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", last_items)
    carts = [
        str(store.add_to_cart(store.create_cart().id, tea.id, 1).id)
        for _ in range(processes * carts_each)
    ]
    env = {**os.environ, "PYTHONWARNINGS": "error"}

    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKOUT_SCRIPT, str(store.url), str(user.id)]
            + carts[n * carts_each : (n + 1) * carts_each],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for child in children:  # both start buying at once
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()

    assert [child.returncode for child in children] == [0] * processes, results
    tallies = [json.loads(out.strip().splitlines()[-1]) for out, _err in results]
    assert sum(t["sold"] for t in tallies) == last_items
    assert sum(t["out_of_stock"] for t in tallies) == processes * carts_each - last_items
    assert stock_and_orders(store, tea.id) == (0, last_items)
