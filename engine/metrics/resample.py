"""Stationary-bootstrap resamples exactly as ``arch`` draws them, handed out in batches.

``arch.bootstrap.StationaryBootstrap.bootstrap(reps)`` hands one resample at a time to a Python
callback, which then reduces one series: for a statistic over a few thousand dates that is
dominated by the per-resample Python work.  Here arch draws the same index vectors from the same
generator (its ``update_indices``, in the same order, so the random stream is unchanged), and the
caller reduces a whole batch of resamples as the columns of one (dates, batch) array.  Column
reductions of :mod:`engine.metrics` (one pass per column in date order) give every resample the
same bits as the callback would.  The resamples depend only on the number of dates, the block length,
the number of resamples and the seed, so the last few sets drawn are kept for the next statistic.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Iterator

import numpy as np

__all__ = ["BATCH", "KEPT", "optimal_block", "stationary_indices"]

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
    resamples any x of n rows with, in the same order.

    They depend on (n, block, reps, seed) only, so the last :data:`KEPT` sets drawn are kept: the
    statistics of several series of the same dates (a comparison's rows, a sweep's best rows) whose
    block lengths agree draw them once (arch draws 2n random numbers per resample, most of the cost).
    """
    with _LOCKS_GUARD:  # threads that need the same set (rows' statistics in parallel) wait for one draw
        lock = _LOCKS.setdefault((n, block, reps, seed), threading.Lock())
    with lock:
        drawn = _drawn(n, block, reps, seed)
    for start in range(0, reps, batch):
        yield drawn[start : start + batch]


#: Index sets kept by :func:`stationary_indices` (2,000 resamples of 6,000 dates take 48 MB as int32).
KEPT = 4

_LOCKS: dict[tuple[int, int, int, int], threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


@functools.lru_cache(maxsize=KEPT)
def _drawn(n: int, block: int, reps: int, seed: int) -> np.ndarray:
    """The (reps, n) indices of :func:`stationary_indices`, read-only."""
    from arch.bootstrap import StationaryBootstrap

    bs = StationaryBootstrap(block, np.empty(n), seed=np.random.default_rng(seed))
    dtype = np.int32 if n < 2**31 else np.int64
    out = np.empty((reps, n), dtype=dtype)
    for i in range(reps):
        out[i] = bs.update_indices()
    out.flags.writeable = False
    return out
