"""CSCV's splits scored from per-block sums: every split's in-sample winner and its out-of-sample rank.

:func:`engine.metrics.cscv.pbo_from_block_sums` (and ``pbo_cscv`` with the built-in metrics) scores each
of the C(S, S/2) splits from per-block sums of every column (:class:`BlockSums`).  Done with numpy
(:meth:`BlockSums.__call__`), that is two (splits, S) x (S, N) products and a dozen (splits, N)
temporaries; the compiled pass (:func:`splits_nb`) reads only S/2 block rows per split and keeps no
(splits, N) array.  Its arithmetic is the numpy path's, operation for operation: of a split's two
halves, the one holding block 0 adds its blocks in ascending order from 0.0 (as
``np.einsum("ks,sn->kn")`` with a 0/1 matrix does), the other half's sums are the totals minus those,
and the Sharpe ratio follows :meth:`BlockSums._sharpe`, so the results are the same bits (the tests
check both).  A split and its complement (IS and OOS swapped) then have the same two metrics per
column, so the compiled pass scores the splits in complementary pairs (:func:`pair_splits`): one
half's sums and two metrics per column serve both splits, where each split alone summed its half and
computed both.  Each column's metrics are computed without a branch on the data (numpy's error
model: a flat half's IEEE inf or NaN is replaced by -inf afterwards, where numba's default would test
every division for zero), so those loops run on the vector units.  Pairs are independent: ranges of
them run on threads (the kernel releases the GIL).  Beyond :data:`IN_CACHE` columns the pass goes a
tile of columns at a time, every pair on a tile before the next (the winners first, then the ranks),
so the block sums are read from memory twice instead of once per pair.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from engine.cores import usable_cores
from engine.metrics.matrix import FLAT_SS_RTOL

__all__ = ["BlockSums", "distinct_columns", "pair_splits", "splits_nb"]

#: Up to this many columns, every split reads all of them at once: their block sums (16 MB for 16 blocks)
#: stay in the processor's caches from one split to the next.  Beyond, a tile at a time (measured on two
#: threads: the same speed at 60,000 columns, tiles 1.2x faster at 150,000 and 1.8x at a million).
IN_CACHE = 65_536
#: Columns of a tile: its 16 blocks of sums (two arrays) and its work arrays take about 600 KB, within a
#: core's level-2 cache.
TILE = 2048


@numba.njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _perf(a, q, center, rows, sharpe, flat_rtol):  # pragma: no cover - compiled
    """A half's metric from its sums ``a`` (of d) and ``q`` (of d^2), d the returns less the column mean
    ``center``: the mean, or mean / std(ddof=1) (-inf when the half is flat).  Without a branch on the
    data: a flat half's ratio is computed too (with numpy's error model an IEEE inf or NaN, never an
    exception) and replaced, so the loops calling this run on the vector units."""
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
    return -np.inf if flat else value


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
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, lo, hi, best, is_best, oos_best,
    rank, tile, weight,
):  # fmt: skip
    """Score the splits of pairs ``lo`` .. ``hi``-1 (:func:`pair_splits`: pair u's ``halves[u]`` is the IS half of
    split ``first[u]`` and the OOS half of split ``second[u]``, -1 for none).  ``s1``/``s2`` (S, N) per-block
    sums of d and d^2 (as :class:`BlockSums` keeps them: a half reads S/2 rows side by side, no transposed
    copy), ``total1``/``total2`` (N,) their totals.  Writes each split's in-sample winner n* (the first maximum,
    or the first NaN, as ``np.argmax``), its IS and OOS metric and its OOS midrank among the N columns
    (below + (equal + 1) / 2, n* included in equal), each column counted ``weight[n]`` times (the number of
    columns it stands for, :func:`engine.metrics.cscv.pbo_from_block_sums`).

    More than ``tile`` columns go a tile at a time: every split's in-sample winner among a tile's columns,
    kept when it beats the earlier tiles' (so the first maximum or NaN of all), then the winners' OOS
    metrics, then every split's OOS counts, a tile at a time again.  A tile's block sums stay in the
    processor's cache for all the splits instead of being read from memory again for each (256 MB of
    them for a million columns); each column's sums and metrics are the same operations either way.
    """
    n = s1.shape[1]
    width = min(n, tile)
    a, q, direct, other = np.empty(width), np.empty(width), np.empty(width), np.empty(width)
    if n <= tile:
        _whole_nb(
            halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, lo, hi, best, is_best,
            oos_best, rank, a, q, direct, other, weight,
        )  # fmt: skip
        return
    for u in range(lo, hi):
        for k in (first[u], second[u]):
            if k >= 0:
                best[k] = -1
    below = np.zeros((hi - lo, 2), np.int64)
    equal = np.zeros((hi - lo, 2), np.int64)
    for start in range(0, n, tile):
        _tile_nb(
            halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, start, min(n, start + tile),
            lo, hi, best, is_best, oos_best, below, equal, False, a, q, direct, other, weight,
        )  # fmt: skip
    for u in range(lo, hi):
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            star = best[k]
            x = 0.0
            y = 0.0
            for i in range(halves.shape[1]):  # the winner's sums of the pair's half, the operations of the column loops
                x += s1[halves[u, i], star]
                y += s2[halves[u, i], star]
            if side == 0:
                oos_best[k] = _perf(total1[star] - x, total2[star] - y, center[star], rows, sharpe, flat_rtol)
            else:
                oos_best[k] = _perf(x, y, center[star], rows, sharpe, flat_rtol)
    for start in range(0, n, tile):
        _tile_nb(
            halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, start, min(n, start + tile),
            lo, hi, best, is_best, oos_best, below, equal, True, a, q, direct, other, weight,
        )  # fmt: skip
    for u in range(lo, hi):
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k >= 0:
                rank[k] = below[u - lo, side] + (equal[u - lo, side] + 1) / 2.0


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other):
    """Pair u's two halves' metrics of columns start .. stop-1: ``direct`` on its half (the one holding block 0),
    ``other`` on the rest (the totals ``all1``/``all2`` minus its sums); ``mid``, ``all1``, ``all2``: views of the
    tile (an index start + j would be checked for wrapping around, keeping the loops scalar)."""  # pragma: no cover
    _half_sums(halves, s1, s2, sharpe, u, start, stop, a, q)
    for j in range(stop - start):  # without branches on the data: on the vector units
        direct[j] = _perf(a[j], q[j], mid[j], rows, sharpe, flat_rtol)
        other[j] = _perf(all1[j] - a[j], all2[j] - q[j], mid[j], rows, sharpe, flat_rtol)


@numba.njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _counts(oos, width, winner, weight):  # pragma: no cover - compiled
    """How many of ``oos[:width]`` are below ``winner`` and how many equal, column j counted ``weight[j]`` times
    (without branches: vectorised; NaN is neither)."""
    below = 0
    equal = 0
    for j in range(width):
        below += weight[j] * (oos[j] < winner)
        equal += weight[j] * (oos[j] == winner)
    return below, equal


@numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]
def _whole_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, lo, hi, best, is_best, oos_best,
    rank, a, q, direct, other, weight,
):  # fmt: skip
    """:func:`splits_nb` with every column in one tile: each pair's two metrics, then each of its splits'
    winner and OOS counts."""
    n = s1.shape[1]
    for u in range(lo, hi):
        _pair_metrics(halves, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, u, 0, n, a, q, direct, other)
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            ins, oos = (direct, other) if side == 0 else (other, direct)
            star, top = _first_max(ins, n)
            winner = oos[star]
            below, equal = _counts(oos, n, winner, weight)
            best[k] = star
            is_best[k] = top
            oos_best[k] = winner
            rank[k] = below + (equal + 1) / 2.0


@numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)  # type: ignore[call-overload]
def _tile_nb(  # pragma: no cover - compiled
    halves, first, second, s1, s2, total1, total2, center, rows, sharpe, flat_rtol, start, stop, lo, hi, best,
    is_best, winner, below, equal, counting, a, q, direct, other, weight,
):  # fmt: skip
    """Pairs lo .. hi-1 on columns start .. stop-1.  Not ``counting``: every split's IS winner among them, kept
    in ``best``/``is_best`` when it beats the earlier columns' (``best`` -1: none yet; a NaN beats a number,
    a number only a smaller one).  ``counting``: add to ``below[u - lo, side]`` and ``equal[u - lo, side]``
    the columns whose OOS metric is below, or equal to, ``winner`` of pair u's split on that side (0:
    ``first[u]``, 1: ``second[u]``)."""
    width = stop - start
    mid, all1, all2 = center[start:stop], total1[start:stop], total2[start:stop]
    for u in range(lo, hi):
        _pair_metrics(halves, s1, s2, all1, all2, mid, rows, sharpe, flat_rtol, u, start, stop, a, q, direct, other)
        for side in range(2):
            k = first[u] if side == 0 else second[u]
            if k < 0:
                continue
            if counting:
                fewer, same = _counts(other if side == 0 else direct, width, winner[k], weight[start:stop])
                below[u - lo, side] += fewer
                equal[u - lo, side] += same
                continue
            star, top = _first_max(direct if side == 0 else other, width)
            kept = is_best[k]
            if best[k] < 0 or top > kept or (top != top and kept == kept):
                best[k] = start + star
                is_best[k] = top


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


def distinct_columns(
    s1: np.ndarray, s2: np.ndarray, *, overwrite: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The columns of the (S, N) float64 block sums ``s1``/``s2`` without repeats: (their sums (S, U), which
    columns they are (U,), ascending: each first of its kind, how many columns each stands for (U,)), or None
    when no two columns are alike.  Columns alike bit for bit have the same metrics on every half, so they
    win and rank alike: a split's winner is still the first maximum of all (the first of its kind comes
    first), and counting each column as many times as it stands for gives the same midrank.  A sweep whose
    parameters change nothing on some combinations (a threshold the signal never reaches) has many.

    Columns are grouped by a 64-bit hash of their bits and then compared bit for bit with the first of their
    group; a hash shared by unlike columns (a collision) leaves every column as it is (None).  With
    ``overwrite`` the distinct columns' sums are moved to the front of ``s1``/``s2``'s own memory (C-contiguous
    (S, U) views of it), else copied."""
    a, b = s1.view(np.uint64), s2.view(np.uint64)
    hashes = _column_hashes_nb(a, b)
    _, first, inverse, counts = np.unique(hashes, return_index=True, return_inverse=True, return_counts=True)
    if len(first) == s1.shape[1] or not _alike_nb(a, b, first[inverse.ravel()]):
        return None
    order = np.argsort(first)
    keep, weight = first[order], counts[order].astype(np.int64)
    if not overwrite:
        return np.ascontiguousarray(s1[:, keep]), np.ascontiguousarray(s2[:, keep]), keep, weight
    _compact_nb(s1, keep)
    _compact_nb(s2, keep)
    u = len(keep)
    return (
        s1.reshape(-1)[: len(s1) * u].reshape(len(s1), u),
        s2.reshape(-1)[: len(s2) * u].reshape(len(s2), u),
        keep,
        weight,
    )


