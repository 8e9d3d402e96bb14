"""The textbook multi-token semaphore: a count guarded by a Condition.

Written only with ``threading`` primitives and ``time.monotonic()`` so that the model checker
can run it unmodified.  Three details make it correct where many hand-written ones are not:
every wait is in a ``while`` loop (a woken waiter re-checks the count -- other threads may have
barged in), release uses ``notify_all`` (waiters need different counts, so waking one could wake
the wrong one), and a timed wait recomputes its remaining time from a deadline fixed at the call
and re-checks the count before giving up.
"""

from __future__ import annotations

import threading
import time

from ..contract import MAX_COUNT, check_count, check_n, check_timeout


class ConditionSemaphore:
    """A counting semaphore taking and giving any number of tokens, with timeouts."""

    def __init__(self, initial: int = 0) -> None:
        self._count = check_count(initial, "initial count")
        self._cond = threading.Condition(threading.Lock())

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        n = check_n(n)
        timeout = check_timeout(timeout)
        if n == 0:
            return True
        with self._cond:
            if timeout is None:
                while self._count < n:
                    self._cond.wait()
                    if not self._rechecks():
                        break
            else:
                deadline = time.monotonic() + timeout
                while self._count < n:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    if not self._timed_wait(remaining):
                        return False
                    if not self._rechecks():
                        break
            self._count -= n
            return True

    def release(self, n: int = 1) -> None:
        n = check_n(n)
        if n == 0:
            return
        with self._cond:
            if n > MAX_COUNT - self._count:
                raise OverflowError("count would exceed 2**31 - 1")
            self._count += n
            self._wake()

    def _rechecks(self) -> bool:
        """Whether a waiter that a wait let go re-checks the count before it takes its tokens:
        always -- it may have been woken for a count another thread has since taken (barging),
        for a count too small for it, or for nothing (spurious wake-ups).  This is what makes
        the waits ``while`` loops, not ``if``.  (A seam for the known-bug corpus, which
        overrides it.)"""
        return True

    def _timed_wait(self, remaining: float) -> bool:
        """One timed condition wait of up to ``remaining`` seconds, the lock held; False would
        make the try give up.  It never does: a wait that ends at the deadline goes back to the
        loop, which re-checks the count before it gives up -- a release may have made the count
        enough between the timeout and the lock coming back.  (A seam for the known-bug
        corpus, which overrides it.)"""
        self._cond.wait(remaining)
        return True

    def _wake(self) -> None:
        """Wakes every waiter: they wait for different n, so any of them may be the one the new
        count satisfies.  (A seam for the known-bug corpus, which overrides it.)"""
        self._cond.notify_all()

    def available(self) -> int:
        return self._count
