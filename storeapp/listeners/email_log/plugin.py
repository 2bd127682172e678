"""The email log plugin: a welcome email per new user, a confirmation per order.

Both receivers are connected with ``on_commit=True``: a rolled-back
registration or order sends nothing. A receiver copies what it needs out of
the payload (plain strings, never an ORM object), records the email as
``queued`` in the :class:`~storeapp.listeners.email_log.log.EmailLog` and
hands the building of a real MIME message (:mod:`storeapp.mail`) and its
delivery to the one background delivery thread
(:class:`storeapp.mail.DeliveryQueue`), so the thread that committed never
waits for a mail server. The outcome, ``sent`` or ``failed: <reason>``,
comes back from that thread; the panel's model is refreshed on the GUI
thread through ``host.coalesce``.

Settings (``email_log/...``): ``backend`` (``file`` | ``smtp`` | ``memory``
or an import path), ``from_address``, ``smtp_host``, ``smtp_port``,
``smtp_timeout``. They are read when the plugin is enabled. The file
backend writes to ``<data dir>/outbox/``.

This module loads no Qt: the model and the panel are imported when the
window asks for the panel, so a headless host (a script, a benchmark)
runs the plugin without PySide6.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storeapp import mail
from storeapp.domain.signals import order_created, user_registered
from storeapp.listeners.api import DockPlacement, ListenerPlugin, PluginHost
from storeapp.listeners.email_log.log import EmailLog, EmailRecord

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from storeapp.listeners.email_log.model import EmailLogModel
    from storeapp.listeners.email_log.panel import EmailLogPanel, EmailMessageDialog

__all__ = ["EmailLogPlugin"]

logger = logging.getLogger("storeapp.email")


class EmailLogPlugin(ListenerPlugin):
    name = "email_log"
    title = "Email log"
    description = (
        "Sends a welcome email when a user registers (user_registered) and an "
        "order confirmation when an order is placed (order_created), only "
        "after the transaction commits (on_commit=True): a rolled-back order "
        "sends nothing. Delivery runs on one background thread, so a slow mail "
        "server never holds up the till. Messages go to the outbox folder, an "
        "SMTP server or memory (setting email_log/backend); the panel lists "
        "each one with its status and shows it in full on double-click."
    )
    listens_to = ("user_registered", "order_created")
    order = 20
    panel_object_name = "emailLogDock"
    dock = DockPlacement("bottom", slot=0, share=45, size=300)

    #: How long shutdown() lets the delivery thread drain before abandoning.
    shutdown_timeout = 2.0
    MODEL_KEY = "email_log.model"

    def __init__(self, host: PluginHost) -> None:
        super().__init__(host)
        self._lock = threading.Lock()
        self.log = EmailLog()
        self._enabled = False
        self._failing = False
        self.delivery: mail.DeliveryQueue | None = None
        self.backend: mail.BaseEmailBackend | None = None
        self.from_address = mail.DEFAULT_FROM
        self.model: EmailLogModel | None = None
        self.panel: EmailLogPanel | None = None

    # -- the contract --------------------------------------------------------

    def ready(self) -> None:
        with self._lock:
            running = self.delivery is not None
        if not running:
            backend = self._make_backend()
            from_address = self._from_address()
            with self._lock:
                self.backend = backend
                self.from_address = from_address
                self.delivery = mail.DeliveryQueue(
                    backend, self._on_status, between=self.host.yield_to_gui
                )
                self._enabled = True
        self.connect(user_registered, self._on_user_registered, on_commit=True)
        self.connect(order_created, self._on_order_created, on_commit=True)
        self._schedule_refresh()

    def shutdown(self) -> None:
        super().shutdown()
        with self._lock:
            self._enabled = False
            delivery, self.delivery = self.delivery, None
        if delivery is not None:
            delivery.close(self.shutdown_timeout)
        self._schedule_refresh()

    def close(self) -> None:
        """Alias of :meth:`shutdown` (stop listening, stop the thread)."""
        self.shutdown()

    def create_panel(self) -> EmailLogPanel:
        from storeapp.listeners.email_log.model import EmailLogModel
        from storeapp.listeners.email_log.panel import EmailLogPanel

        if self.model is None:
            # Published before the snapshot: a receiver that records after
            # the snapshot sees the model and schedules a refresh.
            self.model = EmailLogModel()
        self.model.sync(self.records)
        self.panel = EmailLogPanel(self, self.model)
        return self.panel

    # -- what the window and the tests use -------------------------------------

    @property
    def records(self) -> list[EmailRecord]:
        """A snapshot of the log, oldest first (safe from any thread)."""
        return self.log.records()

    @property
    def total(self) -> int:
        """Every email recorded since start (the log keeps the last MAX_RECORDS)."""
        return self.log.total

    def wait_for_delivery(self, timeout: float | None = 5.0) -> bool:
        """Block until every queued message is sent or failed (tests, exit)."""
        delivery = self.delivery
        return True if delivery is None else delivery.wait_idle(timeout)

    def backend_description(self) -> str:
        backend = self.backend
        if backend is None:
            return "Not enabled."
        describe = getattr(backend, "describe", None)
        text = describe() if callable(describe) else type(backend).__name__
        return text if self._enabled else f"{text} (disabled)"

    def open_message(self, row: int, parent: QWidget | None = None) -> EmailMessageDialog | None:
        """Show the message of ``row`` in a non-modal dialog (GUI thread)."""
        from storeapp.listeners.email_log.panel import EmailMessageDialog

        if self.model is None or not 0 <= row < self.model.rowCount():
            return None
        dialog = EmailMessageDialog(self.model.record(row), parent or self.panel)
        dialog.show()
        return dialog

    # -- settings ------------------------------------------------------------------

    def _setting(self, key: str, default: Any) -> Any:
        try:
            value = self.host.setting(f"{self.name}/{key}", default)
        except Exception:
            logger.exception("Reading the setting %s/%s failed", self.name, key)
            return default
        return default if value is None or value == "" else value

    def _make_backend(self) -> mail.BaseEmailBackend:
        name = str(self._setting("backend", "file"))
        try:
            port = int(self._setting("smtp_port", 25))
            timeout = float(self._setting("smtp_timeout", 10.0))
        except (TypeError, ValueError):
            raise mail.MailError("The SMTP port and timeout must be numbers.") from None
        return mail.get_backend(
            name,
            directory=Path(self.host.data_dir) / "outbox",
            host=str(self._setting("smtp_host", "127.0.0.1")),
            port=port,
            timeout=timeout,
        )

    def _from_address(self) -> str:
        value = str(self._setting("from_address", mail.DEFAULT_FROM))
        if not mail.valid_from_address(value):
            logger.warning("Invalid email_log/from_address %r; using the default", value)
            return mail.DEFAULT_FROM
        return value

    # -- receivers (any thread; after commit) --------------------------------------

    def _on_user_registered(self, sender: Any = None, user: Any = None, **kwargs: Any) -> None:
        try:
            username, email = str(user.username), str(user.email)
        except Exception:
            logger.exception("user_registered without a usable user")
            return
        self._submit(
            "welcome",
            lambda frm: mail.welcome_message(from_address=frm, username=username, email=email),
            to=f"{username} <{email}>",
            subject=f"Welcome to storeapp, {username}",
        )

    def _on_order_created(self, sender: Any = None, order: Any = None, **kwargs: Any) -> None:
        try:
            user = order.customer.user
            username, email = str(user.username), str(user.email)
            number = str(order.id)
            lines: list[mail.OrderLine] = [
                (
                    str(item.product.name),
                    int(item.quantity),
                    f"{item.unit_price:.2f}",
                    f"{item.line_total:.2f}",
                )
                for item in order.items
            ]
            total = f"{order.total:.2f}"
        except Exception:
            logger.exception("order_created without a usable order")
            return
        self._submit(
            "order",
            lambda frm: mail.order_confirmation(
                from_address=frm,
                username=username,
                email=email,
                order_number=number,
                lines=lines,
                total=total,
            ),
            to=f"{username} <{email}>",
            subject=f"Your storeapp order #{number}",
        )

    def _submit(self, kind: str, build: Callable[[str], Message], *, to: str, subject: str) -> None:
        """Record the email as queued and hand the building and the sending
        to the delivery thread: the committing thread (often the GUI thread,
        or a rush of orders) only copies a few strings."""
        with self._lock:
            if not self._enabled or self.delivery is None:
                return  # a hook queued before shutdown() ran after it
            delivery, from_address = self.delivery, self.from_address
            record = self.log.add(to=to, subject=subject, kind=kind)

        def make() -> Message:
            message = build(from_address)
            self.log.built(record.id, message)
            return message

        delivery.put(record.id, make)
        self._schedule_refresh()

    def _on_status(self, record_id: int, status: str) -> None:
        """From the delivery thread: record the outcome, refresh the panel."""
        with self._lock:
            record = self.log.set_status(record_id, status)
            failed = status.startswith(mail.FAILED_PREFIX)
            first_failure = failed and not self._failing
            self._failing = failed
        if first_failure and record is not None:
            try:
                self.host.notify(
                    f"An email to {record.to} could not be sent: "
                    f"{status[len(mail.FAILED_PREFIX) :]}. See the Email log."
                )
            except Exception:
                logger.exception("Notifying the cashier failed")
        self._schedule_refresh()

    # -- GUI side ----------------------------------------------------------------

    def _schedule_refresh(self) -> None:
        if self.model is not None:
            self.host.coalesce(self.MODEL_KEY, self._refresh_model)

    def _refresh_model(self) -> None:
        """Runs on the GUI thread (through host.coalesce)."""
        model = self.model
        if model is None:
            return
        model.sync(self.records)
        if self.panel is not None:
            try:
                self.panel.refresh()
            except RuntimeError:  # the panel's C++ object is gone (dock closed)
                self.panel = None
