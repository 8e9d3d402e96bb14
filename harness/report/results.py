"""Reading results files, and a tolerant view of one run's sections.

A results file (format ``semharness-results``, version 1; written by ``semharness run``) may be
partial: a run interrupted after the peer suite has no model, stress or selftest section, and a
file written by another version or edited by hand may lack any key.  :func:`load_results`
therefore checks only what the report cannot do without -- one JSON object of the right format
and version, with each section present of the right container type -- and everything else reads
the data through :func:`dig`, :func:`dig_list`, :func:`dig_str` and :class:`Run`, which turn a
missing or mistyped entry into "absent" instead of an exception.  A report of what is there
beats a traceback.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import UsageError

FORMAT = "semharness-results"
VERSION = 1

#: Sections of a results file and the JSON container each must be when present.
SECTIONS: dict[str, type] = {
    "machine": dict,
    "implementations": list,
    "peer": dict,
    "model": dict,
    "stress": list,
    "selftest": dict,
}

#: Peer-suite scenarios that make up the bad-input battery (scenarios/battery.py): the report
#: tells them apart by name, so that results files need no second list of them.
BATTERY_PREFIXES = ("badinput-", "timeout-")


def load_results(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads and validates one results file; raises :class:`UsageError` with one line naming
    the file and what is wrong (missing, unreadable, not JSON, not a results file)."""
    name = os.fspath(path)
    try:
        with open(name, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        raise UsageError(f"{name}: no such results file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a folder, not a results file") from None
    except OSError as exc:
        raise UsageError(f"{name}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{name}: not a results file (not UTF-8 text)") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}: not JSON ({exc.msg} at line {exc.lineno})") from None
    problem = validation_problem(data)
    if problem:
        raise UsageError(f"{name}: {problem}")
    return data


def validation_problem(data: Any) -> str | None:
    """What makes ``data`` unusable as a results file, in a few words, or None when it is fine."""
    if not isinstance(data, dict):
        return f"not a semharness results file (a JSON {type(data).__name__}, not an object)"
    fmt = data.get("format")
    if fmt != FORMAT:
        return f"not a semharness results file (format {fmt!r}, expected {FORMAT!r})"
    version = data.get("version")
    if version != VERSION:
        return f"results format version {version!r} is not supported (this semharness reads 1)"
    for key, kind in SECTIONS.items():
        value = data.get(key)
        if value is not None and not isinstance(value, kind):
            return f"malformed results file: {key!r} is a JSON {type(value).__name__}"
    return None


def dig(obj: Any, *keys: str | int, default: Any = None) -> Any:
    """``obj[k1][k2]...``, or ``default`` when any step is missing or of the wrong type.

    The report reads every nested figure through this, so a partial or older results file
    loses a table cell, never the report.
    """
    for key in keys:
        in_dict = isinstance(obj, dict) and isinstance(key, str) and key in obj
        in_list = isinstance(obj, list) and isinstance(key, int) and -len(obj) <= key < len(obj)
        if not (in_dict or in_list):
            return default
        obj = obj[key]
    return obj


def dig_list(obj: Any, *keys: str | int) -> list[Any]:
    """``obj[k1][k2]...`` when it is a list, else ``[]`` (missing, null or mistyped)."""
    value = dig(obj, *keys)
    return value if isinstance(value, list) else []


def dig_str(obj: Any, *keys: str | int) -> str | None:
    """``obj[k1][k2]...`` when it is a string, else None (missing, null or mistyped)."""
    value = dig(obj, *keys)
    return value if isinstance(value, str) else None


def number(value: Any) -> float | None:
    """``value`` when it is a real number (not a bool, not NaN), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return value


def is_battery(scenario: str) -> bool:
    """Whether a peer-suite scenario belongs to the bad-input battery."""
    return scenario.startswith(BATTERY_PREFIXES)


def safe_name(text: str) -> str:
    """``text`` as a file name: letters, digits, ``.``, ``_`` and ``-`` only (implementation
    names may be paths or ``module:Class`` specs)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "unnamed"


