"""Rush hour: place many random orders, as fast as the store takes them.

Qt-free: the window runs :func:`simulate_orders` in a worker thread and
shows its progress; benchmarks and tests call it directly.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from storeapp.domain.errors import DomainError, OutOfStock
from storeapp.domain.store import Store


@dataclass
class SimulationResult:
    requested: int
    placed: int = 0
    out_of_stock: int = 0
    rejected: int = 0
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
) -> SimulationResult:
    """Place ``count`` random orders for random customers.

    Orders that cannot be filled are counted in ``out_of_stock``, not raised.
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
    started = time.perf_counter()
    last_report = 0.0
    for _ in range(count):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
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
        except DomainError as exc:  # e.g. every line was out of stock: empty cart
            if "empty" in str(exc).lower():
                result.out_of_stock += 1
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
