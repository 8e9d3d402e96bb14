"""The linearizability checker against a brute-force oracle, and each reduction on its own."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from semharness.contract import MAX_COUNT
from semharness.histgen import generate, plant_violation
from semharness.history import History
from semharness.linearizability import (
    ACQ,
    FAIL,
    INFINITY,
    OVER,
    READ,
    REL,
    Step,
    _Search,
    check_history,
    check_steps,
    segments,
)


def brute_force(steps: list[Step], initial: int) -> bool:
    """Every order of every subset (all completed calls, any pending ones) that keeps each
    thread's program order and real-time order, replayed against the specification."""
    completed = [s for s in steps if not s.pending]
    pending = [s for s in steps if s.pending]
    for r in range(len(pending) + 1):
        for chosen in itertools.combinations(pending, r):
            for order in itertools.permutations(completed + list(chosen)):
                count = initial
                for i, a in enumerate(order):
                    later = order[i + 1 :]
                    if any(
                        b.ret < a.invoke or (b.thread == a.thread and b.index < a.index)
                        for b in later
                    ):
                        break
                    if not a.applies(count):
                        break
                    count += a.effect()
                else:
                    return True
    return False


@st.composite
def small_histories(draw: st.DrawFn) -> tuple[list[Step], int]:
    """Up to 3 threads of up to 3 calls, with shared timestamps, pending last calls."""
    initial = draw(st.integers(0, 3))
    steps: list[Step] = []
    for thread in range(draw(st.integers(1, 3))):
        time = draw(st.integers(0, 2))
        for _ in range(draw(st.integers(1, 3))):
            invoke = time + draw(st.integers(0, 1))
            ret = invoke + draw(st.integers(0, 2))
            kind = draw(st.sampled_from([ACQ, REL, FAIL, READ, ACQ, REL]))
            n = draw(st.integers(0, 5 if kind == READ else 3))
            pending = kind in (ACQ, REL) and draw(st.integers(0, 9)) == 0
            steps.append(Step(len(steps), thread, kind, n, invoke, INFINITY if pending else ret))
            if pending:
                break
            time = ret + draw(st.integers(0, 1))
    return steps[:7], initial


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(small_histories())
def test_checker_agrees_with_brute_force(case: tuple[list[Step], int]) -> None:
    steps, initial = case
    verdict = check_steps(steps, initial)
    assert verdict.status == ("ok" if brute_force(steps, initial) else "violation")
    if verdict.ok:
        # the witness is a real linearization: every completed call once, counts replayed
        placed = set(verdict.order)
        assert {s.index for s in steps if not s.pending} <= placed
        assert len(placed) == len(verdict.order)
    else:
        assert verdict.window and verdict.reason


@settings(max_examples=300, deadline=None, derandomize=True)
@given(small_histories(), st.integers(0, 6))
def test_a_mutated_history_is_judged_like_brute_force(
    case: tuple[list[Step], int], which: int
) -> None:
    steps, initial = case
    s = steps[which % len(steps)]
    kinds = {ACQ: FAIL, FAIL: ACQ, REL: REL, READ: READ}
    mutated = list(steps)
    mutated[which % len(steps)] = Step(s.index, s.thread, kinds[s.kind], s.n + 1, s.invoke, s.ret)
    verdict = check_steps(mutated, initial)
    assert verdict.ok == brute_force(mutated, initial)


def test_overflowing_release_needs_a_high_count() -> None:
    near = MAX_COUNT - 1
    ok = [Step(0, 0, OVER, 2, 0, 1)]
    assert check_steps(ok, near).ok
    assert not check_steps(ok, near - 5).ok
    assert not check_steps([Step(0, 0, REL, 2, 0, 1)], near).ok


def test_pending_calls_may_or_may_not_take_effect() -> None:
    pending_acquire = Step(0, 0, ACQ, 1, 0, INFINITY)
    read_zero = Step(1, 1, READ, 0, 5, 6)
    read_one = Step(2, 2, READ, 1, 7, 8)
    assert check_steps([pending_acquire, read_zero], 1).ok  # it took the token
    assert check_steps([pending_acquire, read_one], 1).ok  # it did not
    # ...but not both: after it took the token, nothing gives it back
    assert not check_steps([pending_acquire, read_zero, read_one], 1).ok


def test_greedy_read_only_calls_keep_valid_histories_cheap() -> None:
    # 16 threads read the count concurrently while one acquire is in flight: without the greedy
    # step every subset of readers would be a node of its own.
    steps = [Step(0, 0, ACQ, 1, 0, 100)]
    steps += [Step(i, i, READ, 1, 1, 90) for i in range(1, 17)]
    verdict = check_steps(steps, 1)
    assert verdict.ok and verdict.nodes <= 3


