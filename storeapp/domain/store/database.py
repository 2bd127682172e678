"""Database set-up: the engine, SQLite's pragmas and locking, and a log filter.

Importing this module installs :class:`RedactPasswordHashes` on SQLAlchemy's
engine logger, so SQL logging never shows a password hash.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from storeapp.domain.errors import NotFound, ValidationError
from storeapp.domain.models import Base

#: The execution option a write transaction's connection carries: on SQLite
#: its BEGIN becomes BEGIN IMMEDIATE (see :func:`configure_sqlite`).
WRITE_OPTION = "storeapp_write"


class RedactPasswordHashes(logging.Filter):
    """SQL logging (echo, or DEBUG on sqlalchemy.engine) prints fetched rows;
    the one query that must fetch a hash (authenticate) would log it."""

    PATTERN = re.compile(r"scrypt\$[^'\",)\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if "scrypt$" in message:
            record.msg = self.PATTERN.sub("scrypt$<redacted>", message)
            record.args = ()
        return True


logging.getLogger("sqlalchemy.engine.Engine").addFilter(RedactPasswordHashes())


def is_sqlite_memory(url: URL) -> bool:
    """An in-memory SQLite database: one connection, shared by every thread."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def is_sqlite_file(url: URL) -> bool:
    """A SQLite database in a file: one writer at a time, WAL readers beside it."""
    return url.get_backend_name() == "sqlite" and not is_sqlite_memory(url)


def open_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for SQLAlchemy ``url``, with the schema created.

    ``create_all`` creates only the tables that are missing, so a database
    made by an older storeapp gains the new ones (the event log) when opened.
    With ``create=False`` (a reader, such as ``storeapp events``) nothing is
    created: an SQLite file must already exist, and no table is added.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValidationError(f"Not a database URL: {url!r} ({exc}).", "db") from None
    if not create and is_sqlite_memory(parsed):
        raise NotFound("An in-memory SQLite database starts empty: there is nothing to read.")
    if not create and is_sqlite_file(parsed) and not Path(str(parsed.database)).is_file():
        raise NotFound(f"No database at {parsed.database} (storeapp creates it when it opens it).")
    # hide_parameters: SQL logs and error messages never carry values
    # (a password hash is one).
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if is_sqlite_memory(parsed):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
    engine = create_engine(parsed, **kwargs)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, wal=create)
    if create:
        Base.metadata.create_all(engine)
    return engine


def configure_sqlite(engine: Engine, *, wal: bool = True) -> None:
    """Foreign keys, WAL and a busy timeout on every connection; writers lock at BEGIN.

    ``wal=False`` for a reader that must not change the file: a storeapp
    database is in WAL mode already (the mode is kept in the file).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks
        # SAVEPOINT and would take the write lock too late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        if wal:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: no deadlock upgrading a read lock,
        # and the busy timeout applies.
        if conn.get_execution_options().get(WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
