"""SQLAlchemy 2 typed models, and the ORM events that send the model signals.

Model signals follow Django's semantics: they are sent with ``send`` inside
the flush, so a receiver's exception aborts the save and the transaction
rolls back. ``pre_save``/``pre_delete`` are sent from the mapper events (the
receiver may change the instance's own columns, nothing else); ``post_save``
/``post_delete`` are queued by the mapper events and sent from the session's
``after_flush_postexec`` event, where receivers may ``session.add()`` related
objects (SQLAlchemy forbids that inside mapper events). Objects added there
are flushed before the transaction commits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
    event,
    inspect,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    object_session,
    relationship,
)
from sqlalchemy.types import TypeDecorator

from storeapp.domain import signals

CENT = Decimal("0.01")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_money(value: Any) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


class Money(TypeDecorator[Decimal]):
    """A Decimal amount stored exactly, as integer cents."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        return int(to_money(value) * 100)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(value) / 100).quantize(CENT)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no time zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    # Deferred: loaded only to check a password, so no query that lists
    # users (and no SQL log of its rows) ever carries the hash.
    password_hash: Mapped[str] = mapped_column(String(255), deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    customer: Mapped[Customer | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", uselist=False
    )

    def __repr__(self) -> str:  # never the password hash
        return f"<User id={self.id} username={self.username!r}>"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    membership: Mapped[str] = mapped_column(String(20), default="bronze")
    phone: Mapped[str | None] = mapped_column(String(40), default=None)

    user: Mapped[User] = relationship(back_populates="customer")
    orders: Mapped[list[Order]] = relationship(back_populates="customer")

    def __repr__(self) -> str:
        return f"<Customer id={self.id} user_id={self.user_id}>"


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (CheckConstraint("inventory >= 0", name="inventory_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit_price: Mapped[Decimal] = mapped_column(Money)
    inventory: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<Product id={self.id} sku={self.sku!r} inventory={self.inventory}>"


class Cart(Base):
    __tablename__ = "carts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    items: Mapped[list[CartItem]] = relationship(
        back_populates="cart", cascade="all, delete-orphan", order_by="CartItem.id"
    )

    @property
    def total(self) -> Decimal:
        return sum((i.line_total for i in self.items), Decimal("0.00"))

    def __repr__(self) -> str:
        return f"<Cart id={self.id}>"


class CartItem(Base):
    __tablename__ = "cart_items"
    __table_args__ = (
        UniqueConstraint("cart_id", "product_id"),
        CheckConstraint("quantity >= 1", name="cart_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cart_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("carts.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    cart: Mapped[Cart] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def line_total(self) -> Decimal:
        return to_money(self.product.unit_price * self.quantity)

    def __repr__(self) -> str:
        return f"<CartItem product_id={self.product_id} quantity={self.quantity}>"


class OrderStatus:
    PLACED = "placed"
    CANCELLED = "cancelled"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(20), default=OrderStatus.PLACED)
    total: Mapped[Decimal] = mapped_column(Money)

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )

    def __repr__(self) -> str:
        return f"<Order id={self.id} status={self.status} total={self.total}>"


class OrderItem(Base):
    __tablename__ = "order_items"
    __table_args__ = (CheckConstraint("quantity >= 1", name="order_quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[int] = mapped_column(Integer)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def line_total(self) -> Decimal:
        return to_money(self.unit_price * self.quantity)

    def __repr__(self) -> str:
        return (
            f"<OrderItem product_id={self.product_id} quantity={self.quantity} "
            f"unit_price={self.unit_price}>"
        )


class Event(Base):
    """One row of the event log: a custom signal (or a product change) as committed.

    Appended in the same transaction as the change it describes (never by the
    ORM: :mod:`storeapp.domain.events.log` writes it with a prebuilt INSERT,
    so no model signal is sent for it), so a rollback leaves no row and a
    commit always leaves one. Rows are never updated or deleted; with
    ``sqlite_autoincrement`` an id is never handed out twice.
    """

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The signal's name (``order_created``), or ``product_changed``.
    signal: Mapped[str] = mapped_column(String(100))
    #: The sender's model name (``Order``).
    sender: Mapped[str] = mapped_column(String(100))
    #: Ids and the few values a receiver needs (see the log's payload builders).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: The till that wrote it (``STOREAPP_TERMINAL``, else the host name).
    terminal: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Event id={self.id} signal={self.signal} sender={self.sender}>"


# --------------------------------------------------------------------------
# Model signals
# --------------------------------------------------------------------------

_QUEUE = "storeapp.post_signals"
_ORIGINS = "storeapp.delete_origins"


#: Django's ``using``: the database alias a model signal's save went to.
#: storeapp has one database, named as Django names its first.
USING = "default"


def save_kwargs(
    instance: Any, created: bool | None = None, changed_fields: frozenset[str] | None = None
) -> dict[str, Any]:
    """The keyword arguments of a ``pre_save`` (``created`` None) or
    ``post_save`` of ``instance``, as Django passes them, plus storeapp's
    ``changed_fields`` for an update. Every sender of a save signal builds
    them here: the ORM events below and checkout's statements alike."""
    kwargs: dict[str, Any] = {"instance": instance}
    if created is not None:
        kwargs["created"] = created
    kwargs["raw"] = False
    kwargs["using"] = USING
    kwargs["update_fields"] = None
    if changed_fields is not None:
        kwargs["changed_fields"] = changed_fields
    return kwargs


def delete_kwargs(instance: Any, origin: Any) -> dict[str, Any]:
    """The keyword arguments of a ``pre_delete``/``post_delete`` of
    ``instance``, as Django passes them (``origin``: the object whose
    deletion was asked for)."""
    return {"instance": instance, "origin": origin, "using": USING}


def _queue(target: Any) -> list[tuple[signals.Signal, Any, dict[str, Any]]]:
    session = object_session(target)
    if session is None:  # pragma: no cover - flush always has a session
        return []
    return session.info.setdefault(_QUEUE, [])


def _changed_fields(target: Any) -> frozenset[str]:
    state = inspect(target)
    return frozenset(
        attr.key
        for attr in state.mapper.column_attrs
        if state.attrs[attr.key].history.has_changes()
    )


@event.listens_for(Base, "before_insert", propagate=True)
def _before_insert(mapper: Any, connection: Any, target: Any) -> None:
    signals.pre_save.send(type(target), **save_kwargs(target))


@event.listens_for(Base, "after_insert", propagate=True)
def _after_insert(mapper: Any, connection: Any, target: Any) -> None:
    _queue(target).append((signals.post_save, type(target), save_kwargs(target, created=True)))


@event.listens_for(Base, "before_update", propagate=True)
def _before_update(mapper: Any, connection: Any, target: Any) -> None:
    fields = _changed_fields(target)
    if not fields:
        return
    target.__dict__["_storeapp_update_fields"] = fields
    signals.pre_save.send(type(target), **save_kwargs(target, changed_fields=fields))


@event.listens_for(Base, "after_update", propagate=True)
def _after_update(mapper: Any, connection: Any, target: Any) -> None:
    fields = target.__dict__.pop("_storeapp_update_fields", None)
    if fields is None:
        return
    _queue(target).append(
        (signals.post_save, type(target), save_kwargs(target, created=False, changed_fields=fields))
    )


def _origin(target: Any) -> Any:
    """The object whose deletion was asked for (Django's ``origin``).

    A cascaded delete (a cart's items when the cart is deleted) reports the
    cart; an object deleted for itself (or as an orphan) reports itself.
    """
    session = object_session(target)
    origins = session.info.get(_ORIGINS) if session is not None else None
    if not origins:
        return target
    return origins.get(inspect(target), target)


@event.listens_for(Base, "before_delete", propagate=True)
def _before_delete(mapper: Any, connection: Any, target: Any) -> None:
    signals.pre_delete.send(type(target), **delete_kwargs(target, _origin(target)))


@event.listens_for(Base, "after_delete", propagate=True)
def _after_delete(mapper: Any, connection: Any, target: Any) -> None:
    _queue(target).append(
        (signals.post_delete, type(target), delete_kwargs(target, _origin(target)))
    )


@event.listens_for(Session, "before_flush")
def _record_delete_origins(session: Session, flush_context: Any, instances: Any) -> None:
    # session.deleted already holds the objects reached by delete cascades:
    # map each of them to the deleted object the cascade started from.
    deleted = {inspect(obj): obj for obj in session.deleted}
    if not deleted:
        session.info.pop(_ORIGINS, None)
        return
    reached = {state: _cascaded(state) for state in deleted}
    cascaded = set().union(*reached.values())
    origins: dict[Any, Any] = {}
    for state, obj in deleted.items():
        if state in cascaded:
            continue
        origins[state] = obj
        for child in reached[state]:
            if child in deleted:
                origins.setdefault(child, obj)
    session.info[_ORIGINS] = origins


def _cascaded(state: Any) -> set[Any]:
    """States reached from ``state`` through relationships that cascade delete."""
    return {
        child_state
        for _obj, _mapper, child_state, _dict in state.mapper.cascade_iterator("delete", state)
    }


class SignalSession(Session):
    """A session that sends the queued post_save/post_delete once a flush is over.

    SQLAlchemy's ``after_flush_postexec`` runs while the session is still
    flushing, where a receiver cannot save anything itself: what it adds
    waits for the next flush, and its sends come out after the receiver
    returned. Sent here instead, after the flush, a receiver can save as
    Django's does (``Customer.objects.create(user=instance)`` inside
    ``post_save``): its flush sends the new object's pre_save and post_save
    *inside* the receiver's send, so the inspector nests them under it.
    Every flush goes through here: autoflush, ``commit()``'s and the unit
    of work's.
    """

    def flush(self, objects: Any = None) -> None:
        super().flush(objects)
        if not self._flushing:
            send_post_signals(self)


def send_post_signals(session: Session) -> None:
    """Send the post_save/post_delete the last flush queued, in its order."""
    queued = session.info.pop(_QUEUE, None)
    session.info.pop(_ORIGINS, None)
    if not queued:
        return
    for signal, sender, kwargs in queued:
        signal.send(sender, **kwargs)


@event.listens_for(Session, "after_flush_postexec")
def _send_post_signals(session: Session, flush_context: Any) -> None:
    # A plain Session (a script's, a test's) sends them at the end of the
    # flush as before; a SignalSession after it.
    if not isinstance(session, SignalSession):
        send_post_signals(session)


@event.listens_for(Session, "after_rollback")
def _forget_queue(session: Session) -> None:
    session.info.pop(_QUEUE, None)
    session.info.pop(_ORIGINS, None)
