"""The comparative report: what ``semharness run`` found, for people and for CI.

Input: one or more results files (format ``semharness-results``, version 1; the schema is the
one ``semharness run`` writes).  Output, in one folder:

- ``report.md`` and ``report.html`` (the same content; the HTML is one self-contained file):
  when and where each run was made and the command that reproduces it, a summary matrix
  (implementation x check: peer suite, bad-input battery, model checking, stress, selftest;
  every FAIL linked to its trace), the selftest table, model checking, stress figures and a
  section per failure with its picture;
- ``figures.json``: every figure of the report as data;
- ``plots/*.png`` and ``traces/*.txt``; optionally a JUnit XML file.

Partial results (an interrupted run) give a report of what is there; several results files
are shown side by side, each run labelled by its machine and start time.

Modules: :mod:`.results` reads files, :mod:`.figures` computes the figures, :mod:`.plots`
draws, :mod:`.render` writes the pages, :mod:`.junit` the XML, :mod:`.build` the folder, and
:mod:`.command` is ``semharness report``.  Importing this package stays light (no matplotlib).
"""

from __future__ import annotations

from .build import write_report
from .results import load_results

__all__ = ["load_results", "write_report"]
