"""The C executor of the model checker (harness/model/cexec.py over harness/csrc/model_runtime.c).

The reference implementations (futex64, futex32) and the README's mutex + condition variable
semaphore run UNMODIFIED under the model: small programs under random, PCT and prefix specs,
both timeout modes and spurious wake-ups must end 'done' with linearizable histories and no
findings.  Runs are reproducible (same spec, same everything; a trail replays as a prefix), and
deliberately buggy files under tests/data/ show each failure outcome: 'deadlock', 'crash' (in
a subprocess: a crash ends the process), 'step-limit', and a timeout-accuracy finding.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from semharness.history import History
from semharness.linearizability import check_history
from semharness.model.cexec import CRASH_EXIT, CExecutor, parse_crash
from semharness.model.core import (
    ACQUIRE,
    AVAILABLE,
    PCT,
    PREFIX,
    RANDOM,
    RELEASE,
    SLEEP,
    TRY_ACQUIRE,
    HistoryRow,
    Program,
    RunConfig,
    ScheduleSpec,
)

ROOT = Path(__file__).resolve().parent.parent
IMPLS = ROOT / "implementations" / "c"
DATA = ROOT / "tests" / "data"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not found on PATH")

SOURCES = {
    "futex64": IMPLS / "futex64.c",
    "futex32": IMPLS / "futex32.c",
    "mutex_sem": DATA / "mutex_sem.c",
}

A, T, R, S = ACQUIRE, TRY_ACQUIRE, RELEASE, SLEEP

PROGRAMS = {
    # the standard scenario: three threads take and give back the one token
    "pairs": Program(1, (((A, 1, 0), (R, 1, 0)),) * 3),
    # two waiters on an empty semaphore, both released by a third thread
    "waiters": Program(0, (((A, 1, 0),), ((A, 1, 0),), ((R, 1, 0), (R, 1, 0)))),
    # a multi-token waiter among single-token calls (futex64: the high half and bit 63)
    "multi": Program(2, (((A, 2, 0),), ((R, 1, 0), (T, 1, 0)), ((T, 1, 3000), (R, 1, 0)))),
    # timed tries racing a release that comes after a sleep
    "timed": Program(0, (((T, 1, 5000),), ((S, 0, 3000), (R, 1, 0)), ((T, 1, 2000), (R, 1, 0)))),
}

CONFIGS = {
    "quiescent": RunConfig(),
    "adversarial": RunConfig(timeouts="adversarial"),
    "spurious": RunConfig(spurious=2),
}


def specs(count: int) -> list[ScheduleSpec]:
    """Random and PCT specs, and prefix specs that preempt at the first few points."""
    out = [ScheduleSpec(mode=RANDOM, seed=s) for s in range(count)]
    out += [ScheduleSpec(mode=PCT, seed=s, depth=3, horizon=40) for s in range(count)]
    out += [ScheduleSpec(mode=PREFIX, prefix=(0,) * k + (1,)) for k in range(8)]
    out.append(ScheduleSpec(mode=PREFIX))
    return out


def to_history(program: Program, rows: list[HistoryRow]) -> History:
    """The run's calls as the linearizability checker reads them (timeouts in seconds)."""
    h = History(program.initial)
    for thread, code, n, timeout, invoke, ret, result, error in rows:
        seconds = None if code != TRY_ACQUIRE or timeout < 0 else timeout / 1e9
        done = ret >= 0
        h.append(
            thread,
            code,
            n,
            seconds,
            invoke,
            ret if done else None,
            result if done else None,
            error,
        )
    return h


def conserved(program: Program, rows: list[HistoryRow]) -> bool:
    """Final count (the observer's) = initial + released - acquired."""
    count = program.initial
    final = None
    for _thread, code, n, _timeout, _invoke, ret, result, error in rows:
        if ret < 0 or error is not None:
            continue
        if code == RELEASE:
            count += n
        elif code == ACQUIRE or (code == TRY_ACQUIRE and result):
            count -= n
        elif code == AVAILABLE:
            final = result
    return final == count


