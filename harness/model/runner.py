"""The checking loop: runs of one scenario under a strategy until a failure, the budget, or (for
DFS) the end of the schedule space; then the failure minimised and traced.

Timeouts are explored both ways by default: runs alternate between quiescent timeouts (where
the scenario's expectations hold) and adversarial ones with spurious wake-ups.  Runs whose
history repeats one already judged correct -- the same order of events and results, and the
same durations -- are not judged again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .core import SLEEP, TRY_ACQUIRE, Executor, Program, RunConfig, RunRecord, ScheduleSpec
from .judge import Failure, judge
from .minimise import minimise
from .programs import ModelScenario
from .strategies import DFSStrategy, Strategy, make

MakeExecutor = Callable[[Program, RunConfig], Executor]
Progress = Callable[[int, int], None]  # (runs so far, failures so far)


@dataclass(frozen=True)
class Settings:
    """How hard to look.  ``schedules`` and ``time_budget`` bound the runs of one scenario
    (whichever comes first; DFS also stops when complete)."""

    strategy: str = "random"
    seed: int = 0
    schedules: int = 1000
    time_budget: float | None = None
    timeouts: str = "both"  # quiescent | adversarial | both
    spurious: int = 1  # in adversarial runs
    max_steps: int = 20_000
    bound: int = 2  # DFS preemption bound
    depth: int = 3  # PCT bug depth
    minimise: bool = True
    stride: tuple[int, int] = (0, 1)  # this worker's share of the runs: (start, step)

    def configs(self) -> list[RunConfig]:
        quiet = RunConfig("quiescent", 0, self.max_steps)
        rough = RunConfig("adversarial", self.spurious, self.max_steps)
        return {"quiescent": [quiet], "adversarial": [rough], "both": [quiet, rough]}[self.timeouts]


@dataclass
class FoundFailure:
    """A failing run, minimised: the scenario (maybe reduced), the config, the choices that
    reproduce it, the failures and the traced record."""

    scenario: ModelScenario
    config: RunConfig
    choices: tuple[int, ...]
    failures: list[Failure]
    record: RunRecord
    found_after_runs: int
    found_after_s: float
    original_choices: int

    @property
    def program(self) -> Program:
        return self.scenario.program

    @property
    def check(self) -> str:
        return self.failures[0].check


@dataclass
class ScenarioResult:
    """One scenario checked: how many runs, whether DFS finished, the failure if any."""

    scenario: str
    strategy: str
    runs: int = 0
    distinct: int = 0
    complete: bool = False
    seconds: float = 0.0
    failure: FoundFailure | None = None
    progress: list[tuple[float, int]] = field(default_factory=list)  # (seconds, runs)


def _timeless(program: Program) -> bool:
    """No sleeps and no timed tries: every check then depends only on the order of events."""
    return not any(
        a[0] == SLEEP or (a[0] == TRY_ACQUIRE and a[2] > 0) for t in program.threads for a in t
    )


def _judged_key(record: RunRecord, signature: bytes) -> object:
    """What the judgement of a run of a scenario with timed calls depends on, so that a run with
    the same key as one judged correct need not be judged again; None: judge it whatever.

    The checks read the order of the invoke and return events and the results (the signature
    holds them) and, for timed calls and expected durations, how long each call took.  (For a
    scenario without timed calls the signature alone is the key.)
    """
    if record.findings:
        return None
    return signature, tuple(r[5] - r[4] if r[5] >= 0 else -1 for r in record.history)


def record_of(ex: Executor, outcome: str, trace: bool = False) -> RunRecord:
    """The last run of ``ex`` as a record."""
    return RunRecord(outcome, ex.trail(), ex.history(), ex.findings(), ex.trace() if trace else [])


def _strategies(settings: Settings, configs: list[RunConfig]) -> list[Strategy]:
    out = []
    for k, _ in enumerate(configs):
        seed = settings.seed * 2 + k
        out.append(make(settings.strategy, seed, settings.bound, settings.depth, settings.stride))
    return out


class ScenarioSearch:
    """The runs of one scenario, resumable: :meth:`advance` runs up to a number of runs, then
    returns, and a later call goes on where it stopped.  A worker can so take all its scenarios
    a slice at a time -- a failure only one scenario shows is found after a slice of each of
    the others, not after every one of them has spent its whole budget."""

    def __init__(
        self,
        make_executor: MakeExecutor,
        scenario: ModelScenario,
        settings: Settings,
        progress: Progress | None = None,
    ) -> None:
        self.make_executor = make_executor
        self.scenario = scenario
        self.settings = settings
        self.progress = progress
        self.configs = settings.configs()
        self.executors: list[Executor] = []  # made at the first advance()
        self.strategies = _strategies(settings, self.configs)
        self.seen: list[set[object]] = [set() for _ in self.configs]
        self.timeless = _timeless(scenario.program)
        self.result = ScenarioResult(scenario.name, settings.strategy)
        self.live = list(range(len(self.configs)))
        self.active = 0.0  # seconds spent in advance()
        #: time.monotonic() when the failure was found
        self.failed_at: float | None = None
        self.done = False

    def advance(self, limit: int, should_stop: Callable[[], bool] | None = None) -> bool:
        """Runs until ``limit`` runs in all, a failure, the budget or the end of the schedule
        space (then :attr:`done`, and the executors are let go).  Returns :attr:`done`."""
        settings, result = self.settings, self.result
        if self.done:
            return True
        if not self.executors:
            self.executors = [self.make_executor(self.scenario.program, c) for c in self.configs]
        start = time.monotonic()
        budget = settings.time_budget
        stopped = False
        while self.live and result.runs < min(limit, settings.schedules):
            now = time.monotonic()
            if (budget and self.active + now - start > budget) or (should_stop and should_stop()):
                stopped = True
                break
            if self._one_run(start):
                break
        self.active += time.monotonic() - start
        if (
            stopped
            or result.failure is not None
            or not self.live
            or result.runs >= (settings.schedules)
        ):
            self._end()
        return self.done

    def _one_run(self, start: float) -> bool:
        """One run, judged; True when it failed."""
        settings, result = self.settings, self.result
        k = self.live[result.runs % len(self.live)]
        spec = self.strategies[k].next_spec()
        if spec is None:
            self.live.remove(k)
            return False
        ex = self.executors[k]
        outcome, signature = ex.run(spec)
        result.runs += 1
        if isinstance(self.strategies[k], DFSStrategy):
            self.strategies[k].observe(ex.trail())
        if self.progress and result.runs % 256 == 0:
            self.progress(result.runs, 0)
            result.progress.append((self.active + time.monotonic() - start, result.runs))
        record = None if self.timeless else record_of(ex, outcome)
        key = signature if record is None else _judged_key(record, signature)
        if key is not None and key in self.seen[k]:
            return False
        record = record or record_of(ex, outcome)
        if outcome == "mismatch":
            raise RuntimeError(f"internal error: a {settings.strategy} spec did not fit its run")
        config = self.configs[k]
        failures, _ = judge(self.scenario, record, config.timeouts == "quiescent")
        if not failures:
            if key is not None:
                self.seen[k].add(key)
            result.distinct += 1
            return False
        self.failed_at = time.monotonic()
        found_s = self.active + self.failed_at - start
        result.failure = _finish(
            self.make_executor, self.scenario, config, spec, record, failures, settings
        )
        result.failure.found_after_runs = result.runs
        result.failure.found_after_s = found_s
        return True

    def _end(self) -> None:
        self.done = True
        self.result.complete = not self.live and all(s.complete for s in self.strategies)
        self.result.seconds = self.active
        self.executors = []
        if self.progress:
            self.progress(self.result.runs, int(self.result.failure is not None))


def check_scenario(
    make_executor: MakeExecutor,
    scenario: ModelScenario,
    settings: Settings,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScenarioResult:
    """Runs ``scenario`` until a failure or the budget; the failure comes back minimised."""
    search = ScenarioSearch(make_executor, scenario, settings, progress)
    search.advance(settings.schedules, should_stop)
    return search.result


def _finish(
    make_executor: MakeExecutor,
    scenario: ModelScenario,
    config: RunConfig,
    spec: ScheduleSpec,
    record: RunRecord,
    failures: list[Failure],
    settings: Settings,
) -> FoundFailure:
    """Minimises a failure (if asked) and re-runs it with the trace on."""
    choices = record.trail.chosen
    if settings.minimise:
        scenario, choices = minimise(make_executor, scenario, config, choices, failures[0].check)
    return replay(make_executor, scenario, config, choices, len(record.trail))


def replay(
    make_executor: MakeExecutor,
    scenario: ModelScenario,
    config: RunConfig,
    choices: tuple[int, ...],
    original: int | None = None,
) -> FoundFailure:
    """Runs ``choices`` once with the trace on and judges it."""
    program = scenario.program
    ex = make_executor(program, config)
    outcome, _ = ex.run(ScheduleSpec(prefix=tuple(choices)), trace=True)
    record = record_of(ex, outcome, trace=True)
    if outcome == "mismatch":
        failures = [Failure("mismatch", "the choices do not fit this implementation's runs")]
    else:
        failures, _ = judge(scenario, record, config.timeouts == "quiescent")
    return FoundFailure(
        scenario,
        config,
        tuple(record.trail.chosen),
        failures,
        record,
        0,
        0.0,
        original if original is not None else len(choices),
    )
