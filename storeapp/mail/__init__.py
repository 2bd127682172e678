"""The mail library the email log uses (not a plugin; no Qt, no listeners):
messages and the backends that deliver them. Delivery itself is the email
log's durable receivers, on the durable worker's thread."""

from storeapp.mail.backends import (
    BACKENDS,
    BaseEmailBackend,
    FileBackend,
    InvalidRecipient,
    MailError,
    MemoryBackend,
    SMTPBackend,
    describe_error,
    envelope,
    get_backend,
    is_permanent,
)
from storeapp.mail.messages import (
    DEFAULT_FROM,
    OrderLine,
    as_email_message,
    event_message_id,
    mailbox,
    order_confirmation,
    valid_from_address,
    welcome_message,
)

__all__ = [
    "BACKENDS",
    "DEFAULT_FROM",
    "BaseEmailBackend",
    "FileBackend",
    "InvalidRecipient",
    "MailError",
    "MemoryBackend",
    "OrderLine",
    "SMTPBackend",
    "as_email_message",
    "describe_error",
    "envelope",
    "event_message_id",
    "get_backend",
    "is_permanent",
    "mailbox",
    "order_confirmation",
    "valid_from_address",
    "welcome_message",
]
