"""The inventory's core without Qt: the low-stock rule, the threshold as a
setting, a product as a row."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from storeapp.listeners.inventory.stock import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    MAX_THRESHOLD,
    StockRow,
    StockStatus,
    coerce_threshold,
    count_statuses,
    stock_status,
)


@dataclass
class FakeProduct:
    id: int
    sku: str
    name: str
    unit_price: Decimal
    inventory: int


def row(stock: int) -> StockRow:
    return StockRow(stock, f"SKU-{stock}", "Thing", Decimal("1.00"), stock)


@pytest.mark.parametrize(
    ("stock", "status"),
    [(-1, StockStatus.OUT), (0, StockStatus.OUT), (1, StockStatus.LOW), (5, StockStatus.LOW)]
    + [(6, StockStatus.OK)],
)
def test_stock_at_or_below_the_threshold_is_low_and_none_is_out(stock: int, status: str) -> None:
    assert stock_status(stock, 5) == status


def test_a_threshold_of_zero_flags_only_what_is_out() -> None:
    assert [stock_status(s, 0) for s in (0, 1)] == [StockStatus.OUT, StockStatus.OK]


def test_count_statuses_counts_every_status_even_when_none_has_it() -> None:
    counts = count_statuses([row(0), row(2), row(3), row(40)], threshold=5)
    assert counts == {StockStatus.OK: 1, StockStatus.LOW: 2, StockStatus.OUT: 1}
    assert count_statuses([], threshold=5) == {"ok": 0, "low": 0, "out": 0}


@pytest.mark.parametrize(
    ("value", "threshold"),
    [
        (7, 7),
        ("12", 12),  # an .ini file gives text
        (None, DEFAULT_LOW_STOCK_THRESHOLD),
        ("lots", DEFAULT_LOW_STOCK_THRESHOLD),
        (-3, 0),
        (MAX_THRESHOLD + 1, MAX_THRESHOLD),
    ],
)
def test_a_threshold_is_read_as_an_int_and_kept_in_range(value: Any, threshold: int) -> None:
    assert coerce_threshold(value) == threshold


def test_a_row_is_the_products_values_frozen() -> None:
    product = FakeProduct(3, "COF-250", "Coffee beans 250 g", Decimal("7.90"), 40)
    stock_row = StockRow.from_product(product)
    assert stock_row == StockRow(3, "COF-250", "Coffee beans 250 g", Decimal("7.90"), 40)
    product.inventory = 1
    assert stock_row.stock == 40
    with pytest.raises(AttributeError):
        stock_row.stock = 2  # type: ignore[misc]


def test_the_core_loads_no_qt() -> None:
    probe = (
        "import json, sys; import storeapp.listeners.inventory.stock; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
