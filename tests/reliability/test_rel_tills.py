"""Several tills on one PostgreSQL, each a process of its own.

Two tills sell at once while a third follows the event log. The follower
records what it is handed in the transaction that moves its cursor (the
follower's promise to a receiver that writes through it), and is killed
with SIGKILL halfway and started again. In the end it has seen every event
the selling tills committed, each once, in commit order, none skipped. Then
two tills race for the last items: exactly that many are sold.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, text

from storeapp.domain import Store
from storeapp.domain.events import log

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Child, Seed

from tests.postgres import ThrowAwayPostgres

ORDERS_PER_TILL = 40
PRODUCT = 2  # one of the seed's products; each test sets its stock

SELLER = r"""
import json, sys
from storeapp.domain import Store

url, till, user_id, product_id, count = sys.argv[1:6]
store = Store.open(url, terminal=till)
print(json.dumps({"ready": True}), flush=True)
sys.stdin.readline()  # the barrier: both tills start together
for _ in range(int(count)):
    cart = store.create_cart()
    store.add_to_cart(cart.id, int(product_id), 1)
    print(json.dumps({"order": store.place_order(cart.id, int(user_id)).id}), flush=True)
store.close()
"""

FOLLOWER = r"""
import json, sys, threading
from sqlalchemy import text
from storeapp.domain import Store
from storeapp.domain.events.follow import Follower

url = sys.argv[1]
store = Store.open(url, terminal="watcher")

def deliver(row, conn):
    # Written in the transaction that stores the cursor: exactly once.
    conn.execute(text("INSERT INTO seen (event_id) VALUES (:id)"), {"id": row.id})

follower = Follower(store.engine, "watcher", deliver, transactional=True)
ready = threading.Event()
follower.on_state = lambda status: ready.set()
follower.start()
ready.wait(30)
print(json.dumps({"following": follower.cursor}), flush=True)
sys.stdin.readline()  # until told to stop (or killed)
follower.stop()
store.close()
"""


def reply(child: Child) -> dict:
    line = child.readline(timeout=120)
    assert line is not None, f"child {child.pid} died:\n{child.stderr()}"
    return json.loads(line)


def seen_ids(url: str) -> list[int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(text("SELECT event_id FROM seen ORDER BY n")))
    finally:
        engine.dispose()


def test_two_tills_sell_while_a_killed_and_restarted_follower_sees_each_event_once_in_order(
    seed: Seed,
    pg_seed: str,
    postgres: ThrowAwayPostgres,
    spawn_child: Callable[..., Child],
) -> None:
    url = postgres.url(postgres.create_database(pg_seed))
    store = Store.open(url, terminal="office")
    store.update_product(PRODUCT, inventory=1000)
    with store.engine.begin() as conn:
        conn.execute(text("CREATE TABLE seen (n bigserial PRIMARY KEY, event_id bigint)"))
    with store.engine.connect() as conn:
        start = max([row.id for row in log.read_after(conn, 0, 100_000)] or [0])

    follower = spawn_child(FOLLOWER, url)
    assert reply(follower) == {"following": start}
    users = list(seed.users.values())
    sellers = [
        spawn_child(SELLER, url, till, str(user), str(PRODUCT), str(ORDERS_PER_TILL))
        for till, user in zip(("till-a", "till-b"), users, strict=True)
    ]
    for seller in sellers:
        assert reply(seller) == {"ready": True}
    for seller in sellers:
        seller.send("go")
    sold: dict[str, list[int]] = {"till-a": [], "till-b": []}
    for _ in range(ORDERS_PER_TILL // 2):  # half way through both...
        for till, seller in zip(sold, sellers, strict=True):
            sold[till].append(reply(seller)["order"])
    follower.kill()  # ...the follower loses power
    follower = spawn_child(FOLLOWER, url)
    resumed_at = reply(follower)["following"]
    for till, seller in zip(sold, sellers, strict=True):
        sold[till] += [json.loads(line)["order"] for line in seller.rest(timeout=120)]
        assert seller.proc.wait(60) == 0, seller.stderr()

    with store.engine.connect() as conn:
        events = [r for r in log.read_after(conn, start, 100_000) if r.terminal != "watcher"]
    expected = [r.id for r in events]
    deadline = time.monotonic() + 120
    while len(seen_ids(url)) < len(expected) and time.monotonic() < deadline:
        assert follower.proc.poll() is None, follower.stderr()
        threading.Event().wait(0.1)  # the follower is woken by each commit; we poll
    follower.send("stop")
    assert follower.proc.wait(60) == 0, follower.stderr()

    seen = seen_ids(url)
    assert start <= resumed_at <= expected[-1]
    assert len(seen) == len(set(seen)), "an event was handed over twice"
    assert seen == expected, "an event was skipped or handed over out of order"
    # Commit order: each till's orders reach the follower in the order it placed them.
    by_id = {r.id: r for r in events}
    for till, orders in sold.items():
        assert len(orders) == ORDERS_PER_TILL
        followed = [
            by_id[i].payload["order_id"]
            for i in seen
            if by_id[i].terminal == till and by_id[i].signal == "order_created"
        ]
        assert followed == orders
    store.close()


RACER = r"""
import json, sys
from storeapp.domain import OutOfStock, Store

url, till, user_id, product_id, carts = sys.argv[1:6]
store = Store.open(url, terminal=till)
built = []
for _ in range(int(carts)):
    cart = store.create_cart()
    store.add_to_cart(cart.id, int(product_id), 1)
    built.append(cart.id)
print(json.dumps({"built": len(built)}), flush=True)
sys.stdin.readline()
sold, refused = [], 0
for cart_id in built:
    try:
        sold.append(store.place_order(cart_id, int(user_id)).id)
    except OutOfStock:
        refused += 1
print(json.dumps({"sold": sold, "refused": refused}), flush=True)
store.close()
"""


def test_two_tills_racing_for_the_last_items_on_postgresql_sell_exactly_that_many(
    seed: Seed,
    pg_seed: str,
    postgres: ThrowAwayPostgres,
    spawn_child: Callable[..., Child],
) -> None:
    last = 7
    url = postgres.url(postgres.create_database(pg_seed))
    store = Store.open(url)
    store.update_product(PRODUCT, inventory=last)
    users = list(seed.users.values())
    racers = [
        spawn_child(RACER, url, till, str(user), str(PRODUCT), str(last))
        for till, user in zip(("till-a", "till-b"), users, strict=True)
    ]
    for racer in racers:
        assert reply(racer) == {"built": last}
    for racer in racers:
        racer.send("go")
    results = [reply(racer) for racer in racers]

    sold = [order for result in results for order in result["sold"]]
    assert len(sold) == last
    assert sum(result["refused"] for result in results) == last
    assert store.stock_levels()[PRODUCT] == 0
    store.close()
