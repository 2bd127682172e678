"""Checkout's model signals on a real SQLite file: pre_save/post_save for the
order and each item, and the cart's pre_delete/post_delete as Django's
Collector sends them, whenever a receiver listens or an observer watches.

Each checkout is also watched statement by statement, so the tests see where
each send falls between the INSERTs and DELETEs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event

from storeapp.domain import OutOfStock, Store, dispatch
from storeapp.domain.models import Cart, CartItem, Order, OrderItem, Product, User
from storeapp.domain.signals import post_delete, post_save, pre_delete, pre_save
from storeapp.domain.store import CheckoutPath, checkout_path

MODEL_SIGNALS = (pre_save, post_save, pre_delete, post_delete)
MODEL_SIGNAL_NAMES = {s.name for s in MODEL_SIGNALS}
CHECKOUT_MODELS = ("Order", "OrderItem", "Cart", "CartItem")

#: What one checkout of a two-line cart sends and runs, in order, after its
#: reads and the stock UPDATE: the ORM's order for the saves (post_save once
#: the items are written), Django's Collector's for the cart (pre_delete for
#: every object, then each table's DELETE followed by its post_delete, the
#: items in reverse as the Collector deletes them).
WRITE = re.compile(r"\s*(?:WITH \w+ AS\s*\()?(INSERT|DELETE) (?:INTO|FROM) (\w+)")

CHECKOUT_SENDS = [
    ("pre_save", "Order"),
    "INSERT orders",
    ("pre_save", "OrderItem", 1),
    ("pre_save", "OrderItem", 2),
    "INSERT order_items",
    ("post_save", "Order"),
    ("post_save", "OrderItem", 1),
    ("post_save", "OrderItem", 2),
    ("pre_delete", "CartItem", 1),
    ("pre_delete", "CartItem", 2),
    ("pre_delete", "Cart"),
    "DELETE cart_items",
    ("post_delete", "CartItem", 2),
    ("post_delete", "CartItem", 1),
    "DELETE carts",
    ("post_delete", "Cart"),
    "INSERT events",  # the event log's row, in the same transaction
]


@dataclass
class Shop:
    store: Store
    user: User
    tea: Product  # 3.50
    mug: Product  # 9.50

    def cart(self, tea: int = 2, mug: int = 1) -> Cart:
        cart = self.store.create_cart()
        self.store.add_to_cart(cart.id, self.tea.id, tea)
        return self.store.add_to_cart(cart.id, self.mug.id, mug)


@pytest.fixture
def shop(store, core_ready) -> Shop:
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 50)
    mug = store.add_product("MUG", "Stoneware mug", "9.50", 50)
    return Shop(store, user, tea, mug)


class Timeline:
    """Sends of checkout's model signals and the statements around them, as
    ``(signal, model)`` (or ``(signal, model, line)`` for a line, numbered
    in the cart's order) and ``"INSERT orders"``-style strings."""

    def __init__(self, cart: Cart) -> None:
        self.entries: list[Any] = []
        self.line_of = {p: n for n, p in enumerate((i.product_id for i in cart.items), 1)}

    def send(self, signal: str, sender: str, product_id: int | None) -> None:
        if sender not in CHECKOUT_MODELS:
            return
        if product_id is None:
            self.entries.append((signal, sender))
        else:
            self.entries.append((signal, sender, self.line_of[product_id]))

    def statement(self, sql: str) -> None:
        # INSERT INTO t / DELETE FROM t; on PostgreSQL the event log's INSERT
        # sits in a WITH, its NOTIFY beside it (one statement).
        found = WRITE.match(sql)
        if found is None:
            return
        entry = f"{found[1]} {found[2]}"
        if not self.entries or self.entries[-1] != entry:  # one executemany, or its rows
            self.entries.append(entry)


@contextmanager
def statements(store: Store, timeline: Timeline) -> Iterator[None]:
    def spy(conn, cursor, statement, parameters, context, executemany):
        timeline.statement(statement)

    event.listen(store.engine, "before_cursor_execute", spy)
    try:
        yield
    finally:
        event.remove(store.engine, "before_cursor_execute", spy)


class Receiver:
    """One receiver connected to the four model signals for any sender."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.heard: list[tuple[str, Any, dict[str, Any], bool]] = []

    def __call__(self, signal, sender, **kwargs):
        line = getattr(kwargs.get("instance"), "product_id", None)
        self.timeline.send(signal.name, sender.__name__, line)
        self.heard.append((signal.name, sender, kwargs, dispatch.in_transaction()))

    def of(self, name: str, sender: Any) -> list[dict[str, Any]]:
        return [kw for signal, s, kw, _ in self.heard if signal == name and s is sender]


class Observer:
    """A dispatch observer, as the inspector attaches one: it sees each send's
    record (the kwargs as the inspector shows them), not the objects."""

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.records: list[Any] = []

    def sent(self, record):
        if record.signal in MODEL_SIGNAL_NAMES and record.sender in CHECKOUT_MODELS:
            self.records.append(record)
            line = re.search(r"Item product_id=(\d+)", record.kwargs)
            self.timeline.send(record.signal, record.sender, int(line[1]) if line else None)

    def updated(self, record):
        pass

    def of(self, name: str, sender: str) -> list[str]:
        return [r.kwargs for r in self.records if r.signal == name and r.sender == sender]


@contextmanager
def receiver_connected(receiver: Receiver) -> Iterator[Receiver]:
    with ExitStack() as stack:
        for signal in MODEL_SIGNALS:
            stack.enter_context(signal.connected_to(receiver))
        yield receiver


@contextmanager
def observer_attached(observer: Observer) -> Iterator[Observer]:
    dispatch.set_observer(observer)
    try:
        yield observer
    finally:
        dispatch.set_observer(None)


@contextmanager
def watching(how: str, shop: Shop, cart: Cart) -> Iterator[Any]:
    """A receiver connected, or only an observer attached, and the statements spied on."""
    timeline = Timeline(cart)
    watcher = Receiver(timeline) if how == "receiver" else Observer(timeline)
    attach = receiver_connected if how == "receiver" else observer_attached
    with attach(watcher), statements(shop.store, timeline):  # type: ignore[operator]
        yield watcher


HOW = ["receiver", "observer"]


# -- what is sent, and when -----------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
def test_checkout_sends_each_save_and_the_carts_deletes_in_order_around_its_statements(shop, how):
    cart = shop.cart(tea=2, mug=1)

    with watching(how, shop, cart) as watcher:
        shop.store.place_order(cart.id, shop.user.id)

    assert watcher.timeline.entries == CHECKOUT_SENDS


def test_a_receiver_gets_djangos_save_kwargs_for_the_order_and_each_item(shop):
    cart = shop.cart(tea=2, mug=1)

    with watching("receiver", shop, cart) as receiver:
        order = shop.store.place_order(cart.id, shop.user.id)

    for sender, instances in ((Order, [order]), (OrderItem, order.items)):
        before, after = receiver.of("pre_save", sender), receiver.of("post_save", sender)
        assert [kw["instance"].id for kw in after] == [i.id for i in instances]
        assert [kw["instance"] for kw in before] == [kw["instance"] for kw in after]
        for kw in before:
            assert kw.keys() == {"instance", "raw", "using", "update_fields"}
            assert (kw["raw"], kw["using"], kw["update_fields"]) == (False, "default", None)
        for kw in after:
            assert kw.keys() == {"instance", "created", "raw", "using", "update_fields"}
            assert (kw["created"], kw["raw"], kw["using"], kw["update_fields"]) == (
                True,
                False,
                "default",
                None,
            )
    assert {h[3] for h in receiver.heard} == {True}  # all inside the transaction


def test_a_receiver_gets_djangos_delete_kwargs_for_the_cart_and_its_items(shop):
    cart = shop.cart(tea=2, mug=1)

    with watching("receiver", shop, cart) as receiver:
        shop.store.place_order(cart.id, shop.user.id)

    for name in ("pre_delete", "post_delete"):
        [whole] = receiver.of(name, Cart)
        lines = receiver.of(name, CartItem)
        for kw in [whole, *lines]:
            assert kw.keys() == {"instance", "origin", "using"}
            assert kw["using"] == "default"
            assert kw["origin"] is whole["instance"]  # the cart, as Django's origin
        assert whole["instance"].id == cart.id
        assert whole["instance"].created_at == cart.created_at
        assert sorted((kw["instance"].id, kw["instance"].product.name) for kw in lines) == sorted(
            (i.id, i.product.name) for i in cart.items
        )
        assert {kw["instance"].cart for kw in lines} == {whole["instance"]}
    assert {h[3] for h in receiver.heard} == {True}


def test_the_inspectors_observer_sees_djangos_kwargs_for_each_send(shop):
    cart = shop.cart(tea=2, mug=1)

    with watching("observer", shop, cart) as observer:
        order = shop.store.place_order(cart.id, shop.user.id)

    assert observer.of("pre_save", "Order") == [
        "instance=<Order id=None status=placed total=16.50>, raw=False, using='default', "
        "update_fields=None"
    ]
    assert observer.of("post_save", "Order") == [
        f"instance=<Order id={order.id} status=placed total=16.50>, created=True, raw=False, "
        "using='default', update_fields=None"
    ]
    items = observer.of("post_save", "OrderItem")
    assert len(items) == 2
    for kwargs in items:
        assert kwargs.endswith("created=True, raw=False, using='default', update_fields=None")
    for name in ("pre_delete", "post_delete"):
        assert observer.of(name, "Cart") == [
            f"instance=<Cart id={cart.id}>, origin=<Cart id={cart.id}>, using='default'"
        ]
        for kwargs in observer.of(name, "CartItem"):
            assert kwargs.endswith(f"origin=<Cart id={cart.id}>, using='default'")


def test_a_receiver_with_djangos_full_model_signal_signature_runs_at_checkout(shop):
    """The signatures Django's docs give post_save and pre_delete receivers."""
    heard = []

    def on_save(sender, instance, created, raw, using, update_fields, **kwargs):
        heard.append((sender.__name__, created, raw, using, update_fields))

    def on_delete(sender, instance, origin, using, **kwargs):
        heard.append((sender.__name__, "deleted", origin.id, using))

    cart = shop.cart(tea=2, mug=1)
    with (
        post_save.connected_to(on_save, sender=Order),
        post_save.connected_to(on_save, sender=OrderItem),
        pre_delete.connected_to(on_delete, sender=Cart),
    ):
        shop.store.place_order(cart.id, shop.user.id)

    assert heard == [
        ("Order", True, False, "default", None),
        ("OrderItem", True, False, "default", None),
        ("OrderItem", True, False, "default", None),
        ("Cart", "deleted", cart.id, "default"),
    ]


def test_only_an_observer_keeps_checkout_on_its_statements_without_a_select_more(shop):
    """What the inspector costs a checkout is its sends: the statements stay
    the two INSERTs and two DELETEs, with no query to build the instances."""

    def sql_of_a_checkout() -> list[str]:
        run: list[str] = []

        def spy(conn, cursor, statement, parameters, context, executemany):
            if "pg_advisory_xact_lock" not in statement:  # PostgreSQL's append lock
                run.append(" ".join(statement.split()[:3]))

        cart = shop.cart()
        event.listen(shop.store.engine, "before_cursor_execute", spy)
        try:
            shop.store.place_order(cart.id, shop.user.id)
        finally:
            event.remove(shop.store.engine, "before_cursor_execute", spy)
        return run

    assert checkout_path() is CheckoutPath.FAST
    fast = sql_of_a_checkout()
    with observer_attached(Observer(Timeline(shop.cart()))):
        assert checkout_path() is CheckoutPath.OBSERVED
        observed = sql_of_a_checkout()

    assert observed == fast
    assert sum(s.startswith("SELECT") for s in fast) == 2  # the lines, the buyer


def test_the_observed_path_writes_and_returns_the_order_the_fast_path_does(shop):
    def seen(order: Order) -> tuple:
        return (
            order.status,
            order.total,
            order.customer.user.username,
            order.placed_at.tzinfo is not None,
            [(i.product.name, i.product_id, i.quantity, i.unit_price) for i in order.items],
            {i.order_id for i in order.items} == {order.id},
        )

    fast = shop.store.place_order(shop.cart().id, shop.user.id)
    with observer_attached(Observer(Timeline(shop.cart()))):
        observed = shop.store.place_order(shop.cart().id, shop.user.id)

    assert seen(observed) == seen(fast)
    assert {i.order for i in observed.items} == {observed}
    assert seen(shop.store.get_order(observed.id)) == seen(observed)
    assert seen(fast)[1] == Decimal("16.50")


# -- rollbacks ---------------------------------------------------------------------


@pytest.mark.parametrize("how", HOW)
def test_a_checkout_refused_for_stock_sends_no_model_signal(shop, how, table_rows):
    cart = shop.cart(tea=2, mug=1)
    shop.store.update_product(shop.mug.id, inventory=0)
    before = table_rows()

    with watching(how, shop, cart) as watcher, pytest.raises(OutOfStock):
        shop.store.place_order(cart.id, shop.user.id)

    assert watcher.timeline.entries == []  # the stock is taken before anything is written
    assert table_rows() == before


@pytest.mark.parametrize("how", HOW)
def test_a_statement_failing_mid_checkout_sends_its_pre_save_but_no_post_save(
    shop, how, table_rows
):
    """As in Django: pre_save goes out before the statement that fails; the
    rollback means no post_save and no delete signal at all."""
    cart = shop.cart(tea=2, mug=1)
    before = table_rows()

    def fail_the_items(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO order_items"):
            raise RuntimeError("disk full")

    with watching(how, shop, cart) as watcher:
        event.listen(shop.store.engine, "before_cursor_execute", fail_the_items)
        try:
            with pytest.raises(RuntimeError, match="disk full"):
                shop.store.place_order(cart.id, shop.user.id)
        finally:
            event.remove(shop.store.engine, "before_cursor_execute", fail_the_items)

    assert watcher.timeline.entries == CHECKOUT_SENDS[:5]  # up to the items' INSERT
    assert table_rows() == before
