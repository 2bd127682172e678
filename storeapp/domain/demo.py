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


def seed_customers(store: Store) -> list[User]:
    """Register the demo customers that are not there yet."""
    made = []
    for username, email in DEMO_CUSTOMERS:
        try:
            made.append(store.register_user(username, email, DEMO_PASSWORD))
        except DuplicateUser:
            continue
    return made
