"""A send as a sandbox's JSON line carries it (:mod:`.sandbox` writes, the
Lessons panel reads; no Qt, so the sandbox process never loads it)."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

from storeapp.domain import dispatch

#: What a :class:`SendRecord` says, as the sandbox sends it to the panel.
RECORD_FIELDS = (
    "seq",
    "time",
    "signal",
    "sender",
    "kwargs",
    "robust",
    "thread",
    "muted",
    "origin",
    "via",
    "parent",
    "depth",
    "within",
)


def record_to_json(record: dispatch.SendRecord) -> dict[str, Any]:
    """A send as its ``{"send": ...}`` line carries it (plain JSON values)."""
    data = {name: getattr(record, name) for name in RECORD_FIELDS if hasattr(record, name)}
    data["calls"] = [dataclasses.asdict(call) for call in record.calls]
    return data


def record_from_json(data: dict[str, Any]) -> dispatch.SendRecord:
    """A :class:`SendRecord` again, from its ``{"send": ...}`` line."""
    accepted = inspect.signature(dispatch.SendRecord).parameters
    calls = [
        dispatch.ReceiverCall(**{**call, "status": dispatch.ReceiverStatus(call["status"])})
        for call in data.get("calls", ())
    ]
    fields = {k: v for k, v in data.items() if k in accepted and k != "calls"}
    return dispatch.SendRecord(**fields, calls=calls)
