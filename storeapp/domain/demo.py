"""The demo catalogue and demo customers, so a new user can check out at once."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from storeapp.domain.errors import DuplicateUser
from storeapp.domain.events import log as eventlog
from storeapp.domain.models import Product, User
from storeapp.domain.store import Store

CATALOGUE: tuple[tuple[str, str, str, int], ...] = (
    ("COF-250", "Coffee beans 250 g", "7.90", 40),
    ("TEA-GRN", "Green tea, 20 bags", "3.50", 35),
    ("MLK-1L", "Oat milk 1 l", "2.20", 24),
    ("CRO-BUT", "Butter croissant", "1.80", 30),
    ("BAG-SES", "Sesame bagel", "1.50", 25),
    ("CHO-70", "Dark chocolate 70 %", "2.90", 18),
    ("MUG-STD", "Stoneware mug", "9.50", 8),
    ("FLT-V60", "Paper filters V60 (100)", "5.40", 12),
    ("HNY-JAR", "Wildflower honey 350 g", "6.80", 10),
    ("JAM-STR", "Strawberry jam", "4.20", 14),
    ("BIS-ALM", "Almond biscotti", "3.90", 20),
    ("WTR-SPK", "Sparkling water 0.5 l", "1.10", 48),
)

DEMO_CUSTOMERS: tuple[tuple[str, str], ...] = (
    ("ada", "ada@example.com"),
    ("grace", "grace@example.com"),
    ("linus", "linus@example.com"),
)
DEMO_PASSWORD = "demo-password-1"


def seed_catalogue(store: Store) -> int:
    """Add the demo products if the catalogue is empty; returns how many."""
    with store.unit_of_work() as uow:
        if uow.session.scalar(select(func.count(Product.id))):
            return 0
        products = [
            Product(sku=sku, name=name, unit_price=Decimal(price), inventory=stock)
            for sku, name, price, stock in CATALOGUE
        ]
        uow.session.add_all(products)
        uow.flush()
        for product in products:
            eventlog.product_added(uow.session, product)
        uow.commit()
    return len(CATALOGUE)


def reset_catalogue(store: Store) -> int:
    """Put the demo catalogue back as it first was: each demo product (by
    SKU) gets its name, price and stock again, and one that was deleted is
    added again. Products of the shop's own and every order are kept.

    One transaction: the ORM's flush sends each product's ``pre_save`` and
    ``post_save`` (``changed_fields``), and the event log gets a
    ``product_changed`` for each product changed or added. Returns how many
    products were changed or added (0: the catalogue was as it first was).
    """
    with store.unit_of_work() as uow:
        s = uow.session
        skus = [sku for sku, *_ in CATALOGUE]
        existing = {p.sku: p for p in s.scalars(select(Product).where(Product.sku.in_(skus)))}
        added: list[Product] = []
        updated: list[tuple[Product, list[str]]] = []
        for sku, name, price, stock in CATALOGUE:
            values = {"name": name, "unit_price": Decimal(price), "inventory": stock}
            product = existing.get(sku)
            if product is None:
                product = Product(sku=sku, **values)
                s.add(product)
                added.append(product)
                continue
            changed = [key for key, value in values.items() if getattr(product, key) != value]
            for key in changed:
                setattr(product, key, values[key])
            if changed:
                updated.append((product, changed))
        uow.flush()
        for product in added:
            eventlog.product_added(s, product)
        for product, changed in updated:
            eventlog.product_updated(s, product, changed)
        uow.commit()
    return len(added) + len(updated)


def seed_customers(store: Store) -> list[User]:
    """Register the demo customers that are not there yet."""
    made = []
    for username, email in DEMO_CUSTOMERS:
        try:
            made.append(store.register_user(username, email, DEMO_PASSWORD))
        except DuplicateUser:
            continue
    return made
