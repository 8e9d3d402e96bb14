"""The comparative report (``semharness report``, ``semharness.report``).

tests/data/results_small.json is a real run, trimmed: its pieces come from ``semharness stress
futex64 textbook --threads 1,2,4 --seconds 0.2`` (a mix with short timeouts, so that timed tries
time out), ``semharness stress buggy-if-not-while`` (a linearizability failure), ``semharness
check buggy-notify-one buggy-if-not-while futex64 --json`` (battery and model checking: lost
wake-ups and linearizability violations, with the failing runs' calls), ``semharness selftest
buggy-notify-one buggy-if-not-while futex64 --json`` and the peer suite of futex64, textbook,
posix_sem and buggy-notify-one (``--quick``), assembled into the results schema with curves,
progress points and scenario lists cut down.
"""

from __future__ import annotations

import argparse
import base64
import copy
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from semharness.errors import UsageError
from semharness.report import load_results, write_report
from semharness.report.command import add_report_arguments, cmd_report
from semharness.report.results import is_battery

FIXTURE = Path(__file__).parent / "data" / "results_small.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = ("throughput", "latency_cdf", "wakeup", "overshoot", "fairness", "model_progress")
MODEL_FAILURES = {
    ("buggy-notify-one", "repro-release-n-wakes-n"),
    ("buggy-notify-one", "multiRelease"),
    ("buggy-if-not-while", "repro-release-n-wakes-n"),
    ("buggy-if-not-while", "repro-borrowed-token"),
}


@pytest.fixture(scope="module")
def results() -> dict[str, Any]:
    return load_results(FIXTURE)


