"""The pytest plugin, as a user's suite sees it: pytest runs in a subprocess on a copy of the
example project (tests/data/plugin_project), plainly, under pytest-xdist and under
pytest-repeat; the correct semaphores' tests pass, the buggy one's fail with the minimised
trace and a replay command that works; mistakes are reported clearly; and a suite that does
not use the plugin sees no difference."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from semharness.pytest_plugin import absolute_spec, import_root

EXAMPLE = Path(__file__).parent / "data" / "plugin_project"
BUGGY_TEST = "tests/test_buggy.py::test_buggy_model_checking"
#: What the example's tests must do: every test passes except the buggy semaphore's.
EXPECTED = {
    BUGGY_TEST: "FAILED",
    "tests/test_c_semaphore.py::test_c_semaphore": "PASSED",
    "tests/test_semaphore.py::test_model_checking": "PASSED",
    "tests/test_semaphore.py::test_peer_suite": "PASSED",
    "tests/test_semaphore.py::test_stress": "PASSED",
    "tests/test_semaphore.py::test_our_own_test": "PASSED",
}
#: The column header of a minimised trace: one column per thread.
TRACE_HEADER = re.compile(r"step \| t0 +\| t1 +\|")
REPLAY_LINE = re.compile(r"^replay: (?:PYTHONPATH=(\S+) )?semharness replay (\S+)$", re.M)


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest on ``project`` in a fresh interpreter, isolated from the pytest running this
    test (its xdist worker and timeout variables), every outcome listed (``-rA``), at a fixed
    terminal width and without ``CI``/``BUILD_NUMBER`` (which make pytest print whole failure
    messages in the summary), so the output does not depend on where the suite runs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k not in ("CI", "BUILD_NUMBER")
    }
    env["COLUMNS"] = "100"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def failure_reports(output: str) -> str:
    """The FAILURES section alone: the summary may repeat a failure's message (whole on a CI
    machine or a wide terminal), so messages and replay lines are counted here."""
    return output.partition("= FAILURES =")[2].partition("short test summary info")[0]


def outcomes(output: str) -> dict[str, str]:
    """Test id -> outcome, from the ``-rA`` summary (pytest-repeat's [k-N] suffix kept)."""
    found = re.finditer(r"^(PASSED|FAILED|ERROR|SKIPPED) (\S+)", output, re.M)
    return {m[2]: m[1] for m in found}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the example project, as a user would have it."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "project"))


@pytest.mark.parametrize(
    "mode", ["plain", "xdist", "repeat"], ids=["plain", "-n 2 --semharness-out", "--count 2"]
)
def test_example_project(project: Path, tmp_path: Path, mode: str) -> None:
    args = {
        "plain": [],
        "xdist": ["-n", "2", "--semharness-out", "replays"],
        "repeat": ["--count", "2"],
    }[mode]
    proc = run_pytest(project, "--basetemp", str(tmp_path / "basetemp"), *args)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    reps = ["[1-2]", "[2-2]"] if mode == "repeat" else [""]
    assert outcomes(out) == {test + rep: want for test, want in EXPECTED.items() for rep in reps}
    # the implementation under test is named in the header
    assert "semharness: semexample.sem:CountingSemaphore -> CountingSemaphore (python)" in out
    # each failure: what failed, the minimised trace, and the replay command
    failures = failure_reports(out)
    assert failures.count("semharness model check of NotifyOneSemaphore") == len(reps)
    assert "[lost wake-up]" in failures and TRACE_HEADER.search(failures)
    replays = REPLAY_LINE.findall(failures)
    assert len(replays) == len(reps)
    for pythonpath, replay_file in replays:
        assert pythonpath == str(project)  # pytest.ini's `pythonpath = .`
        where = project / "replays" if mode == "xdist" else tmp_path / "basetemp"
        assert Path(replay_file).is_relative_to(where) and Path(replay_file).is_file()
    if mode == "repeat":  # each repetition explores other schedules
        assert "(random, seed 0," in out and "(random, seed 1," in out
    # the replay command works, from anywhere
    pythonpath, replay_file = replays[0]
    replay = subprocess.run(
        [sys.executable, "-m", "semharness.cli", "replay", replay_file],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": pythonpath},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert replay.returncode == 1, replay.stderr
    assert TRACE_HEADER.search(replay.stdout) and "[lost wake-up]" in replay.stdout


def test_unknown_implementation_is_a_usage_error(project: Path) -> None:
    proc = run_pytest(project, "--semharness-impl", "nope")
    assert proc.returncode == 4  # pytest's usage error
    assert "ERROR: --semharness-impl: unknown implementation 'nope'" in proc.stderr
    assert "futex64" in proc.stderr and "Traceback" not in proc.stderr + proc.stdout


def test_mistakes_in_markers_fail_the_test_with_one_message(tmp_path: Path) -> None:
    (tmp_path / "test_mistakes.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.semharness_model(impl="nosuch.module:Sem")
            def test_unknown_module():
                pass

            @pytest.mark.semharness_stress(impl="textbook", thread=2)
            def test_misspelt_argument():
                pass

            @pytest.mark.semharness_peer(scenarios=["battery"])
            def test_no_implementation():
                pass

            @pytest.mark.semharness_model(impl="textbook", scenarios=["nosuch"])
            def test_unknown_scenario():
                pass
            """
        )
    )
    proc = run_pytest(tmp_path)
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    assert set(outcomes(out).values()) == {"FAILED"} and len(outcomes(out)) == 4
    assert "cannot import module nosuch.module" in out
    assert "unknown argument 'thread'; it takes impl, mix, ops, seconds, seed, threads" in out
    assert "semharness_peer: no implementation to test: pass --semharness-impl SPEC" in out
    assert "no model scenario 'nosuch'" in out
    assert "Traceback" not in out and "During handling" not in out


def test_plugin_is_inert_in_suites_that_do_not_use_it(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        textwrap.dedent(
            """
            import sys

            def test_nothing_heavy_was_imported():
                assert "semharness.model.session" not in sys.modules
                assert "semharness.peer_run" not in sys.modules

            def test_with_a_fixture(tmp_path):
                assert tmp_path.is_dir()
            """
        )
    )

    def output(*args: str) -> str:
        proc = run_pytest(tmp_path, "-v", "--setup-show", *args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        text = re.sub(r"^plugins: .*$", "", proc.stdout, flags=re.M)
        return re.sub(r" in [\d.]+s", "", text)

    with_plugin, without = output(), output("-p", "no:semharness")
    assert with_plugin == without
    assert "semharness" not in with_plugin


def test_absolute_spec_and_import_root(tmp_path: Path) -> None:
    assert absolute_spec("my/sem.c", tmp_path) == f"{tmp_path}/my/sem.c"
    assert absolute_spec("my/sem.py:Sem", tmp_path) == f"{tmp_path}/my/sem.py:Sem"
    assert absolute_spec("/abs/sem.c", tmp_path) == "/abs/sem.c"
    for unchanged in ("futex64", "pkg.mod:Sem", "buggy-notify-one"):
        assert absolute_spec(unchanged, tmp_path) == unchanged
    # installed and standard-library modules need nothing; file and built-in specs neither
    assert import_root("threading:Semaphore") is None
    assert import_root("pytest:Function") is None
    assert import_root(f"{tmp_path}/sem.py:Sem") is None and import_root("futex64") is None
