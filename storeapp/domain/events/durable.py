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

The bookkeeping tables are written with Core statements, so they send no
model signals (as Django's ``bulk_update`` sends none).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storeapp.domain.dispatch import instrumentation
from storeapp.domain.dispatch.names import describe_exc, qualname
from storeapp.domain.dispatch.records import ReceiverStatus
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


@dataclass(frozen=True)
class Attempt:
    """One call of a durable receiver with one event, and how it went."""

    durable: Durable
    event: Event
    arguments: dict[str, Any]
    duration: float
    exc: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.exc is None

    @property
    def error(self) -> str:
        return "" if self.exc is None else describe_exc(self.exc)


#: A delivery's outcome (``on_change``) as the inspector shows it.
_STATUS = {
    "done": ReceiverStatus.DELIVERED,
    "retrying": ReceiverStatus.RETRYING,
    "dead": ReceiverStatus.DEAD,
}


def read_events(conn: Connection, signal: str, after: int, limit: int) -> list[Event]:
    """Committed events of ``signal`` with id > ``after``, oldest first."""
    events = EVENTS
    rows = conn.execute(
        select(events.c.id, events.c.signal, events.c.sender, events.c.payload)
        .where(events.c.signal == signal, events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    ).all()
    return [Event(r.id, r.signal, r.sender, _payload(r.payload)) for r in rows]


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    loaded = json.loads(value) if value else {}
    return loaded if isinstance(loaded, dict) else {"value": loaded}


def default_owner() -> str:
    """``host:pid:random``: unique per worker, and tells a dead local owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str | None) -> bool:
    """True if ``owner`` was a process on this machine that no longer runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # another worker of this very process: its lease decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


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


class DurableWorker:
    """Delivers the event log to the durable receivers, off the GUI thread.

    One per process is enough (a worker serves every receiver). ``start()``
    runs it in a daemon thread; :meth:`run_once` does one pass in the
    caller's thread (tests, scripts). ``stop()`` leaves undelivered events
    in the database for the next start.
    """

    def __init__(
        self,
        engine: Any,
        receivers: DurableRegistry = registry,
        *,
        owner: str | None = None,
        poll: float = 0.2,
        lease: float = 15.0,
        batch: int = 50,
        max_attempts: int = 8,
        backoff: float = 0.5,
        backoff_cap: float = 60.0,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[str, int, str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.write_engine = engine.execution_options(**{WRITE_OPTION: True})
        self.receivers = receivers
        self.owner = owner or default_owner()
        self.poll = poll
        self.lease = lease
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.backoff_cap = backoff_cap
        self.clock = clock
        #: Told ``(receiver, event_id, outcome)`` after each delivery
        #: ("done", "retrying", "dead"), in the worker's thread.
        self.on_change = on_change
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: True once this worker has claimed a receiver (release_all has work).
        self._claimed = False

    # -- the thread ---------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="storeapp-durable", daemon=True)
            self._thread.start()
            self.receivers._add_waker(self.wake)

    def wake(self) -> None:
        """Look at the log now (a commit of this process appended to it)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        self.receivers._remove_waker(self.wake)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.release_all()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                busy = self.run_once()
            except Exception:  # a database hiccup: log it, try again later
                logger.exception("Durable delivery pass failed")
                busy = False
            if not busy:
                self._wake.wait(self.poll)
                self._wake.clear()

    # -- one pass -----------------------------------------------------------------------

    def run_once(self) -> bool:
        """Deliver what is due to every receiver; True if something ran."""
        ran = False
        for durable in self.receivers.receivers():
            if self._stop.is_set():
                break
            # Read first: a claim is a write transaction, which on SQLite
            # would take the lock from the tills every pass for nothing.
            if self._has_work(durable) and self._claim(durable.name):
                ran |= self._retry_requested(durable)
                ran |= self._deliver(durable)
        return ran

    def _has_work(self, durable: Durable) -> bool:
        """Something is due: an event after the cursor (not backing off), or
        a dead one someone asked to retry."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(progress.c.cursor, progress.c.next_try).where(
                    progress.c.receiver == durable.name
                )
            ).first()
            cursor, next_try = (0, None) if row is None else (row.cursor, row.next_try)
            if conn.execute(
                select(dead.c.event_id)
                .where(dead.c.receiver == durable.name, dead.c.retry == 1)
                .limit(1)
            ).first():
                return True
            if next_try is not None and next_try > self.clock():
                return False
            return bool(read_events(conn, durable.signal, cursor, 1))

    def _claim(self, name: str) -> bool:
        """Take (or keep) the receiver's lease; False if another worker has it."""
        now = self.clock()
        try:
            return self._claim_row(name, now)
        except IntegrityError:  # another worker inserted the first row at the same time
            return False

    def _claim_row(self, name: str, now: float) -> bool:
        with self.write_engine.begin() as conn:
            # FOR UPDATE: on PostgreSQL two workers' claims of a row queue up
            # here instead of both reading it free (SQLite's BEGIN IMMEDIATE
            # has already serialised them; it renders no FOR UPDATE).
            row = conn.execute(
                select(progress).where(progress.c.receiver == name).with_for_update()
            ).first()
            if row is None:
                conn.execute(
                    progress.insert().values(
                        receiver=name,
                        cursor=0,
                        attempts=0,
                        owner=self.owner,
                        lease_until=now + self.lease,
                    )
                )
                self._claimed = True
                return True
            free = (
                row.owner in (None, self.owner)
                or (row.lease_until or 0) < now
                or owner_is_gone(row.owner)
            )
            if not free:
                return False
            taken = conn.execute(
                update(progress)
                .where(
                    progress.c.receiver == name,
                    or_(progress.c.owner.is_(None), progress.c.owner == row.owner),
                )
                .values(owner=self.owner, lease_until=now + self.lease)
            ).rowcount
            self._claimed = self._claimed or bool(taken)
            return bool(taken)

    def release_all(self) -> None:
        """Give up this worker's claims (a clean stop: others may go on at once)."""
        if not self._claimed:
            return  # it never claimed anything: no write on the way out
        try:
            with self.write_engine.begin() as conn:
                conn.execute(
                    update(progress)
                    .where(progress.c.owner == self.owner)
                    .values(owner=None, lease_until=None)
                )
        except Exception:
            logger.exception("Could not release durable claims")

    def _deliver(self, durable: Durable) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(progress).where(progress.c.receiver == durable.name)).one()
            if row.next_try is not None and row.next_try > self.clock():
                return False  # backing off
            events = read_events(conn, durable.signal, row.cursor, self.batch)
        ran = False
        attempts = row.attempts
        max_attempts = durable.max_attempts or self.max_attempts
        cap = min(self.backoff_cap, durable.backoff_cap or self.backoff_cap)
        for event in events:
            if self._stop.is_set() or self.receivers.get(durable.name) is not durable:
                break
            attempt = self._call(durable, event, attempts + 1)
            ran = True
            if attempt.ok:
                self._advance(durable.name, event.id)
                attempts = 0
                self._tell(attempt, "done")
                continue
            attempts += 1
            if attempts >= max_attempts or isinstance(attempt.exc, GiveUp):
                self._bury(durable.name, event.id, attempts, attempt.error)
                attempts = 0
                self._tell(attempt, "dead")
                continue
            delay = min(cap, self.backoff * 2 ** (attempts - 1))
            self._postpone(durable.name, attempts, self.clock() + delay, attempt.error)
            self._tell(attempt, "retrying")
            break  # in order: the next event waits for this one
        return ran

    def _call(self, durable: Durable, event: Event, attempt: int) -> Attempt:
        arguments = {"event_id": event.id, "payload": event.payload, "attempt": attempt}
        start = time.perf_counter()
        try:
            durable.fn(signal=durable.signal, sender=event.sender, **arguments)
        except Exception as exc:
            logger.error(
                "Durable receiver %s failed on event %d (attempt %d): %s",
                qualname(durable.fn),
                event.id,
                attempt,
                describe_exc(exc),
                exc_info=exc,
            )
            return Attempt(durable, event, arguments, time.perf_counter() - start, exc)
        return Attempt(durable, event, arguments, time.perf_counter() - start)

    def _mine(self, name: str) -> Any:
        return and_(progress.c.receiver == name, progress.c.owner == self.owner)

    def _advance(self, name: str, event_id: int) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(progress)
                .where(self._mine(name))
                .values(
                    cursor=event_id,
                    attempts=0,
                    next_try=None,
                    last_error=None,
                    lease_until=self.clock() + self.lease,
                )
            )

    def _postpone(self, name: str, attempts: int, next_try: float, error: str) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(progress)
                .where(self._mine(name))
                .values(attempts=attempts, next_try=next_try, last_error=error)
            )

    def _bury(self, name: str, event_id: int, attempts: int, error: str) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                dead.insert().values(
                    receiver=name,
                    event_id=event_id,
                    attempts=attempts,
                    error=error,
                    at=self.clock(),
                    retry=0,
                )
            )
            conn.execute(
                update(progress)
                .where(self._mine(name))
                .values(cursor=event_id, attempts=0, next_try=None, last_error=error)
            )

    def _retry_requested(self, durable: Durable) -> bool:
        """Run the dead events someone asked to retry (oldest first)."""
        events = EVENTS
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    dead.c.event_id,
                    dead.c.attempts,
                    events.c.signal,
                    events.c.sender,
                    events.c.payload,
                )
                .join(events, events.c.id == dead.c.event_id)
                .where(dead.c.receiver == durable.name, dead.c.retry == 1)
                .order_by(dead.c.event_id)
            ).all()
        for row in rows:
            event = Event(row.event_id, row.signal, row.sender, _payload(row.payload))
            attempt = self._call(durable, event, row.attempts + 1)
            with self.write_engine.begin() as conn:
                key = and_(dead.c.receiver == durable.name, dead.c.event_id == event.id)
                if attempt.ok:
                    conn.execute(dead.delete().where(key))
                else:
                    conn.execute(
                        update(dead)
                        .where(key)
                        .values(
                            retry=0,
                            attempts=row.attempts + 1,
                            error=attempt.error,
                            at=self.clock(),
                        )
                    )
            self._tell(attempt, "done" if attempt.ok else "dead")
        return bool(rows)

    def _tell(self, attempt: Attempt, outcome: str) -> None:
        """Tell the inspector (its own row per delivery), ``on_change`` and
        the receiver's own ``on_change``."""
        durable, event = attempt.durable, attempt.event
        instrumentation.observe_delivery(
            durable.signal,
            event.sender,
            durable.fn,
            attempt.arguments,
            _STATUS[outcome],
            attempt.duration,
            attempt.exc,
        )
        for tell, args in (
            (self.on_change, (durable.name, event.id, outcome)),
            (durable.on_change, (event.id, outcome)),
        ):
            if tell is not None:
                try:
                    tell(*args)
                except Exception:
                    logger.exception("on_change of the durable receiver %s failed", durable.name)


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
