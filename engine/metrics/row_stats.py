"""The statistics shown next to each row of a comparison or of a sweep's best rows.

For each row's daily excess returns: its Sharpe ratio's 95% interval (stationary bootstrap), its PSR
against a Sharpe of 0, the probability its Sharpe beats the reference's (paired bootstrap) and its
DSR deflated by the trials' Sharpe ratios (:mod:`engine.metrics.significance` defines each one).

Rows are computed on threads.  Each statistic draws its resamples from its own seeded generator, so a
row's numbers do not depend on the thread that computes it nor on the other rows: the results are
those of one row after another, bit for bit (``tests/unit/test_row_stats.py``).  Most of the work is
arch drawing resamples and numpy reducing them, which release the GIL for their bulk.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from engine.metrics import significance as sig

__all__ = ["ROW_STATS", "row_statistics"]

#: The keys of each row's statistics, in the order the tables show them.
ROW_STATS = ("sharpe_ci_low", "sharpe_ci_high", "psr", "p_beats_ref", "dsr")


def row_statistics(
    returns: Sequence[np.ndarray],
    reference: np.ndarray | None,
    *,
    periods_per_year: float,
    reps: int,
    trial_sharpes: np.ndarray | Sequence[float],
    workers: int | None = None,
) -> list[dict[str, float]]:
    """Each row's :data:`ROW_STATS`, in the order of ``returns``.

    ``reference``: the reference benchmark's daily excess returns on the same dates (None: no
    ``p_beats_ref``, NaN).  ``trial_sharpes``: the per-period Sharpe ratios of every trial the DSR
    deflates by (none: NaN).  ``workers``: threads (default: the machine's cores, at most 4).
    """
    trials = np.asarray(trial_sharpes, dtype=float)

    def one(r: np.ndarray) -> dict[str, float]:
        lo, hi = sig.sharpe_ci(r, periods_per_year=periods_per_year, reps=reps)
        return {
            "sharpe_ci_low": lo,
            "sharpe_ci_high": hi,
            "psr": sig.probabilistic_sharpe(r),
            "p_beats_ref": math.nan if reference is None else sig.sharpe_beats_probability(r, reference, reps=reps),
            "dsr": sig.deflated_sharpe(r, trial_sharpes=trials) if len(trials) else math.nan,
        }

    threads = min(len(returns), workers or min(4, os.cpu_count() or 1))
    if threads <= 1:
        return [one(r) for r in returns]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, returns))
