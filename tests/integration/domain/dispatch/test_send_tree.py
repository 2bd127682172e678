"""What the inspector's observer is told of a real checkout: each send's
call site (past the mapper events, SQLAlchemy and the unit of work that
only forward model signals) and the sends made inside other sends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from storeapp.domain import Store, dispatch
from storeapp.domain.dispatch import SendRecord


class Observer:
    def __init__(self) -> None:
        self.records: list[SendRecord] = []

    def sent(self, record: SendRecord) -> None:
        self.records.append(record)

    def updated(self, record: SendRecord) -> None:
        pass

    def of(self, signal: str, sender: str | None = None) -> list[SendRecord]:
        return [
            r for r in self.records if r.signal == signal and (sender is None or r.sender == sender)
        ]


@pytest.fixture
def observer() -> Iterator[Observer]:
    watching = Observer()
    dispatch.set_observer(watching)
    yield watching
    dispatch.set_observer(None)


def test_order_created_names_store_place_order_as_its_call_site(
    store: Store, core_ready: Any, observer: Observer
) -> None:
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    product = store.add_product("COF-250", "Coffee", "4.50", 10)
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, 2)
    observer.records.clear()
    store.place_order(cart.id, user.id)

    (order_created,) = observer.of("order_created")
    assert "place_order" in order_created.origin
    # co_qualname names the class that defines it: Store is built of such mixins.
    assert order_created.origin.startswith(
        "OrderServices.place_order (storeapp/domain/store/orders.py:"
    )
    assert order_created.via == "send_robust"
    assert order_created.parent is None
    for record in observer.records:  # the model signals of the checkout's flushes too
        assert record.origin.startswith("OrderServices.place_order ("), record


def test_model_signals_name_the_service_whose_flush_sent_them(
    store: Store, observer: Observer
) -> None:
    store.add_product("COF-250", "Coffee", "4.50", 10)

    saves = observer.of("pre_save", "Product") + observer.of("post_save", "Product")
    assert len(saves) == 2
    for record in saves:  # not the mapper event, SQLAlchemy or the unit of work
        assert record.origin.startswith(
            "CatalogueServices.add_product (storeapp/domain/store/catalogue.py:"
        )
        assert record.via == "send"


def test_receiver_failed_is_a_child_of_the_order_created_whose_receiver_failed(
    store: Store, core_ready: Any, observer: Observer
) -> None:
    from storeapp.domain.signals import order_created

    def out_of_paper(**kwargs: Any) -> None:
        raise RuntimeError("the receipt printer is out of paper")

    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    product = store.add_product("COF-250", "Coffee", "4.50", 10)
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, 1)
    observer.records.clear()
    with order_created.connected_to(out_of_paper):
        store.place_order(cart.id, user.id)

    names = [r.signal for r in observer.records]
    assert names.index("order_created") + 1 == names.index("receiver_failed")
    (cause,), (failure,) = observer.of("order_created"), observer.of("receiver_failed")
    assert (failure.parent, failure.depth) == (cause.seq, 1)


def test_the_customer_core_creates_is_saved_inside_the_users_post_save_as_in_django(
    store: Store, core_ready: Any, observer: Observer
) -> None:
    """create_customer_for_new_user saves the Customer at once (Django's
    ``Customer.objects.create``): its model signals are sent inside the
    User's post_save, by that receiver, and the inspector nests them."""
    store.register_user("ada", "ada@example.com", "s3cret-pass")

    got = [(r.signal, r.sender, r.depth) for r in observer.records]
    assert got[:4] == [
        ("pre_save", "User", 0),
        ("post_save", "User", 0),
        ("pre_save", "Customer", 1),
        ("post_save", "Customer", 1),
    ]
    user_saved = observer.records[1]
    for customer_saved in observer.records[2:4]:
        assert customer_saved.parent == user_saved.seq
        assert customer_saved.within.endswith("create_customer_for_new_user")
        assert customer_saved.origin.startswith("create_customer_for_new_user (")
    assert user_saved.origin.startswith("UserServices.register_user (")
