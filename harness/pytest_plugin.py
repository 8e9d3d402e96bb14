"""The pytest plugin: semharness's checks inside a user's own test suite.

Installed with the package (entry point ``semharness`` in the group ``pytest11``), it adds:

- the option ``--semharness-impl SPEC`` and the ini setting ``semharness_impl`` naming the
  implementation under test as the command line takes it (``pkg.mod:Class``,
  ``path/file.py:Class``, ``path/file.c``, a built-in or entry-point name); a relative path is
  read against the folder pytest was started in (option) or the ini file's folder (setting);
- ``--semharness-out DIR`` / ``semharness_out``: where model-checking replay files go
  (default: each test's ``tmp_path``);
- the markers ``semharness_model``, ``semharness_peer`` and ``semharness_stress``: a test that
  carries one runs that check before its body, and fails with the check's report -- for model
  checking the minimised trace and the ``semharness replay`` command;
- the fixtures ``semharness_impl`` (the resolved :class:`~semharness.registry.Implementation`)
  and ``semharness_result`` (what the test's checks found, for the body to inspect).

A suite that uses none of this sees no difference: nothing is resolved, run or printed unless
an implementation is configured or a test carries a marker.  The checks run in the test's
call phase (so a failure is a FAILED test, not a setup error) and use the harness's own
machinery, as ``semharness check``, ``run`` and ``stress`` do; model checking runs in worker
processes, so a crash of the code under test never takes pytest down.  Under pytest-repeat
(``--count N``) each repetition explores other schedules: its index is the seed, unless the
marker fixes one.  Under pytest-xdist each test's checks run in the worker that runs the test.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import re
import shlex
import site
import sysconfig
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from .errors import UsageError
from .registry import Implementation, resolve

if TYPE_CHECKING:
    from rich.console import Console

    from .model.runner import Settings
    from .model.session import Outcome
    from .peer_run import SuiteReport
    from .scenario import Scenario
    from .stress.runner import StressOutcome

MODEL, PEER, STRESS = "semharness_model", "semharness_peer", "semharness_stress"
#: The repetition index pytest-repeat gives each copy of a test.
REPEAT_PARAM = "__pytest_repeat_step_number"


class SemharnessInconclusive(UserWarning):
    """A stress run's history that the linearizability checker could not decide in budget."""


# ---- what the markers take -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ModelMarker:
    """``@pytest.mark.semharness_model(...)``: model checking, as ``semharness check``.

    ``scenarios``: names from the default model scenario set (``semharness list``), default
    all (the generated ones, ``generated-SEED-K``, change with the seed); ``schedules`` /
    ``time_budget``: runs / seconds per scenario (default 1000 runs); ``strategy``: random,
    pct or dfs; ``seed``: fixed seed (default: the pytest-repeat index, 0 without it);
    ``fail_fast``: stop at the first failing scenario."""

    impl: str | None = None
    scenarios: Sequence[str] | str | None = None
    schedules: int | None = None
    time_budget: float | None = None
    strategy: str = "random"
    seed: int | None = None
    fail_fast: bool = True


@dataclass(frozen=True, kw_only=True)
class PeerMarker:
    """``@pytest.mark.semharness_peer(...)``: the peer suite and bad-input battery on real
    threads, as ``semharness run``.  ``scenarios``: scenario or set names (``peer``,
    ``battery``, ``reproducers``), default all; ``quick``: as ``run --quick``."""

    impl: str | None = None
    quick: bool = True
    scenarios: Sequence[str] | str | None = None


@dataclass(frozen=True, kw_only=True)
class StressMarker:
    """``@pytest.mark.semharness_stress(...)``: real-thread stress runs, checked, as
    ``semharness stress``.  ``threads``: one count or several; ``seconds`` per run, or ``ops``
    calls per thread instead; ``mix`` as ``--mix`` writes it; ``seed``: fixed seed (default:
    the pytest-repeat index)."""

    impl: str | None = None
    threads: int | Sequence[int] = (2,)
    seconds: float = 0.5
    ops: int | None = None
    mix: str = ""
    seed: int | None = None


