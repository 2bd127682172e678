"""The window's side of the plugins: each plugin's menu action, dock and
state, the Plugins dialog, re-enabling a plugin switched off after failures.

:class:`PluginWindow` is the base of :class:`storeapp.ui.main_window.MainWindow`;
like it, this module imports nothing but Qt at its top, so the frame paints
before the plugin API is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QPushButton

if TYPE_CHECKING:
    from PySide6.QtGui import QAction

    from storeapp.listeners.api import DockPlacement, PluginRecord
    from storeapp.listeners.manager import PluginManager
    from storeapp.ui.bridge import GuiBridge
    from storeapp.ui.plugins_dialog import PluginsDialog


class PluginWindow(QMainWindow):
    """What the main window does for the plugins (its state is set by the
    main window's frame and fill)."""

    manager: PluginManager
    bridge: GuiBridge
    settings: QSettings
    view_menu: QMenu
    reenable_button: QPushButton
    docks: dict[str, QDockWidget]
    plugin_actions: dict[str, QAction]
    plugins_dialog: PluginsDialog | None
    compact: bool
    filled: bool
    _closed: bool

    def notify(self, text: str) -> None:
        """A non-modal notice (plugins, the plugin manager)."""
        if not self._closed:
            self.statusBar().showMessage(text, 10000)

    def _on_plugin_state_changed(self, sender: Any, record: PluginRecord, **kwargs: Any) -> None:
        self.bridge.call_in_gui(lambda: self._sync_plugin(record))

    def on_plugin_action(self, name: str, checked: bool) -> None:
        """A plugin's check box in the Plugins menu was toggled."""
        from storeapp.listeners.api import PluginState

        record = self.manager.record(name)
        if checked == record.enabled or record.required or record.state == PluginState.FAILED:
            return
        self.set_plugin_enabled(name, checked)

    def set_plugin_enabled(self, name: str, enabled: bool) -> None:
        from storeapp.listeners.api import PluginState

        try:
            record = self.manager.set_enabled(name, enabled)
        except ValueError as exc:
            self.notify(str(exc))
            record = self.manager.record(name)
        self._save_plugin_choice()
        self._sync_plugin(record)
        if record.state == PluginState.FAILED:
            self.notify(f"Plugin {record.title} {record.error}")
        else:
            self.notify(f"Plugin {record.title} {'enabled' if record.enabled else 'disabled'}.")

    def _save_plugin_choice(self) -> None:
        from storeapp.listeners.api import PluginState

        disabled = [r.name for r in self.manager.records() if r.state == PluginState.DISABLED]
        self.settings.setValue("plugins/disabled", ",".join(disabled))
        self.settings.sync()

    def _sync_plugin(self, record: PluginRecord) -> None:
        """Make the menu action, the dock and the dialog show ``record``."""
        from storeapp.listeners.api import PluginState

        if self._closed or not self.filled:
            return
        if record.enabled:
            self._ensure_dock(record)  # may mark the plugin failed
        action = self.plugin_actions.get(record.name)
        if action is not None:
            action.blockSignals(True)
            action.setChecked(record.enabled)
            action.setEnabled(not record.required and record.state != PluginState.FAILED)
            tip = record.description
            if record.state == PluginState.FAILED:
                action.setText(f"{record.title} (failed)")
                tip = record.error or ""
            elif record.required:
                action.setText(f"{record.title} (required)")
            action.setToolTip(tip)
            action.blockSignals(False)
        dock = self.docks.get(record.name)
        if dock is not None:
            dock.setVisible(record.enabled)
        if record.extra.get("auto_disabled") and not record.enabled:
            self.reenable_button.setText(f"Re-enable {record.title}")
            self.reenable_button.setProperty("plugin", record.name)
            self.reenable_button.setToolTip(record.error or "")
            self.reenable_button.show()
        elif self.reenable_button.property("plugin") == record.name and record.enabled:
            self.reenable_button.hide()
        if self.plugins_dialog is not None:
            self.plugins_dialog.model.refresh()

    def _ensure_dock(self, record: PluginRecord) -> None:
        from storeapp.ui.docks import place_dock

        if record.name in self.docks or record.plugin is None or record.panel is not None:
            return
        try:
            panel = record.plugin.create_panel()
        except Exception as exc:
            self.manager.mark_failed(record.name, exc, "failed to create its panel")
            self.notify(f"Plugin {record.title} failed to create its panel; it was disabled.")
            return
        if panel is None:
            return
        record.panel = panel
        dock = QDockWidget(record.title, self)
        name = record.cls.panel_object_name if record.cls is not None else None
        dock.setObjectName(name or f"{record.name}Dock")
        dock.setWidget(panel)
        place_dock(self, dock, dock_placement(record), tabbed=self.compact)
        self.docks[record.name] = dock
        self.view_menu.addAction(dock.toggleViewAction())

    def _reenable_auto_disabled(self) -> None:
        name = self.reenable_button.property("plugin")
        self.reenable_button.hide()
        if name:
            self.set_plugin_enabled(str(name), True)

    def open_plugins_dialog(self) -> PluginsDialog:
        if self.plugins_dialog is None:
            from storeapp.ui.plugins_dialog import PluginsDialog

            self.plugins_dialog = PluginsDialog(self.manager, self.set_plugin_enabled, self)
        self.plugins_dialog.model.refresh()
        self.plugins_dialog.show()
        self.plugins_dialog.raise_()
        return self.plugins_dialog


def dock_placement(record: PluginRecord) -> DockPlacement:
    """Where ``record``'s panel goes, as its class declares (default: the right side)."""
    from storeapp.listeners.api import DockPlacement

    return record.cls.dock if record.cls is not None else DockPlacement()
