"""Metrics for ``seesaw compare``: several stored runs lined up on one window, one row each.

Pure functions over pandas/numpy values (fractions, never percent), no I/O.  The pandas glue of
the metrics: windows, calendar years and regimes are cut here, and every metric a run or sweep also
reports comes from its spec in :mod:`engine.metrics.specs` (``specs.compute`` over a one-column
:class:`~engine.metrics.specs.Curves` built from the dated series), so each formula lives once.
The conventions are those of :mod:`engine.metrics`:

* ``value`` is a date-indexed equity curve (end-of-day portfolio value on the union US/HK
  timeline, ``DatetimeIndex`` sorted ascending); ``initial`` is the value before its first
  date.  Daily simple returns r_t = V_t / V_{t-1} - 1 with V_{-1} = ``initial``.
* years = calendar days first -> last / 365.25; periods_per_year (ppy) = (n_dates - 1) / years.
* Sharpe and Sortino are of returns in excess of a per-date risk-free return when one is
  given (the runs' cash rate), else of the returns themselves; std with ddof=1.

Undefined results (a flat curve, zero tracking error, a single date) are NaN, not errors.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.metrics import specs
from engine.metrics.specs import Curves
from engine.plural import counted

__all__ = [
    "betas",
    "common_window",
    "longest_drawdown_days",
    "partial_years",
    "partial_years_between",
    "rebase",
    "rebase_after",
    "regime_metrics",
    "relative_metrics",
    "row_metrics",
    "starts_mixed",
    "switches_per_year",
    "turnover_per_year",
    "year_returns",
]

#: A year's dates count as complete when they start by 4 January and end from 29 December on:
#: the latest first and earliest last trading dates that weekends and the New Year holiday
#: allow on either exchange (1 January a Friday -> Monday 4; 31 December a Sunday -> Friday 29).
_FULL_YEAR_FIRST = (1, 4)
_FULL_YEAR_LAST = (12, 29)

#: The specs behind :func:`row_metrics`, in its keys' order (years and periods per year follow).
_ROW_METRICS = ("final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar",
                "longest_drawdown_days", "worst_year")  # fmt: skip
#: The specs behind :func:`relative_metrics`, in its keys' order.
_RELATIVE_METRICS = ("excess_return", "tracking_error", "information_ratio")


def _curves(value: pd.Series, initial: float, **given: Any) -> Curves:
    """``value`` as a one-column :class:`Curves` on its own dates; ``given``: the other Curves fields."""
    return Curves(pd.DatetimeIndex(value.index), value.to_numpy(dtype=float)[:, None], initial, **given)


def _scalars(names: Sequence[str], curves: Curves) -> dict[str, Any]:
    """{name: value} of the named specs of a one-column ``curves``, as Python numbers."""
    return {name: values.item() for name, values in specs.compute(names, curves).items()}


def _span(s: pd.Series) -> str:
    return f"{s.index[0].date()}→{s.index[-1].date()}"


def common_window(
    curves: Mapping[str, pd.Series], period: tuple[dt.date | None, dt.date | None] | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last date common to every curve and inside ``period`` (inclusive).

    window = [max_k first_k, min_k last_k] ∩ [period start, period end] (None: open end),
    snapped to the dates present in every curve.  ``ValueError`` naming the run(s) at fault
    when a curve is empty, the curves' ranges do not overlap, the period misses them, or
    fewer than 2 common dates remain (no return can be measured).

    >>> idx = pd.bdate_range("2024-01-01", periods=5)
    >>> common_window({"a": pd.Series(1.0, idx), "b": pd.Series(1.0, idx[2:])})
    (Timestamp('2024-01-03 00:00:00'), Timestamp('2024-01-05 00:00:00'))
    """
    if not curves:
        raise ValueError("no runs to compare")
    for name, s in curves.items():
        if len(s) == 0:
            raise ValueError(f"run {name!r} has no dates")
    late = max(curves, key=lambda k: curves[k].index[0])  # starts last
    early = min(curves, key=lambda k: curves[k].index[-1])  # ends first
    lo, hi = curves[late].index[0], curves[early].index[-1]
    if lo > hi:
        raise ValueError(
            f"run {late!r} ({_span(curves[late])}) and run {early!r} ({_span(curves[early])}) do not overlap"
        )
    start, end = period if period is not None else (None, None)
    if start is not None and end is not None and start > end:
        raise ValueError(f"period start {start} is after its end {end}")
    if start is not None:
        if pd.Timestamp(start) > hi:
            raise ValueError(f"period starts {start}, after run {early!r} ends ({_span(curves[early])})")
        lo = max(lo, pd.Timestamp(start))
    if end is not None:
        if pd.Timestamp(end) < lo:
            raise ValueError(f"period ends {end}, before run {late!r} starts ({_span(curves[late])})")
        hi = min(hi, pd.Timestamp(end))
    common: pd.Index | None = None
    for s in curves.values():
        inside = s.index[(s.index >= lo) & (s.index <= hi)]
        common = inside if common is None else common.intersection(inside)
    assert common is not None
    if len(common) < 2:
        n = counted(len(common), "dates")
        which = f"run {next(iter(curves))!r} has" if len(curves) == 1 else f"runs {', '.join(map(repr, curves))} share"
        raise ValueError(f"{which} {n} in {lo.date()}→{hi.date()}; a comparison needs at least 2")
    return common[0], common[-1]


