"""pytest-qt: the till from the keyboard and a barcode scanner (which types
a code and Enter into whatever has the cursor)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit, QMenu, QPushButton, QSpinBox

from tests.ui.conftest import find


@pytest.fixture
def till(qtbot: Any, make_window: Any) -> Any:
    window = make_window(demo=True)
    window.activateWindow()
    qtbot.waitUntil(lambda: window.product_model.rowCount() > 0)
    search = find(window, QLineEdit, "productSearch")
    search.setFocus()
    qtbot.waitUntil(search.hasFocus)
    return window


def cart_lines(window: Any) -> dict[str, int]:
    return {item.product.sku: item.quantity for item in window.cart_model.rows()}


def scan(qtbot: Any, window: Any, text: str) -> None:
    """What a scanner does: type into the focused widget, then Enter."""
    widget = QApplication.focusWidget()
    assert widget is not None
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_a_scanned_sku_adds_its_product_clears_the_search_and_keeps_the_cursor_there(
    qtbot: Any, till: Any
) -> None:
    search = find(till, QLineEdit, "productSearch")
    scan(qtbot, till, "mug-std")  # any case: MUG-STD
    assert cart_lines(till) == {"MUG-STD": 1}
    assert search.text() == "" and search.hasFocus()
    assert till.product_table.model().rowCount() == till.product_model.rowCount()  # unfiltered
    scan(qtbot, till, "MUG-STD")
    assert cart_lines(till) == {"MUG-STD": 2}  # the same line, one more
    assert "Added" in find(till, QLabel, "catalogueMessage").text()


def test_an_exact_sku_wins_over_other_products_that_contain_it(qtbot: Any, till: Any) -> None:
    mug = till.store.add_product("MUG", "Travel mug", "12.00", 5)
    qtbot.waitUntil(lambda: till.product_model.row_of(mug.id) >= 0)
    scan(qtbot, till, "mug")  # also in MUG-STD and "Stoneware mug"
    assert cart_lines(till) == {"MUG": 1}


def test_the_only_match_of_a_name_is_added(qtbot: Any, till: Any) -> None:
    scan(qtbot, till, "honey")
    assert cart_lines(till) == {"HNY-JAR": 1}


def test_the_quantity_in_qty_goes_with_the_scan_and_goes_back_to_one(qtbot: Any, till: Any) -> None:
    spin = find(till, QSpinBox, "quantitySpin")
    spin.setValue(3)
    scan(qtbot, till, "TEA-GRN")
    assert cart_lines(till) == {"TEA-GRN": 3}
    assert spin.value() == 1


def test_several_matches_need_down_then_enter_on_the_chosen_row(qtbot: Any, till: Any) -> None:
    search = find(till, QLineEdit, "productSearch")
    qtbot.keyClicks(search, "co")  # coffee beans, croissant, chocolate ...
    matches = till.product_table.model().rowCount()
    assert matches > 1
    qtbot.keyClick(search, Qt.Key.Key_Return)
    assert cart_lines(till) == {}  # nothing guessed
    assert f"{matches} products match" in find(till, QLabel, "catalogueMessage").text()

    qtbot.keyClick(search, Qt.Key.Key_Down)
    assert till.product_table.hasFocus()
    qtbot.keyClick(till.product_table, Qt.Key.Key_Down)  # the second match
    chosen = till.product_table.model().index(1, 0).data()
    qtbot.keyClick(till.product_table, Qt.Key.Key_Return)
    assert cart_lines(till) == {chosen: 1}
    assert search.text() == "" and search.hasFocus()  # ready for the next scan


def test_a_code_that_matches_nothing_says_so_and_adds_nothing(qtbot: Any, till: Any) -> None:
    search = find(till, QLineEdit, "productSearch")
    scan(qtbot, till, "XYZ-999")
    assert cart_lines(till) == {}
    assert "No product matches 'XYZ-999'" in find(till, QLabel, "catalogueMessage").text()
    assert search.hasFocus() and search.selectedText() == "XYZ-999"  # the next scan replaces it


def test_enter_in_qty_adds_what_the_search_names(qtbot: Any, till: Any) -> None:
    qtbot.keyClicks(find(till, QLineEdit, "productSearch"), "JAM-STR")
    spin = find(till, QSpinBox, "quantitySpin")
    spin.setFocus()
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "2")
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert cart_lines(till) == {"JAM-STR": 2}


def test_each_table_is_one_tab_stop(qtbot: Any, till: Any) -> None:
    for table in (till.product_table, till.till.cart.table, till.till.orders.table):
        assert not table.tabKeyNavigation()
    table = till.product_table
    table.setFocus()
    qtbot.waitUntil(table.hasFocus)
    table.setCurrentIndex(table.model().index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus()  # one Tab, and the cursor left the catalogue


def test_the_cashiers_shortcuts_are_in_the_till_menu_and_the_tooltips(
    qtbot: Any, till: Any
) -> None:
    menu = find(till, QMenu, "tillMenu")
    shortcuts = {
        a.objectName(): a.shortcut().toString() for a in menu.actions() if isinstance(a, QAction)
    }
    assert shortcuts == {
        "findProductAction": "Ctrl+F",
        "newCustomerAction": "Ctrl+N",
        "changeQuantityAction": "F2",
        "removeLineAction": "Del",
        "checkoutAction": "Ctrl+Return",
    }
    assert "Ctrl+Return" in find(till, QPushButton, "checkoutButton").toolTip()
    assert "Del" in find(till, QPushButton, "removeFromCartButton").toolTip()
    assert "Ctrl+F" in find(till, QLineEdit, "productSearch").toolTip()


def test_ctrl_f_and_ctrl_n_put_the_cursor_where_they_say(qtbot: Any, till: Any) -> None:
    username = find(till, QLineEdit, "registerUsername")
    username.setFocus()
    qtbot.waitUntil(username.hasFocus)
    qtbot.keyClicks(username, "half typed")
    qtbot.keyClick(username, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search = find(till, QLineEdit, "productSearch")
    qtbot.waitUntil(search.hasFocus)
    qtbot.keyClick(search, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(username.hasFocus)
    assert username.text() == ""  # an empty form for the new customer


def test_the_checkout_shortcut_places_the_order(qtbot: Any, till: Any) -> None:
    scan(qtbot, till, "MUG-STD")
    qtbot.keyClick(
        find(till, QLineEdit, "productSearch"),
        Qt.Key.Key_Return,
        Qt.KeyboardModifier.ControlModifier,
    )
    orders = till.store.list_orders()
    assert len(orders) == 1 and orders[0].customer.user_id == till.current_user_id()
    assert till.cart_model.rowCount() == 0
