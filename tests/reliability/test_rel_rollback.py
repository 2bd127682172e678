"""A refused checkout writes nothing and runs no after-commit receiver.

Hypothesis builds carts through the Store from valid and invalid lines
(unknown products, quantities of 0 or below, more than is in stock), lowers
some stock afterwards, and checks out. A model of the cart and the stock
predicts each outcome; every refusal must leave every table as it was, and
every success must be announced exactly once by ``order_created``, to the
immediate receiver during the transaction and to the after-commit receiver
once the order is visible to another connection.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from storeapp.domain import (
    DomainError,
    EmptyCart,
    NotFound,
    OutOfStock,
    Store,
    ValidationError,
    dispatch,
)
from storeapp.domain.models import CartItem, OrderItem
from storeapp.domain.signals import order_created, post_save, pre_delete

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Seed

UNKNOWN_IDS = (0, -1, 999)
SETTINGS = settings(max_examples=60, deadline=None)

# Mostly valid lines (so that checkouts happen), with the invalid ones mixed in.
lines = st.lists(
    st.tuples(
        st.sampled_from((1, 2, 3, 4) * 3 + UNKNOWN_IDS),
        st.one_of(st.integers(1, 3), st.integers(min_value=-2, max_value=8)),
    ),
    max_size=6,
)
restock = st.dictionaries(st.sampled_from((1, 2, 3, 4)), st.integers(0, 6), max_size=3)


def noop(sender: Any, **kwargs: Any) -> None:
    pass


class Abort(BaseException):
    """Not an Exception: send_robust lets it through and the checkout fails."""


class Heard:
    """Order ids heard by a receiver, and what it could see at that moment."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.orders: list[int] = []
        self.in_transaction: list[bool] = []
        self.visible_elsewhere: list[bool] = []

    def __call__(self, sender: Any, order: Any, **kwargs: Any) -> None:
        self.orders.append(order.id)
        self.in_transaction.append(dispatch.in_transaction())
        # Another connection than the transaction's (a new engine: not the pool's).
        other = create_engine(self.store.engine.url)
        try:
            with other.connect() as conn:
                row = conn.execute(
                    text("SELECT 1 FROM orders WHERE id = :id"), {"id": order.id}
                ).first()
        finally:
            other.dispose()
        self.visible_elsewhere.append(row is not None)


@SETTINGS
@given(
    lines=lines,
    restock=restock,
    sabotage=st.integers(0, 4).map(lambda n: n == 0),
    model_listeners=st.booleans(),
)
def test_checkout_is_all_or_nothing(
    seed: Seed,
    clone_store: Callable[..., AbstractContextManager[Store]],
    snapshot: Callable[[Store], dict[str, list[tuple[Any, ...]]]],
    lines: list[tuple[int, int]],
    restock: dict[int, int],
    sabotage: bool,
    model_listeners: bool,
) -> None:
    """``model_listeners``: someone listens to the save/delete signals of order
    items and cart items, so place_order writes the order through the ORM and
    sends the cart's delete signals, instead of its silent plain-INSERT/DELETE
    fast path; both must be all-or-nothing."""
    assert seed.product_ids == [1, 2, 3, 4]  # the ids the strategies draw from
    user_id = seed.users["alice"]
    with clone_store() as store:
        stock = dict(seed.stock)
        cart = store.create_cart()
        in_cart: dict[int, int] = {}

        # Build the cart; every refused line must write nothing.
        for product_id, quantity in lines:
            before = snapshot(store)
            wanted = in_cart.get(product_id, 0) + quantity
            try:
                store.add_to_cart(cart.id, product_id, quantity)
            except DomainError as err:
                assert snapshot(store) == before
                if product_id not in stock and quantity < 1:
                    assert isinstance(err, (NotFound, ValidationError))
                elif product_id not in stock:
                    assert isinstance(err, NotFound)
                elif quantity < 1:
                    assert isinstance(err, ValidationError)
                else:
                    assert isinstance(err, OutOfStock)
                    assert wanted > stock[product_id]
            else:
                assert product_id in stock and quantity >= 1
                assert wanted <= stock[product_id]
                in_cart[product_id] = wanted

        for product_id, inventory in restock.items():
            store.update_product(product_id, inventory=inventory)
            stock[product_id] = inventory

        immediate = Heard(store)
        after_commit = Heard(store)

        def saboteur(sender: Any, order: Any, **kwargs: Any) -> None:
            # Something send_robust does not catch (a BaseException, like a
            # KeyboardInterrupt), raised after order_created was sent.
            raise Abort("checkout interrupted after order_created")

        fits = all(q <= stock[p] for p, q in in_cart.items())
        before = snapshot(store)
        order_created.connect(after_commit, on_commit=True, weak=False)
        if model_listeners:
            post_save.connect(noop, sender=OrderItem, weak=False)
            pre_delete.connect(noop, sender=CartItem, weak=False)
        if sabotage:
            order_created.connect(saboteur, weak=False)
        try:
            with order_created.connected_to(immediate):
                try:
                    order = store.place_order(cart.id, user_id)
                except (DomainError, Abort) as err:
                    event(f"checkout refused: {type(err).__name__}")
                    assert snapshot(store) == before, "a refused checkout wrote something"
                    assert after_commit.orders == [], "after-commit receiver ran on rollback"
                    if not in_cart:
                        assert isinstance(err, EmptyCart)
                    elif not fits:
                        assert isinstance(err, OutOfStock)
                    else:
                        assert sabotage and isinstance(err, Abort)
                    if isinstance(err, DomainError):
                        assert immediate.orders == []
                    # Nothing is left half-open: the store takes the next write.
                    assert not dispatch.in_transaction()
                    store.create_cart()
                else:
                    event("checkout succeeded")
                    assert not dispatch.in_transaction()
                    assert in_cart and fits and not sabotage
                    assert immediate.orders == [order.id]
                    assert immediate.in_transaction == [True]
                    assert immediate.visible_elsewhere == [False]
                    assert after_commit.orders == [order.id]
                    assert after_commit.in_transaction == [False]
                    assert after_commit.visible_elsewhere == [True]
                    assert store.stock_levels() == {p: stock[p] - in_cart.get(p, 0) for p in stock}
                    assert sorted((i.product_id, i.quantity) for i in order.items) == sorted(
                        in_cart.items()
                    )
                    assert order.total == sum(
                        (seed.prices[p] * q for p, q in in_cart.items()), Decimal("0")
                    )
                    after = snapshot(store)
                    assert len(after["orders"]) == len(before["orders"]) + 1
                    assert len(after["carts"]) == len(before["carts"]) - 1
        finally:
            order_created.disconnect(after_commit)
            order_created.disconnect(saboteur)
            post_save.disconnect(noop, sender=OrderItem)
            pre_delete.disconnect(noop, sender=CartItem)
