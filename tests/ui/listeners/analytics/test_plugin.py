"""AnalyticsPlugin with a real Store: counts equal the database after orders,
cancellations, a disabled spell and a late panel; redraws are coalesced."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from importlib.metadata import entry_points

from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from storeapp.domain.signals import order_created
from storeapp.listeners.analytics.aggregate import MINUTE
from storeapp.listeners.analytics.plugin import AnalyticsPlugin
from storeapp.listeners.api import ENTRY_POINT_GROUP, HeadlessHost
from tests.ui.listeners.analytics.conftest import (
    buy,
    db_totals,
    expected_points,
    labels,
    revenue_points,
    summary_texts,
)


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
    # Coalesced: at most ~20 redraws a second and far fewer than orders
    # (a fixed count would be a wall-clock limit on a slow machine).
    assert 0 < redraws <= 20 * elapsed + 5, (redraws, elapsed)
    assert redraws < orders / 2, (redraws, elapsed)
    assert drawn_on and all(t is gui_thread for t in drawn_on)
    assert revenue_points(panel) == expected_points(store, MINUTE)


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
