"""Model signals sent from the ORM's flush, on a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storeapp.domain import Store, dispatch
from storeapp.domain.models import Cart, CartItem, Product
from storeapp.domain.signals import post_delete, post_save, pre_delete, pre_save

MODEL_SIGNALS = (pre_save, post_save, pre_delete, post_delete)


@dataclass
class Heard:
    signal: str
    sender: Any
    kwargs: dict[str, Any]
    instance_id: Any
    in_transaction: bool


class SignalLog:
    """A receiver that records what it heard and what it saw at that moment."""

    def __init__(self) -> None:
        self.heard: list[Heard] = []

    def __call__(self, signal, sender, **kwargs):
        instance = kwargs.get("instance")
        self.heard.append(
            Heard(
                signal.name,
                sender,
                kwargs,
                getattr(instance, "id", None),
                dispatch.in_transaction(),
            )
        )

    def names(self, sender: Any = None) -> list[str]:
        return [h.signal for h in self.heard if sender is None or h.sender is sender]

    def of(self, signal_name: str, sender: Any) -> list[Heard]:
        return [h for h in self.heard if h.signal == signal_name and h.sender is sender]


@contextmanager
def listening(log: SignalLog, sender: Any = None) -> Iterator[SignalLog]:
    with ExitStack() as stack:
        for signal in MODEL_SIGNALS:
            stack.enter_context(signal.connected_to(log, sender=sender or signal.ANY))
        yield log


def committed_skus(store: Store) -> list[str]:
    """What another connection sees: only committed rows."""
    with store.engine.connect() as conn:
        return list(conn.scalars(select(Product.sku)))


# -- insert ---------------------------------------------------------------------


def test_an_insert_sends_pre_save_then_post_save_with_created_true(store):
    with listening(SignalLog()) as log:
        product = store.add_product("TEA", "Green tea", "3.50", 10)

    assert log.names(Product) == ["pre_save", "post_save"]
    [before] = log.of("pre_save", Product)
    [after] = log.of("post_save", Product)
    assert before.kwargs == {
        "instance": product,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    assert after.kwargs == {
        "instance": product,
        "created": True,
        "raw": False,
        "using": "default",
        "update_fields": None,
    }
    assert before.instance_id is None  # not inserted yet
    assert after.instance_id == product.id  # inserted: it has its id


def test_save_signals_are_sent_inside_the_transaction_before_commit(store):
    seen_by_others = []

    def look_from_another_connection(sender, instance, **kwargs):
        seen_by_others.append(committed_skus(store))

    with (
        listening(SignalLog()) as log,
        post_save.connected_to(look_from_another_connection, sender=Product),
    ):
        store.add_product("TEA", "Green tea", "3.50", 10)

    assert [h.in_transaction for h in log.heard] == [True, True]
    assert seen_by_others == [[]]  # not committed while post_save ran
    assert committed_skus(store) == ["TEA"]


# -- update -----------------------------------------------------------------------


def test_an_update_sends_save_signals_with_created_false_and_the_changed_fields(store):
    product = store.add_product("TEA", "Green tea", "3.50", 10)

    with listening(SignalLog(), sender=Product) as log:
        store.update_product(product.id, name="Jasmine tea", unit_price="3.90", inventory=10)

    assert log.names() == ["pre_save", "post_save"]
    [before] = log.of("pre_save", Product)
    [after] = log.of("post_save", Product)
    # As in Django: update_fields is None unless the save named its fields
    # (no storeapp save does); what changed travels as changed_fields.
    assert before.kwargs["update_fields"] is None and after.kwargs["update_fields"] is None
    assert before.kwargs["changed_fields"] == {"name", "unit_price"}
    assert after.kwargs["changed_fields"] == {"name", "unit_price"}
    assert after.kwargs["using"] == "default"
    assert after.kwargs["created"] is False
    assert after.kwargs["instance"].name == "Jasmine tea"
    assert after.instance_id == product.id
    assert after.in_transaction


def test_a_receiver_written_with_djangos_full_model_signal_signature_runs(store):
    """The signature Django's docs give a post_save receiver."""
    heard = []

    def on_save(sender, instance, created, raw, using, update_fields, **kwargs):
        heard.append((sender, instance.sku, created, raw, using, update_fields))

    def on_delete(sender, instance, origin, using, **kwargs):
        heard.append((sender, instance.sku, "deleted", using))

    with (
        post_save.connected_to(on_save, sender=Product),
        post_delete.connected_to(on_delete, sender=Product),
    ):
        product = store.add_product("TEA", "Green tea", "3.50", 10)
        store.update_product(product.id, name="Jasmine tea", unit_price="3.90", inventory=10)
        store.delete_product(product.id)

    assert heard == [
        (Product, "TEA", True, False, "default", None),
        (Product, "TEA", False, False, "default", None),
        (Product, "TEA", "deleted", "default"),
    ]


def test_an_update_that_changes_nothing_sends_no_save_signal(store):
    product = store.add_product("TEA", "Green tea", "3.50", 10)

    with listening(SignalLog()) as log:
        store.update_product(product.id, name="Green tea", unit_price="3.50")

    assert log.heard == []


