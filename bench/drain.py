"""Benchmark 6: how long the email backlog of a 2,000-order rush takes to drain.

Headless: a ``Store`` on a file SQLite database (the demo catalogue, a stock
that never runs out, customers registered beforehand), the plugin manager
with the email log enabled (``PluginManager(HeadlessHost(...))``, as
:mod:`bench.orders` builds it) and the ``file`` mail backend writing into
``<data dir>/outbox/``. If the plugins registered durable receivers
(``storeapp.domain.events.durable.registry``), a ``DurableWorker`` on the
store's engine delivers them, as the app's ``build()`` does; else the email
log's own after-commit delivery does the work.

Each round places ``--orders`` orders (carts prepared beforehand with Core,
3 lines each) as fast as ``place_order`` takes them, then waits until the
outbox holds a confirmation for every one of them. Completion is read from
the outbox only (files named anything; each counted once by its Subject,
``order #N``), never from the plugin's internals, so the figure means the
same with after-commit delivery and with durable receivers.

Figures: the drain (last order's commit -> the last confirmation on disk)
against the rush's own time (first order -> last commit), both measured in
the same round; the median of ``--rounds`` rounds, each on a fresh database
and outbox. The poller counts directory entries every 10 ms and reads the
Subject of new files only once there are enough of them, so it takes little
from the delivery it measures (it runs in the same process).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

from bench import Report, cli_main, fmt_ratio, median

POLL = 0.01
#: A hang guard: a round whose backlog has not drained by then is reported as such.
DRAIN_LIMIT = 60.0
ORDER_SUBJECT = re.compile(r"\border #(\d+)\b")


class Outbox:
    """The order numbers confirmed in a folder, each file read once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.seen: set[str] = set()
        self.confirmed: set[int] = set()
        self._parser = BytesHeaderParser()

    def names(self) -> list[str]:
        try:
            return [
                e.name
                for e in os.scandir(self.folder)
                if e.name.endswith(".eml") and not e.name.startswith(".")
            ]
        except FileNotFoundError:
            return []

    def read_new(self, names: list[str]) -> None:
        for name in names:
            if name in self.seen:
                continue
            try:
                with open(self.folder / name, "rb") as fh:
                    headers = self._parser.parse(fh)
            except FileNotFoundError:
                continue
            self.seen.add(name)
            match = ORDER_SUBJECT.search(str(headers.get("Subject", "")))
            if match:
                self.confirmed.add(int(match.group(1)))

    def wait_for(self, order_ids: set[int], limit: float) -> float | None:
        """perf_counter() of the first look that found every confirmation
        (None if ``limit`` seconds passed first)."""
        deadline = time.perf_counter() + limit
        while True:
            looked = time.perf_counter()
            names = self.names()
            if len(names) >= len(order_ids):  # enough files: worth reading the new ones
                self.read_new(names)
                if order_ids <= self.confirmed:
                    return looked
            if looked > deadline:
                return None
            time.sleep(POLL)  # polling files another thread writes; sleeping frees the GIL

    def confirmed_now(self, order_ids: set[int]) -> int:
        self.read_new(self.names())
        return len(order_ids & self.confirmed)


def one_round(root: Path, n: int, seed: int) -> dict[str, Any]:
    from bench.orders import Candidate
    from storeapp.domain.events.durable import registry
    from storeapp.domain.events.worker import DurableWorker
    from storeapp.listeners.api import HeadlessHost
    from storeapp.listeners.manager import PluginManager

    root.mkdir()
    cand = Candidate(root / "drain.sqlite3", 1, n, seed=seed)
    data = root / "data"
    host = HeadlessHost(cand.store, data, {"email_log/backend": "file"})
    manager = PluginManager(host)
    host.plugins = manager
    manager.discover()
    manager.start(["email_log"])
    worker = DurableWorker(cand.store.engine) if registry.receivers() else None
    if worker is not None:
        worker.start()
    outbox = Outbox(data / "outbox")
    try:
        place = cand.store.place_order
        started = time.perf_counter()
        ids = {place(cid, user_id).id for cid, user_id, _lines in cand.batches[0]}
        last_commit = time.perf_counter()
        # What was already on disk at the last commit (read untimed: the
        # drain clock has started, and this look is part of it).
        done_at_last = outbox.confirmed_now(ids)
        drained = outbox.wait_for(ids, DRAIN_LIMIT)
        return {
            "rush": last_commit - started,
            "drain": None if drained is None else max(0.0, drained - last_commit),
            "pending": n - done_at_last,
            "confirmed": len(ids & outbox.confirmed),
            "durable": worker is not None,
            "enabled": manager.enabled_names(),
        }
    finally:
        manager.shutdown_all()
        if worker is not None:
            worker.stop()
        cand.store.close()


def run(args: argparse.Namespace) -> Report:
    started = time.perf_counter()
    report = Report("drain")
    n = args.orders
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-drain-") as tmp:
        for r in range(args.rounds):
            rounds.append(one_round(Path(tmp) / f"round-{r}", n, seed=100 + r))
    finished = [r for r in rounds if r["drain"] is not None]
    if len(finished) < len(rounds):
        stuck = [r for r in rounds if r["drain"] is None]
        confirmed = ", ".join(f"{r['confirmed']:,} of {n:,}" for r in stuck)
        report.row(
            f"drain: email backlog of a {n:,}-order rush",
            f"error: not drained in {DRAIN_LIMIT:.0f} s in {len(stuck)} of {len(rounds)} rounds "
            f"({confirmed} confirmed)",
            "",
            False,
        )
    if finished:
        ratio = median(r["drain"] / r["rush"] for r in finished)
        report.row(
            f"drain: email backlog after the last of {n:,} orders / the rush's own time",
            fmt_ratio(ratio),
        )
        report.row(
            "drain: last order's commit -> every confirmation on disk (abs., drifts)",
            f"{median(r['drain'] for r in finished):.2f} s",
        )
        report.row(
            f"drain: {n:,} orders placed in (abs., drifts)",
            f"{median(r['rush'] for r in finished):.2f} s "
            f"({median(n / r['rush'] for r in finished):,.0f} orders/s)",
        )
        report.row(
            "drain: confirmations not yet on disk at the last commit",
            f"{median(r['pending'] for r in finished):,.0f} of {n:,}",
        )
    first = rounds[0]
    how = "durable receivers (a DurableWorker)" if first["durable"] else "after-commit delivery"
    report.notes.append(
        f"drain: {len(rounds)} rounds of {n:,} orders x 3 items, each on a fresh database and "
        f"outbox; headless, plugins enabled: {', '.join(first['enabled'])}; file backend; "
        f"delivered by {how}; completion read from the outbox (a confirmation per order, by "
        f"Subject), polled every {POLL * 1000:.0f} ms; figures are medians of the rounds."
    )
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--orders", type=int, default=2000, help="orders in the rush (default 2000)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")


def main(argv: list[str] | None = None) -> int:
    return cli_main("drain", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
