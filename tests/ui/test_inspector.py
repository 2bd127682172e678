"""The signal inspector in the real window: wiring, timeline, and its limits."""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QBrush, QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTreeView,
)
from sqlalchemy import select

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord, Signal
from storeapp.domain.models import Product, User
from storeapp.domain.signals import order_created, post_save
from storeapp.listeners.api import RIGHT, CellModel
from storeapp.listeners.inspector import (
    NO_RECEIVERS_ROLE,
    PLUGIN_ROLE,
    SEQ_ROLE,
    SKIPPED_PLUGIN_DISABLED,
    STATUS_ROLE,
    TRACEBACK_ROLE,
    VIEW_BATCH,
    InspectorPlugin,
    SendBuffer,
    TimelineModel,
    format_time,
)
from tests.ui.conftest import (
    ThreadWitness,
    add_to_cart,
    click,
    find,
    order_from_worker_thread,
    register,
)

PASSWORD = "correct-horse-9"
MARKER = "inspector_test_marker"

#: A signal of the test's own: sending it and waiting for its row proves the
#: timeline has caught up with everything sent before it.
marker = Signal("A test's marker.", name=MARKER)


# -- helpers -------------------------------------------------------------------


def inspector(window: Any) -> InspectorPlugin:
    return window.manager.record("inspector").plugin


def timeline(window: Any) -> TimelineModel:
    model = find(window, QTreeView, "inspectorTimeline").model()
    assert isinstance(model, TimelineModel)
    return model


def sends(model: TimelineModel, signal: str | None = None) -> list[dict[str, Any]]:
    """Every top-level row as text, with its children."""
    out = []
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        model.load_children(parent)  # what expanding the send in the view does
        cells = [model.index(row, c).data() for c in range(model.columnCount())]
        if signal is not None and cells[TimelineModel.NAME] != signal:
            continue
        children = []
        for child in range(model.rowCount(parent)):
            texts = [model.index(child, c, parent).data() for c in range(model.columnCount())]
            children.append(
                {
                    "receiver": texts[TimelineModel.NAME],
                    "plugin": texts[TimelineModel.SOURCE],
                    "duration": texts[TimelineModel.DURATION],
                    "status": texts[TimelineModel.STATUS],
                    "details": texts[TimelineModel.DETAILS],
                    "row": child,
                }
            )
        out.append(
            {
                "row": row,
                "time": cells[TimelineModel.TIME],
                "signal": cells[TimelineModel.NAME],
                "sender": cells[TimelineModel.SOURCE],
                "duration": cells[TimelineModel.DURATION],
                "outcome": cells[TimelineModel.STATUS],
                "kwargs": cells[TimelineModel.DETAILS],
                "children": children,
            }
        )
    return out


def child(send: dict[str, Any], receiver_suffix: str) -> dict[str, Any]:
    found = [c for c in send["children"] if c["receiver"].endswith(receiver_suffix)]
    assert len(found) == 1, (receiver_suffix, send["children"])
    return found[0]


def markers(model: TimelineModel) -> list[str]:
    return [s["kwargs"] for s in sends(model, MARKER)]


def send_marker_and_wait(qtbot: Any, window: Any, n: int = 0) -> None:
    marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: f"n={n}" in markers(timeline(window)))


def wiring(window: Any) -> dict[str, dict[str, Any]]:
    """The wiring view as {signal: {"flag": text, "empty": bool, "receivers": [...]}}."""
    model = find(window, QTreeView, "inspectorWiring").model()
    out: dict[str, dict[str, Any]] = {}
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        receivers = []
        for r in range(model.rowCount(parent)):
            name, plugin, sender, ref, when, uid = (
                model.index(r, c, parent).data() for c in range(model.columnCount())
            )
            receivers.append(
                {
                    "name": name,
                    "plugin": plugin,
                    "sender": sender,
                    "ref": ref,
                    "when": when,
                    "uid": uid,
                }
            )
        out[parent.data()] = {
            "flag": model.index(row, 1).data(),
            "empty": bool(parent.data(NO_RECEIVERS_ROLE)),
            "foreground": parent.data(Qt.ItemDataRole.ForegroundRole),
            "receivers": receivers,
        }
    return out


def receiver_names(window: Any, signal: str) -> list[str]:
    return [r["name"] for r in wiring(window)[signal]["receivers"]]


