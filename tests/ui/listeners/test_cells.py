"""Views paint without calling into Python (storeapp.listeners.cells).

While a worker thread runs Python, every call from Qt's C++ into Python
waits for the GIL; a view over a Python model makes hundreds of them per
repaint. These tests pin the rule that keeps the window responsive during
a rush hour: every model behind a view is a C++ model whose cells Python
wrote beforehand, and nothing between the view and those cells is Python.

The rest pin ``CellModel.sync_rows``, the one row-diff every table uses:
the fewest changes, and nothing the cashier is looking at reset.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView

from storeapp.listeners.api import CellModel

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


# -- sync_rows ------------------------------------------------------------------


class Recorder:
    """A CellModel over (key, text) rows, and every change signal it emits."""

    def __init__(self, keys: list[int]) -> None:
        self.model = CellModel(["Key", "Text"])
        self.cells_asked: list[int] = []
        self.sync([(k, f"row {k}") for k in keys])
        self.events: list[str] = []
        self.changed: list[int] = []
        model = self.model
        model.rowsInserted.connect(lambda _p, a, b: self.events.append(f"insert {a}-{b}"))
        model.rowsRemoved.connect(lambda _p, a, b: self.events.append(f"remove {a}-{b}"))
        model.modelReset.connect(lambda: self.events.append("reset"))
        model.layoutChanged.connect(lambda *_a: self.events.append("layout"))
        model.dataChanged.connect(lambda a, _b, _r: self.changed.append(a.row()))
        self.cells_asked.clear()

    def cells(self, row: tuple[int, str]) -> list[dict[int, Any]]:
        self.cells_asked.append(row[0])
        return [{Qt.ItemDataRole.DisplayRole: str(row[0])}, {Qt.ItemDataRole.DisplayRole: row[1]}]

    def sync(self, rows: list[tuple[int, str]], **kwargs: Any) -> int:
        return self.model.sync_rows(rows, lambda r: r[0], self.cells, **kwargs)

    def shown(self) -> list[tuple[str, str]]:
        m = self.model
        return [(m.index(r, 0).data(), m.index(r, 1).data()) for r in range(m.rowCount())]


def rows(*keys: int) -> list[tuple[int, str]]:
    return [(k, f"row {k}") for k in keys]


def test_sync_rows_removes_gone_rows_bottom_up_in_runs(qtbot: Any) -> None:
    table = Recorder([1, 2, 3, 4, 5, 6, 7])
    assert table.sync(rows(1, 4, 7)) == 4
    assert table.events == ["remove 4-5", "remove 1-2"]
    assert table.changed == []
    assert table.shown() == [("1", "row 1"), ("4", "row 4"), ("7", "row 7")]
    assert [r[0] for r in table.model.row_data] == [1, 4, 7]


def test_sync_rows_rewrites_only_the_rows_that_changed(qtbot: Any) -> None:
    table = Recorder([1, 2, 3])
    assert table.sync(rows(1, 2, 3)) == 0  # equal rows, new objects: nothing to do
    assert table.events == [] and table.changed == []
    assert table.sync([(1, "row 1"), (2, "two"), (3, "row 3")]) == 1
    assert table.events == []
    assert table.changed == [1]
    assert table.shown()[1] == ("2", "two")
    assert table.model.row_data[1] == (2, "two")


def test_sync_rows_inserts_new_rows_where_they_belong(qtbot: Any) -> None:
    table = Recorder([2, 5])
    assert table.sync(rows(1, 2, 3, 4, 5, 6)) == 4
    assert table.events == ["insert 0-0", "insert 2-3", "insert 5-5"]
    assert [s[0] for s in table.shown()] == ["1", "2", "3", "4", "5", "6"]
    assert [r[0] for r in table.model.row_data] == [1, 2, 3, 4, 5, 6]
    assert sorted(table.cells_asked) == [1, 2, 3, 4, 5, 6]  # kept rows checked, new ones built


def test_sync_rows_rebuilds_when_kept_rows_change_order(qtbot: Any) -> None:
    table = Recorder([1, 2, 3])
    table.sync(rows(3, 1, 2))
    assert table.events == ["remove 0-2", "insert 0-2"]
    assert [s[0] for s in table.shown()] == ["3", "1", "2"]
    assert [r[0] for r in table.model.row_data] == [3, 1, 2]
    table.events.clear()
    table.sync(rows(3, 1, 2))  # and the diff goes on from the new order
    assert table.events == []


def test_the_selection_and_persistent_indexes_survive_a_sync(qtbot: Any) -> None:
    table = Recorder([1, 2, 3, 4])
    model = table.model
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(
        model.index(2, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    held = QPersistentModelIndex(model.index(2, 1))  # key 3
    table.sync([(0, "row 0"), (1, "row 1"), (3, "three"), (4, "row 4"), (5, "row 5")])
    assert "reset" not in table.events and "layout" not in table.events
    assert held.isValid() and held.row() == 2 and held.data() == "three"
    assert selection.currentIndex().row() == 2
    assert model.index(selection.currentIndex().row(), 0).data() == "3"
    assert [i.row() for i in selection.selectedRows()] == [2]


def test_sync_rows_checks_only_the_kept_rows_named_as_changed(qtbot: Any) -> None:
    table = Recorder([1, 2, 3, 4])
    touched = table.sync(
        [(0, "row 0"), (1, "one"), (2, "two"), (3, "row 3"), (4, "row 4")], changed={2}
    )
    assert sorted(table.cells_asked) == [0, 2]  # not row 1, though it differs
    assert touched == 2
    assert table.events == ["insert 0-0"]
    assert table.shown()[1:3] == [("1", "row 1"), ("2", "two")]
    assert table.model.row_data[1] == (1, "one")  # the object given is kept all the same
