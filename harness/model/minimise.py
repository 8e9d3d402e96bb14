"""Shrinking a failing run to one a person can read, over the choice sequence (as Hypothesis
shrinks over its choice sequence).

A run is its choices; after the last given choice every choice is index 0, which never
preempts.  So a shorter prefix is a run with fewer preemptions, and a choice set to 0 is one
preemption (or one unusual wake-up) fewer.  Each candidate is run, and kept when it still fails
the same check and is smaller: fewer preemptions, then fewer non-default choices, then fewer
choice points.  Scenarios without expectations (generated ones) also lose threads and calls
while the failure stays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from ..scenario import ANY
from .core import Executor, Program, RunConfig, RunRecord, ScheduleSpec, Trail
from .judge import judge
from .programs import Expected, ModelScenario
from .strategies import RandomStrategy

#: Runs one minimisation may make.
MAX_RUNS = 4000
#: Random runs tried on each smaller program.
TRIES_PER_PROGRAM = 64


def _key(trail: Trail) -> tuple[int, int, int]:
    return (trail.preemptions, sum(c != 0 for c in trail.chosen), len(trail))


def _reducible(scenario: ModelScenario) -> bool:
    """Whether dropping calls keeps the scenario meaningful: nothing is expected of any call."""
    plain = all(e == Expected() for t in scenario.expected for e in t)
    return plain and scenario.final is None and not scenario.must_finish


class _Shrinker:
    def __init__(
        self,
        make_executor: Callable[[Program, RunConfig], Executor],
        config: RunConfig,
        check: str,
    ) -> None:
        self.make_executor = make_executor
        self.config = config
        self.check = check
        self.runs = 0
        self._executors: dict[Program, Executor] = {}

    def fails(self, scenario: ModelScenario, spec: ScheduleSpec) -> Trail | None:
        """The run's trail when it fails the same check, else None."""
        if self.runs >= MAX_RUNS:
            return None
        self.runs += 1
        ex = self._executors.get(scenario.program)
        if ex is None:
            ex = self._executors[scenario.program] = self.make_executor(
                scenario.program, self.config
            )
        outcome, _ = ex.run(spec)
        if outcome == "mismatch":
            return None
        record = RunRecord(outcome, ex.trail(), ex.history(), ex.findings())
        failures, _ = judge(scenario, record, self.config.timeouts == "quiescent")
        return record.trail if any(f.check == self.check for f in failures) else None

    def choices(self, scenario: ModelScenario, trail: Trail) -> Trail:
        """Shrinks the choices for a fixed program, pass after pass until none helps."""
        improved = True
        while improved and self.runs < MAX_RUNS:
            improved = False
            chosen = trail.chosen
            for k in range(len(chosen)):  # the shortest prefix that still fails
                got = self.fails(scenario, ScheduleSpec(prefix=chosen[:k]))
                if got is not None and _key(got) < _key(trail):
                    trail, improved = got, True
                    break
            for i in range(len(trail.chosen)):
                c = trail.chosen
                if i >= len(c) or c[i] == 0:
                    continue
                for smaller in sorted({0, c[i] - 1}):
                    got = self.fails(scenario, ScheduleSpec(prefix=(*c[:i], smaller, *c[i + 1 :])))
                    if got is not None and _key(got) < _key(trail):
                        trail, improved = got, True
                        break
        return trail

    def program(self, scenario: ModelScenario, trail: Trail) -> tuple[ModelScenario, Trail]:
        """Drops whole threads, then single calls, while some run still fails."""
        changed = True
        while changed and self.runs < MAX_RUNS:
            changed = False
            for smaller in _smaller(scenario):
                got = self.fails(smaller, ScheduleSpec(prefix=trail.chosen))
                seeds = RandomStrategy(seed=len(smaller.program.threads))
                for _ in range(TRIES_PER_PROGRAM):
                    if got is not None:
                        break
                    spec = seeds.next_spec()
                    assert spec is not None
                    got = self.fails(smaller, spec)
                if got is not None:
                    scenario, trail, changed = smaller, got, True
                    break
        return scenario, trail


def _smaller(scenario: ModelScenario) -> list[ModelScenario]:
    """Each scenario with one thread, or one call of a thread, left out."""
    threads = scenario.program.threads
    out = []
    candidates: list[tuple[tuple, ...]] = []
    if len(threads) > 1:
        candidates += [threads[:t] + threads[t + 1 :] for t in range(len(threads))]
    for t, actions in enumerate(threads):
        if len(actions) > 1:
            for j in range(len(actions)):
                candidates.append((*threads[:t], actions[:j] + actions[j + 1 :], *threads[t + 1 :]))
    for cand in candidates:
        program = Program(scenario.program.initial, tuple(cand))
        expected = tuple(tuple(Expected(ANY) for _ in t) for t in cand)
        out.append(replace(scenario, program=program, expected=expected))
    return out


def minimise(
    make_executor: Callable[[Program, RunConfig], Executor],
    scenario: ModelScenario,
    config: RunConfig,
    choices: tuple[int, ...],
    check: str,
) -> tuple[ModelScenario, tuple[int, ...]]:
    """A smaller scenario (when it has no expectations) and choices that still fail ``check``."""
    shrink = _Shrinker(make_executor, config, check)
    trail = shrink.fails(scenario, ScheduleSpec(prefix=tuple(choices)))
    if trail is None:  # not reproducible as a prefix: keep what we have
        return scenario, tuple(choices)
    trail = shrink.choices(scenario, trail)
    if _reducible(scenario):
        scenario, trail = shrink.program(scenario, trail)
        trail = shrink.choices(scenario, trail)
    chosen = list(trail.chosen)
    while chosen and chosen[-1] == 0:  # trailing zeros are the default anyway
        chosen.pop()
    return scenario, tuple(chosen)
