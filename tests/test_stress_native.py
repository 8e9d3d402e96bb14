"""The native stress driver (harness/csrc/stress_driver.c) through semharness.stress.

Every outcome asserted here is deterministic: counts follow from the seed and the ops
settings, verdicts from correct implementations are clean, the deadlocking and crashing test
implementations fail on every run.  Real-time bounds are generous (a loaded CI machine).
"""

from __future__ import annotations

import errno
import math
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from semharness.cbuild import builtin_source
from semharness.errors import UsageError
from semharness.history import ACQUIRE, AVAILABLE, RELEASE, TRY_ACQUIRE
from semharness.invariants import check_invariants
from semharness.linearizability import check_history
from semharness.stress import DEFAULT_MIX, Mix, native, read_records, records_to_history, run_native
from semharness.stress.native import RECORD_DTYPE

DATA = Path(__file__).resolve().parent / "data"
DEADLOCK = DATA / "stress_deadlock.c"
SEGV = DATA / "stress_segv.c"
IMPLEMENTATIONS = ["futex64", "futex32", "posix_sem"]
OPS = 2000


def check_well_formed(result, threads: int, mix: Mix) -> None:
    """Every record of an 'ok' run as the driver documents it, and the run's counts."""
    h = result.history
    assert result.status == "ok", result.message
    assert len(result.ops) == threads
    assert all(OPS <= k <= OPS + 1 for k in result.ops), result.ops  # + a closing release
    assert len(h) == sum(result.ops) + 1  # + the observer's final read
    assert h.initial == result.initial
    h.validate()  # returns after invokes; each thread's calls one after another
    assert not h.pending_mask().any()
    assert (h.error == 0).all(), [op for op in h if op.error][:3]
    # rows: thread 0's calls, thread 1's, ..., then the observer (thread id = threads)
    assert (np.diff(h.thread) >= 0).all()
    assert np.bincount(h.thread).tolist() == [*result.ops, 1]
    last = h.op_at(-1)
    assert (last.thread, last.op, last.result) == (threads, "available", result.count)
    assert result.count == result.initial  # every take was released again

    op, n, res, timeout = h.op, h.n, h.result, h.timeout
    work = h.thread < threads
    takes = work & ((op == ACQUIRE) | (op == TRY_ACQUIRE))
    values = set(mix.n_values or range(1, mix.n_max + 1))
    assert set(np.unique(n[takes]).tolist()) <= values
    assert (n[op == AVAILABLE] == 0).all()
    assert set(np.unique(res[op == TRY_ACQUIRE]).tolist()) <= {0, 1}
    reads = res[op == AVAILABLE]
    assert ((reads >= 0) & (reads <= result.initial)).all()
    assert np.isnan(timeout[(op == ACQUIRE) | (op == RELEASE) | (op == AVAILABLE)]).all()
    tries = timeout[op == TRY_ACQUIRE]
    allowed = {0.0, mix.timeout} if mix.timeout is not None else {0.0}
    assert set(np.unique(tries[~np.isnan(tries)]).tolist()) <= allowed
    # a release follows every successful take in the same thread, with the same n
    took = takes & ((op == ACQUIRE) | (res == 1))
    follow = np.flatnonzero(took) + 1
    assert (op[follow] == RELEASE).all() and (n[follow] == n[follow - 1]).all()
    assert int(took.sum()) == int((op == RELEASE).sum())


# ---- correct implementations pass every check ----------------------------------------------


@pytest.mark.parametrize("threads", [1, 2, 4])
@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_correct_implementation_passes(impl: str, threads: int) -> None:
    result = run_native(builtin_source(impl), threads, DEFAULT_MIX, ops=OPS, seed=threads)
    check_well_formed(result, threads, DEFAULT_MIX)
    assert result.summary["threads"] == threads
    assert result.summary["total_ops"] == sum(result.ops)
    assert result.seconds is not None and 0 < result.seconds < 60
    verdict = check_history(result.history)
    assert verdict.ok, verdict
    assert check_invariants(result.history) == []


