"""The durable worker: delivers the event log to the durable receivers.

One worker per process serves every receiver of
:data:`~storeapp.domain.events.durable.registry`, off the GUI thread: it
claims a receiver with a lease (:mod:`.lease`), calls it with each committed
event after its cursor, in order, and records the outcome (done, retrying
with backoff, dead) in the database. See :mod:`storeapp.domain.events.durable` for the
guarantees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select, update

from storeapp.domain.dispatch import instrumentation
from storeapp.domain.dispatch.names import describe_exc, qualname
from storeapp.domain.dispatch.records import ReceiverStatus
from storeapp.domain.events.durable import (
    Durable,
    DurableRegistry,
    Event,
    GiveUp,
    as_payload,
    read_events,
    registry,
)
from storeapp.domain.events.lease import Leases, default_owner
from storeapp.domain.events.log import EVENTS
from storeapp.domain.events.tables import dead, progress
from storeapp.domain.store.database import WRITE_OPTION

logger = logging.getLogger("storeapp.durable")


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
        #: This worker's claims on receivers (:mod:`.lease`).
        self.leases = Leases(self.write_engine, owner or default_owner(), lease, clock)
        self.poll = poll
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
            if self._has_work(durable) and self.leases.claim(durable.name):
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

    def release_all(self) -> None:
        """Give up this worker's claims (a clean stop: others may go on at once)."""
        self.leases.release_all()

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

    def _advance(self, name: str, event_id: int) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(progress)
                .where(self.leases.mine(name))
                .values(
                    cursor=event_id,
                    attempts=0,
                    next_try=None,
                    last_error=None,
                    lease_until=self.leases.until(),
                )
            )

    def _postpone(self, name: str, attempts: int, next_try: float, error: str) -> None:
        with self.write_engine.begin() as conn:
            conn.execute(
                update(progress)
                .where(self.leases.mine(name))
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
                .where(self.leases.mine(name))
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
            event = Event(row.event_id, row.signal, row.sender, as_payload(row.payload))
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
