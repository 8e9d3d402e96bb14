"""The figures of a stress run, computed from its recorded history.

A stress run records millions of operations, so every figure here is computed on whole numpy
columns: sorts, cumulative maxima, binary searches and bincounts, never a Python loop per
operation.  :func:`compute_metrics` returns a JSON-able dict (for ``--json`` and reports),
:func:`format_metrics` prints it for people, and :func:`machine_context` records what a reader
needs to trust the timings.

Definitions (all times in integer nanoseconds from the history's monotonic clock):

- **completed**: an operation that returned (``ret`` is not PENDING), whether or not it raised;
  **pending**: one that never returned.  Only completed operations count for throughput.
- **duration**: ``ret - invoke`` of a completed operation.
- **percentiles** are nearest-rank: the p-th percentile of N samples is the ``ceil(p/100 * N)``-th
  smallest, so every figure is a duration that was actually observed (as HdrHistogram and most
  latency tools report), and small hand-made samples give exact, checkable answers.
- **op kinds** for latency (operations that raised an error are left out: they did nothing):
  ``acquire``; ``try_ok`` / ``try_failed`` (try_acquire with timeout 0, no wait);
  ``timed_ok`` / ``timed_failed`` (0 < timeout <= :data:`MAX_TIMED_S`);
  ``forever_ok`` / ``forever_failed`` (timeout None, negative or beyond :data:`MAX_TIMED_S`:
  the contract's "wait forever"); ``release``; ``available``.
- **successful acquisition**: a completed, error-free acquire, or try_acquire of any kind that
  returned True, with n > 0 (an n == 0 call takes nothing, so it says nothing about who gets
  the tokens).
- **throughput**: completed operations / wall seconds; wall is ``seconds`` when given (the run's
  own measure of its length), else last return - first invoke.  Per thread: that thread's
  completed operations over the same wall, so the per-thread figures add up to the total.
- **wake-up latency**: see :func:`_wakeups`.
- **timeout accuracy**: for each failed timed try, overshoot = ret - (invoke + timeout).  A
  negative overshoot is an early failure, a contract violation; one beyond DESIGN.md's
  real-time tolerance (50 ms + timeout/20) is late.
- **fairness**: successful acquisitions per thread, over the threads that asked for tokens
  (made an error-free acquire or try_acquire with n > 0, completed or pending): a thread that
  only releases is not starved, and one that asked and never got any counts with 0.  Jain's
  index ``(sum x)^2 / (k * sum x^2)`` over those k threads is 1 when all got the same and 1/k
  when one got everything.  The owner-change fraction orders the successful acquisitions by
  return time (ties by recorded order) and gives the fraction of them, after the first, whose
  thread differs from the previous one's: near 0 means one thread keeps re-taking the tokens
  (barging), near 1 - 1/k strict alternation.  Longest wait: the longest duration of a
  successful acquisition, with its thread and index.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import numpy as np

from ..bench import machine_context as _bench_context
from ..history import ACQUIRE, AVAILABLE, PENDING, RELEASE, TRY_ACQUIRE, History

#: Percentiles reported, as (name, per-mille rank): integer ranks keep nearest-rank exact.
QUANTILES: tuple[tuple[str, int], ...] = (("p50", 500), ("p90", 900), ("p99", 990), ("p99.9", 999))
#: Latency kinds, in report order (see the module docstring).
KINDS: tuple[str, ...] = (
    "acquire",
    "try_ok",
    "try_failed",
    "timed_ok",
    "timed_failed",
    "forever_ok",
    "forever_failed",
    "release",
    "available",
)
#: Timeouts longer than this (about 31 years) are treated as "forever": their deadline in
#: nanoseconds would not fit int64, and no run lasts that long.
MAX_TIMED_S = 1e9
#: A waiter blocked if its duration exceeds WAKE_FACTOR x the median of the uncontended
#: calls of its kind, and never less than WAKE_FLOOR_NS (below 2 us a call is a fast path
#: whatever the median says: a futex wait and wake-up alone costs more).
WAKE_FACTOR = 4
WAKE_FLOOR_NS = 2_000
#: Fewest solo calls of a kind whose median is trusted as that kind's uncontended latency.
MIN_SOLO = 10
#: DESIGN.md's real-time tolerance for a timed try's overshoot: 50 ms + timeout / 20.
LATE_SLACK_NS = 50_000_000
LATE_FRACTION = 1 / 20
#: At most this many indices are listed for early (and late) timed-try failures.
MAX_LISTED = 20

_I64_MAX = np.iinfo(np.int64).max
_I64_MIN = np.iinfo(np.int64).min


def summarize(values: Any) -> dict[str, int | None]:
    """``count``, nearest-rank ``p50``/``p90``/``p99``/``p99.9`` and ``max`` of integer samples.

    With no samples every figure but the count is None, so reports keep the same keys whatever
    the run did.  Uses a partition rather than a full sort: O(N) on millions of samples.
    """
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    count = len(v)
    out: dict[str, int | None] = {"count": count}
    if not count:
        out.update(dict.fromkeys([name for name, _ in QUANTILES] + ["max"]))
        return out
    ranks = [nearest_rank(count, per_mille * 10) for _, per_mille in QUANTILES]
    part = np.partition(v, [*ranks, count - 1])
    for (name, _), rank in zip(QUANTILES, ranks, strict=True):
        out[name] = int(part[rank])
    out["max"] = int(part[count - 1])
    return out


def nearest_rank(count: int, per_10k: int) -> int:
    """The 0-based index, among ``count`` sorted samples, of the nearest-rank quantile at
    ``per_10k``/10000 (in integers: a float product such as 0.55 * 100 would round up a rank)."""
    return max(0, min(count - 1, (per_10k * count + 9999) // 10000 - 1))


#: Probabilities, in parts per 10,000, at which :func:`curve` samples a distribution: dense in
#: the tail, where latency spans decades, so a report can draw the CDF from a few hundred bytes.
CURVE_POINTS: tuple[int, ...] = (
    *range(500, 10000, 500),
    9600,
    9700,
    9800,
    9900,
    9950,
    9990,
    9995,
    9999,
    10000,
)


def curve(values: Any) -> list[list[float]]:
    """``[probability, value]`` pairs of the distribution (nearest rank, as :func:`summarize`),
    at :data:`CURVE_POINTS`; empty for no samples."""
    v = np.asarray(values, dtype=np.int64).reshape(-1)
    count = len(v)
    if not count:
        return []
    ranks = sorted({nearest_rank(count, p) for p in CURVE_POINTS})
    part = np.partition(v, ranks)
    return [[(r + 1) / count, int(part[r])] for r in ranks]


def compute_metrics(
    history: History, seconds: float | None = None, observer: int | None = None
) -> dict[str, Any]:
    """The figures of one run (module docstring: definitions), as a JSON-able dict.

    ``seconds``: the run's wall time, when the runner measured it (it includes the start-up and
    drain that the first invoke and last return miss); else the history's own span is used.
    Keys: ``counts``, ``throughput``, ``latency`` (by kind), ``wakeup``, ``timeouts``,
    ``fairness``, and ``curves`` (:func:`curve` of each latency kind, of the wake-up latency and
    of the timeout overshoot, for plots).  The per-thread dicts are keyed by the thread number
    as a string (JSON keys).
    ``observer``: the thread of the drivers' final ``available()`` read, left out of the
    per-thread throughput (it is no worker).
    """
    if seconds is not None and not seconds > 0:
        raise ValueError(f"seconds must be positive, not {seconds!r}")
    c = _Columns(history)
    wakeup, wake_samples = _wakeups(c)
    timeouts, overshoot = _timeouts(c)
    latencies = {kind: c.dur[mask] for kind, mask in c.kinds.items()}
    return {
        "counts": _counts(c, history.error_names),
        "throughput": _throughput(c, seconds, observer),
        "latency": {kind: summarize(samples) for kind, samples in latencies.items()},
        "wakeup": wakeup,
        "timeouts": timeouts,
        "fairness": _fairness(c),
        "curves": {
            "latency": {kind: curve(samples) for kind, samples in latencies.items()},
            "wakeup": curve(wake_samples),
            "overshoot": curve(overshoot),
        },
    }


class _Columns:
    """The history's columns and the masks every figure shares, computed once."""

    def __init__(self, h: History) -> None:
        self.size = len(h)
        self.thread, self.op, self.n = h.thread, h.op, h.n
        self.invoke, self.ret = h.invoke, h.ret
        self.error = h.error
        self.pending = self.ret == PENDING
        self.done = ~self.pending
        # ret - invoke on PENDING rows would wrap around: give them a zero duration instead
        self.dur = np.where(self.done, self.ret, self.invoke) - self.invoke
        ok = self.done & (self.error == 0)
        timeout = h.timeout
        is_try = ok & (self.op == TRY_ACQUIRE)
        got = h.result == 1
        nowait = is_try & (timeout == 0)
        with np.errstate(invalid="ignore"):  # NaN timeouts compare False, as intended
            timed = is_try & (timeout > 0) & (timeout <= MAX_TIMED_S)
        forever = is_try & ~nowait & ~timed
        self.timeout = timeout
        self.kinds = {
            "acquire": ok & (self.op == ACQUIRE),
            "try_ok": nowait & got,
            "try_failed": nowait & ~got,
            "timed_ok": timed & got,
            "timed_failed": timed & ~got,
            "forever_ok": forever & got,
            "forever_failed": forever & ~got,
            "release": ok & (self.op == RELEASE),
            "available": ok & (self.op == AVAILABLE),
        }
        k = self.kinds
        self.acquired = (k["acquire"] | k["try_ok"] | k["timed_ok"] | k["forever_ok"]) & (
            self.n > 0
        )
        self.threads, self.thread_index = np.unique(self.thread, return_inverse=True)


