"""Deflated Sharpe ratio of the best column of a parameter sweep (Bailey & López de Prado 2014).

Pure functions over a (T, N) numpy matrix of per-period simple returns (fractions): row t is a
date, column n one combination of a sweep, every column on the same dates.  No I/O.  A NaN or
infinite value is a caller bug (align the dates first) and raises ``ValueError``.

Units and conventions are those of ``engine.metrics.significance``: the "per-period" Sharpe ratio
SR = mean(r) / std(r, ddof=1) with a zero risk-free rate, not annualised (multiply by
sqrt(periods_per_year) to annualise); skewness and non-excess kurtosis from population moments.
The formulas of SR0 and the PSR live in ``engine.metrics.significance.expected_max_sharpe`` and
``engine.metrics.significance.probabilistic_sharpe``; this module picks the best column and
composes them.

References
----------
* Bailey, D. H. & López de Prado, M. (2014). The deflated Sharpe ratio: correcting for
  selection bias, backtest overfitting and non-normality. *J. Portfolio Management* 40(5), 94-107.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.metrics.matrix import FLAT_SS_RTOL, check_int, returns_matrix
from engine.metrics.significance import MIN_OBS, expected_max_sharpe, probabilistic_sharpe

__all__ = ["DeflatedBest", "deflated_sharpe_of_best"]


@dataclass(frozen=True)
class DeflatedBest:
    """The outcome of ``deflated_sharpe_of_best``; Sharpe ratios per period, not annualised.

    Attributes
    ----------
    best_index:
        Column with the highest per-period Sharpe ratio (the lowest index among equals).
    sharpe:
        Its per-period Sharpe ratio SR.
    sr0:
        Expected maximum per-period Sharpe ratio of ``n_trials`` zero-skill trials.
    dsr:
        PSR(SR0): the probability that the best column's true Sharpe ratio exceeds SR0.
    n_trials:
        N used in SR0.
    var_sharpe:
        V, the sample variance (ddof=1) of the columns' per-period Sharpe ratios.
    """

    best_index: int
    sharpe: float
    sr0: float
    dsr: float
    n_trials: int
    var_sharpe: float


def _column_sharpes(r: np.ndarray) -> np.ndarray:
    """Per-period Sharpe ratio of every column, mean / std(ddof=1); NaN for a flat column."""
    mean = r.mean(axis=0)
    dev = r - mean
    ss = np.einsum("ij,ij->j", dev, dev)
    flat = ss <= FLAT_SS_RTOL * np.einsum("ij,ij->j", r, r)
    sd = np.sqrt(np.where(flat, 1.0, ss) / (r.shape[0] - 1))
    return np.where(flat, np.nan, mean / sd)


def deflated_sharpe_of_best(returns: np.ndarray, *, n_trials: int | None = None) -> DeflatedBest:
    """Deflated Sharpe ratio of the sweep's best column (Bailey & López de Prado 2014).

        SR_n = mean(r_n) / std(r_n, ddof=1),  n* = argmax_n SR_n,  V = var(SR_1..SR_N, ddof=1)
        SR0 = ``expected_max_sharpe(n_trials, V)``,  DSR = ``probabilistic_sharpe(r_{n*}, SR0)``

    The same composition as ``engine.metrics.significance.deflated_sharpe``, whose N is the number
    of trial Sharpe ratios passed; here N defaults to the number of columns and may be set to
    any N >= 1: higher when more combinations were tried than the matrix holds, lower for
    correlated ones.  Correlated combinations (neighbouring parameter values) are fewer independent
    trials than columns, so the default N makes SR0 too high and the DSR conservative.  No
    estimate of the effective number of trials is offered: the average-correlation and
    clustering estimates in the literature were not implemented against a published worked
    example, so pass your own ``n_trials`` if you have one.  Flat columns (zero variance, e.g.
    always in cash) have no Sharpe ratio: they cannot be the best and are left out of V, but
    count as trials in the default N.

    Parameters
    ----------
    returns:
        Per-period simple returns (fractions), shape (T, N): T >= 3 dates, N >= 1 columns.
    n_trials:
        Number of independent trials N in SR0 (>= 1); None: the number of columns.

    Returns
    -------
    DeflatedBest, Sharpe ratios per period (annualising is the caller's job).

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> r = rng.normal(0.0, 0.01, (1000, 50))
    >>> r[:, 7] += 0.002  # per-period Sharpe about 0.2, well above the best of 50 noise columns
    >>> best = deflated_sharpe_of_best(r)
    >>> best.best_index, best.n_trials, bool(best.dsr > 0.99)
    (7, 50, True)
    """
    r = returns_matrix(returns, min_columns=1)
    if r.shape[0] < MIN_OBS:
        raise ValueError(f"returns need at least {MIN_OBS} rows for a Sharpe ratio, got {r.shape[0]}")
    sharpes = _column_sharpes(r)
    finite = ~np.isnan(sharpes)
    if not finite.any():
        raise ValueError("every column has zero variance: no Sharpe ratio to deflate")
    best = int(np.argmax(np.where(finite, sharpes, -np.inf)))
    trials = sharpes[finite]
    n = r.shape[1] if n_trials is None else check_int(n_trials, "n_trials")
    var = float(np.var(trials, ddof=1)) if len(trials) > 1 else 0.0
    sr0 = expected_max_sharpe(n, var)
    return DeflatedBest(
        best_index=best,
        sharpe=float(sharpes[best]),
        sr0=sr0,
        dsr=probabilistic_sharpe(r[:, best], benchmark_sharpe=sr0),
        n_trials=n,
        var_sharpe=var,
    )
