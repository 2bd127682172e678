"""The Signal class: Django's API on blinker's machinery. No database here."""

from __future__ import annotations

import gc
import inspect
import logging
import sys
import threading

import pytest

from storeapp.domain.dispatch import Signal, receiver
from tests.unit.domain.dispatch.fakes import Boom, Recorder, Sender

# -- calling convention ---------------------------------------------------------


def test_receivers_get_the_signal_and_the_sender_as_keywords():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec)

    signal.send("till-1", amount=3)

    assert rec.calls == [{"signal": signal, "sender": "till-1", "amount": 3}]


def test_a_django_style_handler_taking_sender_and_kwargs_works():
    signal = Signal()
    seen = []

    def handler(sender, **kwargs):
        seen.append((sender, kwargs["order"]))

    signal.connect(handler)
    signal.send("store", order=42)

    assert seen == [("store", 42)]


def test_connect_has_djangos_parameters_and_defaults():
    params = inspect.signature(Signal.connect).parameters

    assert list(params)[:5] == ["self", "receiver", "sender", "weak", "dispatch_uid"]
    assert params["sender"].default is None
    assert params["weak"].default is True
    assert params["dispatch_uid"].default is None


def test_connecting_something_not_callable_raises_type_error():
    signal = Signal()

    with pytest.raises(TypeError) as excinfo:
        signal.connect("not a function")

    assert str(excinfo.value) == "Signal receivers must be callable."
    assert not signal.receivers


def test_connecting_a_receiver_without_kwargs_raises_value_error():
    signal = Signal()

    def no_kwargs(sender):
        pass

    with pytest.raises(ValueError) as excinfo:
        signal.connect(no_kwargs)

    assert str(excinfo.value) == "Signal receivers must accept keyword arguments (**kwargs)."
    assert not signal.receivers


# -- connecting twice ------------------------------------------------------------


def test_connecting_the_same_receiver_twice_keeps_one_connection():
    signal = Signal()
    rec = Recorder()

    signal.connect(rec)
    signal.connect(rec)
    signal.send("x")

    assert len(rec.calls) == 1


def test_connecting_the_same_dispatch_uid_twice_keeps_the_first_receiver():
    signal = Signal()
    first, second = Recorder(), Recorder()

    signal.connect(first, dispatch_uid="audit")
    signal.connect(second, dispatch_uid="audit")
    signal.send("x")

    assert len(first.calls) == 1
    assert second.calls == []


def test_one_dispatch_uid_may_be_used_once_per_sender():
    signal = Signal()
    for_a, for_b = Recorder(), Recorder()
    a, b = Sender(), Sender()

    signal.connect(for_a, sender=a, dispatch_uid="audit")
    signal.connect(for_b, sender=b, dispatch_uid="audit")
    signal.send(a)
    signal.send(b)

    assert for_a.senders == [a]
    assert for_b.senders == [b]


# -- disconnecting ---------------------------------------------------------------


def test_disconnect_by_receiver_answers_whether_it_removed_one():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec)

    assert signal.disconnect(rec) is True
    assert signal.disconnect(rec) is False
    signal.send("x")
    assert rec.calls == []


def test_disconnect_by_dispatch_uid_answers_whether_it_removed_one():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, dispatch_uid="audit")

    assert signal.disconnect(dispatch_uid="unknown") is False
    assert signal.disconnect(dispatch_uid="audit") is True
    assert signal.disconnect(dispatch_uid="audit") is False
    signal.send("x")
    assert rec.calls == []


def test_a_dispatch_uid_can_be_reused_after_disconnecting():
    signal = Signal()
    first, second = Recorder(), Recorder()
    signal.connect(first, dispatch_uid="audit")
    signal.disconnect(dispatch_uid="audit")

    signal.connect(second, dispatch_uid="audit")
    signal.send("x")

    assert first.calls == []
    assert len(second.calls) == 1