def _counts(c: _Columns, error_names: tuple[str | None, ...]) -> dict[str, Any]:
    """Operations, completed, pending, and errors by name (only the names that occurred)."""
    per_code = np.bincount(c.error, minlength=len(error_names))
    return {
        "operations": c.size,
        "completed": int(c.done.sum()),
        "pending": int(c.pending.sum()),
        "errors": {
            str(name): int(per_code[code])
            for code, name in enumerate(error_names)
            if code and per_code[code]
        },
    }


def _throughput(c: _Columns, seconds: float | None, observer: int | None) -> dict[str, Any]:
    """Completed operations per second, overall and per thread, over one wall time."""
    completed = int(c.done.sum())
    if seconds is not None:
        wall = float(seconds)
    elif completed:
        wall = (int(c.ret[c.done].max()) - int(c.invoke.min())) / 1e9
    else:
        wall = 0.0
    per = np.bincount(c.thread_index[c.done], minlength=len(c.threads)) if c.size else []
    return {
        "seconds": wall,
        "ops_per_s": completed / wall if wall > 0 else None,
        "per_thread": {
            str(int(t)): (int(k) / wall if wall > 0 else None)
            for t, k in zip(c.threads, per, strict=True)
            if t != observer
        },
    }


def _solo(c: _Columns) -> np.ndarray:
    """True for the completed calls that no other call overlapped: nothing else was in flight
    at any instant of their (closed) interval.  These are the uncontended calls."""
    if not c.size:
        return np.zeros(0, bool)
    order = np.argsort(c.invoke, kind="stable")
    end = np.where(c.pending, _I64_MAX, c.ret)[order]
    start = c.invoke[order]
    # every earlier-invoked call ended before this one began ...
    before = np.empty(c.size, np.int64)
    before[0] = _I64_MIN
    np.maximum.accumulate(end[:-1], out=before[1:])
    # ... and the next-invoked call (so every later one) began after this one ended
    after = np.empty(c.size, np.int64)
    after[-1] = _I64_MAX
    after[:-1] = start[1:]
    solo = np.empty(c.size, bool)
    solo[order] = (before < start) & (after > end)
    return solo & c.done


