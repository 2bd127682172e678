"""The signal inspector: who listens to what, and what every send did.

Two views in one dock:

* **Wiring**: every signal of the app (the domain's ``ALL_SIGNALS``,
  ``plugin_state_changed`` and ``receiver_failed``) with each connected
  receiver: its qualified name, the plugin it belongs to, its sender filter,
  weak or strong, immediate or on commit, and its ``dispatch_uid``. A signal
  nobody listens to is flagged. It follows plugins being toggled and
  receivers being connected, and has a Refresh button.
* **Timeline**: one row per send (time, signal, sender, arguments, total
  duration, outcome) with one child row per receiver (name, plugin,
  duration, status, result or exception); plugins that are disabled but
  listen to the signal show as ``skipped: plugin disabled``. Clicking a row
  shows its details, with the traceback of a failed receiver. Filters by
  signal and by plugin, Pause (sends are still recorded; the view catches up
  on resume), Clear and Export to JSON lines.

How it stays cheap: while enabled it attaches itself as the dispatch
observer (:func:`storeapp.domain.dispatch.set_observer`); each send hands it
a :class:`~storeapp.domain.dispatch.SendRecord` (strings only, never an ORM
object) in the sender's thread. The observer appends the record to a
lock-protected pending list and asks ``host.coalesce`` for one flush; the
flush (GUI thread, at most ~20 a second) moves the pending records into a
bounded ring buffer (:class:`SendBuffer`, setting ``inspector/max_sends``,
default 10,000) and updates the :class:`TimelineModel` with one batch of
removals from the front, rewrites of the records whose deferred receivers
ran (or were dropped) since, and one batch of insertions at the end.
Disabled, it detaches the observer and dispatch runs its fast path.

The view, not the buffer, is what costs GUI time. Its cells live in C++
(:class:`TimelineModel` is a :class:`~storeapp.listeners.cells.CellModel`), so
laying out and painting never call into Python, where each call would wait
for the GIL while a worker thread is busy. The price: each shown send's
cells are written once from Python (~25 us a row), and they take ~0.75 KB of
C++ memory each (2,000 sends with their receivers, ~7,000 rows: ~30 MB).
Still, a tree view lays out every row again after each insertion, so the
timeline shows the newest ``inspector/view_rows`` sends (default 2,000;
filters and Export see the whole buffer), and catches up less often the
longer it is (:meth:`InspectorPlugin.view_interval`).

The top of this module (:class:`SendBuffer` and the formatting helpers)
uses no Qt, so it can be tested without a QApplication.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from storeapp.domain import dispatch
from storeapp.domain.dispatch import (
    ReceiverCall,
    ReceiverInfo,
    ReceiverStatus,
    SendRecord,
    Signal,
    receiver_failed,
    safe_repr,
)
from storeapp.domain.signals import ALL_SIGNALS
from storeapp.listeners.api import (
    DockPlacement,
    ListenerPlugin,
    PluginHost,
    PluginState,
    coerce_setting,
    plugin_state_changed,
)

__all__ = [
    "DEFAULT_MAX_SENDS",
    "Drained",
    "InspectorPanel",
    "InspectorPlugin",
    "MAX_SENDS_SETTING",
    "VIEW_ROWS_SETTING",
    "SendBuffer",
    "TimelineModel",
    "WATCHED_SIGNALS",
    "WiringModel",
    "format_time",
    "outcome",
    "record_to_dict",
    "total_duration",
]

logger = logging.getLogger("storeapp.listeners.inspector")

DEFAULT_MAX_SENDS = 10_000
MAX_SENDS_SETTING = "inspector/max_sends"
#: The timeline shows the newest sends only (a tree view lays every row out
#: again after each insertion; see InspectorPlugin.view_interval).
DEFAULT_VIEW_ROWS = 2_000
VIEW_ROWS_SETTING = "inspector/view_rows"
MAX_SENDS_LIMIT = 1_000_000

#: Every signal the wiring view lists (and the signal filter offers first).
WATCHED_SIGNALS: tuple[Signal, ...] = (*ALL_SIGNALS, plugin_state_changed, receiver_failed)

#: The bridge's coalescing period: the timeline never updates faster.
COALESCE_SECONDS = 0.05
#: A view update appends sends in batches of VIEW_BATCH (~20 cells a send)
#: until it has used VIEW_BUDGET seconds, then comes back after
#: CATCH_UP_SECONDS for the rest: a burst never holds the GUI thread for one
#: long update, and the event loop runs (paints, input) in between.
VIEW_BATCH = 25
VIEW_BUDGET = 0.008
CATCH_UP_SECONDS = 0.015


# ==========================================================================
# The Qt-free part: the ring buffer and the formatting helpers
# ==========================================================================


@dataclass(frozen=True, slots=True)
class Drained:
    """What one :meth:`SendBuffer.drain` moved into the ring."""

    #: ``(arrival, record)`` pairs appended to the ring, oldest first.
    added: list[tuple[int, SendRecord]]
    #: How many records left the ring (or never reached it) for lack of room.
    evicted: int
    #: Seqs of records in the ring that changed in place since the last drain.
    updated: frozenset[int]
    #: True if too many changed to track one by one: treat every row as changed.
    all_updated: bool = False


class SendBuffer:
    """A bounded record of sends: the last ``maxlen`` :class:`SendRecord` s.

    Two sides:

    * any thread: :meth:`push` (a record was sent) and :meth:`touch` (a
      record changed in place: a deferred receiver ran or was dropped). Both
      take a lock, append, and answer whether the owner must be asked for a
      :meth:`drain` (True only when nothing was waiting already);
    * the owner (the GUI thread): :meth:`drain` moves the pending records into
      the ring, evicting the oldest; the ring is read with :meth:`entries`,
      :meth:`position` and friends.

    Each record gets an *arrival* number, in the order :meth:`push` saw them
    (not its ``seq``: a send made by a receiver arrives before the send that
    caused it). Arrivals in the ring are consecutive, so the ring is a window
    ``[first, end)`` of arrivals. Memory is bounded: the ring and the pending
    list each hold at most ``maxlen`` records, and the set of changed seqs is
    replaced by an "everything changed" flag once it reaches ``maxlen``.
    """

    def __init__(self, maxlen: int = DEFAULT_MAX_SENDS) -> None:
        self._maxlen = _check_maxlen(maxlen)
        self._lock = threading.Lock()
        # Pending side (any thread, under the lock).
        self._pending: deque[tuple[int, SendRecord]] = deque(maxlen=self._maxlen)
        self._touched: set[int] = set()
        self._touched_all = False
        self._next_arrival = 0
        # Ring side (the owner's thread only).
        self._ring: deque[tuple[int, SendRecord]] = deque()
        self._where: dict[int, int] = {}  # seq -> arrival, for records in the ring
        self._end = 0  # arrival after the newest record the ring has taken
        #: Records dropped for lack of room since creation (not by clear()).
        self.evicted = 0

    # -- any thread ------------------------------------------------------------

    @property
    def maxlen(self) -> int:
        return self._maxlen

    def push(self, record: SendRecord) -> bool:
        """Queue ``record``; True if a drain should be scheduled."""
        with self._lock:
            idle = not self._pending and not self._touched and not self._touched_all
            self._pending.append((self._next_arrival, record))
            self._next_arrival += 1
        return idle

    def touch(self, seq: int) -> bool:
        """Note that the record ``seq`` changed; True if a drain should be scheduled."""
        with self._lock:
            idle = not self._pending and not self._touched and not self._touched_all
            if not self._touched_all:
                self._touched.add(seq)
                if len(self._touched) >= self._maxlen:
                    self._touched.clear()
                    self._touched_all = True
        return idle

    def pending_count(self) -> int:
        with self._lock:
            return len(self._pending)

    # -- the owner's thread ----------------------------------------------------

    def drain(self) -> Drained:
        """Move the pending records into the ring (oldest evicted first)."""
        with self._lock:
            pending, self._pending = self._pending, deque(maxlen=self._maxlen)
            touched, self._touched = self._touched, set()
            touched_all, self._touched_all = self._touched_all, False
        evicted = 0
        if pending:
            # Records that overflowed the pending list never reached the ring.
            evicted += pending[0][0] - self._end
            if len(pending) >= self._maxlen:
                evicted += len(self._ring)
                self._ring.clear()
                self._where.clear()
            ring, where = self._ring, self._where
            for arrival, record in pending:
                if len(ring) >= self._maxlen:
                    self._pop_oldest()
                    evicted += 1
                ring.append((arrival, record))
                where[record.seq] = arrival
            self._end = pending[-1][0] + 1
            self.evicted += evicted
        updated = frozenset(seq for seq in touched if seq in self._where)
        return Drained(list(pending), evicted, updated, touched_all)

    def _pop_oldest(self) -> None:
        arrival, record = self._ring.popleft()
        if self._where.get(record.seq) == arrival:
            del self._where[record.seq]

    def clear(self) -> int:
        """Forget every record (pending ones too); returns how many there were."""
        with self._lock:
            pending = len(self._pending)
            self._pending.clear()
            self._touched.clear()
            self._touched_all = False
            self._end = self._next_arrival
        dropped = len(self._ring) + pending
        self._ring.clear()
        self._where.clear()
        return dropped

    def resize(self, maxlen: int) -> int:
        """Change the capacity; returns how many of the oldest records left."""
        maxlen = _check_maxlen(maxlen)
        with self._lock:
            self._maxlen = maxlen
            self._pending = deque(self._pending, maxlen=maxlen)
        evicted = 0
        while len(self._ring) > maxlen:
            self._pop_oldest()
            evicted += 1
        self.evicted += evicted
        return evicted

    def __len__(self) -> int:
        return len(self._ring)

    def __iter__(self) -> Iterator[SendRecord]:
        return iter(self.records())

    def records(self) -> list[SendRecord]:
        """The records in the ring, oldest first (a copy)."""
        return [record for _arrival, record in self._ring]

    @property
    def first(self) -> int:
        """The arrival of the oldest record in the ring (``end`` if empty)."""
        return self._ring[0][0] if self._ring else self._end

    @property
    def end(self) -> int:
        """The arrival after the newest record the ring has taken."""
        return self._end

    def position(self, seq: int) -> int | None:
        """The arrival of the record ``seq`` if it is in the ring."""
        return self._where.get(seq)

    def entries(self, start: int = 0) -> list[tuple[int, SendRecord]]:
        """``(arrival, record)`` for every record in the ring with ``arrival >= start``."""
        skip = max(0, start - self.first)
        return list(itertools.islice(self._ring, skip, None))


def _check_maxlen(maxlen: Any) -> int:
    if isinstance(maxlen, bool) or not isinstance(maxlen, int):
        raise TypeError(f"maxlen must be an int, not {type(maxlen).__name__}")
    if not 1 <= maxlen <= MAX_SENDS_LIMIT:
        raise ValueError(f"maxlen must be between 1 and {MAX_SENDS_LIMIT:,}")
    return maxlen


def count_setting(value: Any, default: int) -> int:
    """A count from a setting or a caller (text from an .ini file is read as
    :func:`~storeapp.listeners.api.coerce_setting` reads it), kept within
    1..``MAX_SENDS_LIMIT``."""
    return min(max(coerce_setting(value, default), 1), MAX_SENDS_LIMIT)


def format_time(timestamp: float) -> str:
    """``HH:MM:SS.mmm`` in local time."""
    whole = int(timestamp)
    millis = min(int((timestamp - whole) * 1000), 999)
    return time.strftime("%H:%M:%S", time.localtime(whole)) + f".{millis:03d}"


def format_ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.3f}"


def total_duration(record: SendRecord) -> float | None:
    """The time the receivers took, in seconds (None if none ran)."""
    durations = [c.duration for c in list(record.calls) if c.duration is not None]
    return sum(durations) if durations else None


class Outcome(StrEnum):
    """What a send came to, in a word; it picks the send's colour. A send
    whose receivers fared differently counts as the first of failed,
    dropped, deferred that happened to one of them."""

    FAILED = "failed"
    DROPPED = "dropped by rollback"
    DEFERRED = "deferred"
    OK = "ok"
    SKIPPED = "skipped"
    NO_RECEIVERS = "no receivers"
    MUTED = "muted"


def summarise(record: SendRecord) -> tuple[Outcome, str]:
    """A send's :class:`Outcome` and its phrase: ``ok``, ``1 failed``,
    ``1 failed, 2 deferred``, ..."""
    if record.muted:
        return Outcome.MUTED, "muted"
    failed = deferred = dropped = ran = 0
    calls = list(record.calls)
    for call in calls:
        status = call.status
        if status.failed:
            failed += 1
        elif status is ReceiverStatus.DEFERRED:
            deferred += 1
        elif status is ReceiverStatus.DROPPED:
            dropped += 1
        elif status.ran:
            ran += 1
    parts = []
    if failed:
        parts.append(f"{failed} failed" + ("" if record.robust else " (raised to the sender)"))
    if deferred:
        parts.append(f"{deferred} deferred")
    if dropped:
        parts.append(f"{dropped} dropped by rollback")
    if parts:
        kind = Outcome.FAILED if failed else Outcome.DROPPED if dropped else Outcome.DEFERRED
        return kind, ", ".join(parts)
    if ran:
        return Outcome.OK, "ok"
    return (Outcome.SKIPPED, "skipped") if calls else (Outcome.NO_RECEIVERS, "no receivers")


def outcome(record: SendRecord) -> str:
    """One phrase for a send: ``ok``, ``1 failed``, ``2 deferred``, ..."""
    return summarise(record)[1]


def record_to_dict(
    record: SendRecord, plugin_of: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """A send as plain JSON-ready data (what Export writes, one per line)."""
    duration = total_duration(record)
    return {
        "seq": record.seq,
        "time": record.time,
        "time_iso": datetime.fromtimestamp(record.time)
        .astimezone()
        .isoformat(timespec="milliseconds"),
        "signal": record.signal,
        "sender": record.sender,
        "kwargs": record.kwargs,
        "robust": record.robust,
        "thread": record.thread,
        "muted": record.muted,
        "outcome": outcome(record),
        "failed": record.failed,
        "duration_ms": None if duration is None else round(duration * 1000, 6),
        "calls": [
            {
                "receiver": call.receiver,
                "module": call.module,
                "plugin": plugin_of(call.module) if plugin_of is not None else None,
                "status": call.label,
                "on_commit": call.on_commit,
                "duration_ms": None if call.duration is None else round(call.duration * 1000, 6),
                "result": call.result,
                "error": call.error,
                "traceback": call.traceback,
            }
            for call in list(record.calls)
        ],
    }


def sender_label(sender: Any) -> str:
    """A connection's sender filter: ``any`` or the sender's name."""
    if sender is None or sender is dispatch.ANY:
        return "any"
    name = getattr(sender, "__name__", None)
    return name if isinstance(name, str) else safe_repr(sender, 60)


# ==========================================================================
# The Qt part
# ==========================================================================

import shiboken6  # noqa: E402  (Qt after the Qt-free part, on purpose)
from PySide6.QtCore import (  # noqa: E402
    QModelIndex,
    QPersistentModelIndex,
    QSignalBlocker,
    Qt,
    QThread,
    QTimer,
)
from PySide6.QtCore import Signal as QtSignal  # noqa: E402  (ours is dispatch.Signal)
from PySide6.QtGui import (  # noqa: E402
    QBrush,
    QFont,
    QFontDatabase,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from storeapp.listeners.api import RIGHT, CellModel, palette  # noqa: E402

Index = QModelIndex | QPersistentModelIndex

#: The status of a child row (a receiver call), or the outcome of a send.
STATUS_ROLE = Qt.ItemDataRole.UserRole + 1
#: The plugin label of a child row ("" for a send).
PLUGIN_ROLE = Qt.ItemDataRole.UserRole + 2
#: The send's seq (both levels).
SEQ_ROLE = Qt.ItemDataRole.UserRole + 3
#: The traceback of a failed receiver (None otherwise).
TRACEBACK_ROLE = Qt.ItemDataRole.UserRole + 4
#: Wiring view: True on a signal row with no receivers.
NO_RECEIVERS_ROLE = Qt.ItemDataRole.UserRole + 5

Colours = tuple[QBrush | None, QBrush | None]  # (background, foreground)

#: A send's colours by its outcome: failures red, rollbacks amber, deferred
#: receivers blue, sends nobody heard grey.
OUTCOME_COLOURS: dict[Outcome, Colours] = {
    Outcome.FAILED: (palette.ERROR_BG, palette.ERROR_FG),
    Outcome.DROPPED: (palette.WARN_BG, palette.WARN_FG),
    Outcome.DEFERRED: (None, palette.INFO_FG),
    Outcome.OK: (None, None),
    Outcome.SKIPPED: (None, palette.MUTED_FG),
    Outcome.NO_RECEIVERS: (None, palette.MUTED_FG),
    Outcome.MUTED: (None, palette.MUTED_FG),
}


def status_colours(status: ReceiverStatus) -> Colours:
    """A receiver call's colours, as a send's (failed, dropped, deferred, skipped)."""
    if status.failed:
        return OUTCOME_COLOURS[Outcome.FAILED]
    if status is ReceiverStatus.DROPPED:
        return OUTCOME_COLOURS[Outcome.DROPPED]
    if status.skipped:
        return OUTCOME_COLOURS[Outcome.SKIPPED]
    if status is ReceiverStatus.DEFERRED:
        return OUTCOME_COLOURS[Outcome.DEFERRED]
    return None, None


def _colour_roles(colours: Colours, rewrite: bool) -> dict[int, QBrush | None]:
    """Background and foreground roles for ``colours``; those without a colour
    are None (cleared) on a ``rewrite`` and left out otherwise."""
    background, foreground = colours
    roles: dict[int, QBrush | None] = {}
    if background is not None or rewrite:
        roles[Qt.ItemDataRole.BackgroundRole] = background
    if foreground is not None or rewrite:
        roles[Qt.ItemDataRole.ForegroundRole] = foreground
    return roles


class TimelineModel(CellModel):
    """Sends (top level, oldest first) with one child row per receiver call.

    The rows are a subsequence, in arrival order, of a :class:`SendBuffer`
    (those the filter accepts); :meth:`sync` brings them up to date in a few
    batches. Every cell is written from Python once, when its send arrives
    (and again when a deferred receiver of it runs or is dropped), so the
    view lays out and paints in C++, never waiting for the GIL while a
    worker thread runs Python (see :mod:`storeapp.listeners.cells`).

    A send's receiver rows are written when it is first expanded
    (:meth:`load_children`, connected to the view's ``expanded``); until
    then one placeholder row gives it its expand arrow. Most sends are never
    opened, and their receivers were two thirds of the cells: of the GUI
    thread's time during a burst, and of the memory of a full timeline.
    ``_rows`` mirrors the top-level rows as ``(arrival, record, children)``
    where ``children`` is the number of receiver rows written, or
    ``UNLOADED`` while the placeholder stands in for them.
    """

    UNLOADED = -1
    PLACEHOLDER = "…"

    COLUMNS = (
        "Time",
        "Signal / receiver",
        "Sender / plugin",
        "Duration (ms)",
        "Outcome / status",
        "Arguments / result",
    )
    TIME, NAME, SOURCE, DURATION, STATUS, DETAILS = range(6)

    #: Emitted after :meth:`rebuild` replaced every row (the shown details are stale).
    rebuilt = QtSignal()

    def __init__(
        self,
        plugin_of: Callable[[str], str] | None = None,
        parent: Any = None,
        max_rows: int = DEFAULT_VIEW_ROWS,
    ) -> None:
        super().__init__(self.COLUMNS, parent, right_aligned=(self.DURATION,))
        self._plugin_of = plugin_of or (lambda _module: "")
        #: At most this many sends are shown: the newest the filter accepts.
        self.max_rows = max(1, int(max_rows))
        self._rows: list[tuple[int, SendRecord, int]] = []  # (arrival, record, children)
        self._arrivals: list[int] = []
        self._synced_to = 0
        #: The last sync() stopped at its limit: more sends wait to be shown.
        self.behind = False
        self._accept: Callable[[SendRecord], bool] | None = None

    # -- our API -------------------------------------------------------------------

    @property
    def synced_to(self) -> int:
        """The arrival after the newest buffer entry this model has considered."""
        return self._synced_to

    def records(self) -> list[SendRecord]:
        """The sends shown, oldest first."""
        return [record for _a, record, _n in self._rows]

    def record_at(self, index: Index) -> SendRecord | None:
        """The send of a top-level or child index."""
        if not index.isValid() or index.model() is not self:
            return None
        parent = index.parent()
        row = parent.row() if parent.isValid() else index.row()
        return self._rows[row][1] if 0 <= row < len(self._rows) else None

    def call_at(self, index: Index) -> ReceiverCall | None:
        """The receiver call of a child index (None for a send or a placeholder)."""
        parent = index.parent() if index.isValid() else QModelIndex()
        if not parent.isValid() or not 0 <= parent.row() < len(self._rows):
            return None
        _arrival, record, children = self._rows[parent.row()]
        if not 0 <= index.row() < min(children, len(record.calls)):
            return None
        return record.calls[index.row()]

    def children_loaded(self, row: int) -> bool:
        """Whether the receiver rows of top-level ``row`` are written."""
        return 0 <= row < len(self._rows) and self._rows[row][2] != self.UNLOADED

    def load_children(self, index: Index) -> None:
        """Write the receiver rows of the send at ``index`` (a top-level
        index), replacing its placeholder; nothing if they are there."""
        if not index.isValid() or index.parent().isValid() or index.model() is not self:
            return
        row = index.row()
        if not self.children_loaded(row):
            arrival, record, _ = self._rows[row]
            parent = self.cell(row, 0)
            calls = list(record.calls)
            self._rows[row] = (arrival, record, len(calls))
            self.insert_rows(1, [self._call_cells(record, call) for call in calls], parent)
            self.remove_rows(0, 1, parent)  # after: the send never looks childless

    def row_of_seq(self, seq: int, buffer: SendBuffer) -> int:
        """The top-level row of the send ``seq`` (-1 if not shown)."""
        arrival = buffer.position(seq)
        return -1 if arrival is None else self._row_of_arrival(arrival)

    def set_filter(
        self,
        accept: Callable[[SendRecord], bool] | None,
        buffer: SendBuffer,
        upto: int | None = None,
    ) -> None:
        """Show only the sends ``accept`` takes, rebuilt from ``buffer``."""
        self._accept = accept
        self.rebuild(buffer, upto)

    def rebuild(self, buffer: SendBuffer, upto: int | None = None) -> None:
        """Show what ``buffer`` holds (before arrival ``upto``): every row is
        removed and the new ones inserted, then :attr:`rebuilt` is emitted."""
        self._check_thread()
        end = buffer.end if upto is None else upto
        accept = self._accept
        rows = [
            (arrival, record, 0)
            for arrival, record in buffer.entries(buffer.first)
            if arrival < end and (accept is None or accept(record))
        ][-self.max_rows :]
        self.clear_rows()
        self._rows, self._arrivals = [], []
        self._synced_to = end
        self.behind = False
        self._append(rows)
        self.rebuilt.emit()

    def sync(
        self,
        buffer: SendBuffer,
        updated: Iterable[int] = (),
        all_updated: bool = False,
        limit: int | None = None,
    ) -> tuple[int, int]:
        """Catch up with ``buffer``: remove the rows it evicted and those
        beyond :attr:`max_rows` (one batch at the front), rewrite the shown
        sends in ``updated`` (seqs; every row if ``all_updated``) with their
        children, where only cells that really changed emit ``dataChanged``,
        and append its new records the filter accepts (one batch at the end,
        then their children). With ``limit``, append at most that many (the
        oldest first) and leave the rest to a later call (:attr:`behind`).
        Returns (removed, inserted)."""
        self._check_thread()
        first = buffer.first
        accept = self._accept
        new = [
            (arrival, record, 0)
            for arrival, record in buffer.entries(max(self._synced_to, first))
            if accept is None or accept(record)
        ][-self.max_rows :]
        if limit is not None and len(new) > limit:
            new = new[:limit]
            self._synced_to = new[-1][0] + 1
            self.behind = True
        else:
            self._synced_to = buffer.end
            self.behind = False
        gone = bisect_left(self._arrivals, first)
        gone = max(gone, len(self._rows) + len(new) - self.max_rows)
        if gone:
            # The mirror still holds the rows while the view hears of their removal.
            self.remove_rows(0, gone)
            del self._rows[:gone]
            del self._arrivals[:gone]
        # Rewrite before appending: the new sends are written as they are now,
        # so those that changed before they were ever shown (most of them: the
        # transaction committed within the same flush) are not written twice.
        if all_updated:
            rows: Iterable[int] = range(len(self._rows))
        else:
            rows = sorted(r for r in (self.row_of_seq(s, buffer) for s in updated) if r >= 0)
        for row in rows:
            self._rewrite(row)
        self._append(new)
        return gone, len(new)

    # -- the cells -----------------------------------------------------------------

    def _append(self, rows: list[tuple[int, SendRecord, int]]) -> None:
        """Add ``rows`` at the end (one batch), a placeholder under each send
        that has receiver calls."""
        if not rows:
            return
        start = len(self._rows)
        self._rows.extend(rows)
        self._arrivals.extend(row[0] for row in rows)
        self.insert_rows(start, [self._send_cells(record) for _a, record, _n in rows])
        for row, (_arrival, record, _n) in enumerate(rows, start):
            if record.calls:
                self._add_placeholder(row)

    def _add_placeholder(self, row: int) -> None:
        arrival, record, _ = self._rows[row]
        self._rows[row] = (arrival, record, self.UNLOADED)
        self.insert_rows(
            0, [[{}, {Qt.ItemDataRole.DisplayRole: self.PLACEHOLDER}]], self.cell(row, 0)
        )

    def _rewrite(self, row: int) -> None:
        """Write the send of ``row`` again, and its receiver rows if they
        are loaded (adding the calls it gained)."""
        arrival, record, shown = self._rows[row]
        self.write_row(row, self._send_cells(record, rewrite=True))
        calls = list(record.calls)
        if shown == self.UNLOADED or not calls:
            return
        if shown == 0:  # it had no calls when it arrived
            self._add_placeholder(row)
            return
        parent = self.cell(row, 0)
        for child, call in enumerate(calls[:shown]):
            self.write_row(child, self._call_cells(record, call, rewrite=True), parent)
        if len(calls) > shown:
            self._rows[row] = (arrival, record, len(calls))
            self.insert_rows(
                shown, [self._call_cells(record, call) for call in calls[shown:]], parent
            )

    # Memory: a full timeline holds thousands of rows of six cells, so a
    # cell holds what its column shows and no more. The first column carries the row's
    # roles (status, seq, plugin, traceback); the name column the row's
    # tooltip. The cells of a new row leave out the roles that would be None:
    # a None only clears a role, which is work for nothing in a new cell.

    def _send_cells(self, record: SendRecord, rewrite: bool = False) -> list[dict[int, Any]]:
        kind, status = summarise(record)
        colours = _colour_roles(OUTCOME_COLOURS[kind], rewrite)
        texts = (
            format_time(record.time),
            record.signal,
            record.sender,
            format_ms(total_duration(record)),
            status,
            record.kwargs,
        )
        cells: list[dict[int, Any]] = [{**colours, Qt.ItemDataRole.DisplayRole: t} for t in texts]
        cells[self.TIME].update({STATUS_ROLE: status, SEQ_ROLE: record.seq, PLUGIN_ROLE: ""})
        cells[self.NAME][Qt.ItemDataRole.ToolTipRole] = (
            f"#{record.seq} {record.signal} from {record.sender}, thread "
            f"{record.thread}, {'send_robust' if record.robust else 'send'}"
        )
        cells[self.DURATION][Qt.ItemDataRole.TextAlignmentRole] = RIGHT
        cells[self.DETAILS][Qt.ItemDataRole.ToolTipRole] = record.kwargs
        return cells

    def _call_cells(
        self, record: SendRecord, call: ReceiverCall, rewrite: bool = False
    ) -> list[dict[int, Any]]:
        plugin = self._plugin_of(call.module)
        colours = _colour_roles(status_colours(call.status), rewrite)
        texts = (
            "",
            call.receiver,
            plugin,
            format_ms(call.duration),
            call.label,
            call.error if call.error is not None else (call.result or ""),
        )
        cells: list[dict[int, Any]] = [{**colours, Qt.ItemDataRole.DisplayRole: t} for t in texts]
        cells[self.TIME].update(
            {STATUS_ROLE: call.label, PLUGIN_ROLE: plugin, SEQ_ROLE: record.seq}
        )
        if call.traceback is not None or rewrite:
            cells[self.TIME][TRACEBACK_ROLE] = call.traceback
        if call.traceback:
            tip = f"{call.error}\n(click to see the traceback)"
        else:
            tip = f"{call.receiver} ({'on commit' if call.on_commit else 'immediate'})"
        cells[self.NAME][Qt.ItemDataRole.ToolTipRole] = tip
        if call.traceback or rewrite:
            cells[self.STATUS][Qt.ItemDataRole.ToolTipRole] = tip if call.traceback else None
        cells[self.DURATION][Qt.ItemDataRole.TextAlignmentRole] = RIGHT
        return cells

    def _row_of_arrival(self, arrival: int) -> int:
        i = bisect_left(self._arrivals, arrival)
        return i if i < len(self._arrivals) and self._arrivals[i] == arrival else -1

    def _check_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("TimelineModel may only be changed on its own (GUI) thread")


class WiringModel(QStandardItemModel):
    """Signals (top level) and their connected receivers (children)."""

    COLUMNS = ("Signal / receiver", "Plugin", "Sender filter", "Reference", "When", "dispatch_uid")
    NAME, PLUGIN, SENDER, REFERENCE, WHEN, UID = range(6)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(0, len(self.COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(self.COLUMNS))

    def populate(
        self, wiring: list[tuple[Signal, list[ReceiverInfo]]], plugin_of: Callable[[str], str]
    ) -> None:
        """Replace the rows with ``wiring`` (the headers stay)."""
        self.removeRows(0, self.rowCount())
        bold = QFont()
        bold.setBold(True)
        italic = QFont()
        italic.setItalic(True)
        for signal, infos in wiring:
            name = QStandardItem(signal.name)
            name.setToolTip((signal.__doc__ or "").strip() or signal.name)
            count = QStandardItem(
                f"{len(infos)} receiver{'s' if len(infos) != 1 else ''}"
                if infos
                else "no receivers"
            )
            row = [name, count] + [QStandardItem("") for _ in range(len(self.COLUMNS) - 2)]
            for item in row:
                item.setEditable(False)
                item.setData(not infos, NO_RECEIVERS_ROLE)
                if infos:
                    item.setFont(bold)
                else:
                    item.setFont(italic)
                    item.setForeground(palette.MUTED_FG)
                    item.setBackground(palette.QUIET_BG)
            if not infos:
                count.setToolTip("Nothing is connected: sending this signal calls nobody.")
            for info in infos:
                child = [
                    QStandardItem(info.name),
                    QStandardItem(plugin_of(info.module)),
                    QStandardItem(sender_label(info.sender)),
                    QStandardItem("weak" if info.weak else "strong"),
                    QStandardItem("on commit" if info.on_commit else "immediate"),
                    QStandardItem("" if info.dispatch_uid is None else str(info.dispatch_uid)),
                ]
                for item in child:
                    item.setEditable(False)
                    item.setData(False, NO_RECEIVERS_ROLE)
                child[0].setToolTip(f"{info.name}\nmodule {info.module}")
                name.appendRow(child)
            self.appendRow(row)


class InspectorPanel(QWidget):
    """The dock's content: a Timeline tab and a Wiring tab."""

    def __init__(
        self,
        plugin: InspectorPlugin,
        model: TimelineModel,
        wiring: WiringModel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("inspectorPanel")
        self.plugin = plugin
        self.model = model
        self.wiring_model = wiring

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("inspectorTabs")

        # -- the timeline tab
        timeline = QWidget(self.tabs)
        self.signal_filter = QComboBox(timeline)
        self.signal_filter.setObjectName("inspectorSignalFilter")
        self.signal_filter.addItem("All signals", None)
        self.signal_filter.setToolTip("Show only the sends of one signal.")
        self.plugin_filter = QComboBox(timeline)
        self.plugin_filter.setObjectName("inspectorPluginFilter")
        self.plugin_filter.addItem("All plugins", None)
        self.plugin_filter.setToolTip("Show only the sends a plugin's receivers took part in.")
        self.pause_button = QPushButton("Pause", timeline)
        self.pause_button.setObjectName("inspectorPause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip(
            "Freeze the view; sends are still recorded and shown on resume."
        )
        self.clear_button = QPushButton("Clear", timeline)
        self.clear_button.setObjectName("inspectorClear")
        self.export_button = QPushButton("Export…", timeline)
        self.export_button.setObjectName("inspectorExport")
        self.export_button.setToolTip(
            "Save every recorded send, with its receivers, as JSON lines."
        )
        self.count = QLabel(timeline)
        self.count.setObjectName("inspectorCount")

        self.view = QTreeView(timeline)
        self.view.setObjectName("inspectorTimeline")
        self.view.setModel(model)
        self.view.setUniformRowHeights(True)  # 10,000 rows stay cheap to lay out
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setToolTip(
            "Expand a send to see each receiver; click a failed one for its traceback."
        )
        header = self.view.header()
        header.setStretchLastSection(True)
        for column, width in ((0, 130), (1, 300), (2, 110), (3, 90), (4, 160)):
            header.resizeSection(column, width)
        self.details = QPlainTextEdit(timeline)
        self.details.setObjectName("inspectorTraceback")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setPlaceholderText(
            "Click a send or a receiver to see its details and traceback."
        )
        splitter = QSplitter(Qt.Orientation.Vertical, timeline)
        splitter.addWidget(self.view)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        bar = QHBoxLayout()
        bar.addWidget(QLabel("Signal:", timeline))
        bar.addWidget(self.signal_filter)
        bar.addWidget(QLabel("Plugin:", timeline))
        bar.addWidget(self.plugin_filter)
        bar.addStretch(1)
        bar.addWidget(self.count)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.clear_button)
        bar.addWidget(self.export_button)
        layout = QVBoxLayout(timeline)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(splitter)
        self.tabs.addTab(timeline, "Timeline")

        # -- the wiring tab
        wiring_tab = QWidget(self.tabs)
        self.wiring_summary = QLabel(wiring_tab)
        self.wiring_summary.setObjectName("inspectorWiringSummary")
        self.refresh_button = QPushButton("Refresh", wiring_tab)
        self.refresh_button.setObjectName("inspectorWiringRefresh")
        self.wiring_view = QTreeView(wiring_tab)
        self.wiring_view.setObjectName("inspectorWiring")
        self.wiring_view.setModel(wiring)
        self.wiring_view.setAlternatingRowColors(True)
        self.wiring_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.wiring_view.header().setStretchLastSection(True)
        self.wiring_view.header().resizeSection(0, 400)
        top = QHBoxLayout()
        top.addWidget(self.wiring_summary)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(wiring_tab)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.wiring_view)
        self.tabs.addTab(wiring_tab, "Wiring")

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.tabs)

        # Follow the newest send while the view is scrolled to the bottom.
        self._at_bottom = True
        model.rowsAboutToBeInserted.connect(self._remember_scroll)
        model.rowsInserted.connect(self._follow)
        model.rebuilt.connect(self.details.clear)

        self.view.expanded.connect(model.load_children)
        self.view.clicked.connect(self.show_details)
        self.view.activated.connect(self.show_details)  # double-click, Enter
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        self.signal_filter.currentIndexChanged.connect(self._filters_changed)
        self.plugin_filter.currentIndexChanged.connect(self._filters_changed)
        self.pause_button.toggled.connect(plugin.set_paused)
        self.clear_button.clicked.connect(plugin.clear)
        self.export_button.clicked.connect(self.export)
        self.refresh_button.clicked.connect(lambda _checked=False: plugin.refresh_wiring())

    # -- filters -------------------------------------------------------------------

    def selected_signal(self) -> str | None:
        return self.signal_filter.currentData()

    def selected_plugin(self) -> str | None:
        return self.plugin_filter.currentData()

    def _filters_changed(self, _index: int) -> None:
        self.plugin.apply_filters()

    def add_signal_names(self, names: Iterable[str]) -> None:
        """Offer more signals in the filter (in first-seen order)."""
        with QSignalBlocker(self.signal_filter):
            for name in names:
                if self.signal_filter.findData(name) < 0:
                    self.signal_filter.addItem(name, name)

    def set_plugin_choices(self, choices: list[tuple[str, str]]) -> None:
        """``(name, label)`` pairs; the current choice is kept if still offered."""
        current = self.selected_plugin()
        with QSignalBlocker(self.plugin_filter):
            self.plugin_filter.clear()
            self.plugin_filter.addItem("All plugins", None)
            for name, label in choices:
                self.plugin_filter.addItem(label, name)
            at = self.plugin_filter.findData(current) if current is not None else 0
            self.plugin_filter.setCurrentIndex(max(at, 0))
        if current is not None and self.selected_plugin() != current:
            self.plugin.apply_filters()

    # -- details -------------------------------------------------------------------

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.show_details(current)

    def show_details(self, index: QModelIndex) -> None:
        """Show the send or receiver call at ``index`` (its traceback if it failed)."""
        record = self.model.record_at(index)
        if record is None:
            self.details.clear()
            return
        call = self.model.call_at(index)
        if call is None:
            lines = [
                f"{format_time(record.time)}  {record.signal}  (#{record.seq})",
                f"sender: {record.sender}",
                f"arguments: {record.kwargs or '(none)'}",
                f"thread: {record.thread}; {'send_robust' if record.robust else 'send'}",
                f"outcome: {outcome(record)}; "
                f"receivers took {format_ms(total_duration(record)) or '0'} ms",
                "",
            ]
            lines += [
                f"  {c.label:<30} {c.receiver}" + (f"  {c.error}" if c.error else "")
                for c in list(record.calls)
            ]
            self.details.setPlainText("\n".join(lines))
            return
        plugin = self.plugin.plugin_of(call.module) or "(none)"
        lines = [
            call.receiver,
            f"plugin: {plugin}; {'on commit' if call.on_commit else 'immediate'}",
            f"signal: {record.signal} from {record.sender} (#{record.seq})",
            f"status: {call.label}",
        ]
        if call.duration is not None:
            lines.append(f"duration: {format_ms(call.duration)} ms")
        if call.result is not None:
            lines.append(f"result: {call.result}")
        if call.error is not None:
            lines.append(f"error: {call.error}")
        if call.traceback:
            lines += ["", call.traceback.rstrip()]
        self.details.setPlainText("\n".join(lines))

    # -- export --------------------------------------------------------------------

    def export(self) -> None:
        """Ask where, then write every recorded send as JSON lines."""
        default = Path(self.plugin.host.data_dir) / datetime.now().strftime(
            "signals-%Y%m%d-%H%M%S.jsonl"
        )
        path, _filter = QFileDialog.getSaveFileName(
            self, "Export the signal timeline", str(default), "JSON lines (*.jsonl);;All files (*)"
        )
        if not path:
            return
        try:
            count = self.plugin.export_jsonl(path)
        except OSError as exc:
            self.count.setText(f"Export failed: {exc.strerror or exc}")
            return
        self.plugin.host.notify(f"Exported {count:,} send{'s' if count != 1 else ''} to {path}")

    # -- scrolling -----------------------------------------------------------------

    def _remember_scroll(self, parent: QModelIndex, *_args: Any) -> None:
        if not parent.isValid():
            bar = self.view.verticalScrollBar()
            self._at_bottom = bar.value() >= bar.maximum()

    def _follow(self, parent: QModelIndex, *_args: Any) -> None:
        if not parent.isValid() and self._at_bottom:
            self.view.scrollToBottom()


