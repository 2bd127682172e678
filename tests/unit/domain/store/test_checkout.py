"""Checkout's one ORM-or-fast-path decision, from the receivers connected. No disk."""

from __future__ import annotations

import pytest

from storeapp.domain.models import Cart, CartItem, Order, OrderItem, Product
from storeapp.domain.signals import (
    order_created,
    post_delete,
    post_save,
    pre_delete,
    pre_save,
)
from storeapp.domain.store import CheckoutPath, checkout_path
from storeapp.domain.store.checkout import cart_delete_needs_the_orm


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


@pytest.mark.parametrize("model", [Cart, CartItem], ids=lambda m: m.__name__)
@pytest.mark.parametrize("signal", [pre_delete, post_delete], ids=lambda s: s.name)
def test_a_receiver_of_a_cart_delete_signal_makes_the_cart_go_through_the_orm(signal, model):
    assert cart_delete_needs_the_orm() is False

    with signal.connected_to(ignore, sender=model):
        assert cart_delete_needs_the_orm() is True
