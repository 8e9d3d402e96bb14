"""Scheduler-controlled stand-ins for ``threading``'s primitives and the monotonic clock.

The Python executor (:mod:`.pyexec`) runs the code under test in greenlets, one per simulated
thread, and swaps these in for ``threading.Lock`` (``_thread.allocate_lock``), ``RLock``,
``Condition``, ``Event`` and ``time.monotonic`` for the length of a run, so that CPython's own
``threading.Semaphore`` and any implementation written with those primitives runs unmodified.

Every operation on them is a *visible step*: it first yields to the scheduler
(:meth:`Scheduler.point`), which picks who moves next, and only takes effect once its thread is
picked.  Blocking is the scheduler's business: a thread waiting for a lock, a condition, an
event or a sleep is parked in a state the scheduler reads (:class:`SimThread`) and is resumed
only when it may go on -- the lock is free, it was notified or the event set, its deadline fired
as a TIMEOUT choice, or (condition waits only) a SPURIOUS choice woke it.

Only calls made from the run's own OS thread while a run is active get model objects (and
virtual time); anything else -- another OS thread, or no run in progress -- gets the real ones,
so a checker thread running beside the executor is not disturbed.
"""

from __future__ import annotations

import _thread
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from greenlet import GreenletExit

# The originals, captured at import (before any run can have replaced them).
REAL_ALLOCATE_LOCK = _thread.allocate_lock
REAL_LOCK = threading.Lock
REAL_RLOCK = threading.RLock
REAL_CONDITION = threading.Condition
REAL_EVENT = threading.Event
REAL_MONOTONIC = time.monotonic
REAL_THREADING_TIME = threading._time  # type: ignore[attr-defined]
_get_ident = _thread.get_ident

#: The longest timeout a lock accepts, as for CPython's locks.
TIMEOUT_MAX = threading.TIMEOUT_MAX

# SimThread.status values
READY, LOCKWAIT, PARKED, FINISHED = range(4)

#: The scheduler of the run in progress (None between runs).
_active: Scheduler | None = None

#: Marks a lock held by code outside any simulated thread (the factory, while it builds).
_OUTSIDE = object()


class SimThread:
    """One simulated thread's scheduling state, read by the scheduler at every point.

    ``status``: READY (runnable, stopped at a scheduling point), LOCKWAIT (runnable when
    ``lock`` is free; ``deadline`` set for a timed ``Lock.acquire``), PARKED (on ``on``: a
    condition, an event or a sleep; ``deadline`` None waits for ever; ``spur`` True when a
    SPURIOUS choice may wake it) or FINISHED.  ``result`` is what the wait that resumed it
    returns.  The ``t*`` fields follow a timed try_acquire in progress (for the timeout
    accuracy findings); ``parked`` sums the virtual ns spent parked.
    """

    __slots__ = (
        "deadline",
        "glet",
        "id",
        "lock",
        "on",
        "op",
        "park0",
        "parked",
        "parked0",
        "result",
        "spur",
        "status",
        "tcall",
        "tdeadline",
        "tfound",
        "timeout_at",
        "timeout_for",
        "ttimeout",
    )

    def __init__(self, tid: int) -> None:
        self.id = tid
        self.glet: Any = None
        self.status = READY
        self.lock: Any = None
        self.on: Any = None
        self.deadline: int | None = None
        self.spur = False
        self.result: Any = None
        self.op = -1
        self.park0 = 0
        self.parked = 0
        self.parked0 = 0
        self.tcall = -1  # index of the timed try in progress, -1 when none
        self.tdeadline = 0
        self.ttimeout = 0
        self.tfound = False
        #: random mode: the step point at which the timed wait ending at ``timeout_for`` ends
        self.timeout_for: int | None = None
        self.timeout_at = 0