class SendObserver:
    """The dispatch observer. Called in the sender's thread, so it only
    queues (a lock and an append) and asks for one coalesced flush."""

    __slots__ = ("_buffer", "_wake", "skipped_by_signal")

    def __init__(self, buffer: SendBuffer, wake: Callable[[], None]) -> None:
        self._buffer = buffer
        self._wake = wake
        #: signal name -> ``(receiver, module, status)`` of each receiver of a
        #: plugin that listens to it but is off; replaced whole (any thread).
        self.skipped_by_signal: dict[str, tuple[tuple[str, str, ReceiverStatus], ...]] = {}

    def sent(self, record: SendRecord) -> None:
        skipped = self.skipped_by_signal.get(record.signal)
        if skipped:
            record.calls.extend(
                ReceiverCall(name, module, status) for name, module, status in skipped
            )
        if self._buffer.push(record):
            self._wake()

    def updated(self, record: SendRecord) -> None:
        if self._buffer.touch(record.seq):
            self._wake()


class InspectorPlugin(ListenerPlugin):
    name = "inspector"
    title = "Signal inspector"
    description = (
        "Shows the wiring (every signal and who listens to it: plugin, sender "
        "filter, weak or strong, immediate or on commit, dispatch_uid) and a live "
        "timeline of every send with each receiver's duration and outcome, "
        "including deferred receivers that ran after the commit or were dropped "
        "by a rollback, and failures with their traceback. Keeps the last "
        "inspector/max_sends sends (default 10,000); filters, pause, clear and "
        "export to JSON lines. While disabled, signals are sent without any "
        "instrumentation."
    )
    listens_to = ("plugin_state_changed",)
    order = 10
    enabled_by_default = True
    panel_object_name = "signalInspectorDock"
    dock = DockPlacement("bottom", slot=1, share=55)

    FLUSH_KEY = "inspector"
    WIRING_KEY = "inspector.wiring"

    def __init__(self, host: PluginHost, *, max_sends: int | None = None) -> None:
        super().__init__(host)
        if max_sends is None:
            try:
                max_sends = count_setting(
                    host.setting(MAX_SENDS_SETTING, DEFAULT_MAX_SENDS), DEFAULT_MAX_SENDS
                )
            except Exception:
                logger.exception("Could not read %s", MAX_SENDS_SETTING)
                max_sends = DEFAULT_MAX_SENDS
        self.buffer = SendBuffer(max_sends)
        try:
            view_rows = host.setting(VIEW_ROWS_SETTING, DEFAULT_VIEW_ROWS)
        except Exception:
            logger.exception("Could not read %s", VIEW_ROWS_SETTING)
            view_rows = DEFAULT_VIEW_ROWS
        self._view_rows = count_setting(view_rows, DEFAULT_VIEW_ROWS)
        #: The signals the wiring view lists.
        self.signals: tuple[Signal, ...] = WATCHED_SIGNALS
        #: The dispatch observer, attached while the plugin is enabled.
        self.observer = SendObserver(self.buffer, self._schedule_flush)
        self._labels: dict[str, str] = {}
        self._shown_wiring: Any = None
        self._shown_choices: list[tuple[str, str]] = []
        self._watching: list[Signal] = []
        self._paused = False
        # Sends changed in place since the view last caught up (paused or throttled).
        self._touched_unshown: set[int] = set()
        self._all_touched_unshown = False
        self._last_sync = 0.0
        self._sync_timer: QTimer | None = None
        #: How many times the timeline caught up with the buffer (tests).
        self.view_updates = 0
        self.model: TimelineModel | None = None
        self.wiring_model: WiringModel | None = None
        self.panel: InspectorPanel | None = None

    # -- the contract -----------------------------------------------------------

    def ready(self) -> None:
        self.connect(plugin_state_changed, self._on_plugin_state_changed)
        self._update_skipped()
        for signal in self.signals:  # a live wiring view: hear every (dis)connect
            signal.receiver_connected.connect(self._on_wiring_changed, weak=False)
            signal.receiver_disconnected.connect(self._on_wiring_changed, weak=False)
            self._watching.append(signal)
        dispatch.set_observer(self.observer)
        self.host.coalesce(self.FLUSH_KEY, self.flush)
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    def shutdown(self) -> None:
        if dispatch.get_observer() is self.observer:
            dispatch.set_observer(None)
        for signal in self._watching:
            signal.receiver_connected.disconnect(self._on_wiring_changed)
            signal.receiver_disconnected.disconnect(self._on_wiring_changed)
        self._watching.clear()
        super().shutdown()

    def create_panel(self) -> InspectorPanel:
        self.model = TimelineModel(self.plugin_of, max_rows=self.view_rows)
        self.wiring_model = WiringModel()
        self.panel = InspectorPanel(self, self.model, self.wiring_model)
        self.model.setParent(self.panel)  # found under the window; dies with the panel
        self.wiring_model.setParent(self.panel)
        self.panel.add_signal_names(s.name for s in self.signals)
        self._sync_timer = QTimer(self.panel)
        self._sync_timer.setSingleShot(True)
        # Through the host, like every other refresh: timed, and background
        # threads hold back while it runs (host.yield_to_gui).
        self._sync_timer.timeout.connect(lambda: self.host.call_in_gui(self.flush))
        self._on_plugins_changed()
        self.flush()
        # The window connects its own receivers after the panels: look again soon.
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)
        return self.panel

    # -- who is who ----------------------------------------------------------------

    def plugin_of(self, module: str) -> str:
        """The plugin a receiver's module belongs to; ``window`` for the
        window's own receivers; ``""`` for anything else (GUI thread)."""
        label = self._labels.get(module)
        if label is None:
            label = self._label_for(module)
            self._labels[module] = label
        return label

    def _label_for(self, module: str) -> str:
        name = self.host.plugin_for_module(module)
        if name:
            return name
        if module == "storeapp.ui" or module.startswith("storeapp.ui."):
            return "window"
        if module == "storeapp.listeners.manager":
            return "plugin manager"
        return ""

    def _update_skipped(self) -> None:
        """Note which plugins are off and what they would hear (any thread)."""
        skipped: dict[str, list[tuple[str, str, ReceiverStatus]]] = {}
        for record in self.host.plugin_records():
            cls = record.cls
            if cls is None or record.name == self.name or record.state == PluginState.ENABLED:
                continue
            status = (
                ReceiverStatus.SKIPPED_PLUGIN_FAILED
                if record.state == PluginState.FAILED
                else ReceiverStatus.SKIPPED_PLUGIN_DISABLED
            )
            entry = (f"{cls.__module__}.{cls.__qualname__}", cls.__module__, status)
            for signal_name in record.listens_to:
                skipped.setdefault(signal_name, []).append(entry)
        self.observer.skipped_by_signal = {k: tuple(v) for k, v in skipped.items()}

    def _schedule_flush(self) -> None:
        self.host.coalesce(self.FLUSH_KEY, self.flush)

    # -- receivers (any thread) ----------------------------------------------------

    def _on_plugin_state_changed(self, sender: Any = None, **kwargs: Any) -> None:
        self._update_skipped()
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    def _on_wiring_changed(self, *args: Any, **kwargs: Any) -> None:
        """A watched signal's blinker receiver_connected / receiver_disconnected."""
        self.host.coalesce(self.WIRING_KEY, self._on_plugins_changed)

    # -- GUI thread ----------------------------------------------------------------

    def _panel_alive(self) -> bool:
        if self.panel is not None and not shiboken6.isValid(self.panel):
            self.panel = self.model = self.wiring_model = None  # the window deleted it
            self._sync_timer = None
        return self.panel is not None

    def _on_plugins_changed(self) -> None:
        """A plugin changed state or a receiver (dis)connected: update the
        wiring view and the plugin filter, if they changed (GUI thread)."""
        self._labels.clear()
        if not self._panel_alive():
            return
        if self._wiring_key(self.wiring()) != self._shown_wiring:
            self.refresh_wiring()
        records = self.host.plugin_records()
        choices = [(r.name, r.title if r.enabled else f"{r.title} (off)") for r in records]
        choices.append(("window", "Window"))
        if choices != self._shown_choices:
            self._shown_choices = choices
            self.panel.set_plugin_choices(choices)  # type: ignore[union-attr]

    def wiring(self) -> list[tuple[Signal, list[ReceiverInfo]]]:
        """Every watched signal with its connections, now."""
        return [(signal, signal.receivers_info()) for signal in self.signals]

    def _wiring_key(self, wiring: list[tuple[Signal, list[ReceiverInfo]]]) -> Any:
        return tuple(
            (
                signal.name,
                tuple(
                    (
                        id(i.receiver),
                        i.name,
                        id(i.sender),
                        i.weak,
                        i.on_commit,
                        repr(i.dispatch_uid),
                        self.plugin_of(i.module),
                    )
                    for i in infos
                ),
            )
            for signal, infos in wiring
        )

    def refresh_wiring(self) -> None:
        """Rebuild the wiring view from the signals' current connections."""
        if not self._panel_alive() or self.wiring_model is None:
            return
        panel, model = self.panel, self.wiring_model
        assert panel is not None
        view = panel.wiring_view
        collapsed = {
            model.item(row, 0).text()
            for row in range(model.rowCount())
            if model.item(row, 0).hasChildren() and not view.isExpanded(model.index(row, 0))
        }
        wiring = self.wiring()
        model.populate(wiring, self.plugin_of)
        self._shown_wiring = self._wiring_key(wiring)
        for row, (signal, _infos) in enumerate(wiring):
            if signal.name not in collapsed:
                view.expand(model.index(row, 0))
        empty = sum(1 for _s, infos in wiring if not infos)
        connections = sum(len(infos) for _s, infos in wiring)
        panel.wiring_summary.setText(
            f"{len(wiring)} signals, {connections} connections"
            + (f"; {empty} with no receivers" if empty else "")
        )

    def flush(self) -> None:
        """Move pending sends into the buffer and update the timeline (GUI
        thread; the observer schedules it through ``host.coalesce``).

        The view catches up at most every :meth:`view_interval` seconds: a
        tree view lays out every row again after an insertion, so a full
        timeline (10,000 rows) is refreshed a few times a second, not 20.
        """
        drained = self.buffer.drain()
        if not self._panel_alive() or self.model is None:
            return
        panel = self.panel
        assert panel is not None
        if drained.added:
            panel.add_signal_names(dict.fromkeys(record.signal for _a, record in drained.added))
        self._touched_unshown |= drained.updated
        if drained.all_updated or len(self._touched_unshown) >= self.buffer.maxlen:
            self._all_touched_unshown = True
            self._touched_unshown.clear()
        if self._paused:
            self._update_count()
            return
        interval = CATCH_UP_SECONDS if self.model.behind else self.view_interval()
        wait = self._last_sync + interval - time.monotonic()
        if wait > 0.001:
            timer = self._sync_timer
            if timer is not None and not timer.isActive():
                timer.start(max(1, int(wait * 1000)))
            self._update_count()
            return
        self._sync_view(VIEW_BUDGET)

    def view_interval(self) -> float:
        """Seconds between two view updates: ~50 us a row (the tree view's
        relayout, in C++, costs a few us a row), so updating takes ~10% of
        the GUI thread at most; 50 ms to 1 s."""
        rows = self.model.rowCount() if self.model is not None else 0
        return min(1.0, max(COALESCE_SECONDS, rows * 50e-6))

    def _sync_view(self, budget: float | None = None) -> None:
        """Bring the timeline up to date with the buffer, now (GUI thread);
        with a ``budget`` (seconds), stop adding sends when it is spent and
        come back soon for the rest."""
        if not self._panel_alive() or self.model is None:
            return
        if self._sync_timer is not None:
            self._sync_timer.stop()
        self.view_updates += 1
        updated, self._touched_unshown = self._touched_unshown, set()
        everything, self._all_touched_unshown = self._all_touched_unshown, False
        if budget is None:
            self.model.sync(self.buffer, updated, everything)
        else:
            deadline = time.monotonic() + budget
            self.model.sync(self.buffer, updated, everything, VIEW_BATCH)
            while self.model.behind and time.monotonic() < deadline:
                self.model.sync(self.buffer, limit=VIEW_BATCH)
        self._last_sync = time.monotonic()
        if self.model.behind and self._sync_timer is not None:
            self._sync_timer.start(int(CATCH_UP_SECONDS * 1000))
        self._update_count()

    @property
    def paused(self) -> bool:
        return self._paused

    def set_paused(self, paused: bool) -> None:
        """Freeze (or unfreeze and catch up) the timeline; recording goes on."""
        paused = bool(paused)
        if paused == self._paused:
            return
        self._paused = paused
        if self._panel_alive():
            button = self.panel.pause_button  # type: ignore[union-attr]
            if button.isChecked() != paused:
                with QSignalBlocker(button):
                    button.setChecked(paused)
            button.setText("Resume" if paused else "Pause")
        if not paused:
            self.flush()
            self._sync_view()  # at once: new rows, evictions, what changed meanwhile
        self._update_count()

    def clear(self) -> None:
        """Forget every recorded send and empty the timeline."""
        self.buffer.clear()
        self._touched_unshown = set()
        self._all_touched_unshown = False
        if self._panel_alive() and self.model is not None:
            self.model.rebuild(self.buffer)
            self.panel.details.clear()  # type: ignore[union-attr]
        self._update_count()

    @property
    def view_rows(self) -> int:
        """How many sends the timeline shows at most (the newest ones)."""
        return min(self._view_rows, self.buffer.maxlen)

    def set_max_sends(self, max_sends: int) -> None:
        """Change how many sends are kept (the oldest go first) and remember it."""
        self.buffer.resize(count_setting(max_sends, DEFAULT_MAX_SENDS))
        self._remember(MAX_SENDS_SETTING, self.buffer.maxlen)
        self._resize_view()

    def set_view_rows(self, rows: int) -> None:
        """Change how many sends the timeline shows at most, and remember it."""
        self._view_rows = count_setting(rows, DEFAULT_VIEW_ROWS)
        self._remember(VIEW_ROWS_SETTING, self._view_rows)
        self._resize_view()

    def _resize_view(self) -> None:
        if self._panel_alive() and self.model is not None:
            grows = self.view_rows > self.model.max_rows
            self.model.max_rows = self.view_rows
            if grows:  # older sends the view had dropped come back
                self.model.rebuild(self.buffer, self.model.synced_to if self._paused else None)
            elif not self._paused:
                self._sync_view()
        self._update_count()

    def _remember(self, key: str, value: Any) -> None:
        try:
            self.host.set_setting(key, value)
        except Exception:
            logger.exception("Could not save %s", key)

    def apply_filters(self) -> None:
        """Rebuild the timeline for the filters chosen in the panel."""
        if not self._panel_alive() or self.model is None:
            return
        panel = self.panel
        assert panel is not None
        signal_name, plugin_name = panel.selected_signal(), panel.selected_plugin()
        accept: Callable[[SendRecord], bool] | None = None
        if signal_name is not None or plugin_name is not None:
            plugin_of = self.plugin_of

            def accept(record: SendRecord) -> bool:
                if signal_name is not None and record.signal != signal_name:
                    return False
                if plugin_name is not None:
                    return any(plugin_of(c.module) == plugin_name for c in list(record.calls))
                return True

        if not self._paused:
            self.flush()
        self.model.set_filter(
            accept, self.buffer, upto=self.model.synced_to if self._paused else None
        )
        if not self._paused:  # the rebuild showed every change
            self._touched_unshown = set()
            self._all_touched_unshown = False
        self._update_count()

    def _update_count(self) -> None:
        if not self._panel_alive() or self.model is None:
            return
        shown, kept = self.model.rowCount(), len(self.buffer)
        newest = " (the newest)" if shown == self.model.max_rows < kept else ""
        text = f"{shown:,} shown{newest}, {kept:,} recorded (max {self.buffer.maxlen:,})"
        if self._paused:
            waiting = self.buffer.end - self.model.synced_to + self.buffer.pending_count()
            text = f"Paused, {waiting:,} new; {text}"
        self.panel.count.setText(text)  # type: ignore[union-attr]

    # -- export ----------------------------------------------------------------------

    def export_jsonl(self, path: str | Path) -> int:
        """Write every recorded send, with its receiver calls, as one JSON
        object per line (oldest first); returns how many (GUI thread)."""
        self.flush()  # include what is still pending
        records = self.buffer.records()
        with Path(path).open("w", encoding="utf-8", newline="\n") as out:
            for record in records:
                out.write(
                    json.dumps(
                        record_to_dict(record, self.plugin_of), ensure_ascii=False, default=str
                    )
                )
                out.write("\n")
        return len(records)
