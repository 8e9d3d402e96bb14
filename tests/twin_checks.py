"""Checks the known-bug tests share: a correct twin passes the default scenarios; a failure
replays from its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios
from semharness.model.runner import Settings, check_scenario
from semharness.model.tracefmt import render
from semharness.registry import resolve


def assert_passes_default_scenarios(spec: str, seed: int = 3, schedules: int = 150) -> int:
    """Model-checks ``spec`` over every default scenario it can run; returns how many ran."""
    impl = resolve(spec)
    make = executor_factory(impl)
    checked = 0
    for scenario in default_scenarios(seed=seed):
        if impl.capabilities.missing(scenario.needs):
            continue
        result = check_scenario(make, scenario, Settings(seed=seed, schedules=schedules))
        assert result.failure is None, render(result.failure, scenario.name)
        checked += 1
    return checked


def assert_replays_from_its_file(name: str, found: Any, folder: Path) -> None:
    """A failure written to a replay file: a worker re-runs it with the same trace, and
    ``semharness replay FILE`` exits 1."""
    from semharness.cli import main
    from semharness.model.replayfile import to_json, trace_digest, write
    from semharness.model.session import replay_in_worker

    path = folder / f"{name}.replay.json"
    write(path, to_json(name, resolve(name), found))
    event = replay_in_worker(name, found.scenario, found.config, found.choices)
    assert event["trace_digest"] == trace_digest(found.record.trace)
    assert main(["replay", str(path)]) == 1
