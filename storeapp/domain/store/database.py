"""Database set-up: URLs, the engine, the schema and its migration, SQLite's pragmas and
locking, connection errors in words, and a log filter.

Importing this module installs :class:`RedactPasswordHashes` on SQLAlchemy's
engine logger, so SQL logging never shows a password hash.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, event, func, inspect, or_, select, update
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from storeapp.domain.errors import DatabaseUnavailable, NotFound
from storeapp.domain.models import Base, User
from storeapp.domain.store.validation import email_key, username_key

logger = logging.getLogger("storeapp.database")

#: The execution option a write transaction's connection carries: on SQLite
#: its BEGIN becomes BEGIN IMMEDIATE (see :func:`configure_sqlite`).
WRITE_OPTION = "storeapp_write"
#: Each SQLite connection's page cache, in KiB (SQLite's default is 2,000).
#: A till keeps several connections open (checkout, the durable worker, the
#: follower, email delivery), and each one's cache filled up as the file
#: grew: peak RSS after 10,000 orders with every panel open 155 -> 150 MB,
#: with no loss of order rate (the file's pages stay in the OS's cache).
SQLITE_CACHE_KIB = 512


class RedactPasswordHashes(logging.Filter):
    """SQL logging (echo, or DEBUG on sqlalchemy.engine) prints fetched rows;
    the one query that must fetch a hash (authenticate) would log it."""

    #: argon2 hashes (``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``) and the
    #: older ``scrypt$N$r$p$salt$hash``.
    PATTERN = re.compile(r"\$(argon2[a-z]*)\$[^'\"\s]+|scrypt\$[^'\",)\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if "scrypt$" in message or "$argon2" in message:
            record.msg = self.PATTERN.sub(_redacted, message)
            record.args = ()
        return True


def _redacted(match: re.Match[str]) -> str:
    return f"${match[1]}$<redacted>" if match[1] else "scrypt$<redacted>"


logging.getLogger("sqlalchemy.engine.Engine").addFilter(RedactPasswordHashes())


def is_sqlite_memory(url: URL) -> bool:
    """An in-memory SQLite database: one connection, shared by every thread."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def is_sqlite_file(url: URL) -> bool:
    """A SQLite database in a file: one writer at a time, WAL readers beside it."""
    return url.get_backend_name() == "sqlite" and not is_sqlite_memory(url)


#: What a bare ``postgresql://`` (or ``postgres://``) URL means: psycopg 3.
#: SQLAlchemy 2.0 would pick psycopg2, which storeapp does not install.
POSTGRES_DRIVER = "postgresql+psycopg"
#: How long a PostgreSQL connection attempt may take (a host that does not answer).
CONNECT_TIMEOUT = 10
#: The advisory lock key schema set-up holds on PostgreSQL (two tills opening
#: a new database at once must not both CREATE TABLE).
SCHEMA_LOCK = 0x5709E_0001


def _masked(text: str) -> str:
    """A URL as text, its password hidden (for one that could not be parsed)."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", text)


def shown_url(url: str | URL) -> str:
    """A URL for a message: the password hidden."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _masked(url)


