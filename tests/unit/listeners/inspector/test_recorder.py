"""The inspector's recorder: the ring buffer, formatting, filters and
settings. Plain Python: no Qt, no QApplication, no disk."""

from __future__ import annotations

import gc
import itertools
import json
import subprocess
import sys
import threading
import weakref
from typing import Any

import pytest

from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord
from storeapp.listeners.inspector.export import record_to_dict
from storeapp.listeners.inspector.recorder import (
    DEFAULT_MAX_SENDS,
    MAX_SENDS_LIMIT,
    Outcome,
    SendBuffer,
    count_setting,
    format_time,
    outcome,
    send_filter,
    summarise,
    total_duration,
)

_seqs = itertools.count(1_000_000)


def make_record(
    signal: str = "thing_happened", *calls: ReceiverCall, seq: int | None = None
) -> SendRecord:
    return SendRecord(
        seq=next(_seqs) if seq is None else seq,
        time=1_700_000_000.25,
        signal=signal,
        sender="Thing",
        kwargs="thing=<Thing id=1>",
        robust=True,
        thread="MainThread",
        calls=list(calls),
    )


def fill(buffer: SendBuffer, count: int) -> list[SendRecord]:
    records = [make_record() for _ in range(count)]
    for record in records:
        buffer.push(record)
    return records


# -- the ring buffer -----------------------------------------------------------


def test_only_the_first_push_after_a_drain_asks_for_a_drain() -> None:
    buffer = SendBuffer(10)
    assert buffer.push(make_record()) is True
    assert buffer.push(make_record()) is False
    assert buffer.touch(123) is False
    buffer.drain()
    assert buffer.touch(123) is True  # a change alone also asks for one
    assert buffer.push(make_record()) is False
    buffer.drain()
    assert buffer.push(make_record()) is True


def test_pushed_records_reach_the_ring_only_when_drained_in_push_order() -> None:
    buffer = SendBuffer(10)
    records = fill(buffer, 3)
    assert len(buffer) == 0 and buffer.pending_count() == 3
    drained = buffer.drain()
    assert [r for _a, r in drained.added] == records
    assert [a for a, _r in drained.added] == [0, 1, 2]
    assert buffer.records() == records
    assert (buffer.first, buffer.end) == (0, 3)
    assert buffer.pending_count() == 0


def test_the_ring_keeps_the_newest_maxlen_and_forgets_the_rest() -> None:
    buffer = SendBuffer(50)
    records = fill(buffer, 200)
    drained = buffer.drain()
    assert len(buffer) == 50
    assert buffer.records() == records[-50:]
    assert drained.evicted == 150 and buffer.evicted == 150
    assert (buffer.first, buffer.end) == (150, 200)
    assert buffer.position(records[0].seq) is None
    assert buffer.position(records[-1].seq) == 199
    assert len(buffer._where) == 50  # the seq index is bounded too


def test_draining_in_small_batches_evicts_from_the_front() -> None:
    buffer = SendBuffer(5)
    seen: list[SendRecord] = []
    evicted = 0
    for _ in range(7):
        seen += fill(buffer, 3)
        evicted += buffer.drain().evicted
    assert buffer.records() == seen[-5:]
    assert evicted == len(seen) - 5
    assert [a for a, _r in buffer.entries()] == list(range(16, 21))
    assert buffer.entries(19) == [(19, seen[19]), (20, seen[20])]


def test_the_pending_list_is_bounded_when_nobody_drains() -> None:
    buffer = SendBuffer(20)
    records = fill(buffer, 1000)
    assert buffer.pending_count() == 20
    drained = buffer.drain()
    assert buffer.records() == records[-20:]
    assert drained.evicted == 980
    assert (buffer.first, buffer.end) == (980, 1000)


def test_a_record_sent_by_a_receiver_keeps_its_arrival_place_not_its_seq() -> None:
    buffer = SendBuffer(10)
    outer, inner = make_record("outer", seq=10), make_record("inner", seq=11)
    buffer.push(inner)  # the nested send reports first
    buffer.push(outer)
    buffer.drain()
    assert [r.signal for r in buffer.records()] == ["inner", "outer"]
    assert buffer.position(11) == 0 and buffer.position(10) == 1


def test_a_family_pushed_together_stays_together_in_causal_order() -> None:
    buffer = SendBuffer(10)
    before, after = make_record("before"), make_record("after")
    outer = make_record("order_created", seq=20)
    inner = make_record("receiver_failed", seq=21)
    inner.parent, inner.depth = 20, 1
    assert buffer.push(before) is True
    assert buffer.push_all([outer, inner]) is False  # a drain is already asked for
    buffer.push(after)
    drained = buffer.drain()
    assert [r.signal for r in buffer.records()] == [
        "before",
        "order_created",
        "receiver_failed",
        "after",
    ]
    assert [a for a, _r in drained.added] == [0, 1, 2, 3]
    assert buffer.position(21) == 2
    assert buffer.push_all([make_record("x"), make_record("y")]) is True


