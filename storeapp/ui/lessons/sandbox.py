"""Throw-away stores for the lessons that cannot run in the live app.

Each scenario runs in its own process, on a store in a temporary folder:
a start-up without core's ``ready()``, a receiver that breaks a save, a
till that dies after its commit, a second till. The live database, the
live receivers and the live window are never touched.

The process writes JSON lines on stdout, which the Lessons panel reads:
``{"say": text}`` (what happened, in words), ``{"send": record}`` (one
:class:`~storeapp.domain.dispatch.SendRecord`, as the inspector would
record it; sent again when a deferred receiver ran or was dropped) and
``{"fact": {name: value}}`` (what a lesson's check looks at).

Run one by hand: ``python -m storeapp.ui.lessons.sandbox without_ready --data-dir /tmp/x``.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from storeapp.domain import DomainError, Store, dispatch
from storeapp.domain.demo import DEMO_PASSWORD, seed_catalogue
from storeapp.domain.events.follow import Follower
from storeapp.domain.events.remote import send_remote
from storeapp.domain.events.worker import DurableWorker
from storeapp.domain.models import Order, User
from storeapp.domain.signals import order_created, post_save
from storeapp.listeners.api import HeadlessHost
from storeapp.listeners.manager import PluginManager
from storeapp.ui.lessons.wire import record_to_json

#: Exit status of the till that "loses power" in lesson 9.
POWER_CUT = 137


def emit(**message: Any) -> None:
    """One JSON line to the Lessons panel (flushed: a till may die next)."""
    print(json.dumps(message, default=str), flush=True)


def say(text: str) -> None:
    emit(say=text)


def fact(**facts: Any) -> None:
    emit(fact=facts)


class PrintingObserver:
    """The dispatch observer of a sandbox: every send, as a JSON line, but
    the sandbox's own plugin start-ups and shut-downs (not the lesson)."""

    def __init__(self, till: str | None = None) -> None:
        self.till = till

    def sent(self, record: dispatch.SendRecord) -> None:
        if record.signal != "plugin_state_changed":
            emit(send=record_to_json(record), till=self.till)

    updated = sent


class Sandbox:
    """A store in ``data_dir`` with the demo catalogue, and its plugins."""

    def __init__(self, data_dir: Path, terminal: str = "sandbox") -> None:
        self.data_dir = data_dir
        self.url = f"sqlite:///{data_dir / 'sandbox.sqlite3'}"
        self.store = Store.open(self.url, terminal=terminal)
        seed_catalogue(self.store)
        self.manager: PluginManager | None = None

    def start_plugins(self, *names: str) -> PluginManager:
        """Discover the plugins and run ``ready()`` of these (and of the
        required core): what the app's start-up does."""
        if self.manager is None:
            host = HeadlessHost(self.store, self.data_dir)
            self.manager = PluginManager(host)
            host.plugins = self.manager
            self.manager.discover()
        self.manager.start(names)
        return self.manager

    def customer(self, username: str) -> User:
        return self.store.register_user(username, f"{username}@example.com", DEMO_PASSWORD)

    def cart_with_a_product(self) -> Any:
        cart = self.store.create_cart()
        product = self.store.list_products()[0]
        return self.store.add_to_cart(cart.id, product.id, 1)

    def count(self, model: Any) -> int:
        with self.store.units.read() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)

    def close(self) -> None:
        if self.manager is not None:
            self.manager.shutdown_all()
        self.store.close()


# -- the scenarios ---------------------------------------------------------------------


def without_ready(box: Sandbox) -> None:
    """Lesson 5: receivers exist only once ready() has connected them."""
    say("A sandbox store starts WITHOUT core's ready(): nothing listens to post_save.")
    ada = box.customer("ada")
    fact(customer_without_ready=ada.customer is not None)
    say(f"Registered 'ada': post_save(User, created=True) was sent; customer = {ada.customer}.")
    cart = box.cart_with_a_product()
    try:
        box.store.place_order(cart.id, ada.id)
    except DomainError as exc:
        fact(checkout_refused=str(exc))
        say(f"Checkout refused: {exc}")
    box.start_plugins("core")  # the app's start-up: core's ready() connects its receivers
    say("Now core's ready() has run (as Django runs AppConfig.ready() at start-up).")
    grace = box.customer("grace")
    fact(customer_after_ready=grace.customer is not None)
    order = box.store.place_order(box.cart_with_a_product().id, grace.id)
    say(f"Registered 'grace': she has a customer and order #{order.id} went through.")


