"""storeapp/domain/dispatch/__init__.py: the package still answers every
``from storeapp.domain.dispatch import X`` the app, its tests and the bench
wrote against the single dispatch module."""

from __future__ import annotations

import pytest

from storeapp.domain import dispatch

#: Every name imported from storeapp.domain.dispatch (or read off it) in
#: storeapp/, tests/ and bench/ when dispatch.py became a package.
USED_NAMES = [
    "ANY",
    "ANY_ID",
    "DEFERRED",
    "ReceiverCall",
    "ReceiverInfo",
    "ReceiverStatus",
    "SendRecord",
    "Signal",
    "begin",
    "end",
    "failure_streak",
    "get_observer",
    "in_transaction",
    "log_receiver_error",
    "on_commit",
    "qualname",
    "receiver",
    "reset_streak",
    "run_hooks",
    "safe_repr",
    "set_observer",
    "transaction_scope",
]


@pytest.mark.parametrize("name", USED_NAMES)
def test_the_package_exports_a_name_the_app_imports(name: str) -> None:
    assert name in dispatch.__all__
    namespace: dict[str, object] = {}
    exec(f"from storeapp.domain.dispatch import {name}", namespace)
    assert namespace[name] is getattr(dispatch, name)


def test_every_name_in_all_is_there() -> None:
    missing = [name for name in dispatch.__all__ if not hasattr(dispatch, name)]

    assert missing == []


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        dispatch.no_such_name  # noqa: B018
