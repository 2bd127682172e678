"""The composition root: the one place that wires store, plugins and window.

``build()`` returns the ready main window without starting the event loop;
``main.py`` (through :func:`run`) and the tests both use it.
"""

from __future__ import annotations

import gc
import linecache
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from storeapp import settings as app_settings
from storeapp.display_check import display_problem

if TYPE_CHECKING:
    from PySide6.QtCore import QRect

    from storeapp.domain import Store
    from storeapp.ui.main_window import MainWindow

logger = logging.getLogger("storeapp")

#: The longest show_frame() waits for the window system to show the frame.
FRAME_WAIT_MS = 300
#: The longest the background workers wait for the filled window's first paint.
PAINT_WAIT_MS = 1000


def open_store(
    db_url: str | None, data_dir: Path | None = None, terminal: str | None = None
) -> Store:
    """Open the database (``--db``, ``STOREAPP_DB`` or the embedded default)
    as till ``terminal`` (``--terminal``; None: ``STOREAPP_TERMINAL``, else
    the host name) and seed the demo catalogue into an empty one."""
    from storeapp.domain import Store
    from storeapp.domain.demo import seed_catalogue

    if db_url is None and data_dir is not None and not os.environ.get("STOREAPP_DB"):
        db_url = f"sqlite:///{Path(data_dir) / 'storeapp.sqlite3'}"
    store = Store.open(app_settings.resolve_db_url(db_url), terminal=terminal)
    seed_catalogue(store)
    return store


def show_frame(available: QRect | None = None) -> MainWindow:
    """The window's frame, shown and painted: what a user sees while the
    domain, the plugins and the panels load (:func:`build` fills it).

    Only Qt is imported by then. The frame is fitted to ``available`` (the
    screen's available geometry if None) and painted before this returns,
    waiting at most ``FRAME_WAIT_MS`` for the window system to show it.
    """
    from PySide6.QtCore import QElapsedTimer, QEventLoop
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from storeapp.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("storeapp")
    window = MainWindow()
    screen = QGuiApplication.primaryScreen()
    room = available or (screen.availableGeometry() if screen is not None else None)
    if room is not None:  # as fit_to_screen() sizes a window with no panels yet
        window.resize(int(room.width() * 0.95), int(room.height() * 0.95))
    if available is not None:
        window.move(available.topLeft())
    window.show()
    clock = QElapsedTimer()
    clock.start()
    flags = QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents
    handle = window.windowHandle()
    while handle is not None and not handle.isExposed() and clock.elapsed() < FRAME_WAIT_MS:
        app.processEvents(flags, 10)
    window.repaint()  # now, not at the next turn of the event loop
    return window


