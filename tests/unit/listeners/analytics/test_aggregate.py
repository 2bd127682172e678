"""SalesAggregate on its own: fake orders, no database, no Qt application."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from storeapp.listeners.analytics.aggregate import (
    BY_QUANTITY,
    BY_REVENUE,
    HOUR,
    MINUTE,
    SalesAggregate,
    bucket_start,
)

UTC = UTC
T0 = datetime(2024, 5, 6, 10, 5, 10, tzinfo=UTC)


@dataclass
class FakeProduct:
    name: str


@dataclass
class FakeItem:
    product_id: int
    quantity: int
    unit_price: Decimal
    product: FakeProduct


@dataclass
class FakeOrder:
    id: int
    placed_at: datetime
    items: list[FakeItem] = field(default_factory=list)
    status: str = "placed"

    @property
    def total(self) -> Decimal:
        return sum((i.unit_price * i.quantity for i in self.items), Decimal("0.00"))


PRODUCTS = {1: ("Coffee", "7.90"), 2: ("Tea", "3.50"), 3: ("Bagel", "1.50"), 4: ("Mug", "9.50")}


def order(order_id: int, placed_at: datetime = T0, **lines: int) -> FakeOrder:
    """``order(7, T0, p1=2, p3=1)``: 2 coffees and a bagel."""
    items = []
    for key, quantity in lines.items():
        pid = int(key[1:])
        name, price = PRODUCTS[pid]
        items.append(FakeItem(pid, quantity, Decimal(price), FakeProduct(name)))
    return FakeOrder(order_id, placed_at, items)


def test_bucket_start_floors_to_the_minute_and_the_hour_in_utc():
    assert bucket_start(T0, MINUTE) == datetime(2024, 5, 6, 10, 5, tzinfo=UTC)
    assert bucket_start(T0, HOUR) == datetime(2024, 5, 6, 10, 0, tzinfo=UTC)
    paris = timezone(timedelta(hours=2))
    assert bucket_start(datetime(2024, 5, 6, 12, 59, 59, tzinfo=paris), HOUR) == datetime(
        2024, 5, 6, 10, 0, tzinfo=UTC
    )
    # naive datetimes are taken as UTC
    assert bucket_start(datetime(2024, 5, 6, 10, 5, 59), MINUTE) == datetime(
        2024, 5, 6, 10, 5, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        bucket_start(T0, "fortnight")


def test_revenue_is_summed_per_minute():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))  # 10:05:10  7.90
    agg.apply(order(2, T0 + timedelta(seconds=40), p2=2))  # 10:05:50  7.00
    agg.apply(order(3, T0 + timedelta(minutes=2), p3=1))  # 10:07:10  1.50

    assert agg.buckets(MINUTE) == [
        (datetime(2024, 5, 6, 10, 5, tzinfo=UTC), Decimal("14.90")),
        (datetime(2024, 5, 6, 10, 7, tzinfo=UTC), Decimal("1.50")),
    ]


def test_revenue_is_summed_per_hour():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))  # 10:05
    agg.apply(order(2, T0 + timedelta(minutes=50), p2=2))  # 10:55
    agg.apply(order(3, T0 + timedelta(minutes=56), p4=1))  # 11:01
    agg.apply(order(4, T0 - timedelta(hours=3), p3=2))  # 07:05

    assert agg.buckets(HOUR) == [
        (datetime(2024, 5, 6, 7, tzinfo=UTC), Decimal("3.00")),
        (datetime(2024, 5, 6, 10, tzinfo=UTC), Decimal("14.90")),
        (datetime(2024, 5, 6, 11, tzinfo=UTC), Decimal("9.50")),
    ]
    assert len(agg.buckets(MINUTE)) == 4


def test_the_timeline_drops_to_zero_across_empty_buckets():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))  # 10:05
    agg.apply(order(2, T0 + timedelta(minutes=1), p3=1))  # 10:06: no gap
    agg.apply(order(3, T0 + timedelta(minutes=5), p2=1))  # 10:10: gap 10:07-10:09

    minute = lambda m: datetime(2024, 5, 6, 10, m, tzinfo=UTC)  # noqa: E731
    assert agg.timeline(MINUTE) == [
        (minute(5), Decimal("7.90")),
        (minute(6), Decimal("1.50")),
        (minute(7), Decimal("0.00")),
        (minute(9), Decimal("0.00")),
        (minute(10), Decimal("3.50")),
    ]


def test_the_same_order_applied_twice_counts_once():
    agg = SalesAggregate()
    first = order(1, T0, p1=2)
    assert agg.apply(first) is True
    assert agg.apply(first) is False
    assert agg.apply(order(1, T0, p1=2)) is False  # a second copy of the same order

    assert agg.totals() == (1, Decimal("15.80"), Decimal("15.80"))
    assert agg.buckets(MINUTE) == [(bucket_start(T0, MINUTE), Decimal("15.80"))]
    assert agg.top_products()[0].quantity == 2


def test_cancel_subtracts_the_order_everywhere():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1, p2=1))  # 11.40
    agg.apply(order(2, T0 + timedelta(hours=1), p2=2))  # 7.00, another hour

    assert agg.remove(order(1, T0, p1=1, p2=1)) is True

    assert agg.totals() == (1, Decimal("7.00"), Decimal("7.00"))
    assert agg.buckets(MINUTE) == [(bucket_start(T0 + timedelta(hours=1), MINUTE), Decimal("7.00"))]
    assert agg.buckets(HOUR) == [(bucket_start(T0 + timedelta(hours=1), HOUR), Decimal("7.00"))]
    assert [(p.name, p.quantity, p.revenue) for p in agg.top_products()] == [
        ("Tea", 2, Decimal("7.00"))
    ]
    assert 1 not in agg and 2 in agg


def test_cancelling_every_order_leaves_nothing_whatever_the_time_zone_it_was_placed_in():
    # A counted order is kept as cents and a minute since the epoch: taking it
    # back out must find the same minute and hour buckets (in UTC), even for
    # a time placed in a half-hour zone, and the same cents.
    india = timezone(timedelta(hours=5, minutes=30))
    placed = [
        order(1, datetime(2024, 5, 6, 10, 5, 59, tzinfo=india), p1=3, p4=1),
        order(2, datetime(2024, 5, 6, 23, 59, 30, tzinfo=UTC), p2=1),
        order(3, datetime(2024, 5, 7, 0, 0, 0), p3=7, p1=1),  # naive: taken as UTC
    ]
    agg = SalesAggregate()
    for o in placed:
        agg.apply(o)
    assert agg.totals().revenue == Decimal("55.10")
    assert len(agg.buckets(HOUR)) == 3

    for o in placed:
        assert agg.remove(o.id) is True

    assert agg.totals() == (0, Decimal("0.00"), Decimal("0.00"))
    assert agg.buckets(MINUTE) == [] and agg.buckets(HOUR) == []
    assert agg.top_products() == []


def test_cancel_of_an_unknown_order_is_ignored_and_a_late_create_stays_out():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))

    assert agg.remove(99) is False
    assert agg.totals() == (1, Decimal("7.90"), Decimal("7.90"))

    # order_created of 99 delivered after its order_cancelled: still cancelled
    assert agg.apply(order(99, T0, p4=1)) is False
    assert agg.totals().orders == 1
    # cancelling twice changes nothing more
    assert agg.remove(1) is True
    assert agg.remove(1) is False
    assert agg.totals() == (0, Decimal("0.00"), Decimal("0.00"))


def test_an_order_with_status_cancelled_is_not_counted():
    agg = SalesAggregate()
    cancelled = order(5, T0, p1=1)
    cancelled.status = "cancelled"
    assert agg.apply(cancelled) is False
    assert agg.totals().orders == 0


def test_average_is_rounded_to_the_cent_like_the_sales_summary():
    agg = SalesAggregate()
    assert agg.totals() == (0, Decimal("0.00"), Decimal("0.00"))
    agg.apply(order(1, T0, p1=1))  # 7.90
    agg.apply(order(2, T0, p2=1))  # 3.50
    agg.apply(order(3, T0, p3=1))  # 1.50

    orders, revenue, average = agg.totals()
    assert (orders, revenue) == (3, Decimal("12.90"))
    assert average == Decimal("4.30")
    agg.apply(order(4, T0, p3=1))  # 14.40 / 4 = 3.60
    agg.apply(order(5, T0, p3=1))  # 15.90 / 5 = 3.18
    agg.apply(order(6, T0, p3=1))  # 17.40 / 6 = 2.9 exactly
    agg.apply(order(7, T0, p1=1))  # 25.30 / 7 = 3.6142... -> 3.61
    assert agg.totals().average == Decimal("3.61")
    assert str(agg.totals().average) == "3.61"


def test_top_products_are_ordered_by_revenue_or_by_quantity():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1, p3=5))  # coffee 7.90, bagel 5 x 1.50 = 7.50
    agg.apply(order(2, T0, p4=1, p2=1))  # mug 9.50, tea 3.50
    agg.apply(order(3, T0, p3=1))  # bagel 6 -> 9.00

    by_revenue = [(p.name, p.revenue) for p in agg.top_products(5, BY_REVENUE)]
    assert by_revenue == [
        ("Mug", Decimal("9.50")),
        ("Bagel", Decimal("9.00")),
        ("Coffee", Decimal("7.90")),
        ("Tea", Decimal("3.50")),
    ]
    by_quantity = [(p.name, p.quantity) for p in agg.top_products(5, BY_QUANTITY)]
    # Bagel first; then three products sold once, the bigger revenue first
    assert by_quantity == [("Bagel", 6), ("Mug", 1), ("Coffee", 1), ("Tea", 1)]
    assert [p.name for p in agg.top_products(2)] == ["Mug", "Bagel"]
    with pytest.raises(ValueError):
        agg.top_products(5, "popularity")


def test_snapshot_is_consistent_and_immutable():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))
    snap = agg.snapshot(HOUR, 5, BY_REVENUE)
    agg.apply(order(2, T0, p2=1))

    assert snap.totals.orders == 1
    assert snap.buckets == ((bucket_start(T0, HOUR), Decimal("7.90")),)
    assert [p.name for p in snap.top] == ["Coffee"]
    assert agg.snapshot(HOUR).totals.orders == 2


def test_rebuild_replaces_the_state_with_the_database_snapshot():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))
    agg.apply(order(2, T0, p2=1))

    agg.rebuild([order(2, T0, p2=1), order(3, T0, p4=1)])

    assert agg.totals() == (2, Decimal("13.00"), Decimal("6.50"))
    assert 1 not in agg and 3 in agg


def test_an_order_placed_during_a_rebuild_is_neither_lost_nor_doubled():
    agg = SalesAggregate()
    agg.begin_rebuild()
    # Events that arrive while the database is being read:
    agg.apply(order(10, T0, p1=1))  # committed after the read: not in the snapshot
    agg.apply(order(11, T0, p2=1))  # committed before the read: in the snapshot too
    agg.finish_rebuild([order(11, T0, p2=1), order(12, T0, p3=1)])

    assert sorted(o for o in (10, 11, 12) if o in agg) == [10, 11, 12]
    assert agg.totals() == (3, Decimal("12.90"), Decimal("4.30"))
    assert not agg.rebuilding


def test_an_order_cancelled_during_a_rebuild_stays_out_of_the_snapshot():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))
    agg.begin_rebuild()
    agg.remove(2)  # cancelled after the read, which still saw it placed
    agg.finish_rebuild([order(1, T0, p1=1), order(2, T0, p4=1)])

    assert agg.totals() == (1, Decimal("7.90"), Decimal("7.90"))
    assert [p.name for p in agg.top_products()] == ["Coffee"]


def test_an_aborted_rebuild_keeps_the_live_state():
    agg = SalesAggregate()
    agg.apply(order(1, T0, p1=1))
    agg.begin_rebuild()
    agg.apply(order(2, T0, p2=1))
    agg.abort_rebuild()

    assert agg.totals().orders == 2
    assert not agg.rebuilding


def test_concurrent_apply_and_remove_keep_exact_totals():
    agg = SalesAggregate()
    per_thread, threads = 500, 8
    barrier = threading.Barrier(threads)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            oid = t * per_thread + i
            agg.apply(order(oid, T0 + timedelta(minutes=i % 7), p1=1, p3=1))
            agg.apply(order(oid, T0, p1=1))  # duplicate event: ignored
            if i % 5 == 0:
                agg.remove(oid)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    kept = threads * per_thread * 4 // 5
    orders, revenue, _ = agg.totals()
    assert orders == kept
    assert revenue == Decimal("9.40") * kept
    assert sum(r for _, r in agg.buckets(MINUTE)) == revenue
    assert sum(r for _, r in agg.buckets(HOUR)) == revenue
    assert {p.name: p.quantity for p in agg.top_products()} == {"Coffee": kept, "Bagel": kept}


def test_the_aggregate_loads_no_qt():
    probe = (
        "import json, sys; import storeapp.listeners.analytics.aggregate; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'shiboken6'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
