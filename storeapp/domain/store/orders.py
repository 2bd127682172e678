"""The orders' use cases: checkout, cancelling, and reading orders and sales."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from storeapp.domain import signals
from storeapp.domain.errors import EmptyCart, InvalidState, NotFound, ValidationError
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Cart, Customer, Order, OrderItem, OrderStatus, User, to_money
from storeapp.domain.store import checkout
from storeapp.domain.store.uow import Services
from storeapp.domain.store.validation import MAX_ID, clean_cart_id, clean_id, clean_int, shown


@dataclass(frozen=True)
class SalesSummary:
    orders: int
    revenue: Decimal

    @property
    def average(self) -> Decimal:
        if not self.orders:
            return Decimal("0.00")
        return to_money(self.revenue / self.orders)


def _order_options() -> list[Any]:
    return [
        selectinload(Order.items).selectinload(OrderItem.product),
        selectinload(Order.customer).selectinload(Customer.user),
    ]


def _load_order(s: Session, order_id: int) -> Order:
    order = s.get(Order, order_id, options=_order_options())
    if order is None:
        raise NotFound(f"Order {order_id} does not exist.")
    return order


class OrderServices(Services):
    """Checkout and cancelling (each one transaction), and the order queries."""

    def place_order(self, cart_id: Any, user_id: int) -> Order:
        """Turn a cart into an order, in one transaction.

        Stock is decremented with a guarded UPDATE (never below zero, even
        with concurrent writers); if any line cannot be filled, ``OutOfStock``
        is raised and nothing is written. The order and its items are written
        through the ORM or by two INSERTs, as :func:`checkout.checkout_path`
        decides, and the cart is deleted; their model signals are sent
        whenever a receiver or the dispatch observer would hear them (see
        :mod:`checkout`). ``order_created`` is sent with ``send_robust``
        before the commit.
        """
        cart_id = clean_cart_id(cart_id)
        user_id = clean_id(user_id, "User")
        with self.units.write() as uow:
            s = uow.session
            # One query for the lines and their products (and the cart's
            # created_at if its delete will send signals), one for the buyer.
            send_deletes = checkout.cart_delete_sends_signals()
            lines = s.execute(checkout.cart_lines(send_deletes), {"cart_id": cart_id}).all()
            if not lines:
                if s.get(Cart, cart_id) is None:
                    raise NotFound(f"Cart {cart_id} does not exist.")
                raise EmptyCart("The cart is empty: add a product before checking out.")
            customer = s.scalar(checkout.CUSTOMER_WITH_USER, {"user_id": user_id})
            if customer is None:
                if s.get(User, user_id) is None:
                    raise NotFound(f"User {user_id} does not exist.")
                raise NotFound(
                    f"User {user_id} has no customer profile (is the core listener loaded?)."
                )
            checkout.take_stock(s, lines)
            order = checkout.write_order(s, customer, lines, checkout.checkout_path())
            checkout.delete_cart(s, cart_id, lines, send_deletes)
            uow.flush()
            signals.order_created.send_robust(Order, order=order)
            eventlog.order_created(s, order)
            uow.flush()
            uow.commit()
        return order

    def cancel_order(self, order_id: int) -> Order:
        """Cancel a placed order and put its items back in stock."""
        order_id = clean_id(order_id, "Order")
        with self.units.write() as uow:
            s = uow.session
            order = _load_order(s, order_id)
            if order.status != OrderStatus.PLACED:
                raise InvalidState(f"Order {order_id} is already {order.status}.")
            checkout.return_stock(s, order.items)
            order.status = OrderStatus.CANCELLED
            uow.flush()
            signals.order_cancelled.send_robust(Order, order=order)
            eventlog.order_cancelled(s, order)
            uow.flush()
            uow.commit()
        return order

    def get_order(self, order_id: int) -> Order:
        order_id = clean_id(order_id, "Order")
        with self.units.read() as s:
            return _load_order(s, order_id)

    def list_orders(
        self,
        user_id: int | None = None,
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        """Orders, newest first; optionally one user's, one status, the last N."""
        query = select(Order).options(*_order_options()).order_by(Order.id.desc())
        if user_id is not None:
            user_id = clean_id(user_id, "User")
            query = query.join(Order.customer).where(Customer.user_id == user_id)
        if status is not None:
            if status not in (OrderStatus.PLACED, OrderStatus.CANCELLED):
                raise ValidationError(
                    f"Unknown order status {shown(status)}: use "
                    f"{OrderStatus.PLACED!r} or {OrderStatus.CANCELLED!r}.",
                    "status",
                )
            query = query.where(Order.status == status)
        if limit is not None:
            query = query.limit(clean_int(limit, "limit", "Limit", 1, MAX_ID))
        with self.units.read() as s:
            return list(s.scalars(query))

    def sales_summary(self) -> SalesSummary:
        """Count and revenue of the orders that stand (not cancelled)."""
        with self.units.read() as s:
            rows = s.execute(
                select(Order.total).where(Order.status == OrderStatus.PLACED)
            ).scalars()
            totals = list(rows)
        return SalesSummary(len(totals), sum(totals, Decimal("0.00")))
