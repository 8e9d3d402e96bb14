"""Native stress runs of C implementations: real pthreads, every call recorded.

:func:`run_native` compiles ``csrc/stress_driver.c`` with one implementation file (cached, as
every C build is), runs it as a child process, and turns what it wrote into a
:class:`NativeResult`: the recorded :class:`~semharness.history.History`, per-thread counts,
and -- when the implementation deadlocked or crashed -- what the driver's watchdog saw, or the
signal.  The child has its own watchdog (no call completing for ``watchdog`` seconds) and the
parent a hard timeout on top, so a broken implementation never hangs or kills the caller.

The driver's record file (layout in stress_driver.c) is read with one ``numpy.fromfile`` and
whole-column conversions: no Python work per record.

With a ``progress`` callback the driver also prints a line about every 0.25 s while it runs;
they are read as they come and handed to the callback, the report line stays the last one.
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..cbuild import build_program, csrc_dir
from ..errors import UsageError
from ..history import TRY_ACQUIRE, History
from .mix import DEFAULT_MIX, Mix

#: One record of the driver's file (little-endian, 40 bytes, no padding).
RECORD_DTYPE = np.dtype(
    [
        ("invoke", "<i8"),
        ("ret", "<i8"),
        ("timeout_ns", "<i8"),
        ("n", "<i4"),
        ("result", "<i4"),
        ("err", "<i4"),
        ("thread", "<u2"),
        ("op", "u1"),
        ("zero", "u1"),
    ]
)
#: The file's 32-byte header.
HEADER_DTYPE = np.dtype(
    [
        ("magic", "S8"),
        ("version", "<u4"),
        ("record_size", "<u4"),
        ("records", "<u8"),
        ("threads", "<u4"),
        ("initial", "<i4"),
    ]
)
MAGIC = b"SEMHSTRS"
assert RECORD_DTYPE.itemsize == 40 and HEADER_DTYPE.itemsize == 32

#: Error names for the negative errno values the contract defines; other errno values are
#: named by errno (``EAGAIN``), and positive values -- no contract call returns one -- are
#: ``BadResult``, as are try_acquire results other than 0 and 1.
ERROR_NAMES: dict[int, str] = {
    -errno.EINVAL: "ValueError",
    -errno.EOVERFLOW: "OverflowError",
    -errno.EINTR: "EINTR",
}
BAD_RESULT = "BadResult"

_DRIVER_EXIT_USAGE = 2
_DRIVER_EXIT_HANG = 3
_DRIVER_EXIT_SETUP = 4
#: Seconds the parent adds to a run's expected length before it kills the child itself.
_HARD_MARGIN = 30.0
#: A generous allowance per call for the expected length of an ops run (the watchdog, not this,
#: is what catches a hang; this only bounds a child whose watchdog cannot run).
_PER_CALL_ALLOWANCE = 50e-6
#: What the driver's clock= accepts: the hardware counter where there is one (auto), always
#: (tsc: refused where there is none), or clock_gettime(CLOCK_MONOTONIC).
CLOCKS = ("auto", "tsc", "monotonic")

#: ``progress(calls_done, seconds)``: all threads' completed calls so far, and seconds since
#: the threads started.
ProgressCallback = Callable[[int, float], None]


@dataclass(frozen=True)
class ThreadState:
    """What one worker was doing when the watchdog reported a hang.

    ``state``: 'blocked' (inside a call: ``op``, ``n``, ``timeout`` say which), 'finished',
    'starting', or 'running' (it completed a call while the report was being made: slow, not
    stuck).  ``timeout``: seconds, 0.0 for a try that does not wait, None for none.
    ``since_ns``: how long it had been in that state (exact for a blocked thread of a recorded
    run, else to within the watchdog's tick).  ``ops``: calls it had completed.
    """

    thread: int
    state: str
    op: str | None
    n: int | None
    timeout: float | None
    ops: int
    since_ns: int

    def describe(self) -> str:
        """One line for a report, e.g. ``thread 1: blocked in acquire(1) for 5.00 s``."""
        since = f"{self.since_ns / 1e9:.2f} s"
        if self.state != "blocked":
            return f"thread {self.thread}: {self.state} for {since} ({self.ops} calls done)"
        args = "" if self.op == "available" else str(self.n)
        if self.op == "try_acquire":
            args += f", {self.timeout}"
        return f"thread {self.thread}: blocked in {self.op}({args}) for {since}"


@dataclass
class NativeResult:
    """The outcome of one native stress run.

    ``status``: 'ok' (every thread finished), 'hang' (the watchdog saw no call complete for
    ``watchdog`` seconds, or the child did not finish within the hard timeout) or 'crash' (the
    child died of ``signal``, or exited in a way the driver never does).

    ``history``: every recorded call, rows grouped by thread in program order, then the
    observer's final ``available()`` (thread id = ``threads``); for a hang, the calls completed
    so far, the blocked ones as never-returned calls, and the observer's read.  None without
    recording, for a crash, and for a hang the driver could not report on.

    ``ops``: calls completed per thread (None for a crash).  ``seconds``: from the start
    barrier to the last thread's end.  ``count``: the count the observer read at the end, or
    when the hang was reported (None when that read itself blocked).  ``thread_states``: the
    watchdog's view of each thread (hang only).  ``clock``: what the driver's recorded loop
    read -- 'tsc', 'cntvct' (aarch64's counter) or 'monotonic' -- from its report (None
    without one).  ``summary``: the driver's JSON line as is.  ``timings``: seconds spent
    building, running the child, and reading its records.
    """

    status: str
    source: Path
    threads: int
    mix: Mix
    initial: int
    history: History | None = None
    ops: tuple[int, ...] | None = None
    seconds: float | None = None
    count: int | None = None
    thread_states: tuple[ThreadState, ...] | None = None
    signal: int | None = None
    message: str = ""
    clock: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def total_ops(self) -> int | None:
        return None if self.ops is None else sum(self.ops)

    @property
    def ops_per_s(self) -> float | None:
        """Completed calls per second of the run, all threads together."""
        if self.ops is None or not self.seconds:
            return None
        return sum(self.ops) / self.seconds


_BUILDS: dict[tuple[Path, float, int], Path] = {}


def build_driver(source: Path) -> Path:
    """The stress driver compiled with ``source`` (cached on disk by content, and here by the
    file's path, size and modification time, so a run does not re-hash it)."""
    source = Path(source).resolve()
    try:
        st = source.stat()
    except OSError as exc:
        raise UsageError(f"cannot read C file {source}: {exc.strerror}") from exc
    key = (source, st.st_mtime, st.st_size)
    exe = _BUILDS.get(key)
    if exe is None or not exe.exists():
        exe = _BUILDS[key] = build_program(csrc_dir() / "stress_driver.c", source, (), "stress")
    return exe


def read_records(path: str | os.PathLike[str]) -> tuple[dict[str, int], np.ndarray]:
    """The driver's record file: (header fields, records as a :data:`RECORD_DTYPE` array).

    The records are a read-only memory map of the file (no copy; it stays valid after the
    file is deleted, while the array lives).  Raises UsageError for a file that is not a
    record file, or is cut short.
    """
    path = os.fspath(path)
    try:
        size = os.path.getsize(path)
        head = np.fromfile(path, dtype=HEADER_DTYPE, count=1)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the stress records: {exc.strerror}") from None
    if len(head) != 1 or head["magic"][0] != MAGIC:
        raise UsageError(f"{path}: not a stress record file (no {MAGIC.decode()} header)")
    header = {name: int(head[name][0]) for name in HEADER_DTYPE.names if name != "magic"}
    if header["version"] != 1 or header["record_size"] != RECORD_DTYPE.itemsize:
        raise UsageError(
            f"{path}: record file version {header['version']}, record size "
            f"{header['record_size']}: this reader knows version 1, size 40"
        )
    count = header["records"]
    if size != HEADER_DTYPE.itemsize + count * RECORD_DTYPE.itemsize:
        raise UsageError(f"{path}: the header announces {count} records, the size disagrees")
    if count == 0:
        return header, np.zeros(0, RECORD_DTYPE)
    records = np.memmap(
        path, dtype=RECORD_DTYPE, mode="r", offset=HEADER_DTYPE.itemsize, shape=(count,)
    )
    return header, records


def records_to_history(
    records: np.ndarray, initial: int, meta: dict[str, Any] | None = None
) -> History:
    """A History of the driver's records, converted column by column.

    Timeouts: -1 ns becomes None (NaN), others seconds.  Errors are named by
    :data:`ERROR_NAMES` (else by errno), and a call that returned a positive value as its
    error, or a try_acquire that returned neither 0 nor 1, gets :data:`BAD_RESULT`: the history
    cannot say what such a call did, and the invariants report it.  Each column is passed over
    a few times at most, and the per-error work is per distinct value, not per row.
    """
    op, err, result = records["op"], records["err"], records["result"]
    # The driver stores a try's result only when it was not an error, and pending calls carry
    # result 0: a result outside 0/1 on a try is one the implementation returned.
    odd_try = result.view(np.uint32) > 1  # negative ones too, in one pass
    odd_try &= op == TRY_ACQUIRE
    failed = err != 0
    codes = None
    names: list[str] = []
    if failed.any() or odd_try.any():
        codes = np.zeros(len(records), np.int16)
        for value in np.unique(err[failed]).tolist():
            name = ERROR_NAMES.get(value) or (
                errno.errorcode.get(-value, f"errno {-value}") if value < 0 else BAD_RESULT
            )
            if name not in names:
                names.append(name)
            codes[err == value] = names.index(name) + 1
        if odd_try.any():
            if BAD_RESULT not in names:
                names.append(BAD_RESULT)
            codes[odd_try] = names.index(BAD_RESULT) + 1
    timeout_ns = records["timeout_ns"]
    timeout = timeout_ns.astype(np.float64)
    np.divide(timeout, 1e9, out=timeout)
    timeout[timeout_ns < 0] = np.nan
    return History.from_arrays(
        thread=records["thread"],
        op=op,
        n=records["n"],
        invoke=records["invoke"],
        ret=records["ret"],
        result=result,
        timeout=timeout,
        error=codes,
        error_names=names,
        initial=initial,
        meta=meta,
    )


def driver_arguments(
    threads: int,
    mix: Mix,
    seconds: float | None,
    ops: int | None,
    seed: int,
    pin: bool,
    record: bool,
    initial: int,
    watchdog: float,
    out: str | None,
    record_mb: int,
    clock: str = "auto",
    progress: bool = False,
) -> list[str]:
    """The driver's KEY=VALUE arguments for these settings."""
    acquire, try_, timed, available = mix.weights
    args = [
        f"threads={threads}",
        f"ops={ops}" if ops is not None else f"seconds={seconds!r}",
        f"seed={seed}",
        f"acquire={acquire}",
        f"try={try_}",
        f"timed={timed}",
        f"available={available}",
        f"timeout_ns={mix.timeout_ns}",
        f"initial={initial}",
        f"pin={int(pin)}",
        f"record={int(record)}",
        f"watchdog_s={watchdog!r}",
        f"record_mb={record_mb}",
        f"clock={clock}",
        f"progress={int(progress)}",
    ]
    values = mix.n_values
    args.append(
        f"n_max={mix.n_max}" if values is None else f"n_values={','.join(map(str, values))}"
    )
    if out is not None:
        args.append(f"out={out}")
    return args


def _check_settings(
    threads: int,
    seconds: float | None,
    ops: int | None,
    seed: int,
    initial: int | None,
    watchdog: float,
    record_mb: int,
) -> None:
    def whole(value: object) -> bool:
        return isinstance(value, int) and value.__class__ is not bool

    if not whole(threads) or not 1 <= threads <= 4096:
        raise ValueError(f"threads must be an int in 1..4096, not {threads!r}")
    if (seconds is None) == (ops is None):
        raise ValueError("give exactly one of seconds and ops")
    if seconds is not None and not (isinstance(seconds, int | float) and 0 < seconds <= 1e6):
        raise ValueError(f"seconds must be a positive number, not {seconds!r}")
    if ops is not None and (not whole(ops) or ops < 1):
        raise ValueError(f"ops must be a positive int, not {ops!r}")
    if not whole(seed) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an int in 0..2**63-1, not {seed!r}")
    if initial is not None and (not whole(initial) or not 0 <= initial <= 2**31 - 1):
        raise ValueError(f"initial must be an int in 0..2**31-1, not {initial!r}")
    if not isinstance(watchdog, int | float) or not 0 < watchdog <= 1e6 or math.isnan(watchdog):
        raise ValueError(f"watchdog must be a positive number of seconds, not {watchdog!r}")
    if not whole(record_mb) or not 1 <= record_mb <= 2**30:
        raise ValueError(f"record_mb must be a positive int, not {record_mb!r}")


def _last_json(text: str) -> dict[str, Any] | None:
    """The driver's report: the last line of stdout that is a JSON object and no progress
    line (an implementation may print lines of its own)."""
    for line in reversed(text.splitlines()):
        value = _json_object(line)
        if value is not None and "progress" not in value:
            return value
    return None


def _json_object(line: str) -> dict[str, Any] | None:
    """The line as a JSON object, or None when it is not one."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _progress_line(line: str) -> tuple[int, float] | None:
    """(calls, seconds) of a driver's progress line, or None for any other line."""
    if not line.startswith('{"progress":'):
        return None  # the cheap test first: most lines are not JSON at all
    value = _json_object(line)
    if value is None or set(value) != {"progress", "ns"}:
        return None
    calls, ns = value["progress"], value["ns"]
    if not isinstance(calls, int) or not isinstance(ns, int):
        return None
    return calls, ns / 1e9


def _thread_states(items: list[dict[str, Any]]) -> tuple[ThreadState, ...]:
    states = []
    for item in items:
        timeout_ns = item.get("timeout_ns")
        states.append(
            ThreadState(
                thread=int(item["thread"]),
                state=str(item["state"]),
                op=item.get("op"),
                n=item.get("n"),
                timeout=None if timeout_ns is None or timeout_ns < 0 else timeout_ns / 1e9,
                ops=int(item["ops"]),
                since_ns=int(item["since_ns"]),
            )
        )
    return tuple(states)


def run_native(
    source: Path,
    threads: int,
    mix: Mix = DEFAULT_MIX,
    seconds: float | None = None,
    ops: int | None = None,
    seed: int = 0,
    pin: bool = False,
    record: bool = True,
    initial: int | None = None,
    watchdog: float = 5.0,
    record_mb: int = 1024,
    hard_timeout: float | None = None,
    clock: str = "auto",
    progress: ProgressCallback | None = None,
) -> NativeResult:
    """Runs ``threads`` pthreads over the C implementation ``source`` with ``mix``, for
    ``seconds`` or ``ops`` calls per thread (exactly one), in a child process.

    ``initial``: the semaphore's count (default :meth:`Mix.default_initial`).  ``pin``: thread i
    on the (i mod k)-th allowed CPU.  ``record``: False only counts calls (the loop without
    recording, for measuring its cost).  ``watchdog``: seconds without any call completing
    before the driver reports a hang.  ``record_mb``: memory the records may take; a duration
    run that reaches it stops early (``summary['truncated']``), an ops run that would need more
    raises ValueError.  ``hard_timeout``: seconds before the parent kills the child itself
    (default: the run's expected length + ``watchdog`` + 30 s).  ``clock``: what the recorded
    loop reads per call, one of :data:`CLOCKS` (``result.clock`` says which it used; the
    records are CLOCK_MONOTONIC ns either way).  ``progress``: called with (calls completed by
    all threads, seconds since the start) about every 0.25 s while the threads run, in this
    thread; an exception from it stops the calls, not the run (a KeyboardInterrupt ends the
    run: the child is killed first).

    Raises :class:`~semharness.cbuild.CompileError` when ``source`` does not compile,
    ValueError for bad settings, and UsageError when the driver cannot set up (memory, a
    failing ``semh_init``, an unwritable record file).
    """
    if not isinstance(mix, Mix):
        raise ValueError(f"mix must be a Mix, not {mix!r}")
    _check_settings(threads, seconds, ops, seed, initial, watchdog, record_mb)
    if clock not in CLOCKS:
        raise ValueError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    if mix.timed and mix.timeout is not None and mix.timeout >= watchdog:
        raise ValueError(
            f"watchdog ({watchdog:g} s) must be longer than the timed tries' timeout "
            f"({mix.timeout:g} s), which they may spend waiting"
        )
    if initial is None:
        initial = mix.default_initial()
    # ops + 1 records a thread, in one block with a small header (as the driver counts)
    if (
        ops is not None
        and record
        and (ops + 2) * RECORD_DTYPE.itemsize > (record_mb << 20) // threads
    ):
        raise ValueError(
            f"{threads} x {ops} records need more than record_mb={record_mb} MiB: raise it"
        )
    source = Path(source)
    started = time.perf_counter()
    exe = build_driver(source)
    timings = {"build": time.perf_counter() - started}
    if hard_timeout is None:
        if seconds is not None:
            expected = seconds
        else:
            per_call = _PER_CALL_ALLOWANCE + (mix.timeout or 0.0)
            expected = ops * per_call * 2  # type: ignore[operator]
        hard_timeout = expected + watchdog + _HARD_MARGIN
    result = NativeResult("crash", source, threads, mix, initial, timings=timings)

    with tempfile.TemporaryDirectory(prefix="semh-stress-", dir=_scratch_dir(record_mb)) as tmp:
        out = os.path.join(tmp, "records.bin") if record else None
        args = driver_arguments(
            threads,
            mix,
            seconds,
            ops,
            seed,
            pin,
            record,
            initial,
            watchdog,
            out,
            record_mb,
            clock=clock,
            progress=progress is not None,
        )
        started = time.perf_counter()
        proc = _run_child([str(exe), *args], hard_timeout, progress)
        result.stderr = proc.stderr
        if proc.timed_out:
            result.status = "hang"
            result.message = (
                f"the driver did not finish within {hard_timeout:g} s (its watchdog did not "
                "answer either): killed"
            )
            return result
        timings["run"] = time.perf_counter() - started
        report = _last_json(proc.stdout)
        rc = proc.returncode
        meta = {
            "driver": "native",
            "source": str(source),
            "threads": threads,
            "mix": mix.describe(),
            "seed": seed,
            "pinned": pin,
        }

        if report is not None:
            result.clock = report.get("clock")
        if rc == 0 and report is not None and report.get("status") == "ok":
            result.status = "ok"
            result.summary = report
            result.ops = tuple(int(k) for k in report["ops"])
            result.seconds = float(report["seconds"])
            result.count = int(report["final_count"])
            result.message = (
                f"{sum(result.ops)} calls in {result.seconds:.3f} s ({report['ops_per_s']:.0f}/s)"
            )
            meta["implementation"] = report.get("description", "")
            if record and out is not None:
                result.history = _load_history(out, meta, timings)
            return result

        if rc == _DRIVER_EXIT_HANG and report is not None and report.get("hang"):
            result.status = "hang"
            result.summary = report
            result.ops = tuple(int(k) for k in report.get("ops") or ())
            count = report.get("count")
            result.count = None if count is None else int(count)
            states = report.get("threads")
            result.thread_states = None if states is None else _thread_states(states)
            blocked = [s.describe() for s in result.thread_states or () if s.state == "blocked"]
            count_text = (
                "count unknown (available() did not return)"
                if result.count is None
                else f"count {result.count}"
            )
            result.message = f"no call completed for {watchdog:g} s; {count_text}" + (
                "; " + "; ".join(blocked) if blocked else ""
            )
            if record and out is not None and report.get("records") and os.path.exists(out):
                result.history = _load_history(out, meta, timings)
            return result

        if rc < 0:
            result.signal = -rc
            result.message = f"the driver died of {_signal_name(-rc)}"
            return result
        if rc in (_DRIVER_EXIT_USAGE, _DRIVER_EXIT_SETUP) and report is None:
            lines = proc.stderr.strip().splitlines()
            last = lines[-1].removeprefix("stress_driver: ") if lines else f"exit status {rc}"
            raise UsageError(f"stress driver for {source}: {last}", proc.stderr)
        result.message = f"the driver exited with status {rc} without a report"
        return result


@dataclass
class _Child:
    """How the driver's process ended: its exit status (negative: the signal), its stdout
    without the progress lines, its stderr, and whether the hard timeout killed it."""

    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


def _run_child(cmd: list[str], timeout: float, progress: ProgressCallback | None) -> _Child:
    """Runs the driver to its end, or kills it after ``timeout`` seconds.

    Stdout is read line by line here, as the child writes it: progress lines go to
    ``progress`` (when given; else they are kept like any line), everything else is kept for
    the report.  Stderr is drained by a thread, so that neither pipe can fill and stall the
    child.  The hard timeout is a timer that kills the child; the read then sees the end of
    the pipe.  Any exception here -- a KeyboardInterrupt while waiting, or one the callback
    lets through -- kills the child before it propagates: no driver outlives its caller.
    """
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    assert proc.stdout is not None and proc.stderr is not None
    expired = threading.Event()

    def expire() -> None:
        if proc.poll() is None:  # a child that has just ended is no hang
            expired.set()
            proc.kill()

    errors: list[str] = []
    drain = threading.Thread(target=_drain, args=(proc.stderr, errors), daemon=True)
    timer = threading.Timer(timeout, expire)
    timer.daemon = True
    kept: list[str] = []
    report = progress
    try:
        drain.start()
        timer.start()
        for line in proc.stdout:  # until the child ends (or is killed) and the pipe closes
            got = None if report is None else _progress_line(line)
            if report is None or got is None:
                kept.append(line)
                continue
            try:
                report(*got)
            except Exception:  # a broken display must not break the run: no more calls
                report = None
        proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        timer.cancel()
        drain.join(5.0)
        proc.stdout.close()
    # the timer may fire while the child ends on its own: only a SIGKILL death is its doing
    timed_out = expired.is_set() and proc.returncode == -signal.SIGKILL
    return _Child(proc.returncode, "".join(kept), "".join(errors), timed_out)


def _drain(stream: IO[str], into: list[str]) -> None:
    """Reads ``stream`` to its end into ``into`` (a thread's body), and closes it."""
    try:
        into.append(stream.read())
    except (OSError, ValueError):  # closed under us: what was read is lost, nothing else
        pass
    finally:
        stream.close()


def _scratch_dir(record_mb: int) -> str | None:
    """Where the record file goes: /dev/shm when it has room for the most the driver may
    write (memory either way -- the file is read straight back -- but no disk write-back
    competes with the run and the reading), else the default temporary directory."""
    try:
        st = os.statvfs("/dev/shm")
    except OSError:
        return None
    room = st.f_bavail * st.f_frsize
    return "/dev/shm" if room > (record_mb << 20) * 5 // 4 + (64 << 20) else None


def _load_history(path: str, meta: dict[str, Any], timings: dict[str, float]) -> History:
    started = time.perf_counter()
    header, records = read_records(path)
    history = records_to_history(records, header["initial"], meta)
    del records  # the file's map: the history holds copies
    timings["read"] = time.perf_counter() - started
    return history


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
