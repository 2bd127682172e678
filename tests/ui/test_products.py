"""The Products window: restock, add and edit products through the form, with
the domain's checks; and Demo > Reset demo data."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QSpinBox

from storeapp.domain.demo import CATALOGUE
from storeapp.ui.products import ProductsDialog
from tests.ui.conftest import find, inventory_matches_db, plugin, row_counts
from tests.ui.dialogs import answering


def stock_of(window: Any, sku: str) -> int:
    return next(p.inventory for p in window.store.list_products() if p.sku == sku)


def catalogue_stock(window: Any, sku: str) -> int:
    model = window.product_model
    row = model.row_of(next(p.id for p in window.store.list_products() if p.sku == sku))
    return int(model.index(row, 3).data())


def open_products(window: Any) -> ProductsDialog:
    action = find(window, QAction, "productsAction")
    action.trigger()
    dialog = window.products_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def select(dialog: ProductsDialog, sku: str) -> None:
    proxy = dialog.table.model()
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data() == sku:
            dialog.table.selectRow(row)
            return
    raise AssertionError(f"{sku} is not in the Products window")


def message(dialog: ProductsDialog) -> str:
    return str(find(dialog, QLabel, "productsMessage").text())


def type_into(qtbot: Any, dialog: ProductsDialog, name: str, text: str) -> None:
    edit = find(dialog, QLineEdit, name)
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_the_products_window_is_in_the_store_menu_with_a_shortcut(qtbot: Any, window: Any) -> None:
    action = find(window, QAction, "productsAction")
    assert action.shortcut() == QKeySequence("Ctrl+Shift+P")
    assert action in window.store_menu.actions()
    assert isinstance(open_products(window), ProductsDialog)


def test_restocking_from_the_products_window_changes_the_stock_and_the_inventory_panel(
    qtbot: Any, window: Any
) -> None:
    qtbot.waitUntil(lambda: inventory_matches_db(window))
    dialog = open_products(window)
    select(dialog, "MUG-STD")
    assert "8 in stock" in find(dialog, QLabel, "productInStock").text()
    find(dialog, QSpinBox, "restockQuantity").setValue(12)

    qtbot.mouseClick(find(dialog, QPushButton, "restockButton"), Qt.MouseButton.LeftButton)

    assert stock_of(window, "MUG-STD") == 20
    assert "now 20 in stock" in message(dialog)
    assert catalogue_stock(window, "MUG-STD") == 20  # the till's catalogue at once
    assert "20 in stock" in find(dialog, QLabel, "productInStock").text()
    qtbot.waitUntil(lambda: plugin(window, "inventory").model.stock_by_sku()["MUG-STD"] == 20)


def test_a_product_added_through_the_form_is_sold_at_once(qtbot: Any, window: Any) -> None:
    dialog = open_products(window)
    find(dialog, QPushButton, "productNewButton").click()
    type_into(qtbot, dialog, "productSku", "TEA-BLK")
    type_into(qtbot, dialog, "productName", "Black tea, 20 bags")
    type_into(qtbot, dialog, "productPrice", "3.20")
    find(dialog, QSpinBox, "productStock").setValue(15)

    qtbot.keyClick(find(dialog, QLineEdit, "productPrice"), Qt.Key.Key_Return)

    tea = next(p for p in window.store.list_products() if p.sku == "TEA-BLK")
    assert (tea.name, str(tea.unit_price), tea.inventory) == ("Black tea, 20 bags", "3.20", 15)
    assert window.product_model.row_of(tea.id) >= 0
    assert dialog.selected_product().id == tea.id  # now editing what was added
    qtbot.waitUntil(lambda: plugin(window, "inventory").model.stock_by_sku().get("TEA-BLK") == 15)


def test_editing_a_product_saves_its_name_and_price_and_leaves_its_stock_to_restock(
    qtbot: Any, window: Any
) -> None:
    dialog = open_products(window)
    select(dialog, "JAM-STR")
    assert not find(dialog, QSpinBox, "productStock").isEnabled()
    type_into(qtbot, dialog, "productPrice", "4.60")
    type_into(qtbot, dialog, "productName", "Strawberry jam 400 g")

    qtbot.mouseClick(find(dialog, QPushButton, "productSaveButton"), Qt.MouseButton.LeftButton)

    jam = next(p for p in window.store.list_products() if p.sku == "JAM-STR")
    assert (jam.name, str(jam.unit_price), jam.inventory) == ("Strawberry jam 400 g", "4.60", 14)


def test_bad_input_is_one_readable_message_at_the_field_and_writes_nothing(
    qtbot: Any, window: Any
) -> None:
    dialog = open_products(window)
    before = row_counts(window)
    find(dialog, QPushButton, "productNewButton").click()
    type_into(qtbot, dialog, "productSku", "NEW-1")
    type_into(qtbot, dialog, "productName", "New thing")
    type_into(qtbot, dialog, "productPrice", "a lot")
    find(dialog, QPushButton, "productSaveButton").click()
    assert "Price must be a number" in message(dialog)
    assert dialog.focusWidget() is find(dialog, QLineEdit, "productPrice")

    type_into(qtbot, dialog, "productPrice", "1.999")
    find(dialog, QPushButton, "productSaveButton").click()
    assert "at most two decimal places" in message(dialog)

    type_into(qtbot, dialog, "productSku", "COF-250")  # taken
    type_into(qtbot, dialog, "productPrice", "1.99")
    find(dialog, QPushButton, "productSaveButton").click()
    assert "already exists" in message(dialog)

    select(dialog, "MUG-STD")
    find(dialog, QSpinBox, "restockQuantity").setValue(
        find(dialog, QSpinBox, "restockQuantity").maximum()
    )
    find(dialog, QPushButton, "restockButton").click()
    assert "the most a product can hold" in message(dialog)
    assert "Traceback" not in message(dialog)
    assert row_counts(window) == before


def test_reset_demo_data_puts_the_demo_catalogue_back_once_confirmed(
    qtbot: Any, window: Any
) -> None:
    mug = next(p for p in window.store.list_products() if p.sku == "MUG-STD")
    window.store.update_product(mug.id, name="Big mug", inventory=0)
    reset = find(window, QAction, "resetDemoAction")

    with answering(window, "confirmResetDemo", "Keep it") as asked:
        reset.trigger()
    assert asked and stock_of(window, "MUG-STD") == 0

    with answering(window, "confirmResetDemo", "Reset the catalogue") as asked:
        reset.trigger()
    assert asked
    first = {sku: (name, stock) for sku, name, _price, stock in CATALOGUE}
    now = {p.sku: (p.name, p.inventory) for p in window.store.list_products()}
    assert now == first
    assert catalogue_stock(window, "MUG-STD") == 8
    assert "reset" in window.message.text()
    qtbot.waitUntil(lambda: inventory_matches_db(window))
