"""When a walk-forward's out-of-sample figures extrapolate a window shorter than a year to a year: every fold's
when ``--test`` is under a year, the last fold's when the end of the data cuts it short.  The terminal and the
walk-forward's HTML page say it in the same words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from engine.metrics.returns import years_between
from engine.metrics.samples import covered_years, spans_a_year
from engine.walkforward import parse_duration

__all__ = ["short_windows"]


def short_windows(dates: pd.DatetimeIndex, folds: Sequence[Mapping[str, Any]], test: str) -> list[str]:
    """What extrapolates a fold's out-of-sample window to a year: every fold's when ``--test`` is under a year;
    the last fold's when the end of the data cuts it short (:func:`_cut_short`).  ``dates``: the stitched run's;
    ``folds``: the walk-forward's, as stored; ``test``: its ``--test`` duration.  (Overlapping windows, scored until
    the next fold's test starts, have their own note: :data:`engine.render.sweep_text.OVERLAP_NOTE`.)"""
    lines = []
    if test and not spans_a_year(_years(dates[0], test, "--test")):
        lines.append(
            f"Every fold's out-of-sample window is under a year (--test {test}): its CAGR and Sharpe in the table "
            "extrapolate it to a year (compare shows no such figure)."
        )
    if cut := _cut_short(dates, folds[-1], test):
        lines.append(
            f"The last fold's test window is cut short by the end of the data ({cut}): a CAGR or Sharpe over such a "
            "window extrapolates it to a year (compare shows no such figure)."
        )
    return lines


def _years(start: object, duration: str, option: str) -> float:
    """Years (calendar days / 365.25) of ``duration`` (``6m``, as ``option`` takes it) from ``start``."""
    first = pd.Timestamp(start)
    return years_between(first, first + parse_duration(duration, option))


def _cut_short(dates: pd.DatetimeIndex, last: Mapping[str, Any], test: str) -> str:
    """``fold 19: 2026-01-02 → 2026-08-26, 0.65 of the 1.00 years asked`` when the last fold's test window ends with
    the data, more than a week before its ``--test`` duration (``test``), and covers under a year (as
    :func:`engine.metrics.samples.covered_years` counts, the first date's own period included); else empty.  Only
    the last fold can: every other is scored up to the next fold's test (``scored_to``)."""
    first, end = pd.Timestamp(last["test_start"]), pd.Timestamp(last["scored_to"])
    n = int(((dates >= first) & (dates <= end)).sum())  # its returns, the first from the previous close
    covered = covered_years(years_between(first, end), n)
    # a week short at least: weekends and holidays leave a whole window a few days short of its nominal end
    nominal = first + parse_duration(test, "--test") if test else first  # where the window would end
    if not test or nominal - pd.Timedelta(days=7) <= dates[-1] or spans_a_year(covered):
        return ""
    asked = years_between(first, nominal)
    return f"fold {last['fold']}: {first.date()} → {end.date()}, {covered:.2f} of the {asked:.2f} years asked"
