"""The emails storeapp sends, built as MIME messages.

Messages are built with the stdlib's legacy (compat32) API: ~45 us a
message with its bytes, against ~500 us with EmailMessage and
policy.default, whose header parsing dominated the cost of an order with
the email log on (bench/orders.py: all plugins went from 0.45x to 0.7x).
Headers are checked for line breaks here, since compat32 would not refuse
them. :func:`as_email_message` reads a message back with the modern API.
"""

from __future__ import annotations

import email
import email.policy
import textwrap
from collections.abc import Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.message import EmailMessage, Message
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from typing import Any

__all__ = [
    "DEFAULT_FROM",
    "OrderLine",
    "as_email_message",
    "event_message_id",
    "order_confirmation",
    "valid_from_address",
    "welcome_message",
]

DEFAULT_FROM = "storeapp <shop@storeapp.invalid>"

#: (product name, quantity, unit price, line total): plain values only.
OrderLine = tuple[str, int, str, str]


class _Policy(Compat32):
    """compat32, minus refolding headers that are short ASCII already (most
    of the cost of ``as_bytes()``; the bytes are the same)."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if isinstance(value, str) and value.isascii() and len(name) + len(value) + 2 <= 78:
            return f"{name}: {value}{self.linesep}"
        base: Any = super()  # _fold is compat32's own hook; typeshed leaves it out
        return str(base._fold(name, value, sanitize))


_POLICY = _Policy()
_UTF8_QP = Charset("utf-8")
_UTF8_QP.body_encoding = QP  # readable in the .eml file, unlike base64


def valid_from_address(value: str) -> bool:
    """True if ``value`` is usable as a From header: the modern header
    parser accepts it (it refuses a line break, and fails on some broken
    addresses, such as ``hello@``)."""
    try:
        EmailMessage()["From"] = value
    except Exception:
        return False
    return True


def _header(value: str) -> str | Header:
    if "\r" in value or "\n" in value:
        raise ValueError("an email header may not contain a line break")
    return value if value.isascii() else Header(value, "utf-8")


def _domain(from_address: str) -> str:
    return parseaddr(from_address)[1].rpartition("@")[2] or "storeapp.invalid"


def event_message_id(kind: str, event_id: int, from_address: str = DEFAULT_FROM) -> str:
    """The Message-ID of the ``kind`` email of event ``event_id``
    (``<order-confirmation.E123@corner.invalid>``): the same event always
    makes the same id, so a redelivered message is recognisably the same one
    (the file backend keeps one file per id, a mail client one message)."""
    if not kind.replace("-", "").isalnum():
        raise ValueError(f"unusable email kind {kind!r}")
    return f"<{kind}.E{int(event_id)}@{_domain(from_address)}>"


def _new_message(
    from_address: str, to_name: str, to_email: str, subject: str, message_id: str | None
) -> Message:
    for value in (from_address, to_name, to_email, message_id or ""):
        _header(value)
    msg: Message[str, str | Header] = Message(policy=_POLICY)  # a Subject may be a Header
    msg["MIME-Version"] = "1.0"
    msg["From"] = from_address
    msg["To"] = formataddr((to_name, to_email), charset="utf-8")
    msg["Subject"] = _header(subject)
    msg["Date"] = format_datetime(datetime.now().astimezone())
    # The domain given: make_msgid does no DNS look-up.
    msg["Message-ID"] = message_id or make_msgid(domain=_domain(from_address))
    return msg


def _set_body(msg: Message, text: str) -> None:
    """Plain text: 7bit when ASCII, else quoted-printable UTF-8."""
    msg.set_payload(text, "us-ascii" if text.isascii() else _UTF8_QP)


def as_email_message(message: Message) -> EmailMessage:
    """``message`` as an :class:`EmailMessage` (the modern API: ``get_content()``)."""
    if isinstance(message, EmailMessage):
        return message
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def welcome_message(
    *, from_address: str, username: str, email: str, message_id: str | None = None
) -> Message:
    """The welcome email for a new user. It never mentions a password.
    ``message_id``: see :func:`event_message_id` (else a random one)."""
    msg = _new_message(
        from_address, username, email, f"Welcome to storeapp, {username}", message_id
    )
    _set_body(
        msg,
        f"Hello {username},\n"
        "\n"
        "Welcome to storeapp! Your account has been created.\n"
        "\n"
        f"  Username: {username}\n"
        f"  Email:    {email}\n"
        "\n"
        "You can now check out at the till under this account.\n"
        "\n"
        "-- \n"
        "storeapp\n",
    )
    return msg


_NAME_WIDTH = 36


def order_confirmation(
    *,
    from_address: str,
    username: str,
    email: str,
    order_number: int | str,
    lines: Sequence[OrderLine],
    total: str,
    message_id: str | None = None,
) -> Message:
    """The confirmation of an order: each line (product, quantity, unit
    price, line total) and the total. Lines stay under 78 characters, so the
    body stays plain text (7bit/8bit) in the ``.eml`` file."""
    msg = _new_message(
        from_address, username, email, f"Your storeapp order #{order_number}", message_id
    )
    rows = [
        f"{'Qty':>5}  {'Product':<{_NAME_WIDTH}}  {'Unit price':>11}  {'Line total':>11}",
        f"{'-' * 5}  {'-' * _NAME_WIDTH}  {'-' * 11}  {'-' * 11}",
    ]
    for name, quantity, unit_price, line_total in lines:
        parts = textwrap.wrap(name, _NAME_WIDTH) or [""]
        rows.append(f"{quantity:>5}  {parts[0]:<{_NAME_WIDTH}}  {unit_price:>11}  {line_total:>11}")
        rows.extend(f"{'':>5}  {part}" for part in parts[1:])
    rows.append(f"{'':>5}  {'Total':<{_NAME_WIDTH}}  {'':>11}  {total:>11}")
    table = "\n".join(row.rstrip() for row in rows)
    _set_body(
        msg,
        f"Hello {username},\n"
        "\n"
        f"Thank you for your order #{order_number}.\n"
        "\n"
        f"{table}\n"
        "\n"
        f"Order number: {order_number}\n"
        f"Total: {total}\n"
        "\n"
        "-- \n"
        "storeapp\n",
    )
    return msg
