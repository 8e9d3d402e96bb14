"""Showing a linearizability verdict, so that a semaphore's author sees the bug at a glance.

In the spirit of Porcupine's visualisation: the smallest window of the history that does not
linearize, drawn as one lane per thread with each call an interval from its invocation to its
return, the longest partial linearization the checker found marked on it step by step with the
specification's count after each step, and the call that could not be placed next (the
culprit) in red.

- :func:`render_text`: a headline (the checker's reason), the window as a table of invoke and
  return events with one column per thread, the partial linearization as numbered lines with
  the count after each step, and the culprit marked ``X`` with why it cannot take effect.
- :func:`render_png`: the same window as a picture (matplotlib, Agg, nothing displayed).

Both read only the verdict's public fields (:class:`~semharness.linearizability.Verdict`:
``status``, ``initial``, ``order``, ``counts``, ``window``, ``culprit``, ``reason``) and the
history the verdict was computed from (history indices are the verdict's indices).

The order may begin with operations of earlier, independent parts of the history (the checker
splits at quiescent points); only its steps inside the window are shown, numbered from 1, with
the count at the window's start taken from the step before.  Times are shown relative to the
window's first invocation, in ns, us, ms or s as the window's length calls for.  Windows too
long to read whole are cut to the culprit's neighbourhood (see :func:`render_text`), and the
output says how much was left out.
"""

from __future__ import annotations

import math
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .contract import MAX_COUNT
from .history import History, Operation
from .linearizability import Verdict

__all__ = ["call_text", "render_png", "render_text", "result_text", "time_unit"]

#: windows of at most this many calls are shown whole in text
_TEXT_FULL = 20
#: a cut text window starts at most this many calls before the culprit
_TEXT_LIMIT = 30
#: windows of at most this many calls are drawn whole
_PNG_FULL = 60
#: a cut picture spans from this many calls before the culprit to this many after it
_PNG_BEFORE = 40
_PNG_AFTER = 6


# ---- the window, decoded -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Call:
    op: Operation
    text: str  # "acquire(2)"
    result: str  # "ok", "True", "5", "OverflowError", "pending"
    step: int | None  # 1-based step in the window's part of the partial linearization
    count: int | None  # the count after that step

    @property
    def index(self) -> int:
        return self.op.index

    @property
    def thread(self) -> int:
        return self.op.thread

    @property
    def invoke(self) -> int:
        return self.op.invoke

    def end(self, horizon: float) -> float:
        """The return time, or ``horizon`` for a pending call."""
        return horizon if self.op.ret is None else self.op.ret

    @property
    def line(self) -> str:
        return f"t{self.thread} {self.text} -> {self.result}"


@dataclass(frozen=True)
class _View:
    calls: list[_Call]  # the window's calls, by history index
    threads: list[int]
    t0: int  # the window's first invocation
    t_end: int  # its last event (return, or invocation when later)
    start_count: int  # the count before the window's first linearized step
    before: int  # steps of the order that lie before the window
    steps: list[_Call]  # the window's part of the partial linearization, in order
    culprit: _Call | None
    culprit_count: int  # the count after the partial linearization


def call_text(op: Operation) -> str:
    """How a call reads on a trace: ``acquire(2)``, ``available()``."""
    return "available()" if op.op == "available" else f"{op.op}({op.n})"


def result_text(op: Operation) -> str:
    """How a call's outcome reads on a trace: ``ok``, ``True``, ``pending``, an error's name."""
    if op.pending:
        return "pending"
    if op.error is not None:
        return op.error
    if op.op in ("try_acquire", "available"):
        return str(op.result)
    return "ok"


