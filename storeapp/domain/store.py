"""The application services: one unit of work (one transaction) per use case.

``Store`` is thread-safe: every call opens its own session. Everything it
returns is detached with the relationships a caller needs already loaded, so
``order.customer.user.username`` or ``order.items[0].product.name`` work in a
receiver, in a worker thread and in the UI after the session has closed.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import (
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import (
    Session,
    contains_eager,
    make_transient_to_detached,
    selectinload,
    sessionmaker,
    undefer,
)
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.pool import StaticPool

from storeapp.domain import dispatch, passwords, signals
from storeapp.domain.dispatch import safe_repr
from storeapp.domain.errors import (
    DuplicateUser,
    EmptyCart,
    InvalidState,
    NotFound,
    OutOfStock,
    ValidationError,
)
from storeapp.domain.models import (
    Base,
    Cart,
    CartItem,
    Customer,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    User,
    to_money,
    utcnow,
)

logger = logging.getLogger("storeapp.store")
T = TypeVar("T")

USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z")
MAX_ID = 2**63 - 1
MAX_QUANTITY = 10_000
MAX_INVENTORY = 1_000_000_000
MAX_PRICE = Decimal("1000000000")
MIN_PASSWORD = 8
PRODUCT_FIELDS = frozenset({"sku", "name", "unit_price", "inventory"})

# Statements of the checkout path, built once (building them per call costs
# more than running them).
_CART_LINES = (
    select(CartItem.quantity, Product)
    .join(Product, CartItem.product_id == Product.id)
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.id)
)
_CUSTOMER_WITH_USER = (
    select(Customer)
    .join(Customer.user)
    .options(contains_eager(Customer.user))
    .where(Customer.user_id == bindparam("user_id"))
)
_DELETE_CART_ITEMS = delete(CartItem.__table__).where(
    CartItem.__table__.c.cart_id == bindparam("cart_id")
)
_DELETE_CART = delete(Cart.__table__).where(Cart.__table__.c.id == bindparam("cart_id"))
_INSERT_ORDER = insert(Order.__table__).returning(Order.__table__.c.id)
_INSERT_ITEMS = insert(OrderItem.__table__).returning(
    OrderItem.__table__.c.id, sort_by_parameter_order=True
)


@functools.lru_cache(maxsize=32)
def _take_stock_statement(lines: int) -> Any:
    """``UPDATE products SET inventory = inventory - q WHERE id = :id AND
    inventory >= q`` for ``lines`` products at once (q chosen per id)."""
    table = Product.__table__
    amount = case(*[(table.c.id == bindparam(f"id{i}"), bindparam(f"q{i}")) for i in range(lines)])
    return (
        update(table)
        .where(
            table.c.id.in_([bindparam(f"id{i}") for i in range(lines)]), table.c.inventory >= amount
        )
        .values(inventory=table.c.inventory - amount)
        .returning(table.c.id, table.c.inventory)
    )


@dataclass(frozen=True)
class SalesSummary:
    orders: int
    revenue: Decimal

    @property
    def average(self) -> Decimal:
        if not self.orders:
            return Decimal("0.00")
        return to_money(self.revenue / self.orders)


# --------------------------------------------------------------------------
# Input checks: each raises ValidationError with a readable message
# --------------------------------------------------------------------------


def _text(value: Any, field: str, label: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{label} must be text.", field)
    value = value.strip()
    if not value:
        raise ValidationError(f"{label} is required.", field)
    if len(value) > max_len:
        raise ValidationError(f"{label} is too long (at most {max_len} characters).", field)
    if not value.isprintable():
        raise ValidationError(f"{label} contains characters that are not allowed.", field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{label} contains characters that are not allowed.", field) from None
    return value


def _int(value: Any, field: str, label: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{label} must be a whole number.", field)
    if value < low:
        raise ValidationError(f"{label} must be at least {low}.", field)
    if value > high:
        raise ValidationError(f"{label} must be at most {high:,}.", field)
    return value


def _price(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError("Price must be a number.", "unit_price")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidOperation
            value = repr(value)
        price = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError("Price must be a number, e.g. 4.99.", "unit_price") from None
    if not price.is_finite():
        raise ValidationError("Price must be a number, e.g. 4.99.", "unit_price")
    if price < 0:
        raise ValidationError("Price cannot be negative.", "unit_price")
    if price > MAX_PRICE:
        raise ValidationError("Price is too large.", "unit_price")
    if price != price.quantize(Decimal("0.01")):
        raise ValidationError("Price can have at most two decimal places.", "unit_price")
    return to_money(price)


def shown(value: Any, limit: int = 40) -> str:
    """A short, printable rendering of user input for an error message."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**limit:
        return "(a number that large)"
    text = safe_repr(value, limit)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _id(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} {shown(value)} does not exist.")
    return value


