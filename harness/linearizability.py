"""Linearizability of a semaphore history against the sequential specification.

The specification (DESIGN.md, "Checks"): a count c; acquire(n) and a successful try_acquire(n)
need c >= n and subtract n; a failed try_acquire(n) needs c < n; release(n) adds n (and needs
c + n <= 2**31 - 1, else it must have raised OverflowError, which needs c + n > 2**31 - 1);
available() returns c.  Calls that raised any other error had no effect and constrain nothing.
A pending call (never returned) may have taken effect at any point after its invocation, or not
at all.

The search is Wing & Gong's, as Lowe improved it: linearize one *minimal* operation at a time
(one invoked before every unlinearized completed operation returned), depth first, remembering
every configuration already explored.  For a semaphore the count is implied by the set of
linearized operations, so the memo key is that set alone: the vector of per-thread positions
(see :class:`_Search`).  Reductions, each sound for the reason given where it is applied:

- read-only operations (available, failed tries, overflowing releases) that the current count
  satisfies are linearized greedily, without branching;
- among candidate operations with the same effect only the earliest-returning one is tried;
- candidates are tried earliest return first;
- :mod:`.bounds` rejects many non-linearizable histories in O(n log n) before any search;
- the history is split at quiescent points (no operation in flight) and the segments are
  checked independently, the count at each cut being fixed by the operations before it;
- a node budget makes the answer "unknown" instead of running for ever.

A caller that needs only the answer (``check_history(..., witness=False)``: stress runs, the
``check-history`` command) first gets the C sweep: the same configurations, explored breadth
first with two layers in memory, linear in a long history of a few threads (see
:func:`check_history`).

The work is done on columns (:class:`StepArrays`: a million operations are 48 MB of int64, not a
million objects): the mapping from a :class:`History`, the cuts at quiescent points and the
counts are numpy; the search of each segment is :class:`_Search`, or the same search in C
(``semharness._lincheck``, harness/csrc/lincheck.c: some 3 to 10 million nodes a second where
the Python does 50 to 100 thousand).  ``backend`` chooses ('auto': C when it is built); the
:class:`Verdict` is the same either way, node counts included.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np

from .contract import MAX_COUNT
from .history import (
    ACQUIRE,
    AVAILABLE,
    NO_RESULT,
    PENDING,
    RELEASE,
    TRY_ACQUIRE,
    History,
    Operation,
)

try:  # the search in C; _Search below is the reference, and serves when it is not built
    from . import _lincheck
except ImportError:  # pragma: no cover - a source checkout without the extension
    _lincheck = None  # type: ignore[assignment]

#: Who searches: 'c' (semharness._lincheck), 'python' (_Search), or 'auto' (C when it can).
BACKENDS = ("auto", "c", "python")

# Kinds of operation in a problem, by what they need and do.
ACQ = 0  # needs c >= n; c -= n          (acquire, successful try_acquire)
REL = 1  # needs c + n <= MAX; c += n     (release)
FAIL = 2  # needs c < n                   (failed try_acquire)            read-only
OVER = 3  # needs c + n > MAX             (release that raised OverflowError)  read-only
READ = 4  # needs c == value              (available)                     read-only
KIND_NAMES = ("acquire", "release", "failed try", "overflowing release", "available")

INFINITY = 1 << 62  # the return time of a pending operation


@dataclass(frozen=True)
class Step:
    """One operation as the checker sees it.  ``index`` points back into the history."""

    index: int
    thread: int
    kind: int
    n: int  # tokens, or the value read for READ
    invoke: int
    ret: int  # INFINITY when pending

    @property
    def pending(self) -> bool:
        return self.ret >= INFINITY

    def applies(self, count: int) -> bool:
        """Whether the specification allows this operation at this count."""
        kind = self.kind
        if kind == ACQ:
            return count >= self.n
        if kind == REL:
            return count + self.n <= MAX_COUNT
        if kind == FAIL:
            return count < self.n
        if kind == OVER:
            return count + self.n > MAX_COUNT
        return count == self.n

    def effect(self) -> int:
        return -self.n if self.kind == ACQ else self.n if self.kind == REL else 0

    def describe(self) -> str:
        if self.kind == READ:
            text = f"available() -> {self.n}"
        elif self.kind == FAIL:
            text = f"try_acquire({self.n}) -> False"
        elif self.kind == OVER:
            text = f"release({self.n}) -> OverflowError"
        else:
            text = f"{KIND_NAMES[self.kind]}({self.n})"
        return f"#{self.index} t{self.thread} {text}" + (" (pending)" if self.pending else "")


@dataclass
class Verdict:
    """The answer for one history: 'ok', 'violation' or 'unknown' (budget spent)."""

    status: str
    initial: int = 0
    #: a linearization (history indices, in order) when 'ok'; for a violation, the longest
    #: partial linearization found
    order: list[int] = field(default_factory=list)
    #: count after each step of ``order``
    counts: list[int] = field(default_factory=list)
    #: for a violation: the operations of the smallest window found not to linearize
    window: list[int] = field(default_factory=list)
    #: for a violation: the operation that could not be placed after ``order``
    culprit: int | None = None
    reason: str = ""
    nodes: int = 0
    segments: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _dedupe_key(step: Step) -> tuple[int, int, bool]:
    return (step.kind, step.n, step.pending)


class _Search:
    """Depth-first WGL search over one segment.

    The set of linearized operations is closed under each thread's program order (a thread's
    calls are sequential, so a linearization keeps them in order), so it is exactly a vector of
    per-thread positions: how many of each thread's calls are linearized.  That vector is the
    memo key -- the sliding window of the set, one frontier per thread -- and the count is
    implied by it.  Each thread's next call is its only candidate, and it is minimal when it was
    invoked no later than the earliest return among all threads' next calls.
    """

    def __init__(self, steps: Sequence[Step], pending: Sequence[Step], initial: int) -> None:
        by_thread: dict[int, list[Step]] = {}
        for step in sorted([*steps, *pending], key=lambda s: s.index):  # program order
            by_thread.setdefault(step.thread, []).append(step)
        self.lanes = list(by_thread.values())
        # a thread is done once its completed calls are linearized (a pending one may stay out)
        self.needed = [sum(1 for s in lane if not s.pending) for lane in self.lanes]
        self.initial = initial
        self.nodes = 0
        #: (depth, (path, positions, count)) of the longest partial linearization seen
        self.best: tuple[int, tuple[object, tuple[int, ...], int] | None] = (-1, None)

    def _minimal(self, pos: list[int]) -> list[int]:
        """The threads whose next call is minimal."""
        lanes = self.lanes
        nexts = [lanes[t][p] for t, p in enumerate(pos) if p < len(lanes[t])]
        if not nexts:
            return []
        limit = min(s.ret for s in nexts)
        # b must follow a only if a returned strictly before b was invoked
        return [t for t, p in enumerate(pos) if p < len(lanes[t]) and lanes[t][p].invoke <= limit]

    def run(self, budget: int) -> tuple[str, object]:
        """'ok' with the path, 'violation', or 'unknown' when ``budget`` nodes are spent."""
        lanes, needed = self.lanes, self.needed
        seen: set[tuple[int, ...]] = set()
        stack: list[tuple[list[int], int, object, int]] = [
            ([0] * len(lanes), self.initial, None, 0)
        ]
        while stack:
            pos, count, path, depth = stack.pop()
            # Greedy: a minimal read-only call that the count satisfies is linearized at once.
            # Sound: it changes no state, and it is minimal, so in any linearization of the
            # rest from here it can be moved to this point without breaking real-time order
            # (nothing unlinearized returned before it was invoked) or any later call's state.
            progressed = True
            while progressed:
                progressed = False
                for t in self._minimal(pos):
                    step = lanes[t][pos[t]]
                    if step.kind >= FAIL and step.applies(count):
                        pos[t] += 1
                        path = (step.index, path)
                        depth += 1
                        progressed = True
            if all(p >= need for p, need in zip(pos, needed, strict=True)):
                return "ok", path
            key = tuple(pos)
            if key in seen:
                continue
            seen.add(key)
            self.nodes += 1
            if depth > self.best[0]:
                self.best = (depth, (path, key, count))
            if self.nodes > budget:
                return "unknown", None
            children = []
            chosen: dict[tuple[int, int, bool], int] = {}  # effect -> return time of the one tried
            # Earliest return first.
            for t in sorted(self._minimal(pos), key=lambda t: lanes[t][pos[t]].ret):
                step = lanes[t][pos[t]]
                if step.kind >= FAIL or not step.applies(count):
                    continue
                # Symmetry: of minimal calls with the same effect, one that returns strictly
                # earlier is tried instead.  Sound: if a linearization from here places B now
                # and a same-effect A (A.ret < B.ret) later, swap them: every count stays the
                # same; A may go now (it is minimal); B may take A's later place, because
                # anything between that had to follow B -- invoked after B returned, B's own
                # later calls included -- was invoked after A returned, so had to follow A
                # too.  (With equal returns B's next call may tie with A: no pruning then.)
                effect = _dedupe_key(step)
                if effect in chosen and chosen[effect] < step.ret:
                    continue
                chosen.setdefault(effect, step.ret)
                child = list(pos)
                child[t] += 1
                children.append((child, count + step.effect(), (step.index, path), depth + 1))
            stack.extend(reversed(children))  # the first child is popped first
        return "violation", None


def unroll(path: object) -> list[int]:
    out: list[int] = []
    while path is not None:
        index, path = path  # type: ignore[misc]
        out.append(index)
    out.reverse()
    return out


# ---- from recorded calls to steps ---------------------------------------------------------------


def to_step(call: Operation) -> Step | None:
    """The specification's view of a call; None for calls that constrain nothing.

    A call that raised had no effect (the contract); only an OverflowError from a release of a
    valid n says something about the count (it must have been above MAX - n).  Calls with
    n == 0 succeed whatever the count, and invalid n is the invariants' business.
    (:meth:`StepArrays.from_history` is the same mapping over whole columns.)
    """
    ret = INFINITY if call.ret is None else call.ret
    op, n = call.op, call.n
    if call.error is not None:
        if op == "release" and call.error == "OverflowError" and 0 < n <= MAX_COUNT:
            return Step(call.index, call.thread, OVER, n, call.invoke, ret)
        return None
    if op == "available":
        if call.ret is None or not isinstance(call.result, int):
            return None
        return Step(call.index, call.thread, READ, int(call.result), call.invoke, ret)
    if not 0 <= n <= MAX_COUNT:
        return None
    if op == "release":
        return Step(call.index, call.thread, REL, n, call.invoke, ret) if n else None
    if op == "try_acquire" and call.ret is not None and call.result is False:
        return Step(
            call.index, call.thread, FAIL, n, fail_start(call.invoke, ret, call.timeout), ret
        )
    if n == 0:
        return None
    return Step(call.index, call.thread, ACQ, n, call.invoke, ret)


def fail_start(invoke: int, ret: int, timeout: float | None) -> int:
    """Where a failed try_acquire's interval starts, for the specification.

    A timed try never fails before its deadline (DESIGN.md, "Timeouts"): it gave up at
    invoke + timeout or later, so the count must have been short at a point from then on --
    not merely at its start, before a release it should have seen.  (A try that returned false
    sooner failed early: the interval is then its return alone, and the timeout checks report
    the early failure.)  The implementation fixes its deadline when it reads its clock, after
    the recorded invoke, so the deadline used here is never later than its own.
    """
    if timeout is None or not timeout > 0:  # None, 0 or NaN: no wait
        return invoke
    span = timeout * 1e9
    return ret if span >= ret - invoke else invoke + int(span)


_FIELDS = ("index", "thread", "kind", "n", "invoke", "ret")


@dataclass(frozen=True, eq=False)
class StepArrays:
    """Steps as int64 columns, one row per step, rows in increasing ``index`` order.

    This is what the checker works on: a million :class:`Step` objects cost a second to make
    and 200 bytes each, the columns 48 bytes a step.  Build with :meth:`of` (any array-likes),
    :meth:`from_steps` or :meth:`from_history`.
    """

    index: np.ndarray
    thread: np.ndarray
    kind: np.ndarray
    n: np.ndarray
    invoke: np.ndarray
    ret: np.ndarray  # INFINITY (or more) when pending

    @classmethod
    def of(cls, index: Any, thread: Any, kind: Any, n: Any, invoke: Any, ret: Any) -> StepArrays:
        """Columns from array-likes of equal length, in any row order (sorted here by index,
        which must not repeat).  Every value must fit in int64."""
        given = (index, thread, kind, n, invoke, ret)
        cols = [np.ascontiguousarray(c, dtype=np.int64).reshape(-1) for c in given]
        size = len(cols[0])
        for name, col in zip(_FIELDS, cols, strict=True):
            if len(col) != size:
                raise ValueError(f"column {name} has {len(col)} rows, index has {size}")
        idx = cols[0]
        if size > 1 and not (idx[1:] > idx[:-1]).all():
            perm = np.argsort(idx, kind="stable")
            cols = [c[perm] for c in cols]
            idx = cols[0]
            if (idx[1:] == idx[:-1]).any():
                raise ValueError("step indices repeat")
        return cls(*cols)

    @classmethod
    def from_steps(cls, steps: Iterable[Step]) -> StepArrays:
        steps = steps if isinstance(steps, Sequence) else list(steps)
        size = len(steps)
        return cls.of(
            *(np.fromiter(map(attrgetter(f), steps), np.int64, count=size) for f in _FIELDS)
        )

    @classmethod
    def from_history(cls, history: History) -> StepArrays:
        """:func:`to_step` of every operation, over whole columns: the rows of the calls that
        constrain something, ``index`` being the operation's row in the history."""
        op, n, res, err = history.op, history.n, history.result, history.error
        raw_ret = history.ret
        pending = raw_ret == PENDING
        no_error = err == 0
        names = history.error_names
        overflow = names.index("OverflowError") if "OverflowError" in names else -1
        valid_n = (n >= 0) & (n <= MAX_COUNT)
        is_try = op == TRY_ACQUIRE
        said_false = ~pending & (res != NO_RESULT) & (res != 1)  # try_acquire -> False
        kind = np.full(len(op), -1, np.int64)
        over = ~no_error & (op == RELEASE) & (err == overflow) & (n > 0) & (n <= MAX_COUNT)
        kind[over] = OVER
        plain = no_error & valid_n
        kind[plain & (n != 0) & ((op == ACQUIRE) | (is_try & ~said_false))] = ACQ
        kind[plain & (op == RELEASE) & (n != 0)] = REL
        kind[plain & is_try & said_false] = FAIL
        read = no_error & (op == AVAILABLE) & ~pending & (res != NO_RESULT)
        kind[read] = READ
        rows = np.flatnonzero(kind >= 0)
        kind = kind[rows]
        value = np.where(kind == READ, res[rows], n[rows])
        ret = raw_ret[rows]
        ret[pending[rows]] = INFINITY
        invoke = history.invoke[rows].astype(np.int64)
        # failed timed tries start at their deadline, as fail_start() says
        timed = np.flatnonzero((kind == FAIL) & (history.timeout[rows] > 0))
        if len(timed):
            span = history.timeout[rows[timed]] * 1e9
            late = span >= ret[timed] - invoke[timed]
            invoke[timed] = np.where(
                late, ret[timed], invoke[timed] + np.where(late, 0, span).astype(np.int64)
            )
        return cls(
            rows.astype(np.int64),
            history.thread[rows].astype(np.int64),
            kind,
            value,
            invoke,
            ret,
        )

    def __len__(self) -> int:
        return len(self.index)

    def step(self, row: int, ret: int | None = None) -> Step:
        """Row ``row`` as a Step (with return time ``ret`` instead of its own, if given)."""
        r = int(self.ret[row]) if ret is None else ret
        return Step(
            int(self.index[row]),
            int(self.thread[row]),
            int(self.kind[row]),
            int(self.n[row]),
            int(self.invoke[row]),
            r,
        )

    def steps(self) -> list[Step]:
        return [
            Step(*row) for row in zip(*(getattr(self, f).tolist() for f in _FIELDS), strict=True)
        ]

    def exact_int64(self, initial: int) -> bool:
        """Whether every count the search can reach, from ``initial``, fits comfortably in
        int64 (the C search's own bound is 2**61): |initial| + sum of |n| over acquires and
        releases below 2**60."""
        moves = (self.kind == ACQ) | (self.kind == REL)
        total = float(np.abs(self.n[moves].astype(np.float64)).sum())
        return abs(initial) < 2**60 and abs(initial) + total < 2**60

    def effects(self, exact: bool) -> np.ndarray:
        """Each row's effect on the count; int64 when ``exact`` (see :meth:`exact_int64`),
        else Python ints (object array)."""
        n = self.n if exact else self.n.astype(object)
        return np.where(self.kind == ACQ, -n, np.where(self.kind == REL, n, 0))


