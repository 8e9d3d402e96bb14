"""``semharness run``: the main job -- every check over every built-in implementation, then the
comparative report.

Four phases, one after another, each over every implementation, each saving what it found even
when the next is interrupted:

1. the peer suite and the bad-input battery on real threads (an implementation per process: the
   suite spends most of its time waiting out timeouts, so they overlap well);
2. model checking: the default scenarios and budget, as ``semharness check`` runs them;
3. short stress runs at 1, 2 and 4 threads, as ``semharness stress`` runs them;
4. the selftest: every known-buggy implementation must be caught by the same checks (the
   correct ones' own rows are phases 1 to 3).

The results go to ``results.json`` (the schema ``semharness report`` reads) and the report
beside it.  Ctrl-C stops the phase in progress, keeps what it finished, and still writes the
results, the report and the replay files of every failure found so far.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_context
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from .errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_VIOLATION
from .registry import Implementation
from .report.results import FORMAT, VERSION


@dataclass(frozen=True)
class Plan:
    """How much of each phase a run does: the default, or ``--quick``."""

    quick: bool
    peer_processes: int = 4
    model_schedules: int = 1000
    model_jobs: int = 2
    stress_threads: tuple[int, ...] = (1, 2, 4)
    stress_seconds: float = 0.5

    @classmethod
    def make(cls, quick: bool) -> Plan:
        if quick:
            return cls(True, model_schedules=100, stress_threads=(2,), stress_seconds=0.2)
        return cls(False)


def default_out() -> Path:
    """A fresh, timestamped folder under ./semharness-reports/."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path("semharness-reports") / stamp
    k = 1
    while out.exists():
        k += 1
        out = Path("semharness-reports") / f"{stamp}-{k}"
    return out


def machine() -> dict[str, Any]:
    """The benchmarks' machine context with the GIL status and the host name (what labels a
    run in a report); the run records the load itself, before and after."""
    from .bench import machine_context
    from .stress.metrics import gil_status

    context = machine_context()
    del context["loadavg_1m"]
    return {**context, "gil": gil_status(), "hostname": socket.gethostname()}


#: An implementation as the command line named it (what child processes resolve), and resolved.
Named = tuple[str, Implementation]


# ---- phase 1: the peer suite -------------------------------------------------------------------

#: Seconds a peer-suite scenario may run past its own watchdog's bound before its process is
#: killed (the watchdog cannot act when an implementation holds the GIL or wedges the process).
PEER_SLACK_S = 60.0
#: What a peer-suite row says when the scenario's process died or hung.
DIED = "the process running this implementation died"
HUNG = "no answer after %.0f s, past the scenario's own watchdog: its process was killed"
REST_NOT_RUN = "the rest of its peer suite did not run"


def _peer_worker(spec: str, quick: bool, conn: Connection) -> None:
    """One implementation's peer suite, in a child process: each scenario's start and result go
    to the parent as they happen, so a crash or a kill loses only the scenario in progress."""
    from .peer_run import result_json, run_peer_suite
    from .registry import resolve

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us; a terminal's Ctrl-C too
    run_peer_suite(
        [resolve(spec)],
        quick=quick,
        console=Console(file=io.StringIO()),  # tables go nowhere
        on_start=lambda name: conn.send(("start", name)),
        on_result=lambda result: conn.send(("result", result_json(result))),
    )
    conn.send(("done", None))


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


