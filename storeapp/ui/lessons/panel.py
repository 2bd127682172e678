"""The Lessons panel: pick a lesson, read it and its real code, press Try it,
watch its check turn green.

Live lessons are checked against what the signal inspector recorded (the
panel reads the inspector's ring of sends; while the inspector is off it
says so and offers to switch it on). Sandbox lessons run a scenario of
:mod:`.sandbox` in a process of their own (``QProcess``: the window stays
responsive) and are checked against the sends and facts it reports.
"""

from __future__ import annotations

import html
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont, QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from storeapp.domain.dispatch import SendRecord
from storeapp.listeners.api import Cell, CellModel, PluginState, palette
from storeapp.listeners.manager import PluginManager
from storeapp.ui.lessons.catalogue import LESSONS, Lesson
from storeapp.ui.lessons.checks import Evidence
from storeapp.ui.lessons.sandbox_run import SandboxRun

#: How many of the inspector's latest sends the live checks look at.
LIVE_WINDOW = 2000
INSPECTOR = "inspector"

_PASSED = QBrush(QColor(palette.OK_TEXT))
_MUTED = palette.MUTED_FG.color().name()


class LessonListModel(CellModel):
    """One row per lesson: its number, title, and a tick once its check passed."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(("Lesson",), parent)
        self.passed: set[int] = set()
        self.refresh()

    def refresh(self) -> None:
        self.sync_rows(list(LESSONS), lambda lesson: lesson.number, self.cells)

    def cells(self, lesson: Lesson) -> list[Cell]:
        done = lesson.number in self.passed
        mark = "\N{CHECK MARK}" if done else "\N{WHITE CIRCLE}"
        return [
            {
                Qt.ItemDataRole.DisplayRole: f"{mark} {lesson.number}. {lesson.title}",
                Qt.ItemDataRole.ForegroundRole: _PASSED if done else None,
                Qt.ItemDataRole.ToolTipRole: lesson.text,
            }
        ]


class LessonsPanel(QWidget):
    """The lessons, one at a time, with Try it and a live check."""

    def __init__(
        self,
        manager: PluginManager,
        run_live: Callable[[str], str],
        enable_plugin: Callable[[str], None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("lessonsPanel")
        self.manager = manager
        self.run_live = run_live
        self.enable_plugin = enable_plugin
        #: (number pulled, send): the inspector's latest sends, oldest first. Weak:
        #: a send the inspector's ring let go of is not kept alive here.
        self.live_sends: deque[tuple[int, weakref.ref[SendRecord]]] = deque(maxlen=LIVE_WINDOW)
        self._pulled = 0
        #: Lesson number -> sends pulled before its last Try it (not evidence).
        self._since: dict[int, int] = {}
        self._cursor: int | None = None
        #: Sends made before the panel opened are history, not a learner's try.
        self._opened = time.time()
        self._buffer: Any = None
        self.passed: dict[int, list[bool]] = {}
        self.sandbox_runs: dict[int, SandboxRun] = {}
        #: Lesson number -> what its last Try it reported (shown again on return).
        self.transcripts: dict[int, list[str]] = {}
        self.current: Lesson = LESSONS[0]

        self.model = LessonListModel(self)
        self.picker = QComboBox(self)
        self.picker.setObjectName("lessonPicker")
        self.picker.setModel(self.model)
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.picker.setMinimumContentsLength(20)
        self.picker.currentIndexChanged.connect(self.show_lesson)
        self.previous_button = QToolButton(self)
        self.previous_button.setArrowType(Qt.ArrowType.LeftArrow)
        self.previous_button.setToolTip("Previous lesson")
        self.previous_button.clicked.connect(lambda: self.choose(self.current.number - 1))
        self.next_button = QToolButton(self)
        self.next_button.setArrowType(Qt.ArrowType.RightArrow)
        self.next_button.setToolTip("Next lesson")
        self.next_button.clicked.connect(lambda: self.choose(self.current.number + 1))

        self.title = QLabel(self)
        self.title.setObjectName("lessonTitle")
        bold = QFont(self.title.font())
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.15)
        self.title.setFont(bold)
        self.title.setWordWrap(True)
        self.text = QLabel(self)
        self.text.setObjectName("lessonText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.try_button = QPushButton("&Try it", self)
        self.try_button.setObjectName("lessonTryButton")
        self.try_button.clicked.connect(self.try_it)
        self.try_text = QLabel(self)
        self.try_text.setWordWrap(True)
        self.inspector_note = QLabel(self)
        self.inspector_note.setObjectName("lessonInspectorNote")
        self.inspector_note.setWordWrap(True)
        self.inspector_button = QPushButton("Switch the &inspector on", self)
        self.inspector_button.setObjectName("lessonInspectorButton")
        self.inspector_button.clicked.connect(lambda: self.enable_plugin(INSPECTOR))
        self.check = QLabel(self)
        self.check.setObjectName("lessonCheck")
        self.check.setWordWrap(True)
        self.check.setTextFormat(Qt.TextFormat.RichText)
        self.output = QPlainTextEdit(self)
        self.output.setObjectName("lessonOutput")
        self.output.setReadOnly(True)
        self.output.setPlaceholderText("What Try it did appears here.")
        self.output.setMaximumBlockCount(500)
        self.output.setMinimumHeight(48)
        self.code = QPlainTextEdit(self)
        self.code.setObjectName("lessonCode")
        self.code.setReadOnly(True)
        self.code.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))

        try_row = QHBoxLayout()
        try_row.addWidget(self.try_button)
        try_row.addWidget(self.try_text, 1)
        note_row = QHBoxLayout()
        note_row.addWidget(self.inspector_note, 1)
        note_row.addWidget(self.inspector_button)
        pick_row = QHBoxLayout()
        pick_row.addWidget(self.previous_button)
        pick_row.addWidget(self.picker, 1)
        pick_row.addWidget(self.next_button)
        lesson_page = QWidget(self)
        column = QVBoxLayout(lesson_page)
        column.addWidget(self.text)
        column.addLayout(try_row)
        column.addLayout(note_row)
        column.addWidget(self.output, 1)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("lessonTabs")
        self.tabs.addTab(lesson_page, "&Lesson")
        self.tabs.addTab(self.code, "The &code")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(pick_row)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.check)

        self.timer = QTimer(self)
        self.timer.setInterval(300)
        self.timer.timeout.connect(self.update_checks)  # runs while the panel is shown
        self.show_lesson(0)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self.update_checks()
        self.timer.start()

    def hideEvent(self, event: Any) -> None:
        self.timer.stop()  # nothing to check for a learner who is not looking
        super().hideEvent(event)

    # -- showing ------------------------------------------------------------------------

    def choose(self, number: int) -> None:
        """Show lesson ``number`` (1-based); out of range does nothing."""
        if 1 <= number <= len(LESSONS):
            self.picker.setCurrentIndex(number - 1)

    def show_lesson(self, row: int) -> None:
        if not 0 <= row < len(LESSONS):
            return
        lesson = self.current = LESSONS[row]
        self.previous_button.setEnabled(row > 0)
        self.next_button.setEnabled(row < len(LESSONS) - 1)
        self.title.setText(f"{lesson.number}. {lesson.title}")
        self.text.setText(lesson.text)
        where = "in a throw-away sandbox" if lesson.in_sandbox else "in this app"
        self.try_text.setText(f"{lesson.try_it} ({where})")
        self.code.setPlainText(self._code_text(lesson))
        self.output.setPlainText("\n".join(self.transcripts.get(lesson.number, ())))
        run = self.sandbox_runs.get(lesson.number)
        self.try_button.setEnabled(run is None or run.finished)
        self._show_inspector_state()
        self._show_check()

    def _code_text(self, lesson: Lesson) -> str:
        try:
            snippets = lesson.code(self.manager)
        except Exception as exc:  # a lesson must never take the panel down
            return f"(the code could not be read: {exc})"
        if not snippets:
            return "(the code involved is not loaded: is its plugin switched on?)"
        parts = [f"# {s.title} \N{EM DASH} {s.location}\n{s.code}" for s in snippets]
        return "\n\n".join(parts)

    def _show_check(self) -> None:
        lesson = self.current
        passed = self.passed.get(lesson.number) or [False] * len(lesson.steps)
        lines = []
        for step, ok in zip(lesson.steps, passed, strict=True):
            mark = "\N{BALLOT BOX WITH CHECK}" if ok else "\N{BALLOT BOX}"
            colour = palette.OK_TEXT if ok else _MUTED
            label = html.escape(step.label)
            lines.append(f'<span style="color:{colour}">{mark} {label}</span>')
        self.check.setText("Check:<br>" + "<br>".join(lines))

    def _inspector_record(self) -> Any:
        return self.manager.record(INSPECTOR) if INSPECTOR in self.manager else None

    def inspector_on(self) -> bool:
        record = self._inspector_record()
        return record is not None and record.state == PluginState.ENABLED

    def _show_inspector_state(self) -> None:
        needs = not self.current.in_sandbox and not self.inspector_on()
        self.inspector_note.setVisible(needs)
        self.inspector_button.setVisible(needs)
        if needs:
            self.inspector_note.setText(
                "This lesson's check reads the signal inspector, which is off."
            )

    # -- checking -----------------------------------------------------------------------

    def _pull_live_sends(self) -> None:
        """Take the sends the inspector recorded since the last look."""
        record = self._inspector_record()
        buffer = getattr(record.plugin, "buffer", None) if record is not None else None
        if buffer is None or record.state != PluginState.ENABLED:
            self._buffer = None
            return
        if buffer is not self._buffer:  # first look, or the inspector was restarted
            self._buffer, self._cursor = buffer, buffer.first
        for _arrival, send in buffer.entries(self._cursor or 0):
            if send.time < self._opened:
                continue
            self.live_sends.append((self._pulled, weakref.ref(send)))
            self._pulled += 1
        self._cursor = buffer.end

    def update_checks(self) -> None:
        """Re-run the checks that have not passed yet; a passed step stays passed."""
        self._pull_live_sends()
        changed = False
        for lesson in LESSONS:
            old = self.passed.get(lesson.number) or [False] * len(lesson.steps)
            if all(old):
                continue
            run = self.sandbox_runs.get(lesson.number)
            evidence = run.evidence if lesson.in_sandbox and run is not None else None
            if lesson.in_sandbox and evidence is None:
                continue
            if evidence is None:
                since = self._since.get(lesson.number, 0)
                sends = [ref() for n, ref in self.live_sends if n >= since]
                evidence = Evidence(sends=[r for r in sends if r is not None])
            now = lesson.passed(evidence)
            new = [a or b for a, b in zip(old, now, strict=True)]
            if new != old:
                self.passed[lesson.number] = new
                changed = True
                if all(new):
                    self.model.passed.add(lesson.number)
        if changed:
            self.model.refresh()
            self._show_check()
        self._show_inspector_state()

    def is_green(self, number: int) -> bool:
        return number in self.model.passed

    # -- trying -------------------------------------------------------------------------

    def try_it(self) -> None:
        lesson = self.current
        self.passed.pop(lesson.number, None)
        self.model.passed.discard(lesson.number)
        self.model.refresh()
        self._show_check()
        self.output.clear()
        self.transcripts[lesson.number] = []
        if lesson.in_sandbox:
            self._start_sandbox(lesson)
            return
        self._pull_live_sends()
        self._since[lesson.number] = self._pulled  # only what happens from now on counts
        if not self.inspector_on():
            self.say(
                lesson.number,
                "The check needs the signal inspector: switch it on, then Try it again.",
            )
        try:
            message = self.run_live(lesson.action)
        except Exception as exc:  # shown, never raised into Qt
            message = f"Could not do it: {exc}"
        self.say(lesson.number, message)

    def say(self, number: int, text: str) -> None:
        """Add a line to lesson ``number``'s transcript (and show it if shown)."""
        self.transcripts.setdefault(number, []).append(text)
        if self.current.number == number:
            self.output.appendPlainText(text)

    def _start_sandbox(self, lesson: Lesson) -> None:
        old = self.sandbox_runs.pop(lesson.number, None)
        if old is not None:
            old.stop()
        self.try_button.setEnabled(False)
        self.say(
            lesson.number, "Starting a throw-away store in its own process\N{HORIZONTAL ELLIPSIS}"
        )
        number = lesson.number
        self.sandbox_runs[number] = SandboxRun(
            lesson.action, self, lambda message: self._sandbox_line(number, message)
        )

    def _sandbox_line(self, number: int, message: dict[str, Any]) -> None:
        showing = self.current.number == number
        if "finished" in message:
            if showing:
                self.try_button.setEnabled(True)
            self.update_checks()
            return
        text = None
        if "say" in message:
            till = message.get("till")
            text = f"[{till}] {message['say']}" if till else message["say"]
        elif "error" in message:
            text = f"Sandbox error: {message['error']}"
        elif "send" in message:
            send = message["send"]
            who = (
                ", ".join(
                    f"{c['receiver'].rsplit('.', 1)[-1]}: {c['status']}"
                    for c in send.get("calls", ())
                )
                or "no receiver"
            )
            till = f"[{message['till']}] " if message.get("till") else ""
            text = f"  {till}{send['signal']}({send['sender']}) \N{RIGHTWARDS ARROW} {who}"
        if text:
            self.say(number, text)

    def shutdown(self) -> None:
        self.timer.stop()
        for run in self.sandbox_runs.values():
            run.stop()
