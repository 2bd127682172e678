"""What the inspector records of a send: :class:`SendRecord` (one send),
:class:`ReceiverCall` (one receiver's part in it) and :class:`ReceiverStatus`,
and the snapshot a record keeps of a send's arguments (formatted when read).
Filled in by :mod:`.instrumentation`'s observed send.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from storeapp.domain.dispatch.names import safe_repr

__all__ = ["ARG_LIMIT", "Packed", "ReceiverCall", "ReceiverStatus", "SendRecord", "snapshot"]


class ReceiverStatus(StrEnum):
    """What became of one receiver in one send."""

    OK = "ok"
    ERROR = "error"
    DEFERRED = "deferred"
    RAN_AFTER_COMMIT = "ran after commit"
    FAILED_AFTER_COMMIT = "failed after commit"
    DROPPED = "dropped by rollback"
    SKIPPED_MUTED = "skipped: signal muted"
    SKIPPED_SENDER = "skipped: sender filter"
    SKIPPED_PLUGIN_DISABLED = "skipped: plugin disabled"
    SKIPPED_PLUGIN_FAILED = "skipped: plugin failed"
    #: A durable receiver's delivery of a committed event (from the event log).
    DELIVERED = "delivered from the event log"
    RETRYING = "failed: will retry"
    DEAD = "failed: parked as dead"

    @property
    def failed(self) -> bool:
        return self in _FAILED

    @property
    def ran(self) -> bool:
        return self in _RAN

    @property
    def skipped(self) -> bool:
        return self.value.startswith("skipped")


_FAILED = frozenset(
    {
        ReceiverStatus.ERROR,
        ReceiverStatus.FAILED_AFTER_COMMIT,
        ReceiverStatus.RETRYING,
        ReceiverStatus.DEAD,
    }
)
_RAN = frozenset({ReceiverStatus.OK, ReceiverStatus.RAN_AFTER_COMMIT, ReceiverStatus.DELIVERED})
_BY_VALUE = {status.value: status for status in ReceiverStatus}


@dataclass(slots=True, weakref_slot=True)
class ReceiverCall:
    """One receiver's part in one send (what the inspector shows)."""

    receiver: str
    module: str
    status: ReceiverStatus
    on_commit: bool = False
    duration: float | None = None  # seconds
    result: str | None = None
    error: str | None = None
    traceback: str | None = None
    #: What the status refers to (the sender a sender filter wanted).
    detail: str | None = None

    @property
    def label(self) -> str:
        """The status as shown: "skipped: sender filter (User)"."""
        return f"{self.status} ({self.detail})" if self.detail else str(self.status)


#: Argument values kept as they are and formatted only when shown: immutable,
#: so reading them later on another thread is safe. Anything else (a model
#: instance) is formatted during the send, in the sender's thread.
_PLAIN = frozenset({str, int, float, bool, type(None), Decimal, bytes})
#: How long one argument's value is shown.
ARG_LIMIT = 60


class SendRecord:
    """One send of one signal.

    ``origin`` is where it was sent from: ``"Store.place_order
    (storeapp/domain/store/orders.py:80)"`` (``""`` if unknown), ``via`` the
    Signal method called (``"send"``, ``"send_robust"``). A send made while
    another one was running in the same thread (by one of its receivers, or
    ``receiver_failed`` by the send loop) has that send's seq as ``parent``,
    its ``depth`` (0 for a send of its own), and in ``within`` the receiver
    that was running (None if none was: the loop itself sent it).

    ``kwargs`` is the arguments as text (``order=<Order id=1 ...>``). The
    record keeps a snapshot of them and formats it the first time
    ``kwargs`` is read (on the GUI thread, usually); plain values (numbers,
    strings, None) are kept as they are, anything else as its repr, taken
    during the send. A string passed as ``kwargs`` is kept as it is.
    """

    __slots__ = (
        "seq",
        "time",
        "signal",
        "sender",
        "_kwargs",
        "robust",
        "thread",
        "calls",
        "muted",
        "origin",
        "via",
        "parent",
        "depth",
        "within",
        "__weakref__",
    )

    def __init__(
        self,
        seq: int,
        time: float,
        signal: str,
        sender: str,
        kwargs: str | Mapping[str, Any],
        robust: bool,
        thread: str,
        calls: list[ReceiverCall] | None = None,
        muted: bool = False,
        origin: str = "",
        via: str = "",
        parent: int | None = None,
        depth: int = 0,
        within: str | None = None,
    ) -> None:
        self.seq = seq
        self.time = time
        self.signal = signal
        self.sender = sender
        self._kwargs = kwargs
        self.robust = robust
        self.thread = thread
        self.calls: list[ReceiverCall] = [] if calls is None else calls
        self.muted = muted
        self.origin = origin
        self.via = via
        self.parent = parent
        self.depth = depth
        self.within = within

    @property
    def kwargs(self) -> str:
        """The arguments as text: ``order=<Order id=1 status=placed>, n=2``."""
        value = self._kwargs
        if isinstance(value, str):
            return value
        text = ", ".join(f"{k}={_shown(v)}" for k, v in value.items())
        self._kwargs = text  # one str replaces another reference: safe on any thread
        return text

    @property
    def failed(self) -> bool:
        return any(c.error is not None for c in self.calls)

    @property
    def call_site(self) -> str:
        """``origin via send_robust`` (what the timeline shows), or ``""``."""
        if not self.origin:
            return ""
        return f"{self.origin} via {self.via}" if self.via else self.origin

    def pack(self) -> Packed | SendRecord:
        """The record as one tuple of plain values (strings, numbers, None,
        and a tuple of such tuples for its calls), which the garbage
        collector stops tracking; :meth:`unpack` makes a record of it again.

        A record is a dozen tracked objects with its calls, and a full
        collection walks every one of them while it holds the GIL: after a
        1,000-order rush one took 15.5 ms with the inspector's 10,000 records
        as objects and 11.7 ms with all but the newest packed. A record with a call still
        waiting for the commit is returned as it is: that call will change in
        place (its status is written last, so any other status is final)."""
        calls = self.calls
        if any(c.status is ReceiverStatus.DEFERRED for c in calls):
            return self
        return (
            self.seq,
            self.time,
            self.signal,
            self.sender,
            self.kwargs,
            self.robust,
            self.thread,
            tuple(
                (
                    c.receiver,
                    c.module,
                    c.status.value,
                    c.on_commit,
                    c.duration,
                    c.result,
                    c.error,
                    c.traceback,
                    c.detail,
                )
                for c in calls
            ),
            self.muted,
            self.origin,
            self.via,
            self.parent,
            self.depth,
            self.within,
        )

    @classmethod
    def unpack(cls, item: Packed | SendRecord) -> SendRecord:
        """A record again from what :meth:`pack` returned (a new object)."""
        if type(item) is not tuple:
            return item  # type: ignore[return-value]  # a record pack() kept
        seq, time, signal, sender, kwargs, robust, thread, calls, *rest = item
        return cls(
            seq,
            time,
            signal,
            sender,
            kwargs,
            robust,
            thread,
            [
                ReceiverCall(r, m, _BY_VALUE[s], commit, d, res, err, tb, detail)
                for r, m, s, commit, d, res, err, tb, detail in calls
            ],
            *rest,
        )

    @staticmethod
    def seq_of(item: Packed | SendRecord) -> int:
        """The seq of a record or of its packed tuple."""
        return item[0] if type(item) is tuple else item.seq  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return (
            f"<SendRecord #{self.seq} {self.signal} from {self.sender}"
            f"{f' at {self.origin}' if self.origin else ''}"
            f"{f' in #{self.parent}' if self.parent is not None else ''}>"
        )


