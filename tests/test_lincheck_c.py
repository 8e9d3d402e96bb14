"""The C search (semharness._lincheck) against the Python reference, and the array glue.

Both backends must give the same Verdict -- status, order, counts, window, culprit, reason,
nodes -- so every test here runs the two and compares.
"""

from __future__ import annotations

import array
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_linearizability import small_histories

import semharness.linearizability as lz
from semharness.contract import MAX_COUNT
from semharness.histgen import Mix, generate, plant_violation, to_history
from semharness.history import History
from semharness.linearizability import (
    ACQ,
    FAIL,
    INFINITY,
    OVER,
    READ,
    REL,
    Step,
    StepArrays,
    _search_one,
    check_arrays,
    check_history,
    check_steps,
    segments,
    to_step,
)

_lincheck = pytest.importorskip("semharness._lincheck")


def both(steps: list[Step], initial: int, budget: int = 1_000_000):
    c = check_steps(steps, initial, budget, backend="c")
    py = check_steps(steps, initial, budget, backend="python")
    assert c == py
    return c


@st.composite
def wider_histories(draw: st.DrawFn) -> tuple[list[Step], int]:
    """Up to 6 threads of up to 4 calls, every kind, pending calls anywhere a thread ends."""
    initial = draw(st.integers(0, 4))
    steps: list[Step] = []
    for thread in draw(st.lists(st.integers(0, 9), min_size=1, max_size=6, unique=True)):
        time = draw(st.integers(0, 4))
        for _ in range(draw(st.integers(1, 4))):
            invoke = time + draw(st.integers(0, 2))
            ret = invoke + draw(st.integers(0, 4))
            kind = draw(st.sampled_from([ACQ, REL, FAIL, READ, OVER, ACQ, REL]))
            n = draw(st.integers(0, 4))
            if kind == OVER:
                n = MAX_COUNT - draw(st.integers(0, 3))
            pending = draw(st.integers(0, 7)) == 0
            steps.append(Step(len(steps), thread, kind, n, invoke, INFINITY if pending else ret))
            if pending:
                break
            time = ret + draw(st.integers(0, 1))
    order = draw(st.permutations(range(len(steps))))  # indices need not follow the list order
    return [steps[i] for i in order], initial


@settings(max_examples=3000, deadline=None, derandomize=True)
@given(small_histories())
def test_backends_agree_on_small_histories(case: tuple[list[Step], int]) -> None:
    steps, initial = case
    both(steps, initial)


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(wider_histories(), st.integers(-1, 30))
def test_backends_agree_on_wider_histories_and_budgets(
    case: tuple[list[Step], int], budget: int
) -> None:
    steps, initial = case
    both(steps, initial)
    both(steps, initial, budget)  # 'unknown' in the same segment, after the same nodes


@settings(max_examples=500, deadline=None, derandomize=True)
@given(wider_histories())
def test_one_segment_search_gives_the_same_answer(case: tuple[list[Step], int]) -> None:
    # the whole history as one search, pending calls and all: status, order, node count,
    # where the longest partial linearization ends and the lanes' order
    steps, initial = case
    cols = StepArrays.from_steps(steps)
    rows = np.arange(len(cols), dtype=np.int64)
    for budget in (3, 10**6):
        c = _search_one(cols, rows, cols.ret, initial, budget, "c")
        py = _search_one(cols, rows, cols.ret, initial, budget, "python")
        assert (c.status, c.nodes, c.best_positions, c.best_count, c.lane_threads) == (
            py.status,
            py.nodes,
            py.best_positions,
            py.best_count,
            py.lane_threads,
        )
        assert c.order.tolist() == py.order.tolist()


def shared_instants(calls_at_once: int) -> list[Step]:
    """Thread 0 makes ``calls_at_once`` zero-length calls at each of a few instants, while
    threads 1 and 2 have calls in flight across them: lanes whose calls share an instant,
    which the C memo's compact key stores in more than one bit a lane (or not at all)."""
    steps: list[Step] = []
    for t in range(4):
        at = 10 * t + 5
        for i in range(calls_at_once):
            steps.append(Step(len(steps), 0, (REL, ACQ, READ)[i % 3], 1, at, at))
        steps.append(Step(len(steps), 1, ACQ, 1, 10 * t, 10 * t + 9))
        steps.append(Step(len(steps), 2, REL, 1, 10 * t + 1, 10 * t + 8))
    return steps


