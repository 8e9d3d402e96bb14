"""The report's pages: one document, written out as Markdown and as a single HTML file.

The content is built once, as a list of blocks (:func:`document`), from the figures; two small
writers turn the blocks into Markdown (:func:`to_markdown`: pictures and traces referenced as
files beside it) and HTML (:func:`to_html`: one self-contained file -- pictures embedded as
base64 data URIs, each trace in a ``<details>`` block that the summary's links jump to, inline
CSS, no script and nothing fetched).  So both pages always say the same thing.
"""

from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .figures import CHECKS, PERCENTILE_KEYS, Failure, found_after
from .fmt import ABSENT, count, duration_ns, kind_title, percent, rate, ratio, seconds

# ---- blocks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    """A reference to a trace file (a file link in Markdown, a jump to its block in HTML)."""

    text: str
    target: str


@dataclass(frozen=True)
class Status:
    """A check's verdict in a table: FAIL and ERROR stand out."""

    text: str


Inline = str | Link | Status
Cell = str | list[Inline]


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    spans: list[Inline]


@dataclass(frozen=True)
class Bullets:
    items: list[list[Inline]]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[Cell]]
    right: frozenset[int] = frozenset()  # columns of numbers, right-aligned


@dataclass(frozen=True)
class Image:
    path: str  # relative to the report folder
    alt: str


@dataclass(frozen=True)
class CodeBlock:
    text: str


@dataclass(frozen=True)
class Trace:
    file: str  # relative to the report folder
    title: str
    text: str


Block = Heading | Para | Bullets | Table | Image | CodeBlock | Trace


# ---- the document --------------------------------------------------------------------------------

_CHECK_TITLES = dict(CHECKS)


def _runs_section(figures: dict[str, Any]) -> list[Block]:
    """When, where and how each run was made: what a reader needs to trust or redo it."""
    runs = figures["runs"]
    several = len(runs) > 1
    out: list[Block] = [Heading(2, "Runs" if several else "Run")]
    for run in runs:
        if several:
            out.append(Heading(3, run["label"]))
        state = "interrupted: only what finished is shown" if run["interrupted"] else "complete"
        when = f"started {run['started'] or 'at an unknown time'}"
        if run["seconds"] is not None:
            when += f", took {run['seconds']:.0f} s"
        missing = [k for k in ("peer", "model", "stress", "selftest") if k not in run["sections"]]
        items: list[list[Inline]] = [[when], [state + ("; a --quick run" if run["quick"] else "")]]
        if missing:
            items.append([f"not in this results file: {', '.join(missing)}"])
        out.append(Bullets(items))
        if run["command"]:
            out += [Para(["The command that reproduces it:"]), CodeBlock(str(run["command"]))]
        m = run["machine"]
        load = [m.get("loadavg_1m_before"), m.get("loadavg_1m_after")]
        fields = [
            ("hostname", m.get("hostname")),
            ("CPUs", m.get("cpus")),
            ("architecture", m.get("machine")),
            ("kernel", m.get("kernel")),
            ("Python", m.get("python")),
            ("GIL", m.get("gil")),
        ]
        if any(x is not None for x in load):
            shown = " → ".join("?" if x is None else str(x) for x in load)
            fields.append(("load (1 min) before → after", shown))
        out.append(Table(["machine", ""], [[k, str(v)] for k, v in fields if v is not None]))
    return out


def _status_cell(cell: dict[str, Any], links: int = 4) -> list[Inline]:
    """A summary cell: the verdict, its detail, and links to the first failures' traces."""
    if cell["status"] is None:
        return [ABSENT]
    spans: list[Inline] = [Status(cell["status"])]
    if cell["text"]:
        spans.append(f" ({cell['text']})")
    failures = cell["failures"]
    for k, f in enumerate(failures[:links]):
        spans += [": " if k == 0 else ", ", Link(f["name"], f["trace"])]
    if len(failures) > links:
        spans.append(f" and {len(failures) - links} more (see Failures)")
    return spans