class Scheduler(Protocol):
    """What the primitives need of the run that owns them (implemented by pyexec's run).

    ``cur`` is the simulated thread executing (None while the factory builds the semaphore or
    while abandoned threads are torn down, ``tearing`` then True); ``now`` the virtual clock in
    ns; ``tr`` the trace list, or None when not tracing; ``ident`` the OS thread of the run;
    ``names`` per-kind creation counters.
    """

    cur: SimThread | None
    now: int
    tr: list | None
    ident: int
    tearing: bool
    names: dict[str, int]

    def point(self, t: SimThread) -> None:
        """A scheduling point before ``t``'s next visible step; returns when ``t`` may take it."""

    def block(self, t: SimThread) -> None:
        """``t`` has set its blocked state; returns when the scheduler resumes it."""

    def wake_choice(self, width: int) -> int:
        """Which of ``width`` waiters (FIFO order) a notify wakes next: a WAKE choice."""

    def wait_started(self, t: SimThread, rel_ns: int | None) -> None:
        """``t`` starts a wait of ``rel_ns`` (None: for ever): the timeout accuracy check."""


def _name_of(s: Scheduler, kind: str) -> int:
    """The next creation number of ``kind`` in this run (Lock#1, Lock#2, ...)."""
    n = s.names.get(kind, 0) + 1
    s.names[kind] = n
    return n


def _lock_timeout(blocking: bool, timeout: float) -> int:
    """CPython's argument rules for ``Lock.acquire``: -1 waits for ever, 0 tries once, else the
    wait in ns (rounded)."""
    if not blocking:
        if timeout != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return 0
    if timeout == -1:
        return -1
    if timeout != timeout:
        raise ValueError("timeout value must be a number")
    if timeout < 0:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return round(timeout * 1e9)


def _wait_timeout(timeout: float | None) -> int | None:
    """Condition/Event wait timeouts: None waits for ever, <= 0 does not wait, else ns."""
    if timeout is None:
        return None
    if timeout != timeout:
        raise ValueError("timeout value must be a number")
    if timeout > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return round(timeout * 1e9) if timeout > 0 else 0


def _outside(s: Scheduler) -> None:
    """An operation made outside any simulated thread: allowed while the factory builds (it
    takes effect at once), refused while abandoned threads unwind (they must not run on)."""
    if s.tearing:
        raise GreenletExit


class _BaseLock:
    """What Lock and RLock share: the owner (None when free), read by the scheduler to decide
    whether a LOCKWAIT thread is runnable."""

    __slots__ = ("_num", "_owner", "_s")
    _kind = "Lock"

    def __init__(self, s: Scheduler) -> None:
        self._s = s
        self._owner: Any = None
        self._num = _name_of(s, self._kind)

    def _tname(self) -> str:
        return f"{self._kind}#{self._num}"

    def _trace(self, t: SimThread, kind: str, old: int | None, new: int | None, note: str) -> None:
        self._s.tr.append((t.id, t.op, kind, self._tname(), old, new, note))  # type: ignore[union-attr]

    def _acquire_blocking(self, t: SimThread, rel: int, old: int) -> bool:
        """The lock is held by another: wait for it (rel ns, -1 for ever), as a LOCKWAIT thread
        that becomes runnable when the lock is free."""
        s = self._s
        owner = self._owner
        if rel == 0:
            if s.tr is not None:
                self._trace(t, "lock", old, old, f"busy, held by {_who(owner)}")
            return False
        if rel > 0:
            s.wait_started(t, rel)
            t.deadline = s.now + rel
        else:
            t.deadline = None
        if s.tr is not None:
            note = f"blocked, held by {_who(owner)}"
            if rel > 0:
                note += f", deadline {t.deadline}"
            self._trace(t, "lock", old, old, note)
        t.status = LOCKWAIT
        t.lock = self
        t.result = None
        t.park0 = s.now
        s.block(t)
        t.lock = None
        if rel > 0:
            t.parked += s.now - t.park0
            t.deadline = None
            if t.result is False:  # the TIMEOUT choice fired (traced by the scheduler)
                return False
        return True


def _who(owner: Any) -> str:
    if owner is _OUTSIDE:
        return "the factory"
    return f"t{owner.id}" if owner is not None else "nobody"


