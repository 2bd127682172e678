"""Child of bench.startup: a bare PySide6 window, as small as a Qt app gets.

``python startup_bare.py [--imports]`` creates a QApplication and a
QMainWindow, shows it and prints ``painted`` on the window's first paint
event. With ``--imports`` it first imports what storeapp needs beyond that
(``sqlalchemy.orm``, then ``PySide6.QtCharts``, in the app's order): the
baseline of storeapp's "ready". The parent times the lines from Popen.
"""

import os
import sys

if "--imports" in sys.argv:
    import sqlalchemy.orm  # noqa: F401  (before PySide6, as main.py does)

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow

if "--imports" in sys.argv:
    from PySide6 import QtCharts  # noqa: F401


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print("painted", flush=True)
            os._exit(0)
        return False


app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1400, 860)
watcher = FirstPaint()
window.installEventFilter(watcher)
window.show()
app.exec()
