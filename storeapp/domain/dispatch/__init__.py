"""Django-style signals on blinker: the Signal class and its one send loop,
after-commit hooks, instrumentation for the inspector, and failure streaks.

Modules: :mod:`.signal` (``Signal``, ``receiver``), :mod:`.hooks`
(``on_commit`` and the transaction scopes), :mod:`.instrumentation` (the
observer and its records), :mod:`.streaks` (failures in a row), :mod:`.names`
(never-raising names and reprs). The signals themselves are declared in
:mod:`storeapp.domain.signals`; ``receiver_failed`` is also importable from
here, as it always was.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storeapp.domain.dispatch.hooks import (
    DEFERRED,
    abandon_scopes,
    begin,
    end,
    in_transaction,
    on_commit,
    run_hooks,
    transaction_scope,
)
from storeapp.domain.dispatch.instrumentation import (
    ReceiverCall,
    ReceiverStatus,
    SendRecord,
    get_observer,
    set_observer,
)
from storeapp.domain.dispatch.names import qualname, safe_repr
from storeapp.domain.dispatch.signal import (
    ANY,
    ANY_ID,
    ReceiverInfo,
    Signal,
    log_receiver_error,
    receiver,
)
from storeapp.domain.dispatch.streaks import failure_streak, reset_streak

if TYPE_CHECKING:
    from storeapp.domain.signals import receiver_failed

__all__ = [
    "ANY",
    "ANY_ID",
    "DEFERRED",
    "ReceiverCall",
    "ReceiverInfo",
    "ReceiverStatus",
    "SendRecord",
    "Signal",
    "abandon_scopes",
    "begin",
    "end",
    "failure_streak",
    "get_observer",
    "in_transaction",
    "log_receiver_error",
    "on_commit",
    "qualname",
    "receiver",
    "receiver_failed",
    "reset_streak",
    "run_hooks",
    "safe_repr",
    "set_observer",
    "transaction_scope",
]


def __getattr__(name: str) -> Signal:
    # storeapp.domain.signals imports this package (for Signal), so the one
    # signal dispatch itself sends is looked up there on first use.
    if name == "receiver_failed":
        from storeapp.domain.signals import receiver_failed

        return receiver_failed
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
