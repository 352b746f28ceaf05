"""Overfitting statistics for parameter sweeps: PBO by CSCV, and the deflated Sharpe ratio of the best.

One import for both controls a sweep shows; each lives in its own module, with its formulas,
conventions and references:

* :mod:`engine.metrics.cscv`: the probability of backtest overfitting by combinatorially symmetric
  cross-validation (``pbo_cscv``, ``pbo_from_block_sums``, ``logit_histogram``, ``PBOResult``);
* :mod:`engine.metrics.deflated`: the deflated Sharpe ratio of the best column
  (``deflated_sharpe_of_best``, ``DeflatedBest``);
* :mod:`engine.metrics.matrix`: the input checks they share.

Both take a (T, N) numpy matrix of per-period simple returns (fractions): row t a date, column n
one combination of a sweep, every column on the same dates; Sharpe ratios are per period, not
annualised (``engine.metrics.significance``'s units).

>>> import numpy as np
>>> r = np.random.default_rng(0).normal(0.0, 0.01, (400, 10))
>>> r[:, 3] += 0.01  # one combination with a real edge in every block
>>> pbo_cscv(r, n_splits=8).pbo, deflated_sharpe_of_best(r).best_index
(0.0, 3)
"""

from __future__ import annotations

from engine.metrics.cscv import MAX_ENUMERATED_SPLITS, PBOResult, logit_histogram, pbo_cscv, pbo_from_block_sums
from engine.metrics.deflated import DeflatedBest, deflated_sharpe_of_best

__all__ = [
    "MAX_ENUMERATED_SPLITS",
    "DeflatedBest",
    "PBOResult",
    "deflated_sharpe_of_best",
    "logit_histogram",
    "pbo_cscv",
    "pbo_from_block_sums",
]
