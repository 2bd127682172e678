"""Answering the window's modal questions from a test, as a cashier would:
by clicking one of the buttons of the box when it shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QMessageBox


@contextmanager
def answering(parent: QObject, name: str, button: str) -> Iterator[list[str]]:
    """While inside, click ``button`` (its text without ``&``) on the first
    QMessageBox named ``name`` under ``parent`` that shows. Yields a list
    that receives the question's text once answered (empty: never asked)."""
    asked: list[str] = []
    timer = QTimer()
    timer.setInterval(10)

    def poll() -> None:
        box = parent.findChild(QMessageBox, name)
        if asked or box is None or not box.isVisible():
            return
        for candidate in box.buttons():
            if candidate.text().replace("&", "") == button:
                asked.append(f"{box.text()} {box.informativeText()}")
                timer.stop()
                candidate.click()
                return
        raise AssertionError(f"no button {button!r} in {name!r}")

    timer.timeout.connect(poll)
    timer.start()
    try:
        yield asked
    finally:
        timer.stop()
