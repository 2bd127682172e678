"""Analytics: revenue over time and the best sellers, live.

Two halves, kept apart:

* :class:`SalesAggregate` is plain Python (no Qt, no database): receivers
  feed it orders in the sender's thread (``apply`` / ``remove``, keyed by
  order id so a repeated event counts once), and the GUI thread reads an
  immutable :class:`SalesSnapshot` of it. A lock guards every access.
* :class:`AnalyticsPlugin` connects the receivers, rebuilds the aggregate
  from the database in ``ready()`` (so orders placed while it was disabled
  are counted) and asks the host to redraw at most ~20 times a second
  (``host.coalesce``); :class:`AnalyticsPanel` draws a snapshot with
  ``QLineSeries.replace`` (one call for the whole series: appending point by
  point is quadratic) and a small :class:`TopProductsModel`.

The path of one order: ``Store.place_order`` commits -> ``order_created``
(on_commit) -> ``_on_order_created`` (sender's thread: ``aggregate.apply``,
then ``host.coalesce``) -> ``_redraw`` on the GUI thread -> snapshot ->
labels, series, table model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import (
    QDateTime,
    QObject,
    QPointF,
    Qt,
    QThread,
    Signal,
)
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain.models import Order, OrderStatus, to_money
from storeapp.domain.signals import order_cancelled, order_created
from storeapp.listeners.api import RIGHT, Cell, CellModel, DockPlacement, ListenerPlugin

__all__ = [
    "BY_QUANTITY",
    "BY_REVENUE",
    "HOUR",
    "MINUTE",
    "AnalyticsPanel",
    "AnalyticsPlugin",
    "ProductSales",
    "SalesAggregate",
    "SalesSnapshot",
    "TopProductsModel",
    "Totals",
    "bucket_start",
    "to_msecs",
]

logger = logging.getLogger("storeapp.analytics")

MINUTE = "minute"
HOUR = "hour"
GRANULARITIES: dict[str, timedelta] = {MINUTE: timedelta(minutes=1), HOUR: timedelta(hours=1)}
BY_REVENUE = "revenue"
BY_QUANTITY = "quantity"
TOP_N = 5
MIN_BUCKETS_SHOWN = 6  # the time axis spans at least this many buckets
ZERO = Decimal("0.00")
COALESCE_KEY = "analytics"


# --------------------------------------------------------------------------
# The aggregate (pure Python)
# --------------------------------------------------------------------------


def _utc(when: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken to be UTC already)."""
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    return when.astimezone(UTC)


def bucket_start(when: datetime, granularity: str) -> datetime:
    """The start (aware, UTC) of the minute or hour ``when`` falls in."""
    when = _utc(when)
    if granularity == MINUTE:
        return when.replace(second=0, microsecond=0)
    if granularity == HOUR:
        return when.replace(minute=0, second=0, microsecond=0)
    raise ValueError(f"Unknown granularity {granularity!r} (use {MINUTE!r} or {HOUR!r}).")


class Totals(NamedTuple):
    """What the totals labels show; equal to ``Store.sales_summary()``."""

    orders: int
    revenue: Decimal
    average: Decimal


@dataclass(frozen=True, slots=True)
class ProductSales:
    product_id: Any
    name: str
    quantity: int
    revenue: Decimal


@dataclass(frozen=True, slots=True)
class SalesSnapshot:
    """An immutable copy of the aggregate, taken under its lock."""

    totals: Totals
    granularity: str
    #: ``(bucket start, revenue)`` for every bucket with a sale, oldest first.
    buckets: tuple[tuple[datetime, Decimal], ...]
    #: :attr:`buckets` with a zero point at each side of a gap (the line drops
    #: to 0 where nothing was sold), ready for the chart.
    timeline: tuple[tuple[datetime, Decimal], ...]
    top: tuple[ProductSales, ...]


@dataclass(frozen=True, slots=True)
class _Contribution:
    """What one order added: ``remove`` subtracts exactly this."""

    total: Decimal
    minute: datetime
    hour: datetime
    lines: tuple[tuple[Any, str, int, Decimal], ...]  # product id, name, qty, revenue


def _contribution(order: Any) -> _Contribution:
    placed = getattr(order, "placed_at", None) or datetime.now(UTC)
    lines = []
    for item in order.items:
        quantity = int(item.quantity)
        revenue = to_money(Decimal(item.unit_price) * quantity)
        product = getattr(item, "product", None)
        name = getattr(product, "name", None) or f"Product {item.product_id}"
        lines.append((item.product_id, str(name), quantity, revenue))
    total = order.total
    total = to_money(total) if total is not None else sum((r for *_, r in lines), ZERO)
    return _Contribution(
        total=total,
        minute=bucket_start(placed, MINUTE),
        hour=bucket_start(placed, HOUR),
        lines=tuple(lines),
    )