def normalised(rows: list[HistoryRow]) -> tuple:
    """A history up to a monotone renaming of its times (what a signature stands for)."""
    times = sorted({t for row in rows for t in (row[4], row[5]) if t >= 0})
    rank = {t: i for i, t in enumerate(times)}
    return tuple(
        (th, c, n, to, rank[i], rank.get(r, -1), res, err) for th, c, n, to, i, r, res, err in rows
    )


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("program", PROGRAMS)
@pytest.mark.parametrize("impl", SOURCES)
def test_correct_implementations_pass(impl: str, program: str, config: str) -> None:
    prog = PROGRAMS[program]
    ex = CExecutor(SOURCES[impl], prog, CONFIGS[config])
    distinct: dict[bytes, list[HistoryRow]] = {}
    for spec in specs(60):
        outcome, sig = ex.run(spec)
        assert outcome == "done", (spec, ex.trail(), ex.history())
        assert ex.findings() == [], spec
        rows = ex.history()
        assert len(rows) == prog.calls + 1
        assert all(ret >= 0 for *_, ret, _res, _err in rows)
        # a signature stands for one history up to the renaming of times
        first = distinct.setdefault(sig, rows)
        assert normalised(first) == normalised(rows)
    for rows in distinct.values():
        assert conserved(prog, rows), rows
        verdict = check_history(to_history(prog, rows))
        assert verdict.ok, (rows, verdict.reason)


def test_signatures_tell_histories_apart() -> None:
    prog = PROGRAMS["timed"]
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig(timeouts="adversarial"))
    by_sig: dict[bytes, tuple] = {}
    by_history: dict[tuple, bytes] = {}
    for seed in range(400):
        _, sig = ex.run(ScheduleSpec(mode=RANDOM, seed=seed))
        norm = normalised(ex.history())
        assert by_sig.setdefault(sig, norm) == norm
        assert by_history.setdefault(norm, sig) == sig
    assert len(by_sig) > 5  # the program does have different histories


@pytest.mark.parametrize("impl", SOURCES)
def test_same_spec_same_run(impl: str) -> None:
    ex = CExecutor(SOURCES[impl], PROGRAMS["multi"], RunConfig(spurious=2))
    for spec in (
        ScheduleSpec(mode=RANDOM, seed=7),
        ScheduleSpec(mode=PCT, seed=11, depth=2, horizon=20),
        ScheduleSpec(mode=PREFIX, prefix=(1, 0, 2, 1)),
    ):
        first = ex.run(spec, trace=True), ex.trail(), ex.history(), ex.trace(), ex.findings()
        ex.run(ScheduleSpec(mode=RANDOM, seed=99))  # something else in between
        again = ex.run(spec, trace=True), ex.trail(), ex.history(), ex.trace(), ex.findings()
        assert first == again
        assert first[3], "a traced run has a trace"
        # tracing does not change the run
        assert ex.run(spec)[1] == first[0][1] and ex.trail() == first[1] and ex.trace() == []


@pytest.mark.parametrize("impl", SOURCES)
def test_trail_replays_as_prefix(impl: str) -> None:
    ex = CExecutor(SOURCES[impl], PROGRAMS["timed"], RunConfig(spurious=1))
    for seed in range(30):
        for spec in (
            ScheduleSpec(mode=RANDOM, seed=seed),
            ScheduleSpec(mode=PCT, seed=seed, depth=3, horizon=30),
        ):
            run = ex.run(spec, trace=True)
            trail, history, trace = ex.trail(), ex.history(), ex.trace()
            assert len(trail.chosen) == len(trail.widths) == len(trail.kinds)
            assert all(c < w for c, w in zip(trail.chosen, trail.widths, strict=True))
            replay = ScheduleSpec(mode=PREFIX, prefix=trail.chosen)
            assert ex.run(replay, trace=True) == run
            assert (ex.trail(), ex.history(), ex.trace()) == (trail, history, trace)


def test_bad_prefix_is_a_mismatch() -> None:
    ex = CExecutor(SOURCES["futex64"], PROGRAMS["pairs"], RunConfig())
    assert ex.run(ScheduleSpec(mode=PREFIX, prefix=(3,)))[0] == "mismatch"  # 3 options
    assert ex.run(ScheduleSpec(mode=PREFIX, prefix=(0, 0, -1)))[0] == "mismatch"
    assert ex.run(ScheduleSpec(mode=PREFIX, prefix=(2,)))[0] == "done"
    assert ex.trail().chosen[0] == 2


