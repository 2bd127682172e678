"""Two tills on one database: a sale at one reaches the other's window.

The other till is another process (signals end at the process: two windows
in one process would hear each other's in-process sends, and prove
nothing). Its sale reaches this window through the event log, on
PostgreSQL woken by NOTIFY, on SQLite by polling.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QLabel

from storeapp.app import build
from tests.ui.conftest import find, plugin

OTHER_TILL = r"""
import sys
from storeapp.domain import Store
from storeapp.listeners import core

core.ready()
store = Store.open(sys.argv[1], terminal="till-2")
user = store.register_user("zoe", "zoe@example.com", "correct-horse-9")
product = next(p for p in store.list_products() if p.sku == sys.argv[2])
cart = store.create_cart()
store.add_to_cart(cart.id, product.id, 3)
order = store.place_order(cart.id, user.id)
print(order.id)
"""


def sell_at_another_till(db_url: str, sku: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", OTHER_TILL, db_url, sku],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_a_sale_at_another_till_updates_this_tills_orders_inventory_and_analytics(
    qtbot: Any, tmp_path: Path, db_url: str
) -> None:
    window = build(db_url, data_dir=tmp_path / "data", terminal="till-1")
    qtbot.addWidget(window)
    window.show()
    try:
        link = find(window, QLabel, "linkLabel")
        qtbot.waitUntil(lambda: link.text() in ("Other tills: live", "Other tills: following"))
        product = window.store.list_products()[0]
        before = window.store.stock_levels()[product.id]
        inventory = plugin(window, "inventory")
        analytics = plugin(window, "analytics")
        inspector = plugin(window, "inspector")
        assert analytics.totals()[0] == 0

        order_id = sell_at_another_till(db_url, product.sku)

        order_ids = lambda: {  # noqa: E731
            window.order_model.index(row, 0).data() for row in range(window.order_model.rowCount())
        }
        qtbot.waitUntil(lambda: f"#{order_id}" in order_ids(), timeout=20000)
        qtbot.waitUntil(lambda: analytics.totals()[0] == 1, timeout=20000)
        stock = lambda: {r.product_id: r.stock for r in inventory.model.rows()}  # noqa: E731
        qtbot.waitUntil(lambda: stock().get(product.id) == before - 3, timeout=20000)
        remote_sends = [
            r
            for r in inspector.buffer.records()
            if r.signal == "order_created" and r.via == "remote send from till till-2"
        ]
        assert len(remote_sends) == 1
        assert remote_sends[0].sender == "Order (from till-2)"
        # A customer registered there can be served here.
        qtbot.waitUntil(
            lambda: any(
                "zoe" in str(window.customer_model.index(r, 0).data())
                for r in range(window.customer_model.rowCount())
            ),
            timeout=20000,
        )
    finally:
        window.close()


def test_the_status_bar_says_when_the_other_tills_are_out_of_reach_and_why(qtbot: Any) -> None:
    from PySide6.QtWidgets import QWidget

    from storeapp.domain.events.follow import FollowState, FollowStatus
    from storeapp.ui.link import LinkLabel

    parent = QWidget()
    qtbot.addWidget(parent)
    label = LinkLabel(parent)
    label.show_status(
        FollowStatus(FollowState.RECONNECTING, "server closed the connection; next try in 4 s", 42)
    )

    assert label.text() == "Other tills: reconnecting…"
    assert "server closed the connection; next try in 4 s" in label.toolTip()
    assert "Event log position: 42" in label.toolTip()
