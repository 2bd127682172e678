"""storeapp's Signal answers as ``django.dispatch.Signal`` does: connecting,
sending, disconnecting, for sync receivers (async ones:
test_django_parity_async.py; the harness: parity.py). A difference is a
failing test.
"""

from __future__ import annotations

import gc
from typing import Any

import pytest

from tests.unit.domain.dispatch.parity import Library, Model, Other, names, recorder, registry, run

SCENARIOS, scenario = registry()


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


# -- the connection is the unit: (receiver or dispatch_uid, sender) ----------


@scenario
def one_function_under_two_dispatch_uids_is_called_twice(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, dispatch_uid="first")
    sig.connect(h, dispatch_uid="second")
    return names(sig.send(Model)), names(sig.send_robust(Model)), sig.has_listeners(Model)


@scenario
def one_function_for_any_sender_and_for_one_sender_is_called_twice_by_it(
    lib: Library, seen: list[Any]
) -> Any:
    sig = lib.Signal()
    a, h, b = recorder(seen, "a"), recorder(seen, "h"), recorder(seen, "b")
    sig.connect(a)
    sig.connect(h)
    sig.connect(b, sender=Model)
    sig.connect(h, sender=Model)
    return names(sig.send(Model)), names(sig.send(Other)), names(sig.send_robust(Model))


@scenario
def disconnecting_one_dispatch_uid_keeps_the_other(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, dispatch_uid="first")
    sig.connect(h, dispatch_uid="second")
    answer = sig.disconnect(dispatch_uid="first")
    after_one = names(sig.send(Model))
    again = sig.disconnect(dispatch_uid="first")
    last = sig.disconnect(dispatch_uid="second")
    return answer, after_one, again, last, names(sig.send(Model)), sig.has_listeners()


@scenario
def disconnecting_the_any_sender_connection_keeps_the_one_for_a_sender(
    lib: Library, seen: list[Any]
) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    sig.connect(h, sender=Model)
    both = names(sig.send(Model))
    answer = sig.disconnect(h)
    kept = names(sig.send(Model)), names(sig.send(Other)), sig.has_listeners(Model)
    return both, answer, kept, sig.disconnect(h, sender=Model), names(sig.send(Model))


@scenario
def a_function_with_and_without_a_dispatch_uid_is_two_connections(
    lib: Library, seen: list[Any]
) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h)
    sig.connect(h, dispatch_uid="uid")
    both = names(sig.send(Model))
    by_function = sig.disconnect(h)
    return both, by_function, names(sig.send(Model)), sig.disconnect(dispatch_uid="uid")


@scenario
def an_empty_dispatch_uid_is_no_dispatch_uid(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, dispatch_uid="")
    sig.connect(h)
    return names(sig.send(Model)), sig.disconnect(h), names(sig.send(Model))


@scenario
def a_weak_and_a_strong_connection_of_one_function(lib: Library, seen: list[Any]) -> Any:
    sig = lib.Signal()
    h = recorder(seen, "h")
    sig.connect(h, sender=Model)
    sig.connect(h, weak=False)
    del h
    gc.collect()
    return names(sig.send(Model)), names(sig.send(Other))


@scenario
def receiver_decorator_with_a_list_of_signals_and_a_sender(lib: Library, seen: list[Any]) -> Any:
    first, second = lib.Signal(), lib.Signal()

    @lib.receiver([first, second], sender=Model, dispatch_uid="both")
    def h(sender: Any, signal: Any, **kwargs: Any) -> str:
        seen.append(("h", signal is first, sender))
        return "h"

    sent = names(first.send(Model)), names(second.send(Model)), names(first.send(Other))
    return sent, first.disconnect(sender=Model, dispatch_uid="both"), names(first.send(Model))


@scenario
def send_with_documented_keywords_from_an_instance(lib: Library, seen: list[Any]) -> Any:
    pizza_done = lib.Signal()
    h = recorder(seen, "h")
    pizza_done.connect(h, sender=Model)
    # the docs' form: sender=self.__class__, everything else by keyword
    return names(pizza_done.send(sender=Model().__class__, toppings=["ham"], size="L"))


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
