"""Two processes racing for the last K items on one SQLite file sell exactly K.

Each child builds K carts of one item while K are in stock (add_to_cart
accepts them all: each fits on its own), waits at a barrier (a line on its
stdin), then checks out every cart as fast as it can. The guarded stock
decrement must let exactly K checkouts through in total, refuse every other
with OutOfStock, never take the stock below zero, and never let "database is
locked" (or anything else that is not a DomainError) escape.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from storeapp.domain import Store

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Child, Seed

# (K, lockstep) per round. Free-running, one process tends to take the write
# lock again and again while the other waits in SQLite's busy handler, so
# the loser mostly meets an empty shelf; in lockstep both are released for
# every single checkout, so each item (the very last one too) is fought for.
ROUNDS = ((25, False), (15, True), (1, True), (40, False), (7, True))
PRODUCT = 2  # the seed's mug

CHILD = r"""
import json, sys, traceback
from storeapp.domain import DomainError, OutOfStock, Store
from storeapp.domain.models import CartItem, OrderItem
from storeapp.domain.signals import post_save, pre_delete

db, user_id, product_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if sys.argv[4] == "orm":
    # Someone listens to the model signals: place_order's ORM path.
    def noop(sender, **kwargs):
        pass
    post_save.connect(noop, sender=OrderItem, weak=False)
    pre_delete.connect(noop, sender=CartItem, weak=False)
store = Store.open(f"sqlite:///{db}")
print(json.dumps({"ready": True}), flush=True)
carts = []
for line in sys.stdin:
    command = json.loads(line)
    if command["op"] == "build":
        carts = []
        for _ in range(command["carts"]):
            cart = store.create_cart()
            store.add_to_cart(cart.id, product_id, 1)
            carts.append(cart.id)
        print(json.dumps({"built": len(carts)}), flush=True)
    elif command["op"] == "go":
        # Check out the next n carts (all that are left if n is None).
        n = len(carts) if command["n"] is None else command["n"]
        batch, carts = carts[:n], carts[n:]
        sold, out_of_stock, errors = [], 0, []
        for cart_id in batch:
            try:
                sold.append(store.place_order(cart_id, user_id).id)
            except OutOfStock:
                out_of_stock += 1
            except DomainError as err:
                errors.append(f"{type(err).__name__}: {err}")
            except Exception:
                errors.append(traceback.format_exc())
        print(json.dumps({"sold": sold, "out_of_stock": out_of_stock, "errors": errors}),
              flush=True)
    else:
        break
"""


def reply(child: Child) -> dict:
    line = child.readline()
    assert line is not None, f"child {child.pid} died:\n{child.stderr()}"
    return json.loads(line)


def test_two_processes_sell_exactly_the_last_k_items_of_a_sqlite_file(
    seed: Seed, tmp_path: Path, spawn_child: Callable[..., Child]
) -> None:
    db = seed.copy_to(tmp_path / "race.sqlite3")
    users = list(seed.users.values())
    # One child writes through the ORM, the other through the fast path.
    children = [
        spawn_child(CHILD, str(db), str(user_id), str(PRODUCT), path)
        for user_id, path in zip(users, ["orm", "fast"])
    ]
    for child in children:
        assert reply(child) == {"ready": True}

    store = Store.open(f"sqlite:///{db}")
    try:
        for k, lockstep in ROUNDS:
            store.update_product(PRODUCT, inventory=k)
            orders_before = {o.id for o in store.list_orders()}
            for child in children:
                child.send(json.dumps({"op": "build", "carts": k}))
            for child in children:
                assert reply(child) == {"built": k}
            results = [{"sold": [], "out_of_stock": 0, "errors": []} for _ in children]
            for _ in range(k if lockstep else 1):
                # The barrier: both children are idle, waiting for this line.
                for child in children:
                    child.send(json.dumps({"op": "go", "n": 1 if lockstep else None}))
                for child, result in zip(children, results):
                    step = reply(child)
                    result["sold"] += step["sold"]
                    result["out_of_stock"] += step["out_of_stock"]
                    result["errors"] += step["errors"]

            for result in results:
                assert result["errors"] == [], "\n".join(result["errors"])
                assert len(result["sold"]) + result["out_of_stock"] == k
            sold = [oid for result in results for oid in result["sold"]]
            assert len(sold) == k, f"sold {len(sold)} of the last {k}"
            assert store.stock_levels()[PRODUCT] == 0
            new_orders = {o.id: o for o in store.list_orders()}
            assert set(new_orders) - orders_before == set(sold)
            for oid in sold:
                order = new_orders[oid]
                assert [(i.product_id, i.quantity) for i in order.items] == [(PRODUCT, 1)]
    finally:
        store.close()
        for child in children:
            with contextlib.suppress(OSError):  # a child that died says why above
                child.send(json.dumps({"op": "quit"}))

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute(
            "SELECT inventory FROM products WHERE id = ?", (PRODUCT,)
        ).fetchone() == (0,)
        sold_in_db = conn.execute(
            "SELECT COALESCE(SUM(quantity), 0) FROM order_items WHERE product_id = ?",
            (PRODUCT,),
        ).fetchone()[0]
        assert sold_in_db == sum(k for k, _ in ROUNDS)
    finally:
        conn.close()
