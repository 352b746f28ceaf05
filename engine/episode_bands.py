"""How uncertain a correlation episode's value is: Fisher z and block-bootstrap bands (docs/episodes.md).

A rolling correlation r of n paired observations has, under the usual approximation, atanh(r)
normal with standard error 1/sqrt(n - 3):

* the 95% Fisher interval is tanh(atanh(r) -/+ 1.959964 / sqrt(n - 3));
* an earlier value r' is *indistinguishable* from r when |atanh(r) - atanh(r')| < 1.959964 x
  sqrt(2 / (n - 3)), the two-sided 5% test of equal correlations in independent samples;
* the circular block bootstrap (arch's ``CircularBlockBootstrap`` resamples, drawn by
  :func:`engine.metrics.pcg64.circular_draws`) resamples the n pairs in blocks of ceil(n^(1/3)),
  keeping the short-range dependence of daily returns, and takes the 2.5% and 97.5% quantiles of
  the resampled correlations.  Circular, not moving: a moving block rarely draws the first and last pairs of the
  window, so one large move at either end (often what made the value extreme) would be under-weighted
  and the band pulled away from the value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.metrics.pcg64 import circular_draws

__all__ = ["BOOTSTRAP_REPS", "Z95", "Band", "Indistinguishable", "bootstrap_band", "fisher_band", "indistinguishable"]

#: The two-sided 95% normal quantile.
Z95 = 1.959963984540054
#: Resamples of the block bootstrap.
BOOTSTRAP_REPS = 2000


@dataclass(frozen=True)
class Band:
    low: float
    high: float


@dataclass(frozen=True)
class Indistinguishable:
    """Earlier observations the test cannot tell apart from the value: how many, first and last, share."""

    count: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    share: float


def fisher_band(r: float, n: int) -> Band | None:
    """The 95% Fisher z interval of a correlation ``r`` of ``n`` pairs (None when n <= 3 or |r| = 1)."""
    if n <= 3 or not -1.0 < r < 1.0:
        return None
    z, half = math.atanh(r), Z95 / math.sqrt(n - 3)
    return Band(math.tanh(z - half), math.tanh(z + half))


def indistinguishable(r: float, n: int, earlier: np.ndarray, dates: pd.DatetimeIndex) -> Indistinguishable | None:
    """The earlier values (``earlier``, on ``dates``) not distinguishable from ``r`` at the 5% level.

    ``share`` is their fraction of the earlier values: NaN when there is none (0 of 0 is no share)."""
    if n <= 3 or not -1.0 < r < 1.0:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        close = np.abs(np.arctanh(earlier) - math.atanh(r)) < Z95 * math.sqrt(2.0 / (n - 3))
    hits = np.flatnonzero(close)
    share = len(hits) / len(earlier) if len(earlier) else math.nan
    if not len(hits):
        return Indistinguishable(0, None, None, share)
    return Indistinguishable(len(hits), dates[hits[0]], dates[hits[-1]], share)


def bootstrap_band(pairs: np.ndarray, *, reps: int = BOOTSTRAP_REPS, seed: int = 0) -> Band | None:
    """2.5% and 97.5% quantiles of the correlation over circular-block resamples of the (n, 2) ``pairs``."""
    n = len(pairs)
    if n <= 3:
        return None
    block = next(b for b in range(1, n + 1) if b**3 >= n)  # ceil(n^(1/3)) in integers (27 -> 3, not 4)
    # the resamples CircularBlockBootstrap(block, pairs, seed=seed).bootstrap(reps) draws, without importing arch
    idx = circular_draws(n, block=block, reps=reps, seed=seed)
    x, y = pairs[idx, 0], pairs[idx, 1]
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = (x * y).sum(axis=1) / np.sqrt((x * x).sum(axis=1) * (y * y).sum(axis=1))
    draws = draws[np.isfinite(draws)]
    if not len(draws):
        return None
    low, high = np.quantile(draws, [0.025, 0.975])
    return Band(float(low), float(high))
