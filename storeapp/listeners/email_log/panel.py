"""The email log's widgets: the dock's panel and the message dialog."""

from __future__ import annotations

from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from storeapp.listeners.email_log.log import DEAD, EmailRecord, render_message, summary
from storeapp.listeners.email_log.model import EmailLogModel

__all__ = ["EmailLogPanel", "EmailLogActions", "EmailMessageDialog"]


class EmailLogActions(Protocol):
    """What the panel asks of the plugin (the plugin builds the panel;
    the panel never imports the plugin)."""

    @property
    def total(self) -> int: ...

    @property
    def pending(self) -> int: ...

    def backend_description(self) -> str: ...

    def retry(self, event_id: int) -> bool: ...

    def open_message(self, row: int, parent: QWidget | None = None) -> Any: ...


class EmailMessageDialog(QDialog):
    """A non-modal window with one message in full, read-only."""

    def __init__(self, record: EmailRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("emailMessageDialog")
        self.setWindowTitle(f"Email: {record.subject}")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.record = record
        status = QLabel(f"Status: {record.status}", self)
        status.setObjectName("emailMessageStatus")
        status.setWordWrap(True)
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("emailMessageText")
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(render_message(record.message))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(status)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(680, 480)


class EmailLogPanel(QWidget):
    """The dock's content: a count, the table, Retry (for a dead message:
    the button, or Ctrl+R in the table), where messages go."""

    def __init__(
        self, plugin: EmailLogActions, model: EmailLogModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.plugin = plugin
        self.model = model
        self.count = QLabel(self)
        self.count.setObjectName("emailCount")
        self.table = QTableView(self)
        self.table.setObjectName("emailTable")
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Fixed widths, Subject stretches: ResizeToContents would re-measure
        # every row (a Python call per cell) on each update.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(EmailLogModel.SUBJECT, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.setColumnWidth(EmailLogModel.TIME, 150)
        self.table.setColumnWidth(EmailLogModel.TO, 190)
        self.table.setColumnWidth(EmailLogModel.STATUS, 90)
        self.table.setToolTip("Double-click a message to read it; Ctrl+R retries a dead one.")
        self.table.doubleClicked.connect(self._open)
        self.retry_button = QPushButton("&Retry", self)
        self.retry_button.setObjectName("emailRetry")
        self.retry_button.setToolTip("Send the selected dead message again (Ctrl+R).")
        self.retry_button.clicked.connect(self.retry_selected)
        shortcut = QShortcut(QKeySequence("Ctrl+R"), self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.retry_selected)
        self.table.selectionModel().selectionChanged.connect(self._update_retry)
        model.dataChanged.connect(self._update_retry)
        self.backend_label = QLabel(self)
        self.backend_label.setObjectName("emailBackend")
        self.backend_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        top = QHBoxLayout()
        top.addWidget(self.count, 1)
        top.addWidget(self.retry_button)
        layout.addLayout(top)
        layout.addWidget(self.table)
        layout.addWidget(self.backend_label)
        self._at_bottom = True
        model.rowsAboutToBeInserted.connect(self._remember_scroll)
        model.rowsInserted.connect(self._follow)
        self.refresh()

    def refresh(self) -> None:
        self.count.setText(summary(self.model.records(), self.plugin.total, self.plugin.pending))
        self.backend_label.setText(self.plugin.backend_description())
        self._update_retry()

    def selected(self) -> EmailRecord | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or not 0 <= rows[0].row() < self.model.rowCount():
            return None
        return self.model.record(rows[0].row())

    def retry_selected(self) -> bool:
        """Retry the selected message if it is dead (the button, Ctrl+R)."""
        record = self.selected()
        if record is None or record.state != DEAD or record.retry_asked:
            return False
        asked = self.plugin.retry(record.id)
        self._update_retry()
        return asked

    def _update_retry(self, *args: Any) -> None:
        record = self.selected()
        self.retry_button.setEnabled(
            record is not None and record.state == DEAD and not record.retry_asked
        )

    def _remember_scroll(self, *args: Any) -> None:
        bar = self.table.verticalScrollBar()
        self._at_bottom = bar.value() >= bar.maximum()

    def _follow(self, *args: Any) -> None:
        if self._at_bottom:
            self.table.scrollToBottom()

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            self.plugin.open_message(index.row(), parent=self)
