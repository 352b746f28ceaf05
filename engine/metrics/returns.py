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
from typing import Any, NamedTuple

import numpy as np

from engine.metrics.nb import (
    covariances_nb,
    curve_passes_nb,
    drawdowns_nb,
    means_nb,
    moments_nb,
    resampled_sharpes_nb,
    returns_nb,
    weights_nb,
)

__all__ = [
    "CurvePasses",
    "annual_volatility",
    "average",
    "average_weights",
    "betas",
    "betas_from_covariances",
    "cagr",
    "calmar",
    "curve_passes",
    "daily_returns",
    "drawdowns",
    "excess_returns",
    "longest_drawdown_days",
    "max_drawdown",
    "periods_per_year",
    "ratios_from_moments",
    "resampled_sharpes",
    "risk_ratios",
    "sharpe",
    "sharpe_from_moments",
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


def _columns(x: Array) -> Array:
    """A (dates,) curve or (dates, K) matrix as a C-ordered (dates, K) float matrix for the kernels.

    The compiled kernels below reduce each column in date order, the same operations whatever
    the other columns are, so a column's metrics are the same bits whether it is scored alone
    (a single run) or beside any number of others (a sweep chunk of any size).
    """
    x = np.asarray(x, dtype=np.float64)
    return np.ascontiguousarray(x.reshape(len(x), -1))


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


def daily_returns(value: Array, initial: float | Array) -> Array:
    """r_t = V_t / V_{t-1} - 1, with V_{-1} = ``initial`` (along axis 0: one column per curve)."""
    value = np.asarray(value, dtype=np.float64)
    if value.ndim == 2:  # one compiled pass, the same bits as the division below
        start = np.ascontiguousarray(np.broadcast_to(np.asarray(initial, dtype=np.float64), value.shape[1:]))
        return returns_nb(np.ascontiguousarray(value), start)
    prev = np.concatenate([np.full((1, *value.shape[1:]), initial), value[:-1]])
    return value / prev - 1.0


def excess_returns(returns: Array, risk_free: Array | float) -> Array:
    """``returns - risk_free`` (along axis 0: one column per curve), a difference within ``FLAT_RTOL`` of the
    column's max |r| taken as 0: cash earning the risk-free rate leaves r - rf of about 1e-17, rounding noise
    (a run's value grows by the rate, its return is that growth divided back), not a return.

    The series the statistics drawn from a run's excess returns take (the Sharpe interval, PSR, P(SR>ref), DSR):
    a resample of a run's days that holds nothing then has no Sharpe ratio, as a run that holds nothing has
    none (:func:`sharpe`), rather than a Sharpe ratio of noise.  A day's excess return that small while
    invested would be a return equal to the rate to 1e-10 of the run's largest move.
    """
    r = np.asarray(returns, dtype=np.float64)
    e = r - np.asarray(risk_free, dtype=np.float64)
    size = np.max(np.abs(r), axis=0) if len(r) else 0.0
    return np.where(np.abs(e) <= FLAT_RTOL * size, 0.0, e)


def total_return(value: Array, initial: float | Array) -> Metric:
    """V_T / initial - 1."""
    return _out(np.asarray(value)[-1] / initial - 1.0)


def cagr(value: Array, initial: float | Array, years: float) -> Metric:
    """Compound annual growth from calendar time: (V_T / initial) ** (1 / years) - 1; NaN when V_T <= 0
    (a margin account that lost more than everything has no growth rate, docs/shorts.md)."""
    last = np.asarray(value, dtype=np.float64)[-1]
    if years <= 0:
        return _out(np.full(np.shape(last), np.nan))
    growth = np.where(last > 0, last / initial, np.nan)
    with np.errstate(over="ignore", invalid="ignore"):  # a huge gain over a few days annualises to inf, honestly
        return _out(growth ** (1.0 / years) - 1.0)


def _stats(returns: Array, risk_free: Array | None) -> tuple[Array, Array, Array, Array, Array]:
    """:func:`moments_nb` of ``returns`` (dates,) or (dates, K) less the per-date ``risk_free``."""
    r = _columns(returns)
    rf = np.zeros(len(r)) if risk_free is None else np.asarray(risk_free, dtype=np.float64).reshape(-1)
    return moments_nb(r, np.ascontiguousarray(np.broadcast_to(rf, (len(r),))))


def _shaped(x: Array, returns: Array) -> Metric:
    """Per-column results as the caller's shape: a float for a (dates,) input."""
    return _out(x[0] if np.ndim(returns) == 1 else x)


#: Excess returns whose spread is below this fraction of the returns' own size are floating-point
#: noise (cash that earns exactly the risk-free rate gives r - rf of about 1e-17): no variation.
FLAT_RTOL = 1e-10


def risk_ratios(returns: Array, ppy: float, *, risk_free: Array | None = None) -> tuple[Metric, Metric, Metric]:
    """(:func:`annual_volatility`, :func:`sharpe`, :func:`sortino`) of the same returns, from one pass."""
    if len(returns) < 2:
        nan = _out(np.full(np.shape(returns)[1:], np.nan))
        return nan, nan, nan
    vol, sharpe_, sortino_ = (_shaped(x, returns) for x in ratios_from_moments(_stats(returns, risk_free), ppy))
    return vol, sharpe_, sortino_


def ratios_from_moments(moments: tuple[Array, Array, Array, Array, Array], ppy: float) -> tuple[Array, Array, Array]:
    """(annual volatility, Sharpe, Sortino) per column from :func:`moments_nb`'s (mean, std, downside,
    max |r|, std of r) of the excess returns e: ``std(r) * root``, ``mean(e) / std(e) * root`` and
    ``mean(e) / downside * root`` (root = sqrt(``ppy``)), a ratio NaN when its denominator is within
    ``FLAT_RTOL`` of max |r| (rounding noise, not variation)."""
    mean, sd, downside, biggest, sd_raw = moments
    root = np.sqrt(ppy)
    return sd_raw * root, sharpe_from_moments(mean, sd, biggest, ppy), sharpe_from_moments(mean, downside, biggest, ppy)


def sharpe_from_moments(mean: Array, spread: Array, biggest: Array, ppy: float) -> Array:
    """``mean / spread * sqrt(ppy)`` per column; NaN where ``spread`` is within ``FLAT_RTOL`` of ``biggest``
    (max |r|): a spread that small is rounding noise, not variation."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > FLAT_RTOL * biggest, mean / spread * np.sqrt(ppy), np.nan)


class CurvePasses(NamedTuple):
    """Per-column sums of K curves from two compiled passes over their values (:func:`curve_passes`)."""

    excess: tuple[Array, Array, Array, Array, Array]  # moments_nb of r against rf (ratios_from_moments' input)
    active: tuple[Array, Array, Array]  # mean, std (ddof=1) and max |d| of d = r - r_reference
    drawdowns: tuple[Array, Array]  # max drawdown, longest drawdown in days
    mean_value: Array  # :func:`average` of the values
    covariances: Array  # (M, K): cov(r[1:], market[:, q], ddof=1) per market column q
    block_sum: Array  # (blocks, K) sums of r - rf over equal runs of dates ending at the last
    block_sq: Array  # (blocks, K) sums of (r - rf)^2 over the same runs


def curve_passes(
    value: Array,
    initial: float | Array,
    days: Array,
    *,
    risk_free: Array | None = None,
    reference_returns: Array | None = None,
    market: Array | None = None,
    blocks: int = 0,
) -> CurvePasses:
    """:class:`CurvePasses` of the (dates, K) curves ``value`` (:func:`engine.metrics.nb.curve_passes_nb`):
    the sums of :func:`risk_ratios`, :func:`drawdowns`, :func:`average`, the active returns' moments and
    :func:`betas`' covariances, the same bits; the first pass writes the daily returns, which the second reads.

    ``days``: calendar days of each date from the first; ``risk_free``: (dates,) per-date returns (None:
    zero); ``reference_returns``: (dates,) the reference's daily returns (None: the active sums are those
    of zero); ``market``: (dates - 1, M) returns the covariances are taken against (None: none);
    ``blocks``: the number of equal runs of dates for the block sums (0: none; at least 2 dates each).
    """
    v = np.ascontiguousarray(value, dtype=np.float64)
    n, k = v.shape
    zeros = np.zeros(n)
    size = n // blocks if blocks else 0
    if blocks and size < 2:
        raise ValueError(f"{blocks} blocks of {n} dates: fewer than 2 dates each")
    out = curve_passes_nb(
        v,
        np.ascontiguousarray(np.broadcast_to(np.asarray(initial, dtype=np.float64), (k,))),
        zeros if risk_free is None else np.ascontiguousarray(risk_free, dtype=np.float64),
        zeros if reference_returns is None else np.ascontiguousarray(reference_returns, dtype=np.float64),
        np.ascontiguousarray(days, dtype=np.float64),
        np.zeros((max(n - 1, 0), 0)) if market is None else np.ascontiguousarray(market, dtype=np.float64),
        blocks,
        size,
    )
    return CurvePasses((out[0], out[1], out[2], out[3], out[4]), (out[5], out[6], out[7]), (out[8], out[9]), *out[10:])


def annual_volatility(returns: Array, ppy: float) -> Metric:
    """std(r, ddof=1) * sqrt(periods_per_year)."""
    return risk_ratios(returns, ppy)[0]


def sharpe(returns: Array, ppy: float, *, risk_free: Array | None = None) -> Metric:
    """mean(e) / std(e, ddof=1) * sqrt(periods_per_year), e = r - risk-free return of each date.

    NaN when the excess returns have no variation (e.g. all cash, or all cash earning
    exactly the risk-free rate: a spread below ``FLAT_RTOL`` of max |r| is rounding noise).
    """
    return risk_ratios(returns, ppy, risk_free=risk_free)[1]


def resampled_sharpes(returns: Array, index: Array, ppy: float) -> Array:
    """``sharpe(returns[index.T], ppy)``, bit for bit, without building the (dates, reps) array.

    ``returns``: (dates,) returns, no risk-free deduction; ``index``: (reps, dates) integer rows, each
    a resample's positions.  One Sharpe ratio per row of ``index``.
    """
    r = np.ascontiguousarray(returns, dtype=np.float64)
    return resampled_sharpes_nb(r, np.ascontiguousarray(index), float(np.sqrt(ppy)), FLAT_RTOL)


def sortino(returns: Array, ppy: float, *, risk_free: Array | None = None) -> Metric:
    """mean(e) / sqrt(mean(min(e, 0)^2)) * sqrt(periods_per_year), e = r - risk-free return.

    The target is the risk-free return.  The downside deviation averages over
    *all* periods (zeros for up days), as in Sortino & Price (1994) and
    vectorbt's ``sortino_ratio``.
    """
    return risk_ratios(returns, ppy, risk_free=risk_free)[2]


def average(x: Array) -> Metric:
    """The mean of each column over the dates, summed in date order (the same bits in any chunk)."""
    return _shaped(means_nb(_columns(x)), x)


def average_weights(units: Array, unit_value: Array, value: Array) -> Array:
    """(K, A) mean end-of-day weight of each asset: mean over dates of units x unit value / portfolio value.

    ``units``: (dates, K*A) units held (column k*A + j: column k's asset j), ``unit_value``: (dates, A),
    ``value``: (dates,) or (dates, K) in the same money.  Summed in date order per column.
    """
    return weights_nb(_columns(units), _columns(unit_value), _columns(value))


def _drawdowns(value: Array, initial: float | Array, days: Array | None = None) -> tuple[Array, Array]:
    v = _columns(value)
    d = np.zeros(len(v)) if days is None else np.asarray(days, dtype=np.float64)
    start = np.array(np.broadcast_to(np.asarray(initial, dtype=np.float64), (v.shape[1],)))  # one per column
    return drawdowns_nb(v, start, np.ascontiguousarray(d))


def drawdowns(days: Array, value: Array, initial: float | Array) -> tuple[Metric, Metric]:
    """(:func:`max_drawdown`, :func:`longest_drawdown_days`) of the same curves, in one pass.

    ``initial``: the value before the first date, one for every column or (K,), one per column.
    """
    deepest, longest = _drawdowns(value, initial, days)
    return _shaped(deepest, value), _shaped(longest, value)


def max_drawdown(value: Array, initial: float | Array) -> Metric:
    """min_t (V_t / max_{s<=t} V_s - 1), the initial cash counting as the first peak; <= 0."""
    return _shaped(_drawdowns(value, initial)[0], value)


def calmar(cagr_value: Metric, max_dd: Metric) -> Metric:
    """CAGR / |max drawdown|; NaN without a drawdown."""
    c, d = np.asarray(cagr_value, dtype=np.float64), np.asarray(max_dd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(d < 0, c / np.abs(d), np.nan))


def longest_drawdown_days(days: Array, value: Array, initial: float | Array) -> Metric:
    """Longest drawdown in calendar days: from a peak to the date the curve first regains it.

        duration = (recovery date, first t with V_t >= peak; else the last date) - peak date

    ``days``: each date's calendar day number (any origin).  The peak date is the latest date
    on which the curve stood at its running maximum; ``initial`` is the first peak, dated the
    first date.  0 for a curve that never falls below its running maximum.
    """
    return _shaped(_drawdowns(value, initial, days)[1], value)


def year_end_rows(years: Array) -> Array:
    """Rows of the last date of each calendar year in ``years`` (the dates' years, ascending)."""
    years = np.asarray(years)
    return np.flatnonzero(np.append(years[1:] != years[:-1], True))


def worst_year(years: Array, value: Array, initial: float | Array) -> Metric:
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
    return _shaped(betas_from_covariances(covariances_nb(_columns(r), np.ascontiguousarray(mk)), mk), r)


def betas_from_covariances(cov: Array, market_returns: Array) -> Array:
    """cov / var(market_returns, ddof=1) per column (``cov``: each column's covariance with the market's
    returns); NaN without variation in the market's returns or with fewer than two of them."""
    mk = np.asarray(market_returns, dtype=np.float64)
    var = np.var(mk, ddof=1) if len(mk) >= 2 else np.nan
    if not var > 0:
        return np.full(np.shape(cov), np.nan)
    return np.asarray(cov) / var
