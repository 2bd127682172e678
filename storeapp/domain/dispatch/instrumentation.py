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
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch.callsite import call_site
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


#: Argument values kept as they are and formatted only when shown: immutable,
#: so reading them later on another thread is safe. Anything else (a model
#: instance) is formatted during the send, in the sender's thread.
_PLAIN = frozenset({str, int, float, bool, type(None), Decimal, bytes})
#: How long one argument's value is shown.
ARG_LIMIT = 60


class SendRecord:
    """One send of one signal.

    ``origin`` is where it was sent from: ``"Store.place_order
    (storeapp/domain/store/orders.py:80)"`` (``""`` if unknown), ``via`` the
    Signal method called (``"send"``, ``"send_robust"``). A send made while
    another one was running in the same thread (by one of its receivers, or
    ``receiver_failed`` by the send loop) has that send's seq as ``parent``,
    its ``depth`` (0 for a send of its own), and in ``within`` the receiver
    that was running (None if none was: the loop itself sent it).

    ``kwargs`` is the arguments as text (``order=<Order id=1 ...>``). The
    record keeps a snapshot of them and formats it the first time
    ``kwargs`` is read (on the GUI thread, usually); plain values (numbers,
    strings, None) are kept as they are, anything else as its repr, taken
    during the send. A string passed as ``kwargs`` is kept as it is.
    """

    __slots__ = (
        "seq",
        "time",
        "signal",
        "sender",
        "_kwargs",
        "robust",
        "thread",
        "calls",
        "muted",
        "origin",
        "via",
        "parent",
        "depth",
        "within",
        "__weakref__",
    )

    def __init__(
        self,
        seq: int,
        time: float,
        signal: str,
        sender: str,
        kwargs: str | Mapping[str, Any],
        robust: bool,
        thread: str,
        calls: list[ReceiverCall] | None = None,
        muted: bool = False,
        origin: str = "",
        via: str = "",
        parent: int | None = None,
        depth: int = 0,
        within: str | None = None,
    ) -> None:
        self.seq = seq
        self.time = time
        self.signal = signal
        self.sender = sender
        self._kwargs = kwargs
        self.robust = robust
        self.thread = thread
        self.calls: list[ReceiverCall] = [] if calls is None else calls
        self.muted = muted
        self.origin = origin
        self.via = via
        self.parent = parent
        self.depth = depth
        self.within = within

    @property
    def kwargs(self) -> str:
        """The arguments as text: ``order=<Order id=1 status=placed>, n=2``."""
        value = self._kwargs
        if isinstance(value, str):
            return value
        text = ", ".join(
            f"{k}={v if type(v) is _Shown else safe_repr(v, ARG_LIMIT)}" for k, v in value.items()
        )
        self._kwargs = text  # one str replaces another reference: safe on any thread
        return text

    @property
    def failed(self) -> bool:
        return any(c.error is not None for c in self.calls)

    @property
    def call_site(self) -> str:
        """``origin via send_robust`` (what the timeline shows), or ``""``."""
        if not self.origin:
            return ""
        return f"{self.origin} via {self.via}" if self.via else self.origin

    def __repr__(self) -> str:
        return (
            f"<SendRecord #{self.seq} {self.signal} from {self.sender}"
            f"{f' at {self.origin}' if self.origin else ''}"
            f"{f' in #{self.parent}' if self.parent is not None else ''}>"
        )


class _Shown(str):
    """An argument's repr, taken during the send (shown as it is)."""

    __slots__ = ()


