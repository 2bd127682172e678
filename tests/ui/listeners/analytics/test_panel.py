"""The analytics plugin with a real Store (temp SQLite file) and its panel."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from PySide6.QtCharts import QChartView, QDateTimeAxis, QLineSeries, QValueAxis
from PySide6.QtCore import Qt, QThread
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QTableView
from sqlalchemy import update

from storeapp.domain.demo import seed_catalogue
from storeapp.domain.models import Order
from storeapp.domain.signals import order_created
from storeapp.domain.store import Store
from storeapp.listeners import core
from storeapp.listeners.analytics.aggregate import (
    HOUR,
    MINUTE,
    ProductSales,
    bucket_start,
    to_msecs,
)
from storeapp.listeners.analytics.model import TopProductsModel
from storeapp.listeners.analytics.plugin import AnalyticsPlugin
from storeapp.listeners.api import ENTRY_POINT_GROUP, CellModel, HeadlessHost
from storeapp.ui.bridge import GuiBridge, QtPluginHost

UTC = UTC


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


# -- tests -----------------------------------------------------------------------


def test_the_plugin_is_declared_as_an_entry_point():
    (ep,) = entry_points(group=ENTRY_POINT_GROUP, name="analytics")
    cls = ep.load()
    assert cls is AnalyticsPlugin
    assert (cls.name, cls.title, cls.panel_object_name, cls.order) == (
        "analytics",
        "Analytics",
        "analyticsDock",
        40,
    )
    assert set(cls.listens_to) == {"order_created", "order_cancelled"}


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


def test_totals_labels_equal_the_sales_summary_after_orders(
    panel, plugin, store, user, products, qtbot
):
    assert labels(panel) == ("0", "0.00", "0.00")
    buy(store, user, products["COF-250"], 2)
    buy(store, user, products["TEA-GRN"], 1)
    buy(store, user, products["CRO-BUT"], 3)

    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))
    assert labels(panel) == ("3", "24.70", "8.23")
    assert plugin.totals() == db_totals(store)


def test_cancelling_an_order_updates_the_totals(panel, plugin, store, user, products, qtbot):
    first = buy(store, user, products["MUG-STD"], 1)
    buy(store, user, products["WTR-SPK"], 2)
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))
    assert labels(panel)[0] == "2"

    store.cancel_order(first.id)

    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))
    assert labels(panel) == ("1", "2.20", "2.20")
    assert plugin.totals() == db_totals(store)
    assert [r.name for r in panel.top_model.rows()] == ["Sparkling water 0.5 l"]


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


def test_enabling_counts_the_orders_placed_while_disabled(
    plugin, store, user, products, qtbot, bridge
):
    plugin.ready()
    panel = plugin.create_panel()
    qtbot.addWidget(panel)
    first = buy(store, user, products["COF-250"])
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))

    plugin.shutdown()
    buy(store, user, products["TEA-GRN"], 2)
    buy(store, user, products["MUG-STD"])
    store.cancel_order(first.id)
    bridge.flush_now()
    assert labels(panel) == ("1", "7.90", "7.90")  # disabled: it heard nothing

    plugin.ready()
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))
    assert plugin.totals() == db_totals(store) == (2, Decimal("16.50"), Decimal("8.25"))
    assert revenue_points(panel) == expected_points(store, MINUTE)

    buy(store, user, products["CRO-BUT"])  # and it listens again, once
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))
    assert plugin.totals().orders == 3


def test_a_panel_created_later_shows_what_was_counted_before(plugin, store, user, products, qtbot):
    plugin.ready()
    buy(store, user, products["CHO-70"], 2)
    buy(store, user, products["FLT-V60"])

    panel = plugin.create_panel()
    qtbot.addWidget(panel)

    assert labels(panel) == summary_texts(store) == ("2", "11.20", "5.60")
    assert [r.name for r in panel.top_model.rows()] == [
        "Dark chocolate 70 %",
        "Paper filters V60 (100)",
    ]


def test_an_order_in_flight_while_enabling_is_counted(plugin, store, user, products):
    """An order that sent order_created before the plugin connected, but
    commits after: the rebuild must wait for the commit, or both the event
    and the database read miss it."""
    sent, go = threading.Event(), threading.Event()

    def hold_the_transaction(sender, **kwargs):
        sent.set()
        go.wait(10)

    order_created.connect(hold_the_transaction, weak=False, dispatch_uid="test.hold")
    cart = store.create_cart()
    store.add_to_cart(cart.id, products["COF-250"].id, 1)
    writer = threading.Thread(target=store.place_order, args=(cart.id, user.id))
    try:
        writer.start()
        assert sent.wait(10)
        # Release the writer a moment after ready() starts reading.
        threading.Timer(0.2, go.set).start()
        plugin.ready()
    finally:
        go.set()
        writer.join(10)
        order_created.disconnect(dispatch_uid="test.hold")

    assert store.sales_summary().orders == 1
    assert plugin.totals() == db_totals(store)


def test_two_hundred_orders_from_a_worker_thread_coalesce_redraws(
    panel, plugin, store, user, qtbot
):
    bulk = store.add_product("BULK-1", "Bulk item", "1.25", 5_000)
    gui_thread = QApplication.instance().thread()
    drawn_on = []
    show = panel.show_snapshot

    def recording_show(snap):
        drawn_on.append(QThread.currentThread())
        show(snap)

    panel.show_snapshot = recording_show
    orders = 200
    errors = []

    def work():
        try:
            for i in range(orders):
                order = buy(store, user, bulk, 1 + i % 3)
                if i % 25 == 0:
                    store.cancel_order(order.id)
        except Exception as exc:  # reported below, not swallowed
            errors.append(exc)

    before = plugin.redraws
    started = time.perf_counter()
    worker = threading.Thread(target=work)
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive(), timeout=60_000)
    elapsed = time.perf_counter() - started
    assert not errors
    qtbot.waitUntil(lambda: labels(panel) == summary_texts(store))

    assert plugin.totals() == db_totals(store)
    assert plugin.totals().orders == orders - 8
    redraws = plugin.redraws - before
    assert 0 < redraws <= orders / 4, (redraws, elapsed)
    assert drawn_on and all(t is gui_thread for t in drawn_on)
    assert revenue_points(panel) == expected_points(store, MINUTE)


def test_top_products_model_passes_the_model_tester(
    panel, store, user, products, qtbot, qtmodeltester
):
    model = panel.top_model
    assert isinstance(model, TopProductsModel)
    qtmodeltester.check(model, force_py=True)  # re-checks on every change below

    orders = [
        buy(store, user, products[sku], qty)
        for sku, qty in (
            ("COF-250", 1),
            ("MUG-STD", 2),
            ("BAG-SES", 6),
            ("TEA-GRN", 1),
            ("JAM-STR", 1),
            ("WTR-SPK", 3),
        )
    ]
    qtbot.waitUntil(lambda: model.rowCount() == 5)
    names = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert names == [
        "Stoneware mug",
        "Sesame bagel",
        "Coffee beans 250 g",
        "Strawberry jam",
        "Green tea, 20 bags",
    ]
    assert [model.data(model.index(0, c)) for c in range(3)] == ["Stoneware mug", "2", "19.00"]
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Product"

    top_by = panel.findChild(QComboBox, "analyticsTopBy")
    top_by.setCurrentIndex(top_by.findText("By quantity"))
    assert [r.name for r in model.rows()][:2] == ["Sesame bagel", "Sparkling water 0.5 l"]

    for order in orders[:4]:
        store.cancel_order(order.id)
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    assert [r.name for r in model.rows()] == ["Sparkling water 0.5 l", "Strawberry jam"]
    qtmodeltester.check(model)


def test_receivers_work_without_a_gui_host(store, user, products, tmp_path):
    plugin = AnalyticsPlugin(HeadlessHost(store, tmp_path))
    plugin.ready()
    try:
        buy(store, user, products["COF-250"])
        order = buy(store, user, products["TEA-GRN"])
        store.cancel_order(order.id)
        assert plugin.totals() == db_totals(store) == (1, Decimal("7.90"), Decimal("7.90"))
        assert plugin.redraws == 0  # no panel, nothing drawn
    finally:
        plugin.shutdown()
    buy(store, user, products["COF-250"])
    assert plugin.totals().orders == 1  # disconnected


def test_top_products_cells_live_in_cpp_and_only_changed_rows_are_rewritten(qtbot):
    model = TopProductsModel()
    assert isinstance(model, CellModel)
    for name in ("data", "index", "rowCount", "columnCount", "flags", "headerData", "setData"):
        assert getattr(type(model), name) is getattr(QStandardItemModel, name), name
    mug = ProductSales(1, "Stoneware mug", 2, Decimal("19.00"))
    jam = ProductSales(2, "Strawberry jam", 1, Decimal("3.50"))
    inserted, changed = [], set()
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.set_rows([mug, jam])
    assert inserted == [(0, 1)]
    assert [model.index(0, c).data() for c in range(3)] == ["Stoneware mug", "2", "19.00"]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "Stoneware mug"
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    alignment = Qt.ItemDataRole.TextAlignmentRole
    assert [model.index(0, c).data(alignment) for c in range(3)] == [None, right, right]
    assert not model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    assert [model.headerData(r, Qt.Orientation.Vertical) for r in range(2)] == [1, 2]

    model.dataChanged.connect(lambda top, bottom, roles: changed.add(top.row()))
    model.set_rows([mug, ProductSales(2, "Strawberry jam", 3, Decimal("10.50"))])
    assert changed == {1} and model.index(1, TopProductsModel.QUANTITY).data() == "3"
    model.set_rows([jam])
    assert model.rowCount() == 1 and model.rows() == [jam]
    assert model.index(0, 0).data() == "Strawberry jam"