def _view(history: History, verdict: Verdict) -> _View:
    size = len(history)
    culprit = verdict.culprit
    indices = sorted(set(verdict.window)) or sorted(
        {*verdict.order, *(() if culprit is None else (culprit,))}
    )
    for i in [*indices, *(() if culprit is None else (culprit,))]:
        if not 0 <= i < size:
            raise ValueError(
                f"the verdict names operation {i}, but the history has {size}: "
                "render the history the verdict was computed from"
            )
    inside = set(indices)
    # the window's steps: the order's suffix within the window (earlier segments come first)
    first = len(verdict.order)
    while first > 0 and verdict.order[first - 1] in inside:
        first -= 1
    counts = list(verdict.counts)
    start_count = counts[first - 1] if 0 < first <= len(counts) else verdict.initial
    step_of: dict[int, tuple[int, int | None]] = {}
    for k, i in enumerate(verdict.order[first:], 1):
        pos = first + k - 1
        step_of[i] = (k, counts[pos] if pos < len(counts) else None)
    calls = []
    for i in indices:
        op = history.op_at(i)
        step, count = step_of.get(i, (None, None))
        calls.append(_Call(op, call_text(op), result_text(op), step, count))
    by_index = {c.index: c for c in calls}
    steps = [by_index[i] for i in verdict.order[first:]]
    culprit_call = None
    if culprit is not None:
        culprit_call = by_index.get(culprit)
        if culprit_call is None:
            op = history.op_at(culprit)
            culprit_call = _Call(op, call_text(op), result_text(op), None, None)
            calls.append(culprit_call)
    last = steps[-1].count if steps and steps[-1].count is not None else start_count
    times = [c.invoke for c in calls] + [c.op.ret for c in calls if c.op.ret is not None]
    return _View(
        calls=calls,
        threads=sorted({c.thread for c in calls}),
        t0=min(c.invoke for c in calls) if calls else 0,
        t_end=max(times) if times else 0,
        start_count=start_count,
        before=first,
        steps=steps,
        culprit=culprit_call,
        culprit_count=last,
    )


def _why(call: _Call, count: int) -> str:
    """Why ``call`` cannot take effect at ``count``, by the specification."""
    op = call.op
    if op.op == "available":
        return f"cannot take effect at count {count} (it read {op.result})"
    if op.error == "OverflowError":
        if count + op.n > MAX_COUNT:
            return f"fits count {count}, but nothing after it does"
        return f"cannot take effect at count {count} (overflow needs count > {MAX_COUNT - op.n})"
    if op.op == "try_acquire" and op.result is False:
        if count < op.n:
            return f"fits count {count}, but nothing after it does"
        return f"cannot take effect at count {count} (failing needs count < {op.n})"
    if op.op == "release":
        if count + op.n <= MAX_COUNT:
            return f"fits count {count}, but nothing after it does"
        return f"cannot take effect at count {count} (the count would pass {MAX_COUNT})"
    if count >= op.n:
        return f"fits count {count}, but nothing after it does"
    return f"cannot take effect at count {count} (needs count >= {op.n})"


def time_unit(span: float) -> tuple[str, float]:
    """(unit, ns per unit) for times up to ``span`` ns."""
    if span < 10_000:
        return "ns", 1.0
    if span < 10_000_000:
        return "us", 1e3
    if span < 10_000_000_000:
        return "ms", 1e6
    return "s", 1e9


def _span(view: _View, before: int, after: int) -> tuple[float, float]:
    """The culprit's neighbourhood in time, for a cut window: from the invocation of the
    ``before``-th call invoked before the culprit to that of the ``after``-th call invoked after
    it returned (the window's ends when there are fewer).  The calls in flight at any time in
    it are the ones shown."""
    anchor = view.culprit
    if anchor is None:
        anchor = view.steps[-1] if view.steps else max(view.calls, key=lambda c: c.invoke)
    invokes = sorted(c.invoke for c in view.calls)
    earlier = [t for t in invokes if t < anchor.invoke]
    lo = earlier[-min(before, len(earlier))] if before and earlier else anchor.invoke
    done = anchor.end(view.t_end)
    later = [t for t in invokes if t > done]
    hi = later[min(after, len(later)) - 1] if after and later else done
    return lo, hi


