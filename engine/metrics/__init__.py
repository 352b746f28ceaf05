"""Metrics and statistics of equity curves, in fractions (never percent).

* :mod:`engine.metrics.specs`: every metric defined once (key, label, format, direction,
  formula, function over K curves), which runs, sweeps, compare, tables and reports read;
* :mod:`engine.metrics.returns`: return, risk and drawdown metrics of one curve or K curves side
  by side (the package exports these);
* :mod:`engine.metrics.nb`: their compiled kernels;
* :mod:`engine.metrics.frames`: pandas glue for compare and the reports (common windows, calendar
  years, regimes), computing each metric through the specs;
* :mod:`engine.metrics.significance`: bootstrap intervals, PSR, DSR, Hansen's SPA;
* :mod:`engine.metrics.tearsheet`: the tear sheet of a stored run (monthly returns, worst drawdowns, rolling
  correlation and beta, VaR, ...; what it held in :mod:`~engine.metrics.tearsheet_positions`);
* :mod:`engine.metrics.overfitting`: the probability of backtest overfitting (CSCV, in
  :mod:`~engine.metrics.cscv`) and the deflated Sharpe ratio of the best column
  (:mod:`~engine.metrics.deflated`), with their shared input checks (:mod:`~engine.metrics.matrix`).
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
    excess_returns,
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
    "excess_returns",
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
