"""The Python executor of the model checker: correct implementations pass, runs are exactly
reproducible, buggy implementations are caught, and the real threading names are always put
back.  Every test is deterministic: the schedules come from fixed seeds."""

from __future__ import annotations

import _thread
import gc
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from greenlet import getcurrent, greenlet

from semharness.contract import check_n, check_timeout
from semharness.history import History
from semharness.invariants import check_invariants
from semharness.linearizability import check_history
from semharness.model import primitives
from semharness.model.core import (
    PCT,
    PREFIX,
    RANDOM,
    TRY_ACQUIRE,
    WAKE,
    Program,
    RunConfig,
    ScheduleSpec,
)
from semharness.model.pyexec import PyExecutor
from semharness.registry import resolve

REAL_LOCK = threading.Lock
REAL_MONOTONIC = time.monotonic
#: bound at import, as some implementations do: the executor must swap this binding too
_BoundLock = threading.Lock

MS = 1_000_000
CORRECT = ("textbook", "threading", "threading-bounded")
CONFIGS = (
    RunConfig(),
    RunConfig(timeouts="adversarial", spurious=2),
    RunConfig(timeouts="quiescent", spurious=2),
)
#: sem(1), three threads each acquire(1) then release(1)
MUTEX = Program(1, tuple(((0, 1, 0), (2, 1, 0)) for _ in range(3)))
#: waiters queue up, then get their tokens (never more released than taken: bounded-safe)
WAITERS = Program(1, (((0, 1, 0), (2, 1, 0)), ((0, 1, 0), (2, 1, 0)), ((1, 1, -1), (2, 1, 0))))
#: sem(0) with waiters and a releaser (not for the bounded semaphore: it exceeds initial 0)
WAITERS0 = Program(0, (((0, 1, 0),), ((1, 1, -1),), ((2, 1, 0), (2, 1, 0))))
#: timed tries against a late releaser: they get a token or time out, nobody waits for ever
TIMED = Program(
    0,
    (
        ((1, 1, 3 * MS),),
        ((1, 1, MS // 2),),
        ((1, 1, 0),),
        ((4, 0, 1 * MS), (2, 1, 0), (2, 1, 0)),
    ),
)
#: timed tries only (the bounded semaphore cannot take releases past its initial count)
TIMED_BOUNDED = Program(1, (((1, 1, 2 * MS),), ((1, 1, MS // 2),), ((1, 1, 0),)))


def to_history(rows: list[tuple], initial: int) -> History:
    """The executor's history rows as a :class:`History` for the checkers."""
    h = History(initial)
    for t, code, n, tmo, invoke, ret, result, error in rows:
        timeout = None if code != TRY_ACQUIRE or tmo < 0 else tmo / 1e9
        h.append(t, code, n, timeout, invoke, None if ret < 0 else ret, result, error)
    return h


def problems(ex: PyExecutor, initial: int) -> list[str]:
    """Everything the checkers find wrong with the last run's history."""
    h = to_history(ex.history(), initial)
    verdict = check_history(h)
    found = [] if verdict.ok else [f"linearizability: {verdict.status} {verdict.reason}"]
    return found + [f"{f.check}: {f.message}" for f in check_invariants(h)]


def assert_clean() -> None:
    assert primitives.is_clean()
    assert threading.Lock is REAL_LOCK is _thread.allocate_lock
    assert time.monotonic is REAL_MONOTONIC
    assert _BoundLock is REAL_LOCK


def specs(runs: int) -> list[ScheduleSpec]:
    """Half random, half PCT (depths 1..3), then the prefix-free default schedule."""
    out = [ScheduleSpec(RANDOM, seed=s) for s in range(runs // 2)]
    out += [ScheduleSpec(PCT, seed=s, depth=1 + s % 3, horizon=30) for s in range(runs // 2)]
    return [*out, ScheduleSpec(PREFIX)]


# ---- correct implementations ------------------------------------------------------------------


PROGRAMS = {"mutex": MUTEX, "waiters": WAITERS, "timed": TIMED, "timed-tries": TIMED_BOUNDED}
CASES = [
    pytest.param(name, program, id=f"{name}-{label}")
    for name in CORRECT
    for label, program in PROGRAMS.items()
    if not (name == "threading-bounded" and program is TIMED)
]


@pytest.mark.parametrize(("name", "program"), CASES)
@pytest.mark.parametrize("config", CONFIGS, ids=["quiescent", "adversarial+2", "quiescent+2"])
def test_correct_implementations_pass(name: str, program: Program, config: RunConfig) -> None:
    ex = PyExecutor(resolve(name).create, program, config)
    seen = set()
    for spec in specs(120):
        outcome, sig = ex.run(spec)
        assert outcome == "done", (name, spec, ex.findings())
        assert ex.findings() == [], ex.findings()
        assert problems(ex, program.initial) == [], (spec, ex.history())
        assert_clean()
        seen.add(sig)
    assert len(seen) > 1  # the schedules really differed


@pytest.mark.parametrize("name", ["textbook", "threading"])
def test_sem0_waiters_and_releases(name: str) -> None:
    ex = PyExecutor(resolve(name).create, WAITERS0, RunConfig(spurious=2))
    for spec in specs(100):
        assert ex.run(spec)[0] == "done"
        assert problems(ex, 0) == []
        rows = ex.history()
        assert rows[-1][0] == 3 and rows[-1][6] == 0  # the observer read the final count


def test_timeouts_fire_in_both_modes() -> None:
    """A try that cannot get a token gives up exactly at its deadline's turn, not before."""
    program = Program(0, (((1, 1, 2 * MS),), ((4, 0, 5 * MS), (2, 1, 0))))
    for mode in ("quiescent", "adversarial"):
        ex = PyExecutor(resolve("textbook").create, program, RunConfig(timeouts=mode))
        results = Counter()
        for spec in specs(60):
            assert ex.run(spec)[0] == "done"
            t0 = ex.history()[0]
            results[t0[6]] += 1
            if t0[6] is False:
                assert t0[5] - t0[4] >= 2 * MS
            assert problems(ex, 0) == []
        assert results[False] > 0


def test_a_sleep_times_out_once() -> None:
    """After its sleep a thread is an ordinary runnable one: no further TIMEOUT options."""
    program = Program(0, (((4, 0, MS), (2, 1, 0), (2, 1, 0)), ((0, 1, 0), (0, 1, 0))))
    ex = PyExecutor(resolve("textbook").create, program, RunConfig("adversarial"))
    for seed in range(40):
        assert ex.run(ScheduleSpec(RANDOM, seed=seed), trace=True)[0] == "done"
        fired = [step for step in ex.trace() if step[2] == "timeout"]
        assert [(step[0], step[3]) for step in fired] == [(0, "sleep")]
        assert all(row[4] > MS for row in ex.history() if row[0] == 0)  # released after it


def test_contract_errors_are_results() -> None:
    program = Program(0, (((0, -1, 0), (2, 2**31, 0), (1, 1, 0)),))
    ex = PyExecutor(resolve("textbook").create, program, RunConfig())
    assert ex.run(ScheduleSpec(PREFIX))[0] == "done"
    rows = ex.history()
    assert [r[7] for r in rows] == ["ValueError", "OverflowError", None, None]
    assert rows[2][6] is False


def test_deadlock_leaves_the_waiter_pending() -> None:
    program = Program(0, (((0, 1, 0),),))
    ex = PyExecutor(resolve("textbook").create, program, RunConfig())
    assert ex.run(ScheduleSpec(RANDOM, seed=1))[0] == "deadlock"
    rows = ex.history()
    assert rows[0][5] == -1 and rows[-1][0] == 1 and rows[-1][6] == 0
    assert [f.check for f in check_invariants(to_history(rows, 0))] == ["deadlock"]
    assert_clean()


# ---- reproducibility --------------------------------------------------------------------------


def _everything(ex: PyExecutor, spec: ScheduleSpec) -> tuple:
    outcome, sig = ex.run(spec, trace=True)
    return outcome, sig, ex.trail(), ex.history(), ex.trace(), ex.findings()


@pytest.mark.parametrize("name", CORRECT)
def test_same_spec_same_run(name: str) -> None:
    ex = PyExecutor(resolve(name).create, TIMED, RunConfig("adversarial", 2))
    other = PyExecutor(resolve(name).create, TIMED, RunConfig("adversarial", 2))
    for spec in (ScheduleSpec(RANDOM, seed=7), ScheduleSpec(PCT, seed=7), ScheduleSpec(PREFIX)):
        first = _everything(ex, spec)
        assert _everything(ex, spec) == first
        assert _everything(other, spec) == first
        assert first[4]  # a trace was made
        assert ex.run(spec, trace=False) == first[:2] and ex.trace() == []


def test_trail_replays_as_prefix() -> None:
    program = Program(0, (((0, 1, 0),), ((0, 1, 0),), ((0, 1, 0),), ((2, 1, 0), (2, 2, 0))))
    ex = PyExecutor(resolve("threading").create, program, RunConfig("adversarial", 1))
    wakes = 0
    for seed in range(40):
        run = _everything(ex, ScheduleSpec(RANDOM, seed=seed))
        trail = run[2]
        wakes += trail.kinds.count(WAKE)
        assert len(set(map(len, (trail.chosen, trail.widths, trail.kinds)))) == 1
        assert all(0 <= c < w for c, w in zip(trail.chosen, trail.widths, strict=True))
        assert _everything(ex, ScheduleSpec(PREFIX, prefix=trail.chosen)) == run
    assert wakes > 0  # notify() with more waiters than it wakes made WAKE choices


def test_bad_prefix_is_a_mismatch() -> None:
    ex = PyExecutor(resolve("textbook").create, MUTEX, RunConfig())
    assert ex.run(ScheduleSpec(PREFIX, prefix=(99,)))[0] == "mismatch"
    assert len(ex.trail()) == 0
    assert_clean()


def test_bad_wake_choice_is_a_mismatch() -> None:
    program = Program(0, (((0, 1, 0),), ((0, 1, 0),), ((0, 1, 0),), ((2, 1, 0),)))
    ex = PyExecutor(resolve("threading").create, program, RunConfig())
    for seed in range(100):
        ex.run(ScheduleSpec(RANDOM, seed=seed))
        trail = ex.trail()
        if WAKE in trail.kinds:
            at = trail.kinds.index(WAKE)
            bad = (*trail.chosen[:at], trail.widths[at])
            assert ex.run(ScheduleSpec(PREFIX, prefix=bad))[0] == "mismatch"
            assert ex.trail().chosen == trail.chosen[:at]
            assert_clean()
            assert _active_greenlets() == []
            return
    pytest.fail("no run made a WAKE choice")


def test_equal_signatures_mean_equal_histories_up_to_times() -> None:
    ex = PyExecutor(resolve("textbook").create, TIMED, RunConfig("adversarial", 1))
    by_sig: dict[bytes, tuple] = {}
    for seed in range(150):
        outcome, sig = ex.run(ScheduleSpec(RANDOM, seed=seed))
        rows = ex.history()
        events = sorted(
            [(r[4], "i", r[0]) for r in rows] + [(r[5], "r", r[0]) for r in rows if r[5] >= 0]
        )
        shape = (outcome, [r[:4] + r[6:] for r in rows], [e[1:] for e in events])
        assert by_sig.setdefault(sig, shape) == shape
    assert len(by_sig) > 3


# ---- the primitives ---------------------------------------------------------------------------


class EventGate:
    """Not a semaphore: acquire waits for an Event that release sets (one use only)."""

    def __init__(self, initial: int) -> None:
        self._ev = threading.Event()
        self.kinds = type(self._ev).__name__

    def acquire(self, n: int = 1) -> None:
        self._ev.wait()

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        return self._ev.wait(timeout)

    def release(self, n: int = 1) -> None:
        self._ev.set()

    def available(self) -> int:
        return int(self._ev.is_set())


def test_event_waits_until_set() -> None:
    program = Program(0, (((0, 1, 0),), ((1, 1, 2 * MS),), ((4, 0, MS), (2, 1, 0))))
    ex = PyExecutor(EventGate, program, RunConfig("adversarial"))
    results = Counter()
    for spec in specs(60):
        assert ex.run(spec)[0] == "done"
        rows = ex.history()
        release = next(r for r in rows if r[0] == 2)
        assert rows[0][5] > release[4]  # acquire returned only after the set was invoked
        results[rows[1][6]] += 1
    assert set(results) == {True, False}  # the timed wait both timed out and was woken
    assert_clean()


class RLockWaitFor:
    """A correct semaphore over ``Condition()`` (an RLock, taken twice) and ``wait_for``."""

    def __init__(self, initial: int) -> None:
        self._cond = threading.Condition()
        self._lock = _BoundLock()  # swapped for a model Lock although bound at import
        self._n = initial

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        n = check_n(n)
        timeout = check_timeout(timeout)
        with self._cond, self._cond:
            if not self._cond.wait_for(lambda: self._n >= n, timeout):
                return False
            self._n -= n
            return True

    def release(self, n: int = 1) -> None:
        with self._cond, self._lock:
            self._n += check_n(n)
            self._cond.notify(2)

    def available(self) -> int:
        return self._n


def test_rlock_condition_wait_for() -> None:
    program = Program(
        0, (((0, 2, 0),), ((1, 1, 3 * MS),), ((0, 1, 0),), ((2, 1, 0), (2, 1, 0), (2, 2, 0)))
    )
    for config in CONFIGS:
        ex = PyExecutor(RLockWaitFor, program, config)
        for spec in specs(80):
            assert ex.run(spec)[0] == "done", ex.findings()
            assert problems(ex, 0) == []
            assert ex.findings() == []
    ex.run(ScheduleSpec(RANDOM, seed=3), trace=True)
    targets = {step[3] for step in ex.trace()}
    assert {"RLock#1", "Condition#1", "Lock#1"} <= targets
    assert_clean()


def test_spurious_budget_is_respected() -> None:
    ex = PyExecutor(resolve("textbook").create, WAITERS0, RunConfig(spurious=2))
    most = 0
    for seed in range(100):
        ex.run(ScheduleSpec(RANDOM, seed=seed), trace=True)
        most = max(most, sum(step[2] == "spurious" for step in ex.trace()))
    assert most == 2


# ---- bugs are caught --------------------------------------------------------------------------


class IfNotWhile:
    """Buggy: waits under ``if``, so a woken waiter takes tokens that another already took."""

    def __init__(self, initial: int) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._n = initial

    def acquire(self, n: int = 1) -> None:
        with self._cond:
            if self._n < n:
                self._cond.wait()
            self._n -= n

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        raise NotImplementedError

    def release(self, n: int = 1) -> None:
        with self._cond:
            self._n += n
            self._cond.notify_all()

    def available(self) -> int:
        return self._n


class NotifyOne(IfNotWhile):
    """Buggy: ``notify()`` where waiters want different counts -- the one woken may not be
    able to go on, and the one that could stays asleep."""

    def acquire(self, n: int = 1) -> None:
        with self._cond:
            while self._n < n:
                self._cond.wait()
            self._n -= n

    def release(self, n: int = 1) -> None:
        with self._cond:
            self._n += n
            self._cond.notify()


def _first_failure(factory: Callable[[int], Any], program: Program, runs: int) -> list[str]:
    ex = PyExecutor(factory, program, RunConfig())
    for seed in range(runs):
        outcome, _ = ex.run(ScheduleSpec(RANDOM, seed=seed))
        found = problems(ex, program.initial)
        if found:
            return [outcome, *found]
    return []


def test_if_instead_of_while_is_caught() -> None:
    # the sleep lets both woken waiters return before the second release is invoked
    program = Program(0, (((0, 1, 0),), ((0, 1, 0),), ((2, 1, 0), (4, 0, MS), (2, 1, 0))))
    found = _first_failure(IfNotWhile, program, 300)
    assert found, "no schedule exposed the missing re-check"
    assert_clean()


def test_notify_instead_of_notify_all_is_caught() -> None:
    program = Program(0, (((0, 2, 0),), ((0, 1, 0),), ((2, 1, 0),)))
    found = _first_failure(NotifyOne, program, 300)
    assert found and found[0] == "deadlock"
    assert any(f.startswith("lost wake-up") for f in found)
    assert_clean()


class RestartsTimeout(NotifyOne):
    """Buggy: each wait gets the full timeout again, so the try may outlast its deadline."""

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        with self._cond:
            while self._n < n:
                if not self._cond.wait(timeout):
                    return False
            self._n -= n
            return True


def test_wait_past_the_deadline_is_a_finding() -> None:
    program = Program(0, (((1, 1, MS),),))
    ex = PyExecutor(RestartsTimeout, program, RunConfig(spurious=1))
    hits = []
    for seed in range(50):
        ex.run(ScheduleSpec(RANDOM, seed=seed))
        hits += ex.findings()
    assert hits and all("beyond its deadline" in h for h in hits)
    assert hits[0].startswith("t0 op 0: waits until ")
    # the correct one, under the same schedules, never waits past it
    ex = PyExecutor(resolve("textbook").create, program, RunConfig(spurious=1))
    for seed in range(50):
        ex.run(ScheduleSpec(RANDOM, seed=seed))
        assert ex.findings() == []


class Raises(NotifyOne):
    def acquire(self, n: int = 1) -> None:
        with self._cond:
            raise RuntimeError("boom")


def test_unexpected_exception_is_an_error() -> None:
    ex = PyExecutor(Raises, MUTEX, RunConfig())
    outcome, _ = ex.run(ScheduleSpec(RANDOM, seed=2))
    assert outcome == "error"
    assert len(ex.findings()) == 1 and "RuntimeError: boom" in ex.findings()[0]
    assert_clean()
    # the lock the raising thread held is gone with the run: the next run starts afresh
    assert PyExecutor(resolve("textbook").create, MUTEX, RunConfig()).run(ScheduleSpec())[0] == (
        "done"
    )


class BusyWait(NotifyOne):
    """Buggy: spins on the clock instead of waiting."""

    def acquire(self, n: int = 1) -> None:
        while self._n < n:
            time.monotonic()
        self._n -= n


def _active_greenlets() -> list[greenlet]:
    gc.collect()
    me = getcurrent()
    return [g for g in gc.get_objects() if isinstance(g, greenlet) and g and g is not me]


def test_busy_wait_hits_the_step_limit(capsys: pytest.CaptureFixture[str]) -> None:
    ex = PyExecutor(BusyWait, Program(0, (((0, 1, 0),), ((0, 1, 0),))), RunConfig(max_steps=500))
    for seed in range(5):
        assert ex.run(ScheduleSpec(RANDOM, seed=seed))[0] == "step-limit"
        assert_clean()
    assert _active_greenlets() == []  # abandoned threads were unwound, not left suspended
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


class Interrupted(NotifyOne):
    def release(self, n: int = 1) -> None:
        with self._cond:
            raise KeyboardInterrupt


def test_originals_restored_after_keyboard_interrupt() -> None:
    ex = PyExecutor(Interrupted, MUTEX, RunConfig())
    with pytest.raises(KeyboardInterrupt):
        ex.run(ScheduleSpec(RANDOM, seed=0))
    assert_clean()
    assert _active_greenlets() == []
    assert PyExecutor(resolve("threading").create, MUTEX, RunConfig()).run(ScheduleSpec())[0] == (
        "done"
    )


def test_other_os_threads_keep_the_real_primitives() -> None:
    """A thread running beside the executor (a checker, say) never gets model objects."""
    stop = threading.Event()
    wrong = []

    def beside() -> None:
        while not stop.is_set():
            lock = threading.Lock()
            if type(lock) is not type(REAL_LOCK()) or not isinstance(time.monotonic(), float):
                wrong.append(type(lock))
            if time.monotonic() < 1.0:  # virtual time starts at 0; the real clock does not
                wrong.append("virtual time")

    other = threading.Thread(target=beside)
    other.start()
    try:
        ex = PyExecutor(resolve("threading").create, MUTEX, RunConfig())
        for seed in range(300):
            assert ex.run(ScheduleSpec(RANDOM, seed=seed))[0] == "done"
    finally:
        stop.set()
        other.join()
    assert wrong == []


def test_outside_a_run_the_real_primitives_are_used() -> None:
    seen = []

    class Probe(NotifyOne):
        def available(self) -> int:
            seen.append((type(threading.Lock()).__name__, type(self._cond).__name__))
            return self._n

    ex = PyExecutor(Probe, Program(0, ()), RunConfig())
    assert ex.run(ScheduleSpec())[0] == "done"
    assert seen == [("ModelLock", "ModelCondition")]
    assert type(threading.Lock()) is type(REAL_LOCK())
    assert isinstance(threading.Condition(), primitives.REAL_CONDITION)
