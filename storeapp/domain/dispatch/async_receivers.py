"""Async receivers, run as Django 5.2 runs them.

``send``/``send_robust`` call the sync receivers first (``Signal.deliver``),
then run the async ones here, concurrently with ``asyncio.gather``, in a new
event loop of their own (Django: one ``async_to_sync`` call); their responses
follow the sync ones'. ``asend``/``asend_robust`` await the same gather in
the caller's loop. Inside a running event loop, ``send`` refuses to start a
second one (Django's ``async_to_sync`` refuses too).

Under a robust send an async receiver's exception is its response, logged and
counted in its failure streak as a sync receiver's is. Under ``send`` and
``send_robust`` the inspector's record gets a call per async receiver, after
the sync ones (their durations overlap: they run concurrently); under
``asend`` it sees the sync receivers only.
"""

from __future__ import annotations

import asyncio
import time
import traceback
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from storeapp.domain.dispatch import streaks
from storeapp.domain.dispatch.names import describe_exc, module_of, qualname, safe_repr
from storeapp.domain.dispatch.records import ReceiverCall, ReceiverStatus
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


def run(
    signal: Signal,
    sender: Any,
    kwargs: dict[str, Any],
    robust: bool,
    calls: list[ReceiverCall] | None = None,
) -> list[tuple[Any, Any]]:
    """Run ``sender``'s async receivers to completion from sync code; with
    ``calls`` (an observed send's), add a timed call for each of them."""
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
        return runner.run(_gather(signal, fns, sender, kwargs, robust, calls))


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
    calls: list[ReceiverCall] | None = None,
) -> list[tuple[Any, Any]]:
    coros = [fn(signal=signal.public, sender=sender, **kwargs) for fn in fns]
    if calls is not None:
        coros = [_timed(coro, fn, calls) for coro, fn in zip(coros, fns)]
    if robust:
        results = await asyncio.gather(*(_guarded(coro) for coro in coros))
    else:
        results = await asyncio.gather(*coros)
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


async def _guarded(coro: Coroutine[Any, Any, Any]) -> Any:
    try:
        return await coro
    except Exception as err:
        return _Failed(err)


def _timed(
    coro: Coroutine[Any, Any, Any], fn: Callable[..., Any], calls: list[ReceiverCall]
) -> Coroutine[Any, Any, Any]:
    """``coro``, recording its receiver's call (in connection order) as it runs."""
    call = ReceiverCall(qualname(fn), module_of(fn), ReceiverStatus.OK)
    calls.append(call)

    async def timed() -> Any:
        start = time.perf_counter()
        try:
            result = await coro
        except Exception as err:
            call.status = ReceiverStatus.ERROR
            call.error = describe_exc(err)
            call.traceback = "".join(traceback.format_exception(err))
            raise
        finally:
            call.duration = time.perf_counter() - start
        call.result = "None" if result is None else safe_repr(result)
        return result

    return timed()
