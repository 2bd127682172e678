"""Child of bench.startup: storeapp's own start, as main.py does it.

``python startup_storeapp.py DATA_DIR [--required-only]`` imports like
``storeapp.__main__`` (sqlalchemy first) and starts the window with
``storeapp.app.start`` (what ``make run`` shows: the frame painted first,
then filled) on the SQLite file in DATA_DIR with the default plugin set, or
with ``--required-only`` the required plugins alone (what the till costs
without its optional panels). It prints:

* ``painted`` on the first paint of a window (the frame);
* ``built`` when start() returned (database open, plugins loaded, panels made);
* ``ready`` at the first moment after a paint of the filled window when the
  GUI bridge has no coalesced refresh left to run (every panel shows its
  first data).

The parent times each line from Popen.
"""

import os
import sys

import sqlalchemy.orm  # noqa: F401  (before PySide6, as main.py does)
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

data_dir = sys.argv[1]
os.environ["STOREAPP_DB"] = f"sqlite:///{os.path.join(data_dir, 'startup.sqlite3')}"
os.environ["STOREAPP_DATA_DIR"] = data_dir
app = QApplication(sys.argv[:1])
state = {"painted": False, "built": False, "painted_built": False}


class FirstPaint(QObject):
    """On the application until the frame's first paint (start() makes the
    window), then on the window alone: a filter on the application sees
    every event of every object, and made the build ~40% slower."""

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and isinstance(obj, QWidget) and obj.isWindow():
            if not state["painted"]:
                state["painted"] = True
                print("painted", flush=True)
                QApplication.instance().removeEventFilter(self)
            if state["built"]:
                state["painted_built"] = True
        return False


watcher = FirstPaint()
app.installEventFilter(watcher)

from storeapp.app import start  # noqa: E402  (after the watcher: start() paints)

window = start(None, plugins=[] if "--required-only" in sys.argv else None)
window.installEventFilter(watcher)
state["built"] = True
print("built", flush=True)
bridge = window.bridge


def check_ready():
    if not state["painted_built"]:
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
app.exec()
