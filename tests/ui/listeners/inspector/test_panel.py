"""The inspector's panel: details and tracebacks on click, filters, pause,
clear and export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFileDialog, QLabel, QPlainTextEdit, QPushButton

from storeapp.domain.signals import order_created
from storeapp.listeners.inspector.timeline import TimelineModel
from tests.ui.conftest import click, find
from tests.ui.listeners.inspector.helpers import (
    MARKER,
    big_dock,
    child,
    customer,
    inspector,
    marker,
    markers,
    order_settled,
    place_order,
    send_marker_and_wait,
    sends,
    timeline,
)


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


def test_filters_by_signal_and_by_plugin(qtbot: Any, window: Any) -> None:
    customer(qtbot, window)
    place_order(qtbot, window)
    model = timeline(window)
    plugin = inspector(window)
    qtbot.waitUntil(lambda: len(sends(model, "order_created")) == 1)
    # The two emails' durable deliveries (rows of their own) are in, too.
    qtbot.waitUntil(lambda: len(sends(model, deliveries=True)) - len(sends(model)) == 2)
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
    # (the email's durable delivery may show up as a second order_created row)
    (order,) = [s for s in sent if s["signal"] == "order_created" and s["via"] == "send_robust"]
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
