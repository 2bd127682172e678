"""Where the Wiring tab says signals and receivers are written. No Qt."""

from __future__ import annotations

import inspect
from typing import Any

from storeapp.domain.dispatch import Signal
from storeapp.domain.signals import order_created, post_delete
from storeapp.listeners.inspector.sources import (
    definition_of,
    receiver_location,
    signal_kind,
    source_at,
)

#: A signal of this module's own, defined over two lines.
shipped = Signal(
    "An order was shipped.", name="shipped"
)  # fmt: skip
SHIPPED_LINE = inspect.currentframe().f_lineno - 3  # type: ignore[union-attr]


class Printer:
    def on_order(self, sender: Any, **kwargs: Any) -> None:
        """Prints a receipt."""

    def __call__(self, sender: Any, **kwargs: Any) -> None:
        pass


def test_model_signals_are_built_in_and_the_apps_own_are_custom() -> None:
    assert signal_kind(post_delete) == "built-in"
    assert signal_kind(order_created) == "custom"
    assert signal_kind(shipped) == "custom"


def test_a_signal_is_found_where_its_module_creates_it() -> None:
    where = definition_of(shipped)
    assert where is not None
    assert str(where) == f"tests/unit/listeners/inspector/test_sources.py:{SHIPPED_LINE}"
    assert source_at(where).splitlines() == [
        "shipped = Signal(",
        '    "An order was shipped.", name="shipped"',
        ")  # fmt: skip",
    ]
    assert str(definition_of(order_created)).startswith("storeapp/domain/signals.py:")
    assert definition_of(Signal(name="nowhere")) is None  # held by no module


def test_a_receivers_source_is_its_function_a_methods_or_a_callables_call() -> None:
    printer = Printer()
    where = receiver_location(printer.on_order)
    assert where is not None and where.first == Printer.on_order.__code__.co_firstlineno
    assert source_at(where) == inspect.getsource(Printer.on_order)
    call = receiver_location(printer)
    assert call is not None and "def __call__" in source_at(call)
    assert receiver_location(print) is None
