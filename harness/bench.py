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
import threading
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
