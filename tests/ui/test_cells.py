"""Views paint without calling into Python (storeapp.listeners.cells).

While a worker thread runs Python, every call from Qt's C++ into Python
waits for the GIL; a view over a Python model makes hundreds of them per
repaint. These tests pin the rule that keeps the window responsive during
a rush hour: every model behind a view is a C++ model whose cells Python
wrote beforehand, and nothing between the view and those cells is Python.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QAbstractProxyModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView

from storeapp.listeners.api import CellModel
from storeapp.ui.models import Column, RowsModel

#: Virtuals a view calls while it lays out and paints.
PAINT_VIRTUALS = (
    "data",
    "multiData",
    "index",
    "parent",
    "sibling",
    "rowCount",
    "columnCount",
    "hasChildren",
    "flags",
    "headerData",
    "canFetchMore",
    "filterAcceptsRow",
    "filterAcceptsColumn",
    "lessThan",
    "mapToSource",
    "mapFromSource",
)


def qt_base(cls: type) -> type:
    """The first class in ``cls``'s MRO that PySide6 defines (C++)."""
    return next(c for c in cls.__mro__ if c.__module__.startswith("PySide6"))


def python_overrides(obj: Any) -> list[str]:
    cls = type(obj)
    base = qt_base(cls)
    return [
        f"{cls.__name__}.{name}"
        for name in PAINT_VIRTUALS
        if hasattr(base, name) and getattr(cls, name) is not getattr(base, name)
    ]


def models_behind(view: QAbstractItemView) -> list[QAbstractItemModel]:
    chain = []
    model = view.model()
    while model is not None:
        chain.append(model)
        model = model.sourceModel() if isinstance(model, QAbstractProxyModel) else None
    return chain


def test_every_view_in_the_window_paints_without_python(qtbot: Any, make_window: Any) -> None:
    window = make_window(
        ["core", "email_log", "inventory", "analytics", "inspector", "fault_injector"]
    )
    window.open_plugins_dialog()
    views = window.findChildren(QAbstractItemView)
    assert len(views) >= 10  # catalogue, cart, orders, picker, 4 panels, dialog, ...
    problems = []
    for view in views:
        for model in models_behind(view):
            problems += [
                f"{view.objectName() or type(view).__name__}: {o}" for o in python_overrides(model)
            ]
        delegate = view.itemDelegate()
        if delegate is not None and not type(delegate).__module__.startswith("PySide6"):
            problems.append(f"{view.objectName()}: Python delegate {type(delegate).__qualname__}")
    assert problems == [], "\n".join(problems)


def test_the_guard_catches_a_python_model(qtbot: Any) -> None:
    from PySide6.QtCore import QAbstractTableModel

    class Slow(QAbstractTableModel):
        def rowCount(self, parent: Any = QModelIndex()) -> int:
            return 1

        def columnCount(self, parent: Any = QModelIndex()) -> int:
            return 1

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            return "x"

    assert set(python_overrides(Slow())) == {"Slow.rowCount", "Slow.columnCount", "Slow.data"}
    assert python_overrides(CellModel(["a"])) == []


def test_a_written_cell_replaces_every_role_it_names(qtbot: Any) -> None:
    model = CellModel(["A", "B"], right_aligned=[1])
    red = QBrush(QColor("red"))
    model.insert_rows(
        0,
        [
            [
                {Qt.ItemDataRole.DisplayRole: "a", Qt.ItemDataRole.ForegroundRole: red},
                {Qt.ItemDataRole.DisplayRole: "1"},
            ]
        ],
    )
    index = model.index(0, 0)
    assert index.data() == "a" and index.data(Qt.ItemDataRole.ForegroundRole) == red
    assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole)

    changes: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, _roles: changes.append((a.row(), a.column())))
    model.write_row(
        0,
        [
            {Qt.ItemDataRole.DisplayRole: "a", Qt.ItemDataRole.ForegroundRole: red},
            {Qt.ItemDataRole.DisplayRole: "1"},
        ],
    )
    assert changes == []  # nothing differs: nothing repaints
    model.write_row(
        0,
        [
            {Qt.ItemDataRole.DisplayRole: "a", Qt.ItemDataRole.ForegroundRole: None},
            {Qt.ItemDataRole.DisplayRole: "1"},
        ],
    )
    assert changes == [(0, 0)]
    assert index.data(Qt.ItemDataRole.ForegroundRole) is None


def test_child_rows_get_the_models_columns(qtbot: Any) -> None:
    model = CellModel(["A", "B", "C"])
    model.insert_rows(0, [[{0: "send"}, {}, {}]])
    parent = model.index(0, 0)
    model.insert_rows(0, [[{0: "r1"}, {}, {0: "ok"}], [{0: "r2"}, {}, {0: "failed"}]], parent)
    assert model.rowCount(parent) == 2 and model.columnCount(parent) == 3
    assert model.index(1, 2, parent).data() == "failed"
    model.remove_rows(0, 1, parent)
    assert model.index(0, 0, parent).data() == "r2"


def test_rows_can_be_written_after_clear(qtbot: Any) -> None:
    model = CellModel(["A", "B"])
    model.insert_rows(0, [[{0: "a"}, {0: "b"}]])
    model.clear()  # a new root item: the model must not reach cells through the old one
    model.setColumnCount(2)
    model.insert_rows(0, [[{0: "c"}, {0: "d"}]])
    model.write_row(0, [{0: "e"}, {0: "f"}])
    assert [model.index(0, c).data() for c in range(2)] == ["e", "f"]


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
