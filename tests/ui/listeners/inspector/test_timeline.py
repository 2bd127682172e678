"""The timeline model: one row per send, a child per receiver written on
expand, deferred receivers rewritten in place, cells kept in C++."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QBrush, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QLabel, QTreeView

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord
from storeapp.domain.models import Product
from storeapp.domain.signals import order_created, post_save
from storeapp.listeners.api import RIGHT, CellModel
from storeapp.listeners.inspector.cells import (
    OUTCOME_COLOURS,
    PLUGIN_ROLE,
    SEQ_ROLE,
    STATUS_ROLE,
    TRACEBACK_ROLE,
    status_colours,
)
from storeapp.listeners.inspector.recorder import Outcome, SendBuffer, format_time, summarise
from storeapp.listeners.inspector.timeline import TimelineModel
from tests.ui.conftest import add_to_cart, click, find
from tests.ui.listeners.inspector.helpers import (
    MARKER,
    child,
    customer,
    inspector,
    marker,
    markers,
    order_settled,
    place_order,
    send_marker_and_wait,
    sends,
    settled,
    timeline,
)


def test_expanding_a_send_in_the_view_writes_its_receiver_rows(qtbot: Any, window: Any) -> None:
    customer(qtbot, window)
    place_order(qtbot, window)
    model = timeline(window)
    view = find(window, QTreeView, "inspectorTimeline")

    def order_row() -> int:
        rows = [
            r
            for r in range(model.rowCount())
            if model.index(r, TimelineModel.NAME).data() == "order_created"
        ]
        return rows[0] if rows else -1

    qtbot.waitUntil(lambda: order_row() >= 0)
    send = model.index(order_row(), 0)
    # Not opened yet: one placeholder row, so the view draws an expand arrow.
    assert not model.children_loaded(send.row())
    assert model.rowCount(send) == 1
    assert model.index(0, TimelineModel.NAME, send).data() == TimelineModel.PLACEHOLDER
    view.expand(send)
    assert model.children_loaded(send.row())
    receivers = [
        model.index(r, TimelineModel.NAME, send).data() for r in range(model.rowCount(send))
    ]
    assert len(receivers) == 6 and any(r.endswith("core.on_order_created") for r in receivers)
    assert model.call_at(model.index(0, 0, send)) is model.record_at(send).calls[0]


def test_an_order_is_one_send_with_a_child_per_receiver(qtbot: Any, window: Any) -> None:
    customer(qtbot, window)
    place_order(qtbot, window)
    model = timeline(window)
    qtbot.waitUntil(
        lambda: (
            len(sends(model, "order_created")) == 1 and settled(sends(model, "order_created")[0])
        )
    )
    qtbot.waitUntil(lambda: all(settled(s) for s in sends(model)))
    send = sends(model, "order_created")[0]
    order = window.store.list_orders()[0]
    assert send["sender"] == "Order"
    assert send["kwargs"] == f"order=<Order id={order.id} status=placed total={order.total}>"
    assert send["outcome"] == "ok"
    assert len(send["time"]) == len("12:34:56.789") and send["time"][8] == "."
    assert float(send["duration"]) > 0

    core = child(send, "core.on_order_created")
    assert (core["plugin"], core["status"], core["details"]) == ("core", "ok", "None")
    assert float(core["duration"]) >= 0
    email = child(send, "EmailLogPlugin._on_order_created")
    assert (email["plugin"], email["status"]) == ("email_log", "ran after commit")
    for suffix, plugin in (
        ("InventoryPlugin._mark_dirty", "inventory"),
        ("AnalyticsPlugin._on_order_created", "analytics"),
        ("Till._on_orders_changed", "window"),
    ):
        call = child(send, suffix)
        assert (call["plugin"], call["status"]) == (plugin, "ran after commit"), suffix
        assert call["duration"] != ""
    # The fault injector is off by default, and listens to order_created.
    skipped = child(send, "FaultInjectorPlugin")
    assert (skipped["plugin"], skipped["status"]) == ("fault_injector", "skipped: plugin disabled")
    assert len(send["children"]) == 6

    # The model signals are there too, with the sender filter at work.
    others = [s for s in sends(model, "post_save") if s["sender"] != "User"]
    assert others
    for saved in others:
        assert (
            child(saved, "create_customer_for_new_user")["status"]
            == "skipped: sender filter (User)"
        )
    (user_saved,) = [s for s in sends(model, "post_save") if s["sender"] == "User"]
    assert child(user_saved, "create_customer_for_new_user")["status"] == "ok"
    registered = sends(model, "user_registered")
    assert len(registered) == 1
    assert child(registered[0], "_on_user_registered")["status"] == "ran after commit"


def test_deferred_receivers_show_as_deferred_then_as_ran_after_commit(
    qtbot: Any, window: Any
) -> None:
    model = timeline(window)
    product = window.store.list_products()[0]
    changed: list[tuple[int, bool]] = []
    model.dataChanged.connect(
        lambda top_left, *_: changed.append(
            (top_left.parent().row(), True)
            if top_left.parent().isValid()
            else (top_left.row(), False)
        )
    )
    with dispatch.transaction_scope():
        post_save.send_robust(
            Product, instance=product, created=False, raw=False, update_fields=None
        )
        # The event loop runs (the coalesced flush) while the transaction is open.
        qtbot.waitUntil(lambda: any(s["sender"] == "Product" for s in sends(model, "post_save")))
        send = sends(model, "post_save")[-1]
        assert send["sender"] == "Product"
        assert child(send, "InventoryPlugin._mark_dirty")["status"] == "deferred"
        assert child(send, "Till._on_products_changed")["status"] == "deferred"
        assert send["outcome"] == "2 deferred"
    row = send["row"]
    qtbot.waitUntil(lambda: settled(sends(model, "post_save")[-1]))
    send = sends(model, "post_save")[-1]
    assert child(send, "InventoryPlugin._mark_dirty")["status"] == "ran after commit"
    assert send["outcome"] == "ok"
    qtbot.waitUntil(lambda: (row, True) in changed and (row, False) in changed)  # the view was told


def test_a_rollback_shows_the_deferred_receivers_dropped(qtbot: Any, window: Any) -> None:
    model = timeline(window)
    product = window.store.list_products()[0]
    with pytest.raises(RuntimeError, match="card declined"):
        with dispatch.transaction_scope():
            post_save.send_robust(
                Product, instance=product, created=False, raw=False, update_fields=None
            )
            raise RuntimeError("card declined")
    qtbot.waitUntil(
        lambda: any(s["outcome"] == "2 dropped by rollback" for s in sends(model, "post_save"))
    )
    send = sends(model, "post_save")[-1]
    assert child(send, "InventoryPlugin._mark_dirty")["status"] == "dropped by rollback"
    assert child(send, "Till._on_products_changed")["status"] == "dropped by rollback"
    assert (
        model.index(send["row"], TimelineModel.STATUS).data(Qt.ItemDataRole.BackgroundRole)
        is not None
    )


def test_an_out_of_stock_checkout_sends_no_order_created_at_all(qtbot: Any, window: Any) -> None:
    customer(qtbot, window)
    add_to_cart(qtbot, window, "MUG-STD", 8)
    mug = next(p for p in window.store.list_products() if p.sku == "MUG-STD")
    window.store.update_product(mug.id, inventory=3)  # sold elsewhere meanwhile
    send_marker_and_wait(qtbot, window, 0)
    model = timeline(window)
    before = len(sends(model))
    click(qtbot, window, "checkoutButton")
    assert "Only 3" in find(window, QLabel, "cashierMessage").text()
    send_marker_and_wait(qtbot, window, 1)
    # The stock check fails before anything is flushed or sent: the truth is
    # that the failed checkout sends nothing at all (no order_created, nothing
    # to drop), so the only new row is the marker.
    after = sends(model)
    assert [s["signal"] for s in after[before:]] == [MARKER]
    assert sends(model, "order_created") == []
    assert not any(r.signal == "order_created" for r in inspector(window).buffer.records())


def test_the_timeline_model_passes_the_model_tester(
    qtbot: Any, qtmodeltester: Any, window: Any
) -> None:
    def boom(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    customer(qtbot, window)
    order_created.connect(boom, weak=False, dispatch_uid="test.boom")
    try:
        place_order(qtbot, window)
    finally:
        order_created.disconnect(dispatch_uid="test.boom")
    model = timeline(window)
    qtbot.waitUntil(lambda: order_settled(model))
    assert any(model.rowCount(model.index(r, 0)) for r in range(model.rowCount()))
    qtmodeltester.check(model, force_py=True)
    # And it stays consistent through evictions, batches, filters and clear.
    plugin = inspector(window)
    plugin.set_max_sends(20)
    for n in range(30):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=29" in markers(model))
    assert model.rowCount() == 20
    signal_filter = find(window, QComboBox, "inspectorSignalFilter")
    signal_filter.setCurrentIndex(signal_filter.findData(MARKER))
    signal_filter.setCurrentIndex(0)
    click(qtbot, window, "inspectorClear")
    send_marker_and_wait(qtbot, window, 30)


# -- the timeline's cells live in C++ ------------------------------------------------

#: What a view calls while it lays out and paints: a Python override of any of
#: them makes each call wait for the GIL while a worker thread runs Python.
VIEW_VIRTUALS = (
    "data",
    "multiData",
    "index",
    "parent",
    "sibling",
    "rowCount",
    "columnCount",
    "hasChildren",
    "flags",
    "headerData",
    "canFetchMore",
)


def make_record(seq: int, *calls: ReceiverCall) -> SendRecord:
    return SendRecord(
        seq,
        1_700_000_000.25,
        "order_created",
        "Order",
        f"order=<Order id={seq}>",
        True,
        "worker",
        list(calls),
    )


def cell_values(model: TimelineModel, parent: QModelIndex = QModelIndex()) -> list[Any]:
    """Every role's value of every cell, children included."""
    values = []
    for row in range(model.rowCount(parent)):
        for column in range(model.columnCount(parent)):
            values += model.itemData(model.index(row, column, parent)).values()
        values += cell_values(model, model.index(row, 0, parent))
    return values


