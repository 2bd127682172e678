"""The timeline: one row per send, with a child row per receiver call.

Sends come in causal order: a send made inside another one (by one of its
receivers, or ``receiver_failed`` by the send loop) follows it, indented
under it with an arrow (``↳ post_save``) one step per level, and names the
receiver that made it. The last column says where each send came from
(``Store.place_order (storeapp/domain/store/orders.py:80) via send_robust``).

Its cells live in C++ (:class:`TimelineModel` is a
:class:`~storeapp.listeners.api.CellModel`), so laying out and painting
never call into Python, where each call would wait for the GIL while a
worker thread is busy. The price: each shown send's cells are written once
from Python (~25 us a row), and they take ~0.75 KB of C++ memory each
(2,000 sends with their receivers, ~7,000 rows: ~30 MB). A send's receiver
rows are written only when it is expanded.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QThread
from PySide6.QtCore import Signal as QtSignal  # ours is dispatch.Signal

from storeapp.domain.dispatch import ReceiverCall, SendRecord
from storeapp.listeners.api import CellModel
from storeapp.listeners.inspector import cells
from storeapp.listeners.inspector.cells import Cells, call_cells, send_cells
from storeapp.listeners.inspector.recorder import DEFAULT_VIEW_ROWS, SendBuffer

__all__ = ["TimelineModel"]

Index = QModelIndex | QPersistentModelIndex


class TimelineModel(CellModel):
    """Sends (top level, oldest first) with one child row per receiver call.

    The rows are a subsequence, in arrival order, of a :class:`SendBuffer`
    (those the filter accepts); :meth:`sync` brings them up to date in a few
    batches. Every cell is written from Python once, when its send arrives
    (and again when a deferred receiver of it runs or is dropped), so the
    view lays out and paints in C++, never waiting for the GIL while a
    worker thread runs Python (see :class:`~storeapp.listeners.api.CellModel`).

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

    COLUMNS = cells.COLUMNS
    TIME, NAME, SOURCE, DURATION = cells.TIME, cells.NAME, cells.SOURCE, cells.DURATION
    STATUS, DETAILS, ORIGIN = cells.STATUS, cells.DETAILS, cells.ORIGIN
    INDENT, ARROW = cells.INDENT, cells.ARROW

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

    def row_of(self, record: SendRecord) -> int:
        """The top-level row that shows ``record`` (-1 if none)."""
        for row in range(len(self._rows) - 1, -1, -1):
            if self._rows[row][1] is record:
                return row
        return -1

    def family_of(self, row: int) -> list[SendRecord]:
        """The sends shown after top-level ``row`` that were made inside its
        send (its children and theirs), in causal order."""
        if not 0 <= row < len(self._rows):
            return []
        inside = {self._rows[row][1].seq}
        found = []
        for _arrival, record, _n in self._rows[row + 1 :]:
            if record.parent not in inside:
                break
            inside.add(record.seq)
            found.append(record)
        return found

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
        Returns (removed, inserted).

        Not :meth:`CellModel.sync_rows`: that diff builds the cells of every
        shown row on each call to compare them (thousands of rows, ~25 us
        each, against a slice budget of 8 ms) and knows nothing of child
        rows (the placeholder, the receivers written on expand and rewritten
        in place). Here the rows are a window of arrivals: only the front
        leaves, only the end grows, and the buffer names what changed."""
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

    def _send_cells(self, record: SendRecord, rewrite: bool = False) -> Cells:
        return send_cells(record, rewrite)

    def _call_cells(self, record: SendRecord, call: ReceiverCall, rewrite: bool = False) -> Cells:
        return call_cells(record, call, self._plugin_of(call.module), rewrite)

    def _row_of_arrival(self, arrival: int) -> int:
        i = bisect_left(self._arrivals, arrival)
        return i if i < len(self._arrivals) and self._arrivals[i] == arrival else -1

    def _check_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("TimelineModel may only be changed on its own (GUI) thread")
