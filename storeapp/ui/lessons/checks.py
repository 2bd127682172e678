"""What a lesson's check looks for: sends the inspector (or a sandbox) saw,
and the facts a sandbox found. Each function returns a :data:`Check`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from storeapp.domain.dispatch import ReceiverStatus, SendRecord


@dataclass
class Evidence:
    """What a check looks at: the sends seen, and a sandbox's facts."""

    sends: Sequence[SendRecord] = ()
    facts: dict[str, Any] = field(default_factory=dict)


Check = Callable[[Evidence], bool]


def sent(
    signal: str,
    *,
    sender: str | None = None,
    kwargs_has: str = "",
    origin_has: str = "",
    receiver: str = "",
    module: str = "",
    not_module: str = "",
    status: Callable[[ReceiverStatus], bool] | None = None,
) -> Check:
    """Some send of ``signal`` matched; with ``receiver``/``module``/``status``
    one of its receivers must match too."""
    wants_call = bool(receiver or module or status)

    def check(evidence: Evidence) -> bool:
        for record in evidence.sends:
            if record.signal != signal or (sender is not None and record.sender != sender):
                continue
            if kwargs_has not in record.kwargs:
                continue
            if origin_has and origin_has not in str(getattr(record, "origin", "") or ""):
                continue
            if not wants_call:
                return True
            for call in record.calls:
                if receiver and not call.receiver.endswith(receiver):
                    continue
                if module and not call.module.startswith(module):
                    continue
                if not_module and call.module.startswith(not_module):
                    continue
                if status is None or status(ReceiverStatus(call.status)):
                    return True
        return False

    return check


def sent_unheard(signal: str, sender: str, kwargs_has: str, receiver: str) -> Check:
    """A send of ``signal`` reached no receiver named ``receiver``."""

    def check(evidence: Evidence) -> bool:
        return any(
            r.signal == signal
            and r.sender == sender
            and kwargs_has in r.kwargs
            and not any(c.receiver.endswith(receiver) for c in r.calls)
            for r in evidence.sends
        )

    return check


def fact(name: str, test: Callable[[Any], bool]) -> Check:
    def check(evidence: Evidence) -> bool:
        return name in evidence.facts and bool(test(evidence.facts[name]))

    return check


def all_of(*checks: Check) -> Check:
    """Every one of ``checks`` holds."""

    def check(evidence: Evidence) -> bool:
        return all(c(evidence) for c in checks)

    return check


def ran(status: ReceiverStatus) -> bool:
    return status.ran


def failed(status: ReceiverStatus) -> bool:
    return status.failed


def is_status(wanted: ReceiverStatus) -> Callable[[ReceiverStatus], bool]:
    """A receiver's status is exactly ``wanted`` (deferred, dropped, ...)."""

    def test(status: ReceiverStatus) -> bool:
        return status is wanted

    return test