def audit(sender: Any, **kwargs: Any) -> None:
    """A receiver connected by the tests, outside any plugin."""


def audit_rows(window: Any) -> list[dict[str, Any]]:
    return [r for r in wiring(window)["post_save"]["receivers"] if r["uid"] == "test.audit"]


def wiring_caught_up(window: Any) -> bool:
    """True once the refresh scheduled at start-up ran (the window's receivers show)."""
    return any(r["plugin"] == "window" for r in wiring(window)["order_created"]["receivers"])


def place_order(qtbot: Any, window: Any, sku: str = "COF-250", quantity: int = 1) -> None:
    add_to_cart(qtbot, window, sku, quantity)
    click(qtbot, window, "checkoutButton")


def customer(qtbot: Any, window: Any, name: str = "ada") -> None:
    register(qtbot, window, name, f"{name}@example.com", PASSWORD)
    assert window.current_user_id() is not None


def settled(send: dict[str, Any]) -> bool:
    return not any(c["status"] == "deferred" for c in send["children"])


def order_settled(model: TimelineModel) -> bool:
    orders = sends(model, "order_created")
    return len(orders) == 1 and settled(orders[0])


def big_dock(qtbot: Any, window: Any) -> QTreeView:
    """Float the inspector's dock at a comfortable size (clicks need room)."""
    dock = find(window, QDockWidget, "signalInspectorDock")
    dock.setFloating(True)
    dock.resize(1300, 800)
    view = find(window, QTreeView, "inspectorTimeline")
    qtbot.waitUntil(lambda: view.isVisible() and view.viewport().height() > 200)
    return view


# -- enabled by default ------------------------------------------------------------


def test_the_inspector_is_on_by_default_with_its_dock_and_observer(window: Any) -> None:
    record = window.manager.record("inspector")
    assert record.enabled and record.title == "Signal inspector"
    assert find(window, QDockWidget, "signalInspectorDock").isVisible()
    assert dispatch.get_observer() is inspector(window)._observer
    for cls, name in (
        (QComboBox, "inspectorSignalFilter"),
        (QComboBox, "inspectorPluginFilter"),
        (QPushButton, "inspectorPause"),
        (QPushButton, "inspectorClear"),
        (QPushButton, "inspectorExport"),
        (QPlainTextEdit, "inspectorTraceback"),
        (QTreeView, "inspectorWiring"),
        (QTreeView, "inspectorTimeline"),
    ):
        find(window, cls, name)
    assert find(window, QPushButton, "inspectorPause").isCheckable()


# -- wiring ------------------------------------------------------------------------


