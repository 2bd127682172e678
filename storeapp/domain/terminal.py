"""This till's name: ``--terminal``, else ``STOREAPP_TERMINAL``, else the host name.

A :class:`~storeapp.domain.Store` carries it (``Store.terminal``) and hands it
to every session it opens (under :data:`SESSION_KEY`), and whatever a
transaction writes with a terminal, an order or an event, reads it from
there: one place, so a script's Store honours ``STOREAPP_TERMINAL`` as the
window's does.
"""

from __future__ import annotations

import functools
import os
import socket
from typing import Any

from storeapp.domain.errors import ValidationError

#: Where a session keeps the name of the terminal it writes for.
SESSION_KEY = "storeapp.terminal"
ENV = "STOREAPP_TERMINAL"
MAX_LENGTH = 64


@functools.cache
def hostname() -> str:
    return (socket.gethostname() or "localhost")[:MAX_LENGTH]


def from_environment() -> str:
    """``STOREAPP_TERMINAL`` if set (and not empty), else the host name; unchecked."""
    return os.environ.get(ENV) or hostname()


def clean_terminal(name: Any, source: str = "--terminal") -> str:
    """``name`` if it is a terminal name (1-64 printable characters, not all
    blank), else a :class:`ValidationError` saying why (``source`` names
    where it came from)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(f"{source}: a terminal needs a name (1-64 characters).", "terminal")
    if len(name) > MAX_LENGTH:
        raise ValidationError(
            f"{source}: a terminal name has at most {MAX_LENGTH} characters, "
            f"not {len(name)} ({name[:20]!r}...).",
            "terminal",
        )
    if not name.isprintable():
        raise ValidationError(
            f"{source}: a terminal name must be printable characters only, not {name!r}.",
            "terminal",
        )
    return name.strip()


def resolve(name: str | None = None) -> str:
    """The terminal name to use: ``name`` if given, else ``STOREAPP_TERMINAL``,
    else the host name; validated."""
    if name is not None:
        return clean_terminal(name)
    value = os.environ.get(ENV)
    if value:
        return clean_terminal(value, ENV)
    return hostname()


def of_session(session: Any) -> str:
    """The terminal a session writes for (its Store's), else the environment's."""
    return session.info.get(SESSION_KEY) or from_environment()
