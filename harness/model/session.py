"""Model checking in worker processes: the harness survives whatever the code under test does.

The parent starts workers (``python -m semharness.model.session``), hands each a job on stdin
-- the implementation, the scenarios, the settings, its share of the runs -- and reads JSON
lines back: progress, and one result per scenario (with the minimised failure, its rendered
trace and the replay file the worker wrote).  A worker that dies (the C code under test
crashed: its runtime wrote the choices to stderr first) costs only the scenario it was on: the
crash is reported with its schedule, replayed once more with the trace on to show the steps
before it, and the remaining scenarios go to a fresh worker.  A worker silent for longer than
the watchdog allows (the code under test blocked outside the scheduler's control) is killed
and its scenario reported as a hang.  Ctrl-C stops the workers and keeps what finished.
"""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .programs import ModelScenario
from .runner import Settings

#: Seconds the workers may go on reporting after Ctrl-C, before they are stopped.
INTERRUPT_GRACE_S = 0.5
#: Seconds a worker may stay silent beyond the scenario's own time budget.
WATCHDOG_S = 60.0


@dataclass
class Outcome:
    """One scenario over one implementation, all workers' runs together."""

    scenario: str
    status: str  # pass | fail | unfinished (interrupted)
    runs: int = 0
    distinct: int = 0
    complete: bool = False
    seconds: float = 0.0
    failure: dict[str, Any] | None = None
    progress: list[tuple[float, int]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# ---- the worker -------------------------------------------------------------------------------


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def _failure_json(found: Any, impl_spec: str, impl: Any, replay_path: Path | None) -> dict:
    from . import replayfile
    from .tracefmt import render

    if replay_path is not None:
        replayfile.write(replay_path, replayfile.to_json(impl_spec, impl, found))
    return {
        "check": found.check,
        "message": found.failures[0].message,
        "failures": [[f.check, f.message] for f in found.failures],
        "choices": list(found.choices),
        "original_choices": found.original_choices,
        "preemptions": found.record.trail.preemptions,
        "found_after_runs": found.found_after_runs,
        "found_after_s": found.found_after_s,
        "trace_steps": len(found.record.trace),
        # how the failing run ended (done, deadlock, crash, ...): the judge reads its pending
        # calls as never taking effect when it ended quiescent (done or deadlock)
        "outcome": found.record.outcome,
        # the failing run's calls, for pictures: [thread, op code, n, timeout_ns, invoke,
        # return (-1: never), result, error]
        "initial": found.program.initial,
        "history": [list(row) for row in found.record.history],
        "trace": render(found),
        "replay": str(replay_path) if replay_path else None,
    }


#: Runs of every scenario a worker makes before it goes on with any scenario's next ones: a
#: failure that only a later scenario shows is found after these slices of the ones before it.
SLICES = (16, 32, 64, 128, 256, 512)


def worker_main(job: dict[str, Any]) -> None:
    """Runs a job and reports on stdout (see the module docstring).  The scenarios take turns,
    a slice of runs each (:data:`SLICES`), then each its remaining runs; a scenario's events
    are 'start' whenever it takes its turn, and 'done' once."""
    from ..registry import resolve
    from .executors import executor_factory
    from .replayfile import scenario_from_json
    from .runner import ScenarioSearch

    job_start = time.monotonic()
    impl = resolve(job["impl"])
    make = executor_factory(impl)
    settings = Settings(**{**job["settings"], "stride": tuple(job["settings"]["stride"])})
    out = Path(job["replay_dir"]) if job.get("replay_dir") else None
    searches = []
    for raw in job["scenarios"]:
        scenario = scenario_from_json(raw)

        def progress(runs: int, failures: int, name: str = scenario.name) -> None:
            _emit({"event": "progress", "scenario": name, "runs": runs, "failures": failures})

        searches.append(ScenarioSearch(make, scenario, settings, progress))
    for limit in (*SLICES, settings.schedules):
        for search in searches:
            if search.done:
                continue
            _emit({"event": "start", "scenario": search.scenario.name})
            if search.advance(limit):
                _report(search, impl, job, settings, out, job_start)
                if job.get("fail_fast") and search.result.failure is not None:
                    for rest in searches:  # stopped where they were: 'unfinished'
                        if not rest.done:
                            _report(rest, impl, job, settings, out, job_start, stopped=True)
                            rest.done = True
                    return


def _report(
    search: Any,
    impl: Any,
    job: dict[str, Any],
    settings: Settings,
    out: Path | None,
    t0: float,
    stopped: bool = False,
) -> None:
    """The 'done' event of a finished scenario, with its failure (replay file written);
    ``stopped``: it was cut short (fail-fast) and counts as unfinished."""
    result, name = search.result, search.scenario.name
    failure = None
    if result.failure is not None:
        path = None
        if out is not None:
            path = out / f"{impl.name}-{name}-w{settings.stride[0]}.replay.json"
        failure = _failure_json(result.failure, job["impl"], impl, path)
        failure["found_after_job_s"] = search.failed_at - t0
    _emit(
        {
            "event": "done",
            "scenario": name,
            "runs": result.runs,
            "distinct": result.distinct,
            "complete": result.complete,
            "seconds": result.seconds or search.active,
            "progress": result.progress,
            "failure": failure,
            "stopped": stopped,
        }
    )


def replay_worker_main(job: dict[str, Any]) -> None:
    """Re-runs one schedule with the trace on (for a crash: the runtime prints the steps)."""
    from ..registry import resolve
    from .core import RunConfig
    from .executors import executor_factory
    from .replayfile import scenario_from_json, trace_digest
    from .runner import replay
    from .tracefmt import render

    impl = resolve(job["impl"])
    scenario = scenario_from_json(job["scenario"])
    config = RunConfig(**job["config"])
    found = replay(executor_factory(impl), scenario, config, tuple(job["choices"]))
    _emit(
        {
            "event": "replayed",
            "outcome": found.record.outcome,
            "failures": [[f.check, f.message] for f in found.failures],
            "trace": render(found, f"{job['impl']} on {scenario.name}"),
            "trace_digest": trace_digest(found.record.trace),
        }
    )


# ---- the parent -------------------------------------------------------------------------------


class _Worker:
    """One worker process; a thread forwards its stdout lines to the shared queue as
    (worker key, line), and (key, None) when it ends."""

    def __init__(self, key: int, job: dict[str, Any], lines: queue.Queue) -> None:
        self.key = key
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "semharness.model.session"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(job))
        self.proc.stdin.close()
        self.stderr = ""
        self.current: str | None = None  # the scenario it is on
        self.last = time.monotonic()  # when it last said something
        self.hung = False  # killed by the watchdog
        self._err = threading.Thread(target=self._read_err, daemon=True)
        self._err.start()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()

    def _read(self, lines: queue.Queue) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            lines.put((self.key, line))
        self.proc.wait()
        self._err.join()
        lines.put((self.key, None))

    def _read_err(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def _crash_failure(
    impl_spec: str,
    scenario: ModelScenario,
    settings: Settings,
    stderr: str,
    replay_dir: Path | None,
) -> dict[str, Any]:
    """The failure of a scenario whose worker died; the steps before the crash come from one
    more run of the same schedule with the trace on."""
    from .cexec import parse_crash
    from .replayfile import scenario_to_json

    crash = parse_crash(stderr)
    if crash is None:
        tail = stderr.strip().splitlines()[-1:] or ["no message"]
        return {"check": "crash", "message": f"the worker died: {tail[0]}", "choices": []}
    signal, choices, _ = crash
    trace = ""
    used = settings.configs()[0]
    for config in settings.configs():  # which config crashed is not known: try each
        again = replay_in_worker(impl_spec, scenario, config, choices)
        if again["event"] == "crashed":
            trace, used = again["trace"], config
            break
    message = f"the code under test crashed with signal {signal}"
    failure = {
        "check": "crash",
        "message": message,
        "failures": [["crash", message]],
        "choices": list(choices),
        "trace_steps": trace.count("\n") + 1 if trace else 0,
        "trace": trace,
        "config": asdict(used),
        "replay": None,
    }
    if replay_dir is not None:
        from .replayfile import FORMAT, VERSION

        path = replay_dir / f"{impl_spec.replace('/', '_')}-{scenario.name}-crash.replay.json"
        content = {
            "format": FORMAT,
            "version": VERSION,
            "implementation": impl_spec,
            "implementation_digest": None,
            "scenario": scenario_to_json(scenario),
            "config": asdict(used),
            "choices": list(choices),
            "failure": {"check": "crash", "message": message},
            "trace_steps": failure["trace_steps"],
            "trace_digest": "",
        }
        path.write_text(json.dumps(content, indent=1) + "\n")
        failure["replay"] = str(path)
    return failure


def replay_in_worker(
    impl_spec: str, scenario: ModelScenario, config: Any, choices: tuple[int, ...]
) -> dict[str, Any]:
    """Replays one schedule with the trace on in a child process: the 'replayed' event, or for
    a crash {"event": "crashed", "signal", "trace" (text)}."""
    from .cexec import parse_crash
    from .replayfile import scenario_to_json
    from .tracefmt import step_text

    job = {
        "mode": "replay",
        "impl": impl_spec,
        "scenario": scenario_to_json(scenario),
        "config": asdict(config),
        "choices": list(choices),
        "sys_path": sys.path,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "semharness.model.session"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=WATCHDOG_S,
    )
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if event.get("event") == "replayed":
            return event
    crash = parse_crash(proc.stderr)
    if crash is None:
        tail = proc.stderr.strip().splitlines()[-1:] or ["no message"]
        raise RuntimeError(f"the replay worker failed: {tail[0]}")
    signal, _, trace = crash
    return {
        "event": "crashed",
        "signal": signal,
        "trace": "\n".join(f"{s[0]:>3} | {step_text(s)}" for s in trace),  # thread | step
        "steps": len(trace),
    }


def check_model(
    impl_spec: str,
    scenarios: list[ModelScenario],
    settings: Settings,
    jobs: int = 1,
    replay_dir: Path | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    fail_fast: bool = False,
) -> list[Outcome]:
    """Model-checks ``scenarios`` over one implementation in ``jobs`` workers (DFS: one),
    each running its own share of every scenario's runs.  Ctrl-C returns what finished, with
    ``KeyboardInterrupt`` re-raised by the caller's choice (see ``interrupted``)."""
    from .replayfile import scenario_to_json

    if settings.strategy == "dfs":
        jobs = 1
    jobs = max(1, jobs)
    outcomes: dict[str, Outcome] = {s.name: Outcome(s.name, "pass") for s in scenarios}
    by_name = {s.name: s for s in scenarios}
    runs_now: dict[tuple[int, str], int] = {}
    silence = WATCHDOG_S + (settings.time_budget or 0.0)

    def job_for(k: int, todo: list[ModelScenario]) -> dict[str, Any]:
        share = asdict(settings)
        share["stride"] = [k, jobs]
        share["schedules"] = -(-settings.schedules // jobs)
        return {
            "impl": impl_spec,
            "scenarios": [scenario_to_json(s) for s in todo],
            "settings": share,
            "replay_dir": str(replay_dir) if replay_dir else None,
            "fail_fast": fail_fast,
            "sys_path": sys.path,
        }

    lines: queue.Queue = queue.Queue()
    done = dict.fromkeys(outcomes, 0)  # how many workers finished each scenario
    pending = {k: list(scenarios) for k in range(jobs)}
    workers = {k: _Worker(k, job_for(k, pending[k]), lines) for k in range(jobs)}

    def ended(w: _Worker) -> None:
        """A worker is gone: if it was inside a scenario, that scenario crashed or hung."""
        del workers[w.key]
        name = w.current
        if name is None:
            if w.proc.returncode != 0 and pending[w.key]:
                tail = w.stderr.strip().splitlines()[-1:] or ["no message"]
                raise RuntimeError(f"model worker failed: {tail[0]}")
            return
        out = outcomes[name]
        out.status = "fail"
        done[name] = jobs
        if w.hung:
            message = f"no word from the run for {silence:g} s: blocked outside the model's control"
            out.failure = {"check": "hang", "message": message, "choices": [], "replay": None}
        else:
            out.failure = _crash_failure(impl_spec, by_name[name], settings, w.stderr, replay_dir)
        rest = [s for s in pending[w.key] if s.name != name]  # the unfinished others
        pending[w.key] = rest
        if rest:
            workers[w.key] = _Worker(w.key, job_for(w.key, rest), lines)

    def handle(w: _Worker, event: dict[str, Any]) -> None:
        name = event.get("scenario")
        if event["event"] == "start":
            w.current = name
        elif event["event"] == "progress":
            runs_now[(w.key, name)] = event["runs"]
            if progress:
                total = sum(v for (_, s), v in runs_now.items() if s == name)
                progress(name, total, event["failures"])
        elif event["event"] == "done":
            w.current = None
            done[name] += 1
            pending[w.key] = [s for s in pending[w.key] if s.name != name]
            _merge(outcomes[name], event)

    try:
        while workers:
            try:
                k, line = lines.get(timeout=1.0)
            except queue.Empty:
                for w in list(workers.values()):
                    if time.monotonic() - w.last > silence:
                        w.hung = True
                        w.kill()
                continue
            w = workers.get(k)
            if w is None:
                continue
            w.last = time.monotonic()
            if line is None:
                ended(w)
            else:
                handle(w, json.loads(line))
    except KeyboardInterrupt:  # keep what finished (failures' replay files are written)
        # The workers ignore SIGINT: for a moment more, take what they report (a worker that
        # has just written a failure's replay file reports it at once), then stop them.
        until = time.monotonic() + INTERRUPT_GRACE_S
        killed = False
        while True:
            if not killed and time.monotonic() >= until:
                for w in workers.values():
                    w.kill()
                killed = True
            try:
                k, line = lines.get(timeout=0.05 if not killed else 0.2)
            except queue.Empty:
                if killed:
                    break
                continue
            if line is not None and k in workers:
                handle(workers[k], json.loads(line))
        for name, out in outcomes.items():
            if out.status == "pass" and done[name] < jobs:
                out.status = "unfinished"
    finally:
        for w in workers.values():
            w.kill()
    return [outcomes[s.name] for s in scenarios]


def _merge(out: Outcome, event: dict[str, Any]) -> None:
    """One worker's result for a scenario, added to the others'."""
    out.runs += event["runs"]
    out.distinct += event["distinct"]
    out.complete = out.complete or event["complete"]
    out.seconds = max(out.seconds, event["seconds"])
    out.progress += [(float(t), int(r)) for t, r in event["progress"]]
    if event.get("stopped") and out.status == "pass":
        out.status = "unfinished"
    f = event["failure"]
    if f is not None:
        out.status = "fail"
        best = out.failure.get("found_after_s", 1e300) if out.failure else 1e300
        if f.get("found_after_s", 0.0) < best:
            out.failure = f


def main() -> None:
    # Ctrl-C is the parent's to handle: it keeps what the workers reported and stops them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    job = json.loads(sys.stdin.read())
    # the implementation imports here as in the parent, whose path pytest or the user may have
    # added folders to (a ``pkg.mod:Class`` spec)
    sys.path[:0] = [p for p in job.get("sys_path", ()) if p not in sys.path]
    if job.get("mode") == "replay":
        replay_worker_main(job)
    else:
        worker_main(job)


if __name__ == "__main__":
    main()
