"""The email log's backends against a real store and a durable worker: the
outbox folder, a real SMTP server (aiosmtpd) and memory; one message per
event however often it is delivered."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import update

from storeapp import mail
from storeapp.domain.errors import OutOfStock
from storeapp.domain.events.tables import progress
from storeapp.listeners.api import HeadlessHost
from storeapp.listeners.email_log.plugin import EmailLogPlugin
from tests.integration.mailtools import (
    PASSWORD,
    outbox_files,
    parse,
    place_order,
    wait_until,
)


def welcome(name: str, message_id: str | None = None):
    return mail.welcome_message(
        from_address=mail.DEFAULT_FROM,
        username=name,
        email=f"{name}@example.com",
        message_id=message_id,
    )


def redeliver_everything(shop) -> None:
    """As if the worker crashed after sending, before recording it: every
    email receiver's cursor goes back to the start."""
    with shop.engine.begin() as conn:
        conn.execute(
            update(progress)
            .where(progress.c.receiver.like("email_log.%"))
            .values(cursor=0, owner=None)
        )


# -- the backends alone --------------------------------------------------------------


def test_file_backend_writes_one_parseable_eml_file_per_message(tmp_path):
    backend = mail.FileBackend(tmp_path / "outbox")

    assert backend.send_messages([welcome("ada"), welcome("grace")]) == 2

    files = outbox_files(tmp_path)
    assert len(files) == 2
    assert sorted((tmp_path / "outbox").iterdir()) == files  # no temp file left behind
    parsed = sorted((parse(f.read_bytes()) for f in files), key=lambda m: str(m["To"]))
    for msg, name in zip(parsed, ("ada", "grace")):
        assert msg["To"].addresses[0].addr_spec == f"{name}@example.com"
        assert msg["Subject"] == f"Welcome to storeapp, {name}"
        assert f"Hello {name}," in msg.get_content()
    assert parsed[0]["Message-ID"] != parsed[1]["Message-ID"]


def test_the_file_and_memory_backends_keep_one_message_per_message_id(tmp_path):
    message_id = mail.event_message_id("welcome", 12)
    files, memory = mail.FileBackend(tmp_path / "outbox"), mail.MemoryBackend()
    for backend in (files, memory):
        backend.send_messages([welcome("ada", message_id)])
        backend.send_messages([welcome("ada", message_id), welcome("grace")])

    names = [p.name for p in outbox_files(tmp_path)]
    assert len(names) == 2 and "welcome.E12@storeapp.invalid.eml" in names
    assert sorted((tmp_path / "outbox").iterdir()) == outbox_files(tmp_path)
    assert [m["Message-ID"] for m in memory.outbox][0] == message_id
    assert len(memory.outbox) == 2


# -- through the plugin and the worker -----------------------------------------------


def test_registration_writes_a_welcome_file_named_after_its_event(
    shop, make_plugin, make_worker, tmp_path
):
    plugin = make_plugin(from_address="Corner Shop <hello@corner.invalid>")
    make_worker()

    shop.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(10)

    [path] = outbox_files(tmp_path)
    [record] = plugin.records
    assert path.name == f"welcome.E{record.id}@corner.invalid.eml"
    msg = parse(path.read_bytes())
    assert msg["From"] == "Corner Shop <hello@corner.invalid>"
    assert msg["To"].addresses[0].addr_spec == "ada@example.com"
    assert msg["Message-ID"] == f"<welcome.E{record.id}@corner.invalid>"
    assert (record.to, record.status, record.kind) == ("ada <ada@example.com>", "sent", "welcome")


def test_the_same_event_delivered_twice_makes_one_file(shop, make_plugin, make_worker, tmp_path):
    plugin = make_plugin()
    worker = make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    place_order(shop, user, {"COF-250": 1})
    assert plugin.wait_for_delivery(10)
    before = {p.name: p.read_bytes() for p in outbox_files(tmp_path)}
    assert len(before) == 2
    worker.stop()
    plugin.shutdown()

    restarted = make_plugin()  # a new process knows nothing of what was sent
    redeliver_everything(shop)
    make_worker()
    assert restarted.wait_for_delivery(10)

    assert {p.name: p.read_bytes() for p in outbox_files(tmp_path)} == before