def test_disconnect_by_sender_removes_only_that_senders_connection():
    signal = Signal()
    rec = Recorder()
    a, b = Sender(), Sender()
    signal.connect(rec, sender=a)

    assert signal.disconnect(rec, sender=b) is False
    assert signal.has_listeners(a)
    assert signal.disconnect(rec, sender=a) is True
    assert not signal.has_listeners(a)
    signal.send(a)
    assert rec.calls == []


def test_disconnect_by_dispatch_uid_and_sender():
    signal = Signal()
    rec = Recorder()
    a, b = Sender(), Sender()
    signal.connect(rec, sender=a, dispatch_uid="audit")

    assert signal.disconnect(sender=b, dispatch_uid="audit") is False
    assert signal.disconnect(sender=a, dispatch_uid="audit") is True
    signal.send(a)
    assert rec.calls == []


def test_disconnect_with_nothing_named_returns_false():
    signal = Signal()
    signal.connect(Recorder(), weak=False)

    assert signal.disconnect() is False
    assert signal.has_listeners()


# -- sending -------------------------------------------------------------------


def test_send_returns_each_receiver_with_its_response():
    signal = Signal()
    one, two = Recorder(returns=1), Recorder(returns="two")
    signal.connect(one)
    signal.connect(two)

    assert signal.send("x") == [(one, 1), (two, "two")]


def test_send_robust_returns_each_receiver_with_its_response():
    signal = Signal()
    one, two = Recorder(returns=1), Recorder(returns="two")
    signal.connect(one)
    signal.connect(two)

    assert signal.send_robust("x") == [(one, 1), (two, "two")]


def test_sending_without_receivers_returns_an_empty_list():
    assert Signal().send("x") == []
    assert Signal().send_robust("x") == []


def test_send_lets_a_receiver_exception_propagate_and_stops_there():
    signal = Signal()
    after = Recorder()

    def broken(**kwargs):
        raise Boom("receiver failed")

    signal.connect(broken)
    signal.connect(after)

    with pytest.raises(Boom, match="receiver failed"):
        signal.send("x")
    assert after.calls == []


def test_send_robust_returns_the_exception_with_its_traceback_and_goes_on():
    signal = Signal()
    after = Recorder(returns="ok")

    def broken(**kwargs):
        raise Boom("receiver failed")

    signal.connect(broken)
    signal.connect(after)

    responses = signal.send_robust("x")

    assert [r for r, _ in responses] == [broken, after]
    err = responses[0][1]
    assert isinstance(err, Boom)
    assert err.__traceback__ is not None
    assert responses[1][1] == "ok"
    assert len(after.calls) == 1


def test_send_robust_logs_the_error_with_its_traceback(caplog):
    caplog.set_level(logging.ERROR, logger="storeapp.signals")
    signal = Signal()

    def broken(**kwargs):
        raise Boom("receiver failed")

    signal.connect(broken)
    [(_, err)] = signal.send_robust("x")

    [record] = [r for r in caplog.records if r.name == "storeapp.signals"]
    assert record.levelno == logging.ERROR
    assert record.msg == "Error calling %s in Signal.send_robust() (%s)"
    assert broken.__qualname__ in record.getMessage()
    assert "receiver failed" in record.getMessage()
    assert record.exc_info is not None
    assert record.exc_info[1] is err


def test_send_robust_does_not_catch_base_exceptions():
    signal = Signal()

    def interrupted(**kwargs):
        raise KeyboardInterrupt

    signal.connect(interrupted)

    with pytest.raises(KeyboardInterrupt):
        signal.send_robust("x")


# -- listeners and senders -------------------------------------------------------


def test_has_listeners_answers_for_a_given_sender():
    signal = Signal()
    rec = Recorder()
    a, b = Sender(), Sender()
    assert not signal.has_listeners()

    signal.connect(rec, sender=a)

    assert signal.has_listeners(a)
    assert not signal.has_listeners(b)
    assert not signal.has_listeners()


def test_a_receiver_connected_without_sender_listens_to_every_sender():
    signal = Signal()
    rec = Recorder()
    a, b = Sender(), Sender()
    signal.connect(rec, sender=None)

    signal.send(a)
    signal.send(b)

    assert rec.senders == [a, b]
    assert signal.has_listeners(a) and signal.has_listeners()


