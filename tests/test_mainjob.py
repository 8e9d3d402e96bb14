"""``semharness run``: the main job writes its results and report, keeps what it found when
interrupted, and refuses bad input in one line."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rich.console import Console

from semharness import mainjob
from semharness.mainjob import Plan, run_peer, summary_rows, verdict
from semharness.registry import resolve


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


#: Semaphores whose every call ends the process, or holds the GIL for good (so that the
#: scenario's own watchdog thread never runs again).
WRECKERS = """
import os
import signal


class Dies:
    def __init__(self, initial=0):
        pass

    def _die(self, *args, **kw):
        os.kill(os.getpid(), signal.SIGKILL)

    acquire = try_acquire = release = available = _die


class HoldsTheGil(Dies):
    def _die(self, *args, **kw):
        return sum(range(10**18))

    acquire = try_acquire = release = available = _die
"""


def test_a_peer_suite_process_that_dies_or_hangs_fails_its_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "wreckers.py"
    path.write_text(textwrap.dedent(WRECKERS))
    # the first scenario's watchdog bound is 10 s: give the hung process 1 s past none of it
    monkeypatch.setattr(mainjob, "PEER_SLACK_S", -9.0)
    impls = [(f"{path}:{cls}", resolve(f"{path}:{cls}")) for cls in ("Dies", "HoldsTheGil")]
    impls.append(("textbook", resolve("textbook")))
    started = time.monotonic()
    peer = run_peer(impls, Plan.make(quick=True), note=lambda text: None)
    assert time.monotonic() - started < 60
    assert not peer["interrupted"]
    died, hung, fine = (peer["results"][impl.name] for _, impl in impls)
    assert len(died) == 1 and died[0]["status"] == "fail"
    assert died[0]["messages"] == [f"{mainjob.DIED} (killed by SIGKILL); {mainjob.REST_NOT_RUN}"]
    assert len(hung) == 1 and hung[0]["status"] == "fail"
    assert hung[0]["messages"][0].startswith("no answer after 1 s")
    assert died[0]["scenario"] == hung[0]["scenario"] == fine[0]["scenario"]  # the first one
    assert len(fine) > 10 and all(r["status"] in ("pass", "skip") for r in fine)


def test_ctrl_c_from_a_terminal_keeps_the_peer_scenarios_that_finished(tmp_path: Path) -> None:
    # the whole process group gets the signal, as from a terminal: the children ignore it and
    # the parent keeps every scenario they reported
    out = tmp_path / "report"
    child = subprocess.Popen(
        [sys.executable, "-m", "semharness.cli", "run", "futex64", "threading", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    time.sleep(8.0)  # the full peer suite takes over 30 s: this is well inside it
    os.killpg(child.pid, signal.SIGINT)
    stdout, stderr = child.communicate(timeout=120)
    assert child.returncode == 3, stdout + stderr
    assert "Traceback" not in stderr, stderr
    results = json.loads((out / "results.json").read_text())
    assert results["interrupted"] and results["peer"]["interrupted"]
    assert "model" not in results
    rows = results["peer"]["results"]
    assert set(rows) == {"futex64", "threading"}
    assert all(len(r) >= 1 for r in rows.values())
    assert all(x["status"] in ("pass", "skip") for r in rows.values() for x in r)


def test_a_phase_that_fails_still_leaves_the_results_and_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kw: object) -> None:
        raise RuntimeError("a fault in the model phase")

    monkeypatch.setattr(mainjob, "run_model", broken)
    quiet = Console(file=io.StringIO())
    with pytest.raises(RuntimeError, match="a fault in the model phase"):
        mainjob.run_main_job([("textbook", resolve("textbook"))], True, 0, tmp_path, None, quiet)
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["interrupted"] and results["peer"]["results"]["textbook"]
    assert (tmp_path / "report.md").is_file()


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
