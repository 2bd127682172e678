"""The durable receivers' bookkeeping tables (:mod:`.durable`), in the schema.

Core tables, not models: they are written with Core statements and send no
model signals (as Django's ``bulk_update`` sends none). Imported by the
package, so every database the app opens has them.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table, Text

from storeapp.domain.models import Base, BigId

#: The last event each durable receiver finished (done or dead), and its claim.
progress = Table(
    "durable_progress",
    Base.metadata,
    Column("receiver", String(200), primary_key=True),
    Column("cursor", BigId, nullable=False, default=0),
    #: Failed attempts of the event after the cursor, and when to try again.
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("owner", String(200), nullable=True),
    Column("lease_until", Float, nullable=True),
)

#: Events a receiver gave up on, until retried by hand.
dead = Table(
    "durable_dead",
    Base.metadata,
    Column("receiver", String(200), primary_key=True),
    Column("event_id", BigId, primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("retry", Integer, nullable=False, default=0),
)

#: Each till's place in the event log: the last event its follower handed
#: to the local receivers (:mod:`.follow`), so a till that was down, or lost
#: its connection, goes on from there.
cursors = Table(
    "terminal_cursors",
    Base.metadata,
    Column("terminal", String(64), primary_key=True),
    Column("cursor", BigId, nullable=False, default=0),
    Column("at", Float, nullable=True),
)
