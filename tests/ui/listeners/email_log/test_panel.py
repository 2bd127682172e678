"""The email log panel: its model fed from the plugin and the database,
GUI-thread updates, each message's state and Retry, the message dialog."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QTableView

from storeapp import mail
from storeapp.domain import Store
from storeapp.domain.demo import seed_catalogue
from storeapp.domain.events.worker import DurableWorker
from storeapp.listeners import core
from storeapp.listeners.email_log.model import EmailLogModel
from storeapp.listeners.email_log.plugin import EmailLogPlugin
from storeapp.ui.bridge import GuiBridge, QtPluginHost

PASSWORD = "s3cret-Passw0rd!"


class DictSettings:
    """The slice of QSettings that QtPluginHost uses."""

    def __init__(self, values: dict) -> None:
        self.values = values

    def value(self, key, default=None):
        return self.values.get(key, default)


@pytest.fixture
def store(tmp_path):
    store = Store.open(f"sqlite:///{tmp_path}/t.db")
    seed_catalogue(store)
    core.ready()
    yield store
    core.shutdown()
    store.close()


@pytest.fixture
def bridge(qtbot):
    bridge = GuiBridge()
    yield bridge
    bridge.close()


@pytest.fixture
def worker(store):
    """The durable worker (the app starts one), with short delays."""
    worker = DurableWorker(store.engine, poll=0.02, backoff=0.02, backoff_cap=0.1)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def plugin(qtbot, store, tmp_path, bridge, worker):
    host = QtPluginHost(store, tmp_path, bridge, DictSettings({"email_log/backend": "memory"}))
    plugin = EmailLogPlugin(host)
    plugin.ready()
    yield plugin
    plugin.shutdown()


@pytest.fixture
def panel(qtbot, plugin):
    panel = plugin.create_panel()
    qtbot.addWidget(panel)
    return panel


def place_order(store: Store, user, sku: str, quantity: int = 1):
    product = next(p for p in store.list_products() if p.sku == sku)
    cart = store.create_cart()
    store.add_to_cart(cart.id, product.id, quantity)
    return store.place_order(cart.id, user.id)


def subjects(model: EmailLogModel) -> list[str]:
    return [model.index(r, EmailLogModel.SUBJECT).data() for r in range(model.rowCount())]


def statuses(model: EmailLogModel) -> list[str]:
    return [model.index(r, EmailLogModel.STATUS).data() for r in range(model.rowCount())]


def test_model_is_none_until_the_panel_exists_and_then_shows_earlier_emails(qtbot, plugin, store):
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    assert plugin.wait_for_delivery(5)
    assert plugin.model is None

    panel = plugin.create_panel()
    qtbot.addWidget(panel)

    assert panel.findChild(QTableView, "emailTable").model() is plugin.model
    assert subjects(plugin.model) == ["Welcome to storeapp, ada"]
    assert statuses(plugin.model) == ["sent"]
    assert plugin.model.index(0, EmailLogModel.TO).data() == f"{user.username} <ada@example.com>"
    assert [plugin.model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == [
        "Time",
        "To",
        "Subject",
        "Status",
    ]
    assert panel.findChild(QLabel, "emailCount").text() == "1 sent"


def test_model_passes_qtmodeltester_while_emails_arrive(qtbot, qtmodeltester, plugin, panel, store):
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: statuses(plugin.model) == ["sent"])
    qtmodeltester.check(plugin.model)  # keeps checking every change below

    order = place_order(store, user, "COF-250", 2)
    qtbot.waitUntil(lambda: statuses(plugin.model) == ["sent", "sent"])

    assert subjects(plugin.model)[-1] == f"Your storeapp order #{order.id}"  # newest last
    assert plugin.model.index(0, 0).data(Qt.ItemDataRole.DecorationRole) is None


def test_order_from_a_worker_thread_reaches_the_model_on_the_gui_thread_only(
    qtbot, plugin, panel, store
):
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    qtbot.waitUntil(lambda: plugin.model.rowCount() == 1)
    model = plugin.model
    mutating_threads: list[threading.Thread] = []

    def seen(*args) -> None:
        mutating_threads.append(threading.current_thread())

    direct = Qt.ConnectionType.DirectConnection
    model.rowsAboutToBeInserted.connect(seen, direct)
    model.rowsAboutToBeRemoved.connect(seen, direct)
    model.modelAboutToBeReset.connect(seen, direct)
    model.dataChanged.connect(seen, direct)

    orders = []
    worker = threading.Thread(
        target=lambda: orders.append(place_order(store, user, "TEA-GRN", 3)), name="till-worker"
    )
    worker.start()
    qtbot.waitUntil(lambda: not worker.is_alive() and len(subjects(model)) == 2)
    qtbot.waitUntil(lambda: statuses(model)[-1] == "sent")
    worker.join()

    assert subjects(model)[-1] == f"Your storeapp order #{orders[0].id}"
    assert mutating_threads, "the model was never updated"
    assert set(mutating_threads) == {threading.main_thread()}
    qtbot.waitUntil(lambda: panel.findChild(QLabel, "emailCount").text() == "2 sent")


def test_double_click_opens_a_non_modal_dialog_with_the_whole_message(qtbot, plugin, panel, store):
    user = store.register_user("ada", "ada@example.com", PASSWORD)
    order = place_order(store, user, "CRO-BUT", 3)
    qtbot.waitUntil(lambda: statuses(plugin.model) == ["sent", "sent"])
    panel.show()
    qtbot.waitExposed(panel)
    table = panel.findChild(QTableView, "emailTable")
    rect = table.visualRect(plugin.model.index(1, EmailLogModel.SUBJECT))

    # A real double-click is a click, then a second press delivered as
    # MouseButtonDblClick; QTest.mouseDClick alone sends only the latter.
    for send in (QTest.mouseClick, QTest.mouseDClick):
        send(
            table.viewport(),
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
            QPoint(rect.center()),
        )

    dialog = panel.findChild(QDialog, "emailMessageDialog")
    assert dialog is not None and dialog.isVisible()
    assert not dialog.isModal()
    text_edit = dialog.findChild(QPlainTextEdit, "emailMessageText")
    assert text_edit.isReadOnly()
    text = text_edit.toPlainText()
    for expected in (
        "From: storeapp <shop@storeapp.invalid>",
        "To: ada <ada@example.com>",
        f"Subject: Your storeapp order #{order.id}",
        "Date: ",
        "Message-ID: <",
        "Hello ada,",
        "Butter croissant",
        "Total: 5.40",
    ):
        assert expected in text
    assert PASSWORD not in text and user.password_hash not in text
    dialog.close()


class Switch(mail.MemoryBackend):
    """A relay the test turns off and on."""

    down = False

    def send_messages(self, messages):
        if Switch.down:
            raise mail.MailError("connection refused")
        return super().send_messages(messages)


def test_the_panel_shows_queued_retrying_dead_and_sent_and_retries_a_dead_one(
    qtbot, store, tmp_path, bridge, monkeypatch
):
    monkeypatch.setitem(mail.BACKENDS, "switch", Switch)
    monkeypatch.setattr(Switch, "down", True)
    settings = DictSettings({"email_log/backend": "switch", "email_log/max_attempts": "3"})
    plugin = EmailLogPlugin(QtPluginHost(store, tmp_path, bridge, settings))
    plugin.ready()
    panel = plugin.create_panel()
    qtbot.addWidget(panel)
    count = panel.findChild(QLabel, "emailCount")
    button = panel.retry_button
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    try:
        store.register_user("ada", "ada@example.com", PASSWORD)
        qtbot.waitUntil(lambda: statuses(plugin.model) == ["queued"])  # no worker yet
        qtbot.waitUntil(lambda: count.text() == "0 sent, 1 queued")

        worker = DurableWorker(store.engine, poll=0.02, backoff=0.4, backoff_cap=0.4)
        worker.start()
        try:
            qtbot.waitUntil(lambda: statuses(plugin.model)[0].startswith("retrying (attempt 2 at "))
            assert statuses(plugin.model)[0].endswith("): connection refused")
            qtbot.waitUntil(lambda: count.text() == "0 sent, 1 retrying")
            qtbot.waitUntil(lambda: statuses(plugin.model)[0].startswith("dead"), timeout=10_000)
            assert statuses(plugin.model) == ["dead after 3 attempts: connection refused"]
            qtbot.waitUntil(lambda: count.text() == "0 sent, 1 dead")

            assert not button.isEnabled()  # nothing selected
            panel.table.selectRow(0)
            assert button.isEnabled()
            Switch.down = False
            panel.table.setFocus()
            QTest.keySequence(panel.table, "Ctrl+R")  # the keyboard's Retry
            qtbot.waitUntil(lambda: statuses(plugin.model) == ["sent"])
            assert not button.isEnabled()
            qtbot.waitUntil(lambda: count.text() == "1 sent")
        finally:
            worker.stop()
    finally:
        plugin.shutdown()
