"""Performance metrics computed from the daily equity curve (fractions, never percent).

Conventions, used by every function here:

* ``value`` is the portfolio value at the end of each date of the run's
  timeline; ``initial`` is the cash before the first date.  Daily simple
  returns are r_t = V_t / V_{t-1} - 1 with V_{-1} = ``initial``.
* ``years`` = calendar days from the first to the last date / 365.25.
* ``periods_per_year`` = (number of dates - 1) / years: the real number of
  trading periods per year of this run's timeline (the union of both
  markets' trading dates, about 250-260), *not* vectorbt's default 365.
* Sharpe and Sortino are of returns in excess of the per-date risk-free
  return (the config's ``cash_rate``; zero without one).

Every function takes one curve (``(dates,)``, giving a float) or K curves side by side
(``(dates, K)``, giving one value per column): single runs and sweeps share these formulas.

Each metric's formula is in its docstring.  They are cross-checked in the
tests against vectorbt's returns accessor with the same annualisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np

__all__ = [
    "annual_volatility",
    "betas",
    "cagr",
    "calmar",
    "daily_returns",
    "longest_drawdown_days",
    "max_drawdown",
    "periods_per_year",
    "sharpe",
    "sortino",
    "total_return",
    "worst_year",
    "year_end_rows",
    "years_between",
]

DAYS_PER_YEAR = 365.25

Array = np.ndarray
#: A metric of a (dates,) curve is a float; of a (dates, K) matrix, one value per column: (K,).
Metric = Any


def _by_column(x: Array) -> Array:
    """Each curve as one contiguous row (the transpose of a (dates, K) matrix; a 1-d curve as is).

    Sums along a contiguous axis use numpy's pairwise summation for every column alike, so a
    column's mean or standard deviation is the same bits whether it is reduced alone (a single
    run) or with any number of others (a sweep chunk of any size).
    """
    return x if x.ndim == 1 else np.ascontiguousarray(x.T)


def _mean(x: Array) -> Array:
    return np.mean(_by_column(x), axis=-1)


def _std(x: Array) -> Array:
    return np.std(_by_column(x), ddof=1, axis=-1)


def _out(x: Any) -> Metric:
    """A 0-d result as a Python float, a 1-d one as a float array (one value per column)."""
    arr = np.asarray(x, dtype=np.float64)
    return float(arr) if arr.ndim == 0 else arr


def years_between(first: dt.date, last: dt.date) -> float:
    """Calendar years from ``first`` to ``last``: days / 365.25."""
    return (last - first).days / DAYS_PER_YEAR


def periods_per_year(n_dates: int, years: float) -> float:
    """(n_dates - 1) / years: trading periods per year of the run's own timeline."""
    return (n_dates - 1) / years if years > 0 else float("nan")


def daily_returns(value: Array, initial: float) -> Array:
    """r_t = V_t / V_{t-1} - 1, with V_{-1} = ``initial`` (along axis 0: one column per curve)."""
    value = np.asarray(value, dtype=np.float64)
    prev = np.concatenate([np.full((1, *value.shape[1:]), initial), value[:-1]])
    return value / prev - 1.0


def total_return(value: Array, initial: float) -> Metric:
    """V_T / initial - 1."""
    return _out(np.asarray(value)[-1] / initial - 1.0)


def cagr(value: Array, initial: float, years: float) -> Metric:
    """Compound annual growth from calendar time: (V_T / initial) ** (1 / years) - 1."""
    last = np.asarray(value, dtype=np.float64)[-1]
    if years <= 0:
        return _out(np.full(np.shape(last), np.nan))
    with np.errstate(over="ignore"):  # a huge gain over a few days annualises to inf, honestly
        return _out((last / initial) ** (1.0 / years) - 1.0)


def annual_volatility(returns: Array, ppy: float) -> Metric:
    """std(r, ddof=1) * sqrt(periods_per_year)."""
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return _out(np.full(returns.shape[1:], np.nan))
    return _out(_std(returns) * np.sqrt(ppy))


#: Excess returns whose spread is below this fraction of the returns' own size are floating-point
#: noise (cash that earns exactly the risk-free rate gives r - rf of about 1e-17): no variation.
FLAT_RTOL = 1e-10


def _excess(returns: Array, risk_free: Array | None) -> tuple[Array, Array]:
    """(r - risk-free, the size below which a deviation of it is noise), per column."""
    returns = np.asarray(returns, dtype=np.float64)
    noise = FLAT_RTOL * np.max(np.abs(returns), axis=0)
    if risk_free is not None:
        rf = np.asarray(risk_free, dtype=np.float64)
        returns = returns - (rf if returns.ndim == rf.ndim else rf.reshape(-1, *([1] * (returns.ndim - 1))))
    return returns, noise


