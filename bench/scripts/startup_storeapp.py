"""Child of bench.startup: storeapp's own start, as main.py does it.

``python startup_storeapp.py DATA_DIR`` imports like ``storeapp.__main__``
(sqlalchemy first), builds the window with ``storeapp.app.build`` on the
SQLite file in DATA_DIR (the default plugin set), shows it, and prints:

* ``built`` when build() returned (database open, plugins loaded, panels made);
* ``painted`` on the window's first paint event;
* ``ready`` at the first moment after both when the GUI bridge has no
  coalesced refresh left to run (every panel shows its first data).

The parent times each line from Popen.
"""

import os
import sys

import sqlalchemy.orm  # noqa: F401  (before PySide6, as main.py does)
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from storeapp.app import build

data_dir = sys.argv[1]
app = QApplication(sys.argv[:1])
state = {"painted": False}


class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not state["painted"]:
            state["painted"] = True
            print("painted", flush=True)
        return False


window = build(f"sqlite:///{os.path.join(data_dir, 'startup.sqlite3')}", None, data_dir=data_dir)
print("built", flush=True)
watcher = FirstPaint()
window.installEventFilter(watcher)
bridge = window.bridge


def check_ready():
    if not state["painted"]:
        return
    pending = getattr(bridge, "_pending", None)
    timer = getattr(bridge, "_timer", None)
    if pending or (timer is not None and timer.isActive()):
        return
    print("ready", flush=True)
    os._exit(0)


poll = QTimer()
poll.setInterval(1)
poll.timeout.connect(check_ready)
poll.start()
window.show()
app.exec()