class ReceiverBroke(RuntimeError):
    """The exception the lessons' broken receivers raise."""


def send_vs_send_robust(box: Sandbox) -> None:
    """Lesson 6: the same failing receiver under send and under send_robust."""
    box.start_plugins("core")

    def refuse_user(sender: Any, instance: User, created: bool, **kwargs: Any) -> None:
        raise ReceiverBroke(f"post_save receiver failed for {instance.username!r}")

    post_save.connect(refuse_user, sender=User, weak=False)
    try:
        box.customer("ada")
    except Exception as exc:  # send(): the receiver's exception reaches the caller
        say(f"register_user raised {type(exc).__name__}: {exc}")
    finally:
        post_save.disconnect(refuse_user, sender=User)
    fact(users_after_send=box.count(User))
    say(f"Users in the database after the failed save: {box.count(User)} (rolled back).")

    def refuse_order(sender: Any, order: Order, **kwargs: Any) -> None:
        raise ReceiverBroke(f"order_created receiver failed for order #{order.id}")

    order_created.connect(refuse_order, weak=False)
    try:
        ada = box.customer("ada")
        order = box.store.place_order(box.cart_with_a_product().id, ada.id)
    finally:
        order_created.disconnect(refuse_order)
    fact(orders_after_send_robust=box.count(Order))
    say(f"send_robust: order #{order.id} is placed; the failure was logged and returned.")


class PaymentDeclined(RuntimeError):
    """What rolls the order back in lesson 8."""


def inside_the_transaction(box: Sandbox) -> None:
    """Lesson 8: an immediate receiver sees an order that may never exist."""
    box.start_plugins("core")
    ada = box.customer("ada")

    def immediate(sender: Any, order: Order, **kwargs: Any) -> None:
        say(f"immediate receiver: order #{order.id} exists (inside the transaction)")

    def after_commit(sender: Any, order: Order, **kwargs: Any) -> None:
        say(f"after-commit receiver: order #{order.id} is committed")

    order_created.connect(immediate, weak=False)
    order_created.connect(after_commit, weak=False, on_commit=True)
    try:
        try:  # the seed's shape: write the order, send, then something fails
            with box.store.unit_of_work() as uow:
                assert ada.customer is not None  # core's receiver gave her one
                order = Order(customer_id=ada.customer.id, total=0)
                uow.session.add(order)
                uow.flush()
                order_created.send_robust(Order, order=order)
                raise PaymentDeclined("the card was declined")
        except PaymentDeclined as exc:
            say(f"Then {exc}: the transaction rolled back.")
        fact(orders_after_rollback=box.count(Order))
        say(f"Orders in the database: {box.count(Order)}. The immediate receiver saw a ghost.")
        order = box.store.place_order(box.cart_with_a_product().id, ada.id)
        fact(orders_after_commit=box.count(Order))
    finally:
        order_created.disconnect(immediate)
        order_created.disconnect(after_commit)


def crash_after_commit(box: Sandbox) -> None:
    """Lesson 9: after-commit work in memory dies with the till; the event log does not."""
    say("Till 1 starts with the email log and sells; the power goes right after the commit.")
    status = run_till("power_cut_till", box.data_dir, "till 1")
    fact(crash_status=status)
    outbox = box.data_dir / "outbox"
    orders, emails = box.count(Order), len(order_emails(outbox))
    fact(orders_after_crash=orders, order_emails_after_crash=emails)
    say(f"Till 1 died (exit status {status}): {orders} committed order(s), {emails} email(s).")
    for start in ("first", "second"):
        say(f"Starting the till again ({start} start): the email log's durable receiver")
        say("reads the event log from the cursor it stored in the database.")
        manager = box.start_plugins("core", "email_log")
        worker = DurableWorker(box.store.engine, owner=f"{start} start")
        while worker.run_once():  # until nothing is due
            pass
        worker.release_all()
        manager.shutdown_all()
        emails = len(order_emails(outbox))
        fact(**{f"order_emails_after_{start}_start": emails})
        say(f"After the {start} start: {emails} order confirmation(s) in the outbox.")


