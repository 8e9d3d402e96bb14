"""Invariants, timeouts and liveness from a history."""

from __future__ import annotations

from semharness.history import History
from semharness.invariants import check_invariants


def checks(h: History) -> list[tuple[str, int | None]]:
    return [(f.check, f.index) for f in check_invariants(h)]


def test_a_clean_history_has_no_findings() -> None:
    h = History(initial=1)
    h.append(0, "acquire", 1, None, 0, 10)
    h.append(1, "try_acquire", 1, 0.5, 1, 600_000_000, result=False)
    h.append(0, "release", -1, None, 11, 12, error="ValueError")
    h.append(0, "release", 1, None, 13, 14)
    h.append(2, "available", 0, None, 700_000_000, 700_000_010, result=1)
    assert checks(h) == []


def test_errors_only_for_bad_input() -> None:
    h = History(initial=1)
    h.append(0, "acquire", 1, None, 0, 1, error="ValueError")  # valid n, raised
    h.append(0, "release", -2, None, 2, 3)  # n < 0 accepted
    h.append(0, "acquire", 1, None, 4, 5, error="RuntimeError")  # not in the contract
    h.append(0, "release", 3, None, 6, 7, error="OverflowError")  # judged by linearizability
    assert checks(h) == [("bad input", 0), ("bad input", 1), ("invariant", 2)]


def test_timed_try_failing_early_is_reported() -> None:
    h = History(initial=0)
    h.append(0, "try_acquire", 1, 0.2, 0, 150_000_000, result=False)
    h.append(0, "try_acquire", 1, 0.2, 200_000_000, 400_000_000, result=False)
    assert checks(h) == [("timeout", 0)]


def test_conservation_and_negative_counts() -> None:
    h = History(initial=2)
    h.append(0, "acquire", 1, None, 0, 1)
    h.append(0, "release", 3, None, 2, 3)
    h.append(1, "available", 0, None, 10, 11, result=3)  # should be 4
    assert checks(h) == [("invariant", 2)]
    h2 = History(initial=0)
    h2.append(0, "available", 0, None, 0, 1, result=-1)
    assert ("invariant", 0) in checks(h2)


def test_lost_wake_up_and_deadlock() -> None:
    h = History(initial=0)
    h.append(0, "acquire", 1, None, 0, None)  # blocked for ever
    h.append(1, "release", 1, None, 5, 6)
    h.append(2, "available", 0, None, 100, 101, result=1)  # a token is there
    assert checks(h) == [("lost wake-up", 0)]
    h = History(initial=0)
    h.append(0, "acquire", 1, None, 0, None)
    h.append(1, "acquire", 2, None, 1, None)
    assert checks(h) == [("deadlock", None)]
    h = History(initial=0)  # a timed wait still pending is no deadlock yet
    h.append(0, "acquire", 1, None, 0, None)
    h.append(1, "try_acquire", 2, 5.0, 1, None)
    assert checks(h) == []
