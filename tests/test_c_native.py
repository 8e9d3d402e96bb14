"""Native C tests: tests/c/test_native.c built against each built-in C implementation, and
the bench_pair driver.

Only gcc and subprocess are used (no import of the semharness package), so this runs wherever
a C compiler is.  The sanitizer builds (ASan/UBSan, TSan) are in tests/c/run.sh.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "harness" / "csrc"
IMPLS = ROOT / "implementations" / "c"
TEST_C = ROOT / "tests" / "c" / "test_native.c"
BENCH_C = CSRC / "bench_pair.c"

# The same flags as tests/c/run.sh's "plain" mode.
CFLAGS = ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-g", "-O2"]

CC = shutil.which("gcc")
pytestmark = pytest.mark.skipif(CC is None, reason="gcc not found on PATH: cannot build C tests")

IMPLEMENTATIONS = ["futex64", "futex32", "posix_sem"]


def _build(sources: list[Path], out: Path) -> Path:
    cmd = [CC, *CFLAGS, f"-I{CSRC}", *map(str, sources), "-lpthread", "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(
            f"build failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}"
        )
    return out


@pytest.mark.parametrize("impl", IMPLEMENTATIONS)
def test_native_suite(impl: str, tmp_path: Path) -> None:
    exe = _build([TEST_C, IMPLS / f"{impl}.c"], tmp_path / f"test_native_{impl}")
    try:
        proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"{impl}: test program still running after 120 s\n{out}")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{impl}: exit {proc.returncode}\n{output}"
    last = proc.stdout.strip().splitlines()[-1]
    assert last.split(",")[1].strip() == "0 failed", output


def test_bench_pair(tmp_path: Path) -> None:
    exe = _build([BENCH_C, IMPLS / "futex64.c"], tmp_path / "bench_pair_futex64")
    proc = subprocess.run([str(exe), "100000", "1"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout
    result = json.loads(lines[0])
    assert set(result) == {"description", "ns_per_pair", "iterations", "repeats"}
    assert isinstance(result["description"], str) and result["description"]
    assert isinstance(result["ns_per_pair"], float) and result["ns_per_pair"] > 0
    assert result["iterations"] == 100000
    assert result["repeats"] == 1
