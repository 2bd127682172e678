"""The inventory panel: every product's stock, always equal to the database.

Receivers never carry stock numbers to the panel. Each one (run in the
sender's thread, only after the transaction commits) just marks the panel
dirty with ``host.coalesce_load``: at most ~20 times a second,
``store.list_products()`` is read on the host's reader thread (a query on
the GUI thread would wait for the GIL at every SQLite call while orders pour
in) and the GUI thread applies the difference to the table model (changed
rows rewritten, inserts and removals in runs, never a reset, so the
selection and the scroll position survive). Concurrent orders from
several threads, committed in any order, therefore always converge to
what the database holds, and a rolled-back change is never shown (nothing is scheduled for it).

Rows at or below the low-stock threshold (setting
``inventory/low_stock_threshold``, default 5, and a spin box in the panel)
are highlighted; rows with no stock at all in a second colour.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import shiboken6
from PySide6.QtCore import QSortFilterProxyModel, Qt, QThread, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain.models import Product
from storeapp.domain.signals import order_cancelled, order_created, post_delete, post_save
from storeapp.listeners.api import RIGHT, Cell, CellModel, DockPlacement, ListenerPlugin

__all__ = [
    "DEFAULT_LOW_STOCK_THRESHOLD",
    "InventoryModel",
    "InventoryPlugin",
    "SORT_ROLE",
    "STATUS_ROLE",
    "StockRow",
    "StockStatus",
]

logger = logging.getLogger("storeapp.listeners.inventory")

DEFAULT_LOW_STOCK_THRESHOLD = 5
MAX_THRESHOLD = 1_000_000
THRESHOLD_SETTING = "inventory/low_stock_threshold"

SORT_ROLE = Qt.ItemDataRole.UserRole  # a raw sort key (cents for the price)
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1  # "ok" / "low" / "out"


class StockStatus:
    OK = "ok"
    LOW = "low"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class StockRow:
    """One product as the panel shows it (a plain value: safe in any thread)."""

    product_id: int
    sku: str
    name: str
    price: Decimal
    stock: int

    @classmethod
    def from_product(cls, product: Any) -> StockRow:
        return cls(product.id, product.sku, product.name, product.unit_price, product.inventory)


# Light backgrounds with dark text of the same hue: readable in light and dark themes.
_LOW_BACKGROUND = QBrush(QColor("#fff3cd"))
_LOW_FOREGROUND = QBrush(QColor("#664d03"))
_OUT_BACKGROUND = QBrush(QColor("#f8d7da"))
_OUT_FOREGROUND = QBrush(QColor("#842029"))


def _coerce_threshold(value: Any) -> int:
    """A threshold from a setting (maybe a string from an .ini file)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return DEFAULT_LOW_STOCK_THRESHOLD
    return min(max(number, 0), MAX_THRESHOLD)


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
        self._threshold = _coerce_threshold(threshold)

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
        if row.stock <= 0:
            return StockStatus.OUT
        if row.stock <= self._threshold:
            return StockStatus.LOW
        return StockStatus.OK

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
        out = {StockStatus.OK: 0, StockStatus.LOW: 0, StockStatus.OUT: 0}
        for row in self._rows:
            out[self.status(row)] += 1
        return out

    def set_threshold(self, threshold: int) -> None:
        """Change the low-stock threshold and repaint the highlights."""
        self._check_thread()
        threshold = _coerce_threshold(threshold)
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


class InventoryPanel(QWidget):
    """The dock's widget: the threshold spin box, a summary and the table."""

    def __init__(self, plugin: InventoryPlugin, model: InventoryModel) -> None:
        super().__init__()
        self.setObjectName("inventoryPanel")
        self.plugin = plugin

        self.threshold_box = QSpinBox(self)
        self.threshold_box.setObjectName("lowStockThreshold")
        self.threshold_box.setRange(0, MAX_THRESHOLD)
        self.threshold_box.setValue(model.threshold)
        self.threshold_box.setToolTip(
            "Products with this many or fewer units left are highlighted as low stock "
            "(0: only out-of-stock products)."
        )
        label = QLabel("&Low stock at or below:", self)
        label.setBuddy(self.threshold_box)
        self.summary = QLabel(self)
        self.summary.setObjectName("inventorySummary")

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)

        self.view = QTableView(self)
        self.view.setObjectName("inventoryTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(InventoryModel.NAME, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(InventoryModel.NAME, QHeaderView.ResizeMode.Stretch)
        self.view.resizeColumnsToContents()

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.threshold_box)
        top.addStretch(1)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view)

        self.threshold_box.valueChanged.connect(plugin.set_threshold)
        # Once per refresh: dataChanged comes once per changed cell.
        model.refreshed.connect(self.update_summary)
        self.update_summary()

    def update_summary(self, *args: Any) -> None:
        counts = self.plugin.model.counts() if self.plugin.model is not None else {}
        total = sum(counts.values())
        self.summary.setText(
            f"{total} products · {counts.get(StockStatus.LOW, 0)} low · "
            f"{counts.get(StockStatus.OUT, 0)} out of stock"
        )


