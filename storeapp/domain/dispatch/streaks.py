"""Failure streaks: how many times in a row a receiver has raised.

The send loop and the after-commit calls report each receiver's outcome
here; a failure also sends :data:`storeapp.domain.signals.receiver_failed`
(the plugin manager disables a plugin whose receiver keeps failing).
Streaks are keyed like blinker keys receivers (``make_id``: the address).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from blinker._utilities import make_id

from storeapp.domain.dispatch.names import module_of

if TYPE_CHECKING:
    from storeapp.domain.dispatch.signal import Signal

__all__ = ["failing", "failure_streak", "forget", "note_failure", "note_success", "reset_streak"]

#: receiver id -> failures in a row. Empty while every receiver succeeds, so
#: the send loop tests it before recording a success. Written only here.
failing: dict[Hashable, int] = {}
_lock = threading.Lock()


def note_failure(signal: Signal, fn: Any, err: BaseException) -> None:
    """Count one more failure of ``fn`` and send ``receiver_failed``."""
    # signals.py imports this package (for Signal), so it is imported here, late.
    from storeapp.domain.signals import receiver_failed

    if signal is receiver_failed:  # never recurse on our own signal
        return
    key = make_id(fn)
    with _lock:
        streak = failing.get(key, 0) + 1
        failing[key] = streak
    receiver_failed.send_robust(
        signal, receiver=fn, exception=err, streak=streak, module=module_of(fn)
    )


def note_success(fn: Any) -> None:
    """``fn`` returned: its streak ends."""
    with _lock:
        failing.pop(make_id(fn), None)


def forget(receiver_id: Hashable) -> None:
    """Drop the streak kept under ``receiver_id`` (its receiver was disconnected,
    so a new receiver at the same address starts clean)."""
    with _lock:
        failing.pop(receiver_id, None)


def reset_streak(fn: Any) -> None:
    """Forget ``fn``'s failures (its plugin was re-enabled)."""
    note_success(fn)


def failure_streak(fn: Any) -> int:
    """How many times in a row ``fn`` has raised (0 after a success)."""
    return failing.get(make_id(fn), 0)
