"""PostgreSQL as a first-class database: its URLs, its errors in words, its races.

Run against the suite's throw-away server (tests/postgres.py).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storeapp.domain import DatabaseUnavailable, OutOfStock, Store
from storeapp.domain.events import log
from storeapp.domain.models import Order, Product
from storeapp.domain.store.database import parse_url

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_a_bare_postgresql_url_means_psycopg_3(scheme):
    assert parse_url(f"{scheme}://u:pw@h/db").drivername == "postgresql+psycopg"


def test_thirty_threads_racing_for_ten_items_on_postgresql_sell_exactly_ten(new_db_url, core_ready):
    threads, items = 30, 10
    store = Store.open(new_db_url("postgresql"))
    try:
        user = store.register_user("ada", "ada@example.com", "s3cret-pass")
        tea = store.add_product("TEA", "Green tea", "3.50", items)
        carts = [store.add_to_cart(store.create_cart().id, tea.id, 1) for _ in range(threads)]
        start = threading.Barrier(threads)
        outcomes: list[object] = []

        def check_out(cart_id):
            start.wait()
            try:
                outcomes.append(store.place_order(cart_id, user.id))
            except Exception as exc:  # anything but OutOfStock fails the count below
                outcomes.append(exc)

        buyers = [threading.Thread(target=check_out, args=(c.id,)) for c in carts]
        for thread in buyers:
            thread.start()
        for thread in buyers:
            thread.join()

        kinds = Counter(type(o).__name__ for o in outcomes)
        assert kinds == {"Order": items, "OutOfStock": threads - items}
        assert all(o.available == 0 for o in outcomes if isinstance(o, OutOfStock))
        with store.engine.connect() as conn:
            assert conn.scalar(select(Product.inventory).where(Product.id == tea.id)) == 0
            assert conn.scalar(select(func.count()).select_from(Order)) == items
    finally:
        store.close()


def test_tills_checking_out_the_same_products_in_any_order_never_deadlock(new_db_url, core_ready):
    """Each checkout takes its lines' stock in one UPDATE; several tills
    taking the same products, listed in different orders, must lock the rows
    in one order, or PostgreSQL breaks a deadlock by failing an order."""
    threads, per_thread = 6, 25
    store = Store.open(new_db_url("postgresql"))
    try:
        user = store.register_user("ada", "ada@example.com", "s3cret-pass")
        products = [store.add_product(f"P{i}", f"Product {i}", "1.00", 10_000) for i in range(4)]
        start = threading.Barrier(threads)
        errors: list[str] = []

        def till(seed: int) -> None:
            rng = random.Random(seed)
            carts = []
            for _ in range(per_thread):
                cart = store.create_cart()
                for product in rng.sample(products, 3):  # the same products, in any order
                    store.add_to_cart(cart.id, product.id, 1)
                carts.append(cart.id)
            start.wait()
            for cart_id in carts:
                try:
                    store.place_order(cart_id, user.id)
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")

        tills = [threading.Thread(target=till, args=(n,)) for n in range(threads)]
        for thread in tills:
            thread.start()
        for thread in tills:
            thread.join()

        assert errors == []
        sold = sum(10_000 - store.stock_levels()[p.id] for p in products)
        assert sold == threads * per_thread * 3
    finally:
        store.close()


def refused(url: str) -> str:
    with pytest.raises(DatabaseUnavailable) as info:
        Store.open(url)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def test_a_port_that_is_not_a_number_is_a_bad_url_without_the_password():
    message = refused("postgresql://u:secret@h:notaport/db")
    assert message.startswith("Not a database URL:")
    assert "the port is not a number" in message
    assert "secret" not in message


def test_a_server_that_is_down_is_said_so(tmp_path):
    message = refused(f"postgresql://u@/db?host={tmp_path}")  # no server has a socket there
    assert message.startswith("No PostgreSQL server answers at ")
    assert "is it running?" in message


def test_a_refused_login_is_said_so(postgres):
    url = postgres.url("postgres").replace("postgres:@", "nobody:pw@", 1)
    message = refused(url)
    assert message.startswith("The database server refused the login of user 'nobody'")
    assert ":pw@" not in message


def test_a_missing_database_is_named(postgres):
    message = refused(postgres.url("no_such_db"))
    assert message.startswith("No database named 'no_such_db' on the server")


def test_a_missing_psycopg_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    message = refused("postgresql://u@localhost/db")
    assert "needs the psycopg package" in message
    assert "storeapp[postgres]" in message


@pytest.mark.parametrize("command", [["main.py"], ["main.py", "events"]])
def test_both_entry_points_print_one_line_and_exit_2_for_a_bad_url(command):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONWARNINGS": "error"}
    result = subprocess.run(
        [sys.executable, *command, "--db", "postgresql://u:pw@h:notaport/db"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    # The window's frame is shown before the database is opened; Qt's
    # offscreen platform (these tests' display) says a word when it is.
    ours = [line for line in result.stderr.splitlines() if "propagateSizeHints" not in line]
    assert len(ours) == 1, result.stderr
    assert "Not a database URL" in result.stderr and "port is not a number" in result.stderr
    assert "Traceback" not in result.stderr and "pw@" not in result.stderr


def test_the_events_command_reads_a_postgresql_log(new_db_url, core_ready):
    url = new_db_url("postgresql")
    store = Store.open(url, terminal="till-9")
    store.register_user("ada", "ada@example.com", "s3cret-pass")
    store.close()
    result = subprocess.run(
        [sys.executable, "main.py", "events", "--db", url],
        cwd=REPO,
        env={**os.environ, "PYTHONWARNINGS": "error"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert '"signal": "user_registered"' in result.stdout
    assert '"terminal": "till-9"' in result.stdout


def test_an_event_appended_while_an_earlier_one_is_uncommitted_waits_for_it(
    new_db_url,
):
    """Sequence ids are not commit order: B taking id 2 and committing while A
    holds id 1 would let a reader at id 2 skip A for ever. The append lock
    makes B wait for A's commit, so what a reader sees is always a prefix."""
    store = Store.open(new_db_url("postgresql"))
    a_appended, release_a = threading.Event(), threading.Event()
    b_committed = threading.Event()

    def append(name: str, hold: bool) -> None:
        with store.unit_of_work() as uow:
            log.append(uow.session, name, "Order", {})
            if hold:
                a_appended.set()
                release_a.wait(10)
            uow.commit()
        if not hold:
            b_committed.set()

    def seen() -> list[str]:
        with store.engine.connect() as conn:
            return [row.signal for row in log.read_after(conn)]

    try:
        a = threading.Thread(target=append, args=("a", True))
        a.start()
        assert a_appended.wait(10)
        b = threading.Thread(target=append, args=("b", False))
        b.start()
        b_committed.wait(1.0)  # without the lock B commits at once
        assert seen() == []  # never ["b"]: A's row would be skipped by a cursor at b
        release_a.set()
        a.join(10)
        b.join(10)
        assert seen() == ["a", "b"]
    finally:
        release_a.set()
        store.close()
