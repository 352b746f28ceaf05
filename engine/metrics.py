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

Each metric's formula is in its docstring.  They are cross-checked in the
tests against vectorbt's returns accessor with the same annualisation.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = [
    "annual_volatility",
    "cagr",
    "calmar",
    "daily_returns",
    "max_drawdown",
    "periods_per_year",
    "sharpe",
    "sortino",
    "total_return",
    "years_between",
]

DAYS_PER_YEAR = 365.25


def years_between(first: dt.date, last: dt.date) -> float:
    """Calendar years from ``first`` to ``last``: days / 365.25."""
    return (last - first).days / DAYS_PER_YEAR


def periods_per_year(n_dates: int, years: float) -> float:
    """(n_dates - 1) / years: trading periods per year of the run's own timeline."""
    return (n_dates - 1) / years if years > 0 else float("nan")


def daily_returns(value: np.ndarray, initial: float) -> np.ndarray:
    """r_t = V_t / V_{t-1} - 1, with V_{-1} = ``initial``."""
    prev = np.concatenate([[initial], value[:-1]])
    return value / prev - 1.0


def total_return(value: np.ndarray, initial: float) -> float:
    """V_T / initial - 1."""
    return float(value[-1] / initial - 1.0)


def cagr(value: np.ndarray, initial: float, years: float) -> float:
    """Compound annual growth from calendar time: (V_T / initial) ** (1 / years) - 1."""
    if years <= 0:
        return float("nan")
    with np.errstate(over="ignore"):  # a huge gain over a few days annualises to inf, honestly
        return float(np.float64(value[-1] / initial) ** (1.0 / years) - 1.0)


def annual_volatility(returns: np.ndarray, ppy: float) -> float:
    """std(r, ddof=1) * sqrt(periods_per_year)."""
    if len(returns) < 2:
        return float("nan")
    return float(np.std(returns, ddof=1) * np.sqrt(ppy))


#: Excess returns whose spread is below this fraction of the returns' own size are floating-point
#: noise (cash that earns exactly the risk-free rate gives r - rf of about 1e-17): no variation.
FLAT_RTOL = 1e-10


def _excess(returns: np.ndarray, risk_free: np.ndarray | None) -> tuple[np.ndarray, float]:
    """(r - risk-free, the size below which a deviation of it is noise)."""
    noise = FLAT_RTOL * float(np.max(np.abs(returns))) if len(returns) else 0.0
    return (returns if risk_free is None else returns - risk_free), noise


def sharpe(returns: np.ndarray, ppy: float, *, risk_free: np.ndarray | None = None) -> float:
    """mean(e) / std(e, ddof=1) * sqrt(periods_per_year), e = r - risk-free return of each date.

    NaN when the excess returns have no variation (e.g. all cash, or all cash earning
    exactly the risk-free rate: a spread below ``FLAT_RTOL`` of max |r| is rounding noise).
    """
    if len(returns) < 2:
        return float("nan")
    returns, noise = _excess(returns, risk_free)
    sd = np.std(returns, ddof=1)
    return float(np.mean(returns) / sd * np.sqrt(ppy)) if sd > noise else float("nan")


def sortino(returns: np.ndarray, ppy: float, *, risk_free: np.ndarray | None = None) -> float:
    """mean(e) / sqrt(mean(min(e, 0)^2)) * sqrt(periods_per_year), e = r - risk-free return.

    The target is the risk-free return.  The downside deviation averages over
    *all* periods (zeros for up days), as in Sortino & Price (1994) and
    vectorbt's ``sortino_ratio``.
    """
    if len(returns) < 2:
        return float("nan")
    returns, noise = _excess(returns, risk_free)
    downside = np.sqrt(np.mean(np.minimum(returns, 0.0) ** 2))
    return float(np.mean(returns) / downside * np.sqrt(ppy)) if downside > noise else float("nan")


def max_drawdown(value: np.ndarray, initial: float) -> float:
    """min_t (V_t / max_{s<=t} V_s - 1), the initial cash counting as the first peak; <= 0."""
    curve = np.concatenate([[initial], value])
    return float(np.min(curve / np.maximum.accumulate(curve) - 1.0))


def calmar(cagr_value: float, max_dd: float) -> float:
    """CAGR / |max drawdown|; NaN without a drawdown."""
    return float(cagr_value / abs(max_dd)) if max_dd < 0 else float("nan")
