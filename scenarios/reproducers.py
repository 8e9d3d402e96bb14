"""Small scenarios that expose the kinds of bug in BUGS.md (shared/), and the standard one.

Each is the minimal program a report gives (or the smallest that reaches the same state),
written for no implementation in particular: every implementation runs every one of them.
Where a thread must wait until the others are blocked, it pauses; under the model checker a
pause ends only when every other thread is blocked.
"""

from __future__ import annotations

from ..contract import MAX_COUNT
from ..scenario import Op, Pause, Scenario

SETTLE = 0.01  # seconds: "long enough for the others to block" (exact in virtual time)


def _acq(n: int = 1) -> Op:
    return Op("acquire", n, expect=None)


def _rel(n: int = 1) -> Op:
    return Op("release", n, expect=None)


def standard() -> Scenario:
    """The model checker's benchmark scenario."""
    body = (_acq(), _rel())
    return Scenario(
        name="standard",
        description="sem(1); three threads each acquire(1) then release(1)",
        initial=(1,),
        threads=(body, body, body),
        final=(1,),
        source="the issue's standard scenario",
    )


def scenarios() -> list[Scenario]:
    """The reproducers, in BUGS.md order of the kinds of bug they reach."""
    pause = Pause(SETTLE)
    return [
        standard(),
        Scenario(
            name="repro-release-n-wakes-n",
            description="sem(0); two waiters for one token each; main release(2): both must "
            "wake (a release of n that wakes one waiter strands the rest)",
            initial=(0,),
            threads=((pause, _rel(2)), (_acq(),), (_acq(),)),
            final=(0,),
            source="BUGS.md 1 (QTBUG-66875), 13 (notify vs notify_all)",
        ),
        Scenario(
            name="repro-wake-n-of-many",
            description="sem(0); four threads acquire() then release(); main release(1): the "
            "one token must pass through all four (a release waking too few strands some)",
            initial=(0,),
            threads=((pause, _rel()), *(((_acq(), _rel()),) * 4)),
            final=(1,),
            source="BUGS.md 1 (QTBUG-66875), 6 (llvm#46357), 11 (JDK-6801020)",
        ),
        Scenario(
            name="repro-multi-token-waiter",
            description="sem(0); a waiter for 2 and a waiter for 1; releases of 1 and 2 from "
            "two threads: whoever can go must be woken",
            initial=(0,),
            threads=(
                (_acq(2), _rel(2)),
                (_acq(1), _rel(1)),
                (pause, _rel(1)),
                (pause, _rel(2)),
            ),
            final=(3,),
            source="BUGS.md 2 (QTBUG-67214), 4 (QTBUG-92148), 13 (notify vs notify_all)",
        ),
        Scenario(
            name="repro-borrowed-token",
            description="sem(1); main takes the token, a waiter queues, main gives it back",
            initial=(1,),
            threads=((_acq(), pause, _rel()), (_acq(), _rel())),
            final=(1,),
            source="BUGS.md 3 (QTBUG-67481), 7 (decide-then-sleep)",
        ),
        Scenario(
            name="repro-two-waiters-two-releases",
            description="sem(0); two waiters; two releases of 1 back to back",
            initial=(0,),
            threads=((pause, _rel(), _rel()), (_acq(),), (_acq(),)),
            final=(0,),
            source="BUGS.md 6 (llvm#46357), 11 (JDK-6801020)",
        ),
        Scenario(
            name="repro-timeout-then-wait",
            description="sem(0); a timed try gives up, then the same thread waits for good; "
            "a release of 2 must still wake it (a timed-out waiter must deregister)",
            initial=(0,),
            threads=(
                (Op("try_acquire", 1, 0.001), _acq()),
                (pause, _rel(2)),
            ),
            source="BUGS.md 5 (musl bdd89337), 15 (CPython gh-90155)",
        ),
        Scenario(
            name="repro-concurrent-tries",
            description="sem(2); two threads try_acquire(1) with no wait at once: both must "
            "succeed (a try must not give up on a failed compare-and-swap)",
            initial=(2,),
            threads=(
                (Op("try_acquire", 1, 0, expect=True),),
                (Op("try_acquire", 1, 0, expect=True),),
            ),
            final=(0,),
            source="BUGS.md 8 (musl 07e62953)",
        ),
        Scenario(
            name="repro-overflow",
            description="one below the maximum: release(1) fits, the next must raise "
            "OverflowError and lose nothing",
            initial=(MAX_COUNT - 1,),
            threads=(
                (
                    _rel(),
                    Op("release", 1, expect="OverflowError"),
                    Op("available", expect=MAX_COUNT),
                ),
            ),
            final=(MAX_COUNT,),
            source="BUGS.md 9 (glibc BZ18434)",
        ),
        Scenario(
            name="repro-timed-waits",
            description="sem(0); a try with a 5 s timeout and one waiting for ever (negative "
            "timeout); a release after 10 ms and one more: both succeed",
            initial=(0,),
            threads=(
                (Op("try_acquire", 1, 5.0, expect=True),),
                (Op("try_acquire", 1, -1.0, expect=True),),
                (pause, _rel(), pause, _rel()),
            ),
            final=(0,),
            source="BUGS.md 10 (libdispatch PR #57, QTBUG-64413), 14 (boost sync PR #11)",
        ),
        Scenario(
            name="repro-barging",
            description="sem(0); a waiter, a release, and a try that may barge in: the count "
            "must never go below zero",
            initial=(0,),
            threads=((_acq(), _rel()), (pause, _rel()), (Op("try_acquire", 1, 0), _rel())),
            source="BUGS.md 12 (if instead of while)",
        ),
        Scenario(
            name="repro-timeout-meets-release",
            description="sem(0); a try with a 5 s timeout waits, a release lands as its "
            "deadline passes, a reader sees the token: the try must take it (a timed wait "
            "re-checks the count before it gives up); two readers, three reads each, so that "
            "a read falls between the release's add and its wake-up often enough",
            initial=(0,),
            threads=(
                (Op("try_acquire", 1, 5.0, expect=True),),
                (pause, _rel()),
                (pause, Op("available")) * 3,
                (pause, Op("available")) * 3,
            ),
            final=(0,),
            source="BUGS.md 14 (boost sync PR #11)",
        ),
        Scenario(
            name="repro-multi-token-waiter-churn",
            description="sem(2); a waiter for 3 while two threads each take a token and give "
            "it back three times, one releasing once more: the waiter must not sleep on a word "
            "that changed and changed back (ABA) and miss the wake-up",
            initial=(2,),
            threads=(
                (_acq(3), _rel(3)),
                (_acq(), _rel()) * 3,
                (*((_acq(), _rel()) * 3), _rel()),
            ),
            final=(3,),
            source="BUGS.md 4 (QTBUG-92148), 2 (QTBUG-67214)",
        ),
    ]
