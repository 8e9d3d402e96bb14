"""Scenarios: what threads do to which semaphores, and what they must observe, as plain data.

A scenario is declarative on purpose: the real-thread runner (:mod:`.realtime`) executes it in
real time, and the model checker executes the very same data under virtual time.  Nothing here
knows how it will be run; each step's meaning is stated for both executors.

Threads are tuples of steps; thread 0 is "main".  The steps:

- :class:`Op` -- one call of the contract (acquire, try_acquire, release, available) with the
  result it must give and, optionally, how long it must take;
- :class:`Pause` -- a sleep (real time) / a virtual-time sleep (the model checker);
- :class:`Loop` -- a body repeated a number of times, or until an op's result says stop;
- :class:`Put` / :class:`Get` -- producer/consumer data through a shared ring buffer;
- :class:`Releaser` -- a body run inside the RAII releaser (:mod:`.releaser`).

:meth:`Scenario.needs` derives from the data alone which :class:`~.contract.Capabilities` a
scenario needs, so implementations that lack one are skipped, not failed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

OPS = ("acquire", "try_acquire", "release", "available")
VIAS = (None, "for", "until")
#: Exception names an op may expect (the contract's errors).
EXPECTED_ERRORS = ("ValueError", "OverflowError", "TypeError")
#: Producer/consumer items: item i of a thread's sequence is ALPHABET[i % 5] (Qt's "ACGTH").
ALPHABET = "ACGTH"


class _Any:
    """The sentinel type of :data:`ANY`: a singleton that survives copying and pickling."""

    _instance: _Any | None = None

    def __new__(cls) -> _Any:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ANY"

    def __reduce__(self) -> str:
        return "ANY"


#: "Don't check the result" (the default of :attr:`Op.expect`).
ANY = _Any()


def tolerance(seconds: float) -> float:
    """The peer suite's real-time tolerance around a duration T: 50 ms + T/20 (Qt's FUZZ)."""
    return 0.05 + seconds / 20


def op_tolerance(op: Op) -> float:
    """The real-time tolerance for ``op.takes``: the peer's FUZZ for the op's timeout T when it
    is timed (so a try(n, 2 s) that succeeds at once may take 150 ms), else for ``takes``."""
    if op.timeout is not None and op.timeout > 0 and op.op == "try_acquire":
        return tolerance(op.timeout)
    return tolerance(op.takes or 0.0)


@dataclass(frozen=True)
class Op:
    """One call of the contract on semaphore ``sem``.

    ``expect``: the result the call must return (None for acquire/release, a bool for
    try_acquire, an int for available), or an exception name such as ``"OverflowError"`` that
    the call must raise, or :data:`ANY` (unchecked).  ``takes``: the duration the call must take
    in seconds (0 = at once), checked in real time within :func:`op_tolerance` on both sides and
    exactly in virtual time; None = unchecked.  ``exit_loop_on``: inside a :class:`Loop`, leave
    the innermost loop when the result equals this (None: never).  ``via``: a try_acquire made
    through the std-style helpers ``try_acquire_for`` ('for') or ``try_acquire_until``
    ('until', deadline = now + timeout, taken just before the call) instead of directly; for
    them a timeout <= 0 means "no wait" (a deadline in the past), never "forever".

    Every runner also enforces, for every op: a timed try_acquire (timeout > 0) that returns
    False must not have returned before its deadline.
    """

    op: str
    n: int = 1
    timeout: float | None = 0.0
    sem: int = 0
    expect: object = ANY
    takes: float | None = None
    exit_loop_on: object = None
    via: str | None = None

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"op must be one of {OPS}, not {self.op!r}")
        if self.via not in VIAS:
            raise ValueError(f"via must be one of {VIAS}, not {self.via!r}")
        if self.via is not None and (self.op != "try_acquire" or self.timeout is None):
            raise ValueError("via needs a try_acquire with a numeric timeout")
        if isinstance(self.expect, str) and self.expect not in EXPECTED_ERRORS:
            raise ValueError(f"expected exception must be one of {EXPECTED_ERRORS}")
        if self.sem < 0:
            raise ValueError("sem must be >= 0")

    @property
    def expects_error(self) -> bool:
        """True when the call must raise (the expectation is an exception name)."""
        return isinstance(self.expect, str)

    @property
    def timed(self) -> bool:
        """A try_acquire that may wait a bounded time (timeout > 0)."""
        return self.op == "try_acquire" and self.timeout is not None and self.timeout > 0

    @property
    def forever(self) -> bool:
        """A direct try_acquire that waits forever (timeout None or < 0, as the contract says)."""
        return (
            self.op == "try_acquire"
            and self.via is None
            and (self.timeout is None or self.timeout < 0)
        )

    def describe(self) -> str:
        """A short call-like text for messages: ``try_acquire(sem=0, n=2, timeout=0.2)``."""
        name = self.op if self.via is None else f"try_acquire_{self.via}"
        args = [f"sem={self.sem}"]
        if self.op != "available":
            args.append(f"n={self.n}")
        if self.op == "try_acquire":
            args.append(f"timeout={self.timeout}")
        return f"{name}({', '.join(args)})"


@dataclass(frozen=True)
class Pause:
    """Sleep ``seconds``.

    Real time: ``time.sleep`` -- which does not prove that the other threads are blocked.
    Virtual time: sleep ``seconds`` of virtual time; the virtual clock advances only when every
    thread is blocked, so after the pause "the other threads are blocked" is a fact.
    """

    seconds: float


@dataclass(frozen=True)
class Loop:
    """Repeat ``body`` ``times`` times, or (times=None) until an :class:`Op` of the body with
    ``exit_loop_on`` returns that value (the loop is left right after that op)."""

    body: tuple[Step, ...]
    times: int | None = None

    def __post_init__(self) -> None:
        if self.times is None and not any(
            isinstance(s, Op) and s.exit_loop_on is not None for s in walk(self.body, loops=False)
        ):
            raise ValueError("a Loop without times needs an Op with exit_loop_on in its body")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0")


@dataclass(frozen=True)
class Put:
    """Producer: write the next ``count`` items of this thread's sequence into ring ``ring``.

    Item i (counted per thread and ring) is ``ALPHABET[i % 5]``, stored at slot ``i % size``.
    """

    count: int = 1
    ring: int = 0


@dataclass(frozen=True)
class Get:
    """Consumer: read the next ``count`` items of ring ``ring`` and check each against
    ``ALPHABET[i % 5]``; a mismatch is a failure naming the item's index."""

    count: int = 1
    ring: int = 0


