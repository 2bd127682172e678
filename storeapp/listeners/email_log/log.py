"""The email log's records, Qt-free: what was sent to whom and what became
of it, capped at the last :data:`MAX_RECORDS` (the outbox keeps them all).

Any thread may add, update and read: the delivery thread reports outcomes,
the committing thread records new emails, the GUI thread takes snapshots.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from typing import Any

from storeapp.mail import FAILED_PREFIX, STATUS_QUEUED

__all__ = ["MAX_RECORDS", "EmailLog", "EmailRecord", "render_message", "summary"]

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
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def failed(self) -> bool:
        return self.status.startswith(FAILED_PREFIX)


class EmailLog:
    """The records, oldest first, at most ``limit`` of them (the oldest go
    first); ``total`` counts every email ever added. Thread-safe."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._records: dict[int, EmailRecord] = {}
        self._ids = itertools.count(1)
        self._total = 0

    @property
    def total(self) -> int:
        """Every email added since start, the dropped ones included."""
        return self._total

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[EmailRecord]:
        """A snapshot, oldest first."""
        with self._lock:
            return list(self._records.values())

    def add(self, *, to: str, subject: str, kind: str) -> EmailRecord:
        """Record a new email as queued, dropping the oldest past ``limit``."""
        with self._lock:
            record = EmailRecord(
                next(self._ids), datetime.now().astimezone(), to, subject, STATUS_QUEUED, None, kind
            )
            self._records[record.id] = record
            self._total += 1
            while len(self._records) > self.limit:
                del self._records[next(iter(self._records))]
        return record

    def built(self, record_id: int, message: Message) -> None:
        """Keep the built message's bytes, To and Subject (as the reader sees them)."""
        raw = message.as_bytes()
        to, subject = _decoded(message["To"]), _decoded(message["Subject"])
        with self._lock:
            current = self._records.get(record_id)
            if current is not None:
                self._records[record_id] = replace(current, raw=raw, to=to, subject=subject)

    def set_status(self, record_id: int, status: str) -> EmailRecord | None:
        """Record an outcome; the updated record, or None if it has left the log."""
        with self._lock:
            record = self._records.get(record_id)
            if record is None:
                return None
            record = self._records[record_id] = replace(record, status=status)
            return record


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


def summary(shown: Sequence[EmailRecord], total: int) -> str:
    """The panel's count line: "12 emails (last 10 shown), 2 queued, 1 failed"."""
    failed = sum(1 for r in shown if r.failed)
    queued = sum(1 for r in shown if r.status == STATUS_QUEUED)
    total = max(total, len(shown))
    text = f"{total:,} email{'s' if total != 1 else ''}"
    if total > len(shown):
        text += f" (last {len(shown):,} shown)"
    if queued:
        text += f", {queued} queued"
    if failed:
        text += f", {failed} failed"
    return text
