"""The connection is the unit: one per (dispatch_uid or receiver, sender), as
in Django, with blinker's helpers and storeapp's bookkeeping kept per
connection. (What Django itself answers is in test_django_parity.py.)"""

from __future__ import annotations

import gc
import logging
import threading
import time

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import DEFERRED, Signal
from storeapp.domain.dispatch import connections as signal_module
from tests.unit.domain.dispatch.fakes import Boom, Recorder, Sender


def test_receivers_info_lists_each_connection_in_connection_order():
    signal = Signal()
    rec, other = Recorder(), Recorder()
    a = Sender()
    signal.connect(rec, weak=False)
    signal.connect(other)
    signal.connect(rec, sender=a, dispatch_uid="for-a", on_commit=True)

    infos = signal.receivers_info()

    assert [(i.receiver, i.sender, i.dispatch_uid) for i in infos] == [
        (rec, None, None),
        (other, None, None),
        (rec, a, "for-a"),
    ]
    assert [(i.weak, i.on_commit, i.is_async) for i in infos] == [
        (False, False, False),
        (True, False, False),
        (True, True, False),
    ]


def test_receiver_connected_is_sent_for_each_new_connection_only():
    signal = Signal()
    rec = Recorder()
    seen = []
    signal.receiver_connected.connect(lambda sig, **kw: seen.append(kw["sender"]), weak=False)

    signal.connect(rec)
    signal.connect(rec)  # the same key: no new connection
    signal.connect(rec, sender="till-1")

    assert seen == [dispatch.ANY, "till-1"]


def test_disconnecting_one_connection_keeps_the_others_of_the_same_function():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, dispatch_uid="one")
    signal.connect(rec, dispatch_uid="two")
    signal.connect(rec, sender="till-1")

    assert signal.disconnect(dispatch_uid="one") is True

    assert [i.dispatch_uid for i in signal.receivers_info()] == ["two", None]
    signal.send("till-1")
    assert rec.senders == ["till-1", "till-1"]


def test_disconnect_all_removes_every_connection_of_a_function():
    signal = Signal()
    rec, other = Recorder(), Recorder()
    signal.connect(rec, dispatch_uid="one")
    signal.connect(rec, sender="till-1")
    signal.connect(rec)
    signal.connect(other)
    seen = []
    signal.receiver_disconnected.connect(lambda sig, **kw: seen.append(kw), weak=False)

    assert signal.disconnect_all(rec) is True
    assert signal.disconnect_all(rec) is False

    assert [i.receiver for i in signal.receivers_info()] == [other]
    assert seen == [{"receiver": rec, "sender": dispatch.ANY}]


def test_a_collected_sender_takes_its_connections_with_it():
    signal = Signal()
    rec = Recorder()
    sender = Sender()
    signal.connect(rec, sender=sender, weak=False)
    assert signal.filters_senders()

    del sender
    gc.collect()

    assert not signal.filters_senders()
    assert signal.receivers_info() == []
    assert not signal.receivers


def test_a_receiver_collected_while_another_thread_holds_the_lock_does_not_wait_for_it():
    signal = Signal()

    def connect_a_receiver_in_a_cycle() -> None:
        def local(**kwargs):
            pass

        local.itself = local  # type: ignore[attr-defined]  # only gc.collect() frees it
        signal.connect(local)

    connect_a_receiver_in_a_cycle()
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with signal._lock:
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=hold)
    thread.start()
    holding.wait(5)
    try:
        started = time.perf_counter()
        gc.collect()  # the weak reference's callback only flags the death
        waited = time.perf_counter() - started
    finally:
        release.set()
        thread.join()

    assert waited < 1
    assert not signal.has_listeners()
    assert not signal.receivers


def test_each_on_commit_connection_is_deferred_on_its_own():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, on_commit=True)
    signal.connect(rec, sender="till-1", on_commit=True)

    with dispatch.transaction_scope():
        assert signal.send("till-1") == [(rec, DEFERRED), (rec, DEFERRED)]
        assert rec.calls == []

    assert rec.senders == ["till-1", "till-1"]


def test_a_streak_is_forgotten_when_the_last_connection_of_its_receiver_goes(caplog):
    caplog.set_level(logging.CRITICAL, logger="storeapp.signals")
    signal = Signal()

    def broken(**kwargs):
        raise Boom("no")

    signal.connect(broken, dispatch_uid="one")
    signal.connect(broken, dispatch_uid="two")
    signal.send_robust("x")
    assert dispatch.failure_streak(broken) == 2

    signal.disconnect(dispatch_uid="one")
    assert dispatch.failure_streak(broken) == 2
    signal.disconnect(dispatch_uid="two")
    assert dispatch.failure_streak(broken) == 0


def test_the_per_sender_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(signal_module, "CACHE_LIMIT", 8)
    signal = Signal()
    rec = Recorder()
    signal.connect(rec)
    senders = [Sender() for _ in range(50)]

    for sender in senders:
        signal.send(sender)

    assert len(signal._cache) <= 8
    assert rec.senders == senders


def test_a_muted_signal_calls_no_connection():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec)
    signal.connect(rec, dispatch_uid="again")

    with signal.muted():
        assert signal.send("x") == []
    assert signal.send("x") == [(rec, None), (rec, None)]


def test_blinkers_receivers_for_and_has_receivers_for_follow_the_connections():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, sender="till-1")
    signal.connect(rec, dispatch_uid="any")

    assert list(signal.receivers_for("till-1")) == [rec, rec]
    assert list(signal.receivers_for(dispatch.ANY)) == [rec]
    assert signal.has_receivers_for("till-2")
    signal.disconnect(dispatch_uid="any")
    assert not signal.has_receivers_for("till-2")
    assert not signal.has_receivers_for(dispatch.ANY)


def test_an_exception_object_returned_is_a_response_not_a_failure():
    signal = Signal()
    err = Boom("returned, not raised")
    signal.connect(Recorder(returns=err), weak=False)

    [(_, response)] = signal.send_robust("x")

    assert response is err


@pytest.mark.parametrize("weak", [True, False])
def test_connected_to_leaves_other_connections_of_the_function_alone(weak):
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, dispatch_uid="kept", weak=weak)

    with signal.connected_to(rec):
        signal.send("inside")
    signal.send("outside")

    assert rec.senders == ["inside", "inside", "outside"]
