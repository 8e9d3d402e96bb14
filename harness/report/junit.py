"""The results as JUnit XML, for CI systems that show test results (Jenkins, GitLab, GitHub).

One ``<testsuite>`` per check kind -- peer (the peer suite and the bad-input battery), model,
stress, selftest -- and per run when several are reported; one ``<testcase>`` per
implementation and case (``classname`` the implementation, ``name`` the scenario, thread count
or "selftest").  A failure carries its message as the attribute and its trace file's text as
the body; a skipped case (or an unfinished or inconclusive one) is ``<skipped>``, a selftest
row the harness could not run is ``<error>``.  Built with ElementTree, so it is well-formed
whatever the messages contain (characters XML 1.0 cannot hold are dropped).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from .figures import Failure, selftest_ok, selftest_text
from .fmt import plural
from .results import Run, dig_list, number

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


#: A failure's type when its check names none.
_KINDS = {"peer": "peer suite", "battery": "bad-input battery"}


def _clean(text: Any) -> str:
    return _NOT_XML.sub("", str(text))


class _Suite:
    """A testsuite being filled, with its counts."""

    def __init__(self, parent: ET.Element, name: str, run: Run) -> None:
        self.element = ET.SubElement(parent, "testsuite", name=name)
        props = ET.SubElement(self.element, "properties")
        for key in ("command", "started"):
            if run.data.get(key):
                ET.SubElement(props, "property", name=key, value=_clean(run.data[key]))
        host = run.machine.get("hostname")
        if host:
            ET.SubElement(props, "property", name="hostname", value=_clean(host))
        self.counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        self.time = 0.0

    def case(
        self,
        classname: str,
        name: str,
        seconds: Any = None,
        *,
        failure: Failure | None = None,
        skipped: str | None = None,
        error: str | None = None,
    ) -> None:
        attrs = {"classname": _clean(classname), "name": _clean(name)}
        t = number(seconds)
        if t is not None:
            attrs["time"] = f"{t:.3f}"
            self.time += t
        case = ET.SubElement(self.element, "testcase", attrs)
        self.counts["tests"] += 1
        if failure is not None:
            kind = failure.kind or _KINDS.get(failure.check, failure.check)
            node = ET.SubElement(
                case, "failure", message=_clean(failure.message), type=_clean(kind)
            )
            node.text = _clean(failure.text)
            self.counts["failures"] += 1
        elif error is not None:
            ET.SubElement(case, "error", message=_clean(error))
            self.counts["errors"] += 1
        elif skipped is not None:
            ET.SubElement(case, "skipped", message=_clean(skipped))
            self.counts["skipped"] += 1

    def close(self) -> dict[str, float]:
        for key, value in self.counts.items():
            self.element.set(key, str(value))
        self.element.set("time", f"{self.time:.3f}")
        return {**self.counts, "time": self.time}


def junit_tree(runs: list[Run], failures: list[Failure]) -> ET.ElementTree:
    """The JUnit document of the runs (see the module docstring)."""
    found = {
        (f.run, f.check if f.check != "battery" else "peer", f.impl, f.name): f for f in failures
    }
    root = ET.Element("testsuites", name="semharness")
    totals = {"tests": 0.0, "failures": 0.0, "errors": 0.0, "skipped": 0.0, "time": 0.0}
    for run in runs:

        def suite(kind: str, run: Run = run) -> _Suite:
            return _Suite(root, f"{kind} [{run.label}]" if run.several else kind, run)

        def failure(kind: str, impl: str, name: str, run: Run = run) -> Failure | None:
            return found.get((run.index, kind, impl, name))

        suites = []
        peer = run.peer()
        if peer:
            s = suite("peer")
            for impl, rows in peer.items():
                for r in rows:
                    status = r.get("status")
                    why = "; ".join(str(m) for m in dig_list(r, "messages"))
                    s.case(
                        impl,
                        r["scenario"],
                        r.get("duration_s"),
                        failure=failure("peer", impl, r["scenario"]) if status == "fail" else None,
                        skipped=None if status in ("pass", "fail") else why or f"{status}ped",
                    )
            suites.append(s)
        model = run.model()
        if model:
            s = suite("model")
            for impl, entry in model.items():
                if isinstance(entry.get("skipped"), str):
                    s.case(impl, "model checking", skipped=entry["skipped"])
                    continue
                for o in dig_list(entry, "outcomes"):
                    if not isinstance(o, dict):
                        continue
                    name, status = str(o.get("scenario")), o.get("status")
                    s.case(
                        impl,
                        name,
                        o.get("seconds"),
                        failure=failure("model", impl, name) if status == "fail" else None,
                        skipped=None if status in ("pass", "fail") else f"{status}",
                    )
                for skip in dig_list(entry, "skipped"):
                    if isinstance(skip, dict):
                        s.case(impl, str(skip.get("scenario")), skipped=str(skip.get("reason")))
            suites.append(s)
        stress = run.stress()
        if stress:
            s = suite("stress")
            for e in stress:
                name, status = plural(e["threads"], "thread"), e.get("status")
                reasons = "; ".join(str(x) for x in dig_list(e, "reasons"))
                s.case(
                    e["impl"],
                    name,
                    e.get("seconds"),
                    failure=failure("stress", e["impl"], name) if status == "fail" else None,
                    skipped=None
                    if status in ("pass", "fail")
                    else ("inconclusive: " if status == "unknown" else f"{status}: ") + reasons,
                )
            suites.append(s)
        rows = run.selftest()
        if rows:
            s = suite("selftest")
            for r in rows:
                ok = selftest_ok(r)
                s.case(
                    r["impl"],
                    "selftest",
                    r.get("seconds"),
                    failure=None
                    if ok or r.get("error")
                    else failure("selftest", r["impl"], "selftest"),
                    error=selftest_text(r) if r.get("error") else None,
                )
            suites.append(s)
        for s in suites:
            for key, value in s.close().items():
                totals[key] += value
    for key, value in totals.items():
        root.set(key, f"{value:.3f}" if key == "time" else str(int(value)))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(runs: list[Run], failures: list[Failure], path: Path) -> None:
    """Writes the JUnit XML file (UTF-8, with its declaration)."""
    junit_tree(runs, failures).write(path, encoding="utf-8", xml_declaration=True)