@pytest.mark.parametrize("calls_at_once", [1, 2, 3, 5, 300])
@pytest.mark.parametrize("out_of_order", [False, True])
def test_the_memo_key_forms_give_the_same_search(calls_at_once: int, out_of_order: bool) -> None:
    # 2 and 3 calls an instant take 2 bits a lane, 5 take 3; 300 do not fit 8 bits, and calls
    # of a thread whose indices are not in time order are no sequential lane: both fall back
    # to keys of whole positions
    steps = shared_instants(calls_at_once)
    if out_of_order:
        last = len(steps) - 1
        steps[0], steps[last] = replace(steps[0], index=last), replace(steps[last], index=0)
    cols = StepArrays.from_steps(steps)
    rows = np.arange(len(cols), dtype=np.int64)
    for initial in (0, 1, 2):  # from 2 the search backtracks: records are decoded
        for budget in (5, 10**6):
            c = _search_one(cols, rows, cols.ret, initial, budget, "c")
            py = _search_one(cols, rows, cols.ret, initial, budget, "python")
            assert (c.status, c.nodes, c.best_positions, c.best_count) == (
                py.status,
                py.nodes,
                py.best_positions,
                py.best_count,
            )
            assert c.order.tolist() == py.order.tolist()


@pytest.mark.parametrize("threads", [1, 2, 3, 5, 8, 16])
def test_backends_agree_on_generated_histories(threads: int) -> None:
    steps, initial = generate(1500, threads, seed=threads)
    assert both(steps, initial).ok
    for where in (0.1, 0.5, 0.9):
        verdict = both(plant_violation(steps, initial, where), initial, budget=20_000)
        assert verdict.status in ("violation", "unknown")
        if threads <= 3:
            assert verdict.status == "violation"


def test_backends_agree_on_busy_and_big_histories() -> None:
    for threads, overlap in ((4, 0.9), (32, 0.5), (64, 0.7)):
        steps, initial = generate(600, threads, seed=7, overlap=overlap, mix=Mix(max_n=2))
        assert both(steps, initial, budget=50_000).ok


def test_the_1m_path_handles_many_segments_and_unsorted_input() -> None:
    steps, initial = generate(3000, 4, seed=11, overlap=0.1)
    shuffled = list(steps)
    np.random.default_rng(0).shuffle(shuffled)
    verdict = both(shuffled, initial)
    assert verdict.ok and verdict.segments > 50
    assert verdict == check_steps(steps, initial)


def test_any_thread_ids_over_many_segments() -> None:
    # 40 bursts of 1 to 70 concurrent calls on threads with ids of every size: the C search's
    # thread -> lane map grows, and empties between segments
    rng = np.random.default_rng(5)
    ids = [*rng.integers(-(2**62), 2**62, 300).tolist(), 0, -1, 2**63 - 1, -(2**63)]
    steps: list[Step] = []
    start = 0
    for _ in range(40):
        for thread in rng.choice(ids, int(rng.integers(1, 71)), replace=False).tolist():
            kind = int(rng.choice([ACQ, REL, FAIL]))
            n = 10**6 if kind == FAIL else int(rng.integers(0, 2))
            invoke = start + int(rng.integers(0, 5))
            steps.append(
                Step(len(steps), thread, kind, n, invoke, invoke + int(rng.integers(1, 9)))
            )
        start += 20
    verdict = both(steps, 100)
    assert verdict.ok and verdict.segments >= 40
    steps.append(Step(len(steps), ids[0], READ, -1, start, start + 1))  # no count is -1
    assert both(steps, 100).status == "violation"


def reference_segments(steps: list[Step], initial: int) -> list[tuple[int, list[Step], list[Step]]]:
    """The original segments(), one step at a time."""
    ordered = sorted(steps, key=lambda s: (s.invoke, s.ret))
    out: list[tuple[int, list[Step], list[Step]]] = []
    count = start_count = initial
    completed: list[Step] = []
    pending: list[Step] = []
    horizon = -1
    for step in ordered:
        if (completed or pending) and not pending and step.invoke > horizon:
            out.append((start_count, completed, pending))
            completed, pending, start_count = [], [], count
        if step.pending:
            pending.append(step)
        else:
            completed.append(step)
            count += step.effect()
        horizon = max(horizon, step.ret)
    if completed or pending:
        out.append((start_count, completed, pending))
    return out


