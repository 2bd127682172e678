"""Checkouts racing for the last items: stock is never oversold.

Threads share one Store; processes open the same SQLite file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter

from storeapp.domain import OutOfStock, Store
from storeapp.domain.signals import order_created

THREADS = 8
LAST_ITEMS = 3


def stock_and_orders(store: Store, product_id: int) -> tuple[int, int]:
    return store.stock_levels()[product_id], len(store.list_orders())


def test_threads_racing_for_the_last_items_sell_exactly_that_many(store, core_ready):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", LAST_ITEMS)
    carts = [store.add_to_cart(store.create_cart().id, tea.id, 1) for _ in range(THREADS)]
    start = threading.Barrier(THREADS + 1)
    done = threading.Event()
    outcomes: list[object] = []
    lowest_stock_seen = [LAST_ITEMS]
    created = []

    def check_out(cart_id):
        start.wait()
        try:
            outcomes.append(store.place_order(cart_id, user.id))
        except Exception as exc:
            outcomes.append(exc)

    def watch_stock():
        start.wait()
        while not done.is_set():
            lowest_stock_seen[0] = min(lowest_stock_seen[0], store.stock_levels()[tea.id])

    def on_order(sender, order, **kwargs):
        created.append(order.id)

    buyers = [threading.Thread(target=check_out, args=(c.id,)) for c in carts]
    watcher = threading.Thread(target=watch_stock)
    with order_created.connected_to(on_order):
        for thread in buyers + [watcher]:
            thread.start()
        for thread in buyers:
            thread.join()
        done.set()
        watcher.join()

    kinds = Counter(type(o).__name__ for o in outcomes)
    assert kinds == {"Order": LAST_ITEMS, "OutOfStock": THREADS - LAST_ITEMS}
    assert stock_and_orders(store, tea.id) == (0, LAST_ITEMS)
    assert lowest_stock_seen[0] >= 0
    assert sorted(created) == sorted(o.id for o in outcomes if not isinstance(o, OutOfStock))


CHECKOUT_SCRIPT = """
import json, sys
from storeapp.domain import OutOfStock, Store

url, user_id, cart_ids = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
store = Store.open(url)
print("ready", flush=True)
sys.stdin.readline()  # wait until every process is ready
sold = out_of_stock = 0
for cart_id in cart_ids:
    try:
        store.place_order(cart_id, user_id)
        sold += 1
    except OutOfStock:
        out_of_stock += 1
store.close()
print(json.dumps({"sold": sold, "out_of_stock": out_of_stock}), flush=True)
"""


def test_processes_racing_for_the_last_items_sell_exactly_that_many(store, core_ready):
    processes, carts_each, last_items = 2, 5, 4
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", last_items)
    carts = [
        str(store.add_to_cart(store.create_cart().id, tea.id, 1).id)
        for _ in range(processes * carts_each)
    ]
    env = {**os.environ, "PYTHONWARNINGS": "error"}

    children = [
        subprocess.Popen(
            [sys.executable, "-c", CHECKOUT_SCRIPT, str(store.url), str(user.id)]
            + carts[n * carts_each : (n + 1) * carts_each],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for n in range(processes)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for child in children:  # both start buying at once
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()

    assert [child.returncode for child in children] == [0] * processes, results
    tallies = [json.loads(out.strip().splitlines()[-1]) for out, _err in results]
    assert sum(t["sold"] for t in tallies) == last_items
    assert sum(t["out_of_stock"] for t in tallies) == processes * carts_each - last_items
    assert stock_and_orders(store, tea.id) == (0, last_items)
