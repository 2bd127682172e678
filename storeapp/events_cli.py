"""``storeapp events [--db URL] [--after ID] [--follow]``: the event log as JSON lines.

One event a line, oldest first, each an object with ``id``, ``signal``,
``sender``, ``terminal``, ``at`` (ISO 8601, UTC) and ``payload``. With
``--after ID`` it starts after that event (a reader that remembers the last
id it printed resumes without a gap); with ``--follow`` it keeps printing
each event as it commits, from any process sharing the database (on
PostgreSQL woken by the commit's NOTIFY; on SQLite polling, at most
:data:`POLL_SECONDS` behind), until SIGTERM or SIGINT (exit 0).

Bad input (a URL that is not one, a database that does not exist: this
command never creates one, an ``--after`` that is not an id) is one line on
stderr and exit status 2. No Qt is imported here: it runs where no window can.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from storeapp import settings
from storeapp.domain.errors import DomainError
from storeapp.domain.events import log
from storeapp.domain.events.follow import Listener
from storeapp.domain.store import open_engine

PROG = "storeapp events"
#: How often ``--follow`` looks for new events on SQLite (the issue allows 200 ms).
POLL_SECONDS = 0.1
#: PostgreSQL: ``--follow`` is woken by NOTIFY, and reads anyway this often.
FALLBACK_SECONDS = 15.0
#: Events read per query: a long log is printed page by page.
PAGE = 1000


class UsageError(Exception):
    """Bad input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def _event_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"an event id is a whole number >= 0, not {text!r}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(
        prog=PROG,
        description="Print the event log as JSON lines, oldest first "
        "(keys: id, signal, sender, terminal, at, payload).",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $STOREAPP_DB, else the app's SQLite file)",
    )
    parser.add_argument(
        "--after",
        type=_event_id,
        default=0,
        metavar="ID",
        help="print only the events after this id (the last one you saw)",
    )
    parser.add_argument(
        "--follow",
        action="store_true",
        help="keep printing new events as they commit, until SIGTERM or Ctrl+C",
    )
    return parser.parse_args(argv)


@contextmanager
def stop_on_signals() -> Iterator[Callable[[], bool]]:
    """While inside, SIGTERM and SIGINT ask the loop to stop (it checks the answer)."""
    stopped = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stopped.is_set
        return

    def handler(signum: int, frame: Any) -> None:
        stopped.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stopped.is_set
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def open_log(url: str) -> Engine:
    """An engine on an existing storeapp database (never created here)."""
    try:
        engine = open_engine(url, create=False)
    except DomainError as exc:
        raise UsageError(str(exc)) from None
    except ImportError as exc:  # the URL names a driver that is not installed
        raise UsageError(f"Cannot open {_shown(url)}: its driver is missing ({exc}).") from None
    except SQLAlchemyError as exc:
        raise UsageError(f"Cannot open {_shown(url)}: {_first_line(exc)}") from None
    try:
        tables = set(inspect(engine).get_table_names())
    except SQLAlchemyError as exc:
        engine.dispose()
        raise UsageError(f"Cannot read {_shown(url)}: {_first_line(exc)}") from None
    if "events" not in tables and "orders" not in tables:
        engine.dispose()
        raise UsageError(f"{_shown(url)} is not a storeapp database.")
    return engine


def _shown(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _first_line(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Reader:
    """Pages of events after a cursor; a database from before the log reads as empty."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.has_log = False

    def page(self, after: int) -> list[Any]:
        # A fresh connection (and read transaction) per page: under WAL a
        # transaction held open would keep seeing the same snapshot.
        with self.engine.connect() as conn:
            if not self.has_log:
                self.has_log = inspect(conn).has_table("events")
                if not self.has_log:
                    return []
            return log.read_after(conn, after, PAGE)


def print_events(engine: Engine, after: int, follow: bool, stopped: Callable[[], bool]) -> int:
    reader = Reader(engine)
    out = sys.stdout
    last = after
    # PostgreSQL: woken by each commit's NOTIFY (LISTEN before the first read,
    # so nothing commits unseen in between); a fallback read every 15 s.
    listener = Listener(engine) if follow and engine.dialect.name == "postgresql" else None
    if listener is not None:
        _listen(listener)
    try:
        return _print_loop(reader, out, last, follow, stopped, listener)
    finally:
        if listener is not None:
            listener.close()


def _listen(listener: Listener) -> bool:
    try:
        listener.open()
    except Exception:  # the server is away: poll, and try again at the next wait
        listener.close()
        return False
    return True


def _print_loop(
    reader: Reader,
    out: Any,
    last: int,
    follow: bool,
    stopped: Callable[[], bool],
    listener: Listener | None,
) -> int:
    while True:
        rows = reader.page(last)
        for row in rows:
            out.write(json.dumps(log.as_json_dict(row)) + "\n")
            out.flush()
            last = row.id
        if stopped():
            return 0
        if len(rows) == PAGE:
            continue
        if not follow:
            return 0
        if listener is not None and _listen(listener):
            try:
                listener.wait(FALLBACK_SECONDS, stopped)
                continue
            except Exception:  # connection lost: poll once, reconnect at the next wait
                listener.close()
        time.sleep(POLL_SECONDS)  # a signal's handler runs here; the check above sees it


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        with stop_on_signals() as stopped:
            engine = open_log(settings.resolve_db_url(args.db, create=False))
            try:
                return print_events(engine, args.after, args.follow, stopped)
            except SQLAlchemyError as exc:
                raise UsageError(f"Cannot read the event log: {_first_line(exc)}") from None
            finally:
                engine.dispose()
    except UsageError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `storeapp events | head`: the reader has had enough
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:  # before the handlers were in place
        return 0
