"""pytest-qt drives the real window's till: what a cashier does, and what they see."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QTableView

from storeapp.domain.demo import DEMO_PASSWORD
from storeapp.domain.models import User
from tests.ui.conftest import (
    PASSWORD,
    ThreadWitness,
    add_to_cart,
    chart_matches_db,
    click,
    emails,
    find,
    inventory_matches_db,
    order_from_worker_thread,
    plugin,
    register,
    row_counts,
)
from tests.ui.dialogs import answering


def test_registering_through_the_form_adds_the_customer_and_a_welcome_email(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    picker = find(window, QComboBox, "customerPicker")
    assert "ada" in picker.currentText()
    qtbot.waitUntil(lambda: any("ada@example.com" in m.to for m in emails(window)))
    welcome = [m for m in emails(window) if "ada@example.com" in m.to][0]
    assert "welcome" in welcome.subject.lower()
    assert find(window, QLineEdit, "registerUsername").text() == ""


def test_checkout_updates_history_inventory_email_and_chart(qtbot: Any, window: Any) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: len(emails(window)) == 1)
    stock_before = plugin(window, "inventory").model.stock_by_sku()["COF-250"]
    add_to_cart(qtbot, window, "COF-250", 2)
    add_to_cart(qtbot, window, "MUG-STD", 1)
    assert window.cart_model.rowCount() == 2
    assert find(window, QLabel, "cartTotal").text() == "Total: 25.30"
    click(qtbot, window, "checkoutButton")

    orders = window.store.list_orders()
    assert len(orders) == 1 and orders[0].total == Decimal("25.30")
    assert window.order_model.rowCount() == 1
    assert window.order_model.index(0, 0).data() == f"#{orders[0].id}"
    assert window.cart_model.rowCount() == 0
    qtbot.waitUntil(
        lambda: plugin(window, "inventory").model.stock_by_sku()["COF-250"] == stock_before - 2
    )
    qtbot.waitUntil(lambda: len(emails(window)) == 2)
    assert f"#{orders[0].id}" in emails(window)[-1].subject
    qtbot.waitUntil(lambda: plugin(window, "analytics").totals()[0] == 1)
    assert chart_matches_db(window)
    assert find(window, QLabel, "totalOrders").text().endswith("1")


def test_a_bad_registration_shows_a_message_and_writes_nothing(qtbot: Any, window: Any) -> None:
    before = row_counts(window)
    register(qtbot, window, "ada", "not-an-email", PASSWORD)
    message = find(window, QLabel, "customerMessage")
    assert message.isVisible() and "valid email" in message.text()
    assert row_counts(window) == before
    # The form keeps what was typed: nothing lost.
    assert find(window, QLineEdit, "registerUsername").text() == "ada"

    register(qtbot, window, "ada", "ada@example.com", "123")
    assert "too short" in find(window, QLabel, "customerMessage").text()
    assert row_counts(window) == before


def test_an_out_of_stock_checkout_is_a_message_and_the_cart_is_kept(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "MUG-STD", 8)  # all of them
    mug = next(p for p in window.store.list_products() if p.sku == "MUG-STD")
    window.store.update_product(mug.id, inventory=3)  # sold elsewhere meanwhile
    before = row_counts(window)
    click(qtbot, window, "checkoutButton")
    message = find(window, QLabel, "cashierMessage").text()
    assert "Only 3" in message and "Stoneware mug" in message
    assert "Traceback" not in message
    assert row_counts(window) == before
    assert window.cart_model.rowCount() == 1  # nothing lost


def test_checkout_without_a_customer_or_items_explains_itself(qtbot: Any, window: Any) -> None:
    click(qtbot, window, "addToCartButton")
    assert "Select a product" in find(window, QLabel, "catalogueMessage").text()
    window.checkout()
    assert "customer" in find(window, QLabel, "cashierMessage").text().lower()
    assert find(window, QLabel, "catalogueMessage").text() == ""  # one message at a time


def test_cancelling_an_order_returns_stock_everywhere(qtbot: Any, window: Any) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "JAM-STR", 4)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    find(window, QTableView, "orderTable").selectRow(0)
    with answering(window, "confirmCancelOrder", "Cancel the order"):
        click(qtbot, window, "cancelOrderButton")
    assert window.store.list_orders()[0].status == "cancelled"
    assert window.order_model.index(0, 5).data() == "cancelled"
    qtbot.waitUntil(lambda: plugin(window, "inventory").model.stock_by_sku()["JAM-STR"] == 14)
    qtbot.waitUntil(lambda: plugin(window, "analytics").totals()[0] == 0)


def test_orders_from_a_worker_thread_update_every_panel_on_the_gui_thread(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    witness = ThreadWitness(window)
    order_from_worker_thread(qtbot, window, 30)
    users = window.store.list_customers()
    qtbot.waitUntil(lambda: window.order_model.rowCount() == 30, timeout=10000)
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    welcome = len(users)
    qtbot.waitUntil(lambda: len(emails(window)) == welcome + 30, timeout=10000)
    assert witness.events > 0
    assert witness.foreign == []


def test_the_window_models_pass_the_model_tester(
    qtbot: Any, qtmodeltester: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "COF-250", 1)
    for model in (window.product_model, window.cart_model, window.customer_model):
        qtmodeltester.check(model)
    click(qtbot, window, "checkoutButton")
    qtmodeltester.check(window.order_model)
    qtmodeltester.check(window.open_plugins_dialog().model)


def test_searching_filters_the_catalogue(qtbot: Any, window: Any) -> None:
    qtbot.keyClicks(find(window, QLineEdit, "productSearch"), "tea")
    table = find(window, QTableView, "productTable")
    assert table.model().rowCount() == 1
    assert table.model().index(0, 1).data() == "Green tea, 20 bags"


def test_demo_flag_pre_registers_customers_ready_to_check_out(qtbot: Any, make_window: Any) -> None:
    window = make_window(demo=True)
    assert window.customer_model.rowCount() == 3
    assert window.current_user_id() is not None
    assert window.store.authenticate("ada", DEMO_PASSWORD) is not None
    add_to_cart(qtbot, window, "BAG-SES", 2)
    click(qtbot, window, "checkoutButton")
    assert window.order_model.rowCount() == 1
    _ = User  # the demo users are real users