class _Tally:
    """The mutable sums (no lock: :class:`SalesAggregate` holds it)."""

    __slots__ = ("orders", "revenue", "buckets", "products")

    def __init__(self) -> None:
        self.orders: dict[int, _Contribution] = {}
        self.revenue = ZERO
        # granularity -> bucket start -> [revenue, number of orders]
        self.buckets: dict[str, dict[datetime, list[Any]]] = {g: {} for g in GRANULARITIES}
        # product id -> [name, quantity, revenue]
        self.products: dict[Any, list[Any]] = {}

    def add(self, order_id: int, c: _Contribution) -> None:
        self.orders[order_id] = c
        self.revenue += c.total
        for granularity, start in ((MINUTE, c.minute), (HOUR, c.hour)):
            cell = self.buckets[granularity].setdefault(start, [ZERO, 0])
            cell[0] += c.total
            cell[1] += 1
        for product_id, name, quantity, revenue in c.lines:
            cell = self.products.setdefault(product_id, [name, 0, ZERO])
            cell[0] = name  # the latest name wins (products can be renamed)
            cell[1] += quantity
            cell[2] += revenue

    def sub(self, order_id: int) -> bool:
        c = self.orders.pop(order_id, None)
        if c is None:
            return False
        self.revenue -= c.total
        for granularity, start in ((MINUTE, c.minute), (HOUR, c.hour)):
            buckets = self.buckets[granularity]
            cell = buckets[start]
            cell[0] -= c.total
            cell[1] -= 1
            if cell[1] <= 0:
                del buckets[start]
        for product_id, _name, quantity, revenue in c.lines:
            cell = self.products[product_id]
            cell[1] -= quantity
            cell[2] -= revenue
            if cell[1] <= 0:
                del self.products[product_id]
        return True


