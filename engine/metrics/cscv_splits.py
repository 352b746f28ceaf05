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
out-of-sample metrics; with m tied winners, m + 1.

Beyond a tile of columns (:data:`engine.metrics.cscv_blocks.IN_CACHE`) the pass goes a tile at a time, every
pair on a tile before the next: the largest in-sample metric of each split, then its winners (counted, then
recorded with their out-of-sample metrics), then every winner's counts, a tile at a time each, so the block
sums are read from the processor's caches instead of memory for each pair; each column's sums and metrics are
the same operations either way.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["pair_splits", "splits_nb"]


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


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _perf(a, q, center, rows, sharpe, flat_rtol):  # pragma: no cover - compiled
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
def _half_sums(blocks, s1, s2, sharpe, k, start, stop, a_is, q_is):  # pragma: no cover - compiled
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
def _pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other):
    """Pair u's two halves' metrics of columns start .. stop-1: ``direct`` on its half (the one holding block 0),
    ``other`` on the rest (the totals ``all1``/``all2`` minus its sums); ``mid``, ``all1``, ``all2``: views of the
    tile (an index start + j would be checked for wrapping around, keeping the loops scalar)."""  # pragma: no cover
    _half_sums(halves, s1, s2, sharpe, u, start, stop, a, q)
    for j in range(stop - start):  # without branches on the data: on the vector units
        direct[j] = _perf(a[j], q[j], mid[j], rows, sharpe, flat_rtol)
        other[j] = _perf(all1[j] - a[j], all2[j] - q[j], mid[j], rows, sharpe, flat_rtol)


@numba.njit(cache=True, nogil=True, inline="always")
def _first_max(value, width):  # pragma: no cover - compiled
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
def _floor(top, tie_rtol):  # pragma: no cover - compiled
    """The least in-sample metric tied with the largest, ``top``: within ``tie_rtol`` of its size (a NaN or an
    infinity ties only with itself)."""
    return top - tie_rtol * abs(top) if top - top == 0.0 else top


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _counts(oos, width, x, weight, tie_rtol):  # pragma: no cover - compiled
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
def _settle(r, oos, w, count, total, mass):  # pragma: no cover - compiled
    """A winner of midrank ``r`` and out-of-sample metric ``oos`` standing for ``w`` of its split's ``count``
    winners: (``w`` if it is overfit, logit <= 0, its rank at most the median (N + 1) / 2, else 0; ``w`` if it
    lost, else 0); its rank goes into ``mass`` (index 2r - 2: ranks 1, 1.5, .., N), w / count of a split."""
    if r >= 1.0:
        mass[int(2.0 * r) - 2] += w / count
    return (w if 2.0 * r <= total + 1 else 0), (w if oos < 0.0 else 0)


@numba.njit(cache=True, nogil=True, error_model="numpy")
def splits_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best,
    is_best, oos_best, rank, tied, overfit, loss, mass, tile, weight,
):  # fmt: skip
    """Score the splits of pairs ``lo`` .. ``hi``-1 (:func:`pair_splits`: pair u's ``halves[u]`` is the IS half of
    split ``first[u]`` and the OOS half of split ``second[u]``, -1 for none).  ``s1``/``s2`` (S, N) per-block sums
    of d and d^2 (as :class:`engine.metrics.cscv_blocks.BlockSums` keeps them: a half reads S/2 rows side by side,
    no transposed copy), ``total1``/``total2`` (N,) their totals; column n stands for ``weight[n]`` columns.

    Writes for each split k: ``best[k]``, its first in-sample winner (the first column tied with the largest
    metric, or the first NaN, as ``np.argmax``), that winner's IS and OOS metric and OOS midrank; ``tied[k]``, the
    columns tied with it (itself included, each counted ``weight`` times); ``overfit[k]`` and ``loss[k]``, the
    shares of those winners ranked at most the OOS median and with an OOS metric below 0.  Adds each winner's
    rank to ``mass`` (2N - 1,) (index 2r - 2), 1 / ``tied[k]`` each."""
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
    _tiled_nb(
        halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best,
        is_best, oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total, tile,
    )  # fmt: skip


@numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]
def _whole_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best, is_best,
    oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total,
):  # fmt: skip
    """:func:`splits_nb` with every column in one tile: each pair's two metrics, then each of its splits' winners
    and their OOS counts."""
    n = s1.shape[1]
    for u in range(lo, hi):
        _pair_metrics(halves, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, u, 0, n, a, q, direct, other)
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            ins, oos = (direct, other) if side == 0 else (other, direct)
            star, top = _first_max(ins, n)
            floor = _floor(top, tie_rtol)
            count = weight[star]
            if top == top:  # the first column tied with the largest, and how many are (a vectorised count)
                count = 0
                for j in range(n):
                    count += weight[j] * (ins[j] >= floor)
                for j in range(star):
                    if ins[j] >= floor:
                        star = j
                        break
            best[k] = star
            is_best[k] = ins[star]
            oos_best[k] = oos[star]
            tied[k] = count
            over = lost = 0
            for j in range(star, n):  # the winners: the first, then (only when there are more) the others
                if j > star and (count == weight[star] or not ins[j] >= floor):
                    if count == weight[star]:
                        break
                    continue
                below, equal = _counts(oos, n, oos[j], weight, tie_rtol)
                r = below + (equal + 1) / 2.0
                if j == star:
                    rank[k] = r
                o, m = _settle(r, oos[j], weight[j], count, total, mass)
                over += o
                lost += m
            overfit[k] = over / count
            loss[k] = lost / count


