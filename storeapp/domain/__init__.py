"""The domain: models, services, signals and errors. Never imports Qt."""

from storeapp.domain.errors import (
    DatabaseUnavailable,
    DomainError,
    DuplicateUser,
    EmptyCart,
    InvalidState,
    NotFound,
    OutOfStock,
    ValidationError,
)
from storeapp.domain.store import SalesSummary, Store, UnitOfWork

__all__ = [
    "DatabaseUnavailable",
    "DomainError",
    "DuplicateUser",
    "EmptyCart",
    "InvalidState",
    "NotFound",
    "OutOfStock",
    "SalesSummary",
    "Store",
    "UnitOfWork",
    "ValidationError",
]
