"""Generated semaphore histories with known answers, for tests and the checker benchmark.

A valid history comes from simulating threads against the sequential specification in virtual
time: each call is invoked, takes effect at a later instant (when the count allows it, for an
acquire), and returns later still, so its linearization point lies inside its interval by
construction.  A planted violation changes one completed call so that no linearization exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .contract import MAX_COUNT
from .history import ACQUIRE, AVAILABLE, NO_RESULT, PENDING, RELEASE, TRY_ACQUIRE, History
from .linearizability import ACQ, FAIL, INFINITY, READ, REL, Step


@dataclass(frozen=True)
class Mix:
    """Relative weights of the calls generated threads make, and the largest n."""

    acquire: int = 3
    try_acquire: int = 2
    release: int = 3
    available: int = 1
    max_n: int = 3


def generate(
    ops: int,
    threads: int,
    *,
    seed: int = 0,
    initial: int = 2,
    mix: Mix | None = None,
    overlap: float = 0.5,
) -> tuple[list[Step], int]:
    """A linearizable history of ``ops`` calls over ``threads`` threads, as checker steps.

    ``overlap`` (0..1) is how long calls stay in flight: higher means more concurrency.  Every
    thread's calls are sequential; blocked acquires wait until releases make them possible.
    Returns ``(steps, initial)``; step indices are in invocation order.
    """
    rng = random.Random(seed)
    mix = mix or Mix()
    kinds = ["acquire", "try_acquire", "release", "available"]
    weights = [mix.acquire, mix.try_acquire, mix.release, mix.available]
    count = initial
    time = 0
    # per thread: None (idle) or [kind, n, invoke, phase, result]; phase 0 invoked, 1 applied
    state: list[list | None] = [None] * threads
    out: list[tuple[int, int, int, int, int, int]] = []  # (invoke, thread, kind, n, ret, idx)
    made = 0
    while made < ops or any(s is not None for s in state):
        time += rng.randint(1, 3)
        t = rng.randrange(threads)
        s = state[t]
        if s is None:
            if made >= ops:
                continue
            kind = rng.choices(kinds, weights)[0]
            n = rng.randint(1, mix.max_n)
            state[t] = [kind, n, time, 0, 0]
            made += 1
        elif s[3] == 0:
            if rng.random() < overlap * 0.5:
                continue  # stay in flight a while longer
            kind, n = s[0], s[1]
            if kind == "acquire":
                if count < n:
                    # Blocked.  When no other thread can release, a helper thread (number
                    # `threads`) does, so that the history never stalls.
                    if all(x is None or (x[0] == "acquire" and x[3] == 0) for x in state):
                        count += n
                        out.append((time, threads, REL, n, time, 0))
                    continue
                count -= n
                s[4] = n
            elif kind == "try_acquire":
                if count >= n:
                    count -= n
                    s[4] = 1
                else:
                    s[4] = 0
            elif kind == "release":
                n = min(n, MAX_COUNT - count)
                s[1] = n
                count += n
            else:
                s[4] = count
            s[3] = 1
        else:
            if rng.random() < overlap * 0.5:
                continue
            kind, n, invoke, _, result = s
            code = {"acquire": ACQ, "release": REL, "available": READ}.get(kind)
            if kind == "try_acquire":
                code = ACQ if result else FAIL
            value = result if kind == "available" else n
            out.append((invoke, t, code, value, time, 0))
            state[t] = None
    out.sort()
    steps = [
        Step(i, thread, kind, n, invoke, ret)
        for i, (invoke, thread, kind, n, ret, _) in enumerate(out)
    ]
    return steps, initial


def plant_violation(steps: list[Step], initial: int, where: float, seed: int = 0) -> list[Step]:
    """A copy with one completed available() near ``where`` (0..1 of the way through) made
    to read a count no linearization can produce: more than every token that could exist."""
    rng = random.Random(seed)
    total = initial + sum(s.n for s in steps if s.kind == REL)
    reads = [i for i, s in enumerate(steps) if s.kind == READ and s.ret < INFINITY]
    if not reads:
        raise ValueError("no available() to plant a violation in")
    target = min(reads, key=lambda i: abs(i - where * len(steps)) + rng.random())
    s = steps[target]
    out = list(steps)
    out[target] = Step(s.index, s.thread, READ, total + 1, s.invoke, s.ret)
    return out


def to_history(steps: list[Step], initial: int) -> History:
    """The history file a recorder would have written for these steps (pending calls
    included): acquires, successful and failed tries, releases and available() reads."""
    ordered = sorted(steps, key=lambda s: s.index)
    kind = np.array([s.kind for s in ordered], dtype=np.int8)
    n = np.array([s.n for s in ordered], dtype=np.int64)
    ret = np.array([s.ret for s in ordered], dtype=np.int64)
    pending = ret >= INFINITY
    op = np.select(
        [kind == ACQ, kind == FAIL, kind == REL, kind == READ],
        [ACQUIRE, TRY_ACQUIRE, RELEASE, AVAILABLE],
    )
    result = np.where(kind == READ, n, 0)
    result = np.where(pending, NO_RESULT, result)
    timeout = np.where(kind == FAIL, 0.0, np.nan)
    return History.from_arrays(
        thread=np.array([s.thread for s in ordered], dtype=np.int32),
        op=op.astype(np.int8),
        n=np.where(kind == READ, 0, n),
        invoke=np.array([s.invoke for s in ordered], dtype=np.int64),
        ret=np.where(pending, PENDING, ret),
        result=result,
        timeout=timeout,
        initial=initial,
    )
