"""The scenario model (Scenario.needs, the exceed_initial bound) and the real-time runner's
failure detection, with small deliberately wrong semaphores."""

from __future__ import annotations

import random
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semharness.contract import MAX_COUNT, Capabilities
from semharness.realtime import run_scenario
from semharness.scenario import (
    ANY,
    Get,
    Loop,
    Op,
    Pause,
    Put,
    Releaser,
    Scenario,
    op_tolerance,
    rise_bound,
    scaled_times,
    tolerance,
)
from semharness.scenarios import all_scenarios, get, peer, scenario_set


def sc(*threads, initial=(0,), final=None, rings=(), time_limit=5.0) -> Scenario:
    return Scenario(
        "t", "test", initial, tuple(tuple(t) for t in threads), final, rings, "test", time_limit
    )


def acq(n=1, sem=0, **kw):
    return Op("acquire", n, sem=sem, **kw)


def rel(n=1, sem=0, **kw):
    return Op("release", n, sem=sem, **kw)


def tri(n=1, timeout=0.0, sem=0, **kw):
    return Op("try_acquire", n, timeout, sem=sem, **kw)


def avail(expect=ANY, sem=0):
    return Op("available", 0, sem=sem, expect=expect)


# ---- the data model -----------------------------------------------------------------------------


def test_tolerance_is_the_peer_fuzz() -> None:
    assert tolerance(0) == pytest.approx(0.05)
    assert tolerance(2.0) == pytest.approx(0.15)
    assert op_tolerance(tri(1, 2.0, takes=0.0)) == pytest.approx(0.15)  # T, not takes
    assert op_tolerance(tri(1, None, takes=1.0)) == pytest.approx(0.10)  # no T: takes


def test_ops_are_validated() -> None:
    with pytest.raises(ValueError):
        Op("wait")
    with pytest.raises(ValueError):
        Op("release", via="for")
    with pytest.raises(ValueError):
        tri(1, None, via="until")
    with pytest.raises(ValueError):
        rel(expect="KeyError")
    with pytest.raises(ValueError):
        Loop((acq(),))  # no count and no way out
    with pytest.raises(ValueError):
        sc([acq(sem=1)])  # no such semaphore
    with pytest.raises(ValueError):
        sc([Put()])  # no such ring


def test_any_is_a_singleton_that_survives_pickling() -> None:
    import copy
    import pickle

    assert pickle.loads(pickle.dumps(ANY)) is ANY
    assert copy.deepcopy(ANY) is ANY
    assert repr(ANY) == "ANY"


def test_scaled_times_only_shrinks_large_loops() -> None:
    assert scaled_times(999, 0.01) == 999
    assert scaled_times(860_160, 0.01) == 8601
    assert scaled_times(1000, 1e-9) == 1
    assert scaled_times(5000, 1.0) == 5000


# ---- needs(): each rule, both ways --------------------------------------------------------------


def needs(*threads, initial=(5,)) -> frozenset[str]:
    return sc(*threads, initial=initial).needs()


def test_multi_acquire_only_when_another_thread_shares_the_semaphore() -> None:
    assert "multi_acquire" not in needs([acq(2), rel(2), tri(3)])  # alone: emulation is fine
    assert "multi_acquire" in needs([acq(2)], [rel(1)])
    assert "multi_acquire" in needs([tri(2)], [avail()])
    assert "multi_acquire" not in needs([acq(2, sem=1)], [rel(1)], initial=(5, 5))  # other sem
    assert "multi_acquire" not in needs([acq(1)], [rel(1)])  # n == 1
    assert "multi_acquire" in needs([Loop((acq(2), rel(2)), times=3)], [Releaser((), n=1)])


def test_atomic_release_only_when_another_thread_could_see_the_steps() -> None:
    assert "atomic_release" not in needs([rel(4)], [acq()], [acq()])  # single-token waiters
    assert "atomic_release" in needs([rel(4)], [avail()])  # an observer of the count
    assert "atomic_release" in needs([rel(2)], [acq(3)])  # a multi-token waiter
    assert "atomic_release" not in needs([rel(2), avail(), acq(2)])  # alone
    assert "atomic_release" in needs([Releaser((), n=2)], [avail()])
    assert "atomic_release" not in needs([rel(2)], [avail(sem=1)], initial=(0, 0))


