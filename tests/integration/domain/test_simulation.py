"""simulate_orders hands the caller a hook between orders (the window's
yield_to_gui), and the email delivery thread does the same between messages."""

from __future__ import annotations

from email.message import EmailMessage

from storeapp import mail
from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue, seed_customers
from storeapp.domain.simulation import simulate_orders


def test_between_runs_after_every_order(store: Store, core_ready: None) -> None:
    seed_catalogue(store)
    seed_customers(store)
    calls: list[int] = []
    result = simulate_orders(
        store, 5, seed=1, between=lambda: calls.append(len(store.list_orders()))
    )
    assert result.placed == 5
    assert calls == [1, 2, 3, 4, 5]  # after each order, once it is committed


def test_the_delivery_thread_calls_between_after_each_message() -> None:
    backend = mail.MemoryBackend()
    seen: list[int] = []
    delivery = mail.DeliveryQueue(
        backend, lambda _key, _status: None, between=lambda: seen.append(len(backend.outbox))
    )
    delivery.pause = 0
    for n in range(3):
        message = EmailMessage()
        message["Subject"] = f"#{n}"
        delivery.put(n, message)
    assert delivery.wait_idle(5)
    delivery.close()
    assert seen == [1, 2, 3]  # after each message, once it is delivered
