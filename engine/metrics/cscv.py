"""Probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation (CSCV).

Pure functions over a (T, N) numpy matrix of per-period simple returns (fractions): row t is a
date, column n one combination of a sweep, every column on the same dates.  No I/O.  A NaN or
infinite value is a caller bug (align the dates first) and raises ``ValueError``.

Units and conventions are those of ``engine.metrics.significance``: the "per-period" Sharpe ratio
SR = mean(r) / std(r, ddof=1) with a zero risk-free rate, not annualised (multiply by
sqrt(periods_per_year) to annualise); skewness and non-excess kurtosis from population moments.

Probability of backtest overfitting (``pbo_cscv``), combinatorially symmetric cross-validation
(Bailey, Borwein, López de Prado & Zhu 2017; the algorithm paraphrased, not quoted):

1. Split the T rows into S contiguous blocks of T/S rows (S even).
2. For each of the C(S, S/2) sets c of S/2 blocks: the blocks in c, in time order, are the
   in-sample (IS) rows J, the other S/2 blocks the out-of-sample (OOS) rows J̄.
3. R_n and R̄_n are the performance of column n on J and on J̄;  n* = argmax_n R_n.
4. ω̄_c is the relative rank of R̄_{n*} among R̄_1 .. R̄_N, in (0, 1);  λ_c = ln(ω̄_c / (1 - ω̄_c)).
5. PBO = ∫_{-inf}^{0} f(λ) dλ with f the relative frequency of the λ_c: the fraction of splits
   in which the IS winner does no better than the OOS median.

What the paper leaves open, fixed here (``docs/methodology.md`` states the same rules for a reimplementation):

* Rank: ascending, 1 = worst OOS, N = best; ties share their average rank (the midrank,
  ``scipy.stats.rankdata``'s default), so ω̄_c = rank / (N + 1).  The N + 1 keeps ω̄_c inside
  (0, 1) (the best rank gives λ = ln N, not +inf) and puts the median rank (N + 1) / 2 at
  exactly λ = 0, the paper's line between beating the OOS median and not.  pypbo
  (esvhd/pypbo) reads the paper the same way; the R package ``pbo`` divides by N instead,
  which makes the best rank λ = +inf.  λ_c is computed as ln(rank) - ln(N + 1 - rank), the
  same number without the rounding of the division.
* PBO counts λ_c <= 0: a selection that lands exactly on the OOS median (possible when N is
  odd, or through ties) counts as overfit, the mass at 0 belonging to the integral up to 0
  (as pypbo and the R package do).  Under the null of N exchangeable columns the OOS rank of
  n* is uniform on 1..N, so E[PBO] = 1/2 for even N and 1/2 + 1/(2N) for odd N.
* Ties, within :data:`engine.metrics.matrix.TIE_RTOL` (1e-9) of a value's size: combinations that hold the
  same positions over a half score alike only up to rounding (their values differ by what they held
  before), and which of them wins, or where each ranks, would otherwise depend on those last bits.  The IS
  winners W_c are every column within 1e-9 of the largest metric R* (R_n >= R* - 1e-9 |R*|); an OOS value x
  ranks above the columns below x - 1e-9 |x| and shares the midrank of those within 1e-9 |x| of it.  Each
  winner is ranked, and counts 1 / |W_c| of its split: PBO is the mean over splits of the share of their
  winners with λ <= 0 (an order of the columns, or of their last bits, changes nothing), the probability of
  loss the mean share with R̄ < 0, and the logit histogram adds 1 / |W_c| per winner.  n*, the reported
  winner of a split (its IS and OOS metric, rank and λ), is the first of W_c in column order.  The paper
  assumes a unique maximum, which continuous data have with probability one; a user's callable metric
  follows the same rules (its NaN scores count as -inf, and infinities tie only with themselves).
* Zero variance: a column with no variation in a half (in cash: every excess return 0) has no Sharpe
  ratio; it scores 0 there, cash's (no excess return, no risk), so an IS winner with a negative OOS
  Sharpe ratio ranks below it, and it can win a half in which every column that traded lost.  "No
  variation" is a sum of squared deviations at most 1e-10 of the sum of squares about the column's
  full-sample mean, so rounding in the block sums cannot turn a flat half into a huge Sharpe ratio.  (A
  constant non-zero excess return, which a sweep cannot make, scores 0 too.)
* Remainder rows: with T = S * b + m, the first (oldest) m rows are dropped, so every block
  has b rows and the most recent data are kept (pypbo drops the same rows).
* The paper's performance degradation and probability of loss: the pairs
  (R_{n*}, R̄_{n*}) of every split, and the share of winners with R̄ < 0, averaged over splits.

The default metric, the per-period Sharpe ratio, and the mean are computed from per-block
sums of r and r^2 (about each column's full-sample mean, for accuracy), so a split costs
O(S * N), not O(T * N): all 12,870 splits (S = 16) of a 6,500 x 5,000 matrix took 1.3 s on
two busy cores, so no split is sampled by default.

References
----------
* Bailey, D. H., Borwein, J., López de Prado, M. & Zhu, Q. J. (2017). The probability of
  backtest overfitting. *Journal of Computational Finance* 20(4), 39-69; SSRN 2326253 (2014).
* pypbo (github.com/esvhd/pypbo) and the R package ``pbo`` (M. Barry): the two public
  implementations whose conventions are compared above.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from engine.metrics.cscv_blocks import BlockSums, distinct_columns
from engine.metrics.cscv_kernels import tie_floor
from engine.metrics.cscv_splits import winners_nb
from engine.metrics.matrix import TIE_RTOL, check_int, returns_matrix
from engine.metrics.significance import DEFAULT_SEED

__all__ = [
    "MAX_ENUMERATED_SPLITS",
    "PBOResult",
    "logit_histogram",
    "pbo_cscv",
    "pbo_from_block_sums",
]

Metric = Literal["sharpe", "mean"] | Callable[[np.ndarray], np.ndarray]

MAX_ENUMERATED_SPLITS = 1_000_000
"""More split combinations than this (S >= 24) need ``max_splits``: C(24, 12) = 2,704,156."""

# Splits scored per vectorised step: (chunk, N) arrays of about 2^16 floats (512 kB, cache-sized).
# Measured on 6,500 x 5,000, S = 16 (12,870 splits, 2 busy cores): 2^13 1.7-2.1 s, 2^14 1.4 s,
# 2^16 1.3 s, 2^18 1.4 s, 2^20 1.6-1.8 s.
_CHUNK_ELEMENTS = 1 << 16


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class PBOResult:
    """The outcome of ``pbo_cscv``; arrays have one entry per split combination, read-only.

    Attributes
    ----------
    pbo:
        The mean over splits of the share of their tied IS winners with logit <= 0, in [0, 1] (without ties,
        the fraction of splits with logit <= 0).
    logits:
        λ_c = ln(ω̄_c / (1 - ω̄_c)) of n*, ω̄_c = ``oos_rank`` / (N + 1).
    oos_rank:
        Rank of n* among the N OOS performances, 1 = worst, N = best, ties (within 1e-9) averaged.
    in_sample_blocks:
        Shape (splits, S/2): the IS blocks of each split (0 = oldest), in ``itertools.combinations``
        order; the OOS blocks are the complement.
    best_in_sample:
        n*, the column index of each split's IS winner (the first of the tied ones).
    tied_winners:
        |W_c|, the columns tied for the largest IS metric in each split, n* included.
    overfit_share:
        The share of each split's tied winners with logit <= 0 (0 or 1 without ties); PBO is its mean.
    rank_mass:
        Shape (2N - 1,): how many winners (each 1 / |W_c| of its split) have OOS rank 1, 1.5, 2, .., N.
    is_performance, oos_performance:
        R_{n*} and R̄_{n*}: the winner's metric in and out of sample (the paper's performance
        degradation pairs; regress the second on the first for its slope).
    prob_loss:
        The mean over splits of the share of their winners with an OOS performance < 0 (the paper's
        probability of loss; without ties, the fraction of splits with ``oos_performance`` < 0).
    n_splits:
        S, the number of blocks.
    n_combinations_tested:
        N, the number of columns.
    block_size:
        Rows per block, T // S.
    n_rows_dropped:
        The T - S * block_size oldest rows left out.
    """

    pbo: float
    logits: np.ndarray
    oos_rank: np.ndarray
    in_sample_blocks: np.ndarray
    best_in_sample: np.ndarray
    tied_winners: np.ndarray
    overfit_share: np.ndarray
    rank_mass: np.ndarray
    is_performance: np.ndarray
    oos_performance: np.ndarray
    prob_loss: float
    n_splits: int
    n_combinations_tested: int
    block_size: int
    n_rows_dropped: int


# ---------------------------------------------------------------------------- splits


def _unrank(index: int, items: list[int], k: int) -> list[int]:
    """The ``index``-th k-subset of ``items`` in ``itertools.combinations`` (lexicographic) order."""
    out: list[int] = []
    start = 0
    for slots in range(k, 0, -1):
        for j in range(start, len(items)):
            count = math.comb(len(items) - j - 1, slots - 1)  # subsets whose next item is items[j]
            if index < count:
                out.append(items[j])
                start = j + 1
                break
            index -= count
    return out


def _split_blocks(n_splits: int, max_splits: int | None, seed: int) -> np.ndarray:
    """IS block sets, shape (splits, S/2), in ``itertools.combinations`` order.

    All C(S, S/2) of them, or a seeded sample of ``max_splits`` that keeps the symmetry: it
    draws ``max_splits / 2`` of the C(S, S/2) / 2 sets containing block 0 and adds each one's
    complement, so every sampled IS half is also an OOS half.
    """
    k = n_splits // 2
    total = math.comb(n_splits, k)
    if max_splits is None or max_splits >= total:
        if total > MAX_ENUMERATED_SPLITS:
            raise ValueError(
                f"n_splits={n_splits} gives {total:,} split combinations (> {MAX_ENUMERATED_SPLITS:,}); "
                "pass max_splits to sample them"
            )
        return np.array(list(itertools.combinations(range(n_splits), k)), dtype=np.intp)
    if max_splits < 2 or max_splits % 2:
        raise ValueError(f"max_splits must be an even integer >= 2, got {max_splits}")
    rng = np.random.default_rng(seed)
    picks = rng.choice(total // 2, size=max_splits // 2, replace=False)  # C(S-1, k-1) = C(S, k) / 2
    others = list(range(1, n_splits))
    with_first = [(0, *_unrank(int(i), others, k - 1)) for i in picks]
    complements = [tuple(b for b in range(n_splits) if b not in c) for c in with_first]
    return np.array(sorted(with_first + complements), dtype=np.intp)


# ---------------------------------------------------------------------------- performance


def _performance(
    r: np.ndarray, metric: Metric, n_blocks: int, block_size: int
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A function from a (k, S) 0/1 matrix of IS blocks to the (IS, OOS) performance, each (k, N)."""
    if metric == "sharpe" or metric == "mean":
        return BlockSums(r, n_blocks, block_size, metric)
    if not callable(metric):
        raise ValueError(f"metric must be 'sharpe', 'mean' or a callable, got {metric!r}")
    user = metric

    def score(halves: np.ndarray) -> np.ndarray:
        out = np.empty((len(halves), r.shape[1]))
        for i, half in enumerate(halves):
            values = np.asarray(user(r[np.repeat(half.astype(bool), block_size)]), dtype=float)
            if values.shape != (r.shape[1],):
                raise ValueError(f"metric must return one value per column, shape ({r.shape[1]},), got {values.shape}")
            out[i] = np.where(np.isnan(values), -np.inf, values)
        return out

    return lambda halves: (score(halves), score(1.0 - halves))


