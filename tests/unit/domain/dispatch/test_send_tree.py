"""Where each observed send came from, and which send it was made inside:
``SendRecord.origin``/``via`` (the call site) and ``parent``/``depth``/
``within`` (the causal tree), handed to the observer parents first. Also
what a record keeps of the arguments, and the skipped receivers it reuses.
No Qt, no database."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverStatus, SendRecord, Signal
from storeapp.domain.dispatch.callsite import relative_path
from storeapp.domain.signals import receiver_failed
from tests.unit.domain.dispatch.fakes import Boom

HERE = relative_path(__file__)


class Observer:
    def __init__(self) -> None:
        self.records: list[SendRecord] = []

    def sent(self, record: SendRecord) -> None:
        self.records.append(record)

    def updated(self, record: SendRecord) -> None:
        pass

    def named(self, signal: str) -> SendRecord:
        (found,) = [r for r in self.records if r.signal == signal]
        return found


@pytest.fixture
def observer() -> Iterator[Observer]:
    watching = Observer()
    dispatch.set_observer(watching)
    yield watching
    dispatch.set_observer(None)


@pytest.fixture(autouse=True)
def quiet_signal_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="storeapp.signals")


class Till:
    def __init__(self, signal: Signal) -> None:
        self.signal = signal

    def checkout(self) -> int:
        self.signal.send_robust(self, order=1)
        return sys._getframe().f_lineno - 1

    def quietly(self) -> int:
        self.signal.send(self)
        return sys._getframe().f_lineno - 1


def test_a_record_says_which_function_file_and_line_sent_it_and_how(
    observer: Observer,
) -> None:
    signal = Signal(name="order_created")
    till = Till(signal)
    robust_line = till.checkout()
    plain_line = till.quietly()

    robust, plain = observer.records
    assert robust.origin == f"Till.checkout ({HERE}:{robust_line})"
    assert robust.via == "send_robust"
    assert plain.origin == f"Till.quietly ({HERE}:{plain_line})"
    assert plain.via == "send"
    assert HERE == "tests/unit/domain/dispatch/test_send_tree.py"  # relative to the repository
    assert robust.call_site == f"{robust.origin} via send_robust"


def test_a_send_made_by_a_receiver_is_a_child_of_the_send_that_ran_it(
    observer: Observer,
) -> None:
    user_saved, customer_saved = Signal(name="user_saved"), Signal(name="customer_saved")

    def create_customer(sender: Any, **kwargs: Any) -> None:
        customer_saved.send("Customer", created=True)

    user_saved.connect(create_customer, weak=False)
    user_saved.send("User", created=True)
    user_saved.send("User", created=False)  # a second family

    outer, inner, second, second_inner = observer.records  # parents first, in order
    assert (outer.signal, inner.signal) == ("user_saved", "customer_saved")
    assert outer.seq < inner.seq  # the seq is taken when a send begins
    assert (outer.parent, outer.depth, outer.within) == (None, 0, None)
    assert (inner.parent, inner.depth) == (outer.seq, 1)
    assert inner.within is not None and inner.within.endswith("create_customer")
    assert inner.origin.startswith("test_a_send_made_by_a_receiver_is_a_child_of_the_send")
    assert "create_customer" in inner.origin
    assert second_inner.parent == second.seq


def test_receiver_failed_comes_after_the_send_whose_receiver_failed(
    observer: Observer,
) -> None:
    order_created = Signal(name="order_created")

    def broken(**kwargs: Any) -> None:
        raise Boom("no stock")

    order_created.connect(broken, weak=False)
    Till(order_created).checkout()

    names = [r.signal for r in observer.records]
    assert names == ["order_created", receiver_failed.name]  # cause, then effect
    failure = observer.named(receiver_failed.name)
    cause = observer.named("order_created")
    assert failure.parent == cause.seq and failure.depth == 1
    assert failure.within is None  # the send loop sent it, not a receiver
    assert "Till.checkout" in failure.origin


def test_three_levels_deep_and_siblings_come_in_the_order_they_were_sent(
    observer: Observer,
) -> None:
    a, b, c = Signal(name="a"), Signal(name="b"), Signal(name="c")
    b.connect(lambda **kw: c.send("x"), weak=False)
    a.connect(lambda **kw: (b.send("x"), c.send("y")), weak=False)
    a.send("x")

    got = [(r.signal, r.depth, r.sender) for r in observer.records]
    assert got == [("a", 0, "'x'"), ("b", 1, "'x'"), ("c", 2, "'x'"), ("c", 1, "'y'")]
    seqs = {(r.signal, r.sender): r.seq for r in observer.records}
    parents = [r.parent for r in observer.records]
    assert parents == [None, seqs[("a", "'x'")], seqs[("b", "'x'")], seqs[("a", "'x'")]]


def test_a_send_that_raises_still_reaches_the_observer_with_its_children(
    observer: Observer,
) -> None:
    outer, inner = Signal(name="outer"), Signal(name="inner")

    def sends_then_raises(**kwargs: Any) -> None:
        inner.send("x")
        raise Boom("after sending")

    outer.connect(sends_then_raises, weak=False)
    with pytest.raises(Boom):
        outer.send("x")
    assert [(r.signal, r.depth) for r in observer.records] == [("outer", 0), ("inner", 1)]
    assert observer.records[0].calls[0].status is ReceiverStatus.ERROR


def test_sends_in_other_threads_are_not_children_of_this_threads_send(
    observer: Observer,
) -> None:
    import threading

    outer, elsewhere = Signal(name="outer"), Signal(name="elsewhere")

    def start_a_thread(**kwargs: Any) -> None:
        worker = threading.Thread(target=lambda: elsewhere.send("x"))
        worker.start()
        worker.join()

    outer.connect(start_a_thread, weak=False)
    outer.send("x")
    other = observer.named("elsewhere")
    assert (other.parent, other.depth) == (None, 0)


class Model:
    """Stands for an ORM instance: its repr reads its (changing) state."""

    def __init__(self) -> None:
        self.status = "placed"

    def __repr__(self) -> str:
        return f"<Model status={self.status}>"


def test_arguments_are_kept_as_they_were_during_the_send_and_formatted_when_read(
    observer: Observer,
) -> None:
    signal = Signal(name="probe")
    instance = Model()
    signal.send("x", instance=instance, n=2, total=Decimal("1.50"), none=None)
    instance.status = "cancelled"  # later changes must not show

    record = observer.records[0]
    assert record._kwargs["n"] == 2  # plain values wait, unformatted
    assert record.kwargs == (
        "instance=<Model status=placed>, n=2, total=Decimal('1.50'), none=None"
    )
    assert record.kwargs is record.kwargs  # formatted once
    assert SendRecord(1, 0.0, "s", "x", "given=1", True, "t").kwargs == "given=1"


def test_a_model_instance_shows_as_its_own_repr_of_the_values_it_had_during_the_send(
    observer: Observer,
) -> None:
    from storeapp.domain.models import OrderItem

    signal = Signal(name="post_save")
    item = OrderItem(product_id=3, quantity=2, unit_price=Decimal("4.50"))
    then = repr(item)
    signal.send(OrderItem, instance=item, created=True)
    item.quantity = 7  # the instance changes after the send

    record = observer.records[0]
    assert "instance" in record._kwargs and record._kwargs["instance"] is not item
    assert record.kwargs == f"instance={then}, created=True"


def test_only_the_columns_a_models_repr_shows_are_kept(observer: Observer) -> None:
    from storeapp.domain.models import User

    signal = Signal(name="pre_save")
    user = User(id=4, username="ada", email="ada@example.com", password_hash="pbkdf2$secret")
    signal.send(User, instance=user)

    kept = observer.records[0]._kwargs["instance"]
    assert sorted(kept.values) == ["id", "username"]  # what User.__repr__ reads
    assert "secret" not in repr(vars(kept) if hasattr(kept, "__dict__") else kept.values)
    assert observer.records[0].kwargs == f"instance={user!r}"


def test_skipped_receivers_follow_connections_made_for_other_senders(
    observer: Observer,
) -> None:
    class User:
        pass

    class Order:
        pass

    signal = Signal(name="post_save")

    def for_users(**kwargs: Any) -> None:
        pass

    def for_orders(**kwargs: Any) -> None:
        pass

    signal.connect(for_users, sender=User, weak=False)
    signal.send(Order)
    signal.send(Order)
    signal.connect(for_orders, sender=Order, weak=False)
    signal.disconnect(for_users, sender=User)
    signal.connect(for_users, sender=Order, weak=False)
    signal.send(Order)

    def labels(record: SendRecord) -> list[str]:
        return [f"{c.receiver.rsplit('.', 1)[-1]}: {c.label}" for c in record.calls]

    first, again, after = observer.records
    assert labels(first) == ["for_users: skipped: sender filter (User)"]
    assert labels(again) == labels(first)
    assert labels(after) == ["for_orders: ok", "for_users: ok"]
