"""The lessons: one per concept of the seed, in its order, and three beyond it.

Each :class:`Lesson` says what it teaches in a few sentences, shows the
real code involved (:mod:`.source`), names the action its **Try it** button
runs (in the live app, or a :mod:`.sandbox` scenario in its own process),
and lists the :class:`Step` s of its check: what the signal inspector must
have seen (sends and their receivers) and, for a sandbox, what it found
(its facts). Qt-free: the panel in :mod:`.panel` shows and drives them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storeapp.domain.dispatch import ReceiverStatus, Signal
from storeapp.domain.events.follow import Follower
from storeapp.domain.signals import order_created, post_save
from storeapp.domain.store.orders import OrderServices
from storeapp.domain.store.users import UserServices
from storeapp.ui.lessons import sandbox, source
from storeapp.ui.lessons.checks import (
    Check,
    Evidence,
    all_of,
    fact,
    failed,
    is_status,
    ran,
    sent,
    sent_unheard,
)
from storeapp.ui.lessons.source import Snippet

#: Live actions (the panel runs them through the window).
REGISTER_CUSTOMER = "register a customer"
PLACE_ORDER = "place an order"
REPLUG_ANALYTICS = "switch analytics on and place an order"


@dataclass(frozen=True)
class Step:
    """One thing a lesson's check waits for."""

    label: str
    done: Check


@dataclass(frozen=True)
class Lesson:
    number: int
    title: str
    text: str
    #: The code shown, read when the lesson is shown (``manager`` may be None).
    code: Callable[[Any], list[Snippet]]
    #: A live action (REGISTER_CUSTOMER, ...) or a sandbox scenario's name.
    action: str
    #: What the Try it button does, in words.
    try_it: str
    steps: tuple[Step, ...]

    @property
    def in_sandbox(self) -> bool:
        return self.action in sandbox.SCENARIOS

    def passed(self, evidence: Evidence) -> list[bool]:
        return [step.done(evidence) for step in self.steps]


# -- the code each lesson shows --------------------------------------------------------


def _plugin_ready(manager: Any, name: str) -> list[Snippet]:
    record = manager.record(name) if manager is not None and name in manager else None
    if record is None or record.cls is None:
        return []
    return [source.function(record.cls.ready, f"the {name} plugin's ready()")]


def _core_ready(_manager: Any) -> list[Snippet]:
    found = source.module_function("storeapp.listeners.core", "ready", "core's ready()")
    return [found] if found is not None else []


