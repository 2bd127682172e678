"""The stock table model: one row per product, its cells in C++."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor

from storeapp.listeners.api import RIGHT, Cell, CellModel
from storeapp.listeners.inventory.stock import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    StockRow,
    StockStatus,
    coerce_threshold,
    count_statuses,
    stock_status,
)

__all__ = ["SORT_ROLE", "STATUS_ROLE", "InventoryModel"]

SORT_ROLE = Qt.ItemDataRole.UserRole  # a raw sort key (cents for the price)
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1  # "ok" / "low" / "out"

# Light backgrounds with dark text of the same hue: readable in light and dark themes.
_LOW_BACKGROUND = QBrush(QColor("#fff3cd"))
_LOW_FOREGROUND = QBrush(QColor("#664d03"))
_OUT_BACKGROUND = QBrush(QColor("#f8d7da"))
_OUT_FOREGROUND = QBrush(QColor("#842029"))


class InventoryModel(CellModel):
    """Products with their stock, keyed by product id.

    Rows are kept in arrival order (new products at the end); a
    :class:`QSortFilterProxyModel` with ``sortRole = SORT_ROLE`` sorts them
    for the view. The cells live in C++ (:class:`CellModel`), so the proxy
    and the view sort and paint without waiting for the GIL during a rush.
    Mutated only by :meth:`apply` and :meth:`set_threshold`, both on the
    model's own (GUI) thread; each emits :attr:`refreshed` once when it
    changed something.
    """

    COLUMNS = ("SKU", "Name", "Price", "Stock")
    SKU, NAME, PRICE, STOCK = range(4)

    #: apply() or set_threshold() changed rows (once per call, not per cell).
    refreshed = Signal()

    def __init__(self, threshold: int = DEFAULT_LOW_STOCK_THRESHOLD, parent: Any = None) -> None:
        super().__init__(self.COLUMNS, parent, right_aligned=(self.PRICE, self.STOCK))
        self._rows: list[StockRow] = []
        self._row_of: dict[int, int] = {}  # product id -> row
        self._threshold = coerce_threshold(threshold)

    def _cells(self, row: StockRow) -> list[Cell]:
        """One row's cells, every role given (None clears it): the whole row
        carries the status, its colours and its tooltip."""
        status = self.status(row)
        background = foreground = tooltip = None
        if status == StockStatus.LOW:
            background, foreground = _LOW_BACKGROUND, _LOW_FOREGROUND
            tooltip = f"Low stock: {row.stock} left (threshold {self._threshold})"
        elif status == StockStatus.OUT:
            background, foreground, tooltip = _OUT_BACKGROUND, _OUT_FOREGROUND, "Out of stock"
        shared = {
            STATUS_ROLE: status,
            Qt.ItemDataRole.BackgroundRole: background,
            Qt.ItemDataRole.ForegroundRole: foreground,
            Qt.ItemDataRole.ToolTipRole: tooltip,
        }
        display, align = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.TextAlignmentRole
        return [
            {**shared, display: row.sku, SORT_ROLE: row.sku.casefold(), align: None},
            {**shared, display: row.name, SORT_ROLE: row.name.casefold(), align: None},
            {**shared, display: f"{row.price:,.2f}", SORT_ROLE: int(row.price * 100), align: RIGHT},
            {**shared, display: row.stock, SORT_ROLE: row.stock, align: RIGHT},
        ]

    # -- our API --------------------------------------------------------------

    @property
    def threshold(self) -> int:
        return self._threshold

    def status(self, row: StockRow) -> str:
        return stock_status(row.stock, self._threshold)

    def rows(self) -> list[StockRow]:
        """The rows in model order (a copy)."""
        return list(self._rows)

    def stock_by_sku(self) -> dict[str, int]:
        return {r.sku: r.stock for r in self._rows}

    def row_of(self, product_id: int) -> int:
        """The row of a product, or -1."""
        return self._row_of.get(product_id, -1)

    def row_of_sku(self, sku: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.sku == sku), -1)

    def counts(self) -> dict[str, int]:
        """How many rows are ok / low / out."""
        return count_statuses(self._rows, self._threshold)

    def set_threshold(self, threshold: int) -> None:
        """Change the low-stock threshold and repaint the highlights."""
        self._check_thread()
        threshold = coerce_threshold(threshold)
        if threshold == self._threshold:
            return
        # Only rows in stock at or below the higher threshold are (or were)
        # low; every other row looks the same under both.
        highest = max(threshold, self._threshold)
        self._threshold = threshold
        touched = [i for i, row in enumerate(self._rows) if 0 < row.stock <= highest]
        for i in touched:
            self.write_row(i, self._cells(self._rows[i]))
        if touched:
            self.refreshed.emit()

    def apply(self, rows: Iterable[StockRow]) -> int:
        """Make the model equal ``rows``, writing only what changed.

        Removed products go in runs (bottom up), changed rows are rewritten
        in place (Qt signals only the cells that differ), new products are
        inserted at the end in one batch. Returns the number of rows
        removed, changed or inserted.
        """
        self._check_thread()
        wanted: dict[int, StockRow] = {}
        for row in rows:
            wanted[row.product_id] = row
        touched = 0

        # 1. Removals, bottom up, in contiguous runs.
        i = len(self._rows) - 1
        while i >= 0:
            if self._rows[i].product_id in wanted:
                i -= 1
                continue
            last = i
            while i >= 0 and self._rows[i].product_id not in wanted:
                i -= 1
            del self._rows[i + 1 : last + 1]
            self._reindex()
            self.remove_rows(i + 1, last - i)
            touched += last - i

        # 2. Changes in place.
        for i, old in enumerate(self._rows):
            new = wanted[old.product_id]
            if new != old:
                self._rows[i] = new
                self.write_row(i, self._cells(new))
                touched += 1

        # 3. Insertions, one batch at the end.
        added = [r for pid, r in wanted.items() if pid not in self._row_of]
        if added:
            first = len(self._rows)
            self._rows.extend(added)
            self._reindex()
            self.insert_rows(first, [self._cells(r) for r in added])
            touched += len(added)
        if touched:
            self.refreshed.emit()
        return touched

    def _reindex(self) -> None:
        self._row_of = {r.product_id: i for i, r in enumerate(self._rows)}

    def _check_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("InventoryModel may only be changed on the GUI thread")
