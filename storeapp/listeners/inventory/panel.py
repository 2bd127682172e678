"""The inventory dock's widget: the threshold spin box, a summary and the table."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.listeners.inventory.model import SORT_ROLE, InventoryModel
from storeapp.listeners.inventory.stock import MAX_THRESHOLD, StockStatus

__all__ = ["InventoryPanel"]


class InventoryPanel(QWidget):
    """The dock's widget: the threshold spin box, a summary and the table.

    It shows ``model`` and nothing else: the plugin listens to
    ``threshold_box.valueChanged`` and changes the model.
    """

    def __init__(self, model: InventoryModel) -> None:
        super().__init__()
        self.setObjectName("inventoryPanel")
        self.model = model

        self.threshold_box = QSpinBox(self)
        self.threshold_box.setObjectName("lowStockThreshold")
        self.threshold_box.setRange(0, MAX_THRESHOLD)
        self.threshold_box.setValue(model.threshold)
        self.threshold_box.setToolTip(
            "Products with this many or fewer units left are highlighted as low stock "
            "(0: only out-of-stock products)."
        )
        label = QLabel("&Low stock at or below:", self)
        label.setBuddy(self.threshold_box)
        self.summary = QLabel(self)
        self.summary.setObjectName("inventorySummary")
        self.summary.setWordWrap(True)  # two lines in a narrow column, not a wider one
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(model)
        self.proxy.setSortRole(SORT_ROLE)

        self.view = QTableView(self)
        self.view.setObjectName("inventoryTable")
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(InventoryModel.NAME, Qt.SortOrder.AscendingOrder)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(InventoryModel.NAME, QHeaderView.ResizeMode.Stretch)
        self.view.resizeColumnsToContents()

        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.threshold_box)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.view)

        # Once per refresh: dataChanged comes once per changed cell.
        model.refreshed.connect(self.update_summary)
        self.update_summary()

    def update_summary(self, *args: Any) -> None:
        counts = self.model.counts()
        total = sum(counts.values())
        self.summary.setText(
            f"{total} products · {counts.get(StockStatus.LOW, 0)} low · "
            f"{counts.get(StockStatus.OUT, 0)} out of stock"
        )
