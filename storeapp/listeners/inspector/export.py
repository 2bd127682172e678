"""The inspector's Export: each send as one JSON object per line (no Qt)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from storeapp.domain.dispatch import SendRecord
from storeapp.listeners.inspector.recorder import outcome, total_duration


def record_to_dict(
    record: SendRecord, plugin_of: Callable[[str], str] | None = None
) -> dict[str, Any]:
    """A send as plain JSON-ready data (what Export writes, one per line)."""
    duration = total_duration(record)
    return {
        "seq": record.seq,
        "time": record.time,
        "time_iso": datetime.fromtimestamp(record.time)
        .astimezone()
        .isoformat(timespec="milliseconds"),
        "signal": record.signal,
        "sender": record.sender,
        "kwargs": record.kwargs,
        "robust": record.robust,
        "thread": record.thread,
        "origin": record.origin,
        "via": record.via,
        "parent": record.parent,
        "depth": record.depth,
        "within": record.within,
        "muted": record.muted,
        "outcome": outcome(record),
        "failed": record.failed,
        "duration_ms": None if duration is None else round(duration * 1000, 6),
        "calls": [
            {
                "receiver": call.receiver,
                "module": call.module,
                "plugin": plugin_of(call.module) if plugin_of is not None else None,
                "status": call.label,
                "on_commit": call.on_commit,
                "duration_ms": None if call.duration is None else round(call.duration * 1000, 6),
                "result": call.result,
                "error": call.error,
                "traceback": call.traceback,
            }
            for call in list(record.calls)
        ],
    }


def write_jsonl(
    records: Iterable[SendRecord], path: str | Path, plugin_of: Callable[[str], str] | None = None
) -> int:
    """Write ``records`` as one JSON object per line (:func:`record_to_dict`,
    what Export saves); returns how many."""
    count = 0
    # 0600 whatever the umask (an export may show customers' names and emails).
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # a file that was there keeps no wider mode
    with open(fd, "w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(
                json.dumps(record_to_dict(record, plugin_of), ensure_ascii=False, default=str)
            )
            out.write("\n")
            count += 1
    return count
