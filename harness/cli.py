"""The ``semharness`` command line.

Exit codes (DESIGN.md): 0 pass, 1 violation found, 2 usage or bad input, 3 inconclusive.
Bad input is one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from . import __version__
from .contract import CAPABILITY_TEXT, Capabilities
from .errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_USAGE, EXIT_VIOLATION, UsageError
from .registry import Implementation, buggy, builtins, resolve


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _console(args: argparse.Namespace) -> Console:
    """Tables go to stdout, or to stderr when stdout carries --json; wide when not a terminal."""
    to_stderr = bool(getattr(args, "json", False))
    stream = sys.stderr if to_stderr else sys.stdout
    width = None if stream.isatty() else 160
    return Console(stderr=to_stderr, highlight=False, width=width)


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def _implementations(names: Sequence[str]) -> list[Implementation]:
    return [resolve(name) for name in names] if names else builtins()


# ---- list ----


def _capability_summary(caps: Capabilities) -> str:
    lacking = [name for name, has in caps.flags().items() if not has]
    return "all" if not lacking else "all but " + ", ".join(lacking)


def cmd_list(args: argparse.Namespace) -> int:
    from .scenarios import all_scenarios

    impls = buggy() if args.buggy else _implementations(args.impl)
    scenarios = all_scenarios()
    if args.json:
        _print_json(
            {
                "implementations": [
                    {
                        "name": i.name,
                        "kind": i.kind,
                        "description": i.description,
                        "origin": i.origin,
                        "source": i.source,
                        "capabilities": i.capabilities.flags(),
                    }
                    for i in impls
                ],
                "scenarios": [
                    {"name": s.name, "description": s.description, "needs": sorted(s.needs())}
                    for s in scenarios
                ],
            }
        )
        return EXIT_PASS
    console = _console(args)
    table = Table(title="Implementations")
    for column in ("name", "kind", "description", "capabilities"):
        table.add_column(column)
    for impl in impls:
        caps = _capability_summary(impl.capabilities)
        table.add_row(impl.name, impl.kind, impl.description, caps)
    console.print(table)
    console.print("Capabilities: " + "; ".join(f"{k}: {v}" for k, v in CAPABILITY_TEXT.items()))
    table = Table(title="Scenarios")
    for column in ("name", "needs", "description"):
        table.add_column(column)
    for scenario in scenarios:
        table.add_row(scenario.name, ", ".join(sorted(scenario.needs())), scenario.description)
    console.print(table)
    return EXIT_PASS


# ---- run ----


def cmd_run(args: argparse.Namespace) -> int:
    from .folders import writable_folder
    from .mainjob import default_out, print_summary, run_main_job, verdict

    if args.impl:
        impls = [(spec, resolve(spec)) for spec in args.impl]
    else:
        impls = [(impl.name, impl) for impl in builtins()]
    out = writable_folder(args.out or default_out(), "--out folder")
    junit = None
    if args.junit:
        junit = Path(args.junit)
        if not junit.parent.is_dir() or not os.access(junit.parent, os.W_OK):
            raise UsageError(f"cannot write --junit file {args.junit}: no writable folder")
    console = _console(args)
    results, files = run_main_job(
        impls, args.quick, args.seed, out, junit, console, with_selftest=not args.impl
    )
    print_summary(results, files, console)
    if args.json:
        _print_json(results)
    return verdict(results)


# ---- check-history ----


def cmd_check_history(args: argparse.Namespace) -> int:
    from .history import read_jsonl
    from .invariants import check_invariants
    from .linearizability import check_history
    from .violation import render_png, render_text

    if args.budget < 1:
        raise UsageError("--budget must be at least 1")
    history = read_jsonl(args.file, initial=args.initial)
    findings = check_invariants(history)
    verdict = check_history(history, budget=args.budget, witness=False)
    picture = no_picture = None
    if args.png and verdict.status == "violation":
        if verdict.window or verdict.order or verdict.culprit is not None:
            picture = render_png(history, verdict, args.png)
        else:  # the sweep refuted it; the search that names the calls ran out of budget
            no_picture = "no picture: the verdict names no calls (try a larger --budget)"
    if verdict.status == "violation" or findings:
        code = EXIT_VIOLATION
    elif verdict.status == "unknown":
        code = EXIT_INCONCLUSIVE
    else:
        code = EXIT_PASS
    if args.json:
        _print_json(
            {
                "file": args.file,
                "operations": len(history),
                "linearizability": {
                    "status": verdict.status,
                    "reason": verdict.reason,
                    "culprit": verdict.culprit,
                    "window": verdict.window,
                    "partial_linearization": verdict.order if not verdict.ok else None,
                    "counts": verdict.counts if not verdict.ok else None,
                    "nodes": verdict.nodes,
                    "segments": verdict.segments,
                },
                "findings": [f.__dict__ for f in findings],
                "picture": picture or no_picture,
                "exit": code,
            }
        )
        return code
    console = _console(args)
    console.print(f"{args.file}: {len(history):,} operations, initial count {history.initial}")
    console.print(render_text(history, verdict), markup=False, highlight=False)
    for f in findings:
        where = f"#{f.index}: " if f.index is not None else ""
        console.print(f"{f.check}: {where}{f.message}", markup=False)
    if picture or no_picture:
        console.print(f"picture: {picture}" if picture else no_picture)
    return code


# ---- check, replay ----


def cmd_check(args: argparse.Namespace) -> int:
    from .model.command import cmd_check as run_check

    return run_check(args, _console(args))


def cmd_replay(args: argparse.Namespace) -> int:
    from .model.command import cmd_replay as run_replay

    return run_replay(args, _console(args))


def cmd_stress(args: argparse.Namespace) -> int:
    from .stress.command import cmd_stress as run_stress

    return run_stress(args, _console(args))


# ---- selftest ----


def cmd_selftest(args: argparse.Namespace) -> int:
    from .folders import writable_folder
    from .selftest import run_selftest, selftest_names

    every = selftest_names()
    if args.impl:
        known = dict(every)
        unknown = [n for n in args.impl if n not in known]
        if unknown:
            raise UsageError(
                f"{unknown[0]!r} is neither a known-buggy nor a built-in implementation "
                "(see semharness list --buggy)"
            )
        every = [(n, known[n]) for n in args.impl]
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("-j must be at least 1")
    out = writable_folder(args.out, "--out folder")
    console = _console(args)
    finished: list[str] = []
    with console.status(f"selftest: 0 of {len(every)} implementations checked") as status:

        def on_row(row: Any) -> None:
            finished.append(row.impl)
            status.update(
                f"selftest: {len(finished)} of {len(every)} implementations checked "
                f"(last: {row.impl})"
            )

        rows, interrupted = run_selftest(every, args.seed, out, args.jobs, on_row)
    table = Table(title=f"selftest (seed {args.seed})")
    for column in (
        "implementation",
        "is",
        "result",
        "caught by",
        "where",
        "first failure",
        "trace steps",
        "replay",
    ):
        table.add_column(column)
    for r in rows:
        verdict = "caught" if r.caught else "passed"
        mark = f"[green]{verdict}[/]" if r.ok else f"[red]{verdict.upper()}[/]"
        if r.error:
            mark = "[red]ERROR[/]"
        first = f"{r.first_failure_s:.3f} s" if r.first_failure_s is not None else ""
        table.add_row(
            r.impl,
            "buggy" if r.buggy else "correct",
            mark,
            r.check or "",
            r.scenario or "",
            first,
            "" if r.trace_steps is None else str(r.trace_steps),
            r.replay or "",
        )
    console.print(table)
    for r in rows:
        if r.error:
            console.print(f"[red]error[/] {r.impl}: {r.error}", markup=True)
        elif not r.ok:
            what = "escaped every check" if r.buggy else f"was flagged: {r.message}"
            console.print(f"[red]FAIL[/] {r.impl} {what}")
    bugs = [r for r in rows if r.buggy]
    good = [r for r in rows if not r.buggy]
    console.print(
        f"{sum(r.caught for r in bugs)} of {len(bugs)} known-buggy implementations caught; "
        f"{sum(r.caught for r in good)} of {len(good)} correct ones flagged"
        + ("; interrupted: the rows above finished" if interrupted else "")
    )
    if args.json:
        _print_json(
            {"seed": args.seed, "interrupted": interrupted, "rows": [r.to_json() for r in rows]}
        )
    if not all(r.ok for r in rows):
        return EXIT_VIOLATION
    return EXIT_INCONCLUSIVE if interrupted else EXIT_PASS


# ---- report ----


def cmd_report(args: argparse.Namespace) -> int:
    from .report.command import cmd_report as write_report

    return write_report(args)


# ---- bench ----


def cmd_bench(args: argparse.Namespace) -> int:
    from .bench import BENCHMARKS

    names = args.name or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise UsageError(f"unknown benchmark {unknown[0]!r}; known: {', '.join(BENCHMARKS)}")
    console = _console(args)
    results = []
    for name in names:
        with console.status(f"bench {name} ..."):
            result = BENCHMARKS[name]()
        results.append(result)
        table = Table(title=f"bench {name}")
        for column in ("figure", "value", "unit", "baseline", "ratio"):
            table.add_column(column, no_wrap=True)
        for f in result.figures:
            ratio = f"{f.ratio:.2f}x" if f.ratio is not None else ""
            table.add_row(f.name, f"{f.value:,.1f}", f.unit, f.baseline or "", ratio)
        console.print(table)
        for t in result.targets:
            mark = "[green]met[/]" if t.met else "[red]NOT met[/]"
            console.print(f"target: {t.text}: measured {t.measured:.3f} -> {mark}")
        console.print("context: " + ", ".join(f"{k}={v}" for k, v in result.context.items()))
    if args.json:
        _print_json([r.to_json() for r in results])
    return EXIT_PASS


# ---- entry point ----


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="semharness",
        description="Model checking and stress testing for semaphore implementations.",
    )
    parser.add_argument("--version", action="version", version=f"semharness {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    impl_help = "implementation: a built-in name, module:Class, path/file.py:Class or path/file.c"
    p = sub.add_parser("list", help="implementations and scenarios")
    p.add_argument("impl", nargs="*", help=impl_help)
    p.add_argument("--buggy", action="store_true", help="the known-bug corpus instead")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("run", help="the main job: every check over every implementation, a report")
    p.add_argument("impl", nargs="*", help=impl_help + " (default: every built-in)")
    p.add_argument("--quick", action="store_true", help="a short run (under 30 s)")
    p.add_argument("--out", default=None, help="report folder (default: semharness-reports/<time>)")
    p.add_argument("--junit", default=None, help="also write JUnit XML to this file")
    p.add_argument("--seed", type=int, default=0, help="seed of the checks (default 0)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("check", help="the checks for an implementation: battery, model checking")
    from .model.command import add_check_arguments

    add_check_arguments(p, impl_help)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("stress", help="real-thread stress runs: checked, with metrics")
    from .stress.command import add_stress_arguments

    add_stress_arguments(p, impl_help)
    p.set_defaults(func=cmd_stress)

    p = sub.add_parser("replay", help="re-run a recorded failure step by step")
    p.add_argument("file", help="a replay file written by semharness check")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("check-history", help="linearizability and invariants of a history file")
    p.add_argument("file", help="a history in JSON Lines (DESIGN.md), plain or .gz")
    p.add_argument("--budget", type=int, default=1_000_000, help="search nodes per segment")
    p.add_argument("--initial", type=int, default=None, help="initial count, if no header")
    p.add_argument("--png", help="write a picture of a violation to this PNG file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_check_history)

    p = sub.add_parser("selftest", help="the known-bug corpus: every buggy one must be caught")
    p.add_argument("impl", nargs="*", help="only these (default: the corpus and the built-ins)")
    p.add_argument("--seed", type=int, default=0, help="seed of the checks (default 0)")
    p.add_argument("-j", "--jobs", type=int, default=None, help="implementations at a time")
    p.add_argument("--out", default="semharness-selftest", help="folder for replay files")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_selftest)

    p = sub.add_parser("bench", help="performance benchmarks, ours vs. a baseline")
    p.add_argument("name", nargs="*", help="which benchmarks (default: all)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_bench)
    p = sub.add_parser("report", help="the comparative report of results files: Markdown, HTML")
    from .report.command import add_report_arguments

    add_report_arguments(p)
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except UsageError as exc:
        print(f"semharness: error: {exc}", file=sys.stderr)
        if exc.details:
            print(exc.details, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("semharness: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
