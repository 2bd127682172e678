"""The plugin contract and manager: discovery by entry point, live toggling,
failures contained. Headless (no Qt)."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.signals import order_created, post_save, user_registered
from storeapp.listeners.api import HeadlessHost, ListenerPlugin, PluginState, plugin_state_changed
from storeapp.listeners.manager import PluginManager

GROUP = "storeapp.test_listeners"


def make_distribution(root: Path, name: str, module_source: str, entry: str) -> None:
    """A throw-away installed distribution: a module plus a dist-info whose
    entry_points.txt declares ``entry`` in the test group."""
    (root / f"{name}.py").write_text(textwrap.dedent(module_source))
    info = root / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{entry}\n")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(f"sqlite:///{tmp_path / 'plugins.db'}")
    seed_catalogue(s)
    yield s
    s.close()


@pytest.fixture
def manager(store: Store, tmp_path: Path):
    m = PluginManager(HeadlessHost(store, tmp_path), group=GROUP)
    yield m
    m.shutdown_all()


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for mod in [m for m in sys.modules if m.startswith("throwaway_")]:
        del sys.modules[mod]
    importlib.invalidate_caches()


GOOD_PLUGIN = """
    from storeapp.domain.signals import user_registered
    from storeapp.listeners.api import ListenerPlugin

    class Greeter(ListenerPlugin):
        name = "greeter"
        title = "Greeter"
        description = "Counts registrations."
        listens_to = ("user_registered",)
        heard = []

        def ready(self):
            self.connect(user_registered, self.on_user)

        def on_user(self, sender, user, **kwargs):
            Greeter.heard.append(user.username)
