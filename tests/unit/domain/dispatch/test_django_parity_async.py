"""storeapp's Signal runs async receivers as ``django.dispatch.Signal`` 5.2
does: ``send``/``send_robust`` after the sync receivers, ``asend`` and
``asend_robust`` (the harness: parity.py). A difference is a failing test.

Django's ``asend`` runs the sync receivers in a thread beside the async ones,
so snippets using it compare what ran, sorted, not its interleaving.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.domain.dispatch.parity import Library, Model, Other, names, recorder, registry, run

SCENARIOS, scenario = registry()


def async_recorder(seen: list[Any], label: str, fail: bool = False) -> Callable[..., Any]:
    """An ``async def`` receiver that notes its start and its end, yielding to
    the loop in between (so concurrently gathered receivers interleave)."""

    async def handler(sender: Any, **kwargs: Any) -> str:
        seen.append((label, "start", sender))
        await asyncio.sleep(0)
        seen.append((label, "end"))
        if fail:
            raise ValueError(label)
        return label

    return handler


def failing(seen: list[Any], label: str) -> Callable[..., Any]:
    def handler(sender: Any, **kwargs: Any) -> None:
        seen.append((label, sender))
        raise ValueError(label)

    return handler


@scenario
def send_runs_sync_receivers_then_async_ones_concurrently(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    a1, s1 = async_recorder(seen, "a1"), recorder(seen, "s1")
    a2, s2 = async_recorder(seen, "a2"), recorder(seen, "s2")
    for fn in (a1, s1, a2, s2):
        sig.connect(fn)
    return names(sig.send(Model)), sig.has_listeners(Model)


@scenario
def send_robust_runs_async_receivers_and_returns_their_errors(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    bad, good = async_recorder(seen, "bad", fail=True), async_recorder(seen, "good")
    s = failing(seen, "s")
    for fn in (bad, s, good):
        sig.connect(fn)
    return names(sig.send_robust(Model))


@scenario
def send_raises_an_async_receivers_error(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    bad, s = async_recorder(seen, "bad", fail=True), recorder(seen, "s")
    sig.connect(bad)
    sig.connect(s)
    try:
        sig.send(Model)
    except ValueError as exc:
        return "raised", str(exc)
    return "returned"


@scenario
def an_async_receiver_only_for_one_sender(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    a = async_recorder(seen, "a")
    before = sig.has_listeners(Model)
    sig.connect(a, sender=Model, dispatch_uid="a")
    sent = names(sig.send(Model)), names(sig.send(Other))
    listening = sig.has_listeners(Model), sig.has_listeners(Other)
    return before, sent, listening, sig.disconnect(sender=Model, dispatch_uid="a")


@scenario
def asend_awaits_async_receivers_and_calls_sync_ones(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    a1, s1 = async_recorder(seen, "a1"), recorder(seen, "s1")
    a2, s2 = async_recorder(seen, "a2"), recorder(seen, "s2")
    for fn in (a1, s1, a2, s2):
        sig.connect(fn)
    responses = asyncio.run(sig.asend(sender=Model, order=1))
    seen.sort(key=repr)  # sync receivers may run beside async ones: compare what ran
    return names(responses), asyncio.run(lib.Signal().asend(Model))


@scenario
def asend_robust_returns_errors_from_both_kinds(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    bad_async, bad_sync = async_recorder(seen, "a", fail=True), failing(seen, "s")
    good_async, good_sync = async_recorder(seen, "ga"), recorder(seen, "gs")
    for fn in (bad_async, bad_sync, good_async, good_sync):
        sig.connect(fn)
    responses = asyncio.run(sig.asend_robust(Model))
    seen.sort(key=repr)
    return names(responses)


@scenario
def asend_raises_a_receivers_error(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    bad = async_recorder(seen, "bad", fail=True)
    sig.connect(bad)
    try:
        asyncio.run(sig.asend(Model))
    except ValueError as exc:
        return "raised", str(exc)
    return "returned"


@scenario
def asend_with_only_sync_receivers(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    s1, s2 = recorder(seen, "s1"), recorder(seen, "s2")
    sig.connect(s1)
    sig.connect(s2, sender=Model)
    return names(asyncio.run(sig.asend(Model))), names(asyncio.run(sig.asend_robust(Other)))


@scenario
def send_inside_a_running_loop(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    s = recorder(seen, "s")
    sig.connect(s)

    async def only_sync() -> Any:
        return names(sig.send(Model))

    sync_only = asyncio.run(only_sync())
    a = async_recorder(seen, "a")
    sig.connect(a)

    async def with_async() -> Any:
        try:
            sig.send(Model)
        except RuntimeError:
            return "RuntimeError"
        return "no error"

    return sync_only, asyncio.run(with_async())


@scenario
def an_async_bound_method_receiver(lib: Library, seen: list[Any]) -> Any:
    class Listener:
        async def on_save(self, sender: Any, **kwargs: Any) -> str:
            seen.append(("method", sender))
            return "method"

    listener = Listener()
    sig = lib.Signal()
    sig.connect(listener.on_save)
    first = names(sig.send(Model)), names(asyncio.run(sig.asend(Model)))
    return first, sig.disconnect(listener.on_save), names(sig.send(Model))


@scenario
def a_weakly_connected_async_receiver_that_dies_is_not_called(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    a = async_recorder(seen, "a")
    sig.connect(a)
    del a
    gc.collect()
    return names(sig.send(Model)), sig.has_listeners()


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_storeapp_answers_as_django_does(name: str) -> None:
    django_saw, storeapp_saw = run(SCENARIOS[name])

    assert storeapp_saw == django_saw