def _cart_id(value: Any) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        if isinstance(value, int) and not isinstance(value, bool) and value > 2**128:
            raise ValueError
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"Cart {shown(value)} does not exist.") from None


def _search(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("Search text must be text.", "search")
    value = value.strip()
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Search text contains characters that are not allowed.", "search"
        ) from None
    return value[:200] or None


def validate_registration(username: Any, email: Any, password: Any) -> tuple[str, str, str]:
    """Check a registration form; returns the cleaned username and email."""
    username = _text(username, "username", "Username", 150)
    if not USERNAME_RE.match(username):
        raise ValidationError("Username may contain only letters, digits and @ . + - _", "username")
    email = _text(email, "email", "Email", 254)
    if not EMAIL_RE.match(email):
        raise ValidationError("Enter a valid email address, e.g. ada@example.com.", "email")
    local, _, domain = email.rpartition("@")
    email = f"{local}@{domain.lower()}"
    if not isinstance(password, str) or not password:
        raise ValidationError("Password is required.", "password")
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"Password is too short (at least {MIN_PASSWORD} characters).", "password"
        )
    if len(password) > 1024:
        raise ValidationError("Password is too long.", "password")
    if password.isdigit():
        raise ValidationError("Password cannot be entirely numeric.", "password")
    if password.lower() == username.lower():
        raise ValidationError("Password cannot be the same as the username.", "password")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Password contains characters that are not allowed.", "password"
        ) from None
    return username, email, password


# --------------------------------------------------------------------------
# Unit of work
# --------------------------------------------------------------------------