# ---------------------------------------------------------------------------- PBO


def pbo_cscv(
    returns: np.ndarray,
    *,
    n_splits: int = 16,
    metric: Metric = "sharpe",
    max_splits: int | None = None,
    seed: int = DEFAULT_SEED,
) -> PBOResult:
    """Probability of backtest overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu 2017).

        λ_n = ln(ω̄_n / (1 - ω̄_n)),  ω̄_n = rank of R̄_n among R̄_1..R̄_N / (N + 1),  n in W_c,
        W_c = the columns tied for max_n R_n,  PBO = mean over c of #{n in W_c : λ_n <= 0} / |W_c|
        (#{c : λ_c <= 0} / #splits when every W_c has one column)

    R_n and R̄_n the metric of column n on the IS and OOS halves of split c; the split
    scheme and every convention (ranks, ties, flat columns, remainder rows) in the module
    docstring.  A PBO near 0 says the IS winner stays above the OOS median; near 1/2 the
    selection is no better than a random pick (the value for pure noise); above 1/2 the IS
    ranking is reversed out of sample.

    Parameters
    ----------
    returns:
        Per-period simple returns (fractions), shape (T, N): T dates, N >= 2 combinations.
    n_splits:
        S, the number of contiguous blocks: even, 2 <= S <= T.  The paper's 16 gives 12,870
        splits of T/2 rows each; a smaller S gives fewer, longer blocks.
    metric:
        ``"sharpe"`` (per-period mean / std(ddof=1), 0 for a flat half), ``"mean"``
        (per-period mean return), or a callable mapping the (T/2, N) rows of one half, in time
        order, to N scores, higher is better (NaN scores count as -inf).  The two names are
        computed from block sums; a callable costs O(T * N) per split.
    max_splits:
        None: every one of the C(S, S/2) splits.  Otherwise an even cap: ``max_splits / 2``
        IS halves containing block 0 drawn without replacement with
        ``np.random.default_rng(seed)``, each with its complement.  Required above
        ``MAX_ENUMERATED_SPLITS`` splits.
    seed:
        Seed of that draw; unused without a cap.

    Returns
    -------
    PBOResult

    Example
    -------
    >>> rng = np.random.default_rng(0)
    >>> r = rng.normal(0.0, 0.01, (400, 10))
    >>> r[:, 3] += 0.01  # one combination with a real edge in every block
    >>> res = pbo_cscv(r, n_splits=8)
    >>> res.pbo, len(res.logits), set(res.best_in_sample.tolist()), bool(np.all(res.logits == np.log(10)))
    (0.0, 70, {3}, True)
    """
    r = returns_matrix(returns, min_columns=2)
    t, n = r.shape
    s, block, max_splits = _layout(t, n_splits, metric, max_splits)
    dropped = t - s * block
    r = r[dropped:]
    return _cscv(_performance(r, metric, s, block), s, n, block, dropped, max_splits, seed)


