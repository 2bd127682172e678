"""simulate_orders hands the caller a hook between orders (the window's
yield_to_gui)."""

from __future__ import annotations

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