def _meets(c: _Call, lo: float, hi: float) -> bool:
    return c.invoke <= hi and c.end(math.inf) >= lo


# ---- text ----------------------------------------------------------------------------------------


def _summary(verdict: Verdict) -> str:
    if verdict.status == "ok":
        final = verdict.counts[-1] if verdict.counts else verdict.initial
        return (
            f"ok: linearizable, {len(verdict.order)} operations from count {verdict.initial} "
            f"to {final}"
        )
    if verdict.status == "unknown":
        return f"unknown: {verdict.reason or 'the checker could not decide'}"
    return f"{verdict.status}: {verdict.reason}"


class _Clock:
    """Formats times (ns since the window's first invocation) in one unit, with as few
    decimals (up to 3) as show every time of the window exactly."""

    def __init__(self, view: _View) -> None:
        self.unit, self.scale = time_unit(view.t_end - view.t0)
        rel = {c.invoke - view.t0 for c in view.calls}
        rel |= {c.op.ret - view.t0 for c in view.calls if c.op.ret is not None}
        self.decimals = 0
        step = int(self.scale)
        while self.decimals < 3 and any(t % step for t in rel):
            self.decimals += 1
            step //= 10

    def __call__(self, t: float) -> str:
        return f"{t / self.scale:.{self.decimals}f} {self.unit}"


def render_text(history: History, verdict: Verdict, *, context: int = 2) -> str:
    """The verdict as text, for a terminal or a log.

    For a violation: the headline (the checker's reason); the window as a table of events, one
    column per thread, rows in time order (``invoke acquire(2)``, ``return -> True``; ``[k]``
    after an invocation marks step k of the partial linearization, ``X`` the culprit; pending
    calls last); then the partial linearization, ``k. t<thread> <call> -> <result>   count c``,
    and the culprit, ``X  t1 available() -> 5  cannot take effect at count 2 (...)``.

    A window of more than 20 calls is cut to the culprit's neighbourhood in time: from the
    invocation of the call ``context`` x (number of threads) calls (30 at most) before the
    culprit's invocation to that of the ``context``-th call after its return.  The calls in
    flight then are shown, whole; the rows and steps left out are counted where they were.

    For an 'ok' verdict, one summary line; for 'unknown', one line with the reason.
    """
    if verdict.status != "violation":
        return _summary(verdict)
    view = _view(history, verdict)
    lines = [f"linearizability violation: {verdict.reason or 'no linearization'}"]
    if not view.calls:
        return lines[0]
    clock = _Clock(view)
    context = max(context, 0)
    shown = {c.index for c in view.calls}
    before = min(context * len(view.threads), _TEXT_LIMIT)
    if len(view.calls) > _TEXT_FULL:
        lo, hi = _span(view, before, context)
        shown = {c.index for c in view.calls if _meets(c, lo, hi)}
    first, last = view.calls[0].index, max(c.index for c in view.calls)
    where = f"history #{first}" if first == last else f"history #{first}..#{last}"
    lines.append(
        f"window: {_plural(len(view.calls), 'call')} on {_plural(len(view.threads), 'thread')} "
        f"({where}), "
        f"{clock(view.t_end - view.t0)} long; count {view.start_count} at its "
        f"start (initial {verdict.initial})"
    )
    if len(shown) < len(view.calls):
        lines.append(
            f"showing the {len(shown)} calls in flight from {before} calls before the "
            f"culprit to {context} after it"
        )
    lines.append("")
    lines += _table(view, shown, clock)
    lines.append("")
    lines += _steps(view, shown)
    return "\n".join(lines)


