"""Checkout's decisions (ORM, observed or fast path; whether the cart's delete sends
signals), from the receivers connected and the dispatch observer. No disk."""

from __future__ import annotations

import pytest

from storeapp.domain import dispatch
from storeapp.domain.models import Cart, CartItem, Order, OrderItem, Product
from storeapp.domain.signals import (
    order_created,
    post_delete,
    post_save,
    pre_delete,
    pre_save,
)
from storeapp.domain.store import CheckoutPath, checkout_path
from storeapp.domain.store.checkout import cart_delete_sends_signals


def ignore(sender, **kwargs):
    pass


def test_with_no_receivers_checkout_takes_the_fast_path():
    assert checkout_path() is CheckoutPath.FAST


@pytest.mark.parametrize("model", [Order, OrderItem], ids=lambda m: m.__name__)
@pytest.mark.parametrize("signal", [pre_save, post_save], ids=lambda s: s.name)
def test_a_receiver_of_an_order_or_item_save_signal_needs_the_orm(signal, model):
    with signal.connected_to(ignore, sender=model):
        assert checkout_path() is CheckoutPath.ORM

    assert checkout_path() is CheckoutPath.FAST


@pytest.mark.parametrize("signal", [pre_save, post_save], ids=lambda s: s.name)
def test_a_save_receiver_for_any_sender_needs_the_orm(signal):
    with signal.connected_to(ignore):
        assert checkout_path() is CheckoutPath.ORM


@pytest.mark.parametrize(
    ("signal", "sender"),
    [
        (post_save, Product),
        (pre_save, Cart),
        (pre_delete, Order),
        (post_delete, OrderItem),
        (order_created, Order),
    ],
    ids=[
        "post_save-Product",
        "pre_save-Cart",
        "pre_delete-Order",
        "post_delete-OrderItem",
        "order_created",
    ],
)
def test_receivers_of_other_models_or_signals_keep_the_fast_path(signal, sender):
    with signal.connected_to(ignore, sender=sender):
        assert checkout_path() is CheckoutPath.FAST


class SilentObserver:
    """A dispatch observer that records nothing (the inspector's place)."""

    def sent(self, record):
        pass

    def updated(self, record):
        pass


def test_with_only_an_observer_attached_checkout_takes_the_observed_path():
    dispatch.set_observer(SilentObserver())

    assert checkout_path() is CheckoutPath.OBSERVED


def test_a_receiver_of_order_saves_takes_the_orm_even_with_an_observer_attached():
    dispatch.set_observer(SilentObserver())

    with post_save.connected_to(ignore, sender=Order):
        assert checkout_path() is CheckoutPath.ORM


@pytest.mark.parametrize("model", [Cart, CartItem], ids=lambda m: m.__name__)
@pytest.mark.parametrize("signal", [pre_delete, post_delete], ids=lambda s: s.name)
def test_a_receiver_of_a_cart_delete_signal_makes_the_cart_delete_send_them(signal, model):
    assert cart_delete_sends_signals() is False

    with signal.connected_to(ignore, sender=model):
        assert cart_delete_sends_signals() is True

    assert cart_delete_sends_signals() is False


def test_an_observer_makes_the_cart_delete_send_its_signals():
    dispatch.set_observer(SilentObserver())

    assert cart_delete_sends_signals() is True


@pytest.mark.parametrize(
    ("signal", "sender"),
    [(pre_delete, Order), (post_delete, Product), (pre_save, Cart), (post_save, CartItem)],
    ids=["pre_delete-Order", "post_delete-Product", "pre_save-Cart", "post_save-CartItem"],
)
def test_receivers_of_other_models_or_signals_keep_the_cart_delete_silent(signal, sender):
    with signal.connected_to(ignore, sender=sender):
        assert cart_delete_sends_signals() is False
