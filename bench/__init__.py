"""storeapp's benchmark suite: ``make bench`` (or ``python -m bench [name ...]``).

Every benchmark reports; none fails. Times on this shared machine drift, so
each timed figure is a ratio against a baseline measured in the same run, as
the median of interleaved rounds (candidate and baseline alternate in every
round). Each benchmark module has ``run(args) -> Report`` and is started by
:mod:`bench.__main__` in a process of its own (a crash, a Qt abort or a big
RSS in one never touches the others).

Modules: :mod:`bench.dispatch`, :mod:`bench.orders`, :mod:`bench.drain`,
:mod:`bench.tills`, :mod:`bench.gui`, :mod:`bench.startup`, :mod:`bench.memory`.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

BENCHMARKS = ("dispatch", "orders", "drain", "tills", "gui", "startup", "memory")

MET = "met"
MISSED = "missed"
INFO = "-"


@dataclass
class Row:
    """One line of the results table."""

    figure: str
    value: str
    target: str = ""
    #: True (met), False (missed) or None (no target: information only).
    met: bool | None = None

    @property
    def verdict(self) -> str:
        if self.met is None:
            return INFO
        return MET if self.met else MISSED


@dataclass
class Report:
    """What one benchmark hands back to the runner."""

    name: str
    rows: list[Row] = field(default_factory=list)
    #: One-line remarks printed under the table (method, caveats).
    notes: list[str] = field(default_factory=list)
    #: (title, preformatted text): profiles, timings.
    sections: list[tuple[str, str]] = field(default_factory=list)
    elapsed: float = 0.0

    def row(self, figure: str, value: str, target: str = "", met: bool | None = None) -> Row:
        r = Row(figure, value, target, met)
        self.rows.append(r)
        return r

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Report:
        data = json.loads(text)
        return cls(
            name=data["name"],
            rows=[Row(**r) for r in data["rows"]],
            notes=list(data["notes"]),
            sections=[(t, b) for t, b in data["sections"]],
            elapsed=float(data["elapsed"]),
        )


# --------------------------------------------------------------------------
# Statistics and formatting
# --------------------------------------------------------------------------


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else float("nan")


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def rotate(items: Sequence[Any], round_no: int) -> list[Any]:
    """``items`` rotated by ``round_no``: each goes first in turn, so no
    candidate always runs right after (or before) the same one."""
    n = len(items)
    k = round_no % n
    return list(items[k:]) + list(items[:k])


def fmt_ratio(value: float) -> str:
    return f"{value:.2f}x"


def fmt_pct(value: float) -> str:
    return f"{value * 100:+.1f} %"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def fmt_us(seconds: float) -> str:
    return f"{seconds * 1e6:.3f} us"


def table(rows: Sequence[Row]) -> str:
    """A Markdown table (readable as plain text too)."""
    head = ("Figure", "Value", "Target", "Met?")
    body = [(r.figure, r.value, r.target or "", r.verdict) for r in rows]
    widths = [
        max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)
    ]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for b in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(b, widths)) + " |")
    return "\n".join(lines)


def write_report(report: Report, path: str | Path | None) -> None:
    """Hand a report to the runner (a JSON file), or print it when run alone."""
    if path:
        Path(path).write_text(report.to_json(), encoding="utf-8")


def cli_main(name: str, run: Any, add_arguments: Any, argv: list[str] | None = None) -> int:
    """``python -m bench.NAME``: parse, run, print the table (or write JSON
    for the runner). Always 0: the bench reports, it does not fail."""
    import argparse

    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}")
    add_arguments(parser)
    parser.add_argument("--json", help="write the report here (the runner)")
    args = parser.parse_args(argv)
    report = run(args)
    write_report(report, args.json)
    if not args.json:
        print(table(report.rows))
        for note in report.notes:
            print(note)
        for title, body in report.sections:
            print(f"\n{title}\n{body}")
    return 0