def parse_url(url: str) -> URL:
    """``url`` parsed, a bare PostgreSQL URL meaning psycopg 3; a bad one is a
    :class:`DatabaseUnavailable` that says what is wrong."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseUnavailable(
            f"Not a database URL: {_masked(url)!r} "
            "(expected e.g. sqlite:///path/to/file or postgresql://user:password@host/db)."
        ) from None
    except ValueError as exc:  # make_url reads the port as an int
        problem = "the port is not a number" if "int()" in str(exc) else str(exc)
        raise DatabaseUnavailable(f"Not a database URL: {_masked(url)!r} ({problem}).") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def is_postgresql(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def open_engine(url: str, *, echo: bool = False, create: bool = True) -> Engine:
    """An engine for SQLAlchemy ``url``, with the schema created.

    ``create_all`` creates only the tables that are missing, so a database
    made by an older storeapp gains the new ones (the event log) when opened,
    and :func:`migrate` adds the columns it lacks. With ``create=False`` (a
    reader, such as ``storeapp events``) nothing is created: an SQLite file
    must already exist, and no table is added.

    Every way this can fail (a bad URL, a missing driver, a server that is
    down or refuses the login) is a :class:`DatabaseUnavailable` whose
    message is one line for a person, never a traceback.
    """
    parsed = parse_url(url)
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
    elif is_postgresql(parsed):
        # pre_ping: a connection the server dropped (a restart) is replaced,
        # not handed to a checkout.
        kwargs.update(pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT})
    private = create and is_sqlite_file(parsed) and not str(parsed.database).startswith("file:")
    if private:
        make_private(Path(str(parsed.database)))
    engine = _create_engine(parsed, kwargs)
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, wal=create)
    try:
        with engine.connect() as conn:  # fail here, in words, not at the first sale
            if create:
                # On SQLite, BEGIN IMMEDIATE: two processes opening an older
                # database at once migrate it one after the other.
                conn.execution_options(**{WRITE_OPTION: True})
                for problem in create_schema(conn):
                    logger.warning("%s", problem)
                conn.commit()
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(connect_problem(parsed, exc)) from None
    if private:  # the -wal and -shm files exist now
        make_private(Path(str(parsed.database)))
    return engine


def make_private(database: Path) -> None:
    """A SQLite database file and its -wal and -shm files readable by their
    owner only (0600), whatever the umask: they hold password hashes and
    customers' emails. A missing database file is made empty with that mode
    (SQLite makes its -wal and -shm files with the database's mode).

    An existing database is never opened here, only chmod-ed: closing any
    descriptor of a file drops every POSIX lock this process holds on it,
    the locks of its open SQLite connections included (SQLite's "How To
    Corrupt" §2.2); another process would then think it the last one and
    delete the WAL under them.
    """
    try:
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError:
        return  # SQLite will say why it cannot open it, in connect_problem's words
    else:
        os.close(fd)  # new: no connection of ours can have it open
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        try:
            if path.stat().st_mode & 0o777 != 0o600:
                path.chmod(0o600)
        except (FileNotFoundError, PermissionError):
            pass


def _create_engine(parsed: URL, kwargs: dict[str, Any]) -> Engine:
    try:
        return create_engine(parsed, **kwargs)
    except NoSuchModuleError:
        raise DatabaseUnavailable(
            f"Unknown kind of database {parsed.drivername!r} in {shown_url(parsed)} "
            "(storeapp knows sqlite:// and postgresql://)."
        ) from None
    except ImportError as exc:  # the dialect is known, its driver is not installed
        if is_postgresql(parsed):
            raise DatabaseUnavailable(
                "PostgreSQL needs the psycopg package (3.2.4 or later), which is not "
                "installed: `make run` installs it, or pip install 'storeapp[postgres]'."
            ) from None
        raise DatabaseUnavailable(
            f"Cannot open {shown_url(parsed)}: its driver is not installed ({exc})."
        ) from None


def connect_problem(url: URL, exc: DBAPIError) -> str:
    """Why connecting to ``url`` failed, in one line."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    text = " ".join(str(orig if orig is not None else exc).split())
    where = shown_url(url)
    # A failed connection carries no SQLSTATE in psycopg 3: its text tells.
    if (
        state in ("28P01", "28000")
        or "password authentication failed" in text
        or "no pg_hba.conf entry" in text
        or re.search(r'role "[^"]*" does not exist', text)
    ):
        return f"The database server refused the login of user {url.username!r} ({where})."
    if state == "3D000" or (f'database "{url.database}" does not exist' in text):
        return f"No database named {url.database!r} on the server ({where})."
    if is_postgresql(url):
        if "Connection refused" in text or "No such file or directory" in text:
            return f"No PostgreSQL server answers at {where} (is it running?)."
        if "resolve host" in text or "Name or service not known" in text:
            return f"Unknown host {url.host!r} in {where}."
        if "timeout" in text.lower():
            return f"The PostgreSQL server at {where} did not answer in {CONNECT_TIMEOUT} s."
    detail = text.removeprefix("connection failed: ")
    return f"Cannot open {where}: {detail[:300]}"


def create_schema(conn: Connection) -> list[str]:
    """Create the missing tables, then add the columns an older schema lacks;
    returns the problems found on the way, in words (see
    :func:`backfill_identity_keys`).

    On PostgreSQL this holds an advisory lock (until ``conn`` commits), so
    two processes opening a new database at once create it once.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK)))
    Base.metadata.create_all(conn)
    return migrate(conn)


#: Columns added after their table was first released: (table, column, DDL
#: type). A database made before gains them, NULL in its existing rows.
ADDED_COLUMNS = (
    ("orders", "terminal", "VARCHAR(64)"),
    ("users", "username_key", "VARCHAR(600)"),
    ("users", "email_key", "VARCHAR(600)"),
)

#: Unique indexes on columns of :data:`ADDED_COLUMNS`, made once the
#: columns are filled (the models declare the same ones for a new database).
ADDED_UNIQUE_INDEXES = (
    ("ix_users_username_key", "users", "username_key"),
    ("ix_users_email_key", "users", "email_key"),
)


def migrate(conn: Connection) -> list[str]:
    """Add the columns of :data:`ADDED_COLUMNS` that the database lacks, fill
    the users' identity keys, then add :data:`ADDED_UNIQUE_INDEXES`."""
    inspector = inspect(conn)
    for table, column, ddl in ADDED_COLUMNS:
        present = {c["name"] for c in inspector.get_columns(table)}
        if column not in present:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")
    problems = backfill_identity_keys(conn)
    for name, table, column in ADDED_UNIQUE_INDEXES:
        conn.exec_driver_sql(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({column})")
    return problems


def backfill_identity_keys(conn: Connection, *, write: bool = True) -> list[str]:
    """Give every user without one its ``username_key`` and ``email_key``
    (``write=False``: only tell which pairs collide).

    Users registered before the keys existed were told apart by ASCII case
    only, so two of them may share a key (``élodie`` and ``ÉLODIE``). The
    older one (the smaller id) gets the key; the newer one keeps working
    (it logs in by its exact username) but keeps no key, and each such pair
    is returned, in words, every time the database is opened, until one of
    the two is renamed or removed: accounts are never merged silently.
    """
    users = User.__table__
    assert isinstance(users, Table)
    missing = conn.execute(
        select(users.c.id).where(or_(users.c.username_key.is_(None), users.c.email_key.is_(None)))
    ).first()
    if missing is None:
        return []
    rows = conn.execute(
        select(
            users.c.id, users.c.username, users.c.email, users.c.username_key, users.c.email_key
        ).order_by(users.c.id)
    ).all()
    by_username = {r.username_key: r for r in rows if r.username_key is not None}
    by_email = {r.email_key: r for r in rows if r.email_key is not None}
    problems: list[str] = []
    for row in rows:
        values: dict[str, str] = {}
        for column, key, taken, label, field in (
            ("username_key", username_key(row.username), by_username, "username", "username"),
            ("email_key", email_key(row.email), by_email, "email address", "email"),
        ):
            if getattr(row, column) is not None:
                continue
            holder = taken.get(key)
            if holder is None or holder.id == row.id:
                taken[key] = row
                values[column] = key
            else:
                problems.append(
                    f"Users {holder.id} and {row.id} have the same {label} once case and "
                    f"accents are compared as people read them "
                    f"({getattr(holder, field)!r} and {getattr(row, field)!r}): "
                    f"rename or remove one of them."
                )
        if values and write:
            conn.execute(update(users).where(users.c.id == row.id).values(**values))
    return problems


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
        cur.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
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