def test_equal_effect_calls_are_tried_once() -> None:
    # 12 concurrent release(2)s, then 12 acquire(2)s, and a read of 5 while they run: within
    # every bound on the count, but the count is always even, so the search must refute it.
    # Without the symmetry reduction every subset of the releases would be a node.
    steps = [Step(i, i, REL, 2, 0, 10 + i) for i in range(12)]
    steps += [Step(12 + i, i, ACQ, 2, 30, 40 + i) for i in range(12)]
    steps.append(Step(24, 12, READ, 5, 5, 35))
    verdict = check_steps(steps, 0)
    assert not verdict.ok
    assert 12 <= verdict.nodes < 200  # 2^12 = 4096 subsets without it


def test_quiescent_points_split_the_history() -> None:
    steps = [
        Step(0, 0, ACQ, 1, 0, 5),
        Step(1, 1, REL, 1, 2, 4),
        Step(2, 0, READ, 1, 10, 12),  # quiescent at 6..9
        Step(3, 1, ACQ, 1, 20, 25),  # quiescent at 13..19
    ]
    parts = segments(steps, 1)
    assert [(count, [s.index for s in done]) for count, done, _ in parts] == [
        (1, [0, 1]),
        (1, [2]),
        (1, [3]),
    ]
    assert check_steps(steps, 1).segments == 3
    # no cut after a pending call: it is in flight for ever
    with_pending = [*steps[:2], Step(4, 2, REL, 1, 3, INFINITY), *steps[2:]]
    assert len(segments(with_pending, 1)) == 1


def test_segments_give_the_same_answer_as_one_search() -> None:
    steps, initial = generate(400, 3, seed=5)
    whole = _Search([s for s in steps if not s.pending], [s for s in steps if s.pending], initial)
    assert whole.run(10**6)[0] == "ok"
    assert check_steps(steps, initial).ok
    bad = plant_violation(steps, initial, 0.5)
    whole = _Search(bad, [], initial)
    assert whole.run(10**6)[0] == "violation"
    assert not check_steps(bad, initial).ok


def test_budget_answers_unknown() -> None:
    # releases of 2 from 0 keep the count even: a read of 5 is within every bound, so only
    # the search can refute it -- and 2 nodes are not enough
    steps = [Step(i, i, REL, 2, 0, 100 + i) for i in range(10)]
    steps.append(Step(99, 20, READ, 5, 50, 60))
    verdict = check_steps(steps, 0, budget=2)
    assert verdict.status == "unknown"


def test_violation_report_names_the_window_and_the_culprit() -> None:
    # sem(1): two overlapping acquires both succeed; later calls are fine
    steps = [
        Step(0, 0, ACQ, 1, 0, 10),
        Step(1, 1, ACQ, 1, 2, 12),
        Step(2, 2, READ, 0, 20, 21),
        Step(3, 0, REL, 1, 30, 31),
    ]
    verdict = check_steps(steps, 1)
    assert verdict.status == "violation"
    assert verdict.window == [0, 1]
    assert verdict.culprit == 1 and verdict.order == [0] and verdict.counts == [0]
    assert "acquire(1) cannot take effect" in verdict.reason


def test_generated_histories_are_valid_and_planted_violations_found() -> None:
    for threads in (2, 4, 8):
        steps, initial = generate(2000, threads, seed=threads)
        assert check_steps(steps, initial).ok
        for where in (0.05, 0.95):
            assert check_steps(plant_violation(steps, initial, where), initial).status == (
                "violation"
            )


def test_check_history_reads_a_history() -> None:
    h = History(initial=1)
    h.append(0, "acquire", 1, None, 0, 10)
    h.append(1, "try_acquire", 1, 0.0, 2, 3, result=False)
    h.append(1, "release", -1, None, 4, 5, error="ValueError")  # raised: no effect
    h.append(1, "available", 0, None, 6, 7, result=0)
    h.append(0, "release", 1, None, 11, None)  # pending
    assert check_history(h).ok
    h.append(2, "available", 0, None, 20, 21, result=5)
    assert not check_history(h).ok


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(small_histories())
def test_quick_status_is_check_historys_status(case: tuple[list[Step], int]) -> None:
    from semharness.histgen import to_history
    from semharness.linearizability import quick_status

    steps, initial = case
    history = to_history(steps, initial)
    assert quick_status(history) == check_history(history).status
