"""One stress run of one implementation, judged: the driver (native for C, threads for Python),
the history through the linearizability checker and the invariants, liveness in real time,
and the metrics.  ``semharness stress`` runs these one after another under the same settings,
so that the figures of several implementations compare.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..history import History, write_jsonl
from ..invariants import check_invariants
from ..linearizability import check_history
from ..registry import Implementation
from .metrics import compute_metrics, machine_context
from .mix import Mix
from .native import ProgressCallback, run_native
from .pydriver import run_python


@dataclass
class StressOutcome:
    """A stress run as reported: pass / FAIL / skip, why, and the figures."""

    impl: str
    threads: int
    status: str  # pass | fail | skip | unknown
    reasons: list[str] = field(default_factory=list)
    ops: int = 0
    seconds: float = 0.0
    check_seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)
    context: dict[str, Any] = field(default_factory=dict)
    history_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _drive(
    impl: Implementation,
    threads: int,
    mix: Mix,
    seconds: float | None,
    ops: int | None,
    seed: int,
    pin: bool,
    watchdog: float,
    progress: ProgressCallback | None,
) -> tuple[str, History | None, float, list[str]]:
    """(status, history, seconds, reasons) from the driver that fits the implementation."""
    if impl.kind == "c" and impl.source is not None:
        r = run_native(
            impl.source, threads, mix, seconds, ops, seed, pin, watchdog=watchdog, progress=progress
        )
        reasons = []
        if r.status == "hang":
            reasons.append(f"hang: no call completed for {watchdog:g} s; count {r.count}")
            reasons += [s.describe() for s in r.thread_states or ()]
        elif r.status == "crash":
            reasons.append(f"crash: {r.message or f'signal {r.signal}'}")
        return r.status, r.history, r.seconds or 0.0, reasons
    p = run_python(
        impl.create, threads, mix, seconds, ops, seed, pin, watchdog=watchdog, progress=progress
    )
    reasons = []
    if p.status == "hang":
        reasons.append(f"hang: no call completed for {watchdog:g} s; count {p.count}")
        reasons += [
            f"thread {t}: blocked in {op}({n}) for {ns / 1e9:.2f} s" for t, op, n, ns in p.blocked
        ]
    return p.status, p.history, p.seconds, reasons


def stress_one(
    impl: Implementation,
    threads: int,
    mix: Mix,
    seconds: float | None = None,
    ops: int | None = None,
    seed: int = 0,
    pin: bool = False,
    watchdog: float = 5.0,
    out: Path | None = None,
    progress: ProgressCallback | None = None,
    checking: Callable[[], None] | None = None,
    failures_only: bool = False,
) -> StressOutcome:
    """Runs, checks and measures one implementation on ``threads`` threads.

    ``progress(calls, seconds)``: the driver's progress while the threads run, about every
    0.25 s (see :func:`~.native.run_native`).  ``checking()``: called once the run is over and
    the history's checks begin -- the long quiet part of a big run, which a display may name.
    ``out``: where the history is saved (JSON Lines, gzipped) -- with ``failures_only``, only
    when the run did not pass (a passing history of millions of calls takes longer to write
    than the run took).
    """
    import time

    result = StressOutcome(impl.name, threads, "pass")
    lacking = impl.capabilities.missing(mix.needs(threads))
    if lacking:
        result.status = "skip"
        result.reasons.append("needs " + ", ".join(lacking))
        return result
    before = os.getloadavg()[0]
    status, history, run_s, reasons = _drive(
        impl, threads, mix, seconds, ops, seed, pin, watchdog, progress
    )
    result.context = {**machine_context(pin), "loadavg_1m_before": round(before, 2)}
    result.seconds = run_s
    result.reasons += reasons
    if status != "ok":
        result.status = "fail"
    if history is None:
        return result
    result.ops = len(history)
    if checking is not None:
        checking()
    start = time.monotonic()
    verdict = check_history(history, budget=max(1_000_000, 4 * len(history)), witness=False)
    findings = check_invariants(history)
    result.check_seconds = time.monotonic() - start
    if verdict.status == "violation":
        result.status = "fail"
        result.reasons.append(f"linearizability: {verdict.reason}")
    elif verdict.status == "unknown" and result.status == "pass":
        result.status = "unknown"
        result.reasons.append(f"linearizability: unknown ({verdict.reason})")
    for f in findings:
        result.status = "fail"
        result.reasons.append(f"{f.check}: {f.message}")
    result.metrics = compute_metrics(history, run_s or None, observer=threads)
    result.context["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    if out is not None and (not failures_only or result.status != "pass"):
        path = out / f"{impl.name}-t{threads}.history.jsonl.gz"
        write_jsonl(history, path)
        result.history_file = str(path)
    return result
