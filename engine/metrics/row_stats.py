"""The statistics shown next to each row of a comparison or of a sweep's best rows.

For each row's daily excess returns: its Sharpe ratio's 95% interval (stationary bootstrap), its PSR
against a Sharpe of 0, the probability its Sharpe beats the reference's (paired bootstrap) and its
DSR deflated by the trials' Sharpe ratios (:mod:`engine.metrics.significance` defines each one).

The statistics that need resamples (the interval and the paired probability) are grouped by the
resamples they need (the dates and the block length: every statistic uses the same seed).  The
resamples of one set of dates come from one random stream whatever the block length, so the block
lengths are split between the threads and each thread draws the stream once for its share
(:func:`engine.metrics.resample.evaluate`).  Each thread's draws start from their own seeded generator,
so a row's numbers do not depend on the thread nor on the other rows: the results are those of each
statistic called alone, bit for bit (``tests/unit/test_row_stats.py``).  Drawing the resamples and
reducing them are compiled and release the GIL.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from engine.cores import usable_cores
from engine.metrics import significance as sig
from engine.metrics.resample import Resampled, evaluate

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
    n_trials: int | None = None,
    workers: int | None = None,
    references: Sequence[np.ndarray | None] | None = None,
) -> list[dict[str, float]]:
    """Each row's :data:`ROW_STATS`, in the order of ``returns``.

    ``reference``: the reference benchmark's daily excess returns on the same dates (None: no
    ``p_beats_ref``, NaN).  ``trial_sharpes``: the per-period Sharpe ratios of every trial the DSR
    deflates by (none: NaN); ``n_trials``: how many trials there were, those without a Sharpe ratio
    included (default: as many as ``trial_sharpes``).  ``workers``: threads (default: the cores this
    process may use, at most 4).  ``references``: for each row, the reference's returns its ``p_beats_ref``
    compares with when they are not ``reference`` (None: they are), as when the row's cash rate is not the
    reference's and both sides are measured in excess of the row's.
    """
    trials = np.asarray(trial_sharpes, dtype=float)
    rows: list[dict[str, Any]] = []
    for i, r in enumerate(returns):
        ci = sig.sharpe_ci_resampled(r, periods_per_year=periods_per_year)
        theirs = reference if references is None or references[i] is None else references[i]
        beats = math.nan if theirs is None else sig.sharpe_beats_resampled(r, theirs)
        rows.append(
            {
                "ci": ci,
                "psr": sig.probabilistic_sharpe(r),
                "p_beats_ref": beats,
                "dsr": sig.deflated_sharpe(r, trial_sharpes=trials, n_trials=n_trials) if len(trials) else math.nan,
            }
        )
    # the statistics that need resamples: one stream per set of dates and thread (module docstring)
    pending = [
        (i, key) for i, row in enumerate(rows) for key in ("ci", "p_beats_ref") if isinstance(row[key], Resampled)
    ]
    plans = [rows[i][key] for i, key in pending]
    threads = min(len({p.key for p in plans}), workers or min(4, usable_cores()))
    if threads <= 1:
        done = evaluate(plans, reps=reps, seed=sig.DEFAULT_SEED)
    else:
        with ThreadPoolExecutor(threads) as pool:
            done = evaluate(plans, reps=reps, seed=sig.DEFAULT_SEED, map_groups=pool.map, parts=threads)
    for (i, key), value in zip(pending, done, strict=True):
        rows[i][key] = value
    return [
        {
            "sharpe_ci_low": row["ci"][0],
            "sharpe_ci_high": row["ci"][1],
            "psr": row["psr"],
            "p_beats_ref": row["p_beats_ref"],
            "dsr": row["dsr"],
        }
        for row in rows
    ]
