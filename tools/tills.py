"""``make tills``: two tills side by side on a throw-away PostgreSQL server.

Starts a PostgreSQL server in a temporary directory the way the tests do
(tests/postgres.py: the server wheel from the test extra; no root, nothing
installed on the machine), creates a shop database with the demo catalogue
and customers, and opens two windows on it, "Till 1" on the left half of
the screen and "Till 2" on the right. A sale at one shows up in the other's
orders, inventory and analytics. Closing both windows (or Ctrl+C here)
stops the server and deletes its directory.

``make tills ARGS="--tills 3"`` opens more; ``--simulate 50`` has till 1
ring up 50 orders; ``--db URL`` uses your own PostgreSQL database instead of
a throw-away server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storeapp.domain import DomainError, Store  # noqa: E402
from storeapp.domain.demo import seed_catalogue, seed_customers  # noqa: E402
from storeapp.listeners import core  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make tills", description=__doc__.splitlines()[0])
    parser.add_argument("--tills", type=int, default=2, choices=range(2, 5), metavar="N")
    parser.add_argument("--db", metavar="URL", help="a PostgreSQL database of your own")
    parser.add_argument(
        "--simulate",
        type=int,
        default=0,
        metavar="N",
        help="till 1 rings up N random orders (watch them reach the other tills)",
    )
    return parser.parse_args(argv)


def screen_halves(count: int) -> list[str]:
    """``x,y,w,h`` for each till: side by side across the screen."""
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    screen = app.primaryScreen()
    if screen is None:
        return [""] * count
    area = screen.availableGeometry()
    width = area.width() // count
    return [f"{area.x() + i * width},{area.y()},{width},{area.height()}" for i in range(count)]


def prepare(url: str) -> None:
    """The demo shop, once (the tills find it ready)."""
    core.ready()
    store = Store.open(url, terminal="setup")
    try:
        seed_catalogue(store)
        seed_customers(store)
    finally:
        store.close()
        core.shutdown()


def open_tills(url: str, count: int, simulate: int = 0) -> int:
    places = screen_halves(count)
    children = []
    for number, place in zip(range(1, count + 1), places, strict=True):
        data = Path(tempfile.mkdtemp(prefix=f"storeapp-till{number}-"))
        # Half a screen each: the Lessons dock (which opens itself on a
        # first start) stays closed; Help > Lessons opens it.
        (data / "settings.ini").write_text("[lessons]\nshown_once=true\n", encoding="utf-8")
        env = {**os.environ, "STOREAPP_DATA_DIR": str(data), "STOREAPP_GEOMETRY": place}
        command = [sys.executable, str(ROOT / "main.py"), "--db", url]
        command += ["--terminal", f"Till {number}"]
        if number == 1 and simulate:
            command += ["--simulate", str(simulate)]
        children.append(subprocess.Popen(command, env=env, cwd=ROOT))
    print(f"storeapp: {count} tills on {url}; close their windows to stop.", flush=True)
    try:
        codes = [child.wait() for child in children]
    except KeyboardInterrupt:
        for child in children:
            child.send_signal(signal.SIGTERM)
        codes = [child.wait() for child in children]
    return max(codes)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Ctrl+C, a closed terminal or a kill: close the tills, then stop the
    # server (a background job starts with SIGINT ignored; SIGTERM would
    # otherwise end this process without its clean-up, the server left running).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    if args.db:
        try:
            prepare(args.db)
        except DomainError as exc:
            print(f"make tills: {exc}", file=sys.stderr)
            return 2
        return open_tills(args.db, args.tills, args.simulate)
    from tests.postgres import PostgresUnavailable, ThrowAwayPostgres

    print("storeapp: starting a throw-away PostgreSQL server…", flush=True)
    try:
        server = ThrowAwayPostgres.start()
    except PostgresUnavailable as exc:
        print(f"make tills: {exc}", file=sys.stderr)
        return 2
    try:
        with server.admin() as conn:
            conn.execute("CREATE DATABASE shop")
        url = server.url("shop")
        prepare(url)
        return open_tills(url, args.tills, args.simulate)
    finally:
        server.stop()
        print("storeapp: the PostgreSQL server is stopped and deleted.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
