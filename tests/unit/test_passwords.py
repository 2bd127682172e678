"""Password hashing (stdlib scrypt) and the registration form's rules. No disk."""

from __future__ import annotations

import base64

import pytest

from storeapp.domain import ValidationError
from storeapp.domain.passwords import check_password, make_password
from storeapp.domain.store import validate_registration

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def encoded() -> str:
    return make_password(PASSWORD)


def test_a_hash_is_in_scrypt_format_with_its_parameters_and_salt(encoded):
    algo, n, r, p, salt, digest = encoded.split("$")

    assert algo == "scrypt"
    assert (int(n), int(r), int(p)) == (2**14, 8, 1)
    assert len(base64.b64decode(salt, validate=True)) == 16
    assert len(base64.b64decode(digest, validate=True)) == 32


def test_a_hash_does_not_contain_the_password(encoded):
    assert PASSWORD not in encoded


def test_the_same_password_hashes_differently_each_time(encoded):
    assert make_password(PASSWORD) != encoded


def test_check_password_accepts_the_right_password(encoded):
    assert check_password(PASSWORD, encoded) is True


@pytest.mark.parametrize(
    "attempt", ["correct horse battery ", "Correct horse battery", "", "x" * 8]
)
def test_check_password_rejects_a_wrong_password(encoded, attempt):
    assert check_password(attempt, encoded) is False


@pytest.mark.parametrize(
    "bad_hash",
    [
        "",
        "not a hash",
        "md5$16384$8$1$c2FsdA==$ZGlnZXN0",
        "scrypt$x$8$1$c2FsdA==$ZGlnZXN0",
        "scrypt$16384$8$1$!!!$???",
    ],
)
def test_check_password_answers_false_for_a_malformed_hash(bad_hash):
    assert check_password(PASSWORD, bad_hash) is False


def test_a_non_ascii_password_round_trips():
    encoded = make_password("pässwörd-ünïcode")

    assert check_password("pässwörd-ünïcode", encoded) is True
    assert check_password("passwort-unicode", encoded) is False


# -- the registration form ---------------------------------------------------------


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