@pytest.fixture(scope="module")
def report(results: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The fixture's report, written once for the module's tests."""
    out = tmp_path_factory.mktemp("report")
    return write_report([results], out / "report", out / "ci" / "junit.xml")


def _links(markdown: str) -> list[str]:
    """The relative targets of the Markdown's links and images."""
    return re.findall(r"\]\(([^)\s]+)\)", markdown)


class _Html(HTMLParser):
    """Every tag's attributes, by tag."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _parse_html(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Html()
    parser.feed(text)
    parser.close()
    return parser.tags


def _only_peer(results: dict[str, Any]) -> dict[str, Any]:
    """An interrupted run: only the peer suite finished."""
    partial = {k: v for k, v in results.items() if k not in ("model", "stress", "selftest")}
    return {**partial, "interrupted": True}


# ---- the full report -----------------------------------------------------------------------------


def test_write_report_produces_every_file(report: dict[str, Path]) -> None:
    for name in ("markdown", "html", "figures", "junit", "plots", "traces", *PLOTS):
        assert report[name].exists(), name
    out = report["markdown"].parent
    assert report["junit"] == out.parent / "ci" / "junit.xml"  # its folder was created
    assert {report[name].relative_to(out).parts[0] for name in PLOTS} == {"plots"}
    markdown = report["markdown"].read_text()
    targets = _links(markdown)
    for target in targets:  # every picture and trace it refers to is there, relative
        assert not target.startswith(("/", "http")), target
        assert (out / target).is_file(), target
    for impl, scenario in MODEL_FAILURES:
        trace = f"traces/{impl}-{scenario}.txt"
        assert trace in targets
        text = (out / trace).read_text()
        assert "step |" in text and f"implementation: {impl}" in text  # the minimised trace
    assert "traces/buggy-if-not-while-stress-2threads.txt" in targets
    pictures = sorted(p.name for p in (out / "plots" / "failures").iterdir())
    assert pictures == sorted(f"{impl}-{scenario}.png" for impl, scenario in MODEL_FAILURES)
    # the when and where, and the command that reproduces the run
    assert "semharness run futex64 textbook posix_sem" in markdown
    assert "testhost" in markdown and "0.5 → 1.9" in markdown


def test_summary_fail_cells_link_their_traces(report: dict[str, Path]) -> None:
    markdown = report["markdown"].read_text()
    row = next(line for line in markdown.splitlines() if line.startswith("| buggy-notify-one |"))
    assert "**FAIL**" in row
    assert "(traces/buggy-notify-one-repro-release-n-wakes-n.txt)" in row
    assert "(traces/buggy-notify-one-peer-multiRelease.txt)" in row
    futex = next(line for line in markdown.splitlines() if line.startswith("| futex64 |"))
    assert "FAIL" not in futex and "traces/" not in futex


def test_html_is_one_self_contained_file(report: dict[str, Path]) -> None:
    text = report["html"].read_text()
    tags = _parse_html(text)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "link", "iframe", "object", "embed"}
    assert not re.search(r"(src|href)\s*=\s*[\"']?\s*(https?:)?//", text, re.IGNORECASE)
    assert "url(" not in text  # nothing fetched from the CSS either
    images = [attrs["src"] for tag, attrs in tags if tag == "img"]
    markdown_images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report["markdown"].read_text())
    assert len(images) == len(markdown_images) >= len(PLOTS) + len(MODEL_FAILURES)
    out = report["markdown"].parent
    for src, path in zip(images, markdown_images, strict=True):
        assert src and src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == (out / path).read_bytes()
    ids = {attrs["id"] for _, attrs in tags if attrs.get("id")}
    hrefs = [attrs["href"] for tag, attrs in tags if tag == "a"]
    assert hrefs and all(h and h.startswith("#") and h[1:] in ids for h in hrefs)
    # the traces are embedded where the links jump
    assert "notify Condition" in text and text.count("<details") == len(
        json.loads(report["figures"].read_text())["failures"]
    )


def test_every_png_decodes(report: dict[str, Path]) -> None:
    from PIL import Image

    pngs = sorted((report["markdown"].parent / "plots").rglob("*.png"))
    assert len(pngs) == len(PLOTS) + len(MODEL_FAILURES)
    for path in pngs:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 8_000, path.name
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG" and min(img.size) >= 300, (path.name, img.size)


def test_junit_xml_has_the_failures(report: dict[str, Path]) -> None:
    root = ET.parse(report["junit"]).getroot()
    assert root.tag == "testsuites"
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"peer", "model", "stress", "selftest"}
    cases = {
        (s, c.get("classname"), c.get("name")): c
        for s, suite in suites.items()
        for c in suite.findall("testcase")
    }
    for impl, scenario in MODEL_FAILURES:
        failure = cases["model", impl, scenario].find("failure")
        assert failure is not None and failure.get("message")
        assert "step |" in (failure.text or "")  # the trace
    lost = cases["model", "buggy-notify-one", "repro-release-n-wakes-n"].find("failure")
    assert lost is not None and lost.get("type") == "lost wake-up"
    assert cases["peer", "buggy-if-not-while", "timeout-positive"].find("failure") is not None
    assert cases["stress", "buggy-if-not-while", "2 threads"].find("failure") is not None
    assert cases["model", "posix_sem", "model checking"].find("skipped") is not None
    assert cases["peer", "posix_sem", "acquire-b"].find("skipped") is not None
    assert cases["model", "futex64", "standard"].find("failure") is None
    assert cases["selftest", "buggy-notify-one", "selftest"].find("failure") is None  # caught
    failures = sum(int(s.get("failures", "0")) for s in suites.values())
    assert failures == int(root.get("failures", "-1")) == 8
    assert sum(int(s.get("tests", "0")) for s in suites.values()) == int(root.get("tests", "-1"))


def test_figures_json_has_every_figure(report: dict[str, Path]) -> None:
    figures = json.loads(report["figures"].read_text())
    assert figures["format"] == "semharness-report-figures"
    summary = {row["impl"]: row["cells"] for row in figures["summary"]["rows"]}
    assert list(summary) == [
        "futex64",
        "textbook",
        "posix_sem",
        "buggy-notify-one",
        "buggy-if-not-while",
    ]
    assert {cell["status"] for cell in summary["futex64"].values()} == {"pass"}
    assert summary["posix_sem"]["model"]["status"] == "skip"
    assert summary["textbook"]["selftest"]["status"] is None  # not run
    notify = summary["buggy-notify-one"]
    assert notify["model"]["status"] == "FAIL" and notify["battery"]["status"] == "pass"
    assert {f["trace"] for f in notify["model"]["failures"]} == {
        "traces/buggy-notify-one-repro-release-n-wakes-n.txt",
        "traces/buggy-notify-one-multiRelease.txt",
    }
    assert summary["buggy-if-not-while"]["battery"]["status"] == "FAIL"
    assert summary["buggy-if-not-while"]["selftest"]["status"] == "pass"  # caught
    stress = figures["stress"]
    assert stress["chosen_threads"] == 2  # futex64 ran 1, 2, 4; the others 1, 2 or 2
    assert {(r["series"], r["threads"]) for r in stress["throughput"]} == {
        ("futex64", 1),
        ("futex64", 2),
        ("futex64", 4),
        ("textbook", 1),
        ("textbook", 2),
        ("buggy-if-not-while", 2),
    }
    assert all(r["ops_per_s"] > 0 for r in stress["throughput"])
    assert {s["threads"] for s in stress["latency_cdf"].values()} == {2}
    assert {"p50", "p99", "max"} <= set(stress["latency_percentiles"][0])
    plotted = {r["series"]: r["threads"] for r in stress["overshoot"] if r["plotted"]}
    assert plotted == {"futex64": 4, "textbook": 2}  # futex64 timed out only at 4 threads
    fairness = {r["series"]: r for r in stress["fairness"]}
    assert fairness["futex64"]["threads"] == 2 and 0.9 < fairness["futex64"]["jain_index"] <= 1
    model = {r["impl"]: r for r in figures["model"]}
    assert model["futex64"]["passed"] == 4 and model["futex64"]["schedules"] == 4000
    assert model["posix_sem"]["skipped"]
    assert len(model["buggy-if-not-while"]["failures"]) == 2
    selftest = {r["impl"]: r for r in figures["selftest"]}
    assert list(selftest) == ["futex64", "buggy-notify-one", "buggy-if-not-while"]  # as listed
    assert selftest["buggy-notify-one"]["trace_steps"] == 18
    assert selftest["buggy-notify-one"]["caught"] and not selftest["futex64"]["caught"]
    assert set(figures["plots"]) == set(PLOTS)
    pictures = {(f["impl"], f["name"]) for f in figures["failures"] if f["picture"]}
    assert pictures == MODEL_FAILURES


def test_failure_pictures_linearizability_vs_timeline(
    results: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A linearizability violation is drawn by violation.render_png; a lost wake-up (whose
    history linearizes) as a timeline."""
    import semharness.violation
    from semharness.report.figures import collect_failures
    from semharness.report.plots import draw_failure
    from semharness.report.results import make_runs

    drawn_by_checker: list[str] = []
    real = semharness.violation.render_png

    def spy(history: Any, verdict: Any, path: Any, **kw: Any) -> Path:
        drawn_by_checker.append(Path(path).stem)
        return real(history, verdict, path, **kw)

    monkeypatch.setattr(semharness.violation, "render_png", spy)
    failures = [f for f in collect_failures(make_runs([results])) if f.check == "model"]
    for f in failures:
        assert draw_failure(f, tmp_path / f"{f.impl}-{f.name}.png")
        assert (tmp_path / f"{f.impl}-{f.name}.png").read_bytes().startswith(PNG_SIGNATURE)
    assert sorted(drawn_by_checker) == [
        "buggy-if-not-while-repro-borrowed-token",
        "buggy-if-not-while-repro-release-n-wakes-n",
    ]
    f = failures[0]
    f.history = [["not", "a", "row"]]
    assert not draw_failure(f, tmp_path / "bad.png")  # unreadable calls: no picture, no crash


def test_failure_pictures_check_linearizability_once_in_the_judges_reading(
    results: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model failure as semharness run records it now carries its run's outcome: a
    linearizability failure is checked once, in the judge's reading of its calls.  Any other
    failure is not checked at all, with or without the outcome (older results files)."""
    import semharness.linearizability
    from semharness.model.executors import executor_factory
    from semharness.model.programs import default_scenarios
    from semharness.model.runner import Settings, check_scenario
    from semharness.model.session import _failure_json
    from semharness.registry import resolve
    from semharness.report.figures import collect_failures
    from semharness.report.plots import draw_failure
    from semharness.report.results import make_runs

    checked: list[int] = []
    real = semharness.linearizability.check_history

    def spy(history: Any, *args: Any, **kw: Any) -> Any:
        checked.append(len(history))
        return real(history, *args, **kw)

    impl = resolve("buggy-if-not-while")
    scenario = {s.name: s for s in default_scenarios()}["repro-barging"]
    found = check_scenario(executor_factory(impl), scenario, Settings(seed=0)).failure
    assert found is not None and found.check == "linearizability"
    recorded = _failure_json(found, impl.name, impl, None)
    monkeypatch.setattr(semharness.linearizability, "check_history", spy)
    assert recorded["outcome"] == found.record.outcome
    fresh = copy.deepcopy(results)
    outcome = {"scenario": scenario.name, "status": "fail", "failure": recorded}
    fresh["model"] = {impl.name: {"outcomes": [outcome]}}
    [failure] = [f for f in collect_failures(make_runs([fresh])) if f.check == "model"]
    assert failure.outcome == found.record.outcome
    assert draw_failure(failure, tmp_path / "fresh.png")
    assert len(checked) == 1
    checked.clear()
    others = [f for f in collect_failures(make_runs([results])) if f.kind == "lost wake-up"]
    assert others and all(f.outcome is None for f in others)
    for f in others:
        assert draw_failure(f, tmp_path / f"{f.impl}-{f.name}.png")  # the timeline
    assert checked == []


def test_fairness_bars_are_labelled_with_the_thread_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Threads that only release are not in the acquisitions: the bars carry the threads'
    own numbers, not their positions, and one thread's bars share a slot across series."""
    from semharness.report import plots

    drawn: list[Any] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: drawn.append(fig))
    row = {"threads": 4, "jain_index": None, "series": "a"}
    stress = {
        "chosen_threads": 4,
        "fairness": [
            {**row, "acquisitions": {"1": 5, "2": 5, "3": 5}},
            {**row, "series": "b", "acquisitions": {"2": 5, "10": 5}},
        ],
    }
    assert plots.plot_fairness(stress, {"a": "red", "b": "blue"}, tmp_path / "f.png")
    [ax] = drawn[0].axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["t1", "t2", "t3", "t10"]
    slots = sorted(round(p.get_x() + p.get_width() / 2) for p in ax.patches)
    assert slots == [0, 1, 1, 2, 3]


# ---- several runs, partial runs ------------------------------------------------------------------


def test_two_runs_side_by_side(results: dict[str, Any], tmp_path: Path) -> None:
    other = copy.deepcopy(results)
    other["machine"]["hostname"] = "otherhost"
    other["started"] = "2026-11-28T09:15:00+00:00"
    del other["selftest"]
    paths = write_report([results, other], tmp_path / "two", tmp_path / "junit.xml")
    first, second = "testhost 2026-11-27 22:30 UTC", "otherhost 2026-11-28 09:15 UTC"
    figures = json.loads(paths["figures"].read_text())
    assert [r["label"] for r in figures["runs"]] == [first, second]
    rows = figures["summary"]["rows"]
    assert [(r["impl"], r["run"]) for r in rows[:4]] == [
        ("futex64", first),
        ("futex64", second),  # an implementation's runs next to each other
        ("textbook", first),
        ("textbook", second),
    ]
    assert len(rows) == 10
    assert f"futex64 @ {second}" in {r["series"] for r in figures["stress"]["throughput"]}
    markdown = paths["markdown"].read_text()
    assert f"### {first}" in markdown and f"### {second}" in markdown
    assert "| implementation | run |" in markdown
    traces = [f["trace"] for f in figures["failures"]]
    assert len(traces) == len(set(traces)) == 2 * 8  # every failure of each run, apart
    assert "traces/buggy-notify-one-repro-release-n-wakes-n-2.txt" in traces
    for target in _links(markdown):
        assert (paths["markdown"].parent / target).is_file(), target
    suites = [s.get("name") for s in ET.parse(paths["junit"]).getroot().findall("testsuite")]
    assert f"peer [{first}]" in suites and f"model [{second}]" in suites
    assert len(suites) == 7


def test_same_machine_and_time_get_distinct_labels(results: dict[str, Any], tmp_path: Path) -> None:
    only = _only_peer(results)
    paths = write_report([only, only], tmp_path / "same")
    labels = [r["label"] for r in json.loads(paths["figures"].read_text())["runs"]]
    assert labels == ["testhost 2026-11-27 22:30 UTC", "testhost 2026-11-27 22:30 UTC #2"]


def test_partial_results_only_peer(results: dict[str, Any], tmp_path: Path) -> None:
    paths = write_report([_only_peer(results)], tmp_path / "peer", tmp_path / "j.xml")
    assert not any(name in paths for name in PLOTS)
    markdown = paths["markdown"].read_text()
    assert "not in this results file: model, stress, selftest" in markdown
    assert "interrupted" in markdown
    assert "## Stress" not in markdown and "## Model checking" not in markdown
    figures = json.loads(paths["figures"].read_text())
    assert figures["stress"]["throughput"] == [] and figures["model"] == []
    cells = {r["impl"]: r["cells"] for r in figures["summary"]["rows"]}
    assert cells["buggy-notify-one"]["peer"]["status"] == "FAIL"
    assert cells["futex64"]["model"]["status"] is None
    suites = [s.get("name") for s in ET.parse(paths["junit"]).getroot().findall("testsuite")]
    assert suites == ["peer"]
    assert "<img" not in paths["html"].read_text()


def test_partial_results_no_stress(results: dict[str, Any], tmp_path: Path) -> None:
    partial = {k: v for k, v in results.items() if k != "stress"}
    paths = write_report([partial], tmp_path / "nostress")
    assert "model_progress" in paths
    assert not any(name in paths for name in PLOTS if name != "model_progress")
    assert "## Stress" not in paths["markdown"].read_text()


def test_malformed_sections_lose_cells_not_the_report(
    results: dict[str, Any], tmp_path: Path
) -> None:
    """Missing and mistyped keys anywhere below the top level: a report of what is there."""
    bad = copy.deepcopy(results)
    bad["stress"][0]["metrics"] = None
    bad["stress"][1]["metrics"] = {"curves": {"latency": {"acquire": [[0.5], "x", [1, 2]]}}}
    del bad["stress"][2]["metrics"]["fairness"]
    bad["stress"].append({"impl": "futex64"})  # no thread count: left out
    bad["stress"].append("not an entry")
    bad["model"]["futex64"]["outcomes"][0] = {"status": "fail"}  # no failure details
    bad["model"]["buggy-notify-one"]["outcomes"][1]["failure"]["history"] = None
    bad["model"]["textbook"] = {"outcomes": None}
    unfinished = {"scenario": "standard", "status": "unfinished", "runs": 10, "seconds": 0.1}
    bad["model"]["buggy-if-not-while"]["outcomes"] = [unfinished]  # interrupted
    bad["stress"][3]["status"] = "unknown"  # textbook, 1 thread: the checker's budget ran out
    bad["peer"]["results"]["futex64"].append({"scenario": "x"})  # no status
    bad["peer"]["results"]["textbook"] = "nope"
    bad["selftest"]["rows"].append({"impl": "buggy-x"})
    bad["machine"] = {}
    del bad["command"], bad["started"]
    paths = write_report([bad], tmp_path / "bad", tmp_path / "bad.xml")
    figures = json.loads(paths["figures"].read_text())
    cells = {r["impl"]: r["cells"] for r in figures["summary"]["rows"]}
    assert cells["futex64"]["model"]["status"] == "FAIL"
    assert cells["buggy-x"]["selftest"]["status"] == "pass"  # correct (not buggy), not flagged
    assert cells["buggy-if-not-while"]["model"]["status"] == "unfinished"
    assert cells["textbook"]["stress"]["status"] == "unknown"
    assert cells["textbook"]["stress"]["text"] == "unknown at 1 thread; pass at 2 threads"
    junit = ET.parse(paths["junit"]).getroot()
    skipped = {
        (c.get("classname"), c.get("name")): c.find("skipped")
        for c in junit.iter("testcase")
        if c.find("skipped") is not None
    }
    assert "inconclusive" in skipped["textbook", "1 thread"].get("message", "")
    assert skipped["buggy-if-not-while", "standard"].get("message") == "unfinished"
    assert paths["html"].stat().st_size > 0


def test_hand_edited_entries_of_the_wrong_type_read_as_absent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A list or a string where a results file holds something else (a hand edit): the entry
    reads as absent, through the same path as ``semharness report``, never a traceback."""
    bad = json.loads(FIXTURE.read_text())
    for rows in bad["peer"]["results"].values():
        for r in rows:
            r["messages"] = 5
    for entry in bad["model"].values():
        if "outcomes" in entry:
            for o in entry["outcomes"]:
                if isinstance(o.get("failure"), dict):
                    o["failure"]["check"] = 5
    bad["model"]["futex64"]["outcomes"] = 5
    bad["model"]["buggy-notify-one"]["skipped"] = 5
    for e in bad["stress"]:
        e["reasons"] = 5
    for r in bad["selftest"]["rows"]:
        r["check"] = r["scenario"] = 5
    path = tmp_path / "results.json"
    path.write_text(json.dumps(bad))
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    args = argparse.Namespace(results=[str(path)], out=str(out), junit=str(junit))
    assert cmd_report(args) == 0
    capsys.readouterr()
    figures = json.loads((out / "figures.json").read_text())
    cells = {r["impl"]: r["cells"] for r in figures["summary"]["rows"]}
    assert cells["futex64"]["model"]["status"] == "skip"  # no outcomes: nothing ran
    assert cells["buggy-notify-one"]["model"]["status"] == "FAIL"
    assert all(r["check"] is None and r["scenario"] is None for r in figures["selftest"])
    failed = [f for f in figures["failures"] if f["check"] in ("peer", "battery", "stress")]
    assert failed and all(f["message"] == "failed" for f in failed)
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    assert ET.parse(junit).getroot().get("tests")


def test_model_failure_found_at_zero_sits_at_its_scenarios_start() -> None:
    """A failure recorded as found after 0 s and 0 schedules is placed at its scenario's start
    on the progress curve; one that records neither, at its end."""
    from semharness.report.figures import model_figures
    from semharness.report.results import make_runs

    first = {"scenario": "a", "status": "pass", "seconds": 2.0, "runs": 10}
    at_zero = {"found_after_s": 0.0, "found_after_runs": 0, "check": "linearizability"}
    second = {"scenario": "b", "status": "fail", "seconds": 3.0, "runs": 5, "failure": at_zero}
    third = {"scenario": "c", "status": "fail", "seconds": 1.0, "runs": 4, "failure": {}}
    data = {"format": "semharness-results", "version": 1}
    data["model"] = {"x": {"outcomes": [first, second, third]}}
    [row] = model_figures(make_runs([data]), [])
    assert [f["at"] for f in row["failures"]] == [[2.0, 10.0], [6.0, 19.0]]


def test_minimal_results_file(tmp_path: Path) -> None:
    paths = write_report([{"format": "semharness-results", "version": 1}], tmp_path / "min")
    assert {"markdown", "html", "figures"} <= set(paths)
    assert json.loads(paths["figures"].read_text())["summary"]["rows"] == []


# ---- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "not JSON"),
        ('{"format": "semharness-history", "version": 1}', "not a semharness results file"),
        ("[1, 2]", "not a semharness results file"),
        ('{"format": "semharness-results", "version": 2}', "version 2 is not supported"),
        ('{"format": "semharness-results", "version": 1, "stress": {}}', "'stress' is a JSON"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_load_results_rejects_bad_files(
    tmp_path: Path, content: str | bytes, expected: str
) -> None:
    path = tmp_path / "results.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(UsageError) as err:
        load_results(path)
    message = str(err.value)
    assert expected in message and str(path) in message and "\n" not in message


def test_load_results_rejects_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such results file"):
        load_results(tmp_path / "absent.json")
    with pytest.raises(UsageError, match="is a folder"):
        load_results(tmp_path)


def test_write_report_bad_input_and_unwritable_folder(
    results: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="no results"):
        write_report([], tmp_path / "x")
    with pytest.raises(UsageError, match="not a semharness results file"):
        write_report([{"format": "other"}], tmp_path / "x")
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(UsageError, match="cannot create the report folder") as err:
        write_report([_only_peer(results)], blocker / "report")
    assert "\n" not in str(err.value)
    with pytest.raises(UsageError, match="cannot write the report"):
        write_report([_only_peer(results)], tmp_path / "ok", blocker / "junit.xml")


def test_battery_prefixes_name_every_battery_scenario() -> None:
    """The report tells battery scenarios apart by name: a battery case named otherwise would
    be counted with the peer suite."""
    from semharness.scenarios import scenario_set

    names = [s.name for s in scenario_set("battery")]
    assert names and all(is_battery(n) for n in names)
    assert not any(is_battery(s.name) for s in scenario_set("peer"))


# ---- the command ---------------------------------------------------------------------------------


@pytest.fixture
def peer_file(results: dict[str, Any], tmp_path: Path) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_only_peer(results)))
    return path


def test_cmd_report(peer_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_report_arguments(parser)
    out, junit = tmp_path / "out", tmp_path / "junit.xml"
    args = parser.parse_args(
        [str(peer_file), str(peer_file), "--out", str(out), "--junit", str(junit)]
    )
    assert cmd_report(args) == 0
    assert (out / "report.html").is_file() and junit.is_file()
    printed = capsys.readouterr().out
    assert f"html: {out / 'report.html'}" in printed and f"junit: {junit}" in printed
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    with pytest.raises(UsageError):
        cmd_report(argparse.Namespace(results=[str(peer_file), str(bad)], out=str(out), junit=None))


def _cli_has_report() -> bool:
    from semharness.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return "report" in sub.choices


@pytest.mark.skipif(not _cli_has_report(), reason="semharness report is not registered in cli.py")
def test_cli_report(peer_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from semharness.cli import main

    out = tmp_path / "cli"
    assert main(["report", str(peer_file), "--out", str(out)]) == 0
    assert (out / "report.md").is_file()
    capsys.readouterr()
    assert main(["report", str(tmp_path / "absent.json"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no such results file" in err and err.count("\n") == 1
    assert main(["report", str(peer_file)]) == 2  # --out is required


def test_command_module_imports_no_matplotlib() -> None:
    """Building the command line must stay fast: the report's heavy imports wait for a report."""
    code = "import sys, semharness.report.command; print('matplotlib' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
