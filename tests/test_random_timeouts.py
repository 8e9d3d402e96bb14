"""How random runs end timed waits in adversarial mode: at a step drawn when the wait can first
end (core.draw_lifespan), the same way in the Python and the C executor -- so a wait often
outlives several steps of the other threads, where a timeout races a release (BUGS.md 14),
and still often ends at once."""

from __future__ import annotations

import collections
import shutil

import pytest

from semharness.model.core import (
    LIFESPAN_DRAWS,
    RANDOM,
    TRY_ACQUIRE,
    Program,
    RunConfig,
    ScheduleSpec,
    draw_lifespan,
)
from semharness.model.executors import executor_factory
from semharness.registry import resolve

GRID = 1 << 12


def test_lifespans_none_or_one_to_seven_log_uniform() -> None:
    """Over an even grid of both draws: 0 in 1 of LIFESPAN_DRAWS; otherwise the classes 1,
    2-3 and 4-7 equally often, each value of a class equally often."""
    counts = collections.Counter(
        draw_lifespan((i + 0.5) / GRID, (j + 0.5) / 8) for i in range(GRID) for j in range(8)
    )
    total = GRID * 8
    assert set(counts) == set(range(8))
    assert counts[0] / total == pytest.approx(1 / LIFESPAN_DRAWS, abs=1e-3)
    share = (1 - 1 / LIFESPAN_DRAWS) / 3
    for values in ((1,), (2, 3), (4, 5, 6, 7)):
        assert sum(counts[v] for v in values) / total == pytest.approx(share, abs=1e-3)
        assert len({counts[v] for v in values}) == 1


#: sem(0); t0 waits up to 5 s for a token nobody gives; t1 tries ten times to take one without
#: waiting (a call that takes the semaphore's lock or reads its word: a step of its own).
WAITER_AND_TRIER = Program(0, (((TRY_ACQUIRE, 1, 5_000_000_000),), ((TRY_ACQUIRE, 1, 0),) * 10))


def _steps_during_the_wait(impl: str, runs: int = 400) -> collections.Counter[int]:
    """How many steps t1 takes between t0's blocking wait and its timeout (from the trace;
    invoke and return are not steps), over seeded random adversarial runs.  While t0 waits,
    its TIMEOUT option makes every step of t1 a choice point, so this is the drawn lifespan
    whenever t1 has steps left."""
    make = executor_factory(resolve(impl))
    ex = make(WAITER_AND_TRIER, RunConfig(timeouts="adversarial"))
    found: collections.Counter[int] = collections.Counter()
    for seed in range(runs):
        ex.run(ScheduleSpec(RANDOM, seed), trace=True)
        kinds = [(step[0], step[2]) for step in ex.trace()]
        start = next(i for i, (t, k) in enumerate(kinds) if t == 0 and k.endswith("_wait"))
        end = kinds.index((0, "timeout"))
        if kinds[end:].count((1, "return")) < 2:
            continue  # t1 ran out of steps during the wait: the lifespan is not seen
        found[sum(t == 1 and k not in ("invoke", "return") for t, k in kinds[start:end])] += 1
    return found


@pytest.mark.parametrize(
    "impl",
    [
        "textbook",
        pytest.param(
            "futex64",
            marks=pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found"),
        ),
    ],
)
def test_timed_waits_outlive_several_steps_and_also_end_at_once(impl: str) -> None:
    found = _steps_during_the_wait(impl)
    runs = sum(found.values())
    assert runs > 250, found
    assert max(found) <= 7, found  # the longest lifespan
    # no step in about 1 of LIFESPAN_DRAWS runs (a uniform choice at each step: 1 in 2)
    assert 0.03 < found[0] / runs < 0.2, found
    # 4 to 7 steps in about 4 of 13 (a uniform choice at each step: 1 in 16)
    assert sum(n for steps, n in found.items() if steps >= 4) / runs > 0.15, found
