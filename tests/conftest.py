"""Fixtures shared by every test.

* ``store``: a real :class:`Store` on a SQLite file in the test's tmp_path
  (tests/integration and tests/reliability override it: there it runs on
  each backend in turn).
* ``backend``: ``"sqlite"`` then ``"postgresql"`` (test ids ``[sqlite]``,
  ``[postgresql]``); ``db_url``: a fresh database of that backend, with the
  schema; ``new_db_url(backend)``: another one.
* ``postgres`` (session): the throw-away PostgreSQL server (tests/postgres.py),
  started by the first test that needs it and stopped at the end.
* ``core_ready``: the core listener connected (as the app does at start-up).
* ``table_rows``: every row of every table, to prove a refused request wrote
  nothing.
* an autouse guard that leaves the signals as it found them (whatever a test
  connected is disconnected, core included) and fails a test that leaves a
  transaction scope open on its thread.
"""

from __future__ import annotations

import itertools
import signal as unix_signals
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storeapp.domain import Store, dispatch
from storeapp.domain.models import Base
from storeapp.domain.signals import ALL_SIGNALS
from storeapp.listeners import core
from tests.postgres import BACKENDS, SCHEMA_TEMPLATE, PostgresUnavailable, ThrowAwayPostgres


@pytest.fixture(autouse=True)
def signals_are_left_as_found() -> Iterator[None]:
    before = {signal: dict(signal.receivers) for signal in ALL_SIGNALS}
    yield
    core.shutdown()
    dispatch.set_observer(None)
    for signal in ALL_SIGNALS:
        signal.is_muted = False
        for receiver_id, ref in list(signal.receivers.items()):
            if before[signal].get(receiver_id) is ref:
                continue
            target = ref() if isinstance(ref, weakref.ref) else ref
            if target is not None:
                signal.disconnect_all(target)
            else:  # already collected: drop the dead entry
                signal.drop_dead_receivers()
    leaked = dispatch.in_transaction()
    dispatch.abandon_scopes()
    assert not leaked, "the test left a transaction scope open on its thread"


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield store
    store.close()


@pytest.fixture
def core_ready() -> None:
    """Connect the core receivers; the autouse guard disconnects them."""
    core.ready()


@pytest.fixture
def table_rows(store: Store) -> Callable[[], dict[str, list[tuple[Any, ...]]]]:
    """A function returning every row of every table, in a stable order."""

    def snapshot() -> dict[str, list[tuple[Any, ...]]]:
        with store.engine.connect() as conn:
            return {
                table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables
            }

    return snapshot


# --------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowAwayPostgres]:
    """The session's PostgreSQL server, with the schema in a template database.

    A server that cannot start fails every test that needs it (never a skip).
    """
    try:
        server = ThrowAwayPostgres.start()
    except PostgresUnavailable as exc:
        pytest.fail(f"PostgreSQL tests cannot run: {exc}", pytrace=False)
    # A run ended with SIGTERM (a CI time limit, a kill) stops as Ctrl+C does,
    # through the teardown below, instead of leaving the server running.
    previous = unix_signals.signal(unix_signals.SIGTERM, _interrupted)
    try:
        with server.admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {SCHEMA_TEMPLATE} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {SCHEMA_TEMPLATE}")
        Store.open(server.url(SCHEMA_TEMPLATE)).close()
        yield server
    finally:
        unix_signals.signal(unix_signals.SIGTERM, previous)
        server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., str]]:
    """``new_db_url(backend, template=None)``: the URL of a new database with
    the schema (a SQLite file in tmp_path, or a database on the session's
    PostgreSQL server, dropped after the test). ``template``: a PostgreSQL
    database to copy instead of the empty schema."""
    made: list[str] = []
    counter = itertools.count()
    server: ThrowAwayPostgres | None = None

    def new(backend: str, template: str | None = None) -> str:
        nonlocal server
        if backend == "sqlite":
            assert template is None, "copy a SQLite template with copy_db"
            return f"sqlite:///{tmp_path / f'db-{next(counter)}.sqlite3'}"
        assert backend == "postgresql", backend
        if server is None:
            server = request.getfixturevalue("postgres")
        name = server.create_database(template or SCHEMA_TEMPLATE)
        made.append(name)
        return server.url(name)

    yield new
    if server is not None:
        for name in made:
            server.drop_database(name)


@pytest.fixture
def db_url(backend: str, new_db_url: Callable[..., str]) -> str:
    """A new database of the test's backend."""
    return new_db_url(backend)
