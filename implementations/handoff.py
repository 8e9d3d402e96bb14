"""A FIFO hand-off semaphore: a release hands its tokens to the waiters directly, in order.

The other lock-based design (the textbook one, :mod:`.textbook`) keeps every token in the count
and lets every waiter race for it after ``notify_all``.  This one is the design of AQS-style
and asyncio-style semaphores: each waiter has a record in a FIFO queue and an Event of its own,
and a release gives tokens to waiters instead of waking them to look:

- a release adds its tokens to the count and *hands* them on: the first waiter in the queue
  whose request the count covers gets its tokens taken out of the count for it (``granted``)
  and its Event set -- its acquire has taken effect there, inside the release;
- only one hand-off is in flight at a time (passing the baton): the granted waiter, once it
  runs, hands the rest on to the next waiter the count covers.  A release that finds a hand-off
  in flight leaves its tokens in the count and marks the in-flight waiter to pass them on
  (``propagate``, what AQS calls PROPAGATE);
- a timed waiter whose deadline passes looks first at whether tokens were handed to it
  meanwhile: then it keeps them, returns True and passes the baton on; else it leaves the
  queue, and still takes the tokens if the count covers them (an in-flight hand-off may not
  have reached it yet), and fails only if the count is short.

A thread that finds the count large enough takes its tokens at once, waiters or not: every
queued waiter then needs more than the count (a hand-off is made whenever one is covered), so
nobody who could go is passed over.  Written only with ``threading``'s Lock and Event (a
timed wait is one Event wait of the whole timeout), so the model checker runs it unmodified.
"""

from __future__ import annotations

import threading
from collections import deque

from ..contract import MAX_COUNT, check_count, check_n, check_timeout


class _Waiter:
    """One queued acquire: what it needs, its own Event, and what a release did for it."""

    __slots__ = ("event", "granted", "n", "propagate")

    def __init__(self, n: int) -> None:
        self.n = n
        self.event = threading.Event()
        #: its tokens were taken out of the count for it: its acquire has taken effect
        self.granted = False
        #: once it runs, it hands what the count holds on to the next waiter
        self.propagate = False


class HandoffSemaphore:
    """A FIFO hand-off semaphore: releases hand tokens to queued waiters, one wake-up in flight."""

    def __init__(self, initial: int = 0) -> None:
        self._count = check_count(initial, "initial count")
        self._lock = threading.Lock()
        self._waiters: deque[_Waiter] = deque()
        self._in_flight: _Waiter | None = None  # granted, its Event set, not yet back

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        n = check_n(n)
        timeout = check_timeout(timeout)
        if n == 0:
            return True
        with self._lock:
            if self._count >= n:
                self._count -= n
                return True
            if timeout == 0.0:
                return False
            me = _Waiter(n)
            self._waiters.append(me)
        # An Event wakes only when set or at its timeout (None: only when set).
        woken = me.event.wait(timeout)
        with self._lock:
            self._waiters.remove(me)
            if self._kept(me, woken):
                self._in_flight = None
                if me.propagate:
                    self._hand_off()
                return True
            if self._count >= n:  # a hand-off in flight has not reached it yet
                self._count -= n
                return True
            return False

    def release(self, n: int = 1) -> None:
        n = check_n(n)
        if n == 0:
            return
        with self._lock:
            if n > MAX_COUNT - self._count:
                raise OverflowError("count would exceed 2**31 - 1")
            self._count += n
            self._hand_off()

    def available(self) -> int:
        return self._count

    def _hand_off(self) -> None:
        """The lock held: hands tokens to the first waiter the count covers, unless a hand-off
        is in flight -- then the waiter it went to passes them on when it runs."""
        if self._in_flight is not None:
            self._in_flight_hands_on(self._in_flight)
            return
        for w in self._waiters:
            if not w.granted and w.n <= self._count:
                self._count -= w.n
                w.granted = True
                w.propagate = self._count > 0
                self._in_flight = w
                w.event.set()
                return

    def _in_flight_hands_on(self, w: _Waiter) -> None:
        """A release found a hand-off in flight to ``w``: ``w`` must pass the new tokens on
        when it runs, though its grant left nothing over (AQS's PROPAGATE, the fix of
        JDK-6801020).  (A seam for the known-bug corpus, which overrides it.)"""
        w.propagate = True

    def _kept(self, w: _Waiter, woken: bool) -> bool:
        """Whether a waiter back from its wait holds tokens: whether a release handed them to
        it -- also when its wait timed out, for the hand-off may land between the timeout and
        the lock (``woken`` is the Event wait's own answer).  A waiter that had its tokens
        handed to it keeps them and passes the baton on.  (A seam for the known-bug corpus,
        which overrides it.)"""
        return w.granted
