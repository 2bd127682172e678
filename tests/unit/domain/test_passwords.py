"""Password hashing (argon2id, and the older scrypt hashes). No disk."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys

import pytest
from argon2 import PasswordHasher

from storeapp.domain import passwords
from storeapp.domain.passwords import check_password, make_password, needs_rehash

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def encoded() -> str:
    return make_password(PASSWORD)


def old_scrypt_hash(password: str) -> str:
    """A hash as storeapp made them before argon2id (scrypt, N=2**14, r=8, p=1)."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


def test_a_hash_is_argon2id_with_owasps_parameters_and_a_salt(encoded):
    _, algo, version, params, salt, digest = encoded.split("$")

    assert algo == "argon2id"
    assert version == "v=19"
    assert params == "m=19456,t=2,p=1"  # 19 MiB, two passes, one lane
    assert len(base64.b64decode(salt + "==")) == 16
    assert len(base64.b64decode(digest + "==")) == 32
    assert needs_rehash(encoded) is False


def test_an_old_scrypt_hash_still_verifies_and_asks_to_be_rehashed():
    old = old_scrypt_hash(PASSWORD)

    assert check_password(PASSWORD, old) is True
    assert check_password(PASSWORD + "!", old) is False
    assert needs_rehash(old) is True


def test_an_argon2_hash_with_weaker_parameters_asks_to_be_rehashed():
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)

    assert check_password(PASSWORD, weak) is True
    assert needs_rehash(weak) is True


def test_the_dummy_hash_is_made_once_and_matches_no_password_a_user_could_type():
    first = passwords.dummy_hash()

    assert passwords.dummy_hash() is first
    assert first.startswith("$argon2id$")
    for attempt in ("", "x" * 8, PASSWORD):
        assert check_password(attempt, first) is False


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
        "scrypt$1073741824$8$1$c2FsdA==$ZGlnZXN0",  # a forged cost: refused, not computed
        "$argon2id$v=19$m=19456,t=2,p=1$!!!$???",
        "$argon2id$",
    ],
)
def test_check_password_answers_false_for_a_malformed_hash(bad_hash):
    assert check_password(PASSWORD, bad_hash) is False


def test_a_non_ascii_password_round_trips():
    encoded = make_password("pässwörd-ünïcode")

    assert check_password("pässwörd-ünïcode", encoded) is True
    assert check_password("passwort-unicode", encoded) is False


RESIDENT_AFTER_HASHES = """
import sys
from storeapp.domain.passwords import check_password, make_password

def resident_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS"))

before = resident_kib()
encoded = make_password("first")
make_password("second")
check_password("second", encoded)
print(resident_kib() - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (glibc's heap)")
def test_each_hashs_19_mib_goes_back_to_the_system_after_it():
    # In a process of its own: the first hashes of its life.
    result = subprocess.run(
        [sys.executable, "-c", RESIDENT_AFTER_HASHES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    grown_mib = int(result.stdout) / 1024
    assert grown_mib < 8, f"resident memory grew {grown_mib:.1f} MiB over three hashes"
