"""The email log's table model (GUI thread only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from PySide6.QtCore import Qt

from storeapp.listeners.api import Cell, CellModel
from storeapp.listeners.email_log.log import EmailRecord

__all__ = ["EmailLogModel"]


class EmailLogModel(CellModel):
    """Time, To, Subject, Status (queued, sent, retrying, dead); in event
    order, newest at the bottom.

    Fed whole snapshots through :meth:`sync`, which hands the difference to
    :meth:`CellModel.sync_rows`: one batched insert at the bottom, one
    removal from the top, rewrites of the rows whose cells changed. The
    cells live in C++, so the table repaints without waiting for the GIL
    while orders and emails are being built on other threads.
    """

    COLUMNS = ("Time", "To", "Subject", "Status")
    TIME, TO, SUBJECT, STATUS = range(4)

    def __init__(self, records: Iterable[EmailRecord] = (), parent: Any = None) -> None:
        super().__init__(self.COLUMNS, parent)
        #: record id -> (the record, its cells): a record object that has not
        #: changed since the last sync is not turned into cells again.
        self._shown: dict[int, tuple[EmailRecord, list[Cell]]] = {}
        self.sync(records)

    def record(self, row: int) -> EmailRecord:
        record: EmailRecord = self.row_data[row]
        return record

    def records(self) -> list[EmailRecord]:
        return list(self.row_data)

    def sync(self, snapshot: Iterable[EmailRecord]) -> None:
        """Make the rows equal ``snapshot`` (records in id order)."""
        rows = list(snapshot)
        self.sync_rows(rows, _record_id, self._cells)
        self._shown = {r.id: self._shown[r.id] for r in rows}

    def _cells(self, record: EmailRecord) -> list[Cell]:
        shown = self._shown.get(record.id)
        if shown is not None and shown[0] is record:
            return shown[1]
        cells = _cells(record)
        self._shown[record.id] = (record, cells)
        return cells


def _record_id(record: EmailRecord) -> int:
    return record.id


def _cells(record: EmailRecord) -> list[Cell]:
    """One row's cells; every role the model uses, so a rewrite clears the rest.
    The raw bytes are not shown: a record whose message was just built
    (same To and Subject) leaves its row alone."""
    display, tip = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole
    return [
        {display: record.time.strftime("%Y-%m-%d %H:%M:%S"), tip: None},
        {display: record.to, tip: None},
        {display: record.subject, tip: record.subject},
        {display: record.status, tip: record.status},
    ]
