"""The textbook Condition semaphore with one change: release wakes one waiter (notify())
instead of all of them (BUGS.md 13).

Waiters need different numbers of tokens: sem(0); a waiter for 2 and a waiter for 1; release(1)
notifies one -- if it is the waiter for 2, that one goes back to sleep, and the waiter for 1,
which the count now satisfies, is never woken: a lost wake-up.
"""

from __future__ import annotations

from ..textbook import ConditionSemaphore


class NotifyOneSemaphore(ConditionSemaphore):
    """known bug: release wakes one waiter (notify()), not all of them (BUGS.md 13)."""

    def _wake(self) -> None:
        self._cond.notify()


SEMAPHORE = NotifyOneSemaphore
