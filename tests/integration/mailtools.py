"""What the email tests share: a real SMTP server (aiosmtpd) that can be
stopped and started again on the same port, a durable worker with short
delays, an email log plugin on a real store, and waiting with a deadline."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.events.worker import DurableWorker
from storeapp.listeners import core
from storeapp.listeners.api import HeadlessHost
from storeapp.listeners.email_log.plugin import EmailLogPlugin

PASSWORD = "s3cret-Passw0rd!"


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, what: str = "") -> None:
    """Poll ``condition`` until it is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        time.sleep(0.01)


def parse(data: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(message, EmailMessage)
    return message


class Received:
    """aiosmtpd's handler: keeps what arrived; can refuse recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refuse_recipients = False
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_recipients:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK queued"

    @property
    def parsed(self) -> list[EmailMessage]:
        with self.lock:
            return [parse(data) for _f, _t, data in self.messages]

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.parsed]


class SMTPServer:
    """An aiosmtpd server on 127.0.0.1 whose port survives stop() and start()."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.handler = Received()
        self.controller: Controller | None = None

    def start(self) -> None:
        # SMTPUTF8 offered, as by current relays: international addresses.
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, enable_SMTPUTF8=True
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Store]:
    """A store with the demo catalogue and the core listener (customers)."""
    store = Store.open(f"sqlite:///{tmp_path}/shop.db")
    seed_catalogue(store)
    core.ready()
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def make_plugin(shop: Store, tmp_path: Path) -> Iterator[Callable[..., EmailLogPlugin]]:
    """``make_plugin(**settings)``: an enabled email log (the file backend
    unless ``backend`` says otherwise)."""
    made: list[EmailLogPlugin] = []

    def make(**settings: Any) -> EmailLogPlugin:
        values = {f"email_log/{k}": v for k, v in settings.items()}
        plugin = EmailLogPlugin(HeadlessHost(shop, tmp_path, values))
        made.append(plugin)
        plugin.ready()
        return plugin

    yield make
    for plugin in made:
        plugin.shutdown()


@pytest.fixture
def make_worker(shop: Store) -> Iterator[Callable[..., DurableWorker]]:
    """``make_worker(**options)``: a started durable worker with short delays."""
    made: list[DurableWorker] = []

    def make(**options: Any) -> DurableWorker:
        options = {"poll": 0.02, "backoff": 0.02, "backoff_cap": 0.1, **options}
        worker = DurableWorker(shop.engine, **options)
        made.append(worker)
        worker.start()
        return worker

    yield make
    for worker in made:
        worker.stop()


def product(store: Store, sku: str) -> Any:
    return next(p for p in store.list_products() if p.sku == sku)


def place_order(store: Store, user: Any, lines: dict[str, int]) -> Any:
    cart = store.create_cart()
    for sku, quantity in lines.items():
        store.add_to_cart(cart.id, product(store, sku).id, quantity)
    return store.place_order(cart.id, user.id)


def outbox_files(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "outbox").glob("*.eml"))
