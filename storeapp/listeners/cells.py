"""Models whose cells live in C++, so painting never waits for Python.

A Python ``QAbstractItemModel`` answers every ``data()``/``index()``/
``rowCount()`` a view asks for while it lays out and paints: hundreds of
calls from C++ into Python per repaint, and each one must take the GIL.
While a worker thread runs Python (the rush-hour simulator, the email
queue), every such call waits for the GIL to be handed back, so a repaint
of a 200 x 6 table that takes 1.5 ms idle took 650 ms next to one busy
thread, against 6 ms over C++ cells (``bench/gui.py``, "200x6 table
repaint"; see the README's "Staying responsive").

:class:`CellModel` is a ``QStandardItemModel``: Python writes the cells
once, when a refresh arrives, and views read them in C++ without ever
entering Python. Subclasses keep their own Python-side list of row objects
for their API and turn each row into cells with :meth:`CellModel.write_row`.

Rules for subclasses: never override ``data()``, ``index()``,
``rowCount()``, ``flags()`` or ``headerData()`` (overriding brings the
calls back into Python), and store only plain values in cells (str, int,
float, bool, brushes, alignments), not Python objects.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel

Index = QModelIndex | QPersistentModelIndex
#: One cell: role -> value. A role mapped to None is cleared.
Cell = Mapping[int, Any]

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter

_READ_ONLY = Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled


class CellModel(QStandardItemModel):
    """A read-only table or tree whose cells are written from Python."""

    def __init__(
        self, headers: Sequence[str], parent: Any = None, right_aligned: Sequence[int] = ()
    ) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        for column in right_aligned:
            self.setHeaderData(
                column, Qt.Orientation.Horizontal, RIGHT, Qt.ItemDataRole.TextAlignmentRole
            )
        prototype = QStandardItem()
        prototype.setFlags(_READ_ONLY)  # new cells are read-only
        self.setItemPrototype(prototype)
        self._prototype = prototype
        self._anchor: QModelIndex | None = None  # see cell()
        #: The rows last given to :meth:`sync_rows`, their keys and cells.
        self.row_data: list[Any] = []
        self._row_keys: list[Hashable] = []
        self._row_cells: list[list[Cell]] = []

    def cell(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        """``self.index(row, column, parent)``, without giving up the GIL.

        PySide's ``index()`` releases the GIL (measured: ~100 us a call next
        to a busy thread, against 0.5 us for ``sibling()``), so cells are
        reached as siblings of one anchor: for the top level, an index whose
        parent is the root item, which lives as long as the model.
        """
        if parent.isValid():
            return self.index(row, column, parent)
        if self._anchor is None or not self._anchor.isValid():
            self._anchor = self.index(0, 0)
        return self.sibling(row, column, self._anchor)

    def write_row(self, row: int, cells: Sequence[Cell], parent: Index = QModelIndex()) -> None:
        """Set every cell of ``row``; Qt emits dataChanged only for cells that differ."""
        self._write(self.cell(row, 0, parent), cells)

    def _write(self, first: QModelIndex, cells: Sequence[Cell]) -> None:
        """Set the cells of the row whose first cell is ``first``."""
        for column, roles in enumerate(cells):
            self.setItemData(first.siblingAtColumn(column) if column else first, dict(roles))

    def insert_rows(
        self, row: int, rows: Sequence[Sequence[Cell]], parent: Index = QModelIndex()
    ) -> None:
        """Insert ``rows`` (each a sequence of cells) before ``row`` in one batch."""
        if not rows:
            return
        if parent.isValid() and self.columnCount(parent) == 0:
            self.insertColumns(0, self.columnCount(), parent)
        self.insertRows(row, len(rows), parent)
        first = self.cell(row, 0, parent)
        for offset, cells in enumerate(rows):
            self._write(first.sibling(row + offset, 0) if offset else first, cells)

    def clear(self) -> None:
        """``QStandardItemModel.clear()`` replaces the root item: forget the
        anchor that points into it. (It also drops the headers; prefer
        :meth:`clear_rows`.)"""
        self._anchor = None
        self.row_data, self._row_keys, self._row_cells = [], [], []
        super().clear()

    def remove_rows(self, row: int, count: int, parent: Index = QModelIndex()) -> None:
        if count > 0:
            self.removeRows(row, count, parent)

    def clear_rows(self) -> None:
        """Remove every row, keeping the headers."""
        self.remove_rows(0, self.rowCount())
        self.row_data, self._row_keys, self._row_cells = [], [], []

    def sync_rows(
        self,
        rows: Sequence[Any],
        key: Callable[[Any], Hashable],
        cells: Callable[[Any], list[Cell]],
        *,
        changed: Container[Hashable] | None = None,
    ) -> int:
        """Make the top-level rows show ``rows``, with the fewest changes.

        The one row-diff of every table: rows are matched by ``key(row)``;
        rows whose key is gone are removed (bottom up, in runs), kept rows
        are rewritten only where ``cells(row)`` differs from what they show,
        new keys are inserted in runs where they belong. Nothing is reset,
        so the selection and the scroll position survive. If the kept rows
        changed order the table is rebuilt (correct, and rare). Returns the
        number of rows removed, rewritten or inserted.

        ``changed``: the keys of the kept rows that may show something new,
        when the caller knows them (a merge of a few updated rows into a
        long table); the other kept rows are not passed to ``cells()`` at
        all. ``None``: every kept row is checked.
        """
        new_rows = list(rows)
        new_keys = [key(r) for r in new_rows]
        touched = 0
        keep = set(new_keys)
        i = len(self._row_keys) - 1
        while i >= 0:  # removals, bottom up, in contiguous runs
            if self._row_keys[i] in keep:
                i -= 1
                continue
            end = i
            while i >= 0 and self._row_keys[i] not in keep:
                i -= 1
            self._drop(i + 1, end - i)
            touched += end - i
        present = set(self._row_keys)
        if self._row_keys != [k for k in new_keys if k in present]:
            touched += len(self._row_keys) + len(new_rows)
            self._drop(0, len(self._row_keys))
            self._add(0, new_rows, new_keys, cells)
            return touched
        pos = j = 0
        while j < len(new_rows):  # walk the target order
            if pos < len(self._row_keys) and self._row_keys[pos] == new_keys[j]:
                self.row_data[pos] = new_rows[j]
                if changed is None or new_keys[j] in changed:
                    shown = cells(new_rows[j])
                    if shown != self._row_cells[pos]:  # repaint only what changed
                        self._row_cells[pos] = shown
                        self.write_row(pos, shown)
                        touched += 1
                pos += 1
                j += 1
                continue
            start = j
            while j < len(new_rows) and (
                pos >= len(self._row_keys) or self._row_keys[pos] != new_keys[j]
            ):
                j += 1
            self._add(pos, new_rows[start:j], new_keys[start:j], cells)
            touched += j - start
            pos += j - start
        return touched

    def _add(
        self,
        i: int,
        rows: Sequence[Any],
        keys: Sequence[Hashable],
        cells: Callable[[Any], list[Cell]],
    ) -> None:
        shown = [cells(r) for r in rows]
        self.row_data[i:i] = rows
        self._row_keys[i:i] = keys
        self._row_cells[i:i] = shown
        self.insert_rows(i, shown)

    def _drop(self, i: int, count: int) -> None:
        if count > 0:
            del self.row_data[i : i + count]
            del self._row_keys[i : i + count]
            del self._row_cells[i : i + count]
            self.remove_rows(i, count)
