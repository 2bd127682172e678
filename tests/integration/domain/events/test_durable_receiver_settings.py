"""What a durable receiver may ask of the worker: its own attempts and a
shorter backoff cap, giving up at once, being told each outcome once it is
committed; and what anyone may read or do: the backlog, the dead, a wake."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from storeapp.domain import Store
from storeapp.domain.events.durable import (
    DurableRegistry,
    GiveUp,
    dead_events,
    pending_events,
    progress_of,
)
from storeapp.domain.events.worker import DurableWorker
from tests.integration.domain.events.test_durable import Clock, Recorder, append


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(f"sqlite:///{tmp_path / 'settings.db'}")
    yield s
    s.close()


@pytest.fixture
def receivers() -> DurableRegistry:
    return DurableRegistry()


def test_a_receivers_own_attempts_and_shorter_cap_replace_the_workers(store, receivers):
    got = Recorder(failures=100)
    receivers.connect("order_created", got, "test.orders", max_attempts=5, backoff_cap=3.0)
    first = append(store, "order_created", order_id=1)
    clock = Clock()
    w = DurableWorker(
        store.engine, receivers, clock=clock, max_attempts=2, backoff=1.0, backoff_cap=60.0
    )
    delays = []
    for _ in range(4):
        w.run_once()
        state = progress_of(store.engine, "test.orders")
        delays.append(state.next_try - clock.now)
        clock.now = state.next_try

    assert delays == [1.0, 2.0, 3.0, 3.0]  # capped at the receiver's 3 s, not 60
    assert progress_of(store.engine, "test.orders").dead == ()  # 2 attempts were not enough
    w.run_once()
    assert [d.event_id for d in dead_events(store.engine, "test.orders")] == [first]
    assert len(got.calls) == 5


def test_a_receiver_cannot_lengthen_the_workers_cap(store, receivers):
    receivers.connect("order_created", Recorder(failures=100), "test.orders", backoff_cap=600.0)
    append(store, "order_created", order_id=1)
    clock = Clock()
    w = DurableWorker(store.engine, receivers, clock=clock, backoff=100.0, backoff_cap=5.0)
    w.run_once()
    assert progress_of(store.engine, "test.orders").next_try == clock.now + 5.0


def test_give_up_parks_the_event_at_once_and_the_next_one_goes_on(store, receivers):
    calls: list[int] = []

    def refuse_the_first(event_id: int, payload: dict[str, Any], **kwargs: Any) -> None:
        calls.append(event_id)
        if payload["order_id"] == 1:
            raise GiveUp("the mail server refused the recipient")

    receivers.connect("order_created", refuse_the_first, "test.orders")
    first = append(store, "order_created", order_id=1)
    second = append(store, "order_created", order_id=2)
    DurableWorker(store.engine, receivers, clock=Clock(), max_attempts=8).run_once()

    assert calls == [first, second]
    [dead] = dead_events(store.engine, "test.orders")
    assert (dead.event_id, dead.attempts, dead.retry) == (first, 1, False)
    assert "refused the recipient" in dead.error


def test_on_change_is_told_each_outcome_after_it_is_committed(store, receivers):
    seen: list[tuple[int, str, int, int]] = []

    def on_change(event_id: int, outcome: str) -> None:
        state = progress_of(store.engine, "test.orders")
        seen.append((event_id, outcome, state.cursor, state.attempts))

    receivers.connect(
        "order_created", Recorder(failures=2), "test.orders", max_attempts=2, on_change=on_change
    )
    first = append(store, "order_created", order_id=1)
    second = append(store, "order_created", order_id=2)
    clock = Clock()
    w = DurableWorker(store.engine, receivers, clock=clock, backoff=1.0)
    w.run_once()
    clock.now += 10
    w.run_once()

    assert seen == [
        (first, "retrying", 0, 1),
        (first, "dead", first, 0),
        (second, "done", second, 0),
    ]


def test_pending_events_counts_the_backlog_and_lists_its_head(store, receivers):
    receivers.connect("order_created", Recorder(), "test.orders")
    ids = [append(store, "order_created", order_id=n) for n in range(5)]
    append(store, "user_registered", user_id=1)

    count, head = pending_events(store.engine, "test.orders", "order_created", 2)
    assert (count, [e.id for e in head]) == (5, ids[:2])

    w = DurableWorker(store.engine, receivers, clock=Clock(), batch=3)
    w.run_once()
    count, head = pending_events(store.engine, "test.orders", "order_created", 10)
    assert (count, [e.id for e in head]) == (2, ids[3:])
    assert head[0].payload == {"order_id": 3}


def test_the_registry_wakes_its_running_workers(store, receivers):
    delivered: list[threading.Event] = [threading.Event(), threading.Event()]
    receivers.connect(
        "order_created", lambda payload, **kw: delivered[payload["n"]].set(), "test.orders"
    )
    append(store, "order_created", n=0)
    w = DurableWorker(store.engine, receivers, poll=30.0)
    w.start()
    try:
        assert delivered[0].wait(10)  # its first pass; it now sleeps for 30 s
        append(store, "order_created", n=1)
        receivers.wake()
        assert delivered[1].wait(10)
    finally:
        w.stop()
    receivers.wake()  # a stopped worker is no longer woken (and nothing fails)


def test_max_attempts_below_one_is_refused(receivers):
    with pytest.raises(ValueError, match="max_attempts"):
        receivers.connect("order_created", Recorder(), "test.orders", max_attempts=0)
