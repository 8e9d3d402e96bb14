"""The stress driver for Python implementations: real threads running a :class:`~.mix.Mix`.

The same mix language and the same recording as the native driver, in Python: the threads
start together at a barrier, each draws its calls from its own seeded generator and records
every call (monotonic invoke and return in ns, result, error) into its own lists.  The
interpreter's switch interval is lowered for the run (more preemption inside the
implementation's Python code) and restored afterwards; threads may be pinned to CPUs.

A Python thread cannot be killed: a run whose threads stop completing calls is reported as a
hang after the watchdog's silence -- with what each thread is blocked in and the count -- and
its threads are left behind as daemons, blocked where they are, so the harness goes on.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..history import History
from .mix import Mix

ACQUIRE, TRY_ACQUIRE, RELEASE, AVAILABLE = range(4)
_OP_NAMES = ("acquire", "try_acquire", "release", "available")
#: The switch interval during a run (CPython's default is 5 ms).
SWITCH_INTERVAL = 1e-6
#: A call to available() made to report a hang gets this long before it counts as blocked.
_READ_TIMEOUT = 1.0
#: Seconds between two calls of a run's progress callback.
PROGRESS_EVERY = 0.25


@dataclass
class _Worker:
    """One thread's program state and its record, column by column."""

    index: int
    rng: random.Random
    op: list[int]
    n: list[int]
    timeout: list[int]
    invoke: list[int]
    ret: list[int]
    result: list[int]
    error: list[str | None]
    busy_since: int = 0  # monotonic ns the current call started; 0 when in no call
    done: int = 0

    @classmethod
    def new(cls, index: int, seed: int) -> _Worker:
        return cls(index, random.Random(seed * 1_000_003 + index), [], [], [], [], [], [], [])


def _draw(w: _Worker, mix: Mix) -> tuple[int, int, float | None]:
    """(op, n, timeout in seconds or -1 for ever; 0.0 no wait) of the next drawn call."""
    kind = w.rng.choices(range(4), weights=mix.weights)[0]
    values = mix.n_values
    n = w.rng.choice(values) if values is not None else w.rng.randint(1, mix.largest_n)
    if kind == 0:
        return ACQUIRE, n, None
    if kind == 1:
        return TRY_ACQUIRE, n, 0.0
    if kind == 2:
        return TRY_ACQUIRE, n, -1.0 if mix.timeout is None else mix.timeout
    return AVAILABLE, 0, None


def _call(sem: Any, w: _Worker, op: int, n: int, timeout: float | None) -> object:
    """Makes and records one call; returns its result (None after an error)."""
    clock = time.monotonic_ns
    w.op.append(op)
    w.n.append(n)
    w.timeout.append(-1 if timeout is None or timeout < 0 else round(timeout * 1e9))
    error = None
    result: object = None
    w.busy_since = start = clock()
    try:
        if op == ACQUIRE:
            sem.acquire(n)
        elif op == TRY_ACQUIRE:
            result = sem.try_acquire(n, timeout)
        elif op == RELEASE:
            sem.release(n)
        else:
            result = sem.available()
    except (ValueError, OverflowError, TypeError) as exc:
        error = type(exc).__name__
    end = clock()
    w.busy_since = 0
    w.invoke.append(start)
    w.ret.append(end)
    w.result.append(int(result) if isinstance(result, (bool, int)) else 0)
    w.error.append(error)
    w.done += 1
    return None if error else result


def _loop(
    sem: Any, w: _Worker, mix: Mix, barrier: threading.Barrier, stop: Callable[[int], bool]
) -> None:
    barrier.wait()
    while not stop(w.done):
        op, n, timeout = _draw(w, mix)
        got = _call(sem, w, op, n, timeout)
        if op != AVAILABLE and (op == ACQUIRE or got is True) and n > 0:
            _call(sem, w, RELEASE, n, None)


@dataclass
class PythonRun:
    """What the threads did: their records as a History (the blocked calls as never-returned
    ones), the calls each completed, the run's seconds, and for a hang what each thread was
    blocked in and the count."""

    status: str  # ok | hang
    history: History
    ops: tuple[int, ...]
    seconds: float
    count: int | None
    blocked: list[tuple[int, str, int, int]]  # (thread, op, n, ns blocked so far)


def _history(workers: list[_Worker], initial: int, pending: dict[int, int]) -> History:
    """All threads' records in one History; ``pending`` adds each blocked thread's call."""
    cols: dict[str, list[Any]] = {k: [] for k in ("thread", "op", "n", "timeout", "inv", "ret")}
    results: list[int] = []
    errors: list[str | None] = []
    for w in workers:
        k = len(w.ret)
        cols["thread"] += [w.index] * k
        cols["op"] += w.op[:k]
        cols["n"] += w.n[:k]
        cols["timeout"] += w.timeout[:k]
        cols["inv"] += w.invoke[:k]
        cols["ret"] += w.ret
        results += w.result
        errors += w.error
        if w.index in pending and len(w.op) > k:  # the call it is blocked in
            for key, value in zip(
                ("thread", "op", "n", "timeout", "inv", "ret"),
                (w.index, w.op[k], w.n[k], w.timeout[k], pending[w.index], None),
                strict=True,
            ):
                cols[key].append(value)
            results.append(0)
            errors.append(None)
    names = sorted({e for e in errors if e is not None})
    codes = np.array([0 if e is None else names.index(e) + 1 for e in errors], dtype=np.int64)
    timeouts = np.array(cols["timeout"], dtype=np.float64) / 1e9
    timeouts[np.array(cols["timeout"]) < 0] = np.nan
    return History.from_arrays(
        thread=cols["thread"],
        op=cols["op"],
        n=cols["n"],
        invoke=cols["inv"],
        ret=cols["ret"],
        result=results,
        timeout=timeouts,
        error=codes if names else None,
        error_names=[None, *names],
        initial=initial,
    )


