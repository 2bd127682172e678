"""The unit of work (one session, one transaction) and the factory services get them from.

A service never builds a session: it asks its :class:`UnitOfWorkFactory` for
a write (:meth:`~UnitOfWorkFactory.write`, a :class:`UnitOfWork` to commit)
or a read (:meth:`~UnitOfWorkFactory.read`, a session that is only read).
:class:`SqlAlchemyUnitOfWorkFactory` is the real one; tests may hand a
service a fake that records what happened (cosmicpython's FakeUnitOfWork).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from storeapp.domain import dispatch
from storeapp.domain import terminal as terminals
from storeapp.domain.errors import InvalidState
from storeapp.domain.model_signals import SignalSession
from storeapp.domain.store.database import WRITE_OPTION, is_sqlite_memory


class UnitOfWork:
    """One session and one transaction; rolls back on exit unless committed.

    After-commit receivers queued during the transaction run after the real
    commit (and after the session is closed), or are dropped on rollback.
    """

    def __init__(self, session: Session, defer_hooks: bool = False) -> None:
        self.session = session
        #: If true the owner runs take_hooks() itself (the factory does, once
        #: it has released the database and its per-thread guard).
        self.defer_hooks = defer_hooks
        self._open = False
        self._hooks: list[Any] = []

    def __enter__(self) -> UnitOfWork:
        dispatch.begin()
        self._open = True
        return self

    @property
    def is_open(self) -> bool:
        """Entered and neither committed nor rolled back yet."""
        return self._open

    def flush(self) -> None:
        """Flush until clean: post_save receivers may have added objects."""
        session = self.session
        for _ in range(100):
            session.flush()
            if not (session.new or session.dirty or session.deleted):
                return

    def commit(self) -> None:
        if not self._open:
            # A second commit would close a hook scope that is not ours (an
            # enclosing transaction's) or fail on an empty stack.
            raise RuntimeError("This unit of work is not open (already committed?).")
        self.session.commit()
        self._open = False
        self._hooks = dispatch.end(True)

    def rollback(self) -> None:
        """Undo the transaction and drop its after-commit hooks (if still open)."""
        if not self._open:
            return
        self._open = False
        dispatch.end(False)
        self.session.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: rolled back alone, with its after-commit hooks."""
        # SQLAlchemy's context manager releases the savepoint on success and
        # rolls it back on error, including when releasing it fails (the
        # release flushes, and the flush may violate a constraint); either
        # way this savepoint's hook scope is closed exactly once.
        dispatch.begin()
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            dispatch.end(False)
            raise
        else:
            dispatch.end(True)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            self.rollback()
        finally:
            self.session.close()
        if not self.defer_hooks:
            dispatch.run_hooks(self.take_hooks())

    def take_hooks(self) -> list[Any]:
        """The after-commit hooks of a committed unit of work (once)."""
        hooks, self._hooks = self._hooks, []
        return hooks


class UnitOfWorkFactory(Protocol):
    """Where services get their transactions from."""

    def write(self) -> AbstractContextManager[UnitOfWork]:
        """A unit of work for one use case that writes; it commits explicitly."""
        ...

    def read(self) -> AbstractContextManager[Session]:
        """A session for reads; what it returns stays usable once it is closed."""
        ...


class SqlAlchemyUnitOfWorkFactory:
    """Units of work on ``engine``: thread-safe, one writer per thread at a time.

    Every call opens its own session (with ``expire_on_commit=False``, so
    what a service returns is detached and still readable). On SQLite a write
    begins with BEGIN IMMEDIATE; an in-memory database has one connection,
    whose every use is serialised here.
    """

    def __init__(self, engine: Engine, terminal: str | None = None) -> None:
        self.engine = engine
        #: The till its sessions write for (orders and events carry it).
        self.terminal = terminal
        # One connection is shared for in-memory SQLite: serialise its use.
        self._serial = threading.RLock() if is_sqlite_memory(engine.url) else None
        self._local = threading.local()
        write_bind = engine.execution_options(**{WRITE_OPTION: True})
        info = {terminals.SESSION_KEY: terminal} if terminal else {}
        self._write = sessionmaker(
            bind=write_bind,
            class_=SignalSession,
            expire_on_commit=False,
            autoflush=True,
            info=info,
        )
        self._read = sessionmaker(bind=engine, expire_on_commit=False)

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._serial is None:
            yield
        else:
            with self._serial:
                yield

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        """A write transaction (BEGIN IMMEDIATE on SQLite).

        One per thread at a time: a receiver running inside a transaction
        that tried to write through the store would wait for the lock its own
        thread holds. It gets a clear error instead (connect it with
        ``on_commit=True`` to write after the commit).
        """
        if getattr(self._local, "writing", False):
            raise RuntimeError(
                "Store write inside another Store transaction on the same thread; "
                "a receiver that writes must be connected with on_commit=True."
            )
        self._local.writing = True
        uow = None
        try:
            with self._serialised():
                try:
                    with UnitOfWork(self._write(), defer_hooks=True) as uow:
                        yield uow
                except OperationalError as exc:
                    if "locked" in str(exc).lower():
                        raise InvalidState(
                            "The database is busy; please try again in a moment."
                        ) from exc
                    raise
        finally:
            self._local.writing = False
        # After-commit receivers run outside the transaction and the guard:
        # they may write through the store themselves.
        dispatch.run_hooks(uow.take_hooks())

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._serialised():
            session = self._read()
            try:
                yield session
            finally:
                session.close()  # not rollback(): that would expire what we return


class Services:
    """A group of use cases; each runs in its own unit of work from ``units``.

    The services never build a session themselves, so a test can hand them a
    factory of its own and watch what they commit or roll back.
    """

    def __init__(self, units: UnitOfWorkFactory) -> None:
        self.units = units
