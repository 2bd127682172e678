"""``@receiver``: Django's decorator that connects a function where it is defined."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from storeapp.domain.dispatch.signal import Signal

__all__ = ["receiver"]

F = TypeVar("F", bound=Callable[..., Any])


def receiver(signal: Signal | list[Signal] | tuple[Signal, ...], **kwargs: Any) -> Callable[[F], F]:
    """Decorator: connect the function to one signal or a list of signals.

    ``@receiver(post_save, sender=User, dispatch_uid="...")``
    """

    def _decorator(func: F) -> F:
        signals = signal if isinstance(signal, (list, tuple)) else [signal]
        for s in signals:
            s.connect(func, **kwargs)
        return func

    return _decorator
