"""The lessons' checks and the code they show, without a window."""

from __future__ import annotations

import inspect
import json

from storeapp.domain import signals
from storeapp.domain.dispatch import ReceiverCall, ReceiverStatus, SendRecord
from storeapp.ui.lessons import sandbox, source, wire
from storeapp.ui.lessons.catalogue import LESSONS
from storeapp.ui.lessons.checks import Evidence


def record(signal: str, sender: str, kwargs: str, *calls: ReceiverCall) -> SendRecord:
    return SendRecord(1, 0.0, signal, sender, kwargs, False, "MainThread", list(calls))


CORE_RAN = ReceiverCall(
    "create_customer_for_new_user", "storeapp.listeners.core", ReceiverStatus.OK
)


def test_ten_lessons_in_the_seeds_order_each_with_a_check_and_an_action():
    assert [lesson.number for lesson in LESSONS] == list(range(1, 11))
    assert all(lesson.steps and lesson.action and lesson.try_it for lesson in LESSONS)
    sandboxed = [lesson.number for lesson in LESSONS if lesson.in_sandbox]
    assert sandboxed == [5, 6, 8, 9, 10]


def test_nothing_seen_passes_no_step():
    for lesson in LESSONS:
        assert not any(lesson.passed(Evidence())), lesson.title


def test_lesson_one_needs_both_the_send_and_the_receiver():
    lesson = LESSONS[0]
    created = record("post_save", "User", "instance=<User id=1>, created=True")
    ran = record("post_save", "User", "instance=<User id=1>, created=True", CORE_RAN)
    customer = record("post_save", "Customer", "instance=<Customer>, created=True", CORE_RAN)

    assert lesson.passed(Evidence([created])) == [True, False]
    assert lesson.passed(Evidence([ran])) == [True, True]
    assert lesson.passed(Evidence([customer])) == [False, False]


def test_a_sandbox_send_survives_its_trip_through_json():
    sent = record(
        "order_created",
        "Order",
        "order=<Order id=1>",
        ReceiverCall("f", "m", ReceiverStatus.DEFERRED, on_commit=True),
    )

    back = wire.record_from_json(json.loads(json.dumps(wire.record_to_json(sent))))

    assert wire.record_to_json(back) == wire.record_to_json(sent)
    assert back.calls[0].status is ReceiverStatus.DEFERRED


def test_a_signal_definition_is_found_where_it_is_in_the_source():
    shown = source.signal_definition("order_created")

    path, line = shown.location.rsplit(":", 1)
    assert path == "storeapp/domain/signals.py"
    lines = inspect.getsource(signals).splitlines()
    assert lines[int(line) - 1].startswith("order_created = Signal(")
    assert shown.code.startswith("order_created = Signal(")


def test_a_function_is_shown_with_its_own_source_and_line():
    shown = source.function(sandbox.without_ready)

    lines, first = inspect.getsourcelines(sandbox.without_ready)
    assert shown.location == f"storeapp/ui/lessons/sandbox.py:{first}"
    assert shown.code == "".join(lines).rstrip()
