"""A till follows the event log: what other tills commit reaches this one.

Signals end at the process; the event log does not. Each till keeps a
*cursor* in the database (``terminal_cursors``: the last event it handled)
and a :class:`Follower` thread reads ``id > cursor`` from the log and hands
each event from another terminal to ``deliver`` (the app replays it on the
same signals, marked remote: :mod:`.remote`), then stores the new cursor:
after their commit, in log order, exactly once per till, and from where it
stopped after a restart or a lost connection.

What wakes it:

* **PostgreSQL**: ``LISTEN storeapp_events`` on a connection of its own,
  outside SQLAlchemy's pool and in autocommit. Every append notifies with
  the event's id alone (:data:`.log.CHANNEL`), delivered at commit. The
  notification is only a wake-up: they are lost while disconnected and
  folded when equal, so the follower always reads the table, and polls it
  every :attr:`Follower.fallback` seconds anyway. Order on (re)connect:
  LISTEN first, *then* read from the cursor, then wait: an event committed
  between the read and the LISTEN would otherwise wait for the next one.
* **SQLite** (several processes on one file): it polls every
  :attr:`Follower.poll` seconds.

Never skipping an event that committed out of id order: appends are
serialised until the commit (:mod:`.log`), so ids are handed out in commit
order and ``id > cursor`` never steps over a row that is still to come.

A lost connection or a restarted server: the follower says so
(:class:`FollowState` through ``on_state``), waits with capped exponential
backoff, connects again and catches up from its cursor.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import DBAPIError, IntegrityError

from storeapp.domain.dispatch.names import describe_exc
from storeapp.domain.events.log import CHANNEL, EVENTS, read_after
from storeapp.domain.events.tables import cursors
from storeapp.domain.store.database import WRITE_OPTION

logger = logging.getLogger("storeapp.follow")

#: ``deliver(row, conn)``: one event from another till. ``conn`` is the
#: transaction that stores the cursor after the batch: a receiver that writes
#: through it (a ``transactional`` follower) is exactly once across crashes too.
Deliver = Callable[[Row[Any], Connection], None]


class FollowState(StrEnum):
    """What the status bar says about the link to the other tills."""

    CONNECTING = "connecting"
    #: PostgreSQL: listening, woken at each commit.
    LIVE = "live"
    #: SQLite: reading the file every ``poll`` seconds.
    POLLING = "polling"
    #: The database could not be reached; the next try is on its way.
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(frozen=True)
class FollowStatus:
    state: FollowState
    #: One line for people: "server closed the connection; next try in 4 s".
    detail: str = ""
    cursor: int = 0


def stored_cursor(conn: Connection, terminal: str) -> int | None:
    return conn.scalar(select(cursors.c.cursor).where(cursors.c.terminal == terminal))


def log_end(conn: Connection) -> int:
    return int(conn.scalar(select(func.coalesce(func.max(EVENTS.c.id), 0))) or 0)


def _save_cursor(conn: Connection, terminal: str, cursor: int) -> None:
    done = conn.execute(
        update(cursors).where(cursors.c.terminal == terminal).values(cursor=cursor, at=time.time())
    )
    if not done.rowcount:
        conn.execute(insert(cursors).values(terminal=terminal, cursor=cursor, at=time.time()))


class Listener:
    """``LISTEN storeapp_events`` on a connection of its own: autocommit,
    outside SQLAlchemy's pool (a pooled connection would be handed to
    someone else, and a transaction would hold the notifications back).

    Opened on first use; after an error, :meth:`close` it and the next
    :meth:`wait` connects again.
    """

    #: How long one wait blocks at most (so a stop request is seen promptly:
    #: ``notifies()`` holds the connection's lock while it waits).
    tick = 0.25

    def __init__(self, engine: Engine) -> None:
        self.url = engine.url.set(drivername="postgresql")
        self.conn: Any = None

    def open(self) -> None:
        if self.conn is None:
            import psycopg

            conn = psycopg.connect(
                self.url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
            )
            conn.execute(f"LISTEN {CHANNEL}")
            self.conn = conn

    def wait(self, timeout: float, stopped: Callable[[], bool]) -> bool:
        """Until a notification (True), ``timeout`` seconds or ``stopped()`` (False)."""
        self.open()
        deadline = time.monotonic() + timeout
        while not stopped():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            for _ in self.conn.notifies(timeout=min(self.tick, left), stop_after=1):
                return True
        return False

    def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken
                pass


class Follower:
    """Follows the event log for one till (``terminal``), in a thread of its own.

    ``start_at``: where a till with no stored cursor begins (None: the log's
    end, as a new till has just read the state it shows).
    ``transactional``: see :attr:`transactional`.
    """

    #: SQLite: seconds between reads.
    poll = 0.1
    #: PostgreSQL: read anyway this often, in case a notification was lost.
    fallback = 5.0
    #: Longest wait between reconnection attempts.
    backoff_cap = 10.0
    first_backoff = 0.5
    batch = 500

    def __init__(
        self,
        engine: Engine,
        terminal: str,
        deliver: Deliver,
        *,
        on_state: Callable[[FollowStatus], None] | None = None,
        start_at: int | None = None,
        transactional: bool = False,
    ) -> None:
        self.engine = engine
        self.terminal = terminal
        self.deliver = deliver
        self.on_state = on_state
        self.start_at = start_at
        #: ``deliver`` writes through the connection it is given (exactly
        #: once with the cursor, across crashes); else it keeps its effect in
        #: memory (exactly once while the process lives).
        self.transactional = transactional
        self._handed = 0  # the last event handed to an in-memory ``deliver``
        self.is_postgres = engine.dialect.name == "postgresql"
        self._write = engine.execution_options(**{WRITE_OPTION: True})
        self._cursor: int | None = None
        self._saved: int | None = None  # the cursor as the database has it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.status = FollowStatus(FollowState.CONNECTING)
        #: Events handed to ``deliver`` since start (for tests and the bench).
        self.delivered = 0
        self.reconnects = 0

    # -- life ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"follow-{self.terminal}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._store_cursor()
        self._set(FollowState.STOPPED)

    def _store_cursor(self) -> None:
        """Store the in-memory cursor if it is ahead (past this till's own events)."""
        if self._cursor is None or self._cursor == self._saved:
            return
        try:
            with self._write.begin() as conn:
                _save_cursor(conn, self.terminal, self._cursor)
            self._saved = self._cursor
        except Exception:  # best effort: a cursor that lags re-reads events it skips
            logger.debug("cursor not stored at stop", exc_info=True)

    @property
    def cursor(self) -> int | None:
        """The last event handled (None until the first read)."""
        return self._cursor

    # -- one pass (any thread; the follower's own runs these) --------------------------

    def load_cursor(self) -> int:
        """The stored cursor; a till without one starts at ``start_at`` or the log's end."""
        with self._write.begin() as conn:
            cursor = stored_cursor(conn, self.terminal)
            if cursor is None:
                cursor = log_end(conn) if self.start_at is None else self.start_at
                try:
                    with conn.begin_nested():
                        _save_cursor(conn, self.terminal, cursor)
                except IntegrityError:  # another process of this till just did
                    cursor = stored_cursor(conn, self.terminal) or 0
        self._cursor = self._saved = cursor
        return cursor

    def catch_up(self, held: Connection | None = None) -> int:
        """Deliver every committed event after the cursor; how many were read.

        ``held``: PostgreSQL, a connection the caller keeps open between
        calls (the thread does: no pool checkout and ping per wake-up)."""
        cursor = self._cursor if self._cursor is not None else self.load_cursor()
        total = 0
        while not self._stop.is_set():
            if self.is_postgres:  # one transaction: read, hand over, move the cursor
                with _transaction(self.engine, held) as conn:
                    rows = read_after(conn, cursor, self.batch)
                    if rows:
                        cursor = self._hand_over(rows, conn)
                self._saved = cursor  # committed
            else:  # SQLite: read without the write lock, take it only to hand over
                with self.engine.connect() as conn:
                    rows = read_after(conn, cursor, self.batch)
                if any(row.terminal != self.terminal for row in rows):
                    with self._write.begin() as conn:
                        cursor = self._hand_over(rows, conn)
                    self._saved = cursor  # committed
                elif rows:  # only this till's own: nothing to deliver, no write lock taken
                    cursor = int(rows[-1].id)  # stored with the next delivery, or at stop()
            if not rows:
                break
            self._cursor = cursor
            total += len(rows)
            if len(rows) < self.batch:
                break
        return total

    def _hand_over(self, rows: list[Row[Any]], conn: Connection) -> int:
        """Deliver ``rows`` from other tills, then store the cursor, in ``conn``'s transaction.

        If that transaction fails after the delivery (the server went away),
        the rows are read again: a ``transactional`` follower's receivers
        wrote through ``conn`` and were rolled back with it, so they get them
        again; in-memory receivers (the panels) had them, and do not.
        """
        handed = self._handed
        for row in rows:
            if row.terminal != self.terminal and (self.transactional or row.id > handed):
                self.deliver(row, conn)
                self.delivered += 1
                self._handed = row.id
        cursor = int(rows[-1].id)
        _save_cursor(conn, self.terminal, cursor)
        return cursor

    # -- the thread ---------------------------------------------------------------------

    def _run(self) -> None:
        backoff = self.first_backoff
        listener = Listener(self.engine) if self.is_postgres else None
        held: Connection | None = None
        while not self._stop.is_set():
            try:
                if listener is not None:
                    listener.open()  # LISTEN first...
                    held = self.engine.connect()
                self.catch_up(held)  # ...then read, then wait
                self._set(FollowState.LIVE if self.is_postgres else FollowState.POLLING)
                backoff = self.first_backoff
                while not self._stop.is_set():
                    if listener is None:
                        self._stop.wait(self.poll)
                    else:
                        listener.wait(self.fallback, self._stop.is_set)
                    self.catch_up(held)
            except Exception as exc:  # the database is gone: say so, wait, try again
                if listener is not None:
                    listener.close()
                if held is not None:
                    held.invalidate()  # a broken connection must not go back to the pool
                    held.close()
                    held = None
                if self._stop.is_set():
                    break
                if not isinstance(exc, (DBAPIError, OSError)) and not _is_psycopg_error(exc):
                    logger.exception("Following the event log failed")
                self.reconnects += 1
                self._set(
                    FollowState.RECONNECTING,
                    f"{_one_line(exc)}; next try in {backoff:g} s",
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.backoff_cap)
        if listener is not None:
            listener.close()
        if held is not None:
            held.close()

    def _set(self, state: FollowState, detail: str = "") -> None:
        status = FollowStatus(state, detail, self._cursor or 0)
        if status == self.status:
            return
        self.status = status
        if state is FollowState.RECONNECTING:
            logger.warning("Other tills out of reach: %s", detail)
        if self.on_state is not None:
            try:
                self.on_state(status)
            except Exception:
                logger.exception("on_state failed")


@contextmanager
def _transaction(engine: Engine, held: Connection | None) -> Iterator[Connection]:
    """A transaction on ``held`` if given, else on a connection from the pool."""
    if held is None:
        with engine.begin() as conn:
            yield conn
    else:
        with held.begin():
            yield held


def _is_psycopg_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return module.startswith("psycopg")


def _one_line(exc: BaseException) -> str:
    text = describe_exc(exc)
    return text.splitlines()[0][:160] if text else type(exc).__name__
