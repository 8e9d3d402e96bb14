"""The RAII releaser and the std-style timed tries (peer case 9)."""

from __future__ import annotations

import datetime
import threading
import time

import pytest

from semharness.releaser import Releaser, try_acquire_for, try_acquire_until


class Recorder:
    """A semaphore stand-in that records calls (and can hold a count)."""

    def __init__(self, count: int = 0, answer: bool = False) -> None:
        self.count = count
        self.answer = answer
        self.calls: list[tuple] = []

    def acquire(self, n: int = 1) -> None:
        self.calls.append(("acquire", n))
        self.count -= n

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        self.calls.append(("try_acquire", n, timeout))
        return self.answer

    def release(self, n: int = 1) -> None:
        self.calls.append(("release", n))
        self.count += n

    def available(self) -> int:
        return self.count


def test_releases_n_on_exit() -> None:
    sem = Recorder(0)
    with Releaser(sem, 3) as r:
        assert r.semaphore is sem
        assert r.n == 3
        assert sem.available() == 0
    assert sem.available() == 3
    assert sem.calls == [("release", 3)]


def test_default_n_is_one_and_nesting_releases_each() -> None:
    sem = Recorder(0)
    with Releaser(sem), Releaser(sem, 2):
        pass
    assert sem.calls == [("release", 2), ("release", 1)]


def test_releases_when_the_block_raises() -> None:
    sem = Recorder(0)
    with pytest.raises(KeyError), Releaser(sem, 2):
        raise KeyError("x")
    assert sem.available() == 2


def test_cancel_returns_the_semaphore_and_disarms() -> None:
    sem = Recorder(0)
    with Releaser(sem, 2) as r:
        assert r.cancel() is sem
        assert r.semaphore is None
        assert r.cancel() is None  # already cancelled
    assert sem.calls == []


def test_releases_at_most_once() -> None:
    sem = Recorder(0)
    r = Releaser(sem, 1)
    with r:
        pass
    with r:
        pass
    assert sem.calls == [("release", 1)]
    assert r.semaphore is None


def test_zero_releases_nothing_harmful() -> None:
    sem = Recorder(5)
    with Releaser(sem, 0):
        pass
    assert sem.available() == 5


@pytest.mark.parametrize(("n", "error"), [(-1, ValueError), (1.5, TypeError), ("2", TypeError)])
def test_bad_n_is_rejected_like_the_contract(n, error) -> None:
    with pytest.raises(error):
        Releaser(Recorder(), n)


def test_try_acquire_for_passes_seconds() -> None:
    sem = Recorder(answer=True)
    assert try_acquire_for(sem, 2, 0.25) is True
    assert try_acquire_for(sem, 1, datetime.timedelta(milliseconds=1500)) is True
    assert sem.calls == [("try_acquire", 2, 0.25), ("try_acquire", 1, 1.5)]


@pytest.mark.parametrize("timeout", [0, 0.0, -1.0, -(2**31), datetime.timedelta(seconds=-3)])
def test_try_acquire_for_never_waits_forever(timeout) -> None:
    sem = Recorder()
    assert try_acquire_for(sem, 1, timeout) is False
    assert sem.calls == [("try_acquire", 1, 0.0)]


def test_try_acquire_for_rejects_bad_timeouts() -> None:
    with pytest.raises(TypeError):
        try_acquire_for(Recorder(), 1, "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        try_acquire_for(Recorder(), 1, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        try_acquire_for(Recorder(), 1, float("nan"))


def test_try_acquire_until_computes_the_time_left_when_called() -> None:
    sem = Recorder()
    before = time.monotonic()
    try_acquire_until(sem, 3, before + 10.0)
    ((_, n, timeout),) = sem.calls
    assert n == 3
    assert 10.0 - (time.monotonic() - before) <= timeout <= 10.0


@pytest.mark.parametrize("past", [0.0, -1.0, -1e9])
def test_try_acquire_until_in_the_past_does_not_wait(past) -> None:
    sem = Recorder()
    assert try_acquire_until(sem, 1, time.monotonic() + past) is False
    assert sem.calls == [("try_acquire", 1, 0.0)]


def test_try_acquire_until_rejects_bad_deadlines() -> None:
    with pytest.raises(TypeError):
        try_acquire_until(Recorder(), 1, None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        try_acquire_until(Recorder(), 1, float("nan"))


def test_with_a_real_semaphore() -> None:
    """End to end on the reference core: the helpers wait until the deadline, not forever."""
    from semharness.registry import builtins

    impl = next(i for i in builtins() if i.name == "futex64")
    sem = impl.create(0)
    start = time.monotonic()
    assert try_acquire_for(sem, 1, 0.05) is False
    assert time.monotonic() - start >= 0.05
    start = time.monotonic()
    assert try_acquire_until(sem, 1, start - 5) is False  # past: at once
    assert time.monotonic() - start < 0.05 + 0.05
    timer = threading.Timer(0.05, sem.release, args=(2,))
    timer.start()
    assert try_acquire_until(sem, 2, time.monotonic() + 5.0) is True
    timer.join()
    with Releaser(sem, 2):
        assert sem.available() == 0
    assert sem.available() == 2
