"""Benchmark 7: several tills on one PostgreSQL (a throw-away server, as the tests start it).

Two figures, each against a floor measured in the same run:

* **cross-terminal latency**: a seller process places an order (one at a
  time, 20 ms apart); this process follows the event log as a till does
  (a :class:`~storeapp.domain.events.follow.Follower` woken by NOTIFY,
  replaying the event as a remote ``order_created``) and notes when the
  remote receiver runs. Latency = receiver start - the start of the order's
  COMMIT in the seller (a ``before_commit`` hook; both on the machine's
  monotonic clock, which processes share). The floor: the same seller sends
  a bare ``NOTIFY`` on an autocommit psycopg connection right after each
  order, and a bare psycopg ``LISTEN`` here notes its arrival (from just
  before that statement, which commits). Target: p50 <= 3x the floor's p50,
  p99 <= 50 ms.
* **orders/s with 1, 2 and 4 till processes** selling at once, each its own
  prepared carts (3 lines), against the same writes made with SQLAlchemy
  Core by as many processes (:class:`bench.orders.CoreFloor`: no ORM, no
  signals, no event log). Target: >= 0.30x. Processes, rounds and modes
  are interleaved; figures are medians of the rounds.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench import Report, cli_main, fmt_ms, fmt_ratio, median, percentile, rotate

ROOT = Path(__file__).resolve().parent.parent

SELLER = r"""
import json, sys, time
import psycopg
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from storeapp.domain import Store
from storeapp.listeners import core

url, count = sys.argv[1], int(sys.argv[2])
store = Store.open(url, terminal="seller")
core.ready()
user = store.register_user("latency", "latency@example.com", "bench-password-1")
product = store.list_products()[0]
bare = psycopg.connect(
    make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
    autocommit=True,
)
commit_began = [0.0]  # both latencies run from just before their commit
event.listen(Session, "before_commit", lambda s: commit_began.__setitem__(0, time.monotonic()))
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()
for i in range(count):
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, 1)
    order = store.place_order(cart.id, user.id)
    committed = commit_began[0]
    notified = time.monotonic()  # from before the NOTIFY's own (auto)commit
    bare.execute(f"NOTIFY bench_floor, '{i}'")
    print(json.dumps({"order": order.id, "at": committed, "floor": i, "floor_at": notified}),
          flush=True)
    time.sleep(0.02)
"""

WORKER = r"""
import json, sys, tempfile
from pathlib import Path
from bench.orders import Candidate, CoreFloor

