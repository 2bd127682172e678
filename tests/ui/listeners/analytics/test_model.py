"""TopProductsModel: the best sellers, ranked, cells in C++."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox

from storeapp.listeners.analytics.aggregate import ProductSales
from storeapp.listeners.analytics.model import TopProductsModel
from storeapp.listeners.api import CellModel
from tests.ui.listeners.analytics.conftest import buy


def test_top_products_model_passes_the_model_tester(
    panel, store, user, products, qtbot, qtmodeltester
):
    model = panel.top_model
    assert isinstance(model, TopProductsModel)
    qtmodeltester.check(model, force_py=True)  # re-checks on every change below

    orders = [
        buy(store, user, products[sku], qty)
        for sku, qty in (
            ("COF-250", 1),
            ("MUG-STD", 2),
            ("BAG-SES", 6),
            ("TEA-GRN", 1),
            ("JAM-STR", 1),
            ("WTR-SPK", 3),
        )
    ]
    qtbot.waitUntil(lambda: model.rowCount() == 5)
    names = [model.data(model.index(r, 0)) for r in range(model.rowCount())]
    assert names == [
        "Stoneware mug",
        "Sesame bagel",
        "Coffee beans 250 g",
        "Strawberry jam",
        "Green tea, 20 bags",
    ]
    assert [model.data(model.index(0, c)) for c in range(3)] == ["Stoneware mug", "2", "19.00"]
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Product"

    top_by = panel.findChild(QComboBox, "analyticsTopBy")
    top_by.setCurrentIndex(top_by.findText("By quantity"))
    assert [r.name for r in model.rows()][:2] == ["Sesame bagel", "Sparkling water 0.5 l"]

    for order in orders[:4]:
        store.cancel_order(order.id)
    qtbot.waitUntil(lambda: model.rowCount() == 2)
    assert [r.name for r in model.rows()] == ["Sparkling water 0.5 l", "Strawberry jam"]
    qtmodeltester.check(model)


def test_top_products_cells_live_in_cpp_and_only_changed_rows_are_rewritten(qtbot):
    model = TopProductsModel()
    assert isinstance(model, CellModel)
    for name in ("data", "index", "rowCount", "columnCount", "flags", "headerData", "setData"):
        assert getattr(type(model), name) is getattr(QStandardItemModel, name), name
    mug = ProductSales(1, "Stoneware mug", 2, Decimal("19.00"))
    jam = ProductSales(2, "Strawberry jam", 1, Decimal("3.50"))
    inserted, changed = [], set()
    model.rowsInserted.connect(lambda parent, first, last: inserted.append((first, last)))
    model.set_rows([mug, jam])
    assert inserted == [(0, 1)]
    assert [model.index(0, c).data() for c in range(3)] == ["Stoneware mug", "2", "19.00"]
    assert model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole) == "Stoneware mug"
    right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
    alignment = Qt.ItemDataRole.TextAlignmentRole
    assert [model.index(0, c).data(alignment) for c in range(3)] == [None, right, right]
    assert not model.index(0, 0).flags() & Qt.ItemFlag.ItemIsEditable
    assert [model.headerData(r, Qt.Orientation.Vertical) for r in range(2)] == [1, 2]

    model.dataChanged.connect(lambda top, bottom, roles: changed.add(top.row()))
    model.set_rows([mug, ProductSales(2, "Strawberry jam", 3, Decimal("10.50"))])
    assert changed == {1} and model.index(1, TopProductsModel.QUANTITY).data() == "3"
    model.set_rows([jam])
    assert model.rowCount() == 1 and model.rows() == [jam]
    assert model.index(0, 0).data() == "Strawberry jam"


def test_a_product_that_overtakes_another_rewrites_two_rows_instead_of_moving(qtbot):
    model = TopProductsModel()
    mug = ProductSales(1, "Stoneware mug", 2, Decimal("19.00"))
    jam = ProductSales(2, "Strawberry jam", 1, Decimal("3.50"))
    model.set_rows([mug, jam])
    moved, changed = [], set()
    for signal in (model.rowsInserted, model.rowsRemoved, model.rowsMoved, model.modelReset):
        signal.connect(lambda *args: moved.append(args))
    model.dataChanged.connect(lambda top, bottom, roles: changed.add(top.row()))

    more_jam = ProductSales(2, "Strawberry jam", 9, Decimal("31.50"))
    model.set_rows([more_jam, mug])

    assert moved == [] and changed == {0, 1}
    assert model.rows() == [more_jam, mug]
    assert [model.index(r, 0).data() for r in range(2)] == ["Strawberry jam", "Stoneware mug"]
    model.set_rows([more_jam, mug])
    assert changed == {0, 1}  # the same rows again: nothing rewritten
