"""The vocabulary every executor and strategy shares: programs, run settings, schedule specs,
trails, and what a run leaves behind.

A *program* is what the simulated threads do: per thread a tuple of actions ``(code, n,
timeout_ns)``.  A *schedule spec* says how each choice of a run is made; the *trail* records the
choices a run made, which is all it takes to replay it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# action codes
ACQUIRE, TRY_ACQUIRE, RELEASE, AVAILABLE, SLEEP = range(5)
OP_NAMES = ("acquire", "try_acquire", "release", "available", "sleep")

# option actions at a step point: option = thread << 2 | action
RUN, TIMEOUT, SPURIOUS = range(3)

# choice point kinds in a trail
PREEMPTIBLE, FREE, WAKE = range(3)

# schedule spec modes
PREFIX, RANDOM, PCT = range(3)

#: Virtual nanoseconds each visible step (and each invoke and return) takes.
TICK_NS = 1000

OUTCOMES = ("done", "deadlock", "step-limit", "mismatch", "crash", "error")

Action = tuple[int, int, int]  # (code, n, timeout_ns)


@dataclass(frozen=True)
class Program:
    """The initial count and each simulated thread's actions."""

    initial: int
    threads: tuple[tuple[Action, ...], ...]

    def __post_init__(self) -> None:
        for t, actions in enumerate(self.threads):
            for code, _n, timeout in actions:
                if code not in (ACQUIRE, TRY_ACQUIRE, RELEASE, AVAILABLE, SLEEP):
                    raise ValueError(f"thread {t}: unknown action code {code}")
                if code == SLEEP and timeout <= 0:
                    raise ValueError(f"thread {t}: a sleep needs a duration > 0")

    @property
    def calls(self) -> int:
        """How many contract calls the threads make (sleeps are not calls)."""
        return sum(a[0] != SLEEP for actions in self.threads for a in actions)


#: Random mode draws, when a timed wait can first end, after how many more step points it ends
#: (while others can run): none in 1 of LIFESPAN_DRAWS, otherwise 2**k + j for k uniform in
#: 0..2 and j uniform below 2**k -- so an ending at once, right after another thread's step,
#: and several steps later (where a timeout races a release) all come up often.  A uniform
#: choice at every step point would end nearly every timed wait within a step or two (BUGS.md
#: 14's window was hit by 3% of runs that way, by 7% this way).  model_runtime.c's
#: draw_lifespan draws the same way.
LIFESPAN_DRAWS = 13


def draw_lifespan(u: float, v: float) -> int:
    """A timed wait's lifespan in step points from two uniform draws in [0, 1)."""
    x = int(u * LIFESPAN_DRAWS)
    if x == 0:
        return 0
    k = (x - 1) * 3 // (LIFESPAN_DRAWS - 1)
    return (1 << k) + int(v * (1 << k))


@dataclass(frozen=True)
class RunConfig:
    """How runs are made, whatever the strategy.

    ``timeouts``: 'quiescent' (a timed wait ends only when nothing else can run, the clock
    jumping to the earliest deadline) or 'adversarial' (any timed wait may end at any step;
    random runs draw the step, see :data:`LIFESPAN_DRAWS`).
    ``spurious``: how many spurious wake-ups of futex and condition waits one run may have.
    ``max_steps``: visible steps per run before it ends as a livelock candidate.
    """

    timeouts: str = "quiescent"
    spurious: int = 0
    max_steps: int = 20_000

    def __post_init__(self) -> None:
        if self.timeouts not in ("quiescent", "adversarial"):
            raise ValueError("timeouts must be 'quiescent' or 'adversarial'")
        if self.spurious < 0 or self.max_steps < 1:
            raise ValueError("spurious must be >= 0 and max_steps >= 1")


@dataclass(frozen=True)
class ScheduleSpec:
    """How one run's choices are made: follow ``prefix`` then choose index 0 (PREFIX), choose
    uniformly (RANDOM), or by PCT priorities with bug depth ``depth`` over ``horizon`` step
    points (PCT); RANDOM and PCT draw from a generator seeded with ``seed``."""

    mode: int = PREFIX
    seed: int = 0
    prefix: tuple[int, ...] = ()
    depth: int = 3
    horizon: int = 100


@dataclass(frozen=True)
class Trail:
    """The choices a run made: at each choice point the index chosen, how many options there
    were, and the point's kind (PREEMPTIBLE, FREE or WAKE)."""

    chosen: tuple[int, ...]
    widths: tuple[int, ...]
    kinds: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.chosen)

    @property
    def preemptions(self) -> int:
        """Points where a runnable thread was set aside for another."""
        pairs = zip(self.chosen, self.kinds, strict=True)
        return sum(c != 0 and k == PREEMPTIBLE for c, k in pairs)


# (thread, code, n, timeout_ns, invoke_ns, return_ns or -1, result, error)
HistoryRow = tuple[int, int, int, int, int, int, object, str | None]
# (thread, op_index, kind, target, old, new, note)
TraceStep = tuple[int, int, str, str, int | None, int | None, str]


class Executor(Protocol):
    """One implementation and one program, run again and again under different schedules."""

    def run(self, spec: ScheduleSpec, trace: bool = False) -> tuple[str, bytes]:
        """Makes one run: its outcome (one of OUTCOMES) and its signature."""

    def trail(self) -> Trail:
        """The last run's choices."""

    def history(self) -> list[HistoryRow]:
        """The last run's contract calls, in invoke order (the observer's last)."""

    def trace(self) -> list[TraceStep]:
        """The last run's steps (empty unless it was made with trace=True)."""

    def findings(self) -> list[str]:
        """What the last run itself found wrong: waits past a timed try's deadline, and for
        outcome 'error' or 'crash' what happened."""


@dataclass
class RunRecord:
    """One run as the runner keeps it: enough to report and to replay."""

    outcome: str
    trail: Trail
    history: list[HistoryRow]
    findings: list[str] = field(default_factory=list)
    trace: list[TraceStep] = field(default_factory=list)
