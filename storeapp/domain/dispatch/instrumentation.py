"""Instrumentation: what the signal inspector sees of each send.

One observer may be attached (:func:`set_observer`). While none is, a send
pays one attribute lookup for this feature. While one is, every send goes
through :func:`observed_send`, which runs the signal's one send loop with a
:class:`SendLog` as its strategy and hands the observer a :class:`SendRecord`.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch.names import describe_exc, module_of, qualname, safe_repr

if TYPE_CHECKING:
    from storeapp.domain.dispatch.signal import Signal

__all__ = [
    "AfterCommit",
    "ReceiverCall",
    "ReceiverStatus",
    "SendLog",
    "SendRecord",
    "get_observer",
    "observed_send",
    "observer",
    "set_observer",
]

logger = logging.getLogger("storeapp.signals")

#: The attached observer, or None. Read by every send; set with set_observer.
observer: Any = None


def set_observer(new: Any) -> None:
    """Attach (or with ``None`` detach) the one dispatch observer.

    While one is attached, every send is delivered by :func:`observed_send`,
    which times each receiver and hands the observer a :class:`SendRecord`:
    ``observer.sent(record)`` once the immediate receivers ran, and
    ``observer.updated(record)`` when a deferred receiver ran after commit or
    was dropped by a rollback. With none attached, a send pays one module
    attribute lookup for this feature.
    """
    global observer
    observer = new


def get_observer() -> Any:
    return observer


class ReceiverStatus(StrEnum):
    """What became of one receiver in one send."""

    OK = "ok"
    ERROR = "error"
    DEFERRED = "deferred"
    RAN_AFTER_COMMIT = "ran after commit"
    FAILED_AFTER_COMMIT = "failed after commit"
    DROPPED = "dropped by rollback"
    SKIPPED_MUTED = "skipped: signal muted"
    SKIPPED_SENDER = "skipped: sender filter"
    SKIPPED_PLUGIN_DISABLED = "skipped: plugin disabled"
    SKIPPED_PLUGIN_FAILED = "skipped: plugin failed"

    @property
    def failed(self) -> bool:
        return self in (ReceiverStatus.ERROR, ReceiverStatus.FAILED_AFTER_COMMIT)

    @property
    def ran(self) -> bool:
        return self in (ReceiverStatus.OK, ReceiverStatus.RAN_AFTER_COMMIT)

    @property
    def skipped(self) -> bool:
        return self.value.startswith("skipped")


@dataclass(slots=True, weakref_slot=True)
class ReceiverCall:
    """One receiver's part in one send (what the inspector shows)."""

    receiver: str
    module: str
    status: ReceiverStatus
    on_commit: bool = False
    duration: float | None = None  # seconds
    result: str | None = None
    error: str | None = None
    traceback: str | None = None
    #: What the status refers to (the sender a sender filter wanted).
    detail: str | None = None

    @property
    def label(self) -> str:
        """The status as shown: "skipped: sender filter (User)"."""
        return f"{self.status} ({self.detail})" if self.detail else str(self.status)


@dataclass(slots=True, weakref_slot=True)
class SendRecord:
    """One send of one signal."""

    seq: int
    time: float
    signal: str
    sender: str
    kwargs: str
    robust: bool
    thread: str
    calls: list[ReceiverCall] = field(default_factory=list)
    muted: bool = False

    @property
    def failed(self) -> bool:
        return any(c.error is not None for c in self.calls)


_seq = itertools.count(1)


def observed_send(
    signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool
) -> list[tuple[Any, Any]]:
    """``signal.send``/``send_robust`` while an observer is attached."""
    watching = observer
    record = SendRecord(
        seq=next(_seq),
        time=time.time(),
        signal=signal.name,
        sender=_sender_name(sender),
        kwargs=", ".join(f"{k}={safe_repr(v, 60)}" for k, v in kwargs.items()),
        robust=robust,
        thread=threading.current_thread().name,
        muted=signal.is_muted,
    )
    live = [] if signal.is_muted else list(signal.live_receivers(sender))
    log = SendLog(record, live)
    try:
        responses = signal.deliver(sender, kwargs, robust, log)
        log.settle()
        _add_skipped(signal, sender, record, live)
    finally:
        log.entries = []  # its probes refer back to it: break the cycle now
        try:
            watching.sent(record)
        except Exception:  # the inspector must never break a send
            logger.exception("Signal observer failed")
    return responses


