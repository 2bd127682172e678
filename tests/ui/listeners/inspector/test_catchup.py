"""How the timeline catches up: bounded by the settings, in slices of
VIEW_BATCH sends, less often the longer it is."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from storeapp.domain.dispatch import SendRecord
from storeapp.listeners.inspector.catchup import VIEW_BATCH
from tests.ui.conftest import find
from tests.ui.listeners.inspector.helpers import MARKER, inspector, marker, markers, timeline


def test_the_ring_buffer_is_bounded_by_the_setting_and_memory_stays_flat(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    (tmp_path / "data").mkdir()
    settings = QSettings(str(tmp_path / "data" / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("inspector/max_sends", 50)
    settings.sync()
    window = make_window()
    plugin = inspector(window)
    model = timeline(window)
    assert plugin.buffer.maxlen == 50
    inserts: list[int] = []
    model.rowsInserted.connect(
        lambda parent, first, last: None if parent.isValid() else inserts.append(last - first + 1)
    )

    def alive_markers() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is SendRecord and o.signal == MARKER)

    for n in range(200):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=199" in markers(model))
    # 200 sends, of which the newest 50 are kept: shown in batches of at most
    # VIEW_BATCH (a bounded slice of GUI time each), never one per event.
    assert sum(inserts) == 50 and max(inserts) <= VIEW_BATCH
    assert model.rowCount() == len(plugin.buffer) == 50
    assert markers(model) == [f"n={n}" for n in range(150, 200)]
    assert len(plugin.buffer._where) == 50
    after_200 = alive_markers()
    assert after_200 <= 50

    for n in range(200, 600):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=599" in markers(model))
    assert model.rowCount() == 50 and markers(model)[0] == "n=550"
    assert alive_markers() == after_200  # flat


def test_a_long_timeline_shows_the_newest_sends_and_updates_less_often(
    qtbot: Any, window: Any
) -> None:
    plugin = inspector(window)
    model = timeline(window)
    assert (plugin.buffer.maxlen, plugin.view_rows) == (10_000, 2_000)
    assert plugin.view_interval() == pytest.approx(0.05)  # a short timeline: every flush
    batches: list[int] = []
    model.rowsInserted.connect(
        lambda parent, first, last: None if parent.isValid() else batches.append(last - first + 1)
    )
    for n in range(6000):
        marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: "n=5999" in markers(model))
    # Only the newest are shown, added in batches of at most VIEW_BATCH: the
    # event loop runs between them.
    assert sum(batches) == 2000 and max(batches) <= VIEW_BATCH
    assert model.rowCount() == 2000 and markers(model)[0] == "n=4000"
    assert len([r for r in plugin.buffer.records() if r.signal == MARKER]) == 6000  # all recorded
    assert "2,000 shown (the newest)" in find(window, QLabel, "inspectorCount").text()
    # A tree view lays every row out again after an insertion: the longer
    # the timeline, the less often it catches up (~50 us a row).
    plugin.set_view_rows(5000)
    assert model.rowCount() == 5000 and markers(model)[0] == "n=1000"
    assert plugin.view_interval() == pytest.approx(0.25)
    updates = plugin.view_updates
    for n in range(6000, 6100):
        marker.send_robust("test", n=n)
        if n % 10 == 0:
            window.bridge.flush_now()  # a flush per 10 sends: far more than the view takes
    qtbot.waitUntil(lambda: "n=6099" in markers(model))
    assert plugin.view_updates - updates <= 3
    assert model.rowCount() == 5000 and plugin.buffer.pending_count() == 0
