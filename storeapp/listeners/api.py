"""The plugin API: the one module a listener plugin imports besides
:mod:`storeapp.domain`.

A plugin is a small class (subclass :class:`ListenerPlugin`) that:

* has a ``name`` (its entry-point name), a ``title``, a one-paragraph
  ``description`` of what it listens to and why, and ``listens_to`` (the
  names of the signals it connects to, shown before it is ever enabled);
* connects its receivers in :meth:`ListenerPlugin.ready` with
  :meth:`ListenerPlugin.connect` (the ``AppConfig.ready()`` analogue; each
  connection gets a ``dispatch_uid``, so ``ready()`` twice never doubles it);
* is disconnected by :meth:`ListenerPlugin.shutdown`;
* may offer a panel with :meth:`ListenerPlugin.create_panel` (a QWidget the
  window puts in a dock placed as its ``dock`` says), and touches widgets
  only through ``host.call_in_gui`` / ``host.coalesce`` /
  ``host.coalesce_load``, because receivers run in the sender's thread.

It receives a :class:`PluginHost`: the store, a data directory, settings,
the GUI-thread helpers and a read-only view of the other plugins. A plugin
never imports another plugin, the window (``storeapp.ui``) or a private
name; ``tests/unit/test_layers.py`` fails if one does.

For panels, the API also offers :class:`CellModel` (tables whose cells live
in C++; its ``sync_rows`` is the one row-diff), ``RIGHT`` (alignment) and
the colour ``palette``. They load Qt, so they are imported on first use:
importing this module for a headless plugin loads no Qt.

Plugins are discovered through the ``storeapp.listeners`` entry-point group
(``pyproject.toml`` declares the project's own), so an installed package adds
one without touching storeapp::

    [project.entry-points."storeapp.listeners"]
    my_plugin = "my_package.module:MyPlugin"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from storeapp.domain.dispatch import Signal, qualname
from storeapp.domain.events.durable import begin_at_end
from storeapp.domain.events.durable import registry as durable_registry
from storeapp.domain.signals import plugin_state_changed

if TYPE_CHECKING:
    from storeapp.domain import Store
    from storeapp.listeners import palette
    from storeapp.listeners.cells import RIGHT, Cell, CellModel

__all__ = [
    "ENTRY_POINT_GROUP",
    "RIGHT",
    "Cell",
    "CellModel",
    "DockPlacement",
    "HeadlessHost",
    "ListenerPlugin",
    "PluginDirectory",
    "PluginHost",
    "PluginRecord",
    "PluginState",
    "coerce_setting",
    "palette",
    "plugin_state_changed",
]

ENTRY_POINT_GROUP = "storeapp.listeners"


def __getattr__(name: str) -> Any:
    """Qt-backed names, imported when a plugin first asks for them."""
    if name in ("CellModel", "Cell", "RIGHT"):
        from storeapp.listeners import cells

        return getattr(cells, name)
    if name == "palette":
        from storeapp.listeners import palette

        return palette
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PluginState(StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    FAILED = "failed"


@dataclass(frozen=True)
class DockPlacement:
    """Where the window docks a plugin's panel.

    ``area``: the window's side. Panels in one area sit side by side
    (bottom, top) or one above the other (left, right), in ``slot`` order,
    sharing the room in proportion to ``share``. ``size``: the area's depth
    in pixels the first panel asks for (width at a side, height at the
    bottom or top).
    """

    area: Literal["left", "right", "top", "bottom"] = "right"
    slot: int = 0
    share: int = 50
    size: int | None = None


@dataclass
class PluginRecord:
    """What the manager knows of one plugin (shown in the Plugins dialog)."""

    name: str
    state: PluginState = PluginState.DISABLED
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

    def owns_module(self, module: str) -> bool:
        """True if a receiver defined in ``module`` belongs to this plugin:
        the module of its class, or, for a plugin package whose class lives
        in ``<package>.plugin``, any module of that package."""
        if self.cls is None:
            return False
        home = self.cls.__module__
        if module == home:
            return True
        package, _, leaf = home.rpartition(".")
        return leaf == "plugin" and module.startswith(package + ".")


class PluginHost(Protocol):
    """What a plugin may use of the application (and nothing else)."""

    store: Store
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
        """A setting value (``plugin_name/key``), or ``default``; an int or
        bool default makes the saved text come back as an int or bool."""

    def set_setting(self, key: str, value: Any) -> None:
        """Remember a setting across restarts."""

    def plugin_records(self) -> list[PluginRecord]:
        """Every plugin the app knows, in load order (read-only: the
        inspector shows who listens; enable and disable are the window's)."""

    def plugin_for_module(self, module: str) -> str | None:
        """The name of the plugin a receiver's module belongs to, or None."""


class PluginDirectory(Protocol):
    """The part of the plugin manager a host shows its plugins."""

    def records(self) -> list[PluginRecord]: ...

    def plugin_for_module(self, module: str) -> str | None: ...


def coerce_setting(value: Any, default: Any) -> Any:
    """A setting read back as text (QSettings' INI files), as the type of
    ``default``: "true"/"1"/"yes" for a bool, digits for an int; anything
    unreadable gives ``default``."""
    if isinstance(default, bool):
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes")
        return bool(value) if value is not None else default
    if isinstance(default, int) and value is not None:
        try:
            return int(value)
        except (TypeError, ValueError):
            return default
    return default if value is None else value


class HeadlessHost:
    """A host with no GUI: tests, benchmarks, scripts; GUI calls run at once."""

    def __init__(
        self,
        store: Store,
        data_dir: Path,
        settings: dict[str, Any] | None = None,
        plugins: PluginDirectory | None = None,
    ) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.settings = dict(settings or {})
        self.notices: list[str] = []
        #: Set by the composition root (or a test) once the manager exists.
        self.plugins = plugins

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
        return coerce_setting(self.settings.get(key), default)

    def set_setting(self, key: str, value: Any) -> None:
        self.settings[key] = value

    def plugin_records(self) -> list[PluginRecord]:
        return self.plugins.records() if self.plugins is not None else []

    def plugin_for_module(self, module: str) -> str | None:
        return self.plugins.plugin_for_module(module) if self.plugins is not None else None


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
    #: Where that dock goes.
    dock: ClassVar[DockPlacement] = DockPlacement()

    def __init__(self, host: PluginHost) -> None:
        self.host = host
        self.connections: list[tuple[Signal, Callable[..., Any], Any, str]] = []
        #: The durable receivers it connected (their full names).
        self.durable_names: list[str] = []

    # -- the contract --------------------------------------------------------

    def ready(self) -> None:
        """Connect receivers with :meth:`connect`. Called when enabled."""

    def shutdown(self) -> None:
        """Disconnect every receiver this plugin connected."""
        for signal, _receiver, sender, uid in self.connections:
            signal.disconnect(sender=sender, dispatch_uid=uid)
        self.connections.clear()
        for name in self.durable_names:
            durable_registry.disconnect(name)
        self.durable_names.clear()

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
        remote: bool = False,
    ) -> None:
        """Connect ``receiver`` to ``signal`` and remember it for shutdown().

        ``remote=True``: it also gets the sends replayed from other tills
        (``remote=True`` and ``terminal`` in the kwargs): a panel that shows
        the shop asks for them; work done once per shop must not.
        """
        uid = f"{self.name}:{qualname(receiver)}:{getattr(sender, '__name__', sender)}"
        signal.connect(
            receiver,
            sender=sender,
            weak=weak,
            dispatch_uid=uid,
            on_commit=on_commit,
            remote=remote,
        )
        if not any(c[3] == uid and c[0] is signal for c in self.connections):
            self.connections.append((signal, receiver, sender, uid))

    def connect_durable(
        self,
        signal: Signal,
        receiver: Callable[..., Any],
        name: str,
        *,
        max_attempts: int | None = None,
        backoff_cap: float | None = None,
        on_change: Callable[[int, str], None] | None = None,
        from_now: bool = False,
    ) -> None:
        """Connect a durable receiver (``signal.connect(receiver, durable=...)``)
        under ``<plugin>.<name>``, and disconnect it on shutdown(). It is
        delivered every committed event of ``signal`` at least once, on the
        durable worker's thread, after a crash or a restart too; its
        progress stays in the database while the plugin is off.

        ``max_attempts`` and ``backoff_cap`` replace the worker's settings for
        this receiver (the cap can only be shorter); ``on_change(event_id,
        outcome)`` is told each committed outcome ("done", "retrying", "dead")
        on the worker's thread. With ``from_now``, a receiver connected for
        the first time on this database starts at the log's end, not its
        beginning (:func:`~storeapp.domain.events.durable.begin_at_end`).
        See :mod:`storeapp.domain.events.durable`."""
        full = f"{self.name}.{name}"
        if from_now:
            begin_at_end(self.host.store.engine, full)
        durable_registry.connect(
            signal,
            receiver,
            full,
            max_attempts=max_attempts,
            backoff_cap=backoff_cap,
            on_change=on_change,
        )
        if full not in self.durable_names:
            self.durable_names.append(full)
