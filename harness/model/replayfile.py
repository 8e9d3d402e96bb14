"""Replay files: a failure as JSON, enough to run it again step by step.

The file names the implementation (as the command line did) with a digest of its source, the
scenario (its whole program and expectations, so generated and shrunk ones replay too), the run
settings, the choices, what failed, and a digest of the trace.  Reading one checks all of it:
a file that is not one, or that no longer fits the implementation, is a usage error (exit 2),
never a wrong replay.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..registry import Implementation
from ..scenario import ANY
from .core import Program, RunConfig, TraceStep
from .programs import Expected, ModelScenario
from .runner import FoundFailure

FORMAT = "semharness-replay"
VERSION = 1


def source_digest(impl: Implementation) -> str | None:
    """sha256 of the implementation's source file (C file or Python module), if it has one."""
    path = impl.source
    if path is None:
        try:
            found = inspect.getsourcefile(impl.factory)
        except TypeError:
            found = None
        path = Path(found) if found else None
    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def trace_digest(trace: list[TraceStep]) -> str:
    return hashlib.sha256(json.dumps([list(s) for s in trace]).encode()).hexdigest()


def _expected_json(e: Expected) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if e.result is not ANY:
        out["result"] = e.result
    if e.takes is not None:
        out["takes"] = e.takes
    return out


def scenario_to_json(scenario: ModelScenario) -> dict[str, Any]:
    """A model scenario as JSON (what the checks need of it; not its needs or source)."""
    return {
        "name": scenario.name,
        "initial": scenario.program.initial,
        "threads": [[list(a) for a in t] for t in scenario.program.threads],
        "expected": [[_expected_json(e) for e in t] for t in scenario.expected],
        "final": scenario.final,
        "must_finish": scenario.must_finish,
    }


def scenario_from_json(s: dict[str, Any]) -> ModelScenario:
    """The inverse of :func:`scenario_to_json`; KeyError/TypeError/ValueError when malformed."""
    threads = tuple(tuple((int(a[0]), int(a[1]), int(a[2])) for a in t) for t in s["threads"])
    expected = tuple(
        tuple(Expected(e.get("result", ANY), e.get("takes")) for e in t) for t in s["expected"]
    )
    if [len(t) for t in expected] != [len(t) for t in threads]:
        raise ValueError("expected does not match the threads")
    return ModelScenario(
        name=str(s["name"]),
        description="",
        program=Program(int(s["initial"]), threads),
        expected=expected,
        final=None if s["final"] is None else int(s["final"]),
        must_finish=bool(s["must_finish"]),
        needs=frozenset(),
    )


def to_json(impl_spec: str, impl: Implementation, found: FoundFailure) -> dict[str, Any]:
    """The replay file's content for ``found`` (its scenario as it was run: maybe shrunk)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "implementation": impl_spec,
        "implementation_digest": source_digest(impl),
        "scenario": scenario_to_json(found.scenario),
        "config": {
            "timeouts": found.config.timeouts,
            "spurious": found.config.spurious,
            "max_steps": found.config.max_steps,
        },
        "choices": list(found.choices),
        "failure": {"check": found.check, "message": found.failures[0].message},
        "trace_steps": len(found.record.trace),
        "trace_digest": trace_digest(found.record.trace),
    }


def write(path: str | os.PathLike[str], content: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(content, indent=1) + "\n")


class Replay:
    """A replay file, read and checked."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise UsageError(f"cannot read replay file {path}: {exc.strerror}") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UsageError(f"{path}: not a replay file (not JSON: {exc})") from exc
        try:
            self._parse(data)
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise UsageError(f"{path}: corrupt replay file ({type(exc).__name__}: {exc})") from exc

    def _parse(self, data: Any) -> None:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"format is not {FORMAT!r}")
        if data["version"] != VERSION:
            raise ValueError(f"version {data['version']} (this semharness reads {VERSION})")
        self.implementation: str = str(data["implementation"])
        self.digest: str | None = data["implementation_digest"]
        self.scenario = scenario_from_json(data["scenario"])
        c = data["config"]
        self.config = RunConfig(str(c["timeouts"]), int(c["spurious"]), int(c["max_steps"]))
        self.choices = tuple(int(x) for x in data["choices"])
        if any(x < 0 for x in self.choices):
            raise ValueError("negative choice")
        self.check: str = str(data["failure"]["check"])
        self.message: str = str(data["failure"]["message"])
        self.trace_digest: str = str(data["trace_digest"])

    def check_implementation(self, impl: Implementation) -> None:
        """UsageError when the implementation's source is not the one the file was made with."""
        now = source_digest(impl)
        if self.digest is not None and now is not None and now != self.digest:
            raise UsageError(
                f"{self.path} was recorded with another version of {self.implementation} "
                "(its source changed); the choices would not mean the same run"
            )
