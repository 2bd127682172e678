"""Fixtures for the reliability suite: seeded databases, snapshots, child processes.

* ``seed`` (session): one SQLite file with two registered users (each with a
  Customer, made while the core listener was connected) and four products.
  Registration costs ~40 ms of argon2id, so the suite registers these once and
  copies the file (SQLite's backup API) wherever it needs a fresh database;
  ``pg_seed`` is the same on PostgreSQL, copied as a template database.
* ``backend`` (session, here): ``sqlite`` then ``postgresql``.
* ``clone_store`` (session): ``with clone_store() as store:`` opens a fresh
  copy of the seed (or of another template) on the session's backend.
  Session-scoped so that hypothesis tests can use it: hypothesis refuses
  function-scoped fixtures, which would be shared by all the examples of a test.
* ``seeded_store``: a fresh copy of the seed for one test.
* ``snapshot`` (session): :func:`db_snapshot`, every row of every table, to
  prove that a refused request wrote nothing.
* ``secret_absent`` (session): :func:`assert_secret_absent`, which fails
  without printing the secret if a secret (or its repr-escaped form) occurs
  in a text (a log record, a payload's repr, an email file, an export).
* ``spawn_child``: runs a script with ``sys.executable``, talks to it over
  pipes (``Child``), and kills whatever still runs at teardown (by pid).

Test modules cannot import this file by name (pytest imports every
conftest.py as ``conftest``), hence the helpers offered as fixtures.
"""

from __future__ import annotations

import itertools
import os
import select as io_select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import storeapp
from storeapp.domain import Store
from storeapp.domain.models import Base
from storeapp.domain.signals import post_save
from storeapp.listeners import core
from tests.postgres import BACKENDS, ThrowAwayPostgres

REPO_ROOT = Path(storeapp.__file__).resolve().parent.parent

# The seed's catalogue: (sku, name, price, stock). Small stocks on purpose,
# so generated carts run out.
SEED_PRODUCTS = (
    ("TEA-1", "Green tea", "1.25", 10),
    ("MUG-1", "Mug", "3.99", 5),
    ("SPOON-1", "Spoon", "0.10", 3),
    ("POT-1", "Teapot", "12.00", 50),
)
SEED_USERS = (
    ("alice", "alice@example.com", "correct horse battery"),
    ("bob", "bob@example.com", "tr0ub4dor&3 staple"),
)


@dataclass(frozen=True)
class Seed:
    """What the seed database holds."""

    path: Path
    users: dict[str, int]  # username -> user id (each has a Customer)
    stock: dict[int, int]  # product id -> initial stock
    prices: dict[int, Decimal]  # product id -> unit price

    @property
    def product_ids(self) -> list[int]:
        return sorted(self.stock)

    def copy_to(self, dest: Path) -> Path:
        """Copy the seed into ``dest`` (a new file) and return it."""
        return copy_db(self.path, dest)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def populate_seed(store: Store) -> tuple[dict[str, int], dict[int, int], dict[int, Decimal]]:
    """Register the seed's users (with the core listener, as the app does) and
    add its products: (users, stock, prices)."""
    core_was_connected = any(
        info.dispatch_uid == "core.create_customer_for_new_user"
        for info in post_save.receivers_info()
    )
    core.ready()  # new users get a Customer, as in the app
    try:
        users = {name: store.register_user(name, email, pw).id for name, email, pw in SEED_USERS}
    finally:
        if not core_was_connected:
            core.shutdown()
    stock: dict[int, int] = {}
    prices: dict[int, Decimal] = {}
    for sku, name, price, inventory in SEED_PRODUCTS:
        product = store.add_product(sku, name, price, inventory)
        stock[product.id] = inventory
        prices[product.id] = Decimal(price)
    for user_id in users.values():
        store.get_customer(user_id)  # proves each user can check out
    return users, stock, prices


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """The seed as a SQLite file (``clone_store`` copies it, or ``pg_seed``)."""
    path = tmp_path_factory.mktemp("seed") / "seed.sqlite3"
    store = Store.open(sqlite_url(path))
    try:
        users, stock, prices = populate_seed(store)
    finally:
        store.close()
    return Seed(path=path, users=users, stock=stock, prices=prices)


@pytest.fixture(scope="session")
def pg_seed(seed: Seed, postgres: ThrowAwayPostgres) -> str:
    """The seed as a PostgreSQL database (a template: clones are copies of it).
    Made by the same steps, so its ids are the SQLite seed's."""
    name = postgres.create_database(prefix="seed")
    store = Store.open(postgres.url(name))
    try:
        made = populate_seed(store)
    finally:
        store.close()
    assert made == (seed.users, seed.stock, seed.prices)
    return name


