"""The one way a receiver reaches a widget: hop to the GUI thread.

Receivers run in the sender's thread (blinker). :class:`GuiBridge` re-emits a
callable through a Qt signal with a queued connection, so it runs on the GUI
thread's event loop. :meth:`GuiBridge.coalesce` merges repeated refreshes of
the same key into one call per timer tick (20 Hz), so a burst of orders
causes a handful of repaints, not one per order.

:meth:`GuiBridge.coalesce_load` does the same for a refresh that reads the
database: the read runs on a background reader thread and only the result
is applied on the GUI thread. SQLite calls release the GIL, and each time
the GUI thread wants it back it may wait for a busy worker's turn to end, so
a query of a dozen rows on the GUI thread could stall it for 80 ms during a
rush hour.

:meth:`GuiBridge.yield_to_gui` is the other half of that bargain. CPython
hands the GIL round robin, so a refresh that needs 10 ms of Python takes
about 10 ms times the number of busy threads. Background loops (the
rush-hour worker, the email log's durable receivers) call it between two units of
work: it returns at once, unless the GUI thread is running a refresh, and
then waits until the refresh is done (at most ``YIELD_TIMEOUT``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from storeapp.listeners.api import PluginDirectory, PluginRecord, coerce_setting

logger = logging.getLogger("storeapp.ui")

COALESCE_INTERVAL_MS = 50  # at most 20 refreshes a second per key
YIELD_TIMEOUT = 0.1  # a background thread never waits longer for the GUI
#: A "refresh" running longer than this is not one (a modal dialog opened
#: from a callback, a nested event loop): background threads stop yielding.
YIELD_MAX_HOLD = 0.2
CLOSE_WAIT = 2.0  # seconds close() waits for a load still reading


class GuiBridge(QObject):
    """Created on the GUI thread; safe to call from any thread."""

    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call.connect(self._run, Qt.ConnectionType.QueuedConnection)
        self._pending: dict[str, Callable[[], Any]] = {}
        self._lock = threading.Lock()
        self._timer = QTimer(self)
        self._timer.setInterval(COALESCE_INTERVAL_MS)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._flush)
        self.closed = False
        self.flushes = 0
        self._inline = False  # flush_now(): loads run at once, on this thread
        self._gui_ident = threading.get_ident()
        self._gui_free = threading.Event()  # clear while a refresh runs
        self._gui_free.set()
        self._refreshing = 0  # nesting depth (GUI thread only)
        self._busy_since = 0.0  # when the outermost refresh began
        # Background loads, per key (touched on the GUI thread only):
        self._reader: ThreadPoolExecutor | None = None
        self._futures: set[Future[None]] = set()  # loads not finished (any thread)
        self._loading: set[str] = set()  # a load is on the reader thread
        self._again: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {}
        self._requested: dict[str, int] = {}  # generation of the latest request
        self._applied: dict[str, int] = {}  # generation of the result shown
        #: {qualname: (calls, seconds, worst)} when set to a dict (benchmarks).
        self.timings: dict[str, tuple[int, float, float]] | None = None

    def on_gui_thread(self) -> bool:
        return QThread.currentThread() is self.thread()

    def yield_to_gui(self, timeout: float = YIELD_TIMEOUT) -> bool:
        """From a background thread, between two units of work: wait while
        the GUI thread runs a refresh. Returns False if it timed out."""
        if threading.get_ident() == self._gui_ident or self.closed:
            return True
        if not self._gui_free.is_set() and time.monotonic() - self._busy_since > YIELD_MAX_HOLD:
            return False  # not a refresh: a dialog or a nested event loop
        return self._gui_free.wait(timeout)

    def call_in_gui(self, fn: Callable[[], Any]) -> None:
        if self.closed:
            return
        if self.on_gui_thread():
            self._run(fn)
        else:
            self._call.emit(fn)

    def coalesce(self, key: str, fn: Callable[[], Any]) -> None:
        if self.closed:
            return
        with self._lock:
            first = not self._pending
            self._pending[key] = fn
        if first:
            self.call_in_gui(self._arm)

    def coalesce_load(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        """Like :meth:`coalesce`, for a refresh that reads: ``load()`` runs on
        a background reader thread, then ``apply(result)`` on the GUI thread.

        Requests arriving while a load runs cause one more load after it, so
        the last result applied was read after the last request.
        """
        self.coalesce(key, lambda: self._submit(key, load, apply))

    def load_now(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        """On the GUI thread: load and apply at once (the cashier's own
        action, shown before the next paint). A background load of the same
        key still running, older than this, is dropped when it arrives."""
        inline, self._inline = self._inline, True
        try:
            self._submit(key, load, apply)
        finally:
            self._inline = inline

    def loads_in_flight(self) -> int:
        """Background loads not yet applied (GUI thread)."""
        return len(self._loading)

    def _submit(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        generation = self._requested[key] = self._requested.get(key, 0) + 1
        if self._inline:
            result = load()
            self._applied[key] = generation
            apply(result)
        elif key in self._loading:
            self._again[key] = (load, apply)
        elif not self.closed:
            self._loading.add(key)
            if self._reader is None:
                self._reader = ThreadPoolExecutor(1, thread_name_prefix="storeapp-reader")
            future = self._reader.submit(self._load, key, generation, load, apply)
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)

    def _load(
        self, key: str, generation: int, load: Callable[[], Any], apply: Callable[[Any], Any]
    ) -> None:
        """On the reader thread."""
        failed, result = False, None
        try:
            result = load()
        except Exception:
            failed = True
            logger.exception("Loading %r for the window failed", key)

        def loaded() -> None:
            self._loading.discard(key)
            again = self._again.pop(key, None)
            try:
                if not failed and generation > self._applied.get(key, 0):
                    self._applied[key] = generation
                    apply(result)
            finally:  # a failed apply never loses the request behind it
                if again is not None:
                    self._submit(key, *again)

        loaded.__qualname__ = getattr(apply, "__qualname__", key)  # for timings
        self.call_in_gui(loaded)

    def _arm(self) -> None:
        if not self._timer.isActive() and not self.closed:
            self._timer.start()

    @Slot()
    def _flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        self.flushes += 1
        self._begin_refresh()
        try:
            for fn in pending.values():
                self._run(fn)
        finally:
            self._end_refresh()

    def _begin_refresh(self) -> None:
        if not self._refreshing:
            self._busy_since = time.monotonic()
        self._refreshing += 1
        self._gui_free.clear()

    def _end_refresh(self) -> None:
        self._refreshing -= 1
        if not self._refreshing:
            self._gui_free.set()

    def flush_now(self) -> None:
        """Run every pending refresh at once, loads included (tests)."""
        self._timer.stop()
        self._inline = True
        try:
            self._flush()
        finally:
            self._inline = False

    @Slot(object)
    def _run(self, fn: Callable[[], Any]) -> None:
        if self.closed:
            return
        start = time.perf_counter()
        self._begin_refresh()
        try:
            fn()
        except Exception:  # a broken panel never takes the window down
            logger.exception("GUI update %r failed", fn)
        finally:
            self._end_refresh()
        if self.timings is not None:
            name = getattr(fn, "__qualname__", type(fn).__qualname__)
            count, total, worst = self.timings.get(name, (0, 0.0, 0.0))
            spent = time.perf_counter() - start
            self.timings[name] = (count + 1, total + spent, max(worst, spent))

    def close(self) -> None:
        self.closed = True
        self._gui_free.set()  # nobody waits for a window that is gone
        self._timer.stop()
        with self._lock:
            self._pending.clear()
        if self._reader is not None:
            # The store closes next: let a read in progress finish first.
            self._reader.shutdown(wait=False, cancel_futures=True)
            wait(list(self._futures), timeout=CLOSE_WAIT)


class QtPluginHost:
    """The :class:`storeapp.listeners.api.PluginHost` given to plugins in the app."""

    def __init__(
        self,
        store: Any,
        data_dir: Any,
        bridge: GuiBridge,
        settings: Any,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.data_dir = data_dir
        self.bridge = bridge
        self._settings = settings
        self._notify = notify
        #: The plugin manager, set by the composition root once it exists.
        self.plugins: PluginDirectory | None = None

    def call_in_gui(self, fn: Callable[[], Any]) -> None:
        self.bridge.call_in_gui(fn)

    def coalesce(self, key: str, fn: Callable[[], Any]) -> None:
        self.bridge.coalesce(key, fn)

    def coalesce_load(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        self.bridge.coalesce_load(key, load, apply)

    def yield_to_gui(self) -> None:
        self.bridge.yield_to_gui()

    def notify(self, message: str) -> None:
        notify = self._notify
        if notify is not None:
            # Coalesced: a burst of failures shows the latest, not 2,000 repaints.
            self.bridge.coalesce("host.notify", lambda: notify(message))

    def setting(self, key: str, default: Any = None) -> Any:
        if self._settings is None:
            return default
        return coerce_setting(self._settings.value(key, default), default)

    def set_setting(self, key: str, value: Any) -> None:
        if self._settings is not None:
            self._settings.setValue(key, value)

    def plugin_records(self) -> list[PluginRecord]:
        return self.plugins.records() if self.plugins is not None else []

    def plugin_for_module(self, module: str) -> str | None:
        return self.plugins.plugin_for_module(module) if self.plugins is not None else None
