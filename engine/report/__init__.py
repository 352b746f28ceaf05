"""HTML reports: one self-contained page per run, comparison, sweep or walk-forward, from stored results.

Pure functions, no I/O: each report function takes what the store holds (a
:class:`engine.compare.StoredRun`, a :class:`engine.compare.Comparison`, a
:class:`engine.sweep_job.SweepOutcome`) and returns a :class:`Report` (the page as a string and
its figures by name, for ``--png``).  Writing files is :mod:`engine.report.files`, called by the
jobs (:mod:`engine.jobs`, :mod:`engine.report_jobs`).

* :func:`run_report` (``seesaw report RUN_ID``) - :mod:`engine.report.run`
* :func:`compare_report` (``seesaw compare … --format html``) - :mod:`engine.report.compare`
* :func:`sweep_report` (``seesaw sweep … --report``) - :mod:`engine.report.sweep`
* :func:`walkforward_report` (``seesaw walkforward … --report``) - :mod:`engine.report.walkforward`

A new kind of report is one more module with one function returning a :class:`Report`, built
from :mod:`engine.report.page` (page, tables) and :mod:`engine.report.charts` (figures); the
writing and ``--png`` code is shared.
"""

from engine.report.compare import compare_report
from engine.report.page import Report
from engine.report.run import run_report
from engine.report.sweep import sweep_report
from engine.report.walkforward import walkforward_report

__all__ = ["Report", "compare_report", "run_report", "sweep_report", "walkforward_report"]