@dataclass(frozen=True)
class Releaser:
    """Run ``body`` inside ``Releaser(sem, n)`` (QSemaphoreReleaser): n tokens are released when
    the body ends, unless ``cancel`` -- then ``cancel()`` is called at the end of the body and
    nothing is released."""

    body: tuple[Step, ...]
    n: int = 1
    sem: int = 0
    cancel: bool = False


Step = Op | Pause | Loop | Put | Get | Releaser


def walk(steps: tuple[Step, ...], loops: bool = True) -> Iterator[Step]:
    """Every step, depth first; with ``loops=False`` the bodies of nested Loops are not entered
    (what an ``exit_loop_on`` of this level can see)."""
    for step in steps:
        yield step
        if isinstance(step, Loop):
            if loops:
                yield from walk(step.body, loops)
        elif isinstance(step, Releaser):
            yield from walk(step.body, loops)


def ops_of(steps: tuple[Step, ...]) -> Iterator[Op]:
    """The Ops of a program, nested ones included."""
    return (s for s in walk(steps) if isinstance(s, Op))


def sems_of(steps: tuple[Step, ...]) -> set[int]:
    """The semaphores a program touches (its ops and releasers)."""
    used = {op.sem for op in ops_of(steps)}
    used.update(s.sem for s in walk(steps) if isinstance(s, Releaser))
    return used


def count_ops(steps: tuple[Step, ...]) -> int:
    """How many contract calls a program makes when run to the end (a Releaser counts as one
    release unless cancelled); a Loop without ``times`` counts one pass of its body."""
    total = 0
    for step in steps:
        if isinstance(step, Op):
            total += 1
        elif isinstance(step, Loop):
            total += count_ops(step.body) * (1 if step.times is None else step.times)
        elif isinstance(step, Releaser):
            total += count_ops(step.body) + (0 if step.cancel else 1)
    return total


