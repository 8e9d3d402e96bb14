"""A failing run as text: one column per thread, every visible step in order, the call each
step belongs to, and the specification's count after each call takes effect.

The count column comes from the linearizability checker's answer for the run: the count after
each call in its linearization (the longest partial one, for a violation).  So beside the
implementation's own words (old -> new) stands what the specification says the count is.
"""

from __future__ import annotations

from .core import AVAILABLE, OP_NAMES, SLEEP, TRY_ACQUIRE, TraceStep
from .judge import Failure, to_history
from .runner import FoundFailure

MAX_COLUMN = 60


def _value(v: int | None) -> str:
    if v is None:
        return ""
    if v < 0 or v <= 0xFFFF:
        return str(v)
    if v <= 0xFFFFFFFF:
        return f"{v:#x}"
    return f"{v >> 32:#x}_{v & 0xFFFFFFFF:08x}"


def step_text(step: TraceStep) -> str:
    """One step as a short phrase: ``cas +0 0x1_00000001 -> 0x0``."""
    _thread, op_index, kind, target, old, new, note = step
    call = f"#{op_index} " if op_index >= 0 else ""
    if kind == "invoke":
        return f"{call}{note}"
    if kind == "return":
        return f"{call}{note}"
    parts = [kind, target if target != kind else ""]
    if old is not None or new is not None:
        parts.append(f"{_value(old)} -> {_value(new)}" if new is not None else _value(old))
    if note:
        parts.append(note)
    return "  " + call + " ".join(p for p in parts if p)


def _counts(found: FoundFailure) -> dict[int, int]:
    """History row -> the specification's count right after that call took effect."""
    from ..linearizability import check_history

    rows = found.record.history
    quiescent = found.record.outcome in ("done", "deadlock")
    kept = [i for i, r in enumerate(rows) if not (quiescent and r[5] < 0)]
    verdict = check_history(to_history([rows[i] for i in kept], found.program.initial))
    return {kept[i]: c for i, c in zip(verdict.order, verdict.counts, strict=True)}


def render(found: FoundFailure, title: str = "") -> str:
    """The whole report of one failure: header, the failures found, the trace table."""
    program = found.program
    threads = len(program.threads)
    names = [f"t{t}" for t in range(threads)] + ["observer"]
    record = found.record
    # history row of each (thread, action index): a thread's rows are its calls in order,
    # its sleeps left out (the observer's one call is its action 0)
    rows_of: dict[int, list[int]] = {}
    for i, r in enumerate(record.history):
        rows_of.setdefault(r[0], []).append(i)
    row_of: dict[tuple[int, int], int] = {}
    for t, rows in rows_of.items():
        actions = program.threads[t] if t < threads else ((AVAILABLE, 0, 0),)
        calls = [j for j, a in enumerate(actions) if a[0] != SLEEP]
        row_of.update({(t, j): row for j, row in zip(calls, rows, strict=False)})
    counts = _counts(found)
    cells = []
    for step in record.trace:
        text = step_text(step)[:MAX_COLUMN]
        count = ""
        if step[2] == "return":
            row = row_of.get((step[0], step[1]))
            if row is not None and row in counts:
                count = str(counts[row])
        cells.append((step[0], text, count))
    widths = [len(n) for n in names]
    for t, text, _ in cells:
        if 0 <= t < len(widths):
            widths[t] = max(widths[t], len(text))
    lines = []
    if title:
        lines.append(title)
    cfg = found.config
    lines.append(
        f"timeouts {cfg.timeouts}, up to {cfg.spurious} spurious wake-ups; "
        f"{len(found.choices)} choices ({_preemptions(found)} preemptions), "
        f"{len(record.trace)} steps, outcome {record.outcome}"
    )
    lines += [f"FAIL [{f.check}] {f.message}" for f in found.failures]
    lines.append("program: " + describe_program(found))
    header = "  step | " + " | ".join(n.ljust(w) for n, w in zip(names, widths, strict=True))
    lines += [header + " | count", "-" * (len(header) + 8)]
    for number, (t, text, count) in enumerate(cells, 1):
        columns = [(text if t == c else "").ljust(w) for c, w in enumerate(widths)]
        lines.append(f"{number:6d} | " + " | ".join(columns) + f" | {count}".rstrip())
    return "\n".join(lines)


def _preemptions(found: FoundFailure) -> int:
    return found.record.trail.preemptions


def describe_program(found: FoundFailure) -> str:
    """``sem(1); t0: acquire(1), release(1) | t1: ...``"""
    parts = []
    for t, actions in enumerate(found.program.threads):
        calls = []
        for code, n, timeout in actions:
            if code == SLEEP:
                calls.append(f"sleep({timeout / 1e9:g}s)")
            elif code == AVAILABLE:
                calls.append("available()")
            elif code == TRY_ACQUIRE:
                shown = "forever" if timeout < 0 else f"{timeout / 1e9:g}s"
                calls.append(f"try_acquire({n}, {shown})")
            else:
                calls.append(f"{OP_NAMES[code]}({n})")
        parts.append(f"t{t}: " + ", ".join(calls))
    return f"sem({found.program.initial}); " + " | ".join(parts)


def failure_line(failures: list[Failure]) -> str:
    """The first failure in one line, for tables."""
    return f"{failures[0].check}: {failures[0].message}" if failures else "ok"
