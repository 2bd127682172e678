"""SQLAlchemy 2 typed models. The ORM events that send the model signals
for them are in :mod:`storeapp.domain.model_signals`, imported at the end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    mapped_column,
    relationship,
)
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_money(value: Any) -> Decimal:
    money = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return abs(money) if money.is_zero() else money  # -0.00 is 0.00


#: Ids (and every other ``Mapped[int]`` without a type of its own): 64-bit on
#: PostgreSQL, as on SQLite, where an INTEGER primary key must stay INTEGER
#: to be the rowid (BIGINT would not autoincrement).
BigId = BigInteger().with_variant(Integer, "sqlite")


class Money(TypeDecorator[Decimal]):
    """A Decimal amount stored exactly, as integer cents (64-bit: a price may
    reach :data:`~storeapp.domain.store.validation.MAX_PRICE`)."""

    impl = BigInteger
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
    type_annotation_map = {int: BigId}


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # The database refuses a second ``ÉLODIE`` beside ``élodie`` (or
        # ``ａｄｍｉｎ`` beside ``admin``), on every backend and under races:
        # each key is the caseless form the services compute
        # (validation.username_key / email_key).
        Index("ix_users_username_key", "username_key", unique=True),
        Index("ix_users_email_key", "email_key", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: NULL only in a row migrated from an older database whose key another
    #: row already had (reported when the database is opened; see
    #: :func:`storeapp.domain.store.database.backfill_identity_keys`).
    username_key: Mapped[str | None] = mapped_column(String(600), default=None)
    email_key: Mapped[str | None] = mapped_column(String(600), default=None)
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
    #: The till that placed it (the Store's terminal name); NULL for orders
    #: placed before storeapp recorded it (the column is added on open).
    terminal: Mapped[str | None] = mapped_column(String(64), default=None)

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


# The model signals' ORM events, registered once the models exist.
from storeapp.domain import model_signals  # noqa: E402, F401
