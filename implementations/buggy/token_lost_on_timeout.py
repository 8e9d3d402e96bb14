"""The FIFO hand-off semaphore with one change: a timed-out waiter that a release had already
handed its tokens leaves without them (BUGS.md 15, asyncio #270, CPython gh-90155).

asyncio's Semaphore wakes a waiter by completing its future; the woken task takes the token
when it next runs.  A waiter cancelled (or timed out, via ``wait_for``) after its future was
completed but before it ran simply left: the wake-up it had been handed died with it, and as
the semaphore believed a wake-up was on its way (``_wakeup_scheduled`` in CPython 3.11.0), no
later release woke anybody -- another waiter hung with the count at 1 (gh-90155; asyncio #270
is the same race in the original asyncio).  The fix: a leaving waiter that was already woken
passes its wake-up on (or keeps what it was given).

Mapping: :class:`~..handoff.HandoffSemaphore` hands tokens to a waiter and keeps one hand-off in
flight until that waiter is back; a waiter back from a wait asks its ``_kept`` seam whether it
holds tokens -- whether they were handed to it, also when its own wait timed out.  This one
answers with the wait's own result: sem(0); t1 try_acquire(1, T) waits; its deadline passes;
before it takes the lock back, t2 release(1) hands it the token; t1 sees "timed out" and
returns False.  The token is gone (the count stays 0 where it should be 1: conservation and
linearizability), and the hand-off stays in flight for ever: the next release leaves its
token in the count for a waiter that has left, so a waiter t3 blocks with the count at 1 (a
lost wake-up).  The reproducer "repro-timeout-then-wait" reaches it.
"""

from __future__ import annotations

from ..handoff import HandoffSemaphore, _Waiter


class TokenLostOnTimeoutSemaphore(HandoffSemaphore):
    """known bug: a timed-out waiter already handed its tokens returns False and loses them."""

    def _kept(self, w: _Waiter, woken: bool) -> bool:
        return woken


SEMAPHORE = TokenLostOnTimeoutSemaphore
