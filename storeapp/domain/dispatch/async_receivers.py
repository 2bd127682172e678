"""Async receivers, run as Django 5.2 runs them.

``send``/``send_robust`` call the sync receivers first (``Signal.deliver``),
then run the async ones here, concurrently with ``asyncio.gather``, in a new
event loop of their own (Django: one ``async_to_sync`` call); their responses
follow the sync ones'. ``asend``/``asend_robust`` await the same gather in
the caller's loop. Inside a running event loop, ``send`` refuses to start a
second one (Django's ``async_to_sync`` refuses too).

Under a robust send an async receiver's exception is its response, logged and
counted in its failure streak as a sync receiver's is. The inspector's
observer does not see async receivers yet (their calls overlap, and its
records time one receiver after another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch import streaks
from storeapp.domain.dispatch.streaks import note_failure, note_success

if TYPE_CHECKING:
    from storeapp.domain.dispatch.signal import Signal

__all__ = ["gather", "run"]


class _Failed:
    """What a receiver raised under a robust send (a receiver may return an
    exception object; this tells the two apart)."""

    __slots__ = ("err",)

    def __init__(self, err: Exception) -> None:
        self.err = err


def _receivers(signal: Signal, sender: Any) -> list[Callable[..., Any]]:
    """The live async receivers for ``sender``, in connection order."""
    if signal.is_muted:
        return []
    out = []
    for ref, weak, _ in signal._async_entries(sender):
        fn = ref() if weak else ref
        if fn is not None:
            out.append(fn)
    return out


def run(signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool) -> list[tuple[Any, Any]]:
    """Run ``sender``'s async receivers to completion from sync code."""
    fns = _receivers(signal, sender)
    if not fns:
        return []
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        raise RuntimeError(
            f"{signal!r} has async receivers, which send() and send_robust() cannot run "
            "inside a running event loop: await asend() or asend_robust() instead."
        )
    # A loop of our own, never set as this thread's current loop (asyncio.run
    # would reset one an application set).
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(_gather(signal, fns, sender, kwargs, robust))


async def gather(
    signal: Signal, sender: Any, kwargs: dict[str, Any], robust: bool
) -> list[tuple[Any, Any]]:
    """Await ``sender``'s async receivers, concurrently, in the running loop."""
    fns = _receivers(signal, sender)
    if not fns:
        return []
    return await _gather(signal, fns, sender, kwargs, robust)


async def _gather(
    signal: Signal,
    fns: list[Callable[..., Any]],
    sender: Any,
    kwargs: dict[str, Any],
    robust: bool,
) -> list[tuple[Any, Any]]:
    if robust:
        results = await asyncio.gather(*(_guarded(fn, signal, sender, kwargs) for fn in fns))
    else:
        results = await asyncio.gather(*(fn(signal=signal, sender=sender, **kwargs) for fn in fns))
    responses: list[tuple[Any, Any]] = []
    for fn, result in zip(fns, results):
        if isinstance(result, _Failed):
            # signal.py imports this module: its logger is reached late.
            from storeapp.domain.dispatch.signal import log_receiver_error

            log_receiver_error(fn, result.err)
            note_failure(signal, fn, result.err)
            result = result.err
        elif streaks.failing:
            note_success(fn)
        responses.append((fn, result))
    return responses


async def _guarded(
    fn: Callable[..., Any], signal: Signal, sender: Any, kwargs: dict[str, Any]
) -> Any:
    try:
        return await fn(signal=signal, sender=sender, **kwargs)
    except Exception as err:
        return _Failed(err)