def run_python(
    factory: Callable[[int], Any],
    threads: int,
    mix: Mix,
    seconds: float | None = None,
    ops: int | None = None,
    seed: int = 0,
    pin: bool = False,
    initial: int | None = None,
    watchdog: float = 5.0,
    progress: Callable[[int, float], None] | None = None,
) -> PythonRun:
    """Runs ``threads`` threads of ``mix`` on ``factory(initial)`` for ``seconds`` or ``ops``
    calls per thread (exactly one of the two).

    ``progress``: called with (calls completed by all threads, seconds since the start) about
    every 0.25 s while the threads run, from this thread (the one that waits for them); an
    exception from it stops the calls, not the run.  A KeyboardInterrupt passes through: the
    threads, which cannot be stopped, are left behind as daemons, as after a hang.
    """
    if (seconds is None) == (ops is None):
        raise ValueError("give exactly one of seconds and ops")
    initial = mix.default_initial() if initial is None else initial
    sem = factory(initial)
    workers = [_Worker.new(i, seed) for i in range(threads)]
    barrier = threading.Barrier(threads + 1)
    end_at = [0]

    def stop(done: int) -> bool:
        if ops is not None:
            return done >= ops
        return time.monotonic_ns() >= end_at[0]

    def body(w: _Worker) -> None:
        if pin and hasattr(os, "sched_setaffinity"):
            cpus = sorted(os.sched_getaffinity(0))
            os.sched_setaffinity(0, {cpus[w.index % len(cpus)]})  # this thread only
        _loop(sem, w, mix, barrier, stop)

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL)
    try:
        pool = [threading.Thread(target=body, args=(w,), daemon=True) for w in workers]
        for t in pool:
            t.start()
        start = time.monotonic_ns()
        end_at[0] = start + round((seconds or 0) * 1e9)
        barrier.wait()
        status = _wait(pool, workers, watchdog, progress, start)
        elapsed = (time.monotonic_ns() - start) / 1e9
    finally:
        sys.setswitchinterval(old_interval)
    pending = {w.index: w.busy_since for w in workers if w.busy_since}
    blocked = [
        (w.index, _OP_NAMES[w.op[-1]], w.n[-1], time.monotonic_ns() - w.busy_since)
        for w in workers
        if w.busy_since
    ]
    # the observer: one available() after everything else, so the checks see the final count
    observer = _Worker.new(threads, seed)
    count = _read_count(sem, observer)
    history = _history([*workers, observer], initial, pending if status == "hang" else {})
    return PythonRun(status, history, tuple(w.done for w in workers), elapsed, count, blocked)


def _wait(
    pool: list[threading.Thread],
    workers: list[_Worker],
    watchdog: float,
    progress: Callable[[int, float], None] | None,
    start_ns: int,
) -> str:
    """Joins the threads; 'hang' when no call completes for ``watchdog`` seconds.  Every
    PROGRESS_EVERY seconds it hands ``progress`` the calls completed so far (the workers'
    counters, read without a lock: each is one int a single thread increments, so a read may
    lag, never tear)."""
    last_total, last_change = -1, time.monotonic()
    next_report = last_change + PROGRESS_EVERY
    while True:
        alive = [t for t in pool if t.is_alive()]
        if not alive:
            return "ok"
        alive[0].join(0.05)  # one wait per round, however many threads: the round stays short
        now = time.monotonic()
        total = sum(w.done for w in workers)
        if total != last_total:
            last_total, last_change = total, now
        elif now - last_change > watchdog:
            return "hang"
        if progress is not None and now >= next_report:
            next_report = now + PROGRESS_EVERY
            try:
                progress(total, (time.monotonic_ns() - start_ns) / 1e9)
            except Exception:  # a broken display must not break the run: no more calls
                progress = None


def _read_count(sem: Any, observer: _Worker) -> int | None:
    """The count, read (and recorded) by ``observer`` in a daemon thread: None when the read
    itself blocks -- it is then left out of the record."""
    reader = threading.Thread(target=_call, args=(sem, observer, AVAILABLE, 0, None), daemon=True)
    reader.start()
    reader.join(_READ_TIMEOUT)
    if not observer.ret:
        del observer.op[:], observer.n[:], observer.timeout[:]
        return None
    return observer.result[0] if observer.error[0] is None else None