class SalesAggregate:
    """Orders, revenue, revenue per minute/hour and per product; thread-safe.

    ``apply(order)`` and ``remove(order)`` are keyed by order id: applying
    the same order twice counts it once, removing an unknown order does
    nothing, and an order once removed (cancelled) is never counted again,
    even if its ``order_created`` event arrives late.

    :meth:`begin_rebuild` / :meth:`finish_rebuild` replace the state with a
    database snapshot without losing events: orders applied between the two
    calls are replayed on top of the snapshot (once, thanks to the keying),
    and orders removed between them are left out of it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tally = _Tally()
        # Cancelled orders stay cancelled (Store.cancel_order refuses twice).
        self._cancelled: set[int] = set()
        self._journal: list[tuple[int, _Contribution]] | None = None

    # -- events (any thread) -------------------------------------------------

    def apply(self, order: Any) -> bool:
        """Count a placed order; False if it was already counted or cancelled."""
        order_id = order.id
        if getattr(order, "status", OrderStatus.PLACED) == OrderStatus.CANCELLED:
            return self.remove(order_id)
        c = _contribution(order)  # outside the lock: it only reads the order
        with self._lock:
            if self._journal is not None:
                self._journal.append((order_id, c))
            if order_id in self._cancelled or order_id in self._tally.orders:
                return False
            self._tally.add(order_id, c)
            return True

    def remove(self, order: Any) -> bool:
        """Un-count an order (an order or its id); False if it was not counted."""
        order_id = order if isinstance(order, int) else order.id
        with self._lock:
            self._cancelled.add(order_id)
            return self._tally.sub(order_id)

    # -- rebuilding from the database ------------------------------------------

    def begin_rebuild(self) -> None:
        """Start recording applied orders; call before reading the database."""
        with self._lock:
            if self._journal is None:
                self._journal = []

    def finish_rebuild(self, orders: Iterable[Any]) -> None:
        """Replace the state with ``orders`` (the placed orders in the
        database) plus every order applied since :meth:`begin_rebuild`."""
        fresh = [
            (o.id, _contribution(o))
            for o in orders
            if getattr(o, "status", OrderStatus.PLACED) != OrderStatus.CANCELLED
        ]
        with self._lock:
            journal, self._journal = self._journal or [], None
            tally = _Tally()
            for order_id, c in (*fresh, *journal):
                if order_id not in self._cancelled and order_id not in tally.orders:
                    tally.add(order_id, c)
            self._tally = tally

    def abort_rebuild(self) -> None:
        """Stop recording and keep the live state (the read failed)."""
        with self._lock:
            self._journal = None

    def rebuild(self, orders: Iterable[Any]) -> None:
        """Replace the state with ``orders`` (no concurrent events expected)."""
        self.begin_rebuild()
        self.finish_rebuild(orders)

    @property
    def rebuilding(self) -> bool:
        return self._journal is not None

    # -- queries (any thread) --------------------------------------------------

    def __len__(self) -> int:
        return len(self._tally.orders)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._tally.orders

    def totals(self) -> Totals:
        with self._lock:
            return self._totals()

    def buckets(self, granularity: str = MINUTE) -> list[tuple[datetime, Decimal]]:
        """``(bucket start, revenue)`` for every bucket with a sale, oldest first."""
        with self._lock:
            return self._buckets(granularity)

    def timeline(self, granularity: str = MINUTE) -> list[tuple[datetime, Decimal]]:
        """:meth:`buckets` with zeros at each side of a gap (for a line chart)."""
        return _pad_gaps(self.buckets(granularity), GRANULARITIES[granularity])

    def top_products(self, n: int = TOP_N, by: str = BY_REVENUE) -> list[ProductSales]:
        with self._lock:
            return self._top(n, by)

    def snapshot(
        self, granularity: str = MINUTE, top_n: int = TOP_N, top_by: str = BY_REVENUE
    ) -> SalesSnapshot:
        """Everything a redraw needs, consistent with itself."""
        with self._lock:
            totals = self._totals()
            buckets = self._buckets(granularity)
            top = self._top(top_n, top_by)
        return SalesSnapshot(
            totals=totals,
            granularity=granularity,
            buckets=tuple(buckets),
            timeline=tuple(_pad_gaps(buckets, GRANULARITIES[granularity])),
            top=tuple(top),
        )

    # -- under the lock --------------------------------------------------------

    def _totals(self) -> Totals:
        count = len(self._tally.orders)
        revenue = self._tally.revenue
        average = to_money(revenue / count) if count else ZERO  # as SalesSummary
        return Totals(count, revenue, average)

    def _buckets(self, granularity: str) -> list[tuple[datetime, Decimal]]:
        if granularity not in GRANULARITIES:
            raise ValueError(f"Unknown granularity {granularity!r}.")
        return sorted((start, cell[0]) for start, cell in self._tally.buckets[granularity].items())

    def _top(self, n: int, by: str) -> list[ProductSales]:
        rows = [
            ProductSales(pid, name, quantity, revenue)
            for pid, (name, quantity, revenue) in self._tally.products.items()
        ]
        if by == BY_REVENUE:
            rows.sort(key=lambda r: (-r.revenue, -r.quantity, r.name.casefold(), str(r.product_id)))
        elif by == BY_QUANTITY:
            rows.sort(key=lambda r: (-r.quantity, -r.revenue, r.name.casefold(), str(r.product_id)))
        else:
            raise ValueError(f"Unknown ranking {by!r} (use {BY_REVENUE!r} or {BY_QUANTITY!r}).")
        return rows[: max(n, 0)]


def _pad_gaps(
    buckets: list[tuple[datetime, Decimal]], width: timedelta
) -> list[tuple[datetime, Decimal]]:
    """Insert a zero just after and just before each run of empty buckets."""
    out: list[tuple[datetime, Decimal]] = []
    previous: datetime | None = None
    for start, revenue in buckets:
        if previous is not None and start - previous > width:
            out.append((previous + width, ZERO))
            if start - previous > 2 * width:
                out.append((start - width, ZERO))
        out.append((start, revenue))
        previous = start
    return out


def to_msecs(when: datetime) -> float:
    """A bucket start as the chart's x value (ms since the epoch)."""
    return _utc(when).timestamp() * 1000.0


# --------------------------------------------------------------------------
# Qt: the top-products model and the panel
# --------------------------------------------------------------------------


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