def test_the_same_event_delivered_twice_is_one_smtp_message_with_one_message_id(
    shop, make_plugin, make_worker, smtp_server
):
    plugin = make_plugin(backend="smtp", smtp_port=smtp_server.port)
    make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(shop, user, {"COF-250": 2})
    assert plugin.wait_for_delivery(10)
    welcome_id, order_id = (r.id for r in plugin.records)
    ids = [
        f"<welcome.E{welcome_id}@storeapp.invalid>",
        f"<order-confirmation.E{order_id}@storeapp.invalid>",
    ]
    assert smtp_server.handler.message_ids() == ids

    redeliver_everything(shop)  # this process delivers the same events again
    wait_until(lambda: plugin.wait_for_delivery(0), what="the redelivery")
    assert smtp_server.handler.message_ids() == ids

    plugin.shutdown()  # a restart: a relay cannot refuse a duplicate, so
    restarted = make_plugin(backend="smtp", smtp_port=smtp_server.port)
    redeliver_everything(shop)
    assert restarted.wait_for_delivery(10)
    # ...it is the same message (the two receivers may go in either order)
    assert sorted(smtp_server.handler.message_ids()) == sorted(ids + ids)
    received = smtp_server.handler.messages
    assert received[0][:2] == ("shop@storeapp.invalid", ["ada@example.com"])
    assert parse(received[1][2])["Subject"] == f"Your storeapp order #{order.id}"


def test_an_unreachable_relay_keeps_the_message_retrying_with_a_readable_reason(
    shop, make_plugin, make_worker, smtp_server
):
    smtp_server.stop()
    plugin = make_plugin(backend="smtp", smtp_port=smtp_server.port, smtp_timeout=5)
    make_worker()

    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(shop, user, {"TEA-GRN": 1})
    wait_until(lambda: any(r.state == "retrying" for r in plugin.records), what="a retry")

    assert shop.get_order(order.id).total == order.total  # committed, untouched
    retrying = next(r for r in plugin.records if r.state == "retrying")
    assert retrying.error.startswith("could not connect to the mail server 127.0.0.1:")
    assert "connection refused" in retrying.error and "Traceback" not in retrying.status
    # Each email has its own receiver, so each is retrying (the one in front).
    wait_until(lambda: [r.state for r in plugin.records] == ["retrying", "retrying"])
    # The cashier is told once, not once per attempt.
    wait_until(lambda: min(r.attempts for r in plugin.records) >= 3, what="more attempts")
    assert len(plugin.host.notices) == 1
    assert "will be retried" in plugin.host.notices[0]


def test_a_refused_recipient_is_dead_at_once_and_the_next_message_goes(
    shop, make_plugin, make_worker, smtp_server
):
    smtp_server.handler.refuse_recipients = True
    plugin = make_plugin(backend="smtp", smtp_port=smtp_server.port)
    make_worker()

    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    wait_until(lambda: [r.state for r in plugin.records] == ["dead"], what="the dead welcome")
    [record] = plugin.records
    assert record.attempts == 1
    assert record.error.startswith("the mail server refused the recipient")
    assert "550" in record.error and "No such mailbox" in record.error

    smtp_server.handler.refuse_recipients = False
    place_order(shop, user, {"TEA-GRN": 1})
    assert plugin.wait_for_delivery(10)
    assert len(smtp_server.handler.messages) == 1


# -- after commit only; content --------------------------------------------------------


def test_a_rolled_back_order_sends_nothing(shop, make_plugin, make_worker):
    plugin = make_plugin(backend="memory")
    make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(10)

    with pytest.raises(OutOfStock):
        place_order(shop, user, {"MLK-1L": 10_000})
    assert plugin.wait_for_delivery(10)

    assert [m["Subject"] for m in plugin.backend.outbox] == ["Welcome to storeapp, ada"]


