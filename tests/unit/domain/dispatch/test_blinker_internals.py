"""The blinker internals storeapp's Signal builds on are still there, in the
shape it uses them.

storeapp.domain.dispatch.signal overrides ``_disconnect``,
``_make_cleanup_receiver``, ``_make_cleanup_sender`` and ``_clear_state``,
reads ``_by_sender``, ``_by_receiver`` and ``_weak_senders``, and keys its own
maps with ``blinker._utilities.make_id``. None of that is blinker's public
API, so pyproject.toml pins the versions this was tested on; when a new
blinker moves or renames one of them, a test here fails before a send does.
"""

from __future__ import annotations

import gc
import inspect
from collections.abc import Hashable
from typing import Any

import blinker
import blinker.base
from blinker import ANY

from storeapp.domain.dispatch import signal as signal_module


class Receiver:
    def method(self, **kwargs: Any) -> None:
        pass


class Sender:
    """Weakly referenceable, like a model class."""


def receiver(**kwargs: Any) -> None:
    pass


def parameters(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


def test_make_id_is_where_dispatch_imports_it_from_and_what_blinker_keys_with():
    from blinker._utilities import make_id

    assert signal_module.make_id is make_id
    assert blinker.base.make_id is make_id  # blinker's receivers dict uses the same keys


def test_make_id_keys_a_bound_method_by_function_and_instance_and_values_by_value():
    from blinker._utilities import make_id

    obj = Receiver()

    assert make_id(obj.method) == (id(Receiver.method), id(obj))
    assert make_id(receiver) == id(receiver)
    assert make_id("till-1") == "till-1" and make_id(7) == 7
    assert isinstance(make_id(Sender), Hashable)


def test_any_id_is_the_bucket_blinker_files_receivers_for_any_sender_under():
    sig = blinker.Signal()
    sig.connect(receiver, sender=ANY)

    assert signal_module.ANY_ID is blinker.base.ANY_ID
    assert set(sig._by_sender) == {blinker.base.ANY_ID}


def test_blinker_keeps_its_bookkeeping_in_the_attributes_dispatch_reads():
    from blinker._utilities import make_id

    sig = blinker.Signal()
    sender = Sender()
    sig.connect(receiver, sender=sender)

    rid, sid = make_id(receiver), make_id(sender)
    assert sig.receivers[rid]() is receiver  # a weak reference by default
    assert sig._by_sender[sid] == {rid}
    assert sig._by_receiver[rid] == {sid}
    assert sig._weak_senders[sid]() is sender
    # Looking up an unknown id must not raise (dispatch uses .get and []).
    assert sig._by_sender.get("unknown") is None


def test_the_internal_methods_dispatch_overrides_have_the_parameters_it_uses():
    assert parameters(blinker.Signal._disconnect) == ["self", "receiver_id", "sender_id"]
    assert parameters(blinker.Signal._make_cleanup_receiver) == ["self", "receiver_id"]
    assert parameters(blinker.Signal._make_cleanup_sender) == ["self", "sender_id"]
    assert parameters(blinker.Signal._clear_state) == ["self"]


def test_blinker_routes_connect_and_disconnect_through_the_overridden_methods():
    calls: list[tuple[str, Any]] = []

    class Spy(blinker.Signal):
        def _make_cleanup_receiver(self, receiver_id: Any) -> Any:
            calls.append(("cleanup_receiver", receiver_id))
            return super()._make_cleanup_receiver(receiver_id)

        def _make_cleanup_sender(self, sender_id: Any) -> Any:
            calls.append(("cleanup_sender", sender_id))
            return super()._make_cleanup_sender(sender_id)

        def _disconnect(self, receiver_id: Any, sender_id: Any) -> None:
            calls.append(("disconnect", (receiver_id, sender_id)))
            super()._disconnect(receiver_id, sender_id)

    from blinker._utilities import make_id

    sig = Spy()
    sender = Sender()
    rid, sid = make_id(receiver), make_id(sender)

    sig.connect(receiver, sender=sender)
    sig.disconnect(receiver)

    assert calls == [
        ("cleanup_receiver", rid),
        ("cleanup_sender", sid),
        ("disconnect", (rid, blinker.base.ANY_ID)),
    ]


def test_a_collected_receiver_is_disconnected_through_the_cleanup_blinker_made():
    seen: list[Any] = []

    class Spy(blinker.Signal):
        def _disconnect(self, receiver_id: Any, sender_id: Any) -> None:
            seen.append(sender_id)
            super()._disconnect(receiver_id, sender_id)

    def connect_a_local_receiver(sig: blinker.Signal) -> None:
        def local(**kwargs: Any) -> None:
            pass

        sig.connect(local)

    sig = Spy()
    connect_a_local_receiver(sig)
    gc.collect()

    assert seen == [blinker.base.ANY_ID]
    assert not sig.receivers


def test_clear_state_empties_every_map_dispatch_reads():
    sig = blinker.Signal()
    sig.connect(receiver, sender=Sender)

    sig._clear_state()

    assert not sig.receivers
    assert not sig._by_sender and not sig._by_receiver and not sig._weak_senders