#: In-sample winners a split keeps while the tiles go by; a split with more is counted and recorded in two
#: more passes over the tiles (for its pairs only).
CANDIDATES = 8


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tiled_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, best, is_best,
    oos_best, rank, tied, overfit, loss, mass, a, q, direct, other, weight, total, tile,
):  # fmt: skip
    """:func:`splits_nb` a tile of columns at a time (:func:`_tiles_nb`): each split's largest in-sample metric so
    far and the columns tied with it (up to :data:`CANDIDATES`: a new largest drops those it leaves behind), then
    each winner's OOS counts; a split with more winners has them counted and recorded in two passes between."""
    pairs = hi - lo
    top = np.empty((pairs, 2))
    star = np.full((pairs, 2), -1, np.int64)
    kept = np.zeros((pairs, 2), np.int64)  # candidates kept; CANDIDATES + 1: more, recorded in steps 1 and 2
    cand_col = np.empty((pairs, 2, CANDIDATES), np.int64)
    cand_is, cand_oos = np.empty((pairs, 2, CANDIDATES)), np.empty((pairs, 2, CANDIDATES))
    count = np.zeros((pairs, 2), np.int64)  # winners, each counted weight times
    slots = np.zeros(2 * pairs + 1, np.int64)  # split (p, side)'s winners: slots[2p + side] .. slots[2p + side + 1]
    args = (halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, a, q)
    cands = (cand_col, cand_is, cand_oos)
    col, w, ins_at, oos_at = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), np.empty(0)
    below, equal = np.empty(0, np.int64), np.empty(0, np.int64)
    _tiles_nb(0, *args, direct, other, weight, tile, top, star, kept, *cands, count, slots, col, w, ins_at, oos_at,
              below, equal)  # fmt: skip
    more = False
    for p in range(pairs):
        for side in range(2):
            if kept[p, side] <= CANDIDATES:
                slots[2 * p + side + 1] = kept[p, side]
                for c in range(kept[p, side]):
                    count[p, side] += weight[cand_col[p, side, c]]
            else:
                more = True
    if more:
        _tiles_nb(1, *args, direct, other, weight, tile, top, star, kept, *cands, count, slots, col, w, ins_at,
                  oos_at, below, equal)  # fmt: skip
    for i in range(2 * pairs):
        slots[i + 1] += slots[i]
    m = slots[2 * pairs]
    col, w, ins_at, oos_at = np.empty(m, np.int64), np.empty(m, np.int64), np.empty(m), np.empty(m)
    below, equal = np.zeros(m, np.int64), np.zeros(m, np.int64)
    for p in range(pairs):
        for side in range(2):
            if kept[p, side] <= CANDIDATES:
                for c in range(kept[p, side]):
                    i = slots[2 * p + side] + c
                    col[i], ins_at[i], oos_at[i] = cand_col[p, side, c], cand_is[p, side, c], cand_oos[p, side, c]
                    w[i] = weight[col[i]]
    if more:
        _tiles_nb(2, *args, direct, other, weight, tile, top, star, kept, *cands, count, slots, col, w, ins_at,
                  oos_at, below, equal)  # fmt: skip
    _tiles_nb(3, *args, direct, other, weight, tile, top, star, kept, *cands, count, slots, col, w, ins_at, oos_at,
              below, equal)  # fmt: skip
    for u in range(lo, hi):
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            p = u - lo
            head, end, n_tied = slots[2 * p + side], slots[2 * p + side + 1], count[p, side]
            best[k], is_best[k], oos_best[k], tied[k] = col[head], ins_at[head], oos_at[head], n_tied
            over = lost = 0
            for i in range(head, end):
                r = below[i] + (equal[i] + 1) / 2.0
                if i == head:
                    rank[k] = r
                o, m_ = _settle(r, oos_at[i], w[i], n_tied, total, mass)
                over += o
                lost += m_
            overfit[k] = over / n_tied
            loss[k] = lost / n_tied


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _tiles_nb(  # pragma: no cover - compiled
    step, halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, tie_rtol, lo, hi, a, q,
    direct, other, weight, tile, top, star, kept, cand_col, cand_is, cand_oos, count, slots, col, w, ins_at, oos_at,
    below, equal,
):  # fmt: skip
    """One pass of :func:`_tiled_nb` over the tiles, every pair's metrics on a tile before the next.  ``step`` 0:
    each split's largest IS metric so far into ``top``/``star`` (a NaN beats a number, a number only a smaller
    one) and the columns tied with it into the candidates (``kept`` of them; more than :data:`CANDIDATES`, or a
    NaN largest, sets it to CANDIDATES + 1); for the splits with more, 1: the winners (IS metric at least the
    floor, or the NaN at ``star``) counted, weighted into ``count`` and as columns into ``slots[2p + side + 1]``,
    and 2: each recorded at its split's next slot; 3: each winner's OOS counts added up."""
    n = s1.shape[1]
    at = slots[:-1].copy() if step == 2 else slots[:0].copy()  # each split's next free slot
    for start in range(0, n, tile):
        stop = min(n, start + tile)
        width = stop - start
        mid, all1, all2, wt = center[start:stop], total1[start:stop], total2[start:stop], weight[start:stop]
        for u in range(lo, hi):
            p = u - lo
            if step in (1, 2) and kept[p, 0] <= CANDIDATES and kept[p, 1] <= CANDIDATES:
                continue  # this pair's winners are the candidates
            _pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other)
            for side in range(2):
                k = first[u] if side == 0 else second[u]
                if k < 0:
                    continue
                ins, oos = (direct, other) if side == 0 else (other, direct)
                if step == 0:
                    _candidates(ins, oos, width, start, tie_rtol, p, side, top, star, kept, cand_col, cand_is, cand_oos)
                elif step == 3:
                    for i in range(slots[2 * p + side], slots[2 * p + side + 1]):
                        fewer, same = _counts(oos, width, oos_at[i], wt, tie_rtol)
                        below[i] += fewer
                        equal[i] += same
                elif kept[p, side] > CANDIDATES:
                    fl = _floor(top[p, side], tie_rtol)
                    nan_star = star[p, side] - start if fl != fl else -1  # a NaN largest ties only with itself
                    for j in range(width):
                        if not (ins[j] >= fl or j == nan_star):
                            continue
                        if step == 1:
                            count[p, side] += wt[j]
                            slots[2 * p + side + 1] += 1
                        else:
                            i = at[2 * p + side]
                            col[i], w[i], ins_at[i], oos_at[i] = start + j, wt[j], ins[j], oos[j]
                            at[2 * p + side] = i + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _candidates(ins, oos, width, start, tie_rtol, p, side, top, star, kept, cand_col, cand_is, cand_oos):
    """Step 0 of :func:`_tiles_nb` on one split and tile (columns start ..): the largest so far, and the columns
    within ``tie_rtol`` of it, in column order (those a new largest leaves behind dropped)."""  # pragma: no cover
    j, t = _first_max(ins, width)
    largest = top[p, side]
    if star[p, side] >= 0 and not (t > largest or (t != t and largest == largest)):
        fl = _floor(largest, tie_rtol)
        if not t >= fl or kept[p, side] > CANDIDATES:
            return  # nothing in this tile ties with the largest (or the split is past its candidates)
    else:
        star[p, side], top[p, side] = start + j, t
        fl = _floor(t, tie_rtol)
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
