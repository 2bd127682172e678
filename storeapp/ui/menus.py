"""The window's menus: File, Store, Till, Demo, Plugins, View, Help."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QWidget

if TYPE_CHECKING:
    from storeapp.ui.main_window import MainWindow


def add_action(
    window: QWidget,
    menu: QMenu,
    text: str,
    name: str,
    slot: Callable[[], Any],
    shortcut: QKeySequence | None = None,
    tip: str = "",
) -> QAction:
    """An item of ``window``'s ``menu``, named ``name`` (tests find it by
    that), that calls ``slot``."""
    action = QAction(text, window)
    action.setObjectName(name)
    if shortcut is not None:
        action.setShortcut(shortcut)
    if tip:
        action.setToolTip(tip)
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def build_menus(window: MainWindow) -> None:
    """Fill ``window``'s menu bar; the menus are kept as its attributes
    (``store_menu``, ``till_menu``, ...) and each plugin's action in
    ``window.plugin_actions``."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    add_action(
        window,
        file_menu,
        "&Quit",
        "quitAction",
        window.close,
        QKeySequence(QKeySequence.StandardKey.Quit),
    )

    window.store_menu = bar.addMenu("&Store")
    window.store_menu.setObjectName("storeMenu")
    add_action(
        window,
        window.store_menu,
        "&Products and stock…",
        "productsAction",
        window.open_products,
        QKeySequence("Ctrl+Shift+P"),
        "Add and edit products, restock them (Ctrl+Shift+P)",
    )

    window.till_menu = bar.addMenu("&Till")  # the cashier's shortcuts, listed
    window.till_menu.setObjectName("tillMenu")
    window.till_menu.addActions(window.till.actions_for_menu)

    window.demo_menu = demo = bar.addMenu("&Demo")
    demo.setObjectName("demoMenu")
    add_action(
        window,
        demo,
        "Register demo customers",
        "demoCustomersAction",
        window.till.register_demo_customers,
    )
    add_action(window, demo, "Simulate rush hour…", "simulateAction", window.ask_simulation)
    add_action(window, demo, "Reset demo data…", "resetDemoAction", window.reset_demo_data)

    window.plugins_menu = bar.addMenu("&Plugins")
    window.plugins_menu.setObjectName("pluginsMenu")
    for record in window.manager.records():
        action = QAction(record.title, window)
        action.setObjectName(f"pluginAction_{record.name}")
        action.setCheckable(True)
        action.toggled.connect(functools.partial(window.on_plugin_action, record.name))
        window.plugins_menu.addAction(action)
        window.plugin_actions[record.name] = action
    window.plugins_menu.addSeparator()
    add_action(
        window,
        window.plugins_menu,
        "Manage plugins…",
        "managePluginsAction",
        window.open_plugins_dialog,
    )

    window.view_menu = bar.addMenu("&View")
    window.view_menu.setObjectName("viewMenu")

    window.help_menu = bar.addMenu("&Help")
    window.help_menu.setObjectName("helpMenu")
    add_action(
        window,
        window.help_menu,
        "&Lessons: signals by doing",
        "lessonsAction",
        window.open_lessons,
        QKeySequence(Qt.Key.Key_F1),
    )
    add_action(window, window.help_menu, "&About storeapp", "aboutAction", window.show_about)
