"""``semharness selftest``: the harness must keep its power to catch every known bug.

The first test is the gate itself: every implementation of the known-bug corpus must be caught
by the default checks, and no correct built-in flagged.  CI fails here the day a change to a
check, a scenario or the scheduler loses one of them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import semharness.selftest as selftest
from semharness.registry import buggy
from semharness.selftest import SelftestRow, _first_model_failure, run_selftest, selftest_names


def test_every_known_bug_is_caught_and_no_correct_implementation_flagged(tmp_path: Path) -> None:
    names = selftest_names()
    assert sum(b for _, b in names) == len(buggy()) >= 2
    rows, interrupted = run_selftest(names, seed=0, out=tmp_path)
    assert not interrupted and len(rows) == len(names)
    wrong = [(r.impl, r.buggy, r.check, r.error, r.message) for r in rows if not r.ok]
    assert wrong == []
    for r in rows:
        if r.buggy and r.replay:  # model-checking finds come with a replay file and a trace
            assert Path(r.replay).is_file() and r.trace_steps and r.trace_steps > 0


def test_an_implementation_that_should_fail_but_passes_is_an_escape(tmp_path: Path) -> None:
    # the selftest judges by what the checks find, never by name: a correct implementation
    # entered as "buggy" passes every check, which makes it an escape
    rows, _ = run_selftest([("futex32", True), ("buggy-notify-one", False)], 1, tmp_path)
    by_name = {r.impl: r for r in rows}
    assert not by_name["futex32"].caught and not by_name["futex32"].ok
    flagged = by_name["buggy-notify-one"]
    assert flagged.caught and not flagged.ok and flagged.check == "lost wake-up"


def test_the_first_failure_is_timed_from_the_start_of_the_check() -> None:
    def failure(check: str, at: float) -> dict:
        return {
            "check": check,
            "message": "m",
            "found_after_job_s": at,
            "trace_steps": 9,
            "replay": f"{check}.json",
        }

    report = {
        "battery": {"results": {"x": [{"scenario": "b", "status": "pass", "duration_s": 0.25}]}},
        "model": {
            "x": {
                "outcomes": [
                    {"scenario": "s1", "seconds": 0.5, "failure": None},
                    {"scenario": "s2", "seconds": 0.3, "failure": failure("deadlock", 0.875)},
                    {"scenario": "s3", "seconds": 0.1, "failure": failure("invariant", 0.5)},
                ]
            }
        },
    }
    row = SelftestRow("x", True)
    _first_model_failure(report, row)  # the scenarios took turns: s3's came first
    assert (row.caught, row.check, row.scenario) == (True, "invariant", "s3")
    assert row.first_failure_s == 0.75 and row.trace_steps == 9 and row.replay == "invariant.json"


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "semharness.cli", *args], capture_output=True, text=True
    )


def test_the_command_line(tmp_path: Path) -> None:
    proc = _cli("selftest", "no-such-thing", "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    listed = json.loads(_cli("list", "--buggy", "--json").stdout)
    names = [i["name"] for i in listed["implementations"]]
    assert names == [impl.name for impl in buggy()]
    assert all(i["description"].startswith("known bug") for i in listed["implementations"])
    proc = _cli("selftest", "buggy-notify-one", "futex64", "--json", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)["rows"]
    assert [(r["impl"], r["caught"], r["ok"]) for r in rows] == [
        ("buggy-notify-one", True, True),
        ("futex64", False, True),
    ]


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path) -> None:
    args = ["check", "buggy-notify-one", "--no-battery", "--json", "--out", str(tmp_path)]
    full = _cli(*args)
    fast = _cli(*args, "--fail-fast")
    assert full.returncode == fast.returncode == 1
    outcomes = {
        name: json.loads(proc.stdout)["model"]["buggy-notify-one"]["outcomes"]
        for name, proc in (("full", full), ("fast", fast))
    }
    assert not any(o["status"] == "unfinished" for o in outcomes["full"])
    statuses = [o["status"] for o in outcomes["fast"]]
    assert statuses.count("fail") == 1 and "unfinished" in statuses
    assert sum(o["runs"] for o in outcomes["fast"]) < sum(o["runs"] for o in outcomes["full"])


def test_ctrl_c_stops_bench_selftest(monkeypatch: pytest.MonkeyPatch) -> None:
    # run_selftest swallows the KeyboardInterrupt to return the rows that finished; the bench
    # must not go on to the next seed after it
    seeds: list[int] = []

    def interrupted(names, seed, out, *args, **kwargs):
        seeds.append(seed)
        return [], True

    monkeypatch.setattr(selftest, "run_selftest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        selftest.bench_selftest()
    assert seeds == [0]


def test_a_failure_with_no_time_is_not_the_first_nor_timed_at_once() -> None:
    # crash and hang failures (model/session.py) carry no found_after_job_s
    crash = {"check": "crash", "message": "signal 11", "choices": [], "replay": None}
    timed = {"check": "deadlock", "message": "m", "found_after_job_s": 0.5, "trace_steps": 3}
    report = {
        "battery": {"results": {"x": [{"scenario": "b", "status": "pass", "duration_s": 0.25}]}},
        "model": {
            "x": {
                "outcomes": [
                    {"scenario": "s1", "failure": crash},
                    {"scenario": "s2", "failure": timed},
                ]
            }
        },
    }
    row = SelftestRow("x", True)
    _first_model_failure(report, row)
    assert (row.check, row.scenario, row.first_failure_s) == ("deadlock", "s2", 0.75)
    report["model"]["x"]["outcomes"].pop()
    row = SelftestRow("x", True)
    _first_model_failure(report, row)  # caught, but when is not known
    assert row.caught and row.check == "crash" and row.first_failure_s is None
    assert row.ok and row.to_json()["first_failure_s"] is None


def test_bench_selftest_counts_an_untimed_catch_as_caught_but_not_on_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def rows(names, seed, out, *args, **kwargs):
        crashed = SelftestRow(names[0][0], True, caught=True, check="crash")
        return [crashed, *(SelftestRow(n, True, True, "x", "s", 0.25) for n, _ in names[1:])], False

    monkeypatch.setattr(selftest, "run_selftest", rows)
    result = selftest.bench_selftest()
    everything = next(t for t in result.targets if t.text.startswith("every known bug"))
    assert everything.met and "escaped" not in result.context
    assert result.context["caught_untimed"].count("(seed") == len(selftest.BENCH_SEEDS)
    # when it was caught is not known: not within the time targets either
    timing = [t for t in result.targets if "time to first failure" in t.text]
    assert len(timing) == 2 and not any(t.met for t in timing)
