"""The harness of the differential tests against ``django.dispatch``.

Each scenario is a snippet in the forms Django's signals documentation
shows, written against a :class:`Library` (Django's, or storeapp's); it runs
once with each, and what it observes (who was called with what, what
connect/disconnect/send answered) must be the same.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import django.dispatch

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


Scenario = Callable[[Library, list[Any]], Any]


def registry() -> tuple[dict[str, Scenario], Callable[[Scenario], Scenario]]:
    """A test module's scenarios, and the decorator that adds one."""
    scenarios: dict[str, Scenario] = {}

    def scenario(fn: Scenario) -> Scenario:
        scenarios[fn.__name__] = fn
        return fn

    return scenarios, scenario