@pytest.mark.parametrize(
    ("impl", "text"),
    [
        ("futex64", "acquire=3,try=2,timed=2,available=1,n=1|2|3,timeout=0.0005"),
        ("futex32", "acquire=3,try=2,timed=2,available=1,n=3,timeout=500us"),
        ("futex64", "acquire=1,timed=1,n=2,timeout=forever"),
        ("posix_sem", "acquire=1,try=1,timed=1,available=1,n=1,timeout=0.0002"),
    ],
)
def test_other_mixes_pass(impl: str, text: str) -> None:
    mix = Mix.parse(text)
    result = run_native(builtin_source(impl), 3, mix, ops=OPS, seed=7)
    check_well_formed(result, 3, mix)
    assert result.initial == mix.largest_n
    assert check_history(result.history).ok
    assert check_invariants(result.history) == []


def test_the_history_records_which_calls_failed() -> None:
    """A timed try that gave up took at least its timeout (the invariants check it too)."""
    mix = Mix.parse("acquire=1,timed=4,n=1,timeout=0.0002")
    result = run_native(builtin_source("futex64"), 4, mix, ops=OPS, seed=3)
    h = result.history
    failed = (h.op == TRY_ACQUIRE) & (h.result == 0)
    took = (h.ret - h.invoke)[failed]
    assert (took >= 200_000 - 1_000).all()


def test_one_thread_runs_repeat_exactly() -> None:
    """The draws follow from the seed; with one thread so do the results."""
    source = builtin_source("futex64")
    runs = [run_native(source, 1, DEFAULT_MIX, ops=500, seed=42) for _ in range(2)]
    other = run_native(source, 1, DEFAULT_MIX, ops=500, seed=43)
    a, b, c = (r.history for r in (*runs, other))
    for col in ("op", "n", "result", "timeout"):
        assert np.array_equal(getattr(a, col), getattr(b, col), equal_nan=True), col
    assert not np.array_equal(a.op, c.op)


def test_duration_run() -> None:
    result = run_native(builtin_source("futex64"), 2, seconds=0.2)
    assert result.status == "ok", result.message
    assert 0.2 <= result.seconds < 30
    assert min(result.ops) > 0
    assert len(result.history) == sum(result.ops) + 1
    assert result.summary["truncated"] is False
    result.history.validate()
    assert result.count == result.initial
    assert result.ops_per_s == pytest.approx(sum(result.ops) / result.seconds)


def test_unrecorded_runs_only_count() -> None:
    for kwargs in ({"ops": OPS}, {"seconds": 0.1}):
        result = run_native(builtin_source("futex32"), 2, record=False, **kwargs)
        assert result.status == "ok", result.message
        assert result.history is None
        assert result.summary["record"] is False and result.summary["records"] == 0
        assert result.count == result.initial
        if "ops" in kwargs:
            assert all(OPS <= k <= OPS + 1 for k in result.ops)
        else:
            assert min(result.ops) > 0 and result.seconds >= 0.1


def test_pinned_run_says_where_threads_ran() -> None:
    result = run_native(builtin_source("futex64"), 2, ops=200, pin=True)
    assert result.status == "ok"
    summary = result.summary
    assert summary["pinned"] is True
    assert all(isinstance(cpu, int) for cpu in summary["cpu_of_thread"])
    assert summary["cpus"] >= 1


def test_duration_run_stops_at_the_record_budget() -> None:
    result = run_native(builtin_source("futex64"), 1, seconds=30, record_mb=12)
    assert result.status == "ok"
    assert result.summary["truncated"] is True
    assert result.seconds < 30
    assert len(result.history) == sum(result.ops) + 1
    assert result.count == result.initial  # a thread that stops releases what it holds


# ---- the clock the recorded loop reads -----------------------------------------------------


@pytest.mark.parametrize("clock", ["auto", "monotonic"])
def test_either_clock_gives_a_sound_history(clock: str) -> None:
    """The hardware counter (auto, where there is one) or clock_gettime: either way the file
    holds CLOCK_MONOTONIC ns -- the run lies between two readings of it taken here -- and the
    history passes every check."""
    mix = Mix.parse("acquire=3,try=2,timed=2,available=1,n=1,timeout=0.0002")
    before = time.monotonic_ns()
    result = run_native(builtin_source("futex64"), 2, mix, ops=OPS, seed=5, clock=clock)
    after = time.monotonic_ns()
    check_well_formed(result, 2, mix)
    assert result.clock == result.summary["clock"]
    assert result.clock in (
        {"monotonic"} if clock == "monotonic" else {"tsc", "cntvct", "monotonic"}
    )
    h = result.history
    assert before <= int(h.invoke.min()) and int(h.ret.max()) <= after
    assert check_history(h).ok
    assert check_invariants(h) == []  # among them: no timed try gave up before its timeout


