"""Samples too small for a statistic to mean anything: what is withheld, and what is said.

* **Annualised figures over less than a year are withheld.**  A CAGR, volatility, Sharpe, Sortino,
  Calmar, turnover or IR extrapolates the window to a year: over 40 days a 17% rise prints as a
  CAGR of 311%.  Below :data:`MIN_YEARS` (one year of calendar days / 365.25, the first date's own
  period included: :func:`covered_years`), less :data:`YEAR_SLACK_DAYS` (:func:`spans_a_year`: a calendar
  year of trading dates, 2023-01-03 to 2023-12-29, is 360 days), the metrics whose spec is ``annualised``
  (:mod:`engine.metrics.specs`) become NaN in every output (shown as "–"), and one note says so.
  Total return, drawdowns, final value and counts stay.
* **A regime side seen for less than a year of days** (its share of the window's years, by the same rule)
  has its annualised return and Sharpe withheld in the same way.
* **Statistics of daily returns over fewer than :data:`MIN_RETURNS` returns** (the Sharpe
  interval, PSR, P(SR>ref), DSR, SPA) are shown with a note giving the count: they are computed
  correctly but rest on too little.
* **Few independent episodes.**  A strategy that switched k >= 1 times made k + 1 holding decisions;
  with fewer than :data:`MIN_EPISODES` its record cannot tell skill from luck, whatever the number
  of days, and a note names it (one that never switches makes no timing decision to judge).  The
  same for a regime seen in fewer than :data:`MIN_EPISODES` separate spells.

* **An information ratio over a tiny tracking error** (under :data:`MIN_TRACKING_ERROR` a year) is
  a steady drift divided by almost nothing: a benchmark against its total-return twin differs by
  the modelled dividend accrued daily and prints an IR of 27.  It is shown, with a note naming the
  row and its tracking error.

The thresholds are conventions, stated here and in docs/compare.md, not tests of significance.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, MutableMapping
from typing import Any

from engine.metrics.specs import SPECS
from engine.plural import counted

__all__ = [
    "ANNUALISED",
    "MIN_EPISODES",
    "MIN_RETURNS",
    "MIN_TRACKING_ERROR",
    "MIN_YEARS",
    "YEAR_SLACK_DAYS",
    "annualised_shown",
    "covered_years",
    "episode_notes",
    "spans_a_year",
    "withhold_annualised",
    "withhold_short_runs",
]

#: Below this many years (calendar days / 365.25), less :data:`YEAR_SLACK_DAYS`, no annualised figure is shown.
MIN_YEARS = 1.0
#: Calendar days a window may fall short of :data:`MIN_YEARS` and still count as a year: the weekends and holidays
#: at a calendar year's ends (its first trading date can be the 3rd or 4th of January, its last the 29th of
#: December) leave a year of trading dates up to about a week short of 365.25 days.
YEAR_SLACK_DAYS = 7
#: Below this many daily returns, the statistics of daily returns carry a note.
MIN_RETURNS = 252
#: Below this annualised tracking error, an information ratio carries a note.
MIN_TRACKING_ERROR = 0.01
#: Below this many holding periods (switches + 1), or regime spells, a note says the record is thin.
MIN_EPISODES = 10

#: Row keys that extrapolate a window to a year.
ANNUALISED = frozenset([s.name for s in SPECS if s.annualised] + ["sharpe_ci_low", "sharpe_ci_high"])
_REGIME_ANNUALISED = ("return", "sharpe")
#: The columns a window under a year shows as –, as the tables head them (every annualised metric).
_WITHHELD = ", ".join(s.label for s in SPECS if s.annualised)


def _nan_keys(row: MutableMapping[str, Any], keys: Iterable[str]) -> None:
    for key in keys:
        if key in row:
            row[key] = math.nan


def covered_years(years: float, n_returns: int) -> float:
    """The years ``n_returns`` daily returns cover: ``years`` (first to last date, as in the CAGR) plus the
    first date's own period, so that a calendar year of closes (2020-01-02 to 2020-12-31, 0.997 years
    between them, returns from the 2019 close) counts as the year it is."""
    return years * n_returns / (n_returns - 1) if n_returns > 1 else years


def spans_a_year(years: float) -> bool:
    """Whether a window of ``years`` (:func:`covered_years`) is a year, as annualised figures need: at least
    :data:`MIN_YEARS` less :data:`YEAR_SLACK_DAYS` days.

    >>> spans_a_year(360 / 365.25 * 257 / 256), spans_a_year(350 / 365.25)  # 2023's trading dates; 350 days
    (True, False)
    """
    return years >= MIN_YEARS - YEAR_SLACK_DAYS / 365.25


def annualised_shown(row: Mapping[str, Any]) -> bool:
    """Whether a row's window, its ``years`` and ``periods_per_year`` (:func:`covered_years`: years + 1 / periods
    per year), spans a year (:func:`spans_a_year`), so that its annualised figures are shown."""
    return spans_a_year(row.get("years", math.inf) + 1.0 / row.get("periods_per_year", math.inf))


def withhold_annualised(rows: Iterable[MutableMapping[str, Any]], years: float, n_returns: int) -> list[str]:
    """Withhold, in place, what ``rows`` (one window of ``years`` and ``n_returns`` daily returns)
    cannot support (module docstring); return the notes that say so."""
    rows = list(rows)
    notes = []
    covered = covered_years(years, n_returns)
    if not spans_a_year(covered):
        for row in rows:
            _nan_keys(row, ANNUALISED)
        notes.append(
            f"The window is {covered:.2f} years ({n_returns} daily returns): under one year no annualised "
            f"figure is shown ({_WITHHELD}: –); total return and drawdowns are of the window itself."
        )
    if n_returns < MIN_RETURNS and any(row.get("kind") == "strategy" for row in rows):
        notes.append(
            f"PSR, P(SR>ref), DSR and the SPA test rest on only {n_returns} daily returns (under "
            f"{MIN_RETURNS}): read them as indications, not evidence."
        )
    short_regime = []
    for side in ("in", "out"):
        share = next((row.get(f"regime_{side}_share") for row in rows if f"regime_{side}_share" in row), None)
        if share is not None and math.isfinite(share) and not spans_a_year(share * covered):
            for row in rows:
                _nan_keys(row, (f"regime_{side}_{k}" for k in _REGIME_ANNUALISED))
            short_regime.append("in the regime" if side == "in" else "outside it")
    if short_regime:
        notes.append(
            "Under one year of days " + " and ".join(short_regime) + ": the regime's annualised return and "
            "Sharpe there are not shown (–)."
        )
    return notes


def episode_notes(rows: Iterable[MutableMapping[str, Any]], deciding: Collection[str] = ()) -> list[str]:
    """Notes for the strategies whose record rests on fewer than :data:`MIN_EPISODES` holding
    periods, for information ratios over a tracking error under :data:`MIN_TRACKING_ERROR`, and for a
    regime seen in fewer than :data:`MIN_EPISODES` spells (module docstring).  ``deciding``: the names of
    the strategies whose targets follow the data (rules with conditions, signals, sizing); one of them that
    never switched in the window is named too, a fixed allocation (a buy-and-hold) is not: it decides nothing.
    Call it before :func:`withhold_annualised`, which may withhold the switches per year."""
    rows = list(rows)
    thin = []
    for row in rows:
        switches = row.get("switches_per_year", math.nan) * row.get("years", math.nan)
        if row.get("kind") != "strategy" or not math.isfinite(switches) or round(switches) >= MIN_EPISODES - 1:
            continue
        k = round(switches)
        if k > 0:
            thin.append(f"{row['name']} ({k} switch{'es' if k > 1 else ''})")
        elif row["name"] in deciding:
            thin.append(f"{row['name']} (no switch)")
    notes = []
    if thin:
        notes.append(
            f"Fewer than {MIN_EPISODES} holding periods in the window, too few to tell skill from luck "
            "whatever the number of days: " + ", ".join(thin) + "."
        )
    steady = [
        f"{row['name']} ({row['information_ratio']:.2f} over {row['tracking_error'] * 100:.2g}% a year)"
        for row in rows
        if math.isfinite(row.get("information_ratio", math.nan))
        and row.get("tracking_error", math.inf) < MIN_TRACKING_ERROR
    ]
    if steady:
        notes.append(
            f"Information ratios over a tracking error under {MIN_TRACKING_ERROR:.0%} a year measure a steady "
            "drift (such as a modelled dividend), not skill: " + "; ".join(steady) + "."
        )
    spells = next((row["regime_in_episodes"] for row in rows if "regime_in_episodes" in row), None)
    if spells is not None and spells < MIN_EPISODES:
        notes.append(
            f"The regime held in {counted(spells, 'spells')} (separate runs of days) in the window: its "
            "in/out figures rest on that few independent episodes."
        )
    return notes


def withhold_short_runs(rows: Iterable[MutableMapping[str, Any]]) -> list[str]:
    """Withhold, in place, the annualised figures of every run row (``seesaw run``'s table) whose own
    window, its ``years``, is not a year (:func:`annualised_shown`); return the note naming those runs."""
    short = [row for row in rows if not annualised_shown(row)]
    for row in short:
        _nan_keys(row, ANNUALISED)
    names = list(dict.fromkeys(str(row.get("config") or row["name"]) for row in short))
    if not names:
        return []
    shortest = min(short, key=lambda row: float(row["years"]))
    years = float(shortest["years"])
    span = f"{years:.2f} years"
    if shortest.get("start") and shortest.get("end"):  # a calendar year of trading dates is a few days short
        days = round(years * 365.25)
        span += f": {days} days from {shortest['start']} to {shortest['end']}, a year being 365.25, a week less for "
        span += "the weekends and holidays at a calendar year's ends"
    return [
        f"Under one year of history ({span}) for {', '.join(names)}: no annualised figure is shown ({_WITHHELD}: –)."
    ]
