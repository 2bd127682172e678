"""What an observer sees of each send: one SendRecord per send, one
ReceiverCall per receiver, filled in by the same send loop that runs without
an observer. No Qt, no database: the observer here is a fake that records."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import (
    DEFERRED,
    ReceiverCall,
    ReceiverStatus,
    SendRecord,
    Signal,
)
from tests.unit.domain.dispatch.fakes import Boom, Recorder, Sender


class RecordingObserver:
    """Keeps every record it is handed, and how often each was updated."""

    def __init__(self) -> None:
        self.records: list[SendRecord] = []
        self.updates: list[int] = []

    def sent(self, record: SendRecord) -> None:
        self.records.append(record)

    def updated(self, record: SendRecord) -> None:
        self.updates.append(record.seq)

    @property
    def last(self) -> SendRecord:
        """The last send of its own (not one made inside another send)."""
        return [r for r in self.records if r.parent is None][-1]


@pytest.fixture
def observer() -> Iterator[RecordingObserver]:
    watching = RecordingObserver()
    dispatch.set_observer(watching)
    yield watching
    dispatch.set_observer(None)


def broken(**kwargs: Any) -> None:
    raise Boom("receiver failed")


def statuses(record: SendRecord) -> list[tuple[str, ReceiverStatus]]:
    return [(call.receiver.rsplit(".", 1)[-1], call.status) for call in record.calls]


@pytest.fixture(autouse=True)
def quiet_signal_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="storeapp.signals")


# -- the same answers as without an observer --------------------------------------


@pytest.mark.parametrize("robust", [False, True], ids=["send", "send_robust"])
def test_an_observed_send_answers_exactly_as_an_unobserved_one(robust: bool) -> None:
    signal = Signal(name="probe")
    one, two = Recorder(returns=1), Recorder(returns="two")
    late = Recorder(returns="late")
    signal.connect(one)
    signal.connect(late, on_commit=True)
    signal.connect(two)
    send = signal.send_robust if robust else signal.send

    with dispatch.transaction_scope():
        plain = send(Sender, order=7)
        dispatch.set_observer(RecordingObserver())
        try:
            observed = send(Sender, order=7)
        finally:
            dispatch.set_observer(None)

    assert plain == observed == [(one, 1), (late, DEFERRED), (two, "two")]
    assert type(observed) is list
    assert one.calls == two.calls == [{"signal": signal, "sender": Sender, "order": 7}] * 2


def test_an_observed_send_robust_returns_the_exception_and_goes_on(
    observer: RecordingObserver,
) -> None:
    signal = Signal(name="probe")
    after = Recorder(returns="ok")
    signal.connect(broken)
    signal.connect(after)

    responses = signal.send_robust("x")

    assert [r for r, _ in responses] == [broken, after]
    assert isinstance(responses[0][1], Boom) and responses[1][1] == "ok"


# -- what the record holds ---------------------------------------------------------


def test_the_record_names_the_signal_sender_kwargs_and_each_receiver(
    observer: RecordingObserver,
) -> None:
    signal = Signal(name="probe")
    ok, last = Recorder(returns={"n": 1}), Recorder(returns="last")
    signal.connect(ok)
    signal.connect(broken)
    signal.connect(last)

    signal.send_robust(Sender, order=7)

    record = observer.last
    assert (record.signal, record.sender, record.kwargs, record.robust) == (
        "probe",
        "Sender",
        "order=7",
        True,
    )
    assert statuses(record) == [
        ("Recorder", ReceiverStatus.OK),
        ("broken", ReceiverStatus.ERROR),
        ("Recorder", ReceiverStatus.OK),
    ]
    done, failed, after = record.calls
    assert done.result == "{'n': 1}" and done.error is None and done.duration is not None
    assert after.result == "'last'" and after.duration is not None
    assert failed.error == "Boom: receiver failed"
    assert failed.traceback is not None and "Boom: receiver failed" in failed.traceback
    assert failed.result is None and failed.duration is not None
    assert record.failed and not record.muted


def test_each_receiver_is_timed_from_its_own_start_to_its_own_end(
    observer: RecordingObserver,
) -> None:
    """A slow receiver's time is its own, and the error log written after a
    failure is counted in nobody's time."""

    class SlowLog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            time.sleep(0.05)

    def slow(**kwargs: Any) -> None:
        time.sleep(0.05)

    def fast(**kwargs: Any) -> None:
        pass

    def after(**kwargs: Any) -> None:
        pass

    signal = Signal(name="probe")
    for fn in (slow, fast, broken, after):
        signal.connect(fn)
    handler = SlowLog()
    logger = logging.getLogger("storeapp.signals")
    logger.addHandler(handler)
    try:
        signal.send_robust("x")
    finally:
        logger.removeHandler(handler)

    durations = {call.receiver.rsplit(".", 1)[-1]: call.duration for call in observer.last.calls}
    assert durations["slow"] is not None and durations["slow"] >= 0.05
    assert durations["fast"] is not None and durations["fast"] < 0.05
    assert durations["broken"] is not None and durations["broken"] < 0.05
    assert durations["after"] is not None and durations["after"] < 0.05


def test_a_send_that_raises_still_hands_its_record_over(observer: RecordingObserver) -> None:
    signal = Signal(name="probe")
    after = Recorder()
    signal.connect(broken)
    signal.connect(after)

    with pytest.raises(Boom):
        signal.send("x")

    assert statuses(observer.last) == [("broken", ReceiverStatus.ERROR)]
    assert observer.last.calls[0].error == "Boom: receiver failed"
    assert not observer.last.robust and after.calls == []


