"""Which worker delivers to a durable receiver: one at a time, by lease.

A worker claims a receiver's row of ``durable_progress`` (its ``owner`` and
``lease_until``) before it delivers, and renews the lease with each event it
moves past. A claim is free when nobody holds it, when its lease ran out,
or at once when its owner was a process of this machine that no longer runs
(a till that crashed). :class:`~storeapp.domain.events.worker.DurableWorker`
holds one :class:`Leases`.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from storeapp.domain.events.tables import progress

__all__ = ["Leases", "default_owner", "owner_is_gone"]

logger = logging.getLogger("storeapp.durable")


def default_owner() -> str:
    """``host:pid:random``: unique per worker, and tells a dead local owner."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_is_gone(owner: str | None) -> bool:
    """True if ``owner`` was a process on this machine that no longer runs."""
    if not owner:
        return True
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False  # another worker of this very process: its lease decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Leases:
    """One worker's claims on receivers, written through ``write_engine``."""

    def __init__(
        self, write_engine: Any, owner: str, lease: float, clock: Callable[[], float]
    ) -> None:
        self.write_engine = write_engine
        self.owner = owner
        self.lease = lease
        self.clock = clock
        #: True once a receiver was claimed (release_all has work).
        self._claimed = False

    def until(self) -> float:
        """When a lease taken or renewed now runs out."""
        return self.clock() + self.lease

    def mine(self, name: str) -> Any:
        """The WHERE clause of receiver ``name``'s row while this worker holds it."""
        return and_(progress.c.receiver == name, progress.c.owner == self.owner)

    def claim(self, name: str) -> bool:
        """Take (or keep) the receiver's lease; False if another worker has it."""
        try:
            return self._claim_row(name, self.clock())
        except IntegrityError:  # another worker inserted the first row at the same time
            return False

    def _claim_row(self, name: str, now: float) -> bool:
        with self.write_engine.begin() as conn:
            # FOR UPDATE: on PostgreSQL two workers' claims of a row queue up
            # here instead of both reading it free (SQLite's BEGIN IMMEDIATE
            # has already serialised them; it renders no FOR UPDATE).
            row = conn.execute(
                select(progress).where(progress.c.receiver == name).with_for_update()
            ).first()
            if row is None:
                conn.execute(
                    progress.insert().values(
                        receiver=name,
                        cursor=0,
                        attempts=0,
                        owner=self.owner,
                        lease_until=now + self.lease,
                    )
                )
                self._claimed = True
                return True
            free = (
                row.owner in (None, self.owner)
                or (row.lease_until or 0) < now
                or owner_is_gone(row.owner)
            )
            if not free:
                return False
            taken = conn.execute(
                update(progress)
                .where(
                    progress.c.receiver == name,
                    or_(progress.c.owner.is_(None), progress.c.owner == row.owner),
                )
                .values(owner=self.owner, lease_until=now + self.lease)
            ).rowcount
            self._claimed = self._claimed or bool(taken)
            return bool(taken)

    def release_all(self) -> None:
        """Give up every claim (a clean stop: others may go on at once)."""
        if not self._claimed:
            return  # nothing was ever claimed: no write on the way out
        try:
            with self.write_engine.begin() as conn:
                conn.execute(
                    update(progress)
                    .where(progress.c.owner == self.owner)
                    .values(owner=None, lease_until=None)
                )
        except Exception:
            logger.exception("Could not release durable claims")
