"""Every figure of the report, computed once from the runs as plain JSON-able data.

The Markdown and HTML pages, the plots, the JUnit file and ``figures.json`` are all drawn from
what this module returns, so a number in a table, a point in a plot and a value in
``figures.json`` cannot disagree.  Everything here tolerates partial results: a section that is
absent yields an empty figure, never an exception.

Terms used throughout:

- a *series* is one implementation in one run (just the implementation's name when a single
  run is reported; ``impl @ host time`` when several are side by side);
- the *chosen thread count* is the highest thread count that every series with stress metrics
  ran: the latency CDFs and fairness compare series there, where their numbers are comparable.
  When the series share no thread count, each is shown at its own highest and labelled so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..stress.metrics import KINDS, QUANTILES
from .fmt import plural, seconds
from .results import Run, dig, dig_list, dig_str, is_battery, number, safe_name

#: Figures format, for readers of ``figures.json``.
FIGURES_FORMAT = "semharness-report-figures"
FIGURES_VERSION = 1

#: The summary's checks: (key, column title).
CHECKS: tuple[tuple[str, str], ...] = (
    ("peer", "peer suite"),
    ("battery", "bad-input battery"),
    ("model", "model checking"),
    ("stress", "stress"),
    ("selftest", "selftest"),
)

#: Cell statuses, least to most severe: a cell over several results shows the most severe.
SEVERITY: tuple[str, ...] = ("skip", "pass", "unknown", "unfinished", "ERROR", "FAIL")
#: Statuses in results files -> cell statuses.
_STATUS = {
    "pass": "pass",
    "fail": "FAIL",
    "skip": "skip",
    "unknown": "unknown",
    "unfinished": "unfinished",
}


#: The percentile names of stress metrics, as harness/stress/metrics.py defines them.
PERCENTILE_KEYS: tuple[str, ...] = (*(name for name, _ in QUANTILES), "max")
#: The latency kinds of stress metrics, in their report order.
LATENCY_KINDS: tuple[str, ...] = KINDS


# ---- failures and their trace files -------------------------------------------------------------


@dataclass
class Failure:
    """One failure found by a check, with the text of its trace file.

    ``file`` is the trace file's path relative to the report folder; ``history`` and
    ``initial`` are a model failure's calls (the rows of its failing run), for its picture;
    ``checks`` the checks its failing run failed (as recorded; the first is ``kind``) and
    ``outcome`` how that run ended (done, deadlock, crash, ...; None in results files that
    predate it), to read the calls as the model checker's judge did.
    """

    run: int
    check: str  # peer | battery | model | stress | selftest
    impl: str
    name: str  # the scenario, "N threads" or "selftest"
    message: str
    text: str
    file: str = ""
    kind: str = ""  # what found it: "lost wake-up", "linearizability", ...
    history: list[Any] | None = field(default=None, repr=False)
    initial: int = 0
    checks: list[str] = field(default_factory=list, repr=False)
    outcome: str | None = None
    picture: str | None = None  # set once drawn

    def to_json(self, runs: list[Run]) -> dict[str, Any]:
        return {
            "run": runs[self.run].label,
            "check": self.check,
            "impl": self.impl,
            "name": self.name,
            "kind": self.kind,
            "message": self.message,
            "trace": self.file,
            "picture": self.picture,
        }


class _FileNames:
    """Unique trace-file names: the natural name first, ``-2``, ``-3`` ... on a collision (the
    same implementation and scenario in two runs side by side)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, stem: str) -> str:
        base = safe_name(stem)
        name, k = base, 1
        while name.lower() in self._taken:  # case-insensitive file systems
            k += 1
            name = f"{base}-{k}"
        self._taken.add(name.lower())
        return f"traces/{name}.txt"


def _header(run: Run, lines: list[tuple[str, Any]]) -> str:
    """The first lines of a trace file: what failed, where, and how to get it again."""
    rows = [*lines, ("run", run.label), ("command", run.data.get("command"))]
    return "\n".join(f"{key}: {value}" for key, value in rows if value not in (None, "")) + "\n"


def _peer_failures(run: Run) -> Iterator[tuple[Failure, str]]:
    """The peer suite's and the battery's failures, with their file stems."""
    for impl, rows in run.peer().items():
        for r in rows:
            if r.get("status") != "fail":
                continue
            scenario = r["scenario"]
            check = "battery" if is_battery(scenario) else "peer"
            messages = [str(m) for m in dig_list(r, "messages")] or ["failed"]
            title = "bad-input battery" if check == "battery" else "peer suite"
            text = _header(run, [(title, scenario), ("implementation", impl)])
            text += "\n" + "\n".join(messages) + "\n"
            failure = Failure(run.index, check, impl, scenario, messages[0], text)
            yield failure, f"{impl}-peer-{scenario}"