def sharpe(returns: Array, ppy: float, *, risk_free: Array | None = None) -> Metric:
    """mean(e) / std(e, ddof=1) * sqrt(periods_per_year), e = r - risk-free return of each date.

    NaN when the excess returns have no variation (e.g. all cash, or all cash earning
    exactly the risk-free rate: a spread below ``FLAT_RTOL`` of max |r| is rounding noise).
    """
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return _out(np.full(returns.shape[1:], np.nan))
    e, noise = _excess(returns, risk_free)
    sd = _std(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(sd > noise, _mean(e) / sd * np.sqrt(ppy), np.nan))


def sortino(returns: Array, ppy: float, *, risk_free: Array | None = None) -> Metric:
    """mean(e) / sqrt(mean(min(e, 0)^2)) * sqrt(periods_per_year), e = r - risk-free return.

    The target is the risk-free return.  The downside deviation averages over
    *all* periods (zeros for up days), as in Sortino & Price (1994) and
    vectorbt's ``sortino_ratio``.
    """
    returns = np.asarray(returns, dtype=np.float64)
    if len(returns) < 2:
        return _out(np.full(returns.shape[1:], np.nan))
    e, noise = _excess(returns, risk_free)
    downside = np.sqrt(_mean(np.minimum(e, 0.0) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(downside > noise, _mean(e) / downside * np.sqrt(ppy), np.nan))


def max_drawdown(value: Array, initial: float) -> Metric:
    """min_t (V_t / max_{s<=t} V_s - 1), the initial cash counting as the first peak; <= 0."""
    value = np.asarray(value, dtype=np.float64)
    curve = np.concatenate([np.full((1, *value.shape[1:]), initial), value])
    return _out(np.min(curve / np.maximum.accumulate(curve, axis=0) - 1.0, axis=0))


def calmar(cagr_value: Metric, max_dd: Metric) -> Metric:
    """CAGR / |max drawdown|; NaN without a drawdown."""
    c, d = np.asarray(cagr_value, dtype=np.float64), np.asarray(max_dd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(d < 0, c / np.abs(d), np.nan))


def longest_drawdown_days(days: Array, value: Array, initial: float) -> Metric:
    """Longest drawdown in calendar days: from a peak to the date the curve first regains it.

        duration = (recovery date, first t with V_t >= peak; else the last date) - peak date

    ``days``: each date's calendar day number (any origin).  The peak date is the latest date
    on which the curve stood at its running maximum; ``initial`` is the first peak, dated the
    first date.  0 for a curve that never falls below its running maximum.
    """
    value = np.asarray(value, dtype=np.float64)
    shape = value.shape[1:]
    day = np.concatenate([[days[0]], np.asarray(days)]).reshape(-1, *([1] * len(shape)))
    curve = np.concatenate([np.full((1, *shape), initial), value])
    at_peak = curve >= np.maximum.accumulate(curve, axis=0)
    index = np.arange(len(curve)).reshape(-1, *([1] * len(shape)))
    peak_idx = np.maximum.accumulate(np.where(at_peak, index, 0), axis=0)
    in_or_ending = ~at_peak[1:] | ~at_peak[:-1]  # under water at t, or regaining at t
    spans = day[1:] - np.take_along_axis(np.broadcast_to(day, curve.shape), peak_idx[:-1], axis=0)
    return _out(np.max(np.where(in_or_ending, spans, 0), axis=0))


def year_end_rows(years: Array) -> Array:
    """Rows of the last date of each calendar year in ``years`` (the dates' years, ascending)."""
    years = np.asarray(years)
    return np.flatnonzero(np.append(years[1:] != years[:-1], True))


def worst_year(years: Array, value: Array, initial: float) -> Metric:
    """min_y R_y, R_y = V(last date of y) / V(last date of y - 1) - 1, the first year from ``initial``."""
    value = np.asarray(value, dtype=np.float64)
    ends = value[year_end_rows(years)]
    starts = np.concatenate([np.full((1, *value.shape[1:]), initial), ends[:-1]])
    return _out(np.min(ends / starts - 1.0, axis=0))


def betas(returns: Array, market_returns: Array) -> Metric:
    """OLS beta of each column's returns on one market's: cov(r, m, ddof=1) / var(m, ddof=1)."""
    r, mk = np.asarray(returns, dtype=np.float64), np.asarray(market_returns, dtype=np.float64)
    if len(mk) < 2:
        return _out(np.full(r.shape[1:], np.nan))
    var = np.var(mk, ddof=1)
    mk = mk.reshape(-1, *([1] * (r.ndim - 1)))
    centred = (r - (_mean(r) if r.ndim == 1 else _mean(r)[None, :])) * (mk - mk.mean())
    cov = np.sum(_by_column(centred), axis=-1) / (len(mk) - 1)
    return _out(cov / var if var > 0 else np.full(r.shape[1:], np.nan))