def copy_db(src: Path, dest: Path) -> Path:
    """Copy a SQLite database with the backup API (safe with WAL files)."""
    source = sqlite3.connect(src)
    target = sqlite3.connect(dest)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    return dest


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Session-scoped here (``clone_store`` is): the suite runs on SQLite, then PostgreSQL."""
    return str(request.param)


#: A database to copy: a SQLite file, or a PostgreSQL template database's name.
Template = Path | str


@dataclass
class Cloner:
    """``with clone_store() as store:`` opens a fresh copy of the seed, on the
    session's backend; ``clone_store(template)`` copies another database (a
    richer template a test module saved with :meth:`save`)."""

    backend: str
    template: Template
    root: Path
    server: ThrowAwayPostgres | None = None

    def __post_init__(self) -> None:
        self.counter = itertools.count()

    @contextmanager
    def __call__(self, template: Template | None = None) -> Iterator[Store]:
        source = template if template is not None else self.template
        if self.server is None:
            assert isinstance(source, Path)
            path = copy_db(source, self.root / f"clone-{next(self.counter)}.sqlite3")
            store = Store.open(sqlite_url(path))
            try:
                yield store
            finally:
                store.close()
            return
        assert isinstance(source, str)
        name = self.server.create_database(template=source, prefix="clone")
        store = Store.open(self.server.url(name))
        try:
            yield store
        finally:
            store.close()
            self.server.drop_database(name)

    def save(self, store: Store) -> Template:
        """A copy of ``store``'s database as it is now, to clone from."""
        if self.server is None:
            database = store.engine.url.database
            assert database
            return copy_db(Path(database), self.root / f"template-{next(self.counter)}.sqlite3")
        store.close()  # a template database must have no connection while it is copied
        source = store.engine.url.database
        assert source
        return self.server.create_database(template=source, prefix="template")


@pytest.fixture(scope="session")
def clone_store(
    backend: str,
    seed: Seed,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Cloner:
    """``with clone_store() as store:`` opens a fresh copy of the seed (see :class:`Cloner`).

    Session-scoped so that hypothesis tests can use it: hypothesis refuses
    function-scoped fixtures, which would be shared by all the examples of a test.
    """
    root = tmp_path_factory.mktemp("clones")
    if backend == "sqlite":
        return Cloner(backend, seed.path, root)
    server: ThrowAwayPostgres = request.getfixturevalue("postgres")
    return Cloner(backend, request.getfixturevalue("pg_seed"), root, server)


@pytest.fixture
def seeded_store(clone_store: Cloner) -> Iterator[Store]:
    with clone_store() as store:
        yield store


# --------------------------------------------------------------------------
# Snapshots
# --------------------------------------------------------------------------


def db_snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), through a fresh connection."""
    with store.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


@pytest.fixture(scope="session")
def snapshot() -> Callable[[Store], dict[str, list[tuple[Any, ...]]]]:
    """:func:`db_snapshot`, as a fixture (hypothesis tests can use it)."""
    return db_snapshot


# --------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------


def _forms(secret: str) -> set[str]:
    """The secret as written, and as ``repr()`` would escape it."""
    forms = {secret, repr(secret)[1:-1], ascii(secret)[1:-1]}
    return {f for f in forms if f}


def assert_secret_absent(text: str, secrets: Iterable[str], where: str = "text") -> None:
    """Fail if any of ``secrets`` occurs in ``text``; never prints a secret.

    ``where`` names what was searched (a log record, a payload, a file) so the
    failure says where the leak is.
    """
    for index, secret in enumerate(secrets):
        for form in _forms(secret):
            pos = text.find(form)
            if pos < 0:
                continue
            redacted = text
            for f in sorted(_forms(secret), key=len, reverse=True):
                redacted = redacted.replace(f, "<SECRET>")
            start = max(0, pos - 80)
            pytest.fail(
                f"secret #{index} found in {where} at offset {pos}: "
                f"...{redacted[start : start + 240]}...",
                pytrace=False,
            )


@pytest.fixture(scope="session")
def secret_absent() -> Callable[..., None]:
    """:func:`assert_secret_absent`, as a fixture."""
    return assert_secret_absent


# --------------------------------------------------------------------------
# Child processes
# --------------------------------------------------------------------------


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("PYTHONWARNINGS", None)
    return env


class Child:
    """A Python child process speaking JSON lines over stdin/stdout.

    ``readline`` waits at most ``timeout`` seconds (select on the raw pipe),
    so a child that hangs fails the test instead of hanging it.
    """

    def __init__(self, proc: subprocess.Popen[bytes], stderr_path: Path) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.stderr_path = stderr_path
        self._buf = b""
        self._eof = False

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def readline(self, timeout: float = 60.0) -> str | None:
        """The next complete line (without newline); None at end of output."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            if self._eof:
                return None  # a partial last line (killed mid-write) is dropped
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"child {self.pid} said nothing for {timeout} s")
            ready, _, _ = io_select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if chunk:
                    self._buf += chunk
                else:
                    self._eof = True
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()

    def rest(self, timeout: float = 60.0) -> list[str]:
        """Every remaining line, up to end of output."""
        lines = []
        while (line := self.readline(timeout)) is not None:
            lines.append(line)
        return lines

    def kill(self) -> int:
        """SIGKILL the child (by pid) and reap it; returns its exit status."""
        if self.proc.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
        return self.proc.wait()

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> None:
        self.kill()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                try:
                    pipe.close()
                except OSError:
                    pass


@pytest.fixture
def spawn_child(tmp_path: Path) -> Iterator[Callable[..., Child]]:
    """``spawn_child(script_text, *args)``: start a Python child.

    The script is written into tmp_path and run with ``sys.executable``;
    stderr goes to a file (``child.stderr()``) so a child that dies on its own
    can be diagnosed. Children still running at teardown are killed by pid.
    """
    children: list[Child] = []
    counter = itertools.count()

    def spawn(script: str, *args: str) -> Child:
        n = next(counter)
        script_path = tmp_path / f"child_{n}.py"
        script_path.write_text(script)
        stderr_path = tmp_path / f"child_{n}.stderr"
        with stderr_path.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, str(script_path), *args],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=child_env(),
                cwd=REPO_ROOT,
            )
        child = Child(proc, stderr_path)
        children.append(child)
        return child

    yield spawn
    for child in children:
        child.close()
