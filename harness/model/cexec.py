"""The C executor: a C implementation, compiled against the header's model backend, run under
the deterministic scheduler of ``harness/csrc/model_runtime.c``.

Everything of a run happens in C -- the scheduler, the three schedule modes, the history, the
trace, the signature -- so that one run costs a few microseconds; this module only validates
the program, builds the module (cached) and turns the C records into :mod:`.core`'s types when
they are asked for.

A crash of the code under test ends the process: the runtime's signal handler writes
``SEMH-TRACE`` lines (when the run was traced) and one ``SEMH-CRASH`` line to the crash fd and
exits with status 86.  Run executors in a worker process and read the lines back with
:func:`parse_crash`.
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

from .. import cbuild
from ..csrc_flags import CAP_MODEL
from .core import (
    AVAILABLE,
    SLEEP,
    TRY_ACQUIRE,
    HistoryRow,
    Program,
    RunConfig,
    ScheduleSpec,
    TraceStep,
    Trail,
)

#: Exit status of a process whose run crashed (the runtime's signal handler).
CRASH_EXIT = 86

_I32_MIN, _I32_MAX = -(2**31), 2**31 - 1
_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


def error_name(r: int) -> str:
    """The history's error name for a negative errno ``r`` returned by a C implementation."""
    if r == -errno.EINVAL:
        return "ValueError"
    if r == -errno.EOVERFLOW:
        return "OverflowError"
    return errno.errorcode.get(-r, f"errno {-r}")


def _check_program(program: Program, max_threads: int) -> None:
    """Refuses what the native binding refuses before calling C: n outside int32 (the C
    contract takes ``int32_t n``), an initial count outside 0 .. 2**31 - 1, timeouts outside
    int64."""
    if not 0 <= program.initial <= _I32_MAX:
        raise ValueError(f"initial count {program.initial} is outside 0 .. 2**31 - 1")
    if not 1 <= len(program.threads) <= max_threads:
        raise ValueError(f"a program has 1 to {max_threads} threads")
    for t, actions in enumerate(program.threads):
        for k, (code, n, timeout) in enumerate(actions):
            if code != SLEEP and not _I32_MIN <= n <= _I32_MAX:
                raise ValueError(f"thread {t} action {k}: n = {n} does not fit the C int32_t")
            if not _I64_MIN <= timeout <= _I64_MAX:
                raise ValueError(f"thread {t} action {k}: timeout {timeout} ns is out of range")


class CExecutor:
    """One C implementation and one program, run again and again (implements
    :class:`.core.Executor`).

    ``source``: the implementation's ``.c`` file; it must declare ``SEMH_CAP_MODEL``.
    ``crash_fd``: where a crashing run writes its last words (see :func:`parse_crash`).
    Only one run at a time per process (the runtime's scheduler is global to the module).
    """

    def __init__(
        self, source: Path, program: Program, config: RunConfig, crash_fd: int = 2
    ) -> None:
        module = cbuild.build_model_module(Path(source))
        if not module.capabilities & CAP_MODEL:
            raise ValueError(
                f"{source}: the implementation does not declare SEMH_CAP_MODEL, so it cannot "
                "run under the model checker (it must use only semharness.h for shared memory, "
                "blocking and time)"
            )
        _check_program(program, module.max_threads)
        self.source = Path(source)
        self.program = program
        self.config = config
        self.description: str = module.description
        self.capabilities: int = module.capabilities
        self._runner: Any = module.Runner(
            program.initial,
            tuple(tuple(tuple(a) for a in actions) for actions in program.threads),
            config.timeouts == "adversarial",
            config.spurious,
            config.max_steps,
            crash_fd,
        )
        self._run = self._runner.run

    def run(self, spec: ScheduleSpec, trace: bool = False) -> tuple[str, bytes]:
        """Makes one run: its outcome and its signature (all the rest is kept in C until asked
        for)."""
        return self._run(spec.mode, spec.seed, spec.prefix, spec.depth, spec.horizon, trace)

    def trail(self) -> Trail:
        """The last run's choices."""
        return Trail(*self._runner.trail())

    def history(self) -> list[HistoryRow]:
        """The last run's contract calls, in invoke order (the observer's last)."""
        rows: list[HistoryRow] = []
        for thread, code, n, timeout, invoke, ret, raw in self._runner.history():
            result: object = None
            error: str | None = None
            if raw is not None:
                if code == AVAILABLE:
                    result = raw
                elif raw < 0:
                    error = error_name(raw)
                elif code == TRY_ACQUIRE:
                    result = raw >= 1
            rows.append((thread, code, n, timeout, invoke, ret, result, error))
        return rows

    def trace(self) -> list[TraceStep]:
        """The last run's steps (empty unless it was made with trace=True)."""
        return self._runner.trace()

    def findings(self) -> list[str]:
        """Waits past a timed try's deadline, and results outside the contract, of the last
        run."""
        return self._runner.findings()


def _value(text: str) -> int | None:
    return None if text == "-" else int(text)


def parse_crash(text: str) -> tuple[int, tuple[int, ...], list[TraceStep]] | None:
    """Reads what a crashed run wrote to its crash fd: (signal, the trail's chosen indices so
    far, the trace so far -- empty unless the run was traced), or None when ``text`` holds no
    crash report.  A prefix spec with those indices replays the run up to the crash."""
    trace: list[TraceStep] = []
    for line in text.splitlines():
        if line.startswith("SEMH-TRACE\t"):
            fields = line.split("\t", 7)
            if len(fields) != 8:
                continue
            _, thread, op, kind, target, old, new, note = fields
            trace.append((int(thread), int(op), kind, target, _value(old), _value(new), note))
        elif line.startswith("SEMH-CRASH "):
            parts = line.split(" ", 2)
            chosen = parts[2].strip() if len(parts) > 2 else ""
            indices = tuple(int(c) for c in chosen.split(",")) if chosen else ()
            return int(parts[1]), indices, trace
    return None
