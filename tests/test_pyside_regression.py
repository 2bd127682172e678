"""PySide6 6.12.0 aborts CPython 3.11 after a few thousand Qt calls that
return None ("Fatal Python error: none_dealloc"). The pin in pyproject.toml
keeps 6.11.x there; these tests fail if a broken build comes back."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version

import pytest

CALLS = 100_000
MARKER = "survived 100000 Qt calls returning None"

SCRIPT = f"""
import sys
from PySide6.QtCore import QCoreApplication, QObject

app = QCoreApplication(sys.argv[:1])
obj = QObject()
for _ in range({CALLS}):
    obj.setObjectName("x")  # returns None
assert obj.objectName() == "x"
print({MARKER!r}, flush=True)
"""


def test_many_qt_calls_returning_none_do_not_crash_the_interpreter():
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert MARKER in result.stdout


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:2])


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="6.12 is fine on Python 3.12+")
def test_pyside6_is_older_than_6_12_on_python_3_11():
    assert _release(version("PySide6")) < (6, 12)