def _model_failures(run: Run) -> Iterator[tuple[Failure, str]]:
    """Model checking's failures (minimised trace, failing run's calls), with their stems."""
    for impl, entry in run.model().items():
        for o in dig_list(entry, "outcomes"):
            if not isinstance(o, dict) or o.get("status") != "fail":
                continue
            scenario = str(o.get("scenario", "?"))
            found = o.get("failure") if isinstance(o.get("failure"), dict) else {}
            message = str(found.get("message") or "failed (no details recorded)")
            replay = found.get("replay")
            text = _header(
                run,
                [
                    ("model checking", scenario),
                    ("implementation", impl),
                    ("check", found.get("check")),
                    ("found after", found_after(found)),
                    ("replay", f"semharness replay {replay}" if replay else None),
                ],
            )
            text += "\n" + str(found.get("trace") or message) + "\n"
            kind = str(found.get("check") or "")
            failure = Failure(run.index, "model", impl, scenario, message, text, kind=kind)
            if isinstance(found.get("history"), list):
                failure.history = found["history"]
                initial = found.get("initial")
                failure.initial = initial if isinstance(initial, int) else 0
                failure.outcome = dig_str(found, "outcome")
            failure.checks = [c for f in dig_list(found, "failures") if (c := dig_str(f, 0))]
            yield failure, f"{impl}-{scenario}"


def _stress_failures(run: Run) -> Iterator[tuple[Failure, str]]:
    """Stress runs that failed a check: the reasons and where the history file is."""
    for e in run.stress():
        if e.get("status") != "fail":
            continue
        impl, threads = e["impl"], e["threads"]
        reasons = [str(r) for r in dig_list(e, "reasons")] or ["failed"]
        history = e.get("history_file")
        text = _header(run, [("stress", plural(threads, "thread")), ("implementation", impl)])
        text += "\n" + "\n".join(reasons) + "\n"
        if history:
            text += f"\nhistory file: {history}\n"
            text += f"picture: semharness check-history {history} --png violation.png\n"
        kind, sep, message = reasons[0].partition(": ")  # a reason reads "check: what it found"
        if not sep:
            kind, message = "", reasons[0]
        name = plural(threads, "thread")
        failure = Failure(run.index, "stress", impl, name, message, text, kind=kind)
        yield failure, f"{impl}-stress-{threads}threads"


def _selftest_failures(run: Run) -> Iterator[tuple[Failure, str]]:
    """Selftest rows that are not as they should be (a bug escaped, a correct one flagged)."""
    for r in run.selftest():
        if selftest_ok(r):
            continue
        impl = r["impl"]
        message = selftest_text(r)
        text = _header(run, [("selftest", impl), ("result", message)])
        if r.get("message"):
            text += "\n" + str(r["message"]) + "\n"
        kind = selftest_outcome(r)
        failure = Failure(run.index, "selftest", impl, "selftest", message, text, kind=kind)
        yield failure, f"{impl}-selftest"


def collect_failures(runs: list[Run]) -> list[Failure]:
    """Every failure of every run, each with its trace file's name and text.

    Model failures get ``traces/<impl>-<scenario>.txt`` (the minimised trace); peer-suite and
    battery failures ``<impl>-peer-<scenario>``, stress ``<impl>-stress-<N>threads`` and the
    selftest ``<impl>-selftest`` (their messages: these checks keep no step-by-step trace).
    """
    names = _FileNames()
    out: list[Failure] = []
    for run in runs:
        for source in (_peer_failures, _model_failures, _stress_failures, _selftest_failures):
            for failure, stem in source(run):
                failure.file = names.take(stem)
                out.append(failure)
    return out


def found_after(f: dict[str, Any]) -> str | None:
    """When a model failure was found (a failure dict's ``found_after_*`` keys): the job's
    clock, what a user waits, when recorded, else the scenario's; and after how many
    schedules.  None when nothing says."""
    at = number(f.get("found_after_job_s"))
    if at is None:
        at = number(f.get("found_after_s"))
    runs = number(f.get("found_after_runs"))
    if at is None and runs is None:
        return None
    if runs is None:
        return seconds(at)
    return f"{seconds(at)} ({plural(runs, 'schedule')})"