def _table(view: _View, shown: set[int], clock: _Clock) -> list[str]:
    column = {t: k for k, t in enumerate(view.threads)}
    culprit = view.culprit.index if view.culprit else None
    # (time, order, call index, column, cell): at one instant, returns come before invocations
    # (they are concurrent, so either order is right), but a call's own invocation first
    events: list[tuple[float, int, int, int, str]] = []
    for c in view.calls:
        mark = (f" [{c.step}]" if c.step else "") + (" X" if c.index == culprit else "")
        col = column[c.thread]
        events.append((c.invoke, 1, c.index, col, f"invoke {c.text}{mark}"))
        if c.op.ret is None:
            events.append((math.inf, 3, c.index, col, "pending (never returned)"))
        else:
            order = 2 if c.op.ret == c.invoke else 0
            events.append((c.op.ret, order, c.index, col, f"return -> {c.result}"))
    events.sort()
    rows: list[tuple[str, list[str]] | int] = []  # a row, or how many rows were elided
    for time, _, index, col, cell in events:
        if index not in shown:
            if rows and isinstance(rows[-1], int):
                rows[-1] += 1
            else:
                rows.append(1)
            continue
        cells = [""] * len(view.threads)
        cells[col] = cell
        rows.append(("-" if time == math.inf else clock(time - view.t0), cells))
    heads = [f"t{t}" for t in view.threads]
    widths = [len(h) for h in heads]
    time_width = len("time")
    for row in rows:
        if isinstance(row, tuple):
            time_width = max(time_width, len(row[0]))
            widths = [max(w, len(cell)) for w, cell in zip(widths, row[1], strict=True)]

    def line(time: str, cells: list[str]) -> str:
        body = "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True))
        return f"  {time.rjust(time_width)}  {body}".rstrip()

    out = [line("time", heads)]
    for row in rows:
        if isinstance(row, int):
            out.append(f"  {'...'.rjust(time_width)}  ({_plural(row, 'row')} elided)")
        else:
            out.append(line(*row))
    return out


def _plural(k: int, what: str) -> str:
    return f"{k} {what}" if k == 1 else f"{k} {what}s"


def _steps(view: _View, shown: set[int]) -> list[str]:
    head = f"longest partial linearization ({_plural(len(view.steps), 'step')} in the window"
    if view.before:
        head += f", after {view.before} linearized before it"
    out = [head + f"; count {view.start_count} at the window start):"]
    width = max([len(c.line) for c in view.steps if c.index in shown] + [0])
    if view.culprit is not None:
        width = max(width, len(view.culprit.line))
    digits = len(str(len(view.steps))) if view.steps else 1
    elided = 0
    for c in view.steps:
        if c.index not in shown:
            elided += 1
            continue
        if elided:
            out.append(f"  {'...'.rjust(digits + 1)} ({_plural(elided, 'step')} elided)")
            elided = 0
        count = "?" if c.count is None else c.count
        out.append(f"  {f'{c.step}.'.rjust(digits + 1)} {c.line.ljust(width)}   count {count}")
    if elided:
        out.append(f"  {'...'.rjust(digits + 1)} ({_plural(elided, 'step')} elided)")
    if view.culprit is not None:
        out.append(
            f"X {''.rjust(digits + 1)} {view.culprit.line.ljust(width)}   "
            f"{_why(view.culprit, view.culprit_count)}"
        )
    else:
        out.append("X  no call could be placed next")
    return out


# ---- picture -------------------------------------------------------------------------------------

_BLUE = "#4C78A8"  # linearized
_GREY = "#C9CED6"  # not linearized
_RED = "#D62728"  # the culprit
_EDGE = {_BLUE: "#2F4B6E", _GREY: "#8A919C", _RED: "#7A1010"}


def _marks(steps: list[_Call], right: float, gap: float) -> list[float]:
    """Linearization points for the steps, in order, each inside its call's interval.

    The earliest consistent point of step k is ``a_k = max(invoke_j, j <= k)``, the latest
    ``b_k = min(return_j, j >= k)`` (a pending call's return is ``right``, the plot's edge);
    ``a_k <= b_k`` because the order respects real time, and both grow with k.  Step k's mark
    is the midpoint of ``[a_k, b_k]``, moved right to ``gap`` after the previous mark when it
    would not otherwise follow it, but never past ``b_k``: inside the interval, and
    nondecreasing along the order (strictly where the intervals leave room), so the marks read
    left to right as the steps do.
    """
    early, late = [], []
    t = -math.inf
    for c in steps:
        t = max(t, c.invoke)
        early.append(t)
    t = math.inf
    for c in reversed(steps):
        t = min(t, c.end(right))
        late.append(t)
    late.reverse()
    marks: list[float] = []
    for a, b in zip(early, late, strict=True):
        b = max(a, b)
        mark = (a + b) / 2
        if marks:
            mark = min(max(mark, marks[-1] + gap), b)
        marks.append(mark)
    return marks


