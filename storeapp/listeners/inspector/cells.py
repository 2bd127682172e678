"""What one row of the timeline shows: the cells of a send's row and of a
receiver call's row (texts, tooltips, colours and the roles the panel and
the filters read). :class:`~storeapp.listeners.inspector.timeline.TimelineModel`
decides which rows there are; this module, what is in them.

Memory: a full timeline holds thousands of rows of seven cells, so a cell
holds what its column shows and no more. The first column carries the
row's roles (status, seq, plugin, traceback); the name column the row's
tooltip. The cells of a new row leave out the roles that would be None: a
None only clears a role, which is work for nothing in a new cell.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush

from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord
from storeapp.listeners.api import RIGHT, palette
from storeapp.listeners.inspector.recorder import (
    Outcome,
    format_ms,
    format_time,
    summarise,
    total_duration,
)

__all__ = [
    "COLUMNS",
    "OUTCOME_COLOURS",
    "PLUGIN_ROLE",
    "SEQ_ROLE",
    "STATUS_ROLE",
    "TRACEBACK_ROLE",
    "call_cells",
    "send_cells",
    "send_name",
    "status_colours",
]

Cells = list[dict[int, Any]]

COLUMNS = (
    "Time",
    "Signal / receiver",
    "Sender / plugin",
    "Duration (ms)",
    "Outcome / status",
    "Arguments / result",
    "Sent from",
)
TIME, NAME, SOURCE, DURATION, STATUS, DETAILS, ORIGIN = range(len(COLUMNS))
#: A nested send's name is indented by this much a level, then the arrow.
INDENT, ARROW = "   ", "↳ "

#: The status of a child row (a receiver call), or the outcome of a send.
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
#: The plugin label of a child row ("" for a send).
PLUGIN_ROLE = Qt.ItemDataRole.UserRole + 2
#: The send's seq (both levels).
SEQ_ROLE = Qt.ItemDataRole.UserRole + 3
#: The traceback of a failed receiver (None otherwise).
TRACEBACK_ROLE = Qt.ItemDataRole.UserRole + 4

Colours = tuple[QBrush | None, QBrush | None]  # (background, foreground)

#: A send's colours by its outcome: failures red, rollbacks amber, deferred
#: receivers blue, sends nobody heard grey.
OUTCOME_COLOURS: dict[Outcome, Colours] = {
    Outcome.FAILED: (palette.ERROR_BG, palette.ERROR_FG),
    Outcome.DROPPED: (palette.WARN_BG, palette.WARN_FG),
    Outcome.DEFERRED: (None, palette.INFO_FG),
    Outcome.OK: (None, None),
    Outcome.SKIPPED: (None, palette.MUTED_FG),
    Outcome.NO_RECEIVERS: (None, palette.MUTED_FG),
    Outcome.MUTED: (None, palette.MUTED_FG),
}


def status_colours(status: ReceiverStatus) -> Colours:
    """A receiver call's colours, as a send's (failed, dropped, deferred, skipped)."""
    if status.failed:
        return OUTCOME_COLOURS[Outcome.FAILED]
    if status is ReceiverStatus.DROPPED:
        return OUTCOME_COLOURS[Outcome.DROPPED]
    if status.skipped:
        return OUTCOME_COLOURS[Outcome.SKIPPED]
    if status is ReceiverStatus.DEFERRED:
        return OUTCOME_COLOURS[Outcome.DEFERRED]
    return None, None


def _colour_roles(colours: Colours, rewrite: bool) -> dict[int, QBrush | None]:
    """Background and foreground roles for ``colours``; those without a colour
    are None (cleared) on a ``rewrite`` and left out otherwise."""
    background, foreground = colours
    roles: dict[int, QBrush | None] = {}
    if background is not None or rewrite:
        roles[Qt.ItemDataRole.BackgroundRole] = background
    if foreground is not None or rewrite:
        roles[Qt.ItemDataRole.ForegroundRole] = foreground
    return roles


def send_name(record: SendRecord) -> str:
    """A send's name as its row shows it: indented under its parent."""
    if not record.depth:
        return record.signal
    return f"{INDENT * (record.depth - 1)}{ARROW}{record.signal}"


def send_cells(record: SendRecord, rewrite: bool = False) -> Cells:
    """The cells of a send's row (``rewrite``: of a row already shown, so
    the roles it no longer has are cleared)."""
    kind, status = summarise(record)
    colours = _colour_roles(OUTCOME_COLOURS[kind], rewrite)
    kwargs = record.kwargs
    texts = (
        format_time(record.time),
        send_name(record),
        record.sender,
        format_ms(total_duration(record)),
        status,
        kwargs,
        record.call_site,
    )
    cells: Cells = [{**colours, Qt.ItemDataRole.DisplayRole: t} for t in texts]
    cells[TIME].update({STATUS_ROLE: status, SEQ_ROLE: record.seq, PLUGIN_ROLE: ""})
    inside = (
        ""
        if record.parent is None
        else f"\nsent inside #{record.parent}"
        + (f" by its receiver {record.within}" if record.within else " by the send loop")
    )
    cells[NAME][Qt.ItemDataRole.ToolTipRole] = (
        f"#{record.seq} {record.signal} from {record.sender}, thread "
        f"{record.thread}, {record.via or ('send_robust' if record.robust else 'send')}"
        f"{inside}"
    )
    cells[DURATION][Qt.ItemDataRole.TextAlignmentRole] = RIGHT
    cells[DETAILS][Qt.ItemDataRole.ToolTipRole] = kwargs
    return cells


def call_cells(record: SendRecord, call: ReceiverCall, plugin: str, rewrite: bool = False) -> Cells:
    """The cells of the row of ``call``, one receiver's part in ``record``
    (``plugin``: the label of the plugin it belongs to, or "")."""
    colours = _colour_roles(status_colours(call.status), rewrite)
    texts = (
        "",
        call.receiver,
        plugin,
        format_ms(call.duration),
        call.label,
        call.error if call.error is not None else (call.result or ""),
    )  # no "Sent from" cell: a receiver row leaves it empty
    cells: Cells = [{**colours, Qt.ItemDataRole.DisplayRole: t} for t in texts]
    cells[TIME].update({STATUS_ROLE: call.label, PLUGIN_ROLE: plugin, SEQ_ROLE: record.seq})
    if call.traceback is not None or rewrite:
        cells[TIME][TRACEBACK_ROLE] = call.traceback
    if call.traceback:
        tip = f"{call.error}\n(click to see the traceback)"
    else:
        tip = f"{call.receiver} ({'on commit' if call.on_commit else 'immediate'})"
    cells[NAME][Qt.ItemDataRole.ToolTipRole] = tip
    if call.traceback or rewrite:
        cells[STATUS][Qt.ItemDataRole.ToolTipRole] = tip if call.traceback else None
    cells[DURATION][Qt.ItemDataRole.TextAlignmentRole] = RIGHT
    return cells
