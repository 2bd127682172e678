"""Table models of the POS window (model/view: fast with thousands of rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor

from storeapp.listeners.api import RIGHT, CellModel

T = TypeVar("T")

SORT_ROLE = Qt.ItemDataRole.UserRole  # a column's sort key (numbers sort as numbers)
_GREY = QBrush(QColor("#9e9e9e"))


def money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.2f}"


class Column(Generic[T]):
    def __init__(
        self,
        title: str,
        text: Callable[[T], Any],
        align_right: bool = False,
        sort: Callable[[T], Any] | None = None,
    ) -> None:
        self.title = title
        self.text = text
        self.align_right = align_right
        self.sort = sort


class RowsModel(CellModel, Generic[T]):
    """A read-only table over a list of objects, replaced with set_rows().

    The cells live in C++ (:class:`storeapp.listeners.cells.CellModel`), so views
    paint without calling back into Python. set_rows() keys rows by
    ``key(row)`` and applies the difference (insertions and removals in
    runs, cells rewritten only where they changed) instead of resetting, so
    the selection and the scroll position survive a refresh.
    """

    columns: Sequence[Column[T]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [c.title for c in self.columns],
            parent,
            right_aligned=[i for i, c in enumerate(self.columns) if c.align_right],
        )
        self._rows: list[T] = []
        self._cells: list[list[dict[int, Any]]] = []  # what each row shows

    # -- what a row shows ------------------------------------------------------

    def row_roles(self, row: T) -> dict[int, Any]:
        """Extra roles (colours, tooltips) for every cell of ``row``."""
        return {}

    def cells(self, row: T) -> list[dict[int, Any]]:
        extra = self.row_roles(row)
        out = []
        for column in self.columns:
            text = column.text(row)
            cell: dict[int, Any] = {
                Qt.ItemDataRole.DisplayRole: str(text),
                Qt.ItemDataRole.TextAlignmentRole: RIGHT if column.align_right else None,
                SORT_ROLE: column.sort(row) if column.sort else text,
            }
            cell.update(extra)
            out.append(cell)
        return out

    def key(self, row: T) -> Any:
        return getattr(row, "id", id(row))

    # -- our API --------------------------------------------------------------

    def rows(self) -> list[T]:
        return list(self._rows)

    def row_at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, key: Any) -> int:
        for i, row in enumerate(self._rows):
            if self.key(row) == key:
                return i
        return -1

    def upsert_front(self, rows: Sequence[T], limit: int | None = None) -> None:
        """Update rows already shown; insert new ones at the top in one batch
        (newest first) and drop rows beyond ``limit`` from the bottom."""
        fresh: dict[Any, T] = {}
        positions = {self.key(r): i for i, r in enumerate(self._rows)}
        for row in rows:
            i = positions.get(self.key(row))
            if i is None:
                fresh[self.key(row)] = row
            else:
                self._replace(i, row)
        if fresh:
            new = sorted(fresh.values(), key=self.key, reverse=True)
            self._insert(0, new)
        if limit is not None and len(self._rows) > limit:
            self._remove(limit, len(self._rows) - limit)

    def set_rows(self, new_rows: Sequence[T]) -> None:
        """Replace the rows, emitting the smallest set of change signals."""
        new_rows = list(new_rows)
        new_keys = [self.key(r) for r in new_rows]
        keep = set(new_keys)
        # Remove rows whose key disappeared (from the bottom up, in runs).
        i = len(self._rows) - 1
        while i >= 0:
            if self.key(self._rows[i]) in keep:
                i -= 1
                continue
            end = i
            while i >= 0 and self.key(self._rows[i]) not in keep:
                i -= 1
            self._remove(i + 1, end - i)
        remaining = [self.key(r) for r in self._rows]
        present = set(remaining)
        if remaining != [k for k in new_keys if k in present]:
            # Order changed: rebuilding is simplest and still correct.
            self._remove(0, len(self._rows))
            self._insert(0, new_rows)
            return
        # Walk the target order: rewrite kept rows, insert new keys in runs.
        pos = j = 0
        while j < len(new_rows):
            if pos < len(self._rows) and self.key(self._rows[pos]) == new_keys[j]:
                self._replace(pos, new_rows[j])
                pos += 1
                j += 1
                continue
            start = j
            while j < len(new_rows) and (
                pos >= len(self._rows) or self.key(self._rows[pos]) != new_keys[j]
            ):
                j += 1
            self._insert(pos, new_rows[start:j])
            pos += j - start

    # -- the C++ side, kept in step with self._rows ------------------------------

    def _replace(self, i: int, row: T) -> None:
        self._rows[i] = row
        cells = self.cells(row)
        if cells != self._cells[i]:  # repaint only what changed
            self._cells[i] = cells
            self.write_row(i, cells)

    def _insert(self, i: int, rows: Sequence[T]) -> None:
        cells = [self.cells(r) for r in rows]
        self._rows[i:i] = rows
        self._cells[i:i] = cells
        self.insert_rows(i, cells)

    def _remove(self, i: int, count: int) -> None:
        if count > 0:
            del self._rows[i : i + count]
            del self._cells[i : i + count]
            self.remove_rows(i, count)


class ProductTableModel(RowsModel[Any]):
    columns = (
        Column("SKU", lambda p: p.sku),
        Column("Product", lambda p: p.name),
        Column("Price", lambda p: money(p.unit_price), True, lambda p: float(p.unit_price)),
        Column("In stock", lambda p: p.inventory, True, lambda p: p.inventory),
    )

    def row_roles(self, row: Any) -> dict[int, Any]:
        out = row.inventory == 0
        return {
            Qt.ItemDataRole.ForegroundRole: _GREY if out else None,
            Qt.ItemDataRole.ToolTipRole: "Out of stock" if out else None,
        }


class CartTableModel(RowsModel[Any]):
    columns = (
        Column("Product", lambda i: i.product.name),
        Column("Qty", lambda i: i.quantity, True, lambda i: i.quantity),
        Column("Price", lambda i: money(i.product.unit_price), True),
        Column("Line total", lambda i: money(i.line_total), True),
    )

    def key(self, row: Any) -> Any:
        return row.product_id


class OrderTableModel(RowsModel[Any]):
    columns = (
        Column("Order", lambda o: f"#{o.id}", False, lambda o: o.id),
        Column("Customer", lambda o: o.customer.user.username),
        Column(
            "Placed",
            lambda o: o.placed_at.astimezone().strftime("%H:%M:%S"),
            False,
            lambda o: o.placed_at.timestamp(),
        ),
        Column("Items", lambda o: sum(i.quantity for i in o.items), True),
        Column("Total", lambda o: money(o.total), True, lambda o: float(o.total)),
        Column("Status", lambda o: o.status),
    )

    def row_roles(self, row: Any) -> dict[int, Any]:
        return {
            Qt.ItemDataRole.ForegroundRole: _GREY if row.status == "cancelled" else None,
            Qt.ItemDataRole.ToolTipRole: "\n".join(
                f"{i.quantity} × {i.product.name} @ {money(i.unit_price)}" for i in row.items
            ),
        }


class CustomerListModel(RowsModel[Any]):
    columns = (Column("Customer", lambda c: f"{c.user.username} <{c.user.email}>"),)

    def key(self, row: Any) -> Any:
        return row.user_id
