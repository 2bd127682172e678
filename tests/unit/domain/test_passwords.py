"""Password hashing (stdlib scrypt). No disk."""

from __future__ import annotations

import base64

import pytest

from storeapp.domain.passwords import check_password, make_password

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
