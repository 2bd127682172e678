"""The email log on the durable receivers, through a real store, a real
worker and a real SMTP server (aiosmtpd): a relay outage drains by itself,
a message failing N times is dead until retried by hand, a restart sends
what was owed; and the plugin's own rules (the sender, the size of the log)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import insert

from storeapp import mail
from storeapp.domain.events.durable import dead_events, progress_of
from storeapp.domain.events.log import EVENTS
from storeapp.domain.events.worker import DurableWorker
from storeapp.domain.models import utcnow
from storeapp.listeners.email_log.log import MAX_RECORDS
from tests.integration.mailtools import PASSWORD, outbox_files, place_order, wait_until


def test_a_relay_outage_during_a_burst_drains_by_itself_each_message_once_none_dead(
    shop, make_plugin, make_worker, smtp_server
):
    plugin = make_plugin(backend="smtp", smtp_port=smtp_server.port, smtp_timeout=2)
    make_worker(backoff=0.02, backoff_cap=0.2)
    users = [shop.register_user(f"user{n}", f"user{n}@example.com", PASSWORD) for n in range(3)]
    orders = [place_order(shop, users[n % 3], {"TEA-GRN": 1}) for n in range(5)]
    smtp_server.stop()  # the relay goes down in the middle of the burst
    orders += [place_order(shop, users[n % 3], {"TEA-GRN": 1}) for n in range(15)]
    wait_until(lambda: any(r.state == "retrying" for r in plugin.records), what="a retry")
    smtp_server.start()  # and comes back

    assert plugin.wait_for_delivery(30)
    subjects = [m["Subject"] for m in smtp_server.handler.parsed]
    assert sorted(subjects) == sorted(
        [f"Welcome to storeapp, user{n}" for n in range(3)]
        + [f"Your storeapp order #{o.id}" for o in orders]
    )  # every message, each once
    assert len(set(smtp_server.handler.message_ids())) == 23
    assert {r.state for r in plugin.records} == {"sent"}
    for receiver in ("email_log.welcome", "email_log.order_confirmation"):
        assert dead_events(shop.engine, receiver) == []


class Flaky(mail.MemoryBackend):
    """Refuses the first ``failures`` messages (a relay having a bad day)."""

    failures = 0

    def send_messages(self, messages: Any) -> int:
        if Flaky.failures:
            Flaky.failures -= 1
            raise mail.MailError("the relay said 451 try again later")
        return super().send_messages(messages)


def test_a_message_failing_max_attempts_times_is_dead_until_retried_by_hand(
    shop, make_plugin, make_worker, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "flaky", Flaky)
    monkeypatch.setattr(Flaky, "failures", 3)
    plugin = make_plugin(backend="flaky", max_attempts=3)
    make_worker()

    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    wait_until(lambda: [r.state for r in plugin.records] == ["dead"], what="a dead welcome")
    [record] = plugin.records
    assert record.status == "dead after 3 attempts: the relay said 451 try again later"
    [dead] = dead_events(shop.engine, "email_log.welcome")
    assert (dead.event_id, dead.attempts) == (record.id, 3)
    assert plugin.backend.outbox == []
    assert "Email log to retry" in plugin.host.notices[-1]

    assert plugin.retry(record.id)
    wait_until(lambda: [r.state for r in plugin.records] == ["sent"], what="the retry")
    assert [m["To"].addresses[0].addr_spec for m in plugin.backend.outbox] == [user.email]
    # The worker clears the dead row when it commits the attempt, just after
    # the receiver marked the record sent: wait for that commit too.
    wait_until(lambda: dead_events(shop.engine, "email_log.welcome") == [], what="the commit")
    assert not plugin.retry(record.id)  # no longer dead


def test_an_order_committed_before_a_restart_is_sent_once_by_the_next_worker(
    shop, make_plugin, tmp_path
):
    plugin = make_plugin()  # no worker runs: the till dies before delivering
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(shop, user, {"COF-250": 1})
    assert outbox_files(tmp_path) == []
    plugin.shutdown()

    restarted = make_plugin()
    worker = DurableWorker(shop.engine, poll=0.02)
    worker.start()
    try:
        assert restarted.wait_for_delivery(10)
    finally:
        worker.stop()
    again = DurableWorker(shop.engine)  # and a further restart sends nothing more
    assert not again.run_once()

    subjects = sorted(p.name.split(".")[0] for p in outbox_files(tmp_path))
    assert subjects == ["order-confirmation", "welcome"]
    assert restarted.records[-1].subject == f"Your storeapp order #{order.id}"
    assert progress_of(shop.engine, "email_log.order_confirmation").dead == ()


def test_on_a_database_of_the_version_before_only_orders_from_now_on_are_emailed(
    shop, make_plugin, tmp_path
):
    """Those orders were emailed from on_commit receivers then: an upgrade
    must not send every customer a confirmation of every order again."""
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    for _ in range(3):
        place_order(shop, user, {"COF-250": 1})  # with no durable email receiver yet

    plugin = make_plugin()
    order = place_order(shop, user, {"COF-250": 1})
    worker = DurableWorker(shop.engine)
    while worker.run_once():
        pass
    worker.release_all()

    assert [p.name.split(".")[0] for p in outbox_files(tmp_path)] == ["order-confirmation"]
    assert [r.subject for r in plugin.records] == [f"Your storeapp order #{order.id}"]


def test_after_a_restart_the_log_shows_what_is_still_queued_and_dead(
    shop, make_plugin, make_worker, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "flaky", Flaky)
    monkeypatch.setattr(Flaky, "failures", 1)
    plugin = make_plugin(backend="flaky", max_attempts=1)
    worker = make_worker()
    user = shop.register_user("ada", "ada@example.com", PASSWORD)
    wait_until(lambda: [r.state for r in plugin.records] == ["dead"], what="a dead welcome")
    worker.stop()
    order = place_order(shop, user, {"COF-250": 1})
    plugin.shutdown()

    restarted = make_plugin(backend="memory")

    assert [(r.state, r.subject) for r in restarted.records] == [
        ("dead", "Welcome to storeapp, ada"),
        ("queued", f"Your storeapp order #{order.id}"),
    ]
    assert restarted.pending == 1


@pytest.mark.parametrize(
    "from_address",
    ["Corner Shop <hello@corner.invalid>\r\nBcc: spy@example.com", "hello@"],
    ids=["a line break", "an unreadable address"],
)
def test_an_unusable_from_address_setting_falls_back_to_the_default_sender(
    shop, make_plugin, make_worker, caplog, from_address
):
    with caplog.at_level(logging.WARNING, logger="storeapp.email"):
        plugin = make_plugin(backend="memory", from_address=from_address)
    make_worker()

    shop.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(10)

    [message] = plugin.backend.outbox
    assert message["From"] == mail.DEFAULT_FROM
    assert message["Bcc"] is None
    assert "Invalid email_log/from_address" in caplog.text


def test_the_log_keeps_the_last_thousand_emails_and_counts_every_one(
    shop, make_plugin, make_worker
):
    plugin = make_plugin(backend="memory")
    names = [f"user{n}" for n in range(MAX_RECORDS + 2)]
    with shop.engine.begin() as conn:  # the rows 1,002 registrations append (no hashing)
        conn.execute(
            insert(EVENTS),
            [
                {
                    "signal": "user_registered",
                    "sender": "User",
                    "payload": {"user_id": n, "username": name, "email": f"{name}@example.com"},
                    "terminal": "test",
                    "at": utcnow(),
                }
                for n, name in enumerate(names, 1)
            ],
        )
    make_worker()
    assert plugin.wait_for_delivery(60)

    assert MAX_RECORDS == 1000
    assert plugin.total == 1002
    records = plugin.records
    assert len(records) == 1000  # the two oldest were dropped
    assert records[0].subject == "Welcome to storeapp, user2"
    assert records[-1].subject == "Welcome to storeapp, user1001"
    assert {r.status for r in records} == {"sent"}
    assert len(plugin.backend.outbox) == 1002  # the backend sent them all