def test_the_wiring_view_lists_every_signal_with_its_receivers(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    view = wiring(window)
    assert list(view) == [
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "user_registered",
        "order_created",
        "order_cancelled",
        "plugin_state_changed",
        "receiver_failed",
    ]

    welcome = [r for r in view["user_registered"]["receivers"] if r["plugin"] == "email_log"]
    assert welcome == [
        {
            "name": "storeapp.listeners.email_log.EmailLogPlugin._on_user_registered",
            "plugin": "email_log",
            "sender": "any",
            "ref": "strong",
            "when": "on commit",
            "uid": "email_log:storeapp.listeners.email_log.EmailLogPlugin._on_user_registered:None",
        }
    ]
    by_name = {r["name"]: r for r in view["order_created"]["receivers"]}
    assert (
        by_name["storeapp.listeners.email_log.EmailLogPlugin._on_order_created"]["when"]
        == "on commit"
    )
    core = by_name["storeapp.listeners.core.on_order_created"]
    assert (core["plugin"], core["when"], core["uid"]) == (
        "core",
        "immediate",
        "core.on_order_created",
    )
    assert (
        by_name["storeapp.listeners.analytics.AnalyticsPlugin._on_order_created"]["sender"]
        == "Order"
    )
    ui = by_name["storeapp.ui.till.till.Till._on_orders_changed"]
    assert (ui["plugin"], ui["ref"], ui["uid"]) == ("window", "weak", "ui.orders")

    customer_for_user = [
        r
        for r in view["post_save"]["receivers"]
        if r["name"] == "storeapp.listeners.core.create_customer_for_new_user"
    ]
    assert customer_for_user and customer_for_user[0]["sender"] == "User"
    assert customer_for_user[0]["plugin"] == "core"
    assert {"inspector", "window"} <= {
        r["plugin"] for r in view["plugin_state_changed"]["receivers"]
    }
    assert "plugin manager" in {r["plugin"] for r in view["receiver_failed"]["receivers"]}

    # Nobody listens to pre_save: flagged, in grey.
    assert view["pre_save"] == {
        **view["pre_save"],
        "flag": "no receivers",
        "empty": True,
        "receivers": [],
    }
    assert view["pre_save"]["foreground"] is not None
    assert view["order_created"]["flag"] == f"{len(by_name)} receivers"
    assert not view["order_created"]["empty"] and view["order_created"]["foreground"] is None


def test_the_wiring_view_follows_plugins_being_toggled(qtbot: Any, window: Any) -> None:
    email_receiver = "storeapp.listeners.email_log.EmailLogPlugin._on_order_created"
    qtbot.waitUntil(lambda: email_receiver in receiver_names(window, "order_created"))
    window.set_plugin_enabled("email_log", False)
    qtbot.waitUntil(lambda: email_receiver not in receiver_names(window, "order_created"))
    assert not any(
        r["plugin"] == "email_log" for s in wiring(window).values() for r in s["receivers"]
    )
    window.set_plugin_enabled("email_log", True)
    qtbot.waitUntil(lambda: email_receiver in receiver_names(window, "order_created"))
    assert any(r["plugin"] == "email_log" for r in wiring(window)["user_registered"]["receivers"])


def test_the_refresh_button_shows_what_is_connected_now(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    post_save.connect(audit, sender=Product, weak=False, dispatch_uid="test.audit")
    try:
        assert audit_rows(window) == []
        click(qtbot, window, "inspectorWiringRefresh")  # no waiting: the button does it now
        assert audit_rows(window) == [
            {
                "name": f"{__name__}.audit",
                "plugin": "",
                "sender": "Product",
                "ref": "strong",
                "when": "immediate",
                "uid": "test.audit",
            }
        ]
    finally:
        post_save.disconnect(sender=Product, dispatch_uid="test.audit")


def test_the_wiring_view_follows_receivers_connected_outside_plugins(
    qtbot: Any, window: Any
) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    assert wiring(window)["pre_save"]["empty"]
    post_save.connect(audit, sender=Product, weak=False, dispatch_uid="test.audit")
    try:
        qtbot.waitUntil(lambda: len(audit_rows(window)) == 1)
    finally:
        post_save.disconnect(sender=Product, dispatch_uid="test.audit")
    qtbot.waitUntil(lambda: audit_rows(window) == [])


# -- the timeline ----------------------------------------------------------------------


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


def test_a_failing_receiver_shows_its_error_and_its_traceback_on_click(
    qtbot: Any, window: Any
) -> None:
    def boom(sender: Any, order: Any, **kwargs: Any) -> None:
        raise RuntimeError(f"boom for order #{order.id}")

    customer(qtbot, window)
    order_created.connect(boom, weak=False, dispatch_uid="test.boom")
    try:
        place_order(qtbot, window)
    finally:
        order_created.disconnect(dispatch_uid="test.boom")
    order = window.store.list_orders()[0]  # the order went through
    model = timeline(window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 1)
    send = sends(model, "order_created")[0]
    failed = child(send, "boom")
    assert failed["status"] == "error"
    assert failed["details"] == f"RuntimeError: boom for order #{order.id}"
    assert failed["plugin"] == ""
    assert send["outcome"].startswith("1 failed")
    assert child(send, "core.on_order_created")["status"] == "ok"  # the others still ran
    qtbot.waitUntil(lambda: any("boom" in s["kwargs"] for s in sends(model, "receiver_failed")))

    view = big_dock(qtbot, window)
    parent = model.index(send["row"], 0)
    index = model.index(failed["row"], TimelineModel.STATUS, parent)
    assert model.index(send["row"], 0).data(Qt.ItemDataRole.BackgroundRole) is not None
    view.expand(parent)
    view.scrollTo(index)
    pane = find(window, QPlainTextEdit, "inspectorTraceback")
    assert "Traceback" not in pane.toPlainText()
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )
    text = pane.toPlainText()
    assert "Traceback (most recent call last)" in text
    assert f"RuntimeError: boom for order #{order.id}" in text
    assert "in boom" in text
    assert pane.isVisible()


def test_a_disabled_plugin_shows_as_skipped_in_each_send_it_would_have_heard(
    qtbot: Any, window: Any
) -> None:
    customer(qtbot, window)
    window.set_plugin_enabled("analytics", False)
    place_order(qtbot, window)
    model = timeline(window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 1)
    send = sends(model, "order_created")[0]
    analytics = child(send, "AnalyticsPlugin")
    assert analytics == {
        **analytics,
        "plugin": "analytics",
        "status": "skipped: plugin disabled",
        "duration": "",
        "details": "",
    }
    assert not any(
        c["receiver"].endswith("_on_order_created") and c["plugin"] == "analytics"
        for c in send["children"]
    )
    window.set_plugin_enabled("analytics", True)
    place_order(qtbot, window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 2)
    second = sends(model, "order_created")[1]
    qtbot.waitUntil(lambda: settled(sends(model, "order_created")[1]))
    assert child(second, "AnalyticsPlugin._on_order_created")["plugin"] == "analytics"


def test_filters_by_signal_and_by_plugin(qtbot: Any, window: Any) -> None:
    customer(qtbot, window)
    place_order(qtbot, window)
    model = timeline(window)
    plugin = inspector(window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 1)
    everything = model.rowCount()
    signal_filter = find(window, QComboBox, "inspectorSignalFilter")
    plugin_filter = find(window, QComboBox, "inspectorPluginFilter")

    signal_filter.setCurrentIndex(signal_filter.findData("order_created"))
    assert [s["signal"] for s in sends(model)] == ["order_created"]
    marker.send_robust("test", n=1)  # arrives while filtered: not shown
    qtbot.waitUntil(
        lambda: plugin.buffer.pending_count() == 0 and plugin.buffer.records()[-1].signal == MARKER
    )
    assert [s["signal"] for s in sends(model)] == ["order_created"]

    signal_filter.setCurrentIndex(0)
    plugin_filter.setCurrentIndex(plugin_filter.findData("email_log"))
    shown = sends(model)
    assert {s["signal"] for s in shown} == {"user_registered", "order_created"}
    assert all(any(c["plugin"] == "email_log" for c in s["children"]) for s in shown)

    plugin_filter.setCurrentIndex(plugin_filter.findData("core"))
    assert {s["signal"] for s in sends(model)} == {"post_save", "order_created"}

    plugin_filter.setCurrentIndex(0)
    assert model.rowCount() == everything + 1 == len(plugin.buffer)
    assert markers(model) == ["n=1"]


def test_pause_freezes_the_view_and_resume_catches_up(qtbot: Any, window: Any) -> None:
    model = timeline(window)
    plugin = inspector(window)
    send_marker_and_wait(qtbot, window, 0)
    pause = find(window, QPushButton, "inspectorPause")
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert pause.isChecked() and plugin.paused
    rows = model.rowCount()
    for n in range(1, 6):
        marker.send_robust("test", n=n)
    # Still recorded while paused...
    qtbot.waitUntil(
        lambda: (
            plugin.buffer.pending_count() == 0
            and [r.kwargs for r in plugin.buffer.records()][-5:] == [f"n={n}" for n in range(1, 6)]
        )
    )
    # ...but the view is frozen.
    assert model.rowCount() == rows and markers(model) == ["n=0"]
    assert find(window, QLabel, "inspectorCount").text().startswith("Paused, 5 new")
    qtbot.mouseClick(pause, Qt.MouseButton.LeftButton)
    assert not plugin.paused
    assert markers(model) == [f"n={n}" for n in range(6)]  # caught up at once
    assert model.rowCount() == rows + 5


def test_clear_empties_the_timeline_and_recording_goes_on(qtbot: Any, window: Any) -> None:
    model = timeline(window)
    send_marker_and_wait(qtbot, window, 0)
    assert model.rowCount() > 1
    click(qtbot, window, "inspectorClear")
    assert model.rowCount() == 0 and len(inspector(window).buffer) == 0
    send_marker_and_wait(qtbot, window, 1)
    assert markers(model) == ["n=1"] and model.rowCount() == 1


def test_export_writes_one_json_line_per_send_with_its_calls(
    qtbot: Any, window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(sender: Any, **kwargs: Any) -> None:
        raise ValueError("no printer")

    customer(qtbot, window)
    order_created.connect(boom, weak=False, dispatch_uid="test.boom")
    try:
        place_order(qtbot, window)
    finally:
        order_created.disconnect(dispatch_uid="test.boom")
    model = timeline(window)
    qtbot.waitUntil(lambda: order_settled(model))
    path = tmp_path / "signals.jsonl"
    count = inspector(window).export_jsonl(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert count == len(lines) == len(inspector(window).buffer) > 5
    sent = [json.loads(line) for line in lines]
    assert [s["seq"] for s in sent] == [r.seq for r in inspector(window).buffer.records()]
    (order,) = [s for s in sent if s["signal"] == "order_created"]
    calls = {c["receiver"].rsplit(".", 1)[-1]: c for c in order["calls"]}
    assert (calls["on_order_created"]["plugin"], calls["on_order_created"]["status"]) == (
        "core",
        "ok",
    )
    assert calls["_on_order_created"]["status"] == "ran after commit"
    assert calls["_on_order_created"]["on_commit"] is True
    assert calls["boom"]["status"] == "error" and calls["boom"]["error"] == "ValueError: no printer"
    assert "Traceback (most recent call last)" in calls["boom"]["traceback"]
    assert order["failed"] is True and order["sender"] == "Order"
    assert order["kwargs"].startswith("order=<Order id=")

    chosen = tmp_path / "from-the-button.jsonl"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(chosen), ""))
    )
    click(qtbot, window, "inspectorExport")
    assert len(chosen.read_text(encoding="utf-8").splitlines()) >= count


