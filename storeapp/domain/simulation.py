"""Rush hour: place many random orders, as fast as the store takes them.

Qt-free: the window runs :func:`simulate_orders` in a worker thread and
shows its progress; benchmarks and tests call it directly.

A supplier keeps the shelves filled meanwhile, as a standing order with a
wholesaler would: each product has a par level (its stock when the rush
starts, at least :data:`MIN_PAR`); every :data:`SUPPLIER_CHECK_EVERY`
orders, and at once after an order that found a shelf empty, the stock is
read and every product at or below half its par is brought back up to it
with :meth:`Store.restock <storeapp.domain.store.catalogue.CatalogueServices.restock>`
(one guarded UPDATE, racing the checkouts safely; each delivery sends the
product's ``post_save``, so the inventory panel and the inspector show
it). So a 2,000-order rush places its orders all the way through, and the
store is left with about the stock it had, not emptied for the next demo.
Sizing the stock to the rush instead would have filled the shelves with
thousands of units once and left them so; the supplier keeps stock
realistic and shows restocking at work beside the checkouts.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storeapp.domain.errors import DomainError, OutOfStock
from storeapp.domain.store import Store

#: A product's par level is its stock when the rush starts, at least this.
MIN_PAR = 20
#: Orders between two looks at the shelves (one query for every product's stock).
SUPPLIER_CHECK_EVERY = 5


def par_levels(stock: dict[int, int], minimum: int = MIN_PAR) -> dict[int, int]:
    """The supplier's par level per product: its stock now, at least ``minimum``."""
    return {product_id: max(units, minimum) for product_id, units in stock.items()}


def reorders(stock: dict[int, int], par: dict[int, int]) -> dict[int, int]:
    """What the supplier delivers: every product at or below half its par
    level, up to the par level (products without a par level are not its)."""
    return {
        product_id: par[product_id] - units
        for product_id, units in stock.items()
        if product_id in par and units <= par[product_id] // 2
    }


@dataclass
class SimulationResult:
    requested: int
    placed: int = 0
    out_of_stock: int = 0
    rejected: int = 0
    #: The supplier's deliveries (one product each) and the units they brought.
    deliveries: int = 0
    delivered: int = 0
    cancelled: bool = False
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.placed + self.out_of_stock + self.rejected

    @property
    def rate(self) -> float:
        return self.attempted / self.elapsed if self.elapsed > 0 else 0.0


def simulate_orders(
    store: Store,
    count: int,
    *,
    seed: int | None = None,
    max_lines: int = 3,
    max_quantity: int = 3,
    cancel: threading.Event | None = None,
    progress: Callable[[SimulationResult], None] | None = None,
    progress_every: float = 0.1,
    pause: float = 0.0,
    between: Callable[[], object] | None = None,
    supplier: bool = True,
) -> SimulationResult:
    """Place ``count`` random orders for random customers.

    Orders that cannot be filled are counted in ``out_of_stock``, not raised.
    With ``supplier`` a supplier restocks meanwhile (see the module's doc).
    ``cancel`` is checked between orders, so a cancelled run never leaves a
    half-written order (each order is one transaction anyway). ``pause``
    (seconds to sleep) and ``between()`` run after each order: the window
    passes its ``yield_to_gui``.
    """
    rng = random.Random(seed)
    customers = [c.user_id for c in store.list_customers()]
    products = [p.id for p in store.list_products()]
    result = SimulationResult(requested=count)
    if not customers or not products:
        result.errors.append("The simulation needs at least one customer and one product.")
        return result
    par = par_levels(store.stock_levels()) if supplier else {}
    check_shelves = supplier
    started = time.perf_counter()
    last_report = 0.0
    for number in range(count):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        if check_shelves or (supplier and number % SUPPLIER_CHECK_EVERY == 0):
            check_shelves = False
            _deliver(store, par, result)
        lines = rng.sample(products, k=min(len(products), rng.randint(1, max_lines)))
        try:
            cart = store.create_cart()
            for product_id in lines:
                try:
                    store.add_to_cart(cart.id, product_id, rng.randint(1, max_quantity))
                except OutOfStock:
                    continue
            store.place_order(cart.id, rng.choice(customers))
        except OutOfStock:
            result.out_of_stock += 1
            check_shelves = supplier  # the supplier is called at once
        except DomainError as exc:  # e.g. every line was out of stock: empty cart
            if "empty" in str(exc).lower():
                result.out_of_stock += 1
                check_shelves = supplier
            else:
                result.rejected += 1
                if len(result.errors) < 20:
                    result.errors.append(str(exc))
        else:
            result.placed += 1
        if pause:
            # Sleeping releases the GIL for certain: a GUI thread waiting for
            # it gets its turn (a busy worker that releases and re-takes the
            # GIL around every SQLite call would otherwise starve it).
            time.sleep(pause)
        if between is not None:
            between()
        now = time.perf_counter()
        result.elapsed = now - started
        if progress is not None and now - last_report >= progress_every:
            last_report = now
            progress(result)
    result.elapsed = time.perf_counter() - started
    if progress is not None:
        progress(result)
    return result


def _deliver(store: Store, par: dict[int, int], result: SimulationResult) -> None:
    """The supplier's round: restock what is at or below half its par level."""
    for product_id, units in reorders(store.stock_levels(), par).items():
        try:
            store.restock(product_id, units)
        except DomainError:  # deleted meanwhile, or the database was busy: next round
            continue
        result.deliveries += 1
        result.delivered += units
