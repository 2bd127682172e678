"""Where a send came from: the call site the inspector shows for each send.

:func:`call_site` walks the stack with ``sys._getframe`` from the observed
send outwards, past the frames that only carry a send along:

* the send machinery itself (every module of :mod:`storeapp.domain.dispatch`),
* the model-signal helpers that only forward a flush to a signal
  (:mod:`storeapp.domain.models`' mapper events, the unit of work's
  ``flush``) and SQLAlchemy's own frames between them,

and answers the first other frame as ``"Qualname (path/to/file.py:LINE)"``
(the path relative to the directory that holds the ``storeapp`` package),
with the name of the Signal method the sender called (``send``,
``send_robust``). Only the observed send calls it: with the inspector off,
nothing here runs.

Cheap on purpose: what a code object is (machinery, a forwarder, a call
site) is decided once per code object, and the text of a call site once per
(code object, line).
"""

from __future__ import annotations

import os
import sys
from types import CodeType, FrameType

import sqlalchemy

__all__ = ["ROOT", "call_site", "forward_from", "relative_path"]

_DISPATCH = os.path.dirname(os.path.abspath(__file__))
_STOREAPP = os.path.dirname(os.path.dirname(_DISPATCH))
#: The directory the shown paths are relative to (the repository root when
#: storeapp runs from a checkout).
ROOT = os.path.dirname(_STOREAPP)

# What a frame's code is.
_SITE, _MACHINERY, _FORWARD = 0, 1, 2

#: The Signal methods a sender calls (what ``via`` names).
_SEND_METHODS = frozenset({"send", "send_robust", "asend", "asend_robust"})

#: Files (absolute paths) whose frames only forward a send, and directories
#: (ending in a separator) whose every file does.
_forwarding_files: set[str] = {
    os.path.join(_STOREAPP, "domain", "model_signals.py"),
    os.path.join(_STOREAPP, "domain", "store", "uow.py"),
}
_forwarding_dirs: list[str] = [
    _DISPATCH + os.sep,
    os.path.dirname(os.path.abspath(sqlalchemy.__file__)) + os.sep,
]

# Keyed by id(code): hashing a code object hashes its bytecode, every time.
# _seen keeps each classified code object alive, so its id is never reused
# while it is a key (cleared together past _MAX_CODES).
_kinds: dict[int, int] = {}
_seen: list[CodeType] = []
_MAX_CODES = 20_000
_texts: dict[tuple[int, int], str] = {}
_paths: dict[str, str] = {}
#: Bound for the per-line cache (one entry per distinct call site).
_MAX_TEXTS = 4096


def forward_from(path: str) -> None:
    """Treat the frames of the file (or, ending in a separator, the
    directory) ``path`` as forwarding: a send's call site is looked for
    beyond them (for a helper that sends on another function's behalf)."""
    path = os.path.abspath(path) + (os.sep if path.endswith(os.sep) else "")
    if path.endswith(os.sep):
        _forwarding_dirs.append(path)
    else:
        _forwarding_files.add(path)
    _kinds.clear()
    _texts.clear()
    _seen.clear()


def relative_path(filename: str) -> str:
    """``filename`` relative to :data:`ROOT` (with ``/``), or as it is if it
    lies elsewhere (a plugin installed in site-packages, ``<stdin>``)."""
    shown = _paths.get(filename)
    if shown is None:
        full = os.path.abspath(filename) if not filename.startswith("<") else filename
        if full.startswith(ROOT + os.sep):
            shown = os.path.relpath(full, ROOT).replace(os.sep, "/")
        else:
            shown = filename
        _paths[filename] = shown
    return shown


def _kind(code: CodeType) -> int:
    filename = code.co_filename
    full = os.path.abspath(filename) if not filename.startswith("<") else filename
    if full.startswith(_DISPATCH + os.sep):
        kind = _MACHINERY if code.co_name in _SEND_METHODS else _FORWARD
    elif (
        full in _forwarding_files
        or any(full.startswith(d) for d in _forwarding_dirs)
        or filename.startswith("<sqlalchemy")  # code SQLAlchemy generates
    ):
        kind = _FORWARD
    else:
        kind = _SITE
    if len(_seen) >= _MAX_CODES:
        _kinds.clear()
        _texts.clear()
        _seen.clear()
    _seen.append(code)
    _kinds[id(code)] = kind
    return kind


def call_site(depth: int = 1) -> tuple[str, str]:
    """``(origin, via)`` of the send being made: the first frame beyond
    ``sys._getframe(depth + 1)`` that is not dispatch or a forwarder, as
    ``"Qualname (path.py:LINE)"`` (``""`` if there is none), and the Signal
    method that was called (``""`` if none shows on the stack)."""
    frame: FrameType | None = sys._getframe(depth + 1)
    via = ""
    leaving = True  # still in the send's own machinery (the first dispatch frames)
    kinds = _kinds
    while frame is not None:
        code = frame.f_code
        kind = kinds.get(id(code))
        if kind is None:
            kind = _kind(code)
        if kind == _SITE:
            line = frame.f_lineno
            text = _texts.get((id(code), line))
            if text is None:
                if len(_texts) >= _MAX_TEXTS:
                    _texts.clear()
                qual = getattr(code, "co_qualname", code.co_name)
                text = f"{qual} ({relative_path(code.co_filename)}:{line})"
                _texts[(id(code), line)] = text
            return text, via
        if leaving:
            if kind == _MACHINERY:
                via = code.co_name  # the outermost of send() -> deliver() -> ...
            elif via:
                leaving = False  # beyond it, a send() belongs to an enclosing send
        frame = frame.f_back
    return "", via
