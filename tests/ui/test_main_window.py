"""pytest-qt drives the real window's frame: menus, plugin docks, the Plugins
dialog, closing."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDockWidget, QMenu, QTableView

from storeapp.domain.models import Order
from storeapp.domain.signals import order_created
from storeapp.listeners.api import ENTRY_POINT_GROUP
from tests.ui.conftest import (
    PASSWORD,
    add_to_cart,
    chart_matches_db,
    click,
    emails,
    find,
    inventory_matches_db,
    register,
)


def test_the_window_has_every_named_widget_and_dock(window: Any) -> None:
    for name in (
        "registerUsername",
        "registerEmail",
        "registerPassword",
        "registerButton",
        "productSearch",
        "addToCartButton",
        "checkoutButton",
        "cancelOrderButton",
    ):
        assert window.findChild(object, name) is not None, name
    for name in ("productTable", "cartTable", "orderTable"):
        find(window, QTableView, name)
    find(window, QComboBox, "customerPicker")
    find(window, QMenu, "pluginsMenu")
    for name in ("emailLogDock", "inventoryDock", "analyticsDock"):
        assert find(window, QDockWidget, name).isVisible(), name


def test_with_the_email_plugin_disabled_no_email_goes_everything_else_updates_and_it_is_owed(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: [e.state for e in emails(window)] == ["sent"])
    action = window.plugin_actions["email_log"]
    action.trigger()  # uncheck: disable
    assert not window.manager.record("email_log").enabled
    assert not find(window, QDockWidget, "emailLogDock").isVisible()

    add_to_cart(qtbot, window, "TEA-GRN", 3)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    assert window.order_model.rowCount() == 1
    window.durable.run_once()  # a delivery pass now: nothing listens for the email log
    # No confirmation is sent; the panel may list it as queued (it is owed).
    assert [(e.kind, e.state) for e in emails(window) if e.state != "queued"] == [
        ("welcome", "sent")
    ]

    action.trigger()  # re-enable: the confirmation it owes is sent, then the new one
    assert window.manager.record("email_log").enabled
    assert find(window, QDockWidget, "emailLogDock").isVisible()
    add_to_cart(qtbot, window, "TEA-GRN", 1)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: [e.state for e in emails(window)] == ["sent"] * 3)
    orders = sorted(o.id for o in window.store.list_orders())
    assert [e.subject for e in emails(window)][1:] == [f"Your storeapp order #{n}" for n in orders]


def test_the_core_plugin_cannot_be_switched_off_from_the_menu(window: Any) -> None:
    action = window.plugin_actions["core"]
    assert action.isChecked() and not action.isEnabled()
    window.set_plugin_enabled("core", False)
    assert window.manager.record("core").enabled


def test_the_plugin_choice_survives_a_restart_and_plugins_overrides_it(
    qtbot: Any, make_window: Any, tmp_path: Path
) -> None:
    first = make_window()
    first.plugin_actions["analytics"].trigger()
    assert not first.manager.record("analytics").enabled
    first.close()
    second = make_window()
    assert not second.manager.record("analytics").enabled
    assert second.manager.record("inventory").enabled
    second.close()
    third = make_window(plugins=["analytics"])
    assert [r.name for r in third.manager.records() if r.enabled] == ["core", "analytics"]


def test_no_plugins_keeps_only_core_and_the_pos_still_works(qtbot: Any, make_window: Any) -> None:
    window = make_window(plugins=[])
    assert window.manager.enabled_names() == ["core"]
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "COF-250", 1)
    click(qtbot, window, "checkoutButton")
    assert window.order_model.rowCount() == 1


def test_a_broken_plugin_is_shown_as_failed_and_the_app_works(
    qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.integration.listeners.test_manager import make_distribution

    site = tmp_path / "site"
    site.mkdir()
    make_distribution(
        site,
        "throwaway_bad_ready",
        """
        from storeapp.listeners.api import ListenerPlugin

        class Bad(ListenerPlugin):
            name = "bad_ready"
            title = "Bad ready"
            def ready(self):
                raise RuntimeError("cannot reach the printer")
    """,
        "bad_ready = throwaway_bad_ready:Bad",
    )
    make_distribution(
        site,
        "throwaway_bad_panel",
        """
        from storeapp.listeners.api import ListenerPlugin

        class BadPanel(ListenerPlugin):
            name = "bad_panel"
            title = "Bad panel"
            def create_panel(self):
                raise ValueError("no widget for you")
    """,
        "bad_panel = throwaway_bad_panel:BadPanel",
    )
    (site / "throwaway_bad_import.py").write_text("import does_not_exist\n")
    info = site / "throwaway_bad_import-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: throwaway_bad_import\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(
        "[storeapp.listeners]\nbad_import = throwaway_bad_import:Plugin\n"
    )
    # Re-declare the first two in the real group too.
    for name, entry in (
        ("throwaway_bad_ready", "bad_ready = throwaway_bad_ready:Bad"),
        ("throwaway_bad_panel", "bad_panel = throwaway_bad_panel:BadPanel"),
    ):
        (site / f"{name}-0.1.dist-info" / "entry_points.txt").write_text(
            f"[storeapp.listeners]\n{entry}\n"
        )
    monkeypatch.syspath_prepend(str(site))

    window = make_window()
    for name, reason in (
        ("bad_ready", "cannot reach the printer"),
        ("bad_panel", "no widget for you"),
        ("bad_import", "does_not_exist"),
    ):
        record = window.manager.record(name)
        assert record.state == "failed", name
        assert reason in record.error
        assert not window.plugin_actions[name].isEnabled()
    dialog = window.open_plugins_dialog()
    states = [dialog.model.index(r, 1).data() for r in range(dialog.model.rowCount())]
    assert any("failed" in s and "cannot reach the printer" in s for s in states)
    # And the app works: register, order, panels update.
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "COF-250", 1)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: inventory_matches_db(window) and len(emails(window)) == 2)


def test_the_plugins_dialog_toggles_a_plugin(qtbot: Any, window: Any) -> None:
    dialog = window.open_plugins_dialog()
    rows = {dialog.model.record_at(r).name: r for r in range(dialog.model.rowCount())}
    dialog.toggle_row(rows["inventory"])
    assert not window.manager.record("inventory").enabled
    assert not window.plugin_actions["inventory"].isChecked()
    assert "disabled" in dialog.model.index(rows["inventory"], 1).data()
    dialog.toggle_row(rows["inventory"])
    assert window.manager.record("inventory").enabled


def test_closing_the_window_while_a_worker_still_orders_does_not_crash(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    store = window.store
    users = store.list_customers()
    product = store.list_products()[0]
    started = threading.Event()
    done = threading.Event()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _i in range(10):
                cart = store.create_cart()
                store.add_to_cart(cart.id, product.id, 1)
                store.place_order(cart.id, users[0].user_id)
                started.set()
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=work)
    thread.start()
    qtbot.waitUntil(started.is_set)
    window.close()
    qtbot.waitUntil(done.is_set, timeout=20000)
    thread.join()
    assert errors == []
    assert not order_created.has_listeners(Order) or all(
        not str(i.dispatch_uid).startswith(("email_log:", "inventory:", "analytics:", "ui."))
        for i in order_created.receivers_info()
    )


def install_plugin(site: Path, module: str, source: str, entry: str) -> None:
    """A throw-away installed distribution declaring ``entry`` in the app's group."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry}\n")


