"""Checks of a history beyond linearizability: invariants, timeouts and liveness.

Linearizability says whether the completed calls fit the specification; these say what it
cannot: that a call raised although its input was valid (or did not although it was not), that
a count was negative, that tokens were created or lost by the end, that a timed try gave up
before its deadline, and -- from the calls still pending at the end -- whether a waiter was left
blocked while the count could satisfy it (a lost wake-up) or every thread was blocked for ever
(a deadlock).

Every check works on whole columns of the history (stress histories have tens of millions of
operations): a boolean mask says which operations it flags, and only those are decoded to build
their messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .contract import MAX_COUNT
from .history import ACQUIRE, AVAILABLE, PENDING, RELEASE, TRY_ACQUIRE, History, Operation

#: Errors the contract allows, and when.
CONTRACT_ERRORS = ("ValueError", "TypeError", "OverflowError")

#: Timestamps and deadlines (ns) within +-2**62 are compared in int64 without overflow (146
#: years); anything beyond is compared with Python ints, as exactly.
_INT64_SAFE = 2**62


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


def _error_masks(history: History) -> tuple[np.ndarray, np.ndarray]:
    """Errors only for bad input, and always for it (n < 0, or n past the maximum).

    ``(wrong, foreign)``: ``wrong`` flags a contract error on valid input or no error on n < 0
    ('bad input'), ``foreign`` an error the contract does not know ('invariant')."""
    names = history.error_names  # by code; code 0 is no error
    known = np.array([name in CONTRACT_ERRORS for name in names])
    overflow = np.array([name == "OverflowError" for name in names])
    value = np.array([name == "ValueError" for name in names])
    err, n = history.error, history.n
    raised = err != 0
    valid = (n >= 0) & (n <= MAX_COUNT)
    # a release past the maximum (linearizability checks when), or n too big
    excused = overflow[err] & ((history.op == RELEASE) | ~valid)
    excused |= value[err] & (n < 0)
    wrong = np.where(raised, known[err] & ~excused, n < 0)
    return wrong, raised & ~known[err]


def _error_message(op: Operation) -> str:
    if op.error is None:
        return f"{_describe(op)} accepted n < 0"
    if op.error not in CONTRACT_ERRORS:
        return f"{_describe(op)} raised {op.error}"
    return f"{_describe(op)} raised {op.error} on valid input"


def _early_mask(history: History) -> np.ndarray:
    """A timed try that failed must not have returned before its deadline."""
    result, timeout = history.result, history.timeout
    completed = (history.op == TRY_ACQUIRE) & (history.ret != PENDING) & (history.error == 0)
    failed = completed & (result == 0)  # a completed try's result is 0 or 1
    rows = np.flatnonzero(failed & (timeout > 0))  # NaN (no timeout) is not > 0
    with np.errstate(over="ignore"):  # a deadline past 1.8e308 ns is inf
        deadline = timeout[rows] * 1e9
    invoke, ret = history.invoke[rows], history.ret[rows]
    plain = (deadline < _INT64_SAFE) & (invoke > -_INT64_SAFE) & (invoke < _INT64_SAFE)
    plain &= (ret > -_INT64_SAFE) & (ret < _INT64_SAFE)
    early = np.zeros(len(rows), bool)
    # 1 us for float seconds <-> integer ns; astype truncates toward zero, as int() does
    early[plain] = ret[plain] - invoke[plain] < deadline[plain].astype(np.int64) - 1_000
    odd = np.flatnonzero(~plain)  # none in a real history: Python ints, as exact
    early[odd] = [
        r - i < int(t * 1e9) - 1_000
        for i, r, t in zip(
            invoke[odd].tolist(), ret[odd].tolist(), timeout[rows[odd]].tolist(), strict=True
        )
    ]
    mask = np.zeros(len(history), bool)
    mask[rows[early]] = True
    return mask


def _timeout_message(op: Operation) -> str:
    return (
        f"{_describe(op)} gave up after {(op.ret - op.invoke) / 1e6:.3f} ms, before its "
        f"{op.timeout * 1e3:g} ms deadline"
    )


def _bad_read_mask(history: History) -> np.ndarray:
    """A count read by available() must lie in 0..MAX_COUNT."""
    read = (history.op == AVAILABLE) & (history.ret != PENDING) & (history.error == 0)
    result = history.result
    return read & ((result < 0) | (result > MAX_COUNT))


def _final_count(history: History) -> tuple[int | None, int | None]:
    """The count at the end, when the history says it: an available() invoked after every
    other completed call returned.  ``(count, index of that read)`` or ``(None, None)``."""
    done = np.flatnonzero(history.ret != PENDING)
    if not done.size:
        return None, None
    invoke = history.invoke
    last = int(done[np.argmax(invoke[done])])  # the first of the latest invoked
    if history.op[last] != AVAILABLE or history.error[last] != 0:
        return None, None
    later = history.ret > invoke[last]  # never true of a pending call (ret is INT64_MIN)
    later[last] = False
    if later.any():
        return None, None
    return int(history.result[last]), last


def _exact_sum(values: np.ndarray) -> int:
    """The sum as a Python int, which int64 could overflow (n may be huge): the high and low 32
    bits are summed apart, exactly for up to 2**31 values."""
    high = int((values >> 32).sum())
    low = int((values & 0xFFFFFFFF).sum())
    return high * 2**32 + low


def check_invariants(history: History) -> list[Finding]:
    """Every finding of this module, in history order."""
    wrong, foreign = _error_masks(history)
    early = _early_mask(history)
    bad_read = _bad_read_mask(history)
    findings: list[Finding] = []
    for i in np.flatnonzero(wrong | foreign | early | bad_read).tolist():  # flagged ops only
        op = history.op_at(i)
        if wrong[i]:
            findings.append(Finding("bad input", i, _error_message(op)))
        if foreign[i]:
            findings.append(Finding("invariant", i, _error_message(op)))
        if early[i]:
            findings.append(Finding("timeout", i, _timeout_message(op)))
        if bad_read[i]:
            findings.append(Finding("invariant", i, f"{_describe(op)} read {op.result}"))
    findings += _end_findings(history)
    return findings


def _end_findings(history: History) -> list[Finding]:
    """Conservation, lost wake-ups and deadlock, from the state at the end."""
    findings: list[Finding] = []
    final, final_index = _final_count(history)
    op, n, ok = history.op, history.n, history.error == 0
    pending = history.ret == PENDING
    if final is not None and not pending.any():
        took = ok & ((op == ACQUIRE) | ((op == TRY_ACQUIRE) & (history.result == 1)))
        taken = _exact_sum(n[took])
        given = _exact_sum(n[ok & (op == RELEASE)])
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
    waiters = pending & ((op == ACQUIRE) | (op == TRY_ACQUIRE)) & (n > 0)
    if final is not None:
        for i in np.flatnonzero(waiters & (n <= final)).tolist():
            findings.append(
                Finding(
                    "lost wake-up",
                    i,
                    f"{_describe(history.op_at(i))} is still blocked while the count is {final} "
                    "at the end: it could have taken its tokens",
                )
            )
    untimed = waiters & ((op == ACQUIRE) | np.isnan(history.timeout))
    if untimed.any() and np.array_equal(untimed, pending) and _all_blocked(history, final_index):
        findings.append(
            Finding(
                "deadlock",
                None,
                "every thread is blocked with no timeout pending: "
                + ", ".join(_describe(history.op_at(i)) for i in np.flatnonzero(untimed).tolist()),
            )
        )
    return findings


def _all_blocked(history: History, observer: int | None) -> bool:
    """Whether every thread has a call pending.  The observer that read the final count is not
    one of the threads that could deadlock."""
    thread = history.thread
    threads = np.unique(thread)
    if observer is not None:
        threads = threads[threads != thread[observer]]
    blocked = np.unique(thread[history.ret == PENDING])
    return np.array_equal(blocked, threads)