_MARKERS: dict[str, type] = {MODEL: ModelMarker, PEER: PeerMarker, STRESS: StressMarker}
_MARKER_HELP = {
    MODEL: "semharness_model(impl=None, scenarios=None, schedules=None, time_budget=None, "
    "strategy='random', seed=None, fail_fast=True): model-check the implementation first",
    PEER: "semharness_peer(impl=None, quick=True, scenarios=None): run the peer suite and the "
    "bad-input battery on the implementation first",
    STRESS: "semharness_stress(impl=None, threads=(2,), seconds=0.5, ops=None, mix='', "
    "seed=None): stress-test the implementation first",
}


def _misuse(message: str) -> NoReturn:
    """Fails the test for a mistake in how it asks for a check: the message alone, with no
    traceback and no chained exception."""
    raise pytest.fail.Exception(message, pytrace=False) from None


def _marker_options(mark: pytest.Mark) -> Any:
    """The marker's arguments as its dataclass; a clear failure for anything else."""
    cls = _MARKERS[mark.name]
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(mark.kwargs) - known)
    if mark.args or unknown:
        what = f"unknown argument {unknown[0]!r}" if unknown else "positional arguments"
        _misuse(f"@pytest.mark.{mark.name}: {what}; it takes {', '.join(sorted(known))} (by name)")
    return cls(**mark.kwargs)


def _names(value: Sequence[str] | str | None) -> list[str] | None:
    """A marker's name list: one name or several, None for all."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


# ---- which implementation --------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An implementation under test: the spec as written, the spec the checks use (relative
    file paths made absolute, so that worker processes and replay files find the file), and
    the implementation it resolves to."""

    spec: str
    absolute_spec: str
    impl: Implementation

    @property
    def label(self) -> str:
        return self.impl.name if self.spec == self.impl.name else f"{self.impl.name} ({self.spec})"


_TARGETS = pytest.StashKey[dict[str, Target]]()
_CONFIGURED = pytest.StashKey["Target | None"]()
_RESULT = pytest.StashKey["SemharnessResult"]()


def absolute_spec(spec: str, base: Path) -> str:
    """``spec`` with a relative file path (``file.c``, ``file.py:Class``) read against
    ``base``; any other spec unchanged."""
    path, sep, attr = spec, "", ""
    if not spec.endswith(".c"):
        path, sep, attr = spec.rpartition(":")
        if not (sep and path.endswith(".py")):
            return spec
    if Path(path).is_absolute():
        return spec
    return f"{base / path}{sep}{attr}"


def _resolve(config: pytest.Config, spec: str, base: Path) -> Target:
    """The target ``spec`` names (UsageError if none), resolved once per session."""
    targets = config.stash.setdefault(_TARGETS, {})
    full = absolute_spec(spec, base)
    if full not in targets:
        targets[full] = Target(spec, full, resolve(full))
    return targets[full]


def _usage_text(where: str, exc: UsageError) -> str:
    return f"{where}: {exc}" + (f"\n{exc.details}" if exc.details else "")


def _setting(config: pytest.Config, name: str) -> tuple[str, Path, str] | None:
    """A semharness setting -- the command-line option, else the ini value -- with the folder
    a relative path in it is read against (where pytest was started, or the ini file's) and
    where it was given; None when unset."""
    value = config.getoption(name)
    if value:
        return value, config.invocation_params.dir, "--" + name.replace("_", "-")
    value = config.getini(name)
    if not value:
        return None
    if config.inipath is None:  # an ini value given with -o
        return value, config.rootpath, name
    return value, config.inipath.parent, f"{name} in {config.inipath.name}"


def configured_target(config: pytest.Config) -> Target | None:
    """The implementation ``--semharness-impl`` or the ini's ``semharness_impl`` names (the
    option wins), or None; a name that resolves to nothing is a pytest usage error."""
    if _CONFIGURED not in config.stash:
        setting = _setting(config, "semharness_impl")
        target = None
        if setting is not None:
            spec, base, where = setting
            try:
                target = _resolve(config, spec, base)
            except UsageError as exc:
                raise pytest.UsageError(_usage_text(where, exc)) from None
        config.stash[_CONFIGURED] = target
    return config.stash[_CONFIGURED]


