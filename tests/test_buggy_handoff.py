"""BUGS.md 5 (musl bdd89337; Qt's overflow path): a waiter's registration not undone when it
leaves on a timeout, re-created on the direct hand-off semaphore (implementations/buggy/twins/
handoff.c), the design where the waiter count decides where a release's tokens go.

buggy-waiter-not-deregistered is that file with one seam changed.  The default checks catch
it twice: the bad-input battery on real threads (a timed try that fails leaves a ghost waiter,
the next release hands its token to it, and the next timed try cannot have it), and the model
checker on repro-timeout-then-wait, with the mechanism in the trace: the waiter count goes up
on the try, not down on its timeout, up again on the acquire, and the release reads 2 waiters
where one thread waits.  The twin passes the same scenario under the same settings, and the
whole default set; the failure replays from its file with the identical trace.  Seeded
throughout: every run here is deterministic.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from twin_checks import assert_passes_default_scenarios, assert_replays_from_its_file

import semharness.implementations as implementations
from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios
from semharness.model.runner import Settings, check_scenario
from semharness.model.tracefmt import render
from semharness.realtime import run_scenario
from semharness.registry import buggy, resolve
from semharness.scenarios import scenario_set

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found on PATH")

BUGGY = "buggy-waiter-not-deregistered"
TWIN = str(Path(implementations.__file__).parent / "buggy" / "twins" / "handoff.c")
SCENARIO = "repro-timeout-then-wait"
SEED = 0


def _check(name: str, scenario: str = SCENARIO, seed: int = SEED):
    """One scenario of the default set, checked as `semharness check --seed N` checks it."""
    by_name = {s.name: s for s in default_scenarios(seed)}
    return check_scenario(executor_factory(resolve(name)), by_name[scenario], Settings(seed=seed))


def _op_steps(trace, thread: int, op: int) -> list[tuple]:
    return [s for s in trace if s[0] == thread and s[1] == op]


def test_the_corpus_lists_it_and_not_the_twin() -> None:
    listed = {impl.name: impl for impl in buggy()}
    impl = listed[BUGGY]
    assert impl.kind == "c" and impl.description.startswith("known bug: ")
    text = impl.source.read_text()
    assert "BUGS.md 5" in text and "bdd89337" in text and '#include "twins/handoff.c"' in text
    assert not any("handoff" in name for name in listed)  # twins/ is not scanned


def test_the_default_model_check_catches_the_ghost_waiter() -> None:
    found = _check(BUGGY).failure
    assert found is not None, f"{BUGGY} escaped {SCENARIO}"
    checks = {f.check for f in found.failures}
    assert checks & {"linearizability", "invariant", "lost wake-up", "deadlock"}
    assert len(found.record.trace) < 60, render(found, SCENARIO)  # minimised: short to read
    trace = found.record.trace
    # t0's timed try registered (the waiter count 0 -> 1), timed out and returned False
    # without taking itself off the count ...
    tried = _op_steps(trace, 0, 0)
    assert tried[0][6].startswith("try_acquire") and tried[-1][6] == "-> False"
    assert [(s[4], s[5]) for s in tried if s[2] == "fetch_add"] == [(0, 1)]
    assert any(s[2] == "timeout" for s in tried)
    assert not any(s[2] == "fetch_sub" for s in tried)
    word = next(s[3] for s in tried if s[2] == "fetch_add")
    # ... so its acquire registered on top of the ghost (1 -> 2), and the release read two
    # waiters where one thread waits, and handed both tokens on: one to nobody
    acquired = _op_steps(trace, 0, 1)
    assert [(s[4], s[5]) for s in acquired if s[2] == "fetch_add"] == [(1, 2)]
    reads = [s[4] for s in trace if s[2] == "load" and s[3] == word and s[0] == 1]
    assert reads == [2]
    # the token is gone: the observer reads 0 where 0 + 2 - 1 = 1 is left
    assert trace[-1][6] == "-> 0"
    assert any("conservation" in f.message for f in found.failures), render(found, SCENARIO)


def test_the_twin_passes_the_same_scenario() -> None:
    passed = _check(TWIN)
    assert passed.failure is None, render(passed.failure, SCENARIO)
    assert passed.runs == Settings().schedules


def test_the_twin_passes_the_default_scenarios() -> None:
    assert assert_passes_default_scenarios(TWIN) >= 30


def test_the_battery_catches_it_on_real_threads_and_the_twin_passes() -> None:
    """timeout-positive: sem(0); try_acquire(1, 0.1) fails (a ghost stays registered);
    release(1) hands the token to the ghost; try_acquire(1, 0.1) must succeed at once, but
    cannot even register (a handed token is untaken) and fails."""
    scenario = next(s for s in scenario_set("battery") if s.name == "timeout-positive")
    bad = resolve(BUGGY)
    result = run_scenario(scenario, bad.create, bad.capabilities)
    assert result.status == "fail"
    assert "returned False, expected True" in result.reason
    twin = resolve(TWIN)
    assert run_scenario(scenario, twin.create, twin.capabilities).status == "pass"


def test_the_failure_replays_from_its_file(tmp_path: Path) -> None:
    found = _check(BUGGY, seed=1).failure
    assert found is not None
    assert_replays_from_its_file(BUGGY, found, tmp_path)
