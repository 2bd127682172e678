"""A till follows the event log: other tills' events, in log order, once each,
from a cursor kept in the database, woken by NOTIFY on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.events import follow as follow_module
from storeapp.domain.events import log
from storeapp.domain.events.follow import Follower, FollowState, FollowStatus, stored_cursor
from storeapp.domain.events.remote import RemoteOrder, send_remote
from storeapp.domain.models import Order
from storeapp.domain.signals import order_created, post_save
from storeapp.domain.terminal import SESSION_KEY
from tests.postgres import ThrowAwayPostgres

PASSWORD = "s3cret-pass"


def open_tills(url: str) -> Iterator[tuple[Store, Store]]:
    """Two tills on one database, with the demo catalogue; closed after."""
    one = Store.open(url, terminal="till-1")
    two = Store.open(url, terminal="till-2")
    seed_catalogue(one)
    yield one, two
    one.close()
    two.close()


@pytest.fixture
def tills(db_url: str, core_ready: None) -> Iterator[tuple[Store, Store]]:
    yield from open_tills(db_url)


class Seen:
    """A follower's ``deliver`` that records what it was handed."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.arrived = threading.Event()

    def __call__(self, row: Any, conn: Any) -> None:
        self.rows.append(row)
        self.arrived.set()

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self.rows]

    def wait_for(self, count: int, timeout: float = 20.0) -> bool:
        """Until ``count`` rows were handed over (False if they never were)."""
        deadline = time.monotonic() + timeout
        while len(self.rows) < count:
            self.arrived.clear()
            if len(self.rows) >= count:
                break
            if not self.arrived.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True


def sell(store: Store, username: str, quantity: int = 1) -> Order:
    user = store.register_user(username, f"{username}@example.com", PASSWORD)
    cart = store.create_cart()
    store.add_to_cart(cart.id, store.list_products()[0].id, quantity)
    return store.place_order(cart.id, user.id)


def log_ids(store: Store, terminal: str | None = None) -> list[int]:
    with store.engine.connect() as conn:
        return [r.id for r in log.read_after(conn, 0) if terminal in (None, r.terminal)]


def test_a_follower_is_handed_other_tills_events_in_log_order_but_not_its_own(tills) -> None:
    one, two = tills
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen)
    follower.load_cursor()  # after the catalogue's events

    sell(one, "ann")
    sell(two, "bob")
    sell(one, "cid")
    follower.catch_up()

    assert [(r.terminal, r.signal, r.payload.get("username")) for r in seen.rows] == [
        ("till-1", "user_registered", "ann"),
        ("till-1", "order_created", "ann"),
        ("till-1", "user_registered", "cid"),
        ("till-1", "order_created", "cid"),
    ]
    assert seen.ids == sorted(seen.ids)
    assert follower.cursor == log_ids(one)[-1]


def test_a_till_restarted_goes_on_from_its_stored_cursor(tills) -> None:
    one, two = tills
    first = Seen()
    Follower(two.engine, "till-2", first).catch_up()
    sell(one, "ann")
    Follower(two.engine, "till-2", first).catch_up()  # "restarted": a new follower
    handled = len(first.rows)
    sell(one, "bob")

    again = Seen()
    Follower(two.engine, "till-2", again).catch_up()

    assert handled == 2
    assert [r.id for r in again.rows] == log_ids(one)[-2:]  # bob's user and order, once


def test_a_new_till_starts_at_the_end_of_the_log(tills) -> None:
    one, two = tills
    sell(one, "ann")
    seen = Seen()
    follower = Follower(two.engine, "till-3", seen)
    follower.catch_up()
    sell(one, "bob")
    follower.catch_up()

    assert [r.payload["username"] for r in seen.rows] == ["bob", "bob"]


