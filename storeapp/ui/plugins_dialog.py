"""The Plugins dialog: every plugin, its state, what it listens to, and why;
and how to write one."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from storeapp.listeners.api import Cell, CellModel, PluginRecord, PluginState, palette
from storeapp.listeners.manager import PluginManager
from storeapp.ui.plugin_recipe import PLUGIN_CODE, recipe_html

_STATE_COLOURS = {
    # The red of the cashier's error messages; grey: not taking part.
    PluginState.FAILED: QBrush(QColor(palette.ERROR_TEXT)),
    PluginState.DISABLED: palette.MUTED_FG,
}
_STATE_TEXT_COLOURS = {PluginState.FAILED: palette.ERROR_TEXT, PluginState.DISABLED: "#6c757d"}

#: The dialog's size when the screen has room; it never asks for more than
#: 90 % of the screen (a 1366x768 laptop shows it whole, title bar included).
PREFERRED_SIZE = QSize(900, 600)


def required_reason(record: PluginRecord) -> str:
    """Why the toggle is off for a required plugin (its tooltip and details)."""
    return f"{record.title} is required: the app relies on its receivers, so it cannot be disabled."


def toggle_blocked(record: PluginRecord | None) -> str | None:
    """Why ``record`` cannot be switched on or off here, or None if it can."""
    if record is None:
        return "Select a plugin."
    if record.required:
        return required_reason(record)
    if record.plugin is None:
        return f"{record.title} could not be loaded; fix the error and restart storeapp."
    return None


def toggle_label(record: PluginRecord) -> str:
    """What the toggle button does for ``record``: enabling a failed plugin
    runs its ready() again."""
    if record.enabled:
        return "Disable"
    return "Try again" if record.state == PluginState.FAILED else "Enable"


def details_html(record: PluginRecord) -> str:
    """Everything about one plugin, for the details area below the table."""
    colour = _STATE_TEXT_COLOURS.get(record.state)
    state = escape(str(record.state))
    if colour:
        state = f'<span style="color:{colour}">{state}</span>'
    required = (
        f"yes. {escape(required_reason(record))}"
        if record.required
        else "no: switch it off and on here or in the Plugins menu."
    )
    listens = ", ".join(record.listens_to) or "nothing declared"
    errors = str(record.error_count)
    if record.extra.get("last_error"):
        errors += f" (last: {record.extra['last_error']})"
    parts = [
        f"<h3>{escape(record.title)} <small>({escape(record.name)})</small></h3>",
        f"<p><b>State:</b> {state}<br><b>Required:</b> {required}</p>",
        f"<p>{escape(record.description or 'No description.')}</p>",
        f"<p><b>Listens to:</b> {escape(listens)}<br>",
        f"<b>Entry point:</b> {escape(record.name)} = {escape(record.source or '?')}<br>",
        f"<b>Receiver failures:</b> {escape(errors)}</p>",
    ]
    if record.error:
        parts.append(
            f'<p style="color:{palette.ERROR_TEXT}"><b>Error:</b> {escape(record.error)}</p>'
        )
    if record.traceback:
        parts.append(f"<pre>{escape(record.traceback)}</pre>")
    return "".join(parts)


class PluginTableModel(CellModel):
    """One row per plugin; its cells live in C++ (CellModel, storeapp.listeners.api).

    The check box in the first column shows the state; toggling goes through
    the dialog's button or a double-click, which ask the window. The whole
    description is in the dialog's details area, not in a column.
    """

    COLUMNS = ("Plugin", "State", "Listens to", "Errors")

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
        ]


class PluginsDialog(QDialog):
    """Lists plugins with the selected one's details; toggling goes through
    the window (which owns the docks). A second tab shows how to write one."""

    def __init__(self, manager: PluginManager, set_enabled: Any, parent: Any = None) -> None:
        super().__init__(parent)
        self.setObjectName("pluginsDialog")
        self.setWindowTitle("Plugins")
        self._set_enabled = set_enabled
        self.model = PluginTableModel(manager, self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("pluginsTabs")
        self.tabs.addTab(self._build_list_tab(), "Plugins")
        self.tabs.addTab(self._build_recipe_tab(), "How to write a plugin")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(self._fitting_size())

        # The details follow the current row (mouse or arrow keys) and any
        # refresh of the model (the window refreshes it on every state change).
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_details())
        for signal in (self.model.dataChanged, self.model.rowsInserted, self.model.rowsRemoved):
            signal.connect(lambda *_: self.show_details())
        self.table.doubleClicked.connect(lambda _i: self._toggle_selected())
        if self.model.rowCount():
            self.table.setCurrentIndex(self.model.index(0, 0))
        self.show_details()

    def _build_list_tab(self) -> QWidget:
        page = QWidget(self)
        hint = QLabel(
            "Each plugin connects its receivers in ready() and disconnects them "
            "when disabled. Select one to see all about it below.",
            page,
        )
        hint.setWordWrap(True)
        self.table = QTableView(page)
        self.table.setObjectName("pluginsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # listens to
        self.details = QTextBrowser(page)
        self.details.setObjectName("pluginDetails")
        self.details.setOpenLinks(False)
        splitter = QSplitter(Qt.Orientation.Vertical, page)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setSizes([220, 260])
        self.toggle_button = QPushButton("Disable", page)
        self.toggle_button.setMinimumWidth(120)
        self.toggle_button.setObjectName("pluginToggleButton")
        self.toggle_button.clicked.connect(self._toggle_selected)
        # Why the button is off, in words (a tooltip alone is out of reach
        # of the keyboard).
        self.toggle_reason = QLabel("", page)
        self.toggle_reason.setObjectName("pluginToggleReason")
        self.toggle_reason.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.toggle_button)
        row.addWidget(self.toggle_reason, 1)
        layout = QVBoxLayout(page)
        layout.addWidget(hint)
        layout.addWidget(splitter, 1)
        layout.addLayout(row)
        return page

    def _build_recipe_tab(self) -> QWidget:
        page = QWidget(self)
        self.recipe = QTextBrowser(page)
        self.recipe.setObjectName("pluginRecipe")
        self.recipe.setHtml(recipe_html())
        copy = QPushButton("Copy the plugin code", page)
        copy.setObjectName("copyRecipeButton")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(PLUGIN_CODE))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(copy)
        layout = QVBoxLayout(page)
        layout.addWidget(self.recipe, 1)
        layout.addLayout(row)
        return page

    def _fitting_size(self) -> QSize:
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return PREFERRED_SIZE
        room = screen.availableGeometry().size() * 0.9
        return PREFERRED_SIZE.boundedTo(room)

    # ------------------------------------------------------------ selection

    def selected_record(self) -> PluginRecord | None:
        index = self.table.currentIndex()
        return self.model.record_at(index.row()) if index.isValid() else None

    def show_details(self) -> None:
        """Show the selected plugin's details and set the toggle button for it."""
        record = self.selected_record()
        html = details_html(record) if record is not None else "<p>Select a plugin.</p>"
        if html != self.details.property("shownHtml"):  # keep the scroll position
            self.details.setProperty("shownHtml", html)
            self.details.setHtml(html)
        blocked = toggle_blocked(record)
        self.toggle_button.setEnabled(blocked is None)
        self.toggle_button.setToolTip(blocked or "")
        self.toggle_reason.setText(blocked or "")
        if record is not None:
            self.toggle_button.setText(toggle_label(record))

    # ------------------------------------------------------------- toggling

    def toggle_row(self, row: int) -> None:
        self.table.setCurrentIndex(self.model.index(row, 0, QModelIndex()))
        self._toggle_selected()

    def _toggle_selected(self) -> None:
        record = self.selected_record()
        if record is None or toggle_blocked(record) is not None:
            return
        self._set_enabled(record.name, not record.enabled)
        self.model.refresh()
