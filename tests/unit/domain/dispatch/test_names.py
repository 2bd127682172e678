"""Names and reprs for logs and the inspector: short, and never raising."""

from __future__ import annotations

from typing import Any

from storeapp.domain.dispatch.names import (
    describe_exc,
    module_of,
    qualname,
    safe_repr,
    safe_str,
)


class Panel:
    def on_event(self, **kwargs: Any) -> None:
        pass

    def __call__(self, **kwargs: Any) -> None:
        pass


class BadRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr for you")


class BadStr(Exception):
    def __str__(self) -> str:
        raise ValueError("no str for you")


def receive(**kwargs: Any) -> None:
    pass


def test_qualname_gives_module_and_qualified_name_for_functions_methods_and_objects() -> None:
    assert qualname(receive) == f"{__name__}.receive"
    assert qualname(Panel().on_event) == f"{__name__}.Panel.on_event"
    assert qualname(Panel()) == f"{__name__}.Panel"


def test_module_of_is_where_the_receiver_was_defined() -> None:
    assert module_of(receive) == __name__
    assert module_of(Panel().on_event) == __name__
    assert module_of(Panel()) == __name__


def test_a_function_without_a_module_is_named_by_its_type_and_bare_name() -> None:
    namespace: dict[str, Any] = {}  # no __name__: the function's __module__ is None
    exec("def anonymous(**kwargs): pass", namespace)
    anonymous = namespace["anonymous"]

    assert anonymous.__module__ is None
    assert module_of(anonymous) == "builtins"
    assert qualname(anonymous) == "anonymous"


def test_safe_repr_shortens_a_long_repr_to_the_limit() -> None:
    text = safe_repr("x" * 500, limit=20)

    assert len(text) == 20 and text.endswith("…")
    assert safe_repr(42) == "42"


def test_safe_repr_never_raises() -> None:
    assert safe_repr(BadRepr()) == "<BadRepr (repr failed: ValueError)>"


def test_safe_str_and_describe_exc_never_raise() -> None:
    assert safe_str(ValueError("boom")) == "boom"
    assert safe_str(BadStr()) == "<BadStr: unprintable>"
    assert describe_exc(ValueError("boom")) == "ValueError: boom"
    assert describe_exc(BadStr()) == "BadStr: <BadStr: unprintable>"
