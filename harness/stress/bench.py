"""``semharness bench stress``: the C implementations under the native stress driver, side by
side in one run -- throughput, latency, owner changes and wake-up latency at 1, 2 and 4
threads -- and what recording every call costs (the same loop with and without recording).
"""

from __future__ import annotations

import os

from ..bench import BenchResult, Figure, Target, machine_context
from ..cbuild import builtin_source
from .metrics import compute_metrics
from .mix import DEFAULT_MIX
from .native import run_native

IMPLS = ("futex64", "futex32", "posix_sem")
THREADS = (1, 2, 4)
SECONDS = 0.5
#: Calls per thread in the recording-cost comparison, and how many times each is repeated.
COST_OPS = 5_000_000
COST_REPEATS = 3


def _ns_per_call(impl: str, record: bool) -> tuple[float, str]:
    """Best thread-time per call of a one-thread run -- the driver's loop alone -- and the clock
    the driver's recorded loop reads (what recording costs depends on it)."""
    best = float("inf")
    clock = ""
    for seed in range(COST_REPEATS):
        r = run_native(builtin_source(impl), 1, DEFAULT_MIX, ops=COST_OPS, seed=seed, record=record)
        assert r.status == "ok" and r.seconds and r.total_ops, r.message
        best = min(best, r.seconds * 1e9 / r.total_ops)
        clock = r.clock or "?"
    return best, clock


#: The long run whose history the checker must decide in less time than the run took.
CHECK_RUN_SECONDS = 2.0


def _check_speed(result: BenchResult) -> None:
    """A 2-thread, 2-second run of the futex core, its history decided by the checker as stress
    runs use it (the breadth-first sweep, no linearization kept) and, side by side, by the
    depth-first search that builds one."""
    import time

    from ..linearizability import check_history

    r = run_native(
        builtin_source("futex64"), 2, DEFAULT_MIX, seconds=CHECK_RUN_SECONDS, record_mb=4096
    )
    assert r.status == "ok" and r.history is not None and r.seconds, r.message
    assert not r.summary["truncated"], "the records outgrew record_mb: the run was cut short"
    history, budget = r.history, max(1_000_000, 4 * len(r.history))
    started = time.perf_counter()
    ours = check_history(history, budget=budget, witness=False)
    ours_s = time.perf_counter() - started
    started = time.perf_counter()
    search = check_history(history, budget=budget)
    search_s = time.perf_counter() - started
    label = f"futex64 x2, {CHECK_RUN_SECONDS:g} s run ({len(history):,} calls)"
    result.figures.append(Figure(f"{label}: run", r.seconds, "s"))
    result.figures.append(Figure(f"{label}: records read into a History", r.timings["read"], "s"))
    result.figures.append(
        Figure(
            f"{label}: checked ({ours.status}, sweep)",
            ours_s,
            "s",
            "depth-first search",
            ours_s / search_s,
        )
    )
    result.figures.append(Figure(f"{label}: depth-first search ({search.status})", search_s, "s"))
    result.targets.append(
        Target(
            "a 2-thread 2 s history checked in less time than the run took (s)",
            ours_s,
            r.seconds,
            ours.status == "ok" and ours_s < r.seconds,
        )
    )


def bench_stress() -> BenchResult:
    result = BenchResult("stress", context=machine_context())
    result.context["loadavg_1m_before"] = round(os.getloadavg()[0], 2)
    rate: dict[tuple[str, int], float] = {}
    wake: dict[tuple[str, int], float | None] = {}
    for threads in THREADS:
        for impl in IMPLS:
            r = run_native(builtin_source(impl), threads, DEFAULT_MIX, seconds=SECONDS)
            if r.status != "ok" or r.history is None:
                result.figures.append(Figure(f"{impl} x{threads}: {r.status}", 0, "-"))
                continue
            m = compute_metrics(r.history, r.seconds)
            rate[(impl, threads)] = m["throughput"]["ops_per_s"]
            acquire = m["latency"]["acquire"]
            wake[(impl, threads)] = m["wakeup"]["latency_ns"]["p50"]
            base = rate.get(("posix_sem", threads))
            label = f"{impl} x{threads}"
            result.figures.append(
                Figure(
                    f"{label}: throughput",
                    rate[(impl, threads)],
                    "calls/s",
                    "posix_sem",
                    rate[(impl, threads)] / base if base else None,
                )
            )
            result.figures.append(
                Figure(
                    f"{label}: owner changes",
                    100 * (m["fairness"]["owner_change_fraction"] or 0),
                    "% of acquisitions",
                )
            )
            for p in ("p50", "p99", "p99.9"):
                result.figures.append(Figure(f"{label}: acquire {p}", acquire[p] or 0, "ns"))
            result.figures.append(Figure(f"{label}: wake-up p50", wake[(impl, threads)] or 0, "ns"))
    # posix_sem runs last in each group: fill in the ratios now that its figure exists
    for f in result.figures:
        if f.baseline == "posix_sem" and f.ratio is None:
            impl, threads = f.name.split(":")[0].split(" x")
            base = rate.get(("posix_sem", int(threads)))
            f.ratio = f.value / base if base else None
    with_record, clock = _ns_per_call("futex64", True)
    without, _ = _ns_per_call("futex64", False)
    cost = with_record - without
    result.figures.append(Figure("futex64 x1: driver loop without recording", without, "ns/call"))
    result.figures.append(
        Figure(f"futex64 x1: with recording (clock {clock})", with_record, "ns/call")
    )
    result.targets.append(
        Target(f"recording adds <= 20 ns per call (clock {clock})", cost, 20.0, cost <= 20)
    )
    result.context["record_clock"] = clock
    ratio = rate[("futex64", 1)] / rate[("posix_sem", 1)]
    result.targets.append(
        Target("futex core uncontended throughput >= 1.0x sem_t", ratio, 1.0, ratio >= 1.0)
    )
    ours, theirs = wake.get(("futex64", 2)), wake.get(("posix_sem", 2))
    if ours and theirs:
        w = ours / theirs
        result.targets.append(
            Target("wake-up latency p50 <= 1.1x sem_t (2 threads)", w, 1.1, w <= 1.1)
        )
    _check_speed(result)
    result.context["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return result
