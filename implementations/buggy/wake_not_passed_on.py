"""The FIFO hand-off semaphore with one change: a release that finds a wake-up in flight
leaves nothing for the woken waiter to pass on (BUGS.md 11, JDK-6801020).

java.util.concurrent.Semaphore (AbstractQueuedSynchronizer, shared mode) wakes one queued
thread per release and relies on the woken thread to wake the next one ("propagate") when
permits remain.  In JDK 6 the woken thread decided that from the permits left when *it*
acquired, and a release that found the head already signalled did nothing: JDK-6801020
("Concurrent Semaphore release may cause some require thread not signaled").  sem(0); t1, t2
wait; t3 releases and wakes t1; t4 releases, but the head's wait status was already reset by
t3's wake-up, so it signals nobody; t1 acquires with 0 permits left over and passes nothing
on -> t2 waits for ever with one permit available.  The fix added the PROPAGATE status: a
release that cannot signal marks the head so that the woken thread propagates.

Mapping: :class:`~..handoff.HandoffSemaphore` is the same design on a lock -- a release
hands tokens to the first waiter the count covers, one hand-off in flight at a time, and the
granted waiter passes the rest on if its grant left tokens over or a later release marked it
(``propagate``, through the ``_in_flight_hands_on`` seam).  This one leaves the mark out: t3's
release grants t1 its token (nothing left over), t4's release finds t1 in flight and only adds
its token to the count, t1 passes nothing on, and t2 stays blocked with the count at 1 -- a
lost wake-up.  The reproducers "repro-two-waiters-two-releases" (the report's scenario) and
"repro-multi-token-waiter" reach it.
"""

from __future__ import annotations

from ..handoff import HandoffSemaphore, _Waiter


class WakeNotPassedOnSemaphore(HandoffSemaphore):
    """known bug: a release that finds a hand-off in flight leaves the woken waiter nothing to
    pass on (JDK-6801020)."""

    def _in_flight_hands_on(self, w: _Waiter) -> None:
        return


SEMAPHORE = WakeNotPassedOnSemaphore
