"""Benchmark 2: ``Store.place_order`` throughput on a file SQLite database.

Three candidates, each on its own database file (same schema, same PRAGMAs:
WAL, synchronous NORMAL, foreign keys, BEGIN IMMEDIATE for writes; every one
opened with ``Store.open`` so the engine set-up is the app's own):

* (i)  ``place_order`` with no receiver connected at all (customers were
  created beforehand with ``core.ready()`` then ``core.shutdown()``);
* (ii) ``place_order`` with every plugin enabled by default, headless
  (``PluginManager(gui_like_host(store, tmp)).discover(); start()``; no panel;
  email backend ``memory``). Email delivery is drained (untimed) after each
  batch so it cannot bleed into the next candidate's batch;
* (i) without the event log: (i) with ``storeapp.domain.events.log.enabled``
  switched off for its batches only (no ``order_created`` row is built or
  written), on a database of its own prepared like (i)'s (same seed): what
  the log costs a checkout, (i) against this;
* floor: the same rows written with SQLAlchemy Core, one transaction per
  order: 3 guarded stock UPDATEs (``inventory >= :q``), the order, its 3
  items, the cart's items and the cart deleted (no event row).

Plugins run on :class:`GuiLikeHost`: like the window's bridge, it merges a
plugin's refresh requests (``coalesce``, ``coalesce_load``) by key and runs
them at most every 50 ms, in the committing thread (the window runs them on
the GUI thread, which is the thread that places the cashier's orders). A
host that ran every request at once would charge the inspector a timeline
flush per send, and inventory and analytics a database read per order,
which the app never does.

Information only: (ii) minus one plugin, for the inspector (its observer
records every send) and the email log (the durable worker builds a MIME
message per order), each on a database of its own, to tell one plugin's
cost from the others'.

Carts (3 distinct products each) are inserted beforehand with Core, for all
rounds at once (not timed). Each round times a batch of ``--orders`` orders
per candidate, in rotating order; the figures are medians of the per-round
ratios. Then (i) is profiled with cProfile on a separate batch (top 15 by
cumulative time, top 10 by own time), and (ii) too (its storeapp functions
only: which receivers cost what in the committing thread).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import Report, cli_main, fmt_ratio, median, rotate

LINES = 3
#: Information only: (ii) without each of these plugins.
LEAVE_OUT = ("inspector", "email_log")
CUSTOMERS = 8
STOCK = 100_000_000


class Candidate:
    """One database file with its products, customers and prepared carts."""

    def __init__(
        self,
        path: Path,
        batches: int,
        per_batch: int,
        seed: int,
        *,
        url: str | None = None,
        users: str = "bench",
    ) -> None:
        """A SQLite file at ``path``, or the database at ``url`` (shared by
        several processes: each names its customers ``users0``, ``users1``...)."""
        from storeapp.domain import Store
        from storeapp.domain.demo import seed_catalogue
        from storeapp.domain.models import Customer, Product, User
        from storeapp.listeners import core

        self.store = Store.open(url or f"sqlite:///{path}")
        seed_catalogue(self.store)
        for p in self.store.list_products():
            self.store.update_product(p.id, inventory=STOCK)
        core.ready()
        try:
            for i in range(CUSTOMERS):
                self.store.register_user(
                    f"{users}{i}", f"{users}{i}@example.com", "bench-password-1"
                )
        finally:
            core.shutdown()
        with self.store.engine.connect() as conn:
            customers, accounts = Customer.__table__, User.__table__
            self.customer_of = {
                user_id: customer_id
                for customer_id, user_id in conn.execute(
                    customers.select()
                    .with_only_columns(customers.c.id, customers.c.user_id)
                    .join_from(customers, accounts)
                    .where(accounts.c.username.like(f"{users}%"))
                )
            }
            assert len(self.customer_of) == CUSTOMERS
            self.price = {
                pid: price
                for pid, price in conn.execute(
                    Product.__table__.select().with_only_columns(
                        Product.__table__.c.id, Product.__table__.c.unit_price
                    )
                )
            }
        self.batches = [self._prepare(per_batch, random.Random(seed + b)) for b in range(batches)]

    def _prepare(
        self, n: int, rng: random.Random
    ) -> list[tuple[uuid.UUID, int, list[tuple[int, int]]]]:
        """Insert ``n`` carts of 3 lines with Core (not timed)."""
        from storeapp.domain.models import Cart, CartItem, utcnow

        products = sorted(self.price)
        users = sorted(self.customer_of)
        carts = []
        cart_rows, item_rows = [], []
        for _ in range(n):
            cid = uuid.uuid4()
            lines = [(pid, rng.randint(1, 3)) for pid in rng.sample(products, LINES)]
            carts.append((cid, rng.choice(users), lines))
            cart_rows.append({"id": cid, "created_at": utcnow()})
            item_rows.extend({"cart_id": cid, "product_id": pid, "quantity": q} for pid, q in lines)
        with self.store.engine.begin() as conn:
            conn.execute(Cart.__table__.insert(), cart_rows)
            conn.execute(CartItem.__table__.insert(), item_rows)
        return carts

    def place_all(
        self,
        carts: list[tuple[uuid.UUID, int, list[tuple[int, int]]]],
        then: Callable[[], Any] | None = None,
    ) -> float:
        """Place ``carts``' orders; ``then`` (timed too) runs the refreshes still due."""
        place = self.store.place_order
        start = time.perf_counter()
        for cid, user_id, _lines in carts:
            place(cid, user_id)
        if then is not None:
            then()
        return time.perf_counter() - start


