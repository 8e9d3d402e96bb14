"""The benchmark's baseline checker is a correct checker too (on histories without pending
calls, where its semantics and ours agree)."""

from __future__ import annotations

import itertools

from hypothesis import assume, given, settings
from test_linearizability import brute_force, small_histories

from semharness import wgl_baseline
from semharness.histgen import generate, plant_violation
from semharness.linearizability import Step


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(small_histories())
def test_baseline_agrees_with_brute_force(case: tuple[list[Step], int]) -> None:
    steps, initial = case
    steps = [s for s in steps if not s.pending]
    # Porcupine knows no threads: it orders a thread's calls only by time, so leave out
    # histories where a thread's next call starts at the instant the previous one returned.
    lanes: dict[int, list[Step]] = {}
    for s in steps:
        lanes.setdefault(s.thread, []).append(s)
    assume(all(a.ret < b.invoke for lane in lanes.values() for a, b in itertools.pairwise(lane)))
    expected = "ok" if brute_force(steps, initial) else "violation"
    assert wgl_baseline.check(steps, initial) == expected


def test_baseline_on_generated_histories() -> None:
    steps, initial = generate(300, 3, seed=2)
    assert wgl_baseline.check(steps, initial) == "ok"
    assert wgl_baseline.check(plant_violation(steps, initial, 0.5), initial) == "violation"
