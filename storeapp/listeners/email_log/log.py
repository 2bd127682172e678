"""The email log's records, Qt-free: each message, what became of it, and
where it stands, capped at the last :data:`MAX_RECORDS` (the outbox keeps
them all). A record's ``id`` is its event's id in the event log.

Two sources meet here: the plugin's durable receivers record each message
they send (with its bytes), and :meth:`EmailLog.apply_backlog` brings what
the database says (queued, retrying, dead; also what another till or an
earlier run of this one did). Any thread may add, update and read.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from typing import Any

from storeapp.listeners.email_log.backlog import Backlog
from storeapp.listeners.email_log.emails import KINDS, headline

__all__ = [
    "DEAD",
    "MAX_RECORDS",
    "QUEUED",
    "RETRYING",
    "SENT",
    "EmailLog",
    "EmailRecord",
    "render_message",
    "summary",
]

#: The log keeps the most recent messages only (the outbox keeps them all).
MAX_RECORDS = 1000

#: A message's state: committed, not yet delivered; delivered; failed and
#: waiting for its next try; given up on (until retried by hand).
QUEUED, SENT, RETRYING, DEAD = "queued", "sent", "retrying", "dead"


@dataclass(frozen=True, slots=True)
class EmailRecord:
    """One message and where it stands. Immutable: a change makes a new
    record with the same ``id`` (the event's id).

    The message is kept as its bytes (about 1 KB) and parsed again when
    someone reads it: an EmailMessage object costs tens of KB, and the log
    keeps the last thousand. A message not yet built has none.
    """

    id: int
    time: datetime
    to: str
    subject: str
    state: str
    raw: bytes | None
    kind: str = ""
    #: Failed attempts so far (retrying, dead).
    attempts: int = 0
    #: When the worker tries again (retrying), seconds since the epoch.
    next_try: float | None = None
    error: str = ""
    #: A hand retry was asked for and has not run yet.
    retry_asked: bool = False

    @property
    def message(self) -> EmailMessage | None:
        if self.raw is None:
            return None
        return email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def status(self) -> str:
        """The state as the panel's Status column says it."""
        if self.state == RETRYING:
            when = (
                datetime.fromtimestamp(self.next_try).strftime("%H:%M:%S")
                if self.next_try
                else "soon"
            )
            text = f"retrying (attempt {self.attempts + 1} at {when})"
            return f"{text}: {self.error}" if self.error else text
        if self.state == DEAD:
            if self.retry_asked:
                return "dead: retry asked"
            return f"dead after {self.attempts} attempts: {self.error}"
        return self.state

    @property
    def failed(self) -> bool:
        return self.state in (RETRYING, DEAD)


class EmailLog:
    """The records in event order, at most ``limit`` of them (the oldest go
    first); ``total`` counts every message this process sent. Thread-safe."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._records: dict[int, EmailRecord] = {}
        self._total = 0
        #: Messages still to send, by the database's last count.
        self.pending = 0

    @property
    def total(self) -> int:
        """Every message this process sent, the dropped records included."""
        return self._total

    def __len__(self) -> int:
        return len(self._records)

    def records(self) -> list[EmailRecord]:
        """A snapshot, in event order."""
        with self._lock:
            return [self._records[k] for k in sorted(self._records)]

    def get(self, event_id: int) -> EmailRecord | None:
        with self._lock:
            return self._records.get(event_id)

    def sent(self, event_id: int, kind: str, message: Message) -> EmailRecord:
        """Record a message as sent, with its bytes, To and Subject."""
        raw = message.as_bytes()
        to, subject = _decoded(message["To"]), _decoded(message["Subject"])
        with self._lock:
            old = self._records.get(event_id)
            record = EmailRecord(
                event_id, old.time if old else _now(), to, subject, SENT, raw, kind
            )
            if old is None or old.state != SENT:
                self._total += 1
            self._put(record)
        return record

    def update(self, event_id: int, **changes: Any) -> EmailRecord | None:
        with self._lock:
            record = self._records.get(event_id)
            if record is None:
                return None
            record = self._records[event_id] = replace(record, **changes)
            return record

    def apply_backlog(self, backlog: Backlog) -> None:
        """Make the records agree with the database: the pending ones queued
        (the first retrying if it failed), the dead ones dead, and those the
        cursor passed (not dead) sent, whoever sent them."""
        with self._lock:
            self.pending = backlog.pending
            for kb in backlog.kinds:
                key = kb.kind.key
                dead_ids = {d.event_id for d in kb.dead}
                head_ids = {e.id for e in kb.head}
                for event_id, record in list(self._records.items()):
                    passed = event_id <= kb.cursor and event_id not in dead_ids
                    if record.kind == key and record.state != SENT and passed:
                        self._records[event_id] = replace(record, state=SENT, retry_asked=False)
                for i, event in enumerate(kb.head):
                    retrying = i == 0 and kb.attempts > 0
                    self._state(
                        event.id,
                        key,
                        event.payload,
                        state=RETRYING if retrying else QUEUED,
                        attempts=kb.attempts if retrying else 0,
                        next_try=kb.next_try if retrying else None,
                        error=_readable(kb.last_error) if retrying else "",
                    )
                for dead in kb.dead:
                    if dead.event_id in head_ids:
                        continue
                    self._state(
                        dead.event_id,
                        key,
                        kb.dead_payloads.get(dead.event_id),
                        state=DEAD,
                        attempts=dead.attempts,
                        next_try=None,
                        error=_readable(dead.error),
                        retry_asked=dead.retry,
                    )

    def _state(self, event_id: int, key: str, payload: Any, **changes: Any) -> None:
        record = self._records.get(event_id)
        if record is None:
            if payload is None:
                return  # beyond what the backlog listed
            kind = next(k for k in KINDS if k.key == key)
            to, subject = headline(kind, payload)
            record = EmailRecord(event_id, _now(), to, subject, QUEUED, None, key)
        elif record.state == SENT:
            return  # sent: a read taken before the send may not say so yet
        elif all(getattr(record, k) == v for k, v in changes.items()):
            return  # unchanged: the same object, so its row is not rewritten
        self._put(replace(record, **changes))

    def _put(self, record: EmailRecord) -> None:
        self._records[record.id] = record
        while len(self._records) > self.limit:
            del self._records[min(self._records)]


def _readable(error: str | None) -> str:
    """The worker's ``"MailError: reason"`` as the cashier reads it: the reason."""
    text = error or ""
    for prefix in ("MailError: ", "GiveUp: "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def _now() -> datetime:
    return datetime.now().astimezone()


def _decoded(header: Any) -> str:
    """A header as the reader sees it (RFC 2047 encoded words decoded)."""
    text = str(header)
    return str(make_header(decode_header(text))) if "=?" in text else text


def render_message(message: EmailMessage | None) -> str:
    """Headers, a blank line, the decoded body: the message as a person reads it."""
    if message is None:
        return "(not built yet: a message is built when it is sent)"
    headers = "\n".join(f"{name}: {value}" for name, value in message.items())
    try:
        body = message.get_content()
    except Exception:
        body = message.get_payload(decode=False)
    return f"{headers}\n\n{body}"


def summary(shown: Sequence[EmailRecord], total: int, pending: int = 0) -> str:
    """The panel's count line: "12 sent (last 10 shown), 2 queued, 1 retrying, 1 dead"."""
    sent = max(total, sum(1 for r in shown if r.state == SENT))
    retrying = sum(1 for r in shown if r.state == RETRYING)
    dead = sum(1 for r in shown if r.state == DEAD)
    queued = max(pending - retrying, sum(1 for r in shown if r.state == QUEUED))
    text = f"{sent:,} sent"
    if len(shown) < sent + queued + retrying + dead:
        text += f" (last {len(shown):,} shown)"
    for count, word in ((queued, QUEUED), (retrying, RETRYING), (dead, DEAD)):
        if count:
            text += f", {count:,} {word}"
    return text
