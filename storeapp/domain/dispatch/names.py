"""How dispatch names and describes receivers, values and errors in logs
and the inspector.

Every naming function here answers with a string and never raises: a
receiver with a broken ``__repr__`` or ``__str__`` must not break a send.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ReceiverInfo",
    "accepts_kwargs",
    "is_async_receiver",
    "describe_exc",
    "module_of",
    "qualname",
    "safe_repr",
    "safe_str",
]

REPR_LIMIT = 120


def qualname(func: Any) -> str:
    """``module.Qualified.name`` of a receiver (a bound method names its function)."""
    target = getattr(func, "__func__", func)
    name = getattr(target, "__qualname__", None)
    if name is None:
        name = type(target).__qualname__
    module = getattr(target, "__module__", None) or ""
    return f"{module}.{name}" if module else name


def module_of(fn: Any) -> str:
    """The module a receiver was defined in (its class's, for a callable object)."""
    target = getattr(fn, "__func__", fn)
    return getattr(target, "__module__", None) or type(target).__module__


def safe_repr(value: Any, limit: int = REPR_LIMIT) -> str:
    """``repr(value)``, shortened, and never raising."""
    try:
        text = repr(value)
    except Exception as exc:  # a repr that raises must not break a send
        text = f"<{type(value).__name__} (repr failed: {type(exc).__name__})>"
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def safe_str(err: BaseException) -> str:
    """``str(err)``, or a placeholder if that raises."""
    try:
        return str(err)
    except Exception:
        return f"<{type(err).__name__}: unprintable>"


def describe_exc(err: BaseException) -> str:
    """``"ValueError: message"``: how the inspector shows an error."""
    return f"{type(err).__name__}: {safe_str(err)}"


@dataclass(frozen=True)
class ReceiverInfo:
    """What is known about one connected receiver (for introspection)."""

    receiver: Callable[..., Any]
    sender: Any
    weak: bool
    on_commit: bool
    dispatch_uid: Any
    #: An ``async def`` receiver (awaited; run by ``send`` in an event loop).
    is_async: bool = False
    #: Connected with ``remote=True``: other tills' sends reach it too.
    remote: bool = False

    @property
    def name(self) -> str:
        return qualname(self.receiver)

    @property
    def module(self) -> str:
        return module_of(self.receiver)


def accepts_kwargs(func: Callable[..., Any]) -> bool:
    try:
        sig = inspect.signature(func)
    except (TypeError, ValueError):  # builtins: nothing to check
        return True
    return any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


#: The marker Python < 3.12 (and asgiref's ``markcoroutinefunction`` there)
#: puts on a callable that returns a coroutine without being ``async def``.
_LEGACY_COROUTINE_MARKER = getattr(asyncio.coroutines, "_is_coroutine", None)


def is_async_receiver(func: Callable[..., Any]) -> bool:
    """True if calling ``func`` returns a coroutine to await: an ``async def``
    function or bound method, a ``functools.partial`` of one, or a callable
    marked as a coroutine function (what asgiref's ``iscoroutinefunction``,
    which Django uses, accepts)."""
    if inspect.iscoroutinefunction(func):
        return True
    marker = _LEGACY_COROUTINE_MARKER
    return marker is not None and getattr(func, "_is_coroutine", None) is marker
