"""The Signal class: Django's ``django.dispatch.Signal`` API on blinker.

:class:`Signal` keeps blinker's machinery (weak references, sender filtering,
``connected_to()``, ``muted()``, ``receiver_connected``) and speaks Django's
API: receivers are called as ``receiver(signal=..., sender=..., **kwargs)``,
``connect`` takes ``dispatch_uid``, ``disconnect`` answers whether it removed
something, and ``send``/``send_robust`` return ``[(receiver, response), ...]``.

Two additions Django does not have:

* ``connect(..., on_commit=True)``: the receiver is deferred until the
  surrounding transaction commits (see :mod:`.hooks`) and dropped if it
  rolls back;
* a lock around connect/disconnect, and a per-sender cache of the receiver
  list so a send is a plain loop (blinker re-inspects every receiver on
  every send).

``send`` and ``send_robust`` share one loop, :meth:`Signal.deliver`. This
module overrides blinker internals (``_disconnect``, ``_make_cleanup_*``,
``_clear_state``) and reads its bookkeeping (``_by_sender``, ``_by_receiver``,
``_weak_senders``): pyproject.toml pins the blinker versions this was tested
on, and ``tests/unit/domain/dispatch/test_blinker_internals.py`` fails when a
blinker changes them.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import blinker
from blinker._utilities import make_id
from blinker.base import ANY, ANY_ID

from storeapp.domain.dispatch import instrumentation, streaks
from storeapp.domain.dispatch.hooks import DEFERRED, DeferredCall, in_transaction, on_commit
from storeapp.domain.dispatch.names import ReceiverInfo, accepts_kwargs, safe_str
from storeapp.domain.dispatch.streaks import failing, note_failure, note_success

if TYPE_CHECKING:
    from storeapp.domain.dispatch.instrumentation import SendLog

__all__ = ["ANY", "ANY_ID", "Signal", "log_receiver_error"]

logger = logging.getLogger("storeapp.signals")


#: (reference or receiver, is a weak reference, on_commit): one cached entry.
Entry = tuple[Any, bool, bool]


class Signal(blinker.Signal):
    """A blinker signal with Django's ``django.dispatch.Signal`` API."""

    def __init__(
        self, doc: str | None = None, name: str | None = None, *, use_caching: bool = False
    ) -> None:
        """``use_caching`` is accepted as Django's ``Signal(use_caching=...)``
        is: the receivers for each sender are always cached here, and the
        cache is cleared on every connect and disconnect."""
        super().__init__(doc)
        self.name = name or "signal"
        self._lock = threading.RLock()
        # receiver_id -> (on_commit, dispatch_uid)
        self._meta: dict[Any, tuple[bool, Any]] = {}
        # (dispatch_uid, sender_id) -> receiver_id
        self._uids: dict[tuple[Any, Any], Any] = {}
        # (receiver_id, sender_id) of the connections made with a dispatch_uid
        self._uid_keyed: set[tuple[Any, Any]] = set()
        # sender_id -> entries of the receivers for that sender
        self._cache: dict[Any, tuple[Entry, ...]] = {}

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
        if not accepts_kwargs(receiver):
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
                self._uid_keyed.add((receiver_id, sender_id))
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
        """Disconnect one connection; True if there was one.

        Django's rules: a connection is found by ``dispatch_uid`` if it was
        made with one (else by the receiver) together with its sender, so
        ``disconnect(h)`` removes only the connection made for any sender
        and answers False for one made for a particular sender, and a
        connection made with a ``dispatch_uid`` is removed only by it.
        """
        if sender is None:
            sender = ANY
        sender_id = ANY_ID if sender is ANY else make_id(sender)
        with self._lock:
            if dispatch_uid is not None:
                receiver_id = self._uids.get((dispatch_uid, sender_id))
                if receiver_id is None:
                    return False
            elif receiver is not None:
                receiver_id = make_id(receiver)
                if (receiver_id, sender_id) in self._uid_keyed:
                    return False  # made with a dispatch_uid: only it finds the connection
            else:
                return False
            connected = self._by_receiver.get(receiver_id)
            if receiver_id not in self.receivers or not connected:
                return False
            if sender_id not in connected:
                return False
            target = receiver
            if target is None:
                ref = self.receivers[receiver_id]
                target = ref() if isinstance(ref, weakref.ref) else ref
            self._disconnect_one(receiver_id, sender_id)
        if "receiver_disconnected" in self.__dict__ and self.receiver_disconnected.receivers:
            self.receiver_disconnected.send(self, receiver=target, sender=sender)
        return True

    @contextmanager
    def connected_to(self, receiver: Callable[..., Any], sender: Any = ANY) -> Iterator[None]:
        """blinker's ``connected_to()``: ``receiver`` is connected for the
        block. It leaves by the connection's own key (Django's disconnect
        rules would keep a sender-specific one that blinker's call removes)."""
        self.connect(receiver, sender=sender, weak=False)
        try:
            yield None
        finally:
            self.disconnect(receiver, sender=sender)

    def disconnect_all(self, receiver: Callable[..., Any]) -> bool:
        """Remove every connection of ``receiver``, for any sender and under
        any ``dispatch_uid`` (clean-up code; Django has no such call)."""
        receiver_id = make_id(receiver)
        with self._lock:
            if receiver_id not in self.receivers:
                return False
            self._disconnect(receiver_id, ANY_ID)
        if "receiver_disconnected" in self.__dict__ and self.receiver_disconnected.receivers:
            self.receiver_disconnected.send(self, receiver=receiver, sender=ANY)
        return True

    def _disconnect_one(self, receiver_id: Hashable, sender_id: Hashable) -> None:
        """Remove one (receiver, sender) connection. blinker's own
        ``_disconnect`` with ANY_ID removes the receiver for every sender."""
        if sender_id is not ANY_ID or self._by_receiver.get(receiver_id) == {ANY_ID}:
            self._disconnect(receiver_id, sender_id)
            return
        self._by_sender[ANY_ID].discard(receiver_id)
        self._by_receiver[receiver_id].discard(ANY_ID)
        self._forget_uid(receiver_id, ANY_ID)
        self._cache.clear()

    def _forget_uid(self, receiver_id: Hashable, sender_id: Hashable) -> None:
        self._uid_keyed.discard((receiver_id, sender_id))
        for key in [k for k, r in self._uids.items() if r == receiver_id and k[1] == sender_id]:
            del self._uids[key]

    def drop_dead_receivers(self) -> None:
        """Drop every weakly connected receiver that has been collected.

        blinker does this itself from the weak reference's callback; this is
        for clean-up code that must not rely on it having run.
        """
        with self._lock:
            for receiver_id, ref in list(self.receivers.items()):
                if isinstance(ref, weakref.ref) and ref() is None:
                    self._disconnect(receiver_id, ANY_ID)

    def _disconnect(self, receiver_id: Hashable, sender_id: Hashable) -> None:
        with self._lock:
            super()._disconnect(receiver_id, sender_id)
            if receiver_id not in self.receivers or not self._by_receiver.get(receiver_id):
                self.receivers.pop(receiver_id, None)
                self._by_receiver.pop(receiver_id, None)
                self._meta.pop(receiver_id, None)
                streaks.forget(receiver_id)  # a new receiver at this address starts clean
                for key in [k for k, r in self._uids.items() if r == receiver_id]:
                    del self._uids[key]
                self._uid_keyed = {k for k in self._uid_keyed if k[0] != receiver_id}
            elif sender_id is not ANY_ID:
                self._forget_uid(receiver_id, sender_id)
            self._cache.clear()

    def _make_cleanup_receiver(self, receiver_id: Hashable) -> Callable[[Any], None]:
        def cleanup(ref: Any) -> None:
            if not sys.is_finalizing():
                self._disconnect(receiver_id, ANY_ID)

        return cleanup

    def _make_cleanup_sender(self, sender_id: Hashable) -> Callable[[Any], None]:
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
            self._uid_keyed.clear()
            self._cache.clear()

    # -- introspection ---------------------------------------------------

    def has_listeners(self, sender: Any = None) -> bool:
        """True if some receiver would be called for ``sender``."""
        return bool(self._entries(sender))

    def filters_senders(self) -> bool:
        """True if some receiver is connected for particular senders only."""
        return any(
            bucket for sender_id, bucket in list(self._by_sender.items()) if sender_id != ANY_ID
        )

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

    def _entries(self, sender: Any) -> tuple[Entry, ...]:
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

    def send(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Call every receiver; the first exception propagates (Django's send)."""
        return self.deliver(sender, kwargs, False)

    def send_robust(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Call every receiver; an exception is logged and returned as its response."""
        return self.deliver(sender, kwargs, True)

    def deliver(
        self, sender: Any, kwargs: dict[str, Any], robust: bool, log: SendLog | None = None
    ) -> list[tuple[Any, Any]]:
        """The one send loop behind :meth:`send` (``robust=False``: the first
        exception propagates) and :meth:`send_robust` (``robust=True``: it is
        logged, counted in the receiver's failure streak and returned).

        ``log`` is the observed send's strategy
        (:class:`~storeapp.domain.dispatch.instrumentation.SendLog`): it
        supplies the entries (probes that time each receiver) and the list
        the responses go in, and is told of an error or a deferral. Keep the
        path without one free of any per-receiver test for it.
        """
        if log is None:
            if instrumentation.observer is not None:
                return instrumentation.observed_send(self, sender, kwargs, robust)
            if self.is_muted:
                return []
            responses: list[tuple[Any, Any]] = []
            entries: Iterable[Entry] = self._entries(sender)
        else:
            responses, entries = log.responses, log.entries
        for fn, weak, deferred in entries:
            if weak:
                fn = fn()
                if fn is None:
                    continue
            if deferred and in_transaction():
                on_commit(
                    DeferredCall(fn, self, sender, kwargs, None if log is None else log.deferred())
                )
                responses.append((fn, DEFERRED))
                continue
            try:
                response = fn(signal=self, sender=sender, **kwargs)
            except Exception as err:
                if log is not None:
                    log.failed(err)
                if not robust:
                    raise
                responses.append((fn, err))
                log_receiver_error(fn, err)
                note_failure(self, fn, err)
            else:
                responses.append((fn, response))
                if failing:
                    note_success(fn)
        return responses


def log_receiver_error(fn: Any, err: BaseException) -> None:
    """Log a receiver's exception in ``send_robust`` (as Django words it)."""
    logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(fn, "__qualname__", type(fn).__qualname__),
        safe_str(err),
        exc_info=err,
    )
