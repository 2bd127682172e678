"""Django-style signals on blinker: the Signal class and its one send loop,
after-commit hooks, instrumentation for the inspector, and failure streaks.

Modules: :mod:`.signal` (``Signal``: sending), :mod:`.connections` (what a
signal is connected to: Django's connections), :mod:`.async_receivers` (how
``async def`` receivers run), :mod:`.decorators` (``receiver``), :mod:`.hooks`
(``on_commit`` and the transaction scopes), :mod:`.instrumentation` (the
observer and its records), :mod:`.streaks` (failures in a row), :mod:`.names`
(never-raising names and reprs). The signals themselves, ``receiver_failed``
included, are declared in :mod:`storeapp.domain.signals`.
"""

from __future__ import annotations

from storeapp.domain.dispatch.decorators import receiver
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
from storeapp.domain.dispatch.names import ReceiverInfo, qualname, safe_repr
from storeapp.domain.dispatch.signal import (
    ANY,
    ANY_ID,
    Signal,
    log_receiver_error,
)
from storeapp.domain.dispatch.streaks import failure_streak, reset_streak

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
    "reset_streak",
    "run_hooks",
    "safe_repr",
    "set_observer",
    "transaction_scope",
]
