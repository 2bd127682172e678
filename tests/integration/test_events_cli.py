"""``storeapp events``: the real command, in a process of its own, on a real SQLite file."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import storeapp
from storeapp.domain import Store
from storeapp.domain.events import log
from storeapp.events_cli import FALLBACK_SECONDS, POLL_SECONDS

REPO = Path(storeapp.__file__).resolve().parent.parent
KEYS = {"id", "signal", "sender", "terminal", "at", "payload"}
#: Generous: a loaded machine may take seconds to start Python; the log itself is 100 ms behind.
WAIT = 30.0

#: A second till: places orders on the same database, one transaction each.
WRITER = """
import sys
from storeapp.domain import Store
store = Store.open(sys.argv[1])
user_id, product_id, n = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for _ in range(n):
    cart = store.create_cart()
    store.add_to_cart(cart.id, product_id, 1)
    print(store.place_order(cart.id, user_id).id, flush=True)
store.close()
"""


@pytest.fixture
def db(tmp_path, core_ready, monkeypatch) -> Iterator[tuple[str, Store, int, int]]:
    """A database with a few events: (url, store, user id, product id)."""
    monkeypatch.setenv("STOREAPP_TERMINAL", "till-test")
    url = f"sqlite:///{tmp_path / 'till.sqlite3'}"
    store = Store.open(url)
    user = store.register_user("ada", "ada@example.com", "s3cret-pass")
    tea = store.add_product("TEA", "Green tea", "3.50", 1000)
    store.update_product(tea.id, unit_price="3.75")
    yield url, store, user.id, tea.id
    store.close()


def env() -> dict[str, str]:
    return {**os.environ, "STOREAPP_TERMINAL": "till-cli", "PYTHONUNBUFFERED": "1"}


def events_cmd(*args: str, entry: str = "module") -> list[str]:
    if entry == "main.py":
        return [sys.executable, str(REPO / "main.py"), "events", *args]
    return [sys.executable, "-m", "storeapp", "events", *args]


def run_events(*args: str, entry: str = "module") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        events_cmd(*args, entry=entry),
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=REPO,
        env=env(),
    )


def logged(store: Store, after: int = 0) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        return [json.loads(json.dumps(log.as_json_dict(r))) for r in log.read_after(conn, after)]


def place_one(store: Store, user_id: int, product_id: int) -> int:
    cart = store.create_cart()
    store.add_to_cart(cart.id, product_id, 1)
    return store.place_order(cart.id, user_id).id


@pytest.mark.parametrize("entry", ["module", "main.py"])
def test_it_prints_the_log_as_json_lines_oldest_first(db, entry):
    url, store, user_id, product_id = db
    place_one(store, user_id, product_id)

    result = run_events("--db", url, entry=entry)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert printed == logged(store)
    assert [e["signal"] for e in printed] == [
        "user_registered",
        "product_changed",
        "product_changed",
        "order_created",
    ]
    assert all(set(e) == KEYS for e in printed)
    assert [e["id"] for e in printed] == sorted(e["id"] for e in printed)
    assert printed[0]["terminal"] == "till-test"
    assert printed[0]["at"].endswith("+00:00")


def test_after_resumes_where_the_last_run_stopped_without_a_gap(db):
    url, store, user_id, product_id = db
    first = [json.loads(line) for line in run_events("--db", url).stdout.splitlines()]
    for _ in range(3):
        place_one(store, user_id, product_id)

    result = run_events("--db", url, "--after", str(first[-1]["id"]))

    assert result.returncode == 0, result.stderr
    rest = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["signal"] for e in rest] == ["order_created"] * 3
    assert first + rest == logged(store)


def test_the_default_database_is_the_apps(tmp_path, monkeypatch):
    data = tmp_path / "data"
    data.mkdir()
    store = Store.open(f"sqlite:///{data / 'storeapp.sqlite3'}")
    store.add_product("TEA", "Green tea", "3.50", 5)
    store.close()
    monkeypatch.setenv("STOREAPP_DATA_DIR", str(data))
    monkeypatch.delenv("STOREAPP_DB", raising=False)

    result = run_events()

    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["signal"] for line in result.stdout.splitlines()] == [
        "product_changed"
    ]


class Follower:
    """``storeapp events --follow`` in a process; its lines read by a thread as they come."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            events_cmd(*args, "--follow"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, count: int, timeout: float = WAIT) -> list[dict[str, Any]]:
        """The next ``count`` events, or fail once ``timeout`` has passed."""
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"only {len(got)} of {count} events within {timeout} s")
            try:
                got.append(json.loads(self.lines.get(timeout=min(left, 0.05))))
            except queue.Empty:
                assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
        return got

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=WAIT)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def follow() -> Iterator[Any]:
    started: list[Follower] = []

    def start(*args: str) -> Follower:
        started.append(Follower(*args))
        return started[-1]

    yield start
    for follower in started:
        follower.kill()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_follow_prints_what_another_process_commits_then_exits_0_on(db, follow, signum):
    url, store, user_id, product_id = db
    existing = logged(store)
    follower = follow("--db", url)
    assert follower.wait_for(len(existing)) == existing

    writer = subprocess.run(
        [sys.executable, "-c", WRITER, url, str(user_id), str(product_id), "3"],
        capture_output=True,
        text=True,
        timeout=WAIT,
        cwd=REPO,
        env=env(),
    )
    assert writer.returncode == 0, writer.stderr
    orders = [int(line) for line in writer.stdout.split()]

    new = follower.wait_for(3)
    assert [(e["signal"], e["payload"]["order_id"]) for e in new] == [
        ("order_created", order_id) for order_id in orders
    ]
    assert new == logged(store, existing[-1]["id"])
    assert follower.stop(signum) == 0
    assert follower.proc.stderr is not None and follower.proc.stderr.read() == ""


