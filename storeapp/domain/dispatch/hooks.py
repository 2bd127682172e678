"""After-commit hooks: the equivalent of ``django.db.transaction.on_commit``.

The bookkeeping is database-agnostic and per thread: the unit of work in
:mod:`storeapp.domain.store` calls :func:`begin` and :func:`end` around its
transactions and savepoints, and :func:`run_hooks` once the database commit
has really happened. A receiver connected with ``on_commit=True`` waits here
as a :class:`DeferredCall`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

from storeapp.domain.dispatch.names import safe_str
from storeapp.domain.dispatch.streaks import failing, note_failure, note_success

if TYPE_CHECKING:
    from storeapp.domain.dispatch.signal import Signal

__all__ = [
    "DEFERRED",
    "AfterCommitWatch",
    "DeferredCall",
    "abandon_scopes",
    "begin",
    "end",
    "in_transaction",
    "on_commit",
    "run_hooks",
    "transaction_scope",
]

logger = logging.getLogger("storeapp.signals")


class _Deferred:
    """The response recorded for a receiver that will run after commit."""

    _instance: _Deferred | None = None

    def __new__(cls) -> _Deferred:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFERRED"


DEFERRED = _Deferred()


class _TxState(threading.local):
    def __init__(self) -> None:
        self.stack: list[list[Callable[[], Any]]] = []


_tx = _TxState()


def in_transaction() -> bool:
    """True while this thread is inside a unit of work's transaction."""
    return bool(_tx.stack)


def on_commit(func: Callable[[], Any]) -> None:
    """Run ``func`` after the current transaction commits; at once if none.

    If the transaction (or the savepoint the call was made in) rolls back,
    ``func`` is discarded.
    """
    if _tx.stack:
        _tx.stack[-1].append(func)
    else:
        func()


def begin() -> None:
    """Open a transaction scope (a transaction or a savepoint) on this thread."""
    _tx.stack.append([])


def end(commit: bool) -> list[Callable[[], Any]]:
    """Close the innermost scope.

    On rollback its hooks are dropped. On commit of a savepoint they move to
    the enclosing scope. On commit of the outermost scope they are returned:
    the caller runs them (with :func:`run_hooks`) once the database commit
    has really happened.
    """
    pending = _tx.stack.pop()
    if not commit:
        for hook in pending:
            dropped = getattr(hook, "dropped", None)
            if dropped is not None:
                dropped()
        return []
    if _tx.stack:
        _tx.stack[-1].extend(pending)
        return []
    return pending


def abandon_scopes() -> None:
    """Forget every open scope on this thread, running and dropping nothing
    (a test's clean-up after a unit of work leaked one)."""
    _tx.stack.clear()


def run_hooks(hooks: list[Callable[[], Any]]) -> None:
    """Run after-commit hooks; one failing never stops the others.

    Even ``SystemExit``, ``KeyboardInterrupt`` or ``GeneratorExit`` from a
    hook is logged and swallowed: the transaction has committed, so raising
    would tell the caller (a cashier) that a saved order failed, and the
    hooks queued after it would never run.
    """
    for hook in hooks:
        try:
            hook()
        except BaseException as exc:
            target = getattr(hook, "func", hook)
            logger.error(
                "Error calling %s after commit (%s)",
                getattr(target, "__qualname__", type(target).__qualname__),
                safe_str(exc),
                exc_info=exc,
            )


@contextmanager
def transaction_scope() -> Iterator[None]:
    """A bare scope for code that manages its own commit (tests, scripts).

    Hooks queued inside run when the block exits normally and are dropped if
    it raises.
    """
    begin()
    try:
        yield
    except BaseException:
        end(False)
        raise
    run_hooks(end(True))


class AfterCommitWatch(Protocol):
    """Told what became of one deferred receiver (the inspector's record)."""

    def ran(self, response: Any, duration: float) -> None: ...

    def failed(self, err: BaseException, duration: float) -> None: ...

    def dropped(self) -> None: ...


class DeferredCall:
    """An on_commit receiver waiting for its transaction (a commit hook)."""

    __slots__ = ("fn", "signal", "sender", "kwargs", "watch")

    def __init__(
        self,
        fn: Any,
        signal: Signal,
        sender: Any,
        kwargs: dict[str, Any],
        watch: AfterCommitWatch | None = None,
    ) -> None:
        self.fn = fn
        self.signal = signal
        self.sender = sender
        self.kwargs = kwargs
        self.watch = watch

    def __call__(self) -> None:
        start = time.perf_counter()
        try:
            response = self.fn(signal=self.signal, sender=self.sender, **self.kwargs)
        except BaseException as err:  # committed already: see run_hooks
            logger.error(
                "Error calling %s after commit (%s)",
                getattr(self.fn, "__qualname__", type(self.fn).__qualname__),
                safe_str(err),
                exc_info=err,
            )
            note_failure(self.signal, self.fn, err)
            if self.watch is not None:
                self.watch.failed(err, time.perf_counter() - start)
        else:
            if failing:
                note_success(self.fn)
            if self.watch is not None:
                self.watch.ran(response, time.perf_counter() - start)

    def dropped(self) -> None:
        """Its transaction rolled back: it will never run."""
        if self.watch is not None:
            self.watch.dropped()
