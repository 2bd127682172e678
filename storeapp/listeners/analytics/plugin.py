"""Analytics: revenue over time and the best sellers, live.

Two halves, kept apart:

* :class:`~storeapp.listeners.analytics.aggregate.SalesAggregate` is plain
  Python (no Qt, no database): receivers feed it orders in the sender's
  thread, and the GUI thread reads an immutable snapshot of it.
* :class:`AnalyticsPlugin` connects the receivers, rebuilds the aggregate
  from the database in ``ready()`` (so orders placed while it was disabled
  are counted) and asks the host to redraw at most ~20 times a second
  (``host.coalesce``); the panel draws a snapshot with
  ``QLineSeries.replace`` (one call for the whole series: appending point by
  point is quadratic) and a small top-products table model.

The path of one order: ``Store.place_order`` commits -> ``order_created``
(on_commit) -> ``_on_order_created`` (sender's thread: ``aggregate.apply``,
then ``host.coalesce``) -> ``_redraw`` on the GUI thread -> snapshot ->
labels, series, table model.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QThread

from storeapp.domain.models import Order, OrderStatus
from storeapp.domain.signals import order_cancelled, order_created
from storeapp.listeners.analytics.aggregate import (
    GRANULARITIES,
    MINUTE,
    TOP_N,
    SalesAggregate,
    Totals,
)
from storeapp.listeners.analytics.panel import AnalyticsPanel
from storeapp.listeners.api import DockPlacement, ListenerPlugin, PluginHost

__all__ = ["AnalyticsPlugin"]

COALESCE_KEY = "analytics"


class AnalyticsPlugin(ListenerPlugin):
    """Sales over time and the best sellers, updated live."""

    name = "analytics"
    title = "Analytics"
    description = (
        "Charts revenue per minute or per hour and the top products, with the "
        "number of orders, the revenue and the average order. Listens to "
        "order_created and order_cancelled after each commit, and recounts "
        "from the database whenever it is enabled, so orders placed while it "
        "was off are included."
    )
    listens_to = ("order_created", "order_cancelled")
    order = 40
    panel_object_name = "analyticsDock"
    dock = DockPlacement("right", slot=1, share=60)

    def __init__(self, host: PluginHost) -> None:
        super().__init__(host)
        self.aggregate = SalesAggregate()
        self.redraws = 0
        self._panel: AnalyticsPanel | None = None
        granularity = host.setting("analytics/bucket", MINUTE)
        self._initial_granularity = granularity if granularity in GRANULARITIES else MINUTE

    # -- lifecycle ---------------------------------------------------------------

    def ready(self) -> None:
        """Connect, then recount from the database without losing an event.

        The aggregate records what arrives while we read (begin_rebuild) and
        replays it on top of the snapshot; keying by order id makes an order
        that is in both count once.
        """
        self.aggregate.begin_rebuild()
        try:
            self.connect(
                order_created, self._on_order_created, sender=Order, on_commit=True, remote=True
            )
            self.connect(
                order_cancelled, self._on_order_cancelled, sender=Order, on_commit=True, remote=True
            )
            orders = self.host.store.read_between_writes(
                lambda: self.host.store.list_orders(status=OrderStatus.PLACED)
            )
        except BaseException:
            self.aggregate.abort_rebuild()
            raise
        self.aggregate.finish_rebuild(orders)
        self.host.coalesce(COALESCE_KEY, self._redraw)

    def create_panel(self) -> AnalyticsPanel:
        panel = AnalyticsPanel(self._initial_granularity)
        panel.optionsChanged.connect(self._redraw)
        panel.destroyed.connect(self._forget_panel)
        self._panel = panel
        self._redraw()  # show what was counted before the panel existed
        return panel

    # -- receivers (sender's thread) ---------------------------------------------

    def _on_order_created(self, sender: Any, order: Any, **kwargs: Any) -> None:
        if self.aggregate.apply(order):
            self.host.coalesce(COALESCE_KEY, self._redraw)

    def _on_order_cancelled(self, sender: Any, order: Any, **kwargs: Any) -> None:
        if self.aggregate.remove(order):
            self.host.coalesce(COALESCE_KEY, self._redraw)

    # -- GUI thread ------------------------------------------------------------

    def _redraw(self) -> None:
        panel = self._panel
        if panel is None:
            return
        if QThread.currentThread() is not panel.thread():
            # A host without a GUI thread runs this in the sender's thread:
            # never touch a widget from there.
            return
        snap = self.aggregate.snapshot(panel.granularity(), TOP_N, panel.top_by())
        panel.show_snapshot(snap)
        self.redraws += 1

    def _forget_panel(self, *args: Any) -> None:
        self._panel = None

    # -- for the window and tests ----------------------------------------------

    @property
    def panel(self) -> AnalyticsPanel | None:
        return self._panel

    def totals(self) -> Totals:
        """``(orders, revenue, average)`` as counted; equals ``store.sales_summary()``."""
        return self.aggregate.totals()
