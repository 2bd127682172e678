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
        self._rows: list[ProductSales] = []

    def rows(self) -> list[ProductSales]:
        return list(self._rows)

    # -- write (GUI thread only) ------------------------------------------------

    def set_rows(self, rows: Iterable[ProductSales]) -> None:
        """Show ``rows``: rows added/removed at the end, changed rows rewritten in place."""
        new = list(rows)
        old, self._rows = self._rows, new
        if new == old:
            return
        kept = min(len(old), len(new))
        if len(new) < len(old):
            self.remove_rows(kept, len(old) - kept)
        for i in range(kept):
            if new[i] != old[i]:
                self.write_row(i, _top_cells(new[i]))
        if len(new) > len(old):
            self.insert_rows(kept, [_top_cells(r) for r in new[kept:]])


def _top_cells(row: ProductSales) -> list[Cell]:
    """One best seller's cells, every role given (None clears it)."""
    display = Qt.ItemDataRole.DisplayRole
    align, tip = Qt.ItemDataRole.TextAlignmentRole, Qt.ItemDataRole.ToolTipRole
    return [
        {display: row.name, align: None, tip: row.name},
        {display: str(row.quantity), align: RIGHT, tip: None},
        {display: f"{row.revenue:.2f}", align: RIGHT, tip: None},
    ]
