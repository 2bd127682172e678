"""The inventory plugin: every product's stock, always equal to the database.

Receivers never carry stock numbers to the panel. Each one (run in the
sender's thread, only after the transaction commits) just marks the panel
dirty with ``host.coalesce_load``: at most ~20 times a second,
``store.list_products()`` is read on the host's reader thread (a query on
the GUI thread would wait for the GIL at every SQLite call while orders pour
in) and the GUI thread applies the difference to the table model
(``CellModel.sync_rows``: changed rows rewritten, inserts and removals in
runs, never a reset, so the selection and the scroll position survive).
Concurrent orders from several threads, committed in any order, therefore
always converge to what the database holds, and a rolled-back change is
never shown (nothing is scheduled for it).

Rows at or below the low-stock threshold (setting
``inventory/low_stock_threshold``, default 5, set with a spin box in the
panel and saved for the next start) are highlighted; rows with no stock at
all in a second colour.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import shiboken6
from PySide6.QtWidgets import QWidget

from storeapp.domain.models import Product
from storeapp.domain.signals import order_cancelled, order_created, post_delete, post_save
from storeapp.listeners.api import DockPlacement, ListenerPlugin, PluginHost
from storeapp.listeners.inventory.model import InventoryModel
from storeapp.listeners.inventory.panel import InventoryPanel
from storeapp.listeners.inventory.stock import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    THRESHOLD_SETTING,
    StockRow,
    coerce_threshold,
)

__all__ = ["InventoryPlugin"]

logger = logging.getLogger("storeapp.listeners.inventory")


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

    def __init__(self, host: PluginHost) -> None:
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
        self._threshold = coerce_threshold(value)

    # -- the contract -----------------------------------------------------------

    def ready(self) -> None:
        for signal, sender in (
            (order_created, None),
            (order_cancelled, None),
            (post_save, Product),
            (post_delete, Product),
        ):
            self.connect(signal, self._mark_dirty, sender=sender, on_commit=True, remote=True)
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
        self.panel = InventoryPanel(self.model)
        self.panel.threshold_box.valueChanged.connect(self.set_threshold)
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
        self._threshold = coerce_threshold(value)
        if self.model is not None:
            self.model.set_threshold(self._threshold)
        if self.panel is not None and self.panel.threshold_box.value() != self._threshold:
            self.panel.threshold_box.setValue(self._threshold)
        try:  # the next start (and the next panel) begins with it
            self.host.set_setting(THRESHOLD_SETTING, self._threshold)
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
