"""The event log: a commit leaves exactly one row per custom signal, a rollback none."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, inspect, text
from sqlalchemy.orm import Session

from storeapp.domain import DuplicateUser, OutOfStock, Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.events import log
from storeapp.domain.models import Order, Product, User
from storeapp.domain.signals import post_save

PASSWORD = "s3cret-pass"
TERMINAL = "till-7"


@pytest.fixture(autouse=True)
def terminal_name(monkeypatch) -> None:
    monkeypatch.setenv("STOREAPP_TERMINAL", TERMINAL)


def events(store: Store, after: int = 0) -> list[Any]:
    with store.engine.connect() as conn:
        return log.read_after(conn, after)


def last_id(store: Store) -> int:
    rows = events(store)
    return rows[-1].id if rows else 0


def appended(store: Store, action: Callable[[], Any]) -> list[Any]:
    """The rows ``action`` appended."""
    before = last_id(store)
    action()
    return events(store, before)


@dataclass
class World:
    store: Store
    user: User
    tea: Product  # 3.50, 5 in stock
    mug: Product  # 9.50, 2 in stock


@pytest.fixture
def world(store, core_ready) -> World:
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    mug = store.add_product("MUG", "Stoneware mug", "9.50", 2)
    return World(store, user, tea, mug)


def place(w: World, *lines: tuple[Product, int]) -> Order:
    cart = w.store.create_cart()
    for product, quantity in lines:
        w.store.add_to_cart(cart.id, product.id, quantity)
    return w.store.place_order(cart.id, w.user.id)


@pytest.fixture(params=["fast path", "orm path"])
def checkout_path(request) -> Iterator[None]:
    """Both ways checkout writes an order: a post_save receiver for Order forces the ORM."""

    def listening(sender, **kwargs):
        pass

    if request.param == "orm path":
        post_save.connect(listening, sender=Order)
    yield
    post_save.disconnect(listening, sender=Order)


# -- a commit leaves one row --------------------------------------------------------


def test_registering_a_user_appends_one_user_registered_row(store, core_ready):
    started = datetime.now(UTC)

    rows = appended(store, lambda: store.register_user("ada", "ada@example.com", PASSWORD))

    user = store.authenticate("ada", PASSWORD)
    assert [(r.signal, r.sender, r.terminal) for r in rows] == [
        ("user_registered", "User", TERMINAL)
    ]
    assert rows[0].payload == {"user_id": user.id, "username": "ada", "email": "ada@example.com"}
    assert started - timedelta(seconds=1) <= rows[0].at <= datetime.now(UTC)
    assert rows[0].at.tzinfo is not None


def test_placing_an_order_appends_one_order_created_row_with_its_lines(world, checkout_path):
    order: list[Order] = []

    rows = appended(world.store, lambda: order.append(place(world, (world.tea, 2), (world.mug, 1))))

    customer = world.store.get_customer(world.user.id)
    assert [(r.signal, r.sender) for r in rows] == [("order_created", "Order")]
    assert rows[0].payload == {
        "order_id": order[0].id,
        "customer_id": customer.id,
        "user_id": world.user.id,
        "username": world.user.username,
        "email": world.user.email,
        "total": "16.50",
        "lines": [
            {
                "product_id": world.tea.id,
                "sku": "TEA",
                "name": world.tea.name,
                "quantity": 2,
                "unit_price": "3.50",
                "line_total": "7.00",
            },
            {
                "product_id": world.mug.id,
                "sku": "MUG",
                "name": world.mug.name,
                "quantity": 1,
                "unit_price": "9.50",
                "line_total": "9.50",
            },
        ],
    }


def test_cancelling_an_order_appends_one_order_cancelled_row(world):
    order = place(world, (world.tea, 3))

    rows = appended(world.store, lambda: world.store.cancel_order(order.id))

    assert [(r.signal, r.sender) for r in rows] == [("order_cancelled", "Order")]
    assert rows[0].payload["order_id"] == order.id
    assert rows[0].payload["lines"] == [
        {
            "product_id": world.tea.id,
            "sku": "TEA",
            "name": world.tea.name,
            "quantity": 3,
            "unit_price": "3.50",
            "line_total": "10.50",
        }
    ]


def test_adding_changing_and_deleting_a_product_each_append_product_changed(store):
    added = appended(store, lambda: store.add_product("JAM", "Strawberry jam", "4.20", 3))
    product_id = added[0].payload["product_id"]
    changed = appended(
        store,
        lambda: store.update_product(
            product_id, unit_price="4.50", inventory=7, name="Strawberry jam"
        ),
    )
    unchanged = appended(store, lambda: store.update_product(product_id, inventory=7))
    deleted = appended(store, lambda: store.delete_product(product_id))

    assert [(r.signal, r.sender) for r in added + changed + deleted] == [
        ("product_changed", "Product")
    ] * 3
    assert added[0].payload == {
        "product_id": product_id,
        "action": "added",
        "changes": {"sku": "JAM", "name": "Strawberry jam", "unit_price": "4.20", "inventory": 3},
    }
    # Only what changed: the name was given again, unchanged.
    assert changed[0].payload == {
        "product_id": product_id,
        "action": "updated",
        "changes": {"unit_price": "4.50", "inventory": 7},
    }
    assert unchanged == []
    assert deleted[0].payload == {"product_id": product_id, "action": "deleted", "changes": {}}


def test_the_demo_catalogue_is_logged_product_by_product(store):
    rows = appended(store, lambda: seed_catalogue(store))

    assert len(rows) == len(store.list_products()) > 0
    assert {r.payload["action"] for r in rows} == {"added"}


def test_ids_increase_in_commit_order(world):
    place(world, (world.tea, 1))
    world.store.cancel_order(place(world, (world.mug, 1)).id)

    ids = [r.id for r in events(world.store)]

    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert [r.signal for r in events(world.store)][-3:] == [
        "order_created",
        "order_created",
        "order_cancelled",
    ]


# -- a rollback leaves none ---------------------------------------------------------


def test_an_order_out_of_stock_leaves_no_row(world, checkout_path, table_rows):
    cart = world.store.create_cart()
    world.store.add_to_cart(cart.id, world.tea.id, 1)
    world.store.add_to_cart(cart.id, world.mug.id, 2)
    world.store.update_product(world.mug.id, inventory=1)  # sold elsewhere meanwhile
    before = table_rows()

    with pytest.raises(OutOfStock):
        world.store.place_order(cart.id, world.user.id)

    assert table_rows() == before
    # The same store logs an order that can be filled: one row, no more.
    rows = appended(world.store, lambda: place(world, (world.mug, 1)))
    assert [r.signal for r in rows] == ["order_created"]


def test_a_duplicate_user_leaves_no_row(store, core_ready):
    store.register_user("ada", "ada@example.com", PASSWORD)
    before = last_id(store)

    with pytest.raises(DuplicateUser):
        store.register_user("ada", "other@example.com", PASSWORD)

    assert events(store, before) == []
    rows = appended(store, lambda: store.register_user("grace", "grace@example.com", PASSWORD))
    assert [r.signal for r in rows] == ["user_registered"]


class CommitFails(Exception):
    pass


@pytest.fixture
def failing_commit() -> Iterator[list[bool]]:
    """While the list holds True, every commit fails after the row was appended."""
    armed = [True]

    def before_commit(session: Session) -> None:
        if armed[0]:
            raise CommitFails("the disk is full")

    event.listen(Session, "before_commit", before_commit)
    yield armed
    event.remove(Session, "before_commit", before_commit)


USE_CASES: dict[str, Callable[[World], Any]] = {
    "user_registered": lambda w: w.store.register_user("bob", "bob@example.com", PASSWORD),
    "order_created": lambda w: place(w, (w.tea, 1)),
    "product_changed": lambda w: w.store.update_product(w.tea.id, unit_price="3.75"),
}


@pytest.mark.parametrize("signal", sorted(USE_CASES))
def test_a_commit_that_fails_after_the_append_leaves_no_row(world, failing_commit, signal):
    use_case = USE_CASES[signal]
    before = last_id(world.store)

    with pytest.raises(CommitFails):
        use_case(world)

    assert events(world.store, before) == []
    failing_commit[0] = False
    assert [r.signal for r in appended(world.store, lambda: use_case(world))] == [signal]


def test_a_cancel_whose_commit_fails_leaves_no_row(world, failing_commit):
    failing_commit[0] = False
    order = place(world, (world.tea, 1))
    before = last_id(world.store)
    failing_commit[0] = True

    with pytest.raises(CommitFails):
        world.store.cancel_order(order.id)

    assert events(world.store, before) == []
    failing_commit[0] = False
    assert [
        r.signal for r in appended(world.store, lambda: world.store.cancel_order(order.id))
    ] == ["order_cancelled"]


# -- existing databases -------------------------------------------------------------


def test_a_database_made_before_the_log_gains_it_when_opened(db_url, core_ready):
    Store.open(db_url).close()
    old = create_engine(db_url)
    with old.begin() as conn:  # as an older storeapp left it
        conn.execute(text("DROP TABLE events"))
    old.dispose()

    store = Store.open(db_url)
    try:
        assert inspect(store.engine).has_table("events")
        rows = appended(store, lambda: store.register_user("ada", "ada@example.com", PASSWORD))
        assert [r.signal for r in rows] == ["user_registered"]
    finally:
        store.close()
