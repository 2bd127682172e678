"""Durable receivers: at-least-once delivery of the event log, after commit.

A receiver connected with ``on_commit=True`` runs from memory once the
transaction commits: a crash between the commit and the call loses it. A
*durable* receiver reads the event log instead (one row per custom signal,
written in the same transaction as the change), so whatever was committed
is delivered, after a crash or a restart too:

* it is connected under a stable name (``"email_log.order_confirmation"``)
  and gets each event of its signal once it is committed, **in the log's
  order**, on a worker thread (never the GUI thread);
* its progress (a cursor: the last event it finished) is stored in the
  database, in the transaction that records the outcome, so a restart goes
  on where it stopped; the receiver gets ``event_id`` as an idempotency key
  (a crash after its effect and before the progress commit runs it again);
* a failure is retried with capped exponential backoff; after
  ``max_attempts`` the event is parked as *dead* for that receiver (the
  receiver moves on), visible, and can be retried by hand; a receiver may
  ask for more (or fewer) attempts and a shorter cap than the worker's, and
  raise :class:`GiveUp` for an event that can never succeed (parked at once);
* several processes on one database never run the same receiver at the
  same time: a worker claims a receiver with a lease it renews, and a
  crashed worker's claim comes back when its lease runs out (at once if the
  owner was a process on this machine that no longer exists).

This module holds the receivers (:class:`DurableRegistry`), what they are
given and the queries any thread may run; :mod:`.worker` delivers.

The bookkeeping tables are written with Core statements, so they send no
model signals (as Django's ``bulk_update`` sends none).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storeapp.domain.events.log import EVENTS
from storeapp.domain.events.tables import dead, progress
from storeapp.domain.store.database import WRITE_OPTION

logger = logging.getLogger("storeapp.durable")


@dataclass(frozen=True)
class Event:
    """One row of the event log, as a durable receiver gets it."""

    id: int
    signal: str
    sender: str
    payload: dict[str, Any]


class GiveUp(Exception):
    """Raised by a durable receiver: this event can never succeed (a refused
    recipient, a payload it cannot read). It is parked as dead at once,
    without the retries that would hold up the events behind it."""


@dataclass(frozen=True)
class Durable:
    """A durable receiver: its name, the signal it follows, the function,
    and what it asked of the worker (None: the worker's own setting)."""

    name: str
    signal: str
    fn: Callable[..., Any]
    #: Attempts before an event is parked as dead.
    max_attempts: int | None = None
    #: The longest wait between attempts (never longer than the worker's).
    backoff_cap: float | None = None
    #: Told ``(event_id, outcome)`` ("done", "retrying", "dead") once the
    #: outcome is committed, in the worker's thread.
    on_change: Callable[[int, str], None] | None = None


@dataclass(frozen=True)
class DeadEvent:
    """An event a receiver gave up on (the dead table's row)."""

    event_id: int
    attempts: int
    error: str
    at: float
    #: Someone asked to try it again; the worker has not yet.
    retry: bool


@dataclass(frozen=True)
class Progress:
    """Where a durable receiver stands (the email log's panel shows it)."""

    receiver: str
    cursor: int
    attempts: int
    next_try: float | None
    last_error: str | None
    owner: str | None
    dead: tuple[int, ...]


def read_events(conn: Connection, signal: str, after: int, limit: int) -> list[Event]:
    """Committed events of ``signal`` with id > ``after``, oldest first."""
    events = EVENTS
    rows = conn.execute(
        select(events.c.id, events.c.signal, events.c.sender, events.c.payload)
        .where(events.c.signal == signal, events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    ).all()
    return [Event(r.id, r.signal, r.sender, as_payload(r.payload)) for r in rows]


def as_payload(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    loaded = json.loads(value) if value else {}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


class DurableRegistry:
    """The durable receivers of this process, by name (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_name: dict[str, Durable] = {}
        self._wakers: list[Callable[[], None]] = []

    def connect(
        self,
        signal: Any,
        fn: Callable[..., Any],
        name: str,
        *,
        max_attempts: int | None = None,
        backoff_cap: float | None = None,
        on_change: Callable[[int, str], None] | None = None,
    ) -> Callable[..., Any]:
        """Deliver every committed event of ``signal`` (a Signal or its name)
        to ``fn(signal=..., sender=..., event_id=..., payload=..., attempt=...)``.

        ``name`` identifies the receiver's progress in the database: keep it
        stable across releases. Connecting a name again replaces its function.
        ``max_attempts``, ``backoff_cap`` and ``on_change``: see :class:`Durable`.
        """
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1.")
        if not name or not isinstance(name, str) or len(name) > 200:
            raise ValueError("A durable receiver needs a stable name (1-200 characters).")
        signal_name = getattr(signal, "name", signal)
        if not isinstance(signal_name, str):
            raise TypeError("signal must be a Signal or a signal's name")
        durable = Durable(name, signal_name, fn, max_attempts, backoff_cap, on_change)
        with self._lock:
            self._by_name[name] = durable
        return fn

    def disconnect(self, name: str) -> bool:
        with self._lock:
            return self._by_name.pop(name, None) is not None

    def receivers(self) -> list[Durable]:
        with self._lock:
            return list(self._by_name.values())

    def get(self, name: str) -> Durable | None:
        with self._lock:
            return self._by_name.get(name)

    def wake(self) -> None:
        """Ask the running workers to look at the log now (a hand retry, a
        commit of this process) instead of at their next poll."""
        with self._lock:
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    def _add_waker(self, wake: Callable[[], None]) -> None:
        with self._lock:
            self._wakers.append(wake)

    def _remove_waker(self, wake: Callable[[], None]) -> None:
        with self._lock:
            if wake in self._wakers:
                self._wakers.remove(wake)


#: The process's durable receivers (what ``Signal.connect(durable=...)`` fills).
registry = DurableRegistry()


# -- queries and the hand retry (any thread) ----------------------------------------------


def begin_at_end(engine: Any, receiver: str) -> int:
    """Start a receiver that has no progress yet at the log's end; its cursor.

    For a receiver that takes over work an earlier version did another way
    (the email log sent from ``on_commit`` receivers): on an existing
    database, the events already in the log were handled then, and a new
    receiver starting at 0 would redo every one of them (an email for each
    order ever placed). Call it when the receiver is connected, before this
    process commits anything it must deliver. A receiver with progress keeps it.
    """
    write = engine.execution_options(**{WRITE_OPTION: True})
    try:
        with write.begin() as conn:
            row = conn.execute(
                select(progress.c.cursor).where(progress.c.receiver == receiver)
            ).first()
            if row is not None:
                return int(row.cursor)
            end = int(conn.scalar(select(func.max(EVENTS.c.id))) or 0)
            conn.execute(progress.insert().values(receiver=receiver, cursor=end, attempts=0))
            return end
    except IntegrityError:  # another till inserted it at the same moment: theirs stands
        with engine.connect() as conn:
            return int(
                conn.scalar(select(progress.c.cursor).where(progress.c.receiver == receiver))
            )


def retry_dead(engine: Any, receiver: str, event_id: int) -> bool:
    """Ask the worker to try a dead event again; False if it is not dead."""
    with engine.execution_options(**{WRITE_OPTION: True}).begin() as conn:
        return bool(
            conn.execute(
                update(dead)
                .where(dead.c.receiver == receiver, dead.c.event_id == event_id)
                .values(retry=1)
            ).rowcount
        )


def progress_of(engine: Any, receiver: str) -> Progress | None:
    with engine.connect() as conn:
        row = conn.execute(select(progress).where(progress.c.receiver == receiver)).first()
        if row is None:
            return None
        buried = conn.scalars(
            select(dead.c.event_id).where(dead.c.receiver == receiver).order_by(dead.c.event_id)
        ).all()
    return Progress(
        receiver,
        row.cursor,
        row.attempts,
        row.next_try,
        row.last_error,
        row.owner,
        tuple(buried),
    )


def dead_events(engine: Any, receiver: str) -> list[DeadEvent]:
    """The events ``receiver`` gave up on, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(dead).where(dead.c.receiver == receiver).order_by(dead.c.event_id)
        ).all()
    return [DeadEvent(r.event_id, r.attempts, r.error, r.at, bool(r.retry)) for r in rows]


def pending_events(engine: Any, receiver: str, signal: str, limit: int) -> tuple[int, list[Event]]:
    """How many committed events of ``signal`` ``receiver`` has still to
    finish, and the first ``limit`` of them (the first is the one it is on)."""
    with engine.connect() as conn:
        cursor = conn.scalar(select(progress.c.cursor).where(progress.c.receiver == receiver)) or 0
        count = conn.scalar(
            select(func.count())
            .select_from(EVENTS)
            .where(EVENTS.c.signal == signal, EVENTS.c.id > cursor)
        )
        return int(count or 0), read_events(conn, signal, cursor, limit) if limit > 0 else []
