"""HTML reports: one self-contained page per run, comparison, sweep or walk-forward, from stored results.

Pure functions, no I/O: each report function takes what the store holds (a
:class:`engine.compare.StoredRun`, a :class:`engine.compare.Comparison`, a
:class:`engine.jobs.sweep.SweepOutcome`) and returns a :class:`Report` (the page as a string and
its figures by name, for ``--png``).  Writing files is :mod:`engine.render.html.files`, called by the
jobs (:mod:`engine.jobs.run`, :mod:`engine.jobs.report`).

* :func:`run_report` (``seesaw report RUN_ID``) - :mod:`engine.render.html.run`
* :func:`compare_report` (``seesaw compare … --format html``) - :mod:`engine.render.html.compare`
* :func:`sweep_report` (``seesaw sweep … --report``) - :mod:`engine.render.html.sweep`
* :func:`walkforward_report` (``seesaw walkforward … --report``) - :mod:`engine.render.html.walkforward`

A new kind of report is one more module with one function returning a :class:`Report`, built
from :mod:`engine.render.html.page` (page, tables) and :mod:`engine.render.html.charts` (figures); the
writing and ``--png`` code is shared.
"""

from engine.render.html.compare import compare_report
from engine.render.html.page import Report
from engine.render.html.run import run_report
from engine.render.html.sweep import sweep_report
from engine.render.html.walkforward import walkforward_report

__all__ = ["Report", "compare_report", "run_report", "sweep_report", "walkforward_report"]
