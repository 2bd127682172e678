"""Checkout's writes: prebuilt statements, the guarded stock UPDATE, and the fast paths.

Each function takes the open session of the caller's unit of work and only
writes through it; the caller commits (or its rollback undoes everything).
Statements are built once at import: building them per call costs more than
running them.

Model signals: the order and its items are written through the ORM (whose
flush sends pre_save/post_save) when a receiver listens to their saves, or
else by two INSERTs; those send the same signals themselves, from the
instances checkout builds in memory, whenever a dispatch observer (the
inspector) is attached. The cart is deleted by two DELETEs, with Django's
Collector's pre_delete/post_delete around them whenever anyone listens or
watches. With nobody listening or watching, checkout sends no model signal
at all, like Django's ``bulk_create`` and fast delete. The guarded stock
UPDATE never sends any, like Django's ``QuerySet.update()``.
"""

from __future__ import annotations

import enum
import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import Executable, Table, bindparam, case, delete, insert, null, select, update
from sqlalchemy.orm import Session, contains_eager, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain import signals
from storeapp.domain import terminal as terminals
from storeapp.domain.dispatch import callsite, instrumentation
from storeapp.domain.errors import OutOfStock
from storeapp.domain.model_signals import delete_kwargs, save_kwargs
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

#: Its statements send model signals on behalf of the service that checks out
#: (as the mapper events do for the ORM): the inspector names that service.
callsite.forward_from(__file__)

# The mapped classes' Core tables (``__table__`` is typed as a FromClause).
_M = TypeVar("_M")

CARTS = cast(Table, Cart.__table__)
CART_ITEMS = cast(Table, CartItem.__table__)
ORDERS = cast(Table, Order.__table__)
ORDER_ITEMS = cast(Table, OrderItem.__table__)
PRODUCTS = cast(Table, Product.__table__)

