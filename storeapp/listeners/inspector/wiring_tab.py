"""The inspector's Wiring tab: every watched signal with its connections
(:class:`~.wiring.WiringModel`), a Refresh button, and a pane with the
source of the signal or receiver selected."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from storeapp.listeners.inspector.sources import source_at
from storeapp.listeners.inspector.wiring import Wiring, WiringModel, location_of

__all__ = ["WiringTab"]


class WiringTab(QWidget):
    """The wiring view, its summary, Refresh and Show source, and the source pane."""

    def __init__(self, model: WiringModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.summary = QLabel(self)
        self.summary.setObjectName("inspectorWiringSummary")
        self.refresh_button = QPushButton("Refresh", self)
        self.refresh_button.setObjectName("inspectorWiringRefresh")
        self.source_button = QPushButton("Show source", self)
        self.source_button.setObjectName("inspectorShowSource")
        self.source_button.setToolTip("Show the source of the selected receiver or signal.")
        self.view = QTreeView(self)
        self.view.setObjectName("inspectorWiring")
        self.view.setModel(model)
        self.view.setAlternatingRowColors(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.header().setStretchLastSection(True)
        self.view.header().resizeSection(0, 400)
        self.view.setToolTip(
            "Click a signal to see where it is defined, a receiver to see its source."
        )
        self.source = QPlainTextEdit(self)
        self.source.setObjectName("inspectorWiringSource")
        self.source.setReadOnly(True)
        self.source.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.source.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.source.setPlaceholderText(
            "Select a receiver (or a signal) and its source shows here, with its file and line."
        )

        top = QHBoxLayout()
        top.addWidget(self.summary)
        top.addStretch(1)
        top.addWidget(self.source_button)
        top.addWidget(self.refresh_button)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(self.view)
        split.addWidget(self.source)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split)

        self.source_button.clicked.connect(
            lambda _checked=False: self.show_source(self.view.currentIndex())
        )
        self.view.selectionModel().currentChanged.connect(
            lambda current, _previous: self.show_source(current)
        )

    def show_wiring(self, wiring: Wiring, plugin_of: Callable[[str], str]) -> None:
        """Show ``wiring``; signals the cashier collapsed stay collapsed."""
        model, view = self.model, self.view
        collapsed = {
            model.item(row, 0).text()
            for row in range(model.rowCount())
            if model.item(row, 0).hasChildren() and not view.isExpanded(model.index(row, 0))
        }
        model.populate(wiring, plugin_of)
        for row, (signal, _infos) in enumerate(wiring):
            if signal.name not in collapsed:
                view.expand(model.index(row, 0))
        empty = sum(1 for _s, infos in wiring if not infos)
        connections = sum(len(infos) for _s, infos in wiring)
        self.summary.setText(
            f"{len(wiring)} signals, {connections} connections"
            + (f"; {empty} with no receivers" if empty else "")
        )

    def show_source(self, index: QModelIndex) -> None:
        """Show where the signal or receiver of a wiring row is written, and
        its source (read from its file as ``inspect`` reads it)."""
        where = location_of(index)
        if where is None:
            self.source.setPlainText(
                "" if not index.isValid() else "(no Python source for this one)"
            )
            return
        name = index.siblingAtColumn(0).data()
        body = source_at(where) or "(the file cannot be read)"
        self.source.setPlainText(f"{name}  —  {where}\n\n{body.rstrip()}")
