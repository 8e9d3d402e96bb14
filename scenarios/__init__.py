"""The scenario library: named sets of :class:`~semharness.scenario.Scenario` data.

Each set is built on demand (scenarios are cheap, immutable data).  ``get(name)`` finds one
scenario across all sets.
"""

from __future__ import annotations

from collections.abc import Callable

from ..scenario import Scenario
from . import battery, peer, reproducers

#: Set name -> the function building its scenarios.
SETS: dict[str, Callable[[], list[Scenario]]] = {
    "peer": peer.scenarios,  # Qt's tst_qsemaphore, case by case
    "battery": lambda: list(battery.BATTERY),  # the contract's bad-input battery
    "reproducers": reproducers.scenarios,  # the kinds of bug in BUGS.md, and the standard one
}


def scenario_set(name: str) -> list[Scenario]:
    """The scenarios of one set; KeyError naming the known sets."""
    try:
        build = SETS[name]
    except KeyError:
        raise KeyError(f"no scenario set {name!r}; known: {', '.join(SETS)}") from None
    return build()


def all_scenarios() -> list[Scenario]:
    """Every scenario of every set, sets in registration order."""
    return [s for build in SETS.values() for s in build()]


def names() -> list[str]:
    return [s.name for s in all_scenarios()]


def get(name: str) -> Scenario:
    """The scenario called ``name``; KeyError listing the known names."""
    for scenario in all_scenarios():
        if scenario.name == name:
            return scenario
    raise KeyError(f"no scenario {name!r}; known: {', '.join(names())}")
