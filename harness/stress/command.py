"""``semharness stress``: real-thread stress runs, checked and measured, one implementation
after another under the same settings."""

from __future__ import annotations

import argparse
import json

from rich.console import Console
from rich.markup import escape
from rich.status import Status

from ..errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_VIOLATION, UsageError
from ..folders import writable_folder
from ..registry import resolve
from .metrics import format_metrics
from .mix import Mix
from .runner import StressOutcome, stress_one


def add_stress_arguments(p: argparse.ArgumentParser, impl_help: str) -> None:
    p.add_argument("impl", nargs="+", help=impl_help)
    p.add_argument("--threads", default="2", help="threads, or a list such as 1,2,4 (default 2)")
    length = p.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, default=None, help="run length (default 1 s)")
    length.add_argument("--ops", type=int, default=None, help="calls per thread instead")
    p.add_argument("--mix", default="", help="e.g. acquire=4,try=2,timed=1,available=1,n=1")
    p.add_argument("--seed", type=int, default=0, help="seed of the threads' draws")
    p.add_argument("--pin", action="store_true", help="pin thread i to CPU i mod CPUs")
    p.add_argument("--watchdog", type=float, default=5.0, help="seconds without progress = hang")
    p.add_argument("--out", default=None, help="folder for results JSON and history files")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _threads(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise UsageError(f"--threads must be a number or a list like 1,2,4, not {text!r}") from None
    if not counts or any(not 1 <= c <= 4096 for c in counts):
        raise UsageError("--threads must be between 1 and 4096")
    return counts


def cmd_stress(args: argparse.Namespace, console: Console) -> int:
    try:
        mix = Mix.parse(args.mix)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    threads = _threads(args.threads)
    if args.ops is not None and args.ops < 1:
        raise UsageError("--ops must be at least 1")
    if args.seconds is not None and not args.seconds > 0:
        raise UsageError("--seconds must be positive")
    if not args.watchdog > 0:
        raise UsageError("--watchdog must be positive")
    seconds = args.seconds if args.ops is None and args.seconds is not None else None
    if args.ops is None and seconds is None:
        seconds = 1.0
    out = None
    if args.out:
        out = writable_folder(args.out, "--out folder")
    impls = [resolve(spec) for spec in args.impl]
    outcomes: list[StressOutcome] = []
    try:
        for impl in impls:
            for n in threads:
                head = f"stress {escape(impl.name)}, {n} threads"
                with console.status(f"{head}, {escape(str(mix))} ...") as status:
                    live = _LiveLine(
                        status, head, seconds, None if args.ops is None else args.ops * n
                    )
                    try:
                        outcome = stress_one(
                            impl,
                            n,
                            mix,
                            seconds,
                            args.ops,
                            args.seed,
                            args.pin,
                            args.watchdog,
                            out,
                            progress=live.progress,
                            checking=live.checking,
                        )
                    except ValueError as exc:  # settings the driver refuses
                        raise UsageError(str(exc)) from None
                outcomes.append(outcome)
                _print(outcome, console)
    except KeyboardInterrupt:
        console.print("[yellow]interrupted: the runs above finished[/]")
    if out is not None:
        (out / "stress-results.json").write_text(
            json.dumps([o.to_json() for o in outcomes], indent=1, default=str) + "\n"
        )
    if args.json:
        print(json.dumps([o.to_json() for o in outcomes], indent=2, default=str))
    if any(o.status == "fail" for o in outcomes):
        return EXIT_VIOLATION
    return EXIT_INCONCLUSIVE if any(o.status == "unknown" for o in outcomes) else EXIT_PASS


class _LiveLine:
    """The status line of the run in progress: calls so far, their rate, the time against the
    plan -- then that the history is being checked, which for a big run takes a while.

    It lives in a rich Status, which draws only on a terminal (and on stderr under --json, as
    the console does), so piped and JSON output stay as they were.
    """

    def __init__(
        self, status: Status, head: str, seconds: float | None, planned_calls: int | None
    ) -> None:
        self.status = status
        self.head = head
        self.seconds = seconds
        self.planned_calls = planned_calls

    def progress(self, calls: int, seconds: float) -> None:
        """The driver's progress callback: (calls completed, seconds since the start)."""
        rate = calls / seconds if seconds > 0 else 0.0
        done = f"{calls:,}" if self.planned_calls is None else f"{calls:,} / {self.planned_calls:,}"
        clock = (
            f"{seconds:.1f} s" if self.seconds is None else f"{seconds:.1f} / {self.seconds:g} s"
        )
        self.status.update(f"{self.head}: {done} calls, {_si(rate)} calls/s, {clock}")

    def checking(self) -> None:
        """The run is over: the history's checks begin."""
        self.status.update(f"{self.head}: checking the history ...")


def _si(value: float) -> str:
    """A rate in 3 significant figures: 950, 12.3k, 4.56M."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.0f}"


def _print(o: StressOutcome, console: Console) -> None:
    mark = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "skip": "[dim]skip[/]"}
    head = f"{mark.get(o.status, '[yellow]unknown[/]')} {o.impl}, {o.threads} threads"
    if o.ops:
        head += f": {o.ops:,} calls in {o.seconds:.2f} s, checked in {o.check_seconds:.2f} s"
    console.print(head)
    for reason in o.reasons[:20]:
        console.print("  " + escape(reason))
    if o.metrics:
        console.print(format_metrics(o.metrics), markup=False, highlight=False)
        ctx = o.context
        console.print(
            f"  machine: {ctx.get('cpus')} CPUs, load {ctx.get('loadavg_1m_before')} -> "
            f"{ctx.get('loadavg_1m_after')}, kernel {ctx.get('kernel')}, Python "
            f"{ctx.get('python')}, GIL {ctx.get('gil')}, pinned {ctx.get('pinned')}",
            markup=False,
            highlight=False,
        )
    if o.history_file:
        console.print(f"  history: {o.history_file}")
