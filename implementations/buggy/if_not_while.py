"""The textbook Condition semaphore with one change: ``if`` instead of ``while`` around the
condition wait (BUGS.md 12).

The classic mistake of hand-written monitors: a waiter that a wait lets go takes its tokens
without looking at the count again.  But a wake-up is no promise: ``notify_all`` wakes every
waiter for the one release, a thread that never waited may take the tokens first (barging), and
a condition wait may end spuriously.  Minimal scenarios: sem(0); t1 acquire() waits, its wait
ends spuriously, and t1 returns with a token nobody released -- the count is -1 (what the model
checker finds first, in "repro-release-n-wakes-n": its adversarial runs inject a spurious
wake-up).  Or sem(1); t1 holds the token, t2 and t3 wait; t1 releases and ``notify_all`` wakes
both; t2 takes the token, then t3 takes it too.  A timed wait is an ``if`` as well: a
try_acquire(1, 0.1) on sem(0) times out and takes a token anyway (the bad-input battery's
"timeout-positive" catches that on real threads).

Mapping: :class:`~..textbook.ConditionSemaphore` asks its ``_rechecks`` seam after every wait
whether to loop back to the count check; this one answers no, which turns both waits (for
ever and timed) into ``if`` statements.
"""

from __future__ import annotations

from ..textbook import ConditionSemaphore


class IfNotWhileSemaphore(ConditionSemaphore):
    """known bug: a woken waiter takes its tokens without re-checking the count (if, not while)."""

    def _rechecks(self) -> bool:
        return False


SEMAPHORE = IfNotWhileSemaphore