def _target(item: pytest.Item, spec: str | None, asker: str) -> Target:
    """The implementation a marker names (relative paths against the rootdir), else the
    configured one; the test fails, saying how to name one, when there is neither.
    ``asker``: the marker or fixture that wants it, for the messages."""
    if spec is None:
        target = configured_target(item.config)
        if target is None:
            _misuse(
                f"{asker}: no implementation to test: pass --semharness-impl SPEC, set "
                "semharness_impl in the ini file, or name one in the marker (impl=SPEC)"
            )
        return target
    try:
        return _resolve(item.config, spec, item.config.rootpath)
    except UsageError as exc:
        _misuse(_usage_text(f"@pytest.mark.{asker}(impl={spec!r})", exc))


def _semharness_marks(item: pytest.Item) -> list[pytest.Mark]:
    """The test's semharness markers, the closest of each kind, in a fixed order."""
    marks = (item.get_closest_marker(name) for name in _MARKERS)
    return [m for m in marks if m is not None]


# ---- what the checks found --------------------------------------------------------------------


@dataclass
class ModelResult:
    """A model check: the settings, each scenario's outcome, and the scenarios skipped (with
    why: capabilities the implementation lacks)."""

    target: Target
    settings: Settings
    outcomes: list[Outcome]
    skipped: list[tuple[str, str]]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "fail"]


@dataclass
class SemharnessResult:
    """What a test's semharness checks found (the ``semharness_result`` fixture).  The body
    runs only when every check passed; each field stays None when its marker is absent."""

    replay_dir: Path
    model: ModelResult | None = None
    peer: SuiteReport | None = None
    stress: list[StressOutcome] | None = None
    #: the reasons of checks that were skipped while others ran
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Verdict:
    """One check's answer: 'pass', 'fail' (``text`` is the report) or 'skip' (the reason)."""

    status: str
    text: str = ""


def _silent_console() -> Console:
    """A console for the harness's runners whose progress displays nobody should see."""
    from rich.console import Console

    return Console(file=io.StringIO())


def _seed(item: pytest.Item, fixed: int | None) -> int:
    """The marker's seed, or the pytest-repeat repetition index (0 without pytest-repeat)."""
    if fixed is not None:
        return fixed
    callspec = getattr(item, "callspec", None)
    return int(callspec.params.get(REPEAT_PARAM, 0)) if callspec else 0


def import_root(spec: str) -> str | None:
    """For a ``pkg.mod:Class`` spec (already imported), the folder a fresh interpreter needs
    on its import path to import ``pkg`` as pytest did -- pytest may have put it there itself
    (rootdir, ``pythonpath``); None for other specs, and for the standard library's and
    installed packages' modules, which every interpreter finds."""
    module, sep, _ = spec.rpartition(":")
    if not sep or module.endswith(".py"):
        return None
    found = importlib.util.find_spec(module.partition(".")[0])
    if found is None:
        return None
    if found.submodule_search_locations:
        root = Path(next(iter(found.submodule_search_locations))).parent
    elif found.origin and Path(found.origin).is_file():
        root = Path(found.origin).parent
    else:
        return None
    everyones = {*sysconfig.get_paths().values(), *site.getsitepackages()}
    return None if str(root) in everyones else str(root)


def _check_model(item: pytest.Item, mark: pytest.Mark, result: SemharnessResult) -> _Verdict:
    """Model checking as ``semharness check`` does it (its settings, scenario set, capability
    skips and worker processes), reported with each failure's minimised trace."""
    from .folders import writable_folder
    from .model.command import check_one, scenarios_from_args, settings_from_args
    from .model.executors import model_skip_reason

    opts: ModelMarker = _marker_options(mark)
    target = _target(item, opts.impl, mark.name)
    reason = model_skip_reason(target.impl)
    if reason:
        return _Verdict("skip", f"{target.impl.name} {reason}")
    args = argparse.Namespace(
        strategy=opts.strategy,
        seed=_seed(item, opts.seed),
        schedules=opts.schedules,
        time_budget=opts.time_budget,
        bound=2,
        jobs=1,
        scenario=_names(opts.scenarios),
    )
    try:
        settings, scenarios = settings_from_args(args), scenarios_from_args(args)
        out = writable_folder(result.replay_dir, "the replay folder")
    except UsageError as exc:
        _misuse(_usage_text(f"@pytest.mark.{mark.name}", exc))
    outcomes, skipped = check_one(
        target.absolute_spec,
        target.impl,
        scenarios,
        settings,
        1,
        out,
        _silent_console(),
        fail_fast=opts.fail_fast,
    )
    model = result.model = ModelResult(target, settings, outcomes, skipped)
    if not model.failed and any(o.status == "unfinished" for o in outcomes):
        raise KeyboardInterrupt  # the workers were stopped by Ctrl-C: stop the session too
    if not outcomes:
        return _Verdict("skip", f"{target.impl.name}: every scenario needs what it lacks")
    if not model.failed:
        return _Verdict("pass")
    return _Verdict("fail", _model_report(model, import_root(target.absolute_spec)))


