"""A counting semaphore as a user might write one: a count under a ``threading.Condition``."""

from __future__ import annotations

import math
import threading
import time

MAX_COUNT = 2**31 - 1


def _tokens(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, not {type(n).__name__}")
    if n < 0:
        raise ValueError("n must not be negative")
    if n > MAX_COUNT:
        raise OverflowError("n exceeds 2**31 - 1")
    return n


class CountingSemaphore:
    """Takes and gives any number of tokens; waits may time out."""

    def __init__(self, initial: int = 0) -> None:
        self._count = _tokens(initial)
        self._changed = threading.Condition()

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        n = _tokens(n)
        if timeout is not None and timeout != timeout:
            raise ValueError("timeout must not be NaN")
        forever = timeout is None or timeout < 0 or timeout == math.inf
        deadline = None if forever else time.monotonic() + timeout
        with self._changed:
            while self._count < n:  # re-check after every wake-up
                if deadline is None:
                    self._changed.wait()
                    continue
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            self._count -= n
            return True

    def release(self, n: int = 1) -> None:
        n = _tokens(n)
        with self._changed:
            if n > MAX_COUNT - self._count:
                raise OverflowError("the count would exceed 2**31 - 1")
            self._count += n
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        # waiters want different numbers of tokens: any of them may be the one to go on
        self._changed.notify_all()

    def available(self) -> int:
        return self._count
