"""Benchmark 5: resident memory after many orders with every panel open.

The app's window (``build``, default plugins, demo customers, offscreen,
default email backend: one file per message in the temporary data
directory), stock raised so no order runs out. Orders are placed by the
app's own ``simulate_orders`` on the GUI thread, whose progress callback
processes Qt events every 50 ms (the bridge's coalescing interval): the same
receivers, coalesced refreshes and repaints as in the app (see bench.gui for
the threaded burst).

Order count: the issue asks for 10,000 + 10,000 (``--orders``). With every
panel open this machine has placed anywhere from ~10 to ~100 orders a second
(the GUI thread's repaints dominate), so 20,000 orders may take 3 to 30
minutes. The first 500 orders calibrate the rate. The first batch (the
target's figure) gets up to ``FIRST_SHARE`` of ``--budget`` seconds (default
420), the second what is left; a batch that would not fit shrinks (in steps
of 500) and the table's labels and a note say so. The runner starts this in
a process of its own, so the RSS is storeapp's alone.

Figures: peak RSS (VmHWM) after the first ``--orders`` orders, and the
growth of RSS (VmRSS, after ``gc.collect()``) over a second ``--orders``. The
idle window's RSS before any order is shown as the baseline.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from bench import Report, cli_main

MB = 1024 * 1024
PUMP_EVERY = 0.05  # seconds between two passes of the Qt event loop
DEFAULT_ORDERS = 10_000
DEFAULT_BUDGET = 420.0  # seconds of order placing, both batches together
#: The first batch's share of the budget: at ~40 orders/s, 10,000 orders fit.
FIRST_SHARE = 0.7
CALIBRATION = 500
STEP = 500


def proc_status() -> dict[str, int]:
    """VmRSS and VmHWM in bytes (Linux); ru_maxrss as a fallback."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    if "VmHWM" not in out:
        out["VmHWM"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        out.setdefault("VmRSS", out["VmHWM"])
    return out


def run(args: argparse.Namespace) -> Report:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import sqlalchemy.orm  # noqa: F401  (the app's import order)

    from bench.gui import open_window, plugin, spin
    from storeapp.domain.simulation import simulate_orders

    started = time.perf_counter()
    report = Report("memory")
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-memory-") as tmp:
        window = open_window(Path(tmp))
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        app = QApplication.instance()
        store = window.store
        spin(lambda: False, 1.0)

        def settle() -> None:
            email = plugin(window, "email_log")
            if email is not None:
                email.wait_for_delivery(60.0)
            spin(lambda: False, 0.3)  # the last coalesced refreshes and repaints
            gc.collect()

        def pump(_result: object) -> None:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)

        settle()
        idle = proc_status()

        def place(count: int, seed: int) -> tuple[int, float]:
            result = simulate_orders(
                store, count, seed=seed, progress=pump, progress_every=PUMP_EVERY
            )
            if result.placed != count:
                report.notes.append(
                    f"memory: {result.placed:,} of {count:,} orders placed ({result.errors[:2]})"
                )
            return result.placed, result.elapsed

        def fitting(rate: float, seconds: float) -> int:
            """The batch that ``seconds`` hold at ``rate``, in steps, at most --orders."""
            return max(CALIBRATION, min(args.orders, int(rate * seconds / STEP) * STEP))

        # Calibrate: the first orders of batch 1 give the rate, and the rate
        # the batch sizes: the first gets FIRST_SHARE of the budget, the
        # second what the first left.
        placed, spent = place(CALIBRATION, 100)
        used = spent
        rate = placed / spent if spent > 0 else 0.0
        first = fitting(rate, args.budget * FIRST_SHARE)
        points = []
        rates = []
        sizes = []
        for batch in range(2):
            size = first if batch == 0 else fitting(rates[-1], args.budget - used)
            todo = size - CALIBRATION if batch == 0 else size
            if todo:
                placed, spent = place(todo, 101 + batch)
                used += spent
                rates.append(placed / spent if spent > 0 else 0.0)
            else:
                rates.append(rate)
            sizes.append(size)
            settle()
            points.append(proc_status())
        peak = points[0]["VmHWM"] / MB
        growth = (points[1]["VmRSS"] - points[0]["VmRSS"]) / MB
        hwm_growth = (points[1]["VmHWM"] - points[0]["VmHWM"]) / MB
        n, further = f"{sizes[0]:,}", f"{sizes[1]:,}"
        if min(sizes) < args.orders:
            report.notes.append(
                f"memory: batches of {n} + {further} orders, not 2 x {args.orders:,}: at the "
                f"calibrated {rate:,.0f} orders/s the {args.budget:.0f} s budget (--budget, "
                f"{FIRST_SHARE:.0%} of it for the first batch) holds no more."
            )
        report.row(f"memory: peak RSS after {n} orders", f"{peak:.0f} MB", "<= 150 MB", peak <= 150)
        report.row(
            f"memory: RSS growth over a further {further}",
            f"{growth:+.1f} MB",
            "<= 20 MB",
            growth <= 20,
        )
        report.row(
            "memory: idle window RSS before any order (baseline)", f"{idle['VmRSS'] / MB:.0f} MB"
        )
        report.row(f"memory: peak RSS growth over the further {further}", f"{hwm_growth:+.1f} MB")
        report.row(
            "memory: orders/s on the GUI thread (abs.)",
            " / ".join(f"{r:,.0f}" for r in [rate, *rates]),
        )
        report.notes.append(
            f"memory: {n} + {further} orders by simulate_orders on the GUI thread (events "
            f"processed every {PUMP_EVERY * 1000:.0f} ms), panels open: "
            + ", ".join(sorted(name for name, d in window.docks.items() if d.isVisible()))
            + "".join(
                f"; {r.name} {r.state}" + (f" ({r.error})" if r.error else "")
                for r in window.manager.records()
                if not r.enabled
            )
            + "; RSS read from /proc/self/status after email delivery drained and gc.collect()."
        )
        window.close()
        app.processEvents()
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--orders",
        type=int,
        default=DEFAULT_ORDERS,
        help=f"orders per batch, two batches (default {DEFAULT_ORDERS:,})",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=DEFAULT_BUDGET,
        help="seconds the two batches may take; fewer orders per batch if "
        f"the calibrated rate says so (default {DEFAULT_BUDGET:.0f})",
    )


def main(argv: list[str] | None = None) -> int:
    return cli_main("memory", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
