"""Where signals and receivers are written: what the Wiring tab shows
beside each one. No Qt here.

* :func:`signal_kind`: Django's built-in model signals (``pre_save``,
  ``post_save``, ``pre_delete``, ``post_delete``, sent for every model by
  the ORM layer) or a custom signal of the app's own;
* :func:`definition_of`: the file and lines of the statement that creates a
  signal (``order_created = Signal(...)``), found by reading the source of
  the module that holds it (``storeapp.domain.signals`` first) with
  :mod:`ast`, never from a list kept by hand;
* :func:`receiver_location` and :func:`source_at`: a receiver's file and
  first line, and the source of the function that starts there.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import sys
import weakref
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from storeapp.domain import signals as domain_signals
from storeapp.domain.dispatch import Signal
from storeapp.domain.dispatch.callsite import relative_path

__all__ = [
    "BUILT_IN",
    "CUSTOM",
    "Location",
    "definition_of",
    "receiver_location",
    "signal_kind",
    "source_at",
]

BUILT_IN = "built-in"
CUSTOM = "custom"

#: Django's model signals: storeapp's ORM layer sends them for every model.
_MODEL_SIGNALS = (
    domain_signals.pre_save,
    domain_signals.post_save,
    domain_signals.pre_delete,
    domain_signals.post_delete,
)


@dataclass(frozen=True, slots=True)
class Location:
    """Lines ``first``..``last`` of ``filename`` (shown relative to the repository)."""

    filename: str
    first: int
    last: int | None = None

    def __str__(self) -> str:
        return f"{relative_path(self.filename)}:{self.first}"


def signal_kind(signal: Signal) -> str:
    """``"built-in"`` for Django's model signals, ``"custom"`` for the rest."""
    return BUILT_IN if any(signal is s for s in _MODEL_SIGNALS) else CUSTOM


# module file -> {global name: (first line, last line)} of its "X = Signal(...)"
_assignments: dict[str, dict[str, tuple[int, int]]] = {}


def _signal_assignments(module: ModuleType) -> dict[str, tuple[int, int]]:
    filename = getattr(module, "__file__", None)
    if not filename or not filename.endswith(".py"):
        return {}
    found = _assignments.get(filename)
    if found is None:
        found = {}
        try:
            tree = ast.parse("".join(linecache.getlines(filename)), filename)
        except (SyntaxError, ValueError):
            tree = ast.Module(body=[], type_ignores=[])
        for node in tree.body:
            value = getattr(node, "value", None)
            if not isinstance(node, ast.Assign | ast.AnnAssign) or not isinstance(value, ast.Call):
                continue
            func = value.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name != "Signal":
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = (node.lineno, node.end_lineno or node.lineno)
        _assignments[filename] = found
    return found


_definitions: weakref.WeakKeyDictionary[Signal, Location | None] = weakref.WeakKeyDictionary()


def definition_of(signal: Signal) -> Location | None:
    """Where ``signal`` is created: the ``name = Signal(...)`` statement in
    :mod:`storeapp.domain.signals`, or else in any loaded module holding it
    under that name (None if no module does). Looked for once per signal."""
    try:
        return _definitions[signal]
    except KeyError:
        pass
    found = _find_definition(signal)
    _definitions[signal] = found
    return found


def _find_definition(signal: Signal) -> Location | None:
    modules = [domain_signals, *(m for m in list(sys.modules.values()) if m is not None)]
    for module in modules:
        namespace = getattr(module, "__dict__", None)
        if not isinstance(namespace, dict):
            continue
        for name, (first, last) in _signal_assignments_if_holding(module, namespace, signal):
            if namespace.get(name) is signal:
                return Location(module.__file__ or "", first, last)
    return None


def _signal_assignments_if_holding(
    module: ModuleType, namespace: dict[str, Any], signal: Signal
) -> list[tuple[str, tuple[int, int]]]:
    # Read a module's source only if it holds the signal at all.
    if not any(value is signal for value in list(namespace.values())):
        return []
    return list(_signal_assignments(module).items())


def receiver_location(receiver: Any) -> Location | None:
    """The file and first line of a receiver's function (a bound method's,
    a callable object's ``__call__``); None for one without Python source."""
    target = inspect.unwrap(getattr(receiver, "__func__", receiver))
    code = getattr(target, "__code__", None)
    if code is None:
        call = type(target).__dict__.get("__call__")
        code = getattr(getattr(call, "__func__", call), "__code__", None)
    if code is None:
        return None
    return Location(code.co_filename, code.co_firstlineno)


def source_at(location: Location) -> str:
    """The source at ``location``: its lines if it says where they end, else
    the function or class that starts there ("" if the file cannot be read)."""
    lines = linecache.getlines(location.filename)
    if not lines or not 0 < location.first <= len(lines):
        return ""
    if location.last is not None:
        return "".join(lines[location.first - 1 : location.last])
    try:
        return "".join(inspect.getblock(lines[location.first - 1 :]))
    except Exception:  # tokenize errors: show the first line rather than nothing
        return lines[location.first - 1]
