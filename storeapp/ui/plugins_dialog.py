"""The Plugins dialog: every plugin, its state, what it listens to, and why."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
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

from storeapp.listeners import PluginManager, PluginRecord, PluginState

Index = QModelIndex | QPersistentModelIndex


class PluginTableModel(QAbstractTableModel):
    COLUMNS = ("Plugin", "State", "Listens to", "Errors", "Description")

    def __init__(self, manager: PluginManager, parent: Any = None) -> None:
        super().__init__(parent)
        self.manager = manager
        self._records: list[PluginRecord] = manager.records()

    def refresh(self) -> None:
        self.beginResetModel()
        self._records = self.manager.records()
        self.endResetModel()

    def record_at(self, row: int) -> PluginRecord | None:
        return self._records[row] if 0 <= row < len(self._records) else None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self.record_at(index.row())
        if record is None:
            return None
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{record.title} ({record.name})"
            if col == 1:
                state = record.state
                if record.required and record.enabled:
                    state += " (required)"
                if record.state == PluginState.FAILED and record.error:
                    state += f": {record.error}"
                return state
            if col == 2:
                return ", ".join(record.listens_to) or "—"
            if col == 3:
                return str(record.error_count)
            if col == 4:
                return record.description or record.source
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 1 and record.traceback:
                return record.traceback
            if col == 4:
                return record.description
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            if record.state == PluginState.FAILED:
                return QBrush(QColor("#c62828"))
            if record.state == PluginState.DISABLED:
                return QBrush(QColor("#757575"))
        if role == Qt.ItemDataRole.CheckStateRole and col == 0:
            return Qt.CheckState.Checked if record.enabled else Qt.CheckState.Unchecked
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        record = self.record_at(index.row())
        if index.column() == 0 and record is not None and not record.required and record.plugin is not None:
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


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
