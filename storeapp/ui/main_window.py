"""The frame of the point-of-sale window: menus, status bar, the rush-hour
simulation, the Products and Lessons windows, closing. Its plugin docks and
the Plugins dialog are its base class's (:mod:`storeapp.ui.plugin_docks`).

The till (customer, catalogue, cart, orders) is its central widget
(:mod:`storeapp.ui.till`). Plugin panels go in docks placed as each plugin
class declares (:mod:`storeapp.ui.docks`): the frame knows no plugin by name.

Start-up paints the frame first (:meth:`MainWindow.__init__` needs Qt only)
and fills it when the domain and the plugins are loaded
(:meth:`MainWindow.fill`). So this module and its base import nothing but
Qt at the top, and what a window needs only later (dialogs, lessons, the
simulation) is imported when first used. Not even Qt's ``Qt`` namespace is
imported at the top: its first import makes a hundred Python enums (~18 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSettings, QTimer
from PySide6.QtWidgets import (
    QDockWidget,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
)

from storeapp.ui.plugin_docks import PluginWindow, dock_placement

if TYPE_CHECKING:
    from PySide6.QtGui import QAction, QCloseEvent

    from storeapp.domain import Store
    from storeapp.domain.events.follow import Follower
    from storeapp.domain.events.worker import DurableWorker
    from storeapp.listeners.manager import PluginManager
    from storeapp.ui.bridge import GuiBridge
    from storeapp.ui.lessons.panel import LessonsPanel
    from storeapp.ui.link import LinkLabel
    from storeapp.ui.plugins_dialog import PluginsDialog
    from storeapp.ui.products import ProductsDialog
    from storeapp.ui.simulator import Simulation, SimulationResult
    from storeapp.ui.till.till import Till

#: The frame's title until :meth:`MainWindow.fill` names the till.
TITLE = "storeapp — point of sale"
#: What the frame's status bar says until it is filled.
LOADING = "Opening the shop…"


class MainWindow(PluginWindow):
    #: The menus (:func:`storeapp.ui.menus.build_menus` makes them).
    store_menu: QMenu
    till_menu: QMenu
    demo_menu: QMenu
    plugins_menu: QMenu
    view_menu: QMenu
    help_menu: QMenu
    #: Set by :meth:`fill`.
    store: Store
    manager: PluginManager
    bridge: GuiBridge
    settings: QSettings
    till: Till
    link_label: LinkLabel

    def __init__(self) -> None:
        """The frame alone: a title, a size and a word on what is loading.
        It needs nothing but Qt, so it is painted before the rest is imported."""
        super().__init__()
        self.docks: dict[str, QDockWidget] = {}
        self.plugin_actions: dict[str, QAction] = {}
        self.plugins_dialog: PluginsDialog | None = None
        self.products_dialog: ProductsDialog | None = None
        self.lessons_dock: QDockWidget | None = None
        self.lessons: LessonsPanel | None = None
        #: The durable receivers' worker (the composition root starts it).
        self.durable: DurableWorker | None = None
        #: Follows the other tills' events (the composition root starts it).
        self.follower: Follower | None = None
        self.simulation: Simulation | None = None
        self.last_simulation: SimulationResult | None = None
        self.filled = False
        self._closed = False
        self.compact = False  # each dock area's panels in tabs: a small screen (fit_to_screen)
        self.setObjectName("mainWindow")
        self.setWindowTitle(TITLE)
        self.resize(1600, 900)  # until fit_to_screen() fits it to a screen
        self.setDockNestingEnabled(True)
        self.statusBar().setObjectName("statusBar")
        self.statusBar().showMessage(LOADING)

    def fill(
        self,
        store: Store,
        manager: PluginManager,
        bridge: GuiBridge,
        settings: QSettings,
        notices: list[str] | None = None,
    ) -> None:
        """Put the till, the menus and the plugins' panels in the frame."""
        from storeapp.listeners.api import plugin_state_changed
        from storeapp.ui.docks import arrange_docks
        from storeapp.ui.link import LinkLabel
        from storeapp.ui.menus import build_menus
        from storeapp.ui.till.till import Till

        self.store = store
        self.manager = manager
        self.bridge = bridge
        self.settings = settings
        self.setWindowTitle(f"{TITLE} — {store.terminal}")
        if self.statusBar().currentMessage() == LOADING:  # not a plugin's notice
            self.statusBar().clearMessage()

        self.till = till = Till(store, bridge, self)
        self.setCentralWidget(till)
        # The till's surface on the window too: app.py, tools, bench and
        # tests drive the cashier's side through these names.
        self.customer_picker, self.customer_model = till.customer.picker, till.customer.model
        self.product_table, self.product_model = till.catalogue.table, till.catalogue.model
        self.cart_model, self.message = till.cart.model, till.cart.message
        self.order_model, self.show_all_orders = till.orders.model, till.orders.show_all
        self.current_user_id, self.reload_customers = till.current_user_id, till.reload_customers
        self.add_to_cart, self.checkout = till.add_to_cart, till.checkout

        build_menus(self)
        self.reenable_button = QPushButton("", self)
        self.reenable_button.setObjectName("reenablePluginButton")
        self.reenable_button.hide()
        self.reenable_button.clicked.connect(self._reenable_auto_disabled)
        self.statusBar().addPermanentWidget(self.reenable_button)
        #: Which till this is (``--terminal``), always in view.
        self.terminal_label = QLabel(f"Terminal: {store.terminal}", self)
        self.terminal_label.setObjectName("terminalLabel")
        self.statusBar().addPermanentWidget(self.terminal_label)
        #: The link to the other tills (the event log's follower), always in view.
        self.link_label = LinkLabel(self)
        self.statusBar().addPermanentWidget(self.link_label)
        self.filled = True
        for record in manager.records():
            self._sync_plugin(record)
        till.start()  # before the docks are arranged: the till's tables ask for their width
        arrange_docks(
            self,
            [(dock, dock_placement(manager.record(name))) for name, dock in self.docks.items()],
            [r.cls.dock for r in manager.records() if r.cls is not None],
        )
        plugin_state_changed.connect(self._on_plugin_state_changed, dispatch_uid="ui.plugins")
        for notice in notices or ():
            self.notify(notice)
        if not settings.value(LESSONS_SHOWN, False, type=bool):  # first start: teach
            self.open_lessons()
            settings.setValue(LESSONS_SHOWN, True)

    def fit_to_screen(self, available: QRect | None = None) -> None:
        """Open within the screen's ``available`` geometry (default: its own
        screen's); on a small one as :func:`storeapp.ui.docks.fit_to_screen` says."""
        from storeapp.ui.docks import fit_to_screen

        placed = [(dock, dock_placement(self.manager.record(n))) for n, dock in self.docks.items()]
        if self.lessons_dock is not None:  # a tab beside the right side's panels
            from storeapp.listeners.api import DockPlacement

            placed.append((self.lessons_dock, DockPlacement("right", slot=99)))
        self.compact = fit_to_screen(self, placed, available) or self.compact

    def is_closed(self) -> bool:
        """Whether the window was closed (its workers stopped, its plugins shut down)."""
        return self._closed

    # ---------------------------------------------------------------- products

    def open_products(self) -> ProductsDialog:
        """Show the Products window (Store > Products and stock, Ctrl+Shift+P)."""
        if self.products_dialog is None:
            from storeapp.ui.products import ProductsDialog

            self.products_dialog = ProductsDialog(
                self.store, self.product_model, self.till.reload_products, self
            )
        self.products_dialog.show()
        self.products_dialog.raise_()
        self.products_dialog.activateWindow()
        return self.products_dialog

    def reset_demo_data(self) -> None:
        """Demo > Reset demo data: the catalogue as seeded, after asking."""
        from storeapp.ui.products import reset_demo_catalogue

        reset_demo_catalogue(self, self.store, self.till)

    # ----------------------------------------------------------------- lessons

    def open_lessons(self) -> LessonsPanel:
        """Show the Lessons dock (Help > Lessons, F1; built on first use)."""
        if self.lessons_dock is None or self.lessons is None:
            from storeapp.ui.lessons.live import LiveLessons
            from storeapp.ui.lessons.panel import LessonsPanel

            live = LiveLessons(self.store, self.manager, self.till, self.set_plugin_enabled)
            self.lessons = LessonsPanel(
                self.manager, live.run, lambda name: self.set_plugin_enabled(name, True), self
            )
            dock = QDockWidget("Lessons", self)
            dock.setObjectName("lessonsDock")
            dock.setWidget(self.lessons)
            from PySide6.QtCore import Qt

            area = Qt.DockWidgetArea.RightDockWidgetArea
            beside = [d for d in self.docks.values() if self.dockWidgetArea(d) == area]
            beside = [d for d in beside if not d.isHidden()]
            self.addDockWidget(area, dock)
            if beside:  # a tab in the tallest panel of the right column
                self.tabifyDockWidget(max(beside, key=lambda d: d.height()), dock)
            self.view_menu.addAction(dock.toggleViewAction())
            self.lessons_dock = dock
        self.lessons_dock.show()
        self.lessons_dock.raise_()
        self.lessons.picker.setFocus()
        return self.lessons

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About storeapp",
            "<b>storeapp</b>: a point of sale that teaches Django's signals.<br>"
            "The domain sends signals (Django's API, on blinker); plugins listen. "
            "Open Help \N{RIGHTWARDS ARROW} Lessons (F1) to learn them by doing.",
        )

    # -------------------------------------------------------------- simulation

    def ask_simulation(self) -> None:
        count, ok = QInputDialog.getInt(
            self, "Rush hour", "How many random orders?", 500, 1, 100_000, 100
        )
        if ok:
            self.start_simulation(count)

    def start_simulation(
        self,
        count: int,
        *,
        seed: int | None = None,
        show_dialog: bool = True,
        supplier: bool = True,
    ) -> Simulation | None:
        """Place ``count`` random orders from a worker thread (``--simulate N``),
        a supplier restocking meanwhile unless ``supplier`` is false."""
        from storeapp.ui.simulator import Simulation

        if self.simulation is not None and self.simulation.is_running():
            self.till.show_error("A simulation is already running.")
            return None
        self.till.ensure_customers()
        simulation = Simulation(
            self.store,
            count,
            self,
            seed=seed,
            show_dialog=show_dialog,
            yield_to_gui=self.bridge.yield_to_gui,
            supplier=supplier,
        )
        simulation.finished.connect(self._simulation_finished)
        self.simulation = simulation
        simulation.start()
        self.till.show_info(f"Rush hour: placing {count:,} random orders…")
        return simulation

    def _simulation_finished(self, result: SimulationResult) -> None:
        self.last_simulation = result
        if self._closed:
            return
        from storeapp.ui.simulator import summary as simulation_summary

        text = simulation_summary(result)
        if result.errors:
            self.till.show_error(f"{text} {result.errors[0]}")
        else:
            self.till.show_info(text)

    # ---------------------------------------------------------------- closing

    def shutdown(self) -> None:
        """Disconnect everything; safe to call twice, and from closeEvent."""
        if self._closed:
            return
        self._closed = True
        if not self.filled:  # closed while it was loading
            return
        from storeapp.listeners.api import plugin_state_changed

        if self.simulation is not None and self.simulation.is_running():
            self.simulation.cancel()
            self.simulation.join(timeout=10)
        self.bridge.close()
        if self.lessons is not None:
            self.lessons.shutdown()
        try:
            self.till.stop()
            plugin_state_changed.disconnect(dispatch_uid="ui.plugins")
        finally:
            self.manager.shutdown_all()
            if self.durable is not None:  # undelivered events wait in the database
                self.durable.stop()
            if self.follower is not None:  # the cursor is in the database
                self.follower.stop()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
        if self.filled:  # let queued GUI calls drain before the store goes away
            QTimer.singleShot(0, self.store.close)


#: Set once the Lessons dock has been shown (it opens by itself on first start).
LESSONS_SHOWN = "lessons/shown_once"
