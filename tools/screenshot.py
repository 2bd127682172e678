"""Take the README's screenshots:

``xvfb-run -s '-screen 0 1600x1000x24' .venv/bin/python tools/screenshot.py``;
``xvfb-run -s '-screen 0 1366x768x24' .venv/bin/python tools/screenshot.py ''
screenshot-1366x768.png`` takes the whole screen with the window fitted to it,
as ``make run`` opens it.

Builds the real window on a throw-away database with demo customers, places
a few orders, and saves PNGs of the window into docs/.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QTabWidget, QTreeView

from storeapp.app import build

OUT = Path(__file__).resolve().parent.parent / "docs"


def settle(app: QApplication, ms: int = 400) -> None:
    loop_done = []
    QTimer.singleShot(ms, lambda: loop_done.append(True))
    while not loop_done:
        app.processEvents()


def main() -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    data = Path(tempfile.mkdtemp(prefix="storeapp-shot-"))
    plugins = sys.argv[1].split(",") if len(sys.argv) > 1 and sys.argv[1] else None
    name = sys.argv[2] if len(sys.argv) > 2 else "window.png"
    whole_screen = name.startswith("screenshot-")  # as `make run` opens on this screen
    # Not a first start: the Lessons dock (docs/lessons.png) stays closed.
    (data / "settings.ini").write_text("[lessons]\nshown_once=true\n")
    window = build(f"sqlite:///{data / 'shot.db'}", plugins, data_dir=data, demo=True)
    if whole_screen:
        window.fit_to_screen()
    else:
        window.resize(1600, 1000)
    window.show()
    store = window.store
    rng = random.Random(7)
    products = store.list_products()
    users = [c.user_id for c in store.list_customers()]
    for _ in range(14):
        cart = store.create_cart()
        for p in rng.sample(products, 2):
            store.add_to_cart(cart.id, p.id, rng.randint(1, 2))
        store.place_order(cart.id, rng.choice(users))
    settle(app, 800)
    window.product_table.selectRow(2)
    window.add_to_cart()
    if whole_screen:  # a scanned code and a line's quantity changed in place
        window.till.catalogue.search.setText("flt-v60")
        window.till.add_from_search()
        window.till.set_line_quantity(store.list_products("FLT-V60")[0].id, 2)
    settle(app, 300)
    OUT.mkdir(exist_ok=True)
    if "rush" in name:
        # The inspector during a rush hour: the whole screen, so the
        # progress dialog shows too.
        for product in store.list_products():
            store.update_product(product.id, inventory=100_000)
        tabs = window.findChild(QTabWidget, "inspectorTabs")
        simulation = window.start_simulation(2000, seed=3)
        settle(app, 2500)
        if tabs is not None:
            view = window.findChild(QTreeView, "inspectorTimeline")
            model = view.model() if view is not None else None
            orders = [
                r
                for r in range(model.rowCount() if model is not None else 0)
                if model.index(r, 1).data() == "order_created"
            ]
            if orders:  # pause the timeline, open the newest order's send: a row per receiver
                window.manager.record("inspector").plugin.set_paused(True)
                last = model.index(orders[-1], 0)
                view.expand(last)
                view.scrollTo(last, QTreeView.ScrollHint.PositionAtTop)
                view.setCurrentIndex(last)
        settle(app, 100)
        app.primaryScreen().grabWindow(0).save(str(OUT / name))
        simulation.cancel()
        settle(app, 500)
    elif whole_screen:
        app.primaryScreen().grabWindow(0).save(str(OUT / name))
    else:
        window.grab().save(str(OUT / name))
    print(OUT / name)
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