#: What :meth:`SendRecord.pack` makes: the fields in ``__slots__`` order,
#: ``kwargs`` as text and ``calls`` as tuples of plain values.
Packed = tuple[Any, ...]


class _Shown(str):
    """An argument's repr, taken during the send (shown as it is)."""

    __slots__ = ()


class _Columns:
    """A model instance's column values, taken during the send; its class's
    own ``__repr__`` runs on them when the arguments are shown. Cheaper in
    the sender's thread than the repr (which reads each column through
    SQLAlchemy's descriptors and formats it), and as safe on another thread:
    the values are plain (numbers, strings, dates), never the instance."""

    __slots__ = ("cls", "values")

    def __init__(self, cls: type, values: dict[str, Any]) -> None:
        self.cls = cls
        self.values = values

    def __getattr__(self, name: str) -> Any:
        # What the model's __repr__ reads: a column not loaded shows as None,
        # as it reads on an instance not yet flushed.
        try:
            return object.__getattribute__(self, "values").get(name)
        except AttributeError:
            raise AttributeError(name) from None

    def text(self) -> str:
        try:
            shown = _own_repr(self.cls)(self)
        except Exception:
            shown = f"<{self.cls.__name__}>"
        return shown if len(shown) <= ARG_LIMIT else shown[: ARG_LIMIT - 1] + "…"


def _shown(value: Any) -> str:
    if type(value) is _Shown:
        return value
    if type(value) is _Columns:
        return value.text()
    return safe_repr(value, ARG_LIMIT)


#: class -> its column keys if its instances are replayed (_Columns), else None.
_REPLAYED: dict[type, tuple[str, ...] | None] = {}


def _own_repr(cls: type) -> Callable[[Any], str]:
    """The ``__repr__`` function of ``cls``, to call on a stand-in."""
    for klass in cls.__mro__:
        if "__repr__" in vars(klass):
            function: Callable[[Any], str] = vars(klass)["__repr__"]
            return function
    return repr


class _Probe:
    """Notes which attributes a ``__repr__`` reads."""

    def __init__(self) -> None:
        self.read: list[str] = []

    def __getattr__(self, name: str) -> None:
        self.read.append(name)


def _columns_of(cls: type) -> tuple[str, ...] | None:
    """For a mapped class with a ``__repr__`` of its own that reads only
    columns: the columns it reads (only they are kept, so a password hash
    its repr leaves out is never copied). None for any other class."""
    try:
        return _REPLAYED[cls]
    except KeyError:
        pass
    keys = None
    mapper = getattr(cls, "__mapper__", None)
    if mapper is not None and any("__repr__" in vars(k) for k in cls.__mro__[:-1]):
        try:
            columns = {prop.key for prop in mapper.column_attrs}
            probe = _Probe()
            _own_repr(cls)(probe)
            if probe.read and set(probe.read) <= columns:
                keys = tuple(dict.fromkeys(probe.read))
        except Exception:
            keys = None
    _REPLAYED[cls] = keys
    return keys


def snapshot(kwargs: dict[str, Any]) -> dict[str, Any]:
    """What a record keeps of a send's arguments: ``kwargs`` itself if all
    its values are plain (the send's own dict, which nobody changes), else a
    copy where a model instance is replaced by its column values and
    anything else by its repr, taken now."""
    snap = kwargs
    for key, value in kwargs.items():
        cls = value.__class__
        if cls not in _PLAIN:
            if snap is kwargs:
                snap = dict(kwargs)
            keys = _columns_of(cls)
            if keys is not None:
                loaded = value.__dict__
                snap[key] = _Columns(cls, {k: loaded[k] for k in keys if k in loaded})
            else:
                snap[key] = _Shown(safe_repr(value, ARG_LIMIT))
    return snap
