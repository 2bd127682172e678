"""A sandbox scenario (:mod:`.sandbox`) running in its own process.

``QProcess`` keeps the window responsive while the scenario runs; its JSON
lines become the lesson's evidence (sends and facts) and are handed, one by
one, to the panel to show.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QProcess
from PySide6.QtWidgets import QWidget

from storeapp.domain.dispatch import SendRecord
from storeapp.ui.lessons import sandbox
from storeapp.ui.lessons.checks import Evidence
from storeapp.ui.lessons.wire import record_from_json


class SandboxRun:
    """One scenario of :mod:`.sandbox` running in its own process."""

    def __init__(self, scenario: str, parent: QWidget, on_line: Callable[[dict[str, Any]], None]):
        self.scenario = scenario
        self.data_dir = Path(tempfile.mkdtemp(prefix="storeapp-lesson-"))
        self.on_line = on_line
        self.evidence = Evidence()
        self._sends: dict[tuple[Any, int], SendRecord] = {}
        self._partial = b""
        self.process = QProcess(parent)
        self.process.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        self.process.readyReadStandardOutput.connect(self._read)
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)
        self.finished = False
        program, *args = sandbox.command(scenario, self.data_dir)
        self.process.start(program, args)

    def _read(self) -> None:
        data = self._partial + bytes(self.process.readAllStandardOutput().data())
        *lines, self._partial = data.split(b"\n")
        for line in lines:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "send" in message:
                record = record_from_json(message["send"])
                self._sends[(message.get("till"), record.seq)] = record
                self.evidence.sends = list(self._sends.values())
            if "fact" in message:
                self.evidence.facts.update(message["fact"])
            self.on_line(message)

    def _finished(self, code: int, _status: Any) -> None:
        self._read()
        if code != 0:
            err = bytes(self.process.readAllStandardError().data()).decode(errors="replace")
            tail = err.strip().splitlines()[-1:] or [f"exit status {code}"]
            self.on_line({"error": f"the sandbox stopped: {tail[0]}"})
        self._done()

    def _error(self, error: QProcess.ProcessError) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.on_line({"error": f"the sandbox could not start ({sys.executable})"})
            self._done()

    def _done(self) -> None:
        if not self.finished:
            self.finished = True
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.on_line({"finished": True})

    def stop(self) -> None:
        if self.process.state() != QProcess.ProcessState.NotRunning:
            self.process.kill()
            self.process.waitForFinished(3000)
        self._done()