class AnalyticsPanel(QWidget):
    """Totals, the revenue chart and the top products; draws a snapshot."""

    #: The bucket size or the ranking was changed by the user.
    optionsChanged = Signal()

    BUCKET_ITEMS = (("Per minute", MINUTE), ("Per hour", HOUR))
    TOP_ITEMS = (("By revenue", BY_REVENUE), ("By quantity", BY_QUANTITY))

    def __init__(self, granularity: str = MINUTE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analyticsPanel")

        self.bucket_combo = QComboBox(objectName="analyticsBucket")
        for text, value in self.BUCKET_ITEMS:
            self.bucket_combo.addItem(text, value)
        self.bucket_combo.setCurrentIndex(max(self.bucket_combo.findData(granularity), 0))
        self.bucket_combo.setToolTip("Revenue per minute or per hour")

        self.orders_label = QLabel("0", objectName="totalOrders")
        self.revenue_label = QLabel("0.00", objectName="totalRevenue")
        self.average_label = QLabel("0.00", objectName="averageOrder")
        totals = QGridLayout()
        for column, (caption, label) in enumerate(
            (
                ("Orders", self.orders_label),
                ("Revenue", self.revenue_label),
                ("Average order", self.average_label),
            )
        ):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            font = label.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            font.setBold(True)
            label.setFont(font)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            heading = QLabel(caption)
            heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
            heading.setBuddy(label)
            totals.addWidget(label, 0, column)
            totals.addWidget(heading, 1, column)

        self.series = QLineSeries()
        self.series.setObjectName("revenueSeries")
        self.series.setName("Revenue")
        self.series.setPointsVisible(True)
        self.x_axis = QDateTimeAxis()
        self.x_axis.setTitleText("Time")
        self.x_axis.setTickCount(5)
        self.y_axis = QValueAxis()
        self.y_axis.setTitleText("Revenue")
        self.y_axis.setLabelFormat("%.2f")
        self.chart = QChart()
        self.chart.setObjectName("analyticsChartModel")
        self.chart.addSeries(self.series)
        self.chart.addAxis(self.x_axis, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(self.y_axis, Qt.AlignmentFlag.AlignLeft)
        self.series.attachAxis(self.x_axis)
        self.series.attachAxis(self.y_axis)
        self.chart.legend().hide()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setObjectName("analyticsChart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(200)

        self.top_by_combo = QComboBox(objectName="analyticsTopBy")
        for text, value in self.TOP_ITEMS:
            self.top_by_combo.addItem(text, value)
        self.top_model = TopProductsModel(self)
        self.top_view = QTableView(objectName="topProductsView")
        self.top_view.setModel(self.top_model)
        self.top_view.setWordWrap(False)
        header = self.top_view.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths: ResizeToContents re-measures every row on each update.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        self.top_view.setColumnWidth(1, 60)
        self.top_view.setColumnWidth(2, 90)
        self.top_view.setSelectionMode(QTableView.SelectionMode.NoSelection)
        self.top_view.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)

        top_row = QHBoxLayout()
        top_row.addWidget(QLabel("Sales"))
        top_row.addStretch(1)
        top_row.addWidget(self.bucket_combo)
        products_row = QHBoxLayout()
        products_row.addWidget(QLabel(f"Top {TOP_N} products"))
        products_row.addStretch(1)
        products_row.addWidget(self.top_by_combo)
        layout = QVBoxLayout(self)
        layout.addLayout(top_row)
        layout.addLayout(totals)
        layout.addWidget(self.chart_view, 3)
        layout.addLayout(products_row)
        layout.addWidget(self.top_view, 2)

        self.bucket_combo.currentIndexChanged.connect(self.optionsChanged)
        self.top_by_combo.currentIndexChanged.connect(self.optionsChanged)

    def granularity(self) -> str:
        return self.bucket_combo.currentData() or MINUTE

    def top_by(self) -> str:
        return self.top_by_combo.currentData() or BY_REVENUE

    def show_snapshot(self, snap: SalesSnapshot) -> None:
        """Draw ``snap``: labels, the whole series at once, axes, the table."""
        orders, revenue, average = snap.totals
        self.orders_label.setText(str(orders))
        self.revenue_label.setText(f"{revenue:.2f}")
        self.average_label.setText(f"{average:.2f}")

        width = GRANULARITIES[snap.granularity]
        points = [QPointF(to_msecs(start), float(value)) for start, value in snap.timeline]
        self.series.replace(points)  # the whole list at once, never point by point
        if snap.timeline:
            first, last = snap.timeline[0][0], snap.timeline[-1][0]
            peak = max(float(value) for _, value in snap.timeline)
        else:
            first = last = bucket_start(datetime.now(UTC), snap.granularity)
            peak = 0.0
        # A bucket of margin each side, and at least MIN_BUCKETS_SHOWN wide
        # (widened into the past) so ticks never fall inside one bucket.
        first, last = first - width, last + width
        first = min(first, last - MIN_BUCKETS_SHOWN * width)
        buckets_shown = round((last - first) / width)
        self.x_axis.setTickCount(min(buckets_shown, MIN_BUCKETS_SHOWN) + 1)
        if snap.granularity == HOUR or last - first > timedelta(days=1):
            self.x_axis.setFormat("dd MMM HH:mm")
        else:
            self.x_axis.setFormat("HH:mm")
        self.x_axis.setRange(
            QDateTime.fromMSecsSinceEpoch(int(to_msecs(first))),
            QDateTime.fromMSecsSinceEpoch(int(to_msecs(last))),
        )
        self.y_axis.setRange(0.0, max(peak * 1.1, 1.0))
        self.y_axis.applyNiceNumbers()
        self.chart.setTitle(f"Revenue per {'hour' if snap.granularity == HOUR else 'minute'}")
        self.top_model.set_rows(snap.top)


# --------------------------------------------------------------------------
# The plugin
# --------------------------------------------------------------------------


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

    def __init__(self, host: Any) -> None:
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
            self.connect(order_created, self._on_order_created, sender=Order, on_commit=True)
            self.connect(order_cancelled, self._on_order_cancelled, sender=Order, on_commit=True)
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
