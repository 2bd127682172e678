"""Command line: ``storeapp [--db URL] [--terminal NAME] [--plugins a,b | --no-plugins] [--demo]``
opens the window; ``storeapp events [--db URL] [--after ID] [--follow]`` prints the event log."""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="storeapp",
        description="A point of sale that shows signals at work.",
        epilog="`storeapp events [--db URL] [--after ID] [--follow]` prints the event log "
        "as JSON lines instead (see `storeapp events --help`).",
    )
    parser.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (default: $STOREAPP_DB, else an SQLite "
        "file in your data directory)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--plugins",
        metavar="NAME,NAME",
        help="enable exactly these listener plugins (core is always on)",
    )
    group.add_argument("--no-plugins", action="store_true", help="enable no plugin but core")
    parser.add_argument(
        "--terminal",
        metavar="NAME",
        help="this till's name, on its orders and events and in its title bar "
        "(default: $STOREAPP_TERMINAL, else the host name; 1-64 printable characters)",
    )
    parser.add_argument("--demo", action="store_true", help="pre-register a few demo customers")
    parser.add_argument(
        "--simulate",
        type=int,
        metavar="N",
        default=0,
        help="place N random orders from a worker thread after start-up",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["events"]:  # Qt-free: no window, no PySide6 import
        from storeapp.events_cli import main as events_main

        return events_main(argv[1:])
    args = parse_args(argv)
    # SQLAlchemy before PySide6: ~130 ms faster start (PySide6 hooks imports).
    import sqlalchemy.orm  # noqa: F401

    from storeapp.app import run

    plugins: list[str] | None = None
    if args.no_plugins:
        plugins = []
    elif args.plugins is not None:
        plugins = [p.strip() for p in args.plugins.split(",") if p.strip()]
    return run(
        args.db, plugins=plugins, demo=args.demo, simulate=args.simulate, terminal=args.terminal
    )


if __name__ == "__main__":
    sys.exit(main())
