"""The blinker internals storeapp's Signal builds on are still there, in the
shape it uses them.

storeapp.domain.dispatch.connections keeps its own connection table (Django's
unit: one connection per (dispatch_uid or receiver, sender)), so from blinker
beyond its public API it uses only ``blinker._utilities.make_id`` (its keys,
and the failure streaks'), ``make_ref`` (weak references to functions and
bound methods, with a callback), ``blinker.base.ANY_ID`` (the "any sender"
id), and it relies on ``receiver_connected``/``receiver_disconnected`` being
created lazily in the instance's ``__dict__`` and on ``_clear_state``
clearing ``receivers``. None of that is blinker's public API, so
pyproject.toml pins the versions this was tested on; when a new blinker
moves or renames one of them, a test here fails before a send does.
"""

from __future__ import annotations

import gc
import inspect
import weakref
from collections.abc import Hashable
from typing import Any

import blinker
import blinker.base

from storeapp.domain.dispatch import connections as signal_module


class Receiver:
    def method(self, **kwargs: Any) -> None:
        pass


class Sender:
    """Weakly referenceable, like a model class."""


def receiver(**kwargs: Any) -> None:
    pass


def test_make_id_and_make_ref_are_where_dispatch_imports_them_from():
    from blinker._utilities import make_id, make_ref

    assert signal_module.make_id is make_id
    assert signal_module.make_ref is make_ref
    assert blinker.base.make_id is make_id  # the streaks key receivers as blinker does


def test_make_id_keys_a_bound_method_by_function_and_instance_and_values_by_value():
    from blinker._utilities import make_id

    obj = Receiver()

    assert make_id(obj.method) == (id(Receiver.method), id(obj))
    assert make_id(receiver) == id(receiver)
    assert make_id(Sender) == id(Sender)  # what Signal._entries computes for a class itself
    assert make_id("till-1") == "till-1" and make_id(7) == 7
    assert isinstance(make_id(Sender), Hashable)


def test_make_ref_makes_a_weak_method_for_a_bound_method_and_calls_back_on_death():
    from blinker._utilities import make_ref

    died: list[Any] = []
    obj = Receiver()
    ref = make_ref(obj.method, died.append)
    plain = make_ref(receiver)

    assert isinstance(ref, weakref.WeakMethod) and ref() == obj.method
    assert isinstance(plain, weakref.ref) and plain() is receiver
    del obj
    gc.collect()
    assert ref() is None and died == [ref]


def test_any_id_is_blinkers_id_for_any_sender():
    assert signal_module.ANY_ID is blinker.base.ANY_ID
    assert signal_module.ANY is blinker.ANY


def test_receiver_connected_and_disconnected_are_made_on_first_use_in_the_instance_dict():
    sig = blinker.Signal()

    assert "receiver_connected" not in sig.__dict__
    assert "receiver_disconnected" not in sig.__dict__
    assert isinstance(sig.receiver_connected, blinker.Signal)
    assert "receiver_connected" in sig.__dict__


def test_clear_state_takes_only_self_and_empties_receivers():
    assert list(inspect.signature(blinker.Signal._clear_state).parameters) == ["self"]
    sig = blinker.Signal()
    sig.connect(receiver, sender=Sender)

    sig._clear_state()

    assert not sig.receivers


def test_is_muted_is_what_muted_sets():
    sig = blinker.Signal()

    with sig.muted():
        assert sig.is_muted is True
    assert sig.is_muted is False