def order_emails(outbox: Path) -> list[Path]:
    """The order confirmations the email log wrote to ``outbox`` (not welcomes)."""
    return [
        path
        for path in sorted(outbox.glob("*.eml"))
        if "order #" in email.message_from_bytes(path.read_bytes()).get("Subject", "")
    ]


def power_cut_till(box: Sandbox) -> None:
    """The till of lesson 9 (its own process: it really dies). It has no
    durable worker: the app's looks at the log within 200 ms, and this till
    dies first."""

    def power_cut(sender: Any, order: Order, **kwargs: Any) -> None:
        say(f"Order #{order.id} is committed. The power goes.")
        os._exit(POWER_CUT)  # no clean-up, no after-commit hook after this one

    order_created.connect(power_cut, weak=False, on_commit=True)  # first in line
    box.start_plugins("core", "email_log")
    ada = box.customer("ada")
    box.store.place_order(box.cart_with_a_product().id, ada.id)


def two_tills(box: Sandbox) -> None:
    """Lesson 10: a signal ends at its process; the event log carries it on."""
    box.start_plugins("core")
    heard: list[int] = []
    followed: list[tuple[int, str]] = []

    def till_2_heard(sender: Any, order: Order, **kwargs: Any) -> None:
        heard.append(order.id)

    def till_2_follows(sender: Any, order: Any, remote: bool = False, **kwargs: Any) -> None:
        if remote:  # replayed from the event log: another till's order
            followed.append((order.id, kwargs["terminal"]))

    order_created.connect(till_2_heard, weak=False)
    order_created.connect(till_2_follows, weak=False, remote=True)
    follower = Follower(box.store.engine, box.store.terminal, send_remote)
    follower.load_cursor()  # where till 2 stands in the event log
    try:
        say("Till 2 (this process) listens to order_created. Till 1, another process, sells.")
        run_till("selling_till", box.data_dir, "till 1")
        orders = box.count(Order)
        fact(heard_by_till_2=len(heard), orders_seen_by_till_2=orders)
        say(f"Till 2 heard {len(heard)} order_created; its database shows {orders} order(s).")
        follower.catch_up()  # the app's follower does this when NOTIFY (or its poll) wakes it
        fact(followed_by_till_2=len(followed), followed_from=followed[0][1] if followed else "")
        say(
            f"Till 2's follower read the event log from its cursor: {len(followed)} remote "
            f"order_created, from {followed[0][1] if followed else 'nobody'}."
        )
    finally:
        order_created.disconnect(till_2_heard)
        order_created.disconnect(till_2_follows)


def selling_till(box: Sandbox) -> None:
    """Till 1 of lesson 10: one sale."""
    box.start_plugins("core")
    order = box.store.place_order(box.cart_with_a_product().id, box.customer("linus").id)
    say(f"Till 1 placed order #{order.id} and sent order_created in its own process.")


SCENARIOS: dict[str, Callable[[Sandbox], None]] = {
    fn.__name__: fn
    for fn in (
        without_ready,
        send_vs_send_robust,
        inside_the_transaction,
        crash_after_commit,
        power_cut_till,
        two_tills,
        selling_till,
    )
}


def command(scenario: str, data_dir: Path) -> list[str]:
    """The command line that runs ``scenario`` in a new process."""
    return [
        sys.executable,
        "-m",
        "storeapp.ui.lessons.sandbox",
        scenario,
        "--data-dir",
        str(data_dir),
    ]


def run_till(scenario: str, data_dir: Path, till: str) -> int:
    """Run another till in its own process on the same data; relay its lines."""
    with subprocess.Popen(
        [*command(scenario, data_dir), "--till", till],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if "done" not in message:  # the lesson is not done when the other till is
                emit(**{**message, "till": till})
        return child.wait()


@contextmanager
def observed(till: str | None) -> Iterator[None]:
    previous = dispatch.get_observer()
    dispatch.set_observer(PrintingObserver(till))
    try:
        yield
    finally:
        dispatch.set_observer(previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="storeapp.ui.lessons.sandbox")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--till", default=None)
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    box = Sandbox(args.data_dir, args.till or "till 2")
    try:
        with observed(args.till):
            SCENARIOS[args.scenario](box)
    except Exception as exc:
        emit(error=f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        box.close()
    emit(done=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
