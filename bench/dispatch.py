"""Benchmark 1: the cost of one more receiver in ``Signal.send_robust``.

The figure is a slope: (time per send with 10 receivers - with 1) / 9, for

* storeapp's ``Signal.send_robust`` (no observer attached: the fast path),
* a plain Python loop calling the same receivers with the same kwargs,
* blinker's own ``blinker.Signal.send``,
* Django's ``django.dispatch.Signal(use_caching=True).send_robust``.

Receivers are no-op functions ``def r(sender, **kw): pass`` connected
strongly (``weak=False``, as the plugins connect theirs); the sender is a
class; the payload is one keyword (``order=...``), as for order_created.

The inspector hook (one lookup of ``instrumentation.observer`` per send) is
always compiled in. Its cost is storeapp's ``send_robust`` against an
otherwise identical subclass whose send loop (``Signal.deliver``) is the same
source with the observer test removed (derived from the live source at run
time, so it follows the lead's edits, and compiled in the globals of
:mod:`storeapp.domain.dispatch.signal`).

Method: ``timeit`` (gc off), each measurement calibrated to ~25 ms; every
round measures every (candidate, receivers) pair once in rotating order;
each figure is the median over rounds of the per-round value.
"""

from __future__ import annotations
import __future__

import argparse
import inspect
import sys
import textwrap
import time
import timeit
from typing import Any

from bench import Report, cli_main, fmt_pct, fmt_ratio, fmt_us, median, rotate

COUNTS = (1, 10)
TARGET_SECONDS = 0.025


class Sender:
    """The sender: a class, as for the model signals."""


def _make_receiver(i: int) -> Any:
    def r(sender: Any, **kw: Any) -> None:
        pass

    r.__qualname__ = f"noop_receiver_{i}"
    return r


def _no_hook_deliver() -> Any | None:
    """storeapp's send loop (``Signal.deliver``) without the observer test, or
    None if that test is not found in the source (the note says so)."""
    from storeapp.domain.dispatch import signal as signal_module

    source = textwrap.dedent(inspect.getsource(signal_module.Signal.deliver))
    lines = source.splitlines()
    out: list[str] = []
    skip_next = False
    removed = 0
    for line in lines:
        if skip_next:
            skip_next = False
            if line.strip().startswith("return instrumentation.observed_send("):
                removed += 1
                continue
        if line.strip() == "if instrumentation.observer is not None:":
            skip_next = True
            removed += 1
            continue
        out.append(line)
    if removed != 2:
        return None
    namespace: dict[str, Any] = {}
    code = compile(
        "\n".join(out),
        "<bench: deliver without the observer test>",
        "exec",
        flags=__future__.annotations.compiler_flag,
        dont_inherit=True,
    )
    exec(code, vars(signal_module), namespace)  # the module's globals: same lookups
    return namespace["deliver"]


def _calibrate(timer: timeit.Timer) -> int:
    number = 1000
    while True:
        spent = timer.timeit(number)
        if spent >= TARGET_SECONDS / 5:
            return max(1000, int(number * TARGET_SECONDS / spent))
        number *= 5


