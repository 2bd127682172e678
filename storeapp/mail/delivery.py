"""The delivery thread: messages leave on one daemon thread, never on the
thread that committed the order.

:class:`DeliveryQueue` owns ONE daemon thread that feeds a backend from a
:class:`queue.Queue`, so whoever committed the order (often the GUI thread)
never waits for a mail server. It reports each message's outcome through a
callback: ``"sent"`` or ``"failed: <reason>"``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from email.message import Message
from typing import Any

from storeapp.mail.backends import BaseEmailBackend, describe_error

__all__ = [
    "ABANDONED",
    "FAILED_PREFIX",
    "STATUS_QUEUED",
    "STATUS_SENT",
    "DeliveryQueue",
]

logger = logging.getLogger("storeapp.email")

#: A message's status: queued, then sent or ``FAILED_PREFIX + reason``.
STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
FAILED_PREFIX = "failed: "
ABANDONED = "not sent (the email log was stopped before it could be delivered)"

_STOP = object()  # tells the thread to finish


class DeliveryQueue:
    """Feeds ``backend`` from one daemon thread, started by the first put().

    ``on_status(key, status)`` is called from that thread once per message
    with ``"sent"`` or ``"failed: <reason>"``; it must be quick and must not
    touch Qt objects (hop to the GUI thread instead).
    """

    def __init__(
        self,
        backend: BaseEmailBackend,
        on_status: Callable[[Any, str], None],
        *,
        name: str = "storeapp-email",
        between: Callable[[], Any] | None = None,
    ) -> None:
        self.backend = backend
        #: Called after each message (the host's ``yield_to_gui``).
        self._between = between
        self._on_status = on_status
        self._name = name
        self._queue: queue.Queue[Any] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._abandon = threading.Event()
        #: Seconds to sleep after each message (0 in tests that need speed).
        self.pause = 0.002

    # -- producer side (any thread) ------------------------------------------

    @property
    def pending(self) -> int:
        """Messages put but not yet reported."""
        with self._lock:
            return self._pending

    @property
    def thread(self) -> threading.Thread | None:
        return self._thread

    def put(self, key: Any, message: Message | Callable[[], Message]) -> None:
        """Queue ``message`` (or a function that builds it, called on the
        delivery thread: building a MIME message is the slow part); returns
        at once."""
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                self._pending += 1
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    self._thread.start()
                self._queue.put((key, message))
        if closed:
            self._report(key, FAILED_PREFIX + ABANDONED, counted=False)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every queued message has been reported (tests, exit)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def close(self, timeout: float = 2.0) -> bool:
        """Stop accepting messages, let the thread drain the queue for at
        most ``timeout`` seconds, then abandon what is left (each abandoned
        message is reported failed). True if the thread has finished."""
        with self._lock:
            already = self._closed
            self._closed = True
            thread = self._thread
        if thread is None:
            return True
        if not already:
            self._queue.put(_STOP)
        thread.join(timeout)
        if thread.is_alive():
            # The message in flight finishes (the backend has its own
            # timeout); those behind it are reported failed, not sent.
            self._abandon.set()
            logger.warning(
                "Email delivery did not finish within %.1f s; the remaining messages are abandoned",
                timeout,
            )
            return False
        return True

    # -- the delivery thread -------------------------------------------------

    def _run(self) -> None:
        backend = self.backend
        connected = False
        try:
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    if connected:  # idle: do not hold a server connection open
                        self._safe_close(backend)
                        connected = False
                    item = self._queue.get()
                if item is _STOP:
                    return
                key, message = item
                if self._abandon.is_set():
                    self._report(key, FAILED_PREFIX + ABANDONED)
                    continue
                if not isinstance(message, Message):
                    try:
                        message = message()
                    except Exception as exc:
                        logger.exception("Building an email failed")
                        self._report(
                            key,
                            FAILED_PREFIX + f"could not build the message ({describe_error(exc)})",
                        )
                        continue
                if not connected:
                    connected = True
                    try:
                        backend.open()
                    except Exception:
                        pass  # send_messages() retries and reports the reason
                self._report(key, self._deliver(backend, message))
                # A breath between messages: sleeping surely releases the GIL,
                # so a GUI thread waiting for it gets its turn during a burst.
                time.sleep(self.pause)
                if self._between is not None:
                    self._between()
        finally:
            if connected:
                self._safe_close(backend)

    @staticmethod
    def _deliver(backend: BaseEmailBackend, message: Message) -> str:
        try:
            sent = backend.send_messages([message])
        except Exception as exc:
            reason = describe_error(exc)
            logger.warning("Email %r to %s not sent: %s", message["Subject"], message["To"], reason)
            return FAILED_PREFIX + reason
        if not sent:
            return FAILED_PREFIX + "the email backend did not send it"
        return STATUS_SENT

    @staticmethod
    def _safe_close(backend: BaseEmailBackend) -> None:
        try:
            backend.close()
        except Exception as exc:
            logger.warning("Closing the email backend failed: %s", describe_error(exc))

    def _report(self, key: Any, status: str, counted: bool = True) -> None:
        try:
            self._on_status(key, status)
        except Exception:
            logger.exception("Recording the status of an email failed")
        finally:
            if counted:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()
