"""Runs a :class:`~.scenario.Scenario` on real threads, in real time.

One thread per program, released together by a barrier.  Every contract call is timed around
the single call with ``time.monotonic_ns()`` and recorded in the history; the runner checks each
result, each expected exception, each ``takes`` (within the peer tolerance 50 ms + T/20), that no
timed try fails before its deadline, the ring data, and the final counts.  A watchdog bounds the
run by the scenario's ``time_limit``: a thread still running then is reported as a hang -- which
thread, the step it is in, the semaphore counts -- and the runner unblocks what it can and
returns; it never hangs or raises itself.

The first failure of a thread ends that thread, as Qt's QVERIFY does; it also stops the other
threads at their next step (a failed run's later results prove nothing), and a thread that is
still blocked after a grace period is reported as not having finished.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .contract import CAPABILITY_TEXT, Capabilities, SemaphoreLike
from .releaser import Releaser as _ReleaserCM
from .releaser import try_acquire_for, try_acquire_until
from .scenario import (
    ALPHABET,
    ANY,
    Get,
    Loop,
    Op,
    Pause,
    Put,
    Releaser,
    Scenario,
    Step,
    op_tolerance,
    scaled_times,
)

#: Clock-conversion allowance for the deadline rule (float seconds <-> integer ns); a try that
#: gives up any earlier than its deadline by more than this is reported.
DEADLINE_SLACK_NS = 1_000
#: Records kept in a result's history, over all threads (producerConsumer makes millions).
HISTORY_LIMIT = 200_000
#: The time a watchdog check (available(), an unblocking release) may take before it is abandoned.
_PROBE_TIMEOUT = 1.0


@dataclass
class Record:
    """One contract call: who, what, when (monotonic ns, ``return_ns`` None while pending),
    and what came back (``error``: the exception's class name)."""

    thread: int
    sem: int
    op: str
    n: int
    timeout: float | None
    invoke_ns: int
    return_ns: int | None
    result: Any
    error: str | None


@dataclass
class ScenarioResult:
    """The outcome of one scenario run on one implementation."""

    name: str
    status: str  # 'pass' | 'fail' | 'skip'
    reason: str = ""  # the skip reason, or the first failure
    messages: list[str] = field(default_factory=list)  # every failure, in the order seen
    duration: float = 0.0  # seconds, from the start barrier to the end of the run
    history: list[Record] = field(default_factory=list)
    ops: int = 0  # contract calls completed
    scale: float = 1.0
    time_limit: float = 0.0  # the watchdog bound used
    history_dropped: int = 0  # completed calls left out of the history (HISTORY_LIMIT)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def summary(self) -> str:
        head = f"{self.name}: {self.status}"
        if self.status == "skip":
            return f"{head} ({self.reason})"
        text = f"{head} in {self.duration:.2f} s, {self.ops} ops"
        if self.scale != 1.0:
            text += f", scale {self.scale:g}"
        return "\n  ".join([text, *self.messages])


class _Failed(Exception):
    """Ends the thread whose check failed (the message is already recorded)."""


class _Stopped(Exception):
    """Ends a thread because the run is over (another thread failed, or the watchdog fired)."""


_EXIT = object()  # returned by a step whose result ends the innermost loop


class _Where:
    """Where a step sits in its thread's program, for messages ("step 2 > pass 7 of 100 > ...")."""

    __slots__ = ("label", "op", "parts")

    def __init__(self, parts: tuple[Any, ...], label: str, op: Op | None = None) -> None:
        self.parts = parts  # str, or (loop depth, times) filled in from the live pass counters
        self.label = label
        self.op = op

    def text(self, passes: list[int]) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, tuple):
                depth, times = part
                out.append(f"pass {passes[depth] + 1}" + ("" if times is None else f" of {times}"))
            else:
                out.append(part)
        return " > ".join(out) + ": " + self.label


class _Thread:
    """The state of one program while it runs."""

    def __init__(self, index: int, name: str, cap: int, depth: int) -> None:
        self.index = index
        self.name = name
        self.cap = cap
        self.history: list[tuple[Any, ...]] = []
        self.ops = 0
        self.passes = [0] * max(depth, 1)
        self.where: _Where | None = None  # the latest step started
        self.since: int | None = None  # invoke time of the call in progress, None between calls
        self.finished = False