class CoreFloor(Candidate):
    """The same writes with SQLAlchemy Core: the floor an ORM path can reach."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from sqlalchemy import bindparam, delete, update

        from storeapp.domain.models import Cart, CartItem, Order, OrderItem, Product

        products = Product.__table__
        self.write = self.store.engine.execution_options(storeapp_write=True)
        self.guarded = (
            update(products)
            .where(products.c.id == bindparam("pid"), products.c.inventory >= bindparam("q"))
            .values(inventory=products.c.inventory - bindparam("q"))
        )
        self.insert_order = Order.__table__.insert()
        self.insert_items = OrderItem.__table__.insert()
        self.delete_items = delete(CartItem.__table__).where(
            CartItem.__table__.c.cart_id == bindparam("cid")
        )
        self.delete_cart = delete(Cart.__table__).where(Cart.__table__.c.id == bindparam("cid"))

    def place_all(
        self,
        carts: list[tuple[uuid.UUID, int, list[tuple[int, int]]]],
        then: Callable[[], Any] | None = None,
    ) -> float:
        from storeapp.domain.models import OrderStatus, to_money, utcnow

        price = self.price
        customer_of = self.customer_of
        write = self.write
        guarded, insert_order, insert_items = self.guarded, self.insert_order, self.insert_items
        delete_items, delete_cart = self.delete_items, self.delete_cart
        start = time.perf_counter()
        for cid, user_id, lines in carts:
            with write.begin() as conn:  # BEGIN IMMEDIATE (the store's begin hook)
                for pid, q in sorted(lines):  # rows locked in one order: no deadlock
                    if conn.execute(guarded, {"pid": pid, "q": q}).rowcount != 1:
                        raise RuntimeError("out of stock in the floor")
                total = sum((to_money(price[pid] * q) for pid, q in lines), Decimal("0.00"))
                order_id = conn.execute(
                    insert_order,
                    {
                        "customer_id": customer_of[user_id],
                        "placed_at": utcnow(),
                        "status": OrderStatus.PLACED,
                        "total": total,
                    },
                ).inserted_primary_key[0]
                conn.execute(
                    insert_items,
                    [
                        {
                            "order_id": order_id,
                            "product_id": pid,
                            "unit_price": price[pid],
                            "quantity": q,
                        }
                        for pid, q in lines
                    ],
                )
                conn.execute(delete_items, {"cid": cid})
                conn.execute(delete_cart, {"cid": cid})
        return time.perf_counter() - start


#: The window's bridge runs merged refresh requests at most this often.
COALESCE_INTERVAL = 0.05


def gui_like_host(store: Any, data_dir: Path, settings: dict[str, Any]) -> Any:
    """A headless host whose ``coalesce`` works like the window's bridge
    (``storeapp.ui.bridge.COALESCE_INTERVAL_MS``): requests with the same
    key merge, and the merged ones run at most every 50 ms, in the thread
    that asks (in the window: the GUI thread) and when a batch ends."""
    import threading

    from storeapp.listeners.api import HeadlessHost

    class GuiLikeHost(HeadlessHost):
        def __init__(self) -> None:
            super().__init__(store, data_dir, settings)
            self._lock = threading.Lock()
            self._pending: dict[str, Any] = {}
            self._last = time.perf_counter()

        def coalesce(self, key: str, fn: Any) -> None:
            with self._lock:
                self._pending[key] = fn
                due = time.perf_counter() - self._last >= COALESCE_INTERVAL
            if due:
                self.run_pending()

        def coalesce_load(self, key: str, load: Any, apply: Any) -> None:
            self.coalesce(key, lambda: apply(load()))

        def run_pending(self) -> None:
            with self._lock:
                pending, self._pending = self._pending, {}
                self._last = time.perf_counter()
            for fn in pending.values():
                fn()

    return GuiLikeHost()


def _receivers_connected() -> int:
    from storeapp.domain.signals import ALL_SIGNALS

    return sum(len(s.receivers) for s in ALL_SIGNALS)


def _profile(candidate: Candidate, carts: list[Any], limit: int = 15) -> tuple[str, str, float]:
    """The two listings, and the share of the time spent inside sqlite3's C calls."""
    profiler = cProfile.Profile()
    profiler.enable()
    candidate.place_all(carts)
    profiler.disable()
    stats = pstats.Stats(profiler)
    in_sqlite = sum(
        tt
        for (_file, _line, name), (_cc, _nc, tt, _ct, _callers) in stats.stats.items()
        if "sqlite3." in name
    )
    share = in_sqlite / stats.total_tt if stats.total_tt else float("nan")
    return (*_format(profiler, limit), share)


