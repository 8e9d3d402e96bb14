"""Benchmarks, each comparing ours with a baseline side by side in one run.

Speed targets are checked here, never by timed asserts in tests: a benchmark prints the figures,
the ratios and whether each target holds, with the machine's load beside them.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import subprocess
import sys
import threading
import time
import timeit
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from .cbuild import build_program, builtin_source, csrc_dir


@dataclass
class Figure:
    """One measured figure: what, how much, and against which baseline."""

    name: str
    value: float
    unit: str
    baseline: str | None = None
    ratio: float | None = None


@dataclass
class Target:
    """A target from an issue's acceptance list, and whether the measured figure meets it."""

    text: str
    measured: float
    limit: float
    met: bool


@dataclass
class BenchResult:
    name: str
    figures: list[Figure] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)
    #: per-case raw results, in --json output only
    details: list[dict[str, Any]] = field(default_factory=list)

    def figure(self, name: str) -> Figure:
        return next(f for f in self.figures if f.name == name)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def machine_context() -> dict[str, Any]:
    """What a reader needs to trust a timing: cores, load, kernel, Python."""
    load = os.getloadavg()
    return {
        "cpus": os.cpu_count(),
        "loadavg_1m": round(load[0], 2),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }


# ---- bench core: the uncontended acquire + release pair ----

NATIVE_IMPLS = ("futex64", "futex32", "posix_sem")
ROUNDS = 5


def native_pair_ns(impl: str, iterations: int, repeats: int) -> float:
    """Best-of-`repeats` ns per acquire+release pair, natively in C (bench_pair.c)."""
    program = build_program(csrc_dir() / "bench_pair.c", builtin_source(impl), name="bench_pair")
    out = subprocess.run(
        [str(program), str(iterations), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return float(json.loads(out.stdout.strip().splitlines()[-1])["ns_per_pair"])


def python_pair_ns(acquire: Callable[[], Any], release: Callable[[], Any], number: int) -> float:
    """Best-of-7 ns per ``acquire(); release()`` pair through Python bound methods."""
    times = timeit.repeat("a(); r()", globals={"a": acquire, "r": release}, number=number, repeat=7)
    return min(times) / number * 1e9


def python_pair_subjects() -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """The semaphores timed through Python: ours, sem_t, and CPython's own two."""
    from .implementations import _futex64, _posix_sem

    subjects: dict[str, Any] = {
        "futex64": _futex64.Semaphore(1),
        "posix_sem": _posix_sem.Semaphore(1),
        "threading.Semaphore": threading.Semaphore(1),
        "multiprocessing.Semaphore": multiprocessing.Semaphore(1),
    }
    return {name: (sem.acquire, sem.release) for name, sem in subjects.items()}


def bench_core(iterations: int = 5_000_000, py_number: int = 1_000_000) -> BenchResult:
    """Uncontended pair cost: natively in C and through Python, side by side."""
    result = BenchResult("core", context=machine_context())
    # Alternate the programs over several rounds and keep each one's best, so that a burst of
    # load on the machine hits all of them alike rather than one.
    native = dict.fromkeys(NATIVE_IMPLS, float("inf"))
    for _ in range(ROUNDS):
        for impl in NATIVE_IMPLS:
            native[impl] = min(native[impl], native_pair_ns(impl, iterations, 7))
    for impl, ns in native.items():
        ratio = ns / native["posix_sem"]
        result.figures.append(Figure(f"native {impl}", ns, "ns/pair", "native posix_sem", ratio))

    py = {name: python_pair_ns(a, r, py_number) for name, (a, r) in python_pair_subjects().items()}
    for name, ns in py.items():
        ratio = ns / py["threading.Semaphore"]
        result.figures.append(Figure(f"python {name}", ns, "ns/pair", "threading.Semaphore", ratio))
    empty = min(timeit.repeat("pass", number=py_number, repeat=7)) / py_number * 1e9
    result.figures.append(Figure("python empty loop", empty, "ns/iteration"))

    core_ratio = native["futex64"] / native["posix_sem"]
    result.targets.append(
        Target("native futex core <= 1.0x sem_t", core_ratio, 1.0, core_ratio <= 1.0)
    )
    result.targets.append(
        Target(
            "futex core through Python <= 60 ns per pair", py["futex64"], 60.0, py["futex64"] <= 60
        )
    )
    result.context["loadavg_1m_after"] = round(os.getloadavg()[0], 2)
    return result


BENCHMARKS: dict[str, Callable[[], BenchResult]] = {"core": bench_core}


# ---- bench checker: ours vs. a plain WGL checker (Porcupine's algorithm) ----

#: (operations, threads, overlap): the issue's cases; the last has calls in flight far longer.
CHECKER_CASES = (
    (10_000, 4, 0.5),
    (100_000, 8, 0.5),
    (1_000_000, 8, 0.5),
    (10_000, 32, 0.5),
    (10_000, 64, 0.5),
    (200_000, 16, 0.9),
)
#: Seconds each checker gets per history before it counts as "timed out".
CHECKER_LIMIT = {"semharness": 120.0, "baseline": 20.0}

_CHILD = """
import json, sys
from semharness.bench import checker_child
print(json.dumps(checker_child(sys.argv[1], sys.argv[2], float(sys.argv[3]))))
"""


def checker_child(path: str, which: str, limit: float) -> dict[str, Any]:
    """Runs one checker on a saved history in this (child) process: verdict, time, memory."""
    import resource
    import tracemalloc

    import numpy as np

    from . import wgl_baseline
    from .history import History
    from .linearizability import check_history, to_step

    data = np.load(path)
    history = History.from_arrays(
        thread=data["thread"],
        op=data["op"],
        n=data["n"],
        invoke=data["invoke"],
        ret=data["ret"],
        result=data["result"],
        timeout=data["timeout"],
        initial=int(data["initial"]),
    )
    if which == "baseline":
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        start = time.perf_counter()
        steps = [s for s in (to_step(op) for op in history) if s is not None]
        status = wgl_baseline.check(steps, history.initial, time.monotonic() + limit)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        return {"status": status, "seconds": seconds, "peak_bytes": max(peak, 0)}
    start = time.perf_counter()
    status = check_history(history).status
    seconds = time.perf_counter() - start
    # Memory in a second, traced run: every allocation of the checker -- numpy's and the C
    # search's (PyMem_Raw*) -- is seen by tracemalloc; the history itself is not counted.
    tracemalloc.start()
    check_history(history)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"status": status, "seconds": seconds, "peak_bytes": peak}


def _run_checker(path: str, which: str, ops: int) -> dict[str, Any]:
    limit = CHECKER_LIMIT[which]
    try:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, path, which, str(limit)],
            capture_output=True,
            text=True,
            timeout=limit + 60,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timed out", "seconds": limit, "peak_bytes": None}
    if out.returncode != 0:
        return {"status": "crashed: " + out.stderr.strip()[-200:], "seconds": 0, "peak_bytes": 0}
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["status"] == "unknown" and which == "baseline":
        res["status"] = "timed out"
    return res


