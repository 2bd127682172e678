"""When the timeline catches up with the recorder, and how far at a time.

The view, not the buffer, is what costs GUI time: a tree view lays out
every row again after each insertion. So the timeline shows the newest
``inspector/view_rows`` sends (default 2,000; filters and Export see the
whole buffer), catches up less often the longer it is
(:meth:`CatchUp.interval`), and adds sends in slices: batches of
:data:`VIEW_BATCH` until :data:`VIEW_BUDGET` seconds are spent, then again
:data:`CATCH_UP_SECONDS` later, so a burst never holds the GUI thread for
one long update and the event loop paints and takes input in between.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from storeapp.listeners.inspector.recorder import Drained, SendBuffer
from storeapp.listeners.inspector.timeline import TimelineModel

__all__ = ["CATCH_UP_SECONDS", "COALESCE_SECONDS", "VIEW_BATCH", "VIEW_BUDGET", "CatchUp"]

#: The bridge's coalescing period: the timeline never updates faster.
COALESCE_SECONDS = 0.05
#: A view update appends sends in batches of VIEW_BATCH (~20 cells a send)
#: until it has used VIEW_BUDGET seconds, then comes back after
#: CATCH_UP_SECONDS for the rest.
VIEW_BATCH = 25
VIEW_BUDGET = 0.008
CATCH_UP_SECONDS = 0.015


class CatchUp:
    """Brings a :class:`TimelineModel` up to date with a :class:`SendBuffer`
    (GUI thread).

    The plugin drains the buffer and hands each :class:`Drained` to
    :meth:`note` (what changed in place, kept until the view shows it), then
    calls :meth:`due`: catch up now if the view's interval has passed,
    otherwise a single-shot timer calls ``wake`` (the plugin's flush, through
    the host) when it has. While :attr:`paused`, sends are still recorded
    and nothing reaches the view.
    """

    def __init__(self, buffer: SendBuffer, wake: Callable[[], None]) -> None:
        self.buffer = buffer
        self._wake = wake
        self.model: TimelineModel | None = None
        self._timer: QTimer | None = None
        #: The view is frozen (recording goes on).
        self.paused = False
        # Sends changed in place since the view last caught up (paused or throttled).
        self._touched: set[int] = set()
        self._all_touched = False
        self._last_sync = 0.0
        #: How many times the timeline caught up with the buffer (tests).
        self.updates = 0

    def attach(self, model: TimelineModel, parent: QObject) -> None:
        """Follow ``model``; the timer lives (and dies) with ``parent``."""
        self.model = model
        self._timer = QTimer(parent)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._wake)

    def detach(self) -> None:
        """The panel is gone: forget its model and its timer."""
        self.model = None
        self._timer = None

    def note(self, drained: Drained) -> None:
        """Remember the sends that changed in place until the view shows them."""
        self._touched |= drained.updated
        if drained.all_updated or len(self._touched) >= self.buffer.maxlen:
            self._all_touched = True
            self._touched.clear()

    def forget_changes(self) -> None:
        """The view was rebuilt from the buffer: it shows every change."""
        self._touched = set()
        self._all_touched = False

    def interval(self) -> float:
        """Seconds between two view updates: ~50 us a row (the tree view's
        relayout, in C++, costs a few us a row), so updating takes ~10% of
        the GUI thread at most; 50 ms to 1 s."""
        rows = self.model.rowCount() if self.model is not None else 0
        return min(1.0, max(COALESCE_SECONDS, rows * 50e-6))

    def due(self) -> None:
        """After a drain: catch up now (one slice of :data:`VIEW_BUDGET`) if
        the view is due, else have the timer come back when it is; nothing
        while paused. A view that stopped mid-way is due sooner
        (:data:`CATCH_UP_SECONDS`)."""
        model = self.model
        if self.paused or model is None:
            return
        interval = CATCH_UP_SECONDS if model.behind else self.interval()
        wait = self._last_sync + interval - time.monotonic()
        if wait > 0.001:
            timer = self._timer
            if timer is not None and not timer.isActive():
                timer.start(max(1, int(wait * 1000)))
            return
        self.sync(VIEW_BUDGET)

    def sync(self, budget: float | None = None) -> None:
        """Bring the timeline up to date with the buffer, now; with a
        ``budget`` (seconds), stop adding sends when it is spent and come
        back soon for the rest."""
        model = self.model
        if model is None:
            return
        if self._timer is not None:
            self._timer.stop()
        self.updates += 1
        updated, self._touched = self._touched, set()
        everything, self._all_touched = self._all_touched, False
        if budget is None:
            model.sync(self.buffer, updated, everything)
        else:
            deadline = time.monotonic() + budget
            model.sync(self.buffer, updated, everything, VIEW_BATCH)
            while model.behind and time.monotonic() < deadline:
                model.sync(self.buffer, limit=VIEW_BATCH)
        self._last_sync = time.monotonic()
        if model.behind and self._timer is not None:
            self._timer.start(int(CATCH_UP_SECONDS * 1000))

    def count_text(self) -> str:
        """How much the view shows of what is recorded (and, paused, how much waits)."""
        model, buffer = self.model, self.buffer
        if model is None:
            return ""
        shown, kept = model.rowCount(), len(buffer)
        newest = " (the newest)" if shown == model.max_rows < kept else ""
        text = f"{shown:,} shown{newest}, {kept:,} recorded (max {buffer.maxlen:,})"
        if self.paused:
            waiting = buffer.end - model.synced_to + buffer.pending_count()
            text = f"Paused, {waiting:,} new; {text}"
        return text
