"""CSCV's splits scored from per-block sums, compiled: each split's tied in-sample winners and out-of-sample ranks.

:class:`engine.metrics.cscv_blocks.BlockSums` keeps, for every column, per-block sums of d and d^2 (d the returns
less the column's full-sample mean).  :func:`splits_nb` scores a range of the C(S, S/2) splits from them, reading
only S/2 block rows per split and keeping no (splits, N) array.  Its arithmetic is the numpy formulation's
(:meth:`BlockSums.__call__`), operation for operation: of a split's two halves, the one holding block 0 adds its
blocks in ascending order from 0.0 (as ``np.einsum("ks,sn->kn")`` with a 0/1 matrix does), the other half's sums
are the totals minus those, and the Sharpe ratio follows :meth:`BlockSums._sharpe`, so the metrics are the same
bits (the tests check both).  A split and its complement (IS and OOS swapped) have the same two metrics per
column, so the splits are scored in complementary pairs (:func:`pair_splits`).  Each column's metrics are
computed without a branch on the data (numpy's error model: a flat half's IEEE inf or NaN is replaced
afterwards), so those loops run on the vector units.  Pairs are independent: ranges of them run on threads
(the kernel releases the GIL).

Ties (:mod:`engine.metrics.cscv`, rule 4): the in-sample winners of a split are every column within
``tie_rtol`` of the largest metric (relative to its size), the first of them in column order its reported
winner; a value's out-of-sample rank counts the columns below it by more than ``tie_rtol`` of its size and
shares the rest's midrank.  Each winner is ranked; a split's share of overfit winners, its share of losing ones
and the winners' ranks (each 1 / winners of its split, into ``mass``) are what PBO, the probability of loss and
the logit histogram are made of.  With one winner (the usual case) a split costs one pass over its columns'
out-of-sample metrics; with m tied winners, a pass for each up to :data:`engine.metrics.cscv_kernels.MANY`, and
from there one pass with a binary search per column among their sorted bounds.

Beyond a tile of columns (:data:`engine.metrics.cscv_blocks.IN_CACHE`) the pass goes a tile at a time
(:mod:`engine.metrics.cscv_tiles`), so the block sums are read from the processor's caches instead of memory for
each pair; each column's sums and metrics are the same operations either way.
"""

from __future__ import annotations

import numba
import numpy as np

from engine.metrics.cscv_kernels import (
    MANY,
    bounds_counts,
    bounds_ranks,
    first_max,
    pair_metrics,
    settle_winners,
    tie_bounds,
    tie_counts,
    tie_floor,
)
from engine.metrics.cscv_tiles import tiled_nb

__all__ = ["pair_splits", "splits_nb", "winners_nb"]


