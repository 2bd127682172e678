"""Data at rest is private: after a fresh start under the usual umask (022),
the data directory is 0700 and every file storeapp writes there (the
database and its -wal/-shm, settings, the outbox and its messages, an
export of the signal timeline) is its owner's alone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from storeapp import settings as app_settings
from storeapp.app import build
from storeapp.domain import Store

PASSWORD = "s3cret-pass"


def mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_fresh_start_keeps_every_file_private_whatever_the_umask(
    qtbot, tmp_path, monkeypatch, umask_022
):
    monkeypatch.delenv("STOREAPP_DB", raising=False)
    data = tmp_path / "fresh" / "storeapp"
    database = data / "storeapp.sqlite3"
    outbox = data / "outbox"
    export = data / "signals.jsonl"
    window = build(None, ["email_log", "inspector"], data_dir=data)
    qtbot.addWidget(window)
    try:
        window.store.register_user("ada", "ada@example.com", PASSWORD)
        assert window.manager.record("email_log").plugin.wait_for_delivery(10)
        assert window.manager.record("inspector").plugin.export_jsonl(export) > 0
        window.settings.setValue("test/written", 1)
        window.settings.sync()
        messages = list(outbox.glob("*.eml"))
        assert messages, "no message was written: the outbox would prove nothing"
        files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
        files += [data / "settings.ini", export, *messages]
        modes_while_open = {str(p.relative_to(data)): mode(p) for p in files}
    finally:
        window.close()

    assert (mode(data), mode(outbox)) == ("0o700", "0o700")
    assert modes_while_open == {str(p.relative_to(data)): "0o600" for p in files}
    assert (mode(database), mode(data / "settings.ini")) == ("0o600", "0o600")


def test_an_older_data_directory_and_database_are_made_private_when_opened(
    tmp_path, monkeypatch, umask_022
):
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    database = data / "storeapp.sqlite3"
    Store.open(f"sqlite:///{database}").close()
    for path in (data, database):
        path.chmod(0o755 if path.is_dir() else 0o644)
    monkeypatch.setenv("STOREAPP_DATA_DIR", str(data))

    assert app_settings.data_dir() == data
    Store.open(app_settings.default_db_url()).close()

    assert (mode(data), mode(database)) == ("0o700", "0o600")