class ModelLock(_BaseLock):
    """``threading.Lock`` under the scheduler: not owned (any thread may release it), no
    fairness -- when it is released every waiter becomes runnable and the first one the
    scheduler runs takes it."""

    __slots__ = ()
    _kind = "Lock"

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        s = self._s
        t = s.cur
        rel = _lock_timeout(blocking, timeout)
        if t is None:
            _outside(s)
            if self._owner is None:
                self._owner = _OUTSIDE
                return True
            if rel == 0:
                return False
            raise RuntimeError("a model lock would block outside a simulated thread")
        s.point(t)
        if self._owner is None:
            self._owner = t
            if s.tr is not None:
                self._trace(t, "lock", 0, 1, "")
            return True
        if not self._acquire_blocking(t, rel, 1):
            return False
        self._owner = t
        if s.tr is not None:
            self._trace(t, "lock", 0, 1, "after waiting")
        return True

    def release(self) -> None:
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
        else:
            s.point(t)
        if self._owner is None:
            raise RuntimeError("release unlocked lock")
        self._owner = None
        if t is not None and s.tr is not None:
            self._trace(t, "unlock", 1, 0, "")

    def locked(self) -> bool:
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
        else:
            s.point(t)
            if s.tr is not None:
                held = int(self._owner is not None)
                self._trace(t, "load", held, held, "locked()")
        return self._owner is not None

    __enter__ = acquire
    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def __exit__(self, *args: object) -> None:
        self.release()

    def _is_owned_by(self, t: SimThread) -> bool:
        # CPython's Condition treats a plain Lock as owned when anyone holds it.
        return self._owner is not None

    def _is_owned(self) -> bool:
        return self._owner is not None

    def _release_all(self, t: SimThread) -> Any:
        self._owner = None
        return None

    def _restore(self, t: SimThread, saved: Any) -> None:
        self._owner = t

    def __repr__(self) -> str:
        return f"<model {self._tname()} {'locked' if self._owner is not None else 'unlocked'}>"


class ModelRLock(_BaseLock):
    """``threading.RLock`` under the scheduler: owned, re-entrant; ``_release_save`` and
    ``_acquire_restore`` (used by Condition.wait) release and restore every level at once."""

    __slots__ = ("_count",)
    _kind = "RLock"

    def __init__(self, s: Scheduler) -> None:
        super().__init__(s)
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        s = self._s
        t = s.cur
        rel = _lock_timeout(blocking, timeout)
        if t is None:
            _outside(s)
            if self._owner is None or self._owner is _OUTSIDE:
                self._owner = _OUTSIDE
                self._count += 1
                return True
            if rel == 0:
                return False
            raise RuntimeError("a model lock would block outside a simulated thread")
        s.point(t)
        owner = self._owner
        if owner is None or owner is t:
            self._owner = t
            self._count += 1
            if s.tr is not None:
                self._trace(t, "lock", self._count - 1, self._count, "")
            return True
        if not self._acquire_blocking(t, rel, self._count):
            return False
        self._owner = t
        self._count = 1
        if s.tr is not None:
            self._trace(t, "lock", 0, 1, "after waiting")
        return True

    def release(self) -> None:
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
            if self._owner is not _OUTSIDE:
                raise RuntimeError("cannot release un-acquired lock")
        else:
            s.point(t)
            if self._owner is not t:
                raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count == 0:
            self._owner = None
        if t is not None and s.tr is not None:
            self._trace(t, "unlock", self._count + 1, self._count, "")

    __enter__ = acquire

    def __exit__(self, *args: object) -> None:
        self.release()

    def _is_owned_by(self, t: SimThread) -> bool:
        return self._owner is t

    def _is_owned(self) -> bool:
        s = self._s
        return self._owner is not None and self._owner is (s.cur or _OUTSIDE)

    def _release_save(self) -> int:
        """For CPython's own Condition (a subclass bound at import): let go of every level,
        as one visible step, and say how many there were."""
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
            raise RuntimeError("a model RLock cannot be released outside a simulated thread")
        s.point(t)
        if self._owner is not t:
            raise RuntimeError("cannot release un-acquired lock")
        count = self._release_all(t)
        if s.tr is not None:
            self._trace(t, "unlock", count, 0, "release all levels")
        return count

    def _acquire_restore(self, state: int) -> None:
        """The other half of :meth:`_release_save`: take the lock back, at every level."""
        self.acquire()
        self._count = state

    def _release_all(self, t: SimThread) -> Any:
        count = self._count
        self._count = 0
        self._owner = None
        return count

    def _restore(self, t: SimThread, saved: Any) -> None:
        self._owner = t
        self._count = saved

    def __repr__(self) -> str:
        return f"<model {self._tname()} owner={_who(self._owner)} count={self._count}>"


