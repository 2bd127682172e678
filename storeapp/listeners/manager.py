"""The plugin manager: discovery by entry point, enable and disable while
the app runs, and failure isolation (a plugin that fails is shown as failed;
the app, the order and the other plugins go on)."""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from storeapp.domain.dispatch import Signal
from storeapp.domain.signals import plugin_state_changed, receiver_failed
from storeapp.listeners.api import (
    ENTRY_POINT_GROUP,
    ListenerPlugin,
    PluginHost,
    PluginRecord,
    PluginState,
)

__all__ = ["PluginManager"]

logger = logging.getLogger("storeapp.plugins")


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
        sender: Signal,
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
        signal_name = sender.name
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
        except BaseException as exc:  # sys.exit() in a plugin fails the plugin only
            self._fail(record, exc, "could not be loaded")

    def add(self, cls: type[ListenerPlugin]) -> PluginRecord:
        """Register a plugin class directly (tests, embedding)."""
        record = PluginRecord(name=cls.name, cls=cls, source=f"{cls.__module__}:{cls.__qualname__}")
        self._records[cls.name] = record
        try:
            record.plugin = cls(self.host)
        except BaseException as exc:  # sys.exit() in a plugin fails the plugin only
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
            if r.owns_module(module):
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
            except BaseException as exc:  # sys.exit() in a plugin fails the plugin only
                try:
                    record.plugin.shutdown()
                except BaseException:
                    logger.exception("shutdown() of %s failed after ready() failed", name)
                self._fail(record, exc, "failed in ready()")
                return record
            record.state = PluginState.ENABLED
            record.error = record.traceback = None
            record.extra.pop("auto_disabled", None)
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
            except BaseException as exc:  # sys.exit() in a plugin fails the plugin only
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
                except BaseException:
                    logger.exception("shutdown() of %s failed", name)
            self._fail(record, exc, what)
        return record

    def shutdown_all(self) -> None:
        for record in reversed(self.records()):
            if record.enabled and record.plugin is not None:
                try:
                    record.plugin.shutdown()
                except BaseException:
                    logger.exception("shutdown() of %s failed", record.name)
                record.state = PluginState.DISABLED

    def _fail(self, record: PluginRecord, exc: BaseException, what: str) -> None:
        record.state = PluginState.FAILED
        record.error = f"{what}: {_describe(exc)}"
        record.traceback = "".join(traceback.format_exception(exc))
        logger.error("Plugin %s %s", record.name, record.error, exc_info=exc)
        plugin_state_changed.send_robust(self, record=record)