def bench_checker(cases: tuple[tuple[int, int, float], ...] = CHECKER_CASES) -> BenchResult:
    """Generated histories, valid and with a violation planted near the start and near the
    end, checked by semharness and by the baseline, each in a child process of its own."""
    import tempfile

    import numpy as np

    from .histgen import generate, plant_violation, to_history

    result = BenchResult("checker", context=machine_context())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ops, threads, overlap in cases:
            steps, initial = generate(ops, threads, seed=ops + threads, overlap=overlap)
            variants = {
                "valid": steps,
                "planted@5%": plant_violation(steps, initial, 0.05),
                "planted@95%": plant_violation(steps, initial, 0.95),
            }
            for variant, vsteps in variants.items():
                h = to_history(vsteps, initial)
                path = f"{tmp}/h.npz"
                np.savez(path, initial=initial, **h.columns())
                row: dict[str, Any] = {"ops": len(h), "threads": threads, "variant": variant}
                for which in ("semharness", "baseline"):
                    row[which] = _run_checker(path, which, len(h))
                rows.append(row)
    result.details = rows
    for row in rows:
        ours, base = row["semharness"], row["baseline"]
        label = f"{row['ops']:,} ops / {row['threads']} threads {row['variant']}"
        ops_s = row["ops"] / ours["seconds"] if ours["seconds"] else float("inf")
        ratio = None
        if base["status"] in ("ok", "violation") and base["seconds"]:
            ratio = base["seconds"] / ours["seconds"]
        result.figures.append(
            Figure(
                f"{label}: {ours['status']} (baseline {base['status']})",
                ops_s,
                "ops/s",
                "baseline speed-up" if ratio else None,
                ratio,
            )
        )
        per_op = ours["peak_bytes"] / row["ops"]
        result.figures.append(Figure(f"{label}: peak memory", per_op, "bytes/op"))
    for big in (r for r in rows if r["ops"] >= 1_000_000 and r["variant"] == "valid"):
        rate = big["ops"] / big["semharness"]["seconds"]
        result.targets.append(
            Target("1M-op / 8-thread valid: >= 1,000,000 ops/s", rate, 1e6, rate >= 1e6)
        )
    wide = [r for r in rows if r["threads"] == 64 and r["variant"] == "valid"]
    if wide:
        worst = max(r["semharness"]["seconds"] for r in wide)
        decided = all(r["semharness"]["status"] == "ok" for r in wide)
        result.targets.append(
            Target("10k-op / 64-thread valid decided in < 1 s", worst, 1.0, decided and worst < 1)
        )
    mem = max(r["semharness"]["peak_bytes"] / r["ops"] for r in rows)
    result.targets.append(Target("peak memory < 200 bytes/op", mem, 200.0, mem < 200))
    found = all(r["semharness"]["status"] == "violation" for r in rows if r["variant"] != "valid")
    missed = sum(r["semharness"]["status"] != "violation" for r in rows if r["variant"] != "valid")
    result.targets.append(Target("every planted violation found", missed, 0, found))
    return result


BENCHMARKS["checker"] = bench_checker


def _bench_model() -> BenchResult:
    from .model.bench import bench_model

    return bench_model()


BENCHMARKS["model"] = _bench_model


def _bench_stress() -> BenchResult:
    from .stress.bench import bench_stress

    return bench_stress()


BENCHMARKS["stress"] = _bench_stress


def _bench_selftest() -> BenchResult:
    from .selftest import bench_selftest

    return bench_selftest()


BENCHMARKS["selftest"] = _bench_selftest