def test_a_clock_the_driver_does_not_know_is_refused() -> None:
    with pytest.raises(ValueError, match="clock must be one of"):
        run_native(builtin_source("futex64"), 1, ops=10, clock="rdtsc")


def test_unrecorded_runs_say_their_clock_too() -> None:
    result = run_native(builtin_source("futex64"), 1, ops=100, record=False, clock="monotonic")
    assert result.status == "ok" and result.clock == "monotonic"


# ---- progress while the threads run ---------------------------------------------------------


def test_progress_is_reported_while_the_threads_run() -> None:
    seen: list[tuple[int, float]] = []
    result = run_native(
        builtin_source("futex64"), 2, seconds=1.0, progress=lambda c, s: seen.append((c, s))
    )
    assert result.status == "ok", result.message
    assert len(seen) >= 2, seen  # about every 0.25 s of a 1 s run
    calls = [c for c, _ in seen]
    assert calls == sorted(calls) and calls[-1] <= result.total_ops
    secs = [s for _, s in seen]
    assert secs == sorted(secs) and secs[0] > 0 and secs[-1] < 30
    assert len(result.history) == result.total_ops + 1  # progress lines are no records


def test_a_failing_progress_callback_does_not_stop_the_run() -> None:
    calls = []

    def broken(done: int, seconds: float) -> None:
        calls.append(done)
        raise RuntimeError("display gone")

    result = run_native(builtin_source("futex64"), 1, seconds=0.6, progress=broken)
    assert result.status == "ok", result.message
    assert len(calls) == 1  # not called again after it failed


