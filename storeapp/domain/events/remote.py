"""Another till's event, replayed on this till's signals, marked remote.

The :class:`~.follow.Follower` hands each event from another terminal to
:func:`send_remote`, which sends it on the signal that sent it there, to the
receivers connected with ``remote=True`` only
(:meth:`~storeapp.domain.dispatch.signal.Signal.send_remote`), with
``remote=True``, the sending ``terminal`` and the ``event_id`` in the kwargs.
Work done once per shop (stock, the confirmation email) is never redone:
those receivers did not ask for remote sends.

A remote receiver gets what a local one gets, built from the event's
payload instead of the database: ``order``, ``user`` or ``instance`` is a
read-only snapshot (:class:`RemoteOrder`, ...) with the attributes the
panels read, not a model instance (there is no session to load more).

=================  =====================================================
event              sent as (sender)
=================  =====================================================
order_created      ``order_created(order=RemoteOrder)`` (Order)
order_cancelled    ``order_cancelled(order=RemoteOrder)`` (Order)
user_registered    ``user_registered(user=RemoteUser)`` (User)
product_changed    ``post_save(instance=RemoteProduct, created=...)`` or
                   ``post_delete(instance=RemoteProduct)`` (Product)
=================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Connection, Row

from storeapp.domain import signals
from storeapp.domain.events.durable import as_payload
from storeapp.domain.events.log import PRODUCT_CHANGED
from storeapp.domain.models import Order, OrderStatus, Product, User


@dataclass(frozen=True)
class RemoteUser:
    id: int
    username: str
    email: str = ""


@dataclass(frozen=True)
class RemoteCustomer:
    id: int | None
    user_id: int
    user: RemoteUser


@dataclass(frozen=True)
class RemoteProduct:
    id: int
    name: str = ""
    sku: str = ""
    unit_price: Decimal | None = None
    inventory: int | None = None


@dataclass(frozen=True)
class RemoteItem:
    product_id: int
    product: RemoteProduct
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class RemoteOrder:
    """An order placed (or cancelled) at another till, as its event tells it."""

    id: int
    customer_id: int | None
    customer: RemoteCustomer
    total: Decimal
    status: str
    placed_at: datetime
    terminal: str
    items: tuple[RemoteItem, ...] = field(default=())


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def remote_order(payload: dict[str, Any], status: str, at: datetime, terminal: str) -> RemoteOrder:
    user = RemoteUser(int(payload["user_id"]), str(payload.get("username", "")))
    items = tuple(
        RemoteItem(
            int(line["product_id"]),
            RemoteProduct(int(line["product_id"]), str(line.get("name", "")), line.get("sku", "")),
            int(line["quantity"]),
            Decimal(line["unit_price"]),
            Decimal(line.get("line_total", Decimal(line["unit_price"]) * int(line["quantity"]))),
        )
        for line in payload.get("lines", ())
    )
    return RemoteOrder(
        id=int(payload["order_id"]),
        customer_id=payload.get("customer_id"),
        customer=RemoteCustomer(payload.get("customer_id"), user.id, user),
        total=Decimal(payload["total"]),
        status=status,
        placed_at=_aware(at),
        terminal=terminal,
        items=items,
    )


def remote_product(payload: dict[str, Any]) -> RemoteProduct:
    changes = payload.get("changes") or {}
    price = changes.get("unit_price")
    return RemoteProduct(
        int(payload["product_id"]),
        str(changes.get("name", "")),
        str(changes.get("sku", "")),
        Decimal(price) if price is not None else None,
        changes.get("inventory"),
    )


def send_remote(row: Row[Any], conn: Connection | None = None) -> None:
    """Replay one event of another till on the local signals (``remote=True`` receivers)."""
    payload = as_payload(row.payload)
    common = {"terminal": row.terminal, "event_id": row.id}
    if row.signal == "order_created":
        order = remote_order(payload, OrderStatus.PLACED, row.at, row.terminal)
        signals.order_created.send_remote(Order, order=order, **common)
    elif row.signal == "order_cancelled":
        order = remote_order(payload, OrderStatus.CANCELLED, row.at, row.terminal)
        signals.order_cancelled.send_remote(Order, order=order, **common)
    elif row.signal == "user_registered":
        user = RemoteUser(
            int(payload["user_id"]), payload.get("username", ""), payload.get("email", "")
        )
        signals.user_registered.send_remote(User, user=user, **common)
    elif row.signal == PRODUCT_CHANGED:
        product = remote_product(payload)
        if payload.get("action") == "deleted":
            signals.post_delete.send_remote(
                Product, instance=product, origin=None, using="default", **common
            )
        else:
            signals.post_save.send_remote(
                Product,
                instance=product,
                created=payload.get("action") == "added",
                raw=False,
                using="default",
                update_fields=None,
                changed_fields=frozenset((payload.get("changes") or {}).keys()),
                **common,
            )
