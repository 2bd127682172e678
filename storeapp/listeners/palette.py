"""The app's colours, as brushes for table cells (one palette, used by the
window and every panel)."""

from __future__ import annotations

from PySide6.QtGui import QBrush, QColor

#: Something went wrong (a failed receiver, an item out of stock).
ERROR_BG = QBrush(QColor("#f8d7da"))
ERROR_FG = QBrush(QColor("#842029"))
#: Needs attention soon (low stock, dropped by a rollback).
WARN_BG = QBrush(QColor("#fff3cd"))
WARN_FG = QBrush(QColor("#664d03"))
#: Waiting for something (deferred until commit).
INFO_FG = QBrush(QColor("#0b5394"))
#: Not taking part (muted, skipped, cancelled, disabled).
MUTED_FG = QBrush(QColor("#6c757d"))
GREY_FG = QBrush(QColor("#9e9e9e"))
#: A quiet background for an empty or summary row.
QUIET_BG = QBrush(QColor("#eceff1"))
#: Text colours of messages to the cashier (style sheets).
ERROR_TEXT = "#c62828"
OK_TEXT = "#2e7d32"
