"""The O(n log n) prefilter: bounds on the count over time that every linearization respects.

At any instant t, whatever the linearization, the count lies between

- ``upper(t)``: initial + every release invoked by t (it may have taken effect) - every
  acquire that returned before t (it must have);
- ``lower(t)``: initial + every release that returned before t - every acquire invoked by t
  (a pending acquire included: it may have taken effect).

A call's linearization point lies in its interval, and the count just before it excludes the
call's own effect -- which neither bound counts inside the call's own interval.  So a call is
impossible, in every linearization, when over its whole interval

- an acquire of n: ``max upper < n``;
- a failed try of n: ``min lower >= n``;
- an available() reading v: ``max upper < v`` or ``min lower > v``;
- a release of n: ``min lower + n > MAX``;  an overflowing release: ``max upper + n <= MAX``.

These are necessary conditions only: a history the prefilter passes may still not linearize,
but one it flags never does (sound: it never flags a valid history).  Sorting the event times
costs O(n log n); the range queries cost the total number of events inside the intervals.
"""

from __future__ import annotations

import numpy as np

from .contract import MAX_COUNT
from .linearizability import ACQ, FAIL, INFINITY, OVER, READ, REL


def _step_function(
    times: np.ndarray, deltas: np.ndarray, initial: int
) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints and values of ``initial + sum(deltas at times <= t)``; value[0] is before
    the first breakpoint (times[0] is a sentinel below every real time).  Works in place on
    its arguments (the caller's temporaries) to keep the peak memory low."""
    order = np.argsort(times, kind="stable")
    times[:] = times[order]
    deltas[:] = deltas[order]
    del order
    np.cumsum(deltas, out=deltas)
    deltas += initial
    # the last event at each time gives that time's value
    last = np.empty(len(times) + 1, dtype=bool)
    last[0] = True  # the sentinel
    np.not_equal(times[1:], times[:-1], out=last[1:-1])
    last[-1] = True
    t = np.empty(len(times) + 1, dtype=np.int64)
    t[0] = np.iinfo(np.int64).min
    t[1:] = times
    v = np.empty(len(times) + 1, dtype=np.int64)
    v[0] = initial
    v[1:] = deltas
    return t[last], v[last]


def _range(
    t: np.ndarray, v: np.ndarray, lo: np.ndarray, hi: np.ndarray, ufunc: np.ufunc
) -> np.ndarray:
    """``ufunc``-reduce (max or min) of the step function over each closed interval [lo, hi]."""
    if len(lo) == 0:
        return np.empty(0, dtype=v.dtype)
    pairs = np.empty(2 * len(lo), dtype=np.intp)
    pairs[0::2] = np.searchsorted(t, lo, side="right") - 1  # the value in force at lo
    pairs[1::2] = np.searchsorted(t, hi, side="right")  # one past the last breakpoint <= hi
    padded = np.append(v, v[-1])  # reduceat needs every index < len
    out = ufunc.reduceat(padded, pairs)
    return out[0::2].copy()


def impossible_calls(
    kind: np.ndarray, n: np.ndarray, invoke: np.ndarray, ret: np.ndarray, initial: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The calls that no linearization can place (see the module docstring), ordered by return
    time: ``(positions, highest, lowest)`` -- the bounds on the count over each one's interval.
    ``ret`` is INFINITY for a pending call."""
    kind = np.asarray(kind)
    n = np.asarray(n, dtype=np.int64)
    invoke = np.asarray(invoke, dtype=np.int64)
    ret = np.asarray(ret, dtype=np.int64)
    done = ret < INFINITY
    rel, acq = kind == REL, kind == ACQ
    idx = np.flatnonzero(done & (kind >= ACQ) & (kind <= READ))
    lo, hi = invoke[idx], ret[idx]
    # upper: +n at a release's invocation, -n just after a completed acquire's return
    t, v = _step_function(
        np.concatenate((invoke[rel], ret[acq & done] + 1)),
        np.concatenate((n[rel], -n[acq & done])),
        initial,
    )
    top = _range(t, v, lo, hi, np.maximum)
    del t, v
    # lower: +n just after a completed release's return, -n at any acquire's invocation
    t, v = _step_function(
        np.concatenate((ret[rel & done] + 1, invoke[acq])),
        np.concatenate((n[rel & done], -n[acq])),
        initial,
    )
    bottom = _range(t, v, lo, hi, np.minimum)
    del t, v, lo, hi
    k, m = kind[idx], n[idx]
    bad = (
        ((k == ACQ) & (top < m))
        | ((k == FAIL) & (bottom >= m))
        | ((k == READ) & ((top < m) | (bottom > m)))
        | ((k == REL) & (bottom + m > MAX_COUNT))
        | ((k == OVER) & (top + m <= MAX_COUNT))
    )
    found = np.flatnonzero(bad)
    found = found[np.argsort(ret[idx[found]], kind="stable")]
    return idx[found], top[found], bottom[found]