# ---- the summary ---------------------------------------------------------------------------------


def side_by_side(runs: list[Run]) -> list[tuple[str, Run]]:
    """(implementation, run) pairs in the order every table and legend lists them: by
    implementation (first mention first), then by run, so that one implementation's runs on
    several machines stand next to each other."""
    order = dict.fromkeys(impl for run in runs for impl in run.implementations())
    return [(impl, run) for impl in order for run in runs if impl in run.implementations()]


def selftest_ok(row: dict[str, Any]) -> bool:
    """A selftest row is as it should be: buggy and caught, or correct and passed."""
    if isinstance(row.get("ok"), bool):
        return row["ok"]
    return row.get("error") is None and bool(row.get("caught")) == bool(row.get("buggy"))


def selftest_outcome(row: dict[str, Any]) -> str:
    """A selftest row in one word or two: caught, escaped, not flagged, flagged or error."""
    if row.get("error"):
        return "error"
    if row.get("buggy"):
        return "caught" if row.get("caught") else "escaped"
    return "flagged" if row.get("caught") else "not flagged"


def selftest_text(row: dict[str, Any]) -> str:
    """What a selftest row says, in a few words: the outcome and by which check, where."""
    outcome = selftest_outcome(row)
    if outcome == "error":
        return f"error: {row['error']}"
    if outcome == "escaped":
        return "escaped every check"
    where = " in ".join(str(x) for x in (row.get("check"), row.get("scenario")) if x)
    return f"{outcome} by {where}" if outcome in ("caught", "flagged") and where else outcome


def _counts_text(counts: Counter[str], names: dict[str, str]) -> str:
    """``3 passed, 1 failed``: the counts that are not zero, in the order of ``names``."""
    return ", ".join(f"{counts[k]} {word}" for k, word in names.items() if counts[k])


def _worst(statuses: list[str]) -> str:
    """The most severe status (:data:`SEVERITY`): what a cell over several results shows."""
    return max(statuses, key=SEVERITY.index)


