"""pytest-qt: what the till tells the cashier, once, next to what it is
about, without moving anything; and where the cursor goes next."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

from tests.ui.conftest import PASSWORD, add_to_cart, click, find, register

MESSAGES = ("customerMessage", "catalogueMessage", "cashierMessage")


@pytest.fixture
def till(qtbot: Any, make_window: Any) -> Any:
    window = make_window(demo=True)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.product_model.rowCount() > 0 and window.isActiveWindow())
    return window


def shown(window: Any) -> dict[str, str]:
    """Every message line that says something."""
    texts = {name: find(window, QLabel, name).text() for name in MESSAGES}
    return {name: text for name, text in texts.items() if text}


def geometry(window: Any) -> dict[str, QRect]:
    """Where the panes and what the cashier works with are, in the window."""
    till = window.till
    widgets = {
        "panes": [till.customer, till.catalogue, till.cart, till.orders],
        "fields": list(till.customer.fields.values()),
        "buttons": [till.customer.register_button, till.catalogue.add_button],
        "more": [till.cart.checkout_button, till.customer.picker, till.catalogue.search],
        "tables": [till.catalogue.table, till.cart.table],
    }
    return {
        f"{group}[{i}]": QRect(w.mapTo(window, w.rect().topLeft()), w.size())
        for group, items in widgets.items()
        for i, w in enumerate(items)
    }


def test_a_registration_error_shows_once_by_the_form_and_the_field_gets_the_cursor(
    qtbot: Any, till: Any
) -> None:
    register(qtbot, till, "ada2", "not-an-email", PASSWORD)
    assert list(shown(till)) == ["customerMessage"]
    assert "valid email" in shown(till)["customerMessage"]
    assert till.statusBar().currentMessage() == ""  # not repeated there
    email = find(till, QLineEdit, "registerEmail")
    assert email.hasFocus() and email.selectedText() == "not-an-email"
    base = QPalette.ColorRole.Base
    username = find(till, QLineEdit, "registerUsername")
    assert email.palette().color(base) != username.palette().color(base)  # marked


def test_a_long_error_moves_nothing(qtbot: Any, till: Any) -> None:
    before = geometry(till)
    register(qtbot, till, "x" * 40, "someone-with-a-very-long-address@", PASSWORD)
    add_to_cart(qtbot, till, "MUG-STD", 8)
    add_to_cart(qtbot, till, "MUG-STD", 8)  # a long out-of-stock message under the catalogue
    assert "Stoneware mug" in shown(till)["catalogueMessage"]
    qtbot.wait(50)  # a layout pass
    assert geometry(till) == before


def test_after_a_registration_the_cursor_is_ready_for_the_new_customers_products(
    qtbot: Any, till: Any
) -> None:
    register(qtbot, till, "hedy", "hedy@example.com", PASSWORD)
    assert "Registered hedy" in shown(till)["customerMessage"]
    assert all(find(till, QLineEdit, f).text() == "" for f in ("registerUsername", "registerEmail"))
    assert QApplication.focusWidget() is find(till, QLineEdit, "productSearch")


def test_after_remove_line_no_stale_added_message_is_left(qtbot: Any, till: Any) -> None:
    add_to_cart(qtbot, till, "COF-250", 1)
    assert "Added 1 × Coffee beans" in shown(till)["catalogueMessage"]
    till.till.cart.table.selectRow(0)
    click(qtbot, till, "removeFromCartButton")
    assert shown(till) == {"cashierMessage": "Removed Coffee beans 250 g."}


def test_nothing_left_in_stock_is_said_plainly(qtbot: Any, till: Any) -> None:
    mug = till.store.list_products("MUG-STD")[0]
    till.store.update_product(mug.id, inventory=0)
    qtbot.waitUntil(
        lambda: till.product_model.rows()[till.product_model.row_of(mug.id)].inventory == 0
    )
    add_to_cart(qtbot, till, "MUG-STD", 3)
    assert shown(till) == {"catalogueMessage": "'Stoneware mug' is out of stock."}
    assert till.cart_model.rowCount() == 0


def test_checkout_with_nobody_picked_puts_the_cursor_in_the_picker(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window()
    window.activateWindow()
    add_to_cart(qtbot, window, "COF-250", 1)
    click(qtbot, window, "checkoutButton")
    assert "Pick a customer" in shown(window)["cashierMessage"]
    qtbot.waitUntil(window.customer_picker.hasFocus)