def _layout(t: int, n_splits: int, metric: Metric, max_splits: int | None) -> tuple[int, int, int | None]:
    """(S, rows per block, the split cap) of ``pbo_cscv`` on T = ``t`` rows; ValueError on a bad argument."""
    s = check_int(n_splits, "n_splits")
    if s < 2 or s % 2:
        raise ValueError(f"n_splits must be an even integer >= 2, got {s}")
    if s > t:
        raise ValueError(f"n_splits={s} exceeds the {t} rows: every block needs at least one row")
    if max_splits is not None:
        max_splits = check_int(max_splits, "max_splits")
    block = t // s
    if metric == "sharpe" and s // 2 * block < 2:
        raise ValueError(f"each half has {s // 2 * block} row; a Sharpe ratio needs at least 2")
    return s, block, max_splits


def pbo_from_block_sums(
    block_sum: np.ndarray,
    block_sq: np.ndarray,
    block_size: int,
    *,
    metric: Literal["sharpe", "mean"] = "sharpe",
    n_rows_dropped: int = 0,
    max_splits: int | None = None,
    seed: int = DEFAULT_SEED,
    overwrite_input: bool = False,
) -> PBOResult:
    """:func:`pbo_cscv` from per-block sums: ``block_sum[b, n]`` = sum of column n's returns in block b.

    ``block_sq`` holds the sums of squares; ``block_size`` the rows per block (the same for every
    block).  What a chunked sweep keeps instead of the (T, N) matrix; the same results as
    :func:`pbo_cscv` on the rows that made the blocks, to rounding.  With ``overwrite_input`` (and
    float64 arrays) the sums are centred in place, which leaves them changed but needs no second
    pair of (S, N) arrays (as ``overwrite_input`` of ``numpy.median``); the results are the same bits.
    Columns alike bit for bit are scored once and counted as often as they occur
    (:func:`engine.metrics.cscv_blocks.distinct_columns`): the same bits as scoring every one.

    >>> r = np.random.default_rng(2).normal(0.0, 0.01, (160, 6))
    >>> blocks = r.reshape(8, 20, 6)
    >>> res = pbo_from_block_sums(blocks.sum(axis=1), (blocks**2).sum(axis=1), 20)
    >>> res.pbo == pbo_cscv(r, n_splits=8).pbo, len(res.logits)
    (True, 70)
    """
    s1, s2 = np.ascontiguousarray(block_sum, dtype=np.float64), np.ascontiguousarray(block_sq, dtype=np.float64)
    if s1.ndim != 2 or s1.shape != s2.shape:
        raise ValueError(f"block sums must be two (S, N) arrays, got {s1.shape} and {s2.shape}")
    s, n = s1.shape
    if s < 2 or s % 2:
        raise ValueError(f"the number of blocks must be even and >= 2, got {s}")
    if n < 2:
        raise ValueError(f"need at least 2 combinations, got {n}")
    if metric == "sharpe" and s // 2 * block_size < 2:
        raise ValueError(f"each half has {s // 2 * block_size} row; a Sharpe ratio needs at least 2")
    if not (np.all(np.isfinite(s1)) and np.all(np.isfinite(s2))):
        raise ValueError("block sums must be finite")
    distinct = distinct_columns(s1, s2, overwrite=overwrite_input)
    columns = None
    if distinct is not None:  # alike columns scored once, counted as often as they occur (distinct_columns)
        s1, s2, columns, weight = distinct
    perf = BlockSums.from_raw(s1, s2, int(block_size), metric, overwrite=overwrite_input or distinct is not None)
    if distinct is not None:
        perf.weight = weight
    return _cscv(perf, s, n, int(block_size), n_rows_dropped, max_splits, seed, columns)


