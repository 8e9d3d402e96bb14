"""What is wrong with one run: the run's history through the same checks as every other
history (linearizability, invariants), plus what only a controlled run can tell -- how it ended
(deadlock, livelock, crash) and whether each call did what the scenario expects.

A run that ends with threads blocked for ever (outcome 'deadlock') is at quiescence: nothing
can run and no timeout is pending, so those calls will never return.  They are checked as calls
that took no effect -- a blocked acquire that had taken its tokens would hold them for nobody --
and, for the liveness check, as waiters: one whose request the final count could satisfy is a
lost wake-up.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..history import History
from ..invariants import check_invariants
from ..linearizability import Verdict, check_history, quick_status
from ..scenario import ANY
from .core import OP_NAMES, SLEEP, TICK_NS, HistoryRow, RunRecord
from .programs import ModelScenario

#: How far a call's virtual duration may be from the ``takes`` the scenario expects: the steps
#: of the call itself take virtual time (TICK_NS each).
TAKES_SLACK_NS = 1000 * TICK_NS


@dataclass(frozen=True)
class Failure:
    """One thing wrong with a run: the check that found it and what it found."""

    check: str  # linearizability | invariant | bad input | timeout | lost wake-up | deadlock
    # | livelock | crash | error | expectation
    message: str
    index: int | None = None  # the history row it is about, if any


def to_history(rows: list[HistoryRow], initial: int, drop_pending: bool = False) -> History:
    """The run's calls as a :class:`~semharness.history.History` (rows in the given order)."""
    h = History(initial)
    for thread, code, n, timeout_ns, invoke, ret, result, error in rows:
        if ret < 0 and drop_pending:
            continue
        timeout = None if timeout_ns < 0 else timeout_ns / 1e9
        end = None if ret < 0 else ret
        h.append(thread, OP_NAMES[code], n, timeout, invoke, end, result, error)
    return h


def _expectation_failures(scenario: ModelScenario, rows: list[HistoryRow]) -> list[Failure]:
    """Each call against the scenario's expected result and duration."""
    failures = []
    calls: dict[int, list[int]] = {}
    for i, row in enumerate(rows):
        calls.setdefault(row[0], []).append(i)
    for t, expected in enumerate(scenario.expected):
        actions = scenario.program.threads[t]
        wanted = [e for a, e in zip(actions, expected, strict=True) if a[0] != SLEEP]
        for e, i in zip(wanted, calls.get(t, []), strict=False):
            thread, code, _n, _t, invoke, ret, result, error = rows[i]
            if ret < 0:
                continue  # still blocked: the liveness checks speak for it
            what = f"t{thread} call {i} {OP_NAMES[code]}"
            got = error if error is not None else result
            if e.result is not ANY and got != e.result:
                failures.append(Failure("expectation", f"{what} gave {got!r}, not {e.result!r}", i))
            if e.takes is not None and abs((ret - invoke) - e.takes * 1e9) > TAKES_SLACK_NS:
                took = (ret - invoke) / 1e6
                failures.append(
                    Failure(
                        "expectation",
                        f"{what} took {took:.3f} ms of virtual time, not {e.takes * 1e3:g} ms",
                        i,
                    )
                )
    return failures


def judge(
    scenario: ModelScenario, record: RunRecord, expectations: bool = True
) -> tuple[list[Failure], Verdict | None]:
    """Every failure of one run (empty: it passed), and the linearizability verdict.

    ``expectations``: check the scenario's expected results and durations (they hold when
    timeouts are quiescent -- a pause then proves the others blocked -- not in adversarial runs).
    """
    failures: list[Failure] = []
    outcome = record.outcome
    if outcome == "crash":
        failures.append(Failure("crash", "; ".join(record.findings) or "the code crashed"))
    elif outcome == "error":
        failures.append(Failure("error", "; ".join(record.findings) or "the code raised"))
    elif outcome == "step-limit":
        failures.append(Failure("livelock", "the run did not end within its step bound"))
    else:
        failures += [Failure("timeout", text) for text in record.findings]
    rows = record.history
    quiescent_end = outcome in ("done", "deadlock")
    checked = to_history(rows, scenario.program.initial, quiescent_end)
    verdict = None
    if quick_status(checked) != "ok":  # the full answer only when there is something to say
        verdict = check_history(checked)
        if verdict.status == "violation":
            failures.append(Failure("linearizability", verdict.reason, verdict.culprit))
    if quiescent_end:
        for finding in check_invariants(to_history(rows, scenario.program.initial)):
            if finding.check != "deadlock":  # judged from the outcome, as the scenario says
                failures.append(Failure(finding.check, finding.message, finding.index))
        if outcome == "deadlock" and scenario.must_finish:  # after the lost wake-ups
            blocked = sorted({row[0] for row in rows if row[5] < 0})
            failures.append(
                Failure("deadlock", f"threads {blocked} blocked for ever with no timeout pending")
            )
        if expectations:
            failures += _expectation_failures(scenario, rows)
            final = scenario.final
            observed = rows[-1] if rows and rows[-1][0] == len(scenario.program.threads) else None
            ended = outcome == "done" and observed is not None and observed[5] >= 0
            if ended and final is not None and observed[6] != final:
                failures.append(
                    Failure("expectation", f"the final count is {observed[6]}, not {final}")
                )
    return failures, verdict