# ---- splitting and searching ---------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Layout:
    """The segments of a problem: segment s is ``by_time[starts[s]:starts[s+1]]`` (rows by
    invoke, then return) and, the same rows in index order, ``by_index[starts[s]:...]``."""

    by_time: np.ndarray
    by_index: np.ndarray
    starts: np.ndarray
    initials: np.ndarray  # the count at each segment's start
    effects: np.ndarray

    def __len__(self) -> int:
        return len(self.starts) - 1


def _layout(cols: StepArrays, initial: int, exact: bool) -> _Layout:
    """Splits at quiescent points (see :func:`segments`), over whole columns."""
    inv, ret = cols.invoke, cols.ret
    size = len(cols)
    ordered = size < 2 or bool(
        ((inv[1:] > inv[:-1]) | ((inv[1:] == inv[:-1]) & (ret[1:] >= ret[:-1]))).all()
    )
    by_time = np.arange(size, dtype=np.int64) if ordered else np.lexsort((ret, inv))
    inv_t, ret_t = (inv, ret) if ordered else (inv[by_time], ret[by_time])
    # a cut before the k-th call (by time) when everything before it returned before it was
    # invoked, and none of it is pending
    cut = np.maximum.accumulate(ret_t)[:-1] < inv_t[1:]
    pending = ret_t >= INFINITY
    if pending.any():
        cut[int(np.argmax(pending)) :] = False
    starts = np.concatenate(([0], np.flatnonzero(cut) + 1, [size] if size else [])).astype(np.int64)
    effects = cols.effects(exact)
    moved = np.where(pending, 0, effects if ordered else effects[by_time])
    before = np.concatenate(([0], np.cumsum(moved)))[starts[:-1]]
    initials = before + initial
    if ordered:
        by_index = by_time
    else:  # each segment's rows sorted: segment-major keys
        seg = np.repeat(np.arange(len(starts) - 1, dtype=np.int64), np.diff(starts))
        by_index = np.sort(seg * size + by_time) - seg * size
    return _Layout(by_time, by_index, starts, initials, effects)


