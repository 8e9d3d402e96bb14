"""The Python stress driver: real threads, recorded histories that the checks accept, the
switch interval restored, and a hang reported instead of waited for."""

from __future__ import annotations

import io
import json
import re
import sys
import threading
from pathlib import Path

import pytest
from rich.console import Console

from semharness.invariants import check_invariants
from semharness.linearizability import check_history
from semharness.registry import resolve
from semharness.stress.mix import Mix
from semharness.stress.pydriver import run_python


@pytest.mark.parametrize("name", ["textbook", "threading", "multiprocessing"])
@pytest.mark.parametrize("threads", [1, 2, 4])
def test_correct_implementations_pass_their_stress_history(name: str, threads: int) -> None:
    impl = resolve(name)
    mix = Mix(n_max=2) if impl.capabilities.multi_acquire else Mix()
    interval = sys.getswitchinterval()
    run = run_python(impl.create, threads, mix, ops=400, seed=threads)
    assert sys.getswitchinterval() == interval
    assert run.status == "ok" and all(n >= 400 for n in run.ops)
    assert len(run.history) == sum(run.ops) + 1  # and the observer's final read
    assert check_history(run.history).ok
    assert check_invariants(run.history) == []
    assert run.count == mix.default_initial()


class NeverWakes:
    """A semaphore whose waiters are never woken: release forgets to notify."""

    def __init__(self, initial: int = 0) -> None:
        self._count = initial
        self._cond = threading.Condition()

    def acquire(self, n: int = 1) -> None:
        with self._cond:
            while self._count < n:
                self._cond.wait()
            self._count -= n

    def try_acquire(self, n: int = 1, timeout: float | None = 0.0) -> bool:
        with self._cond:
            if self._count < n:
                return False
            self._count -= n
            return True

    def release(self, n: int = 1) -> None:
        with self._cond:
            self._count += n  # the bug: no notify

    def available(self) -> int:
        return self._count


def test_a_hang_is_reported_with_the_blocked_calls() -> None:
    run = run_python(
        NeverWakes, 3, Mix(acquire=1, try_=0, timed=0, available=0), seconds=1, watchdog=0.5
    )
    assert run.status == "hang"
    assert run.blocked and all(op == "acquire" for _, op, _, _ in run.blocked)
    assert run.history.pending_mask().sum() == len(run.blocked)
    checks = {f.check for f in check_invariants(run.history)}
    assert "lost wake-up" in checks  # blocked while the final count could satisfy them


def test_the_stress_command(tmp_path, capsys) -> None:
    from semharness.cli import main

    out = tmp_path / "out"
    args = ["stress", "futex64", "textbook", "--threads", "1,2", "--ops", "300", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed.count("pass ") == 4 and "owner changes" in printed and "load" in printed
    assert " t2 " not in printed  # the observer's read is no worker thread
    assert (out / "stress-results.json").is_file() and list(out.glob("*.history.jsonl.gz"))
    deadlock = str(Path(__file__).parent / "data" / "stress_deadlock.c")
    assert main(["stress", deadlock, "--threads", "2", "--ops", "50", "--watchdog", "0.5"]) == 1
    assert "hang" in capsys.readouterr().out
    assert main(["stress", "futex64", "--mix", "acquire=x"]) == 2
    assert main(["stress", "futex64", "--threads", "0"]) == 2


def test_progress_is_reported_while_the_threads_run() -> None:
    seen: list[tuple[int, float]] = []
    run = run_python(
        resolve("textbook").create,
        2,
        Mix(),
        seconds=1.0,
        progress=lambda calls, seconds: seen.append((calls, seconds)),
    )
    assert run.status == "ok"
    assert len(seen) >= 2, seen  # about every 0.25 s of a 1 s run
    calls = [c for c, _ in seen]
    assert calls == sorted(calls) and calls[-1] <= sum(run.ops)
    secs = [s for _, s in seen]
    assert secs == sorted(secs) and secs[-1] < 30


def test_a_failing_progress_callback_does_not_stop_the_run() -> None:
    calls = []

    def broken(done: int, seconds: float) -> None:
        calls.append(done)
        raise RuntimeError("display gone")

    run = run_python(resolve("textbook").create, 1, Mix(), seconds=0.6, progress=broken)
    assert run.status == "ok" and len(calls) == 1


def test_the_stress_command_with_defaults(capsys) -> None:
    from semharness.cli import main

    assert main(["stress", "futex64", "--seconds", "0.5"]) == 0
    assert "pass futex64, 2 threads" in capsys.readouterr().out
    assert main(["stress", "futex64", "--seconds", "0.5", "--json"]) == 0
    outcomes = json.loads(capsys.readouterr().out)  # no live display mixed in
    assert [o["status"] for o in outcomes] == ["pass"]


@pytest.mark.parametrize("impl", ["futex64", "textbook"])
def test_the_live_line_on_a_terminal(impl: str) -> None:
    """On a terminal the command shows calls, calls/s and the time while a run goes on, then
    that it checks the history."""
    from semharness.cli import build_parser
    from semharness.stress.command import cmd_stress

    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=200)
    args = build_parser().parse_args(["stress", impl, "--seconds", "1"])
    assert cmd_stress(args, console) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # colours, cursor moves
    assert f"stress {impl}, 2 threads: " in text and " calls/s, " in text and " / 1 s" in text
    assert "checking the history" in text
    assert f"pass {impl}, 2 threads" in text
