"""Invariants, timeouts and liveness from a history."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from semharness.contract import MAX_COUNT
from semharness.histgen import generate, to_history
from semharness.history import (
    AVAILABLE,
    NO_RESULT,
    OP_NAMES,
    PENDING,
    TRY_ACQUIRE,
    History,
    Operation,
)
from semharness.invariants import Finding, check_invariants


def checks(h: History) -> list[tuple[str, int | None]]:
    return [(f.check, f.index) for f in check_invariants(h)]


def test_a_clean_history_has_no_findings() -> None:
    h = History(initial=1)
    h.append(0, "acquire", 1, None, 0, 10)
    h.append(1, "try_acquire", 1, 0.5, 1, 600_000_000, result=False)
    h.append(0, "release", -1, None, 11, 12, error="ValueError")
    h.append(0, "release", 1, None, 13, 14)
    h.append(2, "available", 0, None, 700_000_000, 700_000_010, result=1)
    assert checks(h) == []


def test_errors_only_for_bad_input() -> None:
    h = History(initial=1)
    h.append(0, "acquire", 1, None, 0, 1, error="ValueError")  # valid n, raised
    h.append(0, "release", -2, None, 2, 3)  # n < 0 accepted
    h.append(0, "acquire", 1, None, 4, 5, error="RuntimeError")  # not in the contract
    h.append(0, "release", 3, None, 6, 7, error="OverflowError")  # judged by linearizability
    assert checks(h) == [("bad input", 0), ("bad input", 1), ("invariant", 2)]


def test_timed_try_failing_early_is_reported() -> None:
    h = History(initial=0)
    h.append(0, "try_acquire", 1, 0.2, 0, 150_000_000, result=False)
    h.append(0, "try_acquire", 1, 0.2, 200_000_000, 400_000_000, result=False)
    assert checks(h) == [("timeout", 0)]


def test_conservation_and_negative_counts() -> None:
    h = History(initial=2)
    h.append(0, "acquire", 1, None, 0, 1)
    h.append(0, "release", 3, None, 2, 3)
    h.append(1, "available", 0, None, 10, 11, result=3)  # should be 4
    assert checks(h) == [("invariant", 2)]
    h2 = History(initial=0)
    h2.append(0, "available", 0, None, 0, 1, result=-1)
    assert ("invariant", 0) in checks(h2)


def test_lost_wake_up_and_deadlock() -> None:
    h = History(initial=0)
    h.append(0, "acquire", 1, None, 0, None)  # blocked for ever
    h.append(1, "release", 1, None, 5, 6)
    h.append(2, "available", 0, None, 100, 101, result=1)  # a token is there
    assert checks(h) == [("lost wake-up", 0)]
    h = History(initial=0)
    h.append(0, "acquire", 1, None, 0, None)
    h.append(1, "acquire", 2, None, 1, None)
    assert checks(h) == [("deadlock", None)]
    h = History(initial=0)  # a timed wait still pending is no deadlock yet
    h.append(0, "acquire", 1, None, 0, None)
    h.append(1, "try_acquire", 2, 5.0, 1, None)
    assert checks(h) == []


# ---- the vectorised checks against the per-operation loop they replaced ------------------------
# The implementation before vectorisation, kept verbatim (but for names) as the oracle: the
# columns version must give exactly its findings, indices, messages and order, for any history.

ORACLE_CONTRACT_ERRORS = ("ValueError", "TypeError", "OverflowError")


def _describe(op: Operation) -> str:
    args = "" if op.op == "available" else str(op.n)
    if op.op == "try_acquire":
        args += f", {op.timeout}"
    return f"#{op.index} t{op.thread} {op.op}({args})"


def _input_findings(op: Operation) -> list[Finding]:
    valid = 0 <= op.n <= MAX_COUNT
    if op.error is None:
        if op.n < 0:
            return [Finding("bad input", op.index, f"{_describe(op)} accepted n < 0")]
        return []
    if op.error not in ORACLE_CONTRACT_ERRORS:
        return [Finding("invariant", op.index, f"{_describe(op)} raised {op.error}")]
    if op.error == "OverflowError" and (op.op == "release" or not valid):
        return []
    if op.error == "ValueError" and op.n < 0:
        return []
    return [Finding("bad input", op.index, f"{_describe(op)} raised {op.error} on valid input")]


def _timing_findings(op: Operation) -> list[Finding]:
    if op.op != "try_acquire" or op.ret is None or op.result is not False or op.error:
        return []
    timeout = op.timeout
    if timeout is None or math.isnan(timeout) or timeout <= 0:
        return []
    took = op.ret - op.invoke
    if took < int(timeout * 1e9) - 1_000:
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
    done = [op for op in ops if op.ret is not None]
    if not done:
        return None, None
    last = max(done, key=lambda op: op.invoke)
    if last.op != "available" or last.error is not None:
        return None, None
    if any(op.ret > last.invoke for op in done if op is not last):
        return None, None
    return int(last.result), last.index


def oracle_check_invariants(history: History) -> list[Finding]:
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


def outcome(check: Callable[[History], list[Finding]], h: History) -> object:
    """The findings as plain tuples, or the exception's type if the check raised."""
    try:
        return [(f.check, f.index, f.message) for f in check(h)]
    except Exception as exc:  # an infinite deadline: int(inf) raised before, and still does
        return type(exc)


