"""An independent reference for the CSCV probability of backtest overfitting (PBO), written from the contract only.

Nothing here imports ``engine``: it is a slow, literal test oracle (numpy, math and itertools only).

Semantics
=========

Input: a (T, N) matrix ``r`` of per-period excess returns, rows = dates oldest first, columns = the N
combinations of a grid in grid order 0..N-1.  ``n_splits`` = S, the number of blocks (even, default 16).

1. Remainder.  T = S*b + m with b = T // S.  The FIRST (oldest) m rows are dropped; block i is rows
   [i*b, (i+1)*b) of what remains.
2. Splits.  Every set c of S/2 blocks, in ``itertools.combinations(range(S), S // 2)`` order, is one split:
   its blocks (in time order) are the in-sample half (IS), the other S/2 blocks the out-of-sample half
   (OOS).  There are C(S, S/2) splits.
3. Performance of a column on a half (the rows of the half's blocks, concatenated):
   - ``metric="sharpe"``: mean / std(ddof=1).  The half is FLAT for the column when
     sum((x - mean(x))**2) <= 1e-10 * sum((x - mu)**2), x = the column's rows in the half and mu = the
     column's full-sample mean; a flat half scores exactly 0.0 (the Sharpe ratio of cash).
   - ``metric="mean"``: the mean; no flat rule.
4. Ties, with RTOL = 1e-9:
   - IS winners: R* = the largest IS performance; the winners W are every column n with
     R_n >= R* - RTOL*|R*| (exact equality only when R* = 0).  The first winner n* is min(W).
   - OOS rank of a value x among all N OOS performances (winners included):
     below = #{k : OOS_k < x - RTOL*|x|}, equal = #{k : |OOS_k - x| <= RTOL*|x|} (x itself counts),
     rank(x) = below + (equal + 1) / 2, a half-integer in [1, N] (1 = worst, N = best).
5. For each winner n: rank_n = rank(OOS_n), logit_n = ln(rank_n / (N + 1 - rank_n)),
   overfit_n = 1 if 2*rank_n <= N + 1 (i.e. logit_n <= 0) else 0, loss_n = 1 if OOS_n < 0 else 0.
6. Per split: tied = |W|, overfit share = mean of overfit_n over W, loss share = mean of loss_n over W.
   The per-split values reported (IS and OOS performance, rank, logit, column) are the first winner's.
7. PBO = mean over splits of the overfit share; prob_loss = mean over splits of the loss share.
8. Histogram with ``bins`` (even) bins: edges = linspace(-ln N, ln N, bins + 1), the middle edge set to
   exactly 0.0; bin i is (e_i, e_{i+1}], the first bin also holds -ln N.  Each winner n of a split adds
   1 / tied to the bin of logit_n, so the counts are floats and the bins left of 0 sum to PBO * splits.
9. Duplicate columns are ordinary columns: N counts every column and each tying column is its own winner.

Judgement calls where the contract is silent (this reference's choices):

* "The column's full-sample mean" mu in the flat test is the mean over the rows that are used, i.e. after
  the oldest m remainder rows are dropped (the S*b rows split into blocks).
* The flat test and the Sharpe ratio are computed directly from the half's rows with numpy
  (``np.sum((x - np.mean(x)) ** 2)``, ``np.mean(x) / np.std(x, ddof=1)``).  A one-row half is always flat
  (its sum of squared deviations is 0).  All-zero halves are flat (0 <= 0).
* ``loss_n`` uses the exact comparison OOS_n < 0 (no tolerance), as written.
* ``logit_n`` is computed as ``math.log(rank / (N + 1 - rank))``.  Mathematically every logit lies in
  [-ln N, ln N]; a logit that rounding puts below the first edge goes to the first bin, above the last
  edge to the last bin.  Otherwise bins are assigned by plain float comparison with the edges.
* PBO and prob_loss are ``math.fsum`` of the per-split shares divided by the number of splits.
* Inputs the contract does not cover are rejected with ValueError: ``r`` not 2-D, N == 0, non-finite
  values, odd or non-positive S, T < S, odd or non-positive ``bins``, an unknown metric.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

RTOL = 1e-9
FLAT_RTOL = 1e-10


def _performance(x: np.ndarray, mu: float, metric: str) -> float:
    """The performance of one column on one half: ``x`` its rows in the half, ``mu`` its full-sample mean."""
    mean = float(np.mean(x))
    if metric == "mean":
        return mean
    squared_deviations = float(np.sum((x - mean) ** 2))
    scale = float(np.sum((x - mu) ** 2))
    if squared_deviations <= FLAT_RTOL * scale:
        return 0.0  # flat: the Sharpe ratio of cash
    return mean / float(np.std(x, ddof=1))


def _rank(x: float, values: list[float]) -> float:
    """Rank of ``x`` among ``values`` (1 = worst), ties within RTOL * |x| sharing the average rank."""
    tol = RTOL * abs(x)
    below = sum(1 for v in values if v < x - tol)
    equal = sum(1 for v in values if abs(v - x) <= tol)
    return below + (equal + 1) / 2


def _bin_of(value: float, edges: np.ndarray) -> int:
    """Index of the bin (e_i, e_{i+1}] holding ``value``; the first bin also holds e_0 (and anything below)."""
    n_bins = len(edges) - 1
    if value <= edges[0]:
        return 0
    for i in range(n_bins):
        if edges[i] < value <= edges[i + 1]:
            return i
    return n_bins - 1  # above the last edge only by rounding


def reference_pbo(r: np.ndarray, n_splits: int = 16, metric: str = "sharpe", bins: int = 20) -> dict:
    """CSCV probability of backtest overfitting of the (T, N) return matrix ``r`` (see the module docstring)."""
    r = np.asarray(r, dtype=float)
    if r.ndim != 2:
        raise ValueError("r must be a 2-D (T, N) matrix")
    n_rows, n_cols = r.shape
    if n_cols == 0:
        raise ValueError("r has no columns")
    if not np.all(np.isfinite(r)):
        raise ValueError("r holds non-finite values")
    if n_splits < 2 or n_splits % 2 != 0:
        raise ValueError("n_splits must be a positive even number")
    if n_rows < n_splits:
        raise ValueError("fewer rows than blocks")
    if bins < 2 or bins % 2 != 0:
        raise ValueError("bins must be a positive even number")
    if metric not in ("sharpe", "mean"):
        raise ValueError(f"unknown metric {metric!r}")

    # 1. Drop the oldest remainder rows; cut the rest into S blocks of b rows.
    block_len = n_rows // n_splits
    dropped = n_rows - n_splits * block_len
    used = r[dropped:]
    blocks = [used[i * block_len : (i + 1) * block_len] for i in range(n_splits)]
    full_means = [float(np.mean(used[:, n])) for n in range(n_cols)]

    # 8. Histogram edges.
    log_n = math.log(n_cols)
    edges = np.linspace(-log_n, log_n, bins + 1)
    edges[bins // 2] = 0.0
    counts = np.zeros(bins, dtype=float)

    logits: list[float] = []
    ranks: list[float] = []
    best: list[int] = []
    is_perf: list[float] = []
    oos_perf: list[float] = []
    tied: list[int] = []
    overfit_share: list[float] = []
    loss_share: list[float] = []

    # 2. Every split, in itertools.combinations order.
    for is_blocks in itertools.combinations(range(n_splits), n_splits // 2):
        oos_blocks = [i for i in range(n_splits) if i not in is_blocks]
        is_rows = np.concatenate([blocks[i] for i in is_blocks], axis=0)
        oos_rows = np.concatenate([blocks[i] for i in oos_blocks], axis=0)

        # 3. Each column's performance on each half, from the half's own rows.
        is_values = [_performance(is_rows[:, n], full_means[n], metric) for n in range(n_cols)]
        oos_values = [_performance(oos_rows[:, n], full_means[n], metric) for n in range(n_cols)]

        # 4. In-sample winners, within tolerance of the best.
        r_star = max(is_values)
        winners = [n for n in range(n_cols) if is_values[n] >= r_star - RTOL * abs(r_star)]

        # 5. Each winner's OOS rank, logit, overfit and loss flags.
        winner_ranks = [_rank(oos_values[n], oos_values) for n in winners]
        winner_logits = [math.log(rank / (n_cols + 1 - rank)) for rank in winner_ranks]
        overfit = [1 if 2 * rank <= n_cols + 1 else 0 for rank in winner_ranks]
        loss = [1 if oos_values[n] < 0 else 0 for n in winners]

        # 6. Per-split shares and the first winner's values.
        k = len(winners)
        tied.append(k)
        overfit_share.append(sum(overfit) / k)
        loss_share.append(sum(loss) / k)
        first = winners[0]
        best.append(first)
        is_perf.append(is_values[first])
        oos_perf.append(oos_values[first])
        ranks.append(winner_ranks[0])
        logits.append(winner_logits[0])

        # 8. Each winner adds 1 / tied to its logit's bin.
        for logit in winner_logits:
            counts[_bin_of(logit, edges)] += 1.0 / k

    # 7. Means over splits.
    n_split_sets = len(overfit_share)
    return {
        "pbo": math.fsum(overfit_share) / n_split_sets,
        "prob_loss": math.fsum(loss_share) / n_split_sets,
        "logits": logits,
        "oos_rank": ranks,
        "best_in_sample": best,
        "is_performance": is_perf,
        "oos_performance": oos_perf,
        "tied": tied,
        "overfit_share": overfit_share,
        "hist_edges": edges,
        "hist_counts": counts,
    }
