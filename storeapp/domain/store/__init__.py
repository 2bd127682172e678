"""The application services: ``Store`` (in services, made of users, catalogue, carts, orders),
its unit of work (uow), input checks (validation), engine set-up (database) and checkout's SQL."""

from storeapp.domain.store.checkout import CheckoutPath, checkout_path
from storeapp.domain.store.database import RedactPasswordHashes, open_engine
from storeapp.domain.store.orders import SalesSummary
from storeapp.domain.store.services import Store
from storeapp.domain.store.uow import (
    Services,
    SqlAlchemyUnitOfWorkFactory,
    UnitOfWork,
    UnitOfWorkFactory,
)
from storeapp.domain.store.validation import (
    MAX_ID,
    MAX_INVENTORY,
    MAX_PRICE,
    MAX_QUANTITY,
    MIN_PASSWORD,
    PRODUCT_FIELDS,
    USERNAME_RE,
    clean_email,
    email_key,
    shown,
    username_key,
    validate_registration,
)

__all__ = [
    "MAX_ID",
    "MAX_INVENTORY",
    "MAX_PRICE",
    "MAX_QUANTITY",
    "MIN_PASSWORD",
    "PRODUCT_FIELDS",
    "USERNAME_RE",
    "CheckoutPath",
    "RedactPasswordHashes",
    "SalesSummary",
    "Services",
    "SqlAlchemyUnitOfWorkFactory",
    "Store",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "checkout_path",
    "clean_email",
    "email_key",
    "open_engine",
    "shown",
    "username_key",
    "validate_registration",
]
