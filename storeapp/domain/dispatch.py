"""Django-style signals on top of blinker.

:class:`Signal` keeps blinker's machinery (weak references, sender filtering,
``connected_to()``, ``muted()``, ``receiver_connected``) and speaks Django's
API: receivers are called as ``receiver(signal=..., sender=..., **kwargs)``,
``connect`` takes ``dispatch_uid``, ``disconnect`` answers whether it removed
something, and ``send``/``send_robust`` return ``[(receiver, response), ...]``.

Two additions Django does not have:

* ``connect(..., on_commit=True)``: the receiver is deferred until the
  surrounding transaction commits (see :func:`on_commit`) and dropped if it
  rolls back;
* a lock around connect/disconnect, and a per-sender cache of the receiver
  list so ``send`` is a plain loop (blinker re-inspects every receiver on
  every send).

The transaction bookkeeping here is deliberately database-agnostic: the
unit of work in :mod:`storeapp.domain.store` calls :func:`begin` and
:func:`end` around its transactions and savepoints.
"""

from __future__ import annotations

import inspect
import itertools
import logging
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import blinker
from blinker._utilities import make_id
from blinker.base import ANY, ANY_ID

__all__ = [
    "ANY",
    "DEFERRED",
    "ReceiverInfo",
    "ReceiverStatus",
    "Signal",
    "in_transaction",
    "on_commit",
    "receiver",
]

logger = logging.getLogger("storeapp.signals")


class _Deferred:
    """The response recorded for a receiver that will run after commit."""

    _instance: _Deferred | None = None

    def __new__(cls) -> _Deferred:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED = _Deferred()


# --------------------------------------------------------------------------
# After-commit hooks (the equivalent of django.db.transaction.on_commit)
# --------------------------------------------------------------------------


class _TxState(threading.local):
    def __init__(self) -> None:
        self.stack: list[list[Callable[[], Any]]] = []


_tx = _TxState()


def in_transaction() -> bool:
    """True while this thread is inside a unit of work's transaction."""
    return bool(_tx.stack)


def on_commit(func: Callable[[], Any]) -> None:
    """Run ``func`` after the current transaction commits; at once if none.

    If the transaction (or the savepoint the call was made in) rolls back,
    ``func`` is discarded.
    """
    if _tx.stack:
        _tx.stack[-1].append(func)
    else:
        func()


def begin() -> None:
    """Open a transaction scope (a transaction or a savepoint) on this thread."""
    _tx.stack.append([])


def end(commit: bool) -> list[Callable[[], Any]]:
    """Close the innermost scope.

    On rollback its hooks are dropped. On commit of a savepoint they move to
    the enclosing scope. On commit of the outermost scope they are returned:
    the caller runs them (with :func:`run_hooks`) once the database commit
    has really happened.
    """
    pending = _tx.stack.pop()
    if not commit:
        for hook in pending:
            dropped = getattr(hook, "dropped", None)
            if dropped is not None:
                dropped()
        return []
    if _tx.stack:
        _tx.stack[-1].extend(pending)
        return []
    return pending


def run_hooks(hooks: list[Callable[[], Any]]) -> None:
    """Run after-commit hooks; one failing never stops the others."""
    for hook in hooks:
        try:
            hook()
        except Exception as exc:
            target = getattr(hook, "func", hook)
            logger.error(
                "Error calling %s after commit (%s)",
                getattr(target, "__qualname__", type(target).__qualname__),
                _safe_str(exc),
                exc_info=exc,
            )


# --------------------------------------------------------------------------
# Instrumentation hook (used by the signal inspector; None costs one test)
# --------------------------------------------------------------------------

_observer: Any = None


def set_observer(observer: Any) -> None:
    """Attach (or with ``None`` detach) the one dispatch observer.

    While one is attached, every send is delivered by :func:`_observed_send`,
    which times each receiver and hands the observer a :class:`SendRecord`:
    ``observer.sent(record)`` once the immediate receivers ran, and
    ``observer.updated(record)`` when a deferred receiver ran after commit or
    was dropped by a rollback. With none attached, a send pays one global
    lookup for this feature.
    """
    global _observer
    _observer = observer