class InventoryPlugin(ListenerPlugin):
    """Stock per product, refreshed from the database after every commit."""

    name = "inventory"
    title = "Inventory"
    description = (
        "Shows every product's stock and highlights low and out-of-stock items. "
        "Listens to order_created and order_cancelled (stock moved) and to "
        "post_save / post_delete of Product (edited, added, deleted), all after "
        "the transaction commits; each one only marks the panel dirty, and the "
        "panel reloads the stock from the database at most 20 times a second, so "
        "it always equals the database, whatever the order the events arrive in."
    )
    listens_to = ("order_created", "order_cancelled", "post_save", "post_delete")
    order = 30
    panel_object_name = "inventoryDock"
    dock = DockPlacement("right", slot=0, share=40, size=440)

    REFRESH_KEY = "inventory"

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self.model: InventoryModel | None = None
        self.panel: InventoryPanel | None = None
        self._lock = threading.Lock()
        self._active = False
        #: How many times the panel reloaded from the database (tests, inspector).
        self.refresh_count = 0
        try:
            value = host.setting(THRESHOLD_SETTING, DEFAULT_LOW_STOCK_THRESHOLD)
        except Exception:
            logger.exception("Could not read %s", THRESHOLD_SETTING)
            value = DEFAULT_LOW_STOCK_THRESHOLD
        self._threshold = _coerce_threshold(value)

    # -- the contract -----------------------------------------------------------

    def ready(self) -> None:
        for signal, sender in (
            (order_created, None),
            (order_cancelled, None),
            (post_save, Product),
            (post_delete, Product),
        ):
            self.connect(signal, self._mark_dirty, sender=sender, on_commit=True)
        with self._lock:
            self._active = True
        # Catch up with whatever changed while disabled (or before ready()).
        self._schedule()

    def shutdown(self) -> None:
        with self._lock:
            self._active = False
        super().shutdown()

    def create_panel(self) -> QWidget:
        self.model = InventoryModel(self._threshold)
        self._apply(self._load())  # show what is there now, before any event
        self.panel = InventoryPanel(self, self.model)
        self.model.setParent(self.panel)  # found under the window; dies with the panel
        return self.panel

    # -- receivers (any thread) -------------------------------------------------

    def _mark_dirty(self, **kwargs: Any) -> None:
        """order_created / order_cancelled / post_save, post_delete(Product)."""
        self._schedule()

    def _schedule(self) -> None:
        if self.model is None:  # no panel (headless, or not built yet): nothing to refresh
            return
        self.host.coalesce_load(self.REFRESH_KEY, self._load, self._show)

    def _load(self) -> list[StockRow] | None:
        """Any thread (the host's reader): the rows as the database has them now."""
        try:
            return [StockRow.from_product(p) for p in self.host.store.list_products()]
        except Exception:
            logger.exception("Could not load the products; the inventory panel keeps its rows")
            return None

    # -- GUI thread ---------------------------------------------------------------

    @property
    def active(self) -> bool:
        with self._lock:
            return self._active

    @property
    def threshold(self) -> int:
        return self._threshold

    def set_threshold(self, value: int) -> None:
        """Change the low-stock threshold (the spin box calls this)."""
        self._threshold = _coerce_threshold(value)
        if self.model is not None:
            self.model.set_threshold(self._threshold)
        if self.panel is not None and self.panel.threshold_box.value() != self._threshold:
            self.panel.threshold_box.setValue(self._threshold)
        # The host contract has no setter; a host that offers one keeps the value.
        store_setting = getattr(self.host, "set_setting", None)
        if callable(store_setting):
            try:
                store_setting(THRESHOLD_SETTING, self._threshold)
            except Exception:
                logger.exception("Could not save %s", THRESHOLD_SETTING)

    def _show(self, rows: list[StockRow] | None) -> None:
        """Coalesced: show what was read, unless disabled meanwhile."""
        if rows is None or self.model is None or not self.active:
            return
        if not shiboken6.isValid(self.model):  # the window deleted the panel
            self.model = self.panel = None
            return
        self._apply(rows)

    def _apply(self, rows: list[StockRow] | None) -> None:
        if rows is not None and self.model is not None:
            self.refresh_count += 1
            self.model.apply(rows)
