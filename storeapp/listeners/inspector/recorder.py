"""What the inspector records: the sends, kept in a bounded ring, and how
one reads as text (as JSON: :mod:`.export`). No Qt here, so it is tested without a
QApplication and a headless host never loads Qt for it.

While the inspector is enabled, every send hands its observer a
:class:`~storeapp.domain.dispatch.SendRecord` (strings only, never an ORM
object) in the sender's thread. The observer pushes it into a
:class:`SendBuffer`: a lock-protected pending list, drained on the GUI
thread into a ring of the last ``inspector/max_sends`` sends (default
10,000). A deferred receiver that runs after the commit, or is dropped by a
rollback, changes its record in place; the buffer reports those too, so the
timeline rewrites only the rows that changed.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from storeapp.domain.dispatch import ReceiverStatus, SendRecord
from storeapp.domain.dispatch.records import Packed
from storeapp.listeners.api import coerce_setting

__all__ = [
    "DEFAULT_MAX_SENDS",
    "DEFAULT_VIEW_ROWS",
    "MAX_SENDS_LIMIT",
    "MAX_SENDS_SETTING",
    "VIEW_ROWS_SETTING",
    "Drained",
    "Outcome",
    "SendBuffer",
    "count_setting",
    "format_ms",
    "format_time",
    "outcome",
    "send_filter",
    "summarise",
    "total_duration",
]

DEFAULT_MAX_SENDS = 10_000
MAX_SENDS_SETTING = "inspector/max_sends"
#: The timeline shows the newest sends only (a tree view lays every row out
#: again after each insertion; see catchup.CatchUp.interval).
DEFAULT_VIEW_ROWS = 2_000
VIEW_ROWS_SETTING = "inspector/view_rows"
MAX_SENDS_LIMIT = 1_000_000
#: The newest sends stay SendRecord objects in the ring (the timeline shows
#: them, and catches up with them, as they are); older ones are packed.
LIVE_SENDS = DEFAULT_VIEW_ROWS


# -- the ring buffer -----------------------------------------------------------------


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
    (a send and the sends made inside it arrive together, parents first, by
    :meth:`push_all`; ``seq`` order differs across threads). Arrivals in the
    ring are consecutive, so the ring is a window ``[first, end)`` of
    arrivals. Memory is bounded: the ring and the pending list each hold at
    most ``maxlen`` records, and the set of changed seqs is replaced by an
    "everything changed" flag once it reaches ``maxlen``.

    The ring keeps the newest ``live`` records as they are and the older
    ones packed (:meth:`SendRecord.pack`: plain tuples the garbage collector
    does not track); reading one unpacks it into a new record. A full ring
    of 10,000 records was ~45,000 tracked objects with their calls, which
    every full collection walked while holding the GIL, stalling the window.
    """

    def __init__(self, maxlen: int = DEFAULT_MAX_SENDS, live: int = LIVE_SENDS) -> None:
        self._maxlen = _check_maxlen(maxlen)
        self._live = max(1, live)
        self._lock = threading.Lock()
        # Pending side (any thread, under the lock).
        self._pending: deque[tuple[int, SendRecord]] = deque(maxlen=self._maxlen)
        self._touched: set[int] = set()
        self._touched_all = False
        self._next_arrival = 0
        # Ring side (the owner's thread only).
        # Arrivals in the ring are consecutive: the item at index i arrived
        # as first + i.
        self._ring: deque[SendRecord | Packed] = deque()
        self._where: dict[int, int] = {}  # seq -> arrival, for records in the ring
        self._end = 0  # arrival after the newest record the ring has taken
        self._packed_to = 0  # arrivals before this one have been offered to pack()
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

    def push_all(self, records: list[SendRecord]) -> bool:
        """Queue ``records`` together (a send and those made inside it, in
        causal order: no other thread's send comes between them); True if a
        drain should be scheduled."""
        with self._lock:
            idle = not self._pending and not self._touched and not self._touched_all
            arrival = self._next_arrival
            self._pending.extend(zip(range(arrival, arrival + len(records)), records))
            self._next_arrival = arrival + len(records)
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
                ring.append(record)
                where[record.seq] = arrival
                self._end = arrival + 1  # first stays end - len(ring)
            self.evicted += evicted
            self._pack_old()
        updated = frozenset(seq for seq in touched if seq in self._where)
        self._pack_settled(updated)
        return Drained(list(pending), evicted, updated, touched_all)

    def _pop_oldest(self) -> None:
        arrival = self.first
        seq = SendRecord.seq_of(self._ring.popleft())
        if self._where.get(seq) == arrival:
            del self._where[seq]

    def _pack_old(self) -> None:
        """Pack the records that are no longer among the newest ``live``."""
        first = self.first
        start = max(self._packed_to, first)
        stop = self._end - self._live
        for index in range(start - first, stop - first):
            self._pack_at(index)
        self._packed_to = max(start, stop)

    def _pack_settled(self, seqs: frozenset[int]) -> None:
        """Pack the older records among ``seqs`` that _pack_old kept as they
        were (a call of theirs was waiting for the commit)."""
        first = self.first
        for seq in seqs:
            arrival = self._where[seq]
            if arrival < self._packed_to:
                self._pack_at(arrival - first)

    def _pack_at(self, index: int) -> None:
        item = self._ring[index]
        if type(item) is SendRecord:
            self._ring[index] = item.pack()

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
        self._packed_to = self._end
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
        """The records in the ring, oldest first (a copy; older ones are new
        records unpacked each time)."""
        return [SendRecord.unpack(item) for item in self._ring]

    @property
    def first(self) -> int:
        """The arrival of the oldest record in the ring (``end`` if empty)."""
        return self._end - len(self._ring)

    @property
    def end(self) -> int:
        """The arrival after the newest record the ring has taken."""
        return self._end

    def position(self, seq: int) -> int | None:
        """The arrival of the record ``seq`` if it is in the ring."""
        return self._where.get(seq)

    def entries(self, start: int = 0) -> list[tuple[int, SendRecord]]:
        """``(arrival, record)`` for every record in the ring with ``arrival >= start``."""
        first = self.first
        skip = max(0, start - first)
        return [
            (arrival, SendRecord.unpack(item))
            for arrival, item in enumerate(itertools.islice(self._ring, skip, None), first + skip)
        ]


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


# -- formatting ----------------------------------------------------------------------


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


# -- filters ----------------------------------------------------------------------------


def send_filter(
    signal: str | None, plugin: str | None, plugin_of: Callable[[str], str]
) -> Callable[[SendRecord], bool] | None:
    """What the timeline's filters let through: the sends of ``signal`` in
    which a receiver of ``plugin`` took part (either None: any); None if
    both are None (no filter at all)."""
    if signal is None and plugin is None:
        return None

    def accept(record: SendRecord) -> bool:
        if signal is not None and record.signal != signal:
            return False
        if plugin is not None:
            return any(plugin_of(c.module) == plugin for c in list(record.calls))
        return True

    return accept
