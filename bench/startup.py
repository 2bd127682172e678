"""Benchmark 4: start-up, in fresh processes, against a bare Qt window.

Three child scripts (``bench/scripts``), each run with ``sys.executable``:

* ``startup_bare.py``: QApplication + QMainWindow, shown; prints ``painted``
  on its first paint event;
* ``startup_bare.py --imports``: the same after importing ``sqlalchemy.orm``
  and ``PySide6.QtCharts`` (what storeapp needs beyond a bare window);
* ``startup_storeapp.py``: storeapp's ``start()`` as ``make run`` calls it
  (default plugins) on a prepared SQLite file; prints ``painted`` (the
  frame, painted before the rest is imported), ``built``, then ``ready``
  once the filled window is painted with no coalesced panel refresh left;
* ``startup_storeapp.py --required-only``: the same with the required
  plugin alone (no optional panel), to tell the till's own cost from the
  plugins'.

The parent times each line from just before ``Popen`` (so interpreter start
is in every figure). One warm-up run of each is discarded (it creates the
database, writes the bytecode cache into a temporary PYTHONPYCACHEPREFIX and
warms the file cache; "cold" here means a new process, not an empty page
cache). Each round runs the three in rotating order; the figures
are medians of the per-round ratios:

* first paint: storeapp ``painted`` / (bare + imports) ``painted`` [<= 1.1x];
* ready: storeapp ``ready`` / (bare + imports) ``painted`` [<= 1.3x];
* first paint / bare ``painted`` and ready with the required plugin alone /
  (bare + imports), for information.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Report, cli_main, fmt_ms, fmt_ratio, median, rotate

SCRIPTS = Path(__file__).resolve().parent / "scripts"
TIMEOUT = 60.0


def launch(args: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run one child; the time of each line it prints, from Popen."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
        env=env,
    )
    marks: dict[str, float] = {}
    assert proc.stdout is not None
    try:
        for line in proc.stdout:
            marks.setdefault(line.strip(), time.perf_counter() - start)
    finally:
        try:
            proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return marks


def run(args: argparse.Namespace) -> Report:
    started = time.perf_counter()
    report = Report("startup")
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory(prefix="storeapp-bench-startup-") as tmp:
        # Bytecode cached as on a user's machine, but in the temp directory
        # (never in the source tree), whatever PYTHONDONTWRITEBYTECODE says.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        data = Path(tmp) / "data"
        data.mkdir()
        children = {
            "bare": [str(SCRIPTS / "startup_bare.py")],
            "bare + imports": [str(SCRIPTS / "startup_bare.py"), "--imports"],
            "storeapp": [str(SCRIPTS / "startup_storeapp.py"), str(data)],
            "required only": [str(SCRIPTS / "startup_storeapp.py"), str(data), "--required-only"],
        }
        for argv in children.values():  # warm-up: database, file cache
            launch(argv, env)
        marks: dict[str, list[dict[str, float]]] = {name: [] for name in children}
        for r in range(args.rounds):
            for name in rotate(list(children), r):
                marks[name].append(launch(children[name], env))

    def series(name: str, mark: str) -> list[float]:
        return [m.get(mark, float("nan")) for m in marks[name]]

    bare = series("bare", "painted")
    imports = series("bare + imports", "painted")
    painted = series("storeapp", "painted")
    ready = series("storeapp", "ready")
    built = series("storeapp", "built")
    required = series("required only", "ready")
    complete = all(v == v for v in (*bare, *imports, *painted, *ready))
    paint_ratio = median(p / b for p, b in zip(painted, imports))
    ready_ratio = median(r / b for r, b in zip(ready, imports))
    bare_ratio = median(p / b for p, b in zip(painted, bare))
    required_ratio = median(r / b for r, b in zip(required, imports))
    rows = [
        ("startup: first paint (the frame), storeapp / (bare + imports)", paint_ratio, 1.1),
        ("startup: ready (every panel filled), storeapp / (bare + imports)", ready_ratio, 1.3),
    ]
    for label, ratio, target in rows:
        if complete:
            report.row(label, fmt_ratio(ratio), f"<= {target:.2f}x", ratio <= target)
        else:
            report.row(label, "a child printed nothing", f"<= {target:.2f}x", False)
    report.row("startup: first paint, storeapp / bare window", fmt_ratio(bare_ratio))
    report.row(
        "startup: ready with the required plugin alone, storeapp / (bare + imports)",
        fmt_ratio(required_ratio),
    )
    report.row(
        "startup: medians (abs.): bare / bare+imports / storeapp painted, built, ready",
        " / ".join(fmt_ms(median(s)) for s in (bare, imports, painted, built, ready)),
    )
    report.notes.append(
        f"startup: {args.rounds} interleaved rounds of 4 fresh processes after one discarded "
        "warm-up each; times from Popen to the child's printed line (interpreter start "
        "included); storeapp on an existing database with the default plugins (and, "
        "for one figure, the required plugin alone)."
    )
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")


def main(argv: list[str] | None = None) -> int:
    return cli_main("startup", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
