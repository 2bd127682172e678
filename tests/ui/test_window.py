"""pytest-qt drives the real window: what a cashier does, and what they see."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QComboBox, QDockWidget, QLabel, QMenu, QTableView

from storeapp.domain.demo import DEMO_PASSWORD
from storeapp.domain.models import Order, User
from storeapp.domain.signals import order_created
from tests.ui.conftest import (
    ThreadWitness,
    add_to_cart,
    click,
    find,
    order_from_worker_thread,
    register,
)

PASSWORD = "correct-horse-9"


def plugin(window: Any, name: str) -> Any:
    return window.manager.record(name).plugin


def emails(window: Any) -> list[Any]:
    return list(plugin(window, "email_log").records)


def inventory_matches_db(window: Any) -> bool:
    levels = window.store.stock_levels()
    by_sku = {p.sku: levels[p.id] for p in window.store.list_products()}
    return plugin(window, "inventory").model.stock_by_sku() == by_sku


def chart_matches_db(window: Any) -> bool:
    summary = window.store.sales_summary()
    orders, revenue, average = plugin(window, "analytics").totals()
    return (orders, revenue, average) == (summary.orders, summary.revenue, summary.average)


def row_counts(window: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from storeapp.domain.models import Base

    with window.store.engine.connect() as conn:
        counts = {
            t.name: conn.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }
    counts["stock"] = sum(window.store.stock_levels().values())
    return counts


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


def test_registering_through_the_form_adds_the_customer_and_a_welcome_email(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    picker = find(window, QComboBox, "customerPicker")
    assert "ada" in picker.currentText()
    qtbot.waitUntil(lambda: any("ada@example.com" in m.to for m in emails(window)))
    welcome = [m for m in emails(window) if "ada@example.com" in m.to][0]
    assert "welcome" in welcome.subject.lower()
    assert find(window, QLineEdit_cls(), "registerUsername").text() == ""


def QLineEdit_cls() -> type:
    from PySide6.QtWidgets import QLineEdit

    return QLineEdit


def test_checkout_updates_history_inventory_email_and_chart(qtbot: Any, window: Any) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: len(emails(window)) == 1)
    stock_before = plugin(window, "inventory").model.stock_by_sku()["COF-250"]
    add_to_cart(qtbot, window, "COF-250", 2)
    add_to_cart(qtbot, window, "MUG-STD", 1)
    assert window.cart_model.rowCount() == 2
    assert find(window, QLabel, "cartTotal").text() == "Total: 25.30"
    click(qtbot, window, "checkoutButton")

    orders = window.store.list_orders()
    assert len(orders) == 1 and orders[0].total == Decimal("25.30")
    assert window.order_model.rowCount() == 1
    assert window.order_model.index(0, 0).data() == f"#{orders[0].id}"
    assert window.cart_model.rowCount() == 0
    qtbot.waitUntil(
        lambda: plugin(window, "inventory").model.stock_by_sku()["COF-250"] == stock_before - 2
    )
    qtbot.waitUntil(lambda: len(emails(window)) == 2)
    assert f"#{orders[0].id}" in emails(window)[-1].subject
    qtbot.waitUntil(lambda: plugin(window, "analytics").totals()[0] == 1)
    assert chart_matches_db(window)
    assert find(window, QLabel, "totalOrders").text().endswith("1")


def test_with_the_email_plugin_disabled_no_email_but_everything_else_updates(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: len(emails(window)) == 1)
    action = window.plugin_actions["email_log"]
    action.trigger()  # uncheck: disable
    assert not window.manager.record("email_log").enabled
    assert not find(window, QDockWidget, "emailLogDock").isVisible()

    add_to_cart(qtbot, window, "TEA-GRN", 3)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    assert window.order_model.rowCount() == 1
    assert len(emails(window)) == 1  # no confirmation

    action.trigger()  # re-enable
    assert window.manager.record("email_log").enabled
    assert find(window, QDockWidget, "emailLogDock").isVisible()
    add_to_cart(qtbot, window, "TEA-GRN", 1)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: len(emails(window)) == 2)


def test_the_core_plugin_cannot_be_switched_off_from_the_menu(window: Any) -> None:
    action = window.plugin_actions["core"]
    assert action.isChecked() and not action.isEnabled()
    window.set_plugin_enabled("core", False)
    assert window.manager.record("core").enabled


def test_a_bad_registration_shows_a_message_and_writes_nothing(qtbot: Any, window: Any) -> None:
    before = row_counts(window)
    register(qtbot, window, "ada", "not-an-email", PASSWORD)
    error = find(window, QLabel, "registerEmailError")
    assert error.isVisible() and "valid email" in error.text()
    assert row_counts(window) == before
    # The form keeps what was typed: nothing lost.
    assert find(window, QLineEdit_cls(), "registerUsername").text() == "ada"

    register(qtbot, window, "ada", "ada@example.com", "123")
    assert "too short" in find(window, QLabel, "registerPasswordError").text()
    assert row_counts(window) == before


def test_an_out_of_stock_checkout_is_a_message_and_the_cart_is_kept(
    qtbot: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "MUG-STD", 8)  # all of them
    mug = next(p for p in window.store.list_products() if p.sku == "MUG-STD")
    window.store.update_product(mug.id, inventory=3)  # sold elsewhere meanwhile
    before = row_counts(window)
    click(qtbot, window, "checkoutButton")
    message = find(window, QLabel, "cashierMessage").text()
    assert "Only 3" in message and "Stoneware mug" in message
    assert "Traceback" not in message
    assert row_counts(window) == before
    assert window.cart_model.rowCount() == 1  # nothing lost


def test_checkout_without_a_customer_or_items_explains_itself(qtbot: Any, window: Any) -> None:
    click(qtbot, window, "addToCartButton")
    assert "Select a product" in find(window, QLabel, "cashierMessage").text()
    window.checkout()
    assert "customer" in find(window, QLabel, "cashierMessage").text().lower()


def test_cancelling_an_order_returns_stock_everywhere(qtbot: Any, window: Any) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "JAM-STR", 4)
    click(qtbot, window, "checkoutButton")
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    find(window, QTableView, "orderTable").selectRow(0)
    click(qtbot, window, "cancelOrderButton")
    assert window.store.list_orders()[0].status == "cancelled"
    assert window.order_model.index(0, 5).data() == "cancelled"
    qtbot.waitUntil(lambda: plugin(window, "inventory").model.stock_by_sku()["JAM-STR"] == 14)
    qtbot.waitUntil(lambda: plugin(window, "analytics").totals()[0] == 0)


def test_orders_from_a_worker_thread_update_every_panel_on_the_gui_thread(
    qtbot: Any, make_window: Any
) -> None:
    window = make_window(demo=True)
    witness = ThreadWitness(window)
    order_from_worker_thread(qtbot, window, 30)
    users = window.store.list_customers()
    qtbot.waitUntil(lambda: window.order_model.rowCount() == 30, timeout=10000)
    qtbot.waitUntil(lambda: inventory_matches_db(window) and chart_matches_db(window))
    welcome = len(users)
    qtbot.waitUntil(lambda: len(emails(window)) == welcome + 30, timeout=10000)
    assert witness.events > 0
    assert witness.foreign == []


def test_the_window_models_pass_the_model_tester(
    qtbot: Any, qtmodeltester: Any, window: Any
) -> None:
    register(qtbot, window, "ada", "ada@example.com", PASSWORD)
    add_to_cart(qtbot, window, "COF-250", 1)
    for model in (window.product_model, window.cart_model, window.customer_model):
        qtmodeltester.check(model)
    click(qtbot, window, "checkoutButton")
    qtmodeltester.check(window.order_model)
    qtmodeltester.check(window.open_plugins_dialog().model)


def test_searching_filters_the_catalogue(qtbot: Any, window: Any) -> None:
    qtbot.keyClicks(find(window, QLineEdit_cls(), "productSearch"), "tea")
    table = find(window, QTableView, "productTable")
    assert table.model().rowCount() == 1
    assert table.model().index(0, 1).data() == "Green tea, 20 bags"


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
    from tests.integration.test_plugins import make_distribution

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


def test_demo_flag_pre_registers_customers_ready_to_check_out(qtbot: Any, make_window: Any) -> None:
    window = make_window(demo=True)
    assert window.customer_model.rowCount() == 3
    assert window.current_user_id() is not None
    assert window.store.authenticate("ada", DEMO_PASSWORD) is not None
    add_to_cart(qtbot, window, "BAG-SES", 2)
    click(qtbot, window, "checkoutButton")
    assert window.order_model.rowCount() == 1
    _ = User  # the demo users are real users
