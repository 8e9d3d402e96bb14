"""``semharness bench model``: how fast the model checker runs schedules, and how soon it finds
the two deliberate bugs, beside frontrun (a bytecode-level interleaving explorer for Python) on
the same Python scenario.

Everything runs in this process on one core: the figures are the checking loop's own cost --
one run, its trail, and the judging of every new history.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

from ..bench import BenchResult, Figure, Target, machine_context
from ..registry import resolve
from ..scenarios.reproducers import standard
from .executors import executor_factory
from .programs import default_scenarios, from_scenario
from .runner import Settings, check_scenario

#: Runs per measurement: enough for a second or so of each.
RUNS = {"futex64": 30_000, "threading": 4_000}
BUGS = ("buggy-wake-on-zero", "buggy-notify-one")
SEEDS = range(10)

_FRONTRUN = """
import json, threading, time
import frontrun
from frontrun._cooperative import patch_locks, unpatch_locks

def setup():
    return threading.Semaphore(1)

def worker(s):
    s.acquire()
    s.release()

patch_locks()
try:
    start = time.perf_counter()
    r = frontrun.explore(setup=setup, workers=worker, count=3, strategy="random",
                         invariant=lambda s: s._value == 1, max_attempts=300, seed=1)
    print(json.dumps({"runs": r.num_explored, "seconds": time.perf_counter() - start}))
finally:
    unpatch_locks()
"""


def schedules_per_second(impl_name: str, strategy: str, runs: int) -> tuple[float, int, bool]:
    """(schedules/s, runs made, DFS complete) on the standard scenario."""
    make = executor_factory(resolve(impl_name))
    scenario = from_scenario(standard())
    settings = Settings(strategy=strategy, schedules=runs, minimise=False)
    check_scenario(make, scenario, Settings(strategy=strategy, schedules=50))  # warm up
    made, seconds, complete = 0, 0.0, False
    while seconds < 0.5:  # DFS ends after a few hundred: repeat it
        result = check_scenario(make, scenario, settings)
        assert result.failure is None, result.failure.failures
        made += result.runs
        seconds += result.seconds
        complete = result.complete
    return made / seconds, made, complete


def time_to_failure(impl_name: str, seed: int) -> tuple[float, str, str]:
    """Seconds from the start of the default check until its first failure (before it is
    minimised), the scenario and the check that caught it."""
    impl = resolve(impl_name)
    make = executor_factory(impl)
    settings = Settings(seed=seed, minimise=False)
    elapsed = 0.0
    for scenario in default_scenarios(seed):
        if impl.capabilities.missing(scenario.needs):
            continue
        result = check_scenario(make, scenario, settings)
        if result.failure is not None:
            return elapsed + result.failure.found_after_s, scenario.name, result.failure.check
        elapsed += result.seconds
    return float("inf"), "", "escaped"


def frontrun_baseline() -> dict[str, Any] | None:
    """frontrun's random exploration of the same scenario on threading.Semaphore, in a child
    process; None when frontrun is not installed."""
    out = subprocess.run(
        [sys.executable, "-c", _FRONTRUN], capture_output=True, text=True, timeout=600
    )
    if out.returncode != 0:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_model() -> BenchResult:
    result = BenchResult("model", context=machine_context())
    rates: dict[tuple[str, str], float] = {}
    for impl in ("futex64", "threading"):
        for strategy in ("random", "pct", "dfs"):
            rate, made, complete = schedules_per_second(impl, strategy, RUNS[impl])
            rates[(impl, strategy)] = rate
            note = f" ({made:,} runs{', DFS complete' if complete else ''})"
            result.figures.append(
                Figure(f"{impl} {strategy}: schedules/s{note}", rate, "schedules/s")
            )
    base = frontrun_baseline()
    if base is None:
        result.figures.append(Figure("frontrun: not installed (pip install frontrun)", 0, "-"))
    else:
        rate = base["runs"] / base["seconds"]
        ours = rates[("threading", "random")]
        result.figures.append(
            Figure("frontrun random, threading.Semaphore", rate, "schedules/s", "ours", ours / rate)
        )
    c_rate = min(rates[("futex64", s)] for s in ("random", "pct"))
    py_rate = min(rates[("threading", s)] for s in ("random", "pct"))
    result.targets.append(Target("C core >= 20,000 schedules/s", c_rate, 20_000, c_rate >= 20_000))
    result.targets.append(Target("Python >= 3,000 schedules/s", py_rate, 3_000, py_rate >= 3_000))
    for bug in BUGS:
        found = [time_to_failure(bug, seed) for seed in SEEDS]
        times = [t for t, _, _ in found]
        median, worst = statistics.median(times), max(times)
        how = sorted({f"{s}/{c}" for _, s, c in found})
        result.figures.append(Figure(f"{bug}: median time to first failure", median * 1e3, "ms"))
        result.figures.append(
            Figure(f"{bug}: worst of 10 seeds ({', '.join(how)})", worst * 1e3, "ms")
        )
        result.targets.append(Target(f"{bug} found in < 1 s median", median, 1.0, median < 1.0))
        result.details.append({"bug": bug, "seeds": [list(f) for f in found]})
    return result
