"""InventoryModel: rows keyed by product, cells in C++, highlights by the low-stock rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from storeapp.domain.store import Store
from storeapp.listeners.api import CellModel
from storeapp.listeners.inventory.model import SORT_ROLE, STATUS_ROLE, InventoryModel
from storeapp.listeners.inventory.plugin import InventoryPlugin
from storeapp.listeners.inventory.stock import StockRow, StockStatus
from tests.ui.listeners.inventory.conftest import (
    BG,
    FG,
    TIP,
    cell,
    colour,
    equals_db,
    place,
    product,
)

# Qt warnings (among them the model tester's complaints) fail the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


def test_model_passes_the_model_tester_through_inserts_changes_and_removals(
    qtmodeltester: Any, qtbot: Any, model: InventoryModel, store: Store, user_id: int
) -> None:
    qtmodeltester.check(model)
    extra = store.add_product("NEW-1", "New thing", "1.00", 3)
    qtbot.waitUntil(lambda: model.row_of(extra.id) >= 0)
    place(store, user_id, (product(store, "COF-250").id, 2))
    qtbot.waitUntil(lambda: equals_db(model, store))
    store.delete_product(extra.id)
    qtbot.waitUntil(lambda: model.row_of(extra.id) < 0)
    model.set_threshold(20)
    assert equals_db(model, store)


def test_low_and_out_of_stock_rows_are_highlighted_in_distinct_colours(
    qtbot: Any, model: InventoryModel, store: Store
) -> None:
    coffee = product(store, "COF-250")
    assert cell(model, "COF-250", BG) is None and cell(model, "COF-250", TIP) is None

    store.update_product(coffee.id, inventory=2)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 2)
    assert cell(model, "COF-250", TIP).startswith("Low stock")
    assert cell(model, "COF-250", STATUS_ROLE) == StockStatus.LOW
    low_bg, low_fg = colour(cell(model, "COF-250", BG)), colour(cell(model, "COF-250", FG))
    # The whole row is highlighted, not just the stock cell.
    assert colour(cell(model, "COF-250", BG, InventoryModel.NAME)) == low_bg

    store.update_product(coffee.id, inventory=0)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 0)
    assert cell(model, "COF-250", TIP) == "Out of stock"
    out_bg, out_fg = colour(cell(model, "COF-250", BG)), colour(cell(model, "COF-250", FG))
    assert out_bg != low_bg and out_fg != low_fg

    store.update_product(coffee.id, inventory=50)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 50)
    assert cell(model, "COF-250", BG) is None and cell(model, "COF-250", TIP) is None


def test_model_cells_live_in_cpp_so_sorting_and_painting_never_call_python(
    plugin: InventoryPlugin, model: InventoryModel
) -> None:
    assert isinstance(model, CellModel)
    for name in ("data", "index", "rowCount", "columnCount", "flags", "headerData", "setData"):
        assert getattr(type(model), name) is getattr(QStandardItemModel, name), name
    row = model.row_of_sku("COF-250")
    assert not model.index(row, InventoryModel.STOCK).flags() & Qt.ItemFlag.ItemIsEditable
    assert [model.data(model.index(row, c), SORT_ROLE) for c in range(4)] == [
        "cof-250",
        "coffee beans 250 g",
        790,
        40,
    ]
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    alignment = Qt.ItemDataRole.TextAlignmentRole
    assert [model.data(model.index(row, c), alignment) for c in range(4)] == [
        None,
        None,
        right,
        right,
    ]
    assert [model.headerData(c, Qt.Orientation.Horizontal, alignment) for c in range(4)] == [
        None,
        None,
        right,
        right,
    ]
    assert model.data(model.index(row, InventoryModel.SKU), STATUS_ROLE) == StockStatus.OK


def stock_row(product_id: int, name: str, stock: int) -> StockRow:
    return StockRow(product_id, f"SKU-{product_id}", name, Decimal("1.00"), stock)


def test_apply_keeps_rows_where_they_are_adds_new_ones_at_the_end_and_counts_its_changes(
    qtbot: Any,
) -> None:
    model = InventoryModel()
    moves: list[str] = []
    model.rowsInserted.connect(lambda parent, first, last: moves.append(f"+{first}-{last}"))
    model.rowsRemoved.connect(lambda parent, first, last: moves.append(f"-{first}-{last}"))
    refreshed: list[int] = []
    model.refreshed.connect(lambda: refreshed.append(1))
    apple, bread, cheese = (
        stock_row(1, "Apple", 9),
        stock_row(2, "Bread", 9),
        stock_row(3, "Cheese", 9),
    )

    assert model.apply([apple, bread, cheese]) == 3
    assert model.apply([apple, bread, cheese]) == 0 and refreshed == [1]  # no change, no signal
    # The database lists by name: a renamed product moves there, but not in
    # the model (the proxy sorts), so it is rewritten in place, not moved.
    zebra = stock_row(1, "Zebra cake", 9)
    assert model.apply([bread, cheese, zebra]) == 1
    assert [r.product_id for r in model.rows()] == [1, 2, 3] and model.rows()[0] == zebra
    assert moves == ["+0-2"]
    # A new product, listed first, goes to the end; a deleted one leaves.
    donut = stock_row(4, "Donut", 9)
    assert model.apply([donut, zebra, cheese]) == 2
    assert [r.product_id for r in model.rows()] == [1, 3, 4]
    assert moves == ["+0-2", "-1-1", "+2-2"]
    assert (model.row_of(4), model.row_of(2)) == (2, -1)
    assert model.index(2, InventoryModel.NAME).data() == "Donut"


def test_a_new_threshold_repaints_only_the_rows_whose_highlight_changes(qtbot: Any) -> None:
    model = InventoryModel(threshold=5)
    model.apply([stock_row(1, "Out", 0), stock_row(2, "Low", 3), stock_row(3, "Ok", 7)])
    model.apply([*model.rows(), stock_row(4, "Plenty", 50)])
    repainted: set[int] = set()
    model.dataChanged.connect(
        lambda top, bottom, *_: repainted.update(range(top.row(), bottom.row() + 1))
    )
    refreshed: list[int] = []
    model.refreshed.connect(lambda: refreshed.append(1))

    model.set_threshold(8)

    # "Low" says its threshold in its tooltip; "Ok" becomes low.
    assert repainted == {1, 2} and refreshed == [1]
    assert model.index(2, 0).data(STATUS_ROLE) == StockStatus.LOW
    assert model.index(1, 0).data(TIP) == "Low stock: 3 left (threshold 8)"
    assert model.counts() == {StockStatus.OK: 1, StockStatus.LOW: 2, StockStatus.OUT: 1}
    model.set_threshold(8)
    assert refreshed == [1]  # the same threshold: nothing to do


def test_a_refresh_builds_cells_only_for_the_rows_that_changed(
    qtbot: Any, monkeypatch: Any
) -> None:
    """sync_rows asks for every row's cells at each refresh (20 a second in a
    rush); an unchanged row must answer from what it shows, not build them."""
    model = InventoryModel()
    rows = [stock_row(i, f"Thing {i}", 10 + i) for i in range(50)]
    model.apply(rows)
    built: list[int] = []
    make_cells = model._make_cells
    monkeypatch.setattr(
        model, "_make_cells", lambda row: built.append(row.product_id) or make_cells(row)
    )

    assert model.apply([stock_row(i, f"Thing {i}", 10 + i) for i in range(50)]) == 0  # equal
    assert built == []
    rows[7] = stock_row(7, "Thing 7", 3)
    assert model.apply(rows) == 1
    assert built == [7] and model.index(7, InventoryModel.STOCK).data() == 3
