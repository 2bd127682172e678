"""The email log plugin against a real SQLite store: backends and delivery.

The SMTP tests talk to a tiny SMTP server started here on 127.0.0.1 with an
ephemeral port (socketserver, no extra dependency).
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import SimpleNamespace

import pytest

from storeapp import mail
from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.models import User
from storeapp.domain.signals import user_registered
from storeapp.listeners import core
from storeapp.listeners.api import HeadlessHost
from storeapp.listeners.email_log.plugin import EmailLogPlugin

PASSWORD = "s3cret-Passw0rd!"


# --------------------------------------------------------------------------
# Fixtures and helpers
# --------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    seed_catalogue(store)
    core.ready()
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def make_plugin(store, tmp_path):
    made: list[EmailLogPlugin] = []

    def make(**settings) -> EmailLogPlugin:
        host = HeadlessHost(
            store, tmp_path, settings={f"email_log/{k}": v for k, v in settings.items()}
        )
        plugin = EmailLogPlugin(host)
        made.append(plugin)
        plugin.ready()
        return plugin

    yield make
    for plugin in made:
        plugin.shutdown()


def product(store: Store, sku: str):
    return next(p for p in store.list_products() if p.sku == sku)


def place_order(store: Store, user, lines: dict[str, int]):
    cart = store.create_cart()
    for sku, quantity in lines.items():
        store.add_to_cart(cart.id, product(store, sku).id, quantity)
    return store.place_order(cart.id, user.id)


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


def outbox_files(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "outbox").glob("*.eml"))


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT."""

    def reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")

    def handle(self) -> None:
        server = self.server
        self.reply("220 test.invalid ESMTP ready")
        sender, recipients = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode("utf-8", "replace").rstrip("\r\n")
            verb = command[:4].upper()
            if verb == "EHLO":
                self.reply("250-test.invalid\r\n250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 test.invalid")
            elif verb == "MAIL":
                sender, recipients = command.split(":", 1)[1].strip(), []
                self.reply("250 OK")
            elif verb == "RCPT":
                if server.refuse_recipients:
                    self.reply("550 5.1.1 No such mailbox here")
                else:
                    recipients.append(command.split(":", 1)[1].strip())
                    self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                chunks = []
                while True:
                    data = self.rfile.readline()
                    if data in (b".\r\n", b""):
                        break
                    chunks.append(data[1:] if data.startswith(b"..") else data)
                server.received.append((sender, recipients, b"".join(chunks)))
                self.reply("250 OK queued")
            elif verb == "RSET":
                sender, recipients = None, []
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.received: list[tuple[str, list[str], bytes]] = []
        self.refuse_recipients = False


@pytest.fixture
def smtp_server():
    server = _SMTPServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that refuses connections (bound, not listening)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


