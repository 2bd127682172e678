"""storeapp.domain.signals declares every signal the app sends, the dispatcher's
own receiver_failed included, with no logic of its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from storeapp.domain import dispatch, signals
from storeapp.domain.dispatch import Signal


def test_every_signal_the_app_sends_is_a_named_signal_declared_here() -> None:
    declared = {name: value for name, value in vars(signals).items() if isinstance(value, Signal)}

    assert {"receiver_failed", "plugin_state_changed", "order_created"} <= set(declared)
    assert all(value.name == name for name, value in declared.items())
    undocumented = [n for n, v in declared.items() if v.__doc__ in (None, "", Signal.__doc__)]
    assert undocumented == []
    assert set(declared) <= set(signals.__all__)


def test_dispatch_hands_out_no_signal_of_its_own() -> None:
    """One place declares signals: dispatch sends receiver_failed but does
    not export it."""
    assert not any(isinstance(v, Signal) for v in vars(dispatch).values())


# storeapp.domain as a bare package: whatever its __init__ happens to import
# first must not decide whether the next two lines work.
BARE_DOMAIN = """
import pathlib, sys, types
import storeapp
domain = types.ModuleType("storeapp.domain")
domain.__path__ = [str(pathlib.Path(storeapp.__file__).parent / "domain")]
sys.modules["storeapp.domain"] = domain
"""


def test_signals_and_dispatch_import_in_either_order() -> None:
    """signals.py imports dispatch, and dispatch's streaks send receiver_failed
    from signals.py: neither order may meet a half-initialised module."""
    orders = [
        "import storeapp.domain.signals as s\nimport storeapp.domain.dispatch.streaks as d",
        "import storeapp.domain.dispatch.streaks as d\nimport storeapp.domain.signals as s",
    ]
    for first in orders:
        code = (
            f"{BARE_DOMAIN}{first}\nassert s.receiver_failed.name == 'receiver_failed'\nprint('ok')"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_the_signals_module_holds_no_logic() -> None:
    tree = ast.parse(Path(signals.__file__).read_text(encoding="utf-8"))

    kinds = {type(node).__name__ for node in tree.body}

    assert kinds <= {"Expr", "ImportFrom", "Import", "Assign", "AnnAssign"}
