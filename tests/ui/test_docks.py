"""Docks laid out from DockPlacement declarations alone (storeapp.ui.docks)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

from storeapp.listeners.api import DockPlacement
from storeapp.ui.docks import arrange_docks, dock_area


def lay_out(
    qtbot: Any,
    placements: dict[str, DockPlacement],
    declared: list[DockPlacement] | None = None,
) -> tuple[QMainWindow, dict[str, QDockWidget]]:
    """A bare window with one dock per placement, added in the order given
    (as plugins load), arranged, shown."""
    window = QMainWindow()
    window.resize(1400, 860)
    window.setCentralWidget(QWidget(window))
    window.setDockNestingEnabled(True)
    docks = {}
    for name, placement in placements.items():
        dock = QDockWidget(name, window)
        dock.setObjectName(name)
        dock.setWidget(QWidget(dock))
        window.addDockWidget(dock_area(placement), dock)
        docks[name] = dock
    arrange_docks(
        window,
        [(docks[name], placement) for name, placement in placements.items()],
        [*placements.values(), *(declared or [])],
    )
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.wait(50)
    return window, docks


def test_a_side_stacks_its_panels_in_slot_order_sized_by_share_and_size(qtbot: Any) -> None:
    window, docks = lay_out(
        qtbot,
        {
            "lower": DockPlacement("left", slot=1, share=75),
            "upper": DockPlacement("left", slot=0, share=25, size=260),
        },
    )
    upper, lower = docks["upper"].geometry(), docks["lower"].geometry()
    for name in docks:
        assert window.dockWidgetArea(docks[name]) == Qt.DockWidgetArea.LeftDockWidgetArea
    assert upper.x() == lower.x() == 0 and upper.bottom() < lower.top()
    assert abs(upper.width() - 260) <= 5
    assert abs(upper.height() / (upper.height() + lower.height()) - 0.25) < 0.03


def test_the_bottom_puts_its_panels_side_by_side(qtbot: Any) -> None:
    window, docks = lay_out(
        qtbot,
        {
            "right": DockPlacement("bottom", slot=1, share=55),
            "left": DockPlacement("bottom", slot=0, share=45, size=300),
            "side": DockPlacement("right", size=440),
        },
    )
    left, right = docks["left"].geometry(), docks["right"].geometry()
    assert window.dockWidgetArea(docks["left"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert window.dockWidgetArea(docks["side"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert left.y() == right.y() and left.right() < right.left()
    assert abs(left.height() - 300) <= 5
    assert abs(left.width() / (left.width() + right.width()) - 0.45) < 0.03
    assert abs(docks["side"].width() - 440) <= 5


def test_an_area_keeps_its_depth_when_the_panel_that_sets_it_is_off(qtbot: Any) -> None:
    # Only the second panel of the right is open; the first (switched off)
    # declares the area's width.
    _window, docks = lay_out(
        qtbot,
        {"second": DockPlacement("right", slot=1, share=60)},
        declared=[DockPlacement("right", slot=0, share=40, size=300)],
    )
    assert abs(docks["second"].width() - 300) <= 5


def test_an_open_panels_own_size_wins_over_one_switched_off(qtbot: Any) -> None:
    _window, docks = lay_out(
        qtbot,
        {"second": DockPlacement("right", slot=1, share=60, size=500)},
        declared=[DockPlacement("right", slot=0, share=40, size=300)],
    )
    assert abs(docks["second"].width() - 500) <= 5
