"""The command line: one-line errors with exit 2, list, run on a user's implementation."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from semharness.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "semharness.cli", *args], capture_output=True, text=True, timeout=300
    )


def test_unknown_implementation_is_one_line_and_exit_2() -> None:
    proc = run_cli("list", "nope")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "unknown implementation 'nope'" in proc.stderr and "futex64" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_option_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--no-such-option"]) == 2
    assert "unrecognized arguments" in capsys.readouterr().err
    assert main([]) == 2
    assert main(["bench", "nope"]) == 2


def test_c_file_that_does_not_compile_exits_2_with_compiler_message(tmp_path: Path) -> None:
    src = tmp_path / "oops.c"
    src.write_text('#include "semharness.h"\nint semh_init(void *s, int32_t n) { return y; }\n')
    proc = subprocess.run(
        [sys.executable, "-m", "semharness.cli", "list", str(src)],
        capture_output=True,
        text=True,
        env={"SEMHARNESS_CACHE": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 2
    first = proc.stderr.splitlines()[0]
    assert "oops.c does not compile" in first and "'y' undeclared" in first
    assert "Traceback" not in proc.stderr


def test_list_json_shows_kinds_capabilities_and_scenarios() -> None:
    proc = run_cli("list", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    impls = {i["name"]: i for i in data["implementations"]}
    assert impls["posix_sem"]["kind"] == "c"
    assert impls["posix_sem"]["capabilities"]["multi_acquire"] is False
    assert impls["threading"]["kind"] == "adapter"
    names = {s["name"] for s in data["scenarios"]}
    assert "badinput-overflow" in names and len(names) > 10


def test_list_text_names_every_builtin() -> None:
    proc = run_cli("list")
    assert proc.returncode == 0, proc.stderr
    for name in ("futex64", "futex32", "posix_sem", "textbook", "threading", "multiprocessing"):
        assert name in proc.stdout


SLOW_FREE = textwrap.dedent(
    '''
    from semharness.implementations.textbook import ConditionSemaphore

    class NoTimeouts(ConditionSemaphore):
        """The textbook semaphore, declared without timed waits (keeps this test short)."""
        semharness_capabilities = {"timeouts": False}

    class Broken(NoTimeouts):
        """Forgets to check for negative n in release."""
        def release(self, n=1):
            if n < 0:
                self._count += n
                return
            super().release(n)
    '''
)


def test_run_user_implementation_passes_and_broken_one_fails(tmp_path: Path) -> None:
    path = tmp_path / "mine.py"
    path.write_text(SLOW_FREE)
    good = run_cli("run", f"{path}:NoTimeouts", "--quick", "--json", "--out", str(tmp_path / "a"))
    assert good.returncode == 0, good.stdout + good.stderr
    results = json.loads(good.stdout)["peer"]["results"]["NoTimeouts"]
    statuses = {r["scenario"]: r["status"] for r in results}
    assert statuses["badinput-negative-n"] == "pass"
    assert statuses["timeout-positive"] == "skip"
    bad = run_cli("run", f"{path}:Broken", "--quick", "--json", "--out", str(tmp_path / "b"))
    assert bad.returncode == 1
    results = json.loads(bad.stdout)["peer"]["results"]["Broken"]
    failed = [r for r in results if r["status"] == "fail"]
    assert [r["scenario"] for r in failed] == ["badinput-negative-n"]
    assert "ValueError" in " ".join(failed[0]["messages"])


def write_history(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


HEADER = '{"format": "semharness-history", "version": 1, "initial": 1}'


def op_line(thread: int, op: str, n: int, invoke: int, ret: int | None, result: object) -> str:
    return json.dumps(
        {"thread": thread, "op": op, "n": n, "invoke": invoke, "return": ret, "result": result}
    )


def test_check_history_exit_codes(tmp_path: Path) -> None:
    good = write_history(
        tmp_path / "good.jsonl",
        [HEADER, op_line(0, "acquire", 1, 0, 10, None), op_line(1, "available", 0, 2, 3, 0)],
    )
    proc = run_cli("check-history", str(good))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "linearizable" in proc.stdout

    bad = write_history(
        tmp_path / "bad.jsonl",
        [HEADER, op_line(0, "acquire", 1, 0, 10, None), op_line(1, "acquire", 1, 2, 12, None)],
    )
    png = tmp_path / "v.png"
    proc = run_cli("check-history", str(bad), "--png", str(png), "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert data["linearizability"]["status"] == "violation"
    assert data["linearizability"]["culprit"] == 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # count always even (releases of 2 from 0), a read of 5 within every bound: only a
    # search can refute it.  With 10 threads the breadth-first sweep does, whatever the
    # budget; with 70 (more than the sweep takes) the depth-first search must, and a budget of
    # 2 nodes cannot: inconclusive.
    def even_counts(threads: int) -> Path:
        lines = ['{"format": "semharness-history", "version": 1, "initial": 0}']
        lines += [op_line(t, "release", 2, 0, 100, None) for t in range(threads)]
        lines.append(op_line(threads, "available", 0, 50, 60, 5))
        return write_history(tmp_path / f"even{threads}.jsonl", lines)

    assert run_cli("check-history", str(even_counts(10)), "--budget", "2").returncode == 1
    # refuted by the sweep, but the search that would name the calls ran out: no picture
    png = tmp_path / "none.png"
    proc = run_cli("check-history", str(even_counts(10)), "--budget", "2", "--png", str(png))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stdout + proc.stderr
    assert "no picture: the verdict names no calls" in proc.stdout and not png.exists()
    assert run_cli("check-history", str(even_counts(10))).returncode == 1
    assert run_cli("check-history", str(even_counts(70)), "--budget", "2").returncode == 3


def test_check_history_rejects_malformed_files_with_the_line(tmp_path: Path) -> None:
    cases = {
        "json": [HEADER, "{not json"],
        "field": [HEADER, '{"thread": 0, "op": "acquire", "invoke": 1, "return": 2}'],
        "order": [HEADER, op_line(0, "acquire", 1, 10, 5, None)],
        "overlap": [
            HEADER,
            op_line(0, "acquire", 1, 0, 10, None),
            op_line(0, "release", 1, 5, 6, None),
        ],
        "op": [HEADER, op_line(0, "steal", 1, 0, 10, None)],
    }
    for name, lines in cases.items():
        path = write_history(tmp_path / f"{name}.jsonl", lines)
        proc = run_cli("check-history", str(path))
        assert proc.returncode == 2, (name, proc.stdout, proc.stderr)
        assert f"{name}.jsonl:{len(lines)}:" in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stderr.count("\n") == 1
