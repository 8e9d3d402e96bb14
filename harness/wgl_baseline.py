"""The baseline for ``bench checker``: a plain Wing & Gong / Lowe checker as Porcupine writes it.

One doubly linked list of call and return entries in time order; a depth-first search that
"lifts" a call out of the list when it linearizes it and puts it back on backtracking; a cache
of (set of linearized calls as a bitset, state) pairs already explored.  None of semharness's
reductions: no greedy read-only calls, no symmetry, no bounds prefilter, no splitting at
quiescent points.  As in Porcupine, every call must be linearized (a pending call is given a
return after every other event), which matches semharness's semantics on histories without
pending calls -- the only ones the benchmark feeds it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from .linearizability import Step


@dataclass(eq=False)
class _Entry:
    step: Step | None  # None for a return entry
    call_id: int
    time: int
    is_return: bool
    match: _Entry | None = None  # a call's return entry
    prev: _Entry | None = None
    next: _Entry | None = None


def _lift(entry: _Entry) -> None:
    entry.prev.next = entry.next  # type: ignore[union-attr]
    if entry.next is not None:
        entry.next.prev = entry.prev
    match = entry.match
    assert match is not None
    match.prev.next = match.next  # type: ignore[union-attr]
    if match.next is not None:
        match.next.prev = match.prev


def _unlift(entry: _Entry) -> None:
    match = entry.match
    assert match is not None
    match.prev.next = match  # type: ignore[union-attr]
    if match.next is not None:
        match.next.prev = match
    entry.prev.next = entry  # type: ignore[union-attr]
    if entry.next is not None:
        entry.next.prev = entry


def check(steps: Sequence[Step], initial: int, deadline: float | None = None) -> str:
    """'ok', 'violation', or 'unknown' if ``deadline`` (time.monotonic) passes."""
    end = max((s.ret for s in steps if not s.pending), default=0) + 1
    events: list[tuple[int, int, int]] = []  # (time, 0 call / 1 return, id)
    for i, s in enumerate(steps):
        events.append((s.invoke, 0, i))
        events.append((end if s.pending else s.ret, 1, i))
    events.sort()
    head = _Entry(None, -1, -1, False)
    calls: dict[int, _Entry] = {}
    prev = head
    for t, kind, i in events:
        if kind == 0:
            entry = _Entry(steps[i], i, t, False)
            calls[i] = entry
        else:
            entry = _Entry(None, i, t, True)
            calls[i].match = entry
        entry.prev = prev
        prev.next = entry
        prev = entry

    cache: set[tuple[int, int]] = set()
    stack: list[tuple[_Entry, int]] = []
    linearized = 0
    state = initial
    entry = head.next
    checks = 0
    while head.next is not None:
        checks += 1
        if deadline is not None and checks % 4096 == 0 and time.monotonic() > deadline:
            return "unknown"
        assert entry is not None
        if not entry.is_return:
            step = entry.step
            assert step is not None
            if step.applies(state):
                new_state = state + step.effect()
                new_linearized = linearized | (1 << entry.call_id)
                key = (new_linearized, new_state)
                if key not in cache:
                    cache.add(key)
                    stack.append((entry, state))
                    state = new_state
                    linearized = new_linearized
                    _lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            if not stack:
                return "violation"
            entry, state = stack.pop()
            linearized &= ~(1 << entry.call_id)
            _unlift(entry)
            entry = entry.next
    return "ok"