class _Sleep:
    """What a sleeping thread is parked on: only its TIMEOUT ends it."""

    @staticmethod
    def _unpark(s: Scheduler, t: SimThread, result: bool) -> None:
        t.status = READY
        t.on = None
        t.deadline = None
        t.result = result

    @staticmethod
    def _tname() -> str:
        return "sleep"


SLEEP = _Sleep()


class ModelCondition:
    """``threading.Condition`` under the scheduler, over a model Lock or RLock (a new RLock
    when none is given).  A wait releases the lock and parks the thread (FIFO); notify(n) wakes
    n waiters, one WAKE choice per woken waiter when there are more waiters than n; a woken,
    timed-out or spuriously woken thread then competes for the lock again (LOCKWAIT), and its
    wait returns True (notified, spurious) or False (timed out)."""

    def __init__(self, s: Scheduler, lock: Any = None) -> None:
        if lock is None:
            lock = ModelRLock(s)
        elif not isinstance(lock, _BaseLock):
            raise TypeError(
                f"a model Condition needs a model Lock or RLock, not {type(lock).__name__}"
            )
        self._s = s
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        self._waiters: list[SimThread] = []
        self._num = _name_of(s, "Condition")

    def _tname(self) -> str:
        return f"Condition#{self._num}"

    def __enter__(self) -> bool:
        return self._lock.acquire()

    def __exit__(self, *args: object) -> None:
        self._lock.release()

    def _is_owned(self) -> bool:
        return self._lock._is_owned()

    def _unpark(self, s: Scheduler, t: SimThread, result: bool) -> None:
        """Ends ``t``'s wait (notify, TIMEOUT or SPURIOUS): it now needs the lock back."""
        self._waiters.remove(t)
        t.result = result
        t.status = LOCKWAIT
        t.lock = self._lock
        t.deadline = None
        t.spur = False
        t.on = None
        t.parked += s.now - t.park0

    def wait(self, timeout: float | None = None) -> bool:
        s = self._s
        t = s.cur
        rel = _wait_timeout(timeout)
        if t is None:
            _outside(s)
            raise RuntimeError("a model Condition cannot wait outside a simulated thread")
        s.point(t)
        lock = self._lock
        if not lock._is_owned_by(t):
            raise RuntimeError("cannot wait on un-acquired lock")
        saved = lock._release_all(t)
        tr = s.tr
        waiting = len(self._waiters)
        if rel == 0:
            # no wait at all: the lock is let go and taken back, others may barge in between
            if tr is not None:
                tr.append((t.id, t.op, "cond_wait", self._tname(), waiting, waiting, "timeout 0"))
            t.result = False
            t.status = LOCKWAIT
            t.lock = lock
        else:
            s.wait_started(t, rel)
            self._waiters.append(t)
            t.status = PARKED
            t.on = self
            t.spur = True
            t.deadline = None if rel is None else s.now + rel
            t.park0 = s.now
            if tr is not None:
                note = "for ever" if rel is None else f"deadline {t.deadline}"
                tr.append((t.id, t.op, "cond_wait", self._tname(), waiting, waiting + 1, note))
        s.block(t)
        t.lock = None
        lock._restore(t, saved)
        if tr is not None:
            tr.append((t.id, t.op, "lock", lock._tname(), 0, 1, "reacquired after wait"))
        return t.result

    def wait_for(self, predicate: Callable[[], Any], timeout: float | None = None) -> Any:
        """As CPython's: waits until ``predicate()`` holds, reading the (virtual) clock."""
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = monotonic() + waittime
                else:
                    waittime = endtime - monotonic()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        self._notify(n, "notify")

    def notify_all(self) -> None:
        self._notify(-1, "notify_all")

    notifyAll = notify_all  # CPython's deprecated alias

    def _notify(self, n: int, kind: str) -> None:
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
            if self._waiters:
                raise RuntimeError("a model Condition cannot notify outside a simulated thread")
            return
        s.point(t)
        if not self._lock._is_owned_by(t):
            raise RuntimeError("cannot notify on un-acquired lock")
        waiters = self._waiters
        before = len(waiters)
        woken = []
        if n < 0 or before <= n:
            woken = list(waiters)
            for w in woken:
                self._unpark(s, w, True)
        else:
            for _ in range(n):
                w = waiters[s.wake_choice(len(waiters))]
                self._unpark(s, w, True)
                woken.append(w)
        if s.tr is not None:
            note = "woke " + (", ".join(f"t{w.id}" for w in woken) or "nobody")
            s.tr.append((t.id, t.op, kind, self._tname(), before, len(woken), note))

    def __repr__(self) -> str:
        return f"<model {self._tname()} ({self._lock!r}, {len(self._waiters)})>"


