"""Accounts on each backend: identities unique as people read them (the
database enforces it, races included), hostile addresses refused with
nothing written, old password hashes upgraded on log-in, and an older
database migrated on open."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from typing import Any

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.exc import IntegrityError

from storeapp.domain import DuplicateUser, Store, ValidationError
from storeapp.domain.models import User
from storeapp.domain.store.validation import normalize_username
from tests.identities import HOSTILE_EMAILS, SAME_EMAILS, SAME_USERNAMES

PASSWORD = "s3cret-pass"


def stored_hash(store: Store, username: str) -> str:
    with store.engine.connect() as conn:
        return str(conn.scalar(select(User.password_hash).where(User.username == username)))


def old_scrypt_hash(password: str) -> str:
    salt = b"fedcba9876543210"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt$16384$8$1${b64(salt).decode()}${b64(digest).decode()}"


@pytest.mark.parametrize(("first", "second"), SAME_USERNAMES)
def test_a_username_that_reads_as_a_registered_one_is_refused(store, table_rows, first, second):
    store.register_user(first, "first@example.com", PASSWORD)
    before = table_rows()

    with pytest.raises(DuplicateUser) as excinfo:
        store.register_user(second, "second@example.com", PASSWORD)

    assert excinfo.value.field == "username"
    assert "already taken" in str(excinfo.value)
    if normalize_username(first) != normalize_username(second):  # the one it reads as
        assert f"It reads the same as {normalize_username(first)!r}." in str(excinfo.value)
    assert table_rows() == before


@pytest.mark.parametrize(("first", "second"), SAME_EMAILS)
def test_an_email_that_is_a_registered_mailbox_is_refused(store, table_rows, first, second):
    store.register_user("first", first, PASSWORD)
    before = table_rows()

    with pytest.raises(DuplicateUser) as excinfo:
        store.register_user("second", second, PASSWORD)

    assert excinfo.value.field == "email"
    assert "already registered" in str(excinfo.value)
    assert table_rows() == before


@pytest.mark.parametrize("address", HOSTILE_EMAILS)
def test_a_hostile_address_is_refused_in_words_and_nothing_is_written(store, table_rows, address):
    before = table_rows()

    with pytest.raises(ValidationError) as excinfo:
        store.register_user("mallory", address, PASSWORD)

    assert excinfo.value.field == "email"
    assert "valid email" in str(excinfo.value) or "not allowed" in str(excinfo.value)
    assert table_rows() == before


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (("élodie", "e1@example.com"), ("ÉLODIE", "e2@example.com")),
        (("ada", "ärger@example.com"), ("grace", "ÄRGER@example.com")),
    ],
    ids=["username", "email"],
)
def test_two_threads_registering_the_same_identity_at_once_make_one_user(store, first, second):
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def register(name: str, email: str) -> None:
        barrier.wait()
        try:
            outcomes.append(store.register_user(name, email, PASSWORD))
        except DuplicateUser as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=register, args=args) for args in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(type(o).__name__ for o in outcomes) == ["DuplicateUser", "User"]
    with store.engine.connect() as conn:
        assert conn.scalar(select(User.id).select_from(User).limit(2).offset(1)) is None


@pytest.mark.parametrize("column", ["username_key", "email_key"])
def test_the_database_itself_refuses_a_second_row_with_the_same_key(store, column):
    user = store.register_user("élodie", "elodie@example.com", PASSWORD)
    row = {
        "username": "ÉLODIE-bypass",
        "email": "bypass@example.com",
        "password_hash": "x",
        "username_key": "other-key",
        "email_key": "bypass@example.com",
        column: getattr(user, column),
    }

    with pytest.raises(IntegrityError), store.engine.begin() as conn:
        conn.execute(insert(User).values(**row))


def test_a_username_logs_in_as_people_read_it(store):
    user = store.register_user("élodie", "elodie@example.com", PASSWORD)

    for typed in ("élodie", "ÉLODIE", "E\u0301LODIE", " Élodie "):
        found = store.authenticate(typed, PASSWORD)
        assert found is not None and found.id == user.id, typed
    assert store.authenticate("elodie", PASSWORD) is None


def test_an_old_scrypt_hash_logs_in_and_is_replaced_by_argon2id(store):
    store.register_user("ada", "ada@example.com", PASSWORD)
    with store.engine.begin() as conn:
        conn.execute(update(User).values(password_hash=old_scrypt_hash(PASSWORD)))

    assert store.authenticate("ada", PASSWORD + "x") is None
    assert stored_hash(store, "ada").startswith("scrypt$")  # a wrong password changes nothing

    user = store.authenticate("ada", PASSWORD)

    assert user is not None
    upgraded = stored_hash(store, "ada")
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert user.password_hash == upgraded
    assert store.authenticate("ada", PASSWORD) is not None
    assert stored_hash(store, "ada") == upgraded  # rehashed once, not at every log-in


def make_pre_key_database(store: Store) -> None:
    """Turn ``store``'s database into one from before the identity keys,
    holding two users that differ in accented case only."""
    with store.engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_users_username_key"))
        conn.execute(text("DROP INDEX ix_users_email_key"))
        conn.execute(text("ALTER TABLE users DROP COLUMN username_key"))
        conn.execute(text("ALTER TABLE users DROP COLUMN email_key"))
        for name, email in [
            ("élodie", "elodie@example.com"),
            ("ÉLODIE", "ELODIE@example.com"),
            ("ada", "ada@example.com"),
        ]:
            conn.execute(
                text(
                    "INSERT INTO users (username, email, password_hash, created_at) "
                    "VALUES (:u, :e, :h, CURRENT_TIMESTAMP)"
                ),
                {"u": name, "e": email, "h": old_scrypt_hash(PASSWORD)},
            )


def test_an_older_database_gains_the_keys_and_reports_a_colliding_pair_on_open(store, caplog):
    make_pre_key_database(store)
    url = store.engine.url.render_as_string(hide_password=False)
    store.close()
    caplog.set_level(logging.WARNING, logger="storeapp.database")

    reopened = Store.open(url)
    try:
        conflicts = reopened.identity_conflicts()
        assert len(conflicts) == 2  # the username and the email
        assert all("'élodie'" in c or "'elodie@example.com'" in c for c in conflicts)
        assert all("rename or remove" in c for c in conflicts)
        assert [r.getMessage() for r in caplog.records] == conflicts
        for name in ("élodie", "ÉLODIE", "ada"):  # both keep working, by exact name
            user = reopened.authenticate(name, PASSWORD)
            assert user is not None and user.username == name
        with pytest.raises(DuplicateUser):
            reopened.register_user("Élodie", "new@example.com", PASSWORD)
        with pytest.raises(DuplicateUser):
            reopened.register_user("ADA", "other@example.com", PASSWORD)
        with reopened.engine.connect() as conn:
            keys = dict(conn.execute(select(User.username, User.username_key)).all())
        assert keys == {"élodie": "élodie", "ÉLODIE": None, "ada": "ada"}
    finally:
        reopened.close()


def test_a_duplicate_the_check_missed_is_refused_by_the_key_with_the_same_message(
    store, table_rows, monkeypatch
):
    """As when another till commits between this one's check and its insert."""
    from storeapp.domain.store import users

    store.register_user("élodie", "elodie@example.com", PASSWORD)
    before = table_rows()
    real_check = users._check_unique
    calls: list[str] = []

    def check_that_misses_once(*args: Any) -> None:
        calls.append("check")
        if len(calls) > 1:  # the services' second look, after the database refused
            real_check(*args)

    monkeypatch.setattr(users, "_check_unique", check_that_misses_once)

    with pytest.raises(DuplicateUser) as excinfo:
        store.register_user("ÉLODIE", "other@example.com", PASSWORD)

    assert calls == ["check", "check"]
    assert str(excinfo.value) == (
        "The username 'ÉLODIE' is already taken. It reads the same as 'élodie'."
    )
    assert table_rows() == before