def test_the_timeline_model_keeps_plain_values_in_cpp_cells(qtbot: Any) -> None:
    assert issubclass(TimelineModel, CellModel)
    for name in VIEW_VIRTUALS:
        assert getattr(TimelineModel, name) is getattr(QStandardItemModel, name), name
    failed = ReceiverCall(
        "app.boom",
        "app",
        ReceiverStatus.ERROR,
        duration=0.001,
        error="RuntimeError: boom",
        traceback="Traceback (most recent call last):\nRuntimeError: boom\n",
    )
    buffer = SendBuffer(10)
    buffer.push(
        make_record(
            1,
            ReceiverCall("app.ok", "app", ReceiverStatus.OK, duration=0.0005, result="None"),
            failed,
        )
    )
    buffer.push(make_record(2))
    buffer.drain()
    model = TimelineModel(lambda module: "shop" if module == "app" else "")
    model.sync(buffer)
    model.load_children(model.index(0, 0))
    # Nothing C++ would need the GIL to copy or free: no Python object in a cell.
    values = cell_values(model)
    assert values and {type(v) for v in values} <= {str, int, float, bool, QBrush, Qt.AlignmentFlag}

    # The row's roles live in its first cell, its tooltip on the name.
    send = model.index(0, TimelineModel.TIME)
    call = model.index(1, TimelineModel.TIME, model.index(0, 0))
    send_name = model.index(0, TimelineModel.NAME)
    call_name = model.index(1, TimelineModel.NAME, model.index(0, 0))
    assert [model.index(0, c).data() for c in range(6)] == [
        format_time(1_700_000_000.25),
        "order_created",
        "Order",
        "1.500",
        "1 failed",
        "order=<Order id=1>",
    ]
    assert [model.index(1, c, model.index(0, 0)).data() for c in range(6)] == [
        "",
        "app.boom",
        "shop",
        "1.000",
        "error",
        "RuntimeError: boom",
    ]
    assert (send.data(STATUS_ROLE), send.data(SEQ_ROLE), send.data(PLUGIN_ROLE)) == (
        "1 failed",
        1,
        "",
    )
    assert send.data(TRACEBACK_ROLE) is None
    assert (call.data(STATUS_ROLE), call.data(SEQ_ROLE), call.data(PLUGIN_ROLE)) == (
        "error",
        1,
        "shop",
    )
    assert call.data(TRACEBACK_ROLE) == failed.traceback
    assert (
        call_name.data(Qt.ItemDataRole.ToolTipRole)
        == "RuntimeError: boom\n(click to see the traceback)"
    )
    assert call_name.siblingAtColumn(TimelineModel.STATUS).data(Qt.ItemDataRole.ToolTipRole) == (
        "RuntimeError: boom\n(click to see the traceback)"
    )
    assert (
        send_name.data(Qt.ItemDataRole.ToolTipRole)
        == "#1 order_created from Order, thread worker, send_robust"
    )
    assert (
        model.index(0, TimelineModel.DETAILS).data(Qt.ItemDataRole.ToolTipRole)
        == "order=<Order id=1>"
    )
    for index in (send, call):
        assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
        assert not model.flags(index) & Qt.ItemFlag.ItemIsEditable
    assert (
        model.index(1, TimelineModel.STATUS).data(Qt.ItemDataRole.ForegroundRole) is not None
    )  # no receivers
    assert model.index(0, TimelineModel.DURATION).data(Qt.ItemDataRole.TextAlignmentRole) == RIGHT
    assert (
        model.headerData(
            TimelineModel.DURATION, Qt.Orientation.Horizontal, Qt.ItemDataRole.TextAlignmentRole
        )
        == RIGHT
    )
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(7)] == list(
        TimelineModel.COLUMNS
    )

    assert model.record_at(call) is model.record_at(send) is model.records()[0]
    assert model.call_at(call) is failed and model.call_at(send) is None
    assert model.rowCount(model.index(1, 0)) == 0 and model.record_at(model.index(1, 3)).seq == 2


