"""InventoryPlugin: the panel always equals the database, refreshed after
commits, coalesced, on the GUI thread, never for a rolled-back change."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication

from storeapp.domain.errors import OutOfStock
from storeapp.domain.models import Product
from storeapp.domain.store import Store
from storeapp.listeners.inventory.model import STATUS_ROLE, InventoryModel
from storeapp.listeners.inventory.plugin import InventoryPlugin
from storeapp.listeners.inventory.stock import StockStatus
from storeapp.listeners.manager import PluginManager
from storeapp.ui.bridge import GuiBridge, QtPluginHost
from tests.ui.listeners.inventory.conftest import (
    cell,
    equals_db,
    inventory_receivers,
    place,
    product,
)

# Qt warnings (among them the model tester's complaints) fail the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")


def test_plugin_is_discovered_by_its_entry_point(host: QtPluginHost) -> None:
    manager = PluginManager(host)
    manager.discover()
    record = manager.record("inventory")
    assert record.cls is InventoryPlugin
    assert (record.cls.order, record.cls.panel_object_name) == (30, "inventoryDock")
    assert record.plugin is not None and record.plugin.model is None  # no panel yet


def test_stock_equals_the_database_after_an_order(
    qtbot: Any, model: InventoryModel, store: Store, user_id: int
) -> None:
    coffee, tea = product(store, "COF-250"), product(store, "TEA-GRN")
    repainted: set[int] = set()
    model.dataChanged.connect(
        lambda top, bottom, *_: repainted.update(range(top.row(), bottom.row() + 1))
    )
    place(store, user_id, (coffee.id, 3), (tea.id, 1))
    qtbot.waitUntil(lambda: equals_db(model, store))
    assert model.stock_by_sku()["COF-250"] == 37
    assert model.stock_by_sku()["TEA-GRN"] == 34
    # The view is told about exactly the rows that changed.
    assert repainted == {model.row_of(coffee.id), model.row_of(tea.id)}


def test_cancelling_an_order_puts_the_stock_back(
    qtbot: Any, model: InventoryModel, store: Store, user_id: int
) -> None:
    coffee = product(store, "COF-250")
    order = place(store, user_id, (coffee.id, 5))
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 35)
    store.cancel_order(order.id)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 40)
    assert equals_db(model, store)


def test_added_product_appears_and_deleted_product_disappears(
    qtbot: Any, model: InventoryModel, store: Store
) -> None:
    new = store.add_product("NEW-2", "Brand new", "4.50", 1)
    qtbot.waitUntil(lambda: "NEW-2" in model.stock_by_sku())
    assert cell(model, "NEW-2", Qt.ItemDataRole.DisplayRole, InventoryModel.PRICE) == "4.50"
    assert cell(model, "NEW-2", STATUS_ROLE) == StockStatus.LOW
    store.delete_product(new.id)
    qtbot.waitUntil(lambda: "NEW-2" not in model.stock_by_sku())
    assert equals_db(model, store)


def test_a_rolled_back_change_changes_nothing_and_schedules_no_refresh(
    plugin: InventoryPlugin, model: InventoryModel, store: Store, user_id: int, bridge: GuiBridge
) -> None:
    coffee, mug = product(store, "COF-250"), product(store, "MUG-STD")
    # A cart that asks for all 8 mugs; then one mug is sold elsewhere.
    cart = store.create_cart()
    store.add_to_cart(cart.id, coffee.id, 2)
    store.add_to_cart(cart.id, mug.id, 8)
    place(store, user_id, (mug.id, 1))
    bridge.flush_now()
    before, refreshes = model.stock_by_sku(), plugin.refresh_count
    assert before["MUG-STD"] == 7

    # The coffee line is decremented inside the transaction, then the mugs fail.
    with pytest.raises(OutOfStock):
        store.place_order(cart.id, user_id)
    # A product saved (post_save sent during the flush) and rolled back.
    with store.unit_of_work() as uow:
        uow.session.get(Product, coffee.id).inventory = 1  # type: ignore[union-attr]
        uow.flush()
    bridge.flush_now()
    QApplication.processEvents()

    assert plugin.refresh_count == refreshes
    assert model.stock_by_sku() == before
    assert equals_db(model, store)


def test_concurrent_orders_from_four_threads_converge_on_the_gui_thread(
    qtbot: Any, model: InventoryModel, store: Store, user_id: int, monkeypatch: Any
) -> None:
    app_thread = QApplication.instance().thread()
    on_gui: list[bool] = []
    real_apply = model.apply

    def spy_apply(rows: Any) -> int:
        on_gui.append(QThread.currentThread() is app_thread)
        return real_apply(rows)

    monkeypatch.setattr(model, "apply", spy_apply)
    signal_threads: list[bool] = []
    for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved):
        signal.connect(
            lambda *a: signal_threads.append(QThread.currentThread() is app_thread),
            Qt.ConnectionType.DirectConnection,
        )

    skus = ["COF-250", "TEA-GRN", "WTR-SPK", "CRO-BUT"]
    ids = [product(store, s).id for s in skus]
    errors: list[BaseException] = []
    done: list[int] = []

    def worker(k: int) -> None:
        try:
            for i in range(8):
                place(store, user_id, (ids[(k + i) % 4], 1), (ids[(k + i + 1) % 4], 1))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            done.append(k)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    qtbot.waitUntil(lambda: len(done) == 4 and equals_db(model, store), timeout=30_000)
    for t in threads:
        t.join()
    assert errors == []
    assert sum(model.stock_by_sku()[s] for s in skus) == 40 + 35 + 48 + 30 - 4 * 8 * 2
    assert on_gui and all(on_gui)
    assert signal_threads and all(signal_threads)


def test_disabled_panel_ignores_orders_and_catches_up_when_enabled_again(
    qtbot: Any,
    plugin: InventoryPlugin,
    model: InventoryModel,
    store: Store,
    user_id: int,
    bridge: GuiBridge,
) -> None:
    coffee = product(store, "COF-250")
    assert inventory_receivers() == 4  # order_created, order_cancelled, post_save, post_delete
    plugin.shutdown()
    assert inventory_receivers() == 0
    place(store, user_id, (coffee.id, 4))
    bridge.flush_now()
    QApplication.processEvents()
    assert model.stock_by_sku()["COF-250"] == 40
    assert not equals_db(model, store)

    plugin.ready()
    plugin.ready()  # twice: still one connection each (dispatch_uid)
    assert inventory_receivers() == 4
    qtbot.waitUntil(lambda: equals_db(model, store))
    assert model.stock_by_sku()["COF-250"] == 36
    place(store, user_id, (coffee.id, 1))  # and listens again
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 35)


def test_panel_created_late_shows_what_happened_before_it(
    qtbot: Any, host: QtPluginHost, store: Store, user_id: int
) -> None:
    plugin = InventoryPlugin(host)
    plugin.ready()
    try:
        place(store, user_id, (product(store, "TEA-GRN").id, 5))
        store.add_product("LATE-1", "Late arrival", "2.00", 10)
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        assert plugin.model is not None and equals_db(plugin.model, store)
        assert plugin.model.stock_by_sku()["TEA-GRN"] == 30
    finally:
        plugin.shutdown()


def test_a_burst_of_orders_causes_far_fewer_refreshes_than_events(
    qtbot: Any,
    plugin: InventoryPlugin,
    model: InventoryModel,
    store: Store,
    user_id: int,
) -> None:
    events = 200
    bulk = store.add_product("BULK-1", "Bulk item", Decimal("1.00"), 10_000)
    qtbot.waitUntil(lambda: "BULK-1" in model.stock_by_sku())
    base = plugin.refresh_count

    def worker() -> None:
        for _ in range(events):
            place(store, user_id, (bulk.id, 1))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()  # the GUI thread is busy meanwhile: a burst, whatever the machine's speed
    qtbot.waitUntil(lambda: model.stock_by_sku()["BULK-1"] == 10_000 - events)
    refreshes = plugin.refresh_count - base
    assert 1 <= refreshes < events / 5
    assert refreshes == 1  # every event of the burst landed in one pending refresh
    assert equals_db(model, store)


def test_refreshes_stay_under_20_a_second_while_orders_stream_in(
    qtbot: Any,
    plugin: InventoryPlugin,
    model: InventoryModel,
    store: Store,
    user_id: int,
) -> None:
    events = 100
    bulk = store.add_product("BULK-2", "Bulk item", Decimal("1.00"), 10_000)
    qtbot.waitUntil(lambda: "BULK-2" in model.stock_by_sku())
    base = plugin.refresh_count
    done: list[bool] = []

    def worker() -> None:
        try:
            for _ in range(events):
                place(store, user_id, (bulk.id, 1))
        finally:
            done.append(True)

    started = time.monotonic()
    thread = threading.Thread(target=worker)
    thread.start()  # the GUI thread keeps running its event loop meanwhile
    qtbot.waitUntil(
        lambda: bool(done) and model.stock_by_sku()["BULK-2"] == 10_000 - events,
        timeout=30_000,
    )
    elapsed = time.monotonic() - started
    thread.join()
    refreshes = plugin.refresh_count - base
    # One refresh per 50 ms tick at most (a coarse timer may fire 5 % early),
    # however slow or fast the orders are; one per event would be 100.
    assert 1 <= refreshes <= elapsed / (0.050 * 0.95) + 1
    assert refreshes < events
    assert equals_db(model, store)


def test_a_deleted_panel_never_breaks_an_order(
    host: QtPluginHost, store: Store, user_id: int, bridge: GuiBridge, caplog: Any
) -> None:
    plugin = InventoryPlugin(host)
    plugin.ready()
    try:
        panel = plugin.create_panel()
        shiboken6.delete(panel)  # the window dropped the dock
        order = place(store, user_id, (product(store, "COF-250").id, 1))
        bridge.flush_now()
        assert order.id and plugin.model is None
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
    finally:
        plugin.shutdown()


def test_without_a_panel_orders_cost_no_read(store: Store, user_id: int, tmp_path: Any) -> None:
    """Headless (no panel to refresh), the plugin reads nothing per order."""
    from storeapp.listeners.api import HeadlessHost

    coffee = product(store, "COF-250").id
    reads: list[int] = []
    list_products = store.list_products
    store.list_products = lambda *a, **k: reads.append(1) or list_products(*a, **k)  # type: ignore[method-assign]
    headless = InventoryPlugin(HeadlessHost(store, tmp_path / "headless"))
    headless.ready()
    try:
        place(store, user_id, (coffee, 1))
        assert reads == []
    finally:
        headless.shutdown()
