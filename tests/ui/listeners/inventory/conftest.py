"""Fixtures and helpers of the inventory plugin's UI tests: a seeded store,
the plugin enabled with its panel on a real GUI bridge, and readers of the
model's cells."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import QApplication

from storeapp.domain.demo import seed_catalogue
from storeapp.domain.models import Product
from storeapp.domain.signals import ALL_SIGNALS
from storeapp.domain.store import Store
from storeapp.listeners import core
from storeapp.listeners.inventory.model import InventoryModel
from storeapp.listeners.inventory.plugin import InventoryPlugin
from storeapp.ui.bridge import GuiBridge, QtPluginHost

BG = Qt.ItemDataRole.BackgroundRole
FG = Qt.ItemDataRole.ForegroundRole
TIP = Qt.ItemDataRole.ToolTipRole


# -- fixtures -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    core.ready()  # new users get a Customer
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    seed_catalogue(store)
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def user_id(store: Store) -> int:
    return store.register_user("ada", "ada@example.com", "secret-pass-1").id


@pytest.fixture
def bridge(qapp: QApplication) -> Iterator[GuiBridge]:
    bridge = GuiBridge()
    yield bridge
    bridge.close()


@pytest.fixture
def host(store: Store, bridge: GuiBridge, tmp_path: Any) -> QtPluginHost:
    return QtPluginHost(store, tmp_path, bridge, settings=None)


@pytest.fixture
def plugin(host: QtPluginHost, bridge: GuiBridge, qtbot: Any) -> Iterator[InventoryPlugin]:
    plugin = InventoryPlugin(host)
    plugin.ready()
    try:
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        bridge.flush_now()  # settle the refresh ready() scheduled
        yield plugin
    finally:
        plugin.shutdown()


@pytest.fixture
def model(plugin: InventoryPlugin) -> InventoryModel:
    assert plugin.model is not None
    return plugin.model


# -- helpers ------------------------------------------------------------------


def place(store: Store, user_id: int, *lines: tuple[int, int]) -> Any:
    cart = store.create_cart()
    for product_id, quantity in lines:
        store.add_to_cart(cart.id, product_id, quantity)
    return store.place_order(cart.id, user_id)


def product(store: Store, sku: str) -> Product:
    return next(p for p in store.list_products() if p.sku == sku)


def model_stock(model: InventoryModel) -> dict[int, int]:
    return {r.product_id: r.stock for r in model.rows()}


def equals_db(model: InventoryModel, store: Store) -> bool:
    return model_stock(model) == store.stock_levels()


def inventory_receivers() -> int:
    return sum(
        1
        for signal in ALL_SIGNALS
        for info in signal.receivers_info()
        if info.module == "storeapp.listeners.inventory.plugin"
    )


def cell(model: InventoryModel, sku: str, role: Any, column: int = InventoryModel.STOCK) -> Any:
    row = model.row_of_sku(sku)
    assert row >= 0, f"{sku} is not in the model"
    return model.data(model.index(row, column), role)


def colour(brush: Any) -> str:
    assert isinstance(brush, QBrush), brush
    return brush.color().name()
