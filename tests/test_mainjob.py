"""``semharness run``: the main job writes its results and report, keeps what it found when
interrupted, and refuses bad input in one line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from semharness.mainjob import summary_rows, verdict


def _cli(*args: str, **kw: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "semharness.cli", *args], capture_output=True, text=True, **kw
    )


def test_a_quick_run_writes_results_report_and_junit(tmp_path: Path) -> None:
    out, junit = tmp_path / "report", tmp_path / "junit.xml"
    proc = _cli("run", "futex64", "textbook", "--quick", "--out", str(out), "--junit", str(junit))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((out / "results.json").read_text())
    assert results["format"] == "semharness-results" and not results["interrupted"]
    assert set(results["peer"]["results"]) == {"futex64", "textbook"}
    assert {o["impl"] for o in results["stress"]} == {"futex64", "textbook"}
    assert all(o["status"] == "pass" for o in results["stress"])
    assert "selftest" not in results  # only a run over the built-ins is the harness's own
    rows = summary_rows(results)
    assert rows["futex64"] == {
        "peer suite": "pass",
        "bad-input battery": "pass",
        "model checking": "pass",
        "stress": "pass",
    }
    for name in ("report.md", "report.html"):
        assert (out / name).stat().st_size > 1000
    assert junit.read_text().lstrip().startswith("<?xml")
    assert "semharness run futex64 textbook --quick" in (out / "report.md").read_text()


def test_ctrl_c_keeps_the_findings_and_the_replay_files(tmp_path: Path) -> None:
    # a known bug named explicitly: model checking finds it (its replay file is written), and
    # the run is interrupted right after, in the stress phase or before
    out = tmp_path / "report"
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "semharness.cli",
            "run",
            "buggy-notify-one",
            "--quick",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list((out / "replays").glob("*.replay.json")):
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode in (1, 3), stdout + stderr  # 1: the bug counts as a failure
    results = json.loads((out / "results.json").read_text())
    replays = list((out / "replays").glob("*.replay.json"))
    assert replays and (out / "report.md").is_file() and (out / "report.html").is_file()
    model = results["model"]["buggy-notify-one"]["outcomes"]
    assert any(o["failure"] and o["failure"]["replay"] for o in model)
    assert summary_rows(results)["buggy-notify-one"]["model checking"] == "FAIL"
    replay = _cli("replay", str(replays[0]))
    assert replay.returncode == 1, replay.stdout + replay.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("run", "no-such-implementation"),
        ("run", "futex64", "--out", "/proc/semharness-cannot-write-here"),
        ("run", "futex64", "--junit", "/no/such/folder/junit.xml"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    proc = _cli(*args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("semharness: error:")


def test_the_verdict() -> None:
    ok = {"peer": {"results": {"a": [{"scenario": "acquire-a", "status": "pass"}]}}}
    assert verdict(ok) == 0
    assert verdict({**ok, "interrupted": True}) == 3
    escaped = {"selftest": {"rows": [{"impl": "b", "buggy": True, "caught": False, "ok": False}]}}
    assert verdict(escaped) == 1
    failed = {"stress": [{"impl": "a", "threads": 2, "status": "fail"}]}
    assert verdict(failed) == 1
