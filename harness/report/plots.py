"""The report's pictures: PNG files drawn from the figures (:mod:`.figures`) with matplotlib.

Each plot is meant to be read without the report around it: a title that says what is shown
and under which conditions (the thread count), axis labels with units, a legend, and log
scales where values span decades (latencies, and throughputs of C and Python side by side).
A plot whose data is absent is not drawn.  Every implementation keeps one colour in every plot.

Drawing goes through :class:`matplotlib.figure.Figure` and the Agg canvas, not pyplot: nothing
is displayed, no global state changes, and the same figures give the same bytes.

The pictures of model-checking failures: a linearizability violation is drawn by
:func:`semharness.violation.render_png` (the window that does not linearize, the longest partial
linearization, the culprit); any other failure (a lost wake-up, a deadlock) as a plain timeline
of the failing run's calls, with the calls that never returned running off the right edge.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from ..history import History
from ..violation import call_text, result_text, time_unit  # one wording of calls, one time unit
from .figures import LATENCY_KINDS, Failure
from .fmt import kind_title, percent

#: Relative paths of the plots, by figure name.
PLOT_FILES = {
    "throughput": "plots/throughput.png",
    "latency_cdf": "plots/latency-cdf.png",
    "wakeup": "plots/wakeup.png",
    "overshoot": "plots/overshoot.png",
    "fairness": "plots/fairness.png",
    "model_progress": "plots/model-progress.png",
}

_FAIL_RED = "#D62728"
#: Failures named in the model-progress legend (the rest are numbered on the plot only).
_NAMED_FAILURES = 12
_GRID = {"color": "#E6E6E6", "linewidth": 0.8}


def _figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    fig = Figure(figsize=(width, height), dpi=100, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})


def palette(series: list[str]) -> dict[str, Any]:
    """A colour per series, in the order given (tab10, then tab20 for more)."""
    from matplotlib import colormaps

    ten, twenty = colormaps["tab10"], colormaps["tab20"]
    return {name: ten(k) if len(series) <= 10 else twenty(k % 20) for k, name in enumerate(series)}


def _log_if_wide(ax: Any, axis: str, values: list[float]) -> None:
    """A log scale when the positive values span a decade or more."""
    positive = [v for v in values if v > 0]
    if positive and max(positive) >= 10 * min(positive):
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def _log_x(ax: Any, values: list[float]) -> None:
    """A log x axis over whole decades, so that even a narrow range has labelled ticks."""
    from matplotlib.ticker import NullFormatter

    positive = [v for v in values if v > 0] or [1.0]
    ax.set_xscale("log")
    ax.set_xlim(
        10 ** math.floor(math.log10(min(positive))), 10 ** math.ceil(math.log10(max(positive)))
    )
    ax.xaxis.set_minor_formatter(NullFormatter())


def _at_threads(chosen: int | None, what: str) -> str:
    return (
        f"at {chosen} threads" if chosen else f"{what} at its highest thread count (in the legend)"
    )


# ---- stress plots --------------------------------------------------------------------------------


def plot_throughput(stress: dict[str, Any], colors: dict[str, Any], path: Path) -> bool:
    """Throughput versus thread count (top) and the owner-change fraction (bottom)."""
    rows = [r for r in stress["throughput"] if r["ops_per_s"] is not None]
    if not rows:
        return False
    fig = _figure(9, 7)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    threads = sorted({r["threads"] for r in rows})
    for k, name in enumerate(dict.fromkeys(r["series"] for r in rows)):
        mine = [r for r in rows if r["series"] == name]
        xs = [r["threads"] for r in mine]
        top.plot(xs, [r["ops_per_s"] for r in mine], marker="o", color=colors[name], label=name)
        # one thread has no one to hand over to: its fraction is 0 by definition
        fractions = [r for r in mine if r["owner_change_fraction"] is not None and r["threads"] > 1]
        bottom.plot(
            [r["threads"] for r in fractions],
            [r["owner_change_fraction"] for r in fractions],
            marker="o",
            color=colors[name],
        )
        for r in fractions:  # the value itself: small fractions sit on the axis otherwise
            bottom.annotate(
                percent(r["owner_change_fraction"]),
                (r["threads"], r["owner_change_fraction"]),
                textcoords="offset points",
                xytext=(5, 4 + 10 * k),
                fontsize=7.5,
                color=colors[name],
            )
    bad = [r for r in rows if r["status"] == "fail"]
    if bad:
        top.scatter(
            [r["threads"] for r in bad],
            [r["ops_per_s"] for r in bad],
            marker="x",
            s=110,
            color=_FAIL_RED,
            zorder=5,
            label="check failed at this thread count",
        )
    _log_if_wide(top, "y", [r["ops_per_s"] for r in rows])
    top.set_ylabel("throughput (calls/s, all threads)")
    top.set_title("Stress: throughput versus thread count")
    top.legend(fontsize=8)
    shown = [r["owner_change_fraction"] for r in rows if r["owner_change_fraction"] is not None]
    bottom.set_ylim(0, max([0.01, *shown]) * 1.6)
    bottom.set_ylabel("owner-change fraction")
    bottom.set_title(
        "Owner changes: successive acquisitions by different threads (2 threads and more)\n"
        "0: one thread keeps re-taking the tokens; 1 - 1/threads: strict alternation",
        fontsize=9,
    )
    bottom.set_xlabel("threads")
    bottom.set_xscale("log", base=2)
    bottom.set_xticks(threads, [str(t) for t in threads])
    bottom.minorticks_off()
    for ax in (top, bottom):
        ax.grid(**_GRID)
    _save(fig, path)
    return True


def plot_latency_cdf(stress: dict[str, Any], colors: dict[str, Any], path: Path) -> bool:
    """One panel per call kind: the latency CDF of each series at the chosen thread count."""
    cdf = stress["latency_cdf"]
    known = LATENCY_KINDS
    present = {k for s in cdf.values() for k in s["kinds"]}
    kinds = [k for k in known if k in present] + sorted(present - set(known))
    if not kinds:
        return False
    chosen = stress["chosen_threads"]
    cols = min(3, len(kinds))
    rows = math.ceil(len(kinds) / cols)
    width, height = 4.8 * cols, 3.4 * rows + 1.0
    # a fixed layout: the constrained one costs half a second on a grid of log axes
    fig = _figure(width, height, layout=None)
    fig.subplots_adjust(
        left=0.7 / width,
        right=1 - 0.25 / width,
        top=1 - 0.85 / height,
        bottom=1.15 / height,
        wspace=0.3,
        hspace=0.5,
    )
    axes = fig.subplots(rows, cols, squeeze=False)
    for ax in axes.flat[len(kinds) :]:
        ax.set_visible(False)
    for ax, kind in zip(axes.flat, kinds, strict=False):
        xs: list[float] = []
        for name, s in cdf.items():
            points = s["kinds"].get(kind)
            if not points:
                continue
            label = name if chosen else f"{name} ({s['threads']} threads)"
            x = [max(p[1], 1) for p in points]  # a log axis: 0 ns shown as 1 ns
            xs += x
            ax.plot(
                x, [p[0] for p in points], drawstyle="steps-post", color=colors[name], label=label
            )
        _log_x(ax, xs)
        ax.set_ylim(0, 1.02)
        ax.set_title(kind_title(kind), fontsize=10)
        ax.set_xlabel("latency (ns, log scale)")
        ax.set_ylabel("fraction of calls ≤ latency")
        ax.grid(**_GRID)
    handles, labels = _unique_legend(axes.flat)
    fig.legend(handles, labels, loc="lower center", ncols=min(4, len(labels)), fontsize=8)
    fig.suptitle(f"Stress: latency CDF per call kind, {_at_threads(chosen, 'each implementation')}")
    _save(fig, path)
    return True


def _unique_legend(axes: Any) -> tuple[list[Any], list[str]]:
    seen: dict[str, Any] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    return list(seen.values()), list(seen)


def _plot_curves(
    rows: list[dict[str, Any]],
    colors: dict[str, Any],
    path: Path,
    *,
    title: str,
    xlabel: str,
    what: str,
    count_key: str,
) -> bool:
    """CDFs of one distribution per series (the rows marked ``plotted``)."""
    rows = [r for r in rows if r.get("plotted") and r["curve"]]
    if not rows:
        return False
    fig = _figure(9, 5.2)
    ax = fig.subplots()
    values = [p[1] for r in rows for p in r["curve"]]
    for r in rows:
        count = r.get(count_key)
        label = f"{r['series']} ({r['threads']} threads, {count or 0:,.0f} {what})"
        ax.plot(
            [p[1] for p in r["curve"]],
            [p[0] for p in r["curve"]],
            drawstyle="steps-post",
            marker=".",
            color=colors[r["series"]],
            label=label,
        )
    if min(values) <= 0:
        ax.set_xscale("symlog", linthresh=1000)
        ax.axvline(0, color="#555555", linestyle="--", linewidth=1, label="0")
        xlabel += ", symmetric log scale: linear within ±1 µs)"
    else:
        _log_x(ax, values)
        xlabel += ", log scale)"
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("fraction ≤ x")
    ax.set_title(title)
    ax.grid(**_GRID)
    ax.legend(fontsize=8)
    _save(fig, path)
    return True


def plot_wakeup(stress: dict[str, Any], colors: dict[str, Any], path: Path) -> bool:
    """Wake-up latency CDF per series."""
    return _plot_curves(
        stress["wakeup"],
        colors,
        path,
        title="Stress: wake-up latency of blocked waiters "
        "(latest release's invocation → the waiter's return)",
        xlabel="wake-up latency (ns",
        what="blocked waits",
        count_key="count",
    )


def plot_overshoot(stress: dict[str, Any], colors: dict[str, Any], path: Path) -> bool:
    """Timeout overshoot CDF per series (negative: an early failure, a violation)."""
    return _plot_curves(
        stress["overshoot"],
        colors,
        path,
        title="Stress: timeout overshoot of timed tries that failed (return - deadline)",
        xlabel="overshoot past the deadline (ns",
        what="timed-out tries",
        count_key="failed",
    )


def plot_fairness(stress: dict[str, Any], colors: dict[str, Any], path: Path) -> bool:
    """Each thread's share of the successful acquisitions, per series; Jain's index in the
    legend and the equal share dashed."""
    rows = [r for r in stress["fairness"] if sum(r["acquisitions"].values()) > 0]
    if not rows:
        return False
    chosen = stress["chosen_threads"]
    # every thread that asked for tokens in any series, by number: threads that only release
    # are not listed, so the keys need not be 0..n-1
    keys = sorted({t for r in rows for t in r["acquisitions"]}, key=lambda t: (len(t), t))
    slot = {t: i for i, t in enumerate(keys)}
    fig = _figure(max(7.0, min(18.0, 2.5 + 0.35 * len(keys) * len(rows))), 5)
    ax = fig.subplots()
    width = 0.8 / len(rows)
    for k, r in enumerate(rows):
        total = sum(r["acquisitions"].values())
        threads = sorted(r["acquisitions"], key=lambda t: (len(t), t))
        xs = [slot[t] + (k - (len(rows) - 1) / 2) * width for t in threads]
        jain = "n/a" if r["jain_index"] is None else f"{r['jain_index']:.4f}"
        label = f"{r['series']} (Jain {jain}"
        label += ")" if chosen else f", {r['threads']} threads)"
        ax.bar(
            xs,
            [100 * r["acquisitions"][t] / total for t in threads],
            width=width,
            color=colors[r["series"]],
            label=label,
        )
    for k in sorted({len(r["acquisitions"]) for r in rows}):
        ax.axhline(
            100 / k, color="#555555", linestyle="--", linewidth=1, label=f"equal share of {k}"
        )
    ax.set_xticks(range(len(keys)), [f"t{t}" for t in keys])
    ax.set_xlabel("thread")
    ax.set_ylabel("share of the successful acquisitions (%)")
    ax.set_title(f"Stress: acquisitions per thread, {_at_threads(chosen, 'each implementation')}")
    ax.grid(axis="y", **_GRID)
    ax.set_axisbelow(True)
    fig.legend(loc="outside lower center", ncols=min(3, len(rows) + 1), fontsize=8)
    _save(fig, path)
    return True


# ---- model checking ------------------------------------------------------------------------------


def plot_model_progress(model: list[dict[str, Any]], colors: dict[str, Any], path: Path) -> bool:
    """Cumulative schedules over cumulative checking time per implementation, failures marked."""
    rows = [r for r in model if not r.get("skipped") and r["schedules"] > 0]
    if not rows:
        return False
    fig = _figure(10, 6)
    ax = fig.subplots()
    handles: list[Any] = []
    labels: list[str] = []
    found = 0
    for r in rows:
        xs, ys = zip(*r["progress"], strict=True)
        (line,) = ax.plot(xs, ys, color=colors[r["series"]], linewidth=1.8)
        handles.append(line)
        labels.append(f"{r['series']} ({r['scenarios']} scenarios)")
        for f in r["failures"]:
            found += 1
            ax.scatter(*f["at"], marker="X", s=80, color="black", edgecolors="white", zorder=5)
            ax.annotate(
                str(found),  # numbered: failures found close together stay legible
                f["at"],
                textcoords="offset points",
                xytext=(5, 4 if found % 2 else -11),
                fontsize=8,
                fontweight="bold",
            )
            if found <= _NAMED_FAILURES:
                handles.append(Line2D([], [], marker="X", linestyle="", color="black"))
                labels.append(f"{found}: {r['series']} · {f['scenario']} ({f['check']})")
    if found > _NAMED_FAILURES:
        handles.append(Line2D([], [], linestyle=""))
        labels.append(f"... {found - _NAMED_FAILURES} more failures: see the tables")
    fig.legend(handles, labels, fontsize=8, loc="outside right upper")
    ax.set_xlabel("checking time, summed over scenarios laid end to end (s)")
    ax.set_ylabel("schedules run (cumulative)")
    ax.set_title("Model checking: schedules explored per implementation")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(**_GRID)
    _save(fig, path)
    return True


def _timeline(history: History, failure: Failure, path: Path) -> None:
    """A failing run's calls, one lane per thread: a bar from invocation to return labelled
    ``call → result``, hatched and running off the right edge for a call that never returned."""
    ops = list(history)
    t0 = min(op.invoke for op in ops)
    last = max(op.invoke if op.ret is None else op.ret for op in ops)
    pending = any(op.ret is None for op in ops)
    span = max(last - t0, 1)
    right = last + (0.15 * span if pending else 0)
    unit, scale = time_unit(right - t0)
    lanes = sorted({op.thread for op in ops})
    lane = {t: k for k, t in enumerate(lanes)}
    fig = _figure(11, 1.9 + 0.75 * len(lanes))
    ax = fig.subplots()
    least = (right - t0) / scale * 0.004  # instantaneous calls stay visible
    levels: dict[int, int] = {}
    for op in ops:
        start = (op.invoke - t0) / scale
        end = ((right if op.ret is None else op.ret) - t0) / scale
        y = lane[op.thread]
        style: dict[str, Any] = (
            {"color": "white", "edgecolor": _FAIL_RED, "hatch": "///"}
            if op.ret is None
            else {"color": "#4C78A8", "edgecolor": "#2F4B6E"}
        )
        ax.barh(y, max(end - start, least), left=start, height=0.28, linewidth=1, **style)
        if op.ret is None:
            ax.plot([end], [y], marker=">", color=_FAIL_RED, markersize=9, clip_on=False)
        level = levels.get(y, 0)
        levels[y] = level + 1
        ax.text(
            start,
            y - 0.18 - 0.2 * (level % 2),  # alternate rows so neighbours do not overlap
            f"{call_text(op)} → {result_text(op)}",
            fontsize=8,
            va="bottom",
            color=_FAIL_RED if op.ret is None else "#222222",
        )
    ax.set_yticks(range(len(lanes)), [f"t{t}" for t in lanes])
    ax.set_ylim(len(lanes) - 0.5, -0.85)
    ax.set_xlim(-0.02 * (right - t0) / scale, (right - t0) / scale * 1.02)
    ax.set_xlabel(
        f"virtual time of the model run since its first call ({unit.replace('us', 'µs')})"
    )
    ax.set_ylabel("thread")
    ax.grid(axis="x", **_GRID)
    ax.legend(
        handles=[
            Patch(facecolor="#4C78A8", edgecolor="#2F4B6E", label="returned"),
            Patch(facecolor="white", edgecolor=_FAIL_RED, hatch="///", label="never returned"),
        ],
        loc="lower right",
        fontsize=8,
    )
    wrapped = "\n".join(textwrap.wrap(failure.message, 130))
    ax.set_title(wrapped, fontsize=8.5, color=_FAIL_RED, loc="left")
    fig.suptitle(f"{failure.impl} · {failure.name}: {failure.kind or 'failure'}", x=0.02, ha="left")
    _save(fig, path)


#: Outcomes of a model run that ended quiescent: the judge (semharness.model.judge) reads the
#: calls that never returned as never taking effect.
_QUIESCENT = ("done", "deadlock")


def _readings(failure: Failure, whole: History) -> list[History]:
    """The failing run's calls as the model checker's judge read them for linearizability:
    without the calls that never returned when the run ended quiescent, else with every call,
    pending ones free to take effect or not.  A results file that does not record the run's
    outcome (older ones) gets both readings, every call first."""
    from ..model.judge import to_history

    if failure.outcome is not None and failure.outcome not in _QUIESCENT:
        return [whole]
    dropped = to_history(failure.history or [], failure.initial, drop_pending=True)
    return [dropped] if failure.outcome is not None else [whole, dropped]


def draw_failure(failure: Failure, path: Path) -> bool:
    """The picture of one model failure that carries its run's calls; False when it has none
    (or they cannot be read).

    A linearizability failure (one whose run failed that check) is drawn as the checker's
    picture of the violation, in the judge's reading of the calls (:func:`_readings`); any
    other failure, or one whose calls linearize after all, as the run's timeline.
    """
    from ..linearizability import check_history
    from ..model.judge import to_history
    from ..violation import render_png

    if not failure.history:
        return False
    try:
        whole = to_history(failure.history, failure.initial)
        judged = "linearizability" in (failure.kind, *failure.checks)
        for history in _readings(failure, whole) if judged else []:
            verdict = check_history(history)
            if verdict.status == "violation":
                path.parent.mkdir(parents=True, exist_ok=True)
                render_png(history, verdict, path)
                return True
    except (ValueError, TypeError, IndexError, KeyError):
        return False  # rows that are not a run's calls: no picture, the trace says it all
    _timeline(whole, failure, path)
    return True


# ---- all of them ---------------------------------------------------------------------------------


def draw_all(figures: dict[str, Any], failures: list[Failure], out: Path) -> dict[str, str]:
    """Draws every plot that has data under ``out/plots``; returns name -> relative path, and
    sets ``picture`` on each failure drawn."""
    series = [r["series"] for r in figures["summary"]["rows"]]
    colors = palette(list(dict.fromkeys(series)))
    stress = figures["stress"]
    drawn: dict[str, str] = {}
    for name, draw, data in (
        ("throughput", plot_throughput, stress),
        ("latency_cdf", plot_latency_cdf, stress),
        ("wakeup", plot_wakeup, stress),
        ("overshoot", plot_overshoot, stress),
        ("fairness", plot_fairness, stress),
        ("model_progress", plot_model_progress, figures["model"]),
    ):
        if draw(data, colors, out / PLOT_FILES[name]):
            drawn[name] = PLOT_FILES[name]
    for f in failures:
        relative = "plots/failures/" + Path(f.file).stem + ".png"
        if f.check == "model" and draw_failure(f, out / relative):
            f.picture = relative
    return drawn
