"""After-commit hooks without a database: on_commit, transaction scopes, and
receivers connected with on_commit=True."""

from __future__ import annotations

import pytest

from storeapp.domain import dispatch
from storeapp.domain.dispatch import DEFERRED, Signal
from tests.unit.domain.dispatch.fakes import Boom, Recorder

# -- after commit, outside a transaction -------------------------------------------


def test_on_commit_outside_a_transaction_runs_at_once():
    ran = []
    assert not dispatch.in_transaction()

    dispatch.on_commit(lambda: ran.append("now"))

    assert ran == ["now"]


def test_an_on_commit_receiver_outside_a_transaction_is_called_at_once():
    signal = Signal()
    rec = Recorder(returns="done")
    signal.connect(rec, on_commit=True)

    assert signal.send("x") == [(rec, "done")]
    assert signal.send_robust("y") == [(rec, "done")]
    assert rec.senders == ["x", "y"]


def test_an_on_commit_receiver_waits_for_the_end_of_a_transaction_scope():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, on_commit=True)

    with dispatch.transaction_scope():
        assert dispatch.in_transaction()
        assert signal.send_robust("x") == [(rec, DEFERRED)]
        assert rec.calls == []

    assert rec.senders == ["x"]
    assert not dispatch.in_transaction()


def test_an_on_commit_receiver_is_dropped_when_the_scope_raises():
    signal = Signal()
    rec = Recorder()
    signal.connect(rec, on_commit=True)

    with pytest.raises(Boom):
        with dispatch.transaction_scope():
            signal.send("x")
            raise Boom

    assert rec.calls == []
    assert not dispatch.in_transaction()


class Hook:
    """An after-commit hook that records whether it ran or was dropped."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __call__(self) -> None:
        self.events.append("ran")

    def dropped(self) -> None:
        self.events.append("dropped")


def test_a_hook_runs_on_commit_and_is_told_when_a_rollback_drops_it():
    kept, lost = Hook(), Hook()

    with dispatch.transaction_scope():
        dispatch.on_commit(kept)
    with pytest.raises(Boom), dispatch.transaction_scope():
        dispatch.on_commit(lost)
        raise Boom

    assert (kept.events, lost.events) == (["ran"], ["dropped"])


def test_abandon_scopes_forgets_every_open_scope_running_and_dropping_nothing():
    hook = Hook()
    dispatch.begin()
    dispatch.begin()
    dispatch.on_commit(hook)

    dispatch.abandon_scopes()

    assert not dispatch.in_transaction()
    assert hook.events == []
    dispatch.on_commit(hook)  # no scope left: at once
    assert hook.events == ["ran"]