def _wakeups(c: _Columns) -> tuple[dict[str, Any], np.ndarray]:
    """Wake-up latency of the waiters that blocked and then got their tokens.

    Waiters: successful acquisitions (n > 0) by acquire, timed try or forever try.  One blocked
    when its duration exceeds its kind's threshold: WAKE_FACTOR x the median duration of that
    kind's *solo* successful calls (:func:`_solo`: nothing else in flight, so surely no wait),
    at least WAKE_FLOOR_NS.  A kind with fewer than MIN_SOLO solo calls uses the median of all
    solo successful acquisitions (no-wait tries included: the same fast path), and with fewer
    than MIN_SOLO of those too, the floor alone.  ``threshold_basis`` says which was used.

    The history does not say which release woke a waiter, nor when a release's tokens became
    visible (somewhere in its interval), so this is an approximation: the wake-up latency is
    ``ret(waiter) - invoke(r)`` where r is the latest release invoked within the waiter's
    interval ``[invoke, ret)`` (error-free, n > 0; a pending one counts, it may have taken
    effect).  A valid history makes r another thread's release: a blocked thread makes no
    other call.  Taking the *latest* such release gives the shortest delay consistent with the
    record: the release's own work up to its atomic update, the futex wake-up, the scheduler
    and the recorder's overhead.  When an earlier release was the real waker (the later one
    came too late to matter) the true latency is longer.  A blocked waiter with no release in
    its interval (its tokens came from a release invoked before it started waiting, or from
    outside the history) has no figure and is counted in ``without_release``.
    """
    solo = _solo(c)
    fast = solo & c.acquired
    pooled = c.dur[fast]
    groups = {
        "acquire": c.kinds["acquire"],
        "timed": c.kinds["timed_ok"],
        "forever": c.kinds["forever_ok"],
    }
    thresholds: dict[str, int] = {}
    basis: dict[str, str] = {}
    waiting = np.zeros(c.size, bool)
    for name, mask in groups.items():
        own = c.dur[fast & mask]
        if len(own) >= MIN_SOLO:
            median, basis[name] = np.median(own), f"solo {name}"
        elif len(pooled) >= MIN_SOLO:
            median, basis[name] = np.median(pooled), "solo acquisitions"
        else:
            median, basis[name] = 0.0, "floor"
        thresholds[name] = max(WAKE_FLOOR_NS, int(np.ceil(WAKE_FACTOR * median)))
        waiting |= mask & c.acquired & (c.dur > thresholds[name])

    releases = (c.op == RELEASE) & (c.error == 0) & (c.n > 0)
    rel_invoke = np.sort(c.invoke[releases])
    w_invoke, w_ret = c.invoke[waiting], c.ret[waiting]
    # strictly before the waiter's return: the native driver stamps a call's return and the
    # next call's invoke with one clock reading, so the waiter's own release right after it
    # carries the waiter's return time and must not count as its waker
    latest = np.searchsorted(rel_invoke, w_ret, side="left") - 1
    candidate = rel_invoke[np.maximum(latest, 0)] if len(rel_invoke) else w_invoke
    matched = (latest >= 0) & (candidate >= w_invoke)
    samples = w_ret[matched] - candidate[matched]
    return {
        "thresholds_ns": thresholds,
        "threshold_basis": basis,
        "blocked": int(waiting.sum()),
        "without_release": int((~matched).sum()),
        "latency_ns": summarize(samples),
    }, samples


