"""Password hashing: argon2id (argon2-cffi), verified in constant time.

A hash carries its algorithm and parameters
(``$argon2id$v=19$m=19456,t=2,p=1$salt$hash``), so the parameters can grow
without breaking the hashes already stored: :func:`check_password` verifies
any hash storeapp ever made, the older stdlib scrypt ones
(``scrypt$N$r$p$salt$hash``) included, and :func:`needs_rehash` tells the
log-in to store a new hash once the password is known to be right.

The cost is OWASP's recommended argon2id configuration: 19 MiB of memory,
two passes, one lane (~38 ms a hash on the 2-core development machine).
"""

from __future__ import annotations

import base64
import ctypes
import hashlib
import hmac
import secrets
import threading
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher

__all__ = ["check_password", "dummy_hash", "make_password", "needs_rehash"]

#: OWASP Password Storage Cheat Sheet: m=19 MiB, t=2, p=1.
TIME_COST, MEMORY_KIB, PARALLELISM = 2, 19 * 1024, 1


#: glibc's ``mallopt`` parameter, and the size from which a block is mapped
#: on its own (and unmapped when freed) rather than taken from the heap.
M_MMAP_THRESHOLD, MAPPED_FROM = -3, 4 * 1024 * 1024


def _unmap_large_blocks() -> None:
    """Give each hash's 19 MiB back to the system when it is freed.

    glibc maps a large block on its own, but after freeing one it raises its
    threshold to that block's size: from the second hash on, the 19 MiB came
    from the heap and stayed there (measured: +19 MB of resident memory for
    the life of a till after two log-ins). A fixed threshold stops that.
    Nothing happens where the C library has no ``mallopt`` (not glibc).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, MAPPED_FROM)


@cache
def _hasher() -> PasswordHasher:
    """The hasher, argon2 imported on first use (not at the till's start-up)."""
    from argon2 import PasswordHasher

    _unmap_large_blocks()
    return PasswordHasher(
        time_cost=TIME_COST,
        memory_cost=MEMORY_KIB,
        parallelism=PARALLELISM,
        hash_len=32,
        salt_len=16,
    )


#: scrypt's maximum memory, for the old hashes (2**14 * 8 * 128 = 16 MiB).
_SCRYPT_MAXMEM = 64 * 1024 * 1024
#: The largest old scrypt cost we agree to compute (a stored hash is data:
#: a forged one must not make a log-in allocate gigabytes).
_SCRYPT_MAX_N = 2**17


def make_password(password: str) -> str:
    """An argon2id hash of ``password``, with its parameters and a random salt."""
    return _hasher().hash(password)


def check_password(password: str, encoded: str) -> bool:
    """True if ``password`` matches ``encoded`` (argon2 or the older scrypt);
    False for a wrong password and for anything that is not a hash."""
    if not isinstance(password, str) or not isinstance(encoded, str):
        return False
    if encoded.startswith("scrypt$"):
        return _check_scrypt(password, encoded)
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return _hasher().verify(encoded, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    except (ValueError, TypeError, UnicodeEncodeError):
        return False


def needs_rehash(encoded: str) -> bool:
    """True if ``encoded`` was made with another algorithm or weaker
    parameters than :func:`make_password` uses today."""
    if not encoded.startswith("$argon2id$"):
        return True
    from argon2.exceptions import InvalidHashError

    try:
        return _hasher().check_needs_rehash(encoded)
    except (InvalidHashError, ValueError):
        return True


_dummy: str | None = None
_dummy_lock = threading.Lock()


def dummy_hash() -> str:
    """A hash of a random password nobody knows, made once (on first use):
    a log-in for a user who does not exist checks the password against it,
    so it costs one hash, as a wrong password for a real user does."""
    global _dummy
    if _dummy is None:
        with _dummy_lock:
            if _dummy is None:
                _dummy = make_password(secrets.token_urlsafe(24))
    return _dummy


def _check_scrypt(password: str, encoded: str) -> bool:
    """The hashes storeapp made before argon2id: ``scrypt$N$r$p$salt$hash``."""
    try:
        algo, n, r, p, salt, digest = encoded.split("$")
        if algo != "scrypt" or not 2 <= int(n) <= _SCRYPT_MAX_N:
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_SCRYPT_MAXMEM,
            dklen=len(expected) or 1,
        )
    except (ValueError, TypeError, UnicodeEncodeError):
        return False
    return hmac.compare_digest(actual, expected)