def test_a_receiver_for_one_sender_is_not_called_for_another():
    signal = Signal()
    for_a, for_any = Recorder(), Recorder()
    a, b = Sender(), Sender()
    signal.connect(for_a, sender=a)
    signal.connect(for_any)

    signal.send(b)
    signal.send(a)

    assert for_a.senders == [a]
    assert for_any.senders == [b, a]


def test_receivers_are_called_in_connection_order_each_connection_once():
    signal = Signal()
    order = []
    receivers = []
    for i in range(50):

        def rec(i=i, **kwargs):
            order.append(i)

        receivers.append(rec)
        signal.connect(rec)
    a = Sender()
    signal.connect(receivers[10], sender=a)  # a second connection, called second time

    signal.send(a)

    assert order == [*range(50), 10]


# -- the receiver decorator -------------------------------------------------------


def test_the_receiver_decorator_connects_to_one_signal():
    signal = Signal()
    seen = []

    @receiver(signal)
    def on_signal(sender, **kwargs):
        seen.append(sender)

    signal.send("x")

    assert seen == ["x"]


def test_the_receiver_decorator_connects_to_a_list_of_signals():
    first, second = Signal(), Signal()
    seen = []

    @receiver([first, second])
    def on_either(sender, signal, **kwargs):
        seen.append((signal, sender))

    first.send("a")
    second.send("b")

    assert seen == [(first, "a"), (second, "b")]


def test_the_receiver_decorator_passes_sender_and_dispatch_uid_through():
    signal = Signal()
    a, b = Sender(), Sender()
    seen = []

    @receiver(signal, sender=a, dispatch_uid="only-a")
    def on_a(sender, **kwargs):
        seen.append(sender)

    signal.send(b)
    signal.send(a)

    assert seen == [a]
    assert signal.disconnect(sender=a, dispatch_uid="only-a") is True


# -- weak and strong references --------------------------------------------------


def test_a_weak_receiver_is_dropped_once_it_is_collected():
    signal = Signal()

    def connect_a_local_receiver():
        def local(**kwargs):
            return "alive"

        signal.connect(local)
        assert signal.has_listeners()

    connect_a_local_receiver()
    gc.collect()

    assert not signal.has_listeners()
    assert signal.send("x") == []


def test_a_weak_bound_method_is_dropped_with_its_instance():
    signal = Signal()

    class Panel:
        def on_event(self, **kwargs):
            return "alive"

    panel = Panel()
    signal.connect(panel.on_event)
    assert signal.send("x") == [(panel.on_event, "alive")]

    del panel
    gc.collect()

    assert not signal.has_listeners()


def test_a_strong_receiver_survives_the_function_that_defined_it():
    signal = Signal()

    def connect_a_local_receiver():
        def local(**kwargs):
            return "alive"

        signal.connect(local, weak=False)

    connect_a_local_receiver()
    gc.collect()

    assert signal.has_listeners()
    assert [response for _, response in signal.send("x")] == ["alive"]


def test_drop_dead_receivers_removes_a_collected_receiver_blinker_left_behind(monkeypatch):
    signal = Signal()

    def connect_a_local_receiver():
        def local(**kwargs):
            return "alive"

        signal.connect(local, dispatch_uid="local")

    with monkeypatch.context() as patched:
        patched.setattr(sys, "is_finalizing", lambda: True)  # blinker's clean-up stands down
        connect_a_local_receiver()
        gc.collect()
    assert len(signal.receivers) == 1  # the dead entry is still there

    signal.drop_dead_receivers()

    assert not signal.receivers
    assert signal.receivers_info() == []
    assert signal.disconnect(dispatch_uid="local") is False
    assert signal.send("x") == []


def test_filters_senders_says_whether_a_receiver_wants_particular_senders_only():
    signal = Signal()
    rec = Recorder()
    a = Sender()

    signal.connect(rec)
    assert not signal.filters_senders()
    signal.connect(rec, sender=a)
    assert signal.filters_senders()
    signal.disconnect(rec, sender=a)
    assert not signal.filters_senders()