def _timeouts(c: _Columns) -> tuple[dict[str, Any], np.ndarray]:
    """Overshoot of the failed timed tries beyond their deadline; early and late failures."""
    failed = c.kinds["timed_failed"]
    index = np.flatnonzero(failed)
    timeout_ns = c.timeout[failed] * 1e9
    overshoot = c.dur[failed] - np.rint(timeout_ns).astype(np.int64)
    early = index[overshoot < 0]
    late = index[overshoot > LATE_SLACK_NS + LATE_FRACTION * timeout_ns]
    return {
        "failed": len(index),
        "overshoot_ns": summarize(overshoot),
        "early": len(early),
        "early_indices": early[:MAX_LISTED].tolist(),
        "late": len(late),
        "late_indices": late[:MAX_LISTED].tolist(),
    }, overshoot


def _fairness(c: _Columns) -> dict[str, Any]:
    """Acquisitions per asking thread, Jain's index, owner changes and the longest wait."""
    asking = ((c.done & (c.error == 0)) | c.pending) & (c.n > 0)
    asking &= (c.op == ACQUIRE) | (c.op == TRY_ACQUIRE)
    nthreads = len(c.threads)
    asked = np.bincount(c.thread_index[asking], minlength=nthreads) > 0
    got = np.bincount(c.thread_index[c.acquired], minlength=nthreads)
    counts = got[asked].astype(np.float64)
    square_sum = float((counts**2).sum())
    jain = float(counts.sum()) ** 2 / (len(counts) * square_sum) if square_sum else None

    index = np.flatnonzero(c.acquired)  # recorded order, kept for ties by the stable sort
    by_return = index[np.argsort(c.ret[index], kind="stable")]
    owners = c.thread[by_return]
    changes = int((owners[1:] != owners[:-1]).sum())
    longest = None
    if len(index):
        i = int(index[np.argmax(c.dur[index])])
        longest = {"ns": int(c.dur[i]), "thread": int(c.thread[i]), "index": i}
    return {
        "acquisitions": {
            str(int(t)): int(k) for t, k, a in zip(c.threads, got, asked, strict=True) if a
        },
        "jain_index": jain,
        "owner_changes": changes,
        "owner_change_fraction": changes / (len(owners) - 1) if len(owners) > 1 else None,
        "longest_wait": longest,
    }


