"""``semharness check`` and ``semharness replay``: the model checker on the command line."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ..errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_VIOLATION, UsageError
from ..folders import writable_folder
from ..registry import Implementation, resolve
from .executors import model_skip_reason
from .programs import ModelScenario, default_scenarios
from .runner import Settings
from .session import Outcome, check_model, replay_in_worker
from .strategies import STRATEGIES


def add_check_arguments(p: argparse.ArgumentParser, impl_help: str) -> None:
    p.add_argument("impl", nargs="+", help=impl_help)
    p.add_argument("--scenario", action="append", help="only this model scenario (repeatable)")
    p.add_argument("--strategy", default="random", help="random | pct | dfs (default random)")
    p.add_argument("--seed", type=int, default=0, help="seed of the strategy (default 0)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--schedules", type=int, default=None, help="runs per scenario")
    budget.add_argument("--time-budget", type=float, default=None, help="seconds per scenario")
    p.add_argument("--bound", type=int, default=2, help="DFS preemption bound (default 2)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--out", default="semharness-failures", help="folder for replay files")
    p.add_argument("--no-battery", action="store_true", help="skip the real-time battery")
    p.add_argument(
        "--fail-fast",
        action="store_true",
        help="stop an implementation's model checking at its first failure",
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")


def settings_from_args(args: argparse.Namespace) -> Settings:
    if args.strategy not in STRATEGIES:
        raise UsageError(f"unknown strategy {args.strategy!r}; known: {', '.join(STRATEGIES)}")
    if args.schedules is not None and args.schedules < 1:
        raise UsageError("--schedules must be at least 1")
    if args.time_budget is not None and not args.time_budget > 0:
        raise UsageError("--time-budget must be a positive number of seconds")
    if args.jobs < 1 or args.bound < 0:
        raise UsageError("-j must be at least 1 and --bound at least 0")
    schedules = args.schedules or (10**12 if args.time_budget else 1000)
    if args.strategy == "dfs" and args.schedules is None and args.time_budget is None:
        schedules = 200_000  # DFS ends by itself on small scenarios
    return Settings(
        strategy=args.strategy,
        seed=args.seed,
        schedules=schedules,
        time_budget=args.time_budget,
        bound=args.bound,
    )


def scenarios_from_args(args: argparse.Namespace) -> list[ModelScenario]:
    every = default_scenarios(args.seed)
    if not args.scenario:
        return every
    by_name = {s.name: s for s in every}
    unknown = [n for n in args.scenario if n not in by_name]
    if unknown:
        raise UsageError(f"no model scenario {unknown[0]!r}; known: {', '.join(by_name)}")
    return [by_name[n] for n in args.scenario]


def split_by_capabilities(
    impl: Implementation, scenarios: list[ModelScenario]
) -> tuple[list[ModelScenario], list[tuple[str, str]]]:
    """The scenarios ``impl`` can run, and (scenario, reason) for those it lacks what they need."""
    runnable, skipped = [], []
    for s in scenarios:
        lacking = impl.capabilities.missing(s.needs)
        if lacking:
            skipped.append((s.name, "needs " + ", ".join(lacking)))
        else:
            runnable.append(s)
    return runnable, skipped


def check_one(
    spec: str,
    impl: Implementation,
    scenarios: list[ModelScenario],
    settings: Settings,
    jobs: int,
    out: Path,
    console: Console,
    fail_fast: bool = False,
) -> tuple[list[Outcome], list[tuple[str, str]]]:
    """Model-checks one implementation: its outcomes and the (scenario, reason) skipped."""
    runnable, skipped = split_by_capabilities(impl, scenarios)
    start = time.monotonic()
    failed: set[str] = set()
    with console.status(f"model checking {impl.name} ...") as status:

        def progress(name: str, runs: int, failures: int) -> None:
            if failures:
                failed.add(name)
            rate = runs / max(time.monotonic() - start, 1e-9)
            status.update(
                f"{impl.name} {name}: {runs:,} schedules ({rate:,.0f}/s), "
                f"{len(failed)} scenario(s) failed so far"
            )

        outcomes = check_model(spec, runnable, settings, jobs, out, progress, fail_fast)
    return outcomes, skipped


def cmd_check(args: argparse.Namespace, console: Console) -> int:
    """The checks a user gets for a new implementation: the bad-input battery in real time,
    then model checking of the default scenario set."""
    settings = settings_from_args(args)
    scenarios = scenarios_from_args(args)
    impls = [(spec, resolve(spec)) for spec in args.impl]
    out = writable_folder(args.out, "--out folder")
    failed = interrupted = False
    report: dict[str, Any] = {"model": {}, "battery": None}
    if not args.no_battery:
        from ..peer_run import run_peer_suite
        from ..scenarios import scenario_set

        battery = run_peer_suite(
            [i for _, i in impls], console=console, scenarios=scenario_set("battery")
        )
        failed = bool(battery.failed)
        report["battery"] = battery.to_json()
    for spec, impl in impls:
        if interrupted:
            break
        reason = model_skip_reason(impl)
        if reason:
            console.print(f"[dim]{impl.name}: model checking skipped: {reason}[/]")
            report["model"][impl.name] = {"skipped": reason}
            continue
        outcomes, skipped = check_one(
            spec, impl, scenarios, settings, args.jobs, out, console, args.fail_fast
        )
        caught = any(o.status == "fail" for o in outcomes)
        failed = failed or caught
        # (fail-fast leaves the rest unfinished on purpose: that is no interruption)
        interrupted = not caught and any(o.status == "unfinished" for o in outcomes)
        report["model"][impl.name] = {
            "outcomes": [o.to_json() for o in outcomes],
            "skipped": [{"scenario": n, "reason": r} for n, r in skipped],
        }
        _print_outcomes(impl.name, settings, outcomes, skipped, console)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    if failed:
        return EXIT_VIOLATION
    return EXIT_INCONCLUSIVE if interrupted else EXIT_PASS


def _print_outcomes(
    name: str,
    settings: Settings,
    outcomes: list[Outcome],
    skipped: list[tuple[str, str]],
    console: Console,
) -> None:
    table = Table(title=f"model checking {name} ({settings.strategy}, seed {settings.seed})")
    for column in ("scenario", "result", "schedules", "histories judged", "seconds", "note"):
        table.add_column(column)
    for o in outcomes:
        result = {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]"}.get(o.status, "[yellow]-[/]")
        note = ""
        if o.failure:
            note = f"{o.failure['check']}: see below"
        elif o.status == "unfinished":
            note = "interrupted"
        elif settings.strategy == "dfs":
            note = "all schedules explored" if o.complete else "not complete (budget)"
        runs, distinct = f"{o.runs:,}", f"{o.distinct:,}"
        table.add_row(o.scenario, result, runs, distinct, f"{o.seconds:.2f}", note)
    for scenario, reason in skipped:
        table.add_row(scenario, "[dim]skip[/]", "", "", "", reason)
    console.print(table)
    for o in outcomes:
        if o.failure:
            f = o.failure
            what = escape(f"{name} {o.scenario}: [{f['check']}] {f['message']}")
            console.print(f"[red]FAIL[/] {what}")
            if f.get("trace"):
                console.print(f["trace"], markup=False, highlight=False)
            if f.get("replay"):
                console.print(f"replay: semharness replay {f['replay']}")


def cmd_replay(args: argparse.Namespace, console: Console) -> int:
    """Re-runs a recorded failure step by step and shows its trace."""
    from .replayfile import Replay

    rep = Replay(args.file)
    impl = resolve(rep.implementation)
    reason = model_skip_reason(impl)
    if reason:
        raise UsageError(f"{args.file}: {impl.name} {reason}")
    rep.check_implementation(impl)
    event = replay_in_worker(rep.implementation, rep.scenario, rep.config, rep.choices)
    if event["event"] == "crashed":
        console.print(event["trace"], markup=False, highlight=False)
        console.print(f"[red]crash[/]: signal {event['signal']} (recorded: {rep.check})")
        return EXIT_VIOLATION
    if event["outcome"] == "mismatch":
        raise UsageError(f"{args.file}: the choices do not fit {rep.implementation}'s runs")
    if rep.trace_digest and event["trace_digest"] != rep.trace_digest:
        raise UsageError(f"{args.file}: the replay does not reproduce the recorded trace")
    if args.json:
        print(json.dumps(event, indent=2))
    else:
        console.print(event["trace"], markup=False, highlight=False)
    return EXIT_VIOLATION if event["failures"] else EXIT_PASS
