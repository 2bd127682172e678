"""The wiring view: every signal with its receivers, following plugins and
connections as they change."""

from __future__ import annotations

from typing import Any

from storeapp.domain.models import Product
from storeapp.domain.signals import post_save
from tests.ui.conftest import click
from tests.ui.listeners.inspector.helpers import receiver_names, wiring, wiring_caught_up


def audit(sender: Any, **kwargs: Any) -> None:
    """A receiver connected by the tests, outside any plugin."""


AUDIT_LINE = audit.__code__.co_firstlineno


def audit_rows(window: Any) -> list[dict[str, Any]]:
    rows = [r for r in wiring(window)["post_save"]["receivers"] if r["uid"] == "test.audit"]
    for row in rows:
        assert row.pop("defined") == f"tests/ui/listeners/inspector/test_wiring.py:{AUDIT_LINE}"
    return rows


def test_the_wiring_view_lists_every_signal_with_its_receivers(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    view = wiring(window)
    assert list(view) == [
        "pre_save",
        "post_save",
        "pre_delete",
        "post_delete",
        "user_registered",
        "order_created",
        "order_cancelled",
        "plugin_state_changed",
        "receiver_failed",
    ]

    welcome = [r for r in view["user_registered"]["receivers"] if r["plugin"] == "email_log"]
    assert welcome[0].pop("defined").startswith("storeapp/listeners/email_log/plugin.py:")
    assert welcome == [
        {
            "name": "storeapp.listeners.email_log.plugin.EmailLogPlugin._on_user_registered",
            "plugin": "email_log",
            "sender": "any",
            "ref": "strong",
            "when": "on commit",
            "uid": (
                "email_log:storeapp.listeners.email_log.plugin.EmailLogPlugin._on_user_registered:None"
            ),
        }
    ]
    by_name = {r["name"]: r for r in view["order_created"]["receivers"]}
    assert (
        by_name["storeapp.listeners.email_log.plugin.EmailLogPlugin._on_order_created"]["when"]
        == "on commit"
    )
    core = by_name["storeapp.listeners.core.on_order_created"]
    assert (core["plugin"], core["when"], core["uid"]) == (
        "core",
        "immediate",
        "core.on_order_created",
    )
    assert (
        by_name["storeapp.listeners.analytics.plugin.AnalyticsPlugin._on_order_created"]["sender"]
        == "Order"
    )
    ui = by_name["storeapp.ui.till.till.Till._on_orders_changed"]
    assert (ui["plugin"], ui["ref"], ui["uid"]) == ("window", "weak", "ui.orders")
    # The panels follow the other tills' orders too; core's stock work does not.
    assert ui["when"] == "on commit + other tills"
    assert (
        by_name["storeapp.listeners.analytics.plugin.AnalyticsPlugin._on_order_created"]["when"]
        == "on commit + other tills"
    )

    customer_for_user = [
        r
        for r in view["post_save"]["receivers"]
        if r["name"] == "storeapp.listeners.core.create_customer_for_new_user"
    ]
    assert customer_for_user and customer_for_user[0]["sender"] == "User"
    assert customer_for_user[0]["plugin"] == "core"
    assert {"inspector", "window"} <= {
        r["plugin"] for r in view["plugin_state_changed"]["receivers"]
    }
    assert "plugin manager" in {r["plugin"] for r in view["receiver_failed"]["receivers"]}

    # Nobody listens to pre_save: flagged, in grey.
    assert view["pre_save"] == {
        **view["pre_save"],
        "flag": "no receivers",
        "empty": True,
        "receivers": [],
    }
    assert view["pre_save"]["foreground"] is not None
    assert view["order_created"]["flag"] == f"{len(by_name)} receivers"
    assert not view["order_created"]["empty"] and view["order_created"]["foreground"] is None


def test_the_wiring_view_follows_plugins_being_toggled(qtbot: Any, window: Any) -> None:
    email_receiver = "storeapp.listeners.email_log.plugin.EmailLogPlugin._on_order_created"
    qtbot.waitUntil(lambda: email_receiver in receiver_names(window, "order_created"))
    window.set_plugin_enabled("email_log", False)
    qtbot.waitUntil(lambda: email_receiver not in receiver_names(window, "order_created"))
    assert not any(
        r["plugin"] == "email_log" for s in wiring(window).values() for r in s["receivers"]
    )
    window.set_plugin_enabled("email_log", True)
    qtbot.waitUntil(lambda: email_receiver in receiver_names(window, "order_created"))
    assert any(r["plugin"] == "email_log" for r in wiring(window)["user_registered"]["receivers"])


def test_the_refresh_button_shows_what_is_connected_now(qtbot: Any, window: Any) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    post_save.connect(audit, sender=Product, weak=False, dispatch_uid="test.audit")
    try:
        assert audit_rows(window) == []
        click(qtbot, window, "inspectorWiringRefresh")  # no waiting: the button does it now
        assert audit_rows(window) == [
            {
                "name": f"{__name__}.audit",
                "plugin": "",
                "sender": "Product",
                "ref": "strong",
                "when": "immediate",
                "uid": "test.audit",
            }
        ]
    finally:
        post_save.disconnect(sender=Product, dispatch_uid="test.audit")


def test_the_wiring_view_follows_receivers_connected_outside_plugins(
    qtbot: Any, window: Any
) -> None:
    qtbot.waitUntil(lambda: wiring_caught_up(window))
    assert wiring(window)["pre_save"]["empty"]
    post_save.connect(audit, sender=Product, weak=False, dispatch_uid="test.audit")
    try:
        qtbot.waitUntil(lambda: len(audit_rows(window)) == 1)
    finally:
        post_save.disconnect(sender=Product, dispatch_uid="test.audit")
    qtbot.waitUntil(lambda: audit_rows(window) == [])


def test_each_signal_says_built_in_or_custom_and_where_it_is_defined(
    qtbot: Any, window: Any
) -> None:
    import ast
    from pathlib import Path

    import storeapp.domain.signals as module

    qtbot.waitUntil(lambda: wiring_caught_up(window))
    view = wiring(window)
    kinds = {name: row["kind"] for name, row in view.items()}
    assert kinds == {
        "pre_save": "built-in",
        "post_save": "built-in",
        "pre_delete": "built-in",
        "post_delete": "built-in",
        "user_registered": "custom",
        "order_created": "custom",
        "order_cancelled": "custom",
        "plugin_state_changed": "custom",
        "receiver_failed": "custom",
    }
    # The line of each "name = Signal(...)" in signals.py, read here on our own.
    source = Path(module.__file__).read_text(encoding="utf-8")
    lines = {
        node.targets[0].id: node.lineno
        for node in ast.parse(source).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
    }
    for name, row in view.items():
        assert row["defined"] == f"storeapp/domain/signals.py:{lines[name]}", name
    core = [
        r
        for r in view["post_save"]["receivers"]
        if r["name"].endswith("create_customer_for_new_user")
    ]
    assert core[0]["defined"].startswith("storeapp/listeners/core.py:")


def test_selecting_a_receiver_shows_its_source_with_its_file_and_line(
    qtbot: Any, window: Any
) -> None:
    import inspect

    from PySide6.QtWidgets import QPlainTextEdit, QTabWidget, QTreeView

    from storeapp.listeners import core
    from tests.ui.conftest import find

    qtbot.waitUntil(lambda: wiring_caught_up(window))
    find(window, QTabWidget, "inspectorTabs").setCurrentIndex(1)
    view = find(window, QTreeView, "inspectorWiring")
    model = view.model()
    signal_row = next(r for r in range(model.rowCount()) if model.index(r, 0).data() == "post_save")
    parent = model.index(signal_row, 0)
    child = next(
        r
        for r in range(model.rowCount(parent))
        if model.index(r, 0, parent).data().endswith("create_customer_for_new_user")
    )
    view.setCurrentIndex(model.index(child, 0, parent))
    pane = find(window, QPlainTextEdit, "inspectorWiringSource")
    text = pane.toPlainText()
    line = inspect.getsourcelines(core.create_customer_for_new_user)[1]
    assert f"storeapp/listeners/core.py:{line}" in text.splitlines()[0]
    assert inspect.getsource(core.create_customer_for_new_user).strip() in text

    view.setCurrentIndex(parent)  # a signal: its definition
    assert "post_save = Signal(" in pane.toPlainText()
    assert "storeapp/domain/signals.py:" in pane.toPlainText().splitlines()[0]

    pane.clear()
    view.setCurrentIndex(model.index(child, 0, parent))
    pane.clear()
    click(qtbot, window, "inspectorShowSource")
    assert "def create_customer_for_new_user(" in pane.toPlainText()
