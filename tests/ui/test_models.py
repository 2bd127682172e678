"""The window's table models (storeapp.ui.models): rows of domain objects
shown through CellModel.sync_rows, the one row-diff."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import Qt

from storeapp.listeners.api import palette
from storeapp.ui.models import Column, ProductTableModel, RowsModel


class ThingModel(RowsModel[Any]):
    columns = (Column("Name", lambda t: t.name), Column("Qty", lambda t: t.qty, True))


def thing(id_: int, name: str, qty: int = 1) -> Any:
    return SimpleNamespace(id=id_, name=name, qty=qty)


def test_set_rows_applies_the_difference(qtbot: Any, qtmodeltester: Any) -> None:
    model = ThingModel()
    model.set_rows([thing(1, "a"), thing(2, "b"), thing(3, "c")])
    events: list[str] = []
    model.rowsInserted.connect(lambda _p, first, last: events.append(f"insert {first}-{last}"))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(f"remove {first}-{last}"))
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, _b, _r: changed.append((a.row(), a.column())))

    model.set_rows([thing(1, "a"), thing(2, "b"), thing(3, "c")])  # equal objects, new instances
    assert events == [] and changed == []
    model.set_rows([thing(1, "a"), thing(3, "c", qty=5), thing(4, "d"), thing(5, "e")])
    assert events == ["remove 1-1", "insert 2-3"]
    # Of the rows kept, only the cell that differs changed (rows 2-3 are new
    # rows being filled in).
    assert [cell for cell in changed if cell[0] < 2] == [(1, 1)]
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["a", "c", "d", "e"]
    assert model.index(1, 1).data() == "5"
    assert model.index(1, 1).data(Qt.ItemDataRole.TextAlignmentRole)
    assert [t.id for t in model.rows()] == [1, 3, 4, 5]
    qtmodeltester.check(model)


def test_set_rows_in_a_new_order_and_upsert_front(qtbot: Any) -> None:
    model = ThingModel()
    model.set_rows([thing(1, "a"), thing(2, "b")])
    model.set_rows([thing(2, "b"), thing(1, "a")])
    assert [model.index(r, 0).data() for r in range(2)] == ["b", "a"]
    model.upsert_front([thing(3, "c"), thing(1, "A")], limit=2)
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == ["c", "b"]
    assert [t.id for t in model.rows()] == [3, 2]


def test_upsert_front_puts_an_older_new_row_in_its_place_and_drops_one_too_old(
    qtbot: Any,
) -> None:
    # Another till's order may be older than this till's newest; a till
    # catching up may hand over orders older than any shown.
    model = ThingModel()
    model.set_rows([thing(9, "i"), thing(7, "g"), thing(5, "e")])
    model.upsert_front([thing(10, "j"), thing(8, "h")], limit=4)
    assert [t.id for t in model.rows()] == [10, 9, 8, 7]
    model.upsert_front([thing(2, "b")], limit=4)
    assert [t.id for t in model.rows()] == [10, 9, 8, 7]


class CountingModel(ThingModel):
    def __init__(self) -> None:
        super().__init__()
        self.built: list[int] = []

    def cells(self, row: Any) -> list[Any]:
        self.built.append(row.id)
        return super().cells(row)


def test_upsert_front_builds_cells_only_for_the_rows_it_is_given(qtbot: Any) -> None:
    # During a rush hour it runs up to 20 times a second over hundreds of
    # orders: the rows not given must not be turned into cells again.
    model = CountingModel()
    model.set_rows([thing(i, f"t{i}") for i in range(10, 0, -1)])
    model.built.clear()
    events: list[str] = []
    model.rowsInserted.connect(lambda _p, first, last: events.append(f"insert {first}-{last}"))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(f"remove {first}-{last}"))
    model.upsert_front([thing(12, "t12"), thing(5, "five"), thing(11, "t11")], limit=10)
    assert sorted(model.built) == [5, 11, 12]
    assert [t.id for t in model.rows()] == [12, 11, 10, 9, 8, 7, 6, 5, 4, 3]
    assert model.index(7, 0).data() == "five"
    assert events == ["remove 8-9", "insert 0-1"]


def test_greyed_rows_use_the_shared_palette(qtbot: Any) -> None:
    foreground = Qt.ItemDataRole.ForegroundRole
    products = ProductTableModel()
    products.set_rows(
        [
            SimpleNamespace(id=1, sku="A", name="a", unit_price=Decimal("1.00"), inventory=0),
            SimpleNamespace(id=2, sku="B", name="b", unit_price=Decimal("1.00"), inventory=3),
        ]
    )
    assert products.index(0, 0).data(foreground) == palette.GREY_FG
    assert products.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "Out of stock"
    assert products.index(1, 0).data(foreground) is None