def render_png(
    history: History, verdict: Verdict, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Draws a violation's window as a PNG at ``path`` (written over) and returns the path.

    One lane per thread; each call a bar from its invocation to its return, labelled above
    with the call and its result: blue when it is in the partial linearization, grey when it
    was not placed, red for the culprit; a pending call is hatched and runs on to the right
    edge, where an arrow points on.  A black diamond on a bar is the call's linearization
    point, labelled below ``k: c=N`` (step k of the partial linearization, the count N after
    it), placed as :func:`_marks` says; a white ``X`` on the culprit, midway between the last
    diamond (or its invocation, when later) and its return, gives the count it could not take
    effect at.  The title names the culprit (or is
    ``title``), the subtitle is the checker's reason, and a grey line gives the window's size
    and the count at its start.  The time axis starts at the window's first invocation.

    A window of more than 60 calls is cut to the culprit's neighbourhood: the time from the
    invocation of the 40th call invoked before the culprit to that of the 6th invoked after it
    returned, and the calls in flight then; a call running past the shown time has an arrow at
    that edge, and the grey line says how many calls are shown.

    Deterministic (the same verdict gives the same bytes); draws through Agg, without pyplot,
    so nothing is displayed and no global state changes.  Raises ValueError for a verdict
    that is not a violation.
    """
    if verdict.status != "violation":
        raise ValueError(f"nothing to draw: {_summary(verdict)}")
    view = _view(history, verdict)
    if not view.calls:
        raise ValueError(f"nothing to draw: the violation names no operations ({verdict.reason})")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    # ---- what to draw, and the time it spans
    cut = len(view.calls) > _PNG_FULL
    lo: float = view.t0
    hi: float = view.t_end
    if cut:
        lo, hi = _span(view, _PNG_BEFORE, _PNG_AFTER)
    drawn = sorted((c for c in view.calls if _meets(c, lo, hi)), key=lambda c: (c.invoke, c.index))
    returns = [c.op.ret for c in drawn if c.op.ret is not None]
    edge = max([hi, *returns])
    if cut:  # a call running long after the neighbourhood is cut at its edge
        edge = min(edge, hi + 0.3 * max(hi - lo, 1))
    span = max(edge - lo, 1)
    runs_on = [c for c in drawn if c.op.ret is None or c.op.ret > edge]
    began = [c for c in drawn if c.invoke < lo]  # only when cut
    right = edge + 0.12 * span if runs_on else edge  # where pending and cut calls end
    pad = 0.03 * span
    lanes = sorted({c.thread for c in drawn})
    lane_of = {t: k for k, t in enumerate(lanes)}
    unit, scale = time_unit(right + pad - view.t0)
    culprit = view.culprit.index if view.culprit else None
    colors = [_RED if c.index == culprit else _BLUE if c.step else _GREY for c in drawn]

    # ---- layout, in inches
    per_lane = max(sum(1 for c in drawn if c.thread == t) for t in lanes)
    width = min(20.0, max(10.0, 3.0 + 1.1 * per_lane))
    reason = textwrap.wrap(verdict.reason or "no linearization", int((width - 0.8) * 72 / 5.6))
    names = {
        _BLUE: "in the partial linearization",
        _GREY: "not placed",
        _RED: "culprit: cannot be placed next",
    }
    handles: list[Any] = [
        Patch(facecolor=k, edgecolor=_EDGE[k], label=name)
        for k, name in names.items()
        if k in colors
    ]
    if any(c.op.ret is None for c in drawn):
        handles.append(Patch(facecolor="white", edgecolor="#555555", hatch="///", label="pending"))
    if began or len(runs_on) > sum(c.op.ret is None for c in drawn):
        handles.append(
            Line2D(
                [], [], marker=">", linestyle="", color="#555555", label="runs past the shown time"
            )
        )
    handles.append(
        Line2D(
            [],
            [],
            marker="D",
            linestyle="",
            color="black",
            markeredgecolor="white",
            markersize=6,
            label="linearization point, k: c=N = step k, count N after it",
        )
    )
    legend_rows = 1 if len(handles) <= 4 or (width >= 15 and len(handles) <= 5) else 2
    head_h = 0.62 + 0.17 * len(reason) + 0.28  # title, reason lines, info line
    foot_h = 0.55 + 0.22 * legend_rows  # tick labels and axis label, legend
    lane_h = 1.15
    height = head_h + foot_h + 0.2 + lane_h * (len(lanes) + 0.15)
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    left_in, right_in = 0.75, 0.25
    fig.subplots_adjust(
        left=left_in / width,
        right=1 - right_in / width,
        top=1 - (head_h + 0.1) / height,
        bottom=foot_h / height,
    )
    ax = fig.add_subplot()

    def x(t: float) -> float:
        return (t - view.t0) / scale

    x_lo, x_hi = x(lo - pad), x(right + pad)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(len(lanes) - 0.5, -0.65)
    ax.set_yticks(range(len(lanes)), [f"t{t}" for t in lanes])
    ax.ticklabel_format(axis="x", style="plain", useOffset=False)
    ax.set_xlabel(f"time since the window's first invocation ({unit.replace('us', 'µs')})")
    ax.set_ylabel("thread")
    ax.grid(axis="x", color="#EEEEEE", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    # ---- bars
    bar_h = 0.24
    least = (x_hi - x_lo) * 0.003  # zero-length calls stay visible, centred on their instant
    starts, widths = [], []
    for c in drawn:
        start, end = x(c.invoke), x(min(c.end(right), right))
        grow = max(least - (end - start), 0.0)
        starts.append(start - grow / 2)
        widths.append(end - start + grow)
    ys = [lane_of[c.thread] for c in drawn]
    ax.barh(
        ys,
        widths,
        left=starts,
        height=bar_h,
        color=["white" if c.op.ret is None else k for c, k in zip(drawn, colors, strict=True)],
        edgecolor=[_EDGE[k] for k in colors],
        linewidth=[1.6 if c.index == culprit else 0.8 for c in drawn],
        zorder=2,
    )
    for c, k, y, start, w in zip(drawn, colors, ys, starts, widths, strict=True):
        if c.op.ret is None:  # hatched in its colour
            ax.barh(
                y,
                w,
                left=start,
                height=bar_h,
                color="none",
                edgecolor=k,
                hatch="///",
                linewidth=0,
                zorder=2,
            )
    # arrows where bars run past the picture's edges
    for calls, at, marker in ((runs_on, x(right), ">"), (began, x_lo, "<")):
        if calls:
            ax.plot(
                [at] * len(calls),
                [lane_of[c.thread] for c in calls],
                linestyle="",
                marker=marker,
                markersize=9,
                color="#555555",
                zorder=3,
                clip_on=False,
            )

    # ---- labels: call and result above each bar, step and count below it, each on the first
    # of a few rows where it does not overlap the label before (they are placed left to right)
    per_char = (x_hi - x_lo) / ((width - left_in - right_in) * 72) * 0.6  # per point of size
    above: dict[int, list[float]] = {y: [-math.inf] * 3 for y in lane_of.values()}
    below: dict[int, list[float]] = {y: [-math.inf] * 2 for y in lane_of.values()}
    unit_pts = 72 * lane_h  # points per lane

    def place(rows: list[float], start: float, end: float) -> int:
        for k, taken in enumerate(rows):
            if taken <= start:
                rows[k] = end
                return k
        k = min(range(len(rows)), key=rows.__getitem__)
        rows[k] = max(rows[k], end)
        return k

    for c, y in zip(drawn, ys, strict=True):
        start = max(x(c.invoke), x_lo)
        label = f"{c.text} → {c.result}"
        level = place(above[y], start, start + per_char * 8 * (len(label) + 1))
        is_culprit = c.index == culprit
        ax.text(
            start,
            y - bar_h / 2 - 0.03 - level * 11 / unit_pts,
            label,
            fontsize=8,
            fontweight="bold" if is_culprit else "normal",
            color=_RED if is_culprit else "#222222",
            ha="left",
            va="bottom",
            zorder=4,
            clip_on=True,
        )

    def below_label(y: int, t: float, text: str, **style: Any) -> None:
        half = per_char * 7.5 * (len(text) + 1) / 2
        level = place(below[y], x(t) - half, x(t) + half)
        ax.text(
            x(t),
            y + bar_h / 2 + 0.03 + level * 10 / unit_pts,
            text,
            fontsize=7.5,
            ha="center",
            va="top",
            clip_on=True,
            **style,
        )

    # ---- linearization points, and where the culprit could not go
    marks = _marks(view.steps, right, span * 0.03)
    on_lane = {c.index for c in drawn}
    points = [
        (c, t)
        for c, t in zip(view.steps, marks, strict=True)
        if c.index in on_lane and lo - pad <= t <= right + pad
    ]
    ax.plot(
        [x(t) for _, t in points],
        [lane_of[c.thread] for c, _ in points],
        linestyle="",
        marker="D",
        markersize=6,
        color="black",
        markeredgecolor="white",
        zorder=5,
    )
    for c, t in points:
        count = "?" if c.count is None else c.count
        below_label(lane_of[c.thread], t, f"{c.step}: c={count}", zorder=5)
    if view.culprit is not None and view.culprit.index in on_lane:
        c = view.culprit
        # midway through what is left of its interval after the last step
        after = min(max(c.invoke, marks[-1]) if marks else c.invoke, c.end(right))
        t = (after + min(c.end(right), right)) / 2
        y = lane_of[c.thread]
        ax.plot(
            [x(t)],
            [y],
            marker="X",
            markersize=11,
            color="white",
            markeredgecolor=_EDGE[_RED],
            zorder=6,
        )
        below_label(
            y,
            t,
            f"cannot take effect at c={view.culprit_count}",
            color=_RED,
            fontweight="bold",
            zorder=6,
        )

    # ---- title, reason, size; legend
    head = title or (
        f"Linearizability violation: t{view.culprit.thread} {view.culprit.text} → "
        f"{view.culprit.result}"
        if view.culprit
        else "Linearizability violation"
    )
    x0 = left_in / width
    fig.text(x0, 1 - 0.2 / height, head, fontsize=13, fontweight="bold", va="top")
    fig.text(x0, 1 - 0.55 / height, "\n".join(reason), fontsize=9.5, color=_RED, va="top")
    info = (
        f"window: {_plural(len(view.calls), 'call')} on {_plural(len(view.threads), 'thread')}, "
        f"count {view.start_count} at its start (initial {verdict.initial})"
    )
    if view.before:
        info += f", {view.before} operations linearized before it"
    if cut:
        info += (
            f"; showing the {len(drawn)} calls in flight from {_PNG_BEFORE} calls before "
            f"the culprit to {_PNG_AFTER} after it"
        )
    fig.text(
        x0, 1 - (0.6 + 0.17 * len(reason)) / height, info, fontsize=8.5, color="#555555", va="top"
    )
    fig.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=math.ceil(len(handles) / legend_rows),
        fontsize=8,
        frameon=False,
        handlelength=1.6,
        columnspacing=1.6,
    )
    out = Path(path)
    fig.savefig(out, format="png", metadata={"Software": None})
    return out
