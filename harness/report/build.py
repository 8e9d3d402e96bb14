"""Writing the report folder: the figures, the traces, the plots, the pages and the JUnit file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..folders import writable_folder
from .results import make_runs, validation_problem


def _finite(obj: Any) -> Any:
    """``obj`` with NaN and infinities as None: results files may hold them (Python's JSON
    reader accepts them), strict JSON readers of ``figures.json`` would not."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def write_report(
    results: list[dict[str, Any]], out: Path, junit: Path | None = None
) -> dict[str, Path]:
    """Writes the comparative report of one or more results (``load_results``' dicts) into
    ``out``; returns the paths written, by name.

    ``out`` gets ``report.md``, ``report.html`` (self-contained), ``figures.json``, the PNGs
    under ``plots/`` and a trace file per failure under ``traces/``; ``junit``, when given, the
    JUnit XML.  Names returned: markdown, html, figures, junit (when written), plots and
    traces (the folders, when anything went into them), and each plot by its figure name
    (throughput, latency_cdf, wakeup, overshoot, fairness, model_progress) when drawn.

    Raises :class:`UsageError` (one line) when there is nothing to report, a result is not a
    results file, or the folder cannot be created or written.
    """
    from .. import __version__
    from .figures import collect_failures, compute_figures
    from .junit import write_junit
    from .plots import draw_all
    from .render import document, to_html, to_markdown

    if not results:
        raise UsageError("no results to report")
    for k, data in enumerate(results):
        problem = validation_problem(data)
        if problem:
            raise UsageError(f"results #{k + 1}: {problem}")
    out = Path(out)
    writable_folder(out, "the report folder")
    runs = make_runs(results)
    failures = collect_failures(runs)
    figures = compute_figures(runs, failures)
    paths: dict[str, Path] = {}
    try:
        for f in failures:
            target = out / f.file
            target.parent.mkdir(exist_ok=True)
            target.write_text(f.text, encoding="utf-8")
        if failures:
            paths["traces"] = out / "traces"
        plots = draw_all(figures, failures, out)
        figures["plots"] = plots
        figures["failures"] = [f.to_json(runs) for f in failures]  # with their pictures
        if plots or any(f.picture for f in failures):
            paths["plots"] = out / "plots"
        paths.update({name: out / relative for name, relative in plots.items()})
        blocks = document(figures, failures, plots, __version__)
        paths["markdown"] = out / "report.md"
        paths["markdown"].write_text(to_markdown(blocks), encoding="utf-8")
        paths["html"] = out / "report.html"
        paths["html"].write_text(to_html(blocks, out), encoding="utf-8")
        paths["figures"] = out / "figures.json"
        text = json.dumps(_finite(figures), indent=1, allow_nan=False, default=str)
        paths["figures"].write_text(text + "\n", encoding="utf-8")
        if junit is not None:
            junit = Path(junit)
            junit.parent.mkdir(parents=True, exist_ok=True)
            write_junit(runs, failures, junit)
            paths["junit"] = junit
    except OSError as exc:
        where = exc.filename or out
        raise UsageError(f"cannot write the report: {where}: {exc.strerror or exc}") from None
    return paths
