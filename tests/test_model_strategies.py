"""Strategies, programs and replay files of the model checker, without an executor: the
strategies against synthetic choice trees, where the right answers can be counted by hand."""

from __future__ import annotations

import itertools
import json

import pytest

from semharness.errors import UsageError
from semharness.model import replayfile
from semharness.model.core import FREE, PCT, PREEMPTIBLE, PREFIX, RANDOM, WAKE, Trail
from semharness.model.programs import NotConvertible, default_scenarios, from_scenario
from semharness.model.strategies import DFSStrategy, PCTStrategy, RandomStrategy, make, mix_seed
from semharness.scenario import Loop, Op, Pause, Put, Releaser, Scenario
from semharness.scenarios import generated, scenario_set


def tree_run(prefix: tuple[int, ...], depth: int = 5) -> Trail:
    """A synthetic run: ``depth`` choice points; point i has 2 + (i + sum of earlier choices)
    % 2 options and is preemptible when i is even, a wake choice when i % 3 == 2."""
    chosen, widths, kinds = [], [], []
    for i in range(depth):
        width = 2 + (i + sum(chosen)) % 2
        c = prefix[i] if i < len(prefix) else 0
        assert c < width
        kind = WAKE if i % 3 == 2 else PREEMPTIBLE if i % 2 == 0 else FREE
        chosen.append(c)
        widths.append(width)
        kinds.append(kind)
    return Trail(tuple(chosen), tuple(widths), tuple(kinds))


def all_leaves(depth: int = 5) -> list[tuple[int, ...]]:
    out = []
    for choice in itertools.product(range(3), repeat=depth):
        try:
            trail = tree_run(choice, depth)
        except AssertionError:
            continue
        if trail.chosen == choice:
            out.append(choice)
    return out


@pytest.mark.parametrize("bound", [0, 1, 2, 5])
def test_dfs_runs_every_schedule_within_the_bound_once(bound: int) -> None:
    dfs = DFSStrategy(bound)
    seen = []
    while (spec := dfs.next_spec()) is not None:
        assert spec.mode == PREFIX
        trail = tree_run(spec.prefix)
        seen.append(trail.chosen)
        dfs.observe(trail)
    assert dfs.complete
    expected = [leaf for leaf in all_leaves() if tree_run(leaf).preemptions <= bound]
    assert sorted(seen) == sorted(expected)
    assert len(seen) == len(set(seen)) == dfs.runs


def test_random_and_pct_specs_are_seeded_and_strided() -> None:
    a = [RandomStrategy(7).next_spec() for _ in range(1)]
    r = RandomStrategy(7)
    first = [r.next_spec() for _ in range(6)]
    assert first[0] == a[0] and all(s.mode == RANDOM for s in first)
    assert len({s.seed for s in first}) == 6
    # two workers with strides (0, 2) and (1, 2) share the runs of one strategy between them
    w0, w1 = RandomStrategy(7, (0, 2)), RandomStrategy(7, (1, 2))
    shares = [[w.next_spec() for _ in range(3)] for w in (w0, w1)]
    merged = [s for pair in zip(*shares, strict=True) for s in pair]
    assert merged == first
    p = PCTStrategy(3, depth=3)
    specs = [p.next_spec() for _ in range(6)]
    assert all(s.mode == PCT for s in specs) and [s.depth for s in specs] == [1, 2, 3, 1, 2, 3]
    p.observe(Trail((0,) * 90, (2,) * 90, (PREEMPTIBLE,) * 90))
    assert p.next_spec().horizon == 90
    assert mix_seed(1, 2) != mix_seed(2, 1)
    with pytest.raises(ValueError, match="unknown strategy"):
        make("bfs")


def test_scenarios_convert_to_programs() -> None:
    scenario = Scenario(
        "s",
        "d",
        (1,),
        (
            (Loop((Op("acquire"), Op("release")), times=100), Pause(0.5)),
            (Releaser((Op("available", expect=0),), n=2), Op("try_acquire", 2, None)),
        ),
        final=(3,),
    )
    m = from_scenario(scenario)
    assert m.program.initial == 1
    assert m.program.threads[0] == ((0, 1, 0), (2, 1, 0)) * 3 + ((4, 0, 500_000_000),)
    assert m.program.threads[1] == ((3, 1, 0), (2, 2, 0), (1, 2, -1))  # available's n: unused
    assert m.expected[1][0].result == 0 and m.final == 3 and m.must_finish
    with pytest.raises(NotConvertible, match="rings"):
        from_scenario(Scenario("r", "d", (1,), ((Put(),),), rings=(4,)))
    with pytest.raises(NotConvertible, match="semaphore"):
        from_scenario(Scenario("two", "d", (1, 1), ((Op("acquire", sem=1),),)))
    names = [s.name for s in default_scenarios()]
    assert names[0] == "standard" and "acquire-a" in names and "generated-0-0" in names
    assert len(names) == len(set(names))


def test_generated_scenarios_are_seeded() -> None:
    assert generated.scenarios(3, 4) == generated.scenarios(3, 4)
    assert generated.scenarios(3, 4) != generated.scenarios(4, 4)
    for s in generated.scenarios(0, 20):
        assert 2 <= len(s.threads) <= 4 and all(1 <= len(t) <= 4 for t in s.threads)
    names = [s.name for s in scenario_set("reproducers")]
    assert names[0] == "standard" and all(n.startswith("repro-") for n in names[1:])


def test_replay_files_are_checked(tmp_path) -> None:
    m = default_scenarios()[0]
    data = {
        "format": replayfile.FORMAT,
        "version": 1,
        "implementation": "futex64",
        "implementation_digest": None,
        "scenario": replayfile.scenario_to_json(m),
        "config": {"timeouts": "quiescent", "spurious": 0, "max_steps": 100},
        "choices": [0, 1],
        "failure": {"check": "deadlock", "message": "m"},
        "trace_steps": 3,
        "trace_digest": "x",
    }
    good = tmp_path / "good.json"
    good.write_text(json.dumps(data))
    rep = replayfile.Replay(good)
    assert rep.scenario.program == m.program and rep.choices == (0, 1)
    assert rep.scenario.expected == m.expected
    bad = tmp_path / "bad.json"
    for broken, message in (
        ("{", "not JSON"),
        (json.dumps({**data, "format": "x"}), "corrupt"),
        (json.dumps({**data, "choices": [-1]}), "corrupt"),
        (json.dumps({**data, "scenario": {**data["scenario"], "threads": [[[0, 1]]]}}), "corrupt"),
        (json.dumps({k: v for k, v in data.items() if k != "config"}), "corrupt"),
    ):
        bad.write_text(broken)
        with pytest.raises(UsageError, match=message):
            replayfile.Replay(bad)
    with pytest.raises(UsageError, match="cannot read"):
        replayfile.Replay(tmp_path / "missing.json")
