"""pytest-qt: the window on a laptop's 1366x768 screen and on a 1920x1080
one: within the screen, no panel over another, the cashier's columns in view
(on the laptop each dock area's panels are tabs)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QDockWidget, QTableView, QWidget

from storeapp.app import build
from storeapp.ui.docks import FRAME
from tests.ui.conftest import add_to_cart

LAPTOP = QRect(0, 0, 1366, 768)
LAPTOP_WITH_PANEL = QRect(0, 32, 1366, 736)  # a desktop panel along the top
DESKTOP = QRect(0, 0, 1920, 1080)


@pytest.fixture
def fitted(qtbot: Any, tmp_path: Path):
    """``fitted(available)`` -> a window built as ``make run`` builds it on
    a first start (the Lessons dock open too), fitted to ``available``, shown."""
    windows: list[Any] = []

    def make(available: QRect, plugins: list[str] | None = None) -> Any:
        window = build(f"sqlite:///{tmp_path / 'pos.db'}", plugins, data_dir=tmp_path, demo=True)
        qtbot.addWidget(window)
        windows.append(window)
        window.fit_to_screen(available)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: window.product_model.rowCount() > 0)
        add_to_cart(qtbot, window, "FLT-V60", 12)  # the longest name, a two-digit line total
        qtbot.wait(50)  # a layout pass
        return window

    yield make
    for window in windows:
        window.close()


def on_screen(window: Any) -> dict[str, QRect]:
    """The central widget and each dock the cashier can see (a dock behind
    another's tab is not), in window coordinates."""
    parts: dict[str, QWidget] = {"till": window.centralWidget()}
    for dock in window.findChildren(QDockWidget):
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            parts[dock.objectName()] = dock
    return {name: QRect(w.mapTo(window, w.rect().topLeft()), w.size()) for name, w in parts.items()}


def assert_fits(
    window: Any, available: QRect, shown: tuple[str, ...] = ("inventoryDock", "emailLogDock")
) -> None:
    """Within ``available`` with a window manager's frame around it, the
    till and the docks ``shown`` in view, nothing over anything else."""
    for size in (window.minimumSizeHint(), window.size()):
        assert size.width() + FRAME.width() <= available.width()
        assert size.height() + FRAME.height() <= available.height()
    parts = on_screen(window)
    assert {"till", *shown} <= set(parts)
    for (a, ra), (b, rb) in itertools.combinations(parts.items(), 2):
        assert not ra.intersects(rb), f"{a} {ra} overlaps {b} {rb}"
    for part in parts.values():
        assert window.rect().contains(part), part
    for name in ("productTable", "cartTable"):  # In stock; Price and Line total
        view = window.findChild(QTableView, name)
        header = view.horizontalHeader()
        assert header.length() <= view.viewport().width(), name
        assert view.horizontalScrollBar().maximum() == 0, name


def test_on_a_1366x768_screen_the_window_fits_and_the_side_panels_are_tabs(
    fitted: Any,
) -> None:
    window = fitted(LAPTOP)
    assert window.compact
    assert_fits(window, LAPTOP)
    tabs = window.tabifiedDockWidgets(window.docks["inventory"])
    assert {d.objectName() for d in tabs} == {"analyticsDock", "lessonsDock"}
    bottom = window.tabifiedDockWidgets(window.docks["email_log"])
    assert [d.objectName() for d in bottom] == ["signalInspectorDock"]


def test_on_a_1920x1080_screen_the_panels_stay_as_declared(fitted: Any) -> None:
    window = fitted(DESKTOP)
    assert not window.compact
    assert_fits(window, DESKTOP)
    parts = on_screen(window)
    assert "signalInspectorDock" in parts  # beside the email log
    assert "lessonsDock" in parts  # a first start: a tab over analytics, below the inventory
    assert window.tabifiedDockWidgets(window.docks["inventory"]) == []


def test_on_a_1366x768_screen_with_a_desktop_panel_the_window_still_fits(fitted: Any) -> None:
    window = fitted(LAPTOP_WITH_PANEL)
    assert window.compact
    assert_fits(window, LAPTOP_WITH_PANEL)


def test_on_a_small_screen_a_panel_switched_on_later_joins_its_areas_tabs(fitted: Any) -> None:
    window = fitted(LAPTOP, ["inventory", "analytics", "inspector"])
    assert window.compact
    window.set_plugin_enabled("email_log", True)
    tabs = window.tabifiedDockWidgets(window.docks["email_log"])
    assert [d.objectName() for d in tabs] == ["signalInspectorDock"]
    assert_fits(window, LAPTOP, ("inventoryDock", "signalInspectorDock"))


HALF_DESKTOP = QRect(960, 0, 960, 1080)  # `make tills`: a till on each half


def test_on_half_a_1920x1080_screen_every_panel_is_a_tab_under_the_till(fitted: Any) -> None:
    window = fitted(HALF_DESKTOP)
    assert window.compact
    # Two tills side by side: each within its half (their frames may touch).
    for size in (window.minimumSizeHint(), window.size()):
        assert size.width() <= HALF_DESKTOP.width()
    parts = on_screen(window)
    assert set(parts) == {"till", "inventoryDock"}
    assert not parts["till"].intersects(parts["inventoryDock"])
    tabs = window.tabifiedDockWidgets(window.docks["inventory"])
    assert {d.objectName() for d in tabs} == {
        "analyticsDock",
        "emailLogDock",
        "signalInspectorDock",
        "lessonsDock",
    }