def test_a_remote_order_reaches_remote_receivers_as_a_snapshot_of_the_event(tills) -> None:
    one, two = tills
    got: list[dict[str, Any]] = []
    order_created.connect(lambda **kw: got.append(kw), weak=False, remote=True)
    follower = Follower(two.engine, "till-2", send_remote)
    follower.load_cursor()
    order = sell(one, "ann", quantity=2)
    got.clear()  # the local send, made in this process by till-1

    follower.catch_up()

    assert len(got) == 1
    remote: RemoteOrder = got[0]["order"]
    assert (got[0]["remote"], got[0]["terminal"], got[0]["sender"]) == (True, "till-1", Order)
    assert (remote.id, remote.total, remote.status) == (order.id, order.total, "placed")
    assert remote.customer.user.username == "ann"
    assert [(i.product_id, i.quantity) for i in remote.items] == [
        (i.product_id, i.quantity) for i in order.items
    ]


def test_a_remote_product_change_is_a_post_save_with_a_snapshot(tills) -> None:
    one, two = tills
    got: list[dict[str, Any]] = []
    post_save.connect(lambda **kw: got.append(kw), weak=False, remote=True)
    follower = Follower(two.engine, "till-2", send_remote)
    follower.load_cursor()
    product = one.list_products()[0]
    one.update_product(product.id, name="Renamed mug")
    got.clear()

    follower.catch_up()

    assert len(got) == 1
    assert got[0]["instance"].id == product.id and got[0]["instance"].name == "Renamed mug"
    assert got[0]["created"] is False and got[0]["changed_fields"] == {"name"}


def test_a_follower_thread_says_how_it_follows_and_stops(tills) -> None:
    one, two = tills
    states: list[FollowStatus] = []
    changed = threading.Event()

    def on_state(status: FollowStatus) -> None:
        states.append(status)
        changed.set()

    seen = Seen()
    follower = Follower(two.engine, "till-2", seen, on_state=on_state)
    follower.start()
    try:
        assert changed.wait(10)
        sell(one, "ann")
        assert seen.arrived.wait(10)
    finally:
        follower.stop()
    expected = FollowState.LIVE if two.engine.dialect.name == "postgresql" else FollowState.POLLING
    assert [s.state for s in states] == [expected, FollowState.STOPPED]


# -- PostgreSQL: NOTIFY, commit order, reconnecting ---------------------------------------


@pytest.fixture
def pg_tills(new_db_url: Callable[..., str], core_ready: None) -> Iterator[tuple[Store, Store]]:
    yield from open_tills(new_db_url("postgresql"))


def test_postgresql_wakes_a_follower_with_notify_not_its_fallback_poll(pg_tills) -> None:
    one, two = pg_tills
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen)
    follower.fallback = 3600.0  # only a notification can wake it within the test
    live = threading.Event()
    follower.on_state = lambda s: live.set() if s.state is FollowState.LIVE else None
    follower.start()
    try:
        assert live.wait(10)
        order = sell(one, "ann")
        assert seen.wait_for(2), "no NOTIFY woke the follower"  # the user, the order
    finally:
        follower.stop()
    assert seen.rows[-1].payload["order_id"] == order.id


def _append_in_open_transaction(store: Store, username: str) -> Session:
    """A transaction that has appended an event and not committed."""
    session = Session(store.engine)
    session.info[SESSION_KEY] = store.terminal
    log.append(session, "user_registered", "User", {"user_id": 0, "username": username})
    return session


def _waiting_for_the_append_lock(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.scalar(
                text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
            )
            or 0
        )


