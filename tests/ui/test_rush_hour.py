"""Failures made visible (fault injector, auto-disable) and the rush-hour
simulator: the window stays responsive and every panel ends equal to the
database."""

from __future__ import annotations

import threading
import time
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton
from sqlalchemy import event

from tests.ui.conftest import ThreadWitness, add_to_cart, click, find

PASSWORD = "correct-horse-9"


def plugin(window: Any, name: str) -> Any:
    return window.manager.record(name).plugin


def panels_equal_db(window: Any) -> bool:
    store = window.store
    levels = store.stock_levels()
    by_sku = {p.sku: levels[p.id] for p in store.list_products()}
    summary = store.sales_summary()
    analytics = plugin(window, "analytics").totals()
    placed = len(store.list_orders())
    registered = len(store.list_customers())
    return (
        plugin(window, "inventory").model.stock_by_sku() == by_sku
        and tuple(analytics) == (summary.orders, summary.revenue, summary.average)
        and plugin(window, "email_log").total == placed + registered
    )


class Heartbeat:
    """A 5 ms timer on the GUI thread; the longest gap between two beats is
    the longest time the event loop could not run."""

    def __init__(self) -> None:
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._beat)
        self.last = 0.0
        self.max_gap = 0.0
        self.beats = 0

    def _beat(self) -> None:
        now = time.perf_counter()
        if self.last:
            self.max_gap = max(self.max_gap, now - self.last)
        self.last = now
        self.beats += 1

    def start(self) -> None:
        self.last = 0.0
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()


def restock(window: Any, amount: int = 100_000) -> None:
    for product in window.store.list_products():
        window.store.update_product(product.id, inventory=amount)


def test_the_fault_injector_fails_but_orders_and_other_receivers_go_on(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    window.manager.auto_disable_after = 0  # never: watch it fail repeatedly
    window.set_plugin_enabled("fault_injector", True)
    injector = plugin(window, "fault_injector")
    for _ in range(2):
        add_to_cart(qtbot, window, "COF-250", 1)
        click(qtbot, window, "checkoutButton")
    assert injector.calls == 2
    assert len(window.store.list_orders()) == 2  # the orders went through
    qtbot.waitUntil(lambda: panels_equal_db(window))  # every other receiver ran
    record = window.manager.record("fault_injector")
    assert record.error_count == 2 and record.enabled
    qtbot.waitUntil(lambda: "Fault injector failed" in window.statusBar().currentMessage())
    dialog = window.open_plugins_dialog()
    row = next(
        r
        for r in range(dialog.model.rowCount())
        if dialog.model.record_at(r).name == "fault_injector"
    )
    assert dialog.model.index(row, 3).data() == "2"


def test_a_plugin_failing_n_times_in_a_row_is_disabled_with_one_click_re_enable(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    window.manager.auto_disable_after = 3
    window.set_plugin_enabled("fault_injector", True)
    injector = plugin(window, "fault_injector")
    for _ in range(4):
        add_to_cart(qtbot, window, "TEA-GRN", 1)
        click(qtbot, window, "checkoutButton")
    assert injector.calls == 3  # the fourth order no longer reached it
    record = window.manager.record("fault_injector")
    assert record.state == "disabled" and "3 failures in a row" in record.error
    assert len(window.store.list_orders()) == 4
    button = find(window, QPushButton, "reenablePluginButton")
    qtbot.waitUntil(button.isVisible)
    assert "Fault injector" in button.text()
    assert not window.plugin_actions["fault_injector"].isChecked()

    click(qtbot, window, "reenablePluginButton")
    assert record.enabled and not button.isVisible()
    add_to_cart(qtbot, window, "TEA-GRN", 1)
    click(qtbot, window, "checkoutButton")
    assert injector.calls == 4
    assert record.enabled  # its streak restarted at re-enable


def test_rush_hour_of_2000_orders_keeps_the_window_responsive_and_panels_equal_to_the_db(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    restock(window)
    qtbot.waitUntil(lambda: panels_equal_db(window))
    witness = ThreadWitness(window)
    beat = Heartbeat()
    redraws_before = plugin(window, "analytics").redraws
    gui = threading.get_ident()
    gui_sql: list[str] = []  # statements the GUI thread ran while orders poured in

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.get_ident() == gui and simulation is not None and simulation.is_running():
            gui_sql.append(statement)

    simulation = None
    event.listen(window.store.engine, "before_cursor_execute", on_execute)
    try:
        beat.start()
        simulation = window.start_simulation(2000, seed=1)
        assert simulation is not None
        qtbot.waitUntil(lambda: window.last_simulation is not None, timeout=240_000)
        elapsed = window.last_simulation.elapsed
        beat.stop()
    finally:
        event.remove(window.store.engine, "before_cursor_execute", on_execute)
    # Every panel read the database on the reader thread, never on the GUI
    # thread (there, each SQLite call would wait for the worker's GIL turn).
    assert gui_sql == []
    result = window.last_simulation
    assert result.placed == 2000 and result.out_of_stock == 0 and not result.errors
    qtbot.waitUntil(lambda: panels_equal_db(window), timeout=20_000)
    assert witness.foreign == []
    redraws = plugin(window, "analytics").redraws - redraws_before
    # Coalesced: at most ~20 redraws a second, and fewer than one per order
    # (each order asks for one; orders that come within 50 ms of each other
    # share it). Neither is a wall-clock limit: half as many redraws as
    # orders was one, met only while the rush ran above 40 orders a second.
    assert redraws <= 20 * elapsed + 5
    assert redraws < result.placed
    print(
        f"\nrush hour: {result.rate:.0f} orders/s, max GUI stall {beat.max_gap * 1000:.1f} ms, "
        f"{redraws} analytics redraws in {elapsed:.1f} s"
    )
    # The event loop kept running all along: a window frozen by the burst
    # would show one gap as long as the run. The 50 ms stall target is
    # measured by `make bench` (wall-clock limits do not belong in tests on
    # a shared machine); here: beats kept coming, on average at least every
    # 50 ms, and no single gap took a tenth of the run.
    assert beat.beats > elapsed / 0.05
    assert beat.max_gap < elapsed / 10
    assert "2,000 orders placed" in window.message.text()


def test_cancelling_a_simulation_stops_it_cleanly_with_nothing_half_written(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    restock(window)
    simulation = window.start_simulation(100_000, seed=2)
    qtbot.waitUntil(lambda: len(window.store.list_orders(limit=5)) >= 5, timeout=20_000)
    simulation.cancel()
    qtbot.waitUntil(lambda: window.last_simulation is not None, timeout=20_000)
    result = window.last_simulation
    assert result.cancelled and result.placed < 100_000
    orders = window.store.list_orders()
    assert len(orders) == result.placed
    assert all(o.items and o.total == sum(i.line_total for i in o.items) for o in orders)
    assert "cancelled" in window.message.text()
    qtbot.waitUntil(lambda: panels_equal_db(window), timeout=20_000)


def test_out_of_stock_orders_in_a_simulation_are_counted_not_errors(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    for product in window.store.list_products():
        window.store.update_product(product.id, inventory=2)
    window.start_simulation(60, seed=3, supplier=False)
    qtbot.waitUntil(lambda: window.last_simulation is not None, timeout=60_000)
    result = window.last_simulation
    assert result.out_of_stock > 0 and not result.errors
    assert result.placed + result.out_of_stock == 60
    assert "out of stock" in window.message.text()
    assert all(v >= 0 for v in window.store.stock_levels().values())
