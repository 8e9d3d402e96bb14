"""Strategies: where each run's schedule spec comes from.

A strategy hands out one :class:`~.core.ScheduleSpec` per run and hears back the trail the run
made; the executors make the choices.  They are interchangeable objects behind one small
interface, as in Shuttle: uniform random, PCT, systematic depth-first search with a preemption
bound, and replay of a recorded choice sequence.
"""

from __future__ import annotations

from typing import Protocol

from .core import PCT, PREEMPTIBLE, PREFIX, RANDOM, WAKE, ScheduleSpec, Trail

STRATEGIES = ("random", "pct", "dfs")


def mix_seed(seed: int, index: int) -> int:
    """A 63-bit seed for run ``index`` of a strategy seeded ``seed`` (splitmix64's finaliser),
    so that neighbouring runs and neighbouring seeds draw unrelated schedules."""
    x = (seed * 0x9E3779B97F4A7C15 + index + 1) & (2**64 - 1)
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & (2**64 - 1)
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & (2**64 - 1)
    return (x ^ (x >> 31)) >> 1


class Strategy(Protocol):
    """Hands out specs until it has none left (``next_spec`` returns None)."""

    name: str

    def next_spec(self) -> ScheduleSpec | None:
        """The next run's spec, or None when the strategy is exhausted."""

    def observe(self, trail: Trail) -> None:
        """The trail of the run made with the last spec handed out."""

    @property
    def complete(self) -> bool:
        """True when every schedule in the strategy's space has been run (only DFS can say)."""


class RandomStrategy:
    """Every choice uniform (but when a timed wait ends, see :data:`.core.LIFESPAN_DRAWS`):
    cheap, and finds shallow bugs fast."""

    name = "random"

    def __init__(self, seed: int = 0, stride: tuple[int, int] = (0, 1)) -> None:
        self.seed = seed
        self.runs = 0
        self.start, self.step = stride  # this worker's runs: start, start + step, ...

    def next_spec(self) -> ScheduleSpec | None:
        spec = ScheduleSpec(RANDOM, mix_seed(self.seed, self.start + self.runs * self.step))
        self.runs += 1
        return spec

    def observe(self, trail: Trail) -> None:
        pass

    @property
    def complete(self) -> bool:
        return False


class PCTStrategy:
    """Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010): random thread
    priorities and ``depth - 1`` priority change points, which finds a bug of depth d with
    probability at least 1 / (threads * steps**(d-1)) per run.  The horizon (how many step
    points a run has) is learnt from the runs made so far."""

    name = "pct"

    def __init__(self, seed: int = 0, depth: int = 3, stride: tuple[int, int] = (0, 1)) -> None:
        self.seed = seed
        self.depth = depth
        self.runs = 0
        self.horizon = 32
        self.start, self.step = stride  # this worker's runs: start, start + step, ...

    def next_spec(self) -> ScheduleSpec | None:
        index = self.start + self.runs * self.step
        depth = 1 + index % self.depth  # cycle through depths 1..d: shallow bugs first
        spec = ScheduleSpec(PCT, mix_seed(self.seed, index), depth=depth, horizon=self.horizon)
        self.runs += 1
        return spec

    def observe(self, trail: Trail) -> None:
        steps = sum(k != WAKE for k in trail.kinds)
        self.horizon = max(self.horizon, steps)

    @property
    def complete(self) -> bool:
        return False


class DFSStrategy:
    """Systematic search over the choice tree, depth first, with at most ``bound`` preemptions
    a schedule (CHESS's bounding: most bugs need few).

    Each schedule is a prefix of choices followed by index 0 everywhere (0 never preempts).
    After a run, the next schedule comes from the last trail: the deepest choice point that
    still has an untried option within the bound is advanced, everything after it dropped --
    the trails come out in lexicographic order, each one once, so when none is left every
    schedule with at most ``bound`` preemptions has been run.
    """

    name = "dfs"

    def __init__(self, bound: int = 2) -> None:
        self.bound = bound
        self.runs = 0
        self._next: tuple[int, ...] | None = ()
        self._done = False

    def next_spec(self) -> ScheduleSpec | None:
        if self._next is None:
            return None
        spec = ScheduleSpec(PREFIX, prefix=self._next)
        self._next = None  # until observe() says what follows
        self.runs += 1
        return spec

    def observe(self, trail: Trail) -> None:
        chosen, widths, kinds = trail.chosen, trail.widths, trail.kinds
        used = [0] * (len(chosen) + 1)  # preemptions among the first i choices
        for i, (c, k) in enumerate(zip(chosen, kinds, strict=True)):
            used[i + 1] = used[i] + (c != 0 and k == PREEMPTIBLE)
        for i in range(len(chosen) - 1, -1, -1):
            nxt = chosen[i] + 1
            if nxt >= widths[i]:
                continue
            if used[i] + (kinds[i] == PREEMPTIBLE) > self.bound:
                continue
            self._next = (*chosen[:i], nxt)
            return
        self._done = True

    @property
    def complete(self) -> bool:
        return self._done


class ReplayStrategy:
    """One schedule: the recorded choices."""

    name = "replay"

    def __init__(self, choices: tuple[int, ...]) -> None:
        self.choices = tuple(choices)
        self._given = False

    def next_spec(self) -> ScheduleSpec | None:
        if self._given:
            return None
        self._given = True
        return ScheduleSpec(PREFIX, prefix=self.choices)

    def observe(self, trail: Trail) -> None:
        pass

    @property
    def complete(self) -> bool:
        return self._given


def make(
    name: str, seed: int = 0, bound: int = 2, depth: int = 3, stride: tuple[int, int] = (0, 1)
) -> Strategy:
    """A strategy by name (see :data:`STRATEGIES`); ``stride`` (start, step) picks one worker's
    share of a random or PCT strategy's runs (DFS is not split)."""
    if name == "random":
        return RandomStrategy(seed, stride)
    if name == "pct":
        return PCTStrategy(seed, depth, stride)
    if name == "dfs":
        return DFSStrategy(bound)
    raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