def nominal_seconds(steps: tuple[Step, ...]) -> float:
    """How long a program is meant to take: its pauses and the ``takes`` of its ops, loops
    counted in full (a Loop without ``times``: one pass).  What ``run --quick`` budgets by."""
    total = 0.0
    for step in steps:
        if isinstance(step, Op):
            total += step.takes or 0.0
        elif isinstance(step, Pause):
            total += step.seconds
        elif isinstance(step, Loop):
            total += nominal_seconds(step.body) * (1 if step.times is None else step.times)
        elif isinstance(step, Releaser):
            total += nominal_seconds(step.body)
    return total


def scaled_times(times: int, scale: float) -> int:
    """The repetition count after scaling: only large loops (>= 1000) shrink, never below 1;
    loops with the same count scale to the same count, so paired threads stay paired."""
    if times < 1000 or scale >= 1.0:
        return times
    return max(1, int(times * scale))


# ---- the exceed_initial bound ------------------------------------------------------------------


def _effect(op: Op, sem: int) -> int:
    """An upper bound on what ``op`` adds to semaphore ``sem`` in a correct implementation."""
    if op.sem != sem or op.expects_error:
        return 0  # a call that raises leaves the state unchanged (the contract)
    if op.op == "release":
        return op.n
    if op.op == "acquire":
        return -op.n
    return 0  # try_acquire may fail, so it takes at least 0; available takes nothing


def _has_exit(steps: tuple[Step, ...]) -> bool:
    return any(isinstance(s, Op) and s.exit_loop_on is not None for s in walk(steps, loops=False))


def rise_bound(steps: tuple[Step, ...], sem: int) -> tuple[float, float]:
    """``(end, peak)``: upper bounds, relative to the level where ``steps`` start, on the level
    after they end and on the highest level reached on the way (the maximum prefix sum of
    released - acquired), counting only this program's own effects on ``sem``."""
    level = 0.0
    peak = 0.0
    for step in steps:
        if isinstance(step, Op):
            e = _effect(step, sem)
            s_end, s_peak = e, max(e, 0)
        elif isinstance(step, Loop):
            s_end, s_peak = _loop_bound(step, sem)
        elif isinstance(step, Releaser):
            b_end, b_peak = rise_bound(step.body, sem)
            r = step.n if (step.sem == sem and not step.cancel) else 0
            if _has_exit(step.body):  # the body may end anywhere up to its peak
                s_end = s_peak = b_peak + r
            else:
                s_end, s_peak = b_end + r, max(b_peak, b_end + r)
        else:
            continue  # Pause, Put, Get: no semaphore effect
        peak = max(peak, level + s_peak)
        level += s_end
    return level, peak


def _loop_bound(loop: Loop, sem: int) -> tuple[float, float]:
    if loop.times == 0:
        return 0.0, 0.0
    b_end, b_peak = rise_bound(loop.body, sem)
    if b_end > 0:
        # every pass may raise the level: unbounded without a count, else the last pass peaks
        peak = math.inf if loop.times is None else (loop.times - 1) * b_end + b_peak
    else:
        peak = b_peak  # each pass starts no higher than the first, so the first pass peaks
    if loop.times is None or _has_exit(loop.body):
        return peak, peak  # it may stop inside a pass: anywhere up to its peak
    return loop.times * b_end, peak


