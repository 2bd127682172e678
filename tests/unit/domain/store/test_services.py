"""The services through a fake unit-of-work factory that records each unit of
work it hands out (cosmicpython's FakeUnitOfWork). In-memory SQLite: no disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.orm import Session, sessionmaker

from storeapp.domain import OutOfStock, Store, UnitOfWork, ValidationError
from storeapp.domain.model_signals import SignalSession
from storeapp.domain.signals import order_created
from storeapp.domain.store import open_engine
from storeapp.domain.store.catalogue import CatalogueServices


class RecordingUnitOfWork(UnitOfWork):
    """The real unit of work, recording whether it committed or rolled back."""

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self.committed = False
        self.rolled_back = False

    def commit(self) -> None:
        super().commit()
        self.committed = True

    def rollback(self) -> None:
        if self.is_open:
            self.rolled_back = True
        super().rollback()


class FakeUnitOfWorkFactory:
    """Hands out recording units of work on an in-memory SQLite, and keeps them."""

    def __init__(self) -> None:
        self.engine = open_engine("sqlite://")
        self.sessions = sessionmaker(self.engine, class_=SignalSession, expire_on_commit=False)
        self.handed_out: list[RecordingUnitOfWork] = []
        self.reads = 0

    @contextmanager
    def write(self) -> Iterator[UnitOfWork]:
        uow = RecordingUnitOfWork(self.sessions())
        self.handed_out.append(uow)
        with uow:
            yield uow

    @contextmanager
    def read(self) -> Iterator[Session]:
        self.reads += 1
        session = self.sessions()
        try:
            yield session
        finally:
            session.close()

    def outcomes(self) -> list[str]:
        return [
            "committed" if u.committed else "rolled back" if u.rolled_back else "open"
            for u in self.handed_out
        ]


@pytest.fixture
def units() -> Iterator[FakeUnitOfWorkFactory]:
    units = FakeUnitOfWorkFactory()
    yield units
    units.engine.dispose()


@pytest.fixture
def store(units) -> Store:
    """Overrides the file-backed store: every transaction comes from ``units``."""
    return Store(units.engine, units=units)


def test_a_use_case_that_succeeds_commits_the_one_unit_of_work_it_was_given(units):
    catalogue = CatalogueServices(units)

    product = catalogue.add_product("TEA", "Green tea", "3.50", 5)

    assert units.outcomes() == ["committed"]
    assert catalogue.get_product(product.id).name == "Green tea"


def test_a_refused_use_case_rolls_its_unit_of_work_back_and_commits_nothing(units, store):
    store.add_product("TEA", "Green tea", "3.50", 5)

    with pytest.raises(ValidationError, match="already exists"):
        store.add_product("TEA", "Other tea", "1.00", 1)

    assert units.outcomes() == ["committed", "rolled back"]
    assert [p.name for p in store.list_products()] == ["Green tea"]


def test_reads_take_a_session_and_no_unit_of_work(units, store):
    tea = store.add_product("TEA", "Green tea", "3.50", 5)

    store.get_product(tea.id)
    store.list_products()
    store.stock_levels()
    store.sales_summary()

    assert units.outcomes() == ["committed"]
    assert units.reads == 4


def test_a_checkout_commits_once_and_sends_order_created_inside_its_unit_of_work(
    units, store, core_ready
):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    cart = store.add_to_cart(store.create_cart().id, tea.id, 2)
    seen = []

    def look(sender, order, **kwargs):
        seen.append(units.handed_out[-1].is_open)

    with order_created.connected_to(look):
        store.place_order(cart.id, user.id)

    assert units.outcomes() == ["committed"] * 5
    assert seen == [True]  # sent before the commit, inside the checkout's transaction
    assert store.stock_levels() == {tea.id: 3}


def test_a_checkout_short_of_stock_rolls_back_and_leaves_stock_and_cart_alone(
    units, store, core_ready
):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    cart = store.add_to_cart(store.create_cart().id, tea.id, 2)
    store.update_product(tea.id, inventory=1)

    with pytest.raises(OutOfStock):
        store.place_order(cart.id, user.id)

    assert units.outcomes()[-1] == "rolled back"
    assert units.outcomes().count("rolled back") == 1
    assert store.stock_levels() == {tea.id: 1}
    assert [i.quantity for i in store.get_cart(cart.id).items] == [2]
