"""The event log (a transactional outbox): one row per custom signal, in the change's transaction.

The services call one of the recorders below next to their ``send_robust``:
the row is written through the unit of work's own connection, so it commits
with the change or rolls back with it, never one without the other. Rows are
appended with a prebuilt Core INSERT (no ORM flush, no model signal) and
read back by id: ``id > last`` is a cursor that resumes without a gap.

On SQLite writers take the lock at BEGIN (BEGIN IMMEDIATE), so ids are
handed out in commit order and a reader polling ``id > last`` never skips a
row. On PostgreSQL ids come from a sequence, whose order is not commit
order (A takes id 1, B takes 2 and commits first: a reader that saw 2 never
looks back for 1), so an append first takes a transaction-level advisory
lock (:data:`APPEND_LOCK`), held until the commit: appends are serialised
from the event to the commit, and ids are again handed out in commit order.
(eventsourcing's PostgreSQL recorder locks the table for the same reason.)

A payload holds ids and the few values a receiver needs, as JSON: money as
a string (``"7.90"``), never a float.

* ``user_registered`` (sender ``User``): ``user_id``, ``username``, ``email``.
* ``order_created`` (sender ``Order``): ``order_id``, ``customer_id``,
  ``user_id``, ``username``, ``email`` (the buyer, for the confirmation
  email), ``total``, ``lines``: each ``product_id``, ``sku``, ``name``,
  ``quantity``, ``unit_price``, ``line_total``. The stock checkout took is
  implied by the lines; it has no ``product_changed`` of its own. (The
  buyer and the product names cost no query: checkout loaded them.)
* ``order_cancelled`` (sender ``Order``): the same keys; the lines went
  back to stock (again no ``product_changed``).
* ``product_changed`` (sender ``Product``; no in-process signal of its own,
  ``post_save``/``post_delete`` say it there): ``product_id``, ``action``
  (``added``, ``updated``, ``deleted``) and ``changes``, the new values of
  what changed (``sku``, ``name``, ``unit_price``, ``inventory``; all of them
  when added, none when deleted).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Table, Text, bindparam, func, insert, literal, select
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from storeapp.domain import terminal as terminals
from storeapp.domain.models import Event, Order, OrderItem, Product, User, utcnow

EVENTS = cast(Table, Event.__table__)
#: Built once: building a statement per call costs more than running it.
INSERT_EVENT = insert(EVENTS)
SELECT_AFTER = (
    select(
        EVENTS.c.id,
        EVENTS.c.signal,
        EVENTS.c.sender,
        EVENTS.c.terminal,
        EVENTS.c.at,
        EVENTS.c.payload,
    )
    .where(EVENTS.c.id > bindparam("after"))
    .order_by(EVENTS.c.id)
    .limit(bindparam("limit"))
)

#: PostgreSQL only: the advisory lock an append holds until its transaction ends.
APPEND_LOCK = select(func.pg_advisory_xact_lock(0x5709E_0002))

#: PostgreSQL only: the channel every append notifies, with the event's id
#: alone. A notification is a wake-up, not the event: it is delivered only
#: at commit, lost while a listener is disconnected, and folded when equal,
#: so a listener reads the table from its cursor (:mod:`.follow`).
CHANNEL = "storeapp_events"
_INSERTED = (
    insert(EVENTS)
    .values(
        {
            name: bindparam(name, type_=EVENTS.c[name].type)
            for name in ("signal", "sender", "payload", "terminal", "at")
        }
    )
    .returning(EVENTS.c.id)
    .cte("appended")
)
#: PostgreSQL only: the INSERT and its NOTIFY in one statement (one round trip).
INSERT_AND_NOTIFY = select(
    func.pg_notify(literal(CHANNEL), sa.cast(_INSERTED.c.id, Text))
).select_from(_INSERTED)

PRODUCT_CHANGED = "product_changed"
PRODUCT_VALUES = ("sku", "name", "unit_price", "inventory")

#: Whether the services append to the log. Switched off only by the
#: benchmark, for its baseline (``bench/orders.py``); the app never does.
enabled = True


def terminal() -> str:
    """This process's default till name: ``STOREAPP_TERMINAL``, else the host name
    (an event is stamped with its Store's terminal: :func:`append`)."""
    return terminals.from_environment()


def append(session: Session, signal: str, sender: type | str, payload: dict[str, Any]) -> None:
    """Write one event in ``session``'s transaction (committed or rolled back with it)."""
    conn = session.connection()
    values = {
        "signal": signal,
        "sender": sender if isinstance(sender, str) else sender.__name__,
        "payload": payload,
        "terminal": terminals.of_session(session),
        "at": utcnow(),
    }
    if conn.dialect.name == "postgresql":
        conn.execute(APPEND_LOCK)  # ids in commit order: see the module's doc
        conn.execute(INSERT_AND_NOTIFY, values)  # other tills wake at the commit
    else:
        conn.execute(INSERT_EVENT, values)


# -- payloads ------------------------------------------------------------------------


def _money(value: Decimal) -> str:
    return str(value)


def _plain(value: Any) -> Any:
    return _money(value) if isinstance(value, Decimal) else value


def user_payload(user: User) -> dict[str, Any]:
    return {"user_id": user.id, "username": user.username, "email": user.email}


def lines_payload(items: Iterable[OrderItem]) -> list[dict[str, Any]]:
    return [
        {
            "product_id": item.product_id,
            "sku": item.product.sku,
            "name": item.product.name,
            "quantity": item.quantity,
            "unit_price": _money(item.unit_price),
            "line_total": _money(item.line_total),
        }
        for item in items
    ]


def order_payload(order: Order) -> dict[str, Any]:
    """For ``order_created`` and ``order_cancelled`` alike."""
    user = order.customer.user
    return {
        "order_id": order.id,
        "customer_id": order.customer_id,
        "user_id": user.id,
        "username": user.username,
        "email": user.email,
        "total": _money(order.total),
        "lines": lines_payload(order.items),
    }


def product_payload(product: Product, action: str, fields: Sequence[str]) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "action": action,
        "changes": {name: _plain(getattr(product, name)) for name in fields},
    }