#: A cart's lines as ``(quantity, Product, cart item id, None)`` rows, in the
#: order they were added.
CART_LINES = (
    select(CartItem.quantity, Product, CartItem.id, null())
    .join(Product, CartItem.product_id == Product.id)
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.id)
)
#: The same with the cart's ``created_at`` in place of None: all checkout
#: needs to build the cart and its items for their delete signals without
#: another query. Only then: the join and the timestamp's parsing cost a
#: checkout about 2 % (``bench/orders.py`` (i)).
CART_LINES_WITH_CART = (
    select(CartItem.quantity, Product, CartItem.id, Cart.created_at)
    .join(Product, CartItem.product_id == Product.id)
    .join(Cart, CartItem.cart_id == Cart.id)
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

#: (quantity, product, cart item id, the cart's created_at or None): a row of
#: CART_LINES or CART_LINES_WITH_CART
Line = tuple[int, Product, int, datetime | None]


class CheckoutPath(enum.Enum):
    """How checkout writes an order and its items."""

    #: ``session.add()``: the flush sends pre_save/post_save for the order and each item.
    ORM = "orm"
    #: The two INSERTs of :attr:`FAST`, with pre_save/post_save for the order
    #: and each item sent around them (to nobody but the dispatch observer).
    OBSERVED = "observed"
    #: Two INSERT ... RETURNING statements; no model signal is sent.
    FAST = "fast"


def _listened(signal_pair: tuple[signals.Signal, ...], models: tuple[type, ...]) -> bool:
    """Whether any receiver (one connected for any sender counts) would hear
    one of ``signal_pair`` sent by one of ``models``."""
    return any(signal.has_listeners(model) for signal in signal_pair for model in models)


def checkout_path() -> CheckoutPath:
    """Choose how checkout writes the order: the one place this is decided.

    If a receiver listens to ``pre_save`` or ``post_save`` for ``Order`` or
    ``OrderItem`` (one connected for any sender counts), the order goes
    through the ORM, whose flush sends them (:mod:`storeapp.domain.models`)
    to instances in the session, as for every other model. Otherwise two
    statements write the same rows and :func:`write_order` builds the same
    detached, fully loaded ``Order`` from what was written: the ORM's flush
    is most of a checkout's cost (``bench/orders.py``). They send the save
    signals themselves, in the ORM's order, while a dispatch observer is
    attached (the inspector shows every send), and none when nobody would
    hear them, like Django's ``bulk_create``. The choice is made per
    checkout, so connecting a receiver or opening the inspector takes effect
    at the next one.
    """
    if _listened((signals.pre_save, signals.post_save), (Order, OrderItem)):
        return CheckoutPath.ORM
    if instrumentation.observer is not None:
        return CheckoutPath.OBSERVED
    return CheckoutPath.FAST


def cart_delete_sends_signals() -> bool:
    """Whether deleting the cart sends pre_delete/post_delete for it and its items.

    Yes while a receiver listens to either for ``Cart`` or ``CartItem`` or a
    dispatch observer is attached; otherwise, like Django's fast delete, the
    two DELETE statements alone. Decided once per checkout, before its
    lines are read (:func:`cart_lines`).
    """
    return instrumentation.observer is not None or _listened(
        (signals.pre_delete, signals.post_delete), (Cart, CartItem)
    )


def cart_lines(send_deletes: bool) -> Executable:
    """The statement that reads a cart's lines: with the cart's ``created_at``
    when its delete will send signals (see :func:`cart_delete_sends_signals`)."""
    return CART_LINES_WITH_CART if send_deletes else CART_LINES


@functools.lru_cache(maxsize=64)
def take_stock_statement(lines: int, lock_in_order: bool = False) -> Any:
    """``UPDATE products SET inventory = inventory - q WHERE id = :id AND
    inventory >= q`` for ``lines`` products at once (q chosen per id).

    ``lock_in_order`` (PostgreSQL): the rows are first locked in id order
    (``FROM (SELECT id ... ORDER BY id FOR UPDATE)``), in the same statement.
    A plain multi-row UPDATE locks rows in the order its scan meets them,
    which changes as updates move rows: two tills taking the same products
    deadlocked (PostgreSQL then fails one of the orders).
    """
    table = PRODUCTS
    ids: list[Any] = [bindparam(f"id{i}") for i in range(lines)]
    amount = case(*[(table.c.id == ids[i], bindparam(f"q{i}")) for i in range(lines)])
    statement = update(table).where(table.c.inventory >= amount)
    if lock_in_order:
        locked = (
            select(table.c.id)
            .where(table.c.id.in_(ids))
            .order_by(table.c.id)
            .with_for_update()
            .subquery("locked")
        )
        statement = statement.where(table.c.id == locked.c.id)
    else:  # SQLite: one writer at a time, nothing to order
        statement = statement.where(table.c.id.in_(ids))
    return statement.values(inventory=table.c.inventory - amount).returning(
        table.c.id, table.c.inventory
    )


def take_stock(s: Session, lines: Sequence[Line]) -> None:
    """Decrement stock for every line in ONE guarded UPDATE.

    Each row is updated only if it has enough stock
    (``inventory >= quantity``), so concurrent writers can never oversell;
    if fewer rows than lines were updated, ``OutOfStock`` names the first
    line that could not be filled (the caller's rollback undoes the rest).
    """
    params: dict[str, Any] = {}
    for i, (quantity, product, *_) in enumerate(lines):
        params[f"id{i}"] = product.id
        params[f"q{i}"] = quantity
    postgres = s.get_bind().dialect.name == "postgresql"
    left = dict(s.execute(take_stock_statement(len(lines), postgres), params).all())
    for quantity, product, *_ in lines:
        if product.id not in left:
            available = s.scalar(select(PRODUCTS.c.inventory).where(PRODUCTS.c.id == product.id))
            raise OutOfStock(product.name, quantity, available or 0)
        set_committed_value(product, "inventory", left[product.id])


def return_stock(s: Session, items: Iterable[OrderItem]) -> None:
    """Put a cancelled order's items back in stock (one UPDATE per line, in
    product id order: the order checkout locks them in)."""
    for item in sorted(items, key=lambda item: item.product_id):
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
    return _write_order_fast(s, customer, lines, send=path is CheckoutPath.OBSERVED)


def _write_order_with_orm(s: Session, customer: Customer, lines: Sequence[Line]) -> Order:
    items = [
        OrderItem(product=product, unit_price=product.unit_price, quantity=quantity)
        for quantity, product, *_ in lines
    ]
    total = sum((i.line_total for i in items), Decimal("0.00"))
    order = Order(customer=customer, total=total, items=items, terminal=terminals.of_session(s))
    s.add(order)
    s.flush()  # the save signals now, before the cart's delete signals
    return order


def _write_order_fast(s: Session, customer: Customer, lines: Sequence[Line], send: bool) -> Order:
    """Two INSERTs; the Order is built in memory first (detached, fully loaded once written).

    With ``send``, the save signals go out in the order the ORM's flush sends
    them: pre_save for the order before its INSERT, pre_save for each item
    before theirs, then post_save for the order and each item. The INSERTs
    read what they write from the instances, so they write what the pre_save
    receivers saw.
    """
    order = built(
        Order,
        customer_id=customer.id,
        placed_at=utcnow(),
        status=OrderStatus.PLACED,
        total=sum((to_money(p.unit_price * q) for q, p, *_ in lines), Decimal("0.00")),
        terminal=terminals.of_session(s),
        customer=customer,
    )
    items = [
        built(
            OrderItem,
            product_id=product.id,
            unit_price=product.unit_price,
            quantity=quantity,
            product=product,
            order=order,
        )
        for quantity, product, *_ in lines
    ]
    set_committed_value(order, "items", items)
    if send:
        signals.pre_save.send(Order, **save_kwargs(order))
    conn = s.connection()
    order.id = conn.execute(
        INSERT_ORDER,
        {
            "customer_id": order.customer_id,
            "placed_at": order.placed_at,
            "status": order.status,
            "total": order.total,
            "terminal": order.terminal,
        },
    ).scalar_one()
    for item in items:
        item.order_id = order.id
    if send:
        for item in items:
            signals.pre_save.send(OrderItem, **save_kwargs(item))
    item_ids = (
        conn.execute(
            INSERT_ITEMS,
            [
                {
                    "order_id": item.order_id,
                    "product_id": item.product_id,
                    "unit_price": item.unit_price,
                    "quantity": item.quantity,
                }
                for item in items
            ],
        )
        .scalars()
        .all()
    )
    for item, item_id in zip(items, item_ids):
        item.id = item_id
        make_transient_to_detached(item)
    make_transient_to_detached(order)
    if send:
        signals.post_save.send(Order, **save_kwargs(order, created=True))
        for item in items:
            signals.post_save.send(OrderItem, **save_kwargs(item, created=True))
    return order


def delete_cart(s: Session, cart_id: uuid.UUID, lines: Sequence[Line], send: bool) -> None:
    """Delete a cart and its ``lines`` with two DELETE statements.

    With ``send`` (:func:`cart_delete_sends_signals`; ``lines`` were then read
    with :func:`cart_lines` ``(True)``), the delete
    signals go out as Django's ``Collector.delete()`` sends them for a cart
    whose items cascade: pre_delete for each item (by id) and for the cart,
    then the items' DELETE and their post_delete (in reverse, as the
    Collector deletes them), then the cart's DELETE and its post_delete. The
    cart is every signal's ``origin``. The instances are built from the lines
    checkout has already read (no query): detached and fully loaded.
    """
    if not send:
        s.execute(DELETE_CART_ITEMS, {"cart_id": cart_id})
        s.execute(DELETE_CART, {"cart_id": cart_id})
        return
    cart = _cart_as_read(cart_id, lines)
    items = cart.items
    for item in items:
        signals.pre_delete.send(CartItem, **delete_kwargs(item, cart))
    signals.pre_delete.send(Cart, **delete_kwargs(cart, cart))
    s.execute(DELETE_CART_ITEMS, {"cart_id": cart_id})
    for item in reversed(items):
        signals.post_delete.send(CartItem, **delete_kwargs(item, cart))
    s.execute(DELETE_CART, {"cart_id": cart_id})
    signals.post_delete.send(Cart, **delete_kwargs(cart, cart))


def _cart_as_read(cart_id: uuid.UUID, lines: Sequence[Line]) -> Cart:
    """The cart and its items as a query would have loaded them, from ``lines``."""
    created_at = lines[0][3]
    assert created_at is not None, "lines read without the cart: see cart_lines()"
    cart = built(Cart, id=cart_id, created_at=created_at)
    items = []
    for quantity, product, item_id, _created_at in lines:
        item = built(
            CartItem,
            id=item_id,
            cart_id=cart_id,
            product_id=product.id,
            quantity=quantity,
            product=product,
            cart=cart,
        )
        make_transient_to_detached(item)
        items.append(item)
    set_committed_value(cart, "items", items)
    make_transient_to_detached(cart)
    return cart


def built(cls: type[_M], **values: Any) -> _M:
    """A new instance holding ``values`` (columns, and the objects of
    many-to-one relationships) as if loaded, without the constructor: no
    attribute events, no backrefs (``cls(**values)`` with a
    ``set_committed_value`` per relationship costs about four times as
    much, and checkout builds up to eight per order). The caller makes it
    detached once its primary key is known."""
    obj: _M = cls.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
    obj.__dict__.update(values)
    return obj