def rebase(value: pd.Series, first: Any, last: Any, *, initial: float | None) -> tuple[pd.Series, float]:
    """Cut ``value`` to [first, last] and return it with the starting value V_{-1} for its returns.

    * the cut starts on the curve's own first date: V_{-1} = ``initial``, the run's initial
      cash, so the first day's trading costs count (as in the run's own metrics);
      ``initial=None`` (a curve without a pre-start value, e.g. prices): V_{-1} = V_first,
      the first return is then 0;
    * the cut starts later: V_{-1} = the value on the date just before it, so a sub-period
      starts from the previous close and its first day's return is included.

    ``ValueError`` when the cut is empty or ``first`` precedes the curve.

    >>> s = pd.Series([100.0, 110.0, 99.0], pd.bdate_range("2024-01-01", periods=3))
    >>> rebase(s, s.index[1], s.index[2], initial=100.0)[1]  # previous close
    100.0
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if len(value) == 0 or first < value.index[0]:
        raise ValueError(f"window starts {first.date()}, before the curve's first date")
    cut = value[(value.index >= first) & (value.index <= last)]
    if len(cut) == 0:
        raise ValueError(f"no dates in {first.date()}→{last.date()}")
    if cut.index[0] == value.index[0]:
        start = float(cut.iloc[0]) if initial is None else float(initial)
    else:
        start = float(value[value.index < cut.index[0]].iloc[-1])
    return cut, start


def starts_mixed(curves: Iterable[pd.Series], first: Any) -> bool:
    """Whether some of ``curves`` start on ``first`` and others before it: measured with :func:`rebase`, the
    ones already running would count ``first``'s move, which the others did not hold (:func:`rebase_after`)."""
    first = pd.Timestamp(first)
    starts = [s.index[0] for s in curves if len(s)]
    return any(t == first for t in starts) and any(t < first for t in starts)


