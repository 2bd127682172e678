"""The wiring: every watched signal and who is connected to it.

One row per signal with a child row per connection: the receiver's
qualified name, the plugin it belongs to, its sender filter, weak or
strong, immediate or on commit, and its ``dispatch_uid``. A signal nobody
listens to is flagged in grey. Each signal says whether it is one of
Django's built-in model signals or a custom one, and where it is defined;
each receiver where it is written (:mod:`.sources`): the first cell of a
row keeps that place (:data:`LOCATION_ROLE`) for the source pane.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverInfo, Signal, safe_repr
from storeapp.listeners.api import palette
from storeapp.listeners.inspector.sources import (
    BUILT_IN,
    Location,
    definition_of,
    receiver_location,
    signal_kind,
)

__all__ = [
    "LOCATION_ROLE",
    "NO_RECEIVERS_ROLE",
    "Wiring",
    "WiringModel",
    "current_wiring",
    "location_of",
    "sender_label",
    "wiring_key",
]

#: True on a signal row with no receivers.
NO_RECEIVERS_ROLE = Qt.ItemDataRole.UserRole + 5
#: ``(filename, first line, last line or 0)`` of a row's definition, or None.
LOCATION_ROLE = Qt.ItemDataRole.UserRole + 6

#: Each signal with its connections, in the order shown.
Wiring = list[tuple[Signal, list[ReceiverInfo]]]


def current_wiring(signals: Iterable[Signal]) -> Wiring:
    """Every signal of ``signals`` with its connections, now."""
    return [(signal, signal.receivers_info()) for signal in signals]


def wiring_key(wiring: Wiring, plugin_of: Callable[[str], str]) -> Hashable:
    """What the wiring view shows of ``wiring``: equal keys, nothing to redraw."""
    return tuple(
        (
            signal.name,
            tuple(
                (
                    id(i.receiver),
                    i.name,
                    id(i.sender),
                    i.weak,
                    i.on_commit,
                    i.remote,
                    repr(i.dispatch_uid),
                    plugin_of(i.module),
                )
                for i in infos
            ),
        )
        for signal, infos in wiring
    )


def sender_label(sender: Any) -> str:
    """A connection's sender filter: ``any`` or the sender's name."""
    if sender is None or sender is dispatch.ANY:
        return "any"
    name = getattr(sender, "__name__", None)
    return name if isinstance(name, str) else safe_repr(sender, 60)


class WiringModel(QStandardItemModel):
    """Signals (top level) and their connected receivers (children)."""

    COLUMNS = (
        "Signal / receiver",
        "Plugin",
        "Sender filter",
        "Reference",
        "When",
        "dispatch_uid",
        "Kind",
        "Defined at",
    )
    NAME, PLUGIN, SENDER, REFERENCE, WHEN, UID, KIND, DEFINED = range(8)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))

    def populate(self, wiring: Wiring, plugin_of: Callable[[str], str]) -> None:
        """Replace the rows with ``wiring`` (the headers stay)."""
        self.removeRows(0, self.rowCount())
        bold = QFont()
        bold.setBold(True)
        italic = QFont()
        italic.setItalic(True)
        for signal, infos in wiring:
            name = QStandardItem(signal.name)
            name.setToolTip((signal.__doc__ or "").strip() or signal.name)
            count = QStandardItem(
                f"{len(infos)} receiver{'s' if len(infos) != 1 else ''}"
                if infos
                else "no receivers"
            )
            kind = signal_kind(signal)
            where = definition_of(signal)
            row = [name, count] + [QStandardItem("") for _ in range(len(self.COLUMNS) - 4)]
            row.append(QStandardItem(kind))
            row.append(QStandardItem(str(where) if where is not None else "?"))
            row[self.KIND].setToolTip(
                "One of Django's built-in model signals: sent by the ORM layer for "
                "every model saved or deleted."
                if kind == BUILT_IN
                else "A custom signal: the application's own, sent by its code."
            )
            _set_location(name, where)
            for item in row:
                item.setEditable(False)
                item.setData(not infos, NO_RECEIVERS_ROLE)
                if infos:
                    item.setFont(bold)
                else:
                    item.setFont(italic)
                    item.setForeground(palette.MUTED_FG)
                    item.setBackground(palette.QUIET_BG)
            if not infos:
                count.setToolTip("Nothing is connected: sending this signal calls nobody.")
            for info in infos:
                child = [
                    QStandardItem(info.name),
                    QStandardItem(plugin_of(info.module)),
                    QStandardItem(sender_label(info.sender)),
                    QStandardItem("weak" if info.weak else "strong"),
                    QStandardItem(
                        ("on commit" if info.on_commit else "immediate")
                        + (" + other tills" if info.remote else "")
                    ),
                    QStandardItem("" if info.dispatch_uid is None else str(info.dispatch_uid)),
                    QStandardItem(""),
                ]
                at = receiver_location(info.receiver)
                child.append(QStandardItem(str(at) if at is not None else ""))
                _set_location(child[0], at)
                for item in child:
                    item.setEditable(False)
                    item.setData(False, NO_RECEIVERS_ROLE)
                child[0].setToolTip(f"{info.name}\nmodule {info.module}")
                name.appendRow(child)
            self.appendRow(row)


def _set_location(item: QStandardItem, where: Location | None) -> None:
    if where is not None:
        item.setData((where.filename, where.first, where.last or 0), LOCATION_ROLE)


def location_of(index: Any) -> Location | None:
    """The definition of the signal or receiver of a wiring row."""
    data = index.siblingAtColumn(0).data(LOCATION_ROLE) if index.isValid() else None
    if not data:
        return None
    filename, first, last = data
    return Location(filename, first, last or None)
