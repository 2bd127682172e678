"""A user's password never shows: not in logs, signal payloads, reprs or error messages.

Users register with a distinctive password and place orders with the core
listener connected, while a recorder listens to every signal and every log
record is captured at DEBUG (SQLAlchemy's engine logger included). The
plaintext must appear nowhere; the stored hash must not appear in
``repr(user)``, in any payload's repr, or in storeapp's own log records.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm.exc import DetachedInstanceError

from storeapp.domain import DomainError, Store
from storeapp.domain.models import User
from storeapp.domain.signals import ALL_SIGNALS

if TYPE_CHECKING:  # tests/reliability/conftest.py (not importable by name at run time)
    from conftest import Seed

PASSWORD = "Quokka-Zebra-7731!ñ"  # distinctive, with a character repr() could escape
OTHER_PASSWORD = "Okapi-Narwhal-0042?"


def deep_repr(
    value: Any, inside_row: bool = False, seen: set[int] | None = None
) -> Iterator[tuple[str, bool]]:
    """``(repr, inside_row)`` for a value and everything inside it.

    Containers are walked; so are an ORM object's loaded attributes
    (``inside_row`` is then True): a plaintext password kept on the object
    would be found there even if the object's repr hid it. The stored hash
    *is* such an attribute, so only the plaintext is looked for in those.
    """
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield repr(value), inside_row
    if isinstance(value, dict):
        for key, item in value.items():
            yield from deep_repr(key, inside_row, seen)
            yield from deep_repr(item, inside_row, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from deep_repr(item, inside_row, seen)
    elif hasattr(value, "_sa_instance_state"):
        # Every loaded attribute: columns, related objects, plain attributes.
        for key, item in sa_inspect(value).dict.items():
            if not key.startswith("_sa_"):
                yield from deep_repr(item, True, seen)


class PayloadRecorder:
    """Connected to every signal: keeps the repr of everything sent."""

    def __init__(self) -> None:
        self.texts: list[tuple[str, str, bool]] = []  # (signal, text, inside_row)
        self.users: list[User] = []

    def __call__(self, signal: Any, sender: Any, **kwargs: Any) -> None:
        for value in (sender, kwargs):
            self.texts.extend((signal.name, text, row) for text, row in deep_repr(value))
        for value in kwargs.values():
            if isinstance(value, User):
                self.users.append(value)


@contextmanager
def recording_every_signal() -> Iterator[PayloadRecorder]:
    recorder = PayloadRecorder()
    with ExitStack() as stack:
        for signal in ALL_SIGNALS:
            signal.connect(recorder, weak=False)
            stack.callback(signal.disconnect, recorder)
        yield recorder


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler could write for this record."""
    texts = [record.getMessage(), repr(record.args)]
    formatted = logging.Formatter("%(name)s %(message)s").format(record)
    texts.append(formatted)  # includes exc_info's traceback
    if record.stack_info:
        texts.append(record.stack_info)
    return texts


def exercise(store: Store, seed: Seed, errors: list[str]) -> list[User]:
    """Registration, login, refusals, orders and a cancellation."""
    users = [
        store.register_user("quokka", "quokka@example.com", PASSWORD),
        store.register_user("narwhal", "narwhal@example.com", OTHER_PASSWORD),
    ]
    for attempt in (
        lambda: store.register_user("quokka", "q2@example.com", PASSWORD),  # duplicate
        lambda: store.register_user("quokka2", "quokka@example.com", PASSWORD),  # email taken
        lambda: store.register_user("quokka3", "q3@example.com", PASSWORD[:6]),  # too short
        lambda: store.register_user(PASSWORD, "pw@example.com", PASSWORD),  # pw == username
        lambda: store.register_user("bad name", "b@example.com", PASSWORD),
    ):
        try:
            attempt()
        except DomainError as err:
            errors.append(str(err))
    assert store.authenticate("quokka", PASSWORD) is not None
    assert store.authenticate("quokka", PASSWORD + "x") is None
    assert store.authenticate("nobody", PASSWORD) is None
    orders = []
    for user in list(users):
        cart = store.create_cart()
        store.add_to_cart(cart.id, seed.product_ids[0], 1)
        orders.append(store.place_order(cart.id, user.id))
        customer = store.get_customer(user.id)
        users.append(customer.user)
    store.cancel_order(orders[0].id)
    cart = store.create_cart()
    store.add_to_cart(cart.id, seed.product_ids[2], 3)
    store.update_product(seed.product_ids[2], inventory=1)
    try:
        store.place_order(cart.id, users[0].id)
    except DomainError as err:
        errors.append(str(err))
    users.extend(order.customer.user for order in store.list_orders())
    return users


def password_hashes(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return [h for (h,) in conn.exec_driver_sql("SELECT password_hash FROM users")]


def test_password_appears_in_no_log_payload_repr_or_message(
    seed: Seed,
    seeded_store: Store,
    core_ready: None,
    caplog: pytest.LogCaptureFixture,
    secret_absent: Callable[..., None],
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    caplog.set_level(logging.DEBUG, logger="storeapp")
    errors: list[str] = []
    # A fresh engine, so SQLAlchemy picks up the DEBUG level of its logger.
    store = Store.open(seeded_store.engine.url.render_as_string(hide_password=False))
    try:
        with recording_every_signal() as recorder:
            users = exercise(store, seed, errors)
        hashes = [h for h in password_hashes(store) if h]
    finally:
        store.close()

    plaintexts = [PASSWORD, OTHER_PASSWORD]
    assert len(errors) >= 4, "the refusals did not happen"
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records), (
        "SQL logging was not captured: the test would prove nothing"
    )
    assert any(r.name == "storeapp.orders" for r in caplog.records)
    assert recorder.users, "no User was sent in a signal"

    for record in caplog.records:
        for text in record_texts(record):
            secret_absent(text, plaintexts, where=f"log record of {record.name}")
            if not record.name.startswith("sqlalchemy"):
                secret_absent(text, hashes, where=f"log record of {record.name}")
    for name, text, inside_row in recorder.texts:
        secret_absent(text, plaintexts, where=f"payload of {name}")
        if not inside_row:
            secret_absent(text, hashes, where=f"payload repr of {name}")
    for message in errors:
        secret_absent(message, plaintexts + hashes, where="an error message")
    for user in users + recorder.users:
        try:
            text = repr(user)
        except DetachedInstanceError:  # pragma: no cover - repr must not load
            pytest.fail("repr(user) needs a session")
        secret_absent(text, plaintexts + hashes, where="repr(user)")
        secret_absent(str(user), plaintexts + hashes, where="str(user)")


def test_password_hash_appears_in_no_sql_log(
    seeded_store: Store, core_ready: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")
    store = Store.open(seeded_store.engine.url.render_as_string(hide_password=False))
    try:
        store.register_user("quokka", "quokka@example.com", PASSWORD)
        assert store.authenticate("quokka", PASSWORD) is not None
        hashes = password_hashes(store)
    finally:
        store.close()
    leaks = [
        r.name for r in caplog.records if any(h in text for h in hashes for text in record_texts(r))
    ]
    assert leaks == []
