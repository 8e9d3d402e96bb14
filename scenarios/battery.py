"""The contract and bad-input battery: what every implementation must do with odd arguments.

Negative n, n == 0, wrong types, counts past 2**31 - 1, and the three kinds of timeout (0,
> 0, None or negative).  Each call that must fail is followed by an ``available()`` that proves
the state unchanged.  These are single-threaded scenarios, run like every other scenario, so
an implementation that lacks a capability (no overflow check, say) is skipped with the reason,
and a wrong answer is a failure naming the call.
"""

from __future__ import annotations

from ..contract import MAX_COUNT
from ..scenario import Op, Scenario

SOURCE = "DESIGN.md, the Python implementation contract"


def _unchanged(count: int) -> Op:
    return Op("available", expect=count)


BATTERY = [
    Scenario(
        name="badinput-negative-n",
        description="n < 0 raises ValueError and changes nothing",
        initial=(3,),
        threads=(
            (
                Op("acquire", n=-1, expect="ValueError"),
                _unchanged(3),
                Op("try_acquire", n=-1, expect="ValueError"),
                Op("try_acquire", n=-1, timeout=0.05, expect="ValueError", takes=0),
                _unchanged(3),
                Op("release", n=-1, expect="ValueError"),
                Op("release", n=-(2**31), expect="ValueError"),
                Op("acquire", n=-(2**40), expect="ValueError"),
                _unchanged(3),
            ),
        ),
        final=(3,),
        source=SOURCE,
    ),
    Scenario(
        name="badinput-zero-n",
        description="n == 0: acquire and try_acquire succeed at once, release does nothing",
        initial=(0,),
        threads=(
            (
                Op("acquire", n=0, expect=None, takes=0),
                Op("try_acquire", n=0, expect=True, takes=0),
                Op("try_acquire", n=0, timeout=0.05, expect=True, takes=0),
                Op("release", n=0, expect=None),
                _unchanged(0),
            ),
        ),
        final=(0,),
        source=SOURCE,
    ),
    Scenario(
        name="badinput-types",
        description="a non-integer n or a NaN timeout is rejected and changes nothing",
        initial=(2,),
        threads=(
            (
                Op("acquire", n=1.5, expect="TypeError"),
                Op("try_acquire", n=1.5, expect="TypeError"),
                Op("release", n=1.5, expect="TypeError"),
                _unchanged(2),
                Op("try_acquire", n=1, timeout=float("nan"), expect="ValueError"),
                _unchanged(2),
            ),
        ),
        final=(2,),
        source=SOURCE,
    ),
    Scenario(
        name="badinput-overflow",
        description="a release past 2**31 - 1, or n past it, raises OverflowError unchanged",
        initial=(MAX_COUNT,),
        threads=(
            (
                Op("release", n=1, expect="OverflowError"),
                _unchanged(MAX_COUNT),
                Op("acquire", n=5, expect=None),
                Op("release", n=6, expect="OverflowError"),
                _unchanged(MAX_COUNT - 5),
                Op("release", n=5, expect=None),
                _unchanged(MAX_COUNT),
                Op("release", n=2**31, expect="OverflowError"),
                Op("try_acquire", n=2**31, expect="OverflowError"),
                _unchanged(MAX_COUNT),
            ),
        ),
        final=(MAX_COUNT,),
        source=SOURCE,
    ),
    Scenario(
        name="timeout-zero",
        description="timeout 0 never waits: a short try fails at once, an easy one succeeds",
        initial=(1,),
        threads=(
            (
                Op("try_acquire", n=2, timeout=0, expect=False, takes=0),
                Op("try_acquire", n=1, timeout=0.0, expect=True, takes=0),
                Op("try_acquire", n=1, timeout=0, expect=False, takes=0),
                _unchanged(0),
            ),
        ),
        final=(0,),
        source=SOURCE,
    ),
    Scenario(
        name="timeout-positive",
        description="timeout > 0 waits that long when short, and not at all when not",
        initial=(0,),
        threads=(
            (
                Op("try_acquire", n=1, timeout=0.1, expect=False, takes=0.1),
                Op("release", n=1, expect=None),
                Op("try_acquire", n=1, timeout=0.1, expect=True, takes=0),
                _unchanged(0),
            ),
        ),
        final=(0,),
        source=SOURCE,
    ),
    Scenario(
        name="timeout-forever",
        description="timeout None or negative waits forever: with tokens there it returns at once",
        initial=(3,),
        threads=(
            (
                Op("try_acquire", n=1, timeout=None, expect=True, takes=0),
                Op("try_acquire", n=1, timeout=-1, expect=True, takes=0),
                Op("try_acquire", n=1, timeout=-(2**31), expect=True, takes=0),
                _unchanged(0),
            ),
        ),
        final=(0,),
        source=SOURCE,
    ),
]