class SendLog:
    """The observed send's strategy for the one send loop.

    ``Signal.deliver`` dereferences each entry just before calling its
    receiver, collects ``(receiver, response)`` in :attr:`responses`, and
    tells the log only on the rare branches (a receiver raised, or was
    deferred). So the log hands the loop its own entries, whose "weak
    references" are probes: each settles the call of the receiver that
    returned before it (its response is the last one collected), then opens
    the next receiver's :class:`ReceiverCall` and starts its clock. The loop
    without a log pays nothing for any of this.
    """

    __slots__ = ("record", "entries", "responses", "_next", "_call", "_start")

    def __init__(self, record: SendRecord, live: list[tuple[Any, bool]]) -> None:
        self.record = record
        self.responses: list[tuple[Any, Any]] = []
        probe = self._begin
        #: (probe, True, on_commit) per receiver: the shape of Signal._entries.
        self.entries: list[tuple[Callable[[], Any], bool, bool]] = [
            (probe, True, deferred) for _fn, deferred in live
        ]
        self._next = iter(live).__next__
        self._call: ReceiverCall | None = None
        self._start = 0.0

    def _begin(self) -> Any:
        if self._call is not None:
            self.settle()
        fn, deferred = self._next()
        name, module = _names(fn)
        call = ReceiverCall(name, module, ReceiverStatus.OK, on_commit=deferred)
        self.record.calls.append(call)
        self._call = call
        self._start = time.perf_counter()
        return fn

    def settle(self) -> None:
        """Close the open call: its receiver returned the last response."""
        call = self._call
        if call is not None:
            call.duration = time.perf_counter() - self._start
            call.result = safe_repr(self.responses[-1][1])
            self._call = None

    def failed(self, err: Exception) -> None:
        """The receiver being called raised ``err``."""
        call = self._call
        if call is None:
            return
        call.duration = time.perf_counter() - self._start
        call.status = ReceiverStatus.ERROR
        call.error = describe_exc(err)
        call.traceback = "".join(traceback.format_exception(err))
        self._call = None

    def deferred(self) -> AfterCommit | None:
        """The receiver being called waits for the commit: its watch."""
        call = self._call
        if call is None:
            return None
        call.status = ReceiverStatus.DEFERRED
        self._call = None
        return AfterCommit(self.record, call)


class AfterCommit:
    """Keeps a deferred receiver's :class:`ReceiverCall` up to date and tells
    the observer (an :class:`~storeapp.domain.dispatch.hooks.AfterCommitWatch`)."""

    __slots__ = ("record", "call")

    def __init__(self, record: SendRecord, call: ReceiverCall) -> None:
        self.record = record
        self.call = call

    def ran(self, response: Any, duration: float) -> None:
        self.call.status = ReceiverStatus.RAN_AFTER_COMMIT
        self.call.result = safe_repr(response)
        self.call.duration = duration
        self._report()

    def failed(self, err: BaseException, duration: float) -> None:
        self.call.status = ReceiverStatus.FAILED_AFTER_COMMIT
        self.call.error = describe_exc(err)
        self.call.traceback = "".join(traceback.format_exception(err))
        self.call.duration = duration
        self._report()

    def dropped(self) -> None:
        self.call.status = ReceiverStatus.DROPPED
        self._report()

    def _report(self) -> None:
        watching = observer
        if watching is not None:
            try:
                watching.updated(self.record)
            except Exception:
                logger.exception("Signal observer failed")


def _add_skipped(signal: Signal, sender: Any, record: SendRecord, live: list[Any]) -> None:
    if not signal.is_muted and not signal.filters_senders():
        return  # no receiver filters on a sender: nothing can have been skipped
    called = {id(fn) for fn, _ in live}
    for info in signal.receivers_info():
        detail = None
        if signal.is_muted:
            reason = ReceiverStatus.SKIPPED_MUTED
        elif info.sender is not None and info.sender is not sender:
            if id(info.receiver) in called:
                continue
            reason, detail = ReceiverStatus.SKIPPED_SENDER, _sender_name(info.sender)
        else:
            continue
        record.calls.append(
            ReceiverCall(info.name, info.module, reason, on_commit=info.on_commit, detail=detail)
        )


def _sender_name(sender: Any) -> str:
    if sender is None:
        return "None"
    if isinstance(sender, type):
        return sender.__name__
    return safe_repr(sender, 60)


# Weak keys: caching a name must not keep a weakly connected receiver alive.
_NAMES: weakref.WeakKeyDictionary[Any, tuple[str, str]] = weakref.WeakKeyDictionary()


def _names(fn: Any) -> tuple[str, str]:
    """(qualified name, module) of a receiver, computed once per function:
    the inspector's ring buffer then shares the strings instead of holding
    10,000 copies."""
    target = getattr(fn, "__func__", fn)
    try:
        return _NAMES[target]
    except (KeyError, TypeError):
        names = (qualname(fn), module_of(fn))
        try:
            _NAMES[target] = names
        except TypeError:  # not weakly referenceable, or unhashable
            pass
        return names
