"""What the inspector's window tests share: a marker signal, and the
timeline and wiring views read back as plain data."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QTreeView

from storeapp.domain.dispatch import Signal
from storeapp.listeners.inspector.plugin import InspectorPlugin
from storeapp.listeners.inspector.timeline import TimelineModel
from storeapp.listeners.inspector.wiring import NO_RECEIVERS_ROLE
from tests.ui.conftest import add_to_cart, click, find, register

PASSWORD = "correct-horse-9"
MARKER = "inspector_test_marker"

#: A signal of the test's own: sending it and waiting for its row proves the
#: timeline has caught up with everything sent before it.
marker = Signal("A test's marker.", name=MARKER)


def inspector(window: Any) -> InspectorPlugin:
    return window.manager.record("inspector").plugin


def timeline(window: Any) -> TimelineModel:
    model = find(window, QTreeView, "inspectorTimeline").model()
    assert isinstance(model, TimelineModel)
    return model


def sends(
    model: TimelineModel, signal: str | None = None, deliveries: bool = False
) -> list[dict[str, Any]]:
    """Every top-level row as text, with its children; a durable delivery's
    row (the email log's, origin "event log #N") only with ``deliveries``."""
    out = []
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        model.load_children(parent)  # what expanding the send in the view does
        cells = [model.index(row, c).data() for c in range(model.columnCount())]
        name = cells[TimelineModel.NAME]
        depth = 0
        if TimelineModel.ARROW in name:  # a send made inside the one above
            indent, name = name.split(TimelineModel.ARROW, 1)
            depth = 1 + len(indent) // len(TimelineModel.INDENT)
        if signal is not None and name != signal:
            continue
        if not deliveries and str(cells[TimelineModel.ORIGIN]).startswith("event log #"):
            continue
        children = []
        for child in range(model.rowCount(parent)):
            texts = [model.index(child, c, parent).data() for c in range(model.columnCount())]
            children.append(
                {
                    "receiver": texts[TimelineModel.NAME],
                    "plugin": texts[TimelineModel.SOURCE],
                    "duration": texts[TimelineModel.DURATION],
                    "status": texts[TimelineModel.STATUS],
                    "details": texts[TimelineModel.DETAILS],
                    "row": child,
                }
            )
        out.append(
            {
                "row": row,
                "time": cells[TimelineModel.TIME],
                "signal": name,
                "depth": depth,
                "origin": cells[TimelineModel.ORIGIN],
                "sender": cells[TimelineModel.SOURCE],
                "duration": cells[TimelineModel.DURATION],
                "outcome": cells[TimelineModel.STATUS],
                "kwargs": cells[TimelineModel.DETAILS],
                "children": children,
            }
        )
    return out


def child(send: dict[str, Any], receiver_suffix: str) -> dict[str, Any]:
    found = [c for c in send["children"] if c["receiver"].endswith(receiver_suffix)]
    assert len(found) == 1, (receiver_suffix, send["children"])
    return found[0]


def markers(model: TimelineModel) -> list[str]:
    return [s["kwargs"] for s in sends(model, MARKER)]


def send_marker_and_wait(qtbot: Any, window: Any, n: int = 0) -> None:
    marker.send_robust("test", n=n)
    qtbot.waitUntil(lambda: f"n={n}" in markers(timeline(window)))


def wiring(window: Any) -> dict[str, dict[str, Any]]:
    """The wiring view as {signal: {"flag": text, "empty": bool, "receivers": [...]}}."""
    model = find(window, QTreeView, "inspectorWiring").model()
    out: dict[str, dict[str, Any]] = {}
    for row in range(model.rowCount()):
        parent = model.index(row, 0)
        receivers = []
        for r in range(model.rowCount(parent)):
            name, plugin, sender, ref, when, uid, _kind, defined = (
                model.index(r, c, parent).data() for c in range(model.columnCount())
            )
            receivers.append(
                {
                    "name": name,
                    "plugin": plugin,
                    "sender": sender,
                    "ref": ref,
                    "when": when,
                    "uid": uid,
                    "defined": defined,
                }
            )
        out[parent.data()] = {
            "flag": model.index(row, 1).data(),
            "kind": model.index(row, 6).data(),
            "defined": model.index(row, 7).data(),
            "empty": bool(parent.data(NO_RECEIVERS_ROLE)),
            "foreground": parent.data(Qt.ItemDataRole.ForegroundRole),
            "receivers": receivers,
        }
    return out


def receiver_names(window: Any, signal: str) -> list[str]:
    return [r["name"] for r in wiring(window)[signal]["receivers"]]


def wiring_caught_up(window: Any) -> bool:
    """True once the refresh scheduled at start-up ran (the window's receivers show)."""
    return any(r["plugin"] == "window" for r in wiring(window)["order_created"]["receivers"])


def place_order(qtbot: Any, window: Any, sku: str = "COF-250", quantity: int = 1) -> None:
    add_to_cart(qtbot, window, sku, quantity)
    click(qtbot, window, "checkoutButton")


def customer(qtbot: Any, window: Any, name: str = "ada") -> None:
    register(qtbot, window, name, f"{name}@example.com", PASSWORD)
    assert window.current_user_id() is not None


def settled(send: dict[str, Any]) -> bool:
    return not any(c["status"] == "deferred" for c in send["children"])


def order_settled(model: TimelineModel) -> bool:
    orders = sends(model, "order_created")
    return len(orders) == 1 and settled(orders[0])


def big_dock(qtbot: Any, window: Any) -> QTreeView:
    """Float the inspector's dock at a comfortable size (clicks need room)."""
    dock = find(window, QDockWidget, "signalInspectorDock")
    dock.setFloating(True)
    dock.resize(1300, 800)
    view = find(window, QTreeView, "inspectorTimeline")
    qtbot.waitUntil(lambda: view.isVisible() and view.viewport().height() > 200)
    return view