def _model_report(model: ModelResult, root: str | None) -> str:
    """A failed model check: a summary line, then per failing scenario its failure, the
    minimised trace (one column per thread) and the replay command."""
    s = model.settings
    counts = {st: sum(o.status == st for o in model.outcomes) for st in ("pass", "unfinished")}
    budget = f"{s.time_budget:g} s" if s.time_budget else f"{s.schedules:,} schedules"
    lines = [
        f"semharness model check of {model.target.label}: {len(model.failed)} scenario(s) "
        f"failed, {counts['pass']} passed"
        + (f", {counts['unfinished']} not run (fail_fast)" if counts["unfinished"] else "")
        + (f", {len(model.skipped)} skipped" if model.skipped else "")
        + f" ({s.strategy}, seed {s.seed}, {budget} per scenario)"
    ]
    for o in model.failed:
        f = o.failure or {}
        lines += ["", f"FAIL {o.scenario}: [{f.get('check')}] {f.get('message')}"]
        if f.get("trace"):
            lines.append(f["trace"])
        if f.get("replay"):
            replay = f"semharness replay {shlex.quote(f['replay'])}"
            if root is not None:  # the replay imports the implementation by its spec too
                replay = f"PYTHONPATH={shlex.quote(root)} {replay}"
            lines.append(f"replay: {replay}")
    return "\n".join(lines)


def _peer_scenarios(names: list[str] | None) -> list[Scenario] | None:
    """The scenarios that scenario and set names pick (None: every set)."""
    from .scenarios import SETS, get, scenario_set

    if names is None:
        return None
    picked: list[Scenario] = []
    for name in names:
        picked += scenario_set(name) if name in SETS else [get(name)]
    return picked


def _check_peer(item: pytest.Item, mark: pytest.Mark, result: SemharnessResult) -> _Verdict:
    """The peer suite and bad-input battery on real threads, as ``semharness run`` does."""
    from .peer_run import run_peer_suite

    opts: PeerMarker = _marker_options(mark)
    target = _target(item, opts.impl, mark.name)
    try:
        scenarios = _peer_scenarios(_names(opts.scenarios))
    except KeyError as exc:
        _misuse(f"@pytest.mark.{mark.name}: {exc.args[0]}")
    report = result.peer = run_peer_suite(
        [target.impl], quick=opts.quick, console=_silent_console(), scenarios=scenarios
    )
    if report.interrupted:
        raise KeyboardInterrupt
    ran = report.results[target.impl.name]
    if all(r.status == "skip" for r in ran):
        return _Verdict("skip", f"{target.impl.name}: every peer scenario needs what it lacks")
    if not report.failed:
        return _Verdict("pass")
    lines = [
        f"semharness peer suite on {target.label}: {len(report.failed)} of {len(ran)} "
        f"scenario(s) failed" + (" (quick)" if opts.quick else "")
    ]
    for _, r in report.failed:
        lines.append(f"FAIL {r.name}:")
        lines += [f"    {message}" for message in r.messages or [r.reason]]
    return _Verdict("fail", "\n".join(lines))