def _peer_cell(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Peer-suite or battery rows: FAIL if any failed, pass if any passed, else skip."""
    counts = Counter(_STATUS.get(str(r.get("status")), "unknown") for r in rows)
    text = _counts_text(counts, {"pass": "passed", "FAIL": "failed", "skip": "skipped"})
    if counts["unknown"]:
        text += f", {counts['unknown']} unknown"
    status = "FAIL" if counts["FAIL"] else "pass" if counts["pass"] else _worst(list(counts))
    return status, text


def _model_cell(entry: dict[str, Any]) -> tuple[str, str]:
    """One implementation's model checking: skipped whole, or its scenarios' worst outcome."""
    if isinstance(entry.get("skipped"), str):
        return "skip", entry["skipped"]
    outcomes = [o for o in dig_list(entry, "outcomes") if isinstance(o, dict)]
    skipped = dig_list(entry, "skipped")
    counts = Counter(_STATUS.get(str(o.get("status")), "unknown") for o in outcomes)
    counts["skip"] += len(skipped)
    text = _counts_text(
        counts,
        {"pass": "passed", "FAIL": "failed", "unfinished": "unfinished", "skip": "skipped"},
    )
    runs = sum(number(o.get("runs")) or 0 for o in outcomes)
    if runs:
        text += f"; {runs:,.0f} schedules"
    return (_worst(list(counts)) if counts else "skip"), text


def _stress_cell(entries: list[dict[str, Any]]) -> tuple[str, str]:
    """Stress runs at each thread count: the worst, with the thread counts of each status."""
    by_status: dict[str, list[int]] = {}
    for e in sorted(entries, key=lambda e: e["threads"]):
        by_status.setdefault(_STATUS.get(str(e.get("status")), "unknown"), []).append(e["threads"])
    order = sorted(by_status, key=SEVERITY.index, reverse=True)

    def at(threads: list[int]) -> str:
        return f"at {', '.join(map(str, threads))} thread{'' if threads == [1] else 's'}"

    if len(order) == 1:
        return order[0], at(by_status[order[0]])
    return order[0], "; ".join(f"{s} {at(by_status[s])}" for s in order)


def _selftest_cell(rows: list[dict[str, Any]]) -> tuple[str, str]:
    """Selftest rows: pass when each is as it should be (a bug caught, a correct one not)."""
    statuses = ["ERROR" if r.get("error") else "pass" if selftest_ok(r) else "FAIL" for r in rows]
    return _worst(statuses), "; ".join(selftest_text(r) for r in rows)


def _cell(run: Run, impl: str, check: str) -> tuple[str, str] | None:
    """(status, detail) of one check for one implementation, None when it did not run."""
    if check in ("peer", "battery"):
        rows = run.peer().get(impl)
        part = [r for r in rows or [] if is_battery(r["scenario"]) == (check == "battery")]
        return _peer_cell(part) if part else None
    if check == "model":
        entry = run.model().get(impl)
        return None if entry is None else _model_cell(entry)
    if check == "stress":
        entries = [e for e in run.stress() if e["impl"] == impl]
        return _stress_cell(entries) if entries else None
    rows = [r for r in run.selftest() if r["impl"] == impl]
    return _selftest_cell(rows) if rows else None


def summary(runs: list[Run], failures: list[Failure]) -> dict[str, Any]:
    """The summary matrix: one row per implementation (and run), one cell per check.

    A cell is ``{"status", "text", "failures"}``: status pass, FAIL, skip, unfinished, unknown
    or ERROR (None: the check did not run for it), a short detail, and the failures with their
    trace files.
    """
    by_cell: dict[tuple[int, str, str], list[Failure]] = {}
    for f in failures:
        by_cell.setdefault((f.run, f.impl, f.check), []).append(f)
    rows = []
    for impl, run in side_by_side(runs):
        cells = {}
        for key, _ in CHECKS:
            found = _cell(run, impl, key)
            listed = by_cell.get((run.index, impl, key), [])
            cells[key] = {
                "status": found[0] if found else None,
                "text": found[1] if found else "",
                "failures": [{"name": f.name, "trace": f.file} for f in listed],
            }
        rows.append({"impl": impl, "run": run.label, "series": run.series(impl), "cells": cells})
    return {"checks": [{"key": k, "title": t} for k, t in CHECKS], "rows": rows}


def selftest_rows(runs: list[Run]) -> list[dict[str, Any]]:
    """The selftest table: each known-buggy (or correct) implementation, caught or not, by what,
    how fast, with how long a minimised trace."""
    out = []
    for impl, run in side_by_side(runs):
        for r in (r for r in run.selftest() if r["impl"] == impl):
            out.append(
                {
                    "run": run.label,
                    "series": run.series(r["impl"]),
                    "impl": r["impl"],
                    "buggy": bool(r.get("buggy")),
                    "caught": bool(r.get("caught")),
                    "ok": selftest_ok(r),
                    "outcome": selftest_outcome(r),
                    "result": selftest_text(r),
                    "check": dig_str(r, "check"),
                    "scenario": dig_str(r, "scenario"),
                    "first_failure_s": number(r.get("first_failure_s")),
                    "trace_steps": number(r.get("trace_steps")),
                    "seconds": number(r.get("seconds")),
                    "error": r.get("error"),
                }
            )
    return out


# ---- stress -------------------------------------------------------------------------------------


def _points(value: Any) -> list[list[float]]:
    """A curve's [[probability, ns], ...] points, malformed ones dropped."""
    if not isinstance(value, list):
        return []
    out = []
    for p in value:
        if isinstance(p, list | tuple) and len(p) == 2:
            x, y = number(p[0]), number(p[1])
            if x is not None and y is not None:
                out.append([x, y])
    return out


def _summary_numbers(value: Any) -> dict[str, float | None]:
    """count and percentiles of a metrics summary (None where absent)."""
    return {k: number(dig(value, k)) for k in ("count", *PERCENTILE_KEYS)}


def _pick(entries: list[dict[str, Any]], chosen: int | None, has: Any) -> dict[str, Any] | None:
    """The entry to plot for one series: the one at the chosen thread count when it has the
    data, else the one with the most threads that has it."""
    usable = [e for e in entries if has(e)]
    if not usable:
        return None
    at_chosen = [e for e in usable if e["threads"] == chosen]
    return at_chosen[0] if at_chosen else max(usable, key=lambda e: e["threads"])


def stress_figures(runs: list[Run]) -> dict[str, Any]:
    """Throughput, latency percentiles and CDFs, wake-up latency, timeout overshoot and
    fairness of every stress entry; the CDFs and fairness at the chosen thread count."""
    series: dict[str, list[dict[str, Any]]] = {}
    impl_of: dict[str, tuple[str, str]] = {}
    for impl, run in side_by_side(runs):
        for e in (e for e in run.stress() if e["impl"] == impl):
            name = run.series(impl)
            series.setdefault(name, []).append(e)
            impl_of[name] = (impl, run.label)
    measured = {
        name: {e["threads"] for e in es if isinstance(e.get("metrics"), dict)}
        for name, es in series.items()
    }
    measured = {k: v for k, v in measured.items() if v}
    common = set.intersection(*measured.values()) if measured else set()
    chosen = max(common) if common else None

    throughput, percentiles, wakeup, overshoot, fairness = [], [], [], [], []
    cdf: dict[str, dict[str, Any]] = {}
    kinds = LATENCY_KINDS
    for name, entries in series.items():
        impl, label = impl_of[name]
        base = {"series": name, "impl": impl, "run": label}
        for e in sorted(entries, key=lambda e: e["threads"]):
            m = e.get("metrics") if isinstance(e.get("metrics"), dict) else {}
            throughput.append(
                {
                    **base,
                    "threads": e["threads"],
                    "status": e.get("status"),
                    "ops_per_s": number(dig(m, "throughput", "ops_per_s")),
                    "owner_change_fraction": number(dig(m, "fairness", "owner_change_fraction")),
                    "jain_index": number(dig(m, "fairness", "jain_index")),
                }
            )
            latency = m.get("latency") if isinstance(m.get("latency"), dict) else {}
            for kind in [*kinds, *(k for k in latency if k not in kinds)]:
                numbers = _summary_numbers(latency.get(kind))
                if numbers["count"]:
                    percentiles.append({**base, "threads": e["threads"], "kind": kind, **numbers})
            wakeup.append(
                {
                    **base,
                    "threads": e["threads"],
                    "blocked": number(dig(m, "wakeup", "blocked")),
                    **_summary_numbers(dig(m, "wakeup", "latency_ns")),
                    "curve": _points(dig(m, "curves", "wakeup")),
                }
            )
            overshoot.append(
                {
                    **base,
                    "threads": e["threads"],
                    "failed": number(dig(m, "timeouts", "failed")),
                    "early": number(dig(m, "timeouts", "early")),
                    "late": number(dig(m, "timeouts", "late")),
                    **_summary_numbers(dig(m, "timeouts", "overshoot_ns")),
                    "curve": _points(dig(m, "curves", "overshoot")),
                }
            )

        def curves_of(e: dict[str, Any]) -> dict[str, list[list[float]]]:
            raw = dig(e, "metrics", "curves", "latency", default={})
            got = {k: _points(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
            return {k: v for k, v in got.items() if v}

        curves = {id(e): curves_of(e) for e in entries}  # once per entry: the points are many
        at = _pick(entries, chosen, lambda e, curves=curves: curves[id(e)])
        if at is not None:
            cdf[name] = {"threads": at["threads"], "kinds": curves[id(at)]}

        def has_acquisitions(e: dict[str, Any]) -> bool:
            return isinstance(dig(e, "metrics", "fairness", "acquisitions"), dict)

        at = _pick(entries, chosen, has_acquisitions)
        if at is not None:
            acq = dig(at, "metrics", "fairness", "acquisitions")
            counts = {str(t): number(v) or 0 for t, v in acq.items()}
            longest = dig(at, "metrics", "fairness", "longest_wait", "ns")
            fairness.append(
                {
                    **base,
                    "threads": at["threads"],
                    "acquisitions": counts,
                    "jain_index": number(dig(at, "metrics", "fairness", "jain_index")),
                    "owner_change_fraction": number(
                        dig(at, "metrics", "fairness", "owner_change_fraction")
                    ),
                    "longest_wait_ns": number(longest),
                }
            )
    for rows in (wakeup, overshoot):
        _mark_plotted(rows, chosen)
    return {
        "chosen_threads": chosen,
        "throughput": throughput,
        "latency_percentiles": percentiles,
        "latency_cdf": cdf,
        "wakeup": wakeup,
        "overshoot": overshoot,
        "fairness": fairness,
    }


def _mark_plotted(rows: list[dict[str, Any]], chosen: int | None) -> None:
    """Sets ``plotted`` on the one row per series whose curve the plot shows (see _pick)."""
    by_series: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        r["plotted"] = False
        by_series.setdefault(r["series"], []).append(r)
    for entries in by_series.values():
        at = _pick(entries, chosen, lambda r: bool(r["curve"]))
        if at is not None:
            at["plotted"] = True


# ---- model checking -----------------------------------------------------------------------------


def _progress(
    outcomes: list[dict[str, Any]], traces: dict[str, str]
) -> tuple[list[list[float]], list[dict[str, Any]]]:
    """The outcomes laid end to end: the cumulative (seconds, schedules) curve and each
    failure, placed within its scenario where it was found."""
    curve: list[list[float]] = [[0.0, 0.0]]
    found = []
    base_s = base_runs = 0.0
    for o in outcomes:
        took = number(o.get("seconds")) or 0.0
        runs = number(o.get("runs")) or 0.0
        for p in _points(o.get("progress")):
            if p[0] <= took and p[1] <= runs:
                curve.append([base_s + p[0], base_runs + p[1]])
        curve.append([base_s + took, base_runs + runs])
        f = o.get("failure")
        if o.get("status") == "fail" and isinstance(f, dict):
            scenario = str(o.get("scenario"))
            found_s, found_runs = number(f.get("found_after_s")), number(f.get("found_after_runs"))
            at_s = took if found_s is None else min(found_s, took)  # unrecorded: at its end
            at_runs = runs if found_runs is None else min(found_runs, runs)
            found.append(
                {
                    "scenario": scenario,
                    "check": dig_str(f, "check"),
                    "message": f.get("message"),
                    "found_after_s": found_s,
                    "found_after_job_s": number(f.get("found_after_job_s")),
                    "found_after_runs": found_runs,
                    "trace_steps": number(f.get("trace_steps")),
                    "at": [base_s + at_s, base_runs + at_runs],
                    "trace": traces.get(scenario),
                }
            )
        base_s += took
        base_runs += runs
    return curve, found


def model_figures(runs: list[Run], failures: list[Failure]) -> list[dict[str, Any]]:
    """Per implementation: scenario counts, schedules, and the cumulative progress curve.

    The scenarios ran interleaved, a slice of runs each in turn, so their own clocks cannot be
    put on one time line; the curve lays them end to end in listed order (x: checking seconds
    summed, y: schedules summed), and each failure sits inside its scenario where it was found.
    """
    out = []
    for impl, run in side_by_side(runs):
        entry = run.model().get(impl)
        if entry is None:
            continue
        row: dict[str, Any] = {"series": run.series(impl), "impl": impl, "run": run.label}
        if isinstance(entry.get("skipped"), str):
            out.append({**row, "skipped": entry["skipped"]})
            continue
        outcomes = [o for o in dig_list(entry, "outcomes") if isinstance(o, dict)]
        listed = dig_list(entry, "skipped")
        counts = Counter(str(o.get("status")) for o in outcomes)
        traces = {
            f.name: f.file
            for f in failures
            if f.check == "model" and f.run == run.index and f.impl == impl
        }
        curve, found = _progress(outcomes, traces)
        settings = entry.get("settings")
        out.append(
            {
                **row,
                "skipped": None,
                "settings": settings if isinstance(settings, dict) else None,
                "scenarios": len(outcomes),
                "passed": counts["pass"],
                "failed": counts["fail"],
                "unfinished": counts["unfinished"],
                "skipped_scenarios": len(listed),
                "exhaustive": sum(1 for o in outcomes if o.get("complete") is True),
                "schedules": curve[-1][1],
                "distinct": sum(number(o.get("distinct")) or 0 for o in outcomes),
                "seconds": number(entry.get("seconds")) or curve[-1][0],
                "progress": curve,
                "failures": found,
            }
        )
    return out


# ---- everything ---------------------------------------------------------------------------------


def run_info(run: Run) -> dict[str, Any]:
    """When, where and how one run was made."""
    data = run.data
    return {
        "label": run.label,
        "command": data.get("command"),
        "started": data.get("started"),
        "seconds": number(data.get("seconds")),
        "interrupted": data.get("interrupted"),
        "quick": data.get("quick"),
        "machine": run.machine,
        "sections": run.present(),
    }


def compute_figures(runs: list[Run], failures: list[Failure]) -> dict[str, Any]:
    """The content of ``figures.json`` (its ``plots`` are filled in once drawn)."""
    return {
        "format": FIGURES_FORMAT,
        "version": FIGURES_VERSION,
        "runs": [run_info(r) for r in runs],
        "summary": summary(runs, failures),
        "selftest": selftest_rows(runs),
        "stress": stress_figures(runs),
        "model": model_figures(runs, failures),
        "failures": [f.to_json(runs) for f in failures],
        "plots": {},
    }
