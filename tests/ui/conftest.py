"""Fixtures that drive the real window built by storeapp.app.build()."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QObject, Qt, QThread

from storeapp.app import build
from storeapp.ui.main_window import MainWindow


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path):
    """``make_window(plugins=None, data_dir=None)`` -> a shown MainWindow on a
    temporary SQLite file; closed (plugins shut down) after the test."""
    windows: list[MainWindow] = []

    def make(
        plugins: list[str] | None = None, data_dir: Path | None = None, **kwargs: Any
    ) -> MainWindow:
        window = build(
            f"sqlite:///{tmp_path / 'pos.db'}",
            plugins,
            data_dir=data_dir or tmp_path / "data",
            **kwargs,
        )
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


@pytest.fixture
def window(make_window: Any) -> MainWindow:
    return make_window()


def find(window: QObject, cls: type, name: str) -> Any:
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name!r}"
    return widget


def register(qtbot: Any, window: MainWindow, username: str, email: str, password: str) -> None:
    from PySide6.QtWidgets import QLineEdit, QPushButton

    for name, text in (
        ("registerUsername", username),
        ("registerEmail", email),
        ("registerPassword", password),
    ):
        edit = find(window, QLineEdit, name)
        edit.clear()
        qtbot.keyClicks(edit, text)
    qtbot.mouseClick(find(window, QPushButton, "registerButton"), Qt.MouseButton.LeftButton)


def add_to_cart(qtbot: Any, window: MainWindow, sku: str, quantity: int = 1) -> None:
    from PySide6.QtWidgets import QPushButton, QSpinBox, QTableView

    table = find(window, QTableView, "productTable")
    proxy = table.model()
    for row in range(proxy.rowCount()):
        if proxy.index(row, 0).data() == sku:
            table.selectRow(row)
            break
    else:
        raise AssertionError(f"SKU {sku} not in the catalogue")
    find(window, QSpinBox, "quantitySpin").setValue(quantity)
    qtbot.mouseClick(find(window, QPushButton, "addToCartButton"), Qt.MouseButton.LeftButton)


def click(qtbot: Any, window: MainWindow, name: str) -> None:
    from PySide6.QtWidgets import QPushButton

    qtbot.mouseClick(find(window, QPushButton, name), Qt.MouseButton.LeftButton)


class ThreadWitness:
    """Records the thread of every change signal of every item model (and
    chart series) under a window: proof that nothing is updated off the
    GUI thread."""

    SIGNALS = ("dataChanged", "rowsInserted", "rowsRemoved", "modelReset", "layoutChanged")

    def __init__(self, root: QObject) -> None:
        self.gui_thread = QThread.currentThread()
        self.foreign: list[str] = []
        self.events = 0
        self._keep: list[Any] = []
        objects = list(root.findChildren(QAbstractItemModel))
        for obj in objects:
            for name in self.SIGNALS:
                self._watch(obj, name)
        try:
            from PySide6.QtCharts import QXYSeries

            for series in root.findChildren(QXYSeries):
                self._watch(series, "pointsReplaced")
        except ImportError:  # pragma: no cover
            pass

    def _watch(self, obj: QObject, signal_name: str) -> None:
        label = f"{type(obj).__name__}.{signal_name}"

        def seen(*_args: Any) -> None:
            self.events += 1
            if QThread.currentThread() is not self.gui_thread:
                self.foreign.append(label)

        getattr(obj, signal_name).connect(seen, Qt.ConnectionType.DirectConnection)
        self._keep.append(seen)


def order_from_worker_thread(qtbot: Any, window: MainWindow, count: int) -> None:
    """Place ``count`` one-item orders from a worker thread (round robin over
    customers and products) and wait for it; fail on any exception."""
    users = window.store.list_customers()
    products = window.store.list_products()
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(count):
                cart = window.store.create_cart()
                window.store.add_to_cart(cart.id, products[i % len(products)].id, 1)
                window.store.place_order(cart.id, users[i % len(users)].user_id)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=30000)
    assert errors == []


# -- what the cashier sees, against the database (tests of the window) --------

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