def get_observer() -> Any:
    return _observer


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
_REPR_LIMIT = 120


def safe_repr(value: Any, limit: int = _REPR_LIMIT) -> str:
    """``repr(value)``, shortened, and never raising."""
    try:
        text = repr(value)
    except Exception as exc:  # a repr that raises must not break a send
        text = f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _sender_name(sender: Any) -> str:
    if sender is None:
        return "None"
    if isinstance(sender, type):
        return sender.__name__
    return safe_repr(sender, 60)


def _describe_exc(err: BaseException) -> str:
    return f"{type(err).__name__}: {_safe_str(err)}"


def _observed_send(
    signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool
) -> list[tuple[Any, Any]]:
    observer = _observer
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
    responses: list[tuple[Any, Any]] = []
    live = [] if signal.is_muted else list(signal.live_receivers(sender))
    try:
        for fn, deferred in live:
            name, module = _names(fn)
            call = ReceiverCall(name, module, ReceiverStatus.OK, on_commit=deferred)
            record.calls.append(call)
            if deferred and _tx.stack:
                call.status = ReceiverStatus.DEFERRED
                _tx.stack[-1].append(_DeferredCall(fn, signal, sender, kwargs, record, call))
                responses.append((fn, DEFERRED))
                continue
            start = time.perf_counter()
            try:
                response = fn(signal=signal, sender=sender, **kwargs)
            except Exception as err:
                call.duration = time.perf_counter() - start
                call.status = ReceiverStatus.ERROR
                call.error = _describe_exc(err)
                call.traceback = "".join(traceback.format_exception(err))
                if not robust:
                    raise
                log_receiver_error(fn, err)
                _note_failure(signal, fn, err)
                responses.append((fn, err))
            else:
                call.duration = time.perf_counter() - start
                call.result = safe_repr(response)
                if _streaks:
                    _note_success(fn)
                responses.append((fn, response))
        _add_skipped(signal, sender, record, live)
    finally:
        try:
            observer.sent(record)
        except Exception:  # the inspector must never break a send
            logger.exception("Signal observer failed")
    return responses


def _add_skipped(signal: Signal, sender: Any, record: SendRecord, live: list[Any]) -> None:
    if not signal.is_muted and not any(
        bucket for sender_id, bucket in list(signal._by_sender.items()) if sender_id != ANY_ID
    ):
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
        names = (qualname(fn), _module_of(fn))
        try:
            _NAMES[target] = names
        except TypeError:  # not weakly referenceable, or unhashable
            pass
        return names


def _module_of(fn: Any) -> str:
    target = getattr(fn, "__func__", fn)
    return getattr(target, "__module__", None) or type(target).__module__


class _DeferredCall:
    """An on_commit receiver waiting for its transaction (a commit hook)."""

    __slots__ = ("fn", "signal", "sender", "kwargs", "record", "call")

    def __init__(
        self,
        fn: Any,
        signal: Signal,
        sender: Any,
        kwargs: dict[str, Any],
        record: SendRecord | None = None,
        call: ReceiverCall | None = None,
    ) -> None:
        self.fn = fn
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs
        self.record = record
        self.call = call

    def __call__(self) -> None:
        start = time.perf_counter()
        call = self.call
        try:
            response = self.fn(signal=self.signal, sender=self.sender, **self.kwargs)
        except Exception as err:
            logger.error(
                "Error calling %s after commit (%s)",
                getattr(self.fn, "__qualname__", type(self.fn).__qualname__),
                _safe_str(err),
                exc_info=err,
            )
            _note_failure(self.signal, self.fn, err)
            if call is not None:
                call.status = ReceiverStatus.FAILED_AFTER_COMMIT
                call.error = _describe_exc(err)
                call.traceback = "".join(traceback.format_exception(err))
        else:
            if _streaks:
                _note_success(self.fn)
            if call is not None:
                call.status = ReceiverStatus.RAN_AFTER_COMMIT
                call.result = safe_repr(response)
        if call is not None:
            call.duration = time.perf_counter() - start
            self._report()

    def dropped(self) -> None:
        if self.call is not None:
            self.call.status = ReceiverStatus.DROPPED
            self._report()

    def _report(self) -> None:
        observer = _observer
        if observer is not None and self.record is not None:
            try:
                observer.updated(self.record)
            except Exception:
                logger.exception("Signal observer failed")


