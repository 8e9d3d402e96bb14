"""``semharness selftest``: the known-bug corpus through the checks every user gets.

A harness that has never caught a bug proves nothing.  Every known-buggy implementation
(implementations/buggy/, each a real reported bug) and every correct built-in goes, in worker
processes of its own, through exactly what a user's new implementation gets: ``semharness check
IMPL`` (the bad-input battery on real threads, then model checking with the default strategy,
budget and scenario set; for the buggy ones with ``--fail-fast``, which only stops at the first
failure) and, when that finds nothing, a short ``semharness stress IMPL`` run.
They are launched as the command line launches them, with nothing but the implementation's
name, so no check can know what it is looking at.  A buggy implementation must be caught, a
correct one must pass: anything else is exit 1.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .registry import buggy, builtins

#: The short stress run after a model check that found nothing.
STRESS_SECONDS = 0.3
STRESS_THREADS = 2
#: Seconds one command may take before the selftest reports it as hung and kills it.
COMMAND_TIMEOUT = 600.0


@dataclass
class SelftestRow:
    """One implementation's result: whether it was caught, by what, how fast."""

    impl: str
    buggy: bool
    caught: bool = False
    check: str | None = None  # the first failure's check
    scenario: str | None = None  # ...and where it was found
    first_failure_s: float | None = None  # seconds of checking before the first failure
    trace_steps: int | None = None  # the minimised trace's length
    replay: str | None = None
    seconds: float = 0.0  # the whole row, process start-up included
    message: str = ""
    error: str | None = None  # the harness could not run it (not a verdict)

    @property
    def ok(self) -> bool:
        """As it should be: buggy and caught, or correct and passed."""
        return self.error is None and self.caught == self.buggy

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class _Commands:
    """The child processes in flight, so that Ctrl-C can end them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen] = set()
        self.stopped = False

    def run(self, args: list[str]) -> tuple[int, str, str]:
        """(exit status, stdout, stderr) of ``semharness ARGS`` in a child process."""
        with self._lock:
            if self.stopped:
                raise KeyboardInterrupt
            proc = subprocess.Popen(
                [sys.executable, "-m", "semharness.cli", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
            )
            self._live.add(proc)
        try:
            out, err = proc.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\nsemharness selftest: killed after {COMMAND_TIMEOUT:g} s"
            return -9, out, err
        finally:
            with self._lock:
                self._live.discard(proc)
        if self.stopped:
            raise KeyboardInterrupt
        return proc.returncode, out, err

    def stop(self) -> None:
        with self._lock:
            self.stopped = True
            for proc in self._live:
                proc.kill()


def _found_after(failure: dict[str, Any]) -> float:
    """When the model checker found a failure (seconds into its job), or inf when nothing says
    (a crash or a hang, found by the parent, not by a search): such a failure is never taken
    for the first, nor timed as if found at once."""
    at = failure.get("found_after_job_s")
    return float(at) if at is not None else math.inf


def _first_model_failure(report: dict[str, Any], row: SelftestRow) -> None:
    """Fills ``row`` from ``semharness check --json``: the battery runs first, then model
    checking, whose scenarios take turns; the first failure is the one found earliest, timed
    from the start of the check (the battery's time plus the model checker's own)."""
    elapsed = 0.0
    battery = (report.get("battery") or {}).get("results", {}).get(row.impl, [])
    for result in battery:
        elapsed += result.get("duration_s", 0.0)
        if result["status"] == "fail" and not row.caught:
            row.caught, row.check, row.scenario = True, "bad input", result["scenario"]
            row.first_failure_s = elapsed
            row.message = "; ".join(result.get("messages") or [])[:300]
    model = report.get("model", {}).get(row.impl, {})
    found = [o for o in model.get("outcomes", []) if o.get("failure")]
    if not found:
        return
    first = min(found, key=lambda o: _found_after(o["failure"]))
    failure = first["failure"]
    # the model checker's trace and replay file, even when the battery caught it first
    row.trace_steps = failure.get("trace_steps")
    row.replay = failure.get("replay")
    if row.caught:
        return
    row.caught, row.check, row.scenario = True, failure["check"], first["scenario"]
    at = _found_after(failure)
    row.first_failure_s = elapsed + at if at != math.inf else None
    row.message = failure.get("message", "")[:300]


def _stress_failure(outcomes: list[dict[str, Any]], row: SelftestRow) -> None:
    for outcome in outcomes:
        if outcome["status"] == "fail":
            reason = (outcome.get("reasons") or ["failed"])[0]
            row.caught, row.scenario = True, f"stress x{outcome['threads']}"
            row.check = reason.split(":", 1)[0]
            row.message = reason[:300]
            return


def check_implementation(
    name: str, is_buggy: bool, seed: int, out: Path, commands: _Commands
) -> SelftestRow:
    """The default checks over one implementation, as ``semharness check`` and ``semharness
    stress`` run them."""
    row = SelftestRow(name, is_buggy)
    started = time.monotonic()
    args = ["check", name, "--json", "--seed", str(seed), "--out", str(out / name)]
    if is_buggy:  # caught is caught: the rest of its scenarios would tell nothing new
        args.append("--fail-fast")
    code, stdout, stderr = commands.run(args)
    try:
        report = json.loads(stdout)
    except ValueError:
        report = None
    if report is None or code not in (0, 1):
        tail = (stderr.strip().splitlines() or [f"exit status {code}"])[-1]
        row.error = f"semharness check: {tail}"
    else:
        _first_model_failure(report, row)
        if code == 1 and not row.caught:
            row.error = "semharness check said 1 but reported no failure"
    if row.error is None and not row.caught:
        stress = ["stress", name, "--json", "--seed", str(seed)]
        stress += ["--seconds", str(STRESS_SECONDS), "--threads", str(STRESS_THREADS)]
        code, stdout, stderr = commands.run(stress)
        try:
            _stress_failure(json.loads(stdout), row)
        except ValueError:
            tail = (stderr.strip().splitlines() or [f"exit status {code}"])[-1]
            row.error = f"semharness stress: {tail}"
    row.seconds = time.monotonic() - started
    return row


def selftest_names(include_correct: bool = True) -> list[tuple[str, bool]]:
    """(name, buggy) of everything the selftest runs: the corpus, then the correct built-ins."""
    names = [(impl.name, True) for impl in buggy()]
    if include_correct:
        names += [(impl.name, False) for impl in builtins()]
    return names


def run_selftest(
    names: list[tuple[str, bool]],
    seed: int,
    out: Path,
    jobs: int | None = None,
    on_row: Any = None,
) -> tuple[list[SelftestRow], bool]:
    """Runs every (name, buggy) in up to ``jobs`` implementations at a time (default: the CPU
    count).  Returns the rows in the order given -- those finished, after Ctrl-C -- and whether
    it was interrupted.  ``on_row(row)`` is called as each one finishes."""
    jobs = jobs or os.cpu_count() or 1
    commands = _Commands()
    rows: dict[str, SelftestRow] = {}

    def one(name: str, is_buggy: bool) -> None:
        row = check_implementation(name, is_buggy, seed, out, commands)
        rows[name] = row
        if on_row is not None:
            on_row(row)

    pool = ThreadPoolExecutor(max_workers=jobs)
    futures = [pool.submit(one, name, is_buggy) for name, is_buggy in names]
    interrupted = False
    try:
        for f in futures:
            f.result()
    except KeyboardInterrupt:
        interrupted = True
        commands.stop()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return [rows[name] for name, _ in names if name in rows], interrupted


# ---- bench selftest ----

#: Seeds of the benchmark, and its targets (seconds to the first failure of each known bug).
BENCH_SEEDS = range(10)
MEDIAN_TARGET_S = 0.5
WORST_TARGET_S = 5.0


def bench_selftest() -> Any:
    """``semharness bench selftest``: each known-buggy implementation through the default
    checks under ten seeds; per implementation the median and worst time to its first failure
    (seconds of checking, from the start of ``semharness check``), and the total."""
    import statistics
    import tempfile

    from .bench import BenchResult, Figure, Target, machine_context

    result = BenchResult("selftest", context=machine_context())
    names = selftest_names(include_correct=False)
    times: dict[str, list[float]] = {name: [] for name, _ in names}
    escaped: list[str] = []
    untimed: list[str] = []  # caught, but when is not known (a crash, a hang, a stress find)
    caught = 0
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="semh-bench-selftest-") as tmp:
        for seed in BENCH_SEEDS:
            rows, interrupted = run_selftest(names, seed, Path(tmp) / f"seed{seed}")
            if interrupted:  # Ctrl-C stops the bench, as it stops the other benchmarks
                raise KeyboardInterrupt
            for row in rows:
                caught += row.caught
                if not row.caught:
                    escaped.append(f"{row.impl} (seed {seed})")
                elif row.first_failure_s is not None:
                    times[row.impl].append(row.first_failure_s)
                else:  # caught, but not known to be within the time targets: it misses them
                    times[row.impl].append(math.inf)
                    untimed.append(f"{row.impl} (seed {seed})")
                result.details.append({"seed": seed, **row.to_json()})
    medians, worsts = [], []
    for name, found in times.items():
        if not found:
            continue
        median, worst = statistics.median(found), max(found)
        medians.append(median)
        worsts.append(worst)
        result.figures.append(Figure(f"{name}: median to first failure", median, "s"))
        result.figures.append(Figure(f"{name}: worst to first failure", worst, "s"))
    total = time.monotonic() - started
    result.figures.append(Figure("total: the corpus over all seeds (wall)", total, "s"))
    result.figures.append(Figure("total: sum of the medians", sum(medians), "s"))
    traced = [d for d in result.details if d.get("trace_steps")]
    if traced:  # "short enough to read": the longest minimised trace of any bug and seed
        longest = max(traced, key=lambda d: d["trace_steps"])
        what = f"longest minimised trace ({longest['impl']}, seed {longest['seed']})"
        result.figures.append(Figure(what, longest["trace_steps"], "steps"))
    runs = len(names) * len(BENCH_SEEDS)
    result.targets.append(
        Target("every known bug caught under every seed", caught, runs, caught == runs)
    )
    worst_median = max(medians, default=float("inf"))
    result.targets.append(
        Target(
            f"median time to first failure <= {MEDIAN_TARGET_S} s (the slowest bug)",
            worst_median,
            MEDIAN_TARGET_S,
            worst_median <= MEDIAN_TARGET_S,
        )
    )
    worst = max(worsts, default=float("inf"))
    result.targets.append(
        Target(
            f"worst time to first failure <= {WORST_TARGET_S} s",
            worst,
            WORST_TARGET_S,
            worst <= WORST_TARGET_S,
        )
    )
    if escaped:
        result.context["escaped"] = ", ".join(escaped)
    if untimed:
        result.context["caught_untimed"] = ", ".join(untimed)
    return result