def test_order_confirmation_lists_every_line_and_the_total(shop, make_plugin, make_worker):
    plugin = make_plugin(backend="memory")
    make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)

    order = place_order(shop, user, {"COF-250": 2, "CRO-BUT": 3})
    assert plugin.wait_for_delivery(10)

    confirmation = plugin.backend.outbox[-1]
    assert confirmation["Subject"] == f"Your storeapp order #{order.id}"
    assert confirmation["To"].addresses[0].addr_spec == "ada@example.com"
    lines = confirmation.get_content().splitlines()
    coffee = next(line for line in lines if "Coffee beans 250 g" in line)
    assert coffee.split()[0] == "2" and coffee.split()[-2:] == ["7.90", "15.80"]
    croissant = next(line for line in lines if "Butter croissant" in line)
    assert croissant.split()[0] == "3" and croissant.split()[-2:] == ["1.80", "5.40"]
    assert f"#{order.id}" in confirmation.get_content()
    assert "Total: 21.20" in confirmation.get_content()
    assert plugin.records[-1].kind == "order"


def test_a_disabled_email_log_keeps_its_messages_owed_and_sends_them_once_re_enabled(
    shop, make_plugin, make_worker
):
    plugin = make_plugin(backend="memory")
    make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(10)

    plugin.shutdown()
    order = place_order(shop, user, {"MLK-1L": 1})
    assert not plugin.wait_for_delivery(0.3)  # owed, not lost
    assert len(plugin.backend.outbox) == 1

    plugin.ready()
    assert plugin.wait_for_delivery(10)
    assert plugin.records[-1].subject == f"Your storeapp order #{order.id}"
    assert plugin.records[-1].status == "sent"


def test_no_password_or_password_hash_appears_in_any_message(
    shop, make_plugin, make_worker, tmp_path
):
    plugin = make_plugin()  # the file backend
    make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    place_order(shop, user, {"CHO-70": 1})
    assert plugin.wait_for_delivery(10)
    assert user.password_hash and PASSWORD not in user.password_hash

    texts = []
    for path in outbox_files(tmp_path):
        raw = path.read_bytes()
        texts += [raw.decode("utf-8", "replace"), parse(raw).get_content()]
    for record in plugin.records:
        texts += [record.message.as_string(), f"{record.to} {record.subject} {record.status}"]
    assert len(texts) == 8 and any("ada@example.com" in text for text in texts)
    for text in texts:
        assert PASSWORD not in text and user.password_hash not in text


# -- the thread ------------------------------------------------------------------------


class GateBackend(mail.BaseEmailBackend):
    """Blocks in send_messages() until ``gate`` is set; records the thread."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.gate, self.started = threading.Event(), threading.Event()
        self.outbox: list[Any] = []
        self.threads: set[str] = set()

    def send_messages(self, messages: Any) -> int:
        self.threads.add(threading.current_thread().name)
        self.started.set()
        if not self.gate.wait(10):
            raise TimeoutError("the gate was never opened")
        self.outbox.extend(messages)
        return len(messages)


def test_delivery_runs_on_the_durable_worker_and_never_blocks_the_committer(
    shop, make_plugin, make_worker, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "gate", GateBackend)
    plugin = make_plugin(backend="gate")
    backend = plugin.backend
    assert isinstance(backend, GateBackend)
    make_worker()

    user = shop.register_user("ada", "ada@example.com", PASSWORD)  # returns: not blocked
    order = place_order(shop, user, {"BAG-SES": 1})  # nor is this
    assert backend.started.wait(5)
    assert shop.get_order(order.id).id == order.id

    backend.gate.set()
    assert plugin.wait_for_delivery(10)
    assert [r.status for r in plugin.records] == ["sent", "sent"]
    assert backend.threads == {"storeapp-durable"}


def test_an_unknown_backend_setting_fails_ready_with_a_readable_message(shop, tmp_path):
    plugin = EmailLogPlugin(HeadlessHost(shop, tmp_path, {"email_log/backend": "pigeon"}))
    with pytest.raises(mail.MailError, match="Unknown email backend 'pigeon'"):
        plugin.ready()
    plugin.shutdown()
    assert plugin.records == []
