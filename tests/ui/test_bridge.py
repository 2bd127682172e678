"""GuiBridge: refreshes reach the GUI thread, merged; reads run off it."""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest

from storeapp.ui.bridge import GuiBridge


class SlowLoad:
    """A load that returns ``value`` once ``release`` is set."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> Any:
        self.started.set()
        self.release.wait(5)
        return self.value


@pytest.fixture
def bridge(qtbot: Any):
    bridge = GuiBridge()
    yield bridge
    bridge.close()


def test_coalesce_load_reads_off_the_gui_thread_and_applies_on_it(
    qtbot: Any, bridge: GuiBridge
) -> None:
    gui = threading.get_ident()
    seen: dict[str, int] = {}
    applied: list[str] = []

    def load() -> str:
        seen["load"] = threading.get_ident()
        return "rows"

    def apply(result: str) -> None:
        seen["apply"] = threading.get_ident()
        applied.append(result)

    bridge.coalesce_load("k", load, apply)
    qtbot.waitUntil(lambda: applied == ["rows"])
    assert seen["load"] != gui and seen["apply"] == gui


def test_requests_during_a_load_cause_exactly_one_more_load(qtbot: Any, bridge: GuiBridge) -> None:
    release = threading.Event()
    started = threading.Event()
    version = [1]
    loads: list[int] = []
    applied: list[int] = []

    def load() -> int:
        read = version[0]
        loads.append(read)
        started.set()
        release.wait(5)
        return read

    bridge.coalesce_load("k", load, applied.append)
    qtbot.waitUntil(started.is_set)
    version[0] = 2
    for _ in range(5):  # five changes, each flushed, while the first load runs
        flushes = bridge.flushes
        bridge.coalesce_load("k", load, applied.append)
        qtbot.waitUntil(lambda flushes=flushes: bridge.flushes > flushes)
    release.set()
    qtbot.waitUntil(lambda: applied[-1:] == [2])
    assert loads == [1, 2]  # merged into one more load, read after the last request
    assert applied == [1, 2]


def test_flush_now_loads_at_once_and_a_late_result_never_overwrites_it(
    qtbot: Any, bridge: GuiBridge
) -> None:
    slow = SlowLoad("old")
    applied: list[str] = []
    bridge.coalesce_load("k", slow, applied.append)
    qtbot.waitUntil(slow.started.is_set)
    bridge.coalesce_load("k", lambda: "new", applied.append)
    bridge.flush_now()
    assert applied == ["new"]  # synchronously, on this thread
    slow.release.set()
    qtbot.waitUntil(lambda: bridge.loads_in_flight() == 0)  # the older read is back
    assert applied == ["new"]  # and was dropped


def test_a_failing_load_is_logged_and_changes_nothing(
    qtbot: Any, bridge: GuiBridge, caplog: Any
) -> None:
    applied: list[Any] = []

    def broken() -> Any:
        raise OSError("database is locked")

    with caplog.at_level(logging.ERROR, logger="storeapp.ui"):
        bridge.coalesce_load("k", broken, applied.append)
        qtbot.waitUntil(lambda: "database is locked" in caplog.text)
    bridge.coalesce_load("k", lambda: "ok", applied.append)
    qtbot.waitUntil(lambda: applied == ["ok"])


def test_nothing_is_applied_after_close(qtbot: Any, bridge: GuiBridge) -> None:
    load = SlowLoad("late")
    applied: list[str] = []
    bridge.coalesce_load("k", load, applied.append)
    qtbot.waitUntil(load.started.is_set)
    threading.Timer(0.05, load.release.set).start()
    bridge.close()  # waits for the read in progress (the store closes next)
    assert load.release.is_set()
    qtbot.wait(1)  # any queued call has had its chance to run
    assert applied == []


def test_a_failing_apply_does_not_lose_the_request_behind_it(qtbot: Any, bridge: GuiBridge) -> None:
    release = threading.Event()
    started = threading.Event()
    version = [1]
    applied: list[int] = []

    def load() -> int:
        read = version[0]
        started.set()
        release.wait(5)
        return read

    def apply(result: int) -> None:
        if result == 1:
            raise RuntimeError("the panel broke once")
        applied.append(result)

    bridge.coalesce_load("k", load, apply)
    qtbot.waitUntil(started.is_set)
    version[0] = 2
    flushes = bridge.flushes
    bridge.coalesce_load("k", load, apply)  # queued behind the running load
    qtbot.waitUntil(lambda: bridge.flushes > flushes)
    release.set()
    qtbot.waitUntil(lambda: applied == [2])


def test_load_now_applies_at_once_and_drops_an_older_background_read(
    qtbot: Any, bridge: GuiBridge
) -> None:
    slow = SlowLoad("old")
    applied: list[str] = []
    bridge.coalesce_load("k", slow, applied.append)
    qtbot.waitUntil(slow.started.is_set)
    bridge.load_now("k", lambda: "now", applied.append)
    assert applied == ["now"]
    slow.release.set()
    qtbot.waitUntil(lambda: bridge.loads_in_flight() == 0)
    assert applied == ["now"]


def test_yield_to_gui_holds_a_background_thread_while_a_refresh_runs(
    qtbot: Any, bridge: GuiBridge
) -> None:
    assert bridge.yield_to_gui(timeout=0)  # idle: at once
    events: list[str] = []
    in_refresh = threading.Event()
    leave = threading.Event()

    def worker() -> None:
        in_refresh.wait(5)
        events.append("worker asks")
        bridge.yield_to_gui(timeout=5)
        events.append("worker goes on")

    def refresh() -> None:
        in_refresh.set()
        assert bridge.yield_to_gui(timeout=0)  # never blocks the GUI thread itself
        leave.wait(0.2)  # the refresh takes a while; the worker must not pass
        events.append("refresh done")

    thread = threading.Thread(target=worker)
    thread.start()
    bridge.coalesce("k", refresh)
    qtbot.waitUntil(lambda: "refresh done" in events)
    thread.join(5)
    assert events == ["worker asks", "refresh done", "worker goes on"]


def test_yield_to_gui_does_not_wait_for_a_long_callback(qtbot: Any, bridge: GuiBridge) -> None:
    """A callback that runs long (a modal dialog, a nested event loop) is
    not a refresh: background threads stop holding back for it."""
    from storeapp.ui.bridge import YIELD_MAX_HOLD

    result: list[bool] = []

    def refresh() -> None:
        qtbot.wait(int(YIELD_MAX_HOLD * 1000) + 50)  # a nested event loop
        worker = threading.Thread(target=lambda: result.append(bridge.yield_to_gui(timeout=5)))
        worker.start()
        worker.join(1)

    bridge.coalesce("k", refresh)
    qtbot.waitUntil(lambda: result == [False])


def test_yield_to_gui_gives_up_after_its_timeout(qtbot: Any, bridge: GuiBridge) -> None:
    result: list[bool] = []

    def refresh() -> None:
        worker = threading.Thread(target=lambda: result.append(bridge.yield_to_gui(timeout=0.01)))
        worker.start()
        worker.join(5)  # the GUI thread is still in the refresh: the worker timed out

    bridge.coalesce("k", refresh)
    qtbot.waitUntil(lambda: result == [False])
