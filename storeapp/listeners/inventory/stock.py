"""The inventory's Qt-free core: a product's row as the panel shows it, and
the low-stock rule (at or below the threshold: low; nothing left: out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from storeapp.listeners.api import coerce_setting

__all__ = [
    "DEFAULT_LOW_STOCK_THRESHOLD",
    "MAX_THRESHOLD",
    "THRESHOLD_SETTING",
    "StockRow",
    "StockStatus",
    "coerce_threshold",
    "count_statuses",
    "stock_status",
]

DEFAULT_LOW_STOCK_THRESHOLD = 5
MAX_THRESHOLD = 1_000_000
THRESHOLD_SETTING = "inventory/low_stock_threshold"


class StockStatus:
    OK = "ok"
    LOW = "low"
    OUT = "out"


@dataclass(frozen=True, slots=True)
class StockRow:
    """One product as the panel shows it (a plain value: safe in any thread)."""

    product_id: int
    sku: str
    name: str
    price: Decimal
    stock: int

    @classmethod
    def from_product(cls, product: Any) -> StockRow:
        return cls(product.id, product.sku, product.name, product.unit_price, product.inventory)


def coerce_threshold(value: Any) -> int:
    """A threshold from a setting or the spin box: read as every int setting
    is (:func:`coerce_setting`: unreadable gives the default), then kept
    within ``0..MAX_THRESHOLD``."""
    number: int = coerce_setting(value, DEFAULT_LOW_STOCK_THRESHOLD)
    return min(max(number, 0), MAX_THRESHOLD)


def stock_status(stock: int, threshold: int) -> str:
    """OUT with nothing left, LOW at or below ``threshold``, else OK."""
    if stock <= 0:
        return StockStatus.OUT
    if stock <= threshold:
        return StockStatus.LOW
    return StockStatus.OK


def count_statuses(rows: Iterable[StockRow], threshold: int) -> dict[str, int]:
    """How many rows are ok / low / out."""
    out = {StockStatus.OK: 0, StockStatus.LOW: 0, StockStatus.OUT: 0}
    for row in rows:
        out[stock_status(row.stock, threshold)] += 1
    return out