def test_cancelling_an_order_reports_the_status_as_the_changed_field(store, core_ready):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    product = store.add_product("TEA", "Green tea", "3.50", 10)
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, 2)
    order = store.place_order(cart.id, user.id)
    log = SignalLog()

    with post_save.connected_to(log, sender=type(order)):
        store.cancel_order(order.id)

    [saved] = log.heard
    assert saved.kwargs["created"] is False
    assert saved.kwargs["changed_fields"] == {"status"}
    assert saved.kwargs["instance"].status == "cancelled"


# -- delete -----------------------------------------------------------------------


def test_a_delete_sends_pre_delete_then_post_delete_with_the_instance_as_origin(store):
    product = store.add_product("TEA", "Green tea", "3.50", 10)

    with listening(SignalLog()) as log:
        store.delete_product(product.id)

    assert log.names() == ["pre_delete", "post_delete"]
    for heard in log.heard:
        assert heard.sender is Product
        assert set(heard.kwargs) == {"instance", "origin", "using"}
        assert heard.kwargs["instance"].id == product.id
        assert heard.kwargs["origin"] is heard.kwargs["instance"]
        assert heard.in_transaction


def test_a_cascaded_delete_names_the_deleted_parent_as_origin(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 10)
    mug = store.add_product("MUG", "Mug", "9.50", 10)
    cart = store.create_cart()
    store.add_to_cart(cart.id, tea.id)
    store.add_to_cart(cart.id, mug.id)

    with listening(SignalLog()) as log:
        with store.unit_of_work() as uow:
            doomed = uow.session.get(Cart, cart.id)
            uow.session.delete(doomed)
            uow.flush()
            uow.commit()

    assert sorted(log.names(CartItem)) == ["post_delete"] * 2 + ["pre_delete"] * 2
    assert log.names(Cart) == ["pre_delete", "post_delete"]
    for heard in log.heard:
        assert heard.kwargs["origin"] is doomed
    assert {h.kwargs["instance"].product_id for h in log.of("pre_delete", CartItem)} == {
        tea.id,
        mug.id,
    }


def test_removing_a_cart_line_sends_delete_signals_for_that_line(store):
    product = store.add_product("TEA", "Green tea", "3.50", 10)
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, 2)

    with listening(SignalLog()) as log:
        store.remove_from_cart(cart.id, product.id)

    assert log.names() == ["pre_delete", "post_delete"]
    assert all(h.sender is CartItem for h in log.heard)
    line = log.heard[0].kwargs["instance"]
    assert (line.product_id, line.quantity) == (product.id, 2)
    assert log.heard[0].kwargs["origin"] is line


# -- senders and failures ------------------------------------------------------------


def test_the_sender_is_the_model_class_so_receivers_can_pick_a_model(store):
    for_products = SignalLog()

    with post_save.connected_to(for_products, sender=Product):
        store.create_cart()
        product = store.add_product("TEA", "Green tea", "3.50", 10)

    assert [h.sender for h in for_products.heard] == [Product]
    assert for_products.heard[0].kwargs["instance"].id == product.id


def test_a_pre_save_receiver_may_change_the_instances_own_columns(store):
    def shout_the_sku(sender, instance, **kwargs):
        instance.sku = instance.sku.upper()

    with pre_save.connected_to(shout_the_sku, sender=Product):
        product = store.add_product("tea", "Green tea", "3.50", 10)

    assert store.get_product(product.id).sku == "TEA"


def test_a_pre_save_receiver_that_raises_aborts_the_save(store, table_rows):
    before = table_rows()

    def refuse(sender, **kwargs):
        raise RuntimeError("refused by a receiver")

    with pre_save.connected_to(refuse, sender=Product):
        with pytest.raises(RuntimeError, match="refused by a receiver"):
            store.add_product("TEA", "Green tea", "3.50", 10)

    assert table_rows() == before


def test_a_post_save_receiver_that_raises_rolls_the_transaction_back(store, table_rows):
    before = table_rows()

    def refuse(sender, **kwargs):
        raise RuntimeError("refused after the insert")

    with post_save.connected_to(refuse, sender=Product):
        with pytest.raises(RuntimeError, match="refused after the insert"):
            store.add_product("TEA", "Green tea", "3.50", 10)

    assert table_rows() == before
    assert not dispatch.in_transaction()


def test_no_post_save_is_sent_for_rows_of_a_failed_flush(store):
    tea = store.add_product("TEA", "Green tea", "3.50", 10)
    log = SignalLog()

    with post_save.connected_to(log):
        with store.unit_of_work() as uow:
            # The cart's INSERT succeeds (its post_save is queued), then the
            # line's INSERT breaks a CHECK constraint and the flush fails.
            uow.session.add(Cart(items=[CartItem(product_id=tea.id, quantity=0)]))
            with pytest.raises(IntegrityError):
                uow.flush()
            uow.session.rollback()
            uow.session.add(Product(sku="JAM", name="Jam", unit_price=4, inventory=1))
            uow.flush()
            uow.commit()

    heard = [(h.sender, getattr(h.kwargs["instance"], "sku", None)) for h in log.heard]
    assert heard == [(Product, "JAM")]
    assert sorted(committed_skus(store)) == ["JAM", "TEA"]
