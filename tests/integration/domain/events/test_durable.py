"""Durable receivers: every committed event delivered, in order, at least
once, across restarts and between workers; failures retried, then parked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import insert

from storeapp.domain import Store
from storeapp.domain.dispatch import instrumentation
from storeapp.domain.dispatch.records import ReceiverStatus
from storeapp.domain.events.durable import DurableRegistry, progress_of, retry_dead
from storeapp.domain.events.log import EVENTS
from storeapp.domain.events.worker import DurableWorker
from storeapp.domain.models import utcnow


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = Store.open(db_url)
    yield s
    s.close()


def append(store: Store, signal: str, **payload: Any) -> int:
    with store.engine.begin() as conn:
        result = conn.execute(
            insert(EVENTS).values(
                signal=signal, sender="Order", payload=payload, terminal="test", at=utcnow()
            )
        )
        return int(result.inserted_primary_key[0])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    """A durable receiver that fails on demand and records every call."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[int, int, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, signal, sender, event_id, payload, attempt, **kwargs):
        with self.lock:
            self.calls.append((event_id, attempt, payload))
        if self.failures:
            self.failures -= 1
            raise RuntimeError(f"relay down for event {event_id}")

    @property
    def events(self) -> list[int]:
        return [event_id for event_id, _a, _p in self.calls]


@pytest.fixture
def receivers() -> DurableRegistry:
    return DurableRegistry()


def worker(store: Store, receivers: DurableRegistry, **kwargs: Any) -> DurableWorker:
    kwargs.setdefault("clock", Clock())
    return DurableWorker(store.engine, receivers, **kwargs)


def test_each_committed_event_of_its_signal_reaches_the_receiver_once_in_order(store, receivers):
    got = Recorder()
    receivers.connect("order_created", got, "test.orders")
    first = append(store, "order_created", order_id=1)
    append(store, "user_registered", user_id=7)
    second = append(store, "order_created", order_id=2)
    w = worker(store, receivers)

    w.run_once()
    w.run_once()

    assert got.calls == [(first, 1, {"order_id": 1}), (second, 1, {"order_id": 2})]
    assert progress_of(store.engine, "test.orders").cursor == second


def test_a_restart_goes_on_where_the_last_worker_stopped(store, receivers):
    got = Recorder()
    receivers.connect("order_created", got, "test.orders")
    append(store, "order_created", order_id=1)
    first = worker(store, receivers)
    first.run_once()
    first.stop()  # a clean exit gives the claim back
    later = append(store, "order_created", order_id=2)

    worker(store, receivers, owner="the next start").run_once()  # a new process, say

    assert got.events == [later - 1, later]


def test_a_failure_is_retried_with_growing_delays_and_the_next_event_waits(store, receivers):
    got = Recorder(failures=2)
    receivers.connect("order_created", got, "test.orders")
    first = append(store, "order_created", order_id=1)
    second = append(store, "order_created", order_id=2)
    clock = Clock()
    w = worker(store, receivers, clock=clock, backoff=1.0)

    w.run_once()
    w.run_once()  # backing off: nothing runs
    assert got.calls == [(first, 1, {"order_id": 1})]
    state = progress_of(store.engine, "test.orders")
    assert state.attempts == 1 and state.next_try == clock.now + 1.0
    assert "relay down" in state.last_error

    clock.now += 1.0
    w.run_once()
    assert progress_of(store.engine, "test.orders").next_try == clock.now + 2.0
    clock.now += 2.0
    w.run_once()

    assert got.events == [first, first, first, second]
    assert [attempt for _e, attempt, _p in got.calls] == [1, 2, 3, 1]
    assert progress_of(store.engine, "test.orders").cursor == second


def test_after_max_attempts_the_event_is_dead_the_rest_goes_on_and_a_retry_by_hand_runs_it(
    store, receivers
):
    got = Recorder(failures=3)
    receivers.connect("order_created", got, "test.orders")
    first = append(store, "order_created", order_id=1)
    second = append(store, "order_created", order_id=2)
    clock = Clock()
    w = worker(store, receivers, clock=clock, max_attempts=3, backoff=1.0)
    for _ in range(3):
        w.run_once()
        clock.now += 10

    state = progress_of(store.engine, "test.orders")
    assert state.dead == (first,)
    assert got.events == [first, first, first, second]

    assert retry_dead(store.engine, "test.orders", first)
    w.run_once()

    assert got.events[-1] == first
    assert progress_of(store.engine, "test.orders").dead == ()
    assert not retry_dead(store.engine, "test.orders", first)  # no longer dead


