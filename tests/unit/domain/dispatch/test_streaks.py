"""Failure streaks: how many times in a row a receiver has raised, and the
receiver_failed signal each failure sends."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import Signal
from storeapp.domain.signals import receiver_failed
from tests.unit.domain.dispatch.fakes import Boom, Recorder


class Flaky:
    """A receiver that raises while ``failing`` is set."""

    def __init__(self) -> None:
        self.failing = True

    def __call__(self, **kwargs: Any) -> str:
        if self.failing:
            raise Boom("flaky")
        return "fine"


@pytest.fixture(autouse=True)
def quiet_signal_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.CRITICAL, logger="storeapp.signals")


@pytest.fixture
def failures() -> Iterator[Recorder]:
    """What receiver_failed is sent, while the test runs."""
    rec = Recorder()
    with receiver_failed.connected_to(rec):
        yield rec


@pytest.fixture
def flaky() -> Iterator[tuple[Signal, Flaky]]:
    signal = Signal(name="probe")
    fn = Flaky()
    signal.connect(fn)
    yield signal, fn
    signal.disconnect(fn)  # forgets its streak too


def test_each_failure_in_a_row_lengthens_the_streak_and_a_success_ends_it(flaky) -> None:
    signal, fn = flaky
    assert dispatch.failure_streak(fn) == 0

    signal.send_robust("x")
    signal.send_robust("x")
    assert dispatch.failure_streak(fn) == 2

    fn.failing = False
    signal.send_robust("x")
    assert dispatch.failure_streak(fn) == 0


def test_each_failure_sends_receiver_failed_with_the_signal_as_sender(flaky, failures) -> None:
    signal, fn = flaky

    [(_, err)] = signal.send_robust("x")
    signal.send_robust("x")

    first, second = failures.calls
    assert first == {
        "signal": receiver_failed,
        "sender": signal,
        "receiver": fn,
        "exception": err,
        "streak": 1,
        "module": __name__,
    }
    assert second["streak"] == 2


def test_send_does_not_count_a_failure_it_lets_propagate(flaky, failures) -> None:
    signal, fn = flaky

    with pytest.raises(Boom):
        signal.send("x")

    assert dispatch.failure_streak(fn) == 0
    assert failures.calls == []


def test_a_failure_after_commit_counts_and_a_run_after_commit_ends_the_streak(failures) -> None:
    signal = Signal(name="probe")
    fn = Flaky()
    signal.connect(fn, on_commit=True)
    try:
        with dispatch.transaction_scope():
            signal.send_robust("x")
            assert dispatch.failure_streak(fn) == 0  # not run yet
        assert dispatch.failure_streak(fn) == 1
        assert [call["streak"] for call in failures.calls] == [1]

        fn.failing = False
        with dispatch.transaction_scope():
            signal.send_robust("x")
        assert dispatch.failure_streak(fn) == 0
    finally:
        signal.disconnect(fn)


def test_reset_streak_forgets_the_failures(flaky) -> None:
    signal, fn = flaky
    signal.send_robust("x")

    dispatch.reset_streak(fn)

    assert dispatch.failure_streak(fn) == 0


def test_a_failing_receiver_of_receiver_failed_sends_no_receiver_failed_of_its_own(
    flaky,
) -> None:
    signal, _fn = flaky
    calls: list[Any] = []

    def also_broken(**kwargs: Any) -> None:
        calls.append(kwargs["sender"])
        raise Boom("in the failure handler")

    with receiver_failed.connected_to(also_broken):
        signal.send_robust("x")

    assert calls == [signal]  # once, for the flaky receiver; never for itself
    assert dispatch.failure_streak(also_broken) == 0