def _snapshot(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a record keeps of a send's arguments: ``kwargs`` itself if all
    its values are plain (the send's own dict, which nobody changes), else a
    copy with the others replaced by their repr, taken now."""
    snap = kwargs
    for key, value in kwargs.items():
        if value.__class__ not in _PLAIN:
            if snap is kwargs:
                snap = dict(kwargs)
            snap[key] = _Shown(safe_repr(value, ARG_LIMIT))
    return snap


class _Open:
    """A send in progress in this thread (or task): what a send made
    inside it needs to name it as its parent."""

    __slots__ = ("record", "log", "family", "closed")

    def __init__(self, record: SendRecord, log: SendLog, family: list[SendRecord]) -> None:
        self.record = record
        self.log = log
        #: The outermost send's record and every send made inside it, in the
        #: order they began (parents before their children).
        self.family = family
        self.closed = False


#: The innermost send in progress in this thread or task.
_open: ContextVar[_Open | None] = ContextVar("storeapp_open_send", default=None)
_seq = itertools.count(1)
_thread = threading.local()


def observed_send(
    signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool
) -> list[tuple[Any, Any]]:
    """``signal.send``/``send_robust`` while an observer is attached.

    The record gets its seq when the send begins. A send made inside
    another (by a receiver) joins the outermost send's family; the family
    goes to the observer, parents first, when the outermost send ends.
    """
    watching = observer
    outer = _open.get()
    origin, via = call_site()
    try:
        thread = _thread.name
    except AttributeError:
        thread = _thread.name = threading.current_thread().name
    muted = signal.is_muted
    record = SendRecord(
        next(_seq),
        time.time(),
        signal.name,
        _sender_name(sender),
        _snapshot(kwargs),
        robust,
        thread,
        None,
        muted,
        origin,
        via or ("send_robust" if robust else "send"),
    )
    live = [] if muted else list(signal.live_receivers(sender))
    log = SendLog(record, live)
    if outer is None or outer.closed:
        family = [record]
    else:
        record.parent = outer.record.seq
        record.depth = outer.record.depth + 1
        running = outer.log._call
        record.within = running.receiver if running is not None else None
        family = outer.family
        family.append(record)
    token = _open.set(_Open(record, log, family))
    try:
        if live:
            responses = signal.deliver(sender, kwargs, robust, log)
            log.settle()
        else:
            responses = []
        if muted or signal.filters_senders():
            _add_skipped(signal, sender, record, live)
    finally:
        _open.reset(token)
        log.entries = []  # its probes refer back to it: break the cycle now
        if family[0] is record:
            _deliver(watching, family)
    return responses


def _deliver(watching: Any, family: list[SendRecord]) -> None:
    """Hand the observer an outermost send and the sends made inside it."""
    try:
        if len(family) == 1:
            watching.sent(family[0])
        else:
            sent_all = getattr(watching, "sent_all", None)
            if sent_all is not None:
                sent_all(family)
            else:
                for record in family:
                    watching.sent(record)
    except Exception:  # the inspector must never break a send
        logger.exception("Signal observer failed")


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
            response = self.responses[-1][1]
            call.result = "None" if response is None else safe_repr(response)
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

    def failed(self, err: Exception, duration: float) -> None:
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
    """The receivers a muted signal, or a sender filter, kept from being called.

    Computed once per (signal, sender class) while the signal's connections
    stay the same: Signal caches each sender's receivers and drops that
    cache on every connect and disconnect, so the cached tuple being the same
    object means nothing was (dis)connected since. The skipped calls never
    change, so the records share them.
    """
    entries = _entries_of(signal, sender)
    key = (id(signal), id(sender)) if entries is not None else None
    if key is not None:
        hit = _SKIPPED.get(key)
        if hit is not None and hit[0] is entries and hit[1] is signal:
            record.calls.extend(hit[2])
            return
    called = {id(fn) for fn, _ in live}
    calls = []
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
        calls.append(
            ReceiverCall(info.name, info.module, reason, on_commit=info.on_commit, detail=detail)
        )
    record.calls.extend(calls)
    if key is not None:
        if len(_SKIPPED) >= 1024:
            _SKIPPED.clear()
        _SKIPPED[key] = (entries, signal, tuple(calls))


#: (id(signal), id(sender)) -> (the signal's cached entries for the sender,
#: the signal, the skipped calls): see _add_skipped.
_SKIPPED: dict[tuple[int, int], tuple[Any, Any, tuple[ReceiverCall, ...]]] = {}


def _entries_of(signal: Signal, sender: Any) -> Any:
    """The signal's cached receiver tuple for ``sender`` (a class or None),
    or None if it has no such cache (then nothing is cached here)."""
    if not (sender is None or isinstance(sender, type)) or signal.is_muted:
        return None
    entries = getattr(signal, "_entries", None)
    return entries(sender) if entries is not None else None


def _sender_name(sender: Any) -> str:
    if sender is None:
        return "None"
    if isinstance(sender, type):
        return sender.__name__
    return safe_repr(sender, 60)


# id(function) -> (weak reference to it, qualified name, module). Weak: caching
# a name must not keep a weakly connected receiver alive; the reference
# tells a live entry from one whose function died and whose id was reused.
_NAMES: dict[int, tuple[Any, str, str]] = {}


def _names(fn: Any) -> tuple[str, str]:
    """(qualified name, module) of a receiver, computed once per function:
    the inspector's ring buffer then shares the strings instead of holding
    10,000 copies."""
    target = getattr(fn, "__func__", fn)
    hit = _NAMES.get(id(target))
    if hit is not None and hit[0]() is target:
        return hit[1], hit[2]
    name, module = qualname(fn), module_of(fn)
    try:
        _NAMES[id(target)] = (weakref.ref(target), name, module)
    except TypeError:  # not weakly referenceable: named again each time
        pass
    return name, module