def rebase_after(value: pd.Series, first: Any, last: Any, *, initial: float | None) -> tuple[pd.Series, float]:
    """``value`` cut to the dates after ``first`` up to ``last``, with V_{-1} its value at ``first``'s close,
    or ``initial`` for a curve that starts on ``first`` (its first trades, at that close, count).

    The window of curves that :func:`starts_mixed`: measured from ``first``'s close, every curve's returns
    cover the same dates (a curve starting then holds a market closed on ``first`` only from its next
    session).  ``ValueError`` when no date follows ``first`` or ``first`` is not a date of the curve.

    >>> s = pd.Series([100.0, 110.0, 99.0], pd.bdate_range("2024-01-01", periods=3))
    >>> rebase_after(s, s.index[1], s.index[2], initial=100.0)[1]  # the first date's close
    110.0
    >>> rebase_after(s, s.index[0], s.index[2], initial=90.0)[1]  # a curve starting then: its initial cash
    90.0
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    if first not in value.index:
        raise ValueError(f"window starts {first.date()}, not a date of the curve")
    cut = value[(value.index > first) & (value.index <= last)]
    if len(cut) == 0:
        raise ValueError(f"no dates after {first.date()} up to {last.date()}")
    start = float(initial) if value.index[0] == first and initial is not None else float(value.loc[first])
    return cut, start


def longest_drawdown_days(value: pd.Series, initial: float) -> int:
    """Longest drawdown in calendar days: from a peak to the date the curve first regains it.

        duration = (recovery date, first t with V_t >= peak; else the last date) - peak date

    The peak date is the latest date on which the curve stood at its running maximum;
    ``initial`` is the first peak, dated the first date (it has no date of its own).
    0 for a curve that never falls below its running maximum.
    """
    days = (value.index - value.index[0]).days.to_numpy()
    return int(m.longest_drawdown_days(days, value.to_numpy(dtype=float), initial))


def partial_years(value: pd.Series) -> frozenset[int]:
    """Calendar years the curve covers only in part (its first and last year at most):
    :func:`partial_years_between` its first and last date."""
    return partial_years_between(value.index[0], value.index[-1])


def partial_years_between(first: pd.Timestamp, last: pd.Timestamp) -> frozenset[int]:
    """Calendar years the dates ``first`` to ``last`` cover only in part (the first and last year at most).

    A first year is complete when the first date is on or before 4 January, a last year when
    the last date is on or after 29 December (``_FULL_YEAR_FIRST``, ``_FULL_YEAR_LAST``).

    >>> sorted(partial_years_between(pd.Timestamp("2002-03-15"), pd.Timestamp("2026-08-26")))
    [2002, 2026]
    >>> sorted(partial_years_between(pd.Timestamp("2002-01-02"), pd.Timestamp("2024-12-31")))
    []
    """
    out = set()
    if (first.month, first.day) > _FULL_YEAR_FIRST:
        out.add(first.year)
    if (last.month, last.day) < _FULL_YEAR_LAST:
        out.add(last.year)
    return frozenset(out)


def year_returns(value: pd.Series, initial: float) -> dict[int, float]:
    """Calendar-year returns: R_y = V(last date of y) / V(last date of y - 1) - 1.

    The first year starts from ``initial`` (the run's cash, or the previous close after
    :func:`rebase`); partial first and last years are included (see :func:`partial_years`).
    Not annualised.

    >>> s = pd.Series([110.0, 99.0, 121.0], pd.to_datetime(["2023-06-30", "2023-12-29", "2024-01-02"]))
    >>> {y: round(r, 4) for y, r in year_returns(s, 100.0).items()}  # 99/100 - 1, 121/99 - 1
    {2023: -0.01, 2024: 0.2222}
    """
    ends = value.groupby(pd.DatetimeIndex(value.index).year).last()
    starts = np.concatenate([[initial], ends.to_numpy(dtype=float)[:-1]])
    return {int(y): float(v / s - 1.0) for y, v, s in zip(ends.index, ends.to_numpy(dtype=float), starts, strict=True)}


def row_metrics(value: pd.Series, initial: float, risk_free: np.ndarray | None = None) -> dict[str, Any]:
    """One comparison row: the :mod:`engine.metrics` definitions plus drawdown length and worst year.

    * total_return = V_T / initial - 1; cagr = (V_T / initial)^(1 / years) - 1
    * ann_vol = std(r, ddof=1) * sqrt(ppy); sharpe = mean(r) / std(r, ddof=1) * sqrt(ppy)
    * sortino = mean(r) / sqrt(mean(min(r, 0)^2)) * sqrt(ppy)
    * max_drawdown = min_t (V_t / max_{s<=t} V_s - 1) <= 0; calmar = cagr / |max_drawdown|
    * longest_drawdown_days: :func:`longest_drawdown_days`
    * worst_year = min_y R_y of :func:`year_returns` (not annualised), worst_year_label
      ``"2008"`` or ``"2024 (partial)"``; the earliest year wins a tie
    * final_value, years, periods_per_year: the inputs of the annualisation

    years and ppy come from the curve's own dates (module docstring); Sharpe and Sortino
    are of r - ``risk_free`` (per date, aligned with ``value``; zero when None) (Sharpe 1994;
    Sortino & Price 1994).  NaN where undefined.  Each number is its spec's in
    :mod:`engine.metrics.specs`; only the worst year's label is worked out here.
    """
    if len(value) == 0:
        raise ValueError("empty equity curve")
    curves = _curves(value, initial, risk_free=risk_free)
    row = _scalars(_ROW_METRICS, curves)
    row["longest_drawdown_days"] = int(row["longest_drawdown_days"])
    by_year = year_returns(value, initial)
    worst = min(by_year, key=lambda y: by_year[y])
    row["worst_year_label"] = f"{worst} (partial)" if worst in partial_years(value) else str(worst)
    row.update(years=curves.years, periods_per_year=curves.periods_per_year)
    return row


def relative_metrics(
    strategy: pd.Series, benchmark: pd.Series, initial_s: float, initial_b: float, periods_per_year: float
) -> dict[str, float]:
    """Excess return, tracking error and information ratio of a strategy against a benchmark.

    * excess_return = CAGR_s - CAGR_b: the *difference of the CAGRs* (each from calendar
      time), not the CAGR of the excess returns nor the annualised mean difference
    * d_t = r_s,t - r_b,t (daily simple returns, each from its own initial value)
    * tracking_error = std(d, ddof=1) * sqrt(ppy)
    * information_ratio = mean(d) / std(d, ddof=1) * sqrt(ppy) (Grinold & Kahn 2000), i.e.
      ``engine.metrics.sharpe`` of d; NaN with zero tracking error

    Both curves must have the same dates (``ValueError`` otherwise).  The numbers are the
    specs ``excess_return``, ``tracking_error`` and ``information_ratio``.
    """
    if not strategy.index.equals(benchmark.index):
        raise ValueError("strategy and benchmark curves must have the same dates")
    reference = benchmark.to_numpy(dtype=float)
    curves = _curves(strategy, initial_s, reference=reference, reference_initial=initial_b, ppy_given=periods_per_year)
    return _scalars(_RELATIVE_METRICS, curves)


def betas(value: pd.Series, initial: float, markets: Mapping[str, pd.Series]) -> dict[str, float]:
    """OLS beta of the curve's daily returns on each market's daily returns, one market at a time.

        beta_k = cov(r, m_k, ddof=1) / var(m_k, ddof=1),  m_k,t = P_k,t / P_k,t-1 - 1

    Univariate per market (not a joint regression on both markets), with an intercept.
    The first date is left out: the market has no previous close inside the window.  Each
    market series must have the curve's dates (carried-forward closes).  Same-date returns
    understate the HK-US link: Hong Kong closes before New York opens, so an HK move often
    answers the *previous* US date, and carried-forward closes add zero returns on the
    other market's holidays.  NaN with fewer than 2 returns or a flat market.
    """
    r = m.daily_returns(value.to_numpy(dtype=float), initial)[1:]
    out: dict[str, float] = {}
    for name, price in markets.items():
        if not price.index.equals(value.index):
            raise ValueError(f"market {name!r} does not have the curve's dates")
        p = price.to_numpy(dtype=float)
        out[name] = float(m.betas(r, p[1:] / p[:-1] - 1.0))
    return out


def turnover_per_year(traded_value: pd.Series, value: pd.Series, years: float) -> float:
    """One-way turnover per year over the curve's window: sum(traded value) / 2 / mean(V) / years.

    ``traded_value`` is the traded value (buys and sells, currency) per date; only dates
    from ``value``'s first to its last date count.  The spec ``turnover``, as a run reports
    it; NaN when years <= 0.
    """
    first, last = value.index[0], value.index[-1]
    traded = traded_value[(traded_value.index >= first) & (traded_value.index <= last)]
    # turnover reads no value before the first date: NaN stands in for the one Curves requires
    curves = _curves(value, math.nan, traded=np.array([float(traded.sum())]), years_given=years)
    return float(specs.spec("turnover")(curves).item())


def switches_per_year(switch_dates: Iterable[Any], first: Any, last: Any) -> float:
    """Target switches per year: #{switch dates d with first <= d <= last} / years(first, last).

    A switch on ``first`` counts: a sub-period's returns start from the previous close, so
    they include that day's trades.  The spec ``switches_per_year``, as a run reports it; NaN
    when the window is shorter than a day.
    """
    first, last = pd.Timestamp(first), pd.Timestamp(last)
    dates = pd.DatetimeIndex(list(switch_dates))
    count = int(((dates >= first) & (dates <= last)).sum())
    # the spec reads the count and the window's years (from its first and last dates), no values
    window = Curves(pd.DatetimeIndex([first, last]), np.full((2, 1), math.nan), math.nan, switches=np.array([count]))
    return float(specs.spec("switches_per_year")(window).item())


def regime_metrics(
    value: pd.Series,
    initial: float,
    in_regime: pd.Series,
    periods_per_year: float,
    risk_free: np.ndarray | None = None,
) -> dict[str, float]:
    """Annualised return and Sharpe of the curve's daily returns on the days in and out of a regime.

    Day t's return r_t = V_t / V_{t-1} - 1 is attributed by ``in_regime`` at t, which the caller
    sets from the regime known at the close of t-1 (so a return is never classified by what
    happened during it).  For the days D of one side, n = |D|:

    * ann_return = prod_{t in D} (1 + r_t) ** (ppy / n) - 1   (geometric, as if the regime lasted a year)
    * sharpe = mean_{t in D}(e_t) / std_{t in D}(e_t, ddof=1) * sqrt(ppy), e_t = r_t - rf_t: in excess
      of ``risk_free`` (the per-date rate the main table's Sharpe uses; None: zero)
    * share = n / number of days; episodes = number of runs of consecutive days in the regime

    NaN for a side with fewer than 2 days.
    """
    r = m.daily_returns(value.to_numpy(dtype=float), initial)
    excess = r if risk_free is None else r - np.asarray(risk_free, dtype=float)
    mask = in_regime.reindex(value.index).fillna(False).to_numpy(dtype=bool)
    out: dict[str, float] = {}
    for side, sel in (("in", mask), ("out", ~mask)):
        x = r[sel]
        if len(x) < 2:
            out[f"regime_{side}_return"] = float("nan")
            out[f"regime_{side}_sharpe"] = float("nan")
        else:
            with np.errstate(over="ignore"):
                out[f"regime_{side}_return"] = float(np.prod(1.0 + x) ** (periods_per_year / len(x)) - 1.0)
            out[f"regime_{side}_sharpe"] = m.sharpe(excess[sel], periods_per_year)
        out[f"regime_{side}_share"] = float(len(x) / len(r)) if len(r) else float("nan")
    out["regime_in_episodes"] = int(np.sum(np.diff(mask.astype(np.int8), prepend=np.int8(0)) == 1))
    return out
