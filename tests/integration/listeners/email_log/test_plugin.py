"""The email log plugin's own rules, through its receivers and a real store:
the sender it puts on every message, and how many emails it remembers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from storeapp import mail
from storeapp.domain import Store
from storeapp.domain.models import User
from storeapp.domain.signals import user_registered
from storeapp.listeners.api import HeadlessHost
from storeapp.listeners.email_log.log import MAX_RECORDS
from storeapp.listeners.email_log.plugin import EmailLogPlugin


@pytest.fixture
def make_plugin(store: Store, tmp_path: Any) -> Iterator[Callable[..., EmailLogPlugin]]:
    """``make_plugin(**settings)``: an enabled plugin on the memory backend."""
    made: list[EmailLogPlugin] = []

    def make(**settings: Any) -> EmailLogPlugin:
        values = {"backend": "memory", **settings}
        host = HeadlessHost(store, tmp_path, {f"email_log/{k}": v for k, v in values.items()})
        plugin = EmailLogPlugin(host)
        made.append(plugin)
        plugin.ready()
        assert plugin.delivery is not None
        plugin.delivery.pause = 0
        return plugin

    yield make
    for plugin in made:
        plugin.shutdown()


def register(store: Store, *names: str) -> None:
    """Commit one registration per name (the payload a real one sends)."""
    with store.unit_of_work() as uow:
        for name in names:
            user = SimpleNamespace(username=name, email=f"{name}@example.com")
            user_registered.send_robust(User, user=user)
        uow.commit()


@pytest.mark.parametrize(
    "from_address",
    ["Corner Shop <hello@corner.invalid>\r\nBcc: spy@example.com", "hello@"],
    ids=["a line break", "an unreadable address"],
)
def test_an_unusable_from_address_setting_falls_back_to_the_default_sender(
    store: Store,
    make_plugin: Callable[..., EmailLogPlugin],
    caplog: pytest.LogCaptureFixture,
    from_address: str,
) -> None:
    with caplog.at_level(logging.WARNING, logger="storeapp.email"):
        plugin = make_plugin(from_address=from_address)

    register(store, "ada")
    assert plugin.wait_for_delivery(5)

    [record] = plugin.records
    assert record.status == "sent"
    assert isinstance(plugin.backend, mail.MemoryBackend)
    [message] = plugin.backend.outbox
    assert message["From"] == mail.DEFAULT_FROM
    assert message["Bcc"] is None
    assert "Invalid email_log/from_address" in caplog.text


def test_a_usable_from_address_setting_is_the_sender(
    store: Store, make_plugin: Callable[..., EmailLogPlugin]
) -> None:
    plugin = make_plugin(from_address="Corner Shop <hello@corner.invalid>")

    register(store, "ada")
    assert plugin.wait_for_delivery(5)

    assert isinstance(plugin.backend, mail.MemoryBackend)
    [message] = plugin.backend.outbox
    assert message["From"] == "Corner Shop <hello@corner.invalid>"


def test_the_log_keeps_the_last_thousand_emails_and_counts_every_one(
    store: Store, make_plugin: Callable[..., EmailLogPlugin]
) -> None:
    plugin = make_plugin()
    names = [f"user{n}" for n in range(MAX_RECORDS + 2)]

    register(store, *names)
    assert plugin.wait_for_delivery(30)

    assert MAX_RECORDS == 1000
    assert plugin.total == 1002
    records = plugin.records
    assert len(records) == 1000  # the two oldest were dropped
    assert [r.subject for r in records[:1]] == ["Welcome to storeapp, user2"]
    assert records[-1].subject == "Welcome to storeapp, user1001"
    assert {r.status for r in records} == {"sent"}
    assert isinstance(plugin.backend, mail.MemoryBackend)
    assert len(plugin.backend.outbox) == 1002  # the backend sent them all
