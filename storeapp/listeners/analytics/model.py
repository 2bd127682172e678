"""The best sellers as a table model whose cells live in C++."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Qt

from storeapp.listeners.analytics.aggregate import ProductSales
from storeapp.listeners.api import RIGHT, Cell, CellModel

__all__ = ["TopProductsModel"]


class TopProductsModel(CellModel):
    """The best sellers: product, quantity, revenue (a handful of rows).

    The cells live in C++ (:class:`CellModel`), so the table repaints
    without waiting for the GIL while orders are placed on other threads.
    """

    HEADERS = ("Product", "Qty", "Revenue")
    PRODUCT, QUANTITY, REVENUE = range(3)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(self.HEADERS, parent)
        self.row_data: list[tuple[int, ProductSales]] = []

    def rows(self) -> list[ProductSales]:
        return [sales for _rank, sales in self.row_data]

    # -- write (GUI thread only) ------------------------------------------------

    def set_rows(self, rows: Iterable[ProductSales]) -> None:
        """Show ``rows``, best first: rows added/removed at the end, changed
        rows rewritten in place.

        Rows are keyed by rank, not by product: row 1 is the best seller,
        whoever it is, so a product that overtakes another rewrites two rows
        instead of moving (:meth:`CellModel.sync_rows` rebuilds the table
        when kept keys change order).
        """
        self.sync_rows(list(enumerate(rows)), _rank, _top_cells)


def _rank(row: tuple[int, ProductSales]) -> int:
    return row[0]


def _top_cells(ranked: tuple[int, ProductSales]) -> list[Cell]:
    """One best seller's cells, every role given (None clears it)."""
    row = ranked[1]
    display = Qt.ItemDataRole.DisplayRole
    align, tip = Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole
    return [
        {display: row.name, align: None, tip: row.name},
        {display: str(row.quantity), align: RIGHT, tip: None},
        {display: f"{row.revenue:.2f}", align: RIGHT, tip: None},
    ]