def segments(steps: Iterable[Step], initial: int) -> list[tuple[int, list[Step], list[Step]]]:
    """Splits at quiescent points: ``(initial count, completed steps, pending steps)`` each,
    the steps in order of invocation, then return, then index.

    Sound: at a time when no operation is in flight, every operation invoked before has
    returned and so lies, in every linearization, before every operation invoked after; the
    count there is the initial count plus the effects of all of them, whatever their order.
    No cut follows the invocation of a pending operation (it is in flight for ever).
    """
    by_row = sorted(steps, key=lambda s: s.index)
    cols = StepArrays.from_steps(by_row)
    lay = _layout(cols, initial, cols.exact_int64(initial))
    out = []
    for s in range(len(lay)):
        rows = lay.by_time[lay.starts[s] : lay.starts[s + 1]].tolist()
        done = [by_row[r] for r in rows if not by_row[r].pending]
        out.append((int(lay.initials[s]), done, [by_row[r] for r in rows if by_row[r].pending]))
    return out


@dataclass(frozen=True)
class _Found:
    """One segment's search: ``order`` the rows of the linearization ('ok') or of the longest
    partial one, ``best_positions`` the lane positions at its end (() when no node was
    explored), ``lane_threads`` the lanes' threads, lanes in order of first call."""

    status: str
    order: np.ndarray
    nodes: int
    best_positions: tuple[int, ...]
    best_count: int
    lane_threads: tuple[int, ...]