def run(args: argparse.Namespace) -> Report:
    import blinker
    import django
    from django.conf import settings

    if not settings.configured:
        settings.configure()
    django.setup()
    from django.dispatch import Signal as DjangoSignal

    from storeapp.domain import dispatch

    started = time.perf_counter()
    report = Report("dispatch")
    if dispatch.get_observer() is not None:  # pragma: no cover - nothing attaches one here
        dispatch.set_observer(None)

    receivers = [_make_receiver(i) for i in range(max(COUNTS))]
    payload = object()
    no_hook = _no_hook_deliver()

    class NoHookSignal(dispatch.Signal):
        pass

    if no_hook is not None:
        NoHookSignal.deliver = no_hook  # type: ignore[method-assign]

    timers: dict[tuple[str, int], timeit.Timer] = {}
    for n in COUNTS:
        rs = receivers[:n]
        store_sig = dispatch.Signal(name=f"bench{n}")
        hookless = NoHookSignal(name=f"bench_nohook{n}")
        blinker_sig = blinker.Signal()
        django_sig = DjangoSignal(use_caching=True)
        for r in rs:
            store_sig.connect(r, weak=False)
            hookless.connect(r, weak=False)
            blinker_sig.connect(r, weak=False)
            django_sig.connect(r, weak=False)
        rs_tuple = tuple(rs)

        def plain_send(
            sender: Any, _rs: Any = rs_tuple, _sig: Any = store_sig, **kwargs: Any
        ) -> None:
            for r in _rs:
                r(signal=_sig, sender=sender, **kwargs)

        env = {
            "S": Sender,
            "p": payload,
            "store": store_sig.send_robust,
            "nohook": hookless.send_robust,
            "blink": blinker_sig.send,
            "dj": django_sig.send_robust,
            "plain": plain_send,
        }
        timers[("storeapp", n)] = timeit.Timer("store(S, order=p)", globals=env)
        timers[("plain loop", n)] = timeit.Timer("plain(S, order=p)", globals=env)
        timers[("blinker", n)] = timeit.Timer("blink(S, order=p)", globals=env)
        timers[("django", n)] = timeit.Timer("dj(sender=S, order=p)", globals=env)
        if no_hook is not None:
            timers[("no hook", n)] = timeit.Timer("nohook(S, order=p)", globals=env)
        # Same answers from every candidate before anything is timed.
        assert len(store_sig.send_robust(Sender, order=payload)) == n
        assert len(hookless.send_robust(Sender, order=payload)) == n
        assert len(django_sig.send_robust(sender=Sender, order=payload)) == n
        assert len(blinker_sig.send(Sender, order=payload)) == n

    numbers = {key: _calibrate(t) for key, t in timers.items()}
    keys = list(timers)
    per_send: dict[tuple[str, int], list[float]] = {k: [] for k in keys}
    for i in range(args.rounds):
        for key in rotate(keys, i * 3):
            per_send[key].append(timers[key].timeit(numbers[key]) / numbers[key])

    def slopes(name: str) -> list[float]:
        lo, hi = COUNTS[0], COUNTS[-1]
        return [(b - a) / (hi - lo) for a, b in zip(per_send[(name, lo)], per_send[(name, hi)])]

    slope = {name: slopes(name) for name in ("storeapp", "plain loop", "blinker", "django")}
    vs_django = median(s / d for s, d in zip(slope["storeapp"], slope["django"]))
    vs_plain = median(s / p for s, p in zip(slope["storeapp"], slope["plain loop"]))
    vs_blinker = median(s / b for s, b in zip(slope["storeapp"], slope["blinker"]))
    report.row(
        "dispatch: storeapp slope / Django send_robust slope",
        fmt_ratio(vs_django),
        "<= 1.00x",
        vs_django <= 1.0,
    )
    report.row(
        "dispatch: storeapp slope / plain loop slope",
        fmt_ratio(vs_plain),
        "<= 1.60x",
        vs_plain <= 1.6,
    )
    report.row("dispatch: storeapp slope / blinker send slope", fmt_ratio(vs_blinker))
    for name in ("storeapp", "plain loop", "django", "blinker"):
        report.row(
            f"dispatch: per-receiver cost, {name} (abs., drifts)", fmt_us(median(slope[name]))
        )
    if no_hook is not None:
        for n in COUNTS:
            extra = median(
                a / b - 1 for a, b in zip(per_send[("storeapp", n)], per_send[("no hook", n)])
            )
            if n == COUNTS[0]:
                report.row(
                    f"dispatch: observer hook cost, {n} receiver (vs no check)",
                    fmt_pct(extra),
                    "<= +5 %",
                    extra <= 0.05,
                )
            else:
                report.row(
                    f"dispatch: observer hook cost, {n} receivers (vs no check)", fmt_pct(extra)
                )
    else:
        report.row("dispatch: observer hook cost", "n/a", "<= +5 %", None)
        report.notes.append(
            "dispatch: no `if instrumentation.observer is not None:` test found in "
            "Signal.deliver; "
            "the hook-cost figure was not measured."
        )
    report.notes.append(
        f"dispatch: {args.rounds} interleaved rounds; slope = (t[10] - t[1]) / 9 per send; "
        "receivers connected with weak=False; ratios are medians of per-round ratios. "
        "The hook cost is given at 1 receiver, where the fixed per-send cost weighs most."
    )
    report.elapsed = time.perf_counter() - started
    return report


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")


def main(argv: list[str] | None = None) -> int:
    return cli_main("dispatch", run, add_arguments, argv)


if __name__ == "__main__":
    sys.exit(main())
