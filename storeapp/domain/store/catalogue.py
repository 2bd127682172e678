"""The catalogue's use cases: products, their prices and their stock."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from storeapp.domain import signals
from storeapp.domain.errors import InvalidState, NotFound, ValidationError
from storeapp.domain.events import log as eventlog
from storeapp.domain.model_signals import save_kwargs
from storeapp.domain.models import CartItem, OrderItem, Product
from storeapp.domain.store.uow import Services
from storeapp.domain.store.validation import (
    MAX_INVENTORY,
    PRODUCT_FIELDS,
    clean_id,
    clean_int,
    clean_price,
    clean_search,
    clean_text,
    shown,
)

PRODUCTS = cast(Table, Product.__table__)
#: Restock's one statement: the database adds to what it holds at that
#: moment (never a value read earlier), and refuses to pass the ceiling.
RESTOCK = (
    update(PRODUCTS)
    .where(
        PRODUCTS.c.id == bindparam("product_id"),
        PRODUCTS.c.inventory <= MAX_INVENTORY - bindparam("quantity"),
    )
    .values(inventory=PRODUCTS.c.inventory + bindparam("quantity"))
    .returning(PRODUCTS.c.inventory)
)
INVENTORY_CHANGED = frozenset({"inventory"})


class CatalogueServices(Services):
    """Adding, changing, deleting and finding products."""

    def add_product(self, sku: str, name: str, unit_price: Any, inventory: int) -> Product:
        sku = clean_text(sku, "sku", "SKU", 40)
        name = clean_text(name, "name", "Name", 200)
        price = clean_price(unit_price)
        inventory = clean_int(inventory, "inventory", "Stock", 0, MAX_INVENTORY)
        with self.units.write() as uow:
            s = uow.session
            if s.scalar(select(Product.id).where(Product.sku == sku)) is not None:
                raise ValidationError(f"A product with SKU {sku!r} already exists.", "sku")
            product = Product(sku=sku, name=name, unit_price=price, inventory=inventory)
            s.add(product)
            uow.flush()
            eventlog.product_added(s, product)
            uow.commit()
        return product

    def update_product(self, product_id: int, **changes: Any) -> Product:
        product_id = clean_id(product_id, "Product")
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
            clean["sku"] = clean_text(changes["sku"], "sku", "SKU", 40)
        if "name" in changes:
            clean["name"] = clean_text(changes["name"], "name", "Name", 200)
        if "unit_price" in changes:
            clean["unit_price"] = clean_price(changes["unit_price"])
        if "inventory" in changes:
            clean["inventory"] = clean_int(
                changes["inventory"], "inventory", "Stock", 0, MAX_INVENTORY
            )
        with self.units.write() as uow:
            s = uow.session
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            if "sku" in clean and clean["sku"] != product.sku:
                if s.scalar(select(Product.id).where(Product.sku == clean["sku"])) is not None:
                    raise ValidationError(
                        f"A product with SKU {clean['sku']!r} already exists.", "sku"
                    )
            changed = [key for key, value in clean.items() if getattr(product, key) != value]
            for key, value in clean.items():
                setattr(product, key, value)
            uow.flush()
            eventlog.product_updated(s, product, changed)
            uow.commit()
        return product

    def restock(self, product_id: int, quantity: int) -> Product:
        """Add ``quantity`` units to a product's stock; returns the product as restocked.

        One guarded ``UPDATE ... SET inventory = inventory + :q`` (at most
        :data:`MAX_INVENTORY`): the sum is taken in the database, so a
        checkout committing at the same moment is never overwritten, unlike
        reading the stock and writing back ``old + n``. The row is read
        ``FOR UPDATE`` first (PostgreSQL; SQLite's write lock is held from
        BEGIN), so the product's ``pre_save`` shows the stock it is about to
        get and ``post_save`` (``created=False``, ``changed_fields``
        ``{"inventory"}``) the stock it got. Both are sent with ``send``, as
        model signals are: a receiver that raises undoes the restock. The
        event log gets a ``product_changed`` (``updated``, ``inventory``).
        """
        product_id = clean_id(product_id, "Product")
        quantity = clean_int(quantity, "quantity", "Quantity to add", 1, MAX_INVENTORY)
        with self.units.write() as uow:
            s = uow.session
            product = s.get(Product, product_id, with_for_update=True)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            if product.inventory + quantity > MAX_INVENTORY:
                raise ValidationError(
                    f"{product.name!r} has {product.inventory:,} in stock; adding "
                    f"{quantity:,} would pass the most a product can hold "
                    f"({MAX_INVENTORY:,}).",
                    "quantity",
                )
            set_committed_value(product, "inventory", product.inventory + quantity)
            signals.pre_save.send(Product, **save_kwargs(product, changed_fields=INVENTORY_CHANGED))
            row = s.execute(RESTOCK, {"product_id": product_id, "quantity": quantity}).first()
            if row is None:  # pragma: no cover - the row is locked and was checked above
                raise InvalidState(f"{product.name!r} could not be restocked; try again.")
            set_committed_value(product, "inventory", row[0])
            signals.post_save.send(
                Product,
                **save_kwargs(product, created=False, changed_fields=INVENTORY_CHANGED),
            )
            eventlog.product_updated(s, product, INVENTORY_CHANGED)
            uow.commit()
        return product

    def delete_product(self, product_id: int) -> None:
        product_id = clean_id(product_id, "Product")
        with self.units.write() as uow:
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
            eventlog.product_deleted(s, product)
            uow.commit()

    def get_product(self, product_id: int) -> Product:
        product_id = clean_id(product_id, "Product")
        with self.units.read() as s:
            product = s.get(Product, product_id)
            if product is None:
                raise NotFound(f"Product {product_id} does not exist.")
            return product

    def list_products(self, search: str | None = None) -> list[Product]:
        with self.units.read() as s:
            query = select(Product).order_by(Product.name, Product.id)
            search = clean_search(search)
            if search:
                pattern = f"%{search}%"
                query = query.where(Product.name.ilike(pattern) | Product.sku.ilike(pattern))
            return list(s.scalars(query))

    def stock_levels(self) -> dict[int, int]:
        """``{product_id: inventory}`` straight from the database."""
        with self.units.read() as s:
            return {pid: stock for pid, stock in s.execute(select(Product.id, Product.inventory))}