@settings(max_examples=500, deadline=None, derandomize=True)
@given(wider_histories())
def test_vectorised_segments_match_the_step_by_step_ones(case: tuple[list[Step], int]) -> None:
    steps, initial = case
    by_index = sorted(steps, key=lambda s: s.index)  # ties keep index order in both
    assert segments(steps, initial) == reference_segments(by_index, initial)


ERRORS = [None, None, None, "OverflowError", "ValueError", "TimeoutError"]
#: try_acquire timeouts: none, no wait, a few ns (deadlines inside and past the intervals)
TIMEOUTS = st.sampled_from([None, 0.0, 2e-9, 5e-9, 1.0])


@st.composite
def histories(draw: st.DrawFn) -> History:
    """Histories of every op, n (negative, 0, past MAX_COUNT), result and error."""
    h = History(initial=draw(st.integers(0, 5)))
    for _ in range(draw(st.integers(0, 40))):
        op = draw(st.sampled_from(["acquire", "try_acquire", "release", "available"]))
        n = draw(st.sampled_from([-1, 0, 1, 2, 3, MAX_COUNT, MAX_COUNT + 1]))
        invoke = draw(st.integers(0, 50))
        pending = draw(st.integers(0, 6)) == 0
        ret = None if pending else invoke + draw(st.integers(0, 10))
        error = None if pending else draw(st.sampled_from(ERRORS))
        result = draw(st.booleans()) if op == "try_acquire" else draw(st.integers(-2, 6))
        timeout = draw(TIMEOUTS) if op == "try_acquire" else None
        h.append(draw(st.integers(0, 4)), op, n, timeout, invoke, ret, result, error)
    return h


@settings(max_examples=600, deadline=None, derandomize=True)
@given(histories())
def test_history_columns_map_like_to_step(h: History) -> None:
    expected = [s for s in (to_step(op) for op in h) if s is not None]
    assert StepArrays.from_history(h).steps() == expected


@settings(max_examples=500, deadline=None, derandomize=True)
@given(histories())
def test_backends_agree_on_histories(h: History) -> None:
    c = check_history(h, backend="c")
    py = check_history(h, backend="python")
    assert c == py
    # ...and the history path is the steps path
    steps = [s for s in (to_step(op) for op in h) if s is not None]
    assert c == check_steps(steps, h.initial, backend="c")


@pytest.mark.parametrize("threads", [2, 8, 24])
def test_generated_histories_read_from_columns_as_from_steps(threads: int) -> None:
    steps, initial = generate(2000, threads, seed=threads + 1)
    for case in (steps, plant_violation(steps, initial, 0.3)):
        h = to_history(case, initial)
        expected = check_steps(case, initial, budget=20_000)
        for backend in ("c", "python"):
            assert check_history(h, budget=20_000, backend=backend) == expected


def test_edge_cases_agree() -> None:
    for steps, initial in [
        ([], 0),
        ([Step(0, 0, ACQ, 1, 0, INFINITY)], 0),  # pending only: nothing is needed
        ([Step(5, 3, READ, 7, 0, 1)], 0),  # the root itself fails
        ([Step(0, 0, REL, 1, 0, 1), Step(1, 0, READ, 9, 2, 3)], 0),
    ]:
        both(steps, initial)
        both(steps, initial, budget=0)
        both(steps, initial, budget=-3)


def test_out_of_range_values_fall_back_to_python() -> None:
    huge = [Step(0, 0, ACQ, 2**62, 0, 1), Step(1, 1, READ, 0, 2, 3)]
    verdict = check_steps(huge, 2**62)  # auto: the C search's range is left, Python answers
    assert verdict.ok and verdict.counts == [0, 0]
    assert not check_steps(huge, 2**62 - 1).ok
    with pytest.raises(ValueError, match="C search"):
        check_steps(huge, 2**62, backend="c")
    odd = [Step(0, 0, 7, 1, 0, 1)]  # not a kind: only the reference knows what it does
    assert check_steps(odd, 1) == check_steps(odd, 1, backend="python")
    with pytest.raises(ValueError, match="backend"):
        check_steps([], 0, backend="fortran")


def test_check_arrays_takes_columns_in_any_row_order() -> None:
    steps, initial = generate(500, 3, seed=2)
    cols = StepArrays.from_steps(steps)
    perm = np.random.default_rng(1).permutation(len(cols))
    fields = ("index", "thread", "kind", "n", "invoke", "ret")
    shuffled = StepArrays.of(*(getattr(cols, f)[perm] for f in fields))
    assert check_arrays(shuffled, initial) == check_steps(steps, initial)
    with pytest.raises(ValueError, match="repeat"):
        StepArrays.of([1, 1], [0, 1], [REL, REL], [1, 1], [0, 0], [1, 1])


