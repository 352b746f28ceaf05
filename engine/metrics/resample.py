"""Stationary-bootstrap resamples exactly as ``arch`` draws them, handed out in batches.

``arch.bootstrap.StationaryBootstrap.bootstrap(reps)`` hands one resample at a time to a Python
callback, which then reduces one series: for a statistic over a few thousand dates that is
dominated by the per-resample Python work.  Here arch draws the same index vectors from the same
generator (its ``update_indices``, in the same order, so the random stream is unchanged), and the
caller reduces a whole batch of resamples as the columns of one (dates, batch) array.  Column
reductions of :mod:`engine.metrics` (one pass per column in date order) give every resample the
same bits as the callback would.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

__all__ = ["BATCH", "optimal_block", "stationary_indices"]

#: Resamples per batch: a batch of 100 resamples of 6,000 dates gathers 4.8 MB per series.
BATCH = 100


def optimal_block(x: np.ndarray) -> int:
    """Mean of arch's Politis-White stationary-bootstrap block lengths over the columns of ``x``.

    Rounded to an integer (``arch`` types ``block_size`` as ``int``) and floored at 1 (a
    block of 1 is the iid bootstrap, the estimate for serially uncorrelated data).
    """
    from arch.bootstrap import optimal_block_length  # about 1.5 s to import: only when a statistic needs it

    lengths = optimal_block_length(x)["stationary"].to_numpy(dtype=float)
    mean = float(np.mean(lengths))
    return max(1, round(mean)) if math.isfinite(mean) else 1


def stationary_indices(n: int, *, block: int, reps: int, seed: int, batch: int = BATCH) -> Iterator[np.ndarray]:
    """(b, n) index arrays, b <= ``batch``, of ``reps`` resamples of n dates in all: the indices
    ``arch.bootstrap.StationaryBootstrap(block, x, seed=np.random.default_rng(seed)).bootstrap(reps)``
    resamples any x of n rows with, in the same order."""
    from arch.bootstrap import StationaryBootstrap

    bs = StationaryBootstrap(block, np.empty(n), seed=np.random.default_rng(seed))
    for start in range(0, reps, batch):
        yield np.stack([bs.update_indices() for _ in range(min(batch, reps - start))])