# ---- text ------------------------------------------------------------------------------------

_LABELS = {
    "acquire": "acquire",
    "try_ok": "try ok",
    "try_failed": "try failed",
    "timed_ok": "timed try ok",
    "timed_failed": "timed try failed",
    "forever_ok": "forever try ok",
    "forever_failed": "forever try failed",
    "release": "release",
    "available": "available",
}
_LABEL_WIDTH = 20
#: Threads listed one by one up to this many; beyond it, min / median / max.
_LIST_THREADS = 8


def format_ns(value: float | None) -> str:
    """A duration with a unit chosen for it: 850 ns, 12.3 us, 4.10 ms, 1.20 s."""
    if value is None:
        return "-"
    size = abs(value)
    if size < 1e3:
        return f"{value:.0f} ns"
    if size < 1e6:
        return f"{value / 1e3:.1f} us"
    if size < 1e9:
        return f"{value / 1e6:.2f} ms"
    return f"{value / 1e9:.2f} s"


def _row(label: str, summary: dict[str, int | None]) -> str:
    """One aligned line of a percentile table."""
    cells = [format_ns(summary[name]) for name, _ in QUANTILES] + [format_ns(summary["max"])]
    return f"  {label:<{_LABEL_WIDTH}}{summary['count']:>10,}" + "".join(f"{x:>10}" for x in cells)


