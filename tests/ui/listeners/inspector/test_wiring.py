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


def audit_rows(window: Any) -> list[dict[str, Any]]:
    return [r for r in wiring(window)["post_save"]["receivers"] if r["uid"] == "test.audit"]


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