@numba.njit(cache=True, nogil=True)
def _column_hashes_nb(a, b):  # pragma: no cover - compiled
    """An FNV-1a-style 64-bit hash of each column's bits in ``a`` then ``b`` ((S, N) uint64), a row at a time."""
    out = np.full(a.shape[1], np.uint64(14695981039346656037))
    prime = np.uint64(1099511628211)
    for x in (a, b):
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                out[j] = (out[j] ^ x[i, j]) * prime
    return out


@numba.njit(cache=True, nogil=True)
def _alike_nb(a, b, first):  # pragma: no cover - compiled
    """Whether every column of ``a`` and ``b`` has the bits of column ``first[j]``."""
    for x in (a, b):
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                if x[i, j] != x[i, first[j]]:
                    return False
    return True


@numba.njit(cache=True, nogil=True)
def _compact_nb(x, keep):  # pragma: no cover - compiled
    """Columns ``keep`` (ascending) of the C-contiguous (S, N) ``x`` into the first S * len(keep) elements of its
    memory, row after row: a value is always read before it is written over (row i's column keep[j] lies at
    i * N + keep[j], at or after i * len(keep) + j)."""
    flat = x.reshape(-1)
    u = len(keep)
    for i in range(x.shape[0]):
        for j in range(u):
            flat[i * u + j] = x[i, keep[j]]


