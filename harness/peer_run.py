"""Running scenario sets over implementations in real time, for ``semharness run``.

Until the model checker and stress runs exist, the main job is the peer suite and the
bad-input battery on real threads over every implementation: one row per implementation,
one column per scenario, pass / FAIL / skip.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from .realtime import ScenarioResult, run_scenario
from .registry import Implementation
from .scenario import Scenario
from .scenarios import all_scenarios

#: --quick shrinks loops of a thousand iterations or more (the 860,160-item producerConsumer)
#: and leaves out scenarios meant to take longer than QUICK_MAX_SECONDS (the 2 s timeouts).
QUICK_SCALE = 0.02
QUICK_MAX_SECONDS = 5.0


@dataclass
class SuiteReport:
    """Every (implementation, scenario) result of one run."""

    results: dict[str, list[ScenarioResult]] = field(default_factory=dict)
    interrupted: bool = False

    @property
    def failed(self) -> list[tuple[str, ScenarioResult]]:
        return [(impl, r) for impl, rs in self.results.items() for r in rs if r.status == "fail"]

    def to_json(self) -> dict[str, Any]:
        return {
            "interrupted": self.interrupted,
            "results": {impl: [result_json(r) for r in rs] for impl, rs in self.results.items()},
        }


def result_json(result: ScenarioResult) -> dict[str, Any]:
    """One scenario's result as results files hold it."""
    return {
        "scenario": result.name,
        "status": result.status,
        "duration_s": round(result.duration, 3),
        "messages": list(result.messages),
    }


def _cell(result: ScenarioResult) -> str:
    return {"pass": "[green]pass[/]", "fail": "[red]FAIL[/]", "skip": "[dim]skip[/]"}[result.status]


def run_peer_suite(
    impls: list[Implementation],
    *,
    quick: bool = False,
    console: Console | None = None,
    scenarios: list[Scenario] | None = None,
    on_start: Callable[[str], None] | None = None,
    on_result: Callable[[ScenarioResult], None] | None = None,
) -> SuiteReport:
    """Runs every scenario (default: of every set) over every implementation; Ctrl-C keeps
    what has finished.  ``on_start(scenario name)`` and ``on_result(result)`` are told of each
    scenario as it starts and ends (``semharness run`` streams them out of a worker process, so
    that an implementation that kills its process loses only the scenario in progress)."""
    console = console or Console()
    scenarios = all_scenarios() if scenarios is None else scenarios
    if quick:
        scenarios = [s for s in scenarios if s.nominal_seconds() <= QUICK_MAX_SECONDS]
    scale = QUICK_SCALE if quick else 1.0
    report = SuiteReport()
    try:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("peer suite", total=len(impls) * len(scenarios))
            for impl in impls:
                results = report.results.setdefault(impl.name, [])
                for scenario in scenarios:
                    progress.update(task, description=f"{impl.name}: {scenario.name}")
                    if on_start is not None:
                        on_start(scenario.name)
                    result = run_scenario(scenario, impl.create, impl.capabilities, scale=scale)
                    results.append(result)
                    if on_result is not None:
                        on_result(result)
                    progress.advance(task)
    except KeyboardInterrupt:
        report.interrupted = True
    _print_summary(report, scenarios, console)
    if quick:
        console.print(f"--quick: scenarios meant to take over {QUICK_MAX_SECONDS:g} s left out")
    return report


def _print_summary(report: SuiteReport, scenarios: list[Any], console: Console) -> None:
    table = Table(title="semharness run: peer suite and bad-input battery, real threads")
    table.add_column("scenario")
    for impl in report.results:
        table.add_column(impl)
    for i, scenario in enumerate(scenarios):
        row = [scenario.name]
        for rs in report.results.values():
            row.append(_cell(rs[i]) if i < len(rs) else "")
        table.add_row(*row)
    console.print(table)
    for impl, result in report.failed:
        console.print(f"[red]FAIL[/] {impl} {result.name}: " + "; ".join(result.messages))
    if report.interrupted:
        console.print("[yellow]interrupted: the table shows what finished[/]")
    skipped = sum(r.status == "skip" for rs in report.results.values() for r in rs)
    total = sum(len(rs) for rs in report.results.values())
    failed = len(report.failed)
    console.print(f"{total - failed - skipped} passed, {failed} failed, {skipped} skipped")
