"""Where plugin docks go: read from each plugin's ``dock`` declaration.

The window knows no plugin by name. Each plugin class declares a
:class:`storeapp.listeners.api.DockPlacement` (area, slot, share, size) and
:func:`arrange_docks` lays every area out from those declarations alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QMainWindow

if TYPE_CHECKING:  # the frame paints before the plugin API is imported
    from storeapp.listeners.api import DockPlacement

AREAS = {
    "left": Qt.DockWidgetArea.LeftDockWidgetArea,
    "right": Qt.DockWidgetArea.RightDockWidgetArea,
    "top": Qt.DockWidgetArea.TopDockWidgetArea,
    "bottom": Qt.DockWidgetArea.BottomDockWidgetArea,
}


def dock_area(placement: DockPlacement) -> Qt.DockWidgetArea:
    return AREAS[placement.area]


def along(area: str) -> Qt.Orientation:
    """How the panels of one area line up: side by side at the top and the
    bottom, one above the other at a side."""
    if area in ("top", "bottom"):
        return Qt.Orientation.Horizontal
    return Qt.Orientation.Vertical


def across(area: str) -> Qt.Orientation:
    """The direction of an area's depth (its height at the bottom)."""
    if along(area) == Qt.Orientation.Horizontal:
        return Qt.Orientation.Vertical
    return Qt.Orientation.Horizontal


def arrange_docks(
    window: QMainWindow,
    docks: Sequence[tuple[QDockWidget, DockPlacement]],
    declared: Iterable[DockPlacement] = (),
) -> None:
    """Lay out ``docks`` (already added to their areas) as they declare.

    Per area: the panels in ``slot`` order (ties: the order given), split
    side by side or stacked (:func:`along`), sharing the room in proportion
    to ``share``. The area is as deep as its first panel that declares a
    ``size`` asks; if none does, as the first in ``declared`` (every known
    plugin's placement, its panel open or not) for that area: an area keeps
    its depth when the panel that sets it is switched off.
    """
    declared = list(declared)
    for area in AREAS:
        placed = sorted(((p, d) for d, p in docks if p.area == area), key=lambda item: item[0].slot)
        if not placed:
            continue
        panels = [d for _p, d in placed]
        for before, after in zip(panels, panels[1:]):
            window.splitDockWidget(before, after, along(area))
        if len(panels) > 1:
            window.resizeDocks(panels, [p.share for p, _d in placed], along(area))
        others = sorted((p for p in declared if p.area == area), key=lambda p: p.slot)
        depth = _first_size(p for p, _d in placed)
        if depth is None:
            depth = _first_size(others)
        if depth is not None:
            window.resizeDocks(panels[:1], [depth], across(area))


def tabify_areas(
    window: QMainWindow, docks: Sequence[tuple[QDockWidget, DockPlacement]]
) -> list[QDockWidget]:
    """Put the panels of each area in one group of tabs, in ``slot`` order,
    the first in front; the sides (left, right) run the window's full
    height, the top and bottom sit beside them. For a small screen: on a
    1366x768 laptop the right side's panels stacked need more height than
    there is, and the bottom's side by side, under the till only, more
    width. Returns each area's first panel."""
    firsts = []
    for area in AREAS:
        placed = sorted(((p, d) for d, p in docks if p.area == area), key=lambda item: item[0].slot)
        panels = [d for _p, d in placed]
        for other in panels[1:]:
            window.tabifyDockWidget(panels[0], other)
        if not panels:
            continue
        panels[0].raise_()
        firsts.append(panels[0])
        if area in SIDE_CORNERS:
            for corner in SIDE_CORNERS[area]:
                window.setCorner(corner, AREAS[area])
    return firsts


def stack_below(
    window: QMainWindow, docks: Sequence[tuple[QDockWidget, DockPlacement]]
) -> list[QDockWidget]:
    """Every panel in one group of tabs under the till, in the order the
    areas and slots declare; returns the first (the one in front)."""
    areas = list(AREAS)
    ordered = [
        dock
        for dock, _placement in sorted(docks, key=lambda dp: (areas.index(dp[1].area), dp[1].slot))
    ]
    if not ordered:
        return []
    for dock in ordered:
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
    for other in ordered[1:]:
        window.tabifyDockWidget(ordered[0], other)
    ordered[0].raise_()
    for corner in (Qt.Corner.BottomLeftCorner, Qt.Corner.BottomRightCorner):
        window.setCorner(corner, Qt.DockWidgetArea.BottomDockWidgetArea)
    return [ordered[0]]


