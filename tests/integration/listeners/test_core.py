"""The core listener: a Customer for every new User, and an order log.

The seed's lesson (Django's ``AppConfig.ready()``): a receiver module that
is imported but whose ``ready()`` never ran hears nothing.
"""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from storeapp.domain import NotFound, Store, dispatch
from storeapp.domain.models import Customer, User
from storeapp.domain.signals import order_created, post_save
from storeapp.listeners import core

PASSWORD = "s3cret-pass"


def count(store: Store, model) -> int:
    with store.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(model))


def connections_of(signal, receiver) -> int:
    return sum(1 for info in signal.receivers_info() if info.receiver is receiver)


def test_a_new_user_gets_a_customer_when_core_is_ready(store, core_ready):
    user = store.register_user("ada", "ada@example.com", PASSWORD)

    customer = store.get_customer(user.id)
    assert customer.user_id == user.id
    assert customer.user.username == "ada"
    assert customer.membership == "bronze"
    assert user.customer is not None and user.customer.id == customer.id
    assert [c.user.username for c in store.list_customers()] == ["ada"]


def test_the_customer_is_created_in_the_users_transaction(store, core_ready):
    seen = []

    def on_customer_saved(sender, instance, created, **kwargs):
        seen.append(
            (created, instance.user.username, dispatch.in_transaction(), count(store, User))
        )

    with post_save.connected_to(on_customer_saved, sender=Customer):
        store.register_user("ada", "ada@example.com", PASSWORD)

    # Saved in the registration's transaction: the user was not committed yet.
    assert seen == [(True, "ada", True, 0)]
    assert (count(store, User), count(store, Customer)) == (1, 1)


def test_a_failing_customer_save_rolls_the_user_back_too(store, core_ready):
    def refuse(sender, **kwargs):
        raise RuntimeError("no customers today")

    with post_save.connected_to(refuse, sender=Customer):
        with pytest.raises(RuntimeError, match="no customers today"):
            store.register_user("ada", "ada@example.com", PASSWORD)

    assert (count(store, User), count(store, Customer)) == (0, 0)


def test_without_ready_a_new_user_has_no_customer_and_cannot_check_out(store, table_rows):
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    cart = store.add_to_cart(store.create_cart().id, tea.id, 1)
    before = table_rows()

    assert count(store, Customer) == 0
    with pytest.raises(NotFound, match="no customer profile"):
        store.get_customer(user.id)
    with pytest.raises(NotFound, match="customer profile") as excinfo:
        store.place_order(cart.id, user.id)
    assert "core listener" in str(excinfo.value)
    assert table_rows() == before


def test_ready_twice_connects_each_receiver_once(store):
    core.ready()
    core.ready()

    assert connections_of(post_save, core.create_customer_for_new_user) == 1
    assert connections_of(order_created, core.on_order_created) == 1
    store.register_user("ada", "ada@example.com", PASSWORD)
    assert count(store, Customer) == 1


def test_the_customer_receiver_listens_to_users_only(store):
    core.ready()

    assert post_save.has_listeners(User)
    assert not post_save.has_listeners(Customer)


def test_shutdown_disconnects_the_receivers(store):
    core.ready()
    core.shutdown()

    assert connections_of(post_save, core.create_customer_for_new_user) == 0
    assert connections_of(order_created, core.on_order_created) == 0
    store.register_user("ada", "ada@example.com", PASSWORD)
    assert count(store, Customer) == 0


def test_an_update_of_a_user_creates_no_second_customer(store, core_ready):
    user = store.register_user("ada", "ada@example.com", PASSWORD)

    with store.unit_of_work() as uow:
        uow.session.get(User, user.id).email = "ada@example.org"
        uow.flush()
        uow.commit()

    assert count(store, Customer) == 1


def test_every_order_is_logged(store, core_ready, caplog):
    caplog.set_level(logging.INFO, logger="storeapp.orders")
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    tea = store.add_product("TEA", "Green tea", "3.50", 5)
    cart = store.add_to_cart(store.create_cart().id, tea.id, 2)

    order = store.place_order(cart.id, user.id)

    [record] = [r for r in caplog.records if r.name == "storeapp.orders"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == f"Order #{order.id} placed for ada: 1 line(s), total 7.00"
