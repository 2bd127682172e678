"""A price of minus zero is stored and returned as 0.00, on each backend."""

from __future__ import annotations

from decimal import Decimal

import pytest


@pytest.mark.parametrize("price", [Decimal("-0"), "-0.00"])
def test_a_negative_zero_price_comes_back_as_zero(store, price):
    product = store.add_product("FREE", "Free sample", price, 3)
    updated = store.update_product(product.id, unit_price=price)

    for seen in (product.unit_price, updated.unit_price, store.get_product(product.id).unit_price):
        assert str(seen) == "0.00"