def test_an_event_committed_out_of_id_order_is_never_skipped(pg_tills) -> None:
    """Transaction A appends and stays open; B appends and commits. B waits
    for A's append lock, so B's id is handed out after A commits, and a
    cursor that has seen B has seen A."""
    one, two = pg_tills
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen)
    follower.load_cursor()
    a = _append_in_open_transaction(one, "a")
    b_done = threading.Event()

    def b() -> None:
        session = _append_in_open_transaction(one, "b")
        session.commit()
        session.close()
        b_done.set()

    thread = threading.Thread(target=b)
    thread.start()
    try:
        for _ in range(500):  # until B waits for the lock (a few ms)
            if _waiting_for_the_append_lock(one):
                break
            b_done.wait(0.01)
        assert _waiting_for_the_append_lock(one) == 1
        follower.catch_up()
        assert seen.rows == []  # nothing committed yet: nothing to skip later
        a.commit()
        a.close()
        thread.join(10)
    finally:
        a.close()
        thread.join(10)
    follower.catch_up()

    assert [r.payload["username"] for r in seen.rows] == ["a", "b"]
    assert seen.ids == sorted(seen.ids)


def test_without_the_append_lock_a_cursor_would_skip_the_slower_transaction(
    pg_tills, monkeypatch
) -> None:
    """Why the lock is there: ids from a sequence are not in commit order."""
    one, two = pg_tills
    monkeypatch.setattr(log, "APPEND_LOCK", select(1))
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen)
    follower.load_cursor()
    a = _append_in_open_transaction(one, "a")  # takes the smaller id
    b = _append_in_open_transaction(one, "b")
    b.commit()
    follower.catch_up()  # sees b
    a.commit()
    follower.catch_up()
    a.close()
    b.close()

    assert [r.payload["username"] for r in seen.rows] == ["b"]  # a was stepped over


def test_a_follower_reconnects_after_the_server_restarts_and_misses_nothing(
    pg_tills, postgres: ThrowAwayPostgres
) -> None:
    one, two = pg_tills
    seen = Seen()
    states: list[FollowState] = []
    live = threading.Event()

    def on_state(status: FollowStatus) -> None:
        states.append(status.state)
        if status.state is FollowState.LIVE:
            live.set()

    follower = Follower(two.engine, "till-2", seen, on_state=on_state)
    follower.first_backoff = 0.1
    follower.start()
    try:
        assert live.wait(10)
        sell(one, "ann")
        live.clear()
        postgres.restart()  # every connection to it ends
        sell(one, "bob")  # while the follower may still be reconnecting
        assert live.wait(30), f"never live again: {states}"
        sell(one, "cid")
        assert seen.wait_for(6)
    finally:
        follower.stop()

    assert FollowState.RECONNECTING in states
    assert [r.payload["username"] for r in seen.rows] == ["ann"] * 2 + ["bob"] * 2 + ["cid"] * 2
    assert seen.ids == log_ids(one)[-6:]


@pytest.mark.parametrize("transactional", [False, True], ids=["in-memory", "transactional"])
def test_a_cursor_that_failed_to_commit_redelivers_only_to_a_transactional_receiver(
    tills, monkeypatch, transactional: bool
) -> None:
    one, two = tills
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen, transactional=transactional)
    follower.load_cursor()
    sell(one, "ann")
    real_save = follow_module._save_cursor
    failures = iter([RuntimeError("server went away")])

    def save_once_failing(*args: Any) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        real_save(*args)

    monkeypatch.setattr(follow_module, "_save_cursor", save_once_failing)
    with pytest.raises(RuntimeError):
        follower.catch_up()  # delivered, then the cursor's transaction failed
    follower.catch_up()

    # In memory the panels had them; a transactional receiver was rolled back.
    assert len(seen.rows) == (4 if transactional else 2)
    assert follower.cursor == log_ids(one)[-1]


def test_a_till_that_only_saw_its_own_events_stores_its_cursor_when_it_stops(tills) -> None:
    one, two = tills
    seen = Seen()
    follower = Follower(two.engine, "till-2", seen)
    follower.load_cursor()
    sell(two, "bob")  # its own: nothing to deliver
    follower.catch_up()  # on SQLite this takes no write lock: the cursor moves in memory

    follower.stop()

    with two.engine.connect() as conn:
        assert stored_cursor(conn, "till-2") == log_ids(two)[-1]
    assert seen.rows == []
