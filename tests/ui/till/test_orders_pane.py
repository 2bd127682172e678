"""Safe orders: cancelling asks first, Cancel is off when there is nothing to
cancel, nothing is selected for the cashier, and the pane says whose orders
it shows."""

from __future__ import annotations

import gc
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QPushButton, QTableView

from storeapp.domain.models import Order, OrderItem
from tests.ui.conftest import PASSWORD, add_to_cart, click, find, register, row_counts
from tests.ui.dialogs import answering


def place(qtbot: Any, window: Any, username: str, sku: str = "JAM-STR") -> None:
    register(qtbot, window, username, f"{username}@example.com", PASSWORD)
    add_to_cart(qtbot, window, sku, 1)
    click(qtbot, window, "checkoutButton")


def cancel_button(window: Any) -> QPushButton:
    return find(window, QPushButton, "cancelOrderButton")


def orders_table(window: Any) -> QTableView:
    return find(window, QTableView, "orderTable")


def orders_title(window: Any) -> str:
    return str(orders_table(window).parentWidget().title())


def test_cancelling_asks_first_and_keeping_the_order_changes_nothing(
    qtbot: Any, window: Any
) -> None:
    place(qtbot, window, "ada")
    orders_table(window).selectRow(0)
    before = row_counts(window)

    with answering(window, "confirmCancelOrder", "Keep it") as asked:
        click(qtbot, window, "cancelOrderButton")

    order = window.store.list_orders()[0]
    assert asked and f"#{order.id}" in asked[0] and "ada" in asked[0]
    assert order.status == "placed"
    assert row_counts(window) == before

    with answering(window, "confirmCancelOrder", "Cancel the order") as asked:
        click(qtbot, window, "cancelOrderButton")

    assert asked
    assert window.store.list_orders()[0].status == "cancelled"


def test_cancel_is_off_without_a_selection_and_for_a_cancelled_order(
    qtbot: Any, window: Any
) -> None:
    place(qtbot, window, "ada")
    assert not cancel_button(window).isEnabled()  # nothing selected

    orders_table(window).selectRow(0)
    assert cancel_button(window).isEnabled()

    window.store.cancel_order(window.store.list_orders()[0].id)  # e.g. on another till
    window.till.reload_orders()
    assert window.order_model.index(0, 5).data() == "cancelled"
    assert not cancel_button(window).isEnabled()
    assert "already cancelled" in cancel_button(window).toolTip()


def test_tabbing_into_the_orders_selects_nothing_to_cancel(qtbot: Any, window: Any) -> None:
    place(qtbot, window, "ada")
    table = orders_table(window)
    table.clearSelection()
    table.setFocus(Qt.FocusReason.TabFocusReason)  # Qt makes the first row current
    assert not cancel_button(window).isEnabled()


def test_turning_the_filter_off_selects_nothing_and_the_title_says_whose_orders(
    qtbot: Any, window: Any
) -> None:
    place(qtbot, window, "ada")
    place(qtbot, window, "grace")  # now serving grace; her order is row 0
    show_all = find(window, QCheckBox, "showAllOrders")
    assert show_all.text().replace("&", "")  # labelled
    assert "all customers" in orders_title(window)
    orders_table(window).selectRow(1)  # ada's order
    assert cancel_button(window).isEnabled()

    show_all.setChecked(False)  # only grace's

    assert window.order_model.rowCount() == 1
    assert orders_table(window).selectionModel().selectedRows() == []
    assert not cancel_button(window).isEnabled()
    assert "Orders of grace" in orders_title(window)


def test_the_table_keeps_what_it_shows_of_each_order_not_the_orm_objects(
    qtbot: Any, window: Any
) -> None:
    # An ORM order held by a row keeps its items, products, customer and user
    # alive with SQLAlchemy's state: ~70 objects that every full garbage
    # collection walks while it holds the GIL. The row keeps plain values.
    def orm_objects() -> set[int]:
        gc.collect()
        return {id(o) for o in gc.get_objects() if isinstance(o, (Order, OrderItem))}

    earlier = orm_objects()  # left by earlier tests' windows, if any
    find(window, QCheckBox, "showAllOrders").setChecked(True)
    place(qtbot, window, "ada")
    place(qtbot, window, "bob", "MUG-STD")
    qtbot.waitUntil(lambda: window.order_model.rowCount() == 2)
    # Once the orders' events are applied too (they carry the ORM orders):
    qtbot.waitUntil(lambda: orm_objects() - earlier == set())
    assert window.order_model.index(0, 1).data() == "bob"
    assert window.order_model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("1 × ")