def _summary_section(figures: dict[str, Any], several: bool) -> list[Block]:
    """The matrix first: a reader sees at a glance what failed, and one click reaches why."""
    summary = figures["summary"]
    checks = summary["checks"]
    header = ["implementation", *(["run"] if several else []), *(c["title"] for c in checks)]
    rows: list[list[Cell]] = []
    for row in summary["rows"]:
        cells = [_status_cell(row["cells"][c["key"]]) for c in checks]
        rows.append([row["impl"], *([row["run"]] if several else []), *cells])
    return [
        Heading(2, "Summary"),
        Table(header, rows),
        Para(
            [
                "pass: every case ran passed; FAIL: at least one failed (each links to its "
                "trace); skip: nothing ran (the implementation lacks what the cases need); "
                "unfinished: interrupted before the end; unknown: the checker ran out of budget; "
                "—: not run. The bad-input battery is the peer suite's badinput-* and timeout-* "
                "cases; selftest: a known-buggy implementation passes when it is caught."
            ]
        ),
    ]


def _selftest_section(figures: dict[str, Any], several: bool) -> list[Block]:
    """The known bugs: the evidence that the checks that passed the others can fail."""
    rows = figures["selftest"]
    if not rows:
        return []
    header = ["implementation", *(["run"] if several else [])]
    header += ["is", "verdict", "found by", "scenario", "time to first failure", "trace steps"]
    body: list[list[Cell]] = []
    for r in rows:
        verdict: list[Inline] = [Status("pass" if r["ok"] else "ERROR" if r["error"] else "FAIL")]
        verdict.append(f": {r['outcome']}")
        body.append(
            [
                r["impl"],
                *([r["run"]] if several else []),
                "buggy" if r["buggy"] else "correct",
                verdict,
                r["check"] or "",
                r["scenario"] or "",
                seconds(r["first_failure_s"]),
                count(r["trace_steps"]),
            ]
        )
    lead = 2 if several else 1
    return [
        Heading(2, "Selftest: the known bugs"),
        Para(
            [
                "Every known-buggy implementation went through the checks every user gets; it "
                "must be caught. Time to first failure: seconds of checking before the first "
                "failure; trace steps: the length of the minimised trace."
            ]
        ),
        Table(header, body, frozenset({lead + 4, lead + 5})),
    ]


