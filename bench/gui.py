"""Benchmark 3: a 2,000-order burst from a worker thread, every panel open.

The window is the app's own (``storeapp.app.build`` with the default plugin
set, a temporary data directory, demo customers; offscreen). Every
product's stock is raised first so no order runs out. The burst is
``window.start_simulation(N, seed=..., show_dialog=False)``: the rush-hour
worker thread, exactly as the menu starts it.

Measured on the GUI thread:

* the event-loop stall: a 5 ms precise ``QTimer`` heartbeat; the largest gap
  between two ticks and the 99th percentile, during the burst. Baseline: the
  same heartbeat with the window idle for the same duration, right after;
* redraws per second: ``window.bridge.flushes`` delta / burst duration;
* catch-up: from the moment the GUI thread learns the burst ended until
  every panel equals the database (inventory model vs ``stock_levels()``,
  analytics totals vs ``sales_summary()``, email log total vs orders +
  customers, the order table vs ``list_orders(limit=...)``);
* ``window.bridge.timings``: where the GUI thread's time went.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import Report, cli_main, fmt_ms, percentile

STOCK = 10_000_000
TIMEOUT = 120.0


class Heartbeat:
    """A 5 ms precise timer that remembers when it fired."""

    def __init__(self, on_tick: Callable[[float], None] | None = None) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.ticks: list[float] = []
        self.on_tick = on_tick
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.ticks.append(now)
        if self.on_tick is not None:
            self.on_tick(now)

    def gaps(self, start: float, end: float) -> list[float]:
        points = [start, *(t for t in self.ticks if start <= t <= end), end]
        return [b - a for a, b in zip(points, points[1:])]


class StallSampler(threading.Thread):
    """``--diagnose``: while the heartbeat is late by more than ``threshold``,
    sample the GUI thread's Python stack every 10 ms (what is it doing?)."""

    def __init__(self, heartbeat: Heartbeat, threshold: float = 0.05) -> None:
        super().__init__(name="stall-sampler", daemon=True)
        self.heartbeat = heartbeat
        self.threshold = threshold
        self.gui_ident = threading.get_ident()
        self.samples: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.01):
            ticks = self.heartbeat.ticks
            if not ticks or time.perf_counter() - ticks[-1] < self.threshold:
                continue
            frame = sys._current_frames().get(self.gui_ident)
            if frame is None:
                continue
            stack = traceback.extract_stack(frame)[-6:]
            self.samples[
                "\n".join(f"  {Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(stack))
            ] += 1

    def text(self, top: int = 6) -> str:
        total = sum(self.samples.values())
        if not total:
            return "no stall longer than the threshold was sampled"
        parts = [
            f"{total} samples (10 ms apart) taken while the heartbeat was "
            f"> {self.threshold * 1000:.0f} ms late; innermost frame first. A stack "
            "ending in spin/exec means Qt's own C++ (layout, paint) or a wait for the GIL."
        ]
        for stack, count in self.samples.most_common(top):
            parts.append(f"{count} samples ({count / total:.0%}):\n{stack}")
        return "\n\n".join(parts)


def spin(
    condition: Callable[[], bool], timeout: float, heartbeat: Heartbeat | None = None
) -> float:
    """Run the Qt event loop until ``condition()`` (checked every 5 ms, or by
    the heartbeat's ticks); returns the perf_counter time it became true."""
    from PySide6.QtCore import QEventLoop, Qt, QTimer

    loop = QEventLoop()
    done: list[float] = []
    deadline = time.perf_counter() + timeout

    def check(now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if done:
            return
        if condition() or now > deadline:
            done.append(now)
            loop.quit()

    if heartbeat is not None:
        heartbeat.on_tick = check
        poll = None
    else:
        poll = QTimer()
        poll.setTimerType(Qt.TimerType.PreciseTimer)
        poll.setInterval(5)
        poll.timeout.connect(check)
        poll.start()
    check()
    if not done:
        loop.exec()
    if poll is not None:
        poll.stop()
    if heartbeat is not None:
        heartbeat.on_tick = None
    return done[0]


def open_window(tmp: Path) -> Any:
    """The app's window with every default plugin, demo customers, high stock."""
    from storeapp.app import build, settle_after_startup

    window = build(f"sqlite:///{tmp / 'bench.sqlite3'}", None, data_dir=tmp / "data", demo=True)
    store = window.store
    for product in store.list_products():
        store.update_product(product.id, inventory=STOCK)
    window.show()
    settle_after_startup()  # as storeapp.app.run() does
    return window


def plugin(window: Any, name: str) -> Any:
    try:
        record = window.manager.record(name)
    except KeyError:
        return None
    return record.plugin if record.enabled else None


def consistency_checks(window: Any) -> dict[str, Callable[[], bool]]:
    """Each open panel's 'equals the database' test (truth read once, now)."""
    from storeapp.ui.till.till import ORDER_HISTORY_LIMIT

    store = window.store
    checks: dict[str, Callable[[], bool]] = {}
    sku_of = {p.id: p.sku for p in store.list_products()}
    stock = {sku_of[pid]: level for pid, level in store.stock_levels().items()}
    summary = store.sales_summary()
    customers = len(store.list_customers())

    inventory = plugin(window, "inventory")
    if inventory is not None and getattr(inventory, "model", None) is not None:
        checks["inventory"] = lambda: inventory.model.stock_by_sku() == stock
    analytics = plugin(window, "analytics")
    if analytics is not None:
        checks["analytics"] = lambda: (
            tuple(analytics.totals()[:2]) == (summary.orders, summary.revenue)
        )
    email = plugin(window, "email_log")
    if email is not None:
        expected = summary.orders + customers
        checks["email_log"] = lambda: email.total == expected
    user_id = None if window.show_all_orders.isChecked() else window.current_user_id()
    expected_ids = [o.id for o in store.list_orders(user_id, limit=ORDER_HISTORY_LIMIT)]
    checks["orders table"] = lambda: [o.id for o in window.order_model.rows()] == expected_ids
    return checks


def repaint_next_to_busy_thread(rounds: int = 15) -> dict[str, tuple[float, float]]:
    """Why storeapp's tables are CellModels: the median time to repaint a
    200 x 6 table over a Python ``QAbstractTableModel`` and over a
    ``CellModel``, idle and next to one thread running Python.
    Returns {name: (idle seconds, busy seconds)}."""
    from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from storeapp.listeners.api import CellModel

    class PythonModel(QAbstractTableModel):
        def rowCount(self, parent: Any = QModelIndex()) -> int:
            return 0 if parent.isValid() else 200

        def columnCount(self, parent: Any = QModelIndex()) -> int:
            return 6

        def data(self, index: Any, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
            return (
                f"{index.row()},{index.column()}" if role == Qt.ItemDataRole.DisplayRole else None
            )

    cells = CellModel([str(c) for c in range(6)])
    cells.insert_rows(
        0, [[{Qt.ItemDataRole.DisplayRole: f"{r},{c}"} for c in range(6)] for r in range(200)]
    )
    app = QApplication.instance()
    views = {"Python model": QTableView(), "CellModel": QTableView()}
    models = {"Python model": PythonModel(), "CellModel": cells}
    for name, view in views.items():
        view.setModel(models[name])
        view.resize(800, 600)
        view.show()
    app.processEvents()

    def median_repaint(view: Any) -> float:
        times = []
        for _ in range(rounds):
            view.viewport().update()
            start = time.perf_counter()
            app.processEvents()  # releases the GIL while Qt paints, as the event loop does
            times.append(time.perf_counter() - start)
        return sorted(times)[len(times) // 2]

    idle = {name: median_repaint(view) for name, view in views.items()}
    stop = threading.Event()

    def busy() -> None:
        n = 0
        while not stop.is_set():
            n += 1

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        loaded = {name: median_repaint(view) for name, view in views.items()}
    finally:
        stop.set()
        thread.join()
    for view in views.values():
        view.close()
    return {name: (idle[name], loaded[name]) for name in views}


def run(args: argparse.Namespace) -> Report:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import sqlalchemy.orm  # noqa: F401  (the app's import order)

    started = time.perf_counter()
    report = Report("gui")
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-gui-") as tmp:
        window = open_window(Path(tmp))
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        spin(lambda: False, 1.0)  # settle: first paints, catch-up refreshes
        docks = sorted(n for n, d in window.docks.items() if d.isVisible())
        records = window.manager.records()
        missing = [
            r.name
            for r in records
            if r.enabled
            and r.name not in window.docks
            and r.cls is not None
            and r.cls.panel_object_name
        ]
        not_enabled = [
            f"{r.name} ({r.state}{': ' + r.error if r.error else ''})"
            for r in records
            if not r.enabled
        ]

        heartbeat = Heartbeat()
        heartbeat.timer.start()
        sampler = StallSampler(heartbeat) if args.diagnose else None
        if sampler is not None:
            sampler.start()
        bridge = window.bridge
        bridge.timings = {}
        flushes0 = bridge.flushes
        t0 = time.perf_counter()
        window.start_simulation(args.orders, seed=args.seed, show_dialog=False)
        t_end = spin(lambda: window.last_simulation is not None, TIMEOUT, heartbeat)
        burst = t_end - t0
        flushes = bridge.flushes - flushes0
        result = window.last_simulation
        gaps = heartbeat.gaps(t0, t_end)
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
            report.sections.append(
                ("gui: what the GUI thread was doing during stalls (--diagnose)", sampler.text())
            )

        # Catch-up: until every panel equals the database.
        checks = consistency_checks(window)
        t_checks = time.perf_counter()
        pending = dict(checks)

        def all_equal() -> bool:
            for name in list(pending):
                if pending[name]():
                    del pending[name]
            return not pending

        t_equal = spin(all_equal, 60.0, heartbeat)
        catch_up = t_equal - t_end
        email = plugin(window, "email_log")
        if email is not None:
            email.wait_for_delivery(30.0)
        timings = dict(bridge.timings or {})
        bridge.timings = None

        # Baseline: the same heartbeat, the window idle, as long as the burst.
        spin(lambda: False, 0.5)
        t_idle = time.perf_counter()
        spin(lambda: False, burst, heartbeat)
        idle_gaps = heartbeat.gaps(t_idle, time.perf_counter())
        heartbeat.timer.stop()

        stall, p99 = max(gaps), percentile(gaps, 99)
        idle_stall, idle_p99 = max(idle_gaps), percentile(idle_gaps, 99)
        report.row(
            "gui: max event-loop stall during the burst", fmt_ms(stall), "<= 50 ms", stall <= 0.050
        )
        report.row("gui: max stall, window idle (baseline)", fmt_ms(idle_stall))
        report.row("gui: max stall / idle max stall", f"{stall / idle_stall:.1f}x")
        report.row("gui: p99 heartbeat gap, burst / idle", f"{fmt_ms(p99)} / {fmt_ms(idle_p99)}")
        report.row("gui: redraws (bridge flushes) per second", f"{flushes / burst:.1f}")
        if pending:
            report.row(
                "gui: end of burst -> every panel equals the database",
                f"not within 60 s ({', '.join(pending)} differ)",
                "",
                False,
            )
        else:
            report.row("gui: end of burst -> every panel equals the database", fmt_ms(catch_up))
        if result is not None:
            report.row(
                "gui: burst orders/s with every panel open (abs.)",
                f"{result.rate:,.0f} ({result.placed:,} placed, "
                f"{result.out_of_stock + result.rejected} not)",
            )
        top = sorted(timings.items(), key=lambda kv: kv[1][1], reverse=True)[:10]
        lines = [f"{'GUI call':60} {'calls':>6} {'total ms':>9} {'mean ms':>8} {'worst ms':>9}"]
        for name, (calls, total, worst) in top:
            lines.append(
                f"{name[:60]:60} {calls:6d} {total * 1000:9.1f} "
                f"{total / calls * 1000:8.2f} {worst * 1000:9.1f}"
            )
        report.sections.append(
            (
                "gui: window.bridge.timings during the burst and catch-up, top 10 by total time",
                "\n".join(lines),
            )
        )
        report.notes.append(
            f"gui: {args.orders:,}-order burst via window.start_simulation (worker thread, "
            f"its 1 ms pause per order); burst {burst:.1f} s, {len(gaps)} heartbeat gaps; "
            f"panels open: {', '.join(docks) or 'none'}"
            + (f"; enabled without a dock: {', '.join(missing)}" if missing else "")
            + (f"; not enabled: {', '.join(not_enabled)}" if not_enabled else "")
            + f"; checked: {', '.join(checks)} (checks began {fmt_ms(t_checks - t_end)} "
            "after the end, included in the catch-up time)."
        )
        if result is not None and result.errors:
            report.notes.append(f"gui: simulation errors: {result.errors[:3]}")
        window.close()
        app.processEvents()
    repaint = repaint_next_to_busy_thread()
    (py_idle, py_busy), (cm_idle, cm_busy) = repaint["Python model"], repaint["CellModel"]
    report.row(
        "gui: 200x6 table repaint next to a busy thread, Python model / CellModel",
        f"{py_busy / cm_busy:.0f}x",
    )
    report.row(
        "gui: that repaint (abs.), Python model idle / busy; CellModel idle / busy",
        f"{fmt_ms(py_idle)} / {fmt_ms(py_busy)}; {fmt_ms(cm_idle)} / {fmt_ms(cm_busy)}",
    )
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--orders", type=int, default=2000, help="orders in the burst (default 2000)"
    )
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument(
        "--diagnose",
        action="store_true",
        help="sample the GUI thread's stack during stalls (perturbs timing a little)",
    )


def main(argv: list[str] | None = None) -> int:
    return cli_main("gui", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
