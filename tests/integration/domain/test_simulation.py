"""simulate_orders hands the caller a hook between orders (the window's
yield_to_gui)."""

from __future__ import annotations

from storeapp.domain import Store
from storeapp.domain.demo import CATALOGUE, reset_catalogue, seed_catalogue, seed_customers
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Product
from storeapp.domain.signals import post_save
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


def test_a_rush_bigger_than_the_stock_places_every_order_with_the_supplier_restocking(
    store: Store, core_ready: None
) -> None:
    seed_catalogue(store)
    seed_customers(store)
    for product in store.list_products():
        store.update_product(product.id, inventory=2)
    before = sum(store.stock_levels().values())

    result = simulate_orders(store, 300, seed=4)

    assert (result.placed, result.out_of_stock, result.errors) == (300, 0, [])
    assert result.deliveries > 0
    sold = sum(i.quantity for o in store.list_orders() for i in o.items)
    assert sum(store.stock_levels().values()) + sold == before + result.delivered
    # Each delivery is a restock: a product_changed event with the stock it left.
    with store.engine.connect() as conn:
        restocks = [
            row
            for row in eventlog.read_after(conn, limit=100_000)
            if row.signal == "product_changed" and row.payload["action"] == "updated"
        ]
    assert len(restocks) == 12 + result.deliveries  # 12: the inventory set to 2 above


def test_without_the_supplier_the_same_rush_runs_out_of_stock(
    store: Store, core_ready: None
) -> None:
    seed_catalogue(store)
    seed_customers(store)
    for product in store.list_products():
        store.update_product(product.id, inventory=2)

    result = simulate_orders(store, 300, seed=4, supplier=False)

    assert result.out_of_stock > 0 and result.deliveries == 0
    assert result.placed + result.out_of_stock == 300


def test_resetting_the_demo_data_puts_the_catalogue_back_and_keeps_the_orders(
    store: Store, core_ready: None
) -> None:
    seed_catalogue(store)
    seed_customers(store)
    products = {p.sku: p for p in store.list_products()}
    store.delete_product(products["WTR-SPK"].id)  # deleted before it was ever sold
    simulate_orders(store, 40, seed=5, supplier=False)
    store.update_product(products["MUG-STD"].id, name="Mug", unit_price="12.00", inventory=0)
    own = store.add_product("OWN-1", "The shop's own", "1.00", 3)
    orders = len(store.list_orders())
    saved: list[tuple[str, frozenset[str] | None]] = []

    def on_save(sender, instance, **kwargs):
        saved.append((instance.sku, kwargs.get("changed_fields")))

    with post_save.connected_to(on_save, sender=Product):
        changed = reset_catalogue(store)

    now = {p.sku: (p.name, str(p.unit_price), p.inventory) for p in store.list_products()}
    for sku, name, price, stock in CATALOGUE:
        assert now[sku] == (name, price, stock)
    assert now["OWN-1"] == ("The shop's own", "1.00", 3)  # not a demo product: kept
    assert len(store.list_orders()) == orders
    assert changed == len(saved) > 0
    assert "WTR-SPK" in now  # added again
    assert ("MUG-STD", frozenset({"name", "unit_price", "inventory"})) in saved
    assert own.id in store.stock_levels()
    assert reset_catalogue(store) == 0  # as it first was: nothing to do