def test_two_workers_never_run_one_receiver_at_once_and_deliver_each_event_once(store, receivers):
    got = Recorder()
    receivers.connect("order_created", got, "test.orders")
    ids = [append(store, "order_created", order_id=n) for n in range(40)]
    a = worker(store, receivers, owner="till-a", batch=5, lease=60)
    b = worker(store, receivers, owner="till-b", batch=5, lease=60)

    a.run_once()
    assert not b.run_once()  # a holds the claim
    a.release_all()
    while b.run_once():
        pass

    assert got.events == ids


def test_a_crashed_workers_claim_comes_back_when_its_lease_runs_out(store, receivers):
    got = Recorder()
    receivers.connect("order_created", got, "test.orders")
    append(store, "order_created", order_id=1)
    clock = Clock()
    crashed = worker(store, receivers, owner="far-away-host:1:x", clock=clock, lease=15)
    assert crashed.leases.claim("test.orders")  # it took the claim, then died
    later = append(store, "order_created", order_id=2)
    other = worker(store, receivers, owner="till-b", clock=clock, lease=15)

    assert not other.run_once()
    clock.now += 16
    other.run_once()

    assert got.events == [later - 1, later]


def test_a_claim_of_a_process_of_this_machine_that_is_gone_is_taken_at_once(store, receivers):
    import socket
    import subprocess
    import sys

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    owner = f"{socket.gethostname()}:{gone.stdout.strip()}:x"
    got = Recorder()
    receivers.connect("order_created", got, "test.orders")
    append(store, "order_created", order_id=1)
    assert worker(store, receivers, owner=owner).leases.claim("test.orders")

    assert worker(store, receivers, owner="restarted").run_once()
    assert len(got.events) == 1


def test_the_thread_delivers_soon_after_a_wake_and_stops_cleanly(store, receivers):
    got = Recorder()
    delivered = threading.Event()

    def receiver(**kwargs):
        got(**kwargs)
        delivered.set()

    receivers.connect("order_created", receiver, "test.orders")
    w = DurableWorker(store.engine, receivers, poll=30.0)
    w.start()
    try:
        append(store, "order_created", order_id=1)
        w.wake()
        assert delivered.wait(10)
    finally:
        w.stop()

    assert progress_of(store.engine, "test.orders").owner is None  # released on stop


def test_a_durable_receiver_needs_a_stable_name(receivers):
    with pytest.raises(ValueError, match="stable name"):
        receivers.connect("order_created", Recorder(), "")


def test_an_idle_worker_writes_nothing(store, receivers):
    """With nothing due, a pass only reads: no claim takes the tills' write lock."""
    receivers.connect("order_created", Recorder(), "test.orders")
    append(store, "user_registered", user_id=1)  # not its signal
    w = worker(store, receivers)

    assert not w.run_once()
    w.stop()

    assert progress_of(store.engine, "test.orders") is None


class Observer:
    """A dispatch observer that keeps what it is shown."""

    def __init__(self) -> None:
        self.records: list[Any] = []

    def sent(self, record: Any) -> None:
        self.records.append(record)

    def sent_all(self, records: list[Any]) -> None:
        self.records.extend(records)


def test_the_inspector_sees_each_delivery_as_its_own_row_with_event_attempt_and_outcome(
    store, receivers
):
    got = Recorder(failures=2)
    receivers.connect("order_created", got, "test.orders")
    first = append(store, "order_created", order_id=1)
    clock = Clock()
    w = worker(store, receivers, clock=clock, max_attempts=2, backoff=1.0)
    seen = Observer()
    instrumentation.set_observer(seen)
    try:
        w.run_once()
        clock.now += 10
        w.run_once()
        retry_dead(store.engine, "test.orders", first)
        w.run_once()
    finally:
        instrumentation.set_observer(None)

    rows = [(r.origin, r.via, r.calls[0].status) for r in seen.records]
    assert rows == [
        (f"event log #{first}, attempt 1", "durable delivery", ReceiverStatus.RETRYING),
        (f"event log #{first}, attempt 2", "durable delivery", ReceiverStatus.DEAD),
        (f"event log #{first}, attempt 3", "durable delivery", ReceiverStatus.DELIVERED),
    ]
    failed = seen.records[0]
    assert failed.signal == "order_created" and failed.sender == "Order"
    assert "relay down" in failed.calls[0].error and "RuntimeError" in failed.calls[0].traceback
    assert failed.calls[0].receiver.endswith("Recorder")
    assert f"event_id={first}" in failed.kwargs
