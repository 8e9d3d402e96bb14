"""Checks of a history beyond linearizability: invariants, timeouts and liveness.

Linearizability says whether the completed calls fit the specification; these say what it
cannot: that a call raised although its input was valid (or did not although it was not), that
a count was negative, that tokens were created or lost by the end, that a timed try gave up
before its deadline, and -- from the calls still pending at the end -- whether a waiter was left
blocked while the count could satisfy it (a lost wake-up) or every thread was blocked for ever
(a deadlock).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .contract import MAX_COUNT
from .history import History, Operation

#: Errors the contract allows, and when.
CONTRACT_ERRORS = ("ValueError", "TypeError", "OverflowError")


@dataclass(frozen=True)
class Finding:
    """One problem: which check found it, the call (history index) and what is wrong."""

    check: str  # 'bad input' | 'invariant' | 'timeout' | 'lost wake-up' | 'deadlock'
    index: int | None
    message: str


def _describe(op: Operation) -> str:
    args = "" if op.op == "available" else str(op.n)
    if op.op == "try_acquire":
        args += f", {op.timeout}"
    return f"#{op.index} t{op.thread} {op.op}({args})"


def _input_findings(op: Operation) -> list[Finding]:
    """Errors only for bad input, and always for it (n < 0, or n past the maximum)."""
    valid = 0 <= op.n <= MAX_COUNT
    if op.error is None:
        if op.n < 0:
            return [Finding("bad input", op.index, f"{_describe(op)} accepted n < 0")]
        return []
    if op.error not in CONTRACT_ERRORS:
        return [Finding("invariant", op.index, f"{_describe(op)} raised {op.error}")]
    if op.error == "OverflowError" and (op.op == "release" or not valid):
        return []  # a release past the maximum (linearizability checks when), or n too big
    if op.error == "ValueError" and op.n < 0:
        return []
    return [Finding("bad input", op.index, f"{_describe(op)} raised {op.error} on valid input")]


def _timing_findings(op: Operation) -> list[Finding]:
    """A timed try that failed must not have returned before its deadline."""
    if op.op != "try_acquire" or op.ret is None or op.result is not False or op.error:
        return []
    timeout = op.timeout
    if timeout is None or math.isnan(timeout) or timeout <= 0:
        return []
    took = op.ret - op.invoke
    if took < int(timeout * 1e9) - 1_000:  # 1 us for float seconds <-> integer ns
        return [
            Finding(
                "timeout",
                op.index,
                f"{_describe(op)} gave up after {took / 1e6:.3f} ms, before its "
                f"{timeout * 1e3:g} ms deadline",
            )
        ]
    return []


def _final_count(history: History, ops: list[Operation]) -> tuple[int | None, int | None]:
    """The count at the end, when the history says it: an available() invoked after every
    other completed call returned.  ``(count, index of that read)`` or ``(None, None)``."""
    done = [op for op in ops if op.ret is not None]
    if not done:
        return None, None
    last = max(done, key=lambda op: op.invoke)
    if last.op != "available" or last.error is not None:
        return None, None
    if any(op.ret > last.invoke for op in done if op is not last):
        return None, None
    return int(last.result), last.index


def check_invariants(history: History) -> list[Finding]:
    """Every finding of this module, in history order."""
    ops = list(history)
    findings: list[Finding] = []
    for op in ops:
        findings += _input_findings(op)
        findings += _timing_findings(op)
        read = op.op == "available" and op.ret is not None and op.error is None
        if read and not 0 <= op.result <= MAX_COUNT:
            findings.append(Finding("invariant", op.index, f"{_describe(op)} read {op.result}"))
    findings += _end_findings(history, ops)
    return findings


def _end_findings(history: History, ops: list[Operation]) -> list[Finding]:
    """Conservation, lost wake-ups and deadlock, from the state at the end."""
    findings: list[Finding] = []
    final, final_index = _final_count(history, ops)
    pending = [op for op in ops if op.ret is None]
    if final is not None and not pending:
        taken = sum(
            op.n
            for op in ops
            if op.error is None
            and (op.op == "acquire" or (op.op == "try_acquire" and op.result is True))
        )
        given = sum(op.n for op in ops if op.error is None and op.op == "release")
        expected = history.initial + given - taken
        if final != expected:
            findings.append(
                Finding(
                    "invariant",
                    final_index,
                    f"conservation: the count is {final} at the end, but initial "
                    f"{history.initial} + released {given} - acquired {taken} = {expected}",
                )
            )
    waiters = [op for op in pending if op.op in ("acquire", "try_acquire") and op.n > 0]
    if final is not None:
        for op in waiters:
            if op.n <= final:
                findings.append(
                    Finding(
                        "lost wake-up",
                        op.index,
                        f"{_describe(op)} is still blocked while the count is {final} at the "
                        "end: it could have taken its tokens",
                    )
                )
    # The observer that read the final count is not one of the threads that could deadlock.
    threads = {op.thread for op in ops} - (
        {history.op_at(final_index).thread} if final_index is not None else set()
    )
    untimed = [
        op for op in waiters if op.op == "acquire" or op.timeout is None or math.isnan(op.timeout)
    ]
    blocked = {op.thread for op in pending}
    if untimed and len(untimed) == len(pending) and blocked == threads:
        findings.append(
            Finding(
                "deadlock",
                None,
                "every thread is blocked with no timeout pending: "
                + ", ".join(_describe(op) for op in untimed),
            )
        )
    return findings