def _per_thread(values: dict[str, Any], fmt: str) -> str:
    """Per-thread figures: all of them when few, else their spread (min / median / max)."""
    xs = sorted(v for v in values.values() if v is not None)
    if not xs:
        return "-"
    if len(values) <= _LIST_THREADS:
        return "  ".join(f"t{t} {format(v, fmt)}" for t, v in values.items() if v is not None)
    mid = xs[(len(xs) - 1) // 2]
    return (
        f"{len(xs)} threads: min {format(xs[0], fmt)}  median {format(mid, fmt)}  "
        f"max {format(xs[-1], fmt)}"
    )


def format_metrics(m: dict[str, Any]) -> str:
    """A compact text block of :func:`compute_metrics`'s figures, aligned for a terminal.

    Throughput is printed on one line with the owner-change fraction: a semaphore can buy
    throughput by letting one thread re-take the tokens (barging), so one figure is not read
    without the other.  Latency kinds that did not occur are left out.
    """
    counts, tp, fair = m["counts"], m["throughput"], m["fairness"]
    wake, tmo = m["wakeup"], m["timeouts"]
    errors = ", ".join(f"{name} {k:,}" for name, k in counts["errors"].items()) or "none"
    change = fair["owner_change_fraction"]
    rate = tp["ops_per_s"]
    lines = [
        f"operations   {counts['operations']:,} (completed {counts['completed']:,}, "
        f"pending {counts['pending']:,}); errors: {errors}",
        f"throughput   {'-' if rate is None else f'{rate:,.0f}'} ops/s over "
        f"{tp['seconds']:.3f} s   owner changes "
        f"{'-' if change is None else f'{change:.1%}'} "
        f"of {sum(fair['acquisitions'].values()):,} acquisitions",
        f"  per thread {_per_thread(tp['per_thread'], ',.0f')} ops/s",
        f"  {'latency':<{_LABEL_WIDTH}}{'count':>10}"
        + "".join(f"{name:>10}" for name, _ in QUANTILES)
        + f"{'max':>10}",
    ]
    lines += [_row(_LABELS[k], s) for k, s in m["latency"].items() if s["count"]]
    lines.append(_row("wake-up", wake["latency_ns"]))
    lines.append(_row("timeout overshoot", tmo["overshoot_ns"]))
    limits = ", ".join(f"{k} {format_ns(v)}" for k, v in wake["thresholds_ns"].items())
    lines.append(
        f"wake-up      {wake['blocked']:,} blocked ({wake['without_release']:,} with no release "
        f"in their wait); blocked means longer than: {limits}"
    )
    listed = " at " + ", ".join(map(str, tmo["early_indices"])) if tmo["early"] else ""
    lines.append(
        f"timeouts     {tmo['failed']:,} timed tries failed; early (a violation) "
        f"{tmo['early']:,}{listed}; late (> 50 ms + T/20) {tmo['late']:,}"
    )
    jain = fair["jain_index"]
    longest = fair["longest_wait"]
    wait = f"{format_ns(longest['ns'])} (thread {longest['thread']})" if longest else "-"
    lines.append(
        f"fairness     Jain {'-' if jain is None else f'{jain:.3f}'}; longest wait {wait}; "
        f"acquisitions {_per_thread(fair['acquisitions'], ',')}"
    )
    return "\n".join(lines)


# ---- machine -------------------------------------------------------------------------------


def gil_status() -> str:
    """The GIL's state as a word, "enabled" or "disabled": free-threaded builds (3.13t and
    later) say which through ``sys._is_gil_enabled()``; older Pythons always have a GIL."""
    is_enabled = getattr(sys, "_is_gil_enabled", None)
    if is_enabled is None:
        return "enabled"
    return "enabled" if is_enabled() else "disabled"


def machine_context(pinned: bool) -> dict[str, Any]:
    """What a reader needs to trust a stress run's timings: the benchmarks' context (cores,
    1-minute load, kernel, Python, machine), plus the 1/5/15-minute load, the cores this
    process may run on, the GIL status and whether threads were pinned to cores."""
    ctx = _bench_context()
    ctx["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    if hasattr(os, "sched_getaffinity"):
        ctx["cpus_usable"] = len(os.sched_getaffinity(0))
    ctx["gil"] = gil_status()
    ctx["pinned"] = bool(pinned)
    return ctx