# ---- scenarios ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A complete test: semaphores, rings, one program per thread, and the expected outcome.

    ``initial``: each semaphore's initial count.  ``threads``: thread 0 is "main".  ``final``:
    the expected ``available()`` of each semaphore once every thread has finished (None in the
    tuple, or for the whole, = unchecked).  ``rings``: the sizes of the producer/consumer rings.
    ``source``: where the case comes from (e.g. ``tst_QSemaphore::acquire``).  ``time_limit``:
    the watchdog bound in real time, seconds; a thread still running then is a hang.
    """

    name: str
    description: str
    initial: tuple[int, ...]
    threads: tuple[tuple[Step, ...], ...]
    final: tuple[int | None, ...] | None = None
    rings: tuple[int, ...] = ()
    source: str = ""
    time_limit: float = 10.0

    def __post_init__(self) -> None:
        if not self.threads:
            raise ValueError("a scenario needs at least one thread")
        if self.final is not None and len(self.final) != len(self.initial):
            raise ValueError("final must give one value per semaphore")
        for i, program in enumerate(self.threads):
            for s in sems_of(program):
                if s >= len(self.initial):
                    raise ValueError(f"thread {i} uses semaphore {s}, which does not exist")
            for step in walk(program):
                if isinstance(step, (Put, Get)) and step.ring >= len(self.rings):
                    raise ValueError(f"thread {i} uses ring {step.ring}, which does not exist")

    def thread_name(self, index: int) -> str:
        return "main" if index == 0 else f"thread {index}"

    def upper_bound(self, sem: int) -> float:
        """An upper bound on the count of semaphore ``sem`` over any run (math.inf: none).

        Why it is sound: at any moment the count is ``initial + sum over threads of (released -
        acquired so far by that thread)``, and each thread's term is the sum over a prefix of its
        own program's effects.  A try_acquire or a failing call can only lower that term, so
        counting them as 0 overestimates it; hence each term is at most the maximum prefix sum of
        its program (:func:`rise_bound`), and the count at most ``initial`` plus the sum of those
        maxima, whatever the interleaving.
        """
        return self.initial[sem] + sum(rise_bound(p, sem)[1] for p in self.threads)

    def needs(self) -> frozenset[str]:
        """The capabilities (names of :class:`~.contract.Capabilities` flags) the scenario needs,
        derived from its data only."""
        needs: set[str] = set()
        users: dict[int, set[int]] = {}  # semaphore -> threads that touch it
        multi_users: dict[int, set[int]] = {}  # semaphore -> threads using n > 1 or available()
        for t, program in enumerate(self.threads):
            for s in sems_of(program):
                users.setdefault(s, set()).add(t)
            for op in ops_of(program):
                if op.op == "available" or (op.n > 1 and not op.expects_error):
                    multi_users.setdefault(op.sem, set()).add(t)
            for r in walk(program):
                if isinstance(r, Releaser) and r.n > 1:
                    multi_users.setdefault(r.sem, set()).add(t)
        for t, program in enumerate(self.threads):
            releases = [
                (op.sem, op.n)
                for op in ops_of(program)
                if op.op == "release" and not op.expects_error
            ]
            releases += [(r.sem, r.n) for r in walk(program) if isinstance(r, Releaser)]
            for op in ops_of(program):
                # only an implementation that checks the bound can raise OverflowError
                if op.expect == "OverflowError":
                    needs.add("overflow_check")
                if op.expects_error:
                    continue  # a call that must raise fails its argument checks: no wait, no take
                others = users.get(op.sem, set()) - {t}
                # a sequential emulation of n > 1 (a loop of single takes) is only correct alone
                if op.op in ("acquire", "try_acquire") and op.n > 1 and others:
                    needs.add("multi_acquire")
                # the timeout must be honoured, not treated as "no wait" or "forever"
                if op.timed:
                    needs.add("timeouts")
                # None / negative must mean "forever" (DESIGN.md), not "no wait"
                if op.forever:
                    needs.add("wait_forever")
            for sem, n in releases:
                # a loop of single releases is visible to an observer of the count or to a
                # waiter for several tokens on another thread
                if n > 1 and multi_users.get(sem, set()) - {t}:
                    needs.add("atomic_release")
        # a bounded semaphore rejects a release above its initial count
        if any(self.upper_bound(s) > init for s, init in enumerate(self.initial)):
            needs.add("exceed_initial")
        return frozenset(needs)

    def op_count(self) -> int:
        """How many contract calls a full run makes (loops without a count: one pass)."""
        return sum(count_ops(p) for p in self.threads)

    def nominal_seconds(self) -> float:
        """How long the scenario is meant to take: its slowest thread's :func:`nominal_seconds`."""
        return max(nominal_seconds(p) for p in self.threads)