def _c_budget(budget: int) -> int:
    return max(-(2**63) + 1, min(budget, 2**63 - 1))


def _search_one(
    cols: StepArrays, rows: np.ndarray, ret: np.ndarray, initial: int, budget: int, backend: str
) -> _Found:
    """The search of the steps at ``rows`` (increasing), with return times ``ret``."""
    if backend == "c":
        # over the whole columns (no copies of them), but for return times that differ
        rets = cols.ret
        if not np.array_equal(ret, rets[rows]):
            rets = rets.copy()
            rets[rows] = ret
        status, order, nodes, best, count, lanes = _lincheck.search(
            cols.kind, cols.n, cols.invoke, rets, cols.thread, rows, initial, _c_budget(budget)
        )
        return _Found(status, np.asarray(order), nodes, best, count, lanes)
    # the reference, on Steps whose index is the row
    fields = (rows, cols.thread[rows], cols.kind[rows], cols.n[rows], cols.invoke[rows], ret)
    steps = [Step(*row) for row in zip(*(f.tolist() for f in fields), strict=True)]
    search = _Search(steps, [], initial)
    status, path = search.run(budget)
    _, best = search.best
    if status != "ok":
        path = best[0] if best else None
    return _Found(
        status,
        np.array(unroll(path), dtype=np.int64),
        search.nodes,
        best[1] if best else (),
        best[2] if best else initial,
        tuple(lane[0].thread for lane in search.lanes),
    )


