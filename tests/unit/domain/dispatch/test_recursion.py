"""A receiver that re-sends its own signal without end is stopped, and blamed."""

from __future__ import annotations

import threading

import pytest

from storeapp.domain.dispatch import Signal
from storeapp.domain.dispatch.signal import MAX_DEPTH, SignalRecursion
from storeapp.domain.signals import receiver_failed


@pytest.fixture
def signal() -> Signal:
    return Signal("a test signal", name="echo")


def test_a_receiver_re_sending_its_signal_is_stopped_and_its_failure_reported(signal):
    calls: list[int] = []
    failures: list[BaseException] = []

    def echo(sender, **kwargs):
        calls.append(len(calls))
        signal.send_robust(sender)

    def heard(sender, receiver, exception, **kwargs):
        failures.append(exception)

    signal.connect(echo, weak=False)
    receiver_failed.connect(heard, weak=False)
    try:
        signal.send_robust("order")
    finally:
        receiver_failed.disconnect(heard)

    assert len(calls) == MAX_DEPTH
    assert [type(e) for e in failures] == [SignalRecursion]
    assert "echo was sent 10 levels deep" in str(failures[0])


def test_under_send_the_recursion_error_reaches_the_sender(signal):
    def echo(sender, **kwargs):
        signal.send(sender)

    signal.connect(echo, weak=False)

    with pytest.raises(SignalRecursion):
        signal.send("order")


def test_a_bounded_nesting_works_and_the_depth_is_counted_per_thread_and_released(signal):
    seen: list[int] = []

    def nest(sender, level, **kwargs):
        seen.append(level)
        if level < 3:
            signal.send(sender, level=level + 1)

    signal.connect(nest, weak=False)
    signal.send("a", level=1)
    other = threading.Thread(target=signal.send, args=("b",), kwargs={"level": 1})
    other.start()
    other.join()
    signal.send("c", level=1)  # nothing of the first sends' depth is left over

    assert seen == [1, 2, 3] * 3