def test_choice_points_follow_the_contract() -> None:
    """Index 0 never preempts; the first point is free; wake choices are kind 2."""
    prog = Program(0, (((A, 1, 0),), ((A, 1, 0),), ((A, 1, 0),), ((R, 3, 0),)))
    ex = CExecutor(SOURCES["futex32"], prog, RunConfig())
    kinds_seen: set[int] = set()
    for seed in range(200):
        assert ex.run(ScheduleSpec(mode=RANDOM, seed=seed))[0] == "done"
        trail = ex.trail()
        assert trail.kinds[0] == 1
        kinds_seen.update(trail.kinds)
    assert kinds_seen == {0, 1}  # futex32 wakes all: no wake choices
    # futex64 wakes n on the low half: three waiters and release(1) x 3 gives wake choices
    prog = Program(0, (((A, 1, 0),), ((A, 1, 0),), ((A, 1, 0),), ((R, 1, 0),) * 3))
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig())
    wakes = 0
    for seed in range(300):
        assert ex.run(ScheduleSpec(mode=RANDOM, seed=seed))[0] == "done"
        wakes += ex.trail().kinds.count(2)
    assert wakes > 0


def test_trace_shows_atomics_and_futex_steps() -> None:
    prog = Program(0, (((A, 1, 0),), ((R, 1, 0),)))
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig())
    for seed in range(200):
        ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)
        trace = ex.trace()
        if any(s[2] == "futex_wait" and s[6].startswith("blocks") for s in trace):
            break
    else:
        pytest.fail("no run in which the waiter sleeps")
    kinds = [s[2] for s in trace]
    assert kinds[0] == "invoke" and kinds[-1] == "return"
    wait = next(s for s in trace if s[2] == "futex_wait" and s[6].startswith("blocks"))
    assert wait[0] == 0 and wait[3] == "+0.lo" and isinstance(wait[4], int)
    wake = next(s for s in trace if s[2] == "futex_wake")
    assert wake[0] == 1 and wake[3] == "+0.lo" and wake[5] == 1
    woken = next(s for s in trace if s[2] == "wake")
    assert woken[0] == 0 and woken[6] == "woken by t1"
    cas = next(s for s in trace if s[2] == "cas")
    assert isinstance(cas[4], int) and isinstance(cas[5], int)
    assert cas[6] in ("relaxed", "acquire", "release")
    load = next(s for s in trace if s[2] == "load")
    assert isinstance(load[4], int) and load[5] is None
    assert ("invoke" in kinds) and any(s[6] == "acquire(1)" for s in trace)
    assert any(s[2] == "return" and s[6] == "-> None" for s in trace)
    assert all(s[1] == 0 for s in trace)  # every step inside the threads' first call
    # the observer's call comes last
    assert trace[-1][0] == 2 and trace[-1][6] == "-> 0"


def test_trace_names_the_high_half_and_32_bit_words() -> None:
    prog = Program(0, (((A, 2, 0),), ((R, 1, 0), (R, 1, 0))))
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig())
    targets: set[str] = set()
    for seed in range(100):
        ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)
        targets.update(s[3] for s in ex.trace() if s[2].startswith("futex"))
    assert "+4.hi" in targets
    ex = CExecutor(SOURCES["futex32"], prog, RunConfig())
    targets.clear()
    for seed in range(100):
        ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)
        targets.update(s[3] for s in ex.trace() if s[2].startswith("futex"))
    assert targets == {"+0"}


def test_mutex_and_condition_steps_are_traced() -> None:
    prog = Program(0, (((T, 1, 4000),), ((R, 1, 0),)))
    ex = CExecutor(SOURCES["mutex_sem"], prog, RunConfig(timeouts="adversarial", spurious=1))
    kinds: set[str] = set()
    for seed in range(100):
        assert ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)[0] == "done"
        kinds.update(s[2] for s in ex.trace())
    assert {"lock", "unlock", "cond_wait", "notify_all", "clock", "timeout"} <= kinds


def test_errors_are_named_as_the_native_binding_names_them() -> None:
    top = 2**31 - 1
    prog = Program(top, (((R, 1, 0), (R, -1, 0), (T, -1, 0), (A, -1, 0), (A, 0, 0)),))
    for impl in ("futex64", "futex32"):
        ex = CExecutor(SOURCES[impl], prog, RunConfig())
        assert ex.run(ScheduleSpec())[0] == "done"
        got = [(row[6], row[7]) for row in ex.history()]
        assert got == [
            (None, "OverflowError"),
            (None, "ValueError"),
            (None, "ValueError"),
            (None, "ValueError"),
            (None, None),
            (top, None),
        ]