def pair_splits(blocks: np.ndarray, n_blocks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The splits ``blocks`` (splits, S/2) of S = ``n_blocks`` blocks as complementary pairs: (halves, first,
    second), pair u's half ``halves[u]`` (S/2 blocks, ascending) being the one that holds block 0, the IS half
    of split ``first[u]`` and the OOS half of split ``second[u]`` (-1 where that split is not in ``blocks``)."""
    blocks = np.asarray(blocks, dtype=np.int64)
    count = len(blocks)
    member = np.zeros((count, n_blocks), dtype=np.bool_)
    member[np.arange(count)[:, None], blocks] = True
    holds0 = member[:, 0]
    direct = np.where(holds0[:, None], member, ~member)
    rows = np.nonzero(direct)[1].reshape(count, n_blocks // 2)
    halves, pair = np.unique(rows, axis=0, return_inverse=True)
    first = np.full(len(halves), -1, dtype=np.int64)
    second = np.full(len(halves), -1, dtype=np.int64)
    index = np.arange(count, dtype=np.int64)
    first[pair[holds0]] = index[holds0]
    second[pair[~holds0]] = index[~holds0]
    if (first >= 0).sum() + (second >= 0).sum() != count:
        raise ValueError("the splits name the same in-sample half more than once")
    return np.ascontiguousarray(halves), first, second


@numba.njit(cache=True, nogil=True, error_model="numpy")
def splits_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best,
    is_best, oos_best, rank, tied, overfit, loss, mass, tile, weight, batch,
):  # fmt: skip
    """Score the splits of pairs ``lo`` .. ``hi``-1 (:func:`pair_splits`: pair u's ``halves[u]`` is the IS half of
    split ``first[u]`` and the OOS half of split ``second[u]``, -1 for none).  ``s1``/``s2`` (S, N) per-block sums
    of d and d^2 (as :class:`engine.metrics.cscv_blocks.BlockSums` keeps them: a half reads S/2 rows side by side,
    no transposed copy), ``total1``/``total2`` (N,) their totals; column n stands for ``weight[n]`` columns.

    Writes for each split k: ``best[k]``, its first in-sample winner (the first column tied with the largest
    metric, or the first NaN, as ``np.argmax``), that winner's IS and OOS metric and OOS midrank; ``tied[k]``, the
    columns tied with it (itself included, each counted ``weight`` times); ``overfit[k]`` and ``loss[k]``, the
    shares of those winners ranked at most the OOS median and with an OOS metric below 0.  Adds each winner's
    rank to ``mass`` (2N - 1,) (index 2r - 2), 1 / ``tied[k]`` each.  Beyond ``tile`` columns, a tile at a time
    (:func:`engine.metrics.cscv_tiles.tiled_nb`, its winners ``batch`` at a time)."""
    n = s1.shape[1]
    total = 0
    for j in range(n):
        total += weight[j]
    width = min(n, tile)
    a, q, direct, other = np.empty(width), np.empty(width), np.empty(width), np.empty(width)
    if n <= tile:
        _whole_nb(
            halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best,
            is_best, oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total,
        )  # fmt: skip
        return
    tiled_nb(
        halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best,
        is_best, oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total, tile, batch,
    )  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _whole_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best, is_best,
    oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total,
):  # fmt: skip
    """:func:`splits_nb` with every column in one tile: each pair's two metrics, then each of its splits' winners
    and their OOS ranks (:func:`winners_nb`)."""
    n = s1.shape[1]
    winners = np.empty(n, np.int64)
    for u in range(lo, hi):
        pair_metrics(halves, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, u, 0, n, a, q, direct, other)
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            ins, oos = (direct, other) if side == 0 else (other, direct)
            star, top = first_max(ins, n)
            m = 1
            winners[0] = star
            if top == top:  # every column tied with the largest, in column order
                floor = tie_floor(top, tie_rtol)
                m = 0
                for j in range(n):
                    if ins[j] >= floor:
                        winners[m] = j
                        m += 1
            star = winners[0]
            best[k], is_best[k], oos_best[k] = star, ins[star], oos[star]
            rank[k], tied[k], overfit[k], loss[k] = winners_nb(oos, n, winners[:m], weight, tie_rtol, total, mass)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def winners_nb(oos, n, winners, weight, tie_rtol, total, mass):  # pragma: no cover - compiled
    """A split's winners (columns, in column order) ranked among ``oos[:n]``: (the first's midrank, the winners
    counted by weight, the shares of them overfit and losing); their ranks go into ``mass``.  Also how
    :func:`engine.metrics.cscv.pbo_cscv` ranks a user's metric's winners."""
    m = len(winners)
    count = 0
    for i in range(m):
        count += weight[winners[i]]
    below, equal = np.zeros(m, np.int64), np.zeros(m, np.int64)
    xs = np.empty(m)
    finite = True
    for i in range(m):
        xs[i] = oos[winners[i]]
        finite = finite and xs[i] - xs[i] == 0.0
    if m >= MANY and finite:
        low_sorted, high_sorted = np.empty(m), np.empty(m)
        low_order, high_order = np.empty(m, np.int64), np.empty(m, np.int64)
        tie_bounds(xs, tie_rtol, low_sorted, low_order, high_sorted, high_order)
        below_diff, upto_diff = np.zeros(m + 1, np.int64), np.zeros(m + 1, np.int64)
        bounds_counts(oos, n, weight, low_sorted, high_sorted, below_diff, upto_diff)
        bounds_ranks(below_diff, upto_diff, low_order, high_order, below, equal)
    else:
        for i in range(m):
            below[i], equal[i] = tie_counts(oos, n, xs[i], weight, tie_rtol)
    first_rank, overfit, loss = settle_winners(below, equal, xs, weight[winners], count, total, mass)
    return first_rank, count, overfit, loss
