"""The integration tests run on every backend: ``store`` is a fresh database
of each (ids ``[sqlite]`` and ``[postgresql]``). A test that is about SQLite
itself (a file, its pragmas, its locks) uses ``sqlite_store`` and says so in
its name. The email log's fixtures are in :mod:`tests.integration.mailtools`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storeapp.domain import Store
from tests.integration.mailtools import make_plugin, make_worker, shop, smtp_server

__all__ = ["make_plugin", "make_worker", "shop", "smtp_server"]


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    store = Store.open(db_url)
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store.open(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    yield store
    store.close()
