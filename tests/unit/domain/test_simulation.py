"""The rush-hour supplier's rule, without a database: par levels and what it delivers."""

from __future__ import annotations

from storeapp.domain.simulation import MIN_PAR, par_levels, reorders


def test_a_par_level_is_the_stock_at_the_start_but_never_below_the_minimum() -> None:
    assert par_levels({1: 40, 2: 8, 3: 0}) == {1: 40, 2: MIN_PAR, 3: MIN_PAR}


def test_the_supplier_fills_up_to_par_what_is_at_or_below_half_of_it() -> None:
    par = {1: 40, 2: 20, 3: 20}
    assert reorders({1: 21, 2: 10, 3: 0}, par) == {2: 10, 3: 20}


def test_the_supplier_leaves_products_it_has_no_par_level_for() -> None:
    assert reorders({1: 0, 9: 0}, {1: 20}) == {1: 20}
