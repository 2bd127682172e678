"""What the database says about the email log's messages (Qt-free): for each
kind, where its durable receiver stands, the messages still to send and
the dead ones. Read on the GUI bridge's reader thread; it is what the panel
shows after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from storeapp.domain.events.durable import (
    DeadEvent,
    Event,
    dead_events,
    pending_events,
    progress_of,
)
from storeapp.domain.events.log import EVENTS
from storeapp.listeners.email_log.emails import KINDS, Kind

__all__ = ["Backlog", "KindBacklog", "load"]

#: Queued messages listed one by one (the count covers them all).
LISTED = 200


@dataclass(frozen=True)
class KindBacklog:
    kind: Kind
    cursor: int
    attempts: int  #: failed attempts of the first pending message
    next_try: float | None
    last_error: str | None
    pending: int
    head: tuple[Event, ...]  #: the first pending messages, oldest first
    dead: tuple[DeadEvent, ...]
    dead_payloads: dict[int, dict[str, Any]]


@dataclass(frozen=True)
class Backlog:
    kinds: tuple[KindBacklog, ...]

    @property
    def pending(self) -> int:
        return sum(k.pending for k in self.kinds)


def load(engine: Any, plugin: str, listed: int = LISTED) -> Backlog:
    """One read of every kind's state (``plugin``: the receivers' prefix)."""
    kinds = []
    for kind in KINDS:
        name = f"{plugin}.{kind.receiver}"
        state = progress_of(engine, name)
        pending, head = pending_events(engine, name, kind.signal, listed)
        dead = dead_events(engine, name)
        kinds.append(
            KindBacklog(
                kind,
                state.cursor if state else 0,
                state.attempts if state else 0,
                state.next_try if state else None,
                state.last_error if state else None,
                pending,
                tuple(head),
                tuple(dead),
                _payloads(engine, [d.event_id for d in dead[-listed:]]),
            )
        )
    return Backlog(tuple(kinds))


def _payloads(engine: Any, ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(select(EVENTS.c.id, EVENTS.c.payload).where(EVENTS.c.id.in_(ids)))
        return {r.id: r.payload if isinstance(r.payload, dict) else {} for r in rows}
