"""Qt and C++ conveniences over any contract semaphore (the peer suite's case 9).

- :class:`Releaser` is QSemaphoreReleaser: a context manager that releases n tokens when its
  block ends -- by any exit, exceptions included -- unless :meth:`Releaser.cancel` disarmed it.
- :func:`try_acquire_for` / :func:`try_acquire_until` are ``std::counting_semaphore``'s timed
  tries: a relative timeout and an absolute ``time.monotonic()`` deadline.  Both compute the
  remaining time when called, so a deadline already past means "try once, no wait" -- never the
  contract's "negative = forever".
"""

from __future__ import annotations

import datetime
import time
from types import TracebackType

from .contract import SemaphoreLike, check_n


class Releaser:
    """Releases ``n`` tokens of ``sem`` on leaving the ``with`` block, unless cancelled.

    Use it right after taking tokens, so that they go back whatever happens in the block::

        sem.acquire(2)
        with Releaser(sem, 2):
            ...  # the 2 tokens are released here, even if this raises
    """

    __slots__ = ("_n", "_sem")

    def __init__(self, sem: SemaphoreLike, n: int = 1) -> None:
        self._n = check_n(n)  # TypeError / ValueError / OverflowError, as the contract
        self._sem: SemaphoreLike | None = sem

    @property
    def semaphore(self) -> SemaphoreLike | None:
        """The semaphore it will release, or None once cancelled (QSemaphoreReleaser::semaphore)."""
        return self._sem

    @property
    def n(self) -> int:
        return self._n

    def cancel(self) -> SemaphoreLike | None:
        """Disarms it: nothing is released on exit.  Returns the semaphore (None if already
        cancelled), as QSemaphoreReleaser::cancel does."""
        sem, self._sem = self._sem, None
        return sem

    def __enter__(self) -> Releaser:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sem, self._sem = self._sem, None  # release at most once, even if re-entered
        if sem is not None:
            sem.release(self._n)


def _seconds(timeout: float | datetime.timedelta) -> float:
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be seconds or a timedelta, not {type(timeout).__name__}")
    if timeout != timeout:
        raise ValueError("timeout must not be NaN")
    return float(timeout)


def try_acquire_for(
    sem: SemaphoreLike, n: int = 1, timeout: float | datetime.timedelta = 0.0
) -> bool:
    """``try_acquire_for``: wait at most ``timeout`` (seconds or a timedelta); <= 0 waits not at
    all (std semantics), unlike the contract's negative timeout, which waits forever."""
    return sem.try_acquire(n, max(0.0, _seconds(timeout)))


def try_acquire_until(sem: SemaphoreLike, n: int = 1, deadline: float = 0.0) -> bool:
    """``try_acquire_until``: wait until the ``time.monotonic()`` value ``deadline`` at most;
    the time left is taken when called, so a deadline in the past tries once without waiting."""
    if isinstance(deadline, bool) or not isinstance(deadline, (int, float)):
        raise TypeError(f"deadline must be a time.monotonic() value, not {type(deadline).__name__}")
    if deadline != deadline:
        raise ValueError("deadline must not be NaN")
    return sem.try_acquire(n, max(0.0, deadline - time.monotonic()))