def test_timeouts_and_wait_forever() -> None:
    assert needs([tri(1, 0.5)]) >= {"timeouts"}
    assert not needs([tri(1, 0.0), tri(1)]) & {"timeouts", "wait_forever"}
    assert "wait_forever" in needs([tri(1, None)])
    assert "wait_forever" in needs([tri(1, -1)])
    assert "wait_forever" in needs([tri(1, -(2**31))])
    assert "timeouts" not in needs([tri(1, None)])
    # the std helpers: a timeout <= 0 means "no wait", never forever
    assert not needs([tri(1, -1.0, via="for"), tri(1, -1.0, via="until")]) & {
        "timeouts",
        "wait_forever",
    }
    assert "timeouts" in needs([tri(1, 0.5, via="until")])
    # a call that must raise fails its argument checks: it never waits
    assert not needs([tri(-1, 0.5, expect="ValueError"), tri(-1, None, expect="ValueError")])


def test_calls_that_must_raise_take_and_release_nothing() -> None:
    assert "multi_acquire" not in needs([acq(1.5, expect="TypeError")], [rel()])
    assert "atomic_release" not in needs([rel(2**31, expect="OverflowError")], [avail()])
    assert needs([rel(2**31, expect="OverflowError")], [avail()]) == {"overflow_check"}


def test_overflow_check() -> None:
    assert "overflow_check" in needs([rel(MAX_COUNT, expect="OverflowError")])
    assert "overflow_check" not in needs([rel(-1, expect="ValueError")])
    assert "overflow_check" not in needs([rel(1)])


def test_exceed_initial() -> None:
    assert "exceed_initial" not in needs([acq(), rel()], [acq(), rel()], initial=(1,))
    assert "exceed_initial" in needs([rel()], initial=(1,))
    assert "exceed_initial" in needs([rel(), acq()], initial=(1,))  # peaks before acquiring
    assert "exceed_initial" in needs([tri(), rel()], initial=(1,))  # a try may fail
    assert "exceed_initial" not in needs([Loop((acq(), rel()), times=50)], initial=(1,))
    assert "exceed_initial" in needs([Loop((tri(1, exit_loop_on=False), rel()))], initial=(1,))
    assert "exceed_initial" not in needs([acq(2), Releaser((avail(),), n=2)], initial=(2,))
    assert "exceed_initial" in needs([Releaser((), n=1)], initial=(2,))
    assert "exceed_initial" not in needs([acq(), Releaser((), n=1, cancel=True)], initial=(2,))
    # a release that must fail has no effect
    assert "exceed_initial" not in needs([rel(-1, expect="ValueError")], initial=(2,))


def test_upper_bound_values() -> None:
    assert sc([Loop((rel(),), times=3)], initial=(2,)).upper_bound(0) == 5
    assert sc([Loop((rel(2), acq(1)), times=3)], initial=(0,)).upper_bound(0) == 4
    assert sc([rel(), acq()], [rel(2), acq(2)], initial=(0,)).upper_bound(0) == 3
    assert sc([Loop((rel(), tri(exit_loop_on=True)))]).upper_bound(0) == float("inf")
    # an exit mid-body: the level after the loop may be the body's peak
    assert rise_bound((Loop((rel(2), tri(exit_loop_on=True), acq(2)), times=5), rel()), 0) == (
        3,
        3,
    )


def _simulate(programs, initial: int, rng: random.Random) -> int:
    """Runs flat programs of (op, n) in a random interleaving on the sequential spec, with
    random try outcomes; returns the highest count seen.  Blocked acquires wait their turn."""
    count = peak = initial
    pcs = [0] * len(programs)
    while True:
        ready = []
        for t, prog in enumerate(programs):
            if pcs[t] < len(prog):
                op, n = prog[pcs[t]]
                if op != "acquire" or count >= n:
                    ready.append(t)
        if not ready:
            return peak
        t = rng.choice(ready)
        op, n = programs[t][pcs[t]]
        took = op == "acquire" or (op == "try_acquire" and count >= n and rng.random() < 0.5)
        if op == "release":
            count += n
        elif took:
            count -= n
        pcs[t] += 1
        peak = max(peak, count)


OPS = st.tuples(
    st.sampled_from(["acquire", "release", "try_acquire", "available"]), st.integers(0, 3)
)


