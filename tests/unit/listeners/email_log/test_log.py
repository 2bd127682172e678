"""The email log's Qt-free core: records by event, the size cap, the
database's states, the panel's count line, a message as a person reads it."""

from __future__ import annotations

import json
import subprocess
import sys
from email.message import Message

from storeapp import mail
from storeapp.domain.events.durable import DeadEvent, Event
from storeapp.listeners.email_log.backlog import Backlog, KindBacklog
from storeapp.listeners.email_log.emails import KINDS, ORDER, WELCOME
from storeapp.listeners.email_log.log import (
    MAX_RECORDS,
    EmailLog,
    render_message,
    summary,
)


def welcome(name: str = "ada", address: str = "ada@example.com") -> Message:
    return mail.welcome_message(from_address=mail.DEFAULT_FROM, username=name, email=address)


def order_event(event_id: int, order_id: int) -> Event:
    payload = {"order_id": order_id, "username": "ada", "email": "ada@example.com"}
    return Event(event_id, "order_created", "Order", payload)


def backlog(
    cursor: int = 0,
    head: tuple[Event, ...] = (),
    pending: int | None = None,
    attempts: int = 0,
    next_try: float | None = None,
    error: str | None = None,
    dead: tuple[DeadEvent, ...] = (),
) -> Backlog:
    """The order kind's state as given; the welcome kind empty."""
    orders = KindBacklog(
        ORDER,
        cursor,
        attempts,
        next_try,
        error,
        len(head) if pending is None else pending,
        head,
        dead,
        {d.event_id: order_event(d.event_id, d.event_id * 10).payload for d in dead},
    )
    nothing = KindBacklog(WELCOME, 0, 0, None, None, 0, (), (), {})
    assert KINDS == (WELCOME, ORDER)
    return Backlog((nothing, orders))


def test_a_sent_email_is_recorded_by_its_event_with_its_bytes_and_counted() -> None:
    log = EmailLog()
    message = welcome("José", "jose@example.com")

    record = log.sent(7, "welcome", message)

    assert (record.id, record.state, record.status, record.kind) == (7, "sent", "sent", "welcome")
    assert record.raw == message.as_bytes()
    assert record.to == "José <jose@example.com>"  # not =?utf-8?q?...
    assert record.subject == "Welcome to storeapp, José"
    assert record.message is not None and "Hello José," in record.message.get_content()
    assert log.records() == [record] and log.total == 1
    log.sent(7, "welcome", message)  # the same event again: still one
    assert len(log) == 1 and log.total == 1


def test_past_the_limit_the_oldest_events_leave_the_log_but_stay_counted() -> None:
    assert EmailLog().limit == MAX_RECORDS == 1000
    log = EmailLog(limit=3)
    for event_id in (5, 1, 4, 2, 3):
        log.sent(event_id, "welcome", welcome(f"u{event_id}"))

    assert [r.id for r in log.records()] == [3, 4, 5]
    assert log.total == 5


def test_the_backlog_shows_queued_retrying_and_dead_and_what_the_cursor_passed_as_sent() -> None:
    log = EmailLog()
    log.apply_backlog(backlog(head=(order_event(1, 10), order_event(2, 11))))
    assert [(r.id, r.state, r.subject) for r in log.records()] == [
        (1, "queued", "Your storeapp order #10"),
        (2, "queued", "Your storeapp order #11"),
    ]
    assert log.pending == 2

    log.apply_backlog(
        backlog(
            head=(order_event(1, 10), order_event(2, 11)),
            attempts=2,
            next_try=1_700_000_000.0,
            error="MailError: connection refused",
        )
    )
    retrying, queued = log.records()
    assert (retrying.state, retrying.attempts, retrying.error) == (
        "retrying",
        2,
        "connection refused",
    )
    assert retrying.status.startswith("retrying (attempt 3 at ")
    assert retrying.status.endswith("): connection refused") and queued.state == "queued"

    log.apply_backlog(
        backlog(cursor=2, dead=(DeadEvent(1, 40, "GiveUp: 550 no such mailbox", 0.0, False),))
    )
    dead, sent = log.records()
    assert (dead.state, dead.status) == ("dead", "dead after 40 attempts: 550 no such mailbox")
    assert sent.state == "sent" and log.pending == 0


def test_a_message_sent_here_stays_sent_while_the_database_catches_up() -> None:
    log = EmailLog()
    log.sent(1, "order", welcome())
    log.apply_backlog(backlog(head=(order_event(1, 10),)))
    log.apply_backlog(backlog(cursor=1, dead=(DeadEvent(1, 3, "refused", 0.0, True),)))
    assert log.records()[0].state == "sent"


def test_the_count_line_says_sent_shown_queued_retrying_and_dead() -> None:
    log = EmailLog(limit=3)
    for n in range(1, 6):
        log.sent(n, "order", welcome(f"u{n}"))
    log.apply_backlog(
        backlog(
            cursor=6,
            head=(order_event(7, 1), order_event(8, 2)),
            pending=30,
            attempts=1,
            dead=(DeadEvent(6, 3, "refused", 0.0, False),),
        )
    )

    assert summary(log.records(), log.total, log.pending) == (
        "5 sent (last 3 shown), 29 queued, 1 retrying, 1 dead"
    )
    assert summary([], 0) == "0 sent"


def test_a_message_reads_as_headers_a_blank_line_and_the_body() -> None:
    message = mail.as_email_message(
        mail.welcome_message(from_address=mail.DEFAULT_FROM, username="ada", email="a@b.invalid")
    )

    text = render_message(message)

    headers, body = text.split("\n\n", 1)
    assert "From: storeapp <shop@storeapp.invalid>" in headers.splitlines()
    assert body.startswith("Hello ada,")
    assert render_message(None).startswith("(not built yet")


QT_PACKAGES = ("PySide6", "shiboken6")
PROBE = f"""
import json, sys
import storeapp.mail, storeapp.listeners.email_log.log, storeapp.listeners.email_log.plugin
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {QT_PACKAGES!r})))
"""


def test_the_mail_library_the_log_and_the_plugin_load_no_qt() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []
