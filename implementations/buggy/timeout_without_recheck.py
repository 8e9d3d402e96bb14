"""The textbook Condition semaphore with one change: a timed wait that ends at its deadline
gives up at once, without re-checking the count (BUGS.md 14, boost sync PR #11).

boost.sync's semaphore ``wait_until`` "used to return false in case the semaphore was posted,
but the timeout has already exceeded": when the condition variable's timed wait reported a
timeout, the semaphore returned false without looking at the count again.  POSIX forbids it: a
timed wait must not time out when the semaphore can be taken.  The window is between the
timeout and the lock coming back: a release that lands there makes the count enough, notifies
nobody (the waiter is no longer waiting), and the waiter, its wait having returned "timed out",
fails anyway.

Minimal scenario ("repro-timeout-meets-release"): sem(0); t1 try_acquire(1, T) waits; t2
release(1) adds its token and, before it notifies, t3 reads available() == 1 and t1's deadline
passes; t1 comes back and returns False.  The read proves the token was there before t1's
deadline and stayed there until t1 returned, so the failed try has no point at or after its
deadline where the count was short: not linearizable (a timed try never fails before its
deadline, DESIGN.md).  Without such a read the history is linearizable -- the release may have
taken effect after the deadline -- so the reproducer has readers.

Mapping: :class:`~..textbook.ConditionSemaphore` runs each timed wait through its
``_timed_wait`` seam, which always lets the loop re-check the count; this one reports the
condition wait's own result, so a timed-out wait ends the try.
"""

from __future__ import annotations

from ..textbook import ConditionSemaphore


class TimeoutWithoutRecheckSemaphore(ConditionSemaphore):
    """known bug: a timed wait that times out returns False without re-checking the count."""

    def _timed_wait(self, remaining: float) -> bool:
        return self._cond.wait(remaining)


SEMAPHORE = TimeoutWithoutRecheckSemaphore