class ModelEvent:
    """``threading.Event`` under the scheduler: set wakes every waiter; a timed wait may end by
    a TIMEOUT choice (never spuriously: CPython's Event.wait re-checks its flag)."""

    def __init__(self, s: Scheduler) -> None:
        self._s = s
        self._flag = False
        self._waiters: list[SimThread] = []
        self._num = _name_of(s, "Event")

    def _tname(self) -> str:
        return f"Event#{self._num}"

    def _step(self) -> SimThread | None:
        """The scheduling point of an is_set/set/clear: the stepping thread (None outside)."""
        s = self._s
        t = s.cur
        if t is None:
            _outside(s)
            return None
        s.point(t)
        return t

    def _unpark(self, s: Scheduler, t: SimThread, result: bool) -> None:
        self._waiters.remove(t)
        t.result = result
        t.status = READY
        t.deadline = None
        t.on = None
        t.parked += s.now - t.park0

    def is_set(self) -> bool:
        s = self._s
        t = self._step()
        if t is not None and s.tr is not None:
            flag = int(self._flag)
            s.tr.append((t.id, t.op, "load", self._tname(), flag, flag, "is_set()"))
        return self._flag

    isSet = is_set  # CPython's deprecated alias

    def set(self) -> None:
        s = self._s
        t = self._step()
        old = self._flag
        self._flag = True
        woken = list(self._waiters)
        for w in woken:
            self._unpark(s, w, True)
        if t is not None and s.tr is not None:
            note = "set(), woke " + (", ".join(f"t{w.id}" for w in woken) or "nobody")
            s.tr.append((t.id, t.op, "store", self._tname(), int(old), 1, note))

    def clear(self) -> None:
        s = self._s
        t = self._step()
        old = self._flag
        self._flag = False
        if t is not None and s.tr is not None:
            s.tr.append((t.id, t.op, "store", self._tname(), int(old), 0, "clear()"))

    def wait(self, timeout: float | None = None) -> bool:
        s = self._s
        t = s.cur
        rel = _wait_timeout(timeout)
        if t is None:
            _outside(s)
            if self._flag or rel == 0:
                return self._flag
            raise RuntimeError("a model Event cannot wait outside a simulated thread")
        s.point(t)
        tr = s.tr
        if self._flag or rel == 0:
            if tr is not None:
                flag = int(self._flag)
                tr.append((t.id, t.op, "load", self._tname(), flag, flag, "wait(): no wait"))
            return self._flag
        s.wait_started(t, rel)
        self._waiters.append(t)
        t.status = PARKED
        t.on = self
        t.spur = False
        t.deadline = None if rel is None else s.now + rel
        t.park0 = s.now
        if tr is not None:
            note = "wait() for ever" if rel is None else f"wait() deadline {t.deadline}"
            tr.append((t.id, t.op, "cond_wait", self._tname(), 0, 0, note))
        s.block(t)
        return t.result

    def __repr__(self) -> str:
        return f"<model {self._tname()} {'set' if self._flag else 'unset'}>"


# ---- what replaces the real names during a run ----------------------------------------------


def _here() -> Scheduler | None:
    """The active run's scheduler when the caller is on the run's OS thread, else None."""
    s = _active
    if s is None or _get_ident() != s.ident:
        return None
    return s


def allocate_lock() -> Any:
    """Stands in for ``threading.Lock``, ``threading._allocate_lock``, ``_thread.allocate_lock``."""
    s = _here()
    return REAL_ALLOCATE_LOCK() if s is None else ModelLock(s)


