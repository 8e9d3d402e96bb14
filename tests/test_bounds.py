"""The bounds prefilter: it never flags a linearizable history, and it flags impossible calls."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from test_linearizability import brute_force, small_histories

from semharness.bounds import impossible_calls
from semharness.contract import MAX_COUNT
from semharness.histgen import generate, plant_violation
from semharness.linearizability import ACQ, FAIL, INFINITY, OVER, READ, REL, Step


def flagged(steps: list[Step], initial: int) -> list[int]:
    cols = np.array([[s.kind, s.n, s.invoke, s.ret] for s in steps], dtype=np.int64).T
    return [steps[i].index for i in impossible_calls(*cols, initial)[0]]


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(small_histories())
def test_never_flags_a_linearizable_history(case: tuple[list[Step], int]) -> None:
    steps, initial = case
    if brute_force(steps, initial):
        assert flagged(steps, initial) == []


def test_each_rule_flags_an_impossible_call() -> None:
    # sem(1): acquire(2) alone can never succeed
    assert flagged([Step(0, 0, ACQ, 2, 0, 5)], 1) == [0]
    # a failed try(1) while a release that returned earlier keeps the count at >= 1
    assert flagged([Step(0, 0, REL, 1, 0, 1), Step(1, 1, FAIL, 1, 3, 4)], 0) == [1]
    # available() above every token that could exist, or below the lowest count
    assert flagged([Step(0, 0, READ, 3, 0, 1)], 2) == [0]
    assert flagged([Step(0, 0, READ, 1, 0, 1)], 2) == [0]
    # releases past MAX, and overflow errors that could not have happened
    assert flagged([Step(0, 0, REL, 2, 0, 1)], MAX_COUNT - 1) == [0]
    assert flagged([Step(0, 0, OVER, 2, 0, 1)], 5) == [0]


def test_pending_calls_loosen_the_bounds() -> None:
    # a pending release may have happened: the acquire may have used its token
    steps = [Step(0, 0, REL, 1, 0, INFINITY), Step(1, 1, ACQ, 1, 2, 3)]
    assert flagged(steps, 0) == []
    # a pending acquire may have happened: the failed try may have seen 0
    steps = [Step(0, 0, ACQ, 1, 0, INFINITY), Step(1, 1, FAIL, 1, 2, 3)]
    assert flagged(steps, 1) == []


def test_valid_generated_histories_pass_and_planted_ones_are_flagged() -> None:
    for threads in (4, 16, 64):
        steps, initial = generate(5000, threads, seed=threads)
        assert flagged(steps, initial) == []
        bad = plant_violation(steps, initial, 0.5)
        assert len(flagged(bad, initial)) == 1
