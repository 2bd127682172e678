"""Receivers connected with on_commit=True run only once the transaction commits."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from storeapp.domain import OutOfStock, Store, dispatch
from storeapp.domain.dispatch import DEFERRED, Signal
from storeapp.domain.models import Product
from storeapp.domain.signals import order_created, post_save


class Boom(Exception):
    pass


class AfterCommitLog:
    """Records each call and what the database showed to another connection."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[dict[str, object]] = []

    def __call__(self, sender, **kwargs):
        self.calls.append(
            {
                "sender": sender,
                "in_transaction": dispatch.in_transaction(),
                "committed_skus": committed_skus(self.store),
                **kwargs,
            }
        )

    @property
    def senders(self) -> list[object]:
        return [c["sender"] for c in self.calls]


def committed_skus(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(conn.scalars(select(Product.sku)))


def add_product(uow, sku: str) -> Product:
    product = Product(sku=sku, name=sku.title(), unit_price=1, inventory=1)
    uow.session.add(product)
    uow.flush()
    return product


@pytest.fixture
def signal() -> Signal:
    return Signal("a test signal", name="test_signal")


@pytest.fixture
def after_commit(store, signal) -> AfterCommitLog:
    log = AfterCommitLog(store)
    signal.connect(log, on_commit=True)
    return log


def test_an_on_commit_receiver_is_deferred_until_the_commit(store, signal, after_commit):
    with store.unit_of_work() as uow:
        add_product(uow, "TEA")
        responses = signal.send_robust("checkout")
        assert responses == [(after_commit, DEFERRED)]
        assert after_commit.calls == []
        uow.commit()

    assert after_commit.senders == ["checkout"]
    [call] = after_commit.calls
    assert call["committed_skus"] == ["TEA"]  # the commit really happened
    assert call["in_transaction"] is False


def test_send_also_defers_an_on_commit_receiver_but_calls_the_others_at_once(
    store, signal, after_commit
):
    at_once = AfterCommitLog(store)
    signal.connect(at_once)

    with store.unit_of_work() as uow:
        add_product(uow, "TEA")
        assert signal.send("checkout", total=3) == [(after_commit, DEFERRED), (at_once, None)]
        assert at_once.calls[0]["committed_skus"] == []
        uow.commit()

    assert [c["total"] for c in after_commit.calls] == [3]


def test_an_on_commit_receiver_never_runs_when_the_transaction_rolls_back(
    store, signal, after_commit
):
    with pytest.raises(Boom):
        with store.unit_of_work() as uow:
            add_product(uow, "TEA")
            signal.send_robust("checkout")
            raise Boom

    assert after_commit.calls == []
    assert committed_skus(store) == []


def test_an_on_commit_receiver_never_runs_when_the_work_is_not_committed(
    store, signal, after_commit
):
    with store.unit_of_work() as uow:
        add_product(uow, "TEA")
        signal.send_robust("checkout")

    assert after_commit.calls == []
    assert committed_skus(store) == []


def test_a_savepoint_that_rolls_back_drops_its_on_commit_receivers(store, signal, after_commit):
    with store.unit_of_work() as uow:
        signal.send_robust("outer")
        with pytest.raises(Boom):
            with uow.savepoint():
                add_product(uow, "MUG")
                signal.send_robust("inner")
                raise Boom
        add_product(uow, "TEA")
        uow.commit()

    assert after_commit.senders == ["outer"]
    assert committed_skus(store) == ["TEA"]


def test_a_savepoint_that_succeeds_keeps_its_on_commit_receivers_until_the_commit(
    store, signal, after_commit
):
    with store.unit_of_work() as uow:
        with uow.savepoint():
            add_product(uow, "MUG")
            signal.send_robust("inner")
        assert after_commit.calls == []  # released, not committed
        signal.send_robust("outer")
        uow.commit()

    assert after_commit.senders == ["inner", "outer"]
    assert after_commit.calls[0]["committed_skus"] == ["MUG"]


def test_a_savepoint_that_succeeds_inside_a_rolled_back_transaction_runs_nothing(
    store, signal, after_commit
):
    with pytest.raises(Boom):
        with store.unit_of_work() as uow:
            with uow.savepoint():
                add_product(uow, "MUG")
                signal.send_robust("inner")
            raise Boom

    assert after_commit.calls == []


def test_a_savepoint_whose_release_fails_rolls_back_alone(store, signal, after_commit):
    """Releasing a savepoint flushes; a constraint failing there is an error
    of the savepoint, and the outer transaction still commits its work."""
    with store.unit_of_work() as uow:
        add_product(uow, "TEA")
        signal.send_robust("outer")
        with pytest.raises(IntegrityError):
            with uow.savepoint():
                signal.send_robust("inner")
                uow.session.add(Product(sku="TEA", name="Again", unit_price=1, inventory=1))
        assert dispatch.in_transaction()
        uow.commit()

    assert not dispatch.in_transaction()
    assert after_commit.senders == ["outer"]
    assert committed_skus(store) == ["TEA"]


def test_a_model_signal_receiver_on_commit_waits_for_the_commit(store):
    log = AfterCommitLog(store)

    post_save.connect(log, sender=Product, on_commit=True)
    store.add_product("TEA", "Green tea", "3.50", 10)
    with pytest.raises(Boom):
        with store.unit_of_work() as uow:
            add_product(uow, "MUG")
            raise Boom

    [call] = log.calls
    assert call["instance"].sku == "TEA"
    assert call["created"] is True
    assert call["committed_skus"] == ["TEA"]


def test_order_created_on_commit_sees_the_committed_order_and_skips_failed_ones(store, core_ready):
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 1)
    carts = [store.add_to_cart(store.create_cart().id, tea.id, 1) for _ in range(2)]
    seen = []

    def on_order(sender, order, **kwargs):
        seen.append((order.id, dispatch.in_transaction(), len(store.list_orders())))

    order_created.connect(on_order, on_commit=True)
    order = store.place_order(carts[0].id, user.id)
    with pytest.raises(OutOfStock):
        store.place_order(carts[1].id, user.id)

    assert seen == [(order.id, False, 1)]


