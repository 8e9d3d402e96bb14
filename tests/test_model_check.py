"""The model checker end to end: correct implementations pass, the deliberate bugs are caught
with a readable minimised trace, failures replay identically, and a crashing implementation
is reported without taking the harness down.  Seeded throughout: every run is reproducible."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from semharness.cli import main
from semharness.model.core import RunConfig
from semharness.model.executors import executor_factory
from semharness.model.programs import default_scenarios, from_scenario
from semharness.model.replayfile import Replay, to_json, trace_digest, write
from semharness.model.runner import Settings, check_scenario, replay
from semharness.model.session import check_model, replay_in_worker
from semharness.model.tracefmt import render
from semharness.registry import builtins, resolve
from semharness.scenarios import generated, reproducers

DATA = Path(__file__).parent / "data"
MODEL_IMPLS = [i.name for i in builtins() if i.capabilities.model]
#: runs per scenario in the suite (the default check makes 1000)
SUITE_RUNS = {"c": 400, "python": 150, "adapter": 150}


def scenarios_for(impl):
    return [s for s in default_scenarios() if not impl.capabilities.missing(s.needs)]


@pytest.mark.parametrize("name", MODEL_IMPLS)
def test_correct_implementations_pass_the_default_scenarios(name: str) -> None:
    impl = resolve(name)
    make = executor_factory(impl)
    settings_ = Settings(seed=1, schedules=SUITE_RUNS[impl.kind])
    checked = 0
    for scenario in scenarios_for(impl):
        result = check_scenario(make, scenario, settings_)
        assert result.failure is None, render(result.failure, scenario.name)
        checked += 1
    # the peer cases, the reproducers, the generated ones (a bounded semaphore runs only the
    # few whose count never rises above its initial value)
    assert checked >= (4 if name == "threading-bounded" else 10)


STANDARD = ["standard", "repro-two-waiters-two-releases", "repro-borrowed-token"]


@pytest.mark.parametrize("name", ["futex64", "futex32", "textbook", "threading"])
def test_dfs_with_bound_2_completes_on_the_standard_scenarios(name: str) -> None:
    make = executor_factory(resolve(name))
    by_name = {s.name: s for s in default_scenarios()}
    for scenario in STANDARD:
        result = check_scenario(make, by_name[scenario], Settings("dfs", schedules=10**6))
        assert result.failure is None
        assert result.complete and result.runs > 1, (scenario, result.runs)


def first_failure(name: str, seed: int = 0):
    impl = resolve(name)
    make = executor_factory(impl)
    for scenario in scenarios_for(impl):
        result = check_scenario(make, scenario, Settings(seed=seed))
        if result.failure is not None:
            return scenario, result.failure
    raise AssertionError(f"{name} escaped the default check")


def steps_of(found, thread: int | None = None, kind: str | None = None):
    return [
        s
        for s in found.record.trace
        if (thread is None or s[0] == thread) and (kind is None or s[2] == kind)
    ]


def test_a_release_that_skips_the_wake_is_caught_with_a_readable_trace() -> None:
    scenario, found = first_failure("buggy-wake-on-zero")
    assert found.check in ("lost wake-up", "deadlock", "expectation")
    waiters = {s[0] for s in steps_of(found, kind="futex_wait") if "EAGAIN" not in s[6]}
    assert len(waiters) >= 2  # the two waiters went to sleep
    # a release ran (invoke .. return) with no futex wake in between: the skipped wake
    trace = found.record.trace
    skipped = False
    for i, step in enumerate(trace):
        if step[2] == "invoke" and step[6].startswith("release"):
            end = next(
                j
                for j in range(i, len(trace))
                if trace[j][:2] == step[:2] and trace[j][2] == "return"
            )
            between = [s for s in trace[i:end] if s[0] == step[0]]
            skipped = skipped or not any(s[2] == "futex_wake" for s in between)
    assert skipped
    text = render(found, scenario.name)
    assert "futex_wait" in text and "release" in text
    assert len(found.record.trace) < 120  # short enough to read


def test_notify_instead_of_notify_all_is_caught() -> None:
    _, found = first_failure("buggy-notify-one")
    assert found.check in ("lost wake-up", "deadlock", "expectation", "linearizability")
    assert steps_of(found, kind="notify") and not steps_of(found, kind="notify_all")
    assert len(steps_of(found, kind="cond_wait")) >= 2


def test_failures_replay_with_the_identical_trace(tmp_path: Path) -> None:
    scenario, found = first_failure("buggy-wake-on-zero")
    impl = resolve("buggy-wake-on-zero")
    again = replay(executor_factory(impl), found.scenario, found.config, found.choices)
    assert again.record.trace == found.record.trace
    assert [f.check for f in again.failures] == [f.check for f in found.failures]
    path = tmp_path / "f.replay.json"
    write(path, to_json("buggy-wake-on-zero", impl, found))
    rep = Replay(path)
    event = replay_in_worker(rep.implementation, rep.scenario, rep.config, rep.choices)
    assert event["trace_digest"] == trace_digest(found.record.trace) == rep.trace_digest
    assert main(["replay", str(path)]) == 1
    # mismatched: choices that do not fit, another implementation's file, a changed program
    data = json.loads(path.read_text())
    for broken in (
        {**data, "choices": [99] * 5},
        {**data, "implementation_digest": "0" * 64},
        {**data, "trace_digest": "1" * 64},
    ):
        path.write_text(json.dumps(broken))
        assert main(["replay", str(path)]) == 2
    path.write_text("{ not json")
    assert main(["replay", str(path)]) == 2
    assert scenario.name


def test_check_command_passes_fails_and_writes_replays(tmp_path: Path, capsys) -> None:
    out = tmp_path / "failures"
    args = ["--no-battery", "--scenario", "standard", "--schedules", "200", "--out", str(out)]
    assert main(["check", "futex64", "textbook", *args]) == 0
    scenario = "repro-two-waiters-two-releases"
    args = ["--no-battery", "--scenario", scenario, "--out", str(out), "-j", "2"]
    assert main(["check", "buggy-wake-on-zero", *args]) == 1
    printed = capsys.readouterr().out
    assert "FAIL" in printed and "semharness replay" in printed
    replays = list(out.glob("*.replay.json"))
    assert replays and main(["replay", str(replays[0])]) == 1
    assert main(["check", "futex64", "--no-battery", "--strategy", "bfs"]) == 2
    assert main(["check", "futex64", "--no-battery", "--scenario", "nope"]) == 2
    assert main(["check", "futex64", "--no-battery", "--schedules", "0"]) == 2
    assert main(["check", "no-such-impl"]) == 2


def test_dfs_from_the_command_line_reports_completion(capsys) -> None:
    args = ["check", "futex64", "--no-battery", "--scenario", "standard", "--strategy", "dfs"]
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    outcome = report["model"]["futex64"]["outcomes"][0]
    assert outcome["complete"] and outcome["runs"] > 10


def test_a_crashing_implementation_is_reported_and_the_harness_stays_up(tmp_path: Path) -> None:
    scenario = from_scenario(reproducers.standard())
    outcomes = check_model(
        str(DATA / "crash_on_contention.c"),
        [scenario, scenario],
        Settings(schedules=300),
        1,
        tmp_path,
    )
    assert [o.status for o in outcomes] == ["fail", "fail"]
    failure = outcomes[0].failure
    assert failure["check"] == "crash" and "signal 11" in failure["message"]
    assert failure["choices"] is not None and failure["trace"]
    assert Path(failure["replay"]).is_file()


def test_workers_import_a_module_from_the_callers_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a module importable only through a folder the caller put on sys.path (as pytest's
    # rootdir and `pythonpath` do), not the working directory: the workers find it too
    root = tmp_path / "elsewhere"
    root.mkdir()
    shutil.copy(DATA / "plugin_project" / "semexample" / "sem.py", root / "only_here.py")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.chdir(tmp_path)
    scenario = from_scenario(reproducers.standard())
    spec = "only_here:CountingSemaphore"
    outcome = check_model(spec, [scenario], Settings(schedules=20), 1, tmp_path)[0]
    assert outcome.status == "pass" and outcome.runs == 20
    replayed = replay_in_worker(spec, scenario, RunConfig("quiescent", 0, 2000), ())
    assert replayed["event"] == "replayed"


def test_a_run_that_never_ends_is_a_livelock() -> None:
    impl = resolve(str(DATA / "spin_forever.c"))
    make = executor_factory(impl)
    scenario = from_scenario(reproducers.standard())
    result = check_scenario(make, scenario, Settings(schedules=20, max_steps=2000))
    assert result.failure is not None and result.failure.check == "livelock"


@settings(max_examples=25, deadline=None, derandomize=True)
@given(generated.model_scenarios(), st.integers(0, 2**32))
def test_the_textbook_semaphore_passes_generated_scenarios(scenario, seed: int) -> None:
    from semharness.model.programs import from_scenario as convert

    make = executor_factory(resolve("textbook"))
    result = check_scenario(
        make, convert(scenario, must_finish=False), Settings(seed=seed, schedules=30)
    )
    assert result.failure is None, render(result.failure)


def test_runs_are_reproducible_from_the_seed() -> None:
    make = executor_factory(resolve("futex64"))
    scenario = from_scenario(reproducers.standard())
    a = check_scenario(make, scenario, Settings(seed=5, schedules=300))
    b = check_scenario(make, scenario, Settings(seed=5, schedules=300))
    assert (a.runs, a.distinct) == (b.runs, b.distinct)


def test_ctrl_c_keeps_what_was_found(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "failures"
    args = ["check", "buggy-wake-on-zero", "--no-battery", "--time-budget", "120"]
    # the first scenario fails at once; the second is still running when Ctrl-C comes
    args += ["--scenario", "repro-multi-token-waiter", "--scenario", "standard", "--out", str(out)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "semharness.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's Ctrl-C would reach
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("*.replay.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # the parent hears of the failure just after the file is written
    os.killpg(proc.pid, signal.SIGINT)
    stdout, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1  # a failure had been found before the interrupt
    assert "FAIL" in stdout and "interrupted" in stdout
    assert list(out.glob("*.replay.json"))
