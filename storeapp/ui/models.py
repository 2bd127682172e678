"""Table models of the POS window (model/view: fast with thousands of rows)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row's object
KEY_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's id


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


class RowsModel(QAbstractTableModel, Generic[T]):
    """A read-only table over a list of objects, replaced with set_rows().

    set_rows() keys rows by ``key(row)`` and applies the difference
    (changed rows, insertions, removals) instead of resetting, so the
    selection and the scroll position survive a refresh.
    """

    columns: Sequence[Column[T]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[T] = []

    # -- Qt API -------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            return self.columns[section].title
        if orientation == Qt.Orientation.Vertical:
            return section + 1
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(column.text(row))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.align_right:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return None
        if role == Qt.ItemDataRole.UserRole:  # sort key
            return column.sort(row) if column.sort else column.text(row)
        if role == ROW_ROLE:
            return row
        if role == KEY_ROLE:
            return self.key(row)
        return self.extra_data(row, column, role)

    def extra_data(self, row: T, column: Column[T], role: int) -> Any:
        return None

    # -- our API --------------------------------------------------------------

    def key(self, row: T) -> Any:
        return getattr(row, "id", id(row))

    def signature(self, row: T) -> Any:
        """What a row shows; a row whose signature is unchanged is not repainted."""
        return tuple(column.text(row) for column in self.columns)

    def upsert_front(self, rows: Sequence[T], limit: int | None = None) -> None:
        """Update rows already shown; insert new ones at the top in one batch
        (newest first) and drop rows beyond ``limit`` from the bottom."""
        fresh: list[T] = []
        positions = {self.key(r): i for i, r in enumerate(self._rows)}
        for row in rows:
            i = positions.get(self.key(row))
            if i is None:
                fresh.append(row)
            elif self.signature(self._rows[i]) != self.signature(row):
                self._rows[i] = row
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.columns) - 1))
            else:
                self._rows[i] = row
        if fresh:
            unique = {self.key(r): r for r in fresh}
            fresh = sorted(unique.values(), key=self.key, reverse=True)
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            self._rows[0:0] = fresh
            self.endInsertRows()
        if limit is not None and len(self._rows) > limit:
            self.beginRemoveRows(QModelIndex(), limit, len(self._rows) - 1)
            del self._rows[limit:]
            self.endRemoveRows()

    def rows(self) -> list[T]:
        return list(self._rows)

    def row_at(self, row: int) -> T | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, key: Any) -> int:
        for i, row in enumerate(self._rows):
            if self.key(row) == key:
                return i
        return -1

    def set_rows(self, new_rows: Sequence[T]) -> None:
        """Replace the rows, emitting the smallest set of change signals."""
        new_rows = list(new_rows)
        new_keys = [self.key(r) for r in new_rows]
        old_keys = [self.key(r) for r in self._rows]
        if new_keys == old_keys:
            changed = [
                i for i, (old, new) in enumerate(zip(self._rows, new_rows))
                if self.signature(old) != self.signature(new)
            ]
            self._rows = new_rows
            if changed:  # repaint only what changed: views call back into Python
                self.dataChanged.emit(
                    self.index(changed[0], 0), self.index(changed[-1], len(self.columns) - 1)
                )
            return
        # Remove rows whose key disappeared (from the bottom up, in runs).
        keep = set(new_keys)
        i = len(self._rows) - 1
        while i >= 0:
            if self.key(self._rows[i]) in keep:
                i -= 1
                continue
            end = i
            while i >= 0 and self.key(self._rows[i]) not in keep:
                i -= 1
            self.beginRemoveRows(QModelIndex(), i + 1, end)
            del self._rows[i + 1 : end + 1]
            self.endRemoveRows()
        remaining = [self.key(r) for r in self._rows]
        if remaining != [k for k in new_keys if k in set(remaining)]:
            # Order changed: a reset is simplest and still correct.
            self.beginResetModel()
            self._rows = new_rows
            self.endResetModel()
            return
        # Insert new keys in runs, walking the target order.
        pos = 0
        j = 0
        while j < len(new_rows):
            if pos < len(self._rows) and self.key(self._rows[pos]) == new_keys[j]:
                self._rows[pos] = new_rows[j]
                pos += 1
                j += 1
                continue
            start = j
            while j < len(new_rows) and (
                pos >= len(self._rows) or self.key(self._rows[pos]) != new_keys[j]
            ):
                j += 1
            self.beginInsertRows(QModelIndex(), pos, pos + (j - start) - 1)
            self._rows[pos:pos] = new_rows[start:j]
            self.endInsertRows()
            pos += j - start
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1)
            )


class ProductTableModel(RowsModel[Any]):
    columns = (
        Column("SKU", lambda p: p.sku),
        Column("Product", lambda p: p.name),
        Column("Price", lambda p: money(p.unit_price), True, lambda p: float(p.unit_price)),
        Column("In stock", lambda p: p.inventory, True, lambda p: p.inventory),
    )

    def extra_data(self, row: Any, column: Column[Any], role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and row.inventory == 0:
            return QBrush(QColor("#9e9e9e"))
        if role == Qt.ItemDataRole.ToolTipRole and row.inventory == 0:
            return "Out of stock"
        return None


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
        Column("Placed", lambda o: o.placed_at.astimezone().strftime("%H:%M:%S"), False,
               lambda o: o.placed_at.timestamp()),
        Column("Items", lambda o: sum(i.quantity for i in o.items), True),
        Column("Total", lambda o: money(o.total), True, lambda o: float(o.total)),
        Column("Status", lambda o: o.status),
    )

    def extra_data(self, row: Any, column: Column[Any], role: int) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and row.status == "cancelled":
            return QBrush(QColor("#9e9e9e"))
        if role == Qt.ItemDataRole.ToolTipRole:
            return "\n".join(
                f"{i.quantity} × {i.product.name} @ {money(i.unit_price)}" for i in row.items
            )
        return None


class CustomerListModel(RowsModel[Any]):
    columns = (Column("Customer", lambda c: f"{c.user.username} <{c.user.email}>"),)

    def key(self, row: Any) -> Any:
        return row.user_id
