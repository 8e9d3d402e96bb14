"""Adapters that put CPython's own semaphores behind the harness's contract.

They add only what the contract asks of every implementation (argument checks, n == 0) and
declare honestly what the wrapped object cannot do.  None of them can take n > 1 tokens in one
atomic step, so n > 1 is emulated by taking single tokens in turn and giving them back if the
call fails: correct when one thread uses the semaphore, which is the only place the harness
uses it (``multi_acquire=False``).
"""

from __future__ import annotations

import errno
import multiprocessing
import threading
import time

from ..contract import MAX_COUNT, Capabilities, check_count, check_n, check_timeout


class _OneTokenAdapter:
    """Emulates the contract over an object that moves one token per call."""

    def _take_one(self, timeout: float | None) -> bool:  # timeout: None forever, 0 no wait
        raise NotImplementedError

    def _give_one(self) -> None:
        raise NotImplementedError

    def acquire(self, n: int = 1) -> None:
        self.try_acquire(n, None)

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        n = check_n(n)
        timeout = check_timeout(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        for taken in range(n):
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._take_one(0.0 if timeout == 0.0 else remaining):
                for _ in range(taken):
                    self._give_one()
                return False
        return True


class ThreadingSemaphore(_OneTokenAdapter):
    """``threading.Semaphore``: unbounded (no OverflowError), one token per acquire."""

    semharness_capabilities = Capabilities(multi_acquire=False, overflow_check=False)
    wrapped = threading.Semaphore

    def __init__(self, initial: int = 0) -> None:
        self._sem = self.wrapped(check_count(initial, "initial count"))

    def _take_one(self, timeout: float | None) -> bool:
        if timeout == 0.0:
            return self._sem.acquire(blocking=False)
        return self._sem.acquire(timeout=timeout)

    def _give_one(self) -> None:
        self._sem.release()

    def release(self, n: int = 1) -> None:
        n = check_n(n)
        if n:
            self._sem.release(n)

    def available(self) -> int:
        return self._sem._value


class ThreadingBoundedSemaphore(ThreadingSemaphore):
    """``threading.BoundedSemaphore``: a release above the initial count raises ValueError."""

    semharness_capabilities = Capabilities(
        multi_acquire=False, overflow_check=False, exceed_initial=False
    )
    wrapped = threading.BoundedSemaphore


class MultiprocessingSemaphore(_OneTokenAdapter):
    """``multiprocessing.Semaphore`` (a POSIX semaphore underneath): one token per call."""

    semharness_capabilities = Capabilities(multi_acquire=False, atomic_release=False, model=False)

    def __init__(self, initial: int = 0) -> None:
        self._sem = multiprocessing.Semaphore(check_count(initial, "initial count"))

    def _take_one(self, timeout: float | None) -> bool:
        if timeout == 0.0:
            return self._sem.acquire(False)
        return self._sem.acquire(True, timeout)

    def _give_one(self) -> None:
        self._sem.release()

    def release(self, n: int = 1) -> None:
        n = check_n(n)
        if n > MAX_COUNT - self._sem.get_value():
            raise OverflowError("count would exceed 2**31 - 1")
        try:
            for _ in range(n):
                self._sem.release()
        except OSError as exc:
            if exc.errno == errno.EOVERFLOW:
                raise OverflowError("count would exceed 2**31 - 1") from exc
            raise

    def available(self) -> int:
        return self._sem.get_value()
