"""The Python known-bug corpus (BUGS.md 11, 12, 14, 15): each buggy implementation is caught by
a scenario of the default model-checking set under the default settings, with the failure the
report describes, while its correct twin passes the very same scenario and settings.  Seeded
throughout: every run here is deterministic.

The twins: ``buggy-if-not-while`` and ``buggy-timeout-without-recheck`` are the textbook
Condition semaphore with one seam overridden; ``buggy-wake-not-passed-on`` and
``buggy-token-lost-on-timeout`` the FIFO hand-off semaphore (implementations/handoff.py), which
is no built-in, so it is checked here over the whole default set as well.
"""

from __future__ import annotations

import sys

import pytest
from twin_checks import assert_passes_default_scenarios

from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios
from semharness.model.runner import Settings, check_scenario, replay
from semharness.model.tracefmt import render
from semharness.registry import buggy, resolve

HANDOFF = "semharness.implementations.handoff:HandoffSemaphore"
SCENARIOS = {s.name: s for s in default_scenarios()}

#: buggy implementation -> (its correct twin, a default scenario that catches it, the checks
#: that may report it)
CASES = {
    "buggy-wake-not-passed-on": (
        HANDOFF,
        "repro-two-waiters-two-releases",
        {"lost wake-up"},
    ),
    "buggy-if-not-while": ("textbook", "repro-barging", {"linearizability", "invariant"}),
    "buggy-timeout-without-recheck": (
        "textbook",
        "repro-timeout-meets-release",
        {"linearizability"},
    ),
    "buggy-token-lost-on-timeout": (
        HANDOFF,
        "repro-timeout-then-wait",
        {"linearizability", "invariant", "lost wake-up", "deadlock"},
    ),
}


def _check(name: str, scenario: str, seed: int = 0):
    return check_scenario(executor_factory(resolve(name)), SCENARIOS[scenario], Settings(seed=seed))


def test_the_corpus_lists_them_with_their_reports() -> None:
    listed = {impl.name: impl for impl in buggy()}
    for name in CASES:
        assert listed[name].kind == "python"
        assert listed[name].description.startswith("known bug: ")
        module = sys.modules[listed[name].factory.__module__]
        assert "BUGS.md" in module.__doc__


@pytest.mark.parametrize("name", list(CASES))
def test_the_default_check_catches_it_and_the_twin_passes(name: str) -> None:
    twin, scenario, checks = CASES[name]
    found = _check(name, scenario).failure
    assert found is not None, f"{name} escaped {scenario}"
    assert found.check in checks, render(found, scenario)
    assert len(found.record.trace) < 60  # minimised: short enough to read
    passed = _check(twin, scenario)
    assert passed.failure is None, render(passed.failure, scenario)
    assert passed.runs == Settings().schedules


@pytest.mark.parametrize("name", list(CASES))
def test_the_minimised_failure_replays_identically(name: str) -> None:
    _, scenario, _ = CASES[name]
    found = _check(name, scenario, seed=1).failure
    assert found is not None
    again = replay(executor_factory(resolve(name)), found.scenario, found.config, found.choices)
    assert again.record.trace == found.record.trace
    assert [f.check for f in again.failures] == [f.check for f in found.failures]


def _steps(found, kind: str) -> list:
    return [s for s in found.record.trace if s[2] == kind]


def test_if_not_while_lets_the_count_go_negative() -> None:
    found = _check("buggy-if-not-while", "repro-barging").failure
    # the waiter took a token after a wait without looking at the count again
    assert _steps(found, "cond_wait")
    assert "cannot take effect" in found.failures[0].message or any(
        "negative" in f.message for f in found.failures
    )


def test_timeout_without_recheck_fails_a_try_while_a_reader_saw_the_token() -> None:
    found = _check("buggy-timeout-without-recheck", "repro-timeout-meets-release").failure
    rows = found.record.history
    tries = [r for r in rows if r[1] == 1]  # try_acquire
    assert tries and tries[0][6] is False
    # a reader saw the token before the try's deadline (invoke + timeout) ...
    deadline = tries[0][4] + tries[0][3]
    assert any(r[1] == 3 and r[6] == 1 and r[5] < deadline for r in rows[:-1])
    # ... because the try's wait timed out while the release was between its add and its notify
    assert _steps(found, "timeout")


def test_wake_not_passed_on_strands_a_waiter_with_a_token() -> None:
    found = _check("buggy-wake-not-passed-on", "repro-two-waiters-two-releases").failure
    assert "could have taken its tokens" in found.failures[0].message
    observer = found.record.history[-1]
    assert observer[6] == 1  # the count is 1 at the end, one waiter still blocked
    sets = [s for s in _steps(found, "store") if s[6].startswith("set()")]
    assert len(sets) == 1  # one hand-off (an Event set) for two releases


def test_token_lost_on_timeout_loses_the_token_and_the_wake_up() -> None:
    found = _check("buggy-token-lost-on-timeout", "repro-timeout-then-wait").failure
    trace = found.record.trace
    timed_out = next(i for i, s in enumerate(trace) if s[2] == "timeout" and "Event" in s[3])
    handed = next(i for i, s in enumerate(trace) if s[2] == "store" and s[6].startswith("set()"))
    assert timed_out < handed  # the release handed the token to a waiter whose wait had ended
    # the token is gone (the count is short of what was released and taken) and the hand-off
    # stays in flight for ever: the thread's next acquire is never handed anything
    assert found.record.outcome == "deadlock"
    assert {f.check for f in found.failures} >= {"linearizability", "deadlock"}


def test_the_handoff_twin_passes_the_default_scenarios() -> None:
    assert assert_passes_default_scenarios(HANDOFF) >= 30


def test_the_seams_default_to_the_correct_code() -> None:
    from semharness.implementations.handoff import HandoffSemaphore, _Waiter
    from semharness.implementations.textbook import ConditionSemaphore

    sem = ConditionSemaphore(0)
    assert sem._rechecks() is True
    with sem._cond:  # a timed-out wait still goes back to the count check
        assert sem._timed_wait(0.001) is True
    hand = HandoffSemaphore(0)
    w = _Waiter(1)
    assert hand._kept(w, True) is False and hand._kept(w, False) is False
    w.granted = True
    assert hand._kept(w, False) is True  # handed its token as it timed out: it keeps it
    w.propagate = False
    hand._in_flight_hands_on(w)
    assert w.propagate is True
