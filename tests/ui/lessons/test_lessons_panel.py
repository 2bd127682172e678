"""The Lessons panel, driven through the real window: every lesson's Try it
turns its check green, and the sandboxes leave the live database alone."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel, QPlainTextEdit, QPushButton
from sqlalchemy import func, select

from storeapp.domain.models import Order, User
from storeapp.ui.lessons.catalogue import LESSONS
from storeapp.ui.main_window import LESSONS_SHOWN, MainWindow
from tests.ui.conftest import find

SANDBOX_TIMEOUT = 60_000


def counts(window: MainWindow) -> tuple[int, int]:
    with window.store.units.read() as s:
        users = s.scalar(select(func.count()).select_from(User))
        orders = s.scalar(select(func.count()).select_from(Order))
    return int(users or 0), int(orders or 0)


def try_lesson(qtbot: Any, window: MainWindow, number: int, timeout: int = 10_000) -> None:
    panel = window.open_lessons()
    panel.choose(number)
    assert panel.current.number == number
    button = find(window, QPushButton, "lessonTryButton")
    qtbot.waitUntil(button.isEnabled, timeout=timeout)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.is_green(number), timeout=timeout)


def test_the_lessons_open_on_first_start_from_the_help_menu_and_with_f1(
    qtbot: Any, make_window: Any
):
    window = make_window()
    dock = find(window, QDockWidget, "lessonsDock")
    assert dock.isVisible()
    assert window.settings.value(LESSONS_SHOWN, False, type=bool)

    dock.close()
    find(window, QAction, "lessonsAction").trigger()
    assert dock.isVisible()
    dock.close()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_F1)

    assert dock.isVisible()
    titles = [
        window.lessons.model.cell(row, 0).data() for row in range(window.lessons.model.rowCount())
    ]
    assert len(titles) == len(LESSONS) == 10
    assert "1. A model signal" in titles[0]


def test_a_lesson_shows_the_real_code_with_file_and_line(window: MainWindow):
    panel = window.open_lessons()
    panel.choose(3)  # where it is fired from

    code = find(window, QPlainTextEdit, "lessonCode").toPlainText()

    assert "storeapp/domain/store/orders.py:" in code
    assert "order_created.send_robust(Order, order=order)" in code


@pytest.mark.parametrize("number", [1, 2, 3, 4, 7])
def test_each_live_lesson_turns_green_when_tried(qtbot: Any, window: MainWindow, number: int):
    panel = window.open_lessons()
    assert not panel.is_green(number)

    try_lesson(qtbot, window, number)

    check = find(window, QLabel, "lessonCheck").text()
    assert "\N{BALLOT BOX}" not in check.replace("\N{BALLOT BOX WITH CHECK}", "")


def test_a_live_lesson_says_it_needs_the_inspector_and_switches_it_on(qtbot: Any, make_window: Any):
    window = make_window(plugins=["email_log"])
    panel = window.open_lessons()
    note = find(window, QLabel, "lessonInspectorNote")
    assert note.isVisible()

    qtbot.mouseClick(find(window, QPushButton, "lessonInspectorButton"), Qt.MouseButton.LeftButton)

    assert window.manager.record("inspector").enabled
    qtbot.waitUntil(lambda: not note.isVisible())
    try_lesson(qtbot, window, 1)
    assert panel.is_green(1)


@pytest.mark.parametrize("number", [5, 6, 8, 9, 10])
def test_each_sandbox_lesson_turns_green_and_leaves_the_live_database_alone(
    qtbot: Any, window: MainWindow, number: int
):
    before = counts(window)

    try_lesson(qtbot, window, number, timeout=SANDBOX_TIMEOUT)

    assert counts(window) == before
    output = find(window, QPlainTextEdit, "lessonOutput").toPlainText()
    assert "Sandbox error" not in output


def test_a_second_start_does_not_open_the_lessons_again(make_window: Any, tmp_path):
    make_window(data_dir=tmp_path / "once").close()

    again = make_window(data_dir=tmp_path / "once")

    assert again.lessons_dock is None


def test_a_lessons_transcript_comes_back_when_the_learner_returns_to_it(
    qtbot: Any, window: MainWindow
):
    try_lesson(qtbot, window, 2)
    output = find(window, QPlainTextEdit, "lessonOutput")
    said = output.toPlainText()
    assert "Placed order #" in said

    window.lessons.choose(3)
    assert output.toPlainText() == ""
    window.lessons.choose(2)

    assert output.toPlainText() == said


def test_the_checks_run_only_while_the_lessons_are_shown(qtbot: Any, window: MainWindow):
    panel = window.open_lessons()
    qtbot.waitUntil(panel.timer.isActive)

    window.lessons_dock.close()

    assert not panel.timer.isActive()