class BlockSums:
    """Per-block sums of d = r - column mean and of d^2: any half's mean and Sharpe in O(S * N).

    :meth:`score` scores every split with the compiled pass.  :meth:`__call__` is the numpy
    formulation: a half's sums are a (k, S) 0/1 block matrix times the (S, N) block sums, by
    ``np.einsum`` rather than BLAS (a multithreaded BLAS matmul this small ran 5 to 20 times slower
    when the other cores were busy, and einsum's fixed summation order gives the same bits whatever
    the thread count).  The OOS sums are the all-block totals minus the IS sums.
    """

    def __init__(self, r: np.ndarray, n_blocks: int, block_size: int, metric: str) -> None:
        self.center = r.mean(axis=0)
        self.s1 = np.empty((n_blocks, r.shape[1]))
        self.s2 = np.empty((n_blocks, r.shape[1]))
        for b in range(n_blocks):
            d = r[b * block_size : (b + 1) * block_size] - self.center
            self.s1[b] = d.sum(axis=0)
            self.s2[b] = np.einsum("ij,ij->j", d, d)
        self.total1 = self.s1.sum(axis=0)
        self.total2 = self.s2.sum(axis=0)
        self.rows = n_blocks // 2 * block_size  # rows in a half
        self.metric = metric
        self.weight = np.ones(r.shape[1], dtype=np.int64)  # the columns each column stands for (score)

    @classmethod
    def from_raw(
        cls, block_sum: np.ndarray, block_sq: np.ndarray, block_size: int, metric: str, *, overwrite: bool = False
    ) -> BlockSums:
        """The same sums from raw per-block sums of r and r^2 (what a sweep keeps per chunk), in new
        arrays, or with ``overwrite`` in ``block_sum`` and ``block_sq`` themselves (float64 arrays).

        With c the column mean over all blocks: sum(d) = sum(r) - b c, sum(d^2) = sum(r^2) - 2 c sum(r) + b c^2.
        """
        out = cls.__new__(cls)
        n_blocks = len(block_sum)
        out.center = block_sum.sum(axis=0) / (n_blocks * block_size)
        # a block (row) at a time: the same arithmetic as the whole-array expressions, without their
        # (S, N) temporaries (three of them, 384 MB for a million columns)
        shift, twice, square = block_size * out.center, 2.0 * out.center, block_size * out.center**2
        out.s1, out.s2 = (block_sum, block_sq) if overwrite else (np.empty_like(block_sum), np.empty_like(block_sq))
        scratch = np.empty_like(out.center)
        for b in range(n_blocks):
            np.multiply(twice, block_sum[b], out=scratch)
            np.subtract(block_sq[b], scratch, out=out.s2[b])
            out.s2[b] += square
            np.subtract(block_sum[b], shift, out=out.s1[b])  # last: in place, it overwrites block_sum[b]
        out.total1 = out.s1.sum(axis=0)
        out.total2 = out.s2.sum(axis=0)
        out.rows = n_blocks // 2 * block_size
        out.metric = metric
        out.weight = np.ones(block_sum.shape[1], dtype=np.int64)
        return out

    def score(
        self, blocks: np.ndarray, best: np.ndarray, is_best: np.ndarray, oos: np.ndarray, rank: np.ndarray
    ) -> None:
        """Steps 3-4 for every split (``blocks``: their IS blocks) by the compiled pass
        (:func:`splits_nb`, the same bits as :meth:`__call__`), ranges of complementary pairs of splits
        (:func:`pair_splits`) on the cores this process may use."""
        args = (self.s1, self.s2, self.total1, self.total2, self.center, float(self.rows), self.metric == "sharpe")
        halves, first, second = pair_splits(blocks, len(self.s1))
        edges = np.linspace(0, len(halves), min(usable_cores(), len(halves)) + 1).astype(int)
        work = [(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]
        scored = np.empty(len(blocks), dtype=np.int64)
        tile = TILE if self.s1.shape[1] > IN_CACHE else max(self.s1.shape[1], 1)

        def run(span: tuple[int, int]) -> None:
            splits_nb(halves, first, second, *args, FLAT_SS_RTOL, *span, scored, is_best, oos, rank, tile, self.weight)

        with ThreadPoolExecutor(len(work)) as pool:
            list(pool.map(run, work))
        best[:] = scored

    def __call__(self, halves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(IS, OOS) performance, each (k, N), of the k splits whose IS blocks ``halves`` marks with 1
        (the numpy formulation of :meth:`score`, for a caller's own halves and for the tests)."""
        holds0 = halves[:, :1] == 1  # the half holding block 0 is summed, the other is the totals minus it
        direct = np.where(holds0, halves, 1.0 - halves)
        d1 = np.einsum("ks,sn->kn", direct, self.s1)
        o1 = self.total1 - d1
        s1, o1 = np.where(holds0, d1, o1), np.where(holds0, o1, d1)
        if self.metric == "mean":
            return self._mean(s1), self._mean(o1)
        d2 = np.einsum("ks,sn->kn", direct, self.s2)
        o2 = self.total2 - d2
        s2, o2 = np.where(holds0, d2, o2), np.where(holds0, o2, d2)
        return self._sharpe(s1, s2), self._sharpe(o1, o2)

    def _mean(self, s1: np.ndarray) -> np.ndarray:
        s1 /= self.rows
        s1 += self.center
        return s1

    def _sharpe(self, s1: np.ndarray, s2: np.ndarray) -> np.ndarray:
        """mean / std(ddof=1) from a half's sums, -inf where flat; in place (fresh (k, N) temporaries cost more)."""
        n = self.rows
        tolerance = s2 * FLAT_SS_RTOL
        square = np.multiply(s1, s1)
        square /= n
        s2 -= square  # sum of squared deviations from the half's own mean: s2 - s1^2 / n
        flat = np.less_equal(s2, tolerance)
        s2 /= n - 1
        out = self._mean(s1)
        # flat halves: s2 may be 0 or a rounding-negative number; they become -inf just below
        with np.errstate(invalid="ignore", divide="ignore"):
            np.sqrt(s2, out=s2)
            out /= s2
        out[flat] = -np.inf
        return out
