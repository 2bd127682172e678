"""storeapp's Signal answers as ``django.dispatch.Signal`` does.

Each scenario is a snippet in the forms Django's signals documentation
shows; it runs once against Django and once against storeapp, and what it
observes (who was called with what, what connect/disconnect/send answered)
must be the same. A difference is a failing test.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django.dispatch
import pytest

from storeapp.domain import dispatch


@dataclass(frozen=True)
class Library:
    name: str
    Signal: Callable[..., Any]
    receiver: Callable[..., Any]


DJANGO = Library("django", django.dispatch.Signal, django.dispatch.receiver)
STOREAPP = Library("storeapp", dispatch.Signal, dispatch.receiver)


class Model:
    """A sender, as a model class is in Django."""


class Other:
    pass


def run(scenario: Callable[[Library, list[Any]], Any]) -> tuple[Any, Any]:
    """(what Django observed, what storeapp observed)."""
    results = []
    for lib in (DJANGO, STOREAPP):
        seen: list[Any] = []
        answer = scenario(lib, seen)
        results.append((answer, seen))
    return results[0], results[1]


def recorder(seen: list[Any], label: str) -> Callable[..., Any]:
    """A receiver that notes its calls. Keep a reference to it: receivers
    are connected weakly, in Django as here."""

    def handler(sender: Any, **kwargs: Any) -> str:
        seen.append((label, sender, sorted(k for k in kwargs if k != "signal")))
        return label

    return handler


def names(responses: list[tuple[Any, Any]]) -> list[Any]:
    return [r if not isinstance(r, Exception) else type(r).__name__ for _fn, r in responses]


SCENARIOS: dict[str, Callable[[Library, list[Any]], Any]] = {}


def scenario(fn: Callable[[Library, list[Any]], Any]) -> Callable[[Library, list[Any]], Any]:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def send_with_sender_as_keyword(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    return names(sig.send(sender=Model, instance="obj", created=True))


@scenario
def send_with_sender_positional(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    return names(sig.send(Model, instance="obj")), names(sig.send_robust(Model, instance="o"))


@scenario
def send_robust_with_sender_as_keyword(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, sender=Model)
    return names(sig.send_robust(sender=Model, order=1)), names(sig.send_robust(sender=Other))


@scenario
def receiver_decorator_with_a_sender(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()

    @lib.receiver(sig, sender=Model)
    def h(sender: Any, **kwargs: Any) -> str:
        seen.append(("h", sender))
        return "h"

    return names(sig.send(sender=Model)), names(sig.send(sender=Other))


@scenario
def receiver_decorator_with_a_list_of_signals(lib: Library, seen: list[Any]) -> Any:
    first, second = lib.Signal(), lib.Signal()

    @lib.receiver([first, second])
    def h(sender: Any, signal: Any, **kwargs: Any) -> str:
        seen.append(("h", signal is first, signal is second))
        return "h"

    return names(first.send(Model)), names(second.send(Model))


@scenario
def the_same_dispatch_uid_connects_once(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    a, b = recorder(seen, "a"), recorder(seen, "b")
    sig.connect(a, dispatch_uid="uid")
    sig.connect(b, dispatch_uid="uid")
    return names(sig.send(Model))


@scenario
def the_same_function_twice_connects_once(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    sig.connect(h)
    return names(sig.send(Model))


@scenario
def disconnect_answers_whether_it_removed_something(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    return sig.disconnect(h), sig.disconnect(h), names(sig.send(Model))


@scenario
def disconnect_without_a_sender_keeps_a_sender_specific_connection(
    lib: Library, seen: list[Any]
) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, sender=Model)
    answer = sig.disconnect(h)
    return answer, names(sig.send(Model)), sig.disconnect(h, sender=Model), names(sig.send(Model))


@scenario
def disconnect_by_dispatch_uid_is_per_sender(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, sender=Model, dispatch_uid="uid")
    first = sig.disconnect(dispatch_uid="uid")
    still = names(sig.send(Model))
    second = sig.disconnect(dispatch_uid="uid", sender=Model)
    return first, still, second, names(sig.send(Model))


@scenario
def a_connection_made_with_a_dispatch_uid_is_removed_by_it_only(
    lib: Library, seen: list[Any]
) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, dispatch_uid="uid")
    by_function = sig.disconnect(h)
    still = names(sig.send(Model))
    by_uid = sig.disconnect(dispatch_uid="uid")
    return by_function, still, by_uid, names(sig.send(Model))


@scenario
def send_raises_and_send_robust_returns_the_error(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()

    def bad(sender: Any, **kwargs: Any) -> None:
        seen.append("bad")
        raise ValueError("no")

    after = recorder(seen, "after")
    sig.connect(bad)
    sig.connect(after)
    try:
        sig.send(Model)
    except ValueError as exc:
        raised = str(exc)
    return raised, names(sig.send_robust(Model))


@scenario
def has_listeners_for_any_and_for_one_sender(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    before = sig.has_listeners(), sig.has_listeners(Model)
    h = recorder(seen, "h")
    sig.connect(h, sender=Model)
    return before, sig.has_listeners(Model), sig.has_listeners(Other)


@scenario
def use_caching_is_accepted_and_follows_connects(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal(use_caching=True)
    h = recorder(seen, "h")
    first = names(sig.send(Model))
    sig.connect(h, sender=Model)
    second = names(sig.send(Model))
    sig.disconnect(h, sender=Model)
    return first, second, names(sig.send(Model))


@scenario
def a_weakly_connected_receiver_that_dies_is_not_called(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    del h
    gc.collect()
    return names(sig.send(Model)), sig.has_listeners()


@scenario
def a_strong_connection_keeps_its_receiver(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    sig.connect(recorder(seen, "h"), weak=False)
    gc.collect()
    return names(sig.send(Model))


@scenario
def a_bound_method_receiver(lib: Library, seen: list[Any]) -> Any:
    class Listener:
        def on_save(self, sender: Any, **kwargs: Any) -> str:
            seen.append(("method", sender))
            return "method"

    listener = Listener()
    sig = lib.Signal()
    sig.connect(listener.on_save)
    first = names(sig.send(Model))
    return first, sig.disconnect(listener.on_save), names(sig.send(Model))


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_storeapp_answers_as_django_does(name: str) -> None:
    django_saw, storeapp_saw = run(SCENARIOS[name])

    assert storeapp_saw == django_saw


def test_the_parity_check_can_fail() -> None:
    """A snippet that observes a real difference fails the comparison."""

    def differs(lib: Library, seen: list[Any]) -> Any:
        return lib.name

    django_saw, storeapp_saw = run(differs)

    assert storeapp_saw != django_saw
