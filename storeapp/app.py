"""The composition root (placeholder until the POS window lands)."""

from __future__ import annotations

import sys

from storeapp import settings
from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue, seed_customers
from storeapp.listeners import core


def open_store(db_url: str | None) -> Store:
    store = Store.open(settings.resolve_db_url(db_url))
    seed_catalogue(store)
    return store


def run(db_url: str | None, plugins=None, demo: bool = False, simulate: int = 0) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    store = open_store(db_url)
    core.ready()
    if demo:
        seed_customers(store)
    app = QApplication.instance() or QApplication(sys.argv)
    label = QLabel(f"storeapp: {len(store.list_products())} products in {store!r}")
    label.show()
    return app.exec()
