"""``semharness report RESULTS... --out DIR [--junit FILE]``: the comparative report of one or
more results files (e.g. the same job on several machines).

Exit 0 when the report is written; a file that cannot be read or is no results file, or a
folder that cannot be written, is a one-line :class:`~semharness.errors.UsageError` (exit 2).
This module imports nothing heavy, so that building the command line stays fast: matplotlib
loads only when a report is drawn.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import EXIT_PASS


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``semharness report``."""
    parser.add_argument(
        "results", nargs="+", metavar="RESULTS", help="results.json files written by semharness run"
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for the report")
    parser.add_argument("--junit", default=None, metavar="FILE", help="also write JUnit XML here")


def cmd_report(args: argparse.Namespace) -> int:
    """Reads every results file (all are checked before anything is written), writes the
    report, and lists what it wrote."""
    from . import load_results, write_report

    results = [load_results(path) for path in args.results]
    junit = Path(args.junit) if args.junit else None
    paths = write_report(results, Path(args.out), junit)
    for name in ("markdown", "html", "figures", "junit"):
        if name in paths:
            print(f"{name}: {paths[name]}", file=sys.stdout)
    return EXIT_PASS