@settings(max_examples=200, deadline=None)
@given(
    programs=st.lists(st.lists(OPS, max_size=8), min_size=1, max_size=3),
    initial=st.integers(0, 4),
    seed=st.integers(0, 2**32),
)
def test_upper_bound_is_sound(programs, initial, seed) -> None:
    """No interleaving of the sequential spec ever goes above the bound."""
    s = sc(*[[Op(op, n) for op, n in p] for p in programs], initial=(initial,))
    bound = s.upper_bound(0)
    rng = random.Random(seed)
    for _ in range(20):
        assert _simulate(programs, initial, rng) <= bound
    if bound == initial:
        assert "exceed_initial" not in s.needs()
    else:
        assert "exceed_initial" in s.needs()


# ---- the peer scenarios -------------------------------------------------------------------------


def test_peer_scenarios_are_complete_and_cited() -> None:
    scenarios = scenario_set("peer")
    names = [s.name for s in scenarios]
    assert len(names) == len(set(names))
    for expected in [
        "acquire-a", "acquire-b", "acquire-c", "multiRelease", "multiAcquireRelease",
        "tryAcquire", "tryAcquireWithTimeout-0.2s", "tryAcquireWithTimeout-2s",
        "tryAcquireWithTimeoutStarvation", "tryAcquireWithTimeoutForever-None",
        "tryAcquireWithTimeoutForever-minus1", "tryAcquireWithTimeoutForever-INT_MIN",
        "producerConsumer-phase1", "producerConsumer-phase2", "raii", "stdCompat",
    ]:  # fmt: skip
        assert expected in names
    for s in scenarios:
        assert "tst_QSemaphore::" in s.source
        assert s.time_limit > 0
    assert all_scenarios()[: len(scenarios)] == scenarios


def test_peer_numbers() -> None:
    assert peer.DATA_SIZE == 860_160
    for name in ("producerConsumer-phase1", "producerConsumer-phase2"):
        s = get(name)
        assert s.rings == (4096,) and s.initial == (4096, 0) and s.final == (4096, 0)
        for program in s.threads:  # every thread moves all items
            moved = _items(program)
            assert moved == 860_160
    first = get("producerConsumer-phase1").threads[0][0].body[0]
    assert first == Op("try_acquire", 1, 60.0, sem=0, expect=True)
    forever = [get(f"tryAcquireWithTimeoutForever-{x}") for x in ("None", "minus1", "INT_MIN")]
    assert [s.threads[0][1].timeout for s in forever] == [None, -1, -(2**31)]
    t2 = get("tryAcquireWithTimeout-2s")
    fails = [o for o in t2.threads[0] if isinstance(o, Op) and o.expect is False]
    assert len(fails) == 8 and all(o.takes == 2.0 and o.timeout == 2.0 for o in fails)


def _items(steps) -> int:
    total = 0
    for step in steps:
        if isinstance(step, (Put, Get)):
            total += step.count
        elif isinstance(step, Loop):
            total += step.times * _items(step.body)
    return total


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("acquire-a", set()),
        ("acquire-b", {"multi_acquire", "atomic_release"}),
        ("acquire-c", {"exceed_initial"}),
        ("multiRelease", {"exceed_initial"}),
        ("tryAcquire", {"exceed_initial"}),
        ("tryAcquireWithTimeout-0.2s", {"exceed_initial", "timeouts"}),
        ("tryAcquireWithTimeoutForever-None", {
            "exceed_initial", "wait_forever", "multi_acquire", "atomic_release"}),
        ("tryAcquireWithTimeoutStarvation", {"exceed_initial", "timeouts", "multi_acquire"}),
        ("producerConsumer-phase1", {"exceed_initial", "timeouts"}),
        ("producerConsumer-phase2", {
            "exceed_initial", "timeouts", "multi_acquire", "atomic_release"}),
        ("raii-acquired", set()),
    ],
)  # fmt: skip
def test_peer_needs(name, expected) -> None:
    assert get(name).needs() == expected


def test_get_unknown_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="tryAcquire"):
        get("nope")
    with pytest.raises(KeyError, match="peer"):
        scenario_set("nope")


# ---- the runner, on fake semaphores ------------------------------------------------------------


class Good:
    """A small correct semaphore (a count under a Condition) that the fakes bend."""

    def __init__(self, initial: int = 0) -> None:
        self.count = initial
        self.cond = threading.Condition()

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        if n < 0:
            raise ValueError("n < 0")
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        with self.cond:
            while self.count < n:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self.cond.wait(left)
                else:
                    self.cond.wait()
            self.count -= n
            return True

    def release(self, n: int = 1) -> None:
        if n < 0:
            raise ValueError("n < 0")
        with self.cond:
            if self.count + n > MAX_COUNT:
                raise OverflowError("past 2**31 - 1")
            self.count += n
            self.cond.notify_all()

    def available(self) -> int:
        return self.count