def rlock(*args: Any, **kwargs: Any) -> Any:
    """Stands in for ``threading.RLock``."""
    s = _here()
    return REAL_RLOCK(*args, **kwargs) if s is None else ModelRLock(s)


def condition(lock: Any = None) -> Any:
    """Stands in for ``threading.Condition``."""
    s = _here()
    return REAL_CONDITION(lock) if s is None else ModelCondition(s, lock)


def event() -> Any:
    """Stands in for ``threading.Event``."""
    s = _here()
    return REAL_EVENT() if s is None else ModelEvent(s)


def monotonic() -> float:
    """Stands in for ``time.monotonic`` and ``threading._time``: the virtual clock in seconds.
    A read by a simulated thread is a visible step (and so advances the clock one tick)."""
    s = _active
    if s is None or _get_ident() != s.ident:
        return REAL_MONOTONIC()
    t = s.cur
    if t is None:
        _outside(s)
    else:
        s.point(t)
        if s.tr is not None:
            s.tr.append((t.id, t.op, "clock", "clock", None, s.now, ""))
    return s.now / 1e9


#: (module, attribute, stand-in) swapped in for a run.  CPython's threading.Semaphore looks up
#: ``Condition``, ``Lock`` and ``_time`` in threading's globals at call time.
SUBSTITUTIONS: tuple[tuple[Any, str, Any], ...] = (
    (threading, "Lock", allocate_lock),
    (threading, "_allocate_lock", allocate_lock),
    (_thread, "allocate_lock", allocate_lock),
    (threading, "RLock", rlock),
    (threading, "Condition", condition),
    (threading, "Event", event),
    (threading, "_time", monotonic),
    (time, "monotonic", monotonic),
)

#: Each real object a module may have bound under its own name (``from time import monotonic``),
#: and its stand-in.
STAND_INS: dict[int, tuple[Any, Any]] = {
    id(real): (real, sub)
    for real, sub in (
        (REAL_ALLOCATE_LOCK, allocate_lock),
        (REAL_LOCK, allocate_lock),
        (REAL_RLOCK, rlock),
        (REAL_CONDITION, condition),
        (REAL_EVENT, event),
        (REAL_MONOTONIC, monotonic),
    )
}


def module_substitutions(modules: list[Any]) -> list[tuple[Any, str, Any]]:
    """Extra swaps for modules that bound a real primitive to a name of their own at import
    (``from threading import Lock``), which patching ``threading`` would not reach."""
    extra = []
    for mod in modules:
        if mod is threading or mod is time or mod is _thread:
            continue
        for name, value in list(vars(mod).items()):
            hit = STAND_INS.get(id(value))
            if hit is not None and hit[0] is value:
                extra.append((mod, name, hit[1]))
    return extra


def install(s: Scheduler, swaps: list[tuple[Any, str, Any]]) -> list[tuple[Any, str, Any]]:
    """Makes ``s`` the active run and swaps the stand-ins in; returns what to put back."""
    global _active
    if _active is not None:
        raise RuntimeError("another model run is in progress (runs cannot nest or overlap)")
    saved = []
    try:
        for obj, name, sub in swaps:
            saved.append((obj, name, getattr(obj, name)))
            setattr(obj, name, sub)
        _active = s
    except BaseException:
        restore(saved)
        raise
    return saved


def restore(saved: list[tuple[Any, str, Any]]) -> None:
    """Puts the originals back and ends the active run (safe to call more than once)."""
    global _active
    _active = None
    for obj, name, real in reversed(saved):
        setattr(obj, name, real)


def is_clean() -> bool:
    """True when no run is active and every substituted name holds its original."""
    return (
        _active is None
        and threading.Lock is REAL_LOCK
        and threading._allocate_lock is REAL_ALLOCATE_LOCK  # type: ignore[attr-defined]
        and _thread.allocate_lock is REAL_ALLOCATE_LOCK
        and threading.RLock is REAL_RLOCK
        and threading.Condition is REAL_CONDITION
        and threading.Event is REAL_EVENT
        and threading._time is REAL_THREADING_TIME  # type: ignore[attr-defined]
        and time.monotonic is REAL_MONOTONIC
    )