def test_touched_records_are_reported_once_and_only_while_kept() -> None:
    buffer = SendBuffer(3)
    records = fill(buffer, 3)
    buffer.drain()
    buffer.touch(records[1].seq)
    buffer.touch(records[1].seq)
    buffer.touch(999_999_999)  # unknown (or long gone): ignored
    assert buffer.drain().updated == {records[1].seq}
    assert buffer.drain().updated == frozenset()
    # Touched while still pending: reported with its arrival.
    late = make_record()
    buffer.push(late)
    buffer.touch(late.seq)
    buffer.touch(records[0].seq)  # evicted by this very drain
    drained = buffer.drain()
    assert drained.updated == {late.seq}


def test_too_many_changes_collapse_into_everything_changed() -> None:
    buffer = SendBuffer(4)
    fill(buffer, 4)
    buffer.drain()
    for seq in range(100):
        buffer.touch(seq)
    assert len(buffer._touched) < 4  # bounded
    drained = buffer.drain()
    assert drained.all_updated
    assert not buffer.drain().all_updated


def test_clear_forgets_everything_and_arrivals_keep_counting() -> None:
    buffer = SendBuffer(10)
    fill(buffer, 4)
    buffer.drain()
    fill(buffer, 2)  # still pending: cleared too
    assert buffer.clear() == 6
    assert len(buffer) == 0 and buffer.pending_count() == 0 and not buffer._where
    assert buffer.first == buffer.end == 6
    record = make_record()
    buffer.push(record)
    assert buffer.drain().added == [(6, record)]
    assert buffer.drain().evicted == 0


def test_resize_keeps_the_newest() -> None:
    buffer = SendBuffer(10)
    records = fill(buffer, 10)
    buffer.drain()
    assert buffer.resize(4) == 6
    assert buffer.records() == records[-4:]
    assert buffer.maxlen == 4
    more = fill(buffer, 2)
    buffer.drain()
    assert buffer.records() == records[-2:] + more
    with pytest.raises(ValueError):
        buffer.resize(0)
    with pytest.raises(TypeError):
        SendBuffer("10")  # type: ignore[arg-type]


def test_pushes_from_many_threads_while_draining_lose_nothing_that_fits() -> None:
    buffer = SendBuffer(500)
    threads_n, per_thread = 8, 1000
    start = threading.Barrier(threads_n + 1)
    done = threading.Event()
    drained_total = 0
    evicted_total = 0

    def producer() -> None:
        start.wait()
        for _ in range(per_thread):
            buffer.push(make_record())

    producers = [threading.Thread(target=producer) for _ in range(threads_n)]
    for thread in producers:
        thread.start()
    start.wait()
    while not done.is_set():
        drained = buffer.drain()
        drained_total += len(drained.added)
        evicted_total += drained.evicted
        if not any(t.is_alive() for t in producers):
            done.set()
    for thread in producers:
        thread.join()
    drained = buffer.drain()
    drained_total += len(drained.added)
    evicted_total += drained.evicted
    total = threads_n * per_thread
    assert len(buffer) == 500
    arrivals = [a for a, _r in buffer.entries()]
    assert arrivals == list(range(total - 500, total))
    assert len({r.seq for r in buffer.records()}) == 500
    assert len(buffer) + evicted_total == total
    assert drained_total <= total


# -- helpers -----------------------------------------------------------------


def test_time_is_shown_to_the_millisecond() -> None:
    text = format_time(1_700_000_000.25)
    hours, minutes, rest = text.split(":")
    seconds, millis = rest.split(".")
    assert len(hours) == len(minutes) == len(seconds) == 2
    assert millis == "250"


def test_outcome_names_what_happened() -> None:
    ok = ReceiverCall("m.ok", "m", ReceiverStatus.OK, duration=0.002)
    err = ReceiverCall("m.bad", "m", ReceiverStatus.ERROR, duration=0.001, error="ValueError: x")
    deferred = ReceiverCall("m.later", "m", ReceiverStatus.DEFERRED, on_commit=True)
    dropped = ReceiverCall("m.later", "m", ReceiverStatus.DROPPED, on_commit=True)
    skipped = ReceiverCall("m.only_user", "m", ReceiverStatus.SKIPPED_SENDER, detail="User")
    assert outcome(make_record("s", ok)) == "ok"
    assert outcome(make_record("s")) == "no receivers"
    assert outcome(make_record("s", skipped)) == "skipped"
    assert outcome(make_record("s", ok, err, deferred)) == "1 failed, 1 deferred"
    assert outcome(make_record("s", ok, dropped)) == "1 dropped by rollback"
    raised = make_record("s", err)
    raised.robust = False
    assert outcome(raised) == "1 failed (raised to the sender)"
    muted = make_record("s", ReceiverCall("m.ok", "m", ReceiverStatus.SKIPPED_MUTED))
    muted.muted = True
    assert outcome(muted) == "muted"
    assert total_duration(make_record("s", ok, err, deferred)) == pytest.approx(0.003)
    assert total_duration(make_record("s", deferred)) is None


