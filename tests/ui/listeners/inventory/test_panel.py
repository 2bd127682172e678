"""The inventory panel: a table that always equals the database's stock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QItemSelectionModel, QSettings, Qt, QThread
from PySide6.QtGui import QBrush, QStandardItemModel
from PySide6.QtWidgets import QApplication, QLabel, QSpinBox, QTableView

from storeapp.domain.demo import seed_catalogue
from storeapp.domain.errors import OutOfStock
from storeapp.domain.models import Product
from storeapp.domain.signals import ALL_SIGNALS
from storeapp.domain.store import Store
from storeapp.listeners import core
from storeapp.listeners.api import CellModel
from storeapp.listeners.inventory.model import SORT_ROLE, STATUS_ROLE, InventoryModel
from storeapp.listeners.inventory.plugin import InventoryPlugin
from storeapp.listeners.inventory.stock import StockStatus
from storeapp.listeners.manager import PluginManager
from storeapp.ui.bridge import GuiBridge, QtPluginHost

# Qt warnings (among them the model tester's complaints) fail the test.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")

BG = Qt.ItemDataRole.BackgroundRole
FG = Qt.ItemDataRole.ForegroundRole
TIP = Qt.ItemDataRole.ToolTipRole


# -- fixtures -----------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Any) -> Iterator[Store]:
    core.ready()  # new users get a Customer
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    seed_catalogue(store)
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def user_id(store: Store) -> int:
    return store.register_user("ada", "ada@example.com", "secret-pass-1").id


@pytest.fixture
def bridge(qapp: QApplication) -> Iterator[GuiBridge]:
    bridge = GuiBridge()
    yield bridge
    bridge.close()


@pytest.fixture
def host(store: Store, bridge: GuiBridge, tmp_path: Any) -> QtPluginHost:
    return QtPluginHost(store, tmp_path, bridge, settings=None)


@pytest.fixture
def plugin(host: QtPluginHost, bridge: GuiBridge, qtbot: Any) -> Iterator[InventoryPlugin]:
    plugin = InventoryPlugin(host)
    plugin.ready()
    try:
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        bridge.flush_now()  # settle the refresh ready() scheduled
        yield plugin
    finally:
        plugin.shutdown()


@pytest.fixture
def model(plugin: InventoryPlugin) -> InventoryModel:
    assert plugin.model is not None
    return plugin.model


# -- helpers ------------------------------------------------------------------


def place(store: Store, user_id: int, *lines: tuple[int, int]) -> Any:
    cart = store.create_cart()
    for product_id, quantity in lines:
        store.add_to_cart(cart.id, product_id, quantity)
    return store.place_order(cart.id, user_id)


def product(store: Store, sku: str) -> Product:
    return next(p for p in store.list_products() if p.sku == sku)


def model_stock(model: InventoryModel) -> dict[int, int]:
    return {r.product_id: r.stock for r in model.rows()}


def equals_db(model: InventoryModel, store: Store) -> bool:
    return model_stock(model) == store.stock_levels()


def inventory_receivers() -> int:
    return sum(
        1
        for signal in ALL_SIGNALS
        for info in signal.receivers_info()
        if info.module == "storeapp.listeners.inventory.plugin"
    )


def cell(model: InventoryModel, sku: str, role: Any, column: int = InventoryModel.STOCK) -> Any:
    row = model.row_of_sku(sku)
    assert row >= 0, f"{sku} is not in the model"
    return model.data(model.index(row, column), role)


def colour(brush: Any) -> str:
    assert isinstance(brush, QBrush), brush
    return brush.color().name()


# -- tests --------------------------------------------------------------------


def test_plugin_is_discovered_by_its_entry_point(host: QtPluginHost) -> None:
    manager = PluginManager(host)
    manager.discover()
    record = manager.record("inventory")
    assert record.cls is InventoryPlugin
    assert (record.cls.order, record.cls.panel_object_name) == (30, "inventoryDock")
    assert record.plugin is not None and record.plugin.model is None  # no panel yet


def test_panel_shows_every_product_with_sku_name_price_and_stock(
    plugin: InventoryPlugin, model: InventoryModel, store: Store
) -> None:
    assert equals_db(model, store) and len(model.rows()) == 12
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "SKU",
        "Name",
        "Price",
        "Stock",
    ]
    row = model.row_of_sku("COF-250")
    assert [model.data(model.index(row, c)) for c in range(4)] == [
        "COF-250",
        "Coffee beans 250 g",
        "7.90",
        40,
    ]
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    assert view is not None and view.model().rowCount() == 12


def test_model_passes_the_model_tester_through_inserts_changes_and_removals(
    qtmodeltester: Any, qtbot: Any, model: InventoryModel, store: Store, user_id: int
) -> None:
    qtmodeltester.check(model)
    extra = store.add_product("NEW-1", "New thing", "1.00", 3)
    qtbot.waitUntil(lambda: model.row_of(extra.id) >= 0)
    place(store, user_id, (product(store, "COF-250").id, 2))
    qtbot.waitUntil(lambda: equals_db(model, store))
    store.delete_product(extra.id)
    qtbot.waitUntil(lambda: model.row_of(extra.id) < 0)
    model.set_threshold(20)
    assert equals_db(model, store)


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


def test_low_and_out_of_stock_rows_are_highlighted_in_distinct_colours(
    qtbot: Any, model: InventoryModel, store: Store
) -> None:
    coffee = product(store, "COF-250")
    assert cell(model, "COF-250", BG) is None and cell(model, "COF-250", TIP) is None

    store.update_product(coffee.id, inventory=2)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 2)
    assert cell(model, "COF-250", TIP).startswith("Low stock")
    assert cell(model, "COF-250", STATUS_ROLE) == StockStatus.LOW
    low_bg, low_fg = colour(cell(model, "COF-250", BG)), colour(cell(model, "COF-250", FG))
    # The whole row is highlighted, not just the stock cell.
    assert colour(cell(model, "COF-250", BG, InventoryModel.NAME)) == low_bg

    store.update_product(coffee.id, inventory=0)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 0)
    assert cell(model, "COF-250", TIP) == "Out of stock"
    out_bg, out_fg = colour(cell(model, "COF-250", BG)), colour(cell(model, "COF-250", FG))
    assert out_bg != low_bg and out_fg != low_fg

    store.update_product(coffee.id, inventory=50)
    qtbot.waitUntil(lambda: model.stock_by_sku()["COF-250"] == 50)
    assert cell(model, "COF-250", BG) is None and cell(model, "COF-250", TIP) is None


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


def test_updates_never_reset_the_model_so_the_selection_survives(
    qtbot: Any, plugin: InventoryPlugin, model: InventoryModel, store: Store, user_id: int
) -> None:
    resets: list[int] = []
    model.modelAboutToBeReset.connect(lambda: resets.append(1))
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    proxy = view.model()
    mug_row = next(r for r in range(proxy.rowCount()) if proxy.index(r, 0).data() == "MUG-STD")
    view.selectionModel().select(
        proxy.index(mug_row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    store.add_product("AAA-1", "Aardvark plush", "3.00", 9)  # sorts first by name
    place(store, user_id, (product(store, "MUG-STD").id, 1))
    qtbot.waitUntil(lambda: "AAA-1" in model.stock_by_sku() and equals_db(model, store))
    selected = view.selectionModel().selectedRows()
    assert [i.data() for i in selected] == ["MUG-STD"]
    assert resets == []


def test_threshold_comes_from_the_setting_and_the_spinbox_rehighlights(
    qtbot: Any, store: Store, bridge: GuiBridge, tmp_path: Any
) -> None:
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    settings.setValue("inventory/low_stock_threshold", 10)
    plugin = InventoryPlugin(QtPluginHost(store, tmp_path, bridge, settings))
    plugin.ready()
    try:
        panel = plugin.create_panel()
        qtbot.addWidget(panel)
        model = plugin.model
        assert model is not None
        box = panel.findChild(QSpinBox, "lowStockThreshold")
        assert box is not None and box.value() == 10
        # MUG-STD has 8: low at 10 ...
        assert cell(model, "MUG-STD", STATUS_ROLE) == StockStatus.LOW
        assert cell(model, "MUG-STD", TIP).startswith("Low stock")
        changed: list[Any] = []
        model.dataChanged.connect(lambda *args: changed.append(args))
        box.setValue(7)  # ... fine at 7
        assert changed, "changing the threshold must repaint the rows"
        assert cell(model, "MUG-STD", BG) is None and cell(model, "MUG-STD", TIP) is None
        assert plugin.threshold == 7
        box.setValue(8)  # "at or below"
        assert cell(model, "MUG-STD", STATUS_ROLE) == StockStatus.LOW
    finally:
        plugin.shutdown()


def test_default_threshold_is_five(plugin: InventoryPlugin, model: InventoryModel) -> None:
    box = plugin.panel.findChild(QSpinBox, "lowStockThreshold")  # type: ignore[union-attr]
    assert box.value() == 5 and model.threshold == 5


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


def test_model_cells_live_in_cpp_so_sorting_and_painting_never_call_python(
    plugin: InventoryPlugin, model: InventoryModel
) -> None:
    assert isinstance(model, CellModel)
    for name in ("data", "index", "rowCount", "columnCount", "flags", "headerData", "setData"):
        assert getattr(type(model), name) is getattr(QStandardItemModel, name), name
    row = model.row_of_sku("COF-250")
    assert not model.index(row, InventoryModel.STOCK).flags() & Qt.ItemFlag.ItemIsEditable
    assert [model.data(model.index(row, c), SORT_ROLE) for c in range(4)] == [
        "cof-250",
        "coffee beans 250 g",
        790,
        40,
    ]
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    alignment = Qt.ItemDataRole.TextAlignmentRole
    assert [model.data(model.index(row, c), alignment) for c in range(4)] == [
        None,
        None,
        right,
        right,
    ]
    assert [model.headerData(c, Qt.Orientation.Horizontal, alignment) for c in range(4)] == [
        None,
        None,
        right,
        right,
    ]
    assert model.data(model.index(row, InventoryModel.SKU), STATUS_ROLE) == StockStatus.OK


def test_a_new_product_is_sorted_into_place_and_the_summary_follows_each_refresh(
    qtbot: Any, plugin: InventoryPlugin, model: InventoryModel, store: Store
) -> None:
    view = plugin.panel.findChild(QTableView, "inventoryTable")  # type: ignore[union-attr]
    summary = plugin.panel.findChild(QLabel, "inventorySummary")  # type: ignore[union-attr]
    assert summary.text() == "12 products · 0 low · 0 out of stock"
    refreshes: list[int] = []
    model.refreshed.connect(lambda: refreshes.append(1))

    store.add_product("AAA-1", "Aardvark plush", "3.00", 0)  # sorts first by name
    qtbot.waitUntil(lambda: "AAA-1" in model.stock_by_sku())
    assert view.model().index(0, InventoryModel.SKU).data() == "AAA-1"
    assert summary.text() == "13 products · 0 low · 1 out of stock"
    assert refreshes == [1]  # once per refresh, not once per cell

    plugin.set_threshold(8)  # MUG-STD has 8
    assert summary.text() == "13 products · 1 low · 1 out of stock"
    assert refreshes == [1, 1]


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