# -- the services' one-liners ----------------------------------------------------------


def user_registered(session: Session, user: User) -> None:
    if enabled:
        append(session, "user_registered", User, user_payload(user))


def order_created(session: Session, order: Order) -> None:
    if enabled:
        append(session, "order_created", Order, order_payload(order))


def order_cancelled(session: Session, order: Order) -> None:
    if enabled:
        append(session, "order_cancelled", Order, order_payload(order))


def product_added(session: Session, product: Product) -> None:
    if enabled:
        append(session, PRODUCT_CHANGED, Product, product_payload(product, "added", PRODUCT_VALUES))


def product_updated(session: Session, product: Product, fields: Iterable[str]) -> None:
    """``fields``: the names whose value changed; nothing is written if none did."""
    wanted = set(fields)
    changed = [name for name in PRODUCT_VALUES if name in wanted]
    if enabled and changed:
        append(session, PRODUCT_CHANGED, Product, product_payload(product, "updated", changed))


def product_deleted(session: Session, product: Product) -> None:
    if enabled:
        append(session, PRODUCT_CHANGED, Product, product_payload(product, "deleted", ()))


# -- reading -----------------------------------------------------------------------------


def read_after(conn: Connection, after: int = 0, limit: int = 1000) -> list[Row[Any]]:
    """Up to ``limit`` events with ``id > after``, oldest first: a cursor's next page.

    Each row has ``id``, ``signal``, ``sender``, ``terminal``, ``at`` (an aware
    UTC datetime) and ``payload`` (a dict).
    """
    return list(conn.execute(SELECT_AFTER, {"after": after, "limit": limit}))


def as_json_dict(row: Row[Any]) -> dict[str, Any]:
    """An event as the ``storeapp events`` command prints it."""
    at: datetime = row.at
    return {
        "id": row.id,
        "signal": row.signal,
        "sender": row.sender,
        "terminal": row.terminal,
        "at": at.isoformat(),
        "payload": row.payload,
    }
