"""The domain's exceptions. Each message is meant for a cashier's eyes."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a request the domain refused. Nothing was written."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ValidationError(DomainError):
    """Input that cannot be accepted; ``field`` names the offending input."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class DuplicateUser(ValidationError):
    """The username or the email is already registered."""


class DatabaseUnavailable(DomainError):
    """The database cannot be opened: a bad URL, a server that is down or
    refuses the login, a driver that is not installed. Nothing was written."""


class NotFound(DomainError):
    """An id that names nothing (cart, product, user, order)."""


class EmptyCart(DomainError):
    """Checkout of a cart with no items."""


class OutOfStock(DomainError):
    """Not enough stock to fill an order line."""

    def __init__(self, product_name: str, requested: int, available: int) -> None:
        super().__init__(
            f"{product_name!r} is out of stock."
            if available <= 0
            else f"Only {available} of {product_name!r} left in stock; {requested} requested."
        )
        self.product_name = product_name
        self.requested = requested
        self.available = available


class InvalidState(DomainError):
    """An action that the object's state does not allow (e.g. cancel twice)."""
