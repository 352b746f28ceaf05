"""Per-block sums for CSCV: every half's mean and Sharpe ratio from them, columns alike merged, splits scored.

:func:`engine.metrics.cscv.pbo_from_block_sums` (and ``pbo_cscv`` with the built-in metrics) scores each of the
C(S, S/2) splits from per-block sums of every column (:class:`BlockSums`).  Done with numpy
(:meth:`BlockSums.__call__`), that is two (splits, S) x (S, N) products and a dozen (splits, N) temporaries; the
compiled pass (:func:`engine.metrics.cscv_splits.splits_nb`, which :meth:`BlockSums.score` runs on the cores) reads
only S/2 block rows per split and keeps no (splits, N) array, with the same bits.  Columns alike bit for bit are
scored once (:func:`distinct_columns`).
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from engine.cores import usable_cores
from engine.metrics.cscv_splits import pair_splits, splits_nb
from engine.metrics.cscv_tiles import BATCH_WINNERS
from engine.metrics.matrix import FLAT_SS_RTOL, TIE_RTOL

__all__ = ["BlockSums", "distinct_columns"]

#: Up to this many columns, every split reads all of them at once: their block sums (16 MB for 16 blocks)
#: stay in the processor's caches from one split to the next.  Beyond, a tile at a time (measured on two
#: threads: the same speed at 60,000 columns, tiles 1.2x faster at 150,000 and 1.8x at a million).
IN_CACHE = 65_536
#: Columns of a tile: its 16 blocks of sums (two arrays) and its work arrays take about 600 KB, within a
#: core's level-2 cache.
TILE = 2048
#: Tied winners a thread records at once in tiles (:data:`engine.metrics.cscv_tiles.BATCH_WINNERS`).
BATCH = BATCH_WINNERS


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

    def score(self, blocks: np.ndarray, out: dict[str, np.ndarray]) -> np.ndarray:
        """Steps 3-6 for every split (``blocks``: their IS blocks) by the compiled pass
        (:func:`engine.metrics.cscv_splits.splits_nb`, the same bits as :meth:`__call__`), ranges of complementary
        pairs of splits (:func:`engine.metrics.cscv_splits.pair_splits`) on the cores this process may use.

        Fills ``out``'s per-split arrays (``best``, ``is_best``, ``oos_best``, ``rank``, ``tied``, ``overfit``,
        ``loss``); returns the winners' OOS ranks as masses (2N - 1,), N = the columns counted by weight."""
        args = (self.s1, self.s2, self.total1, self.total2, self.center, float(self.rows), self.metric == "sharpe")
        halves, first, second = pair_splits(blocks, len(self.s1))
        edges = np.linspace(0, len(halves), min(usable_cores(), len(halves)) + 1).astype(int)
        work = [(lo, hi) for lo, hi in itertools.pairwise(edges) if hi > lo]
        tile = TILE if self.s1.shape[1] > IN_CACHE else max(self.s1.shape[1], 1)
        mass = np.zeros((len(work), 2 * int(self.weight.sum()) - 1))  # each thread its own
        arrays = [out[k] for k in ("best", "is_best", "oos_best", "rank", "tied", "overfit", "loss")]

        def run(i: int) -> None:
            splits_nb(  # type: ignore[call-arg]  # numba's stub counts fewer parameters than the kernel has
                halves,
                first,
                second,
                *args,
                FLAT_SS_RTOL,
                TIE_RTOL,
                *work[i],
                *arrays,
                mass[i],
                tile,
                self.weight,
                BATCH,
            )

        with ThreadPoolExecutor(len(work)) as pool:
            list(pool.map(run, range(len(work))))
        return mass.sum(axis=0)

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
        """mean / std(ddof=1) from a half's sums, 0 where flat; in place (fresh (k, N) temporaries cost more)."""
        n = self.rows
        tolerance = s2 * FLAT_SS_RTOL
        square = np.multiply(s1, s1)
        square /= n
        s2 -= square  # sum of squared deviations from the half's own mean: s2 - s1^2 / n
        flat = np.less_equal(s2, tolerance)
        s2 /= n - 1
        out = self._mean(s1)
        # flat halves: s2 may be 0 or a rounding-negative number; they become 0 just below
        with np.errstate(invalid="ignore", divide="ignore"):
            np.sqrt(s2, out=s2)
            out /= s2
        out[flat] = 0.0  # cash's: no excess return, no risk (engine.metrics.cscv, rule 3)
        return out