def test_the_ring_buffer_is_bounded_by_the_setting_and_memory_stays_flat(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    settings = QSettings(str(tmp_path / "data" / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("inspector/max_sends", 50)
    settings.sync()
    window = make_window()
    plugin = inspector(window)
    model = timeline(window)
    assert plugin.buffer.maxlen == 50
    inserts: list[int] = []
    model.rowsInserted.connect(
        lambda parent, first, last: None if parent.isValid() else inserts.append(last - first + 1)
    )

    def alive_markers() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is SendRecord and o.signal == MARKER)

    for n in range(200):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=199" in markers(model))
    # 200 sends, of which the newest 50 are kept: shown in batches of at most
    # VIEW_BATCH (a bounded slice of GUI time each), never one per event.
    assert sum(inserts) == 50 and max(inserts) <= VIEW_BATCH
    assert model.rowCount() == len(plugin.buffer) == 50
    assert markers(model) == [f"n={n}" for n in range(150, 200)]
    assert len(plugin.buffer._where) == 50
    after_200 = alive_markers()
    assert after_200 <= 50

    for n in range(200, 600):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=599" in markers(model))
    assert model.rowCount() == 50 and markers(model)[0] == "n=550"
    assert alive_markers() == after_200  # flat


def test_a_long_timeline_shows_the_newest_sends_and_updates_less_often(
    qtbot: Any, window: Any
) -> None:
    plugin = inspector(window)
    model = timeline(window)
    assert (plugin.buffer.maxlen, plugin.view_rows) == (10_000, 2_000)
    assert plugin.view_interval() == pytest.approx(0.05)  # a short timeline: every flush
    batches: list[int] = []
    model.rowsInserted.connect(
        lambda parent, first, last: None if parent.isValid() else batches.append(last - first + 1)
    )
    for n in range(6000):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=5999" in markers(model))
    # Only the newest are shown, added in batches of at most VIEW_BATCH: the
    # event loop runs between them.
    assert sum(batches) == 2000 and max(batches) <= VIEW_BATCH
    assert model.rowCount() == 2000 and markers(model)[0] == "n=4000"
    assert len([r for r in plugin.buffer.records() if r.signal == MARKER]) == 6000  # all recorded
    assert "2,000 shown (the newest)" in find(window, QLabel, "inspectorCount").text()
    # A tree view lays every row out again after an insertion: the longer
    # the timeline, the less often it catches up (~50 us a row).
    plugin.set_view_rows(5000)
    assert model.rowCount() == 5000 and markers(model)[0] == "n=1000"
    assert plugin.view_interval() == pytest.approx(0.25)
    updates = plugin.view_updates
    for n in range(6000, 6100):
        marker.send_robust("test", n=n)
        if n % 10 == 0:
            window.bridge.flush_now()  # a flush per 10 sends: far more than the view takes
    qtbot.waitUntil(lambda: "n=6099" in markers(model))
    assert plugin.view_updates - updates <= 3
    assert model.rowCount() == 5000 and plugin.buffer.pending_count() == 0


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
        "error",
        duration=0.001,
        error="RuntimeError: boom",
        traceback="Traceback (most recent call last):\nRuntimeError: boom\n",
    )
    buffer = SendBuffer(10)
    buffer.push(
        make_record(1, ReceiverCall("app.ok", "app", "ok", duration=0.0005, result="None"), failed)
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
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(6)] == list(
        TimelineModel.COLUMNS
    )

    assert model.record_at(call) is model.record_at(send) is model.records()[0]
    assert model.call_at(call) is failed and model.call_at(send) is None
    assert model.rowCount(model.index(1, 0)) == 0 and model.record_at(model.index(1, 3)).seq == 2


def test_sync_batches_its_changes_and_rewrites_only_what_changed(qtbot: Any) -> None:
    later = ReceiverCall("app.later", "app", "deferred", on_commit=True)
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
    buffer.records()[1].calls.append(ReceiverCall("app.off", "app", SKIPPED_PLUGIN_DISABLED))
    buffer.touch(1)
    buffer.push(
        make_record(3, ReceiverCall("app.a", "app", "ok"), ReceiverCall("app.b", "app", "ok"))
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
        SKIPPED_PLUGIN_DISABLED,
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


def test_disabling_the_inspector_detaches_the_observer_and_enabling_reattaches_it(
    qtbot: Any, window: Any
) -> None:
    plugin = inspector(window)
    send_marker_and_wait(qtbot, window, 0)
    window.set_plugin_enabled("inspector", False)
    assert dispatch.get_observer() is None  # dispatch's fast path
    assert not find(window, QDockWidget, "signalInspectorDock").isVisible()
    marker.send_robust("test", n=1)
    window.bridge.flush_now()
    assert [r.kwargs for r in plugin.buffer.records() if r.signal == MARKER] == ["n=0"]
    window.set_plugin_enabled("inspector", True)
    assert dispatch.get_observer() is plugin._observer
    assert find(window, QDockWidget, "signalInspectorDock").isVisible()
    send_marker_and_wait(qtbot, window, 2)
    assert markers(timeline(window)) == ["n=0", "n=2"]


def test_a_password_never_shows_in_the_timeline_the_wiring_or_the_export(
    qtbot: Any, window: Any, tmp_path: Path
) -> None:
    secret = "Tr0ub4dor&3-never-shown"
    register(qtbot, window, "grace", "grace@example.com", secret)
    place_order(qtbot, window)
    model = timeline(window)
    qtbot.waitUntil(
        lambda: (
            order_settled(model)
            and bool(sends(model, "user_registered"))
            and all(settled(s) for s in sends(model))
        )
    )
    assert window.store.authenticate("grace", secret) is not None
    with window.store.engine.connect() as conn:
        hashed = conn.scalar(select(User.password_hash).where(User.username == "grace"))
    secrets = [secret, hashed, repr(secret)[1:-1]]

    texts: list[str] = []
    roles = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole)

    def walk(m: Any, parent: QModelIndex = QModelIndex()) -> None:
        for row in range(m.rowCount(parent)):
            for column in range(m.columnCount(parent)):
                index = m.index(row, column, parent)
                texts.extend(str(index.data(role)) for role in roles)
            walk(m, m.index(row, 0, parent))

    walk(model)
    walk(find(window, QTreeView, "inspectorWiring").model())
    details = find(window, QPlainTextEdit, "inspectorTraceback")
    panel = inspector(window).panel
    for row in range(model.rowCount()):
        panel.show_details(model.index(row, 0))
        texts.append(details.toPlainText())
    path = tmp_path / "export.jsonl"
    inspector(window).export_jsonl(path)
    texts.append(path.read_text(encoding="utf-8"))
    everything = "\n".join(texts)
    assert "grace" in everything  # the user is there...
    for value in secrets:
        assert value not in everything, "a password (or its hash) is shown"  # never


def test_sends_from_a_worker_thread_update_the_timeline_on_the_gui_thread(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    witness = ThreadWitness(window)
    order_from_worker_thread(qtbot, window, 20)
    model = timeline(window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 20, timeout=10000)
    qtbot.waitUntil(lambda: all(settled(s) for s in sends(model, "order_created")))
    orders = sends(model, "order_created")
    assert all(s["outcome"] == "ok" for s in orders)
    assert all(
        child(s, "EmailLogPlugin._on_order_created")["status"] == "ran after commit" for s in orders
    )
    assert witness.events > 0
    assert witness.foreign == []
