"""Table models of the POS window (model/view: fast with thousands of rows)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from PySide6.QtCore import Qt

from storeapp.listeners.api import RIGHT, Cell, CellModel, palette

T = TypeVar("T")

SORT_ROLE = Qt.ItemDataRole.UserRole  # a column's sort key (numbers sort as numbers)


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

    The cells live in C++ (:class:`storeapp.listeners.api.CellModel`), so
    views paint without calling back into Python. Every change goes through
    the one row-diff, :meth:`CellModel.sync_rows`: rows keyed by
    ``key(row)``, insertions and removals in runs, cells rewritten only where
    they changed, nothing reset, so the selection and the scroll position
    survive a refresh. The rows shown are ``row_data``.
    """

    columns: Sequence[Column[T]] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(
            [c.title for c in self.columns],
            parent,
            right_aligned=[i for i, c in enumerate(self.columns) if c.align_right],
        )

    # -- what a row shows ------------------------------------------------------

    def row_roles(self, row: T) -> dict[int, Any]:
        """Extra roles (colours, tooltips) for every cell of ``row``."""
        return {}

    def cells(self, row: T) -> list[Cell]:
        extra = self.row_roles(row)
        out: list[Cell] = []
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
        return list(self.row_data)

    def row_at(self, row: int) -> T | None:
        return self.row_data[row] if 0 <= row < len(self.row_data) else None

    def row_of(self, key: Any) -> int:
        for i, row in enumerate(self.row_data):
            if self.key(row) == key:
                return i
        return -1

    def set_rows(self, new_rows: Sequence[T]) -> None:
        """Replace the rows, emitting the smallest set of change signals."""
        self.sync_rows(new_rows, self.key, self.cells)

    def upsert_front(self, rows: Sequence[T], limit: int | None = None) -> None:
        """Update rows already shown; put new ones in place, newest (largest
        key) first, and drop rows beyond ``limit`` from the bottom.

        New rows usually go on top; one older than some shown (an order
        another till committed a moment before this till's, or a till
        catching up after a restart) goes where its key puts it, and one
        older than every row of a full table is not shown at all.

        Only the rows given are turned into cells: the rows already shown
        and not in ``rows`` are taken as they are (during a rush hour this
        runs up to 20 times a second over a table of hundreds of rows).
        """
        key = self.key
        given = {key(r): r for r in rows}
        shown = self.row_data
        kept = {key(r) for r in shown}
        fresh = sorted((r for k, r in given.items() if k not in kept), key=key, reverse=True)
        updated = [given.get(key(r), r) for r in shown]
        if fresh and updated and key(fresh[-1]) < key(updated[0]):
            target = list(heapq.merge(fresh, updated, key=key, reverse=True))
        else:
            target = fresh + updated
        if limit is not None:
            del target[limit:]
        self.sync_rows(target, self.key, self.cells, changed=given)


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
            Qt.ItemDataRole.ForegroundRole: palette.GREY_FG if out else None,
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


@dataclass(frozen=True, slots=True)
class OrderRow:
    """What the orders table keeps of an order: plain values, copied once
    when the order reaches the GUI thread.

    Kept as the ORM instance, each of the 200 rows would hold its items,
    their products, its customer and user alive, each with SQLAlchemy's
    state, weak references and collections: ~70 objects an order, ~14,000
    for a full table. The garbage collector walks all of them in every
    full collection, which holds the GIL: after a 1,000-order rush one took
    34 ms with a full table of ORM orders and 16 ms with these rows, and the
    GUI waits as long.
    ``items`` is a tuple of plain tuples, which the collector stops tracking.
    """

    id: int
    username: str
    placed_at: datetime
    #: ``(quantity, product name, unit price)`` per line.
    items: tuple[tuple[int, str, Decimal], ...]
    total: Decimal
    status: str

    @classmethod
    def of(cls, order: Any) -> OrderRow:
        """The row of an ORM ``Order`` (with its items, products and customer loaded)."""
        return cls(
            order.id,
            order.customer.user.username,
            order.placed_at,
            tuple((i.quantity, i.product.name, i.unit_price) for i in order.items),
            order.total,
            order.status,
        )

    @property
    def quantity(self) -> int:
        """How many items the order has, all lines together."""
        return sum(quantity for quantity, _name, _price in self.items)


class OrderTableModel(RowsModel[OrderRow]):
    """The orders table. It takes ORM orders and keeps :class:`OrderRow` s."""

    columns = (
        Column("Order", lambda o: f"#{o.id}", False, lambda o: o.id),
        Column("Customer", lambda o: o.username),
        Column(
            "Placed",
            lambda o: o.placed_at.astimezone().strftime("%H:%M:%S"),
            False,
            lambda o: o.placed_at.timestamp(),
        ),
        Column("Items", lambda o: o.quantity, True),
        Column("Total", lambda o: money(o.total), True, lambda o: float(o.total)),
        Column("Status", lambda o: o.status),
    )

    def row_roles(self, row: OrderRow) -> dict[int, Any]:
        return {
            Qt.ItemDataRole.ForegroundRole: palette.GREY_FG if row.status == "cancelled" else None,
            Qt.ItemDataRole.ToolTipRole: "\n".join(
                f"{quantity} × {name} @ {money(price)}" for quantity, name, price in row.items
            ),
        }

    def set_rows(self, new_rows: Sequence[Any]) -> None:
        super().set_rows([OrderRow.of(o) for o in new_rows])

    def upsert_front(self, rows: Sequence[Any], limit: int | None = None) -> None:
        super().upsert_front([OrderRow.of(o) for o in rows], limit)


class CustomerListModel(RowsModel[Any]):
    columns = (Column("Customer", lambda c: f"{c.user.username} <{c.user.email}>"),)

    def key(self, row: Any) -> Any:
        return row.user_id
