"""``python -m bench [dispatch|orders|drain|tills|gui|startup|memory ...] [options]``.

Runs the named benchmarks (default: all seven), each in a fresh process of
its own (``python -m bench.<name> --json FILE``), prints one table and, for
a full run (or with ``--write``), writes ``bench/RESULTS.md``. It reports;
it never fails: a missed target is marked "missed", a benchmark that
crashes or times out gets an "error" row, and the exit status is 0.
Children's stderr (Qt and log chatter) goes to ``bench/bench.log``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bench import BENCHMARKS, Report, Row, table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
LOG = HERE / "bench.log"

#: Generous per-benchmark time limits (seconds); the whole run takes ~13 min.
LIMITS = {
    "dispatch": 180,
    "orders": 300,
    "drain": 300,
    "tills": 420,
    "gui": 300,
    "startup": 240,
    "memory": 600,
}


def machine() -> list[tuple[str, str]]:
    def ver(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    return [
        ("Platform", platform.platform()),
        ("CPUs", str(os.cpu_count())),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("PySide6", ver("PySide6")),
        ("SQLAlchemy", ver("SQLAlchemy")),
        ("blinker", ver("blinker")),
        ("Django", ver("Django")),
        ("QT_QPA_PLATFORM", os.environ.get("QT_QPA_PLATFORM", "")),
    ]


def run_one(name: str, extra: list[str], log, limit: float) -> Report:
    """Run ``bench.<name>`` in its own process; its report, or an error row."""
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-") as tmp:
        out = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", f"bench.{name}", "--json", str(out), *extra]
        started = time.perf_counter()
        log.write(f"\n===== {' '.join(cmd)}\n")
        log.flush()
        problem = None
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=log, timeout=limit, cwd=HERE.parent)
            if proc.returncode != 0:
                problem = f"exit status {proc.returncode}"
        except subprocess.TimeoutExpired:
            problem = f"timed out after {limit} s"
        elapsed = time.perf_counter() - started
        if out.exists():
            report = Report.from_json(out.read_text(encoding="utf-8"))
            report.elapsed = elapsed
            return report
    report = Report(name, elapsed=elapsed)
    report.rows.append(
        Row(f"{name}: did not finish", f"error: {problem or 'no report'}", "", False)
    )
    report.notes.append(f"{name}: see bench/bench.log for its output.")
    return report


def render(reports: list[Report], total: float, argv: list[str]) -> str:
    rows = [row for report in reports for row in report.rows]
    missed = [row.figure for row in rows if row.met is False]
    lines = [
        "# storeapp benchmark results",
        "",
        f"Written by `{' '.join(['python -m bench', *argv])}` (what `make bench` runs) on "
        f"{dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; "
        f"the run took {total:.0f} s "
        f"({', '.join(f'{r.name} {r.elapsed:.0f} s' for r in reports)}).",
        "",
        "Every timed figure is a ratio against a baseline measured in the same run "
        '(the median of interleaved rounds); figures marked "abs." are absolute and '
        "drift with the machine's load. The suite reports, it does not fail: a target "
        "not reached is marked **missed**.",
        "",
        "## Machine",
        "",
        *(f"- {k}: {v}" for k, v in machine()),
        "",
        "## Results",
        "",
        table(rows),
        "",
        f"Targets missed: {len(missed)} of {sum(1 for r in rows if r.met is not None)}"
        + (":" if missed else "."),
        *(f"- {m}" for m in missed),
        "",
        "## Method notes",
        "",
        *(f"- {note}" for report in reports for note in report.notes),
    ]
    for report in reports:
        for title, body in report.sections:
            lines += ["", f"## {title}", "", "```", body, "```"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[1])
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)} (default: all)"
    )
    parser.add_argument(
        "--write", action="store_true", help="write bench/RESULTS.md even for a partial run"
    )
    parser.add_argument("--no-write", action="store_true", help="never write bench/RESULTS.md")
    parser.add_argument("--orders", type=int, help="gui: burst size (default 2000)")
    parser.add_argument(
        "--memory-orders", type=int, help="memory: orders per batch (default 10000)"
    )
    parser.add_argument(
        "--memory-budget", type=float, help="memory: seconds both batches may take (default 420)"
    )
    parser.add_argument("--rounds", type=int, help="dispatch/orders/drain/startup: rounds")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    for name in names:
        if name not in BENCHMARKS:
            parser.error(f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS)}")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    started = time.perf_counter()
    reports = []
    with open(LOG, "w", encoding="utf-8") as log:
        for name in names:
            extra: list[str] = []
            if args.rounds and name in ("dispatch", "orders", "drain", "startup"):
                extra += ["--rounds", str(args.rounds)]
            if args.orders and name == "gui":
                extra += ["--orders", str(args.orders)]
            if args.memory_orders and name == "memory":
                extra += ["--orders", str(args.memory_orders)]
            if args.memory_budget and name == "memory":
                extra += ["--budget", str(args.memory_budget)]
            print(f"bench: {name} ...", flush=True)
            limit = LIMITS[name]
            if name == "memory" and args.memory_budget:
                limit = max(limit, args.memory_budget + 180)
            report = run_one(name, extra, log, limit)
            print(f"bench: {name} done in {report.elapsed:.0f} s", flush=True)
            reports.append(report)
    total = time.perf_counter() - started

    rows = [row for report in reports for row in report.rows]
    print()
    print(table(rows))
    print()
    for report in reports:
        for note in report.notes:
            print(f"- {note}")
    for report in reports:
        for title, body in report.sections:
            print(f"\n{title}\n{body}")
    print(f"\nbench: {len(names)} benchmark(s) in {total:.0f} s")
    full = set(names) == set(BENCHMARKS)
    if (full or args.write) and not args.no_write:
        RESULTS.write_text(render(reports, total, argv), encoding="utf-8")
        print(f"bench: wrote {RESULTS.relative_to(HERE.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