def test_sync_batches_its_changes_and_rewrites_only_what_changed(qtbot: Any) -> None:
    later = ReceiverCall("app.later", "app", ReceiverStatus.DEFERRED, on_commit=True)
    buffer = SendBuffer(10)
    for record in (make_record(0), make_record(1, later), make_record(2)):
        buffer.push(record)
    buffer.drain()
    model = TimelineModel(max_rows=3)
    model.sync(buffer)
    assert model.index(1, TimelineModel.STATUS).data() == "1 deferred"
    # A send's receivers are written when it is first expanded; until then a
    # placeholder row gives it its expand arrow.
    placeholder = model.index(0, TimelineModel.NAME, model.index(1, 0))
    assert (
        model.rowCount(model.index(1, 0)) == 1 and placeholder.data() == TimelineModel.PLACEHOLDER
    )
    assert model.call_at(placeholder) is None and not model.children_loaded(1)
    model.load_children(model.index(1, 0))
    assert model.children_loaded(1) and model.rowCount(model.index(1, 0)) == 1
    assert model.index(0, TimelineModel.NAME, model.index(1, 0)).data() == "app.later"
    events: list[tuple[str, int, int, int]] = []
    model.rowsRemoved.connect(
        lambda parent, first, last: events.append(("removed", parent.row(), first, last))
    )
    model.rowsInserted.connect(
        lambda parent, first, last: events.append(("inserted", parent.row(), first, last))
    )
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(
        lambda top_left, *_: changed.append((top_left.parent().row(), top_left.row()))
    )

    # The deferred receiver ran and the send gained a call; a new send comes,
    # over the 3 rows shown: the oldest goes.
    later.status, later.duration, later.result = ReceiverStatus.RAN_AFTER_COMMIT, 0.002, "None"
    buffer.records()[1].calls.append(
        ReceiverCall("app.off", "app", ReceiverStatus.SKIPPED_PLUGIN_DISABLED)
    )
    buffer.touch(1)
    buffer.push(
        make_record(
            3,
            ReceiverCall("app.a", "app", ReceiverStatus.OK),
            ReceiverCall("app.b", "app", ReceiverStatus.OK),
        )
    )
    drained = buffer.drain()
    assert model.sync(buffer, drained.updated) == (1, 1)
    assert [r.seq for r in model.records()] == [1, 2, 3]
    assert events == [
        ("removed", -1, 0, 0),
        ("inserted", 0, 1, 1),
        ("inserted", -1, 2, 2),
        ("inserted", 2, 0, 0),
    ]
    # The send that changed and the new one being filled; not the send in between.
    assert {row for parent, row in changed if parent == -1} == {0, 2}
    assert {row for parent, row in changed if parent == 0} == {
        0,
        1,
    }  # the call that ran, the new one
    assert {parent for parent, _row in changed} == {-1, 0, 2}  # 2: its placeholder
    sent = model.index(0, 0)
    assert model.index(0, TimelineModel.STATUS).data() == "ok"
    assert (
        model.index(0, TimelineModel.STATUS).data(Qt.ItemDataRole.ForegroundRole) is None
    )  # not blue any more
    assert [model.index(r, TimelineModel.STATUS, sent).data() for r in range(2)] == [
        "ran after commit",
        ReceiverStatus.SKIPPED_PLUGIN_DISABLED,
    ]
    assert model.index(0, TimelineModel.DURATION, sent).data() == "2.000"
    assert model.call_at(model.index(1, 0, sent)).receiver == "app.off"

    changed.clear()
    model.sync(buffer, {1})  # touched again, nothing new to show: nothing repaints
    assert changed == []

    rebuilt: list[bool] = []
    model.rebuilt.connect(lambda: rebuilt.append(True))
    model.set_filter(lambda record: bool(record.calls), buffer)
    assert [r.seq for r in model.records()] == [1, 3] and rebuilt == [True]
    assert [model.rowCount(model.index(r, 0)) for r in range(2)] == [1, 1]  # placeholders
    for row in range(2):
        model.load_children(model.index(row, 0))
    assert [model.rowCount(model.index(r, 0)) for r in range(2)] == [2, 2]


def test_a_receiver_has_the_colours_of_the_outcome_its_status_leads_to(qtbot: Any) -> None:
    for status in ReceiverStatus:
        kind, _phrase = summarise(make_record(1, ReceiverCall("app.r", "app", status)))
        assert status_colours(status) == OUTCOME_COLOURS[kind], status

    def names(kind: Outcome) -> tuple[str | None, str | None]:
        return tuple(None if b is None else b.color().name() for b in OUTCOME_COLOURS[kind])

    assert names(Outcome.FAILED) == ("#f8d7da", "#842029")
    assert names(Outcome.DROPPED) == ("#fff3cd", "#664d03")
    assert names(Outcome.DEFERRED) == (None, "#0b5394")
    assert names(Outcome.OK) == (None, None)
    for quiet in (Outcome.SKIPPED, Outcome.NO_RECEIVERS, Outcome.MUTED):
        assert names(quiet) == (None, "#6c757d")
