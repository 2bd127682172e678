"""Input checks for the services: each returns the cleaned value or raises.

A bad value raises :class:`ValidationError` (naming the form field) or, for
an id that cannot exist, :class:`NotFound`; either carries a message a
cashier can read. None of these touches the database.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from storeapp.domain.dispatch import safe_repr
from storeapp.domain.errors import NotFound, ValidationError
from storeapp.domain.models import to_money

USERNAME_RE = re.compile(r"^[\w.@+-]+\Z")
#: The longest identity key (:func:`username_key`, :func:`email_key`) stored:
#: case folding may lengthen a name (``ß`` -> ``ss``); the unique index on
#: PostgreSQL must also stay under its ~2,700-byte row limit.
MAX_KEY = 600
MAX_ID = 2**63 - 1
MAX_QUANTITY = 10_000
MAX_INVENTORY = 1_000_000_000
MAX_PRICE = Decimal("1000000000")
MIN_PASSWORD = 8
PRODUCT_FIELDS = frozenset({"sku", "name", "unit_price", "inventory"})


def clean_text(value: Any, field: str, label: str, max_len: int) -> str:
    """Required, printable text of at most ``max_len`` characters, stripped."""
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


def clean_int(value: Any, field: str, label: str, low: int, high: int) -> int:
    """A whole number (not a bool, not a numeric string) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{label} must be a whole number.", field)
    if value < low:
        raise ValidationError(f"{label} must be at least {low}.", field)
    if value > high:
        raise ValidationError(f"{label} must be at most {high:,}.", field)
    return value


def clean_price(value: Any) -> Decimal:
    """A price in whole cents, from a Decimal, an int, a float or a string."""
    if isinstance(value, bool):
        raise ValidationError("Price must be a number.", "unit_price")
    try:
        if isinstance(value, float):
            if not math.isfinite(value):
                raise InvalidOperation
            value = repr(value)
        price = Decimal(value.strip() if isinstance(value, str) else value)
    # OverflowError: a sequence like [2**63, 0, 0] read as Decimal's tuple form
    except (InvalidOperation, TypeError, ValueError, OverflowError):
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


def clean_id(value: Any, what: str) -> int:
    """A row id; anything that cannot be one is a ``what`` that does not exist."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise NotFound(f"{what} {shown(value)} does not exist.")
    return value


def clean_cart_id(value: Any) -> uuid.UUID:
    """A cart's UUID, from a UUID or its text; anything else does not exist."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        if isinstance(value, int) and not isinstance(value, bool) and value > 2**128:
            raise ValueError
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise NotFound(f"Cart {shown(value)} does not exist.") from None


def clean_search(value: Any) -> str | None:
    """Search text cut to 200 characters, or None for no search."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError("Search text must be text.", "search")
    value = value.strip()
    # Not UTF-8 (a lone surrogate), or not printable (PostgreSQL refuses a
    # NUL in any text it is sent): no product name can hold it either.
    try:
        value.encode("utf-8")
        allowed = value.isprintable()
    except UnicodeEncodeError:
        allowed = False
    if not allowed:
        raise ValidationError("Search text contains characters that are not allowed.", "search")
    return value[:200] or None


def normalize_username(value: str) -> str:
    """The username as stored: NFKC-normalized, as Django's
    ``normalize_username`` (a fullwidth ``ａｄｍｉｎ`` becomes ``admin``)."""
    return unicodedata.normalize("NFKC", value)


def caseless(value: str) -> str:
    """``value`` as Unicode's compatibility caseless match compares text
    (NFKC, full case folding, twice, as the standard's definition of
    NFKC_Casefold does it): ``ÉLODIE``, ``élodie`` and ``e\u0301lodie`` are one."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFD", value).casefold())
    return unicodedata.normalize("NFKC", folded.casefold())


def username_key(username: str) -> str:
    """What two usernames must not share (``users.username_key``, unique)."""
    return caseless(username)


def email_key(email: str) -> str:
    """What two email addresses must not share (``users.email_key``, unique):
    the local part case-folded as :func:`caseless`, the domain in its ASCII
    (IDNA) form, lowercased. Addresses that no longer validate (stored
    before validation was strict) get a key all the same."""
    from email_validator import EmailNotValidError, validate_email  # see clean_email

    try:
        checked = validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        local, _, domain = email.rpartition("@")
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            pass
        return f"{caseless(local)}@{domain.lower()}"
    return f"{caseless(checked.local_part)}@{checked.ascii_domain.lower()}"


def clean_email(value: Any) -> str:
    """One mailbox (``local@domain``), as email-validator normalizes it: the
    domain lowercased (IDNA-checked). Anything that would be more or fewer
    than one address once put in a header (quotes, angle brackets, commas,
    a display name, spaces, control characters, an IP address for a domain)
    is refused with the reason."""
    email = clean_text(value, "email", "Email", 254)
    if any(c in email for c in '"<>,;:\\()[] \t'):
        raise ValidationError(
            "Enter a valid email address, e.g. ada@example.com: one address, without "
            "quotes, angle brackets, commas or spaces.",
            "email",
        )
    # Imported on first use: ~25 ms that the till's start-up does not need.
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(
            email,
            check_deliverability=False,  # no DNS look-up at the till
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
        )
    except EmailNotValidError as exc:
        raise ValidationError(
            f"Enter a valid email address, e.g. ada@example.com: {exc}", "email"
        ) from None
    normalized = str(checked.normalized)
    if len(email_key(normalized)) > MAX_KEY:  # pragma: no cover - 254 characters fold to less
        raise ValidationError("Email is too long.", "email")
    return normalized


def validate_registration(username: Any, email: Any, password: Any) -> tuple[str, str, str]:
    """Check a registration form; returns the cleaned username, email and password."""
    username = clean_text(username, "username", "Username", 150)
    username = normalize_username(username)
    if len(username) > 150:
        raise ValidationError("Username is too long (at most 150 characters).", "username")
    if not USERNAME_RE.match(username):
        raise ValidationError("Username may contain only letters, digits and @ . + - _", "username")
    if len(username_key(username)) > MAX_KEY:
        raise ValidationError("Username is too long.", "username")
    email = clean_email(email)
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
    if caseless(password) == username_key(username):
        raise ValidationError("Password cannot be the same as the username.", "password")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Password contains characters that are not allowed.", "password"
        ) from None
    return username, email, password
