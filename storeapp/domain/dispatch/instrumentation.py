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
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch import async_receivers
from storeapp.domain.dispatch.callsite import call_site
from storeapp.domain.dispatch.names import describe_exc, module_of, qualname, safe_repr
from storeapp.domain.dispatch.records import ReceiverCall, ReceiverStatus, SendRecord, snapshot

if TYPE_CHECKING:
    from storeapp.domain.dispatch.signal import Signal

__all__ = [
    "AfterCommit",
    "ReceiverCall",
    "ReceiverStatus",
    "SendLog",
    "SendRecord",
    "get_observer",
    "observe_delivery",
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
    signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool, with_async: bool = False
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
    sender_name = _sender_name(sender)
    if signal.public is not signal:  # a replay of another till's send
        via = f"remote send from till {kwargs.get('terminal')!s}"
        sender_name = f"{sender_name} (from {kwargs.get('terminal')!s})"
    record = SendRecord(
        next(_seq),
        time.time(),
        signal.name,
        sender_name,
        snapshot(kwargs),
        robust,
        thread,
        None,
        muted,
        origin,
        via or ("send_robust" if robust else "send"),
    )
    if outer is None or outer.closed:
        family = [record]
    else:
        record.parent = outer.record.seq
        record.depth = outer.record.depth + 1
        running = outer.log._call
        record.within = running.receiver if running is not None else None
        family = outer.family
        family.append(record)
    try:
        live = [] if muted else list(signal.live_receivers(sender))
        if live:
            # Only a send with receivers can have sends made inside it.
            log = SendLog(record, live)
            opened = _Open(record, log, family)
            token = _open.set(opened)
            try:
                responses = signal.deliver(sender, kwargs, robust, log)
                log.settle()
            finally:
                _open.reset(token)
                opened.closed = True  # a task it started that sends later starts a family
                log.entries = []  # its probes refer back to it: break the cycle now
        else:
            responses = []
        if with_async and signal.has_async:  # send()/send_robust(): after the sync ones
            responses += async_receivers.run(signal, sender, kwargs, robust, record.calls)
        if muted or signal.filters_senders():
            _add_skipped(signal, sender, record, live)
    finally:
        if family[0] is record:
            _deliver(watching, family)
    return responses


def observe_delivery(
    signal: str,
    sender: str,
    receiver: Callable[..., Any],
    arguments: dict[str, Any],
    status: ReceiverStatus,
    duration: float,
    error: BaseException | None = None,
) -> None:
    """Show the observer one durable delivery as a row of its own.

    A durable receiver is not called by a send: the worker reads a committed
    event from the log and calls it (:mod:`storeapp.domain.events.durable`).
    The record says so: its origin is the event (``event log #12, attempt
    2``), ``via`` is ``durable delivery``, and its one call has the
    delivery's status (delivered, failed: will retry, failed: parked as dead).
    """
    watching = observer
    if watching is None:
        return
    name, module = _names(receiver)
    call = ReceiverCall(name, module, status, on_commit=True, duration=duration)
    if error is not None:
        call.error = describe_exc(error)
        call.traceback = "".join(traceback.format_exception(error))
    record = SendRecord(
        next(_seq),
        time.time(),
        signal,
        sender,
        snapshot(arguments),
        True,
        threading.current_thread().name,
        [call],
        origin=f"event log #{arguments.get('event_id')}, attempt {arguments.get('attempt')}",
        via="durable delivery",
    )
    _deliver(watching, [record])


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

    # The status is written last: a reader on another thread that sees it
    # no longer DEFERRED sees the call's final fields (SendRecord.pack).

    def ran(self, response: Any, duration: float) -> None:
        self.call.result = safe_repr(response)
        self.call.duration = duration
        self.call.status = ReceiverStatus.RAN_AFTER_COMMIT
        self._report()

    def failed(self, err: BaseException, duration: float) -> None:
        self.call.error = describe_exc(err)
        self.call.traceback = "".join(traceback.format_exception(err))
        self.call.duration = duration
        self.call.status = ReceiverStatus.FAILED_AFTER_COMMIT
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
