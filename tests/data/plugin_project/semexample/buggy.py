"""The same semaphore with a classic bug: a release wakes one waiter, not all of them.

If the one woken wants more tokens than there are, it goes back to sleep, and a waiter that the
count would satisfy sleeps on: a lost wake-up.
"""

from __future__ import annotations

from .sem import CountingSemaphore


class NotifyOneSemaphore(CountingSemaphore):
    """CountingSemaphore with notify() in place of notify_all()."""

    def _wake_waiters(self) -> None:
        self._changed.notify()