def test_docks_go_where_their_plugins_declare(
    qtbot: Any, make_window: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Two panels the window has never heard of, declared for the left side.
    # They load in name order (almanac first) but zodiac takes slot 0.
    site = tmp_path / "site"
    site.mkdir()
    for module, name, slot, extra in (
        ("throwaway_almanac", "almanac", 1, "share=75"),
        ("throwaway_zodiac", "zodiac", 0, "share=25, size=260"),
    ):
        install_plugin(
            site,
            module,
            f"""
            from PySide6.QtWidgets import QLabel
            from storeapp.listeners.api import DockPlacement, ListenerPlugin

            class Panel(ListenerPlugin):
                name = "{name}"
                title = "{name.title()}"
                panel_object_name = "{name}Dock"
                dock = DockPlacement("left", slot={slot}, {extra})
                def create_panel(self):
                    return QLabel("{name}")
            """,
            f"{name} = {module}:Panel",
        )
    monkeypatch.syspath_prepend(str(site))
    window = make_window(["almanac", "zodiac"])
    qtbot.waitExposed(window)
    qtbot.wait(50)
    almanac, zodiac = (
        find(window, QDockWidget, "almanacDock"),
        find(window, QDockWidget, "zodiacDock"),
    )
    left = Qt.DockWidgetArea.LeftDockWidgetArea
    assert window.dockWidgetArea(zodiac) == window.dockWidgetArea(almanac) == left
    assert zodiac.geometry().bottom() < almanac.geometry().top()  # slot 0 above slot 1
    assert abs(zodiac.width() - 260) <= 5
    assert abs(zodiac.height() / (zodiac.height() + almanac.height()) - 0.25) < 0.03


def test_the_apps_own_panels_keep_their_arrangement(qtbot: Any, window: Any) -> None:
    # From their declarations: email log and inspector side by side at the
    # bottom (45:55), inventory above analytics on the right (440 wide). On
    # a first start the Lessons dock is a tab over analytics: bring it back.
    qtbot.waitExposed(window)
    find(window, QDockWidget, "analyticsDock").raise_()
    qtbot.wait(50)
    dock = {
        name: find(window, QDockWidget, name)
        for name in ("emailLogDock", "signalInspectorDock", "inventoryDock", "analyticsDock")
    }
    area = {name: window.dockWidgetArea(d) for name, d in dock.items()}
    bottom, right = Qt.DockWidgetArea.BottomDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
    assert area["emailLogDock"] == area["signalInspectorDock"] == bottom
    assert area["inventoryDock"] == area["analyticsDock"] == right
    email, inspector = dock["emailLogDock"].geometry(), dock["signalInspectorDock"].geometry()
    assert email.y() == inspector.y() and email.right() < inspector.left()
    assert abs(email.width() / (email.width() + inspector.width()) - 0.45) < 0.03
    inventory, analytics = dock["inventoryDock"].geometry(), dock["analyticsDock"].geometry()
    assert inventory.x() == analytics.x() and inventory.bottom() < analytics.top()
    assert abs(inventory.width() - 440) <= 5


def test_the_terminal_is_in_the_title_the_status_bar_and_on_each_order(
    qtbot: Any, make_window: Any
) -> None:
    from PySide6.QtWidgets import QLabel

    window = make_window(plugins=[], terminal="till-2")
    assert window.windowTitle().endswith("— till-2")
    assert find(window, QLabel, "terminalLabel").text() == "Terminal: till-2"
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "COF-250", 1)
    click(qtbot, window, "checkoutButton")
    assert [o.terminal for o in window.store.list_orders()] == ["till-2"]