def test_on_commit_called_directly_in_a_unit_of_work_is_deferred(store):
    ran = []

    with store.unit_of_work() as uow:
        dispatch.on_commit(lambda: ran.append("after"))
        assert ran == []
        uow.commit()

    assert ran == ["after"]


def test_an_on_commit_receiver_that_raises_is_logged_and_the_commit_stands(
    store, signal, after_commit, caplog
):
    caplog.set_level(logging.ERROR, logger="storeapp.signals")

    def broken(sender, **kwargs):
        raise Boom("mail server down")

    signal.connect(broken, on_commit=True)
    last = AfterCommitLog(store)
    signal.connect(last, on_commit=True)

    with store.unit_of_work() as uow:
        add_product(uow, "TEA")
        signal.send_robust("checkout")
        uow.commit()

    assert committed_skus(store) == ["TEA"]
    assert after_commit.senders == ["checkout"]
    assert last.senders == ["checkout"]  # the failure did not stop the others
    [record] = [r for r in caplog.records if r.name == "storeapp.signals"]
    assert record.levelno == logging.ERROR
    assert "broken" in record.getMessage()
    assert "mail server down" in record.getMessage()
    assert isinstance(record.exc_info[1], Boom)


def test_a_transaction_on_one_thread_does_not_defer_receivers_on_another(
    store, signal, after_commit
):
    inside = threading.Event()
    sent = threading.Event()
    other_thread_calls = []

    def other_thread():
        inside.wait(timeout=10)
        signal.send_robust("other thread")
        other_thread_calls.extend(after_commit.senders)
        sent.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with store.unit_of_work() as uow:
        signal.send_robust("this thread")
        inside.set()
        assert sent.wait(timeout=10)
        assert after_commit.senders == ["other thread"]
        uow.commit()
    worker.join()

    assert other_thread_calls == ["other thread"]
    assert after_commit.senders == ["other thread", "this thread"]


def test_a_unit_of_work_commits_once_and_leaves_enclosing_scopes_alone(store, signal, after_commit):
    with dispatch.transaction_scope():
        with store.unit_of_work() as uow:
            add_product(uow, "TEA")
            uow.commit()
            with pytest.raises(RuntimeError, match="already committed"):
                uow.commit()
        assert dispatch.in_transaction()  # the enclosing scope is still open
        signal.send_robust("enclosing")
        assert after_commit.calls == []

    assert after_commit.senders == ["enclosing"]
    assert committed_skus(store) == ["TEA"]


def test_a_receiver_writing_inside_the_transaction_gets_a_clear_error_not_a_deadlock(
    store, core_ready, caplog
) -> None:
    from storeapp.domain.signals import user_registered

    attempts = []

    def writes_too_early(sender, user, **kwargs):
        attempts.append(user.username)
        store.add_product("LATE-1", "Too early", "1.00", 1)

    user_registered.connect(writes_too_early, weak=False)
    try:
        user = store.register_user("early", "early@example.com", "long-password")
    finally:
        user_registered.disconnect(writes_too_early)
    assert attempts == ["early"]
    assert store.get_customer(user.id)  # registration itself went through
    assert "on_commit=True" in caplog.text
    assert not any(p.sku == "LATE-1" for p in store.list_products())


def test_the_same_receiver_on_commit_may_write(store, core_ready) -> None:
    from storeapp.domain.signals import user_registered

    def writes_after_commit(sender, user, **kwargs):
        store.add_product(f"WELCOME-{user.id}", "Welcome gift", "0.00", 1)

    user_registered.connect(writes_after_commit, weak=False, on_commit=True)
    try:
        user = store.register_user("late", "late@example.com", "long-password")
    finally:
        user_registered.disconnect(writes_after_commit)
    assert any(p.sku == f"WELCOME-{user.id}" for p in store.list_products())


@pytest.mark.parametrize("exc", [SystemExit(1), KeyboardInterrupt(), GeneratorExit()])
def test_an_after_commit_receiver_raising_a_base_exception_neither_undoes_nor_stops(
    store, signal, exc, caplog
):
    """The order is committed: the caller gets its result, the later hooks run."""
    later = AfterCommitLog(store)

    def exits(sender, **kwargs):
        raise exc

    signal.connect(exits, on_commit=True)
    signal.connect(later, on_commit=True)
    try:
        with caplog.at_level(logging.ERROR, logger="storeapp.signals"):
            with store.unit_of_work() as uow:
                add_product(uow, "TEA")
                signal.send_robust("checkout")
                uow.commit()
    finally:
        signal.disconnect(exits)
        signal.disconnect(later)

    assert committed_skus(store) == ["TEA"]
    assert later.senders == ["checkout"]
    assert type(exc).__name__ in caplog.text