def build(
    db_url: str | None = None,
    plugins: Sequence[str] | None = None,
    *,
    data_dir: str | Path | None = None,
    demo: bool = False,
    terminal: str | None = None,
    window: MainWindow | None = None,
) -> MainWindow:
    """Build the main window: store, bridge, plugins (``None`` = the saved or
    default set; a list = exactly those, plus the required core), panels.
    ``window``: a frame :func:`show_frame` already painted, to fill."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from storeapp.domain.demo import seed_customers
    from storeapp.domain.events.follow import Follower
    from storeapp.domain.events.remote import send_remote
    from storeapp.domain.events.worker import DurableWorker
    from storeapp.listeners.manager import PluginManager
    from storeapp.ui.bridge import GuiBridge, QtPluginHost
    from storeapp.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("storeapp")
    data = Path(data_dir) if data_dir is not None else app_settings.data_dir()
    app_settings.private_dir(data)
    store = open_store(db_url, data, terminal)
    ini = app_settings.private_file(data / "settings.ini")  # QSettings keeps its mode
    settings = QSettings(str(ini), QSettings.Format.IniFormat)
    bridge = GuiBridge()
    if window is None:
        window = MainWindow()
    frame = window

    def notify(message: str) -> None:
        frame.notify(message)

    host = QtPluginHost(store, data, bridge, settings, notify=notify)
    manager = PluginManager(host)
    host.plugins = manager
    manager.auto_disable_after = int(host.setting("plugins/auto_disable_after", 3))
    manager.discover()
    # Users of an older database who are one person as people read them.
    notices: list[str] = store.identity_conflicts()
    if plugins is None:
        saved = str(settings.value("plugins/disabled", "") or "")
        disabled = {n for n in saved.split(",") if n}
        names = [n for n in manager.default_names() if n not in disabled]
    else:
        names = list(plugins)
        unknown = [n for n in names if n not in manager]
        if unknown:
            notices.append(f"Unknown plugin(s) ignored: {', '.join(unknown)}")
        names = [n for n in names if n in manager]
    manager.start(names)
    failed = [r for r in manager.records() if r.state == "failed"]
    for record in failed:
        notices.append(f"Plugin {record.title} {record.error}")
    if demo:
        seed_customers(store)
    window.fill(store, manager, bridge, settings, notices=notices)
    durable = window.durable = DurableWorker(store.engine)  # the log to durable receivers
    # Other tills' sales reach this one's panels through the event log.
    follower = window.follower = Follower(
        store.engine,
        store.terminal,
        send_remote,
        on_state=lambda status: bridge.call_in_gui(lambda: frame.link_label.show_status(status)),
    )

    def start_workers() -> None:
        if not frame.is_closed():
            durable.start()
            follower.start()

    after_first_paint(window, start_workers)
    bridge.setParent(window)
    if demo:
        window.reload_customers()
        if window.customer_model.rowCount():
            window.customer_picker.setCurrentIndex(0)
    return window


def after_first_paint(window: MainWindow, callback: Callable[[], None]) -> None:
    """Run ``callback`` once a shown ``window`` has painted, or at once if it
    is not shown (a test's window).

    The background workers wait for it: started while the window fills and
    paints, their threads took turns at the GIL with the GUI thread and made
    the start ~90 ms slower. A window the window system never shows gets
    them after ``PAINT_WAIT_MS`` all the same.
    """
    from PySide6.QtCore import QEvent, QObject, QTimer

    if not window.isVisible():
        callback()
        return

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                run_once()
            return False

    watcher = FirstPaint(window)
    done: list[bool] = []

    def run_once() -> None:
        if not done:
            done.append(True)
            window.removeEventFilter(watcher)
            watcher.deleteLater()
            QTimer.singleShot(0, callback)  # after the paint, not in its way

    window.installEventFilter(watcher)
    QTimer.singleShot(PAINT_WAIT_MS, window, run_once)


def start(
    db_url: str | None,
    plugins: Sequence[str] | None = None,
    demo: bool = False,
    terminal: str | None = None,
) -> MainWindow:
    """The frame painted first, then filled and fitted to its place on the
    screen (``STOREAPP_GEOMETRY``, else the screen): what :func:`run` shows.
    Raises :class:`storeapp.domain.DomainError` (a bad ``--db`` or
    ``--terminal``) with the frame closed."""
    from PySide6.QtCore import QRect

    place = geometry_from(os.environ.get("STOREAPP_GEOMETRY", ""))
    available = QRect(*place) if place is not None else None
    # No cyclic collection while start-up allocates what lives as long as
    # the app: each one walked every object made so far (run() collects
    # once, then freezes them: settle_after_startup).
    collecting = gc.isenabled()
    gc.disable()
    try:
        window = show_frame(available)  # `make tills` puts each till on its part of the screen
        try:
            build(db_url, plugins, demo=demo, terminal=terminal, window=window)
        except BaseException:
            window.close()
            raise
        window.fit_to_screen(available)  # its panels in tabs if the place is small
        if available is not None:
            window.move(available.topLeft())
    finally:
        if collecting:
            gc.enable()
    return window


def run(
    db_url: str | None,
    plugins: Sequence[str] | None = None,
    demo: bool = False,
    simulate: int = 0,
    terminal: str | None = None,
) -> int:
    """Start the application and its event loop (``make run``)."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    problem = display_problem()
    if problem:
        print(f"storeapp: {problem}", file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        window = start(db_url, plugins, demo=demo, terminal=terminal)
    except Exception as exc:
        from storeapp.domain import DomainError  # imported by start(), after the frame

        if not isinstance(exc, DomainError):
            raise
        print(f"storeapp: {exc}", file=sys.stderr)
        return 2
    close_on_signals(window)
    settle_after_startup()
    if simulate:
        window.start_simulation(simulate)
    return app.exec()


def geometry_from(text: str) -> tuple[int, int, int, int] | None:
    """``"x,y,width,height"`` (``STOREAPP_GEOMETRY``) as four ints; None if not that."""
    parts = text.split(",")
    if len(parts) != 4 or not all(p.strip().lstrip("-").isdigit() for p in parts):
        return None
    x, y, width, height = (int(p) for p in parts)
    return (x, y, width, height) if width > 0 and height > 0 else None


def close_on_signals(window: MainWindow) -> None:
    """SIGTERM and SIGINT close the window as its close button does: plugins
    shut down, the email queue drains, the store closes; the app exits 0.

    Python runs a signal handler only between bytecodes, and Qt's event loop
    runs none while it waits, so a timer wakes the interpreter five times a
    second to let a pending handler run.
    """
    import signal

    from PySide6.QtCore import QTimer

    def close(signum: int, _frame: object) -> None:
        logger.info("%s received: closing", signal.Signals(signum).name)
        QTimer.singleShot(0, window.close)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, close)
    wake = QTimer(window)
    wake.setObjectName("signalWakeTimer")
    wake.timeout.connect(lambda: None)
    wake.start(200)
    logger.info("Window open; SIGTERM or SIGINT closes it")


def settle_after_startup() -> None:
    """Exempt what start-up built from the cyclic garbage collector.

    A full collection walks every tracked object while holding the GIL, so
    it stalls the GUI thread for as long as it runs. The ~80,000 objects of
    the imports, the window and the plugins live as long as the app; frozen,
    they are no longer walked, and a full collection during a rush hour
    only visits what the rush made (measured: 95 ms -> 41 ms at worst).
    Reference counting still frees frozen objects that are dropped, unless
    they sit in a reference cycle: such a cycle is never collected (a panel
    torn down when its plugin is switched off may leave a little behind).

    It first drops the source lines Python's ``linecache`` holds. PySide6's
    import hook reads the whole source of every module imported after it
    (``inspect.getsource``, to look for ``__feature__``), and linecache kept
    them: 268,000 lines, ~22 MB, for nothing. A traceback or the inspector's
    code view reads a file again when it needs it. The freed memory is
    reused by what the app allocates later (peak RSS after 2,500 orders:
    151 -> 145 MB).
    """
    linecache.clearcache()
    gc.collect()
    gc.freeze()
