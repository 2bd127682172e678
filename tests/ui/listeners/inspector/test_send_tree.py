"""The timeline in causal order: a send made inside another one follows it,
indented, and names where it was sent from; expanding a send shows its
details; the view follows the newest sends unless the user scrolled away."""

from __future__ import annotations

import sys
import threading
from typing import Any

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QAbstractSlider, QPlainTextEdit

from storeapp.domain.dispatch import Signal
from storeapp.domain.dispatch.callsite import relative_path
from storeapp.domain.signals import order_created
from tests.ui.conftest import find
from tests.ui.listeners.inspector.helpers import (
    MARKER,
    big_dock,
    customer,
    inspector,
    marker,
    markers,
    place_order,
    send_marker_and_wait,
    sends,
    timeline,
)

user_saved = Signal("A test's outer signal.", name="test_user_saved")
customer_saved = Signal("A test's inner signal.", name="test_customer_saved")


def create_customer(sender: Any, **kwargs: Any) -> None:
    customer_saved.send("Customer", created=True)


class Registration:
    def register(self) -> int:
        user_saved.send("User", created=True)
        return sys._getframe().f_lineno - 1


def test_a_send_made_by_a_receiver_shows_indented_under_its_parent_with_its_origin(
    qtbot: Any, window: Any
) -> None:
    model = timeline(window)
    with user_saved.connected_to(create_customer):
        line = Registration().register()
    send_marker_and_wait(qtbot, window)

    rows = [s for s in sends(model) if s["signal"] in ("test_user_saved", "test_customer_saved")]
    outer, inner = rows
    assert inner["row"] == outer["row"] + 1  # the parent first, its child right under it
    assert (outer["depth"], inner["depth"]) == (0, 1)
    assert model.index(inner["row"], 1).data() == "↳ test_customer_saved"
    here = relative_path(__file__)
    assert outer["origin"] == f"Registration.register ({here}:{line}) via send"
    assert inner["origin"].startswith(f"create_customer ({here}:")

    panel = inspector(window).panel
    assert panel is not None
    panel.show_details(model.index(outer["row"], 0))
    text = find(window, QPlainTextEdit, "inspectorTraceback").toPlainText()
    assert f"sent from: Registration.register ({here}:{line}) via send" in text
    assert "sends made inside it:" in text and "test_customer_saved from 'Customer'" in text
    panel.show_details(model.index(inner["row"], 0))
    text = find(window, QPlainTextEdit, "inspectorTraceback").toPlainText()
    seq = model.record_at(model.index(outer["row"], 0)).seq
    assert f"inside: send #{seq}, by its receiver" in text and "create_customer" in text