def _stress_section(figures: dict[str, Any], plots: dict[str, str]) -> list[Block]:
    """Each stress figure: its plot, then its numbers (plots compare, tables are exact)."""
    stress = figures["stress"]
    if not stress["throughput"]:
        return []
    chosen = stress["chosen_threads"]
    out: list[Block] = [Heading(2, "Stress")]
    if chosen:
        out.append(
            Para(
                [
                    f"Latency distributions and fairness compare the implementations at {chosen} "
                    "threads, the highest thread count every implementation ran."
                ]
            )
        )
    else:
        out.append(
            Para(
                [
                    "The implementations share no thread count: latency and fairness show each "
                    "at its own highest (labelled)."
                ]
            )
        )

    def image(name: str, alt: str) -> list[Block]:
        return [Image(plots[name], alt)] if name in plots else []

    out += [Heading(3, "Throughput and owner changes"), *image("throughput", "throughput")]
    out.append(
        Table(
            ["implementation", "threads", "verdict", "calls/s", "owner-change fraction", "Jain"],
            [
                [
                    r["series"],
                    str(r["threads"]),
                    [Status({"fail": "FAIL"}.get(str(r["status"]), str(r["status"])))],
                    rate(r["ops_per_s"]),
                    percent(r["owner_change_fraction"]),
                    ratio(r["jain_index"]),
                ]
                for r in stress["throughput"]
            ],
            frozenset({1, 3, 4, 5}),
        )
    )
    shown = {name: s["threads"] for name, s in stress["latency_cdf"].items()}
    pct = list(PERCENTILE_KEYS)
    latency = [
        r for r in stress["latency_percentiles"] if shown.get(r["series"], chosen) == r["threads"]
    ]
    out += [Heading(3, "Latency per call kind"), *image("latency_cdf", "latency CDF")]
    if latency:
        out.append(
            Table(
                ["implementation", "threads", "call", "count", *pct],
                [
                    [
                        r["series"],
                        str(r["threads"]),
                        kind_title(r["kind"]),
                        count(r["count"]),
                        *(duration_ns(r[p]) for p in pct),
                    ]
                    for r in latency
                ],
                frozenset({1, 3, *range(4, 4 + len(pct))}),
            )
        )
    wake = [r for r in stress["wakeup"] if r["blocked"] or r["count"]]
    out += [Heading(3, "Wake-up latency"), *image("wakeup", "wake-up latency")]
    if wake:
        out.append(
            Table(
                ["implementation", "threads", "blocked", "measured", "p50", "p99", "max"],
                [
                    [r["series"], str(r["threads"]), count(r["blocked"]), count(r["count"])]
                    + [duration_ns(r[p]) for p in ("p50", "p99", "max")]
                    for r in wake
                ],
                frozenset({1, 2, 3, 4, 5, 6}),
            )
        )
        out.append(
            Para(
                [
                    "Blocked: waits longer than the uncontended call; measured: those with a "
                    "release invoked during the wait (wake-up latency: that release's "
                    "invocation to the waiter's return)."
                ]
            )
        )
    else:
        out.append(Para(["No waiter blocked in these runs."]))
    over = [r for r in stress["overshoot"] if r["failed"]]
    out += [Heading(3, "Timeout overshoot"), *image("overshoot", "timeout overshoot")]
    if over:
        out.append(
            Table(
                ["implementation", "threads", "timed out", "early", "late", "p50", "p99", "max"],
                [
                    [r["series"], str(r["threads"])]
                    + [count(r[k]) for k in ("failed", "early", "late")]
                    + [duration_ns(r[p]) for p in ("p50", "p99", "max")]
                    for r in over
                ],
                frozenset({1, 2, 3, 4, 5, 6, 7}),
            )
        )
        out.append(
            Para(
                [
                    "Overshoot: return - (invocation + timeout) of a timed try that failed; "
                    "early (a violation): it gave up before its deadline; late: beyond 50 ms + "
                    "timeout/20."
                ]
            )
        )
    else:
        out.append(Para(["No timed try timed out in these runs."]))
    if stress["fairness"]:
        out += [Heading(3, "Fairness"), *image("fairness", "acquisitions per thread")]
        out.append(
            Table(
                ["implementation", "threads", "acquisitions per thread", "Jain", "longest wait"],
                [
                    [
                        r["series"],
                        str(r["threads"]),
                        "  ".join(f"t{t} {n:,.0f}" for t, n in r["acquisitions"].items()),
                        ratio(r["jain_index"]),
                        duration_ns(r["longest_wait_ns"]),
                    ]
                    for r in stress["fairness"]
                ],
                frozenset({1, 3, 4}),
            )
        )
    return out