_STATUS = ("ok", "violation", "unknown", "not run")


#: Histories at least this long, with several segments, are searched by several threads
#: (the C search releases the GIL): independent segments need no coordination.
PARALLEL_MIN_STEPS = 100_000


def _search_segments_c(
    cols: StepArrays, lay: _Layout, budget: int, workers: int | None = None
) -> tuple[list[str], list[int], np.ndarray]:
    """:func:`_search_segments` in C: contiguous groups of segments, one per worker thread,
    merged in segment order (a group after a violating one counts as not run)."""
    at = (cols.kind, cols.n, cols.invoke, cols.ret, cols.thread)

    def run(first: int, last: int) -> tuple[list[str], list[int], np.ndarray]:
        lo, hi = lay.starts[first], lay.starts[last]
        statuses, nodes, order = _lincheck.search_segments(
            *at,
            lay.by_index[lo:hi],
            lay.starts[first : last + 1] - lo,
            lay.initials[first:last].astype(np.int64),
            _c_budget(budget),
        )
        return [_STATUS[c] for c in statuses], list(nodes), np.asarray(order)

    if workers is None:
        workers = (os.cpu_count() or 1) if len(cols) >= PARALLEL_MIN_STEPS else 1
    workers = max(1, min(workers, len(lay)))
    if workers == 1:
        return run(0, len(lay))
    # groups of about equal size in steps, cut at segment boundaries
    targets = np.linspace(0, lay.starts[-1], workers + 1)[1:-1]
    cuts = np.unique(np.concatenate(([0], np.searchsorted(lay.starts, targets), [len(lay)])))
    with ThreadPoolExecutor(len(cuts) - 1) as pool:
        groups = list(pool.map(run, cuts[:-1].tolist(), cuts[1:].tolist()))
    statuses: list[str] = []
    nodes: list[int] = []
    orders: list[np.ndarray] = [np.empty(0, np.int64)]
    for group_statuses, group_nodes, order in groups:
        if "violation" in statuses:
            group_statuses = ["not run"] * len(group_statuses)
            group_nodes = [0] * len(group_nodes)
        else:
            orders.append(order)
        statuses += group_statuses
        nodes += group_nodes
    return statuses, nodes, np.concatenate(orders)