class _Run:
    """Everything the threads of one run share."""

    def __init__(
        self, scenario: Scenario, sems: list[SemaphoreLike], scale: float, history_limit: int | None
    ) -> None:
        self.scenario = scenario
        self.sems = sems
        self.scale = scale
        self.scaled = False
        self.rings: list[list[str | None]] = [[None] * size for size in scenario.rings]
        self.stop = [False]  # read on every step: a list item is the cheapest flag
        self.stop_event = threading.Event()  # wakes Pauses when the run stops
        self.changed = threading.Event()  # a thread finished or failed: the watchdog looks
        self.failed_at: float | None = None
        self.failures: list[str] = []  # list.append is atomic: threads share it safely
        nthreads = len(scenario.threads)
        cap = math.inf if history_limit is None else max(1, history_limit // nthreads)
        self.threads = [
            _Thread(i, scenario.thread_name(i), cap, _depth(p))
            for i, p in enumerate(scenario.threads)
        ]

    def fail(self, t: _Thread, message: str) -> None:
        self.note(t, message)
        raise _Failed

    def note(self, t: _Thread, message: str) -> None:
        """Records a failure of thread t and stops the run."""
        self.failures.append(f"{t.name}: {message}")
        if self.failed_at is None:
            self.failed_at = time.monotonic()
        self.halt()

    def halt(self) -> None:
        self.stop[0] = True
        self.stop_event.set()
        self.changed.set()

    # ---- compiling a program into closures (the hot loop of producerConsumer runs them) ----

    def compile(
        self, t: _Thread, steps: tuple[Step, ...], parts: tuple[Any, ...], depth: int
    ) -> list[Callable[[], Any]]:
        out = []
        for i, step in enumerate(steps):
            here = (*parts, f"step {i + 1}")
            if isinstance(step, Op):
                out.append(self._op(t, step, _Where(here, step.describe(), step)))
            elif isinstance(step, Loop):
                out.append(self._loop(t, step, here, depth))
            elif isinstance(step, Pause):
                out.append(self._pause(t, step, _Where(here, f"pause({step.seconds})")))
            elif isinstance(step, (Put, Get)):
                out.append(self._transfer(t, step, _Where(here, repr(step))))
            elif isinstance(step, Releaser):
                out.append(self._releaser(t, step, here, depth))
            else:
                raise TypeError(f"unknown step {step!r}")
        return out

    def _op(self, t: _Thread, op: Op, where: _Where) -> Callable[[], Any]:
        sem = self.sems[op.sem]
        n, timeout, expect, name = op.n, op.timeout, op.expect, op.op
        deadline_holder = [0.0]
        if name == "acquire":

            def call() -> Any:
                return sem.acquire(n)
        elif name == "release":

            def call() -> Any:
                return sem.release(n)
        elif name == "available":

            def call() -> Any:
                return sem.available()
        elif op.via == "for":

            def call() -> Any:
                return try_acquire_for(sem, n, timeout)
        elif op.via == "until":

            def call() -> Any:
                return try_acquire_until(sem, n, deadline_holder[0])
        else:

            def call() -> Any:
                return sem.try_acquire(n, timeout)

        record_timeout = None
        if name == "try_acquire":  # what the call waits at most; the helpers never wait < 0
            record_timeout = timeout if op.via is None else max(0.0, float(timeout or 0.0))
        timed = op.timed
        timeout_ns = int(timeout * 1e9) if timed else 0
        until = op.via == "until"
        takes = op.takes
        lo_ns = hi_ns = 0
        if takes is not None:
            tol = op_tolerance(op)
            lo_ns, hi_ns = int((takes - tol) * 1e9), int((takes + tol) * 1e9)
        expects_error = op.expects_error
        check = expect is not ANY and not expects_error
        exit_on = op.exit_loop_on
        stop, hist, now = self.stop, t.history, time.monotonic_ns
        rec = (t.index, op.sem, name, n, record_timeout)

        def run() -> Any:
            if stop[0]:
                raise _Stopped
            t.where = where
            if until:  # the deadline is fixed before the call, as a caller of _until would
                deadline_ns = now() + timeout_ns
                deadline_holder[0] = deadline_ns / 1e9
            t0 = now()
            t.since = t0
            try:
                result = call()
            except Exception as exc:
                t1 = now()
                t.since = None
                t.ops += 1
                err = type(exc).__name__
                if len(hist) < t.cap:
                    hist.append((*rec, t0, t1, None, err))
                if not expects_error or expect not in {c.__name__ for c in type(exc).__mro__}:
                    want = f"expected {expect}" if expects_error else "expected no exception"
                    self.fail(t, f"{_at(t, where)} raised {err}: {exc} ({want})")
                result = exc
            else:
                t1 = now()
                t.since = None
                t.ops += 1
                if len(hist) < t.cap:
                    hist.append((*rec, t0, t1, result, None))
                if expects_error:
                    self.fail(t, f"{_at(t, where)} returned {result!r}, expected {expect} raised")
                if check and not _same(result, expect):
                    self.fail(t, f"{_at(t, where)} returned {result!r}, expected {expect!r}")
                if timed and not result:  # a failed try (False, or a falsy stand-in)
                    end = deadline_ns if until else t0 + timeout_ns
                    if t1 < end - DEADLINE_SLACK_NS:
                        self.fail(
                            t,
                            f"{_at(t, where)} returned False after {(t1 - t0) / 1e9:.6f} s, "
                            f"before its deadline ({timeout} s): a timed try never fails early",
                        )
            if takes is not None and not lo_ns <= t1 - t0 <= hi_ns:
                self.fail(
                    t,
                    f"{_at(t, where)} took {(t1 - t0) / 1e9:.3f} s, expected {takes:g} s "
                    f"± {op_tolerance(op):.3f} s",
                )
            if exit_on is not None and not isinstance(result, Exception) and _same(result, exit_on):
                return _EXIT
            return None

        return run

    def _loop(self, t: _Thread, loop: Loop, here: tuple[Any, ...], depth: int) -> Callable[[], Any]:
        times = loop.times
        if times is not None:
            new = scaled_times(times, self.scale)
            self.scaled |= new != times
            times = new
        body = self.compile(t, loop.body, (*here, (depth, times)), depth + 1)
        passes = t.passes

        def run() -> Any:
            if times is None:
                i = 0
                while True:
                    passes[depth] = i
                    for f in body:
                        if f() is _EXIT:
                            return None
                    i += 1
            for i in range(times):
                passes[depth] = i
                for f in body:
                    if f() is _EXIT:
                        return None
            return None

        return run

    def _pause(self, t: _Thread, pause: Pause, where: _Where) -> Callable[[], Any]:
        stop, stop_event, seconds = self.stop, self.stop_event, pause.seconds

        def run() -> Any:
            if stop[0]:
                raise _Stopped
            t.where = where
            if stop_event.wait(seconds):
                raise _Stopped
            return None

        return run

    def _transfer(self, t: _Thread, step: Put | Get, where: _Where) -> Callable[[], Any]:
        ring = self.rings[step.ring]
        size, count, stop = len(ring), step.count, self.stop
        index = [0]  # this thread's position in its own sequence on this ring
        alphabet = ALPHABET
        put = isinstance(step, Put)

        def run() -> Any:
            if stop[0]:
                raise _Stopped
            i = index[0]
            if put:
                for k in range(i, i + count):
                    ring[k % size] = alphabet[k % 5]
            else:
                for k in range(i, i + count):
                    got = ring[k % size]
                    if got != alphabet[k % 5]:
                        t.where = where
                        self.fail(
                            t,
                            f"{_at(t, where)} ring {step.ring} item {k} (slot {k % size}) "
                            f"is {got!r}, expected {alphabet[k % 5]!r}",
                        )
            index[0] = i + count
            return None

        return run

    def _releaser(
        self, t: _Thread, step: Releaser, here: tuple[Any, ...], depth: int
    ) -> Callable[[], Any]:
        body = self.compile(t, step.body, (*here, "releaser"), depth)
        exit_op = Op("release", step.n, sem=step.sem)
        recorder = _RecordingSem(
            self, t, exit_op, _Where((*here, "releaser exit"), exit_op.describe(), exit_op)
        )
        n, cancel, stop = step.n, step.cancel, self.stop

        def run() -> Any:
            if stop[0]:
                raise _Stopped
            outcome = None
            with _ReleaserCM(recorder, n) as releaser:
                for f in body:
                    if f() is _EXIT:
                        outcome = _EXIT
                        break
                if cancel:
                    got = releaser.cancel()
                    if got is not recorder or releaser.semaphore is not None:
                        self.fail(t, f"{here[-1]}: Releaser.cancel() returned {got!r}")
            return outcome

        return run


class _RecordingSem:
    """What a scenario's Releaser holds: its exit release is timed and recorded like an op."""

    def __init__(self, run: _Run, t: _Thread, op: Op, where: _Where) -> None:
        self._run = run
        self._t = t
        self._op = op
        self._where = where

    def release(self, n: int = 1) -> None:
        t, now = self._t, time.monotonic_ns
        t.where = self._where
        t0 = now()
        t.since = t0
        try:
            self._run.sems[self._op.sem].release(n)
        except Exception as exc:
            t1 = now()
            t.since = None
            t.ops += 1
            if len(t.history) < t.cap:
                t.history.append(
                    (t.index, self._op.sem, "release", n, None, t0, t1, None, type(exc).__name__)
                )
            self._run.fail(t, f"{_at(t, self._where)} raised {type(exc).__name__}: {exc}")
        t1 = now()
        t.since = None
        t.ops += 1
        if len(t.history) < t.cap:
            t.history.append((t.index, self._op.sem, "release", n, None, t0, t1, None, None))


def _same(result: Any, expect: Any) -> bool:
    """Equal, and of the promised kind: True is not 1, and an available() of True is no int."""
    if isinstance(expect, bool) or isinstance(result, bool):
        return result is expect
    return result == expect


def _at(t: _Thread, where: _Where) -> str:
    return where.text(t.passes)


def _depth(steps: tuple[Step, ...]) -> int:
    """How deeply Loops nest in a program (the size of its pass counters)."""
    deepest = 0
    for step in steps:
        if isinstance(step, Loop):
            deepest = max(deepest, 1 + _depth(step.body))
        elif isinstance(step, Releaser):
            deepest = max(deepest, _depth(step.body))
    return deepest


def _probe(fn: Callable[[], Any], timeout: float = _PROBE_TIMEOUT) -> tuple[bool, Any]:
    """Calls fn on a daemon thread and waits at most ``timeout``: (done, result or exception).
    The watchdog's own calls into a possibly broken implementation must not hang it."""
    box: list[Any] = []

    def target() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            box.append(exc)

    th = threading.Thread(target=target, name="semharness-probe", daemon=True)
    th.start()
    th.join(timeout)
    return (bool(box), box[0] if box else None)


def _counts(sems: list[SemaphoreLike]) -> str:
    parts = []
    for i, sem in enumerate(sems):
        done, value = _probe(sem.available)
        if not done:
            text = "available() did not return"
        elif isinstance(value, BaseException):
            text = f"available() raised {type(value).__name__}"
        else:
            text = str(value)
        parts.append(f"sem {i} = {text}")
    return ", ".join(parts)


def skip_reason(scenario: Scenario, capabilities: Capabilities) -> str | None:
    """Why an implementation with these capabilities cannot run the scenario, or None."""
    missing = capabilities.missing(scenario.needs())
    if not missing:
        return None
    return "needs what the implementation lacks: " + "; ".join(
        f"{name} ({CAPABILITY_TEXT.get(name, name)})" for name in missing
    )


def run_scenario(
    scenario: Scenario,
    factory: Callable[[int], SemaphoreLike],
    capabilities: Capabilities | None = None,
    *,
    scale: float = 1.0,
    history_limit: int | None = HISTORY_LIMIT,
) -> ScenarioResult:
    """Runs ``scenario`` on real threads with semaphores made by ``factory(initial)``.

    ``scale`` (0 < scale <= 1) shrinks loops of 1000 passes or more (a quick producerConsumer);
    when it shrinks one, the watchdog bound shrinks with it, but not below 10 s.
    ``history_limit`` bounds the records kept (None: all), shared equally by the threads.
    """
    if not 0 < scale <= 1:
        raise ValueError("scale must be in (0, 1]")
    capabilities = capabilities or Capabilities()
    reason = skip_reason(scenario, capabilities)
    if reason is not None:
        return ScenarioResult(scenario.name, "skip", reason, scale=scale)
    try:
        sems = [factory(initial) for initial in scenario.initial]
    except Exception as exc:
        msg = f"creating the semaphores failed: {type(exc).__name__}: {exc}"
        return ScenarioResult(scenario.name, "fail", msg, [msg], scale=scale)
    try:
        return _run(scenario, sems, scale, history_limit)
    except Exception as exc:  # a harness bug must still give an answer, not an exception
        msg = f"the runner failed: {type(exc).__name__}: {exc}"
        return ScenarioResult(scenario.name, "fail", msg, [msg], scale=scale)


def _run(
    scenario: Scenario, sems: list[SemaphoreLike], scale: float, history_limit: int | None
) -> ScenarioResult:
    run = _Run(scenario, sems, scale, history_limit)
    programs = [
        run.compile(t, p, (), 0) for t, p in zip(run.threads, scenario.threads, strict=True)
    ]
    limit = scenario.time_limit
    if run.scaled:
        limit = max(limit * scale, min(limit, 10.0))
    barrier = threading.Barrier(len(programs) + 1)

    def body(t: _Thread, program: list[Callable[[], Any]]) -> None:
        try:
            barrier.wait(30.0)
            for f in program:
                f()
        except (_Failed, _Stopped, threading.BrokenBarrierError):
            pass
        except BaseException as exc:
            where = f" in {_at(t, t.where)}" if t.where is not None else ""
            run.note(t, f"unexpected {type(exc).__name__}{where}: {exc}")
        finally:
            t.finished = True
            run.changed.set()

    threads = [
        threading.Thread(
            target=body, args=(t, p), name=f"semharness-{scenario.name}-{t.name}", daemon=True
        )
        for t, p in zip(run.threads, programs, strict=True)
    ]
    for th in threads:
        th.start()
    barrier.wait(30.0)
    start = time.monotonic()
    deadline = start + limit
    grace = 1.0 + _longest_wait(scenario)
    messages: list[str] = []
    while True:
        run.changed.clear()
        if all(t.finished for t in run.threads):
            break
        now = time.monotonic()
        end = deadline if run.failed_at is None else min(deadline, run.failed_at + grace)
        if now >= end:
            messages += _hang_report(run, start, now, after_failure=run.failed_at is not None)
            _unblock(run, threads)
            break
        run.changed.wait(end - now)
    duration = time.monotonic() - start

    messages = list(run.failures) + messages  # failures first, in the order they happened
    if not messages and scenario.final is not None:
        for i, want in enumerate(scenario.final):
            if want is None:
                continue
            done, got = _probe(sems[i].available)
            if not done or isinstance(got, BaseException) or not _same(got, want):
                shown = "no answer" if not done else repr(got)
                messages.append(f"final: sem {i} available() is {shown}, expected {want}")

    history = _history(run, threads)
    ops = sum(t.ops for t in run.threads)
    return ScenarioResult(
        name=scenario.name,
        status="fail" if messages else "pass",
        reason=messages[0] if messages else "",
        messages=messages,
        duration=duration,
        history=history,
        ops=ops,
        scale=scale,
        time_limit=limit,
        history_dropped=ops - sum(1 for r in history if r.return_ns is not None),
    )


def _longest_wait(scenario: Scenario) -> float:
    """The longest a correct step of the scenario may legitimately take (timeouts, pauses)."""
    from .scenario import walk

    longest = 0.0
    for program in scenario.threads:
        for step in walk(program):
            if isinstance(step, Pause):
                longest = max(longest, step.seconds)
            elif isinstance(step, Op) and step.timed:
                longest = max(longest, float(step.timeout or 0.0))
    return longest


def _hang_report(run: _Run, start: float, now: float, after_failure: bool) -> list[str]:
    counts = _counts(run.sems)
    out = []
    for t in run.threads:
        if t.finished:
            continue
        where = _at(t, t.where) if t.where is not None else "its first step"
        since = t.since
        if since is not None:
            state = f"blocked in {where} for {(time.monotonic_ns() - since) / 1e9:.2f} s"
        else:
            state = f"still running (not in a call; last step {where})"
        if after_failure:
            out.append(f"{t.name} did not finish after the failure: {state}; counts: {counts}")
        else:
            out.append(
                f"hang: {t.name} not finished after the time limit of {now - start:.1f} s: "
                f"{state}; counts: {counts}"
            )
    return out


def _unblock(run: _Run, threads: list[threading.Thread]) -> None:
    """Best effort to let stuck daemon threads end: stop them, then release the tokens each
    blocked call waits for (a few rounds, every call guarded and bounded in time)."""
    run.halt()
    for _ in range(3):
        stuck = [t for t in run.threads if not t.finished]
        if not stuck:
            return
        for t in stuck:
            where = t.where
            if t.since is None or where is None or where.op is None:
                continue
            op = where.op
            if op.op in ("acquire", "try_acquire"):
                sem = run.sems[op.sem]
                _probe(functools.partial(sem.release, max(op.n, 1)))
        for th in threads:
            th.join(0.2)


def _history(run: _Run, threads: list[threading.Thread]) -> list[Record]:
    records = [Record(*r) for t in run.threads for r in list(t.history)]
    for t in run.threads:
        where, since = t.where, t.since
        if not t.finished and since is not None and where is not None and where.op is not None:
            op = where.op
            timeout = op.timeout if op.op == "try_acquire" else None
            records.append(Record(t.index, op.sem, op.op, op.n, timeout, since, None, None, None))
    records.sort(key=lambda r: r.invoke_ns)
    return records
