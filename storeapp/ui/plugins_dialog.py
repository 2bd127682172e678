"""The Plugins dialog: every plugin, its state, what it listens to, and why."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from storeapp.listeners.api import Cell, CellModel, PluginRecord, PluginState, palette
from storeapp.listeners.manager import PluginManager

_STATE_COLOURS = {
    # The red of the cashier's error messages; grey: not taking part.
    PluginState.FAILED: QBrush(QColor(palette.ERROR_TEXT)),
    PluginState.DISABLED: palette.MUTED_FG,
}


class PluginTableModel(CellModel):
    """One row per plugin; its cells live in C++ (CellModel, storeapp.listeners.api).

    The check box in the first column shows the state; toggling goes through
    the dialog's button or a double-click, which ask the window.
    """

    COLUMNS = ("Plugin", "State", "Listens to", "Errors", "Description")

    def __init__(self, manager: PluginManager, parent: Any = None) -> None:
        super().__init__(self.COLUMNS, parent)
        self.manager = manager
        self.refresh()

    def refresh(self) -> None:
        """Show the manager's records now (rows rewritten only where they changed)."""
        self.sync_rows(self.manager.records(), lambda r: r.name, self.cells)

    def record_at(self, row: int) -> PluginRecord | None:
        return self.row_data[row] if 0 <= row < len(self.row_data) else None

    @staticmethod
    def cells(record: PluginRecord) -> list[Cell]:
        display, tooltip = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole
        state = str(record.state)
        if record.required and record.enabled:
            state += " (required)"
        if record.state == PluginState.FAILED and record.error:
            state += f": {record.error}"
        colour = _STATE_COLOURS.get(record.state)
        checked = Qt.CheckState.Checked if record.enabled else Qt.CheckState.Unchecked
        return [
            {display: f"{record.title} ({record.name})", Qt.ItemDataRole.CheckStateRole: checked},
            {
                display: state,
                tooltip: record.traceback or None,
                Qt.ItemDataRole.ForegroundRole: colour,
            },
            {display: ", ".join(record.listens_to) or "—"},
            {display: str(record.error_count)},
            {display: record.description or record.source, tooltip: record.description or None},
        ]


class PluginsDialog(QDialog):
    """Lists plugins; toggling goes through the window (which owns the docks)."""

    def __init__(self, manager: PluginManager, set_enabled: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("pluginsDialog")
        self.setWindowTitle("Plugins")
        self.resize(860, 320)
        self._set_enabled = set_enabled
        self.model = PluginTableModel(manager, self)
        self.table = QTableView(self)
        self.table.setObjectName("pluginsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.toggle_button = QPushButton("Enable / disable", self)
        self.toggle_button.setObjectName("pluginToggleButton")
        self.toggle_button.clicked.connect(self._toggle_selected)
        hint = QLabel(
            "Each plugin connects its receivers in ready() and disconnects them when "
            "disabled. Hover a failed plugin's state to see the error.",
            self,
        )
        hint.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table)
        layout.addWidget(self.toggle_button)
        layout.addWidget(buttons)
        self.table.doubleClicked.connect(lambda _i: self._toggle_selected())

    def toggle_row(self, row: int) -> None:
        self.table.selectRow(row)
        self._toggle_selected()

    def _toggle_selected(self) -> None:
        index = self.table.currentIndex()
        record = self.model.record_at(index.row()) if index.isValid() else None
        if record is None or record.required or record.plugin is None:
            return
        self._set_enabled(record.name, not record.enabled)
        self.model.refresh()
