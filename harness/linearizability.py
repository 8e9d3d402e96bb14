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
linearized operations, so the memo key is that set alone, kept relative to a sliding frontier
(every operation before the frontier is linearized): ``(frontier, window bitmask, pending
bitmask)``.  Reductions, each sound for the reason given where it is applied:

- read-only operations (available, failed tries, overflowing releases) that the current count
  satisfies are linearized greedily, without branching;
- among candidate operations with the same effect only the earliest-returning one is tried;
- candidates are tried earliest return first;
- :mod:`.bounds` rejects many non-linearizable histories in O(n log n) before any search;
- the history is split at quiescent points (no operation in flight) and the segments are
  checked independently, the count at each cut being fixed by the operations before it;
- a node budget makes the answer "unknown" instead of running for ever.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .contract import MAX_COUNT
from .history import History, Operation

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
        return Step(call.index, call.thread, FAIL, n, call.invoke, ret)
    if n == 0:
        return None
    return Step(call.index, call.thread, ACQ, n, call.invoke, ret)


def segments(steps: Iterable[Step], initial: int) -> list[tuple[int, list[Step], list[Step]]]:
    """Splits at quiescent points: ``(initial count, completed steps, pending steps)`` each.

    Sound: at a time when no operation is in flight, every operation invoked before has
    returned and so lies, in every linearization, before every operation invoked after; the
    count there is the initial count plus the effects of all of them, whatever their order.
    No cut follows the invocation of a pending operation (it is in flight for ever).
    """
    ordered = sorted(steps, key=lambda s: (s.invoke, s.ret))
    out: list[tuple[int, list[Step], list[Step]]] = []
    count = initial
    start_count = initial
    completed: list[Step] = []
    pending: list[Step] = []
    horizon = -1  # latest return so far in this segment
    for step in ordered:
        if (completed or pending) and not pending and step.invoke > horizon:
            out.append((start_count, completed, pending))
            completed, pending, start_count = [], [], count
        if step.pending:
            pending.append(step)
        else:
            completed.append(step)
            count += step.effect()
        horizon = max(horizon, step.ret)
    if completed or pending:
        out.append((start_count, completed, pending))
    return out


def _search(
    initial: int, completed: list[Step], pending: list[Step], budget: int
) -> tuple[str, _Search, object]:
    search = _Search(completed, pending, initial)
    status, path = search.run(budget)
    return status, search, path


def _counts(order: list[int], by_index: dict[int, Step], initial: int) -> list[int]:
    counts = []
    count = initial
    for index in order:
        count += by_index[index].effect()
        counts.append(count)
    return counts


def _prefix(completed: list[Step], pending: list[Step], k: int) -> tuple[list[Step], list[Step]]:
    """The history up to the invocation of ``completed[k-1]``: later returns become pending."""
    cut = completed[k - 1].invoke
    # strictly before the cut: such a step must precede every step left out
    done = [s for s in completed[:k] if s.ret < cut]
    open_ = [Step(s.index, s.thread, s.kind, s.n, s.invoke, INFINITY) for s in completed[:k]]
    open_ = [s for s, orig in zip(open_, completed[:k], strict=True) if orig.ret >= cut]
    return done, open_ + [p for p in pending if p.invoke <= cut]


def check_steps(steps: Iterable[Step], initial: int, budget: int = 1_000_000) -> Verdict:
    """Linearizability of the steps from ``initial``; ``budget`` bounds the nodes per segment."""
    steps = list(steps)
    by_index = {s.index: s for s in steps}
    parts = segments(steps, initial)
    order: list[int] = []
    nodes = 0
    unknown = False
    for seg_initial, completed, pending in parts:
        status, search, path = _search(seg_initial, completed, pending, budget)
        nodes += search.nodes
        if status == "ok":
            order += unroll(path)
            continue
        if status == "unknown":
            unknown = True
            continue
        return _violation(
            seg_initial,
            completed,
            pending,
            search,
            order,
            by_index,
            initial,
            nodes,
            len(parts),
            budget,
        )
    if unknown:
        return Verdict(
            "unknown",
            initial,
            nodes=nodes,
            segments=len(parts),
            reason=f"node budget of {budget} spent in a segment",
        )
    return Verdict(
        "ok", initial, order, _counts(order, by_index, initial), nodes=nodes, segments=len(parts)
    )


def _violation(
    seg_initial: int,
    completed: list[Step],
    pending: list[Step],
    search: _Search,
    before: list[int],
    by_index: dict[int, Step],
    initial: int,
    nodes: int,
    n_segments: int,
    budget: int,
) -> Verdict:
    """Describes a violation: the shortest failing prefix of the segment, the longest partial
    linearization, and the operation that could not be placed next."""
    # Shortest failing time-prefix: failing is monotone in the prefix (a linearization of a
    # longer prefix, restricted, linearizes the shorter one, its late returns being pending).
    lo, hi = 1, len(completed) + 1  # hi: the whole segment, known to fail
    while lo < hi:
        mid = (lo + hi) // 2
        done, open_ = _prefix(completed, pending, mid)
        status, _, _ = _search(seg_initial, done, open_, budget)
        if status == "violation":
            hi = mid
        else:
            lo = mid + 1
    done, open_ = (completed, pending) if lo > len(completed) else _prefix(completed, pending, lo)
    window_search = _Search(done, open_, seg_initial)
    window_search.run(budget)
    _, best = window_search.best
    path, positions, count = best if best else (None, (), seg_initial)
    partial = before + unroll(path)
    # The culprit: of the calls that could go next, the completed one returning first -- it
    # had to be linearized before anything else, and no choice of the others let it.
    nexts = [
        lane[p]
        for lane, p in zip(window_search.lanes, positions, strict=True)
        if p < len(lane) and not lane[p].pending
    ]
    culprit = min(nexts, key=lambda s: s.ret) if nexts else None
    window = sorted(s.index for s in done + open_)
    reason = (
        f"{culprit.describe()} cannot take effect: the count is {count} after the longest "
        f"partial linearization ({len(partial)} operations)"
        if culprit
        else "no linearization"
    )
    return Verdict(
        "violation",
        initial,
        partial,
        _counts(partial, by_index, initial),
        window,
        culprit.index if culprit else None,
        reason,
        nodes + search.nodes,
        n_segments,
    )


def check_history(history: History, budget: int = 1_000_000) -> Verdict:
    """Linearizability of a recorded history; ``budget`` bounds the search nodes per segment."""
    steps = [s for s in (to_step(op) for op in history) if s is not None]
    return check_steps(steps, history.initial, budget)