class GivesUpEarly(Good):
    """A timed try that fails at once instead of waiting."""

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        return super().try_acquire(n, 0.0 if timeout and timeout > 0 else timeout)


class NeverWakes(Good):
    """release forgets to notify: a blocked waiter sleeps forever (a lost wake-up)."""

    def release(self, n: int = 1) -> None:
        with self.cond:
            self.count += n


class OffByOne(Good):
    def available(self) -> int:
        return self.count + 1


class NoOverflowCheck(Good):
    def release(self, n: int = 1) -> None:
        with self.cond:
            self.count += n
            self.cond.notify_all()


class WrongError(Good):
    def release(self, n: int = 1) -> None:
        if n < 0:
            raise RuntimeError("bad n")
        super().release(n)


class Slow(Good):
    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        time.sleep(0.2)
        return super().try_acquire(n, timeout)


class Broken(Good):
    def acquire(self, n: int = 1) -> None:
        raise RuntimeError("boom")


def run(scenario: Scenario, cls=Good, caps: Capabilities | None = None, **kw):
    return run_scenario(scenario, cls, caps or Capabilities(), **kw)


def test_a_correct_run_passes_with_a_history() -> None:
    s = sc([Pause(0.05), rel(2), avail()], [acq()], [acq()], final=(0,))
    r = run(s)
    assert r.status == "pass", r.summary()
    assert r.ops == 4
    assert [h.op for h in r.history].count("release") == 1
    for h in r.history:
        assert h.return_ns is not None and h.invoke_ns <= h.return_ns
        assert h.error is None
    acquires = [h for h in r.history if h.op == "acquire"]
    release = next(h for h in r.history if h.op == "release")
    assert all(a.return_ns >= release.invoke_ns for a in acquires)


def test_a_timed_try_failing_before_its_deadline_is_reported() -> None:
    s = sc([tri(1, 0.3)])  # no expectation: only the universal rule
    assert run(s).status == "pass"
    r = run(s, GivesUpEarly)
    assert r.status == "fail"
    assert "before its deadline" in r.reason and "main" in r.reason


@pytest.mark.parametrize("via", ["for", "until"])
def test_the_deadline_rule_covers_the_std_helpers(via) -> None:
    s = sc([tri(1, 0.2, via=via, expect=False, takes=0.2)])
    assert run(s).status == "pass"
    assert "before its deadline" in run(s, GivesUpEarly).reason


def test_a_hang_is_reported_within_the_time_limit() -> None:
    s = sc([Pause(0.1), rel()], [avail(), acq()], time_limit=1.0)
    assert run(s).status == "pass"
    made: list[NeverWakes] = []

    def factory(initial: int) -> NeverWakes:
        made.append(NeverWakes(initial))
        return made[-1]

    start = time.monotonic()
    r = run(s, factory)
    for sem in made:  # let the stuck daemon thread go
        with sem.cond:
            sem.cond.notify_all()
    assert time.monotonic() - start < 1.0 + 3.0  # the limit, plus the bounded unblocking
    assert r.status == "fail"
    assert r.reason.startswith("hang: thread 1")
    assert "step 2: acquire(sem=0, n=1)" in r.reason
    assert "sem 0 = 1" in r.reason  # the count at the time: a token is there
    pending = [h for h in r.history if h.return_ns is None]
    assert [(h.thread, h.op) for h in pending] == [(1, "acquire")]


def test_a_hang_in_a_loop_names_the_pass() -> None:
    s = sc([Loop((acq(),), times=5)], initial=(3,), time_limit=0.5)
    r = run(s)
    assert r.status == "fail"
    assert "main" in r.reason and "pass 4 of 5 > step 1: acquire" in r.reason


def test_wrong_available_is_reported() -> None:
    s = sc([rel(), avail(1)])
    assert run(s).status == "pass"
    r = run(s, OffByOne)
    assert r.status == "fail"
    assert "available(sem=0) returned 2, expected 1" in r.reason


def test_wrong_results_and_types() -> None:
    assert "returned False, expected True" in run(sc([tri(expect=True)])).reason
    assert run(sc([tri(expect=False)])).status == "pass"

    class Truthy(Good):
        def try_acquire(self, n=1, timeout=0.0):
            return 1 if super().try_acquire(n, timeout) else 0

    assert "returned 1, expected True" in run(sc([tri(expect=True)], initial=(1,)), Truthy).reason