"""


def test_a_separately_installed_distribution_adds_a_plugin_by_entry_point(
    manager: PluginManager, plugin_path: Path, store: Store
) -> None:
    make_distribution(
        plugin_path, "throwaway_greeter", GOOD_PLUGIN, "greeter = throwaway_greeter:Greeter"
    )
    records = manager.discover()
    assert [r.name for r in records] == ["greeter"]
    assert records[0].source == "throwaway_greeter:Greeter"
    manager.start()
    assert manager.record("greeter").state == PluginState.ENABLED
    store.register_user("ada", "ada@example.com", "long-password")
    module = sys.modules["throwaway_greeter"]
    assert module.Greeter.heard == ["ada"]


def test_a_plugin_that_fails_to_import_is_shown_failed_and_the_others_run(
    manager: PluginManager, plugin_path: Path
) -> None:
    make_distribution(
        plugin_path, "throwaway_greeter", GOOD_PLUGIN, "greeter = throwaway_greeter:Greeter"
    )
    make_distribution(
        plugin_path,
        "throwaway_broken",
        "raise ImportError('no such backend')\n",
        "broken = throwaway_broken:Broken",
    )
    manager.discover()
    manager.start()
    broken = manager.record("broken")
    assert broken.state == PluginState.FAILED
    assert "no such backend" in broken.error
    assert "ImportError" in broken.traceback
    assert manager.record("greeter").state == PluginState.ENABLED


def test_an_entry_point_that_is_not_a_plugin_class_is_refused(
    manager: PluginManager, plugin_path: Path
) -> None:
    make_distribution(
        plugin_path, "throwaway_thing", "thing = 42\n", "thing = throwaway_thing:thing"
    )
    manager.discover()
    assert manager.record("thing").state == PluginState.FAILED
    assert "not a ListenerPlugin" in manager.record("thing").error


class Counter(ListenerPlugin):
    name = "counter"
    title = "Counter"
    listens_to = ("order_created",)

    def __init__(self, host):
        super().__init__(host)
        self.orders = 0

    def ready(self):
        self.connect(order_created, self.on_order)

    def on_order(self, sender, order, **kwargs):
        self.orders += 1


class RaisesInReady(ListenerPlugin):
    name = "raises"
    title = "Raises"

    def ready(self):
        self.connect(user_registered, self.on_user)  # connected, then it breaks
        raise RuntimeError("misconfigured")

    def on_user(self, sender, **kwargs):
        raise AssertionError("must have been disconnected")


class Required(ListenerPlugin):
    name = "required"
    required = True
    order = 0


def test_a_plugin_raising_in_ready_is_failed_and_left_disconnected(
    manager: PluginManager, store: Store
) -> None:
    manager.add(RaisesInReady)
    manager.add(Counter)
    manager.start()
    assert manager.record("raises").state == PluginState.FAILED
    assert "misconfigured" in manager.record("raises").error
    assert manager.record("counter").enabled
    # Its half-made connection was undone: registering does not reach it.
    store.register_user("bob", "bob@example.com", "long-password")


def test_disabling_disconnects_and_enabling_reconnects(
    manager: PluginManager, store: Store
) -> None:
    record = manager.add(Counter)
    manager.start()
    plugin = record.plugin
    assert order_created.has_listeners()
    from storeapp.listeners import core

    core.ready()
    try:
        user = store.register_user("carol", "carol@example.com", "long-password")
        product = store.list_products()[0]

        def place() -> None:
            cart = store.create_cart()
            store.add_to_cart(cart.id, product.id, 1)
            store.place_order(cart.id, user.id)

        place()
        assert plugin.orders == 1
        manager.disable("counter")
        assert not any(
            info.dispatch_uid and str(info.dispatch_uid).startswith("counter:")
            for info in order_created.receivers_info()
        )
        place()
        assert plugin.orders == 1
        manager.enable("counter")
        place()
        assert plugin.orders == 2
    finally:
        core.shutdown()


def test_ready_twice_does_not_double_the_receivers(manager: PluginManager) -> None:
    record = manager.add(Counter)
    record.plugin.ready()
    record.plugin.ready()
    uids = [
        i.dispatch_uid
        for i in order_created.receivers_info()
        if str(i.dispatch_uid).startswith("counter:")
    ]
    assert len(uids) == 1
    record.plugin.shutdown()


def test_a_required_plugin_cannot_be_disabled(manager: PluginManager) -> None:
    manager.add(Required)
    manager.start([])
    assert manager.record("required").enabled
    with pytest.raises(ValueError, match="required"):
        manager.disable("required")
    assert manager.record("required").enabled


def test_plugins_load_in_a_defined_order(manager: PluginManager) -> None:
    manager.add(Counter)
    manager.add(Required)
    manager.add(RaisesInReady)
    assert [r.name for r in manager.records()] == ["required", "counter", "raises"]


def test_state_changes_are_announced_with_a_signal(manager: PluginManager) -> None:
    seen = []

    def on_change(sender, record, **kwargs):
        seen.append((record.name, record.state))

    manager.add(Counter)
    with plugin_state_changed.connected_to(on_change):
        manager.enable("counter")
        manager.disable("counter")
    assert seen == [("counter", "enabled"), ("counter", "disabled")]


def test_the_projects_own_plugins_are_declared_as_entry_points() -> None:
    from importlib.metadata import entry_points

    names = {ep.name for ep in entry_points(group="storeapp.listeners")}
    assert {"core", "email_log", "inventory", "analytics"} <= names


def test_core_plugin_is_required_and_gives_new_users_a_customer(
    store: Store, tmp_path: Path
) -> None:
    manager = PluginManager(HeadlessHost(store, tmp_path))
    manager.discover()
    manager.start([])
    try:
        core = manager.record("core")
        assert core.enabled and core.required
        user = store.register_user("dave", "dave@example.com", "long-password")
        assert store.get_customer(user.id).user_id == user.id
        from storeapp.domain.models import User

        assert post_save.has_listeners(User)
    finally:
        manager.shutdown_all()


@pytest.mark.parametrize(
    "exit_call", ["import sys; sys.exit(3)", "raise SystemExit('bye')", "raise KeyboardInterrupt"]
)
def test_a_plugin_that_exits_at_import_is_failed_and_the_app_goes_on(
    manager: PluginManager, plugin_path: Path, exit_call: str
) -> None:
    make_distribution(
        plugin_path, "throwaway_greeter", GOOD_PLUGIN, "greeter = throwaway_greeter:Greeter"
    )
    make_distribution(
        plugin_path, "throwaway_quitter", exit_call + "\n", "quitter = throwaway_quitter:Quitter"
    )

    manager.discover()
    manager.start()

    assert manager.record("quitter").state == PluginState.FAILED
    assert manager.record("greeter").state == PluginState.ENABLED


class ExitsInReady(ListenerPlugin):
    name = "exits"
    title = "Exits"

    def ready(self) -> None:
        raise SystemExit(1)


def test_a_plugin_calling_sys_exit_in_ready_is_failed_and_the_others_start(
    manager: PluginManager,
) -> None:
    manager.add(ExitsInReady)
    manager.add(Counter)

    manager.start()

    assert manager.record("exits").state == PluginState.FAILED
    assert "SystemExit" in (manager.record("exits").error or "")
    assert manager.record("counter").enabled
