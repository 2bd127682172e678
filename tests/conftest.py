"""Fixtures shared by every test.

* ``store``: a real :class:`Store` on a SQLite file in the test's tmp_path.
* ``core_ready``: the core listener connected (as the app does at start-up).
* ``table_rows``: every row of every table, to prove a refused request wrote
  nothing.
* an autouse guard that leaves the signals as it found them (whatever a test
  connected is disconnected, core included) and fails a test that leaves a
  transaction scope open on its thread.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from storeapp.domain import Store, dispatch
from storeapp.domain.models import Base
from storeapp.domain.signals import ALL_SIGNALS
from storeapp.listeners import core


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
