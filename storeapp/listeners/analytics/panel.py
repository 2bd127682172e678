"""The analytics dock's widget: totals, the revenue chart and the top products."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCharts import QChart, QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import QDateTime, QPointF, Qt, Signal
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

from storeapp.listeners.analytics.aggregate import (
    BY_QUANTITY,
    BY_REVENUE,
    GRANULARITIES,
    HOUR,
    MINUTE,
    TOP_N,
    SalesSnapshot,
    bucket_start,
    to_msecs,
)
from storeapp.listeners.analytics.model import TopProductsModel

__all__ = ["AnalyticsPanel"]

MIN_BUCKETS_SHOWN = 6  # the time axis spans at least this many buckets


class AnalyticsPanel(QWidget):
    """Totals, the revenue chart and the top products; draws a snapshot."""

    #: The bucket size or the ranking was changed by the user.
    optionsChanged = Signal()

    BUCKET_ITEMS = (("Per minute", MINUTE), ("Per hour", HOUR))
    TOP_ITEMS = (("By revenue", BY_REVENUE), ("By quantity", BY_QUANTITY))

    def __init__(self, granularity: str = MINUTE, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("analyticsPanel")

        self.bucket_combo = QComboBox()
        self.bucket_combo.setObjectName("analyticsBucket")
        for text, value in self.BUCKET_ITEMS:
            self.bucket_combo.addItem(text, value)
        self.bucket_combo.setCurrentIndex(max(self.bucket_combo.findData(granularity), 0))
        self.bucket_combo.setToolTip("Revenue per minute or per hour")

        self.orders_label = QLabel("0")
        self.orders_label.setObjectName("totalOrders")
        self.revenue_label = QLabel("0.00")
        self.revenue_label.setObjectName("totalRevenue")
        self.average_label = QLabel("0.00")
        self.average_label.setObjectName("averageOrder")
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

        self.top_by_combo = QComboBox()
        self.top_by_combo.setObjectName("analyticsTopBy")
        for text, value in self.TOP_ITEMS:
            self.top_by_combo.addItem(text, value)
        self.top_model = TopProductsModel(self)
        self.top_view = QTableView()
        self.top_view.setObjectName("topProductsView")
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