def _check_stress(item: pytest.Item, mark: pytest.Mark, result: SemharnessResult) -> _Verdict:
    """Real-thread stress runs, each history checked, as ``semharness stress`` does."""
    from .stress.mix import Mix
    from .stress.runner import stress_one

    opts: StressMarker = _marker_options(mark)
    target = _target(item, opts.impl, mark.name)
    threads = (opts.threads,) if isinstance(opts.threads, int) else tuple(opts.threads)
    if not threads or any(not isinstance(n, int) or n < 1 for n in threads):
        _misuse(f"@pytest.mark.{mark.name}: threads must be counts >= 1")
    seconds = None if opts.ops is not None else opts.seconds
    seed = _seed(item, opts.seed)
    try:
        mix = Mix.parse(opts.mix)
        runs = result.stress = [
            stress_one(target.impl, n, mix, seconds=seconds, ops=opts.ops, seed=seed)
            for n in threads
        ]
    except ValueError as exc:  # a mix or length the drivers refuse
        _misuse(f"@pytest.mark.{mark.name}: {exc}")
    for run in runs:
        if run.status == "unknown":
            warnings.warn(
                f"stress {target.label}, {run.threads} threads: " + "; ".join(run.reasons),
                SemharnessInconclusive,
                stacklevel=1,
            )
    if all(run.status == "skip" for run in runs):
        return _Verdict("skip", f"{target.impl.name}: " + "; ".join(runs[0].reasons))
    failed = [run for run in runs if run.status == "fail"]
    if not failed:
        return _Verdict("pass")
    lines = [f"semharness stress of {target.label}: {len(failed)} of {len(runs)} run(s) failed"]
    for run in failed:
        lines.append(f"FAIL {run.threads} threads, {run.ops:,} calls in {run.seconds:.2f} s:")
        lines += [f"    {reason}" for reason in run.reasons]
    return _Verdict("fail", "\n".join(lines))


_CHECKS = {MODEL: _check_model, PEER: _check_peer, STRESS: _check_stress}


# ---- hooks and fixtures -----------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("semharness", "semharness: semaphore checks")
    group.addoption(
        "--semharness-impl",
        dest="semharness_impl",
        metavar="SPEC",
        default=None,
        help="the implementation the semharness markers check: pkg.mod:Class, "
        "path/file.py:Class, path/file.c or a built-in name (overrides semharness_impl)",
    )
    group.addoption(
        "--semharness-out",
        dest="semharness_out",
        metavar="DIR",
        default=None,
        help="folder for model-checking replay files, one subfolder per test "
        "(default: each test's tmp_path)",
    )
    parser.addini("semharness_impl", "the implementation the semharness markers check", default="")
    parser.addini("semharness_out", "folder for model-checking replay files", default="")


def pytest_configure(config: pytest.Config) -> None:
    for help_text in _MARKER_HELP.values():
        config.addinivalue_line("markers", help_text)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """A configured implementation that resolves to nothing stops the session at once."""
    configured_target(session.config)


def pytest_report_header(config: pytest.Config) -> str | None:
    target = configured_target(config)
    if target is None:
        return None
    impl = target.impl
    return f"semharness: {target.spec} -> {impl.name} ({impl.kind}): {impl.description}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that carry a semharness marker get the ``semharness_result`` fixture (where the
    checks put what they found); no other test changes."""
    for item in items:
        wanted = isinstance(item, pytest.Function) and _semharness_marks(item)
        if wanted and "semharness_result" not in item.fixturenames:
            item.fixturenames.append("semharness_result")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Runs the test's semharness checks before its body: a failing check fails the test
    with its report, and the body does not run; when every check was skipped, so is the
    test."""
    marks = _semharness_marks(item)
    if not marks or _RESULT not in item.stash:
        return
    result = item.stash[_RESULT]
    verdicts = [_CHECKS[mark.name](item, mark, result) for mark in marks]
    failed = [v.text for v in verdicts if v.status == "fail"]
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)
    if all(v.status == "skip" for v in verdicts):
        # reported at the test's own location, as a skip marker's is
        raise pytest.skip.Exception("; ".join(v.text for v in verdicts), _use_item_location=True)
    result.skipped += [v.text for v in verdicts if v.status == "skip"]


@pytest.fixture
def semharness_impl(request: pytest.FixtureRequest) -> Implementation:
    """The implementation under test: the one the test's markers name, else the configured
    one (``--semharness-impl`` / ``semharness_impl``).  ``semharness_impl.create(n)`` makes a
    semaphore for a test of your own."""
    for mark in _semharness_marks(request.node):
        if mark.kwargs.get("impl") is not None:
            return _target(request.node, mark.kwargs["impl"], mark.name).impl
    return _target(request.node, None, "semharness_impl").impl


@pytest.fixture
def semharness_result(request: pytest.FixtureRequest) -> SemharnessResult:
    """What the test's semharness checks found; they fill it in before the body runs."""
    setting = _setting(request.config, "semharness_out")
    if setting is None:
        folder = request.getfixturevalue("tmp_path")
    else:
        out, base, _ = setting
        folder = base / out / re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_")
    result = request.node.stash[_RESULT] = SemharnessResult(replay_dir=folder)
    return result
