"""Receivers that raise never cost an order, nor another receiver its call.

``order_created`` is sent with ``send_robust`` and after-commit receivers run
one by one after the commit: whatever a receiver raises (any exception type,
even one that cannot be printed), the order is in the database, every healthy
receiver ran exactly once per order, and each failure is logged once, on
``storeapp.signals`` at ERROR, by a log call that does not itself raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from storeapp.domain import OutOfStock, Store, dispatch
from storeapp.domain.signals import order_created
from storeapp.listeners import core

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Seed

PRODUCT = 4  # the seed's teapot: 50 in stock, plenty for these tests
ORDERS = 2


class Unprintable(Exception):
    """An exception whose str() and repr() raise."""

    def __str__(self) -> str:
        raise RuntimeError("str() of this exception fails")

    def __repr__(self) -> str:
        raise RuntimeError("repr() of this exception fails")


class StrNotStr(Exception):
    """An exception whose __str__ returns something other than a str."""

    def __str__(self) -> str:
        return 42  # type: ignore[return-value]


EXCEPTIONS: dict[str, Callable[[], BaseException]] = {
    "ValueError": lambda: ValueError("bad value"),
    "RuntimeError": RuntimeError,
    "KeyError": lambda: KeyError("missing"),
    "ZeroDivisionError": lambda: ZeroDivisionError("division by zero"),
    "DomainError": lambda: OutOfStock("Teapot", 5, 1),
    "OperationalError": lambda: OperationalError("SELECT 1", {}, Exception("database is locked")),
    "surrogate message": lambda: ValueError("bad \ud800 text"),
    "StrNotStr": StrNotStr,
    "Unprintable": Unprintable,
}


class Receiver:
    """A named receiver that records the order ids it was called with."""

    def __init__(self, name: str, raises: Callable[[], BaseException] | None = None) -> None:
        self.name = name
        self.raises = raises
        self.orders: list[int] = []

        def receive(sender: Any, order: Any, **kwargs: Any) -> None:
            self.orders.append(order.id)
            if self.raises is not None:
                raise self.raises()

        receive.__qualname__ = receive.__name__ = name
        self.fn = receive


@contextmanager
def connected(receivers: list[tuple[Receiver, bool]]) -> Iterator[None]:
    """Connect ``(receiver, on_commit)`` pairs in order; disconnect after."""
    with ExitStack() as stack:
        for rec, on_commit in receivers:
            order_created.connect(rec.fn, on_commit=on_commit, weak=False)
            stack.callback(order_created.disconnect, rec.fn)
        yield


class Collect(logging.Handler):
    """Keeps each record and formats it at once, so a bad one raises here."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.format(record)  # includes the traceback of exc_info


@contextmanager
def collecting(logger_name: str) -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


def place_orders(store: Store, user_id: int, n: int) -> list[int]:
    ids = []
    for _ in range(n):
        cart = store.create_cart()
        store.add_to_cart(cart.id, PRODUCT, 1)
        ids.append(store.place_order(cart.id, user_id).id)
    return ids


def orders_in_db(store: Store) -> set[int]:
    other = create_engine(store.engine.url)  # a connection of its own, not the pool's
    try:
        with other.connect() as conn:
            return {oid for (oid,) in conn.execute(text("SELECT id FROM orders"))}
    finally:
        other.dispose()


failing = st.lists(
    st.tuples(st.sampled_from(sorted(EXCEPTIONS)), st.booleans()),
    max_size=5,
)


@settings(max_examples=30, deadline=None)
@given(failing=failing, data=st.data())
def test_every_order_lands_whatever_the_receivers_raise(
    seed: Seed,
    clone_store: Callable[..., AbstractContextManager[Store]],
    failing: list[tuple[str, bool]],
    data: st.DataObject,
) -> None:
    bad = [
        (Receiver(f"failing_{i}_{kind.replace(' ', '_')}", EXCEPTIONS[kind]), on_commit)
        for i, (kind, on_commit) in enumerate(failing)
    ]
    healthy = [(Receiver("healthy_now"), False), (Receiver("healthy_after_commit"), True)]
    receivers = data.draw(st.permutations(bad + healthy), label="connection order")
    core.ready()  # its order log runs too, as in the app
    with clone_store() as store, connected(receivers), collecting("storeapp.signals") as log:
        placed = place_orders(store, seed.users["alice"], ORDERS)
        assert orders_in_db(store) >= set(placed)
    for rec, _ in healthy + bad:
        assert rec.orders == placed, f"{rec.name} was not called once per order"
    assert len(log.records) == len(bad) * ORDERS, "each failure is logged exactly once"
    for record in log.records:
        assert record.levelno == logging.ERROR
        assert record.exc_info is not None
    messages = [record.getMessage() for record in log.records]
    for rec, _ in bad:  # each names the receiver that failed
        assert sum(f"{rec.name} " in m for m in messages) == ORDERS, rec.name


@pytest.mark.parametrize("on_commit", [False, True], ids=["immediate", "after_commit"])
@pytest.mark.parametrize("kind", sorted(EXCEPTIONS))
def test_failure_is_logged_once_and_the_order_lands(
    seed: Seed,
    seeded_store: Store,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    on_commit: bool,
) -> None:
    caplog.set_level(logging.ERROR, logger="storeapp.signals")
    failing = Receiver("failing_receiver", EXCEPTIONS[kind])
    before = Receiver("healthy_before")
    after = Receiver("healthy_after")
    with connected([(before, on_commit), (failing, on_commit), (after, on_commit)]):
        placed = place_orders(seeded_store, seed.users["alice"], 1)
    assert orders_in_db(seeded_store) == set(placed)
    assert before.orders == failing.orders == after.orders == placed
    errors = [r for r in caplog.records if r.name == "storeapp.signals"]
    assert len(errors) == 1
    assert "failing_receiver" in errors[0].getMessage()
    logging.Formatter().format(errors[0])  # the traceback formats too


def test_a_new_receiver_starts_with_no_failure_streak() -> None:
    """Streaks are keyed by the receiver's address (``make_id``), which a new
    receiver may reuse once the old one is gone. Deterministic form: the
    streak is forgotten when the receiver is disconnected, so nothing is
    left for a newcomer at that address to inherit."""

    def receive(sender: Any, order: Any, **kwargs: Any) -> None:
        raise ValueError("boom")

    order = SimpleNamespace(id=1)
    order_created.connect(receive, weak=False)
    with logging_disabled():
        order_created.send_robust(None, order=order)
        order_created.send_robust(None, order=order)
    assert dispatch.failure_streak(receive) == 2
    order_created.disconnect(receive)
    assert dispatch.failure_streak(receive) == 0


@contextmanager
def logging_disabled() -> Iterator[None]:
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)