def _model_section(figures: dict[str, Any], plots: dict[str, str], several: bool) -> list[Block]:
    """How much each implementation was model-checked, and what it turned up."""
    rows = figures["model"]
    if not rows:
        return []
    out: list[Block] = [Heading(2, "Model checking")]
    if "model_progress" in plots:
        out.append(Image(plots["model_progress"], "model-checking progress"))
        out.append(
            Para(
                [
                    "The scenarios run interleaved, a slice of schedules each in turn; the plot "
                    "lays them end to end in the order listed. Each X is a failure found "
                    "(numbered, and named in the legend)."
                ]
            )
        )
    header = ["implementation", *(["run"] if several else [])]
    header += ["verdict", "passed", "failed", "unfinished", "skipped", "exhaustive"]
    header += ["schedules", "distinct", "time", "settings"]
    body: list[list[Cell]] = []
    for r in rows:
        lead: list[Cell] = [r["impl"], *([r["run"]] if several else [])]
        if r["skipped"]:
            body.append([*lead, [Status("skip"), f" ({r['skipped']})"], *[""] * 9])
            continue
        verdict = "FAIL" if r["failed"] else "unfinished" if r["unfinished"] else "pass"
        s = r["settings"] or {}
        settings = ", ".join(
            f"{k} {s[k]}" for k in ("strategy", "seed", "schedules") if s.get(k) is not None
        )
        numbers = [r[k] for k in ("passed", "failed", "unfinished", "skipped_scenarios")]
        numbers += [r["exhaustive"], r["schedules"], r["distinct"]]
        body.append(
            [*lead, [Status(verdict)], *map(count, numbers), seconds(r["seconds"]), settings]
        )
    first = 2 if several else 1  # then: verdict, seven counts, time, settings
    out.append(Table(header, body, frozenset(range(first + 1, first + 9))))
    found = [(r, f) for r in rows if not r["skipped"] for f in r["failures"]]
    if found:
        out.append(Heading(3, "Failures found"))
        out.append(
            Table(
                ["implementation", "scenario", "check", "found after", "trace steps", "trace"],
                [
                    [
                        r["series"],
                        f["scenario"],
                        f["check"] or "",
                        found_after(f) or ABSENT,
                        count(f["trace_steps"]),
                        [Link(Path(f["trace"]).name, f["trace"])] if f["trace"] else "",
                    ]
                    for r, f in found
                ],
                frozenset({3, 4}),
            )
        )
    return out


def _failures_section(failures: list[Failure], runs: list[dict[str, Any]]) -> list[Block]:
    """Every failure: its message, its picture, its trace (embedded in the HTML)."""
    if not failures:
        return []
    several = len(runs) > 1
    out: list[Block] = [
        Heading(2, "Failures"),
        Para(["Every failure with its trace; model-checking failures with the failing run drawn."]),
    ]
    for f in failures:
        title = f"{f.impl} · {f.name} ({_CHECK_TITLES.get(f.check, f.check)})"
        if several:
            title += f" · {runs[f.run]['label']}"
        out.append(Heading(3, title))
        out.append(Para([Status("FAIL"), f" ({f.kind}): " if f.kind else ": ", f.message]))
        if f.picture:
            out.append(Image(f.picture, f"{f.impl} {f.name}"))
        out.append(Trace(f.file, Path(f.file).name, f.text))
    return out


def document(
    figures: dict[str, Any], failures: list[Failure], plots: dict[str, str], version: str
) -> list[Block]:
    """The report, as blocks, in reading order."""
    runs = figures["runs"]
    several = len(runs) > 1
    intro = f"semharness {version}: the comparative report of {len(runs)} run"
    intro += "s side by side, each labelled by its machine and start time." if several else "."
    if any(r["interrupted"] for r in runs):
        intro += " Some runs were interrupted: their missing sections are left out."
    return [
        Heading(1, "semharness report"),
        Para([intro]),
        *_runs_section(figures),
        *_summary_section(figures, several),
        *_selftest_section(figures, several),
        *_model_section(figures, plots, several),
        *_stress_section(figures, plots),
        *_failures_section(failures, runs),
    ]


# ---- Markdown ------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _md_text(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _md_inline(spans: Cell) -> str:
    if isinstance(spans, str):
        return _md_text(spans)
    out = []
    for s in spans:
        if isinstance(s, Link):
            out.append(f"[{_md_text(s.text)}]({s.target})")
        elif isinstance(s, Status):
            bad = s.text in ("FAIL", "ERROR")
            out.append(f"**{_md_text(s.text)}**" if bad else _md_text(s.text))
        else:
            out.append(_md_text(s))
    return "".join(out)