# --------------------------------------------------------------------------
# Failure streaks: how many times in a row a receiver has raised
# --------------------------------------------------------------------------

_streaks: dict[Any, int] = {}
_streak_lock = threading.Lock()


def _note_failure(signal: Signal, fn: Any, err: BaseException) -> None:
    if signal is receiver_failed:  # never recurse on our own signal
        return
    key = make_id(fn)
    with _streak_lock:
        streak = _streaks.get(key, 0) + 1
        _streaks[key] = streak
    receiver_failed.send_robust(
        signal, receiver=fn, exception=err, streak=streak, module=_module_of(fn)
    )


def _note_success(fn: Any) -> None:
    with _streak_lock:
        _streaks.pop(make_id(fn), None)


def reset_streak(fn: Any) -> None:
    """Forget ``fn``'s failures (its plugin was re-enabled)."""
    _note_success(fn)


def failure_streak(fn: Any) -> int:
    """How many times in a row ``fn`` has raised (0 after a success)."""
    return _streaks.get(make_id(fn), 0)


# --------------------------------------------------------------------------
# Signal
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiverInfo:
    """What is known about one connected receiver (for introspection)."""

    receiver: Callable[..., Any]
    sender: Any
    weak: bool
    on_commit: bool
    dispatch_uid: Any

    @property
    def name(self) -> str:
        return qualname(self.receiver)

    @property
    def module(self) -> str:
        target = getattr(self.receiver, "__func__", self.receiver)
        return getattr(target, "__module__", None) or type(target).__module__


def qualname(func: Any) -> str:
    target = getattr(func, "__func__", func)
    name = getattr(target, "__qualname__", None)
    if name is None:
        name = type(target).__qualname__
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{name}" if module else name


