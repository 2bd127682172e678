"""Where plugin docks go: read from each plugin's ``dock`` declaration.

The window knows no plugin by name. Each plugin class declares a
:class:`storeapp.listeners.api.DockPlacement` (area, slot, share, size) and
:func:`arrange_docks` lays every area out from those declarations alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

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


def _first_size(placements: Iterable[DockPlacement]) -> int | None:
    return next((p.size for p in placements if p.size is not None), None)