def to_markdown(blocks: list[Block]) -> str:
    """The document as Markdown (GitHub flavour: pipe tables), pictures and traces as links."""
    out: list[str] = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append("#" * b.level + " " + _md_text(b.text))
        elif isinstance(b, Para):
            out.append(_md_inline(b.spans))
        elif isinstance(b, Bullets):
            out.append("\n".join("- " + _md_inline(item) for item in b.items))
        elif isinstance(b, Table):
            lines = ["| " + " | ".join(_md_text(h) or " " for h in b.header) + " |"]
            lines.append(
                "|"
                + "|".join("---:" if k in b.right else "---" for k in range(len(b.header)))
                + "|"
            )
            lines += ["| " + " | ".join(_md_inline(c) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif isinstance(b, Image):
            out.append(f"![{_md_text(b.alt)}]({b.path})")
        elif isinstance(b, CodeBlock):
            fence = "```"
            while fence in b.text:
                fence += "`"
            out.append(f"{fence}\n{b.text}\n{fence}")
        elif isinstance(b, Trace):
            out.append(f"Trace: [{_md_text(b.title)}]({b.file})")
    return "\n\n".join(out) + "\n"


# ---- HTML ----------------------------------------------------------------------------------------

_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 1200px; padding: 0 1em; color: #222; line-height: 1.45; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border: 1px solid #d0d4da; padding: .3em .6em; vertical-align: top; text-align: left; }
th { background: #f2f4f7; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.st-FAIL, .st-ERROR { color: #b00020; font-weight: bold; } .st-pass { color: #1a7f37; }
.st-skip { color: #777; } .st-unfinished, .st-unknown { color: #a15c00; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; font-size: .8em; line-height: 1.3; }
details { margin: .5em 0 1.5em; } summary { cursor: pointer; color: #0645ad; }
"""


def trace_anchor(file: str) -> str:
    """The HTML id of a trace's block: its file name, unique within a report and made of
    letters, digits, ``.``, ``_`` and ``-`` (valid in an id)."""
    return "trace-" + Path(file).stem


def _html_inline(spans: Cell) -> str:
    if isinstance(spans, str):
        return html.escape(spans)
    out = []
    for s in spans:
        if isinstance(s, Link):
            out.append(f'<a href="#{trace_anchor(s.target)}">{html.escape(s.text)}</a>')
        elif isinstance(s, Status):
            out.append(f'<span class="st-{html.escape(s.text)}">{html.escape(s.text)}</span>')
        else:
            out.append(html.escape(s))
    return "".join(out)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def to_html(blocks: list[Block], folder: Path, title: str = "semharness report") -> str:
    """The document as one self-contained HTML page; pictures are read from ``folder`` and
    embedded, traces embedded in ``<details>`` blocks (the summary's links jump there)."""
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            out.append(f"<p>{_html_inline(b.spans)}</p>")
        elif isinstance(b, Bullets):
            items = "".join(f"<li>{_html_inline(i)}</li>" for i in b.items)
            out.append(f"<ul>{items}</ul>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.header)
            rows = []
            for row in b.rows:
                cells = "".join(
                    ('<td class="num">' if k in b.right else "<td>") + _html_inline(c) + "</td>"
                    for k, c in enumerate(row)
                )
                rows.append(f"<tr>{cells}</tr>")
            out.append(
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            )
        elif isinstance(b, Image):
            alt = html.escape(b.alt)
            out.append(f'<figure><img alt="{alt}" src="{_data_uri(folder / b.path)}"></figure>')
        elif isinstance(b, CodeBlock):
            out.append(f"<pre>{html.escape(b.text)}</pre>")
        elif isinstance(b, Trace):
            out.append(
                f'<details id="{trace_anchor(b.file)}"><summary>trace: {html.escape(b.title)}'
                f"</summary><pre>{html.escape(b.text)}</pre></details>"
            )
    out.append("</body></html>")
    return "\n".join(out) + "\n"
