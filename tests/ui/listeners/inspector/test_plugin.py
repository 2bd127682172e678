"""The inspector plugin: on by default, its observer attached only while
enabled, disabled plugins shown as skipped, secrets never shown, sends
from any thread; and the plugin without a window."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QPlainTextEdit, QPushButton, QTreeView
from sqlalchemy import select

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverStatus, Signal
from storeapp.domain.models import User
from storeapp.listeners.api import (
    HeadlessHost,
    ListenerPlugin,
    PluginRecord,
    PluginState,
    plugin_state_changed,
)
from storeapp.listeners.inspector.plugin import InspectorPlugin
from storeapp.listeners.inspector.recorder import DEFAULT_MAX_SENDS
from tests.ui.conftest import ThreadWitness, find, order_from_worker_thread, register
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


def test_the_inspector_is_on_by_default_with_its_dock_and_observer(window: Any) -> None:
    record = window.manager.record("inspector")
    assert record.enabled and record.title == "Signal inspector"
    assert find(window, QDockWidget, "signalInspectorDock").isVisible()
    assert dispatch.get_observer() is inspector(window).observer
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
    assert dispatch.get_observer() is plugin.observer
    assert find(window, QDockWidget, "signalInspectorDock").isVisible()
    send_marker_and_wait(qtbot, window, 2)
    assert markers(timeline(window)) == ["n=0", "n=2"]


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


# -- the plugin without a window ------------------------------------------------


def test_the_plugin_observes_sends_only_while_enabled(tmp_path: Any) -> None:
    plugin = InspectorPlugin(HeadlessHost(store=None, data_dir=tmp_path), max_sends=5)
    probe = Signal("a probe", name="probe")
    seen: list[Any] = []

    def receiver(sender: Any, **kwargs: Any) -> str:
        seen.append(kwargs)
        return "fine"

    probe.connect(receiver, weak=False)
    try:
        plugin.ready()
        assert dispatch.get_observer() is plugin.observer
        for i in range(8):
            probe.send_robust("me", n=i)
        assert len(plugin.buffer) == 5  # bounded; the headless host flushes at once
        last = plugin.buffer.records()[-1]
        assert last.signal == "probe" and last.kwargs == "n=7"
        assert [(c.status, c.result) for c in last.calls] == [("ok", "'fine'")]
        plugin.shutdown()
        assert dispatch.get_observer() is None
        probe.send_robust("me", n=99)
        assert plugin.buffer.records()[-1].kwargs == "n=7"
        assert len(seen) == 9  # the receiver itself never noticed
    finally:
        probe.disconnect(receiver)
        dispatch.set_observer(None)


def test_shutdown_leaves_someone_elses_observer_alone(tmp_path: Any) -> None:
    plugin = InspectorPlugin(HeadlessHost(store=None, data_dir=tmp_path))
    assert plugin.buffer.maxlen == DEFAULT_MAX_SENDS
    other = object()
    try:
        plugin.ready()
        dispatch.set_observer(other)
        plugin.shutdown()
        assert dispatch.get_observer() is other
    finally:
        dispatch.set_observer(None)


def test_the_max_sends_setting_sizes_the_buffer(tmp_path: Any) -> None:
    host = HeadlessHost(store=None, data_dir=tmp_path, settings={"inspector/max_sends": "50"})
    plugin = InspectorPlugin(host)
    assert plugin.buffer.maxlen == 50
    assert plugin.view_rows == 50  # never more rows than sends kept
    host.settings.update({"inspector/max_sends": "lots", "inspector/view_rows": "300"})
    plugin = InspectorPlugin(host)
    assert (plugin.buffer.maxlen, plugin.view_rows) == (DEFAULT_MAX_SENDS, 300)


class Listener(ListenerPlugin):
    name = "listener"
    listens_to = ("probe",)


class Broken(ListenerPlugin):
    name = "broken"
    listens_to = ("probe", "other")


class Working(ListenerPlugin):
    name = "working"
    listens_to = ("probe",)


class DirectoryHost(HeadlessHost):
    """A host that knows the plugins only through the PluginHost protocol,
    with no manager behind it (as another application's host might)."""

    def __init__(self, data_dir: Path, records: list[PluginRecord], modules: dict[str, str]):
        super().__init__(store=None, data_dir=data_dir)  # type: ignore[arg-type]
        self.records, self.modules = records, modules

    def plugin_records(self) -> list[PluginRecord]:
        return list(self.records)

    def plugin_for_module(self, module: str) -> str | None:
        return self.modules.get(module)


def test_the_plugin_learns_who_is_who_from_its_host_alone(tmp_path: Path) -> None:
    off = PluginRecord("listener", PluginState.DISABLED, cls=Listener)
    broken = PluginRecord("broken", PluginState.FAILED, cls=Broken)
    working = PluginRecord("working", PluginState.ENABLED, cls=Working)
    host = DirectoryHost(tmp_path, [off, broken, working], {"shop.listener": "listener"})
    plugin = InspectorPlugin(host)
    probe = Signal("a probe", name="probe")
    try:
        plugin.ready()
        probe.send_robust("me")
        assert [(c.receiver, c.status) for c in plugin.buffer.records()[-1].calls] == [
            (f"{__name__}.Listener", ReceiverStatus.SKIPPED_PLUGIN_DISABLED),
            (f"{__name__}.Broken", ReceiverStatus.SKIPPED_PLUGIN_FAILED),
        ]
        off.state = PluginState.ENABLED  # and the host's manager says so:
        plugin_state_changed.send_robust(object(), record=off)
        probe.send_robust("me")
        assert [c.receiver for c in plugin.buffer.records()[-1].calls] == [f"{__name__}.Broken"]
    finally:
        plugin.shutdown()
        dispatch.set_observer(None)
    assert plugin.plugin_of("shop.listener") == "listener"
    assert plugin.plugin_of("storeapp.ui.main_window") == "window"
    assert plugin.plugin_of("storeapp.listeners.manager") == "plugin manager"
    assert plugin.plugin_of("elsewhere") == ""
