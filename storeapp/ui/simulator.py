"""The rush-hour simulator's window side: a worker thread and a progress dialog."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from storeapp.domain.simulation import SimulationResult, simulate_orders

__all__ = ["Simulation", "SimulationResult", "summary"]

logger = logging.getLogger("storeapp.ui")


class Simulation(QObject):
    """Runs :func:`simulate_orders` in a worker thread.

    Progress reaches the GUI thread through queued Qt signals, at most ~10
    times a second; Cancel sets an event the worker checks between orders.
    """

    progressed = Signal(object)
    finished = Signal(object)

    #: Seconds the worker sleeps after each order. Sleeping surely releases
    #: the GIL, so the GUI thread gets its turn (a worker that only drops the
    #: GIL around SQLite calls can starve it); ~10 % of the throughput.
    pause = 0.001

    def __init__(
        self,
        store: Any,
        count: int,
        parent: QWidget | None = None,
        seed: int | None = None,
        show_dialog: bool = True,
        yield_to_gui: Callable[[], object] | None = None,
        supplier: bool = True,
    ) -> None:
        super().__init__(parent)
        #: Whether a supplier restocks during the rush (see storeapp.domain.simulation).
        self.supplier = supplier
        self.store = store
        self.yield_to_gui = yield_to_gui
        self.count = count
        self.seed = seed
        self.cancel_event = threading.Event()
        self.result: SimulationResult | None = None
        # Not ``thread``: that is QObject.thread(), the Qt thread it lives in.
        self.worker: threading.Thread | None = None
        self.dialog: QProgressDialog | None = None
        if show_dialog:
            self.dialog = QProgressDialog(
                f"Placing {count:,} random orders…", "Cancel", 0, count, parent
            )
            self.dialog.setObjectName("simulationDialog")
            self.dialog.setWindowTitle("Rush hour")
            self.dialog.setWindowModality(Qt.WindowModality.NonModal)
            self.dialog.setMinimumDuration(0)
            self.dialog.setAutoClose(False)
            self.dialog.setAutoReset(False)
            self.dialog.canceled.connect(self.cancel)
            self.dialog.setMinimumWidth(420)
        self.progressed.connect(self._on_progress, Qt.ConnectionType.QueuedConnection)
        self.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        if self.dialog is not None:
            self.dialog.setValue(0)
            self.dialog.show()
        self.worker = threading.Thread(target=self._work, name="rush-hour", daemon=True)
        self.worker.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    def is_running(self) -> bool:
        return self.worker is not None and self.worker.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker thread to end (at most ``timeout`` seconds)."""
        if self.worker is not None:
            self.worker.join(timeout)

    def _work(self) -> None:
        try:
            result = simulate_orders(
                self.store,
                self.count,
                seed=self.seed,
                cancel=self.cancel_event,
                progress=lambda r: self.progressed.emit(_copy(r)),
                pause=self.pause,
                between=self.yield_to_gui,
                supplier=self.supplier,
            )
        except Exception as exc:  # never a traceback for the cashier
            logger.exception("Simulation failed")
            result = SimulationResult(requested=self.count, errors=[f"{type(exc).__name__}: {exc}"])
        self.result = result
        self.finished.emit(result)

    def _on_progress(self, result: SimulationResult) -> None:
        if self.dialog is None:
            return
        done = result.attempted
        rate = result.rate
        eta = (self.count - done) / rate if rate > 0 else 0
        self.dialog.setValue(min(done, self.count))
        self.dialog.setLabelText(
            f"{done:,} of {self.count:,} orders · {rate:,.0f} orders/s · ETA {eta:,.0f} s\n"
            f"placed {result.placed:,} · out of stock {result.out_of_stock:,} · "
            f"supplier deliveries {result.deliveries:,}"
        )

    def _on_finished(self, result: SimulationResult) -> None:
        if self.dialog is not None:
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None


def _copy(result: SimulationResult) -> SimulationResult:
    return SimulationResult(
        requested=result.requested,
        placed=result.placed,
        out_of_stock=result.out_of_stock,
        rejected=result.rejected,
        deliveries=result.deliveries,
        delivered=result.delivered,
        cancelled=result.cancelled,
        elapsed=result.elapsed,
    )


def summary(result: SimulationResult) -> str:
    """Two lines at most under the cart (the tooltip has it whole)."""
    text = (
        f"Rush hour {'cancelled' if result.cancelled else 'done'}: "
        f"{result.placed:,} orders placed, "
        f"{result.out_of_stock:,} out of stock"
    )
    if result.rejected:
        text += f", {result.rejected:,} rejected"
    if result.deliveries:
        text += f", {result.delivered:,} units restocked"
    if result.elapsed:
        text += f" in {result.elapsed:.1f} s ({result.rate:,.0f}/s)"
    return text + "."