def test_a_record_becomes_json_with_its_calls() -> None:
    err = ReceiverCall(
        "m.bad",
        "m",
        ReceiverStatus.ERROR,
        duration=0.001,
        error="ValueError: x",
        traceback="Traceback (most recent call last):\n...",
    )
    record = make_record(
        "order_created",
        ReceiverCall("m.ok", "m", ReceiverStatus.OK, duration=0.0005, result="None"),
        err,
    )
    data = json.loads(json.dumps(record_to_dict(record, lambda module: f"plugin-of-{module}")))
    assert data["signal"] == "order_created" and data["seq"] == record.seq
    assert data["failed"] is True and data["outcome"] == "1 failed"
    assert [c["status"] for c in data["calls"]] == ["ok", "error"]
    assert data["calls"][1]["traceback"].startswith("Traceback")
    assert data["calls"][0]["plugin"] == "plugin-of-m"
    assert data["calls"][0]["duration_ms"] == pytest.approx(0.5)
    assert (data["origin"], data["via"], data["parent"], data["depth"]) == ("", "", None, 0)
    record.origin, record.via, record.parent, record.depth = "f (a.py:1)", "send", 3, 1
    record.within = "m.receiver"
    data = record_to_dict(record)
    assert (data["origin"], data["via"], data["parent"], data["depth"], data["within"]) == (
        "f (a.py:1)",
        "send",
        3,
        1,
        "m.receiver",
    )


def test_evicted_records_are_garbage() -> None:
    buffer = SendBuffer(10)
    refs = [weakref.ref(record) for record in fill(buffer, 200)]
    buffer.drain()
    gc.collect()
    alive = [ref() for ref in refs if ref() is not None]
    assert alive == buffer.records()


def fields(record: SendRecord) -> tuple[Any, ...]:
    """Everything a record says, to compare a record with its unpacked copy."""
    names = ("seq", "time", "signal", "sender", "kwargs", "robust", "thread", "muted")
    more = ("origin", "via", "parent", "depth", "within")
    calls = [
        (c.receiver, c.module, c.status, c.on_commit, c.duration, c.result, c.error)
        + (c.traceback, c.detail)
        for c in record.calls
    ]
    return (*(getattr(record, n) for n in names + more), calls)


def varied_records(count: int) -> list[SendRecord]:
    """Records with every kind of field set: results, errors, skips, nesting."""
    records = []
    for i in range(count):
        calls = [
            ReceiverCall("m.ok", "m", ReceiverStatus.OK, duration=0.001 * i, result=f"{i}"),
            ReceiverCall(
                "m.boom",
                "m",
                ReceiverStatus.ERROR,
                duration=0.5,
                error="ValueError: no",
                traceback="Traceback (most recent call last):\n...",
            ),
            ReceiverCall("m.only", "m", ReceiverStatus.SKIPPED_SENDER, detail="User"),
        ][: i % 4]
        record = make_record(f"signal_{i % 3}", *calls)
        if i % 2:
            record.parent, record.depth, record.within = record.seq - 1, 1, "m.ok"
            record.origin, record.via = "Store.place_order (orders.py:80)", "send_robust"
        records.append(record)
    records[0]._kwargs = {"order": 7, "note": "two words"}  # formatted when packed
    return records


def count_records() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is SendRecord)


def test_older_records_are_packed_out_of_the_collectors_sight_and_read_back_whole() -> None:
    before = count_records()
    buffer = SendBuffer(100, live=10)
    records = varied_records(60)
    expected = [fields(r) for r in records]
    for record in records:
        buffer.push(record)
    del records, record
    buffer.drain()
    # The 50 older records are plain tuples now: no SendRecord, no calls list,
    # no ReceiverCall for the collector to walk. The 10 newest are as they were.
    assert count_records() - before == 10
    assert [fields(r) for _a, r in buffer.entries(buffer.first)] == expected
    assert [fields(r) for r in buffer.records()] == expected
    assert [a for a, _r in buffer.entries(55)] == list(range(55, 60))
    assert buffer.position(expected[3][0]) == 3
    packed = buffer.records()[0].pack()
    gc.collect()
    assert type(packed) is tuple and not gc.is_tracked(packed)


