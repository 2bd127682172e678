"""The email log: a welcome email per new user, a confirmation per order.

Both receivers are connected with ``on_commit=True``: a rolled-back
registration or order sends nothing. A receiver copies what it needs out of
the payload (plain strings, never an ORM object), records the email as
``queued`` and hands the building of a real MIME message
(:mod:`storeapp.listeners.mail`) and its delivery to the one background
delivery thread (:class:`storeapp.listeners.mail.DeliveryQueue`),
so the thread that committed never waits for a mail server. The outcome,
``sent`` or ``failed: <reason>``, comes back from that thread; the panel's
model is refreshed on the GUI thread through ``host.coalesce``.

Settings (``email_log/...``): ``backend`` (``file`` | ``smtp`` | ``memory``
or an import path), ``from_address``, ``smtp_host``, ``smtp_port``,
``smtp_timeout``. They are read when the plugin is enabled.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp import mail
from storeapp.domain.signals import order_created, user_registered
from storeapp.listeners.api import CellModel, DockPlacement, ListenerPlugin

__all__ = ["EmailLogModel", "EmailLogPlugin", "EmailRecord", "render_message"]

logger = logging.getLogger("storeapp.email")

#: The log keeps the most recent messages only (the outbox keeps them all).
MAX_RECORDS = 1000


@dataclass(frozen=True, slots=True)
class EmailRecord:
    """One message and what became of it. Immutable: a status change makes
    a new record with the same ``id``.

    The message is kept as its bytes (about 1 KB) and parsed again when
    someone reads it: an EmailMessage object costs tens of KB, and the log
    keeps the last thousand.
    """

    id: int
    time: datetime
    to: str
    subject: str
    status: str
    raw: bytes | None
    kind: str = ""

    @property
    def message(self) -> EmailMessage | None:
        if self.raw is None:
            return None
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    @property
    def failed(self) -> bool:
        return self.status.startswith(mail.FAILED_PREFIX)


def _decoded(header: Any) -> str:
    """A header as the reader sees it (RFC 2047 encoded words decoded)."""
    text = str(header)
    return str(make_header(decode_header(text))) if "=?" in text else text


def render_message(message: EmailMessage | None) -> str:
    """Headers, a blank line, the decoded body: the message as a person reads it."""
    if message is None:
        return "(the message could not be built)"
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    try:
        body = message.get_content()
    except Exception:
        body = message.get_payload(decode=False)
    return f"{headers}\n\n{body}"


# --------------------------------------------------------------------------
# The table model (GUI thread only)
# --------------------------------------------------------------------------


class EmailLogModel(CellModel):
    """Time, To, Subject, Status; oldest first, newest at the bottom.

    Fed whole snapshots through :meth:`sync`, which turns the difference
    into one batched insert, one removal from the top and rewrites of the
    rows whose cells changed. The cells live in C++ (:class:`CellModel`), so
    the table repaints without waiting for the GIL while orders and emails
    are being built on other threads. Call it on the GUI thread only.
    """

    COLUMNS = ("Time", "To", "Subject", "Status")
    TIME, TO, SUBJECT, STATUS = range(4)

    def __init__(self, records: Iterable[EmailRecord] = (), parent: Any = None) -> None:
        super().__init__(self.COLUMNS, parent)
        self._rows: list[EmailRecord] = list(records)
        self.insert_rows(0, [_cells(r) for r in self._rows])

    def record(self, row: int) -> EmailRecord:
        return self._rows[row]

    def records(self) -> list[EmailRecord]:
        return list(self._rows)

    def sync(self, snapshot: Iterable[EmailRecord]) -> None:
        """Make the rows equal ``snapshot`` (records in id order)."""
        new = list(snapshot)
        old = self._rows
        first_id = new[0].id if new else None
        drop = 0
        while drop < len(old) and (first_id is None or old[drop].id < first_id):
            drop += 1
        kept = len(old) - drop
        if kept > len(new) or any(old[drop + i].id != new[i].id for i in range(kept)):
            self._rows = new  # not append-only: never expected
            self.clear_rows()
            self.insert_rows(0, [_cells(r) for r in new])
            return
        if drop:
            del self._rows[:drop]
            self.remove_rows(0, drop)
        for i in range(kept):
            previous = self._rows[i]
            if previous is not new[i]:
                self._rows[i] = new[i]
                # A status change, or the built message's To/Subject; the
                # raw bytes alone are not shown, so the row is left alone.
                cells = _cells(new[i])
                if cells != _cells(previous):
                    self.write_row(i, cells)
        if len(new) > kept:
            self._rows.extend(new[kept:])
            self.insert_rows(kept, [_cells(r) for r in new[kept:]])


def _cells(record: EmailRecord) -> list[dict[int, Any]]:
    """One row's cells; every role the model uses, so a rewrite clears the rest."""
    display, tip = Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole
    return [
        {display: record.time.strftime("%Y-%m-%d %H:%M:%S"), tip: None},
        {display: record.to, tip: None},
        {display: record.subject, tip: record.subject},
        {display: record.status, tip: record.status},
    ]


