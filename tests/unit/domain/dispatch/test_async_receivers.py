"""Async receivers: run by send/send_robust in a loop of their own, awaited by
asend/asend_robust, with storeapp's bookkeeping (errors logged and counted,
muting, on_commit receivers) as for sync receivers. (What Django itself
answers is in test_django_parity_async.py.)"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import DEFERRED, Signal
from storeapp.domain.signals import receiver_failed
from tests.unit.domain.dispatch.fakes import Boom, Recorder


class AsyncRecorder:
    """Its ``receive`` is an async receiver that records each call's keyword
    arguments. (An object with an ``async def __call__`` is not one: Django,
    and so storeapp, call it as a sync receiver.)"""

    def __init__(self, returns: object = None, raises: Exception | None = None) -> None:
        self.calls: list[dict[str, object]] = []
        self.returns = returns
        self.raises = raises

    async def receive(self, **kwargs: object) -> object:
        self.calls.append(kwargs)
        await asyncio.sleep(0)
        if self.raises is not None:
            raise self.raises
        return self.returns


async def waits_for_the_loop(**kwargs: Any) -> str:
    await asyncio.sleep(0)
    return "awaited"


def test_connect_marks_an_async_def_receiver_as_async():
    signal = Signal()
    rec = AsyncRecorder()
    signal.connect(waits_for_the_loop)
    signal.connect(rec.receive)  # a bound async method

    assert [i.is_async for i in signal.receivers_info()] == [True, True]
    assert signal.has_async


def test_an_async_receiver_without_kwargs_is_refused():
    async def no_kwargs(sender):
        pass

    with pytest.raises(ValueError, match="keyword arguments"):
        Signal().connect(no_kwargs)


def test_an_async_receiver_cannot_wait_for_the_commit():
    signal = Signal()

    with pytest.raises(ValueError, match="on_commit"):
        signal.connect(waits_for_the_loop, on_commit=True)
    assert not signal.receivers


def test_send_gets_the_responses_of_sync_receivers_then_async_ones():
    signal = Signal()
    sync = Recorder(returns="sync")
    signal.connect(waits_for_the_loop)
    signal.connect(sync)

    assert signal.send("till-1", order=7) == [(sync, "sync"), (waits_for_the_loop, "awaited")]
    assert sync.calls == [{"signal": signal, "sender": "till-1", "order": 7}]


def test_send_leaves_the_threads_event_loop_as_it_was():
    signal = Signal()
    signal.connect(waits_for_the_loop)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        signal.send("x")
        assert asyncio.get_event_loop_policy().get_event_loop() is loop
    finally:
        asyncio.set_event_loop(None)
        loop.close()


def test_send_inside_a_running_loop_says_to_await_asend():
    signal = Signal()
    sync = Recorder()
    signal.connect(sync)
    signal.connect(waits_for_the_loop)

    async def main() -> None:
        signal.send("x")

    with pytest.raises(RuntimeError, match="asend"):
        asyncio.run(main())
    assert sync.senders == ["x"]  # as in Django, the sync receivers ran first


def test_send_robust_logs_an_async_receivers_error_and_counts_its_streak(caplog):
    caplog.set_level(logging.ERROR, logger="storeapp.signals")
    signal = Signal(name="probe")
    rec = AsyncRecorder(raises=Boom("async receiver failed"))
    signal.connect(rec.receive)
    failures = Recorder()

    with receiver_failed.connected_to(failures):
        [(fn, err)] = signal.send_robust("x")

    assert fn == rec.receive and isinstance(err, Boom)
    [record] = [r for r in caplog.records if r.name == "storeapp.signals"]
    assert record.msg == "Error calling %s in Signal.send_robust() (%s)"
    assert record.exc_info is not None and record.exc_info[1] is err
    assert dispatch.failure_streak(rec.receive) == 1
    assert [c["exception"] for c in failures.calls] == [err]

    rec.raises = None
    signal.send_robust("x")
    assert dispatch.failure_streak(rec.receive) == 0


def test_asend_robust_returns_and_counts_errors_from_both_kinds(caplog):
    caplog.set_level(logging.CRITICAL, logger="storeapp.signals")
    signal = Signal()
    bad_async = AsyncRecorder(raises=Boom("async"))

    def bad_sync(**kwargs):
        raise Boom("sync")

    signal.connect(bad_async.receive)
    signal.connect(bad_sync)

    responses = asyncio.run(signal.asend_robust("x"))

    assert [(fn, str(err)) for fn, err in responses] == [
        (bad_sync, "sync"),
        (bad_async.receive, "async"),
    ]
    assert dispatch.failure_streak(bad_sync) == dispatch.failure_streak(bad_async.receive) == 1
    signal.disconnect_all(bad_async.receive)
    signal.disconnect_all(bad_sync)


def test_asend_calls_sync_receivers_in_the_callers_thread_and_transaction():
    signal = Signal()
    later, now = Recorder(returns="later"), Recorder(returns="now")
    threads = []
    signal.connect(later, on_commit=True)
    signal.connect(lambda **kw: threads.append(threading.current_thread()), weak=False)
    signal.connect(now)

    async def in_a_transaction() -> list[tuple[Any, Any]]:
        with dispatch.transaction_scope():
            responses = await signal.asend("x")
            assert later.calls == []
            return responses

    responses = asyncio.run(in_a_transaction())

    assert responses[0] == (later, DEFERRED) and responses[2] == (now, "now")
    assert later.senders == ["x"]  # after the scope committed
    assert threads == [threading.current_thread()]


def test_in_asend_a_failing_sync_receiver_stops_the_send_before_async_ones_start():
    signal = Signal()
    rec = AsyncRecorder()

    def broken(**kwargs):
        raise Boom("sync")

    signal.connect(rec.receive)
    signal.connect(broken)

    with pytest.raises(Boom):
        asyncio.run(signal.asend("x"))
    assert rec.calls == []


def test_a_muted_signal_runs_no_async_receiver():
    signal = Signal()
    rec = AsyncRecorder()
    signal.connect(rec.receive)

    with signal.muted():
        assert signal.send("x") == []
        assert signal.send_robust("x") == []
        assert asyncio.run(signal.asend("x")) == []
        assert asyncio.run(signal.asend_robust("x")) == []
    assert rec.calls == []


class Keeping:
    """A dispatch observer that keeps the records it is sent."""

    def __init__(self, records: list[Any]) -> None:
        self.records = records

    def sent(self, record: Any) -> None:
        self.records.append(record)

    def updated(self, record: Any) -> None:
        pass


def test_the_inspector_records_async_receivers_after_the_sync_ones():
    signal = Signal()
    rec, sync = AsyncRecorder(returns="async"), Recorder(returns="sync")
    signal.connect(rec.receive)
    signal.connect(sync)
    records: list[Any] = []
    dispatch.set_observer(Keeping(records))
    try:
        responses = signal.send_robust("x")
    finally:
        dispatch.set_observer(None)

    assert responses == [(sync, "sync"), (rec.receive, "async")]
    calls = records[0].calls
    assert [c.receiver for c in calls] == [dispatch.qualname(sync), dispatch.qualname(rec.receive)]
    assert calls[1].status == dispatch.ReceiverStatus.OK and calls[1].result == "'async'"
    assert calls[1].duration is not None


def test_the_inspector_records_an_async_receivers_failure_with_its_traceback():
    signal = Signal()

    async def broken(sender: Any, **kwargs: Any) -> None:
        raise ValueError("the async printer jammed")

    signal.connect(broken)
    records: list[Any] = []
    dispatch.set_observer(Keeping(records))
    try:
        (response,) = signal.send_robust("x")
        with pytest.raises(ValueError):
            signal.send("x")
    finally:
        dispatch.set_observer(None)

    assert isinstance(response[1], ValueError)
    ours = [r for r in records if r.signal == signal.name]  # not receiver_failed's
    assert len(ours) == 2  # send_robust's, then send's (raised to the sender)
    for record in ours:
        (call,) = record.calls
        assert call.status == dispatch.ReceiverStatus.ERROR
        assert "the async printer jammed" in call.error and "ValueError" in call.traceback


def test_has_async_follows_the_connections():
    signal = Signal()
    signal.connect(Recorder(), weak=False)
    assert not signal.has_async

    signal.connect(waits_for_the_loop, dispatch_uid="a")
    assert signal.has_async
    assert signal.has_listeners()

    signal.disconnect(dispatch_uid="a")
    assert not signal.has_async