def test_a_deferred_receiver_is_updated_once_it_ran_after_commit(
    observer: RecordingObserver,
) -> None:
    signal = Signal(name="probe")
    late = Recorder(returns="late")
    signal.connect(late, on_commit=True)

    with dispatch.transaction_scope():
        signal.send_robust("x")
        [call] = observer.last.calls
        assert (call.status, call.on_commit, call.duration) == (ReceiverStatus.DEFERRED, True, None)
        assert observer.updates == []

    assert (call.status, call.result) == (ReceiverStatus.RAN_AFTER_COMMIT, "'late'")
    assert call.duration is not None
    assert observer.updates == [observer.last.seq]


def test_a_deferred_receiver_that_fails_after_commit_is_updated_with_its_error(
    observer: RecordingObserver,
) -> None:
    signal = Signal(name="probe")
    signal.connect(broken, on_commit=True)

    with dispatch.transaction_scope():
        signal.send_robust("x")

    probe, failure = observer.records  # the failure also sent receiver_failed
    [call] = probe.calls
    assert call.status is ReceiverStatus.FAILED_AFTER_COMMIT
    assert call.error == "Boom: receiver failed" and call.traceback is not None
    assert failure.signal == "receiver_failed"
    assert observer.updates == [probe.seq]


def test_a_deferred_receiver_dropped_by_a_rollback_is_updated_as_dropped(
    observer: RecordingObserver,
) -> None:
    signal = Signal(name="probe")
    late = Recorder()
    signal.connect(late, on_commit=True)

    with pytest.raises(Boom), dispatch.transaction_scope():
        signal.send_robust("x")
        raise Boom

    [call] = observer.last.calls
    assert call.status is ReceiverStatus.DROPPED and late.calls == []
    assert observer.updates == [observer.last.seq]


def test_a_muted_signal_records_every_receiver_as_skipped(observer: RecordingObserver) -> None:
    signal = Signal(name="probe")
    rec = Recorder()
    signal.connect(rec)

    with signal.muted():
        assert signal.send_robust("x") == []

    assert observer.last.muted
    assert statuses(observer.last) == [("Recorder", ReceiverStatus.SKIPPED_MUTED)]
    assert rec.calls == []


def test_a_receiver_for_another_sender_is_recorded_as_skipped_with_that_sender(
    observer: RecordingObserver,
) -> None:
    class Other:
        pass

    signal = Signal(name="probe")
    for_other, for_any = Recorder(), Recorder()
    signal.connect(for_other, sender=Other)
    signal.connect(for_any)

    signal.send_robust(Sender)

    calls = observer.last.calls
    assert [c.status for c in calls] == [ReceiverStatus.OK, ReceiverStatus.SKIPPED_SENDER]
    assert calls[1].detail == "Other"
    assert calls[1].label == "skipped: sender filter (Other)"


def test_a_failing_observer_never_breaks_a_send(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="storeapp.signals")

    class Broken:
        def sent(self, record: SendRecord) -> None:
            raise RuntimeError("observer bug")

    signal = Signal(name="probe")
    rec = Recorder(returns="fine")
    signal.connect(rec)
    dispatch.set_observer(Broken())
    try:
        assert signal.send("x") == [(rec, "fine")]
    finally:
        dispatch.set_observer(None)

    assert [r.getMessage() for r in caplog.records] == ["Signal observer failed"]


# -- the observer slot and the status values -----------------------------------------


def test_set_observer_attaches_and_detaches_the_one_observer() -> None:
    watching = RecordingObserver()
    signal = Signal(name="probe")
    signal.connect(Recorder())

    dispatch.set_observer(watching)
    assert dispatch.get_observer() is watching
    signal.send("x")
    dispatch.set_observer(None)
    signal.send("y")

    assert dispatch.get_observer() is None
    assert len(watching.records) == 1


def test_a_calls_label_is_its_status_followed_by_its_detail() -> None:
    plain = ReceiverCall("m.f", "m", ReceiverStatus.OK)
    filtered = ReceiverCall("m.f", "m", ReceiverStatus.SKIPPED_SENDER, detail="User")

    assert plain.label == "ok"
    assert filtered.label == "skipped: sender filter (User)"


def test_a_status_says_whether_the_receiver_ran_failed_or_was_skipped() -> None:
    ran = {s for s in ReceiverStatus if s.ran}
    failed = {s for s in ReceiverStatus if s.failed}
    skipped = {s for s in ReceiverStatus if s.skipped}

    assert ran == {ReceiverStatus.OK, ReceiverStatus.RAN_AFTER_COMMIT, ReceiverStatus.DELIVERED}
    assert failed == {
        ReceiverStatus.ERROR,
        ReceiverStatus.FAILED_AFTER_COMMIT,
        ReceiverStatus.RETRYING,
        ReceiverStatus.DEAD,
    }
    assert skipped == {
        ReceiverStatus.SKIPPED_MUTED,
        ReceiverStatus.SKIPPED_SENDER,
        ReceiverStatus.SKIPPED_PLUGIN_DISABLED,
        ReceiverStatus.SKIPPED_PLUGIN_FAILED,
    }
    assert ReceiverStatus.DEFERRED == "deferred"  # a StrEnum: shown and compared as text