def test_the_module_takes_buffers_and_checks_them() -> None:
    q = lambda *v: array.array("q", v)  # noqa: E731
    status, order, nodes, best, count, lanes = _lincheck.search(
        q(ACQ, REL, ACQ), q(1, 1, 5), q(0, 2, 0), q(5, 3, 9), q(7, 9, 8), q(0, 1), 0, 100
    )
    # only the rows given; lanes in order of first call; the release goes first, one node
    # each before the acquire
    assert (status, list(order), nodes, best, count) == ("ok", [1, 0], 2, (0, 1), 1)
    assert lanes == (7, 9)
    with pytest.raises(TypeError, match="int64"):
        _lincheck.search(array.array("i", [0]), q(1), q(0), q(1), q(0), q(0), 0, 10)
    for rows in (q(1, 0), q(0, 2), q(-1)):
        with pytest.raises(ValueError, match="increase"):
            _lincheck.search(q(0, 0), q(1, 1), q(0, 0), q(1, 1), q(0, 1), rows, 5, 10)
    with pytest.raises(ValueError, match="kind"):
        _lincheck.search(q(9), q(1), q(0), q(1), q(0), q(0), 5, 10)
    with pytest.raises(OverflowError):
        _lincheck.search(q(REL), q(2**62), q(0), q(1), q(0), q(0), 5, 10)


def test_without_the_module_python_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    import semharness.linearizability as lin

    steps, initial = generate(300, 3, seed=4)
    bad = plant_violation(steps, initial, 0.5)
    expected = check_steps(bad, initial)
    monkeypatch.setattr(lin, "_lincheck", None)
    assert check_steps(bad, initial) == expected
    with pytest.raises(RuntimeError, match="not built"):
        check_steps(bad, initial, backend="c")


@pytest.mark.parametrize("workers", [2, 3, 7])
def test_segments_searched_in_parallel_give_the_sequential_answer(workers: int) -> None:
    steps, initial = generate(6000, 4, seed=11)
    cols = lz.StepArrays.from_steps(steps)
    lay = lz._layout(cols, initial, cols.exact_int64(initial))
    assert len(lay) > 10
    one = lz._search_segments_c(cols, lay, 10**6, workers=1)
    many = lz._search_segments_c(cols, lay, 10**6, workers=workers)
    assert one[0] == many[0] and one[1] == many[1]
    assert np.array_equal(one[2], many[2])
    # a violation in the middle: later groups are not run, the order stops before it
    bad = lz.StepArrays.from_steps(plant_violation(steps, initial, 0.5))
    lay = lz._layout(bad, initial, bad.exact_int64(initial))
    one = lz._search_segments_c(bad, lay, 10**6, workers=1)
    many = lz._search_segments_c(bad, lay, 10**6, workers=workers)
    assert one[0] == many[0] and "violation" in one[0]
    assert np.array_equal(one[2], many[2])


# ---- the breadth-first sweep (check_history(..., witness=False)) ----------------------------


@st.composite
def sequential_histories(draw: st.DrawFn) -> History:
    """Histories of every op, n, result and error whose threads' calls are sequential, as a
    real thread's are (a pending call last), rows in any order."""
    h = History(initial=draw(st.integers(0, 5)))
    calls = []
    for thread in range(draw(st.integers(1, 4))):
        t = draw(st.integers(0, 5))
        for k in range(draw(st.integers(0, 10))):
            op = draw(st.sampled_from(["acquire", "try_acquire", "release", "available"]))
            n = draw(st.sampled_from([-1, 0, 1, 1, 2, 3, MAX_COUNT, MAX_COUNT + 1]))
            invoke = t + draw(st.integers(0, 3))
            pending = draw(st.integers(0, 8)) == 0
            ret = None if pending else invoke + draw(st.integers(0, 8))
            error = None if pending else draw(st.sampled_from(ERRORS))
            result = draw(st.booleans()) if op == "try_acquire" else draw(st.integers(-1, 6))
            timeout = draw(TIMEOUTS) if op == "try_acquire" else None
            calls.append((thread, k, (thread, op, n, timeout, invoke, ret, result, error)))
            if pending:
                break
            t = ret
    order = draw(st.permutations(calls))  # threads interleave in any way; each in its order
    for _, _, args in _program_ordered(order):
        h.append(*args)
    return h