# -- blinker's helpers -------------------------------------------------------------


def test_connected_to_listens_only_inside_the_block():
    signal = Signal()
    rec = Recorder()

    with signal.connected_to(rec):
        signal.send("inside")
    signal.send("outside")

    assert rec.senders == ["inside"]
    assert not signal.receivers


def test_connected_to_can_filter_by_sender():
    signal = Signal()
    rec = Recorder()
    a, b = Sender(), Sender()

    with signal.connected_to(rec, sender=a):
        signal.send(b)
        signal.send(a)

    assert rec.senders == [a]


def test_muted_silences_the_signal_inside_the_block():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec)

    with signal.muted():
        assert signal.send("muted") == []
        assert signal.send_robust("muted") == []
    signal.send("heard")

    assert rec.senders == ["heard"]


def test_receiver_connected_is_sent_when_a_receiver_connects():
    signal = Signal()
    rec = Recorder()
    a = Sender()
    seen = []

    def on_connected(sig, **kwargs):
        seen.append((sig, kwargs["receiver"], kwargs["sender"], kwargs["weak"]))

    signal.receiver_connected.connect(on_connected)
    signal.connect(rec, sender=a, weak=False)

    assert seen == [(signal, rec, a, False)]


def test_receiver_disconnected_is_sent_when_a_receiver_is_disconnected():
    signal = Signal()
    rec = Recorder()
    seen = []

    def on_disconnected(sig, **kwargs):
        seen.append(kwargs["receiver"])

    signal.receiver_disconnected.connect(on_disconnected)
    signal.connect(rec, dispatch_uid="audit")
    signal.disconnect(dispatch_uid="audit")

    assert seen == [rec]


# -- threads ----------------------------------------------------------------------


def test_connecting_and_disconnecting_from_many_threads_while_others_send():
    signal = Signal()
    stable = Recorder(returns="stable")
    signal.connect(stable)
    connectors, senders, rounds = 4, 4, 300
    start = threading.Barrier(connectors + senders)
    stop_sending = threading.Event()
    errors: list[BaseException] = []
    bad_responses: list[object] = []

    def connect_and_disconnect(n: int) -> None:
        own = [Recorder(returns=f"t{n}-{i}") for i in range(3)]
        start.wait()
        try:
            for i in range(rounds):
                for j, rec in enumerate(own):
                    if (i + j) % 2:
                        signal.connect(rec)
                    else:
                        signal.connect(rec, dispatch_uid=f"t{n}-{j}")
                signal.connect(own[0], sender=Sender)
                # Django's rules: each connection is removed on its own, by
                # the key it was made with.
                assert signal.disconnect(own[0], sender=Sender) is True
                for j, rec in enumerate(own):
                    if (i + j) % 2:
                        assert signal.disconnect(rec) is True
                    else:
                        assert signal.disconnect(dispatch_uid=f"t{n}-{j}") is True
        except BaseException as exc:
            errors.append(exc)

    def send_until_stopped() -> None:
        start.wait()
        try:
            while not stop_sending.is_set():
                for responses in (signal.send(Sender), signal.send_robust(None)):
                    if responses[0] != (stable, "stable"):
                        bad_responses.append(responses)
        except BaseException as exc:
            errors.append(exc)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often: make races likely
    try:
        connecting = [
            threading.Thread(target=connect_and_disconnect, args=(n,)) for n in range(connectors)
        ]
        sending = [threading.Thread(target=send_until_stopped) for _ in range(senders)]
        for thread in connecting + sending:
            thread.start()
        for thread in connecting:
            thread.join()
        stop_sending.set()
        for thread in sending:
            thread.join()
    finally:
        sys.setswitchinterval(old_interval)

    assert errors == []
    assert bad_responses == []
    assert list(signal.receivers) and len(signal.receivers) == 1
    assert signal.send(Sender) == [(stable, "stable")]
    assert [info.receiver for info in signal.receivers_info()] == [stable]
    assert all(
        signal.disconnect(dispatch_uid=f"t{n}-{j}") is False
        for n in range(connectors)
        for j in range(3)
    )
