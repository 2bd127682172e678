"""Terminal identity: each order and each event names the till that wrote it."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from storeapp.domain import Store, ValidationError
from storeapp.domain.events import log

PASSWORD = "s3cret-pass"


def sell_one(store: Store) -> int:
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    cart = store.create_cart()
    store.add_to_cart(cart.id, tea.id, 1)
    return store.place_order(cart.id, user.id).id


def terminals_of_events(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return {row.terminal for row in log.read_after(conn)}


def test_a_stores_terminal_is_on_its_orders_and_events(db_url, core_ready, monkeypatch):
    monkeypatch.setenv("STOREAPP_TERMINAL", "from-the-environment")
    store = Store.open(db_url, terminal="till-2")
    try:
        order_id = sell_one(store)
        assert store.terminal == "till-2"
        assert store.get_order(order_id).terminal == "till-2"
        assert terminals_of_events(store) == {"till-2"}
    finally:
        store.close()


def test_a_script_store_honours_storeapp_terminal(db_url, core_ready, monkeypatch):
    monkeypatch.setenv("STOREAPP_TERMINAL", "back-office")
    store = Store.open(db_url)
    try:
        order_id = sell_one(store)
        assert store.get_order(order_id).terminal == "back-office"
        assert terminals_of_events(store) == {"back-office"}
    finally:
        store.close()


def test_without_a_name_the_terminal_is_the_host_name(db_url, monkeypatch):
    import socket

    monkeypatch.delenv("STOREAPP_TERMINAL", raising=False)
    store = Store.open(db_url)
    store.close()
    assert store.terminal == socket.gethostname()[:64]


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("x" * 65, "at most 64"),
        ("a\nb", "printable"),
    ],
)
def test_a_bad_terminal_name_is_refused_with_a_reason(tmp_path, name, why):
    with pytest.raises(ValidationError, match=why):
        Store.open(f"sqlite:///{tmp_path / 'never.sqlite3'}", terminal=name)
    assert not (tmp_path / "never.sqlite3").exists()  # checked before anything is opened


def test_a_bad_storeapp_terminal_is_refused_naming_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("STOREAPP_TERMINAL", "x" * 65)
    with pytest.raises(ValidationError, match="STOREAPP_TERMINAL: .* at most 64"):
        Store.open(f"sqlite:///{tmp_path / 'never.sqlite3'}")


def test_a_database_from_before_terminals_gains_the_column_when_opened(db_url, core_ready):
    Store.open(db_url).close()
    old = create_engine(db_url)
    with old.begin() as conn:  # as an older storeapp left it
        conn.execute(text("ALTER TABLE orders DROP COLUMN terminal"))
    with old.connect() as conn:
        assert "terminal" not in {c["name"] for c in inspect(conn).get_columns("orders")}
    old.dispose()

    store = Store.open(db_url, terminal="till-3")
    try:
        assert store.get_order(sell_one(store)).terminal == "till-3"
    finally:
        store.close()
