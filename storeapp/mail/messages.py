"""The emails storeapp sends, built as MIME messages.

Messages are built with the stdlib's legacy (compat32) API: ~45 us a
message with its bytes, against ~500 us with EmailMessage and
policy.default, whose header parsing dominated the cost of an order with
the email log on (bench/orders.py: all plugins went from 0.45x to 0.7x).
Headers are checked for line breaks here, since compat32 would not refuse
them. :func:`as_email_message` reads a message back with the modern API.

The recipient is one mailbox (:func:`mailbox`), put in the To header as an
:class:`~email.headerregistry.Address` (quoted and encoded by the email
package, never by string formatting), so no address can add a recipient. A
recipient whose local part is not ASCII (``ärger@example.com``, RFC 6531)
gets a message built with the modern API and a UTF-8 policy: its headers
carry the address as it is, and an SMTP server must offer SMTPUTF8.
"""

from __future__ import annotations

import email
import email.policy
import textwrap
from collections.abc import Sequence
from datetime import datetime
from email.charset import QP, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.policy import Compat32
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

__all__ = [
    "DEFAULT_FROM",
    "OrderLine",
    "as_email_message",
    "event_message_id",
    "mailbox",
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


#: Characters that no mailbox storeapp sends to contains: each could start
#: a second address, a comment, a quoted string or a group in a header.
_NOT_IN_MAILBOX = frozenset('"<>,;:\\()[] \t\r\n')
#: Headers that render an address without folding it (To is one line).
_ADDRESS_POLICY = email.policy.default.clone(max_line_length=None)
#: A message to an international (RFC 6531) address.
_UTF8_POLICY = email.policy.default.clone(utf8=True)


def mailbox(addr_spec: str, display_name: str = "") -> Address:
    """``addr_spec`` as exactly one mailbox, the domain in its ASCII (IDNA)
    form; ValueError for anything else: no or several ``@``, quotes, angle
    brackets, commas, spaces, comments, control characters, an empty part."""
    if not isinstance(addr_spec, str) or not addr_spec.isprintable():
        raise ValueError(f"not an email address: {addr_spec!r}")
    if _NOT_IN_MAILBOX.intersection(addr_spec) or addr_spec.count("@") != 1:
        raise ValueError(f"not exactly one email address: {addr_spec!r}")
    local, domain = addr_spec.split("@")
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError(f"not a usable email domain: {addr_spec!r}") from None
    if not local or not domain or len(local.encode("utf-8")) > 64:
        raise ValueError(f"not a usable email address: {addr_spec!r}")
    if local.isascii():
        # The header parser reads it back as this one addr-spec, or refuses it.
        address = Address(display_name=display_name, addr_spec=f"{local}@{domain}")
    else:
        address = Address(display_name=display_name, username=local, domain=domain)
    if address.addr_spec != f"{local}@{domain}":
        raise ValueError(f"not exactly one email address: {addr_spec!r}")
    return address


def _to_header(address: Address) -> str:
    """The To header's value for ``address``, as the email package writes it
    (display name quoted or RFC 2047-encoded as needed), on one line."""
    folded = _ADDRESS_POLICY.header_factory("To", [address]).fold(policy=_ADDRESS_POLICY)
    return folded.partition(":")[2].strip()


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
    recipient = mailbox(to_email, to_name)
    msg: Message[str, str | Header]  # a Subject may be a Header
    if recipient.username.isascii():
        msg = Message(policy=_POLICY)
        to_header = _to_header(recipient)
        subject_header = _header(subject)
    else:  # RFC 6531: the address stays UTF-8 in the headers
        msg = EmailMessage(policy=_UTF8_POLICY)
        to_header = str(recipient)  # Address's own rendering, parsed back by the policy
        subject_header = subject
    msg["MIME-Version"] = "1.0"
    msg["From"] = from_address
    msg["To"] = to_header
    msg["Subject"] = subject_header
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