url, mode, users, count, seed = sys.argv[1:6]
cls = CoreFloor if mode == "core" else Candidate
candidate = cls(Path(tempfile.gettempdir()), 1, int(count), int(seed), url=url, users=users)
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()
elapsed = candidate.place_all(candidate.batches[0])
print(json.dumps({"elapsed": elapsed}), flush=True)
"""


def _spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def _line(proc: subprocess.Popen[str]) -> dict[str, Any]:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"child exited with {proc.wait()}")
    return dict(json.loads(line))


def _go(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()


# -- latency --------------------------------------------------------------------------


def measure_latency(url: str, count: int) -> tuple[list[float], list[float]]:
    """(storeapp latencies, bare NOTIFY latencies), seconds."""
    import psycopg
    from sqlalchemy.engine import make_url

    from storeapp.domain import Store
    from storeapp.domain.events.follow import Follower, FollowState
    from storeapp.domain.events.remote import send_remote
    from storeapp.domain.signals import order_created

    arrived: dict[int, float] = {}
    floor_arrived: dict[int, float] = {}

    def remote_receiver(sender: Any, order: Any, remote: bool = False, **kwargs: Any) -> None:
        if remote:
            arrived[order.id] = time.monotonic()

    store = Store.open(url, terminal="follower")
    order_created.connect(remote_receiver, weak=False, remote=True)
    live = threading.Event()
    follower = Follower(
        store.engine,
        "follower",
        send_remote,
        on_state=lambda s: live.set() if s.state is FollowState.LIVE else None,
    )
    stop = threading.Event()
    bare = psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    )
    bare.execute("LISTEN bench_floor")

    def bare_listener() -> None:
        while not stop.is_set():
            for note in bare.notifies(timeout=0.25):
                floor_arrived[int(note.payload)] = time.monotonic()

    listener = threading.Thread(target=bare_listener, daemon=True)
    seller = _spawn(SELLER, url, str(count))
    try:
        follower.start()
        listener.start()
        live.wait(30)
        _line(seller)
        _go([seller])
        sent = [_line(seller) for _ in range(count)]
        deadline = time.monotonic() + 30
        while (len(arrived) < count or len(floor_arrived) < count) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        follower.stop()
        listener.join(5)
        bare.close()
        seller.wait(30)
        order_created.disconnect(remote_receiver)
        store.close()
    ours = [arrived[s["order"]] - s["at"] for s in sent if s["order"] in arrived]
    floor = [floor_arrived[s["floor"]] - s["floor_at"] for s in sent if s["floor"] in floor_arrived]
    return ours, floor


# -- throughput -----------------------------------------------------------------------


def measure_rate(
    url: str, mode: str, processes: int, per_process: int, tag: str, seed: int
) -> float:
    """Orders per second of ``processes`` tills placing ``per_process`` orders each at once."""
    procs = [
        _spawn(WORKER, url, mode, f"{tag}p{i}u", str(per_process), str(seed + i))
        for i in range(processes)
    ]
    try:
        for proc in procs:
            _line(proc)
        started = time.perf_counter()
        _go(procs)
        for proc in procs:
            _line(proc)
        elapsed = time.perf_counter() - started
    finally:
        for proc in procs:
            proc.wait(60)
    return processes * per_process / elapsed


def run(args: argparse.Namespace) -> Report:
    sys.path.insert(0, str(ROOT))
    from tests.postgres import ThrowAwayPostgres

    report = Report("tills")
    started = time.perf_counter()
    server = ThrowAwayPostgres.start()
    try:
        with server.admin() as conn:
            conn.execute("CREATE DATABASE bench_latency")
            conn.execute("CREATE DATABASE bench_rate")
        from storeapp.domain import Store
        from storeapp.domain.demo import seed_catalogue

        for name in ("bench_latency", "bench_rate"):
            store = Store.open(server.url(name))
            seed_catalogue(store)
            for product in store.list_products():
                store.update_product(product.id, inventory=100_000_000)
            store.close()
        ours, floor = measure_latency(server.url("bench_latency"), args.latency_orders)
        p50, p99, floor50 = median(ours), percentile(ours, 99), median(floor)
        report.row(
            "tills: cross-terminal latency p50 / bare NOTIFY p50",
            f"{fmt_ratio(p50 / floor50)} ({fmt_ms(p50)} / {fmt_ms(floor50)})",
            "<= 3.00x",
            p50 / floor50 <= 3.0,
        )
        report.row(
            "tills: cross-terminal latency p99",
            f"{fmt_ms(p99)} (bare NOTIFY p99 {fmt_ms(percentile(floor, 99))})",
            "<= 50 ms",
            p99 <= 0.050,
        )
        rates: dict[tuple[str, int], list[float]] = {}
        url = server.url("bench_rate")
        for round_no in range(args.rounds):
            for processes in (1, 2, 4):
                for mode in rotate(["storeapp", "core"], round_no + processes):
                    tag = f"r{round_no}k{processes}{mode[0]}"
                    rate = measure_rate(url, mode, processes, args.orders, tag, 10 * round_no)
                    rates.setdefault((mode, processes), []).append(rate)
        for processes in (1, 2, 4):
            ratio = median(
                a / b
                for a, b in zip(
                    rates[("storeapp", processes)], rates[("core", processes)], strict=True
                )
            )
            report.row(
                f"tills: orders/s, {processes} till process(es) / Core floor",
                f"{fmt_ratio(ratio)} ({median(rates[('storeapp', processes)]):,.0f} / "
                f"{median(rates[('core', processes)]):,.0f} orders/s)",
                ">= 0.30x",
                ratio >= 0.30,
            )
        report.notes.append(
            f"tills: a throw-away PostgreSQL server (fsync off, as in the tests); latency over "
            f"{len(ours)} orders placed 20 ms apart by another process, received by a Follower "
            f"woken by NOTIFY; throughput: {args.orders} orders (3 lines) per process, "
            f"{args.rounds} interleaved rounds, medians; the till processes run place_order "
            f"with no plugins (the event log's append and NOTIFY included); 4 processes share "
            f"the machine's cores with the server."
        )
    finally:
        server.stop()
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latency-orders", type=int, default=200)
    parser.add_argument("--orders", type=int, default=150, help="orders per process per round")
    parser.add_argument("--rounds", type=int, default=3)


def main(argv: list[str] | None = None) -> int:
    return cli_main("tills", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
