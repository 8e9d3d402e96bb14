"""A check the known-bug tests share: a correct twin passes the whole default scenario set."""

from __future__ import annotations

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