def _accepts_kwargs(func: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # builtins: nothing to check
        return True
    return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


class Signal(blinker.Signal):
    """A blinker signal with Django's ``django.dispatch.Signal`` API."""

    def __init__(self, doc: str | None = None, name: str | None = None) -> None:
        super().__init__(doc)
        self.name = name or "signal"
        self._lock = threading.RLock()
        # receiver_id -> (on_commit, dispatch_uid)
        self._meta: dict[Any, tuple[bool, Any]] = {}
        # (dispatch_uid, sender_id) -> receiver_id
        self._uids: dict[tuple[Any, Any], Any] = {}
        # sender_id -> tuple of (receiver_id, ref_or_callable, on_commit)
        self._cache: dict[Any, tuple[tuple[Any, Any, bool], ...]] = {}

    def __repr__(self) -> str:
        return f"<Signal {self.name}>"

    # -- connecting ------------------------------------------------------

    def connect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any],
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Any = None,
        on_commit: bool = False,
    ) -> Callable[..., Any]:
        """Connect ``receiver``; ``sender=None`` (or blinker's ANY) means any.

        Connecting the same receiver, or the same ``dispatch_uid``, to the
        same sender twice keeps one connection.
        """
        if not callable(receiver):
            raise TypeError("Signal receivers must be callable.")
        if not _accepts_kwargs(receiver):
            raise ValueError("Signal receivers must accept keyword arguments (**kwargs).")
        if sender is None:
            sender = ANY
        sender_id = ANY_ID if sender is ANY else make_id(sender)
        with self._lock:
            if dispatch_uid is not None:
                key = (dispatch_uid, sender_id)
                if key in self._uids and self._uids[key] in self.receivers:
                    return receiver
            receiver_id = make_id(receiver)
            if dispatch_uid is not None:
                self._uids[(dispatch_uid, sender_id)] = receiver_id
            self._meta[receiver_id] = (on_commit, dispatch_uid)
            self._cache.clear()
            # blinker stores it and sends receiver_connected.
            super().connect(receiver, sender=sender, weak=weak)
            self._cache.clear()
        return receiver

    def disconnect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any] | None = None,
        sender: Any = None,
        dispatch_uid: Any = None,
    ) -> bool:
        """Disconnect a receiver (or ``dispatch_uid``); True if one was."""
        if sender is None:
            sender = ANY
        sender_id = ANY_ID if sender is ANY else make_id(sender)
        with self._lock:
            if dispatch_uid is not None:
                receiver_id = self._uids.get((dispatch_uid, sender_id))
                if receiver_id is None and sender_id is ANY_ID:
                    receiver_id = next(
                        (r for (u, _s), r in self._uids.items() if u == dispatch_uid),
                        None,
                    )
                if receiver_id is None:
                    return False
            elif receiver is not None:
                receiver_id = make_id(receiver)
            else:
                return False
            connected = self._by_receiver.get(receiver_id)
            if receiver_id not in self.receivers or not connected:
                return False
            if sender_id is not ANY_ID and sender_id not in connected:
                return False
            target = receiver
            if target is None:
                ref = self.receivers[receiver_id]
                target = ref() if isinstance(ref, weakref.ref) else ref
            self._disconnect(receiver_id, sender_id)
        if "receiver_disconnected" in self.__dict__ and self.receiver_disconnected.receivers:
            self.receiver_disconnected.send(self, receiver=target, sender=sender)
        return True

    def _disconnect(self, receiver_id: Any, sender_id: Any) -> None:
        with self._lock:
            super()._disconnect(receiver_id, sender_id)
            if receiver_id not in self.receivers or not self._by_receiver.get(receiver_id):
                self.receivers.pop(receiver_id, None)
                self._by_receiver.pop(receiver_id, None)
                self._meta.pop(receiver_id, None)
                with _streak_lock:  # a new receiver at this address starts clean
                    _streaks.pop(receiver_id, None)
                for key in [k for k, r in self._uids.items() if r == receiver_id]:
                    del self._uids[key]
            self._cache.clear()

    def _make_cleanup_receiver(self, receiver_id: Any) -> Callable[[Any], None]:
        def cleanup(ref: Any) -> None:
            if not sys.is_finalizing():
                self._disconnect(receiver_id, ANY_ID)

        return cleanup

    def _make_cleanup_sender(self, sender_id: Any) -> Callable[[Any], None]:
        inner = super()._make_cleanup_sender(sender_id)

        def cleanup(ref: Any) -> None:
            with self._lock:
                inner(ref)
                self._cache.clear()

        return cleanup

    def _clear_state(self) -> None:
        with self._lock:
            super()._clear_state()
            self._meta.clear()
            self._uids.clear()
            self._cache.clear()

    # -- introspection ---------------------------------------------------

    def has_listeners(self, sender: Any = None) -> bool:
        """True if some receiver would be called for ``sender``."""
        return bool(self._entries(sender))

    def receivers_info(self) -> list[ReceiverInfo]:
        """Every connection, in connection order (for the inspector)."""
        out: list[ReceiverInfo] = []
        with self._lock:
            for receiver_id, ref in list(self.receivers.items()):
                fn = ref() if isinstance(ref, weakref.ref) else ref
                if fn is None:
                    continue
                on_commit_, uid = self._meta.get(receiver_id, (False, None))
                senders = self._by_receiver.get(receiver_id) or {ANY_ID}
                for sender_id in senders:
                    if sender_id is ANY_ID:
                        sender: Any = None
                    else:
                        sref = self._weak_senders.get(sender_id)
                        sender = sref() if sref is not None else sender_id
                    out.append(
                        ReceiverInfo(
                            receiver=fn,
                            sender=sender,
                            weak=isinstance(ref, weakref.ref),
                            on_commit=on_commit_,
                            dispatch_uid=uid,
                        )
                    )
        return out

    # -- sending -----------------------------------------------------------

    def _entries(self, sender: Any) -> tuple[tuple[Any, Any, bool], ...]:
        """Receivers for ``sender`` in connection order (cached)."""
        if not self.receivers:
            return ()
        if sender is None:
            sender_id: Any = ANY_ID
        elif sender.__class__ is type or isinstance(sender, type):
            sender_id = id(sender)  # what make_id gives a class, without its checks
        else:
            sender_id = make_id(sender)
        entries = self._cache.get(sender_id)
        if entries is None:
            with self._lock:
                ids = set(self._by_sender.get(ANY_ID, ()))
                if sender_id is not ANY_ID:
                    ids |= self._by_sender.get(sender_id, set())
                entries = tuple(
                    (ref, isinstance(ref, weakref.ref), self._meta.get(rid, (False, None))[0])
                    for rid, ref in self.receivers.items()
                    if rid in ids
                )
                self._cache[sender_id] = entries
        return entries

    def live_receivers(self, sender: Any) -> Iterator[tuple[Callable[..., Any], bool]]:
        """Yield ``(receiver, on_commit)`` for ``sender``, dropping dead refs."""
        for ref, weak, deferred in self._entries(sender):
            if weak:
                fn = ref()
                if fn is None:
                    continue
                yield fn, deferred
            else:
                yield ref, deferred

    def send(self, sender: Any = None, /, **kwargs: Any) -> list[tuple[Any, Any]]:  # type: ignore[override]
        """Call every receiver; the first exception propagates (Django's send)."""
        if _observer is not None:
            return _observed_send(self, sender, kwargs, False)
        if self.is_muted:
            return []
        responses = []
        for fn, weak, deferred in self._entries(sender):
            if weak:
                fn = fn()
                if fn is None:
                    continue
            if deferred and _tx.stack:
                _tx.stack[-1].append(_DeferredCall(fn, self, sender, kwargs))
                responses.append((fn, DEFERRED))
            else:
                responses.append((fn, fn(signal=self, sender=sender, **kwargs)))
        return responses

    def send_robust(self, sender: Any = None, /, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Call every receiver; an exception is logged and returned as its response."""
        if _observer is not None:
            return _observed_send(self, sender, kwargs, True)
        if self.is_muted:
            return []
        responses = []
        for fn, weak, deferred in self._entries(sender):
            if weak:
                fn = fn()
                if fn is None:
                    continue
            if deferred and _tx.stack:
                _tx.stack[-1].append(_DeferredCall(fn, self, sender, kwargs))
                responses.append((fn, DEFERRED))
                continue
            try:
                response = fn(signal=self, sender=sender, **kwargs)
            except Exception as err:
                log_receiver_error(fn, err)
                _note_failure(self, fn, err)
                responses.append((fn, err))
            else:
                if _streaks:
                    _note_success(fn)
                responses.append((fn, response))
        return responses


def log_receiver_error(fn: Any, err: BaseException) -> None:
    logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(fn, "__qualname__", type(fn).__qualname__),
        _safe_str(err),
        exc_info=err,
    )


def _safe_str(err: BaseException) -> str:
    try:
        return str(err)
    except Exception:
        return f"<{type(err).__name__}: unprintable>"


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any):
    """Decorator: connect the function to one signal or a list of signals.

    ``@receiver(post_save, sender=User, dispatch_uid="...")``
    """

    def _decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        signals = signal if isinstance(signal, (list, tuple)) else [signal]
        for s in signals:
            s.connect(func, **kwargs)
        return func

    return _decorator


@contextmanager
def transaction_scope() -> Iterator[None]:
    """A bare scope for code that manages its own commit (tests, scripts).

    Hooks queued inside run when the block exits normally and are dropped if
    it raises.
    """
    begin()
    try:
        yield
    except BaseException:
        end(False)
        raise
    run_hooks(end(True))


receiver_failed = Signal(
    "A receiver raised during send_robust or after commit (kwargs: receiver, "
    "exception, streak = failures in a row, module). sender = the signal.",
    name="receiver_failed",
)
