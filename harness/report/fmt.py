"""How the report writes numbers and call kinds, shared by the pages and the plots so that a
value reads the same in a table and on a picture."""

from __future__ import annotations

from ..stress.metrics import format_ns  # the stress tables' choice of unit, reused as it is

#: Titles of the stress metrics' latency kinds (harness/stress/metrics.py defines the kinds).
KIND_TITLES = {
    "acquire": "acquire(n)",
    "try_ok": "try_acquire(n, 0) → True",
    "try_failed": "try_acquire(n, 0) → False",
    "timed_ok": "try_acquire(n, T) → True",
    "timed_failed": "try_acquire(n, T) → False (timed out)",
    "forever_ok": "try_acquire(n, forever) → True",
    "forever_failed": "try_acquire(n, forever) → False",
    "release": "release(n)",
    "available": "available()",
}

#: What a table shows for a figure that is absent.
ABSENT = "—"


def kind_title(kind: str) -> str:
    """The call a latency kind stands for (the kind's own name when it is not a known one)."""
    return KIND_TITLES.get(kind, kind)


def percent(fraction: float | None) -> str:
    """A fraction as a percentage, with two significant digits even when tiny."""
    if fraction is None:
        return ABSENT
    return f"{fraction:.2%}" if fraction == 0 or fraction >= 1e-3 else f"{fraction * 100:.2g}%"


def duration_ns(value: float | None) -> str:
    """Nanoseconds with a unit chosen for them: 850 ns, 12.3 us, 4.10 ms, 1.20 s."""
    return ABSENT if value is None else format_ns(value)


def seconds(value: float | None) -> str:
    """Seconds, as milliseconds below one second."""
    if value is None:
        return ABSENT
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def rate(value: float | None) -> str:
    """Calls per second with an SI prefix: 21.6 M/s."""
    if value is None:
        return ABSENT
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g} {suffix}/s"
    return f"{value:.3g} /s"


def count(value: float | None) -> str:
    """A whole number with thousands separators."""
    return ABSENT if value is None else f"{value:,.0f}"


def plural(value: float, word: str) -> str:
    """``1 schedule``, ``2 schedules``."""
    return f"{value:,.0f} {word}" + ("" if value == 1 else "s")


def ratio(value: float | None) -> str:
    """An index between 0 and 1 (Jain's), four decimals."""
    return ABSENT if value is None else f"{value:.4f}"
