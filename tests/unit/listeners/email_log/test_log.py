"""The email log's Qt-free core: records, the size cap, the panel's count
line, a message as a person reads it."""

from __future__ import annotations

import json
import subprocess
import sys

from storeapp import mail
from storeapp.listeners.email_log.log import (
    MAX_RECORDS,
    EmailLog,
    render_message,
    summary,
)


def test_a_new_email_is_queued_and_counted() -> None:
    log = EmailLog()
    record = log.add(to="ada <ada@example.com>", subject="Welcome", kind="welcome")

    assert (record.id, record.status, record.raw, record.kind) == (1, "queued", None, "welcome")
    assert record.message is None and not record.failed
    assert log.records() == [record] and log.total == 1


def test_past_the_limit_the_oldest_emails_leave_the_log_but_stay_counted() -> None:
    assert EmailLog().limit == MAX_RECORDS == 1000
    log = EmailLog(limit=3)
    for n in range(5):
        log.add(to="ada <ada@example.com>", subject=f"#{n}", kind="order")

    assert [r.subject for r in log.records()] == ["#2", "#3", "#4"]
    assert len(log) == 3
    assert log.total == 5


def test_an_outcome_replaces_the_record_and_one_that_left_the_log_is_ignored() -> None:
    log = EmailLog(limit=1)
    first = log.add(to="a", subject="first", kind="order")
    second = log.add(to="b", subject="second", kind="order")

    assert log.set_status(first.id, "sent") is None  # dropped by the cap
    failed = log.set_status(second.id, "failed: refused")

    assert failed is not None and failed.failed and failed.id == second.id
    assert second.status == "queued"  # records are immutable
    assert log.records() == [failed]


def test_the_built_message_gives_the_record_its_bytes_and_decoded_headers() -> None:
    log = EmailLog()
    record = log.add(to="José <jose@example.com>", subject="Welcome", kind="welcome")
    message = mail.welcome_message(
        from_address=mail.DEFAULT_FROM, username="José", email="jose@example.com"
    )

    log.built(record.id, message)

    [built] = log.records()
    assert built.raw == message.as_bytes()
    assert built.to == "José <jose@example.com>"  # not =?utf-8?q?...
    assert built.subject == "Welcome to storeapp, José"
    assert built.message is not None and "Hello José," in built.message.get_content()


def test_the_count_line_says_how_many_are_shown_queued_and_failed() -> None:
    log = EmailLog(limit=3)
    for n in range(5):
        log.add(to="a", subject=f"#{n}", kind="order")
    shown = log.records()
    log.set_status(shown[0].id, "sent")
    log.set_status(shown[1].id, "failed: refused")

    assert summary(log.records(), log.total) == "5 emails (last 3 shown), 1 queued, 1 failed"
    assert summary(log.records()[:1], 1) == "1 email"
    assert summary([], 0) == "0 emails"


def test_a_message_reads_as_headers_a_blank_line_and_the_body() -> None:
    message = mail.as_email_message(
        mail.welcome_message(from_address=mail.DEFAULT_FROM, username="ada", email="a@b.invalid")
    )

    text = render_message(message)

    headers, body = text.split("\n\n", 1)
    assert "From: storeapp <shop@storeapp.invalid>" in headers.splitlines()
    assert body.startswith("Hello ada,")
    assert render_message(None) == "(the message could not be built)"


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