def _search_segments(
    cols: StepArrays, lay: _Layout, budget: int, backend: str
) -> tuple[list[str], list[int], np.ndarray]:
    """Every segment's search in turn, up to the first violation: each segment's status
    ('not run' after a violation) and nodes, and the rows of the 'ok' segments' linearizations,
    one after another."""
    if backend == "c":
        return _search_segments_c(cols, lay, budget)
    status_of = ["not run"] * len(lay)
    node_counts = [0] * len(lay)
    parts = []
    for s in range(len(lay)):
        rows = lay.by_index[lay.starts[s] : lay.starts[s + 1]]
        found = _search_one(cols, rows, cols.ret[rows], int(lay.initials[s]), budget, "python")
        status_of[s], node_counts[s] = found.status, found.nodes
        if found.status == "ok":
            parts.append(found.order)
        elif found.status == "violation":
            break
    return status_of, node_counts, np.concatenate([np.empty(0, np.int64), *parts])


def _counts(lay: _Layout, order: np.ndarray, initial: int) -> list[int]:
    """The count after each step of ``order`` (rows)."""
    return (np.cumsum(lay.effects[order]) + initial).tolist()


def _prefix(
    cols: StepArrays, completed: np.ndarray, pending: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """The history up to the invocation of ``completed[k-1]`` (rows by time): later returns
    become pending.  Rows in index order, and their return times."""
    cut = cols.invoke[completed[k - 1]]
    head = completed[:k]
    # strictly before the cut: such a step must precede every step left out
    early = cols.ret[head] < cut
    done, open_ = head[early], head[~early]
    late = pending[cols.invoke[pending] <= cut]
    rows = np.concatenate((done, open_, late))
    ret = np.concatenate((cols.ret[done], np.full(len(open_), INFINITY, np.int64), cols.ret[late]))
    perm = np.argsort(rows)
    return rows[perm], ret[perm]


def _resolve(backend: str, cols: StepArrays, initial: int, exact: bool) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
    if backend == "python":
        return backend
    fits = exact and bool(((cols.kind >= ACQ) & (cols.kind <= READ)).all())
    if backend == "auto":
        return "c" if _lincheck is not None and fits else "python"
    if _lincheck is None:
        raise RuntimeError("the C search (semharness._lincheck) is not built")
    if not fits:
        raise ValueError("the C search takes kinds 0..4 and counts below 2**60")
    return "c"


def check_arrays(
    cols: StepArrays, initial: int, budget: int = 1_000_000, backend: str = "auto"
) -> Verdict:
    """Linearizability of the steps (columns) from ``initial``; ``budget`` bounds the nodes per
    segment.  ``backend``: 'c' (semharness._lincheck), 'python' (:class:`_Search`, the
    reference) or 'auto' (C when it is built and the values are in its range); the Verdict is
    the same whichever searches."""
    from .bounds import impossible_calls  # (bounds builds on this module's step kinds)

    exact = cols.exact_int64(initial)
    backend = _resolve(backend, cols, initial, exact)
    lay = _layout(cols, initial, exact)
    if exact:
        rows, highest, lowest = impossible_calls(cols.kind, cols.n, cols.invoke, cols.ret, initial)
        if len(rows):
            return _impossible(
                cols, lay, int(rows[0]), (int(lowest[0]), int(highest[0])), initial, budget, backend
            )
    statuses, nodes, order = _search_segments(cols, lay, budget, backend)
    total = sum(nodes)
    if "violation" in statuses:
        bad = statuses.index("violation")
        return _violation(cols, lay, bad, order, initial, total, budget, backend)
    if "unknown" in statuses:
        return Verdict(
            "unknown",
            initial,
            nodes=total,
            segments=len(lay),
            reason=f"node budget of {budget} spent in a segment",
        )
    return Verdict(
        "ok",
        initial,
        cols.index[order].tolist(),
        _counts(lay, order, initial),
        nodes=total,
        segments=len(lay),
    )


def check_steps(
    steps: Iterable[Step], initial: int, budget: int = 1_000_000, backend: str = "auto"
) -> Verdict:
    """Linearizability of the steps from ``initial``; ``budget`` bounds the nodes per segment.
    (Step fields must fit in int64; see :func:`check_arrays` for ``backend``.)"""
    return check_arrays(StepArrays.from_steps(steps), initial, budget, backend)


def _violation(
    cols: StepArrays,
    lay: _Layout,
    seg: int,
    before: np.ndarray,
    initial: int,
    nodes: int,
    budget: int,
    backend: str,
) -> Verdict:
    """Describes a violation in segment ``seg``: the shortest failing prefix of the segment, the
    longest partial linearization, and the operation that could not be placed next."""
    by_time = lay.by_time[lay.starts[seg] : lay.starts[seg + 1]]
    seg_initial = int(lay.initials[seg])
    is_pending = cols.ret[by_time] >= INFINITY
    completed, pending = by_time[~is_pending], by_time[is_pending]
    # Shortest failing time-prefix: failing is monotone in the prefix (a linearization of a
    # longer prefix, restricted, linearizes the shorter one, its late returns being pending).
    lo, hi = 1, len(completed) + 1  # hi: the whole segment, known to fail
    while lo < hi:
        mid = (lo + hi) // 2
        rows, ret = _prefix(cols, completed, pending, mid)
        if _search_one(cols, rows, ret, seg_initial, budget, backend).status == "violation":
            hi = mid
        else:
            lo = mid + 1
    if lo > len(completed):
        rows = lay.by_index[lay.starts[seg] : lay.starts[seg + 1]]
        ret = cols.ret[rows]
    else:
        rows, ret = _prefix(cols, completed, pending, lo)
    found = _search_one(cols, rows, ret, seg_initial, budget, backend)
    partial = np.concatenate((before, found.order))
    # The culprit: of the calls that could go next, the completed one returning first -- it
    # had to be linearized before anything else, and no choice of the others let it.
    culprit: Step | None = None
    threads = cols.thread[rows]
    for thread, p in zip(found.lane_threads, found.best_positions, strict=True):
        lane = np.flatnonzero(threads == thread)
        if p < len(lane) and ret[lane[p]] < INFINITY:
            step = cols.step(int(rows[lane[p]]), int(ret[lane[p]]))
            if culprit is None or step.ret < culprit.ret:
                culprit = step
    count = found.best_count
    reason = (
        f"{culprit.describe()} cannot take effect: the count is {count} after the longest "
        f"partial linearization ({len(partial)} operations)"
        if culprit
        else "no linearization"
    )
    return _violation_verdict(cols, lay, partial, rows, culprit, reason, initial, nodes)


def _violation_verdict(
    cols: StepArrays,
    lay: _Layout,
    partial: np.ndarray,
    window: np.ndarray,
    culprit: Step | None,
    reason: str,
    initial: int,
    nodes: int,
) -> Verdict:
    """A violation Verdict from rows: the partial linearization, the window, the culprit."""
    return Verdict(
        "violation",
        initial,
        cols.index[partial].tolist(),
        _counts(lay, partial, initial),
        sorted(cols.index[window].tolist()),
        culprit.index if culprit else None,
        reason,
        nodes,
        len(lay),
    )


def _impossible(
    cols: StepArrays,
    lay: _Layout,
    row: int,
    count_range: tuple[int, int],
    initial: int,
    budget: int,
    backend: str,
) -> Verdict:
    """Describes a call the bounds prefilter found impossible: the segments before its own are
    searched as usual (an earlier violation, if any, is the one reported); in its own segment
    the calls before it are linearized, and the window is the calls in flight with it."""
    seg = int(np.searchsorted(lay.starts, np.flatnonzero(lay.by_time == row)[0], "right")) - 1
    cut = lay.starts[seg]
    earlier = _Layout(
        lay.by_time[:cut],
        lay.by_index[:cut],
        lay.starts[: seg + 1],
        lay.initials[:seg],
        lay.effects,
    )
    statuses, nodes, before = _search_segments(cols, earlier, budget, backend)
    if "violation" in statuses:
        bad = statuses.index("violation")
        return _violation(cols, lay, bad, before, initial, sum(nodes), budget, backend)
    by_time = lay.by_time[lay.starts[seg] : lay.starts[seg + 1]]
    is_pending = cols.ret[by_time] >= INFINITY
    completed, pending = by_time[~is_pending], by_time[is_pending]
    k = int(np.flatnonzero(completed == row)[0])
    partial = before
    if k:
        rows, ret = _prefix(cols, completed, pending, k)
        found = _search_one(cols, rows, ret, int(lay.initials[seg]), budget, backend)
        partial = np.concatenate((before, found.order))
        nodes = [*nodes, found.nodes]
    seg_rows = lay.by_index[lay.starts[seg] : lay.starts[seg + 1]]
    live = (cols.invoke[seg_rows] <= cols.ret[row]) & (cols.ret[seg_rows] >= cols.invoke[row])
    culprit = cols.step(row)
    low, high = count_range
    reason = (
        f"{culprit.describe()} cannot take effect at any point of its interval: in every "
        f"linearization the count there stays between {low} and {high}"
    )
    return _violation_verdict(
        cols, lay, partial, seg_rows[live], culprit, reason, initial, sum(nodes)
    )


#: Histories up to this many calls may take :func:`quick_status`'s path.
QUICK_MAX_CALLS = 200


def quick_status(history: History, budget: int = 1_000_000) -> str:
    """The status :func:`check_history` gives ('ok', 'violation' or 'unknown'), found by the
    reference search alone, for histories of up to QUICK_MAX_CALLS calls: no step arrays to
    build, so the model checker pays tens of microseconds, not hundreds, for each of its many
    small histories.  (The search is the same; splitting and the prefilter only make it faster
    on long histories.)  The C sweep, when built, answers first: it says 'ok' or 'violation'
    only where the search would (tests/test_lincheck_c.py holds them to it), in a fraction of
    the search's time -- and the minimiser asks about many failing histories; only what it
    leaves ('unknown', or counts out of its range) goes through the search.  (Where the search
    would run out of ``budget``, the sweep's 'violation' stands, as in :func:`check_history`
    with ``witness=False``.)  Longer histories go through :func:`check_history`."""
    if len(history) > QUICK_MAX_CALLS:
        return check_history(history, budget).status
    if _lincheck is not None:
        swept = _sweep(history)
        if swept is not None and swept[0] in ("ok", "violation"):
            return swept[0]
    steps = [s for s in map(to_step, history) if s is not None]
    status, _ = _Search(steps, [], history.initial).run(budget)
    return status


#: The most configurations a layer of :func:`_sweep` may hold before it leaves the history to
#: the search.
SWEEP_WIDTH = 4096


def check_history(
    history: History, budget: int = 1_000_000, backend: str = "auto", witness: bool = True
) -> Verdict:
    """Linearizability of a recorded history; ``budget`` bounds the search nodes per segment
    (see :func:`check_arrays` for ``backend``).

    ``witness=False``: the caller wants the answer, not a linearization (``order`` and
    ``counts`` of an 'ok' Verdict stay empty).  The C sweep (``_lincheck.sweep``: the search's
    state space, breadth first, two layers in memory) then decides long histories of a few
    threads in one linear pass -- a stress run's tens of millions of calls in about a second,
    where building the linearization alone takes longer.  Whatever it cannot call 'ok' goes
    through the search as usual, for the description of the violation."""
    swept = None
    if not witness and backend != "python" and _lincheck is not None:
        swept = _sweep(history)
        if swept is not None and swept[0] == "ok":
            return Verdict("ok", history.initial, nodes=swept[1], segments=1)
    verdict = check_arrays(StepArrays.from_history(history), history.initial, budget, backend)
    if verdict.status == "unknown" and swept is not None and swept[0] == "violation":
        verdict.status = "violation"
        verdict.reason = (
            "no linearization exists (the breadth-first sweep reached a layer with no "
            f"configuration); describing it took more than the budget of {budget} nodes"
        )
    return verdict


def _sweep(history: History) -> tuple[str, int] | None:
    """(status, configurations) of ``_lincheck.sweep`` over the history's columns, or None
    when its counts are out of the sweep's range."""
    names = history.error_names
    overflow = names.index("OverflowError") if "OverflowError" in names else -1
    try:
        return _lincheck.sweep(
            history.op,
            history.n,
            history.result,
            history.error,
            history.invoke,
            history.ret,
            history.thread,
            history.timeout,
            overflow,
            history.initial,
            SWEEP_WIDTH,
        )
    except OverflowError:
        return None
