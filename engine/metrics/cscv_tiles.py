"""CSCV's splits scored a tile of columns at a time, for grids beyond :data:`engine.metrics.cscv_blocks.IN_CACHE`
columns (:func:`engine.metrics.cscv_splits.splits_nb` hands them over).

Every pair of splits (:func:`engine.metrics.cscv_splits.pair_splits`) has its metrics computed on a tile before
the next tile, so a tile's block sums stay in the processor's caches for all the pairs instead of being read from
memory for each (256 MB of them for a million columns).  The passes over the tiles: each split's largest in-sample
metric, with the columns tied with it so far (up to :data:`CANDIDATES`, those a larger one leaves behind dropped);
for a split with more, its winners counted (weighted) and then recorded; then each winner's out-of-sample counts
(through their sorted bounds from :data:`engine.metrics.cscv_kernels.MANY` winners on).  The winners are recorded
and counted for a batch of pairs at a time, at most :data:`BATCH_WINNERS` of them (a pair with more alone), so
memory stays bounded whatever the ties.
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

__all__ = ["BATCH_WINNERS", "CANDIDATES", "tiled_nb"]

#: In-sample winners a split keeps while the tiles go by; a split with more is counted and recorded in two
#: more passes over the tiles (for its pairs only).
CANDIDATES = 8
#: Winners recorded at once by a thread (the ``batch`` :class:`engine.metrics.cscv_blocks.BlockSums` passes):
#: about 100 bytes each (10 arrays), 100 MB.
BATCH_WINNERS = 1_000_000


@numba.njit(cache=True, nogil=True, error_model="numpy")
def tiled_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best, is_best,
    oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total, tile, batch,
):  # fmt: skip
    """:func:`engine.metrics.cscv_splits.splits_nb` (its arguments and outputs) a tile of columns at a time: each
    split's largest in-sample metric and the columns tied with it (:func:`_tiles_nb` steps 0 and 1), then the
    winners' out-of-sample ranks, a batch of pairs with at most ``batch`` winners at a time (:func:`_batch_nb`;
    a pair with more alone)."""
    pairs = hi - lo
    top = np.empty((pairs, 2))
    star = np.full((pairs, 2), -1, np.int64)
    kept = np.zeros((pairs, 2), np.int64)  # candidates kept; CANDIDATES + 1: more, counted in step 1
    cands = (
        np.empty((pairs, 2, CANDIDATES), np.int64),
        np.empty((pairs, 2, CANDIDATES)),
        np.empty((pairs, 2, CANDIDATES)),
    )
    count = np.zeros((pairs, 2), np.int64)  # winners, each counted weight times
    n_win = np.zeros((pairs, 2), np.int64)  # winners, as columns
    args = (halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, a, q, direct)
    state = (other, weight, tile, top, star, kept, *cands, count, n_win)
    _tiles_nb(0, *args, *state, lo, lo, hi, np.zeros(1, np.int64), *_no_slots())
    more = False
    for p in range(pairs):
        for side in range(2):
            if kept[p, side] <= CANDIDATES:
                n_win[p, side] = kept[p, side]
                for c in range(kept[p, side]):
                    count[p, side] += weight[cands[0][p, side, c]]
            else:
                more = True
    if more:
        _tiles_nb(1, *args, *state, lo, lo, hi, np.zeros(1, np.int64), *_no_slots())
    b0 = lo
    while b0 < hi:
        b1, held = b0, 0
        while b1 < hi and (b1 == b0 or held + n_win[b1 - lo, 0] + n_win[b1 - lo, 1] <= batch):
            held += n_win[b1 - lo, 0] + n_win[b1 - lo, 1]
            b1 += 1
        _batch_nb(args, state, lo, b0, b1, best, is_best, oos_best, rank, tied, overfit, loss, mass, total)
        b0 = b1


@numba.njit(cache=True, nogil=True)
def _no_slots():  # pragma: no cover - compiled
    """Empty winner arrays, for the steps that record none."""
    ints, floats = np.empty(0, np.int64), np.empty(0)
    return ints, ints, floats, floats, ints, ints, floats, ints, floats, ints, ints, ints


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _batch_nb(args, state, lo, b0, b1, best, is_best, oos_best, rank, tied, overfit, loss, mass, total):
    """Pairs b0 .. b1-1's winners: recorded (the candidates, or step 2 of :func:`_tiles_nb`), counted (step 3),
    each split's written and its winners' ranks settled."""  # pragma: no cover - compiled
    weight, kept, cand_col, cand_is = state[1], state[5], state[6], state[7]
    cand_oos, count, n_win = state[8], state[9], state[10]
    nb = b1 - b0
    slots = np.zeros(2 * nb + 1, np.int64)  # split (q, side)'s winners: slots[2q + side] .. slots[2q + side + 1]
    for i in range(2 * nb):
        slots[i + 1] = slots[i] + n_win[b0 - lo + i // 2, i % 2]
    m = slots[2 * nb]
    col, w, ins_at, oos_at = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m), np.empty(m)
    below, equal = np.zeros(m, np.int64), np.zeros(m, np.int64)
    low_sorted, low_order = np.empty(m), np.empty(m, np.int64)
    high_sorted, high_order = np.empty(m), np.empty(m, np.int64)
    below_diff, upto_diff = np.zeros(m + 2 * nb, np.int64), np.zeros(m + 2 * nb, np.int64)  # m + 1 a split
    recorded = False
    for qs in range(2 * nb):
        p, side, s0 = b0 - lo + qs // 2, qs % 2, slots[qs]
        if kept[p, side] > CANDIDATES:
            recorded = True
        for c in range(kept[p, side] if kept[p, side] <= CANDIDATES else 0):
            col[s0 + c], ins_at[s0 + c] = cand_col[p, side, c], cand_is[p, side, c]
            oos_at[s0 + c] = cand_oos[p, side, c]
            w[s0 + c] = weight[cand_col[p, side, c]]
    winners = (slots, col, w, ins_at, oos_at, below, equal, low_sorted, low_order, high_sorted, high_order, below_diff)
    if recorded:
        _tiles_nb(2, *args, *state, lo, b0, b1, *winners, upto_diff)  # type: ignore[call-arg]
    for qs in range(2 * nb):  # the splits with many winners count them through their sorted bounds
        s0, s1 = slots[qs], slots[qs + 1]
        if s1 - s0 >= MANY and np.all(np.isfinite(oos_at[s0:s1])):
            tie_bounds(
                oos_at[s0:s1], args[11], low_sorted[s0:s1], low_order[s0:s1], high_sorted[s0:s1], high_order[s0:s1]
            )
    _tiles_nb(3, *args, *state, lo, b0, b1, *winners, upto_diff)  # type: ignore[call-arg]
    first, second = args[1], args[2]
    for qs in range(2 * nb):
        u, side, s0, s1 = b0 + qs // 2, qs % 2, slots[qs], slots[qs + 1]
        k = first[u] if side == 0 else second[u]
        if k < 0:
            continue
        if s1 - s0 >= MANY and np.all(np.isfinite(oos_at[s0:s1])):
            d = s0 + qs  # this split's m + 1 difference entries
            bounds_ranks(below_diff[d : d + s1 - s0 + 1], upto_diff[d : d + s1 - s0 + 1], low_order[s0:s1],
                         high_order[s0:s1], below[s0:s1], equal[s0:s1])  # fmt: skip
        n_tied = count[u - lo, side]
        best[k], is_best[k], oos_best[k], tied[k] = col[s0], ins_at[s0], oos_at[s0], n_tied
        rank[k], overfit[k], loss[k] = settle_winners(
            below[s0:s1], equal[s0:s1], oos_at[s0:s1], w[s0:s1], n_tied, total, mass
        )


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tiles_nb(  # pragma: no cover - compiled
    step, halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, a, q, direct,
    other, weight, tile, top, star, kept, cand_col, cand_is, cand_oos, count, n_win, lo, blo, bhi, slots, col, w,
    ins_at, oos_at, below, equal, low_sorted, low_order, high_sorted, high_order, below_diff, upto_diff,
):  # fmt: skip
    """One pass over the tiles for pairs ``blo`` .. ``bhi``-1, every pair's metrics on a tile before the next (``p``
    = u - ``lo`` indexes the thread's arrays, ``qs`` = 2 (u - ``blo``) + side the batch's).  ``step`` 0: each
    split's largest IS metric so far into ``top``/``star`` and the columns tied with it into the candidates
    (:func:`_candidates`); for the splits with more (``kept`` past CANDIDATES), 1: the winners (IS metric at least
    the floor, or the NaN at ``star``) counted, weighted into ``count`` and as columns into ``n_win``, and 2: each
    recorded at its split's next slot; 3: every winner's OOS counts added up."""
    n = s1.shape[1]
    at = slots[:-1].copy()  # each split's next free slot (step 2)
    for start in range(0, n, tile):
        stop = min(n, start + tile)
        width = stop - start
        mid, all1, all2, wt = center[start:stop], total1[start:stop], total2[start:stop], weight[start:stop]
        for u in range(blo, bhi):
            p = u - lo
            if step in (1, 2) and kept[p, 0] <= CANDIDATES and kept[p, 1] <= CANDIDATES:
                continue  # this pair's winners are the candidates
            pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other)
            for side in range(2):
                k = first[u] if side == 0 else second[u]
                if k < 0:
                    continue
                ins, oos = (direct, other) if side == 0 else (other, direct)
                if step == 0:
                    _candidates(ins, oos, width, start, tie_rtol, p, side, top, star, kept, cand_col, cand_is, cand_oos)
                elif step == 3:
                    qs = 2 * (u - blo) + side
                    s0, s1_ = slots[qs], slots[qs + 1]
                    if s1_ - s0 >= MANY and np.all(np.isfinite(oos_at[s0:s1_])):
                        d = s0 + qs
                        bounds_counts(oos, width, wt, low_sorted[s0:s1_], high_sorted[s0:s1_],
                                      below_diff[d : d + s1_ - s0 + 1], upto_diff[d : d + s1_ - s0 + 1])  # fmt: skip
                        continue
                    for i in range(s0, s1_):
                        fewer, same = tie_counts(oos, width, oos_at[i], wt, tie_rtol)
                        below[i] += fewer
                        equal[i] += same
                elif kept[p, side] > CANDIDATES:
                    fl = tie_floor(top[p, side], tie_rtol)
                    nan_star = star[p, side] - start if fl != fl else -1  # a NaN largest ties only with itself
                    qs = 2 * (u - blo) + side
                    for j in range(width):
                        if not (ins[j] >= fl or j == nan_star):
                            continue
                        if step == 1:
                            count[p, side] += wt[j]
                            n_win[p, side] += 1
                        else:
                            i = at[qs]
                            col[i], w[i], ins_at[i], oos_at[i] = start + j, wt[j], ins[j], oos[j]
                            at[qs] = i + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _candidates(ins, oos, width, start, tie_rtol, p, side, top, star, kept, cand_col, cand_is, cand_oos):
    """Step 0 of :func:`_tiles_nb` on one split and tile (columns start ..): the largest so far, and the columns
    within ``tie_rtol`` of it, in column order (those a new largest leaves behind dropped)."""  # pragma: no cover
    j, t = first_max(ins, width)
    largest = top[p, side]
    if star[p, side] >= 0 and not (t > largest or (t != t and largest == largest)):
        fl = tie_floor(largest, tie_rtol)
        if not t >= fl or kept[p, side] > CANDIDATES:
            return  # nothing in this tile ties with the largest (or the split is past its candidates)
    else:
        star[p, side], top[p, side] = start + j, t
        fl = tie_floor(t, tie_rtol)
        if t != t:  # a NaN largest: the split's winner is recorded in steps 1 and 2
            kept[p, side] = CANDIDATES + 1
            return
        if kept[p, side] > CANDIDATES:
            return
        c = 0
        for i in range(kept[p, side]):  # the candidates the new largest leaves behind are dropped
            if cand_is[p, side, i] >= fl:
                cand_col[p, side, c], cand_is[p, side, c], cand_oos[p, side, c] = (
                    cand_col[p, side, i], cand_is[p, side, i], cand_oos[p, side, i]
                )  # fmt: skip
                c += 1
        kept[p, side] = c
    for jj in range(width):
        if ins[jj] >= fl:
            c = kept[p, side]
            if c == CANDIDATES:
                kept[p, side] = CANDIDATES + 1
                return
            cand_col[p, side, c], cand_is[p, side, c], cand_oos[p, side, c] = start + jj, ins[jj], oos[jj]
            kept[p, side] = c + 1