SIDE_CORNERS = {
    "left": (Qt.Corner.TopLeftCorner, Qt.Corner.BottomLeftCorner),
    "right": (Qt.Corner.TopRightCorner, Qt.Corner.BottomRightCorner),
}


def _first_size(placements: Iterable[DockPlacement]) -> int | None:
    return next((p.size for p in placements if p.size is not None), None)


#: Room a window manager takes around a window (title bar, borders); the
#: screen's available geometry already leaves out panels and task bars.
FRAME = QSize(16, 40)
#: On a small screen, the most of the window's height the bottom (or top)
#: panels take unless they need more: the till's catalogue and cart come first.
COMPACT_DEPTH = 0.3


def place_dock(
    window: QMainWindow, dock: QDockWidget, placement: DockPlacement, *, tabbed: bool
) -> None:
    """Add ``dock`` (a panel switched on later) to its area; ``tabbed`` (a
    small screen, see :func:`fit_to_screen`): as a tab beside its panels."""
    area = dock_area(placement)
    beside = [
        d
        for d in window.findChildren(QDockWidget)
        if d is not dock and window.dockWidgetArea(d) == area and not d.isHidden()
    ]
    window.addDockWidget(area, dock)
    if tabbed and beside:
        window.tabifyDockWidget(beside[0], dock)


def fit_to_screen(
    window: QMainWindow,
    docks: Sequence[tuple[QDockWidget, DockPlacement]],
    available: QRect | None = None,
) -> bool:
    """Size ``window`` to open within ``available`` (a screen's available
    geometry) with its frame. If the panels as declared need more room than
    that (a side's panels stacked: on a 1366x768 laptop the inventory above
    the sales chart needs ~100 px more than the screen has), each area's
    panels become tabs (:func:`tabify_areas`), the sides narrowed and the
    bottom made shallow to leave the central widget the room it asks for.
    Returns whether it did. ``available`` None: the window's screen's.
    """
    if available is None:
        screen = window.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return False
        available = screen.availableGeometry()
    room = QSize(available.width() - FRAME.width(), available.height() - FRAME.height())
    minimum = window.minimumSizeHint()
    compact = minimum.width() > room.width() or minimum.height() > room.height()
    firsts = tabify_areas(window, docks) if compact else []
    layout = window.layout()
    if layout is not None:
        layout.activate()  # the minimum of the new arrangement
    if compact and window.minimumSizeHint().width() > room.width():
        # Narrower still (a till on half a screen, `make tills`): no side
        # column at all; every panel is a tab under the till.
        firsts = stack_below(window, docks)
        central = window.centralWidget()
        till = central.layout() if central is not None else None
        if till is not None:  # and the till's own margins narrow (14 px)
            till.setContentsMargins(2, 2, 2, 2)
        if layout is not None:
            layout.activate()
    if compact:
        size = room  # a small screen: all of it for the till
    else:
        size = QSize(int(room.width() * 0.95), int(room.height() * 0.95))
    window.resize(size.expandedTo(window.minimumSizeHint()).boundedTo(room))
    central = window.centralWidget()
    least = central.minimumSizeHint() if central is not None else QSize(0, 0)
    areas = {value: key for key, value in AREAS.items()}
    for dock in firsts:  # as deep as declared, leaving the till what it asks for
        area = areas.get(window.dockWidgetArea(dock), "bottom")
        placement = next(p for d, p in docks if d is dock)
        declared = placement.size if placement.area == area else None
        if along(area) == Qt.Orientation.Vertical:  # a side: its width
            spare, own = window.width() - least.width() - 12, dock.minimumSizeHint().width()
        else:
            spare = int(window.height() * COMPACT_DEPTH)
            own = dock.minimumSizeHint().height()
        depth = max(own, min(declared or spare, spare))
        window.resizeDocks([dock], [depth], across(area))
    return compact