def test_out_of_range_programs_are_refused() -> None:
    with pytest.raises(ValueError, match="int32"):
        CExecutor(SOURCES["futex64"], Program(0, (((A, 2**31, 0),),)), RunConfig())
    with pytest.raises(ValueError, match="initial"):
        CExecutor(SOURCES["futex64"], Program(2**31, (((A, 1, 0),),)), RunConfig())
    with pytest.raises(ValueError, match="SEMH_CAP_MODEL"):
        CExecutor(IMPLS / "posix_sem.c", PROGRAMS["pairs"], RunConfig())


def test_sleep_and_timeouts_in_virtual_time() -> None:
    prog = Program(0, (((T, 1, 5000),), ((S, 0, 10_000), (R, 1, 0))))
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig())
    assert ex.run(ScheduleSpec())[0] == "done"
    timed, release, _observer = ex.history()
    # quiescent: the try's timeout fires before the sleep ends (its deadline is earlier)
    assert timed[6] is False and timed[5] >= timed[4] + 5000
    assert release[4] >= 10_000


def test_lost_wakeup_deadlocks() -> None:
    prog = Program(0, (((A, 1, 0),), ((R, 1, 0),)))
    ex = CExecutor(DATA / "model_lost_wakeup.c", prog, RunConfig())
    outcomes = set()
    for seed in range(200):
        outcome, _ = ex.run(ScheduleSpec(mode=RANDOM, seed=seed))
        outcomes.add(outcome)
        if outcome == "deadlock":
            acquire, release, observer = sorted(ex.history())
            assert acquire[5] == -1 and acquire[6] is None  # pending for ever
            assert release[5] > 0 and observer[6] == 1  # while the token sits there
            trail = ex.trail()
            assert ex.run(ScheduleSpec(mode=PREFIX, prefix=trail.chosen))[0] == "deadlock"
    assert outcomes == {"done", "deadlock"}


def test_spinning_hits_the_step_limit() -> None:
    prog = Program(0, (((A, 1, 0),), ((S, 0, 1000),)))
    ex = CExecutor(DATA / "model_spin.c", prog, RunConfig(max_steps=300))
    assert ex.run(ScheduleSpec(mode=RANDOM, seed=1), trace=True)[0] == "step-limit"
    assert ex.history()[0][5] == -1  # the spinning acquire never returned
    steps = ("load", "cas", "cas-fail", "sleep")  # the visible steps and the sleep
    assert len([s for s in ex.trace() if s[2] in steps]) == 300
    # the next run starts afresh from the abandoned one
    ok = CExecutor(DATA / "model_spin.c", Program(1, (((A, 1, 0),),)), RunConfig())
    assert ok.run(ScheduleSpec())[0] == "done"
    assert ex.run(ScheduleSpec(mode=RANDOM, seed=1))[0] == "step-limit"


def test_restarted_timeout_is_a_finding() -> None:
    prog = Program(0, (((T, 1, 5000),),))
    ex = CExecutor(DATA / "model_restart_timeout.c", prog, RunConfig(spurious=1))
    found = []
    for prefix in ((0,), (1,)):
        assert ex.run(ScheduleSpec(mode=PREFIX, prefix=prefix))[0] == "done"
        found.append(ex.findings())
    # (0,): the timeout fires at once; (1,): a spurious wake-up, then a fresh deadline
    assert found[0] == []
    assert len(found[1]) == 1 and found[1][0].startswith("t0 op 0: waits until ")
    assert "beyond its deadline" in found[1][0]
    # the reference core keeps its deadline across wake-ups
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig(spurious=2, timeouts="adversarial"))
    for seed in range(100):
        ex.run(ScheduleSpec(mode=RANDOM, seed=seed))
        assert ex.findings() == []


CRASH_SCRIPT = """
import sys
from pathlib import Path
from semharness.model.cexec import CExecutor
from semharness.model.core import Program, RunConfig, ScheduleSpec
prefix = tuple(int(c) for c in sys.argv[3].split(",") if c)
ex = CExecutor(Path(sys.argv[1]), Program(0, (((0, 1, 0),), ((2, 1, 0),))), RunConfig(),
               crash_fd=1)
print("ran", ex.run(ScheduleSpec(mode=int(sys.argv[2]), seed=5, prefix=prefix), trace=True))
"""


def crash_run(mode: int, prefix: tuple[int, ...] = ()) -> subprocess.CompletedProcess[str]:
    args = [str(DATA / "model_null_release.c"), str(mode), ",".join(map(str, prefix))]
    return subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, *args], capture_output=True, text=True, timeout=120
    )