def test_receiver_failed_is_listed_under_the_order_created_that_caused_it(
    qtbot: Any, window: Any
) -> None:
    def out_of_paper(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("out of paper")

    customer(qtbot, window)
    with order_created.connected_to(out_of_paper):
        place_order(qtbot, window)
    model = timeline(window)
    qtbot.waitUntil(lambda: len(sends(model, "receiver_failed")) == 1)
    (order,) = sends(model, "order_created")
    (failure,) = sends(model, "receiver_failed")
    assert failure["row"] == order["row"] + 1 and failure["depth"] == 1
    assert "place_order" in order["origin"] and order["origin"].endswith("via send_robust")


def arrow_of(view: Any, index: Any) -> QPoint:
    """Where the expand arrow of a top-level ``index`` is drawn."""
    rect = view.visualRect(index)
    return QPoint(rect.left() - view.indentation() // 2, rect.center().y())


def test_expanding_a_send_shows_that_sends_details(qtbot: Any, window: Any) -> None:
    model = timeline(window)
    for n in range(5):
        marker.send_robust("test", n=n)
    with marker.connected_to(lambda **kwargs: None):
        marker.send_robust("test", n=99)  # a send with a receiver: it has an arrow
    qtbot.waitUntil(lambda: any(s["kwargs"] == "n=99" for s in sends(model, MARKER)))
    view = big_dock(qtbot, window)
    (target,) = [s for s in sends(model, MARKER) if s["kwargs"] == "n=99"]
    # sends() loaded every row's children: start from a fresh view of them
    inspector(window).apply_filters()
    qtbot.waitUntil(lambda: model.rowCount() > target["row"])
    index = model.index(target["row"], 0)
    assert model.rowCount(index) == 1  # the placeholder gives it an arrow
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=arrow_of(view, index))
    qtbot.waitUntil(lambda: view.isExpanded(index))
    pane = find(window, QPlainTextEdit, "inspectorTraceback")
    seq = model.record_at(index).seq
    qtbot.waitUntil(lambda: f"(#{seq})" in pane.toPlainText())
    assert "n=99" in pane.toPlainText()
    assert view.currentIndex().row() == target["row"]


def newest_is_visible(view: Any, model: Any) -> bool:
    rect = view.visualRect(model.index(model.rowCount() - 1, 0))
    return rect.isValid() and 0 <= rect.top() and rect.bottom() <= view.viewport().height()


def test_the_view_follows_the_newest_sends_unless_scrolled_away(qtbot: Any, window: Any) -> None:
    model = timeline(window)
    view = big_dock(qtbot, window)
    bar = view.verticalScrollBar()
    with marker.connected_to(lambda **kwargs: None):
        for n in range(300):
            marker.send_robust("test", n=n)
    send_marker_and_wait(qtbot, window, 300)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())

    # Opening a send near the end grows the view: it still follows.
    view.expand(model.index(model.rowCount() - 3, 0))
    send_marker_and_wait(qtbot, window, 301)
    qtbot.waitUntil(lambda: newest_is_visible(view, model))

    inspector(window).set_view_rows(200)  # full: each catch-up drops the oldest rows too
    # Mid-rush, once each catch-up's rows are in, the newest row is in sight.
    # Looked at from a zero timer queued after the panel's own, so the check
    # runs when the event loop has handled that catch-up (sampling on a clock
    # instead raced the catch-ups: on a loaded machine it saw three samples).
    seen: list[bool] = []

    def look(*_args: Any) -> None:
        QTimer.singleShot(0, view, lambda: seen.append(newest_is_visible(view, model)))

    model.rowsInserted.connect(look)
    rush = threading.Thread(target=lambda: [marker.send_robust("rush", n=n) for n in range(3000)])
    rush.start()
    qtbot.waitUntil(lambda: not rush.is_alive(), timeout=30_000)
    rush.join()
    send_marker_and_wait(qtbot, window, 2999)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())
    model.rowsInserted.disconnect(look)
    assert newest_is_visible(view, model)
    assert len(seen) >= 2 and all(seen), seen  # several catch-ups, each in sight

    for _ in range(5):  # the user scrolls up to read something
        bar.triggerAction(QAbstractSlider.SliderAction.SliderPageStepSub)
    for n in range(601, 620):  # the oldest rows leave meanwhile
        marker.send_robust("test", n=n)
    send_marker_and_wait(qtbot, window, 620)
    qtbot.wait(50)  # a few more catch-ups and layouts: none may jump to the end
    assert not newest_is_visible(view, model)
    assert bar.value() < bar.maximum() - 50

    bar.triggerAction(QAbstractSlider.SliderAction.SliderToMaximum)  # following again
    send_marker_and_wait(qtbot, window, 621)
    qtbot.waitUntil(lambda: newest_is_visible(view, model))


def test_a_catch_up_scrolls_to_the_newest_send_once_however_many_batches_it_adds(
    qtbot: Any, window: Any
) -> None:
    view = big_dock(qtbot, window)
    plugin = inspector(window)
    plugin.set_view_rows(100)  # full: each batch removes the oldest rows too
    send_marker_and_wait(qtbot, window, 1)
    scrolls: list[int] = []
    view.scrollToBottom = lambda: scrolls.append(1)  # type: ignore[method-assign]
    plugin.set_paused(True)
    for n in range(300):
        marker.send_robust("test", n=n)
    plugin.flush()  # recorded, not shown
    plugin.catch_up.paused = False
    batches = plugin.view_updates
    plugin.catch_up.sync(budget=5.0)  # one catch-up, in batches of VIEW_BATCH
    assert plugin.view_updates == batches + 1 and "n=299" in markers(timeline(window))
    qtbot.waitUntil(lambda: bool(scrolls))
    barrier: list[bool] = []  # a zero timer queued after every scroll the catch-up queued
    QTimer.singleShot(0, view, lambda: barrier.append(True))
    qtbot.waitUntil(lambda: bool(barrier))
    assert scrolls == [1]