def test_an_interrupt_from_the_callback_kills_the_driver(monkeypatch) -> None:
    """Ctrl-C in the display (the callback runs in the caller's thread) ends the run, and no
    driver process is left behind."""
    started = []
    real_popen = subprocess.Popen

    def popen(*args, **kwargs):
        proc = real_popen(*args, **kwargs)
        started.append(proc)
        return proc

    def interrupt(done: int, seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(native.subprocess, "Popen", popen)
    begun = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_native(builtin_source("futex64"), 1, seconds=60, progress=interrupt)
    assert time.monotonic() - begun < 30
    assert len(started) == 1 and started[0].returncode == -signal.SIGKILL


def test_progress_lines_are_never_the_report() -> None:
    text = '{"status": "ok", "total_ops": 3}\n{"progress": 3, "ns": 5}\nimpl says hi\n'
    assert native._last_json(text) == {"status": "ok", "total_ops": 3}
    assert native._last_json('{"progress": 3, "ns": 5}\n') is None
    assert native._progress_line('{"progress": 3, "ns": 250000000}\n') == (3, 0.25)
    assert native._progress_line('{"progress": 3, "ns": 5, "extra": 1}') is None
    assert native._progress_line('{"status": "ok"}') is None


# ---- broken implementations: reported, and the caller stays up ------------------------------


@pytest.mark.parametrize(("record", "progress"), [(True, False), (False, False), (True, True)])
def test_deadlock_is_reported_as_a_hang(record: bool, progress: bool) -> None:
    seen: list[int] = []
    started = time.monotonic()
    result = run_native(
        DEADLOCK,
        2,
        ops=1000,
        watchdog=1.0,
        record=record,
        progress=(lambda c, s: seen.append(c)) if progress else None,
    )
    elapsed = time.monotonic() - started
    assert result.status == "hang", result.message
    if progress:  # the watchdog went on reporting, the same count, while nothing moved
        assert seen and seen == sorted(seen) and seen[-1] <= sum(result.ops)
    assert elapsed < 30  # the watchdog's 1 s, a build, and slack for a loaded machine
    assert result.count == result.initial == 1  # nothing ever took the token
    states = result.thread_states
    assert [s.thread for s in states] == [0, 1]
    for s in states:
        assert (s.state, s.op, s.n, s.timeout) == ("blocked", "acquire", 1, None)
        assert s.since_ns >= 1_000_000_000
        assert "blocked in acquire(1)" in s.describe()
    assert "no call completed for 1 s" in result.message
    if not record:
        assert result.history is None
        return
    h = result.history
    h.validate()
    pending = h.pending_mask()
    assert pending.sum() == 2
    assert (h.op[pending] == ACQUIRE).all()
    assert len(h) == sum(result.ops) + 2 + 1  # completed, the two blocked calls, the observer
    findings = check_invariants(h)
    assert {f.check for f in findings} == {"lost wake-up", "deadlock"}


@pytest.mark.parametrize("progress", [None, lambda calls, seconds: None])
def test_hard_timeout_when_the_watchdog_is_too_slow(progress) -> None:
    started = time.monotonic()
    result = run_native(DEADLOCK, 1, ops=100, watchdog=60.0, hard_timeout=1.0, progress=progress)
    assert time.monotonic() - started < 30
    assert result.status == "hang"
    assert "did not finish within 1 s" in result.message
    assert result.thread_states is None and result.history is None


def test_crash_is_reported_with_its_signal() -> None:
    result = run_native(SEGV, 2, ops=1000, watchdog=5.0)
    assert result.status == "crash", result.message
    assert result.signal == signal.SIGSEGV
    assert "SIGSEGV" in result.message
    assert result.history is None and result.ops is None
    # ... and this process is still here to check it, and can run again
    assert run_native(builtin_source("futex64"), 1, ops=10).status == "ok"


def test_a_mix_the_implementation_cannot_run_is_refused() -> None:
    """sem_t takes n tokens one at a time: with other threads around, n > 1 is not atomic."""
    mix = Mix.parse("n=2")
    assert mix.needs(2) == {"multi_acquire", "atomic_release", "timeouts"}
    assert mix.needs(1) == {"timeouts"}
    assert Mix.parse("acquire=1,timed=1,timeout=forever").needs(4) == {"wait_forever"}
    with pytest.raises(UsageError, match="no atomic multi-token acquire"):
        run_native(builtin_source("posix_sem"), 2, mix, ops=10)
    assert run_native(builtin_source("posix_sem"), 1, mix, ops=100).status == "ok"


def test_compile_error_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.c"
    bad.write_text('#include "semharness.h"\nint nonsense(void) { return }\n')
    with pytest.raises(UsageError, match="does not compile"):
        run_native(bad, 1, ops=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"threads": 0, "ops": 1}, "threads"),
        ({"threads": 1}, "exactly one"),
        ({"threads": 1, "ops": 1, "seconds": 1.0}, "exactly one"),
        ({"threads": 1, "ops": 0}, "ops"),
        ({"threads": 1, "seconds": -1.0}, "seconds"),
        ({"threads": 1, "ops": 1, "watchdog": 0}, "watchdog"),
        ({"threads": 1, "ops": 1, "initial": -1}, "initial"),
        ({"threads": 1, "ops": 10**9, "record_mb": 1}, "record_mb"),
        ({"threads": 1, "ops": 1, "mix": Mix(timeout=2.0), "watchdog": 2.0}, "longer than"),
    ],
)
def test_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_native(builtin_source("futex64"), **kwargs)


# ---- the record file -----------------------------------------------------------------------


def test_records_to_history_names_errors() -> None:
    rec = np.zeros(5, RECORD_DTYPE)
    rec["invoke"] = [0, 10, 20, 30, 40]
    rec["ret"] = [5, 15, 25, 35, 45]
    rec["timeout_ns"] = [-1, 0, 2_000_000, -1, 0]
    rec["op"] = [RELEASE, TRY_ACQUIRE, TRY_ACQUIRE, ACQUIRE, TRY_ACQUIRE]
    rec["n"] = [1, -1, 1, 1, 1]
    rec["err"] = [-errno.EOVERFLOW, -errno.EINVAL, 0, -errno.EINTR, 0]
    rec["result"] = [0, 0, 1, 0, 7]
    h = records_to_history(rec, initial=3)
    assert [op.error for op in h] == ["OverflowError", "ValueError", None, "EINTR", "BadResult"]
    assert [op.timeout for op in h] == [None, 0.0, 0.002, None, 0.0]
    assert h.op_at(2).result is True


