"""Fixtures and helpers of the analytics plugin's UI tests: a seeded store
with a customer, the plugin on a real GUI bridge, and readers of its panel."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

import pytest
from PySide6.QtCharts import QChartView
from PySide6.QtWidgets import QLabel
from sqlalchemy import update

from storeapp.domain.demo import seed_catalogue
from storeapp.domain.models import Order
from storeapp.domain.store import Store
from storeapp.listeners import core
from storeapp.listeners.analytics.aggregate import (
    bucket_start,
    to_msecs,
)
from storeapp.listeners.analytics.plugin import AnalyticsPlugin
from storeapp.ui.bridge import GuiBridge, QtPluginHost

# -- fixtures ------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    seed_catalogue(store)
    core.ready()  # users get a Customer
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def user(store):
    return store.register_user("ada", "ada@example.com", "demo-password-1")


@pytest.fixture
def products(store):
    return {p.sku: p for p in store.list_products()}


@pytest.fixture
def bridge(qtbot):
    bridge = GuiBridge()
    yield bridge
    bridge.close()


@pytest.fixture
def plugin(store, tmp_path, bridge):
    """The plugin, not yet enabled."""
    plugin = AnalyticsPlugin(QtPluginHost(store, tmp_path, bridge, settings=None))
    yield plugin
    plugin.shutdown()


@pytest.fixture
def panel(plugin, qtbot):
    """The plugin enabled, with its panel."""
    plugin.ready()
    panel = plugin.create_panel()
    qtbot.addWidget(panel)
    return panel


# -- helpers -------------------------------------------------------------------


def buy(store, user, product, quantity=1):
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, quantity)
    return store.place_order(cart.id, user.id)


def labels(panel):
    return tuple(
        panel.findChild(QLabel, name).text()
        for name in ("totalOrders", "totalRevenue", "averageOrder")
    )


def summary_texts(store):
    s = store.sales_summary()
    return (str(s.orders), f"{s.revenue:.2f}", f"{s.average:.2f}")


def db_totals(store):
    s = store.sales_summary()
    return (s.orders, s.revenue, s.average)


def revenue_points(panel):
    """The chart's non-zero points as ``[(x ms, revenue)]``."""
    series = panel.findChild(QChartView, "analyticsChart").chart().series()[0]
    return [(p.x(), round(p.y(), 2)) for p in series.points() if p.y() != 0]


def expected_points(store, granularity):
    sums: dict[datetime, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for order in store.list_orders(status="placed"):
        sums[bucket_start(order.placed_at, granularity)] += order.total
    return [(to_msecs(start), float(total)) for start, total in sorted(sums.items())]


def backdate(store, order_id, when):
    with store.unit_of_work() as uow:
        uow.session.execute(update(Order).where(Order.id == order_id).values(placed_at=when))
        uow.commit()
