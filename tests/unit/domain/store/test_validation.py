"""The registration form's rules. No disk."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storeapp.domain import ValidationError
from storeapp.domain.store.validation import clean_price, validate_registration


def test_a_valid_registration_is_cleaned():
    assert validate_registration(" ada ", "ada@EXAMPLE.com", "s3cret-pass") == (
        "ada",
        "ada@example.com",
        "s3cret-pass",
    )


@pytest.mark.parametrize(
    ("username", "email", "password", "field", "message"),
    [
        ("", "ada@example.com", "s3cret-pass", "username", "Username is required."),
        ("   ", "ada@example.com", "s3cret-pass", "username", "Username is required."),
        ("ada lovelace", "ada@example.com", "s3cret-pass", "username", "may contain only"),
        ("ada!", "ada@example.com", "s3cret-pass", "username", "may contain only"),
        (None, "ada@example.com", "s3cret-pass", "username", "must be text"),
        ("ada", "", "s3cret-pass", "email", "Email is required."),
        ("ada", "ada.example.com", "s3cret-pass", "email", "valid email"),
        ("ada", "ada@example", "s3cret-pass", "email", "valid email"),
        ("ada", "a da@example.com", "s3cret-pass", "email", "valid email"),
        ("ada", "ada@example.com", "", "password", "Password is required."),
        ("ada", "ada@example.com", "short1", "password", "too short"),
        ("ada", "ada@example.com", "1234567890", "password", "entirely numeric"),
        ("adalovelace", "ada@example.com", "AdaLovelace", "password", "same as the username"),
    ],
)
def test_a_bad_registration_is_refused_with_a_readable_message(
    username, email, password, field, message
):
    with pytest.raises(ValidationError) as excinfo:
        validate_registration(username, email, password)

    assert excinfo.value.field == field
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    "value", [Decimal("-0"), Decimal("-0.00"), "-0.00", "-0", " -0.0 ", -0.0, "-0E+2"]
)
def test_a_negative_zero_price_is_zero(value):
    price = clean_price(value)

    assert str(price) == "0.00"
    assert not price.is_signed()
