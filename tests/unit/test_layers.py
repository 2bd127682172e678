"""The house's layers point one way, and the domain never imports Qt.

``ui -> listeners.api -> domain``, ``ui -> domain``, ``app -> everything``.
A plugin knows the domain, the plugin API (and the mail library), never
``storeapp.ui``, the manager, another plugin or a private name. The domain
must run in a worker, a script or a test without PySide6 (and importing
PySide6 first slows start-up).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

import storeapp

PACKAGE_DIR = Path(storeapp.__file__).parent
TESTS_DIR = Path(__file__).resolve().parents[1]
QT_PACKAGES = ("PySide6", "PySide2", "PyQt5", "PyQt6", "shiboken6", "shiboken2")

#: The plugin API's own modules (a plugin reaches them through ``api``).
API = ("storeapp.listeners.api", "storeapp.listeners.cells", "storeapp.listeners.palette")
HOSTING = (*API, "storeapp.listeners.manager", "storeapp.listeners")


@dataclass(frozen=True)
class Import:
    module: str  # the importing module
    target: str  # the imported module (or module.name for "from m import name")
    names: tuple[str, ...]
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[Import]:
    """Every import in ``path``, at module level or inside a function;
    relative imports resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(Import(module, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = tuple(alias.name for alias in node.names)
            found.append(Import(module, base, names, node.lineno))
    return found


def sources() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def layer(module: str) -> str:
    """The room a storeapp module lives in."""
    if module in (
        "storeapp",
        "storeapp.app",
        "storeapp.__main__",
        "storeapp.events_cli",
        "storeapp.display_check",
    ):
        return "app"
    if module == "storeapp.settings":
        return "settings"
    for room in ("domain", "mail", "ui"):
        if module == f"storeapp.{room}" or module.startswith(f"storeapp.{room}."):
            return room
    if module in API:
        return "api"
    if module in ("storeapp.listeners", "storeapp.listeners.manager"):
        return "manager"
    return "plugin"


def plugin_package(module: str) -> str:
    """``storeapp.listeners.inspector`` for any module of the inspector."""
    return ".".join(module.split(".")[:3])


#: What each room may import of storeapp (plugins: also their own package).
ALLOWED = {
    "domain": {"domain"},
    "settings": {"settings"},
    "mail": {"domain", "mail"},
    "api": {"domain", "api"},
    "manager": {"domain", "api", "manager"},
    "plugin": {"domain", "api", "mail"},
    "ui": {"domain", "api", "manager", "ui", "settings"},
    "app": {"domain", "api", "manager", "ui", "settings", "mail", "plugin", "app"},
}


def is_module(name: str) -> bool:
    path = PACKAGE_DIR.parent.joinpath(*name.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def targets(imp: Import) -> list[str]:
    """The storeapp modules an import reaches ("from storeapp.listeners
    import core" reaches storeapp.listeners.core)."""
    if imp.names and all(is_module(f"{imp.target}.{name}") for name in imp.names):
        return [f"{imp.target}.{name}" for name in imp.names]
    return [imp.target]


def arrow_offences(paths: list[Path]) -> list[str]:
    offences = []
    for path in paths:
        for imp in imports_of(path):
            if imp.target != "storeapp" and not imp.target.startswith("storeapp."):
                continue
            source = layer(imp.module)
            for full in targets(imp):
                room, where = layer(full), f"{imp.module}:{imp.line}"
                if source == "plugin" and room == "plugin":
                    if plugin_package(full) != plugin_package(imp.module):
                        offences.append(f"{where} imports another plugin, {full}")
                elif source == "plugin" and full in API and full != "storeapp.listeners.api":
                    offences.append(f"{where} imports {full}; plugins use the api module")
                elif room not in ALLOWED[source]:
                    offences.append(f"{where} ({source}) imports {full} ({room})")
    return offences


def private_offences(paths: list[Path]) -> list[str]:
    """``from storeapp.x import _name`` from outside the module that owns it."""
    offences = []
    for path in paths:
        for imp in imports_of(path):
            if not imp.target.startswith("storeapp"):
                continue
            for name in imp.names:
                if name.startswith("_") and not name.startswith("__"):
                    offences.append(f"{imp.module}:{imp.line} imports {imp.target}.{name}")
    return offences


def test_every_import_points_the_way_the_layers_go():
    offences = arrow_offences(sources())

    assert offences == []


def test_no_module_imports_a_private_name_of_another():
    assert private_offences(sources()) == []


def test_the_layer_test_catches_a_plugin_that_imports_the_window(tmp_path):
    """The check above can fail: a plugin importing storeapp.ui is an offence."""
    rogue = PACKAGE_DIR / "listeners" / "rogue_plugin_for_the_layer_test.py"
    rogue.write_text(
        "from storeapp.ui.main_window import MainWindow\n"
        "from storeapp.listeners.inspector import plugin\n"
        "from storeapp.listeners.cells import CellModel\n"
        "from storeapp.domain.dispatch import _private\n",
        encoding="utf-8",
    )
    try:
        arrows = arrow_offences([rogue])
        private = private_offences([rogue])
    finally:
        rogue.unlink()

    name = "storeapp.listeners.rogue_plugin_for_the_layer_test"
    assert arrows == [
        f"{name}:1 (plugin) imports storeapp.ui.main_window (ui)",
        f"{name}:2 imports another plugin, storeapp.listeners.inspector.plugin",
        f"{name}:3 imports storeapp.listeners.cells; plugins use the api module",
    ]
    assert private == [f"{name}:4 imports storeapp.domain.dispatch._private"]


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


@pytest.mark.parametrize("room", ["domain", "mail"])
def test_no_domain_or_mail_source_file_imports_qt(room):
    sources = sorted((PACKAGE_DIR / room).rglob("*.py"))
    assert sources

    offenders = {str(p.relative_to(PACKAGE_DIR)): _qt_imports(p) for p in sources}

    assert {name: qt for name, qt in offenders.items() if qt} == {}


PROBE = """
import json, pkgutil, sys, importlib
import storeapp.domain, storeapp.listeners.api
for info in pkgutil.walk_packages(storeapp.domain.__path__, "storeapp.domain."):
    importlib.import_module(info.name)
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps({
    "domain": sorted(m for m in sys.modules if m.startswith("storeapp.domain")),
    "qt": sorted(m for m in sys.modules if m.split(".")[0] in %r),
}))
""" % (QT_PACKAGES,)  # noqa: UP031


def test_importing_the_domain_and_the_plugin_api_loads_no_qt_module():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "storeapp.domain.signals" in loaded["domain"]
    assert loaded["qt"] == []


def test_the_unit_tests_import_no_qt():
    """tests/unit is Qt-free: importing every module there loads no Qt."""
    modules = [
        ".".join(p.relative_to(TESTS_DIR.parent).with_suffix("").parts)
        for p in sorted((TESTS_DIR / "unit").rglob("test_*.py"))
    ]
    assert len(modules) > 3

    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS_DIR.parent,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["qt"] == []
