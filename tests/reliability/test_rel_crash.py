"""A process killed with SIGKILL while it places orders leaves a consistent store.

A child process places orders in a loop on a SQLite file and is killed at a
random point, again and again on the same file. It reports each step on
stdout (``cart``, ``placing`` with the cart's lines, ``placed`` with the
order id) so that, after each kill, the parent knows exactly what must be in
the database: every order the child saw committed, nothing of an order whose
transaction was cut short, or all of it.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from storeapp.domain import Store

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Child, Seed

KILLS = 24
SEED = 20240611
STOCK = 1_000_000  # never the limit here: the test is about crashes

CHILD = r"""
import json, random, sys
from storeapp.domain import Store
from storeapp.domain.models import CartItem, OrderItem
from storeapp.domain.signals import post_save, pre_delete

db, user_id, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
product_ids = json.loads(sys.argv[4])
if sys.argv[5] == "orm":
    # Someone listens to order items' and cart items' model signals: place_order
    # writes the order through the ORM and sends the cart's delete signals
    # instead of its silent plain INSERT/DELETE fast path.
    def noop(sender, **kwargs):
        pass
    post_save.connect(noop, sender=OrderItem, weak=False)
    pre_delete.connect(noop, sender=CartItem, weak=False)
rng = random.Random(seed)
store = Store.open(f"sqlite:///{db}")
print("ready", flush=True)
while True:
    cart = store.create_cart()
    print("cart", cart.id.hex, flush=True)
    lines = {}
    for pid in rng.sample(product_ids, rng.randint(1, len(product_ids))):
        qty = rng.randint(1, 3)
        store.add_to_cart(cart.id, pid, qty)
        lines[pid] = lines.get(pid, 0) + qty
    if rng.random() < 0.1:
        continue  # an abandoned cart: it may stay in the database
    print("placing", cart.id.hex, json.dumps(sorted(lines.items())), flush=True)
    order = store.place_order(cart.id, user_id)
    print("placed", cart.id.hex, order.id, flush=True)
"""


class Transcript:
    """What one child reported before it died."""

    def __init__(self, lines: list[str]) -> None:
        self.placed: dict[int, list[tuple[int, int]]] = {}  # order id -> lines
        self.placed_carts: list[str] = []
        self.in_flight: tuple[str, list[tuple[int, int]]] | None = None
        pending: dict[str, list[tuple[int, int]]] = {}
        for line in lines:
            word, _, rest = line.partition(" ")
            if word == "placing":
                cart, _, items = rest.partition(" ")
                pending[cart] = [tuple(pair) for pair in json.loads(items)]
                self.in_flight = (cart, pending[cart])
            elif word == "placed":
                cart, order_id = rest.split()
                self.placed[int(order_id)] = pending.pop(cart)
                self.placed_carts.append(cart)
                self.in_flight = None
            elif word == "cart":
                pass
            else:
                pytest.fail(f"unexpected line from the child: {line!r}")


def run_until_killed(
    spawn_child: Callable[..., Child],
    db: Path,
    user_id: int,
    product_ids: list[int],
    rng: random.Random,
) -> Transcript:
    path = rng.choice(["orm", "fast"])
    child = spawn_child(
        CHILD, str(db), str(user_id), str(rng.randrange(2**32)), json.dumps(product_ids), path
    )
    lines: list[str] = []
    first = child.readline()
    assert first == "ready", f"child did not start: {first!r}\n{child.stderr()}"
    # Kill after a random number of orders, either somewhere in the next one
    # or (half of the time) just as the child starts placing it, so that many
    # kills land inside place_order's transaction or its commit.
    wanted = rng.randint(0, 5)
    marker = "placed " if rng.random() < 0.5 else "placing "
    delay = rng.uniform(0, 0.02 if marker == "placed " else 0.015)
    while sum(line.startswith(marker) for line in lines) < wanted + (marker == "placing "):
        line = child.readline()
        assert line is not None, f"child died on its own:\n{child.stderr()}"
        lines.append(line)
    # The delay only varies where the kill lands; the handshake above is the
    # synchronisation.
    time.sleep(delay)
    status = child.kill()
    assert status == -signal.SIGKILL, f"child exited by itself ({status}):\n{child.stderr()}"
    lines += child.rest()
    return Transcript(lines)


def check_consistent(
    db: Path, stock: dict[int, int], placed: dict[int, list[tuple[int, int]]]
) -> None:
    """Integrity, no partial order, totals, stock conservation."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        orders = {oid for (oid,) in conn.execute("SELECT id FROM orders")}
        assert orders == set(placed), "orders in the file differ from those committed"
        items: dict[int, list[tuple[int, int]]] = {}
        for oid, pid, qty in conn.execute(
            "SELECT order_id, product_id, quantity FROM order_items ORDER BY order_id, product_id"
        ):
            items.setdefault(oid, []).append((pid, qty))
        for oid, lines in placed.items():
            assert items.get(oid) == sorted(lines), f"order {oid} is not its whole cart"
        bad_totals = conn.execute(
            "SELECT o.id, o.total, SUM(i.unit_price * i.quantity) FROM orders o "
            "JOIN order_items i ON i.order_id = o.id GROUP BY o.id "
            "HAVING o.total != SUM(i.unit_price * i.quantity)"
        ).fetchall()
        assert bad_totals == []
        sold: dict[int, int] = dict.fromkeys(stock, 0)
        for lines in placed.values():
            for pid, qty in lines:
                sold[pid] += qty
        inventory = dict(conn.execute("SELECT id, inventory FROM products"))
        assert inventory == {pid: stock[pid] - sold[pid] for pid in stock}
        orphans = conn.execute(
            "SELECT COUNT(*) FROM cart_items WHERE cart_id NOT IN (SELECT id FROM carts)"
        ).fetchone()
        assert orphans == (0,)
    finally:
        conn.close()


