"""The application services: one unit of work (one transaction) per use case.

``Store`` is thread-safe: every call opens its own session. Everything it
returns is detached with the relationships a caller needs already loaded, so
``order.customer.user.username`` or ``order.items[0].product.name`` work in a
receiver, in a worker thread and in the UI after the session has closed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TypeVar

from sqlalchemy.engine import Engine

from storeapp.domain import dispatch
from storeapp.domain import terminal as terminals
from storeapp.domain.errors import InvalidState
from storeapp.domain.store.carts import CartServices
from storeapp.domain.store.catalogue import CatalogueServices
from storeapp.domain.store.database import is_sqlite_file, open_engine
from storeapp.domain.store.orders import OrderServices
from storeapp.domain.store.uow import SqlAlchemyUnitOfWorkFactory, UnitOfWork, UnitOfWorkFactory
from storeapp.domain.store.users import UserServices

logger = logging.getLogger("storeapp.store")
T = TypeVar("T")


class Store(UserServices, CatalogueServices, CartServices, OrderServices):
    """The application services of the point of sale.

    Each group of use cases (users, catalogue, carts, orders) takes its
    transactions from ``units``: by default a
    :class:`SqlAlchemyUnitOfWorkFactory` on ``engine``.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        units: UnitOfWorkFactory | None = None,
        terminal: str | None = None,
    ) -> None:
        #: This till's name, on every order and event it writes: ``terminal``,
        #: else ``STOREAPP_TERMINAL``, else the host name.
        self.terminal = terminals.resolve(terminal)
        super().__init__(
            units if units is not None else SqlAlchemyUnitOfWorkFactory(engine, self.terminal)
        )
        self.engine = engine
        self.url = engine.url

    @classmethod
    def open(cls, url: str, *, echo: bool = False, terminal: str | None = None) -> Store:
        """Open (and create the schema of) the database at SQLAlchemy ``url``
        (``postgresql://`` means psycopg 3), as till ``terminal`` (see
        :attr:`terminal`). A database that cannot be opened is a
        :class:`~storeapp.domain.errors.DatabaseUnavailable`; a bad terminal
        name a :class:`~storeapp.domain.errors.ValidationError`."""
        name = terminals.resolve(terminal)  # checked before any connection is made
        return cls(open_engine(url, echo=echo), terminal=name)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<Store {self.url.render_as_string(hide_password=True)}>"

    def unit_of_work(self) -> AbstractContextManager[UnitOfWork]:
        """A write transaction (BEGIN IMMEDIATE on SQLite).

        One per thread at a time: a receiver running inside a transaction
        that tried to write through the store would wait for the lock its own
        thread holds. It gets a clear error instead (connect it with
        ``on_commit=True`` to write after the commit).
        """
        return self.units.write()

    def read_between_writes(self, read: Callable[[], T]) -> T:
        """Run ``read()`` while no writer is between its send and its commit.

        For a panel that loads what it will then keep up to date from
        signals: a writer that sent ``order_created`` before the panel's
        receivers were connected (so no after-commit hook was queued for
        them) but commits after a plain read would be missed by both. On a
        SQLite file this holds the write lock (BEGIN IMMEDIATE) during the
        read; WAL readers are not blocked by it. An in-memory database needs
        no help (the Store serialises every use of its one connection), and
        inside a transaction of this thread's own the lock would wait for
        itself, so those read at once; so do other databases, whose
        receivers are connected before any writer starts.
        """
        if is_sqlite_file(self.url) and not dispatch.in_transaction():
            try:
                with self.unit_of_work() as uow:
                    uow.session.connection()  # the session is lazy: this runs BEGIN IMMEDIATE
                    return read()
            except InvalidState:  # busy for longer than the busy timeout
                logger.warning("Database busy: reading without pausing writers")
        return read()
