"""The known bugs re-created on futex64.c (BUGS.md 2, 3, 4; implementations/buggy/).

Each buggy file changes seams of the reference core, Qt QSemaphore's 64-bit design.  For each,
the model checker finds it on a scenario of the default set, with the default settings and a
fixed seed, as `semharness check --seed 0` runs it -- and for the reason it is known by: the
assertions read the trace (words, halves, wakes), so that a failure for another reason does not
pass.  futex64 itself passes the same scenario under the same settings, and the failure replays
from its file with the identical trace.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from twin_checks import assert_replays_from_its_file

from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios
from semharness.model.runner import Settings, check_scenario
from semharness.model.tracefmt import render
from semharness.registry import resolve

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found on PATH")

LOW = 0x7FFFFFFF  # a half's count bits
BIT31 = 1 << 31  # the low half's spare bit (the flag of buggy-flag-outside-word)
WAKE_ALL = 1 << 63  # futex64's flag: the top bit of the high half
SEED = 0


def _check(name: str, scenario: str):
    """One scenario of the default set, checked as `semharness check --seed 0` checks it."""
    by_name = {s.name: s for s in default_scenarios(SEED)}
    return check_scenario(executor_factory(resolve(name)), by_name[scenario], Settings(seed=SEED))


def _caught(name: str, scenario: str):
    result = _check(name, scenario)
    assert result.failure is not None, f"{name} escaped {scenario}"
    found = result.failure
    assert found.check in ("lost wake-up", "deadlock"), render(found, scenario)
    assert len(found.record.trace) < 120, render(found, scenario)  # short enough to read
    twin = _check("futex64", scenario)  # the reference passes the same scenario
    assert twin.failure is None, render(twin.failure, scenario)
    assert twin.runs == Settings().schedules
    return found


def _high(word: int) -> int:
    return (word >> 32) & LOW


def _final_word(found) -> int:
    """The word the observer's available() read at the end."""
    return next(s[4] for s in reversed(found.record.trace) if s[2] == "load")


def _stuck_wait(found) -> tuple[int, tuple]:
    """(index, step) of the last futex wait that blocked: the waiter left asleep."""
    trace = found.record.trace
    i = max(i for i, s in enumerate(trace) if s[2] == "futex_wait" and "blocks" in s[6])
    return i, trace[i]


def _releases(found) -> list[list[tuple]]:
    """Each release call's own steps, invoke to return."""
    calls: dict[tuple[int, int], list[tuple]] = {}
    for s in found.record.trace:
        if s[1] >= 0:
            calls.setdefault((s[0], s[1]), []).append(s)
    return [c for c in calls.values() if c[0][2] == "invoke" and c[0][6].startswith("release")]


def test_unmirrored_waiters_sleep_on_a_high_half_no_release_changes() -> None:
    """BUGS.md 2 (QTBUG-67214): the high half counts only waiters; a release adds to the low
    half alone, and a waiter for 2 that decided before it sets the flag and sleeps on the
    unchanged high half with its tokens there."""
    found = _caught("buggy-unmirrored-waiters", "repro-multi-token-waiter")
    _, wait = _stuck_wait(found)
    sleeper, expected = wait[0], wait[4]
    assert wait[3] == "+4.hi" and expected & BIT31  # the high half, flag set in what it expects
    final = _final_word(found)
    assert final >> 32 == expected  # ... which is what the high half still holds
    assert final & LOW >= 2  # with the 2 tokens it waits for there
    # the flag was set blind (Qt's fetch-or), on a word whose low half a release had moved
    assert any(s[0] == sleeper and s[2] == "fetch_or" for s in found.record.trace)
    # and a release added tokens to the low half only: the high half is no mirror of them
    cases = [s for call in _releases(found) for s in call if s[2] == "cas"]
    assert cases and all(_high(s[5]) == _high(s[4]) and s[5] & LOW > s[4] & LOW for s in cases)


def test_unmirrored_initial_release_sees_no_waiters_and_wakes_nobody() -> None:
    """BUGS.md 3 (QTBUG-67481): sem(1) starts with an empty high half; the first acquire
    borrows it to 0x7fffffff, a waiter's registration wraps it to 0, and a release that finds
    high == low ("no waiters") wakes nobody."""
    found = _caught("buggy-unmirrored-initial", "standard")
    trace = found.record.trace
    assert next(s[4] for s in trace if s[2] == "load") == 1  # high half 0, low half 1
    cases = [s for s in trace if s[2] == "cas"]
    assert any(s[4] == 1 and s[5] == LOW << 32 for s in cases)  # the borrow
    assert any(s[4] == LOW << 32 and _high(s[5]) == 0 for s in cases)  # the wrap to 0
    _, wait = _stuck_wait(found)
    assert wait[3] == "+0.lo" and _final_word(found) & LOW >= 1  # asleep with a token there
    # a release found the halves equal while a waiter slept, and made no futex wake
    silent = [
        call
        for call in _releases(found)
        if any(s[2] == "cas" and _high(s[4]) == s[4] & LOW for s in call)
        and not any(s[2] == "futex_wake" for s in call)
    ]
    assert silent, render(found, "standard")


def test_flag_outside_the_word_is_lost_to_an_aba_on_the_high_half() -> None:
    """BUGS.md 4 (QTBUG-92148): the flag is outside the half the waiter for 3 compares; a
    release clears it and the token traffic puts the high half back, so the waiter sleeps on
    a value it decided on, with the flag gone, and no later release wakes the high half."""
    found = _caught("buggy-flag-outside-word", "repro-multi-token-waiter-churn")
    trace = found.record.trace
    i, wait = _stuck_wait(found)
    sleeper, expected = wait[0], wait[4]
    assert wait[3] == "+4.hi" and not expected & BIT31  # the flag is not in what it compares
    # it set the flag (bit 31) on the word it decided on ...
    flagged = [
        j
        for j, s in enumerate(trace[:i])
        if s[0] == sleeper and s[2] == "cas" and s[5] & BIT31 and not s[4] & BIT31
    ]
    assert flagged
    # ... then another thread's release cleared it, and the high half came back to that value
    between = [s for s in trace[flagged[-1] : i] if s[2] == "cas" and s[0] != sleeper]
    assert any(s[4] & BIT31 and not s[5] & BIT31 for s in between)
    assert _high(between[-1][5]) == expected
    final = _final_word(found)
    assert not final & (BIT31 | WAKE_ALL) and final & LOW >= 3  # no flag; its 3 tokens there


@pytest.mark.parametrize(
    ("name", "scenario"),
    [
        ("buggy-unmirrored-waiters", "repro-multi-token-waiter"),
        ("buggy-unmirrored-initial", "standard"),
        ("buggy-flag-outside-word", "repro-multi-token-waiter-churn"),
    ],
)
def test_the_failures_replay_from_their_files(tmp_path: Path, name: str, scenario: str) -> None:
    found = _check(name, scenario).failure
    assert found is not None
    assert_replays_from_its_file(name, found, tmp_path)