I64 = 2**63
ERRORS = (*ORACLE_CONTRACT_ERRORS, "RuntimeError", "KeyError")
N = st.one_of(
    st.integers(-2, 3),
    st.sampled_from([MAX_COUNT, MAX_COUNT + 1, -(2**40), 2**62, I64 - 1, -I64]),
)
TIMEOUT = st.one_of(
    st.none(),
    st.sampled_from([math.nan, 0.0, -0.0, -1.0, 1e-6, 1.5e-6, 2e-6, 3e-6, 1e-3, 1e12, 1e300]),
    st.sampled_from([1.5e-6, 2e-6]),
    st.floats(-1.0, 1e-5),
    st.floats(1e-6, 6e-6),  # deadlines of 0 to 5 us: within the small times below
    st.just(math.inf),
)
# mostly small times, so that invokes tie and calls end around their deadlines; some extreme,
# where ret - invoke overflows int64
TIME = st.one_of(
    st.integers(0, 20),
    st.integers(0, 5_000),
    st.sampled_from([-I64, -(2**62) - 1, -(2**62), -(2**62) + 1, 2**62 - 1, 2**62, I64 - 1]),
    st.integers(-I64, I64 - 1),
)
# how long a call took: anything up to 5 us, or just around a deadline of 1.5e-6 s (500 ns
# after the 1 us allowance), 2e-6 s (1000 ns) or 3e-6 s (2000 ns)
TOOK = st.one_of(st.integers(0, 5_000), st.sampled_from([0, 1, 499, 500, 501, 999, 1000, 1001]))
RESULT = st.one_of(st.integers(-1, 4), st.sampled_from([MAX_COUNT, MAX_COUNT + 1, I64 - 1]))


@st.composite
def histories(draw: st.DrawFn) -> History:
    h = History(initial=draw(st.integers(-2, 5)))
    rows = draw(st.lists(st.tuples(st.integers(0, 3), st.sampled_from(OP_NAMES)), max_size=12))
    for thread, op in rows:
        invoke = draw(TIME)
        ret = None if draw(st.integers(0, 4)) == 0 else draw(TIME)
        if ret is not None and draw(st.booleans()):
            ret = invoke + draw(TOOK)  # returns after its invoke
        if ret is not None:
            ret = min(max(ret, -I64 + 1), I64 - 1)  # INT64_MIN is PENDING
        error = None if ret is None or draw(st.booleans()) else draw(st.sampled_from(ERRORS))
        result: bool | int | None = None
        if op == "try_acquire":
            result = draw(st.booleans())
        elif op == "available":
            result = draw(RESULT)
        h.append(thread, op, draw(N), draw(TIMEOUT), invoke, ret, result, error)
    if rows and draw(st.booleans()):
        # the observer: an available() on its own thread after every other call returned
        done = [op for op in h if op.ret is not None]
        start = max([op.ret for op in done] + [op.invoke for op in done], default=0)
        if start < I64 - 20:
            h.append(9, "available", 0, None, start + 1, start + 2, draw(RESULT))
    return h


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(histories())
def test_same_findings_as_the_per_operation_loop(h: History) -> None:
    assert outcome(check_invariants, h) == outcome(oracle_check_invariants, h)


def test_same_findings_on_a_large_generated_history() -> None:
    steps, initial = generate(300_000, 4, seed=3)
    h = to_history(steps, initial)
    assert check_invariants(h) == [] == oracle_check_invariants(h)
    # and with something for every check: bad inputs, foreign errors, early timeouts, bad
    # reads, a wrong final count, calls left blocked
    rng = np.random.default_rng(3)
    cols = {k: v.copy() for k, v in h.columns().items()}
    size = len(h)
    some = rng.choice(size, 300, replace=False)
    cols["n"][some[:50]] = -1
    cols["error"][some[50:100]] = rng.integers(1, 4, 50)
    cols["ret"][some[50:100]] = np.maximum(cols["ret"][some[50:100]], cols["invoke"][some[50:100]])
    cols["timeout"][np.flatnonzero(cols["op"] == TRY_ACQUIRE)[::10]] = 1e-3
    read = np.flatnonzero((cols["op"] == AVAILABLE) & (cols["ret"] != PENDING))
    cols["result"][read[:20]] = -5
    cols["ret"][-3:] = PENDING
    cols["error"][-3:] = 0
    cols["result"][-3:] = NO_RESULT
    names = (None, "ValueError", "OverflowError", "RuntimeError")
    h2 = History.from_arrays(**cols, error_names=names, initial=initial)
    found = outcome(check_invariants, h2)
    assert found == outcome(oracle_check_invariants, h2)
    assert {check for check, _, _ in found} >= {"bad input", "invariant", "timeout"}
