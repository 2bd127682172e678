"""The domain never imports Qt: it must run in a worker, a script or a test
without PySide6 (and importing PySide6 first slows start-up)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import storeapp.domain

DOMAIN_DIR = Path(storeapp.domain.__file__).parent
QT_PACKAGES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2")

PROBE = f"""
import json, pkgutil, sys, importlib
import storeapp.domain
for info in pkgutil.iter_modules(storeapp.domain.__path__, "storeapp.domain."):
    importlib.import_module(info.name)
print(json.dumps({{
    "domain": sorted(m for m in sys.modules if m.startswith("storeapp.domain")),
    "qt": sorted(m for m in sys.modules if m.split(".")[0] in {QT_PACKAGES!r}),
}}))
"""


def test_importing_the_domain_loads_no_qt_module():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "storeapp.domain.store" in loaded["domain"]
    assert "storeapp.domain.signals" in loaded["domain"]
    assert loaded["qt"] == []


def _qt_imports(path: Path) -> list[str]:
    """Qt modules ``path`` imports, statically or through import_module()."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names = [node.value] if " " not in node.value else []
        else:
            continue
        found += [n for n in names if n.split(".")[0] in QT_PACKAGES or n == "QtCore"]
    return found


def test_no_domain_source_file_imports_qt():
    sources = sorted(DOMAIN_DIR.rglob("*.py"))
    assert DOMAIN_DIR / "store" / "services.py" in sources  # subpackages are walked too

    offenders = {str(p.relative_to(DOMAIN_DIR)): _qt_imports(p) for p in sources}

    assert {name: qt for name, qt in offenders.items() if qt} == {}
