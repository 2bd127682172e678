"""The Store's use cases end to end, on a real SQLite file."""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from storeapp.domain import (
    DomainError,
    DuplicateUser,
    EmptyCart,
    InvalidState,
    NotFound,
    OutOfStock,
    Store,
    ValidationError,
    dispatch,
)
from storeapp.domain.models import Cart, Order, Product, User
from storeapp.domain.passwords import check_password
from storeapp.domain.signals import ALL_SIGNALS, order_cancelled, order_created

PASSWORD = "s3cret-pass"


class Recorder:
    """A receiver that records the keyword arguments of each call."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, sender, **kwargs):
        self.calls.append({"sender": sender, **kwargs})


@dataclass
class World:
    """A store with a customer, two products and two carts."""

    store: Store
    user: User
    tea: Product  # 3.50, 5 in stock
    mug: Product  # 9.50, 2 in stock
    cart: Cart  # tea x 2
    empty_cart: Cart


@pytest.fixture
def world(store, core_ready) -> World:
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    mug = store.add_product("MUG", "Stoneware mug", "9.50", 2)
    cart = store.add_to_cart(store.create_cart().id, tea.id, 2)
    return World(store, user, tea, mug, cart, store.create_cart())


def checkout(w: World, *lines: tuple[Product, int]) -> Order:
    cart = w.store.create_cart()
    for product, quantity in lines:
        w.store.add_to_cart(cart.id, product.id, quantity)
    return w.store.place_order(cart.id, w.user.id)


# -- users -------------------------------------------------------------------------


def test_a_registered_user_has_an_argon2id_hash_and_can_log_in(store):
    user = store.register_user("ada", "ada@EXAMPLE.com", PASSWORD)

    assert user.id is not None
    assert user.email == "ada@example.com"
    assert user.password_hash.startswith("$argon2id$")
    assert check_password(PASSWORD, user.password_hash)
    assert store.authenticate("ada", PASSWORD).id == user.id


def test_log_in_fails_with_a_wrong_password_or_an_unknown_user(store):
    store.register_user("ada", "ada@example.com", PASSWORD)

    assert store.authenticate("ada", "wrong-password") is None
    assert store.authenticate("nobody", PASSWORD) is None


def test_a_nul_in_a_search_or_a_username_is_refused_before_the_database_sees_it(store):
    """PostgreSQL refuses a NUL in any text it is sent (a hypothesis run found it)."""
    store.register_user("ada", "ada@example.com", PASSWORD)
    store.add_product("MUG-STD", "Stoneware mug", "9.50", 8)

    with pytest.raises(ValidationError, match="Search text contains characters"):
        store.list_products(search="mug\x00")
    assert store.authenticate("ada\x00", PASSWORD) is None
    assert [p.sku for p in store.list_products(search="mug")] == ["MUG-STD"]


def test_the_plain_password_is_in_no_repr_signal_payload_or_log_record(store, core_ready, caplog):
    secret = "Tr0ub4dor&3-unique-secret"
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL and its parameters
    heard = Recorder()

    with ExitStack() as stack:
        for signal in ALL_SIGNALS:
            stack.enter_context(signal.connected_to(heard))
        user = store.register_user("grace", "grace@example.com", secret)
        assert store.authenticate("grace", secret) is not None

    assert secret not in repr(user)
    assert len(heard.calls) >= 5  # pre/post_save of User and Customer, user_registered
    for call in heard.calls:
        for value in call.values():
            assert secret not in repr(value)
            assert secret not in repr(getattr(value, "__dict__", ""))
    assert any("INSERT INTO users" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in repr(record.args)


# -- products and carts -------------------------------------------------------------


def test_a_product_price_is_kept_exactly_in_cents(store):
    product = store.add_product("JAM", "Strawberry jam", "4.20", 3)

    assert store.get_product(product.id).unit_price == Decimal("4.20")
    assert store.list_products("jam")[0].sku == "JAM"


def test_get_cart_shows_its_lines_and_total(world):
    cart = world.store.add_to_cart(world.cart.id, world.mug.id, 1)

    fetched = world.store.get_cart(cart.id)

    assert [(i.product.name, i.quantity) for i in fetched.items] == [
        ("Green tea", 2),
        ("Stoneware mug", 1),
    ]
    assert fetched.total == Decimal("16.50")


def test_adding_a_product_already_in_the_cart_adds_to_its_line(world):
    cart = world.store.add_to_cart(world.cart.id, world.tea.id, 1)

    assert [(i.product_id, i.quantity) for i in cart.items] == [(world.tea.id, 3)]


def test_set_cart_quantity_replaces_the_quantity(world):
    cart = world.store.set_cart_quantity(world.cart.id, world.tea.id, 4)

    assert [(i.product_id, i.quantity) for i in cart.items] == [(world.tea.id, 4)]
    assert world.store.get_cart(world.cart.id).total == Decimal("14.00")


def test_set_cart_quantity_to_zero_removes_the_line(world):
    cart = world.store.set_cart_quantity(world.cart.id, world.tea.id, 0)

    assert cart.items == []
    assert world.store.get_cart(world.cart.id).items == []


def test_remove_from_cart_removes_the_line(world):
    world.store.add_to_cart(world.cart.id, world.mug.id, 1)

    cart = world.store.remove_from_cart(world.cart.id, world.tea.id)

    assert [i.product_id for i in cart.items] == [world.mug.id]
    assert [i.product_id for i in world.store.get_cart(world.cart.id).items] == [world.mug.id]


# -- placing orders -------------------------------------------------------------------


def test_an_order_totals_its_lines(world):
    world.store.add_to_cart(world.cart.id, world.mug.id, 2)

    order = world.store.place_order(world.cart.id, world.user.id)

    assert [(i.product_id, i.quantity, i.unit_price) for i in order.items] == [
        (world.tea.id, 2, Decimal("3.50")),
        (world.mug.id, 2, Decimal("9.50")),
    ]
    assert order.total == Decimal("26.00")
    assert world.store.get_order(order.id).total == Decimal("26.00")


def test_an_order_keeps_the_price_paid_when_the_product_price_changes(world):
    order = world.store.place_order(world.cart.id, world.user.id)

    world.store.update_product(world.tea.id, unit_price="4.00")

    stored = world.store.get_order(order.id)
    assert stored.items[0].unit_price == Decimal("3.50")
    assert stored.total == Decimal("7.00")
    assert world.store.get_product(world.tea.id).unit_price == Decimal("4.00")


def test_an_order_takes_its_items_out_of_stock(world):
    world.store.place_order(world.cart.id, world.user.id)

    assert world.store.stock_levels() == {world.tea.id: 3, world.mug.id: 2}


def test_an_order_deletes_its_cart(world):
    world.store.place_order(world.cart.id, world.user.id)

    with pytest.raises(NotFound, match="Cart .* does not exist"):
        world.store.get_cart(world.cart.id)


def test_an_order_sends_order_created_once_with_the_order(world):
    created = Recorder()

    with order_created.connected_to(created):
        order = world.store.place_order(world.cart.id, world.user.id)

    [call] = created.calls
    assert call["sender"] is Order
    assert call["order"].id == order.id
    assert call["order"].total == Decimal("7.00")


def test_a_placed_order_can_be_read_after_its_session_closed(world):
    order = world.store.place_order(world.cart.id, world.user.id)
    listed = world.store.list_orders()[0]
    fetched = world.store.get_order(order.id)

    for o in (order, listed, fetched):
        assert o.customer.id is not None
        assert o.items[0].product.name == "Green tea"
        assert o.total == Decimal("7.00")
        assert o.customer.user.username == "ada"


def test_cancelling_an_order_puts_its_items_back_and_sends_order_cancelled(world):
    order = world.store.place_order(world.cart.id, world.user.id)
    cancelled = Recorder()

    with order_cancelled.connected_to(cancelled):
        result = world.store.cancel_order(order.id)

    assert result.status == "cancelled"
    assert world.store.get_order(order.id).status == "cancelled"
    assert world.store.stock_levels()[world.tea.id] == 5
    assert [c["order"].id for c in cancelled.calls] == [order.id]


def test_cancelling_an_order_twice_is_refused(world, table_rows):
    order = world.store.place_order(world.cart.id, world.user.id)
    world.store.cancel_order(order.id)
    before = table_rows()
    cancelled = Recorder()

    with order_cancelled.connected_to(cancelled):
        with pytest.raises(InvalidState, match="already cancelled"):
            world.store.cancel_order(order.id)

    assert cancelled.calls == []
    assert table_rows() == before


def test_list_orders_is_newest_first_and_filters_by_user_status_and_limit(world):
    grace = world.store.register_user("grace", "grace@example.com", PASSWORD)
    first = checkout(world, (world.tea, 1))
    cart = world.store.add_to_cart(world.store.create_cart().id, world.mug.id, 1)
    second = world.store.place_order(cart.id, grace.id)
    third = checkout(world, (world.tea, 1))
    world.store.cancel_order(first.id)

    def ids(orders):
        return [o.id for o in orders]

    assert ids(world.store.list_orders()) == [third.id, second.id, first.id]
    assert ids(world.store.list_orders(world.user.id)) == [third.id, first.id]
    assert ids(world.store.list_orders(grace.id)) == [second.id]
    assert ids(world.store.list_orders(status="cancelled")) == [first.id]
    assert ids(world.store.list_orders(limit=1)) == [third.id]


def test_sales_summary_counts_the_orders_that_stand(world):
    assert world.store.sales_summary().orders == 0
    assert world.store.sales_summary().average == Decimal("0.00")
    first = checkout(world, (world.tea, 1))  # 3.50
    checkout(world, (world.mug, 1))  # 9.50
    checkout(world, (world.tea, 1), (world.mug, 1))  # 13.00
    world.store.cancel_order(first.id)

    summary = world.store.sales_summary()

    assert summary.orders == 2
    assert summary.revenue == Decimal("22.50")
    assert summary.average == Decimal("11.25")


# -- refusals: a DomainError with a readable message, and nothing written ----------------


REFUSALS: list[tuple[str, Callable[[World], Any], type[DomainError], str]] = [
    # registration
    (
        "empty username",
        lambda w: w.store.register_user("", "x@example.com", PASSWORD),
        ValidationError,
        "Username is required.",
    ),
    (
        "malformed username",
        lambda w: w.store.register_user("ada lovelace", "x@example.com", PASSWORD),
        ValidationError,
        "Username may contain only",
    ),
    (
        "malformed email",
        lambda w: w.store.register_user("grace", "grace.example.com", PASSWORD),
        ValidationError,
        "Enter a valid email address",
    ),
    (
        "short password",
        lambda w: w.store.register_user("grace", "grace@example.com", "abc12"),
        ValidationError,
        "Password is too short",
    ),
    (
        "numeric password",
        lambda w: w.store.register_user("grace", "grace@example.com", "1234567890"),
        ValidationError,
        "entirely numeric",
    ),
    (
        "password equals username",
        lambda w: w.store.register_user("gracehopper", "grace@example.com", "GraceHopper"),
        ValidationError,
        "same as the username",
    ),
    (
        "duplicate username",
        lambda w: w.store.register_user("ADA", "other@example.com", PASSWORD),
        DuplicateUser,
        "The username 'ADA' is already taken.",
    ),
    (
        "duplicate email in another case",
        lambda w: w.store.register_user("grace", "ADA@Example.COM", PASSWORD),
        DuplicateUser,
        "is already registered",
    ),
    # products
    (
        "negative price",
        lambda w: w.store.add_product("JAM", "Jam", "-1.00", 1),
        ValidationError,
        "Price cannot be negative.",
    ),
    (
        "non-numeric price",
        lambda w: w.store.add_product("JAM", "Jam", "cheap", 1),
        ValidationError,
        "Price must be a number",
    ),
    (
        "price with fractions of a cent",
        lambda w: w.store.add_product("JAM", "Jam", "1.999", 1),
        ValidationError,
        "at most two decimal places",
    ),
    (
        "negative stock",
        lambda w: w.store.add_product("JAM", "Jam", "1.00", -1),
        ValidationError,
        "Stock must be at least 0.",
    ),
    (
        "duplicate SKU",
        lambda w: w.store.add_product("TEA", "Other tea", "1.00", 1),
        ValidationError,
        "already exists",
    ),
    (
        "negative price on update",
        lambda w: w.store.update_product(w.tea.id, unit_price=-2),
        ValidationError,
        "Price cannot be negative.",
    ),
    (
        "unknown product field",
        lambda w: w.store.update_product(w.tea.id, colour="red"),
        ValidationError,
        "Unknown product field",
    ),
    (
        "update of an unknown product",
        lambda w: w.store.update_product(999, name="X"),
        NotFound,
        "Product 999 does not exist.",
    ),
    # carts
    (
        "quantity 0",
        lambda w: w.store.add_to_cart(w.cart.id, w.mug.id, 0),
        ValidationError,
        "Quantity must be at least 1.",
    ),
    (
        "negative quantity",
        lambda w: w.store.add_to_cart(w.cart.id, w.mug.id, -3),
        ValidationError,
        "Quantity must be at least 1.",
    ),
    (
        "quantity that is not a whole number",
        lambda w: w.store.add_to_cart(w.cart.id, w.mug.id, "2"),
        ValidationError,
        "Quantity must be a whole number.",
    ),
    (
        "negative quantity set",
        lambda w: w.store.set_cart_quantity(w.cart.id, w.tea.id, -1),
        ValidationError,
        "Quantity must be at least 0.",
    ),
    (
        "unknown cart",
        lambda w: w.store.add_to_cart(uuid.uuid4(), w.mug.id, 1),
        NotFound,
        "does not exist",
    ),
    (
        "malformed cart id",
        lambda w: w.store.add_to_cart("not-a-cart", w.mug.id, 1),
        NotFound,
        "Cart 'not-a-cart' does not exist.",
    ),
    (
        "unknown product in cart",
        lambda w: w.store.add_to_cart(w.cart.id, 999, 1),
        NotFound,
        "Product 999 does not exist.",
    ),
    (
        "more than the stock in a cart",
        lambda w: w.store.add_to_cart(w.cart.id, w.mug.id, 3),
        OutOfStock,
        "Only 2 of 'Stoneware mug' left in stock; 3 requested.",
    ),
    (
        "removing a product not in the cart",
        lambda w: w.store.remove_from_cart(w.cart.id, w.mug.id),
        NotFound,
        "is not in this cart",
    ),
    # orders
    (
        "unknown user",
        lambda w: w.store.place_order(w.cart.id, 999),
        NotFound,
        "User 999 does not exist.",
    ),
    (
        "user id that is not a number",
        lambda w: w.store.place_order(w.cart.id, "ada"),
        NotFound,
        "User 'ada' does not exist.",
    ),
    (
        "unknown cart at checkout",
        lambda w: w.store.place_order(uuid.uuid4(), w.user.id),
        NotFound,
        "does not exist",
    ),
    (
        "empty cart",
        lambda w: w.store.place_order(w.empty_cart.id, w.user.id),
        EmptyCart,
        "The cart is empty",
    ),
    ("unknown order", lambda w: w.store.cancel_order(999), NotFound, "Order 999 does not exist."),
    ("unknown customer", lambda w: w.store.get_customer(999), NotFound, "User 999 does not exist."),
]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [pytest.param(call, error, message, id=label) for label, call, error, message in REFUSALS],
)
def test_a_bad_request_is_refused_readably_and_writes_nothing(
    world, table_rows, call, error, message
):
    before = table_rows()

    with pytest.raises(error) as excinfo:
        call(world)

    assert message in str(excinfo.value)
    assert table_rows() == before


def test_an_order_for_more_than_the_stock_writes_nothing_and_sends_nothing(world, table_rows):
    world.store.update_product(world.tea.id, inventory=1)  # after the cart was filled
    before = table_rows()
    created = Recorder()

    with order_created.connected_to(created):
        with pytest.raises(OutOfStock) as excinfo:
            world.store.place_order(world.cart.id, world.user.id)

    assert str(excinfo.value) == "Only 1 of 'Green tea' left in stock; 2 requested."
    assert (excinfo.value.requested, excinfo.value.available) == (2, 1)
    assert created.calls == []
    assert table_rows() == before


def test_an_order_whose_last_line_is_short_takes_nothing_out_of_stock(world, table_rows):
    world.store.add_to_cart(world.cart.id, world.mug.id, 2)
    world.store.update_product(world.mug.id, inventory=1)
    before = table_rows()

    with pytest.raises(OutOfStock, match="Stoneware mug"):
        world.store.place_order(world.cart.id, world.user.id)

    assert table_rows() == before
    assert world.store.stock_levels() == {world.tea.id: 5, world.mug.id: 1}


# -- read_between_writes ------------------------------------------------------------


def try_to_write(store: Store) -> str:
    """Take the write lock from another connection, without waiting for it."""
    conn = sqlite3.connect(str(store.url.database), timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return "wrote"
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        conn.close()


def test_read_between_writes_holds_writers_off_while_it_reads_a_sqlite_file(sqlite_store):
    store = sqlite_store  # SQLite's write lock itself: PostgreSQL readers need no pause
    seen = store.read_between_writes(lambda: (try_to_write(store), dispatch.in_transaction()))

    assert seen == ("database is locked", True)
    assert try_to_write(store) == "wrote"


def test_read_between_writes_returns_what_the_read_returned(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)

    assert store.read_between_writes(store.stock_levels) == {tea.id: 5}


def test_read_between_writes_inside_this_threads_own_transaction_reads_at_once(store):
    with store.unit_of_work():
        assert store.read_between_writes(lambda: "read") == "read"


def test_read_between_writes_on_a_memory_database_reads_at_once():
    memory = Store.open("sqlite://")
    try:
        assert memory.read_between_writes(dispatch.in_transaction) is False
    finally:
        memory.close()


def test_each_sqlite_connection_keeps_a_small_page_cache(tmp_path):
    """A till holds several connections; SQLite's default 2 MB cache each
    added up as the file grew (see SQLITE_CACHE_KIB)."""
    from storeapp.domain.store.database import SQLITE_CACHE_KIB

    store = Store.open(f"sqlite:///{tmp_path / 'cache.sqlite3'}")
    try:
        with store.engine.connect() as conn:
            (size,) = conn.exec_driver_sql("PRAGMA cache_size").one()
    finally:
        store.close()
    assert size == -SQLITE_CACHE_KIB