class UnitOfWork:
    """One session and one transaction; rolls back on exit unless committed.

    After-commit receivers queued during the transaction run after the real
    commit (and after the session is closed), or are dropped on rollback.
    """

    def __init__(self, session: Session, defer_hooks: bool = False) -> None:
        self.session = session
        #: If true the owner runs take_hooks() itself (the Store does, once
        #: it has released the database and its per-thread guard).
        self.defer_hooks = defer_hooks
        self._open = False
        self._hooks: list[Any] = []

    def __enter__(self) -> UnitOfWork:
        dispatch.begin()
        self._open = True
        return self

    def flush(self) -> None:
        """Flush until clean: post_save receivers may have added objects."""
        session = self.session
        for _ in range(100):
            session.flush()
            if not (session.new or session.dirty or session.deleted):
                return

    def commit(self) -> None:
        if not self._open:
            # A second commit would close a hook scope that is not ours (an
            # enclosing transaction's) or fail on an empty stack.
            raise RuntimeError("This unit of work is not open (already committed?).")
        self.session.commit()
        self._open = False
        self._hooks = dispatch.end(True)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: rolled back alone, with its after-commit hooks."""
        # SQLAlchemy's context manager releases the savepoint on success and
        # rolls it back on error, including when releasing it fails (the
        # release flushes, and the flush may violate a constraint); either
        # way this savepoint's hook scope is closed exactly once.
        dispatch.begin()
        try:
            with self.session.begin_nested():
                yield
        except BaseException:
            dispatch.end(False)
            raise
        else:
            dispatch.end(True)

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if self._open:
                self._open = False
                dispatch.end(False)
                self.session.rollback()
        finally:
            self.session.close()
        if not self.defer_hooks:
            dispatch.run_hooks(self.take_hooks())

    def take_hooks(self) -> list[Any]:
        """The after-commit hooks of a committed unit of work (once)."""
        hooks, self._hooks = self._hooks, []
        return hooks


# --------------------------------------------------------------------------
# Store
# --------------------------------------------------------------------------


class _RedactPasswordHashes(logging.Filter):
    """SQL logging (echo, or DEBUG on sqlalchemy.engine) prints fetched rows;
    the one query that must fetch a hash (authenticate) would log it."""

    PATTERN = re.compile(r"scrypt\$[^'\",)\s]+")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        if "scrypt$" in message:
            record.msg = self.PATTERN.sub("scrypt$<redacted>", message)
            record.args = ()
        return True


logging.getLogger("sqlalchemy.engine.Engine").addFilter(_RedactPasswordHashes())


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling breaks
        # SAVEPOINT and would take the write lock too late).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA busy_timeout = 30000")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: no deadlock upgrading a read lock,
        # and the busy timeout applies.
        if conn.get_execution_options().get("storeapp_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Store:
    """The application services of the point of sale."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url
        self._is_sqlite = engine.dialect.name == "sqlite"
        self._memory = self._is_sqlite and engine.url.database in (None, "", ":memory:")
        # One connection is shared for in-memory SQLite: serialise its use.
        self._serial = threading.RLock() if self._memory else None
        self._local = threading.local()
        write_bind = engine.execution_options(storeapp_write=True)
        self._write = sessionmaker(bind=write_bind, expire_on_commit=False, autoflush=True)
        self._read = sessionmaker(bind=engine, expire_on_commit=False)

    @classmethod
    def open(cls, url: str, *, echo: bool = False) -> Store:
        """Open (and create the schema of) the database at SQLAlchemy ``url``."""
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise ValidationError(f"Not a database URL: {url!r} ({exc}).", "db") from None
        # hide_parameters: SQL logs and error messages never carry values
        # (a password hash is one).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if parsed.get_backend_name() == "sqlite":
            if parsed.database in (None, "", ":memory:"):
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            else:
                kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        engine = create_engine(parsed, **kwargs)
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        Base.metadata.create_all(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"<Store {self.url.render_as_string(hide_password=True)}>"

    # -- sessions ------------------------------------------------------------

    @contextmanager
    def _serialised(self) -> Iterator[None]:
        if self._serial is None:
            yield
        else:
            with self._serial:
                yield

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """A write transaction (BEGIN IMMEDIATE on SQLite).

        One per thread at a time: a receiver running inside a transaction
        that tried to write through the store would wait for the lock its own
        thread holds. It gets a clear error instead (connect it with
        ``on_commit=True`` to write after the commit).
        """
        if getattr(self._local, "writing", False):
            raise RuntimeError(
                "Store write inside another Store transaction on the same thread; "
                "a receiver that writes must be connected with on_commit=True."
            )
        self._local.writing = True
        uow = None
        try:
            with self._serialised():
                try:
                    with UnitOfWork(self._write(), defer_hooks=True) as uow:
                        yield uow
                except OperationalError as exc:
                    if "locked" in str(exc).lower():
                        raise InvalidState(
                            "The database is busy; please try again in a moment."
                        ) from exc
                    raise
        finally:
            self._local.writing = False
        # After-commit receivers run outside the transaction and the guard:
        # they may write through the store themselves.
        dispatch.run_hooks(uow.take_hooks())

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        with self._serialised():
            session = self._read()
            try:
                yield session
            finally:
                session.close()  # not rollback(): that would expire what we return

    # -- users ---------------------------------------------------------------

    def register_user(self, username: str, email: str, password: str) -> User:
        """Create a user; ``user_registered`` is sent inside the transaction."""
        username, email, password = validate_registration(username, email, password)
        encoded = passwords.make_password(password)  # slow: outside the lock
        with self.unit_of_work() as uow:
            s = uow.session
            self._check_unique(s, username, email)
            user = User(username=username, email=email, password_hash=encoded)
            s.add(user)
            try:
                uow.flush()
            except IntegrityError:
                raise DuplicateUser(
                    "That username or email is already registered.", "username"
                ) from None
            signals.user_registered.send_robust(User, user=user)
            uow.flush()
            if user.customer is not None:  # load it while the session is open
                set_committed_value(user.customer, "user", user)
            uow.commit()
        return user

    @staticmethod
    def _check_unique(s: Session, username: str, email: str) -> None:
        taken = s.execute(
            select(User.username, User.email).where(
                (func.lower(User.username) == username.lower())
                | (func.lower(User.email) == email.lower())
            )
        ).first()
        if taken is not None:
            if taken.username.lower() == username.lower():
                raise DuplicateUser(f"The username {username!r} is already taken.", "username")
            raise DuplicateUser(f"The email {email!r} is already registered.", "email")

    def authenticate(self, username: str, password: str) -> User | None:
        if not isinstance(username, str) or not isinstance(password, str):
            return None
        try:
            username.encode("utf-8")
            password.encode("utf-8")
        except UnicodeEncodeError:
            return None
        with self._reading() as s:
            user = s.scalar(
                select(User)
                .options(undefer(User.password_hash))
                .where(User.username == username.strip())
            )
        if user is None:
            passwords.check_password(password, passwords.make_password("x" * 8))
            return None
        return user if passwords.check_password(password, user.password_hash) else None

    def get_customer(self, user_id: int) -> Customer:
        user_id = _id(user_id, "User")
        with self._reading() as s:
            user = s.get(User, user_id)
            if user is None:
                raise NotFound(f"User {user_id} does not exist.")
            customer = s.scalar(
                select(Customer)
                .where(Customer.user_id == user_id)
                .options(selectinload(Customer.user))
            )
            if customer is None:
                raise NotFound(
                    f"User {user.username!r} has no customer profile "
                    "(is the core listener loaded?)."
                )
            return customer

    def list_customers(self) -> list[Customer]:
        with self._reading() as s:
            return list(
                s.scalars(
                    select(Customer)
                    .join(Customer.user)
                    .options(selectinload(Customer.user))
                    .order_by(User.username)
                )
            )

    # -- products ------------------------------------------------------------

    def add_product(self, sku: str, name: str, unit_price: Any, inventory: int) -> Product:
        sku = _text(sku, "sku", "SKU", 40)
        name = _text(name, "name", "Name", 200)
        price = _price(unit_price)
        inventory = _int(inventory, "inventory", "Stock", 0, MAX_INVENTORY)
        with self.unit_of_work() as uow:
            s = uow.session
            if s.scalar(select(Product.id).where(Product.sku == sku)) is not None:
                raise ValidationError(f"A product with SKU {sku!r} already exists.", "sku")
            product = Product(sku=sku, name=name, unit_price=price, inventory=inventory)
            s.add(product)
            uow.flush()
            uow.commit()
        return product

    def update_product(self, product_id: int, **changes: Any) -> Product:
        product_id = _id(product_id, "Product")
        unknown = set(changes) - PRODUCT_FIELDS
        if unknown:
            names = sorted(shown(k, 30) for k in unknown)
            raise ValidationError(
                f"Unknown product field(s): {', '.join(names)}. "
                f"Allowed: {', '.join(sorted(PRODUCT_FIELDS))}.",
                "product",
            )
        clean: dict[str, Any] = {}
        if "sku" in changes:
            clean["sku"] = _text(changes["sku"], "sku", "SKU", 40)
        if "name" in changes:
            clean["name"] = _text(changes["name"], "name", "Name", 200)
        if "unit_price" in changes:
            clean["unit_price"] = _price(changes["unit_price"])
        if "inventory" in changes:
            clean["inventory"] = _int(changes["inventory"], "inventory", "Stock", 0, MAX_INVENTORY)
        with self.unit_of_work() as uow:
            s = uow.session
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            if "sku" in clean and clean["sku"] != product.sku:
                if s.scalar(select(Product.id).where(Product.sku == clean["sku"])) is not None:
                    raise ValidationError(
                        f"A product with SKU {clean['sku']!r} already exists.", "sku"
                    )
            for key, value in clean.items():
                setattr(product, key, value)
            uow.flush()
            uow.commit()
        return product

    def delete_product(self, product_id: int) -> None:
        product_id = _id(product_id, "Product")
        with self.unit_of_work() as uow:
            s = uow.session
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            if s.scalar(select(OrderItem.id).where(OrderItem.product_id == product_id).limit(1)):
                raise InvalidState(
                    f"{product.name!r} appears in past orders and cannot be deleted; "
                    "set its stock to 0 instead."
                )
            for item in s.scalars(select(CartItem).where(CartItem.product_id == product_id)):
                s.delete(item)
            s.delete(product)
            uow.flush()
            uow.commit()

    def get_product(self, product_id: int) -> Product:
        product_id = _id(product_id, "Product")
        with self._reading() as s:
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            return product

    def list_products(self, search: str | None = None) -> list[Product]:
        with self._reading() as s:
            query = select(Product).order_by(Product.name, Product.id)
            search = _search(search)
            if search:
                pattern = f"%{search}%"
                query = query.where(Product.name.ilike(pattern) | Product.sku.ilike(pattern))
            return list(s.scalars(query))

    # -- carts ---------------------------------------------------------------

    def create_cart(self) -> Cart:
        with self.unit_of_work() as uow:
            cart = Cart()
            uow.session.add(cart)
            uow.flush()
            set_committed_value(cart, "items", [])
            uow.commit()
        return cart

    def _load_cart(self, s: Session, cart_id: uuid.UUID) -> Cart:
        cart = s.get(
            Cart,
            cart_id,
            options=[selectinload(Cart.items).selectinload(CartItem.product)],
            populate_existing=True,
        )
        if cart is None:
            raise NotFound(f"Cart {cart_id} does not exist.")
        return cart

    def get_cart(self, cart_id: Any) -> Cart:
        cart_id = _cart_id(cart_id)
        with self._reading() as s:
            return self._load_cart(s, cart_id)

    def add_to_cart(self, cart_id: Any, product_id: int, quantity: int = 1) -> Cart:
        """Add ``quantity`` of a product (adds to a line already there)."""
        cart_id = _cart_id(cart_id)
        product_id = _id(product_id, "Product")
        quantity = _int(quantity, "quantity", "Quantity", 1, MAX_QUANTITY)
        return self._set_line(cart_id, product_id, quantity, add=True)

    def set_cart_quantity(self, cart_id: Any, product_id: int, quantity: int) -> Cart:
        """Set a cart line's quantity (0 removes the line)."""
        cart_id = _cart_id(cart_id)
        product_id = _id(product_id, "Product")
        quantity = _int(quantity, "quantity", "Quantity", 0, MAX_QUANTITY)
        if quantity == 0:
            return self.remove_from_cart(cart_id, product_id)
        return self._set_line(cart_id, product_id, quantity, add=False)

    def _set_line(self, cart_id: uuid.UUID, product_id: int, quantity: int, add: bool) -> Cart:
        with self.unit_of_work() as uow:
            s = uow.session
            cart = self._load_cart(s, cart_id)
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            item = next((i for i in cart.items if i.product_id == product_id), None)
            wanted = quantity + (item.quantity if item is not None and add else 0)
            if wanted > MAX_QUANTITY:
                raise ValidationError(f"Quantity must be at most {MAX_QUANTITY:,}.", "quantity")
            if wanted > product.inventory:
                raise OutOfStock(product.name, wanted, product.inventory)
            if item is None:
                cart.items.append(CartItem(product=product, quantity=wanted))
            else:
                item.quantity = wanted
            uow.flush()
            uow.commit()
        return cart

    def remove_from_cart(self, cart_id: Any, product_id: int) -> Cart:
        cart_id = _cart_id(cart_id)
        product_id = _id(product_id, "Product")
        with self.unit_of_work() as uow:
            s = uow.session
            cart = self._load_cart(s, cart_id)
            item = next((i for i in cart.items if i.product_id == product_id), None)
            if item is None:
                raise NotFound(f"Product {product_id} is not in this cart.")
            cart.items.remove(item)
            uow.flush()
            uow.commit()
        return cart

    # -- orders --------------------------------------------------------------

    def place_order(self, cart_id: Any, user_id: int) -> Order:
        """Turn a cart into an order, in one transaction.

        Stock is decremented with a guarded UPDATE (never below zero, even
        with concurrent writers); if any line cannot be filled, ``OutOfStock``
        is raised and nothing is written. ``order_created`` is sent with
        ``send_robust`` before the commit.
        """
        cart_id = _cart_id(cart_id)
        user_id = _id(user_id, "User")
        with self.unit_of_work() as uow:
            s = uow.session
            # One query for the lines and their products, one for the buyer.
            lines = s.execute(_CART_LINES, {"cart_id": cart_id}).all()
            if not lines:
                if s.get(Cart, cart_id) is None:
                    raise NotFound(f"Cart {cart_id} does not exist.")
                raise EmptyCart("The cart is empty: add a product before checking out.")
            customer = s.scalar(_CUSTOMER_WITH_USER, {"user_id": user_id})
            if customer is None:
                if s.get(User, user_id) is None:
                    raise NotFound(f"User {user_id} does not exist.")
                raise NotFound(
                    f"User {user_id} has no customer profile (is the core listener loaded?)."
                )
            self._take_stock(s, lines)
            order = self._insert_order(s, customer, lines)
            self._delete_cart(s, cart_id)
            uow.flush()
            signals.order_created.send_robust(Order, order=order)
            uow.flush()
            uow.commit()
        return order

    @staticmethod
    def _insert_order(s: Session, customer: Customer, lines: Sequence[Any]) -> Order:
        """Write the order and its items.

        Through the ORM (so pre_save/post_save are sent for each row) when
        anyone listens to those for Order or OrderItem; otherwise, like
        Django's fast paths, two INSERT statements, and the Order handed to
        receivers is built from what was written (detached, fully loaded).
        """
        if any(
            sig.has_listeners(model)
            for sig in (signals.pre_save, signals.post_save)
            for model in (Order, OrderItem)
        ):
            items = [
                OrderItem(product=product, unit_price=product.unit_price, quantity=quantity)
                for quantity, product in lines
            ]
            total = sum((i.line_total for i in items), Decimal("0.00"))
            order = Order(customer=customer, total=total, items=items)
            s.add(order)
            return order
        total = sum((to_money(p.unit_price * q) for q, p in lines), Decimal("0.00"))
        placed_at = utcnow()
        conn = s.connection()
        order_id = conn.execute(
            _INSERT_ORDER,
            {
                "customer_id": customer.id,
                "placed_at": placed_at,
                "status": OrderStatus.PLACED,
                "total": total,
            },
        ).scalar_one()
        item_ids = (
            conn.execute(
                _INSERT_ITEMS,
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

    @staticmethod
    def _take_stock(s: Session, lines: Sequence[Any]) -> None:
        """Decrement stock for every line in ONE guarded UPDATE.

        Each row is updated only if it has enough stock
        (``inventory >= quantity``), so concurrent writers can never oversell;
        if fewer rows than lines were updated, ``OutOfStock`` names the first
        line that could not be filled (the caller's rollback undoes the rest).
        """
        table = Product.__table__
        params: dict[str, Any] = {}
        for i, (quantity, product) in enumerate(lines):
            params[f"id{i}"] = product.id
            params[f"q{i}"] = quantity
        left = dict(s.execute(_take_stock_statement(len(lines)), params).all())
        for quantity, product in lines:
            if product.id not in left:
                available = s.scalar(select(table.c.inventory).where(table.c.id == product.id))
                raise OutOfStock(product.name, quantity, available or 0)
            set_committed_value(product, "inventory", left[product.id])

    @staticmethod
    def _delete_cart(s: Session, cart_id: uuid.UUID) -> None:
        """Delete a cart and its lines.

        Like Django's fast delete: when nobody listens to the delete signals
        of carts or their items, two DELETE statements; otherwise through the
        ORM, so pre_delete/post_delete are sent for each object.
        """
        if any(
            sig.has_listeners(model)
            for sig in (signals.pre_delete, signals.post_delete)
            for model in (Cart, CartItem)
        ):
            cart = s.get(Cart, cart_id)
            if cart is not None:
                s.delete(cart)
            return
        s.execute(_DELETE_CART_ITEMS, {"cart_id": cart_id})
        s.execute(_DELETE_CART, {"cart_id": cart_id})

    def cancel_order(self, order_id: int) -> Order:
        """Cancel a placed order and put its items back in stock."""
        order_id = _id(order_id, "Order")
        with self.unit_of_work() as uow:
            s = uow.session
            order = self._load_order(s, order_id)
            if order.status != OrderStatus.PLACED:
                raise InvalidState(f"Order {order_id} is already {order.status}.")
            table = Product.__table__
            for item in order.items:
                row = s.execute(
                    update(table)
                    .where(table.c.id == item.product_id)
                    .values(inventory=table.c.inventory + item.quantity)
                    .returning(table.c.inventory)
                ).first()
                if row is not None:
                    set_committed_value(item.product, "inventory", row[0])
            order.status = OrderStatus.CANCELLED
            uow.flush()
            signals.order_cancelled.send_robust(Order, order=order)
            uow.flush()
            uow.commit()
        return order

    @staticmethod
    def _order_options() -> list[Any]:
        return [
            selectinload(Order.items).selectinload(OrderItem.product),
            selectinload(Order.customer).selectinload(Customer.user),
        ]

    def _load_order(self, s: Session, order_id: int) -> Order:
        order = s.get(Order, order_id, options=self._order_options())
        if order is None:
            raise NotFound(f"Order {order_id} does not exist.")
        return order

    def get_order(self, order_id: int) -> Order:
        order_id = _id(order_id, "Order")
        with self._reading() as s:
            return self._load_order(s, order_id)

    def read_between_writes(self, read: Callable[[], T]) -> T:
        """Run ``read()`` while no writer is between its send and its commit.

        For a panel that loads what it will then keep up to date from
        signals: a writer that sent ``order_created`` before the panel's
        receivers were connected (so no after-commit hook was queued for
        them) but commits after a plain read would be missed by both. On a
        SQLite file this holds the write lock (BEGIN IMMEDIATE) during the
        read; WAL readers are not blocked by it. An in-memory database needs
        no help (the Store serialises every use of its one connection), and
        inside a transaction of this thread's own the lock would wait for
        itself, so those read at once; so do other databases, whose
        receivers are connected before any writer starts.
        """
        url = self.url
        on_file = url.get_backend_name() == "sqlite" and url.database not in (
            None,
            "",
            ":memory:",
        )
        if on_file and not dispatch.in_transaction():
            try:
                with self.unit_of_work() as uow:
                    uow.session.connection()  # the session is lazy: this runs BEGIN IMMEDIATE
                    return read()
            except InvalidState:  # busy for longer than the busy timeout
                logger.warning("Database busy: reading without pausing writers")
        return read()

    def list_orders(
        self,
        user_id: int | None = None,
        *,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[Order]:
        """Orders, newest first; optionally one user's, one status, the last N."""
        query = select(Order).options(*self._order_options()).order_by(Order.id.desc())
        if user_id is not None:
            user_id = _id(user_id, "User")
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
            query = query.limit(_int(limit, "limit", "Limit", 1, MAX_ID))
        with self._reading() as s:
            return list(s.scalars(query))

    def sales_summary(self) -> SalesSummary:
        """Count and revenue of the orders that stand (not cancelled)."""
        with self._reading() as s:
            rows = s.execute(
                select(Order.total).where(Order.status == OrderStatus.PLACED)
            ).scalars()
            totals = list(rows)
        return SalesSummary(len(totals), sum(totals, Decimal("0.00")))

    def stock_levels(self) -> dict[int, int]:
        """``{product_id: inventory}`` straight from the database."""
        with self._reading() as s:
            return {pid: stock for pid, stock in s.execute(select(Product.id, Product.inventory))}
