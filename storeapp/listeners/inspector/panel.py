"""The inspector's dock: a Timeline tab and a Wiring tab.

The timeline tab: filters by signal and by plugin, Pause (sends are still
recorded; the view catches up on resume), Clear, Export to JSON lines, and
a details pane that shows the send or receiver clicked, with the traceback
of a failed one. The wiring tab: every watched signal with its connections,
and a Refresh button.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain.dispatch import SendRecord
from storeapp.listeners.api import PluginHost
from storeapp.listeners.inspector.recorder import format_ms, format_time, outcome, total_duration
from storeapp.listeners.inspector.timeline import TimelineModel
from storeapp.listeners.inspector.wiring import Wiring, WiringModel
from storeapp.listeners.inspector.wiring_tab import WiringTab

__all__ = ["InspectorActions", "InspectorPanel"]


class InspectorActions(Protocol):
    """What the panel asks of the plugin (the plugin builds the panel;
    the panel never imports the plugin)."""

    host: PluginHost

    def set_paused(self, paused: bool) -> None: ...

    def clear(self) -> None: ...

    def refresh_wiring(self) -> None: ...

    def apply_filters(self) -> None: ...

    def plugin_of(self, module: str) -> str: ...

    def export_jsonl(self, path: str | Path) -> int: ...


class InspectorPanel(QWidget):
    """The dock's content: a Timeline tab and a Wiring tab."""

    def __init__(
        self,
        plugin: InspectorActions,
        model: TimelineModel,
        wiring: WiringModel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inspectorPanel")
        self.plugin = plugin
        self.model = model
        self.wiring_model = wiring

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("inspectorTabs")

        # -- the timeline tab
        timeline = QWidget(self.tabs)
        self.signal_filter = QComboBox(timeline)
        self.signal_filter.setObjectName("inspectorSignalFilter")
        self.signal_filter.addItem("All signals", None)
        self.signal_filter.setToolTip("Show only the sends of one signal.")
        self.plugin_filter = QComboBox(timeline)
        self.plugin_filter.setObjectName("inspectorPluginFilter")
        self.plugin_filter.addItem("All plugins", None)
        self.plugin_filter.setToolTip("Show only the sends a plugin's receivers took part in.")
        self.pause_button = QPushButton("Pause", timeline)
        self.pause_button.setObjectName("inspectorPause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip(
            "Freeze the view; sends are still recorded and shown on resume."
        )
        self.clear_button = QPushButton("Clear", timeline)
        self.clear_button.setObjectName("inspectorClear")
        self.export_button = QPushButton("Export…", timeline)
        self.export_button.setObjectName("inspectorExport")
        self.export_button.setToolTip(
            "Save every recorded send, with its receivers, as JSON lines."
        )
        self.count = QLabel(timeline)
        self.count.setObjectName("inspectorCount")

        self.view = QTreeView(timeline)
        self.view.setObjectName("inspectorTimeline")
        self.view.setModel(model)
        self.view.setUniformRowHeights(True)  # 10,000 rows stay cheap to lay out
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setToolTip(
            "Expand a send to see each receiver; click a failed one for its traceback."
        )
        header = self.view.header()
        header.setStretchLastSection(True)
        for column, width in ((0, 130), (1, 300), (2, 110), (3, 90), (4, 160), (5, 300)):
            header.resizeSection(column, width)
        self.details = QPlainTextEdit(timeline)
        self.details.setObjectName("inspectorTraceback")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText(
            "Click a send or a receiver to see its details and traceback."
        )
        splitter = QSplitter(Qt.Orientation.Vertical, timeline)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Signal:", timeline))
        bar.addWidget(self.signal_filter)
        bar.addWidget(QLabel("Plugin:", timeline))
        bar.addWidget(self.plugin_filter)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(timeline)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter)
        self.tabs.addTab(timeline, "Timeline")

        # -- the wiring tab
        self.wiring_tab = WiringTab(wiring, self.tabs)
        self.wiring_view = self.wiring_tab.view
        self.wiring_summary = self.wiring_tab.summary
        self.refresh_button = self.wiring_tab.refresh_button
        self.tabs.addTab(self.wiring_tab, "Wiring")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.tabs)

        # Follow the newest send while the view is scrolled to the bottom.
        #: The view stays at the newest end as sends arrive (False once the
        #: user scrolled away; True again when they scroll back down).
        self.following = True
        self._stick_due = False  # a _stick is queued
        scroll = self.view.verticalScrollBar()
        scroll.rangeChanged.connect(self._range_changed)
        scroll.actionTriggered.connect(self._user_scrolled)
        model.rowsInserted.connect(self._rows_changed)
        model.rowsRemoved.connect(self._rows_changed)
        model.rebuilt.connect(self.details.clear)

        self.view.expanded.connect(model.load_children)
        self.view.expanded.connect(self._expanded)
        self.view.clicked.connect(self.show_details)
        self.view.activated.connect(self.show_details)  # double-click, Enter
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.signal_filter.currentIndexChanged.connect(self._filters_changed)
        self.plugin_filter.currentIndexChanged.connect(self._filters_changed)
        self.pause_button.toggled.connect(plugin.set_paused)
        self.clear_button.clicked.connect(plugin.clear)
        self.export_button.clicked.connect(self.export)
        self.refresh_button.clicked.connect(lambda _checked=False: plugin.refresh_wiring())

    # -- filters -------------------------------------------------------------------

    def selected_signal(self) -> str | None:
        return self.signal_filter.currentData()

    def selected_plugin(self) -> str | None:
        return self.plugin_filter.currentData()

    def _filters_changed(self, _index: int) -> None:
        self.plugin.apply_filters()

    def add_signal_names(self, names: Iterable[str]) -> None:
        """Offer more signals in the filter (in first-seen order)."""
        with QSignalBlocker(self.signal_filter):
            for name in names:
                if self.signal_filter.findData(name) < 0:
                    self.signal_filter.addItem(name, name)

    def set_plugin_choices(self, choices: list[tuple[str, str]]) -> None:
        """``(name, label)`` pairs; the current choice is kept if still offered."""
        current = self.selected_plugin()
        with QSignalBlocker(self.plugin_filter):
            self.plugin_filter.clear()
            self.plugin_filter.addItem("All plugins", None)
            for name, label in choices:
                self.plugin_filter.addItem(label, name)
            at = self.plugin_filter.findData(current) if current is not None else 0
            self.plugin_filter.setCurrentIndex(max(at, 0))
        if current is not None and self.selected_plugin() != current:
            self.plugin.apply_filters()

    # -- wiring --------------------------------------------------------------------

    def show_wiring(self, wiring: Wiring, plugin_of: Callable[[str], str]) -> None:
        """Show ``wiring``; signals the cashier collapsed stay collapsed."""
        self.wiring_tab.show_wiring(wiring, plugin_of)

    def show_paused(self, paused: bool) -> None:
        """The Pause button as ``paused`` says (without toggling it again)."""
        button = self.pause_button
        if button.isChecked() != paused:
            with QSignalBlocker(button):
                button.setChecked(paused)
        button.setText("Resume" if paused else "Pause")

    # -- details -------------------------------------------------------------------

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_details(current)

    def _expanded(self, index: QModelIndex) -> None:
        """A send was expanded: it becomes the current row and its details show."""
        if index.isValid() and not index.parent().isValid():
            send = index.siblingAtColumn(0)
            view = self.view
            if view.currentIndex().siblingAtColumn(0) != send:
                view.selectionModel().setCurrentIndex(
                    send,
                    view.selectionModel().SelectionFlag.ClearAndSelect
                    | view.selectionModel().SelectionFlag.Rows,
                )
            self.show_details(send)

    def show_details(self, index: QModelIndex) -> None:
        """Show the send or receiver call at ``index`` (its traceback if it failed)."""
        record = self.model.record_at(index)
        if record is None:
            self.details.clear()
            return
        call = self.model.call_at(index)
        if call is None:
            self.details.setPlainText("\n".join(self._send_lines(record)))
            return
        plugin = self.plugin.plugin_of(call.module) or "(none)"
        lines = [
            call.receiver,
            f"plugin: {plugin}; {'on commit' if call.on_commit else 'immediate'}",
            f"signal: {record.signal} from {record.sender} (#{record.seq})",
            f"status: {call.label}",
        ]
        if call.duration is not None:
            lines.append(f"duration: {format_ms(call.duration)} ms")
        if call.result is not None:
            lines.append(f"result: {call.result}")
        if call.error is not None:
            lines.append(f"error: {call.error}")
        made = [r for r in self._family(record) if r.within == call.receiver]
        if made:
            lines.append("sent while it ran:")
            lines += [f"  #{r.seq} {r.signal} from {r.sender}" for r in made]
        if call.traceback:
            lines += ["", call.traceback.rstrip()]
        self.details.setPlainText("\n".join(lines))

    def _family(self, record: SendRecord) -> list[SendRecord]:
        """The shown sends made inside ``record``'s send, directly."""
        row = self.model.row_of(record)
        return [r for r in self.model.family_of(row) if r.parent == record.seq]

    def _send_lines(self, record: SendRecord) -> list[str]:
        lines = [
            f"{format_time(record.time)}  {record.signal}  (#{record.seq})",
            f"sent from: {record.origin or '(unknown)'} via {record.via or 'send'}",
        ]
        if record.parent is not None:
            by = f"its receiver {record.within}" if record.within else "the send loop"
            lines.append(f"inside: send #{record.parent}, by {by}")
        lines += [
            f"sender: {record.sender}",
            f"arguments: {record.kwargs or '(none)'}",
            f"thread: {record.thread}; {'send_robust' if record.robust else 'send'}",
            f"outcome: {outcome(record)}; "
            f"receivers took {format_ms(total_duration(record)) or '0'} ms",
            "",
        ]
        lines += [
            f"  {c.label:<30} {c.receiver}" + (f"  {c.error}" if c.error else "")
            for c in list(record.calls)
        ]
        family = self._family(record)
        if family:
            lines += ["", "sends made inside it:"]
            lines += [
                f"  #{r.seq} {r.signal} from {r.sender}"
                + (f" (by {r.within})" if r.within else " (by the send loop)")
                for r in family
            ]
        return lines

    # -- export --------------------------------------------------------------------

    def export(self) -> None:
        """Ask where, then write every recorded send as JSON lines."""
        default = Path(self.plugin.host.data_dir) / datetime.now().strftime(
            "signals-%Y%m%d-%H%M%S.jsonl"
        )
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the signal timeline", str(default), "JSON lines (*.jsonl);;All files (*)"
        )
        if not path:
            return
        try:
            count = self.plugin.export_jsonl(path)
        except OSError as exc:
            self.count.setText(f"Export failed: {exc.strerror or exc}")
            return
        self.plugin.host.notify(f"Exported {count:,} send{'s' if count != 1 else ''} to {path}")

    # -- scrolling -----------------------------------------------------------------

    # The scroll bar's value alone cannot tell what the user wants: the tree
    # view moves it itself as rows leave and when it lays rows out, later
    # than they were inserted (the old "at the bottom before each insert"
    # check lost the newest end in the middle of a rush, once the oldest rows
    # started to leave). So only the user's own scrolling (wheel, drag,
    # arrows, clicks on the bar: actionTriggered) decides whether the view
    # follows, and every change of the rows or of the range puts a
    # following view back at the newest end.

    def _user_scrolled(self, _action: int) -> None:
        # actionTriggered comes before the value changes: look after it.
        QTimer.singleShot(0, self, self._note_position)

    def _note_position(self) -> None:
        bar = self.view.verticalScrollBar()
        self.following = bar.value() >= bar.maximum()

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self.view.verticalScrollBar().setValue(maximum)

    def _rows_changed(self, parent: QModelIndex, *_args: Any) -> None:
        # One catch-up inserts and removes rows several times: one scroll
        # (~0.6 ms with 2,000 rows) once the event loop has them all.
        if not parent.isValid() and self.following and not self._stick_due:
            self._stick_due = True
            QTimer.singleShot(0, self, self._stick)

    def _stick(self) -> None:
        self._stick_due = False
        if self.following:
            self.view.scrollToBottom()
