"""Random scenarios for the model checker: 2-4 threads of 1-4 calls each, mixed n, timeouts of
every kind, available().  Seeded, so a set is the same every time; and as Hypothesis
strategies, so users can write property tests over scenarios of their own.

Generated calls carry no expectations (any result may be right): the runs are judged by the
checks alone -- linearizability, invariants, lost wake-ups.  A waiter may legitimately wait
for ever here (nobody releases enough), so these scenarios do not require every thread to
finish.
"""

from __future__ import annotations

import random

from hypothesis import strategies as st

from ..scenario import Op, Scenario

#: try_acquire timeouts drawn from: no wait, bounded, for ever (None and negative).
TIMEOUTS = (0.0, 0.001, 0.05, None, -1.0)


def _op(kind: str, n: int, timeout: float | None) -> Op:
    if kind == "try_acquire":
        return Op("try_acquire", n, timeout)
    if kind == "available":
        return Op("available", 0)
    return Op(kind, n)


def _scenario(name: str, initial: int, threads: list[list[Op]]) -> Scenario:
    return Scenario(
        name=name,
        description=f"generated: sem({initial}), {len(threads)} threads",
        initial=(initial,),
        threads=tuple(tuple(t) for t in threads),
        source="semharness.scenarios.generated",
    )


def random_scenario(rng: random.Random, name: str = "generated") -> Scenario:
    """One scenario drawn from ``rng``."""
    kinds = ("acquire", "try_acquire", "release", "release", "available")
    threads = []
    for _ in range(rng.randint(2, 4)):
        ops = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(kinds)
            ops.append(_op(kind, rng.choice((1, 1, 1, 2, 3)), rng.choice(TIMEOUTS)))
        threads.append(ops)
    return _scenario(name, rng.randint(0, 2), threads)


def scenarios(seed: int = 0, count: int = 8) -> list[Scenario]:
    """``count`` scenarios from ``seed``, named ``generated-<seed>-<i>``."""
    rng = random.Random(seed)
    return [random_scenario(rng, f"generated-{seed}-{i}") for i in range(count)]


@st.composite
def calls(draw: st.DrawFn) -> Op:
    """One call of the contract, as the generator draws them (a Hypothesis strategy)."""
    kind = draw(st.sampled_from(("acquire", "try_acquire", "release", "available")))
    return _op(kind, draw(st.integers(1, 3)), draw(st.sampled_from(TIMEOUTS)))


@st.composite
def model_scenarios(draw: st.DrawFn, max_threads: int = 4, max_calls: int = 4) -> Scenario:
    """Scenarios of 2..``max_threads`` threads with 1..``max_calls`` calls each (a Hypothesis
    strategy; shrinks towards fewer threads, fewer calls, smaller n)."""
    program = st.lists(calls(), min_size=1, max_size=max_calls)
    threads = draw(st.lists(program, min_size=2, max_size=max_threads))
    return _scenario("hypothesis", draw(st.integers(0, 2)), threads)