def test_crash_is_reported_and_replays() -> None:
    # build once here so that the subprocesses find the module in the cache
    CExecutor(DATA / "model_null_release.c", PROGRAMS["pairs"], RunConfig())
    proc = crash_run(RANDOM)
    assert proc.returncode == CRASH_EXIT, proc.stdout + proc.stderr
    report = parse_crash(proc.stdout)
    assert report is not None, proc.stdout
    signal, chosen, trace = report
    assert signal == 11
    assert trace and trace[-1][2] == "fetch_add" and trace[-1][0] == 1
    assert any(s[2] == "invoke" and s[6] == "release(1)" for s in trace)
    # the indices replay the crash
    again = crash_run(PREFIX, chosen)
    assert again.returncode == CRASH_EXIT
    assert parse_crash(again.stdout) == report


def test_parse_crash_reads_the_lines() -> None:
    text = (
        "noise\n"
        "SEMH-TRACE\t0\t0\tinvoke\t\t-\t-\tacquire(1)\n"
        "SEMH-TRACE\t0\t0\tcas\t+0\t5\t4\tacquire\n"
        "SEMH-CRASH 6 1,0,2\n"
    )
    assert parse_crash(text) == (
        6,
        (1, 0, 2),
        [(0, 0, "invoke", "", None, None, "acquire(1)"), (0, 0, "cas", "+0", 5, 4, "acquire")],
    )
    assert parse_crash("SEMH-CRASH 11 \n") == (11, (), [])
    assert parse_crash("all fine\n") is None


def test_timeout_modes() -> None:
    """Quiescent: a timeout fires only when nothing can run, so a release that is still to come
    always arrives first; adversarial: the timeout may fire at any point."""
    prog = Program(0, (((T, 1, 5000),), ((R, 1, 0),)))
    results = {}
    for mode in ("quiescent", "adversarial"):
        ex = CExecutor(SOURCES["futex64"], prog, RunConfig(timeouts=mode))
        seen = set()
        for seed in range(200):
            assert ex.run(ScheduleSpec(mode=RANDOM, seed=seed))[0] == "done"
            seen.add(next(row[6] for row in ex.history() if row[0] == 0))
        results[mode] = seen
    assert results == {"quiescent": {True}, "adversarial": {True, False}}


def test_spurious_budget_is_spent_at_most_once_each() -> None:
    prog = Program(0, (((A, 1, 0),), ((A, 1, 0),), ((S, 0, 5000), (R, 2, 0))))
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig(spurious=2))
    counts = set()
    for seed in range(300):
        assert ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)[0] == "done"
        counts.add(sum(s[2] == "spurious" for s in ex.trace()))
    assert counts <= {0, 1, 2} and 2 in counts
    ex = CExecutor(SOURCES["futex64"], prog, RunConfig())
    for seed in range(50):
        ex.run(ScheduleSpec(mode=RANDOM, seed=seed), trace=True)
        assert not any(s[2] == "spurious" for s in ex.trace())


def test_pct_without_change_points_runs_the_top_thread_through() -> None:
    """Depth 1: no priority changes, so the first thread to run (the highest priority) is never
    preempted while it can run: with one token, it finishes both calls before anyone else's
    first step."""
    ex = CExecutor(SOURCES["futex64"], PROGRAMS["pairs"], RunConfig())
    firsts = set()
    for seed in range(50):
        assert ex.run(ScheduleSpec(mode=PCT, seed=seed, depth=1, horizon=10))[0] == "done"
        rows = ex.history()
        assert rows[0][0] == rows[1][0] and rows[1][5] < rows[2][4]
        assert ex.trail().preemptions == 0
        firsts.add(rows[0][0])
    assert firsts == {0, 1, 2}


def test_crash_handlers_are_only_in_place_during_runs() -> None:
    """Between runs a crash is whoever-was-there-before's: here faulthandler's report."""
    script = (
        "import ctypes, faulthandler\n"
        "from pathlib import Path\n"
        "from semharness.model.cexec import CExecutor\n"
        "from semharness.model.core import Program, RunConfig, ScheduleSpec\n"
        "faulthandler.enable()\n"
        f"ex = CExecutor(Path({str(SOURCES['futex64'])!r}), Program(1, (((0, 1, 0),),)),"
        " RunConfig())\n"
        "assert ex.run(ScheduleSpec())[0] == 'done'\n"
        "ctypes.string_at(0)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -11  # SIGSEGV, not our exit status 86
    assert "Fatal Python error: Segmentation fault" in proc.stderr
    assert "SEMH-CRASH" not in proc.stdout + proc.stderr
