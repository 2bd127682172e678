"""Email messages, the backends that deliver them, and the delivery thread.

Qt-free on purpose: the email log plugin uses it, and so can a script.

Backends follow Django's ``EMAIL_BACKEND`` shape: ``open()``, ``close()``
and ``send_messages(messages) -> int`` (how many were sent; an error is
raised, never swallowed, so the caller can record why a message failed):

* :class:`FileBackend` writes one ``.eml`` file per message into a folder,
  atomically (a hidden temp file, then ``os.replace``);
* :class:`SMTPBackend` talks to a mail server with :mod:`smtplib`;
* :class:`MemoryBackend` keeps what it was given; ``outbox`` reads it back as
  :class:`email.message.EmailMessage` objects (tests).

:class:`DeliveryQueue` owns ONE daemon thread that feeds a backend from a
:class:`queue.Queue`, so whoever committed the order (often the GUI thread)
never waits for a mail server. It reports each message's outcome through a
callback: ``"sent"`` or ``"failed: <reason>"``.
"""

from __future__ import annotations

import email
import email.policy
import importlib
import logging
import os
import queue
import smtplib
import socket
import tempfile
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_FROM",
    "STATUS_QUEUED",
    "STATUS_SENT",
    "BaseEmailBackend",
    "DeliveryQueue",
    "FileBackend",
    "MailError",
    "MemoryBackend",
    "OrderLine",
    "SMTPBackend",
    "as_email_message",
    "describe_error",
    "get_backend",
    "order_confirmation",
    "welcome_message",
]

logger = logging.getLogger("storeapp.email")

DEFAULT_FROM = "storeapp <shop@storeapp.invalid>"
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
FAILED_PREFIX = "failed: "

#: (product name, quantity, unit price, line total): plain values only.
OrderLine = tuple[str, int, str, str]


class MailError(Exception):
    """A delivery problem, with a message a cashier can read."""


def describe_error(exc: BaseException) -> str:
    """A one-line, readable reason for a failed delivery (no traceback)."""
    if isinstance(exc, MailError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{addr}: {code} {_decode(text)}" for addr, (code, text) in exc.recipients.items()
        )
        return f"the mail server refused the recipient ({refused})"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"the mail server refused the sender ({exc.smtp_code} {_decode(exc.smtp_error)})"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"the mail server answered {exc.smtp_code} {_decode(exc.smtp_error)}"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the mail server closed the connection"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "the mail server did not answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc) or type(exc).__name__
    try:
        text = str(exc)
    except Exception:
        text = ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


# --------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------


# Messages are built with the stdlib's legacy (compat32) API: ~45 us a
# message with its bytes, against ~500 us with EmailMessage and
# policy.default, whose header parsing dominated the cost of an order with
# the email log on (bench/orders.py: all plugins went from 0.45x to 0.7x). Headers are
# checked for line breaks here, since compat32 would not refuse them.


