"""What a Signal is connected to: Django's connections on blinker's base.

As in Django, the unit is the *connection*, keyed by (``dispatch_uid`` or
the receiver, sender): one function connected under two ``dispatch_uid``
values, or for any sender and for one sender, is two connections and is
called twice by that sender. blinker keys receivers by function, so
:class:`Connections` keeps its own table: ``receivers`` (blinker's attribute,
in connection order: key -> weak reference or receiver) and ``_connections``
(key -> :class:`Connection`). From blinker it keeps ``connected_to()``,
``muted()`` and ``receiver_connected``/``receiver_disconnected``; weak
references clean up after themselves (their callbacks only flag a death, as
Django's do; the next connect, disconnect or cache fill purges under the
lock).

Sends read a per-sender cache of entries, sync receivers and async ones
apart, so :meth:`.signal.Signal.deliver` is a plain loop; every connect and
disconnect clears it. What this module takes from blinker beyond its public
API (``make_id``, ``make_ref``, ``ANY_ID``, ``_clear_state``) is pinned by
``tests/unit/domain/dispatch/test_blinker_internals.py``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Container, Generator, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import blinker
from blinker._utilities import make_id, make_ref
from blinker.base import ANY, ANY_ID

from storeapp.domain.dispatch import streaks
from storeapp.domain.dispatch.names import ReceiverInfo, accepts_kwargs, is_async_receiver

__all__ = ["ANY", "ANY_ID", "CACHE_LIMIT", "Connection", "Connections", "Entry"]

#: (reference or receiver, is a weak reference, on_commit): one cached entry.
Entry = tuple[Any, bool, bool]

#: The per-sender caches are dropped past this many senders (a signal sent
#: by many instances must not grow its cache without bound).
CACHE_LIMIT = 1024


class Connection(NamedTuple):
    """One connection: what is known about it besides its reference."""

    receiver_id: Hashable
    sender_id: Hashable
    on_commit: bool
    dispatch_uid: Any
    is_async: bool


class Connections(blinker.Signal):
    """A blinker signal's receivers kept as Django keeps them: one entry per
    connection. :class:`~storeapp.domain.dispatch.signal.Signal` sends."""

    def __init__(self, doc: str | None = None) -> None:
        super().__init__(doc)
        self._lock = threading.RLock()
        # self.receivers: (dispatch_uid or receiver id, sender id) -> reference
        self._connections: dict[tuple[Any, Any], Connection] = {}
        # sender id -> weak reference to the sender, for connections to it
        self._senders: dict[Hashable, Any] = {}
        # sender id -> entries of the sync / async receivers for that sender
        self._cache: dict[Any, tuple[Entry, ...]] = {}
        self._async_cache: dict[Any, tuple[Entry, ...]] = {}
        #: True while some connection is to an async receiver (send tests it once).
        self.has_async = False
        # Set by weak reference callbacks (which take no lock, as Django's
        # don't): something died, purge it under the lock before next use.
        self._dead = False
        self._dead_senders: list[tuple[Hashable, Any]] = []

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

        A connection is keyed by (``dispatch_uid`` or the receiver, sender):
        connecting the same key again keeps the first connection, and a
        different key is another connection, called once more.
        """
        if not callable(receiver):
            raise TypeError("Signal receivers must be callable.")
        if not accepts_kwargs(receiver):
            raise ValueError("Signal receivers must accept keyword arguments (**kwargs).")
        is_async = is_async_receiver(receiver)
        if is_async and on_commit:
            raise ValueError("An async receiver cannot be connected with on_commit=True.")
        if sender is None:
            sender = ANY
        sender_id = ANY_ID if sender is ANY else make_id(sender)
        receiver_id = make_id(receiver)
        key = (dispatch_uid if dispatch_uid else receiver_id, sender_id)
        with self._lock:
            self._purge()
            if key in self.receivers:
                return receiver
            self.receivers[key] = make_ref(receiver, self._dead_receiver) if weak else receiver
            self._connections[key] = Connection(
                receiver_id, sender_id, on_commit, dispatch_uid or None, is_async
            )
            if sender_id is not ANY_ID and sender_id not in self._senders:
                try:
                    self._senders[sender_id] = make_ref(sender, self._dead_sender(sender_id))
                except TypeError:  # not weakly referenceable (a string, a number)
                    pass
            self._changed()
        if "receiver_connected" in self.__dict__ and self.receiver_connected.receivers:
            self.receiver_connected.send(self, receiver=receiver, sender=sender, weak=weak)
        return receiver

    def disconnect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any] | None = None,
        sender: Any = None,
        dispatch_uid: Any = None,
    ) -> bool:
        """Disconnect one connection; True if there was one.

        Django's rules: a connection is found by its key, ``dispatch_uid`` if
        it was made with one (else the receiver) together with its sender, so
        ``disconnect(h)`` removes only the connection made for any sender
        and answers False for one made for a particular sender, and a
        connection made with a ``dispatch_uid`` is removed only by it.
        """
        if sender is None:
            sender = ANY
        sender_id = ANY_ID if sender is ANY else make_id(sender)
        if dispatch_uid:
            key = (dispatch_uid, sender_id)
        elif receiver is not None:
            key = (make_id(receiver), sender_id)
        else:
            return False
        with self._lock:
            self._purge()
            ref = self.receivers.get(key)
            if ref is None:
                return False
            target = ref() if isinstance(ref, weakref.ref) else ref
            self._remove(key)
            if target is None:
                return False  # it had died: Django clears such a connection, not finds it
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
            self._purge()
            keys = [k for k, c in self._connections.items() if c.receiver_id == receiver_id]
            for key in keys:
                self._remove(key)
        if not keys:
            return False
        if "receiver_disconnected" in self.__dict__ and self.receiver_disconnected.receivers:
            self.receiver_disconnected.send(self, receiver=receiver, sender=ANY)
        return True

    def drop_dead_receivers(self) -> None:
        """Drop every weakly connected receiver that has been collected.

        Sends and connects do this themselves once a weak reference's
        callback has flagged a death; this is for clean-up code that must not
        rely on that callback having run.
        """
        with self._lock:
            self._dead = True
            self._purge()

    # -- bookkeeping (under the lock) -------------------------------------

    def _remove(self, key: tuple[Any, Any]) -> None:
        """Remove one connection; forget what no connection uses any more."""
        self.receivers.pop(key, None)
        conn = self._connections.pop(key, None)
        if conn is not None:
            rest = self._connections.values()
            if not any(c.receiver_id == conn.receiver_id for c in rest):
                streaks.forget(conn.receiver_id)  # a new receiver at this address starts clean
            if conn.sender_id is not ANY_ID and not any(
                c.sender_id == conn.sender_id for c in rest
            ):
                self._senders.pop(conn.sender_id, None)
        self._changed()

    def _changed(self) -> None:
        self._cache.clear()
        self._async_cache.clear()
        self.has_async = any(c.is_async for c in self._connections.values())

    def _dead_receiver(self, ref: Any) -> None:
        """A weakly connected receiver was collected (a weakref callback: it
        may run inside any code, this class's included, so it only flags)."""
        self._dead = True
        self._cache.clear()
        self._async_cache.clear()

    def _dead_sender(self, sender_id: Hashable) -> Callable[[Any], None]:
        """The callback dropping a collected sender's connections, so an
        object later created at its address does not inherit them."""

        def dead(ref: Any) -> None:
            self._dead_senders.append((sender_id, ref))
            self._dead_receiver(ref)

        return dead

    def _purge(self) -> None:
        """Remove what died since the last purge (caller holds the lock)."""
        if not self._dead:
            return
        self._dead = False
        senders, self._dead_senders = self._dead_senders, []
        for sender_id, ref in senders:
            if self._senders.get(sender_id) is ref:
                del self._senders[sender_id]
                for key in [k for k, c in self._connections.items() if c.sender_id == sender_id]:
                    self._remove(key)
        for key, ref in list(self.receivers.items()):
            if isinstance(ref, weakref.ref) and ref() is None:
                self._remove(key)

    def _clear_state(self) -> None:
        with self._lock:
            super()._clear_state()
            self._connections.clear()
            self._senders.clear()
            self._changed()

    # -- introspection ---------------------------------------------------

    def has_listeners(self, sender: Any = None) -> bool:
        """True if some live receiver, sync or async, would be called for ``sender``."""
        entries = self._entries(sender)
        if self.has_async:
            entries += self._async_entries(sender)
        return any(not weak or ref() is not None for ref, weak, _ in entries)

    def has_receivers_for(self, sender: Any) -> bool:
        """blinker's name for :meth:`has_listeners` (ANY: any sender)."""
        return self.has_listeners(None if sender is ANY else sender)

    def filters_senders(self) -> bool:
        """True if some receiver is connected for particular senders only."""
        if self._dead:
            with self._lock:
                self._purge()
        return any(c.sender_id != ANY_ID for c in list(self._connections.values()))

    def receivers_info(self, remote: Container[Any] = ()) -> list[ReceiverInfo]:
        """Every live connection, in connection order (for the inspector);
        those whose key is in ``remote`` are marked so."""
        out: list[ReceiverInfo] = []
        with self._lock:
            self._purge()
            for key, ref in self.receivers.items():
                fn = ref() if isinstance(ref, weakref.ref) else ref
                if fn is None:
                    continue
                conn = self._connections[key]
                if conn.sender_id == ANY_ID:
                    sender: Any = None
                else:
                    sref = self._senders.get(conn.sender_id)
                    sender = sref() if sref is not None else conn.sender_id
                out.append(
                    ReceiverInfo(
                        receiver=fn,
                        sender=sender,
                        weak=isinstance(ref, weakref.ref),
                        on_commit=conn.on_commit,
                        dispatch_uid=conn.dispatch_uid,
                        is_async=conn.is_async,
                        remote=key in remote,
                    )
                )
        return out

    # -- sending -----------------------------------------------------------

    def _entries(self, sender: Any) -> tuple[Entry, ...]:
        """Sync receivers' connections for ``sender``, in connection order (cached)."""
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
            entries = self._fill(sender_id)[0]
        return entries

    def _async_entries(self, sender: Any) -> tuple[Entry, ...]:
        """Async receivers' connections for ``sender``, in connection order (cached)."""
        if not self.receivers:
            return ()
        sender_id = ANY_ID if sender is None else make_id(sender)
        entries = self._async_cache.get(sender_id)
        if entries is None:
            entries = self._fill(sender_id)[1]
        return entries

    def _fill(self, sender_id: Any) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
        """Cache the connections that ``sender_id``'s sends call: sync, async."""
        with self._lock:
            self._purge()
            sync: list[Entry] = []
            coros: list[Entry] = []
            for key, ref in self.receivers.items():
                conn = self._connections[key]
                if conn.sender_id == ANY_ID or conn.sender_id == sender_id:
                    entry = (ref, isinstance(ref, weakref.ref), conn.on_commit)
                    (coros if conn.is_async else sync).append(entry)
            pair = tuple(sync), tuple(coros)
            if self._dead:
                return pair  # something died while we read: cache after the next purge
            if len(self._cache) >= CACHE_LIMIT:
                self._cache.clear()
                self._async_cache.clear()
            self._cache[sender_id], self._async_cache[sender_id] = pair
        return pair

    def live_receivers(self, sender: Any) -> Iterator[tuple[Callable[..., Any], bool]]:
        """Yield ``(receiver, on_commit)`` for ``sender``'s sync receivers, skipping dead refs."""
        for ref, weak, deferred in self._entries(sender):
            if weak:
                fn = ref()
                if fn is None:
                    continue
                yield fn, deferred
            else:
                yield ref, deferred

    def receivers_for(self, sender: Any) -> Generator[Callable[..., Any], None, None]:
        """blinker's call: every live receiver for ``sender``, sync ones first."""
        sender = None if sender is ANY else sender
        for ref, weak, _ in self._entries(sender) + self._async_entries(sender):
            fn = ref() if weak else ref
            if fn is not None:
                yield fn
