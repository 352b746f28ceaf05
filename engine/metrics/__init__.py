"""Metrics and statistics of equity curves, in fractions (never percent).

* :mod:`engine.metrics.returns`: return, risk and drawdown metrics of one curve or K curves side
  by side (the package exports these);
* :mod:`engine.metrics.nb`: their compiled kernels;
* :mod:`engine.metrics.frames`: the same metrics on dated pandas series (common windows, calendar
  years, relative metrics, regimes), as compare and the reports use them;
* :mod:`engine.metrics.significance`: bootstrap intervals, PSR, DSR, Hansen's SPA;
* :mod:`engine.metrics.overfitting`: the probability of backtest overfitting (CSCV).
"""

from engine.metrics.returns import (
    annual_volatility,
    average,
    average_weights,
    betas,
    cagr,
    calmar,
    daily_returns,
    drawdowns,
    longest_drawdown_days,
    max_drawdown,
    periods_per_year,
    risk_ratios,
    sharpe,
    sortino,
    total_return,
    worst_year,
    year_end_rows,
    years_between,
)

__all__ = [
    "annual_volatility",
    "average",
    "average_weights",
    "betas",
    "cagr",
    "calmar",
    "daily_returns",
    "drawdowns",
    "longest_drawdown_days",
    "max_drawdown",
    "periods_per_year",
    "risk_ratios",
    "sharpe",
    "sortino",
    "total_return",
    "worst_year",
    "year_end_rows",
    "years_between",
]
