"""The email log plugin: a welcome email per new user, a confirmation per order.

Both emails are **durable receivers** (``email_log.welcome`` and
``email_log.order_confirmation``): the durable worker delivers each
committed ``user_registered`` and ``order_created`` event from the event
log, on its own thread, at least once, after a crash or a restart too. A
receiver builds the message from the event's payload
(:mod:`~storeapp.listeners.email_log.emails` says why) and sends it
synchronously, there and then; an exception is a failed attempt, retried
with backoff (at most :attr:`EmailLogPlugin.retry_cap` seconds apart, so a
relay that is back is used soon), then parked as dead after
``max_attempts``; a refusal no retry can change (a 5xx reply, a payload
that makes no email) is parked at once (``GiveUp``), so it does not hold
up the messages behind it. A dead message is retried by hand from the panel.

Delivery is idempotent per event: the Message-ID is derived from the event
id (``<order-confirmation.E12@shop.invalid>``), the file backend keeps one
file per Message-ID and the memory backend one message, and a message this
process already sent is not sent again. (An SMTP relay cannot refuse a
duplicate: after a crash between the send and the worker's bookkeeping the
same message may go twice, with the same Message-ID, which mail clients
show once.)

Two after-commit receivers (``on_commit=True``) only refresh the panel
(the new message shows as queued): the email itself no longer waits in
memory. The panel
shows each message's state from the database (queued, sent, retrying with
the attempt and the next try, dead), loaded off the GUI thread through
``host.coalesce_load``; its model is refreshed on the GUI thread.

Settings (``email_log/...``): ``backend`` (``file`` | ``smtp`` | ``memory``
or an import path), ``from_address``, ``smtp_host``, ``smtp_port``,
``smtp_timeout``, ``max_attempts``, ``retry_cap`` (seconds). They are read
when the plugin is enabled. The file backend writes to ``<data dir>/outbox/``.

This module loads no Qt: the model and the panel are imported when the
window asks for the panel, so a headless host (a script, a benchmark)
runs the plugin without PySide6.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storeapp import mail
from storeapp.domain.events.durable import GiveUp, pending_events, retry_dead
from storeapp.domain.events.durable import registry as durable_registry
from storeapp.domain.signals import order_created, user_registered
from storeapp.listeners.api import DockPlacement, ListenerPlugin, PluginHost
from storeapp.listeners.email_log import backlog, emails
from storeapp.listeners.email_log.emails import KINDS, ORDER, WELCOME, Kind
from storeapp.listeners.email_log.log import DEAD, SENT, EmailLog, EmailRecord

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from storeapp.listeners.email_log.model import EmailLogModel
    from storeapp.listeners.email_log.panel import EmailLogPanel, EmailMessageDialog

__all__ = ["EmailLogPlugin"]

logger = logging.getLogger("storeapp.email")

#: What a payload that cannot make an email raises while it is built.
_UNUSABLE = (KeyError, TypeError, ValueError, ArithmeticError)


class EmailLogPlugin(ListenerPlugin):
    name = "email_log"
    title = "Email log"
    description = (
        "Sends a welcome email when a user registers (user_registered) and an "
        "order confirmation when an order is placed (order_created), from the "
        "event log written in the order's transaction: a rolled-back order sends "
        "nothing, and a committed one is sent even after a crash or a restart. "
        "Delivery runs on the durable worker's thread, so a slow mail server never "
        "holds up the till; a failure is retried by itself, and a message given up "
        "on can be retried from the panel. Messages go to the outbox folder, an "
        "SMTP server or memory (setting email_log/backend); the panel lists each "
        "one with its state and shows it in full on double-click."
    )
    listens_to = ("user_registered", "order_created")
    order = 20
    panel_object_name = "emailLogDock"
    dock = DockPlacement("bottom", slot=0, share=45, size=300)

    #: Attempts before a message is parked as dead, and the longest wait
    #: between two: a relay that is back is used within ``retry_cap``
    #: seconds, and an outage of about ``max_attempts * retry_cap`` seconds
    #: (40 x 30 s: 20 minutes) loses nothing. (The worker's own defaults, 8
    #: attempts and 60 s, would park a message after about a minute down.)
    max_attempts = 40
    retry_cap = 30.0
    MODEL_KEY = "email_log.model"
    BACKLOG_KEY = "email_log.backlog"

    def __init__(self, host: PluginHost) -> None:
        super().__init__(host)
        self._lock = threading.Lock()
        self.log = EmailLog()
        self._enabled = False
        self._failing = False
        self.backend: mail.BaseEmailBackend | None = None
        self.from_address = mail.DEFAULT_FROM
        self.model: EmailLogModel | None = None
        self.panel: EmailLogPanel | None = None

    # -- the contract --------------------------------------------------------

    def ready(self) -> None:
        with self._lock:
            running = self._enabled
        if not running:
            backend = self._make_backend()
            from_address = self._from_address()
            max_attempts = self._number("max_attempts", self.max_attempts, int)
            retry_cap = self._number("retry_cap", self.retry_cap, float)
            with self._lock:
                self.backend = backend
                self.from_address = from_address
                self.max_attempts, self.retry_cap = max(1, max_attempts), max(0.0, retry_cap)
                self._enabled = True
        for kind, send in ((WELCOME, self._send_welcome), (ORDER, self._send_confirmation)):
            self.connect_durable(
                user_registered if kind is WELCOME else order_created,
                send,
                kind.receiver,
                max_attempts=self.max_attempts,
                backoff_cap=self.retry_cap,
                on_change=self._on_outcome,
                # An existing database's orders were emailed by the version
                # before (from on_commit receivers): begin with the next one.
                from_now=True,
            )
        self.connect(user_registered, self._on_user_registered, on_commit=True)
        self.connect(order_created, self._on_order_created, on_commit=True)
        self.refresh_backlog()  # after a restart: what is still queued or dead

    def shutdown(self) -> None:
        """Disconnect; undelivered messages wait in the database."""
        super().shutdown()
        with self._lock:
            self._enabled = False
        self._schedule_refresh()

    def close(self) -> None:
        """Alias of :meth:`shutdown`."""
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
        self.refresh_backlog()
        return self.panel

    # -- what the window and the tests use -------------------------------------

    @property
    def records(self) -> list[EmailRecord]:
        """A snapshot of the log, in event order (safe from any thread)."""
        return self.log.records()

    @property
    def total(self) -> int:
        """Every message this process sent (the log keeps the last MAX_RECORDS)."""
        return self.log.total

    @property
    def pending(self) -> int:
        """Messages still to send, by the database's last count."""
        return self.log.pending

    def wait_for_delivery(self, timeout: float | None = 5.0) -> bool:
        """Block until the database has no message left to send (tests,
        benchmarks; a durable worker must be running); False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        engine = self.host.store.engine
        while True:
            left = sum(
                pending_events(engine, self._receiver(kind), kind.signal, 0)[0] for kind in KINDS
            )
            if not left:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def retry(self, event_id: int) -> bool:
        """Ask for a dead message to be sent again, and wake the worker
        (the panel's Retry; GUI thread). False if it is not dead."""
        record = self.log.get(event_id)
        if record is None or record.state != DEAD:
            return False
        kind = next(k for k in KINDS if k.key == record.kind)
        try:
            asked = retry_dead(self.host.store.engine, self._receiver(kind), event_id)
        except Exception:
            logger.exception("Asking to retry email %d failed", event_id)
            self._notify("The retry could not be saved (the database is busy); try again.")
            return False
        if asked:
            self.log.update(event_id, retry_asked=True)
            durable_registry.wake()
        self.refresh_backlog()
        return asked

    def backend_description(self) -> str:
        backend = self.backend
        if backend is None:
            return "Not enabled."
        describe = getattr(backend, "describe", None)
        text = describe() if callable(describe) else type(backend).__name__
        text += (
            f". A failed message is retried (at most {self.retry_cap:g} s apart, "
            f"{self.max_attempts} attempts), then kept as dead until retried."
        )
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

    def _number(self, key: str, default: Any, kind: type) -> Any:
        try:
            return kind(self._setting(key, default))
        except (TypeError, ValueError):
            logger.warning("Invalid email_log/%s; using %s", key, default)
            return default

    def _receiver(self, kind: Kind) -> str:
        return f"{self.name}.{kind.receiver}"

    # -- after commit (the committing thread): show the message "queued" --------

    def _on_user_registered(self, sender: Any = None, **kwargs: Any) -> None:
        self._committed()

    def _on_order_created(self, sender: Any = None, **kwargs: Any) -> None:
        self._committed()

    def _committed(self) -> None:
        # The worker is not woken here: it finds the event at its next poll
        # (200 ms), a batch at a time. Woken per order, it claimed and wrote
        # once per order, competing with the till for SQLite's write lock: a
        # 2,000-order rush ran at about half its rate.
        if self.model is not None:  # the panel shows the new message queued
            self.refresh_backlog()

    # -- the durable receivers (the worker's thread) -----------------------------

    def _send_welcome(self, event_id: int, payload: dict[str, Any], **kwargs: Any) -> None:
        self._send(WELCOME, event_id, payload)

    def _send_confirmation(self, event_id: int, payload: dict[str, Any], **kwargs: Any) -> None:
        self._send(ORDER, event_id, payload)

    def _send(self, kind: Kind, event_id: int, payload: dict[str, Any]) -> None:
        """Build and send one message; raise to have the worker retry it."""
        record = self.log.get(event_id)
        if record is not None and record.state == SENT:
            return  # this process sent it already (redelivered: nothing to do)
        with self._lock:
            backend, from_address = self.backend, self.from_address
        if backend is None:
            raise mail.MailError("the email log has no backend")
        try:
            message = emails.build(kind, event_id, payload, from_address)
        except _UNUSABLE as exc:
            raise GiveUp(
                f"the event has no usable {kind.key} email ({mail.describe_error(exc)})"
            ) from exc
        try:
            sent = backend.send_messages([message])
        except Exception as exc:
            reason = mail.describe_error(exc)
            logger.warning("Email %s to %s not sent: %s", message["Subject"], message["To"], reason)
            if mail.is_permanent(exc):
                raise GiveUp(reason) from exc
            raise mail.MailError(reason) from exc
        if not sent:
            raise mail.MailError("the email backend did not send it")
        self.log.sent(event_id, kind.key, message)
        self._schedule_refresh()
        # A backlog is sent in a tight loop: let a GUI refresh have the GIL.
        self.host.yield_to_gui()

    def _on_outcome(self, event_id: int, outcome: str) -> None:
        """The worker committed an outcome: tell the cashier once per streak
        of failures, and show it."""
        failed = outcome != "done"
        with self._lock:
            first_failure = failed and not self._failing
            self._failing = failed
        if first_failure or outcome == "dead":  # a dead one waits for the cashier
            record = self.log.get(event_id)
            to = f" to {record.to}" if record is not None else ""
            if outcome == "dead":
                self._notify(f"An email{to} could not be sent. See the Email log to retry it.")
            else:
                self._notify(
                    f"An email{to} could not be sent yet; it will be retried by itself. "
                    "See the Email log."
                )
        if failed or self.model is not None:
            self.refresh_backlog()

    def _notify(self, message: str) -> None:
        try:
            self.host.notify(message)
        except Exception:
            logger.exception("Notifying the cashier failed")

    # -- the database's view (read off the GUI thread) ---------------------------

    def refresh_backlog(self) -> None:
        """Read every message's state from the database, then show it."""
        try:
            self.host.coalesce_load(self.BACKLOG_KEY, self._load_backlog, self._apply_backlog)
        except Exception:
            logger.exception("Reading the email backlog failed")

    def _load_backlog(self) -> backlog.Backlog:
        return backlog.load(self.host.store.engine, self.name)

    def _apply_backlog(self, loaded: backlog.Backlog) -> None:
        self.log.apply_backlog(loaded)
        self._refresh_model()

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
