"""pytest-qt drives the Plugins dialog: each plugin's details, the required
plugin's toggle, the recipe for writing one, and its size."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from storeapp.ui.plugin_recipe import PLUGIN_CODE
from tests.ui.conftest import find

ALL = ["core", "email_log", "inventory", "analytics", "inspector", "fault_injector"]


@pytest.fixture
def dialog(qtbot: Any, make_window: Any) -> Any:
    return make_window(ALL).open_plugins_dialog()


def row_of(dialog: Any, name: str) -> int:
    return next(r for r in range(dialog.model.rowCount()) if dialog.model.record_at(r).name == name)


def details(dialog: Any) -> str:
    return dialog.details.toPlainText()


def test_the_arrow_keys_show_each_plugins_whole_description_below_the_table(
    qtbot: Any, dialog: Any
) -> None:
    table = dialog.table
    table.setFocus()
    assert dialog.selected_record().name == "core"  # the first row, from the start
    seen = []
    for row in range(1, dialog.model.rowCount()):
        qtbot.keyClick(table, Qt.Key.Key_Down)
        assert table.currentIndex().row() == row
        record = dialog.model.record_at(row)
        text = details(dialog)
        assert record.title in text and record.name in text
        # The whole description, word for word (the table never showed it whole).
        assert " ".join(record.description.split()) in " ".join(text.split())
        assert f"Listens to: {', '.join(record.listens_to)}" in text
        assert f"Entry point: {record.name} = {record.source}" in text
        assert "State: enabled" in text
        seen.append(record.name)
    assert sorted(seen) == sorted(set(ALL) - {"core"})
    qtbot.keyClick(table, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    assert "Required: yes" in details(dialog)


def test_the_details_follow_a_change_made_elsewhere_and_show_a_failure(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(ALL)
    dialog = window.open_plugins_dialog()
    dialog.table.setCurrentIndex(dialog.model.index(row_of(dialog, "fault_injector"), 0))
    assert "State: enabled" in details(dialog)

    window.plugin_actions["fault_injector"].trigger()  # the Plugins menu
    assert "State: disabled" in details(dialog)
    assert find(dialog, QPushButton, "pluginToggleButton").text() == "Enable"

    window.manager.mark_failed(
        "fault_injector", RuntimeError("cannot reach the printer"), "failed in ready()"
    )
    qtbot.waitUntil(lambda: "State: failed" in details(dialog))
    text = details(dialog)
    assert "Error: failed in ready(): RuntimeError: cannot reach the printer" in text
    traceback = window.manager.record("fault_injector").traceback
    assert traceback.strip() in text
    button = find(dialog, QPushButton, "pluginToggleButton")
    assert button.isEnabled() and button.text() == "Try again"


def test_the_required_plugin_cannot_be_toggled_and_the_dialog_says_why(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(ALL)
    dialog = window.open_plugins_dialog()
    button = find(dialog, QPushButton, "pluginToggleButton")
    dialog.table.setCurrentIndex(dialog.model.index(row_of(dialog, "core"), 0))
    assert not button.isEnabled()
    assert "required" in button.toolTip() and "cannot be disabled" in button.toolTip()
    assert dialog.toggle_reason.text() == button.toolTip()
    dialog.table.doubleClicked.emit(dialog.table.currentIndex())
    assert window.manager.record("core").enabled

    dialog.table.setCurrentIndex(dialog.model.index(row_of(dialog, "inventory"), 0))
    assert button.isEnabled() and button.toolTip() == "" and button.text() == "Disable"
    assert dialog.toggle_reason.text() == ""
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not window.manager.record("inventory").enabled
    assert button.text() == "Enable"


def test_the_recipe_tab_shows_how_to_write_a_plugin_and_copies_its_code(
    qtbot: Any, dialog: Any
) -> None:
    tabs = dialog.tabs
    titles = [tabs.tabText(i) for i in range(tabs.count())]
    assert "How to write a plugin" in titles
    tabs.setCurrentIndex(titles.index("How to write a plugin"))
    text = dialog.recipe.toPlainText()
    assert "self.connect(order_created, self.on_order, on_commit=True)" in text
    assert '[project.entry-points."storeapp.listeners"]' in text
    assert "No order code changes" in text
    qtbot.mouseClick(find(dialog, QPushButton, "copyRecipeButton"), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == PLUGIN_CODE


def test_the_dialog_fits_a_1366x768_screen(dialog: Any) -> None:
    # Room for a title bar and a panel: at most 1366 x 700.
    for size in (dialog.size(), dialog.sizeHint(), dialog.minimumSizeHint()):
        assert size.width() <= 1366 and size.height() <= 700, size
    # And on a smaller screen it asks for at most 90 % of it.
    available = dialog.screen().availableGeometry().size()
    assert dialog.width() <= available.width() and dialog.height() <= available.height()
