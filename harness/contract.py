"""The implementation contract every semaphore under test follows, and what it may declare.

A semaphore implementation is any class constructed as ``Cls(initial)`` with ``acquire``,
``try_acquire``, ``release`` and ``available`` (see :class:`SemaphoreLike`).  Implementations
that cannot do everything -- adapters over ``threading.Semaphore``, ``sem_t`` and the like --
declare it with :class:`Capabilities`, so the harness skips the scenarios they cannot run
instead of reporting a failure.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Protocol, runtime_checkable

#: The largest count a semaphore holds; a release past it is an ``OverflowError``.
MAX_COUNT = 2**31 - 1


@runtime_checkable
class SemaphoreLike(Protocol):
    """The Python implementation contract (DESIGN.md)."""

    def acquire(self, n: int = 1) -> None: ...

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool: ...

    def release(self, n: int = 1) -> None: ...

    def available(self) -> int: ...


@dataclass(frozen=True)
class Capabilities:
    """What an implementation can do; every flag defaults to the full contract.

    A scenario states what it needs (:meth:`missing`) and is skipped, with the reason shown,
    for implementations that lack it.
    """

    #: acquire / try_acquire with n > 1, taking all n tokens in one atomic step.
    multi_acquire: bool = True
    #: release(n) with n > 1 as one atomic step (an adapter may loop n single releases).
    atomic_release: bool = True
    #: try_acquire with a timeout > 0.
    timeouts: bool = True
    #: try_acquire with timeout None or negative (wait forever).
    wait_forever: bool = True
    #: the count may rise above its initial value (False for BoundedSemaphore).
    exceed_initial: bool = True
    #: releases past 2**31 - 1 raise OverflowError (False: the count is unbounded).
    overflow_check: bool = True
    #: runs under the model checker (C: uses only the header; Python: standard threading only).
    model: bool = True

    def missing(self, needs: frozenset[str]) -> list[str]:
        """Names of the needed capabilities this implementation lacks, in declaration order."""
        return [f.name for f in fields(self) if f.name in needs and not getattr(self, f.name)]

    def flags(self) -> dict[str, bool]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


#: Why each capability matters, for skip messages and `semharness list`.
CAPABILITY_TEXT = {
    "multi_acquire": "takes more than one token at a time",
    "atomic_release": "releases n tokens in one atomic step",
    "timeouts": "waits with a timeout",
    "wait_forever": "waits forever with timeout None or < 0",
    "exceed_initial": "lets the count rise above its initial value",
    "overflow_check": "raises OverflowError past 2**31 - 1",
    "model": "runs under the model checker",
}


def capabilities_of(obj: object) -> Capabilities:
    """The capabilities a class declares in ``semharness_capabilities`` (default: all).

    The attribute may be a :class:`Capabilities` or a mapping of flag names to booleans.
    """
    declared = getattr(obj, "semharness_capabilities", None)
    if declared is None:
        return Capabilities()
    if isinstance(declared, Capabilities):
        return declared
    if isinstance(declared, dict):
        unknown = sorted(set(declared) - set(Capabilities.names()))
        if unknown:
            raise ValueError(f"unknown capabilities {unknown}; known: {Capabilities.names()}")
        return Capabilities(**{k: bool(v) for k, v in declared.items()})
    raise TypeError("semharness_capabilities must be a Capabilities or a dict of flags")


def check_count(value: object, what: str = "n") -> int:
    """Validates a token count (n, or an initial count) the way every built-in Python
    implementation does: TypeError, ValueError below 0, OverflowError past 2**31 - 1."""
    if not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must be >= 0")
    if value > MAX_COUNT:
        raise OverflowError(f"{what} exceeds the maximum count 2**31 - 1")
    return value


def check_n(n: object) -> int:
    """Validates the n of acquire, try_acquire and release."""
    return check_count(n, "n")


def check_timeout(timeout: object) -> float | None:
    """Normalises a timeout: None (forever), 0.0 (no wait) or a positive number of seconds."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number or None, not {type(timeout).__name__}")
    if timeout != timeout:
        raise ValueError("timeout must not be NaN")
    if timeout < 0 or timeout == float("inf"):
        return None
    return float(timeout)
