"""The email log's table model on its own: cells in C++, one row-diff."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel

from storeapp.listeners.api import CellModel
from storeapp.listeners.email_log.log import EmailRecord
from storeapp.listeners.email_log.model import EmailLogModel


def make_record(record_id: int, status: str = "queued", **changes) -> EmailRecord:
    record = EmailRecord(
        record_id,
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        f"u{record_id} <u@x.invalid>",
        f"Subject {record_id}",
        status,
        None,
        "order",
    )
    return replace(record, **changes)


def test_model_cells_live_in_cpp_so_painting_never_calls_python(qtbot):
    model = EmailLogModel([make_record(1)])
    assert isinstance(model, CellModel)
    for name in ("data", "index", "rowCount", "columnCount", "flags", "headerData", "setData"):
        assert getattr(type(model), name) is getattr(QStandardItemModel, name), name
    index = model.index(0, EmailLogModel.SUBJECT)
    assert not index.flags() & Qt.ItemFlag.ItemIsEditable


def test_sync_appends_in_one_batch_drops_from_the_top_and_rewrites_changed_rows(qtbot):
    model = EmailLogModel([make_record(1), make_record(2)])
    assert [model.index(0, c).data() for c in range(4)] == [
        "2026-01-02 03:04:05",
        "u1 <u@x.invalid>",
        "Subject 1",
        "queued",
    ]
    assert model.index(0, EmailLogModel.STATUS).data(Qt.ItemDataRole.ToolTipRole) == "queued"
    assert model.index(0, EmailLogModel.SUBJECT).data(Qt.ItemDataRole.ToolTipRole) == "Subject 1"
    assert model.index(0, EmailLogModel.TO).data(Qt.ItemDataRole.ToolTipRole) is None
    inserted, removed, changed = [], [], set()
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda parent, first, last: removed.append((first, last)))
    model.dataChanged.connect(lambda top, bottom, roles: changed.add(top.row()))
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))

    kept = model.records()
    model.sync([kept[0], make_record(2, "sent"), make_record(3), make_record(4)])
    assert inserted == [(2, 3)] and removed == []
    assert changed == {1, 2, 3}  # the status of 1; 2 and 3 are the new rows being filled
    assert [model.index(r, EmailLogModel.STATUS).data() for r in range(4)] == [
        "queued",
        "sent",
        "queued",
        "queued",
    ]

    # The message is built: raw bytes alone change nothing shown.
    inserted.clear()
    changed.clear()
    records = model.records()
    model.sync([records[0], records[1], replace(records[2], raw=b"x"), records[3]])
    assert inserted == [] and changed == set()
    assert model.record(2).raw == b"x"

    records = model.records()
    model.sync([*records[2:], make_record(5, "failed: refused")])
    assert removed == [(0, 1)] and inserted == [(2, 2)] and changed == {2}  # the new row
    assert [r.id for r in model.records()] == [3, 4, 5]
    assert [model.index(r, EmailLogModel.SUBJECT).data() for r in range(3)] == [
        "Subject 3",
        "Subject 4",
        "Subject 5",
    ]
    assert (
        model.index(2, EmailLogModel.STATUS).data(Qt.ItemDataRole.ToolTipRole) == "failed: refused"
    )
    assert resets == []
