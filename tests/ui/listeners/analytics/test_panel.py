"""AnalyticsPanel: the totals, the revenue chart (one replace() per redraw) and its options."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCharts import QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtWidgets import QComboBox, QTableView

from storeapp.listeners.analytics.aggregate import (
    HOUR,
    MINUTE,
    to_msecs,
)
from tests.ui.listeners.analytics.conftest import (
    backdate,
    buy,
    expected_points,
    labels,
    revenue_points,
    summary_texts,
)


def test_chart_view_has_a_chart_with_a_revenue_series(panel):
    view = panel.findChild(QChartView, "analyticsChart")
    assert view is not None
    chart = view.chart()
    assert chart is not None
    assert len(chart.series()) >= 1
    series = chart.series()[0]
    assert isinstance(series, QLineSeries)
    assert any(isinstance(a, QDateTimeAxis) for a in series.attachedAxes())
    assert any(isinstance(a, QValueAxis) for a in series.attachedAxes())
    combo = panel.findChild(QComboBox, "analyticsBucket")
    assert [combo.itemText(i) for i in range(combo.count())] == ["Per minute", "Per hour"]
    assert panel.findChild(QTableView, "topProductsView").model() is panel.top_model


def test_series_points_are_the_revenue_per_minute(panel, store, user, products, qtbot):
    for sku, qty in (("COF-250", 1), ("JAM-STR", 2), ("BIS-ALM", 1)):
        buy(store, user, products[sku], qty)
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))

    points = revenue_points(panel)
    assert points == expected_points(store, MINUTE)
    assert sum(y for _, y in points) == pytest.approx(float(store.sales_summary().revenue))
    assert all(x % 60_000 == 0 for x, _ in points)
    # the axes show every point
    axis = panel.x_axis
    assert axis.min().toMSecsSinceEpoch() < points[0][0]
    assert axis.max().toMSecsSinceEpoch() > points[-1][0]
    assert panel.y_axis.max() >= max(y for _, y in points)


def test_switching_to_per_hour_rebuckets_the_series(plugin, store, user, products, qtbot):
    # Orders from yesterday (placed while the plugin was off, then dated).
    day = (datetime.now(UTC) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
    for sku, when in (
        ("COF-250", day + timedelta(minutes=10, seconds=5)),
        ("TEA-GRN", day + timedelta(minutes=10, seconds=50)),
        ("MUG-STD", day + timedelta(minutes=12)),
        ("HNY-JAR", day + timedelta(hours=2, minutes=40)),
    ):
        backdate(store, buy(store, user, products[sku]).id, when)
    plugin.ready()
    panel = plugin.create_panel()
    qtbot.addWidget(panel)

    per_minute = revenue_points(panel)
    assert per_minute == expected_points(store, MINUTE)
    assert len(per_minute) == 3  # 09:10 (two orders), 09:12, 11:40
    assert per_minute[0][1] == pytest.approx(7.90 + 3.50)

    redraws = plugin.redraws
    combo = panel.findChild(QComboBox, "analyticsBucket")
    combo.setCurrentIndex(combo.findText("Per hour"))

    per_hour = revenue_points(panel)
    assert plugin.redraws == redraws + 1
    assert per_hour == expected_points(store, HOUR)
    assert [y for _, y in per_hour] == pytest.approx([7.90 + 3.50 + 9.50, 6.80])
    assert per_hour[0][0] == to_msecs(day)
    assert all(x % 3_600_000 == 0 for x, _ in per_hour)
    # the line drops to zero in the empty hour between 09:00 and 11:00
    series = panel.findChild(QChartView, "analyticsChart").chart().series()[0]
    assert [p.y() for p in series.points()] == pytest.approx([20.90, 0.0, 6.80])

    combo.setCurrentIndex(combo.findText("Per minute"))
    assert revenue_points(panel) == per_minute