def _format(profiler: cProfile.Profile, limit: int) -> tuple[str, str]:
    texts = []
    for key in ("cumulative", "tottime"):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats(key).print_stats(limit if key == "cumulative" else 10)
        text = out.getvalue()
        # Drop pstats' preamble up to the column header; shorten paths.
        start = text.find("   ncalls")
        texts.append(_shorten(text[start:] if start >= 0 else text))
    return texts[0], texts[1]


def _shorten(text: str) -> str:
    import site
    import sysconfig

    prefixes = sorted(
        {*site.getsitepackages(), sysconfig.get_paths()["stdlib"], str(Path.cwd())},
        key=len,
        reverse=True,
    )
    for prefix in prefixes:
        text = text.replace(prefix + "/", "")
    return text.rstrip()


def run(args: argparse.Namespace) -> Report:
    from storeapp.domain import dispatch
    from storeapp.domain.events import log as eventlog
    from storeapp.domain.events.worker import DurableWorker
    from storeapp.listeners.manager import PluginManager

    started = time.perf_counter()
    report = Report("orders")
    rounds, per_batch = args.rounds, args.orders
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-orders-") as tmp:
        tmpdir = Path(tmp)
        bare = Candidate(tmpdir / "bare.sqlite3", rounds + 1, per_batch, seed=1)
        plugged = Candidate(tmpdir / "plugins.sqlite3", rounds + 1, per_batch, seed=2)
        unlogged = Candidate(tmpdir / "no-log.sqlite3", rounds, per_batch, seed=1)
        floor = CoreFloor(tmpdir / "floor.sqlite3", rounds, per_batch, seed=3)
        settings = {"email_log/backend": "memory"}
        manager = PluginManager(gui_like_host(plugged.store, tmpdir / "data", settings))
        manager.discover()
        # Information only: the same set minus one plugin, each on its own
        # database, to tell one plugin's cost from the others'.
        leave_out: dict[str, tuple[Candidate, PluginManager, list[str]]] = {}
        for i, left in enumerate(LEAVE_OUT):
            if left not in manager.default_names():
                continue
            cand = Candidate(tmpdir / f"minus-{left}.sqlite3", rounds, per_batch, seed=10 + i)
            mgr = PluginManager(gui_like_host(cand.store, tmpdir / f"data-{left}", settings))
            mgr.discover()
            leave_out[left] = (cand, mgr, [n for n in mgr.default_names() if n != left])

        enabled: list[str] = []
        failed: list[str] = []

        def plugins_run(
            mgr: PluginManager, cand: Candidate, names: list[str] | None, carts: list[Any]
        ) -> float:
            mgr.start(names)
            # The email log sends from the durable worker (the app starts one).
            worker = DurableWorker(cand.store.engine)
            worker.start()
            if names is None:
                enabled[:] = mgr.enabled_names()
                failed[:] = [f"{r.name} ({r.error})" for r in mgr.records() if r.state == "failed"]
            try:
                return cand.place_all(carts, mgr.host.run_pending)
            finally:
                for name in mgr.enabled_names():
                    plugin = mgr.record(name).plugin
                    wait = getattr(plugin, "wait_for_delivery", None)
                    if callable(wait):
                        wait(30.0)
                worker.stop()
                mgr.shutdown_all()

        def with_plugins(carts: list[Any]) -> float:
            return plugins_run(manager, plugged, None, carts)

        def minus(left: str) -> Any:
            cand, mgr, names = leave_out[left]
            return lambda carts: plugins_run(mgr, cand, names, carts)

        def without_receivers(carts: list[Any]) -> float:
            connected = _receivers_connected()
            if connected or dispatch.get_observer() is not None:
                raise RuntimeError(f"(i) expects no receivers; {connected} are connected")
            return bare.place_all(carts)

        def without_the_log(carts: list[Any]) -> float:
            connected = _receivers_connected()
            if connected or dispatch.get_observer() is not None:
                raise RuntimeError(f"(i) expects no receivers; {connected} are connected")
            eventlog.enabled = False
            try:
                return unlogged.place_all(carts)
            finally:
                eventlog.enabled = True

        runs = {
            "(i) no receivers": (without_receivers, bare),
            "(i) without the event log": (without_the_log, unlogged),
            "(ii) all plugins": (with_plugins, plugged),
            "Core floor": (floor.place_all, floor),
            **{f"(ii) minus {left}": (minus(left), leave_out[left][0]) for left in leave_out},
        }
        rates: dict[str, list[float]] = {name: [] for name in runs}
        for r in range(rounds):
            for name in rotate(list(runs), r):
                fn, cand = runs[name]
                rates[name].append(per_batch / fn(cand.batches[r]))

        i_floor = median(a / b for a, b in zip(rates["(i) no receivers"], rates["Core floor"]))
        logged = median(
            a / b for a, b in zip(rates["(i) no receivers"], rates["(i) without the event log"])
        )
        report.row(
            "orders: place_order with the event log / without",
            fmt_ratio(logged),
            ">= 0.85x",
            logged >= 0.85,
        )
        ii_i = median(a / b for a, b in zip(rates["(ii) all plugins"], rates["(i) no receivers"]))
        report.row(
            "orders: (i) no receivers / Core floor", fmt_ratio(i_floor), ">= 0.30x", i_floor >= 0.30
        )
        report.row(
            "orders: (ii) all plugins / (i) no receivers", fmt_ratio(ii_i), ">= 0.70x", ii_i >= 0.70
        )
        for left in leave_out:
            ratio = median(
                a / b for a, b in zip(rates[f"(ii) minus {left}"], rates["(i) no receivers"])
            )
            report.row(f"orders: (ii) minus {left} / (i) no receivers", fmt_ratio(ratio))
        for name in runs:
            report.row(f"orders: {name}, orders/s (abs., drifts)", f"{median(rates[name]):,.0f}")

        # The profile: a separate batch of (i), after the timed rounds.
        profile_carts = bare.batches[rounds][: args.profile_orders]
        cumulative, tottime, in_sqlite = _profile(bare, profile_carts)
        report.row(
            "orders: (i) share of place_order's time inside SQLite (cProfile)", f"{in_sqlite:.0%}"
        )
        report.sections.append(
            (
                f"orders: cProfile of (i) place_order, {len(profile_carts):,} orders, "
                "top 15 by cumulative time",
                cumulative,
            )
        )
        report.sections.append(("orders: same profile, top 10 by own time (tottime)", tottime))

        # Where (ii)'s extra time goes: its storeapp functions, by cumulative time.
        profile_carts = plugged.batches[rounds][: args.profile_orders]
        manager.start()
        worker = DurableWorker(plugged.store.engine)
        worker.start()
        profiler = cProfile.Profile()
        profiler.enable()
        plugged.place_all(profile_carts, manager.host.run_pending)
        profiler.disable()
        for name in manager.enabled_names():
            wait = getattr(manager.record(name).plugin, "wait_for_delivery", None)
            if callable(wait):
                wait(30.0)
        worker.stop()
        manager.shutdown_all()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats("storeapp", 20)
        text = out.getvalue()
        begin = text.find("   ncalls")
        report.sections.append(
            (
                f"orders: cProfile of (ii) all plugins, {len(profile_carts):,} orders, the 20 "
                "storeapp functions with the most cumulative time (wall time of the committing "
                "thread; the email delivery thread is not profiled, but the GIL it holds "
                "lengthens these times)",
                _shorten(text[begin:] if begin >= 0 else text),
            )
        )
        report.notes.append(
            f"orders: {rounds} interleaved rounds of {per_batch:,} orders x {LINES} items per "
            f"candidate; (ii) enabled: {', '.join(enabled) or 'none'}"
            + (f"; failed: {', '.join(failed)}" if failed else "")
            + "; ratios are medians of per-round ratios."
        )
        for cand in (bare, unlogged, plugged, floor, *(c for c, _m, _n in leave_out.values())):
            cand.store.close()
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--orders", type=int, default=2000, help="orders per batch (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--profile-orders",
        type=int,
        default=500,
        help="orders in the profiled batch of (i) (default 500)",
    )


def main(argv: list[str] | None = None) -> int:
    return cli_main("orders", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
