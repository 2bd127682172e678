"""Small widgets the till's panes are made of: the message line, the search
box a scanner types into, and the cart table whose quantities edit in place."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from storeapp.listeners.api import palette

ERROR_STYLE = f"color: {palette.ERROR_TEXT};"
OK_STYLE = f"color: {palette.OK_TEXT};"
ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class MessageLine(QLabel):
    """Where a pane tells the cashier what happened: its room is reserved
    (``lines`` lines of text, whatever it shows), and a long message wraps
    inside it instead of widening the pane, so nothing around it moves."""

    def __init__(self, name: str, parent: QWidget, lines: int = 2) -> None:
        super().__init__("", parent)
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + 2)
        self.error = False

    def show_text(self, text: str, *, error: bool) -> None:
        self.error = error
        self.setStyleSheet(ERROR_STYLE if error else OK_STYLE)
        self.setText(text)
        self.setToolTip(text)  # the whole of a message too long for its room

    def clear_text(self) -> None:
        self.error = False
        self.clear()
        self.setToolTip("")


class SearchBox(QLineEdit):
    """The catalogue's search: a scanner types a code and Enter into it;
    Down moves into the results (``down_pressed``)."""

    down_pressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and not event.modifiers():
            self.down_pressed.emit()
            return
        super().keyPressEvent(event)


class ProductTable(QTableView):
    """The catalogue's results: Enter adds the selected product
    (``activated_row``); Up on the first row goes back to the search."""

    enter_pressed = Signal()
    up_from_top = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in ENTER_KEYS:
            self.enter_pressed.emit()
            return
        current = self.currentIndex()
        if event.key() == Qt.Key.Key_Up and (not current.isValid() or current.row() == 0):
            self.up_from_top.emit()
            return
        super().keyPressEvent(event)


class CartTable(QTableView):
    """The cart's lines. A line's quantity is edited in place: F2, Enter,
    a double click or typing a digit opens it (in the Qty column whichever
    cell is current)."""

    QTY_COLUMN = 1

    def edit_quantity(self, row: int | None = None) -> bool:
        """Open the quantity editor of ``row`` (default: the current row)."""
        if row is None:
            current = self.currentIndex()
            if not current.isValid():
                return False
            row = current.row()
        index = self.model().index(row, self.QTY_COLUMN)
        if not index.isValid():
            return False
        self.setCurrentIndex(index)
        self.edit(index)
        return self.state() == QAbstractItemView.State.EditingState

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self.state() != QAbstractItemView.State.EditingState:
            current = self.currentIndex()
            if event.key() in ENTER_KEYS and current.isValid():
                self.edit_quantity(current.row())
                return
            if current.isValid() and event.text().isdigit():
                # Typing a number replaces the line's quantity, as in a spreadsheet.
                self.setCurrentIndex(current.siblingAtColumn(self.QTY_COLUMN))
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: Any) -> None:
        index = self.indexAt(event.position().toPoint())
        if index.isValid():
            self.edit_quantity(index.row())
            return
        super().mouseDoubleClickEvent(event)


class QuantityDelegate(QStyledItemDelegate):
    """Edits a cart line's quantity with a spin box; the new quantity goes to
    ``commit(row, quantity)`` (the till asks the store), never straight into
    the model: the cart shows what the store accepted."""

    def __init__(self, commit: Callable[[int, int], None], maximum: int, parent: QWidget) -> None:
        super().__init__(parent)
        self._commit = commit
        self._maximum = maximum

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: Any) -> QWidget:
        editor = QSpinBox(parent)
        editor.setObjectName("cartQuantityEditor")
        editor.setRange(0, self._maximum)  # 0 removes the line
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        editor.setFrame(False)
        return editor

    def setEditorData(self, editor: QWidget, index: QModelIndex | QPersistentModelIndex) -> None:
        assert isinstance(editor, QSpinBox)
        editor.setValue(int(index.data() or 0))
        editor.selectAll()

    def setModelData(
        self,
        editor: QWidget,
        model: QAbstractItemModel,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        assert isinstance(editor, QSpinBox)
        editor.interpretText()
        if editor.value() != int(index.data() or 0):
            self._commit(index.row(), editor.value())