class _Policy(Compat32):
    """compat32, minus refolding headers that are short ASCII already (most
    of the cost of ``as_bytes()``; the bytes are the same)."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii() and len(name) + len(value) + 2 <= 78:
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_POLICY = _Policy()
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in the .eml file, unlike base64


def _header(value: str) -> str | Header:
    if "\r" in value or "\n" in value:
        raise ValueError("an email header may not contain a line break")
    return value if value.isascii() else Header(value, "utf-8")


def _new_message(from_address: str, to_name: str, to_email: str, subject: str) -> Message:
    for value in (from_address, to_name, to_email):
        _header(value)
    msg = Message(policy=_POLICY)
    msg["MIME-Version"] = "1.0"
    msg["From"] = from_address
    msg["To"] = formataddr((to_name, to_email), charset="utf-8")
    msg["Subject"] = _header(subject)
    msg["Date"] = format_datetime(datetime.now().astimezone())
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "storeapp.invalid"
    msg["Message-ID"] = make_msgid(domain=domain)  # domain given: no DNS look-up
    return msg


def _set_body(msg: Message, text: str) -> None:
    """Plain text: 7bit when ASCII, else quoted-printable UTF-8."""
    msg.set_payload(text, "us-ascii" if text.isascii() else _UTF8_QP)


def as_email_message(message: Message) -> EmailMessage:
    """``message`` as an :class:`EmailMessage` (the modern API: ``get_content()``)."""
    if isinstance(message, EmailMessage):
        return message
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def welcome_message(*, from_address: str, username: str, email: str) -> Message:
    """The welcome email for a new user. It never mentions a password."""
    msg = _new_message(from_address, username, email, f"Welcome to storeapp, {username}")
    _set_body(
        msg,
        f"Hello {username},\n"
        "\n"
        "Welcome to storeapp! Your account has been created.\n"
        "\n"
        f"  Username: {username}\n"
        f"  Email:    {email}\n"
        "\n"
        "You can now check out at the till under this account.\n"
        "\n"
        "-- \n"
        "storeapp\n",
    )
    return msg


_NAME_WIDTH = 36


def order_confirmation(
    *,
    from_address: str,
    username: str,
    email: str,
    order_number: int | str,
    lines: Sequence[OrderLine],
    total: str,
) -> Message:
    """The confirmation of an order: each line (product, quantity, unit
    price, line total) and the total. Lines stay under 78 characters, so the
    body stays plain text (7bit/8bit) in the ``.eml`` file."""
    msg = _new_message(from_address, username, email, f"Your storeapp order #{order_number}")
    rows = [
        f"{'Qty':>5}  {'Product':<{_NAME_WIDTH}}  {'Unit price':>11}  {'Line total':>11}",
        f"{'-' * 5}  {'-' * _NAME_WIDTH}  {'-' * 11}  {'-' * 11}",
    ]
    for name, quantity, unit_price, line_total in lines:
        parts = textwrap.wrap(name, _NAME_WIDTH) or [""]
        rows.append(f"{quantity:>5}  {parts[0]:<{_NAME_WIDTH}}  {unit_price:>11}  {line_total:>11}")
        rows.extend(f"{'':>5}  {part}" for part in parts[1:])
    rows.append(f"{'':>5}  {'Total':<{_NAME_WIDTH}}  {'':>11}  {total:>11}")
    table = "\n".join(row.rstrip() for row in rows)
    _set_body(
        msg,
        f"Hello {username},\n"
        "\n"
        f"Thank you for your order #{order_number}.\n"
        "\n"
        f"{table}\n"
        "\n"
        f"Order number: {order_number}\n"
        f"Total: {total}\n"
        "\n"
        "-- \n"
        "storeapp\n",
    )
    return msg


# --------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------


class BaseEmailBackend:
    """Django's backend shape. Subclasses implement :meth:`send_messages`."""

    def __init__(self, **kwargs: Any) -> None:
        pass

    def open(self) -> bool:
        """Open a reusable connection; True if a new one was opened."""
        return False

    def close(self) -> None:
        """Close the connection opened by :meth:`open` (if any)."""

    def send_messages(self, messages: Iterable[Message]) -> int:
        raise NotImplementedError

    def describe(self) -> str:
        """Where messages go, for the panel."""
        return type(self).__name__

    def __enter__(self) -> BaseEmailBackend:
        self.open()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class FileBackend(BaseEmailBackend):
    """One ``.eml`` file per message in ``directory`` (created on demand)."""

    def __init__(self, directory: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"Outbox folder: {self.directory}"

    def send_messages(self, messages: Iterable[Message]) -> int:
        sent = 0
        for message in messages:
            self.write(message)
            sent += 1
        return sent

    def write(self, message: Message) -> Path:
        """Write ``message`` atomically; returns the new file's path."""
        data = message.as_bytes()
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        target = self.directory / f"{stamp}-{uuid.uuid4().hex}.eml"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return target


class MemoryBackend(BaseEmailBackend):
    """Keeps every message in ``outbox`` (Django's locmem backend)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: list[Message] = []

    @property
    def outbox(self) -> list[EmailMessage]:
        """What was sent, oldest first, as EmailMessages (parsed when read,
        not when sent: parsing costs more than building)."""
        return [as_email_message(m) for m in list(self._sent)]

    def describe(self) -> str:
        return "In memory (nothing leaves this process)"

    def send_messages(self, messages: Iterable[Message]) -> int:
        messages = list(messages)
        self._sent.extend(messages)
        return len(messages)


class SMTPBackend(BaseEmailBackend):
    """Delivers through an SMTP server (no TLS, no login: a local relay)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 25,
        timeout: float = 10.0,
        local_hostname: str = "localhost",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.host = host
        self.port = int(port)
        self.timeout = timeout
        # Given, so smtplib does not call socket.getfqdn() (a DNS look-up).
        self.local_hostname = local_hostname
        self.connection: smtplib.SMTP | None = None
        self._lock = threading.RLock()

    def describe(self) -> str:
        return f"SMTP server {self.host}:{self.port}"

    def open(self) -> bool:
        with self._lock:
            if self.connection is not None:
                return False
            try:
                self.connection = smtplib.SMTP(
                    self.host,
                    self.port,
                    local_hostname=self.local_hostname,
                    timeout=self.timeout,
                )
            except (OSError, smtplib.SMTPException) as exc:
                raise MailError(
                    f"could not connect to the mail server {self.host}:{self.port} "
                    f"({describe_error(exc)})"
                ) from exc
            return True

    def close(self) -> None:
        with self._lock:
            conn, self.connection = self.connection, None
        if conn is None:
            return
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            pass
        finally:
            conn.close()

    def send_messages(self, messages: Iterable[Message]) -> int:
        messages = list(messages)
        if not messages:
            return 0
        with self._lock:
            opened = self.open()
            sent = 0
            try:
                for message in messages:
                    assert self.connection is not None
                    self.connection.send_message(message)
                    sent += 1
            except (smtplib.SMTPServerDisconnected, OSError):
                self.close()  # broken: the next call reconnects
                raise
            finally:
                if opened:
                    self.close()
            return sent


BACKENDS: dict[str, type[BaseEmailBackend]] = {
    "file": FileBackend,
    "smtp": SMTPBackend,
    "memory": MemoryBackend,
}


def get_backend(name: str, **options: Any) -> BaseEmailBackend:
    """A backend by short name ("file", "smtp", "memory") or by import path
    ("package.module:Class" or "package.module.Class", like EMAIL_BACKEND).

    ``options`` (``directory``, ``host``, ``port``, ``timeout``) are passed
    as keywords; a backend takes what it needs and ignores the rest.
    """
    key = (name or "").strip()
    cls: Any = BACKENDS.get(key.lower())
    if cls is None:
        module, sep, attr = key.partition(":")
        if not sep:
            module, _, attr = key.rpartition(".")
        if not module or not attr:
            raise MailError(
                f"Unknown email backend {name!r}: use file, smtp, memory "
                "or an import path such as package.module:Backend."
            )
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise MailError(f"Cannot load the email backend {name!r} ({exc}).") from exc
    if cls is FileBackend:
        return FileBackend(**options)
    if cls is SMTPBackend:
        return SMTPBackend(**{k: v for k, v in options.items() if k != "directory"})
    if cls is MemoryBackend:
        return MemoryBackend()
    backend = cls(**options)
    if not callable(getattr(backend, "send_messages", None)):
        raise MailError(f"The email backend {name!r} has no send_messages().")
    return backend


# --------------------------------------------------------------------------
# The delivery thread
# --------------------------------------------------------------------------

_STOP = object()
ABANDONED = "not sent (the email log was stopped before it could be delivered)"


class DeliveryQueue:
    """Feeds ``backend`` from one daemon thread, started by the first put().

    ``on_status(key, status)`` is called from that thread once per message
    with ``"sent"`` or ``"failed: <reason>"``; it must be quick and must not
    touch Qt objects (hop to the GUI thread instead).
    """

    def __init__(
        self,
        backend: BaseEmailBackend,
        on_status: Callable[[Any, str], None],
        *,
        name: str = "storeapp-email",
        between: Callable[[], Any] | None = None,
    ) -> None:
        self.backend = backend
        #: Called after each message (the host's ``yield_to_gui``).
        self._between = between
        self._on_status = on_status
        self._name = name
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._abandon = threading.Event()
        #: Seconds to sleep after each message (0 in tests that need speed).
        self.pause = 0.002

    # -- producer side (any thread) ------------------------------------------

    @property
    def pending(self) -> int:
        """Messages put but not yet reported."""
        with self._lock:
            return self._pending

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def put(self, key: Any, message: Message | Callable[[], Message]) -> None:
        """Queue ``message`` (or a function that builds it, called on the
        delivery thread: building a MIME message is the slow part); returns
        at once."""
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._pending += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._queue.put((key, message))
        if closed:
            self._report(key, FAILED_PREFIX + ABANDONED, counted=False)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued message has been reported (tests, exit)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> bool:
        """Stop accepting messages, let the thread drain the queue for at
        most ``timeout`` seconds, then abandon what is left (each abandoned
        message is reported failed). True if the thread has finished."""
        with self._lock:
            already = self._closed
            self._closed = True
            thread = self._thread
        if thread is None:
            return True
        if not already:
            self._queue.put(_STOP)
        thread.join(timeout)
        if thread.is_alive():
            # The message in flight finishes (the backend has its own
            # timeout); those behind it are reported failed, not sent.
            self._abandon.set()
            logger.warning(
                "Email delivery did not finish within %.1f s; the remaining messages are abandoned",
                timeout,
            )
            return False
        return True

    # -- the delivery thread -------------------------------------------------

    def _run(self) -> None:
        backend = self.backend
        connected = False
        try:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    if connected:  # idle: do not hold a server connection open
                        self._safe_close(backend)
                        connected = False
                    item = self._queue.get()
                if item is _STOP:
                    return
                key, message = item
                if self._abandon.is_set():
                    self._report(key, FAILED_PREFIX + ABANDONED)
                    continue
                if not isinstance(message, Message):
                    try:
                        message = message()
                    except Exception as exc:
                        logger.exception("Building an email failed")
                        self._report(
                            key,
                            FAILED_PREFIX + f"could not build the message ({describe_error(exc)})",
                        )
                        continue
                if not connected:
                    connected = True
                    try:
                        backend.open()
                    except Exception:
                        pass  # send_messages() retries and reports the reason
                self._report(key, self._deliver(backend, message))
                # A breath between messages: sleeping surely releases the GIL,
                # so a GUI thread waiting for it gets its turn during a burst.
                time.sleep(self.pause)
                if self._between is not None:
                    self._between()
        finally:
            if connected:
                self._safe_close(backend)

    @staticmethod
    def _deliver(backend: BaseEmailBackend, message: Message) -> str:
        try:
            sent = backend.send_messages([message])
        except Exception as exc:
            reason = describe_error(exc)
            logger.warning("Email %r to %s not sent: %s", message["Subject"], message["To"], reason)
            return FAILED_PREFIX + reason
        if not sent:
            return FAILED_PREFIX + "the email backend did not send it"
        return STATUS_SENT

    @staticmethod
    def _safe_close(backend: BaseEmailBackend) -> None:
        try:
            backend.close()
        except Exception as exc:
            logger.warning("Closing the email backend failed: %s", describe_error(exc))

    def _report(self, key: Any, status: str, counted: bool = True) -> None:
        try:
            self._on_status(key, status)
        except Exception:
            logger.exception("Recording the status of an email failed")
        finally:
            if counted:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
