"""pytest-qt: the cart as a cashier changes it, and whose cart it is."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QSpinBox

from tests.ui.conftest import add_to_cart, click, find, row_counts


@pytest.fixture
def till(qtbot: Any, make_window: Any) -> Any:
    window = make_window(demo=True)  # ada, grace, linus; ada served
    window.activateWindow()
    qtbot.waitUntil(lambda: window.product_model.rowCount() > 0)
    return window


def cart_lines(window: Any) -> dict[str, int]:
    return {item.product.sku: item.quantity for item in window.cart_model.rows()}


def stored_lines(window: Any) -> dict[str, int]:
    cart = window.store.get_cart(window.till.cart_id)
    return {item.product.sku: item.quantity for item in cart.items}


def type_quantity(qtbot: Any, window: Any, sku: str, keys: str) -> None:
    """Select ``sku``'s cart line, press F2, type ``keys`` and Enter."""
    table = window.till.cart.table
    table.setFocus()
    table.selectRow(window.cart_model.row_of(window.store.list_products(sku)[0].id))
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = find(window, QSpinBox, "cartQuantityEditor")
    qtbot.waitUntil(editor.hasFocus)
    editor.lineEdit().selectAll()
    qtbot.keyClicks(editor.lineEdit(), keys)
    qtbot.keyClick(editor.lineEdit(), Qt.Key.Key_Return)


def serve(window: Any, username: str) -> None:
    picker = window.customer_picker
    picker.setCurrentIndex(next(i for i in range(picker.count()) if username in picker.itemText(i)))


def test_a_cart_quantity_is_edited_in_place(qtbot: Any, till: Any) -> None:
    add_to_cart(qtbot, till, "COF-250", 1)
    type_quantity(qtbot, till, "COF-250", "4")
    qtbot.waitUntil(lambda: cart_lines(till) == {"COF-250": 4})
    assert stored_lines(till) == {"COF-250": 4}  # the store's cart, not only the view
    assert find(till, QLabel, "cartTotal").text() == "Total: 31.60"


def test_a_quantity_beyond_stock_is_refused_and_the_line_stays_as_it_was(
    qtbot: Any, till: Any
) -> None:
    add_to_cart(qtbot, till, "MUG-STD", 2)  # 8 in stock
    before = row_counts(till)
    type_quantity(qtbot, till, "MUG-STD", "9")
    message = find(till, QLabel, "cashierMessage")
    qtbot.waitUntil(lambda: "Only 8 of 'Stoneware mug'" in message.text())
    assert cart_lines(till) == {"MUG-STD": 2} == stored_lines(till)
    assert row_counts(till) == before


def test_typing_a_digit_on_a_line_starts_editing_its_quantity(qtbot: Any, till: Any) -> None:
    add_to_cart(qtbot, till, "TEA-GRN", 1)
    table = till.till.cart.table
    table.setFocus()
    table.selectRow(0)  # the Product cell is current
    qtbot.keyClick(table, Qt.Key.Key_3)
    editor = find(till, QSpinBox, "cartQuantityEditor")
    qtbot.waitUntil(editor.hasFocus)
    qtbot.keyClick(editor.lineEdit(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: cart_lines(till) == {"TEA-GRN": 3})


def test_delete_removes_the_selected_line(qtbot: Any, till: Any) -> None:
    add_to_cart(qtbot, till, "COF-250", 1)
    add_to_cart(qtbot, till, "JAM-STR", 2)
    table = till.till.cart.table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    table.selectRow(till.cart_model.row_of(till.store.list_products("JAM-STR")[0].id))
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert cart_lines(till) == {"COF-250": 1} == stored_lines(till)
    assert table.hasFocus()  # the next Delete removes the next line
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert cart_lines(till) == {}
    assert QApplication.focusWidget() is till.till.catalogue.search  # nothing left: scan again


def test_switching_customers_switches_carts_and_never_charges_another(
    qtbot: Any, till: Any
) -> None:
    ada = till.current_user_id()
    add_to_cart(qtbot, till, "COF-250", 2)
    serve(till, "grace")
    grace = till.current_user_id()
    assert grace != ada
    assert cart_lines(till) == {}  # grace's own cart, empty
    click(qtbot, till, "checkoutButton")
    assert till.store.list_orders() == []  # ada's coffee was not charged to grace
    add_to_cart(qtbot, till, "TEA-GRN", 1)

    serve(till, "ada")
    assert cart_lines(till) == {"COF-250": 2}  # ada's cart is back
    assert "their cart" in find(till, QLabel, "cashierMessage").text()
    click(qtbot, till, "checkoutButton")
    serve(till, "grace")
    assert cart_lines(till) == {"TEA-GRN": 1}
    click(qtbot, till, "checkoutButton")

    orders = {o.customer.user_id: o for o in till.store.list_orders()}
    assert {u: [(i.product.sku, i.quantity) for i in o.items] for u, o in orders.items()} == {
        ada: [("COF-250", 2)],
        grace: [("TEA-GRN", 1)],
    }


def test_a_cart_filled_before_anyone_is_picked_goes_to_the_customer_picked(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    window.till.register_demo_customers()
    window.customer_picker.setCurrentIndex(-1)
    assert window.current_user_id() is None
    add_to_cart(qtbot, window, "BAG-SES", 3)
    serve(window, "linus")
    assert cart_lines(window) == {"BAG-SES": 3}
    click(qtbot, window, "checkoutButton")
    (order,) = window.store.list_orders()
    assert order.customer.user.username == "linus"