@dataclass
class _PeerChild:
    """The process running one implementation's peer suite, and what it has said so far."""

    name: str
    proc: BaseProcess
    conn: Connection
    rows: list[dict[str, Any]] = field(default_factory=list)
    running: str | None = None  # the scenario in progress
    since: float = 0.0
    done: bool = False

    def read(self) -> None:
        """Takes every message waiting (also those a process that has died left behind)."""
        try:
            while self.conn.poll():
                what, data = self.conn.recv()
                if what == "start":
                    self.running, self.since = data, time.monotonic()
                elif what == "result":
                    self.rows.append(data)
                    self.running = None
                else:
                    self.done = True
        except (EOFError, OSError):
            pass

    def overdue(self, limits: dict[str, float]) -> float | None:
        """The bound of the scenario in progress, when its process has run past it."""
        if self.running is None:
            return None
        limit = limits.get(self.running, 0.0) + PEER_SLACK_S
        return limit if time.monotonic() - self.since > limit else None

    def stop(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()

    def lost(self, message: str) -> None:
        """Records the scenario in progress as failed: its process died or was killed."""
        took = time.monotonic() - self.since if self.running else 0.0
        scenario = self.running or "(starting the peer suite)"
        self.rows.append(
            {
                "scenario": scenario,
                "status": "fail",
                "duration_s": round(took, 3),
                "messages": [message],
            }
        )


def run_peer(impls: list[Named], plan: Plan, note: Callable[[str], None]) -> dict:
    """Phase 1: an implementation per child process, ``plan.peer_processes`` at a time (the
    suite spends most of its time waiting out timeouts, so they overlap well).  A child that
    dies or hangs fails the scenario it was running, and the rest of its suite is not run; Ctrl-C
    keeps every scenario that finished."""
    from .scenarios import all_scenarios

    limits = {s.name: s.time_limit for s in all_scenarios()}
    ctx = get_context("spawn")
    started = time.monotonic()
    queue = list(impls)
    live: list[_PeerChild] = []
    finished: dict[str, list[dict[str, Any]]] = {}
    interrupted = False

    def end(child: _PeerChild, message: str | None) -> None:
        if message is not None:
            child.lost(message)
        child.stop()
        live.remove(child)
        finished[child.name] = child.rows

    try:
        while queue or live:
            while queue and len(live) < plan.peer_processes:
                spec, impl = queue.pop(0)
                ours, theirs = ctx.Pipe(duplex=False)
                # not daemonic, so an implementation may start processes of its own; every
                # child is stopped in the `finally` below
                proc = ctx.Process(target=_peer_worker, args=(spec, plan.quick, theirs))
                proc.start()
                theirs.close()
                live.append(_PeerChild(impl.name, proc, ours))
            mp_wait([c.conn for c in live] + [c.proc.sentinel for c in live], timeout=0.5)
            for child in list(live):
                child.read()
                if child.done:
                    end(child, None)
                elif not child.proc.is_alive():
                    child.read()  # what it sent just before it died
                    end(child, f"{DIED} ({_exit_text(child.proc.exitcode)}); {REST_NOT_RUN}")
                elif (limit := child.overdue(limits)) is not None:
                    end(child, f"{HUNG % limit}; {REST_NOT_RUN}")
            ran = sum(len(c.rows) for c in live) + sum(map(len, finished.values()))
            note(
                f"peer suite: {len(finished)} of {len(impls)} implementations, {ran} scenarios done"
            )
    except KeyboardInterrupt:
        interrupted = True
    finally:
        for child in list(live):
            child.read()
            end(child, None)
    ordered = {impl.name: finished[impl.name] for _, impl in impls if impl.name in finished}
    return {
        "interrupted": interrupted,
        "seconds": time.monotonic() - started,
        "results": ordered,
    }


# ---- phase 2: model checking -------------------------------------------------------------------


def run_model(
    impls: list[Named], plan: Plan, seed: int, out: Path, note: Callable[[str], None]
) -> tuple[dict[str, Any], bool]:
    """Phase 2, as ``semharness check`` does it; (results, interrupted)."""
    from .model.command import split_by_capabilities
    from .model.executors import model_skip_reason
    from .model.programs import default_scenarios
    from .model.runner import Settings
    from .model.session import check_model

    settings = Settings(seed=seed, schedules=plan.model_schedules)
    scenarios = default_scenarios(seed)
    results: dict[str, Any] = {}
    for spec, impl in impls:
        reason = model_skip_reason(impl)
        if reason:
            results[impl.name] = {"skipped": reason}
            continue
        runnable, skipped = split_by_capabilities(impl, scenarios)
        started = time.monotonic()

        def progress(name: str, runs: int, failures: int, who: str = impl.name) -> None:
            note(f"model checking {who}: {name}, {runs:,} schedules")

        outcomes = check_model(spec, runnable, settings, plan.model_jobs, out, progress)
        results[impl.name] = {
            "seconds": time.monotonic() - started,
            "settings": {
                "strategy": settings.strategy,
                "seed": seed,
                "schedules": settings.schedules,
            },
            "outcomes": [o.to_json() for o in outcomes],
            "skipped": [{"scenario": name, "reason": why} for name, why in skipped],
        }
        if any(o.status == "unfinished" for o in outcomes):
            return results, True
    return results, False


# ---- phase 3: stress ---------------------------------------------------------------------------


def run_stress(
    impls: list[Named], plan: Plan, seed: int, out: Path, note: Callable[[str], None]
) -> tuple[list[dict[str, Any]], bool]:
    """Phase 3, as ``semharness stress`` does it; (outcomes, interrupted)."""
    from .stress.mix import DEFAULT_MIX
    from .stress.runner import stress_one

    outcomes: list[dict[str, Any]] = []
    try:
        for _, impl in impls:
            for threads in plan.stress_threads:

                def progress(
                    calls: int, seconds: float, who: str = f"{impl.name} x{threads}"
                ) -> None:
                    rate = calls / seconds if seconds > 0 else 0.0
                    note(f"stress {who}: {calls:,} calls ({rate:,.0f}/s)")

                outcome = stress_one(
                    impl,
                    threads,
                    DEFAULT_MIX,
                    seconds=plan.stress_seconds,
                    seed=seed,
                    out=out,
                    progress=progress,
                    failures_only=True,
                )
                outcomes.append(outcome.to_json())
    except KeyboardInterrupt:
        return outcomes, True
    return outcomes, False


# ---- phase 4: the selftest ---------------------------------------------------------------------


def run_corpus(seed: int, out: Path, note: Callable[[str], None]) -> tuple[dict[str, Any], bool]:
    """Phase 4: the known-bug corpus through the default checks; (results, interrupted)."""
    from .selftest import run_selftest, selftest_names

    names = selftest_names(include_correct=False)
    started = time.monotonic()
    finished: list[str] = []

    def on_row(row: Any) -> None:
        finished.append(row.impl)
        note(f"selftest: {len(finished)} of {len(names)} known bugs checked")

    rows, interrupted = run_selftest(names, seed, out, on_row=on_row)
    return {
        "interrupted": interrupted,
        "seconds": time.monotonic() - started,
        "rows": [r.to_json() for r in rows],
    }, interrupted


# ---- the whole job ------------------------------------------------------------------------------


def run_main_job(
    impls: list[Named],
    quick: bool,
    seed: int,
    out: Path,
    junit: Path | None,
    console: Console,
    with_selftest: bool = True,
) -> tuple[dict[str, Any], dict[str, Path]]:
    """Runs the phases, then writes ``results.json`` and the report (whatever was interrupted).
    Returns (results, the report's files)."""
    from .report import write_report

    plan = Plan.make(quick)
    started = time.monotonic()
    results: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "command": shlex.join(["semharness", *sys.argv[1:]]),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "interrupted": False,
        "machine": {**machine(), "loadavg_1m_before": round(os.getloadavg()[0], 2)},
        "implementations": [
            {"name": i.name, "kind": i.kind, "description": i.description} for _, i in impls
        ],
    }
    replays = out / "replays"
    replays.mkdir(exist_ok=True)
    with console.status("semharness run ...") as status:

        def note(text: str) -> None:
            status.update(f"[{time.monotonic() - started:5.1f} s] {text}")

        interrupted = ended = False
        try:
            results["peer"] = run_peer(impls, plan, note)
            interrupted = results["peer"]["interrupted"]
            if not interrupted:
                results["model"], interrupted = run_model(impls, plan, seed, replays, note)
            if not interrupted:
                stress_out = out / "histories"
                stress_out.mkdir(exist_ok=True)
                results["stress"], interrupted = run_stress(impls, plan, seed, stress_out, note)
            if not interrupted and with_selftest:
                results["selftest"], interrupted = run_corpus(seed, out / "selftest", note)
            ended = True
        except KeyboardInterrupt:
            interrupted = ended = True
        finally:  # also when a phase fails: what the others found is written before it goes on
            results["interrupted"] = interrupted or not ended
            results["seconds"] = time.monotonic() - started
            results["machine"]["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
            status.update("writing the report ...")
            (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
            files = write_report([results], out, junit)
    return results, files


def summary_rows(results: dict[str, Any]) -> dict[str, dict[str, str]]:
    """implementation -> check title -> status, as the report's summary matrix has it (pass,
    FAIL, skip, unknown, unfinished, ERROR; checks that did not run are left out)."""
    from .report.figures import summary
    from .report.results import make_runs

    table = summary(make_runs([results]), [])
    titles = {c["key"]: c["title"] for c in table["checks"]}
    return {
        row["impl"]: {
            titles[key]: cell["status"]
            for key, cell in row["cells"].items()
            if cell["status"] is not None
        }
        for row in table["rows"]
    }


def verdict(results: dict[str, Any]) -> int:
    """The exit status: 1 when a correct implementation failed a check or a known bug escaped
    (a FAIL or ERROR anywhere in the summary), else 3 when the run was interrupted, else 0."""
    if any(
        status in ("FAIL", "ERROR")
        for cells in summary_rows(results).values()
        for status in cells.values()
    ):
        return EXIT_VIOLATION
    return EXIT_INCONCLUSIVE if results.get("interrupted") else EXIT_PASS


def print_summary(results: dict[str, Any], files: dict[str, Path], console: Console) -> None:
    from .report.figures import CHECKS

    rows = summary_rows(results)
    checks = [title for _, title in CHECKS if any(title in cells for cells in rows.values())]
    table = Table(title="semharness run: summary")
    table.add_column("implementation")
    for check in checks:
        table.add_column(check)
    style = {"pass": "green", "FAIL": "red", "ERROR": "red", "unknown": "yellow"}
    for name, cells in rows.items():
        shown = []
        for check in checks:
            value = cells.get(check, "")
            shown.append(f"[{style[value]}]{value}[/]" if value in style else value)
        table.add_row(name, *shown)
    console.print(table)
    took = results.get("seconds", 0.0)
    state = "interrupted: the report shows what finished" if results.get("interrupted") else "done"
    console.print(f"{state} in {took:.0f} s")
    for name in ("markdown", "html", "junit"):
        if name in files:
            console.print(f"{name}: {files[name]}")