def cart_exists(db: Path, cart_hex: str) -> bool:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT 1 FROM carts WHERE id = ?", (cart_hex,)).fetchone() is not None
    finally:
        conn.close()


def max_order_id(db: Path) -> int | None:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT MAX(id) FROM orders").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
def test_orders_survive_sigkill_at_random_points_in_a_sqlite_file(
    seed: Seed, tmp_path: Path, spawn_child: Callable[..., Child]
) -> None:
    db = seed.copy_to(tmp_path / "crash.sqlite3")
    store = Store.open(f"sqlite:///{db}")
    for pid in seed.product_ids:
        store.update_product(pid, inventory=STOCK)
    store.close()
    stock = dict.fromkeys(seed.product_ids, STOCK)
    user_id = seed.users["alice"]
    rng = random.Random(SEED)
    placed: dict[int, list[tuple[int, int]]] = {}
    cut_short = 0
    rolled_back = 0

    for _ in range(KILLS):
        transcript = run_until_killed(spawn_child, db, user_id, seed.product_ids, rng)
        placed.update(transcript.placed)
        for cart in transcript.placed_carts:
            assert not cart_exists(db, cart), "a placed order's cart is still there"
        if transcript.in_flight is not None:
            cart, lines = transcript.in_flight
            newest = max_order_id(db)
            if not cart_exists(db, cart):
                # The kill came after the commit, before the child said so:
                # the whole order is there, as the newest one.
                assert newest is not None and newest not in placed
                placed[newest] = lines
                cut_short += 1
            else:
                assert newest is None or newest in placed, "an order without its cart removed"
                rolled_back += 1
        check_consistent(db, stock, placed)
        reopened = Store.open(f"sqlite:///{db}")
        try:
            assert len(reopened.list_products()) == len(stock)
            assert reopened.stock_levels() == {
                pid: STOCK - sum(q for lines in placed.values() for p, q in lines if p == pid)
                for pid in stock
            }
        finally:
            reopened.close()

    assert len(placed) >= KILLS // 2, "the children placed too few orders to test anything"
    assert cut_short + rolled_back >= 1, "no kill landed inside place_order"