# --------------------------------------------------------------------------
# The panel and the message dialog
# --------------------------------------------------------------------------


class EmailMessageDialog(QDialog):
    """A non-modal window with one message in full, read-only."""

    def __init__(self, record: EmailRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emailMessageDialog")
        self.setWindowTitle(f"Email: {record.subject}")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.record = record
        status = QLabel(f"Status: {record.status}", self)
        status.setObjectName("emailMessageStatus")
        status.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("emailMessageText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(render_message(record.message))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(status)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(680, 480)


class EmailLogPanel(QWidget):
    """The dock's content: a count, the table, where messages go."""

    def __init__(
        self, plugin: EmailLogPlugin, model: EmailLogModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.plugin = plugin
        self.model = model
        self.count = QLabel(self)
        self.count.setObjectName("emailCount")
        self.table = QTableView(self)
        self.table.setObjectName("emailTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Fixed widths, Subject stretches: ResizeToContents would re-measure
        # every row (a Python call per cell) on each update.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(EmailLogModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.setColumnWidth(EmailLogModel.TIME, 150)
        self.table.setColumnWidth(EmailLogModel.TO, 190)
        self.table.setColumnWidth(EmailLogModel.STATUS, 90)
        self.table.setToolTip("Double-click a message to read it.")
        self.table.doubleClicked.connect(self._open)
        self.backend_label = QLabel(self)
        self.backend_label.setObjectName("emailBackend")
        self.backend_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.count)
        layout.addWidget(self.table)
        layout.addWidget(self.backend_label)
        self._at_bottom = True
        model.rowsAboutToBeInserted.connect(self._remember_scroll)
        model.rowsInserted.connect(self._follow)
        self.refresh()

    def refresh(self) -> None:
        rows = self.model.records()
        failed = sum(1 for r in rows if r.failed)
        queued = sum(1 for r in rows if r.status == mail.STATUS_QUEUED)
        total = max(self.plugin.total, len(rows))
        text = f"{total:,} email{'s' if total != 1 else ''}"
        if total > len(rows):
            text += f" (last {len(rows):,} shown)"
        if queued:
            text += f", {queued} queued"
        if failed:
            text += f", {failed} failed"
        self.count.setText(text)
        self.backend_label.setText(self.plugin.backend_description())

    def _remember_scroll(self, *args: Any) -> None:
        bar = self.table.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum()

    def _follow(self, *args: Any) -> None:
        if self._at_bottom:
            self.table.scrollToBottom()

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.plugin.open_message(index.row(), parent=self)


# --------------------------------------------------------------------------
# The plugin
# --------------------------------------------------------------------------


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

    def __init__(self, host: Any) -> None:
        super().__init__(host)
        self._lock = threading.Lock()
        self._records: dict[int, EmailRecord] = {}
        self._ids = itertools.count(1)
        #: Every email recorded since start (the log keeps the last MAX_RECORDS).
        self.total = 0
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
                    backend, self._on_status, between=getattr(self.host, "yield_to_gui", None)
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
        with self._lock:
            return list(self._records.values())

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
        try:
            EmailMessage()["From"] = value  # parses it; a line break raises
        except Exception:
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
            lines = [
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

    def _submit(self, kind: str, build: Any, *, to: str, subject: str) -> None:
        """Record the email as queued and hand the building and the sending
        to the delivery thread: the committing thread (often the GUI thread,
        or a rush of orders) only copies a few strings."""
        with self._lock:
            if not self._enabled or self.delivery is None:
                return  # a hook queued before shutdown() ran after it
            delivery, from_address = self.delivery, self.from_address
            record = EmailRecord(
                next(self._ids),
                datetime.now().astimezone(),
                to,
                subject,
                mail.STATUS_QUEUED,
                None,
                kind,
            )
            self._records[record.id] = record
            self.total += 1
            while len(self._records) > MAX_RECORDS:
                del self._records[next(iter(self._records))]

        def make() -> Message:
            message = build(from_address)
            raw = message.as_bytes()
            with self._lock:
                current = self._records.get(record.id)
                if current is not None:
                    self._records[record.id] = replace(
                        current,
                        raw=raw,
                        to=_decoded(message["To"]),
                        subject=_decoded(message["Subject"]),
                    )
            return message

        delivery.put(record.id, make)
        self._schedule_refresh()

    def _on_status(self, record_id: int, status: str) -> None:
        """From the delivery thread: record the outcome, refresh the panel."""
        with self._lock:
            record = self._records.get(record_id)
            if record is not None:
                self._records[record_id] = replace(record, status=status)
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
