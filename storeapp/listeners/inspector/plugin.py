"""The signal inspector plugin: who listens to what, and what every send did.

Two views in one dock (:mod:`.panel`):

* **Wiring** (:mod:`.wiring`): every signal of the app (the domain's
  ``ALL_SIGNALS``, ``plugin_state_changed`` and ``receiver_failed``) with
  each connected receiver. It follows plugins being toggled and receivers
  being connected.
* **Timeline** (:mod:`.timeline`): one row per send with a child row per
  receiver (name, plugin, duration, status, result or exception); plugins
  that are disabled but listen to the signal show as ``skipped: plugin
  disabled``.

While enabled, the plugin attaches a :class:`SendObserver` as the dispatch
observer (:func:`storeapp.domain.dispatch.set_observer`); it queues each
send in the recorder (:mod:`.recorder`) and asks ``host.coalesce`` for one
:meth:`InspectorPlugin.flush`, which drains the queue on the GUI thread and
lets :mod:`.catchup` bring the timeline up to date in slices. Disabled, it
detaches the observer and dispatch runs its fast path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import shiboken6

from storeapp.domain import dispatch
from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord, Signal
from storeapp.domain.signals import ALL_SIGNALS, receiver_failed
from storeapp.listeners.api import (
    DockPlacement,
    ListenerPlugin,
    PluginHost,
    PluginState,
    plugin_state_changed,
)
from storeapp.listeners.inspector.catchup import CatchUp
from storeapp.listeners.inspector.export import write_jsonl
from storeapp.listeners.inspector.panel import InspectorPanel
from storeapp.listeners.inspector.recorder import (
    DEFAULT_MAX_SENDS,
    DEFAULT_VIEW_ROWS,
    MAX_SENDS_SETTING,
    VIEW_ROWS_SETTING,
    SendBuffer,
    count_setting,
    send_filter,
)
from storeapp.listeners.inspector.timeline import TimelineModel
from storeapp.listeners.inspector.wiring import Wiring, WiringModel, current_wiring, wiring_key

__all__ = ["WATCHED_SIGNALS", "InspectorPlugin", "SendObserver"]

logger = logging.getLogger("storeapp.listeners.inspector")

#: Every signal the wiring view lists (and the signal filter offers first).
WATCHED_SIGNALS: tuple[Signal, ...] = (
    *ALL_SIGNALS,
    plugin_state_changed,
    receiver_failed,
)


class SendObserver:
    """The dispatch observer. Called in the sender's thread, so it only
    queues (a lock and an append) and asks for one coalesced flush."""

    __slots__ = ("_buffer", "_wake", "skipped_by_signal")

    def __init__(self, buffer: SendBuffer, wake: Callable[[], None]) -> None:
        self._buffer = buffer
        self._wake = wake
        #: signal name -> ``(receiver, module, status)`` of each receiver of a
        #: plugin that listens to it but is off; replaced whole (any thread).
        self.skipped_by_signal: dict[str, tuple[tuple[str, str, ReceiverStatus], ...]] = {}

    def sent(self, record: SendRecord) -> None:
        skipped = self.skipped_by_signal.get(record.signal)
        if skipped:
            record.calls.extend(
                ReceiverCall(name, module, status) for name, module, status in skipped
            )
        if self._buffer.push(record):
            self._wake()

    def sent_all(self, records: list[SendRecord]) -> None:
        """A send and the sends made inside it, parents first: queued together."""
        for record in records:
            skipped = self.skipped_by_signal.get(record.signal)
            if skipped:
                record.calls.extend(
                    ReceiverCall(name, module, status) for name, module, status in skipped
                )
        if self._buffer.push_all(records):
            self._wake()

    def updated(self, record: SendRecord) -> None:
        if self._buffer.touch(record.seq):
            self._wake()


class InspectorPlugin(ListenerPlugin):
    name = "inspector"
    title = "Signal inspector"
    description = (
        "Shows the wiring (every signal and who listens to it: plugin, sender "
        "filter, weak or strong, immediate or on commit, dispatch_uid) and a live "
        "timeline of every send with each receiver's duration and outcome, "
        "including deferred receivers that ran after the commit or were dropped "
        "by a rollback, and failures with their traceback. Keeps the last "
        "inspector/max_sends sends (default 10,000); filters, pause, clear and "
        "export to JSON lines. While disabled, signals are sent without any "
        "instrumentation."
    )
    listens_to = ("plugin_state_changed",)
    order = 10
    enabled_by_default = True
    panel_object_name = "signalInspectorDock"
    dock = DockPlacement("bottom", slot=1, share=55)

    FLUSH_KEY = "inspector"
    WIRING_KEY = "inspector.wiring"

    def __init__(self, host: PluginHost, *, max_sends: int | None = None) -> None:
        super().__init__(host)
        if max_sends is None:
            max_sends = self._read_count(MAX_SENDS_SETTING, DEFAULT_MAX_SENDS)
        self.buffer = SendBuffer(max_sends)
        self._view_rows = self._read_count(VIEW_ROWS_SETTING, DEFAULT_VIEW_ROWS)
        #: The signals the wiring view lists.
        self.signals: tuple[Signal, ...] = WATCHED_SIGNALS
        #: The dispatch observer, attached while the plugin is enabled.
        self.observer = SendObserver(self.buffer, self._schedule_flush)
        #: When the timeline catches up with the buffer (and whether it is paused).
        self.catch_up = CatchUp(self.buffer, lambda: self.host.call_in_gui(self.flush))
        self._labels: dict[str, str] = {}
        self._shown_wiring: Any = None
        self._shown_choices: list[tuple[str, str]] = []
        self._watching: list[Signal] = []
        self.panel: InspectorPanel | None = None

    # -- the contract -----------------------------------------------------------

    def ready(self) -> None:
        self.connect(plugin_state_changed, self._on_plugin_state_changed)
        self._update_skipped()
        for signal in self.signals:  # a live wiring view: hear every (dis)connect
            signal.receiver_connected.connect(self._on_wiring_changed, weak=False)
            signal.receiver_disconnected.connect(self._on_wiring_changed, weak=False)
            self._watching.append(signal)
        dispatch.set_observer(self.observer)
        self.host.coalesce(self.FLUSH_KEY, self.flush)
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    def shutdown(self) -> None:
        if dispatch.get_observer() is self.observer:
            dispatch.set_observer(None)
        for signal in self._watching:
            signal.receiver_connected.disconnect(self._on_wiring_changed)
            signal.receiver_disconnected.disconnect(self._on_wiring_changed)
        self._watching.clear()
        super().shutdown()

    def create_panel(self) -> InspectorPanel:
        model = TimelineModel(self.plugin_of, max_rows=self.view_rows)
        wiring = WiringModel()
        panel = self.panel = InspectorPanel(self, model, wiring)
        model.setParent(panel)  # found under the window; dies with the panel
        wiring.setParent(panel)
        panel.add_signal_names(s.name for s in self.signals)
        # The timer goes through the host, like every other refresh: timed,
        # and background threads hold back while it runs (host.yield_to_gui).
        self.catch_up.attach(model, panel)
        self._on_plugins_changed()
        self.flush()
        # The window connects its own receivers after the panels: look again soon.
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)
        return panel

    # -- who is who ----------------------------------------------------------------

    def plugin_of(self, module: str) -> str:
        """The plugin a receiver's module belongs to; ``window`` for the
        window's own receivers; ``""`` for anything else (GUI thread)."""
        label = self._labels.get(module)
        if label is None:
            label = self._label_for(module)
            self._labels[module] = label
        return label

    def _label_for(self, module: str) -> str:
        name = self.host.plugin_for_module(module)
        if name:
            return name
        if module == "storeapp.ui" or module.startswith("storeapp.ui."):
            return "window"
        if module == "storeapp.listeners.manager":
            return "plugin manager"
        return ""

    def _update_skipped(self) -> None:
        """Note which plugins are off and what they would hear (any thread)."""
        skipped: dict[str, list[tuple[str, str, ReceiverStatus]]] = {}
        for record in self.host.plugin_records():
            cls = record.cls
            if cls is None or record.name == self.name or record.state == PluginState.ENABLED:
                continue
            status = (
                ReceiverStatus.SKIPPED_PLUGIN_FAILED
                if record.state == PluginState.FAILED
                else ReceiverStatus.SKIPPED_PLUGIN_DISABLED
            )
            entry = (f"{cls.__module__}.{cls.__qualname__}", cls.__module__, status)
            for signal_name in record.listens_to:
                skipped.setdefault(signal_name, []).append(entry)
        self.observer.skipped_by_signal = {k: tuple(v) for k, v in skipped.items()}

    # -- receivers (any thread) ----------------------------------------------------

    def _schedule_flush(self) -> None:
        self.host.coalesce(self.FLUSH_KEY, self.flush)

    def _on_plugin_state_changed(self, sender: Any = None, **kwargs: Any) -> None:
        self._update_skipped()
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    def _on_wiring_changed(self, *args: Any, **kwargs: Any) -> None:
        """A watched signal's blinker receiver_connected / receiver_disconnected."""
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    # -- GUI thread ----------------------------------------------------------------

    @property
    def model(self) -> TimelineModel | None:
        """The timeline's model, while the panel lives."""
        return self.panel.model if self.panel is not None else None

    @property
    def wiring_model(self) -> WiringModel | None:
        return self.panel.wiring_model if self.panel is not None else None

    def _live_panel(self) -> InspectorPanel | None:
        """The panel, or None if there is none or the window deleted it."""
        panel = self.panel
        if panel is not None and not shiboken6.isValid(panel):
            self.panel = panel = None
            self.catch_up.detach()
        return panel

    def _on_plugins_changed(self) -> None:
        """A plugin changed state or a receiver (dis)connected: update the
        wiring view and the plugin filter, if they changed (GUI thread)."""
        self._labels.clear()
        panel = self._live_panel()
        if panel is None:
            return
        if wiring_key(self.wiring(), self.plugin_of) != self._shown_wiring:
            self.refresh_wiring()
        records = self.host.plugin_records()
        choices = [(r.name, r.title if r.enabled else f"{r.title} (off)") for r in records]
        choices.append(("window", "Window"))
        if choices != self._shown_choices:
            self._shown_choices = choices
            panel.set_plugin_choices(choices)

    def wiring(self) -> Wiring:
        """Every watched signal with its connections, now."""
        return current_wiring(self.signals)

    def refresh_wiring(self) -> None:
        """Rebuild the wiring view from the signals' current connections."""
        panel = self._live_panel()
        if panel is None:
            return
        wiring = self.wiring()
        panel.show_wiring(wiring, self.plugin_of)
        self._shown_wiring = wiring_key(wiring, self.plugin_of)

    def flush(self) -> None:
        """Move pending sends into the buffer and let the timeline catch up
        when it is due (GUI thread; the observer schedules it through
        ``host.coalesce``)."""
        drained = self.buffer.drain()
        panel = self._live_panel()
        if panel is None:
            return
        if drained.added:
            panel.add_signal_names(dict.fromkeys(record.signal for _a, record in drained.added))
        self.catch_up.note(drained)
        self.catch_up.due()
        self._update_count()

    def view_interval(self) -> float:
        """Seconds between two view updates (see :meth:`CatchUp.interval`)."""
        return self.catch_up.interval()

    @property
    def view_updates(self) -> int:
        """How many times the timeline caught up with the buffer (tests)."""
        return self.catch_up.updates

    @property
    def paused(self) -> bool:
        return self.catch_up.paused

    def set_paused(self, paused: bool) -> None:
        """Freeze (or unfreeze and catch up) the timeline; recording goes on."""
        paused = bool(paused)
        if paused == self.catch_up.paused:
            return
        self.catch_up.paused = paused
        panel = self._live_panel()
        if panel is not None:
            panel.show_paused(paused)
        if not paused:
            self.flush()
            if self._live_panel() is not None:
                self.catch_up.sync()  # at once: new rows, evictions, what changed meanwhile
        self._update_count()

    def clear(self) -> None:
        """Forget every recorded send and empty the timeline."""
        self.buffer.clear()
        self.catch_up.forget_changes()
        panel = self._live_panel()
        if panel is not None:
            panel.model.rebuild(self.buffer)
            panel.details.clear()
        self._update_count()

    @property
    def view_rows(self) -> int:
        """How many sends the timeline shows at most (the newest ones)."""
        return min(self._view_rows, self.buffer.maxlen)

    def set_max_sends(self, max_sends: int) -> None:
        """Change how many sends are kept (the oldest go first) and remember it."""
        self.buffer.resize(count_setting(max_sends, DEFAULT_MAX_SENDS))
        self._remember(MAX_SENDS_SETTING, self.buffer.maxlen)
        self._resize_view()

    def set_view_rows(self, rows: int) -> None:
        """Change how many sends the timeline shows at most, and remember it."""
        self._view_rows = count_setting(rows, DEFAULT_VIEW_ROWS)
        self._remember(VIEW_ROWS_SETTING, self._view_rows)
        self._resize_view()

    def _resize_view(self) -> None:
        panel = self._live_panel()
        if panel is not None:
            model = panel.model
            grows = self.view_rows > model.max_rows
            model.max_rows = self.view_rows
            if grows:  # older sends the view had dropped come back
                model.rebuild(self.buffer, model.synced_to if self.paused else None)
            elif not self.paused:
                self.catch_up.sync()
        self._update_count()

    def _read_count(self, key: str, default: int) -> int:
        try:
            return count_setting(self.host.setting(key, default), default)
        except Exception:
            logger.exception("Could not read %s", key)
            return default

    def _remember(self, key: str, value: Any) -> None:
        try:
            self.host.set_setting(key, value)
        except Exception:
            logger.exception("Could not save %s", key)

    def apply_filters(self) -> None:
        """Rebuild the timeline for the filters chosen in the panel."""
        panel = self._live_panel()
        if panel is None:
            return
        accept = send_filter(panel.selected_signal(), panel.selected_plugin(), self.plugin_of)
        if not self.paused:
            self.flush()
        model = panel.model
        model.set_filter(accept, self.buffer, upto=model.synced_to if self.paused else None)
        if not self.paused:  # the rebuild showed every change
            self.catch_up.forget_changes()
        self._update_count()

    def _update_count(self) -> None:
        panel = self._live_panel()
        if panel is not None:
            panel.count.setText(self.catch_up.count_text())

    # -- export ----------------------------------------------------------------------

    def export_jsonl(self, path: str | Path) -> int:
        """Write every recorded send, with its receiver calls, as one JSON
        object per line (oldest first); returns how many (GUI thread)."""
        self.flush()  # include what is still pending
        return write_jsonl(self.buffer.records(), path, self.plugin_of)
