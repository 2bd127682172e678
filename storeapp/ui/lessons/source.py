"""The real code a lesson shows, read from the running program.

Nothing here is a pasted copy: a receiver's source is found through the
signal it is connected to right now, a signal's definition by reading
:mod:`storeapp.domain.signals`, a plugin's entry point from the installed
package's metadata. If the code changes, the lesson shows the change.
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from storeapp.domain import signals
from storeapp.domain.dispatch import Signal, qualname
from storeapp.listeners.api import ENTRY_POINT_GROUP

#: The project: the folder that holds the storeapp package.
ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Snippet:
    """Some code, where it lives, and why it is shown."""

    title: str
    location: str  # "storeapp/domain/store/orders.py:49"
    code: str


def relative(path: str | Path) -> str:
    """``path`` relative to the project (absolute if it lives elsewhere)."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(ROOT).as_posix()
    except ValueError:
        return str(resolved)


def function(fn: Any, title: str | None = None) -> Snippet:
    """The source of a function, method or class, with its file:line."""
    target = inspect.unwrap(getattr(fn, "__func__", fn))
    try:
        lines, first = inspect.getsourcelines(target)
        path = inspect.getsourcefile(target) or "?"
    except (OSError, TypeError) as exc:
        return Snippet(title or qualname(fn), "?", f"(source not available: {exc})")
    return Snippet(title or qualname(fn), f"{relative(path)}:{first}", "".join(lines).rstrip())


def signal_definition(name: str) -> Snippet:
    """Where ``storeapp.domain.signals.<name>`` is defined, and how."""
    path = Path(inspect.getfile(signals))
    source = path.read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            code = ast.get_source_segment(source, node) or ""
            return Snippet(f"the {name} signal is defined", f"{relative(path)}:{node.lineno}", code)
    return Snippet(f"the {name} signal", "?", f"({name} is not defined in {relative(path)})")


def receivers(signal: Signal, *, module_prefix: str = "", name: str = "") -> list[Snippet]:
    """The source of the receivers connected to ``signal`` now, optionally
    only those whose module starts with ``module_prefix`` or whose name ends
    with ``name``."""
    found = []
    for info in signal.receivers_info():
        if module_prefix and not info.module.startswith(module_prefix):
            continue
        if name and not info.name.endswith(name):
            continue
        sender = (
            ""
            if info.sender is None
            else f", sender={getattr(info.sender, '__name__', info.sender)}"
        )
        commit = ", on_commit=True" if info.on_commit else ""
        found.append(function(info.receiver, f"receiver of {signal.name}{sender}{commit}"))
    return found


def module_function(module: str, name: str, title: str) -> Snippet | None:
    """``module.name`` if that module is loaded (a plugin that is running)."""
    loaded = sys.modules.get(module)
    fn = getattr(loaded, name, None) if loaded is not None else None
    return function(fn, title) if fn is not None else None


def entry_points() -> Snippet:
    """The plugins registered under storeapp's entry-point group, as installed."""
    lines = [
        f"{ep.name} = {ep.value}"
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    ]
    code = f'[project.entry-points."{ENTRY_POINT_GROUP}"]\n' + "\n".join(lines)
    return Snippet("the plugins, registered as entry points", "pyproject.toml", code)
