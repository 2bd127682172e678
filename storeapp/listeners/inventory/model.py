"""The stock table model: one row per product, its cells in C++."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt, QThread, Signal

from storeapp.listeners.api import RIGHT, Cell, CellModel, palette
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


class InventoryModel(CellModel):
    """Products with their stock, keyed by product id.

    Rows are kept in arrival order (new products at the end; a renamed
    product keeps its row); a :class:`QSortFilterProxyModel` with
    ``sortRole = SORT_ROLE`` sorts them for the view. The cells live in C++
    (:class:`CellModel`), so the proxy and the view sort and paint without
    waiting for the GIL during a rush. Mutated only by :meth:`apply` and
    :meth:`set_threshold`, both on the model's own (GUI) thread, both through
    :meth:`CellModel.sync_rows`; each emits :attr:`refreshed` once when it
    changed something.
    """

    COLUMNS = ("SKU", "Name", "Price", "Stock")
    SKU, NAME, PRICE, STOCK = range(4)

    #: apply() or set_threshold() changed rows (once per call, not per cell).
    refreshed = Signal()

    def __init__(self, threshold: int = DEFAULT_LOW_STOCK_THRESHOLD, parent: Any = None) -> None:
        super().__init__(self.COLUMNS, parent, right_aligned=(self.PRICE, self.STOCK))
        self.row_data: list[StockRow] = []
        self._row_of: dict[int, int] | None = {}  # product id -> row; None: to rebuild
        self._threshold = coerce_threshold(threshold)
        # product id -> (row, its cells) under the current threshold
        self._shown: dict[int, tuple[StockRow, list[Cell]]] = {}

    def _cells(self, row: StockRow) -> list[Cell]:
        """``row``'s cells, the same list as last time if the row is equal.

        ``sync_rows`` asks for every row's cells at each refresh and compares
        them with what the row shows; returning the very list it holds makes
        an unchanged row cost one ``StockRow`` comparison (as the hand-written
        diff before it), not four new dicts compared brush by brush, which
        was ~8x slower on the GUI thread.
        """
        shown = self._shown.get(row.product_id)
        if shown is not None and shown[0] == row:
            return shown[1]
        cells = self._make_cells(row)
        self._shown[row.product_id] = (row, cells)
        return cells

    def _make_cells(self, row: StockRow) -> list[Cell]:
        """One row's cells, every role given (None clears it): the whole row
        carries the status, its colours and its tooltip."""
        status = self.status(row)
        background = foreground = tooltip = None
        if status == StockStatus.LOW:
            background, foreground = palette.WARN_BG, palette.WARN_FG
            tooltip = f"Low stock: {row.stock} left (threshold {self._threshold})"
        elif status == StockStatus.OUT:
            background, foreground, tooltip = palette.ERROR_BG, palette.ERROR_FG, "Out of stock"
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
        return list(self.row_data)

    def stock_by_sku(self) -> dict[str, int]:
        return {r.sku: r.stock for r in self.row_data}

    def row_of(self, product_id: int) -> int:
        """The row of a product, or -1."""
        if self._row_of is None:  # built when asked, not at every refresh
            self._row_of = {r.product_id: i for i, r in enumerate(self.row_data)}
        return self._row_of.get(product_id, -1)

    def row_of_sku(self, sku: str) -> int:
        return next((i for i, r in enumerate(self.row_data) if r.sku == sku), -1)

    def counts(self) -> dict[str, int]:
        """How many rows are ok / low / out."""
        return count_statuses(self.row_data, self._threshold)

    def set_threshold(self, threshold: int) -> None:
        """Change the low-stock threshold and repaint the rows whose
        highlight or tooltip it changes."""
        self._check_thread()
        threshold = coerce_threshold(threshold)
        if threshold != self._threshold:
            self._threshold = threshold
            self._shown.clear()  # made under the old threshold
            self._sync(self.row_data)

    def apply(self, rows: Iterable[StockRow]) -> int:
        """Make the model equal ``rows``, writing only what changed.

        Removed products go in runs (bottom up), changed rows are rewritten
        in place (Qt signals only the cells that differ), new products are
        inserted at the end in one batch; the rows kept keep their order,
        whatever the order of ``rows``. Returns the number of rows removed,
        changed or inserted.
        """
        self._check_thread()
        wanted = {row.product_id: row for row in rows}
        kept = [wanted.pop(r.product_id) for r in self.row_data if r.product_id in wanted]
        return self._sync([*kept, *wanted.values()])

    def _sync(self, rows: list[StockRow]) -> int:
        touched = self.sync_rows(rows, _product_id, self._cells)
        if touched:
            self._row_of = None
            if len(self._shown) > len(self.row_data):  # forget deleted products
                kept = {r.product_id for r in self.row_data}
                self._shown = {k: v for k, v in self._shown.items() if k in kept}
            self.refreshed.emit()
        return touched

    def _check_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("InventoryModel may only be changed on the GUI thread")


def _product_id(row: StockRow) -> int:
    return row.product_id