def _cscv(
    perf: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    s: int,
    n: int,
    block: int,
    dropped: int,
    max_splits: int | None,
    seed: int,
    columns: np.ndarray | None = None,
) -> PBOResult:
    """Steps 2-5 of the module docstring, given each split's IS and OOS performance; ``columns``: the column
    each of ``perf``'s stands for (its IS winners are reported as those)."""
    blocks = _split_blocks(s, max_splits, seed)
    count = len(blocks)
    out = {
        "best": np.empty(count, dtype=np.int64),
        "is_best": np.empty(count),
        "oos_best": np.empty(count),
        "rank": np.empty(count),
        "tied": np.empty(count, dtype=np.int64),
        "overfit": np.empty(count),
        "loss": np.empty(count),
    }
    mass = perf.score(blocks, out) if isinstance(perf, BlockSums) else _score(perf, _halves(blocks, s), n, out)
    best = out["best"] if columns is None else columns[out["best"]]
    logits = np.log(out["rank"]) - np.log(n + 1 - out["rank"])
    kept = {"logits": logits, "oos_rank": out["rank"], "in_sample_blocks": blocks, "best_in_sample": best}
    kept |= {"tied_winners": out["tied"], "overfit_share": out["overfit"], "rank_mass": mass}
    kept |= {"is_performance": out["is_best"], "oos_performance": out["oos_best"]}
    for arr in kept.values():
        arr.flags.writeable = False
    return PBOResult(
        pbo=float(np.mean(out["overfit"])),
        **kept,
        prob_loss=float(np.mean(out["loss"])),
        n_splits=s,
        n_combinations_tested=n,
        block_size=block,
        n_rows_dropped=dropped,
    )


