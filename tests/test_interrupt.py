"""Blocked C waits release the GIL and stay interruptible without losing their timeout."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from semharness import resolve

C_IMPLS = ["futex64", "futex32", "posix_sem"]


class Stop(Exception):
    pass


@pytest.fixture
def alarm() -> Iterator[list[int]]:
    """Arms SIGALRM; the handler raises Stop when the list's first item is 1, else counts."""
    mode = [1, 0]

    def handler(signum: int, frame: object) -> None:
        mode[1] += 1
        if mode[0]:
            raise Stop

    old = signal.signal(signal.SIGALRM, handler)
    yield mode
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("name", C_IMPLS)
def test_signal_handler_interrupts_a_blocked_acquire(name: str, alarm: list[int]) -> None:
    sem = resolve(name).create(0)
    signal.setitimer(signal.ITIMER_REAL, 0.1)
    start = time.monotonic()
    with pytest.raises(Stop):
        sem.acquire()
    assert time.monotonic() - start < 5.0
    # The interrupted waiter left no trace: the count is intact and a token goes to a new taker.
    assert sem.available() == 0
    sem.release(1)
    assert sem.try_acquire(1) is True
    assert sem.available() == 0


@pytest.mark.parametrize("name", C_IMPLS)
def test_a_quiet_signal_does_not_cut_a_timed_wait_short(name: str, alarm: list[int]) -> None:
    alarm[0] = 0  # the handler only counts
    sem = resolve(name).create(0)
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    start = time.monotonic()
    assert sem.try_acquire(1, 0.4) is False
    elapsed = time.monotonic() - start
    signal.setitimer(signal.ITIMER_REAL, 0)
    assert alarm[1] >= 2  # handlers ran while the thread was blocked
    assert 0.4 <= elapsed < 3.0


@pytest.mark.parametrize("name", C_IMPLS)
def test_blocked_wait_releases_the_gil(name: str) -> None:
    sem = resolve(name).create(0)
    ticks = 0
    done = threading.Event()

    def spin() -> None:
        nonlocal ticks
        while not done.is_set():
            ticks += 1

    spinner = threading.Thread(target=spin)
    spinner.start()
    assert sem.try_acquire(1, 0.2) is False
    done.set()
    spinner.join()
    assert ticks > 1000  # the other Python thread ran while this one waited in C


@pytest.mark.parametrize("name", C_IMPLS)
def test_waiter_resumes_after_quiet_signal_and_gets_released_token(
    name: str, alarm: list[int]
) -> None:
    alarm[0] = 0
    sem = resolve(name).create(0)
    signal.setitimer(signal.ITIMER_REAL, 0.03, 0.03)
    releaser = threading.Timer(0.2, sem.release)
    releaser.start()
    start = time.monotonic()
    sem.acquire()
    signal.setitimer(signal.ITIMER_REAL, 0)
    releaser.join()
    assert time.monotonic() - start >= 0.19
    assert alarm[1] >= 1 and sem.available() == 0


def test_ctrl_c_stops_a_blocked_acquire_in_a_child_process() -> None:
    code = (
        "from semharness import resolve\n"
        "s = resolve('futex64').create(0)\n"
        "print('blocking', flush=True)\n"
        "s.acquire()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "blocking"
    time.sleep(0.2)
    child.send_signal(signal.SIGINT)
    try:
        _, err = child.communicate(timeout=10)
    finally:
        child.kill()
    assert "KeyboardInterrupt" in err
