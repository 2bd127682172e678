"""Checkout's writes: prebuilt statements, the guarded stock UPDATE, and the fast paths.

Each function takes the open session of the caller's unit of work and only
writes through it; the caller commits (or its rollback undoes everything).
Statements are built once at import: building them per call costs more than
running them.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, case, delete, insert, select, update
from sqlalchemy.orm import Session, contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain import signals
from storeapp.domain.errors import OutOfStock
from storeapp.domain.models import (
    Cart,
    CartItem,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    to_money,
    utcnow,
)

# The mapped classes' Core tables (``__table__`` is typed as a FromClause).
CARTS = cast(Table, Cart.__table__)
CART_ITEMS = cast(Table, CartItem.__table__)
ORDERS = cast(Table, Order.__table__)
ORDER_ITEMS = cast(Table, OrderItem.__table__)
PRODUCTS = cast(Table, Product.__table__)

#: A cart's lines as ``(quantity, Product)`` rows, in the order they were added.
CART_LINES = (
    select(CartItem.quantity, Product)
    .join(Product, CartItem.product_id == Product.id)
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.id)
)
#: The buyer: a user's customer profile with the user loaded.
CUSTOMER_WITH_USER = (
    select(Customer)
    .join(Customer.user)
    .options(contains_eager(Customer.user))
    .where(Customer.user_id == bindparam("user_id"))
)
DELETE_CART_ITEMS = delete(CART_ITEMS).where(CART_ITEMS.c.cart_id == bindparam("cart_id"))
DELETE_CART = delete(CARTS).where(CARTS.c.id == bindparam("cart_id"))
INSERT_ORDER = insert(ORDERS).returning(ORDERS.c.id)
INSERT_ITEMS = insert(ORDER_ITEMS).returning(ORDER_ITEMS.c.id, sort_by_parameter_order=True)

Line = tuple[int, Product]  # (quantity, product), a row of CART_LINES


class CheckoutPath(enum.Enum):
    """How checkout writes an order and its items."""

    #: ``session.add()``: pre_save/post_save are sent for the order and each item.
    ORM = "orm"
    #: Two INSERT ... RETURNING statements; no model signal is sent.
    FAST = "fast"


def checkout_path() -> CheckoutPath:
    """Choose how checkout writes the order: the one place this is decided.

    Model signals are sent from the ORM's flush (:mod:`storeapp.domain.models`),
    so an order written with plain INSERTs sends none. That is allowed only
    when nobody would hear them: if any receiver listens to ``pre_save`` or
    ``post_save`` for ``Order`` or ``OrderItem`` (one connected for any
    sender counts), the order goes through the ORM. Otherwise, like Django's
    fast paths, two statements write the same rows and :func:`write_order`
    builds the same detached, fully loaded ``Order`` from what was written;
    the ORM's flush is most of a checkout's cost (``bench/orders.py``).
    The choice is made per checkout, so connecting a receiver takes effect
    at the next one.
    """
    for signal in (signals.pre_save, signals.post_save):
        for model in (Order, OrderItem):
            if signal.has_listeners(model):
                return CheckoutPath.ORM
    return CheckoutPath.FAST


def cart_delete_needs_the_orm() -> bool:
    """Whether deleting a cart must go through the ORM.

    Like Django's fast delete: when nobody listens to the delete signals of
    carts or their items, two DELETE statements; otherwise through the ORM,
    so pre_delete/post_delete are sent for each object.
    """
    return any(
        signal.has_listeners(model)
        for signal in (signals.pre_delete, signals.post_delete)
        for model in (Cart, CartItem)
    )


@functools.lru_cache(maxsize=32)
def take_stock_statement(lines: int) -> Any:
    """``UPDATE products SET inventory = inventory - q WHERE id = :id AND
    inventory >= q`` for ``lines`` products at once (q chosen per id)."""
    table = PRODUCTS
    amount = case(*[(table.c.id == bindparam(f"id{i}"), bindparam(f"q{i}")) for i in range(lines)])
    return (
        update(table)
        .where(
            table.c.id.in_([bindparam(f"id{i}") for i in range(lines)]), table.c.inventory >= amount
        )
        .values(inventory=table.c.inventory - amount)
        .returning(table.c.id, table.c.inventory)
    )


def take_stock(s: Session, lines: Sequence[Line]) -> None:
    """Decrement stock for every line in ONE guarded UPDATE.

    Each row is updated only if it has enough stock
    (``inventory >= quantity``), so concurrent writers can never oversell;
    if fewer rows than lines were updated, ``OutOfStock`` names the first
    line that could not be filled (the caller's rollback undoes the rest).
    """
    params: dict[str, Any] = {}
    for i, (quantity, product) in enumerate(lines):
        params[f"id{i}"] = product.id
        params[f"q{i}"] = quantity
    left = dict(s.execute(take_stock_statement(len(lines)), params).all())
    for quantity, product in lines:
        if product.id not in left:
            available = s.scalar(select(PRODUCTS.c.inventory).where(PRODUCTS.c.id == product.id))
            raise OutOfStock(product.name, quantity, available or 0)
        set_committed_value(product, "inventory", left[product.id])


def return_stock(s: Session, items: Iterable[OrderItem]) -> None:
    """Put a cancelled order's items back in stock (one UPDATE per line)."""
    for item in items:
        row = s.execute(
            update(PRODUCTS)
            .where(PRODUCTS.c.id == item.product_id)
            .values(inventory=PRODUCTS.c.inventory + item.quantity)
            .returning(PRODUCTS.c.inventory)
        ).first()
        if row is not None:
            set_committed_value(item.product, "inventory", row[0])


def write_order(s: Session, customer: Customer, lines: Sequence[Line], path: CheckoutPath) -> Order:
    """Write the order and its items the way ``path`` says (see :func:`checkout_path`)."""
    if path is CheckoutPath.ORM:
        return _write_order_with_orm(s, customer, lines)
    return _write_order_fast(s, customer, lines)


def _write_order_with_orm(s: Session, customer: Customer, lines: Sequence[Line]) -> Order:
    items = [
        OrderItem(product=product, unit_price=product.unit_price, quantity=quantity)
        for quantity, product in lines
    ]
    total = sum((i.line_total for i in items), Decimal("0.00"))
    order = Order(customer=customer, total=total, items=items)
    s.add(order)
    return order


def _write_order_fast(s: Session, customer: Customer, lines: Sequence[Line]) -> Order:
    """Two INSERTs; the Order is built from what was written (detached, fully loaded)."""
    total = sum((to_money(p.unit_price * q) for q, p in lines), Decimal("0.00"))
    placed_at = utcnow()
    conn = s.connection()
    order_id = conn.execute(
        INSERT_ORDER,
        {
            "customer_id": customer.id,
            "placed_at": placed_at,
            "status": OrderStatus.PLACED,
            "total": total,
        },
    ).scalar_one()
    item_ids = (
        conn.execute(
            INSERT_ITEMS,
            [
                {
                    "order_id": order_id,
                    "product_id": p.id,
                    "unit_price": p.unit_price,
                    "quantity": q,
                }
                for q, p in lines
            ],
        )
        .scalars()
        .all()
    )
    order = Order(
        id=order_id,
        customer_id=customer.id,
        placed_at=placed_at,
        status=OrderStatus.PLACED,
        total=total,
    )
    items = []
    for item_id, (quantity, product) in zip(item_ids, lines):
        item = OrderItem(
            id=item_id,
            order_id=order_id,
            product_id=product.id,
            unit_price=product.unit_price,
            quantity=quantity,
        )
        set_committed_value(item, "product", product)
        set_committed_value(item, "order", order)
        make_transient_to_detached(item)
        items.append(item)
    set_committed_value(order, "items", items)
    set_committed_value(order, "customer", customer)
    make_transient_to_detached(order)
    return order


def delete_cart(s: Session, cart_id: uuid.UUID) -> None:
    """Delete a cart and its lines (see :func:`cart_delete_needs_the_orm`)."""
    if cart_delete_needs_the_orm():
        cart = s.get(Cart, cart_id)
        if cart is not None:
            s.delete(cart)
        return
    s.execute(DELETE_CART_ITEMS, {"cart_id": cart_id})
    s.execute(DELETE_CART, {"cart_id": cart_id})