def _halves(blocks: np.ndarray, s: int) -> np.ndarray:
    """The (splits, S) 0/1 matrix of each split's in-sample blocks."""
    halves = np.zeros((len(blocks), s))
    halves[np.arange(len(blocks))[:, None], blocks] = 1.0
    return halves


def _score(
    perf: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], halves: np.ndarray, n: int, out: dict[str, np.ndarray]
) -> np.ndarray:
    """Steps 3-6 for a user's metric, as :meth:`BlockSums.score` does them for the built-in ones: each split's tied
    IS winners (the first reported), their OOS ranks, shares and masses."""
    step = max(1, _CHUNK_ELEMENTS // n)
    mass = np.zeros(2 * n - 1)
    ones = np.ones(n, dtype=np.int64)
    for lo in range(0, len(halves), step):
        is_perf, oos_perf = perf(halves[lo : lo + step])
        for i, (ins, oos) in enumerate(zip(is_perf, oos_perf, strict=True), start=lo):
            winners = np.flatnonzero(ins >= tie_floor(ins.max(), TIE_RTOL))  # every column tied with the largest
            row = np.ascontiguousarray(oos, dtype=np.float64)
            out["rank"][i], out["tied"][i], out["overfit"][i], out["loss"][i] = winners_nb(
                row, n, winners, ones, TIE_RTOL, n, mass
            )  # the compiled pass's ranks and shares, each column once
            star = winners[0]
            out["best"][i], out["is_best"][i], out["oos_best"][i] = star, ins[star], oos[star]
    return mass


def logit_histogram(result: PBOResult, *, bins: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Histogram of the CSCV logits for rendering: (bin edges, counts per bin).

    Every tied IS winner's logit counts 1 / |W_c| of its split (``rank_mass``), so a split adds 1 in all and
    the counts are whole numbers when no split has tied winners.  The logits lie in [-ln N, ln N] (OOS rank
    1 to N), so the edges are ``bins + 1`` evenly spaced points over exactly that range, with ``bins`` even so
    that 0 is an edge.  Bins are closed on the right, (e_i, e_{i+1}] (the first one also holds -ln N), so a
    logit of exactly 0 falls left of 0 as PBO counts it: the counts of the bins whose right edge is <= 0 add
    up to PBO * number of splits.

    Parameters
    ----------
    result:
        The outcome of ``pbo_cscv``.
    bins:
        Number of bins, even and >= 2.

    Returns
    -------
    (edges, counts): float arrays of ``bins + 1`` edges and ``bins`` counts.

    Example
    -------
    >>> rng = np.random.default_rng(1)
    >>> res = pbo_cscv(rng.normal(0.0, 0.01, (240, 4)), n_splits=4)
    >>> edges, counts = logit_histogram(res, bins=4)
    >>> int(counts.sum()), int(counts[edges[1:] <= 0].sum()) == round(res.pbo * 6)
    (6, True)
    """
    b = check_int(bins, "bins")
    if b < 2 or b % 2:
        raise ValueError(f"bins must be an even integer >= 2, got {b}")
    top = math.log(result.n_combinations_tested)
    edges = np.linspace(-top, top, b + 1)
    edges[b // 2] = 0.0  # linspace leaves it at a rounding error from 0 for some N (8.9e-16 for N = 392)
    n = result.n_combinations_tested
    rank = 1.0 + np.arange(2 * n - 1) / 2.0  # rank_mass's ranks: 1, 1.5, .., N
    logits = np.log(rank) - np.log(n + 1 - rank)  # as PBOResult.logits computes them
    # side="left": edges[i-1] < x <= edges[i] gives i; -ln N itself (i = 0) goes to the first bin
    which = np.clip(np.searchsorted(edges, logits, side="left") - 1, 0, b - 1)
    return edges, np.bincount(which, weights=result.rank_mass, minlength=b)