def test_a_record_waiting_for_the_commit_stays_itself_until_it_settles() -> None:
    buffer = SendBuffer(100, live=2)
    call = ReceiverCall("m.later", "m", ReceiverStatus.DEFERRED, on_commit=True)
    waiting = make_record("order_created", call)
    buffer.push(waiting)
    fill(buffer, 20)
    buffer.drain()
    assert buffer.entries(buffer.first)[0][1] is waiting  # kept as it is while it waits
    call.result, call.status = "None", ReceiverStatus.RAN_AFTER_COMMIT
    buffer.touch(waiting.seq)
    assert buffer.drain().updated == {waiting.seq}
    shown = buffer.entries(buffer.first)[0][1]
    assert shown is not waiting  # settled: packed like the others
    assert fields(shown) == fields(waiting)
    assert shown.calls[0].status is ReceiverStatus.RAN_AFTER_COMMIT


def test_evictions_clear_and_resize_work_on_packed_records() -> None:
    buffer = SendBuffer(30, live=5)
    records = fill(buffer, 80)
    buffer.drain()
    assert (buffer.first, buffer.end, len(buffer)) == (50, 80, 30)
    assert [r.seq for r in buffer.records()] == [r.seq for r in records[50:]]
    assert buffer.position(records[49].seq) is None and len(buffer._where) == 30
    assert buffer.resize(10) == 20
    assert [r.seq for r in buffer.records()] == [r.seq for r in records[70:]]
    assert buffer.clear() == 10
    more = fill(buffer, 3)
    buffer.drain()
    assert [a for a, _r in buffer.entries(0)] == [80, 81, 82]
    assert buffer.records() == more


# -- what the redesign made explicit ---------------------------------------------


def test_importing_the_recorder_loads_no_qt() -> None:
    probe = (
        "import sys, storeapp.listeners.inspector.recorder; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_a_sends_outcome_kind_is_the_worst_that_happened_to_a_receiver() -> None:
    def call(status: ReceiverStatus) -> ReceiverCall:
        return ReceiverCall("m.r", "m", status)

    ok, err = call(ReceiverStatus.OK), call(ReceiverStatus.FAILED_AFTER_COMMIT)
    deferred, dropped = call(ReceiverStatus.DEFERRED), call(ReceiverStatus.DROPPED)
    ran_later = call(ReceiverStatus.RAN_AFTER_COMMIT)
    skipped = call(ReceiverStatus.SKIPPED_PLUGIN_FAILED)
    assert summarise(make_record("s", ok, err, deferred, dropped)) == (
        Outcome.FAILED,
        "1 failed, 1 deferred, 1 dropped by rollback",
    )
    assert summarise(make_record("s", deferred, dropped))[0] is Outcome.DROPPED
    assert summarise(make_record("s", ok, deferred))[0] is Outcome.DEFERRED
    assert summarise(make_record("s", ran_later, skipped)) == (Outcome.OK, "ok")
    assert summarise(make_record("s", skipped)) == (Outcome.SKIPPED, "skipped")
    assert summarise(make_record("s")) == (Outcome.NO_RECEIVERS, "no receivers")
    muted = make_record("s", err)
    muted.muted = True
    assert summarise(muted) == (Outcome.MUTED, "muted")


def test_a_count_setting_reads_text_and_stays_in_range() -> None:
    assert count_setting("50", DEFAULT_MAX_SENDS) == 50
    assert count_setting(300, 2_000) == 300
    assert count_setting("lots", 2_000) == 2_000
    assert count_setting(None, 2_000) == 2_000
    assert count_setting(0, 2_000) == 1
    assert count_setting("-5", 2_000) == 1
    assert count_setting(10**9, 2_000) == MAX_SENDS_LIMIT


def test_the_filters_accept_a_signal_and_sends_a_plugin_took_part_in() -> None:
    plugin_of = {"shop.core": "core", "shop.mail": "email_log"}.get
    core = ReceiverCall("shop.core.r", "shop.core", ReceiverStatus.OK)
    mail = ReceiverCall("shop.mail.r", "shop.mail", ReceiverStatus.DEFERRED)
    order, saved = make_record("order_created", core, mail), make_record("post_save", core)

    def kept(accept: Any) -> list[SendRecord]:
        return [r for r in (order, saved) if accept(r)]

    assert send_filter(None, None, plugin_of) is None
    assert kept(send_filter("post_save", None, plugin_of)) == [saved]
    assert kept(send_filter(None, "email_log", plugin_of)) == [order]
    assert kept(send_filter(None, "core", plugin_of)) == [order, saved]
    assert kept(send_filter("post_save", "email_log", plugin_of)) == []