def test_read_records_refuses_other_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a record file at all, no sir" * 4)
    with pytest.raises(UsageError, match="not a stress record file"):
        read_records(junk)
    header = np.zeros(1, [("magic", "S8"), ("v", "<u4"), ("s", "<u4"), ("c", "<u8"), ("x", "<u8")])
    header["magic"], header["v"], header["s"], header["c"] = b"SEMHSTRS", 1, 40, 3
    cut = tmp_path / "cut.bin"
    cut.write_bytes(header.tobytes() + bytes(40))
    with pytest.raises(UsageError, match="announces 3 records"):
        read_records(cut)


# ---- the mix language ----------------------------------------------------------------------


def test_default_mix() -> None:
    assert Mix() == DEFAULT_MIX
    assert DEFAULT_MIX.describe() == "acquire=4,try=2,timed=1,available=1,n=1,timeout=0.001"
    assert Mix.parse(DEFAULT_MIX.describe()) == DEFAULT_MIX
    assert Mix.parse("") == DEFAULT_MIX
    assert DEFAULT_MIX.default_initial() == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acquire=4,try=2,timed=1,available=1,n=2,timeout=0.001", Mix(n_max=2)),
        ("acquire=1", Mix(acquire=1, try_=0, timed=0, available=0)),
        (" try = 3 , available=1 ", Mix(acquire=0, try_=3, timed=0, available=1)),
        ("n=4", Mix(n_max=4)),
        ("n=1|1|4", Mix(n_max=(1, 1, 4))),
        ("n=0|2", Mix(n_max=(0, 2))),
        ("n=3|", Mix(n_max=(3,))),
        ("timeout=2ms", Mix(timeout=0.002)),
        ("timeout=250us", Mix(timeout=0.00025)),
        ("timeout=1s", Mix(timeout=1.0)),
        ("timeout=forever", Mix(timeout=None)),
        ("timed=1,timeout=None", Mix(acquire=0, try_=0, timed=1, available=0, timeout=None)),
    ],
)
def test_mix_parse(text: str, expected: Mix) -> None:
    mix = Mix.parse(text)
    assert mix == expected
    assert Mix.parse(mix.describe()) == mix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("acquire", "is not KEY=VALUE"),
        ("acquire=", "is not KEY=VALUE"),
        ("acquire=1,", "is not KEY=VALUE"),
        ("release=1", "unknown key 'release'"),
        ("acquire=1,acquire=2", "acquire is given twice"),
        ("acquire=-1", "whole number"),
        ("acquire=1.5", "whole number"),
        ("acquire=0,try=0", "all 0"),
        ("acquire=2000000", "0..1000000"),
        ("n=0", "n_max must be in 1.."),
        ("n=1.5", "n must be a whole number"),
        ("n=1||2", "n must be a whole number"),
        ("n=3000000000", "n_max must be in 1.."),
        ("timeout=0", "more than 0"),
        ("timeout=-1", "more than 0"),
        ("timeout=soon", "timeout must be seconds"),
        ("timeout=nan", "timeout must be seconds"),
        ("timeout=1e9", "at most"),
    ],
)
def test_mix_parse_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        Mix.parse(text)
    assert repr(text) in str(info.value)  # the message names the text it refused


def test_mix_checks_its_fields() -> None:
    with pytest.raises(ValueError, match="weight of acquire"):
        Mix(acquire=True)
    with pytest.raises(ValueError, match="n_max"):
        Mix(n_max=())
    with pytest.raises(ValueError, match="timeout"):
        Mix(timeout=math.inf)
    assert Mix(n_max=[1, 2]).n_max == (1, 2)  # a list becomes a tuple: the mix stays hashable
    assert hash(Mix(n_max=[1, 2])) == hash(Mix(n_max=(1, 2)))
    assert Mix(n_max=(2, 5)).largest_n == 5 and Mix(n_max=(2, 5)).n_values == (2, 5)
    assert Mix(n_max=3).n_values is None and Mix(timeout=None).timeout_ns == -1