@pytest.mark.slow
def test_follow_with_after_starts_after_that_event_and_sees_each_commit_promptly(db, follow):
    url, store, user_id, product_id = db
    last = logged(store)[-1]["id"]
    follower = follow("--db", url, "--after", str(last))
    place_one(store, user_id, product_id)
    assert [e["signal"] for e in follower.wait_for(1)] == ["order_created"]

    # Now that it is polling: a commit shows within a bound well above the poll
    # interval (the command's promise is 200 ms; a loaded test machine gets slack).
    committed = time.monotonic()
    place_one(store, user_id, product_id)
    follower.wait_for(1, timeout=WAIT)
    assert time.monotonic() - committed < 5.0
    assert POLL_SECONDS <= 0.2
    assert follower.stop(signal.SIGTERM) == 0


# -- bad input -------------------------------------------------------------------------


def test_a_database_that_does_not_exist_is_refused_and_not_created(tmp_path):
    missing = tmp_path / "nowhere.sqlite3"

    result = run_events("--db", f"sqlite:///{missing}")

    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == f"storeapp events: No database at {missing} (storeapp creates it when it opens it).\n"
    )
    assert not missing.exists()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--db", "not a url"], "Not a database URL"),
        (["--db", "sqlite://"], "in-memory"),
        (["--after", "seven"], "an event id is a whole number >= 0, not 'seven'"),
        (["--after", "-3"], "an event id is a whole number >= 0, not '-3'"),
        (["--follow", "--bogus"], "unrecognized arguments: --bogus"),
    ],
    ids=["not a URL", "in memory", "after not a number", "after negative", "unknown option"],
)
def test_bad_input_is_one_line_on_stderr_and_exit_status_2(args, says):
    result = run_events(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("storeapp events: ")
    assert says in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_a_file_that_is_not_a_storeapp_database_is_refused_untouched(tmp_path):
    import sqlite3

    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE notes (text)")
    conn.close()

    result = run_events("--db", f"sqlite:///{other}")

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"storeapp events: sqlite:///{other} is not a storeapp database.\n"
    with sqlite3.connect(other) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]
    conn.close()


def test_the_command_loads_no_qt(db):
    url = db[0]
    probe = (
        "import sys\n"
        "from storeapp.__main__ import main\n"
        f"assert main(['events', '--db', {url!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6'))))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=WAIT, cwd=REPO
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"


@pytest.mark.slow
def test_follow_on_postgresql_is_woken_by_each_commits_notify(new_db_url, core_ready, follow):
    url = new_db_url("postgresql")
    store = Store.open(url, terminal="till-test")
    try:
        user = store.register_user("ada", "ada@example.com", "s3cret-pass")
        tea = store.add_product("TEA", "Green tea", "3.50", 1000)
        follower = follow("--db", url)
        assert len(follower.wait_for(2)) == 2
        for _ in range(3):
            place_one(store, user.id, tea.id)
            # Well inside the fallback read: only the NOTIFY can have woken it.
            (event,) = follower.wait_for(1, timeout=FALLBACK_SECONDS * 0.8)
            assert event["signal"] == "order_created"
        assert follower.stop(signal.SIGTERM) == 0
    finally:
        store.close()