class GateBackend(mail.BaseEmailBackend):
    """Blocks in send_messages() until ``gate`` is set; records the thread."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.gate = threading.Event()
        self.started = threading.Event()
        self.outbox: list = []
        self.threads: set[str] = set()

    def send_messages(self, messages) -> int:
        self.threads.add(threading.current_thread().name)
        self.started.set()
        if not self.gate.wait(10):
            raise TimeoutError("the gate was never opened")
        self.outbox.extend(messages)
        return len(messages)


# --------------------------------------------------------------------------
# The file backend
# --------------------------------------------------------------------------


def test_file_backend_writes_one_parseable_eml_file_per_message(tmp_path):
    backend = mail.FileBackend(tmp_path / "outbox")
    messages = [
        mail.welcome_message(from_address=mail.DEFAULT_FROM, username=n, email=f"{n}@example.com")
        for n in ("ada", "grace")
    ]

    assert backend.send_messages(messages) == 2

    files = outbox_files(tmp_path)
    assert len(files) == 2
    assert sorted((tmp_path / "outbox").iterdir()) == files  # no temp file left behind
    parsed = sorted((parse(f.read_bytes()) for f in files), key=lambda m: m["To"])
    for msg, name in zip(parsed, ("ada", "grace")):
        assert msg["From"] == mail.DEFAULT_FROM
        assert msg["To"].addresses[0].addr_spec == f"{name}@example.com"
        assert msg["Subject"] == f"Welcome to storeapp, {name}"
        assert msg["Date"].datetime is not None
        assert msg["Message-ID"].startswith("<") and msg["Message-ID"].endswith(">")
        assert f"Hello {name}," in msg.get_content()
    assert parsed[0]["Message-ID"] != parsed[1]["Message-ID"]


def test_registration_writes_a_welcome_eml_file_to_the_outbox_by_default(
    store, make_plugin, tmp_path
):
    plugin = make_plugin(from_address="Corner Shop <hello@corner.invalid>")

    store.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(5)

    [path] = outbox_files(tmp_path)
    msg = parse(path.read_bytes())
    assert msg["From"] == "Corner Shop <hello@corner.invalid>"
    assert msg["To"].addresses[0].addr_spec == "ada@example.com"
    assert msg["Subject"] == "Welcome to storeapp, ada"
    assert msg["Message-ID"].endswith("@corner.invalid>")
    [record] = plugin.records
    assert (record.to, record.status, record.kind) == ("ada <ada@example.com>", "sent", "welcome")


# --------------------------------------------------------------------------
# The SMTP backend
# --------------------------------------------------------------------------


def test_smtp_backend_delivers_welcome_and_confirmation_to_a_local_server(
    store, make_plugin, smtp_server
):
    plugin = make_plugin(
        backend="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.server_address[1]
    )

    user = store.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(store, user, {"COF-250": 2})
    assert plugin.wait_for_delivery(5)

    assert [r.status for r in plugin.records] == ["sent", "sent"]
    assert len(smtp_server.received) == 2
    subjects = []
    for sender, recipients, data in smtp_server.received:
        assert sender == "<shop@storeapp.invalid>"
        assert recipients == ["<ada@example.com>"]
        subjects.append(parse(data)["Subject"])
    assert subjects == ["Welcome to storeapp, ada", f"Your storeapp order #{order.id}"]


def test_smtp_connection_refused_marks_the_message_failed_and_the_order_stands(
    store, make_plugin, closed_port
):
    plugin = make_plugin(backend="smtp", smtp_port=closed_port, smtp_timeout=5)

    user = store.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(store, user, {"TEA-GRN": 1})
    assert plugin.wait_for_delivery(10)

    assert store.get_order(order.id).total == order.total  # committed, untouched
    statuses = [r.status for r in plugin.records]
    assert len(statuses) == 2
    for status in statuses:
        assert status.startswith("failed: could not connect to the mail server 127.0.0.1:")
        assert "connection refused" in status
        assert "Traceback" not in status
    # The cashier is told once, not once per message.
    assert len(plugin.host.notices) == 1
    assert "could not be sent" in plugin.host.notices[0]


def test_smtp_refused_recipient_gives_a_readable_reason(store, make_plugin, smtp_server):
    smtp_server.refuse_recipients = True
    plugin = make_plugin(backend="smtp", smtp_port=smtp_server.server_address[1])

    store.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(5)

    [record] = plugin.records
    assert record.status.startswith("failed: the mail server refused the recipient")
    assert "550" in record.status and "No such mailbox" in record.status


# --------------------------------------------------------------------------
# After commit only; content
# --------------------------------------------------------------------------


def test_welcome_email_waits_for_the_commit_and_a_rollback_sends_nothing(store, make_plugin):
    plugin = make_plugin(backend="memory")
    fake_user = SimpleNamespace(username="ghost", email="ghost@example.com")

    with pytest.raises(RuntimeError):
        with store.unit_of_work():
            user_registered.send_robust(User, user=fake_user)
            assert plugin.records == []  # deferred until the commit
            raise RuntimeError("roll back")
    assert plugin.wait_for_delivery(5)
    assert plugin.records == []
    assert plugin.backend.outbox == []

    with store.unit_of_work() as uow:
        user_registered.send_robust(User, user=fake_user)
        assert plugin.records == []
        uow.commit()
    assert plugin.wait_for_delivery(5)
    [message] = plugin.backend.outbox
    assert message["To"].addresses[0].addr_spec == "ghost@example.com"


def test_order_confirmation_lists_every_line_and_the_total(store, make_plugin):
    plugin = make_plugin(backend="memory")
    user = store.register_user("ada", "ada@example.com", PASSWORD)

    order = place_order(store, user, {"COF-250": 2, "CRO-BUT": 3})
    assert plugin.wait_for_delivery(5)

    confirmation = plugin.backend.outbox[-1]
    assert confirmation["Subject"] == f"Your storeapp order #{order.id}"
    assert confirmation["To"].addresses[0].addr_spec == "ada@example.com"
    body = confirmation.get_content()
    lines = body.splitlines()
    coffee = next(line for line in lines if "Coffee beans 250 g" in line)
    assert coffee.split()[0] == "2" and coffee.split()[-2:] == ["7.90", "15.80"]
    croissant = next(line for line in lines if "Butter croissant" in line)
    assert croissant.split()[0] == "3" and croissant.split()[-2:] == ["1.80", "5.40"]
    assert f"#{order.id}" in body
    assert str(order.total) == "21.20"
    assert "Total: 21.20" in body
    assert plugin.records[-1].kind == "order"


def test_disabled_plugin_sends_nothing_and_sends_again_once_re_enabled(store, make_plugin):
    plugin = make_plugin(backend="memory")
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    place_order(store, user, {"MLK-1L": 1})
    assert plugin.wait_for_delivery(5)
    assert len(plugin.records) == 2

    plugin.shutdown()
    place_order(store, user, {"MLK-1L": 1})
    assert len(plugin.records) == 2

    plugin.ready()
    order = place_order(store, user, {"MLK-1L": 1})
    assert plugin.wait_for_delivery(5)
    assert len(plugin.records) == 3
    assert plugin.records[-1].subject == f"Your storeapp order #{order.id}"
    assert plugin.records[-1].status == "sent"


def test_no_password_or_password_hash_appears_in_any_message(store, make_plugin, tmp_path):
    plugin = make_plugin()  # the file backend
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    place_order(store, user, {"CHO-70": 1})
    assert plugin.wait_for_delivery(5)
    assert user.password_hash and PASSWORD not in user.password_hash

    files = outbox_files(tmp_path)
    assert len(files) == 2
    texts = []
    for path in files:
        raw = path.read_bytes()
        texts.append(raw.decode("utf-8", "replace"))
        texts.append(parse(raw).get_content())
    for record in plugin.records:
        texts.append(record.message.as_string())
        texts.append(record.message.get_content())
        texts.append(f"{record.to} {record.subject} {record.status}")
    assert any("ada@example.com" in text for text in texts)  # we did read them
    for text in texts:
        assert PASSWORD not in text
        assert user.password_hash not in text


# --------------------------------------------------------------------------
# The delivery thread
# --------------------------------------------------------------------------


def test_delivery_runs_on_one_background_thread_and_never_blocks_the_committer(
    store, make_plugin, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "gate", GateBackend)
    plugin = make_plugin(backend="gate")
    backend = plugin.backend
    assert isinstance(backend, GateBackend)

    user = store.register_user("ada", "ada@example.com", PASSWORD)  # returns: not blocked
    order = place_order(store, user, {"BAG-SES": 1})  # nor is this
    assert backend.started.wait(5)
    assert [r.status for r in plugin.records] == ["queued", "queued"]
    assert store.get_order(order.id).id == order.id

    backend.gate.set()
    assert plugin.wait_for_delivery(5)
    assert [r.status for r in plugin.records] == ["sent", "sent"]
    assert backend.threads == {"storeapp-email"}
    assert threading.current_thread().name not in backend.threads


def test_shutdown_with_a_stuck_backend_returns_in_bounded_time_and_abandons_the_rest(
    store, make_plugin, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "gate", GateBackend)
    plugin = make_plugin(backend="gate")
    plugin.shutdown_timeout = 0.2
    backend, delivery = plugin.backend, plugin.delivery
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    place_order(store, user, {"WTR-SPK": 1})
    assert backend.started.wait(5)  # the welcome email is in flight

    started = time.monotonic()
    plugin.shutdown()
    assert time.monotonic() - started < 2.0

    backend.gate.set()
    delivery.thread.join(5)
    assert not delivery.thread.is_alive()
    welcome, confirmation = plugin.records
    assert welcome.status == "sent"
    assert confirmation.status.startswith("failed: not sent (the email log was stopped")
    assert len(backend.outbox) == 1


def test_an_unknown_backend_setting_fails_ready_with_a_readable_message(store, tmp_path):
    plugin = EmailLogPlugin(HeadlessHost(store, tmp_path, {"email_log/backend": "pigeon"}))
    with pytest.raises(mail.MailError, match="Unknown email backend 'pigeon'"):
        plugin.ready()
    plugin.shutdown()
    assert plugin.records == []