def _when(started: Any) -> str:
    """A results file's start time, shortened for a label (the raw text if it is not ISO)."""
    if not isinstance(started, str):
        return "unknown time"
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return started
    zone = moment.strftime("%z")
    zone = " UTC" if zone in ("+0000", "") else f" {zone}"
    return moment.strftime("%Y-%m-%d %H:%M") + zone


@dataclass
class Run:
    """One results file, with the accessors the report needs.

    ``label`` names the run (machine hostname and start time); ``series`` is prefixed with it
    only when several runs are reported side by side, so a single run's tables and legends
    carry plain implementation names.
    """

    data: dict[str, Any]
    index: int
    label: str
    several: bool

    def series(self, impl: str) -> str:
        """The name of one implementation's data in this run, for legends and tables."""
        return f"{impl} @ {self.label}" if self.several else impl

    @property
    def machine(self) -> dict[str, Any]:
        return self.section("machine", dict)

    def section(self, key: str, kind: type) -> Any:
        """A top-level section, or an empty one of its type when it is missing or mistyped."""
        value = self.data.get(key)
        return value if isinstance(value, kind) else kind()

    def present(self) -> list[str]:
        """The result sections this file has (peer, model, stress, selftest)."""
        return [k for k in ("peer", "model", "stress", "selftest") if self.data.get(k)]

    def peer(self) -> dict[str, list[dict[str, Any]]]:
        """implementation -> its peer-suite rows (battery included), well-formed rows only."""
        results = dig(self.data, "peer", "results", default={})
        out: dict[str, list[dict[str, Any]]] = {}
        if isinstance(results, dict):
            for impl, rows in results.items():
                if isinstance(rows, list):
                    out[str(impl)] = [
                        r
                        for r in rows
                        if isinstance(r, dict) and isinstance(r.get("scenario"), str)
                    ]
        return out

    def model(self) -> dict[str, dict[str, Any]]:
        """implementation -> its model-checking entry (skipped, or outcomes)."""
        return {str(k): v for k, v in self.section("model", dict).items() if isinstance(v, dict)}

    def stress(self) -> list[dict[str, Any]]:
        """The stress entries that name an implementation and a thread count."""
        return [
            e
            for e in self.section("stress", list)
            if isinstance(e, dict)
            and isinstance(e.get("impl"), str)
            and isinstance(e.get("threads"), int)
            and not isinstance(e.get("threads"), bool)
        ]

    def selftest(self) -> list[dict[str, Any]]:
        """The selftest rows that name an implementation."""
        rows = dig(self.data, "selftest", "rows", default=[])
        if not isinstance(rows, list):
            return []
        return [r for r in rows if isinstance(r, dict) and isinstance(r.get("impl"), str)]

    def implementations(self) -> list[str]:
        """Every implementation the run mentions, in order of first mention."""
        names: list[str] = [
            i["name"]
            for i in self.section("implementations", list)
            if isinstance(i, dict) and isinstance(i.get("name"), str)
        ]
        names += list(self.peer()) + list(self.model())
        names += [e["impl"] for e in self.stress()] + [r["impl"] for r in self.selftest()]
        return list(dict.fromkeys(names))


def make_runs(results: list[dict[str, Any]]) -> list[Run]:
    """The runs to report, labelled ``hostname start-time`` (made unique with ``#k``)."""
    labels: list[str] = []
    for data in results:
        host = dig(data, "machine", "hostname")
        base = f"{host if isinstance(host, str) and host else 'unknown host'} "
        base += _when(data.get("started"))
        label, k = base, 1
        while label in labels:
            k += 1
            label = f"{base} #{k}"
        labels.append(label)
    several = len(results) > 1
    return [
        Run(data, i, label, several)
        for i, (data, label) in enumerate(zip(results, labels, strict=True))
    ]
