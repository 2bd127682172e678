"""Where messages go: backends in Django's ``EMAIL_BACKEND`` shape.

A backend has ``open()``, ``close()`` and ``send_messages(messages) -> int``
(how many were sent; an error is raised, never swallowed, so the caller can
record why a message failed):

* :class:`FileBackend` writes one ``.eml`` file per message into a folder,
  atomically (a hidden temp file, then linked into place), named after the
  message's Message-ID: the same message sent again makes no second file;
* :class:`SMTPBackend` talks to a mail server with :mod:`smtplib` (the
  Message-ID travels with the message: a mail client shows a resent one once);
  the envelope is the message's one recipient, checked again
  (:func:`envelope`), never whatever smtplib would read from the headers;
* :class:`MemoryBackend` keeps what it was given, once per Message-ID;
  ``outbox`` reads it back as :class:`email.message.EmailMessage` objects.

:func:`get_backend` picks one by short name or import path,
:func:`describe_error` turns a delivery error into a line a cashier can read
and :func:`is_permanent` tells a refusal that no retry will change.
"""

from __future__ import annotations

import importlib
import os
import smtplib
import socket
import tempfile
import threading
import uuid
from collections.abc import Iterable
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any

from storeapp.mail.messages import as_email_message, mailbox

__all__ = [
    "BACKENDS",
    "BaseEmailBackend",
    "FileBackend",
    "InvalidRecipient",
    "MailError",
    "MemoryBackend",
    "SMTPBackend",
    "describe_error",
    "envelope",
    "get_backend",
    "is_permanent",
]


class MailError(Exception):
    """A delivery problem, with a message a cashier can read."""


class InvalidRecipient(MailError):
    """A message whose recipients are not exactly one mailbox: never sent,
    and no retry will change it."""


def envelope(message: Message) -> tuple[str, str]:
    """``(sender, recipient)`` for the SMTP envelope of ``message``: the From
    address and the one address in To (Cc and Bcc counted too). Anything
    but exactly one usable mailbox is an :class:`InvalidRecipient`."""
    values = [str(v) for name in ("To", "Cc", "Bcc") for v in message.get_all(name) or ()]
    addresses = [addr for _name, addr in getaddresses(values)]
    if len(addresses) != 1 or not addresses[0]:
        raise InvalidRecipient(
            f"the message is addressed to {len(addresses)} recipients, not one "
            f"({', '.join(values)!r})"
        )
    try:
        recipient = mailbox(addresses[0]).addr_spec
    except ValueError as exc:
        raise InvalidRecipient(f"the recipient is not one email address ({exc})") from None
    return parseaddr(str(message.get("From") or ""))[1], recipient


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


def is_permanent(exc: BaseException) -> bool:
    """True if the mail server refused for good (a 5xx reply: no such
    mailbox, sender refused): sending again would be refused again. A
    connection problem or a 4xx reply is worth retrying. A message that is
    not addressed to exactly one mailbox never will be."""
    if isinstance(exc, InvalidRecipient):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(
            500 <= code < 600 for code, _text in exc.recipients.values()
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def _decode(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").strip()
    return str(value).strip()


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


def _file_stem(message: Message) -> str | None:
    """A file name for ``message`` from its Message-ID (None if it has none)."""
    message_id = str(message.get("Message-ID") or "").strip().strip("<>")
    stem = "".join(c if c.isalnum() or c in ".-_@" else "_" for c in message_id)
    return stem.lstrip(".")[:200] or None


class FileBackend(BaseEmailBackend):
    """One ``.eml`` file per message (0600) in ``directory`` (created on demand, 0700),
    named after its Message-ID (``order-confirmation.E12@shop.invalid.eml``):
    a message whose file is already there is not written again."""

    def __init__(self, directory: str | os.PathLike[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.directory = Path(directory)

    def describe(self) -> str:
        return f"Outbox folder: {self.directory}"

    def _make_directory(self) -> None:
        """The outbox folder, private to its owner (0700), as the messages in it."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            if self.directory.stat().st_mode & 0o777 != 0o700:
                self.directory.chmod(0o700)
        except PermissionError:  # a shared folder chosen on purpose: leave it
            pass

    def send_messages(self, messages: Iterable[Message]) -> int:
        sent = 0
        for message in messages:
            self.write(message)
            sent += 1
        return sent

    def write(self, message: Message) -> Path:
        """Write ``message`` atomically; returns its file's path (the one
        already there if this Message-ID was written before)."""
        stem = _file_stem(message)
        if stem is None:
            stem = f"{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}-{uuid.uuid4().hex}"
        target = self.directory / f"{stem}.eml"
        if target.exists():
            return target
        data = message.as_bytes()
        self._make_directory()
        # mkstemp makes the file 0600, whatever the umask; the link keeps it.
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, target)  # atomic, and never replaces a file already there
            except FileExistsError:
                pass
            except OSError:  # a file system without hard links
                os.replace(tmp, target)
        finally:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return target


class MemoryBackend(BaseEmailBackend):
    """Keeps every message in ``outbox`` (Django's locmem backend), once per
    Message-ID: a message sent again is not kept twice."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._sent: list[Message] = []
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    @property
    def outbox(self) -> list[EmailMessage]:
        """What was sent, oldest first, as EmailMessages (parsed when read,
        not when sent: parsing costs more than building)."""
        return [as_email_message(m) for m in list(self._sent)]

    def describe(self) -> str:
        return "In memory (nothing leaves this process)"

    def send_messages(self, messages: Iterable[Message]) -> int:
        messages = list(messages)
        with self._lock:
            for message in messages:
                message_id = str(message.get("Message-ID") or "")
                if message_id and message_id in self._ids:
                    continue
                self._ids.add(message_id)
                self._sent.append(message)
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
                    sender, recipient = envelope(message)
                    self.connection.send_message(message, from_addr=sender, to_addrs=[recipient])
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
