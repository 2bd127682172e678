"""The email log's two emails, built from the event log's payloads (Qt-free).

A receiver builds its message from the event's payload, not from the
database by id: the payload is what was committed (the product names and
prices of the order as it was placed, even if a product is renamed or
deleted before a relay outage ends), it is already at hand on the worker
thread (no query, no ORM session there), and the panel can show a queued
message's To and Subject from the same payload. ``storeapp.domain.events.log``
documents the keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from email.message import Message
from typing import Any

from storeapp import mail

__all__ = ["KINDS", "Kind", "build", "headline"]


@dataclass(frozen=True)
class Kind:
    """One email the log sends: its durable receiver and its signal."""

    key: str  #: the record's kind ("welcome", "order")
    receiver: str  #: the durable receiver's name within the plugin
    signal: str
    message_kind: str  #: the Message-ID's first part


WELCOME = Kind("welcome", "welcome", "user_registered", "welcome")
ORDER = Kind("order", "order_confirmation", "order_created", "order-confirmation")
KINDS: tuple[Kind, ...] = (WELCOME, ORDER)


def headline(kind: Kind, payload: dict[str, Any]) -> tuple[str, str]:
    """(To, Subject) as the panel shows them, before the message is built."""
    username, address = str(payload.get("username", "?")), str(payload.get("email", "?"))
    if kind is WELCOME:
        subject = f"Welcome to storeapp, {username}"
    else:
        subject = f"Your storeapp order #{payload.get('order_id', '?')}"
    return f"{username} <{address}>", subject


def _money(value: Any) -> str:
    return f"{Decimal(str(value)):.2f}"


def build(kind: Kind, event_id: int, payload: dict[str, Any], from_address: str) -> Message:
    """The message of event ``event_id``; KeyError or ValueError if the
    payload lacks what the email needs (an event written by an older version)."""
    message_id = mail.event_message_id(kind.message_kind, event_id, from_address)
    username, address = str(payload["username"]), str(payload["email"])
    if kind is WELCOME:
        return mail.welcome_message(
            from_address=from_address, username=username, email=address, message_id=message_id
        )
    lines: list[mail.OrderLine] = []
    for line in payload["lines"]:
        quantity, unit_price = int(line["quantity"]), Decimal(str(line["unit_price"]))
        lines.append(
            (
                str(line.get("name") or line["sku"]),
                quantity,
                _money(unit_price),
                _money(line.get("line_total", unit_price * quantity)),
            )
        )
    return mail.order_confirmation(
        from_address=from_address,
        username=username,
        email=address,
        order_number=int(payload["order_id"]),
        lines=lines,
        total=_money(payload["total"]),
        message_id=message_id,
    )
