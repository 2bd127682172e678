"""The listener plugin contract and the plugin manager.

A plugin is a small class (subclass :class:`ListenerPlugin`) that:

* has a ``name`` (its entry-point name), a ``title``, a one-paragraph
  ``description`` of what it listens to and why, and ``listens_to`` (the
  names of the signals it connects to, shown before it is ever enabled);
* connects its receivers in :meth:`ListenerPlugin.ready` with
  :meth:`ListenerPlugin.connect` (the ``AppConfig.ready()`` analogue; each
  connection gets a ``dispatch_uid``, so ``ready()`` twice never doubles it);
* is disconnected by :meth:`ListenerPlugin.shutdown`;
* may offer a panel with :meth:`ListenerPlugin.create_panel` (a QWidget the
  window puts in a dock), and touches widgets only through
  ``host.call_in_gui`` / ``host.coalesce``, because receivers run in the
  sender's thread.

It receives a :class:`PluginHost`: the store, a data directory, settings and
the two GUI-thread helpers. A plugin never imports another plugin or the
main window.

Plugins are discovered through the ``storeapp.listeners`` entry-point group
(``pyproject.toml`` declares the project's own), so an installed package adds
one without touching this code::

    [project.entry-points."storeapp.listeners"]
    my_plugin = "my_package.module:MyPlugin"
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar, Protocol

from storeapp.domain.dispatch import Signal, qualname, receiver_failed, reset_streak

__all__ = [
    "ENTRY_POINT_GROUP",
    "HeadlessHost",
    "ListenerPlugin",
    "PluginHost",
    "PluginManager",
    "PluginRecord",
    "PluginState",
    "plugin_state_changed",
]

ENTRY_POINT_GROUP = "storeapp.listeners"
logger = logging.getLogger("storeapp.plugins")

plugin_state_changed = Signal(
    "A plugin was enabled, disabled or failed (kwargs: record).",
    name="plugin_state_changed",
)


class PluginHost(Protocol):
    """What a plugin may use of the application (and nothing else)."""

    store: Any
    data_dir: Path

    def call_in_gui(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the GUI thread (at once if already there)."""

    def coalesce(self, key: str, fn: Callable[[], Any]) -> None:
        """Run ``fn`` once on the GUI thread soon; repeated calls with the
        same key before it runs are merged (at most ~20 times a second)."""

    def coalesce_load(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        """Like :meth:`coalesce` for a refresh that reads the database:
        ``load()`` runs off the GUI thread, ``apply(result)`` on it."""

    def yield_to_gui(self) -> None:
        """For a plugin's own background thread, between two units of work:
        returns at once unless the GUI thread is refreshing, then waits
        (briefly) until it is done, so the window keeps its turn."""

    def notify(self, message: str) -> None:
        """Show a short non-modal message to the cashier."""

    def setting(self, key: str, default: Any = None) -> Any:
        """A setting value (``plugin_name/key``), or ``default``."""

    def set_setting(self, key: str, value: Any) -> None:
        """Remember a setting across restarts."""


class HeadlessHost:
    """A host with no GUI: tests and benchmarks; GUI calls run at once."""

    def __init__(self, store: Any, data_dir: Path, settings: dict[str, Any] | None = None):
        self.store = store
        self.data_dir = Path(data_dir)
        self.settings = dict(settings or {})
        self.notices: list[str] = []

    def call_in_gui(self, fn: Callable[[], Any]) -> None:
        fn()

    def coalesce(self, key: str, fn: Callable[[], Any]) -> None:
        fn()

    def coalesce_load(self, key: str, load: Callable[[], Any], apply: Callable[[Any], Any]) -> None:
        apply(load())

    def yield_to_gui(self) -> None:
        pass

    def notify(self, message: str) -> None:
        self.notices.append(message)

    def setting(self, key: str, default: Any = None) -> Any:
        return self.settings.get(key, default)

    def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value


class ListenerPlugin:
    """Base class of every listener plugin. Override :meth:`ready`."""

    name: ClassVar[str] = ""
    title: ClassVar[str] = ""
    description: ClassVar[str] = ""
    listens_to: ClassVar[tuple[str, ...]] = ()
    #: Load order: lower first (core is 0); ties by name.
    order: ClassVar[int] = 100
    #: A required plugin cannot be disabled (core).
    required: ClassVar[bool] = False
    enabled_by_default: ClassVar[bool] = True
    #: objectName of the dock the window puts the panel in (e.g. "inventoryDock").
    panel_object_name: ClassVar[str | None] = None

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.connections: list[tuple[Signal, Callable[..., Any], Any, str]] = []

    # -- the contract --------------------------------------------------------

    def ready(self) -> None:
        """Connect receivers with :meth:`connect`. Called when enabled."""

    def shutdown(self) -> None:
        """Disconnect every receiver this plugin connected."""
        for signal, _receiver, sender, uid in self.connections:
            signal.disconnect(sender=sender, dispatch_uid=uid)
        self.connections.clear()

    def create_panel(self) -> Any:
        """Return a QWidget for the plugin's dock, or None for no panel."""
        return None

    # -- helpers ---------------------------------------------------------------

    def connect(
        self,
        signal: Signal,
        receiver: Callable[..., Any],
        sender: Any = None,
        *,
        on_commit: bool = False,
        weak: bool = False,
    ) -> None:
        """Connect ``receiver`` to ``signal`` and remember it for shutdown()."""
        uid = f"{self.name}:{qualname(receiver)}:{getattr(sender, '__name__', sender)}"
        signal.connect(receiver, sender=sender, weak=weak, dispatch_uid=uid, on_commit=on_commit)
        if not any(c[3] == uid and c[0] is signal for c in self.connections):
            self.connections.append((signal, receiver, sender, uid))


class PluginState:
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"


@dataclass
class PluginRecord:
    """What the manager knows of one plugin (shown in the Plugins dialog)."""

    name: str
    state: str = PluginState.DISABLED
    error: str | None = None
    traceback: str | None = None
    plugin: ListenerPlugin | None = None
    cls: type[ListenerPlugin] | None = None
    source: str = ""
    panel: Any = None
    error_count: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return (self.cls.title if self.cls else "") or self.name

    @property
    def description(self) -> str:
        return self.cls.description if self.cls else ""

    @property
    def listens_to(self) -> tuple[str, ...]:
        return self.cls.listens_to if self.cls else ()

    @property
    def required(self) -> bool:
        return bool(self.cls and self.cls.required)

    @property
    def enabled(self) -> bool:
        return self.state == PluginState.ENABLED


def _describe(exc: BaseException) -> str:
    try:
        text = str(exc)
    except Exception:
        text = "(unprintable)"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class PluginManager:
    """Discovers plugins by entry point, enables and disables them live."""

    #: A plugin whose receiver fails this many times in a row is disabled
    #: (0: never). The app reads it from the setting plugins/auto_disable_after.
    auto_disable_after: int = 3

    def __init__(self, host: PluginHost, group: str = ENTRY_POINT_GROUP) -> None:
        self.host = host
        self.group = group
        self._records: dict[str, PluginRecord] = {}
        self._lock = threading.RLock()
        receiver_failed.connect(self._on_receiver_failed)

    def _on_receiver_failed(
        self,
        sender: Any,
        receiver: Any,
        exception: BaseException,
        streak: int,
        module: str = "",
        **kwargs: Any,
    ) -> None:
        """Count a plugin receiver's failure; disable the plugin after a streak.

        Runs in the thread whose send failed.
        """
        name = self.plugin_for_module(module)
        if name is None:
            return
        signal_name = getattr(sender, "name", "signal")
        with self._lock:
            record = self._records[name]
            record.error_count += 1
            record.extra["last_error"] = f"{signal_name}: {_describe(exception)}"
            limit = self.auto_disable_after
            auto = bool(limit) and streak >= limit and record.enabled and not record.required
        if auto:
            self.disable(name)
            with self._lock:
                record.extra["auto_disabled"] = True
                record.error = (
                    f"auto-disabled after {streak} failures in a row (last: {_describe(exception)})"
                )
            self.host.notify(
                f"Plugin {record.title} was disabled after {streak} failures in a row. "
                "Orders are unaffected."
            )
        else:
            self.host.notify(
                f"Plugin {record.title} failed on {signal_name}: {_describe(exception)} "
                "(the order went through)"
            )
        plugin_state_changed.send_robust(self, record=record)

    # -- discovery -------------------------------------------------------------

    def discover(self, extra: Iterable[type[ListenerPlugin]] = ()) -> list[PluginRecord]:
        """Load every entry point of the group (a failure is recorded, not raised)."""
        for ep in sorted(entry_points(group=self.group), key=lambda e: e.name):
            if ep.name in self._records:
                continue
            self._load(ep)
        for cls in extra:
            self.add(cls)
        return self.records()

    def _load(self, ep: EntryPoint) -> None:
        record = PluginRecord(name=ep.name, source=ep.value)
        self._records[ep.name] = record
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, ListenerPlugin)):
                raise TypeError(f"{ep.value} is not a ListenerPlugin subclass")
            record.cls = cls
            record.plugin = cls(self.host)
        except Exception as exc:
            self._fail(record, exc, "could not be loaded")

    def add(self, cls: type[ListenerPlugin]) -> PluginRecord:
        """Register a plugin class directly (tests, embedding)."""
        record = PluginRecord(name=cls.name, cls=cls, source=f"{cls.__module__}:{cls.__qualname__}")
        self._records[cls.name] = record
        try:
            record.plugin = cls(self.host)
        except Exception as exc:
            self._fail(record, exc, "could not be created")
        return record

    # -- queries -----------------------------------------------------------------

    def records(self) -> list[PluginRecord]:
        """Every plugin in load order: ``order`` then name; failed ones last."""
        return sorted(
            self._records.values(),
            key=lambda r: (r.cls.order if r.cls else 10_000, r.name),
        )

    def record(self, name: str) -> PluginRecord:
        try:
            return self._records[name]
        except KeyError:
            raise KeyError(f"No plugin named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._records

    def default_names(self) -> list[str]:
        return [r.name for r in self.records() if r.cls and r.cls.enabled_by_default]

    def enabled_names(self) -> list[str]:
        return [r.name for r in self.records() if r.enabled]

    def plugin_for_module(self, module: str) -> str | None:
        """The name of the plugin whose code lives in ``module`` (inspector)."""
        for r in self._records.values():
            if r.cls is not None and module == r.cls.__module__:
                return r.name
        return None

    # -- state changes ---------------------------------------------------------

    def start(self, names: Iterable[str] | None = None) -> None:
        """Enable ``names`` (default: every plugin enabled by default) and
        every required plugin, in load order."""
        wanted = set(self.default_names() if names is None else names)
        for record in self.records():
            if record.required or record.name in wanted:
                self.enable(record.name)

    def enable(self, name: str) -> PluginRecord:
        with self._lock:
            record = self.record(name)
            if record.plugin is None or record.enabled:
                return record
            try:
                record.plugin.ready()
            except Exception as exc:
                try:
                    record.plugin.shutdown()
                except Exception:
                    logger.exception("shutdown() of %s failed after ready() failed", name)
                self._fail(record, exc, "failed in ready()")
                return record
            record.state = PluginState.ENABLED
            record.error = record.traceback = None
            record.extra.pop("auto_disabled", None)
            for _signal, fn, _sender, _uid in record.plugin.connections:
                reset_streak(fn)
        logger.info("Plugin %s enabled", name)
        plugin_state_changed.send_robust(self, record=record)
        return record

    def disable(self, name: str) -> PluginRecord:
        with self._lock:
            record = self.record(name)
            if record.required:
                raise ValueError(f"The {record.title} plugin is required and cannot be disabled.")
            if not record.enabled:
                return record
            try:
                record.plugin.shutdown()  # type: ignore[union-attr]
            except Exception as exc:
                self._fail(record, exc, "failed in shutdown()")
                return record
            record.state = PluginState.DISABLED
        logger.info("Plugin %s disabled", name)
        plugin_state_changed.send_robust(self, record=record)
        return record

    def set_enabled(self, name: str, enabled: bool) -> PluginRecord:
        return self.enable(name) if enabled else self.disable(name)

    def mark_failed(self, name: str, exc: BaseException, what: str) -> PluginRecord:
        """A plugin broke later (e.g. its panel factory raised): disconnect it."""
        with self._lock:
            record = self.record(name)
            if record.plugin is not None and record.enabled:
                try:
                    record.plugin.shutdown()
                except Exception:
                    logger.exception("shutdown() of %s failed", name)
            self._fail(record, exc, what)
        return record

    def shutdown_all(self) -> None:
        for record in reversed(self.records()):
            if record.enabled and record.plugin is not None:
                try:
                    record.plugin.shutdown()
                except Exception:
                    logger.exception("shutdown() of %s failed", record.name)
                record.state = PluginState.DISABLED

    def _fail(self, record: PluginRecord, exc: BaseException, what: str) -> None:
        record.state = PluginState.FAILED
        record.error = f"{what}: {_describe(exc)}"
        record.traceback = "".join(traceback.format_exception(exc))
        logger.error("Plugin %s %s", record.name, record.error, exc_info=exc)
        plugin_state_changed.send_robust(self, record=record)
