"""Start-up: the frame is painted before the rest is imported, then filled;
what the first minute does not need waits (``storeapp.app.start``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QMainWindow

from storeapp.app import after_first_paint

REPO = Path(__file__).resolve().parents[2]

#: Started as ``make run`` starts: sqlalchemy first, then storeapp.app.start().
#: It prints what was imported at the frame's first paint and after start().
CHILD = """
import json, os, sys
import sqlalchemy.orm
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

app = QApplication(sys.argv[:1])
seen = {}

class Paint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.isWindow():
            seen.setdefault("at_paint", sorted(m for m in sys.modules if m.startswith(WATCHED)))
            seen.setdefault("title", obj.windowTitle())
        return False

WATCHED = ("storeapp.domain", "storeapp.listeners", "storeapp.ui.till", "email_validator",
           "argon2", "storeapp.ui.lessons", "storeapp.ui.products")
paint = Paint()
app.installEventFilter(paint)
from storeapp.app import start
window = start(None)
app.removeEventFilter(paint)
seen["after_start"] = sorted(m for m in sys.modules if m.startswith(WATCHED))
seen["title_after"] = window.windowTitle()
seen["products"] = window.product_model.rowCount()
seen["workers_alive"] = window.durable._thread is not None
window.close()
print(json.dumps(seen))
"""


def run_child(tmp_path: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "STOREAPP_DATA_DIR": str(tmp_path / "data"),
        "STOREAPP_DB": f"sqlite:///{tmp_path / 'pos.db'}",
        "STOREAPP_TERMINAL": "Till 7",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_frame_is_painted_before_the_domain_and_the_plugins_are_imported(tmp_path):
    seen = run_child(tmp_path)
    assert seen["at_paint"] == []  # Qt alone: nothing of the domain, plugins or till yet
    assert seen["title"] == "storeapp — point of sale"
    assert "storeapp.domain" in seen["after_start"]  # then filled
    assert any(m.startswith("storeapp.listeners.") for m in seen["after_start"])
    assert seen["title_after"] == "storeapp — point of sale — Till 7"
    assert seen["products"] > 0  # the till's catalogue, filled


def test_what_the_first_minute_does_not_need_is_not_imported_at_start(tmp_path):
    seen = run_child(tmp_path)
    imported = seen["after_start"]
    # Checked when an email is entered, a password hashed, the Products
    # window or the Lessons opened (a second start: Lessons opened on the first).
    for module in ("email_validator", "argon2", "storeapp.ui.products"):
        assert module not in imported, module
    # The workers wait for the filled window's first paint, after start().
    assert seen["workers_alive"] is False


def test_after_first_paint_waits_for_a_shown_window_to_paint(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    ran: list[str] = []
    after_first_paint(window, lambda: ran.append("workers"))  # type: ignore[arg-type]
    assert ran == []
    window.update()
    qtbot.waitUntil(lambda: ran == ["workers"])
    window.repaint()  # a second paint, now: it does not run again
    QApplication.processEvents()
    QApplication.processEvents()
    assert ran == ["workers"]


def test_after_first_paint_runs_at_once_for_a_window_not_shown(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    ran: list[str] = []
    after_first_paint(window, lambda: ran.append("workers"))  # type: ignore[arg-type]
    assert ran == ["workers"]