def test_expected_exceptions() -> None:
    over = sc([rel(MAX_COUNT), rel(1, expect="OverflowError"), avail(MAX_COUNT)])
    assert run(over).status == "pass"
    r = run(over, NoOverflowCheck)
    assert "expected OverflowError raised" in r.reason
    neg = sc([rel(-1, expect="ValueError"), avail(0)])
    assert run(neg).status == "pass"
    r = run(neg, WrongError)
    assert "raised RuntimeError: bad n (expected ValueError)" in r.reason


def test_an_unexpected_exception_is_a_failure_with_its_text() -> None:
    r = run(sc([acq()], initial=(1,)), Broken)
    assert r.status == "fail" and "RuntimeError: boom" in r.reason
    assert r.history[0].error == "RuntimeError"


def test_takes_is_checked_on_both_sides() -> None:
    s = sc([tri(1, 0.0, takes=0.0, expect=False)])
    assert run(s).status == "pass"
    r = run(s, Slow)
    assert "took 0.2" in r.reason and "expected 0 s ± 0.050 s" in r.reason
    # too short: a try(1, 0.3) that must succeed after 0.3 s, but a token is there at once
    early = sc([tri(1, 0.3, takes=0.3, expect=True)], initial=(1,))
    assert "took 0.0" in run(early).reason


def test_a_failure_stops_the_other_threads_promptly() -> None:
    s = sc([Pause(0.05), avail(99)], [acq()], time_limit=30.0)  # thread 1 blocks first
    start = time.monotonic()
    r = run(s)
    assert time.monotonic() - start < 5.0
    assert r.status == "fail"
    assert r.messages[0] == "main: step 2: available(sem=0) returned 0, expected 99"
    assert any("thread 1 did not finish after the failure" in m for m in r.messages)


def test_ring_mismatch_names_the_item() -> None:
    racy = sc([Put(5)], [Pause(0.05), Get(5)], rings=(4,))  # 5 items, 4 slots, no semaphore
    assert "ring 0 item 0 (slot 0) is 'H', expected 'A'" in run(racy).reason
    good = sc([Put(3), rel(1)], [acq(1), Get(3)], rings=(4,))
    assert run(good).status == "pass"
    bad = sc([Get(1)], rings=(4,))
    assert "item 0 (slot 0) is None, expected 'A'" in run(bad).reason


def test_final_counts_are_checked() -> None:
    assert run(sc([rel(2)], final=(2,))).status == "pass"
    r = run(sc([rel(2)], final=(3,)))
    assert r.reason == "final: sem 0 available() is 2, expected 3"
    assert run(sc([rel(2)], final=(None,))).status == "pass"


def test_skip_names_what_is_missing() -> None:
    s = sc([acq(2)], [rel(2)])
    r = run(s, caps=Capabilities(multi_acquire=False))
    assert r.status == "skip"
    assert "multi_acquire" in r.reason and "more than one token" in r.reason
    assert r.ops == 0


def test_exit_loop_on_and_releaser_steps() -> None:
    s = sc(
        [Loop((tri(1, exit_loop_on=False),)), avail(0),
         Releaser((acq(0),), n=2), avail(2),
         Releaser((rel(1),), n=5, cancel=True), avail(3)],
        initial=(7,), final=(3,),
    )  # fmt: skip
    r = run(s)
    assert r.status == "pass", r.summary()
    assert r.ops == 8 + 1 + 1 + 1 + 1 + 1 + 1


def test_scale_shrinks_large_loops_only() -> None:
    s = sc([Loop((rel(), acq()), times=2000), Loop((rel(),), times=10)], final=(10,))
    r = run(s, scale=0.1)
    assert r.status == "pass"
    assert r.ops == 2 * 200 + 10
    assert r.scale == 0.1
    with pytest.raises(ValueError):
        run(s, scale=0)


def test_history_is_bounded() -> None:
    s = sc([Loop((rel(), acq()), times=500)])
    r = run(s, history_limit=100)
    assert len(r.history) == 100 and r.history_dropped == 900


def test_factory_errors_are_failures() -> None:
    def factory(initial: int):
        raise OSError("no semaphores left")

    r = run_scenario(sc([acq()]), factory, Capabilities())
    assert r.status == "fail" and "no semaphores left" in r.reason
