"""The compiled pieces CSCV scores a split with: a half's metric from block sums, the largest of many, and ranks
with ties (:mod:`engine.metrics.cscv_splits` and :mod:`engine.metrics.cscv_tiles` put them together).

Ties (:mod:`engine.metrics.cscv`): an out-of-sample value x ranks above the columns below ``x - tie_rtol |x|``
and shares the midrank of those within ``tie_rtol |x|`` of it (:func:`tie_counts`, one pass over the columns for one
value).  A split with :data:`MANY` tied winners or more counts all of them in one pass instead
(:func:`tie_bounds`, :func:`bounds_counts`, :func:`bounds_ranks`): the winners' bounds ``x -+ tie_rtol |x|`` are
sorted, each column finds by binary search the winners whose lower bound it is below and whose upper bound it is
at most, into difference arrays, and a winner's counts are their prefix sums: O(N log m) for m winners instead of
O(N m), the same integers.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "MANY",
    "bounds_counts",
    "bounds_ranks",
    "first_max",
    "half_metric",
    "half_sums",
    "pair_metrics",
    "settle",
    "settle_winners",
    "tie_bounds",
    "tie_counts",
    "tie_floor",
]

#: From this many tied winners a split's counts go through their sorted bounds (:func:`bounds_counts`).
MANY = 4


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def half_metric(a, q, center, rows, sharpe, flat_rtol):  # pragma: no cover - compiled
    """A half's metric from its sums ``a`` (of d) and ``q`` (of d^2), d the returns less the column mean
    ``center``: the mean, or mean / std(ddof=1) (0.0, cash's, when the half is flat).  Without a branch on the
    data: a flat half's ratio is computed too (with numpy's error model an IEEE inf or NaN, never an exception)
    and replaced, so the loops calling this run on the vector units."""
    mean = a / rows
    mean = mean + center
    if not sharpe:
        return mean
    tolerance = q * flat_rtol
    square = a * a
    square = square / rows
    q = q - square
    flat = q <= tolerance
    q = q / (rows - 1)
    value = mean / np.sqrt(q)
    return 0.0 if flat else value


@numba.njit(cache=True, nogil=True, inline="always")
def half_sums(blocks, s1, s2, sharpe, k, start, stop, a_is, q_is):  # pragma: no cover - compiled
    """Split k's IS sums of columns start .. stop-1 into ``a_is``/``q_is`` [0, stop - start): each column
    adds its blocks in ascending order from 0.0, a block row at a time (contiguous, so the adds run side
    by side; every column still sums in the same order)."""
    width = stop - start
    for j in range(width):
        a_is[j] = 0.0
        q_is[j] = 0.0
    for i in range(blocks.shape[1]):
        row = s1[blocks[k, i], start:stop]
        for j in range(width):
            a_is[j] += row[j]
    if sharpe:
        for i in range(blocks.shape[1]):
            row = s2[blocks[k, i], start:stop]
            for j in range(width):
                q_is[j] += row[j]


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other):
    """Pair u's two halves' metrics of columns start .. stop-1: ``direct`` on its half (the one holding block 0),
    ``other`` on the rest (the totals ``all1``/``all2`` minus its sums); ``mid``, ``all1``, ``all2``: views of the
    tile (an index start + j would be checked for wrapping around, keeping the loops scalar)."""  # pragma: no cover
    half_sums(halves, s1, s2, sharpe, u, start, stop, a, q)
    for j in range(stop - start):  # without branches on the data: on the vector units
        direct[j] = half_metric(a[j], q[j], mid[j], rows, sharpe, flat_rtol)
        other[j] = half_metric(all1[j] - a[j], all2[j] - q[j], mid[j], rows, sharpe, flat_rtol)


@numba.njit(cache=True, nogil=True, inline="always")
def first_max(value, width):  # pragma: no cover - compiled
    """(position, value) of the first maximum of ``value[:width]``, or of its first NaN (``np.argmax``)."""
    nans = 0
    for j in range(width):  # vectorised: a count
        nans += value[j] != value[j]
    if nans:
        for j in range(width):
            if value[j] != value[j]:
                return j, value[j]
    top = _largest(value, width)
    for j in range(width):
        if value[j] == top:
            return j, value[j]
    return 0, value[0]


@numba.njit(cache=True, nogil=True, inline="always")
def _largest(value, width):  # pragma: no cover - compiled
    """The largest of ``value[:width]`` (no NaN), four running maxima side by side."""
    t0 = t1 = t2 = t3 = value[0]
    j = 0
    while j + 4 <= width:
        a, b, c, d = value[j], value[j + 1], value[j + 2], value[j + 3]
        t0 = a if a > t0 else t0
        t1 = b if b > t1 else t1
        t2 = c if c > t2 else t2
        t3 = d if d > t3 else t3
        j += 4
    while j < width:
        t0 = value[j] if value[j] > t0 else t0
        j += 1
    t0 = t1 if t1 > t0 else t0
    t2 = t3 if t3 > t2 else t2
    return t2 if t2 > t0 else t0


@numba.njit(cache=True, nogil=True, inline="always")
def tie_floor(top, tie_rtol):  # pragma: no cover - compiled
    """The least in-sample metric tied with the largest, ``top``: within ``tie_rtol`` of its size (a NaN or an
    infinity ties only with itself)."""
    return top - tie_rtol * abs(top) if top - top == 0.0 else top


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def tie_counts(oos, width, x, weight, tie_rtol):  # pragma: no cover - compiled
    """How many of ``oos[:width]`` are below ``x`` by more than ``tie_rtol`` of its size and how many are within
    it (``x`` itself included; an infinity only with itself, a NaN with nothing), column j counted ``weight[j]``
    times (without branches: vectorised)."""
    tol = tie_rtol * abs(x) if x - x == 0.0 else 0.0
    low = x - tol
    high = x + tol
    below = 0
    equal = 0
    for j in range(width):
        v = oos[j]
        below += weight[j] * (v < low)
        equal += weight[j] * ((v >= low) & (v <= high))
    return below, equal


@numba.njit(cache=True, nogil=True, inline="always")
def settle(r, oos, w, count, total, mass):  # pragma: no cover - compiled
    """A winner of midrank ``r`` and out-of-sample metric ``oos`` standing for ``w`` of its split's ``count``
    winners: (``w`` if it is overfit, logit <= 0, its rank at most the median (N + 1) / 2, else 0; ``w`` if it
    lost, else 0); its rank goes into ``mass`` (index 2r - 2: ranks 1, 1.5, .., N), w / count of a split."""
    if r >= 1.0:
        mass[int(2.0 * r) - 2] += w / count
    return (w if 2.0 * r <= total + 1 else 0), (w if oos < 0.0 else 0)


@numba.njit(cache=True, nogil=True)
def tie_bounds(xs, tie_rtol, low_sorted, low_order, high_sorted, high_order):  # pragma: no cover - compiled
    """The winners' OOS values ``xs`` (m,), every one finite: their bounds x - tie_rtol |x| and x + tie_rtol |x|
    (the operations of :func:`tie_counts`), each set sorted into ``low_sorted``/``high_sorted`` with the winner each
    came from in ``low_order``/``high_order``."""
    m = len(xs)
    low, high = np.empty(m), np.empty(m)
    for i in range(m):
        tol = tie_rtol * abs(xs[i])
        low[i] = xs[i] - tol
        high[i] = xs[i] + tol
    by_low, by_high = np.argsort(low, kind="mergesort"), np.argsort(high, kind="mergesort")
    for i in range(m):
        low_sorted[i], low_order[i] = low[by_low[i]], by_low[i]
        high_sorted[i], high_order[i] = high[by_high[i]], by_high[i]


@numba.njit(cache=True, nogil=True, inline="always")
def bounds_counts(oos, width, weight, low_sorted, high_sorted, below_diff, upto_diff):  # pragma: no cover - compiled
    """Each of ``oos[:width]`` (column j counted ``weight[j]`` times; a NaN nowhere) added to the difference arrays
    (m + 1,) of the winners, in their bounds' sorted orders, whose lower bound it is below (``below_diff``) and
    whose upper bound it is at most (``upto_diff``)."""
    for j in range(width):
        v = oos[j]
        if v != v:
            continue
        below_diff[np.searchsorted(low_sorted, v, side="right")] += weight[j]  # lower bounds above v: from here on
        upto_diff[np.searchsorted(high_sorted, v, side="left")] += weight[j]  # upper bounds at or above v


@numba.njit(cache=True, nogil=True)
def bounds_ranks(below_diff, upto_diff, low_order, high_order, below, equal):  # pragma: no cover - compiled
    """Each winner's counts from :func:`bounds_counts`' difference arrays, added to ``below`` and ``equal`` (in the
    winners' own order): below its lower bound, and within its bounds (at most the upper, not below the lower)."""
    m = len(low_order)
    run = 0
    for i in range(m):
        run += below_diff[i]
        below[low_order[i]] += run
        equal[low_order[i]] -= run
    run = 0
    for i in range(m):
        run += upto_diff[i]
        equal[high_order[i]] += run


@numba.njit(cache=True, nogil=True)
def settle_winners(below, equal, xs, ws, count, total, mass):  # pragma: no cover - compiled
    """A split's winners (in column order: OOS values ``xs``, weights ``ws``, counts ``below``/``equal``), ``count``
    of them by weight: (the first's midrank, the shares overfit and losing); their ranks go into ``mass``."""
    over = lost = 0
    first_rank = 0.0
    for i in range(len(xs)):
        r = below[i] + (equal[i] + 1) / 2.0
        if i == 0:
            first_rank = r
        o, m = settle(r, xs[i], ws[i], count, total, mass)
        over += o
        lost += m
    return first_rank, over / count, lost / count
