"""The Signal class: Django's ``django.dispatch.Signal`` API on blinker.

:class:`Signal` speaks Django's API: receivers are called as
``receiver(signal=..., sender=..., **kwargs)``, ``send``/``send_robust``
return ``[(receiver, response), ...]``, ``async def`` receivers are run by
``send`` and awaited by ``asend``/``asend_robust`` (see
:mod:`.async_receivers`). What it is connected to, and how (Django's
``connect``/``disconnect`` rules, one entry per connection, blinker's
helpers), is :class:`~.connections.Connections`, its base class.

Two additions Django does not have:

* ``connect(..., on_commit=True)``: the receiver is deferred until the
  surrounding transaction commits (see :mod:`.hooks`) and dropped if it
  rolls back;
* ``connect(..., remote=True)``: the receiver also gets this signal's
  *remote* sends, the events another till committed, which this till's
  follower (:mod:`storeapp.domain.events.follow`) replays with
  ``remote=True`` and the sending ``terminal`` in the kwargs. Only receivers
  that ask get them: a receiver doing work once per shop (stock, an email)
  must not redo it on every till;
* a lock around connect/disconnect, and a per-sender cache of the receiver
  list (sync receivers and async ones apart) so a send is a plain loop.

``send`` and ``send_robust`` share one loop for sync receivers,
:meth:`Signal.deliver`; the async receivers run after it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Container, Iterable
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch import async_receivers, instrumentation
from storeapp.domain.dispatch.connections import ANY, ANY_ID, Connection, Connections, Entry
from storeapp.domain.dispatch.hooks import DEFERRED, DeferredCall, in_transaction, on_commit
from storeapp.domain.dispatch.names import ReceiverInfo, safe_str
from storeapp.domain.dispatch.streaks import failing, note_failure, note_success

if TYPE_CHECKING:
    from storeapp.domain.dispatch.instrumentation import SendLog

__all__ = [
    "ANY",
    "ANY_ID",
    "MAX_DEPTH",
    "Connection",
    "Signal",
    "SignalRecursion",
    "log_receiver_error",
]

logger = logging.getLogger("storeapp.signals")

#: How deep one thread may send a signal from inside its own receivers. A
#: receiver that re-sends its own signal without end (one made 486 order
#: confirmations out of one order) is stopped here: the send at this depth
#: raises :class:`SignalRecursion` into it, which ``send_robust`` counts as
#: that receiver's failure. A legitimate nesting (post_save of a Customer
#: inside post_save of its User) is two or three deep.
MAX_DEPTH = 10


class SignalRecursion(RuntimeError):
    """A signal was sent from its own receivers more than MAX_DEPTH deep."""


class _Sending(threading.local):
    """Per thread: how deep each signal is being sent right now."""

    def __init__(self) -> None:
        self.depth: dict[Signal, int] = {}


_sending = _Sending()


class Signal(Connections):
    """A blinker signal with Django's ``django.dispatch.Signal`` API."""

    def __init__(
        self, doc: str | None = None, name: str | None = None, *, use_caching: bool = False
    ) -> None:
        """``use_caching`` is accepted as Django's ``Signal(use_caching=...)``
        is: the receivers for each sender are always cached here, and the
        cache is cleared on every connect and disconnect."""
        super().__init__(doc)
        self.name = name or "signal"
        #: What receivers are told they were sent by (``signal=``): the
        #: signal itself, or for :attr:`remote`'s sends the local signal.
        self.public: Signal = self
        self._remote: Signal | None = None

    def __repr__(self) -> str:
        return f"<Signal {self.name}>"

    def connect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any],
        sender: Any = None,
        weak: bool = True,
        dispatch_uid: Any = None,
        on_commit: bool = False,
        durable: str | None = None,
        remote: bool = False,
    ) -> Callable[..., Any]:
        """Django's ``connect``, plus remote sends and two ways to run after the commit:

        * ``remote=True``: the receiver gets the sends replayed from other
          tills too (``remote=True``, ``terminal``, ``event_id`` in the
          kwargs), in the follower's thread, after their commit (see
          :attr:`remote`);

        * ``on_commit=True``: called with the signal's own arguments once the
          transaction commits, from memory (a crash in between loses it);
        * ``durable="plugin.name"``: called with the event log's row
          (``event_id``, ``payload``, ``attempt``) by the durable worker, at
          least once, retried, across restarts (see
          :mod:`storeapp.domain.events.durable`). The name is its progress's
          key in the database: keep it stable. Sender filters, weak
          references and ``dispatch_uid`` do not apply.
        """
        if durable is None:
            super().connect(receiver, sender, weak, dispatch_uid, on_commit)
            if remote:
                self.remote.connect(receiver, sender, weak, dispatch_uid)
            return receiver
        if sender is not None or on_commit or dispatch_uid is not None or remote:
            raise ValueError(
                "A durable receiver takes no sender, dispatch_uid or on_commit: "
                "it is delivered every committed event of the signal, after the commit."
            )
        from storeapp.domain.events.durable import registry  # the log knows the signals

        return registry.connect(self, receiver, durable)

    @property
    def remote(self) -> Signal:
        """The receivers of this signal's remote sends (created on first use).

        A signal of its own, so a remote send is an ordinary ``send_robust``
        (observed, robust, cached) that reaches only the receivers connected
        with ``remote=True``; they are told ``signal=`` this signal.
        """
        remote = self._remote
        if remote is None:
            with self._lock:
                if self._remote is None:
                    child = Signal(self.__doc__, f"{self.name}")
                    child.public = self
                    self._remote = child
                remote = self._remote
        return remote

    def disconnect(  # type: ignore[override]
        self,
        receiver: Callable[..., Any] | None = None,
        sender: Any = None,
        dispatch_uid: Any = None,
    ) -> bool:
        """Django's ``disconnect``; a ``remote=True`` connection leaves both lists."""
        found = super().disconnect(receiver, sender, dispatch_uid)
        if self._remote is not None:
            self._remote.disconnect(receiver, sender, dispatch_uid)
        return found

    def disconnect_all(self, receiver: Callable[..., Any]) -> bool:
        found = super().disconnect_all(receiver)
        if self._remote is not None:
            self._remote.disconnect_all(receiver)
        return found

    def receivers_info(self, remote: Container[Any] = ()) -> list[ReceiverInfo]:
        """Every live connection (for the inspector); those made with
        ``remote=True`` are marked ``remote``."""
        child = self._remote
        if child is not None and child.receivers:
            remote = set(child.receivers)
        return super().receivers_info(remote)

    def send_remote(
        self, sender: Any, terminal: str, event_id: int, **kwargs: Any
    ) -> list[tuple[Any, Any]]:
        """Replay another till's committed send to the ``remote=True``
        receivers, robustly (a failing panel never stops the follower)."""
        remote = self._remote
        if remote is None or not remote.receivers:
            return []
        return remote.send_robust(
            sender, remote=True, terminal=terminal, event_id=event_id, **kwargs
        )

    def send(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Call every receiver; the first exception propagates (Django's send).

        Sync receivers are called first, in connection order; then the async
        ones run concurrently in a new event loop (Django: ``async_to_sync``),
        and their responses follow. Inside a running event loop a send that
        has async receivers to run raises RuntimeError, as Django's does:
        ``await signal.asend(...)`` there.
        """
        if self.has_async:
            return self._send_with_async(sender, kwargs, False)
        return self.deliver(sender, kwargs, False)

    def send_robust(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Call every receiver; an exception is logged and returned as its
        response. Async receivers run after the sync ones, as in :meth:`send`."""
        if self.has_async:
            return self._send_with_async(sender, kwargs, True)
        return self.deliver(sender, kwargs, True)

    def _send_with_async(
        self, sender: Any, kwargs: dict[str, Any], robust: bool
    ) -> list[tuple[Any, Any]]:
        """The sync receivers, then the async ones; an observed send records both."""
        if instrumentation.observer is not None:
            return instrumentation.observed_send(self, sender, kwargs, robust, with_async=True)
        return self.deliver(sender, kwargs, robust) + async_receivers.run(
            self, sender, kwargs, robust
        )

    async def asend(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """Django's ``asend``: await every async receiver (concurrently) and
        call every sync one; responses are the sync ones' then the async ones'.

        Sync receivers are called directly, in this thread, before the async
        ones start (Django runs them in a thread with ``sync_to_async``,
        beside the async ones): so they see this thread's transaction (an
        ``on_commit`` receiver still waits for it), and one that blocks
        blocks the event loop.
        """
        responses = self.deliver(sender, kwargs, False)
        if self.has_async:
            responses += await async_receivers.gather(self, sender, kwargs, False)
        return responses

    async def asend_robust(self, sender: Any = None, **kwargs: Any) -> list[tuple[Any, Any]]:
        """:meth:`asend`, catching each receiver's exception as send_robust does."""
        responses = self.deliver(sender, kwargs, True)
        if self.has_async:
            responses += await async_receivers.gather(self, sender, kwargs, True)
        return responses

    def deliver(
        self, sender: Any, kwargs: dict[str, Any], robust: bool, log: SendLog | None = None
    ) -> list[tuple[Any, Any]]:
        """The one send loop for sync receivers, behind :meth:`send`
        (``robust=False``: the first exception propagates) and
        :meth:`send_robust` (``robust=True``: it is logged, counted in the
        receiver's failure streak and returned). Async receivers are run
        after it by :mod:`.async_receivers`.

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
        if not entries:
            return responses
        depths = _sending.depth
        depth = depths.get(self, 0)
        if depth >= MAX_DEPTH:
            raise SignalRecursion(
                f"{self.name} was sent {depth} levels deep from its own receivers; "
                "a receiver re-sends it without end"
            )
        depths[self] = depth + 1
        try:
            self._loop(sender, kwargs, robust, log, responses, entries)
        finally:
            if depth:
                depths[self] = depth
            else:
                del depths[self]
        return responses

    def _loop(
        self,
        sender: Any,
        kwargs: dict[str, Any],
        robust: bool,
        log: SendLog | None,
        responses: list[tuple[Any, Any]],
        entries: Iterable[Entry],
    ) -> None:
        me = self.public
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
                response = fn(signal=me, sender=sender, **kwargs)
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


def log_receiver_error(fn: Any, err: BaseException) -> None:
    """Log a receiver's exception in ``send_robust`` (as Django words it)."""
    logger.error(
        "Error calling %s in Signal.send_robust() (%s)",
        getattr(fn, "__qualname__", type(fn).__qualname__),
        safe_str(err),
        exc_info=err,
    )
