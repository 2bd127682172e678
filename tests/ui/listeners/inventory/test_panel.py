"""InventoryPanel: the table, the threshold spin box and the summary."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt
from PySide6.QtWidgets import QLabel, QSpinBox, QTableView

from storeapp.domain.store import Store
from storeapp.listeners.inventory.model import STATUS_ROLE, InventoryModel
from storeapp.listeners.inventory.plugin import InventoryPlugin
from storeapp.listeners.inventory.stock import StockStatus
from storeapp.ui.bridge import GuiBridge, QtPluginHost
from tests.ui.listeners.inventory.conftest import (
    BG,
    TIP,
    cell,
    equals_db,
    place,
    product,
)

# Qt warnings (among them the model tester's complaints) fail the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


def test_panel_shows_every_product_with_sku_name_price_and_stock(
    plugin: InventoryPlugin, model: InventoryModel, store: Store
) -> None:
    assert equals_db(model, store) and len(model.rows()) == 12
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "SKU",
        "Name",
        "Price",
        "Stock",
    ]
    row = model.row_of_sku("COF-250")
    assert [model.data(model.index(row, c)) for c in range(4)] == [
        "COF-250",
        "Coffee beans 250 g",
        "7.90",
        40,
    ]
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    assert view is not None and view.model().rowCount() == 12


def test_updates_never_reset_the_model_so_the_selection_survives(
    qtbot: Any, plugin: InventoryPlugin, model: InventoryModel, store: Store, user_id: int
) -> None:
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    proxy = view.model()
    mug_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == "MUG-STD")
    view.selectionModel().select(
        proxy.index(mug_row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    store.add_product("AAA-1", "Aardvark plush", "3.00", 9)  # sorts first by name
    place(store, user_id, (product(store, "MUG-STD").id, 1))
    qtbot.waitUntil(lambda: "AAA-1" in model.stock_by_sku() and equals_db(model, store))
    selected = view.selectionModel().selectedRows()
    assert [i.data() for i in selected] == ["MUG-STD"]
    assert resets == []


def test_threshold_comes_from_the_setting_and_the_spinbox_rehighlights(
    qtbot: Any, store: Store, bridge: GuiBridge, tmp_path: Any
) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("inventory/low_stock_threshold", 10)
    plugin = InventoryPlugin(QtPluginHost(store, tmp_path, bridge, settings))
    plugin.ready()
    try:
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        model = plugin.model
        assert model is not None
        box = panel.findChild(QSpinBox, "lowStockThreshold")
        assert box is not None and box.value() == 10
        # MUG-STD has 8: low at 10 ...
        assert cell(model, "MUG-STD", STATUS_ROLE) == StockStatus.LOW
        assert cell(model, "MUG-STD", TIP).startswith("Low stock")
        changed: list[Any] = []
        model.dataChanged.connect(lambda *args: changed.append(args))
        box.setValue(7)  # ... fine at 7
        assert changed, "changing the threshold must repaint the rows"
        assert cell(model, "MUG-STD", BG) is None and cell(model, "MUG-STD", TIP) is None
        assert plugin.threshold == 7
        box.setValue(8)  # "at or below"
        assert cell(model, "MUG-STD", STATUS_ROLE) == StockStatus.LOW
    finally:
        plugin.shutdown()


def test_default_threshold_is_five(plugin: InventoryPlugin, model: InventoryModel) -> None:
    box = plugin.panel.findChild(QSpinBox, "lowStockThreshold")  # type: ignore[union-attr]
    assert box.value() == 5 and model.threshold == 5


def test_a_new_product_is_sorted_into_place_and_the_summary_follows_each_refresh(
    qtbot: Any, plugin: InventoryPlugin, model: InventoryModel, store: Store
) -> None:
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    summary = plugin.panel.findChild(QLabel, "inventorySummary")  # type: ignore[union-attr]
    assert summary.text() == "12 products · 0 low · 0 out of stock"
    refreshes: list[int] = []
    model.refreshed.connect(lambda: refreshes.append(1))

    store.add_product("AAA-1", "Aardvark plush", "3.00", 0)  # sorts first by name
    qtbot.waitUntil(lambda: "AAA-1" in model.stock_by_sku())
    assert view.model().index(0, InventoryModel.SKU).data() == "AAA-1"
    assert summary.text() == "13 products · 0 low · 1 out of stock"
    assert refreshes == [1]  # once per refresh, not once per cell

    plugin.set_threshold(8)  # MUG-STD has 8
    assert summary.text() == "13 products · 1 low · 1 out of stock"
    assert refreshes == [1, 1]


def test_the_threshold_chosen_in_the_spin_box_is_there_at_the_next_start(
    qtbot: Any, store: Store, bridge: GuiBridge, tmp_path: Any
) -> None:
    ini, ini_format = str(tmp_path / "settings.ini"), QSettings.Format.IniFormat
    plugin = InventoryPlugin(QtPluginHost(store, tmp_path, bridge, QSettings(ini, ini_format)))
    plugin.ready()
    try:
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        box = panel.findChild(QSpinBox, "lowStockThreshold")
        assert box is not None and box.value() == 5
        box.setValue(9)
    finally:
        plugin.shutdown()

    # The next start: a new host on the same settings file.
    settings = QSettings(ini, ini_format)
    assert settings.value("inventory/low_stock_threshold") in (9, "9")
    again = InventoryPlugin(QtPluginHost(store, tmp_path, bridge, settings))
    again.ready()
    try:
        panel = again.create_panel()
        qtbot.addWidget(panel)
        assert panel.findChild(QSpinBox, "lowStockThreshold").value() == 9
        assert again.model is not None
        assert cell(again.model, "MUG-STD", STATUS_ROLE) == StockStatus.LOW  # 8 left
    finally:
        again.shutdown()