def _program_ordered(calls: list[tuple[int, int, tuple]]) -> list[tuple[int, int, tuple]]:
    """The calls re-ranked so that each thread's come in its own order, the threads'
    interleaving kept from the given order."""
    slots: dict[int, list[int]] = {}
    for i, (thread, _, _) in enumerate(calls):
        slots.setdefault(thread, []).append(i)
    out: list = [None] * len(calls)
    for thread, places in slots.items():
        mine = sorted((c for c in calls if c[0] == thread), key=lambda c: c[1])
        for place, call in zip(places, mine, strict=True):
            out[place] = call
    return out


@settings(max_examples=800, deadline=None, derandomize=True)
@given(sequential_histories())
def test_the_sweep_decides_as_the_search(h: History) -> None:
    status, _ = lz._sweep(h)
    assert status in ("ok", "violation")  # small sequential histories never fill a layer
    assert status == check_history(h).status
    fast = check_history(h, witness=False)
    assert fast.status == status
    if status == "ok":
        assert fast.order == [] and fast.counts == []


@pytest.mark.parametrize("threads", [1, 2, 3, 5, 8])
def test_the_sweep_agrees_on_generated_and_planted_histories(threads: int) -> None:
    steps, initial = generate(3000, threads, seed=threads, overlap=0.7, mix=Mix(max_n=2))
    h = to_history(steps, initial)
    assert lz._sweep(h)[0] == "ok"
    for where in (0.05, 0.5, 0.95):
        bad = to_history(plant_violation(steps, initial, where), initial)
        assert lz._sweep(bad)[0] == "violation"
        verdict = check_history(bad, witness=False)
        assert verdict == check_history(bad)  # the search describes it


def test_a_full_layer_or_too_many_threads_leave_it_to_the_search(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps, initial = generate(400, 6, seed=3, overlap=0.9, mix=Mix(max_n=2))
    h = to_history(steps, initial)
    monkeypatch.setattr(lz, "SWEEP_WIDTH", 1)
    assert lz._sweep(h)[0] == "unknown"
    verdict = check_history(h, witness=False)
    assert verdict.ok and len(verdict.order) == len(verdict.counts) > 0  # the search's answer
    monkeypatch.undo()
    many, initial = generate(300, 70, seed=4)
    assert lz._sweep(to_history(many, initial))[0] == "unknown"
    assert check_history(to_history(many, initial), witness=False).ok


def test_a_violation_the_search_cannot_afford_is_still_reported() -> None:
    h = History(initial=1)
    for t in range(6):  # six overlapping acquires of one token: no linearization
        h.append(t, "acquire", 1, None, 0, 10, None, None)
    assert check_history(h, budget=2).status == "unknown"
    verdict = check_history(h, budget=2, witness=False)
    assert verdict.status == "violation" and "sweep" in verdict.reason


@settings(max_examples=300, deadline=None, derandomize=True)
@given(histories())
def test_the_sweep_leaves_threads_out_of_order_to_the_search(h: History) -> None:
    status, _ = lz._sweep(h)
    if status != "unknown":
        assert status == check_history(h).status
    assert check_history(h, witness=False).status == check_history(h).status


def test_a_failed_timed_try_must_fail_after_its_deadline() -> None:
    # sem(0); a try_acquire(1, 10 ns) invoked at 0 returns false at 20; a release lands at 5,
    # before the deadline: the try could have taken it at its deadline, so false is wrong --
    # though the count was 0 when it was invoked.
    h = History(initial=0)
    h.append(0, "try_acquire", 1, 10e-9, 0, 20, False, None)
    h.append(1, "release", 1, None, 4, 5, None, None)
    h.append(1, "available", 0, None, 30, 31, 1, None)
    for backend in ("c", "python"):
        assert check_history(h, backend=backend).status == "violation"
    assert lz._sweep(h)[0] == "violation"
    # without a timeout (or with the release after the deadline) it linearizes at its start
    ok = History(initial=0)
    ok.append(0, "try_acquire", 1, 0.0, 0, 20, False, None)
    ok.append(1, "release", 1, None, 4, 5, None, None)
    assert check_history(ok).ok and lz._sweep(ok)[0] == "ok"
    late = History(initial=0)
    late.append(0, "try_acquire", 1, 10e-9, 0, 20, False, None)
    late.append(1, "release", 1, None, 14, 15, None, None)
    assert check_history(late).ok and lz._sweep(late)[0] == "ok"
