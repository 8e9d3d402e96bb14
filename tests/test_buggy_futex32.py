"""The known bugs re-created on futex32.c (BUGS.md 1, 7, 8, 9, 10; implementations/buggy/).

Each buggy file changes one seam of the correct 32-bit single-flag semaphore.  For each, the
checks `semharness check` runs find it -- the model checker on a scenario of the default set,
with the default settings and a fixed seed, and, where the bug shows on real threads, the
bad-input battery -- for the reason it is known by (asserted on the trace, so that a failure
for another reason does not pass), while futex32 itself passes the same scenario under the same
settings.
"""

from __future__ import annotations

import shutil

import pytest

from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios
from semharness.model.runner import Settings, check_scenario
from semharness.model.tracefmt import render
from semharness.realtime import run_scenario
from semharness.registry import resolve
from semharness.scenarios import battery

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found on PATH")

TOKENS = 0x7FFFFFFF  # futex32's token bits; bit 31 is the contended flag
SEED = 0


def _check(name: str, scenario: str):
    """One scenario of the default set, checked as `semharness check --seed 0` checks it."""
    impl = resolve(name)
    by_name = {s.name: s for s in default_scenarios(SEED)}
    return check_scenario(executor_factory(impl), by_name[scenario], Settings(seed=SEED))


def _caught(name: str, scenario: str, checks: tuple[str, ...]):
    result = _check(name, scenario)
    assert result.failure is not None, f"{name} escaped {scenario}"
    found = result.failure
    assert found.check in checks, render(found, scenario)
    assert len(found.record.trace) < 60, render(found, scenario)  # short enough to read
    # the correct twin passes the same scenario with the same settings
    twin = _check("futex32", scenario)
    assert twin.failure is None, render(twin.failure, scenario)
    assert twin.runs == Settings().schedules
    return found


def _battery(scenario: str, name: str, status: str):
    """One case of the bad-input battery on real threads, as `semharness check` runs it."""
    impl = resolve(name)
    case = next(s for s in battery.BATTERY if s.name == scenario)
    result = run_scenario(case, impl.create, impl.capabilities)
    assert result.status == status, result.messages
    return result


def _steps(found, kind: str) -> list[tuple]:
    return [s for s in found.record.trace if s[2] == kind]


def test_wake_only_n_strands_sleepers_once_the_flag_is_clear() -> None:
    """BUGS.md 1 (QTBUG-66875): the release that clears the flag wakes one of two sleepers."""
    found = _caught("buggy-wake-only-n", "standard", ("lost wake-up", "deadlock"))
    wakes = _steps(found, "futex_wake")
    assert wakes and all(s[6] == "count 1" for s in wakes)  # never "count all"
    blocked = {s[0] for s in _steps(found, "futex_wait") if "blocks" in s[6]}
    assert len(blocked) >= 2  # two sleepers, one left behind


def test_sleep_on_stale_value_sleeps_with_a_token_in_the_word() -> None:
    """BUGS.md 7: the waiter decided on "0 tokens, contended" but sleeps on a value it re-read
    after a release landed -- one with a token in it, which no release will change."""
    found = _caught("buggy-sleep-on-stale-value", "standard", ("lost wake-up", "deadlock"))
    stale = [s for s in _steps(found, "futex_wait") if "blocks" in s[6] and s[4] & TOKENS]
    assert stale, render(found, "standard")
    sleeper = stale[-1][0]
    decided = [s for s in _steps(found, "cas") if s[0] == sleeper and s[5] == 0x80000000]
    assert decided  # it set the flag on an empty count: the value it decided to sleep on


def test_try_gives_up_on_cas_fails_with_tokens_left() -> None:
    """BUGS.md 8 (musl 07e62953): sem(2); two tries at once; the loser's CAS fails on a count
    of 1 and it returns false."""
    found = _caught(
        "buggy-try-gives-up-on-cas", "repro-concurrent-tries", ("linearizability", "expectation")
    )
    trace = found.record.trace
    fail = next(i for i, s in enumerate(trace) if s[2] == "cas-fail")
    assert trace[fail][4] & TOKENS >= 1  # the word it found still had a token
    ret = next(s for s in trace[fail:] if s[0] == trace[fail][0] and s[2] == "return")
    assert ret[6] == "-> False"


def test_overflow_unchecked_wraps_the_count() -> None:
    """BUGS.md 9 (glibc BZ18434): release(1) at the maximum succeeds and the count reads 0."""
    found = _caught(
        "buggy-overflow-unchecked",
        "repro-overflow",
        ("linearizability", "invariant", "expectation"),
    )
    assert any(s[4] == TOKENS and s[5] == TOKENS + 1 for s in _steps(found, "cas"))
    # ... and the real-time battery, which runs first, catches it too
    bad = _battery("badinput-overflow", "buggy-overflow-unchecked", "fail")
    assert "expected OverflowError" in " ".join(bad.messages)
    _battery("badinput-overflow", "futex32", "pass")


def test_relative_deadline_gives_up_before_the_deadline() -> None:
    """BUGS.md 10: the timeout is used as the absolute deadline; a timed try invoked after the
    virtual clock passed its timeout times out at once."""
    found = _caught("buggy-relative-deadline", "repro-timeout-then-wait", ("timeout",))
    timed_out = [s for s in _steps(found, "futex_wait") if s[6].startswith("ETIMEDOUT")]
    assert timed_out and timed_out[0][6] == "ETIMEDOUT (deadline 1000000)"  # 1 ms, as given
    assert "before its 1 ms deadline" in found.failures[0].message
    # on real threads the monotonic clock counts from boot: the battery's try fails at once
    bad = _battery("timeout-positive", "buggy-relative-deadline", "fail")
    assert "before its deadline" in " ".join(bad.messages)
    _battery("timeout-positive", "futex32", "pass")
