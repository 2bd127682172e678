"""The window's menus: File, Store, Till, Demo, Plugins, View, Help."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

if TYPE_CHECKING:
    from storeapp.ui.main_window import MainWindow


def build_menus(window: MainWindow) -> None:
    """Fill ``window``'s menu bar; the menus are kept as its attributes
    (``store_menu``, ``till_menu``, ...) and each plugin's action in
    ``window.plugin_actions``."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    quit_action.triggered.connect(window.close)
    file_menu.addAction(quit_action)

    window.store_menu = bar.addMenu("&Store")
    window.store_menu.setObjectName("storeMenu")
    products_action = QAction("&Products and stock…", window)
    products_action.setObjectName("productsAction")
    products_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
    products_action.setToolTip("Add and edit products, restock them (Ctrl+Shift+P)")
    products_action.triggered.connect(window.open_products)
    window.store_menu.addAction(products_action)

    window.till_menu = bar.addMenu("&Till")  # the cashier's shortcuts, listed
    window.till_menu.setObjectName("tillMenu")
    window.till_menu.addActions(window.till.actions_for_menu)

    window.demo_menu = bar.addMenu("&Demo")
    window.demo_menu.setObjectName("demoMenu")
    demo_action = QAction("Register demo customers", window)
    demo_action.setObjectName("demoCustomersAction")
    demo_action.triggered.connect(window.till.register_demo_customers)
    window.demo_menu.addAction(demo_action)
    simulate_action = QAction("Simulate rush hour…", window)
    simulate_action.setObjectName("simulateAction")
    simulate_action.triggered.connect(window.ask_simulation)
    window.demo_menu.addAction(simulate_action)
    reset_action = QAction("Reset demo data…", window)
    reset_action.setObjectName("resetDemoAction")
    reset_action.triggered.connect(window.reset_demo_data)
    window.demo_menu.addAction(reset_action)

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
    manage = QAction("Manage plugins…", window)
    manage.setObjectName("managePluginsAction")
    manage.triggered.connect(window.open_plugins_dialog)
    window.plugins_menu.addAction(manage)

    window.view_menu = bar.addMenu("&View")
    window.view_menu.setObjectName("viewMenu")

    window.help_menu = bar.addMenu("&Help")
    window.help_menu.setObjectName("helpMenu")
    lessons = QAction("&Lessons: signals by doing", window)
    lessons.setObjectName("lessonsAction")
    lessons.setShortcut(QKeySequence(Qt.Key.Key_F1))
    lessons.triggered.connect(window.open_lessons)
    window.help_menu.addAction(lessons)
    about = QAction("&About storeapp", window)
    about.setObjectName("aboutAction")
    about.triggered.connect(window.show_about)
    window.help_menu.addAction(about)
