"""Scenarios as the model checker runs them: a :class:`~.core.Program` plus what the scenario
expects of each call.

The scenario library is written once, as :class:`~semharness.scenario.Scenario` data, and
converted here: loops are unrolled (their counts capped -- under controlled scheduling a few
rounds reach every interleaving a hundred would), a QSemaphoreReleaser block becomes its body
followed by the release, and a pause becomes a virtual sleep, which ends only when every other
thread is blocked (quiescent timeouts): "the other threads are blocked" is then a fact.
What a static program cannot say -- producer/consumer rings, loops that end on a result, more
than one semaphore -- is left out with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..scenario import ANY, Get, Loop, Op, Pause, Put, Releaser, Scenario, Step
from .core import ACQUIRE, AVAILABLE, RELEASE, SLEEP, TRY_ACQUIRE, Action, Program

#: Loop counts above this are cut to it.
LOOP_CAP = 3
#: Contract calls a converted program may make at most.
MAX_CALLS = 64
INT32 = (-(2**31), 2**31 - 1)
_CODES = {"acquire": ACQUIRE, "try_acquire": TRY_ACQUIRE, "release": RELEASE}
_CODES["available"] = AVAILABLE


@dataclass(frozen=True)
class Expected:
    """What one call must do: its result (or error name, or ANY) and how long it takes in
    seconds (None: unchecked)."""

    result: object = ANY
    takes: float | None = None


@dataclass(frozen=True)
class ModelScenario:
    """A program and its expectations: per thread, one :class:`Expected` per action.

    ``must_finish``: every thread must return from every call (a run where some stay blocked
    for ever is a deadlock failure); without it a blocked waiter is a failure only when the
    count could satisfy it (a lost wake-up).  ``final``: the count at the end, or None.
    """

    name: str
    description: str
    program: Program
    expected: tuple[tuple[Expected, ...], ...]
    final: int | None
    must_finish: bool
    needs: frozenset[str]
    source: str = ""


class NotConvertible(ValueError):
    """The scenario uses something a model program cannot express."""


def _timeout_ns(op: Op) -> int:
    timeout = op.timeout
    if op.op != "try_acquire":
        return 0
    if op.via is not None:  # the std-style helpers: a timeout <= 0 means "no wait"
        timeout = max(timeout or 0.0, 0.0)
    if timeout is None or timeout < 0:
        return -1
    if not math.isfinite(timeout):
        raise NotConvertible(f"{op.describe()}: timeout {timeout} is not a number of seconds")
    return round(timeout * 1e9)


def _flatten(steps: tuple[Step, ...], cap: int) -> list[Op | Pause]:
    out: list[Op | Pause] = []
    for step in steps:
        if isinstance(step, (Op, Pause)):
            out.append(step)
        elif isinstance(step, Loop):
            if step.times is None:
                raise NotConvertible("a loop that ends on a result")
            body = _flatten(step.body, cap)
            out += body * min(step.times, cap)
        elif isinstance(step, Releaser):
            out += _flatten(step.body, cap)
            if not step.cancel:
                out.append(Op("release", step.n, sem=step.sem, expect=None))
        elif isinstance(step, (Put, Get)):
            raise NotConvertible("producer/consumer rings")
        else:  # pragma: no cover - Step is a closed union
            raise NotConvertible(f"step {step!r}")
    return out


def _action(step: Op | Pause) -> tuple[Action, Expected]:
    if isinstance(step, Pause):
        return (SLEEP, 0, max(1, round(step.seconds * 1e9))), Expected()
    if step.sem != 0:
        raise NotConvertible("more than one semaphore")
    if not isinstance(step.n, int) or not INT32[0] <= step.n <= INT32[1]:
        raise NotConvertible(f"{step.describe()}: n is not a 32-bit integer")
    return (_CODES[step.op], step.n, _timeout_ns(step)), Expected(step.expect, step.takes)


def from_scenario(
    scenario: Scenario, must_finish: bool = True, cap: int = LOOP_CAP
) -> ModelScenario:
    """The model version of ``scenario``; :class:`NotConvertible` says why there is none."""
    if len(scenario.initial) != 1:
        raise NotConvertible("more than one semaphore")
    threads, expected = [], []
    for program in scenario.threads:
        pairs = [_action(step) for step in _flatten(program, cap)]
        threads.append(tuple(a for a, _ in pairs))
        expected.append(tuple(e for _, e in pairs))
    prog = Program(scenario.initial[0], tuple(threads))
    if prog.calls > MAX_CALLS:
        raise NotConvertible(f"{prog.calls} calls after unrolling (at most {MAX_CALLS})")
    return ModelScenario(
        name=scenario.name,
        description=scenario.description,
        program=prog,
        expected=tuple(expected),
        final=scenario.final[0] if scenario.final else None,
        must_finish=must_finish,
        needs=scenario.needs(),
        source=scenario.source,
    )


def convertible(scenarios: list[Scenario], must_finish: bool = True) -> list[ModelScenario]:
    """The model versions of those scenarios that have one."""
    out = []
    for scenario in scenarios:
        try:
            out.append(from_scenario(scenario, must_finish))
        except NotConvertible:
            continue
    return out


def default_scenarios(seed: int = 0, generated: int = 8) -> list[ModelScenario]:
    """The default model-checking set: the bug reproducers (the standard scenario first), the
    peer suite's cases a static program can say, and ``generated`` random scenarios."""
    from ..scenarios import generated as gen
    from ..scenarios import scenario_set

    fixed = convertible(scenario_set("reproducers") + scenario_set("peer"))
    return fixed + convertible(gen.scenarios(seed, generated), must_finish=False)
