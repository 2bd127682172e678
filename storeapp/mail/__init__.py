"""The mail library the email log uses (not a plugin; no Qt, no listeners):
messages, the backends that deliver them, and the delivery thread."""

from storeapp.mail.backends import (
    BACKENDS,
    BaseEmailBackend,
    FileBackend,
    MailError,
    MemoryBackend,
    SMTPBackend,
    describe_error,
    get_backend,
)
from storeapp.mail.delivery import (
    ABANDONED,
    FAILED_PREFIX,
    STATUS_QUEUED,
    STATUS_SENT,
    DeliveryQueue,
)
from storeapp.mail.messages import (
    DEFAULT_FROM,
    OrderLine,
    as_email_message,
    order_confirmation,
    valid_from_address,
    welcome_message,
)

__all__ = [
    "ABANDONED",
    "BACKENDS",
    "DEFAULT_FROM",
    "FAILED_PREFIX",
    "STATUS_QUEUED",
    "STATUS_SENT",
    "BaseEmailBackend",
    "DeliveryQueue",
    "FileBackend",
    "MailError",
    "MemoryBackend",
    "OrderLine",
    "SMTPBackend",
    "as_email_message",
    "describe_error",
    "get_backend",
    "order_confirmation",
    "valid_from_address",
    "welcome_message",
]
