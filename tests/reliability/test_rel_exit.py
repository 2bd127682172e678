"""SIGTERM and SIGINT close the real app as its close button does: exit 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def wait_for_line(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = path.read_text(errors="replace") if path.exists() else ""
        if text in log:
            return log
        if proc.poll() is not None:
            raise AssertionError(f"the app exited early ({proc.returncode}):\n{log}")
        time.sleep(0.05)  # polling a child's log file: no Qt event loop to wait on here
    raise AssertionError(f"{text!r} not seen within {timeout} s")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_window_and_the_app_exits_0(tmp_path: Path, signum: int):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "STOREAPP_DATA_DIR": str(tmp_path)}
    env.pop("STOREAPP_DB", None)
    log = tmp_path / "stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "main.py", "--demo"], cwd=REPO_ROOT, env=env, stderr=err
        )
    try:
        wait_for_line(log, "SIGTERM or SIGINT closes it", proc, timeout=60)

        proc.send_signal(signum)
        status = proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    text = log.read_text(errors="replace")
    assert status == 0, text
    assert f"{signal.Signals(signum).name} received: closing" in text
    assert "Traceback" not in text