LESSONS: tuple[Lesson, ...] = (
    Lesson(
        1,
        "A model signal: post_save with created=True",
        "Every save sends pre_save and post_save, with the model class as sender. "
        "When a User row is inserted, post_save carries created=True, and core's "
        "receiver gives the new user a Customer in the same transaction.",
        lambda _m: [
            *source.receivers(post_save, name="create_customer_for_new_user"),
            source.function(UserServices.register_user, "the save that sends it"),
        ],
        REGISTER_CUSTOMER,
        "Registers a new customer at the till.",
        (
            Step(
                "post_save from User with created=True",
                sent("post_save", sender="User", kwargs_has="created=True"),
            ),
            Step(
                "create_customer_for_new_user ran",
                sent(
                    "post_save",
                    sender="User",
                    receiver="create_customer_for_new_user",
                    status=ran,
                ),
            ),
        ),
    ),
    Lesson(
        2,
        "A custom signal: order_created",
        "Model signals come with the ORM. A custom signal is one the application "
        "declares itself, a Signal() in signals.py, for an event the business cares "
        "about. order_created is custom: it says an order was placed, with the order "
        "as its argument; post_save, declared next to it, is one of Django's built-ins.",
        lambda _m: [
            source.signal_definition("order_created"),
            source.signal_definition("post_save"),
        ],
        PLACE_ORDER,
        "Places a one-item order for the customer being served.",
        (Step("order_created (custom) was sent", sent("order_created")),),
    ),
    Lesson(
        3,
        "Where a signal is fired from",
        "A signal is sent by an explicit call in the code that owns the event: "
        "place_order writes the order, then calls order_created.send_robust(Order, "
        "order=order) before its commit. The inspector names the function and "
        "file:line of every send.",
        lambda _m: [source.function(OrderServices.place_order, "the sender: place_order")],
        PLACE_ORDER,
        "Places a one-item order for the customer being served.",
        (
            Step(
                "order_created sent from place_order",
                sent("order_created", origin_has="place_order"),
            ),
        ),
    ),
    Lesson(
        4,
        "A handler in another module",
        "The order code does not know who listens. The email log, the inventory and "
        "the analytics live in their own packages and connect receivers to "
        "order_created; nothing in the order module imports them. Most wait for the "
        "commit (on_commit=True), so a rolled-back order sends no email.",
        lambda _m: source.receivers(order_created, module_prefix="storeapp.listeners."),
        PLACE_ORDER,
        "Places a one-item order for the customer being served.",
        (
            Step(
                "a plugin's receiver ran for order_created",
                sent(
                    "order_created",
                    module="storeapp.listeners.",
                    not_module="storeapp.listeners.core",
                    status=ran,
                ),
            ),
            Step(
                "one of them ran after the commit",
                sent(
                    "order_created",
                    module="storeapp.listeners.",
                    status=is_status(ReceiverStatus.RAN_AFTER_COMMIT),
                ),
            ),
        ),
    ),
    Lesson(
        5,
        "Receivers are connected at start-up, in ready()",
        "A receiver hears nothing until something connects it. Django connects them "
        "in AppConfig.ready(); storeapp calls each plugin's ready() at start-up. "
        "A store started without core's ready() registers users without customers, "
        "and checkout says why.",
        lambda _m: [*_core_ready(_m), source.function(sandbox.without_ready, "the sandbox")],
        "without_ready",
        "Starts a throw-away store without core's ready(), registers and checks out, "
        "then runs ready() and tries again. The live database is not touched.",
        (
            Step(
                "without ready(): post_save(User, created=True) reached no receiver",
                sent_unheard("post_save", "User", "created=True", "create_customer_for_new_user"),
            ),
            Step(
                "checkout refused, saying why",
                fact("checkout_refused", lambda v: "customer profile" in str(v)),
            ),
            Step(
                "after ready(): create_customer_for_new_user ran",
                sent(
                    "post_save", sender="User", receiver="create_customer_for_new_user", status=ran
                ),
            ),
        ),
    ),
    Lesson(
        6,
        "send versus send_robust",
        "send lets a receiver's exception reach the sender: model signals are sent "
        "that way, so a failing post_save receiver rolls the save back. send_robust "
        "catches it, logs it and returns it as that receiver's response: the order "
        "survives, and storeapp also sends receiver_failed.",
        lambda _m: [
            source.function(sandbox.send_vs_send_robust, "the sandbox"),
            source.function(Signal.deliver, "the one send loop (robust or not)"),
        ],
        "send_vs_send_robust",
        "In a throw-away store, a post_save receiver and an order_created receiver "
        "each raise once.",
        (
            Step(
                "send: the post_save receiver raised",
                sent("post_save", sender="User", status=failed),
            ),
            Step("the save rolled back: no user", fact("users_after_send", lambda v: v == 0)),
            Step(
                "send_robust: the order_created receiver raised",
                sent("order_created", status=failed),
            ),
            Step("the order survived", fact("orders_after_send_robust", lambda v: v >= 1)),
            Step("the failure was reported: receiver_failed", sent("receiver_failed")),
        ),
    ),
    Lesson(
        7,
        "A new plugin without touching order code",
        "A plugin is a package with an entry point in pyproject.toml and a class "
        "whose ready() connects its receivers (on_commit=True for work after the "
        "commit). Switch one on and it hears the next order; place_order never "
        "changed.",
        lambda m: [source.entry_points(), *_plugin_ready(m, "analytics")],
        REPLUG_ANALYTICS,
        "Switches the analytics plugin off and on again, then places an order.",
        (
            Step(
                "analytics was switched on (plugin_state_changed)",
                sent("plugin_state_changed", kwargs_has="name='analytics'"),
            ),
            Step(
                "its receiver ran for order_created",
                sent("order_created", module="storeapp.listeners.analytics", status=ran),
            ),
        ),
    ),
    Lesson(
        8,
        "Inside the transaction, or after the commit",
        "order_created is sent inside the order's transaction, as the seed sends it "
        "inside transaction.atomic(). A receiver that runs at once sees the order "
        "even if the transaction then rolls back; one connected with on_commit=True "
        "runs only after the commit, and is dropped on rollback.",
        lambda _m: [source.function(sandbox.inside_the_transaction, "the sandbox")],
        "inside_the_transaction",
        "In a throw-away store, writes an order, sends order_created, then rolls "
        "back; then places a real order.",
        (
            Step(
                "the immediate receiver saw the order",
                sent("order_created", receiver="immediate", status=ran),
            ),
            Step(
                "the after-commit receiver was dropped by the rollback",
                sent(
                    "order_created",
                    receiver="after_commit",
                    status=is_status(ReceiverStatus.DROPPED),
                ),
            ),
            Step("the order is gone", fact("orders_after_rollback", lambda v: v == 0)),
            Step(
                "a committed order runs the after-commit receiver",
                sent(
                    "order_created",
                    receiver="after_commit",
                    status=is_status(ReceiverStatus.RAN_AFTER_COMMIT),
                ),
            ),
        ),
    ),
    Lesson(
        9,
        "After the commit, before the work: a crash",
        "on_commit work waits in the process's memory: if the till dies between the "
        "commit and that work, nothing remembers it was owed. So the email log is a "
        "durable receiver: the order's transaction also wrote a row to the event log, "
        "and the receiver's progress is stored in the database. Started again, the "
        "till sends the confirmation, once.",
        lambda m: [
            source.function(sandbox.power_cut_till, "the till that loses power"),
            source.function(sandbox.crash_after_commit, "the restarts"),
            *_plugin_ready(m, "email_log"),
        ],
        "crash_after_commit",
        "Runs a throw-away till in its own process that dies right after committing "
        "an order, then starts it again, twice.",
        (
            Step(
                "the till died after the commit, before any email",
                all_of(
                    fact("crash_status", lambda v: v == sandbox.POWER_CUT),
                    fact("order_emails_after_crash", lambda v: v == 0),
                ),
            ),
            Step("the order is in the database", fact("orders_after_crash", lambda v: v == 1)),
            Step(
                "started again, the event log delivered its email",
                all_of(
                    sent(
                        "order_created",
                        origin_has="event log #",
                        module="storeapp.listeners.email_log",
                        status=is_status(ReceiverStatus.DELIVERED),
                    ),
                    fact("order_emails_after_first_start", lambda v: v == 1),
                ),
            ),
            Step(
                "a second start sends no second email",
                fact("order_emails_after_second_start", lambda v: v == 1),
            ),
        ),
    ),
    Lesson(
        10,
        "Signals end at the process; the event log does not: two tills",
        "A signal is a function call inside one process: a second till on the same "
        "database hears none of the first till's signals. What crosses is the event log: "
        "each till follows it from its own cursor (woken by PostgreSQL's NOTIFY, or "
        "polling SQLite) and replays other tills' events on its signals, marked "
        "remote=True with their terminal, to the receivers that asked "
        "(connect(..., remote=True)): panels do, stock and email do not. "
        "See it live: make tills opens two windows on a throw-away PostgreSQL.",
        lambda _m: [
            source.function(sandbox.two_tills, "till 2"),
            source.function(sandbox.selling_till, "till 1"),
            source.function(Follower.catch_up, "the follower"),
        ],
        "two_tills",
        "Runs two throw-away tills, two processes on one database: till 1 sells while "
        "till 2 listens and follows the event log.",
        (
            Step("till 1 sent order_created", sent("order_created")),
            Step("till 2's receiver heard none of it", fact("heard_by_till_2", lambda v: v == 0)),
            Step(
                "till 2's database has the order",
                fact("orders_seen_by_till_2", lambda v: v >= 1),
            ),
            Step(
                "till 2's follower replayed it as a remote send from till 1",
                all_of(
                    fact("followed_by_till_2", lambda v: v == 1),
                    fact("followed_from", lambda v: v == "till 1"),
                ),
            ),
        ),
    ),
)
