"""engine/overfitting.py: hand-enumerated CSCV splits, an independent slow oracle, properties, published DSR.

Worked examples:

* PBO: an 8 x 3 matrix cut into S = 4 blocks, whose 6 splits are enumerated by hand below.
* DSR: Bailey & López de Prado (2014)'s numerical example (N = 100 trials with annualised
  Sharpe variance 1/2, 250 days a year, a selected annualised Sharpe ratio of 2.5 over 1250 days,
  skewness -3, kurtosis 10: SR0 = 0.1132 per day, DSR = 0.9004; 0.9505 from 46 trials).
  ``tests/unit/test_significance.py`` reproduces it from the moments; here it is rebuilt as a
  1250 x 100 matrix of returns and recovered by ``deflated_sharpe_of_best``.
"""

from __future__ import annotations

import doctest
import functools
import itertools
import math
from dataclasses import FrozenInstanceError

import numpy as np
import pytest

import engine.metrics.overfitting as ovf
from engine.metrics.overfitting import deflated_sharpe_of_best, logit_histogram, pbo_cscv, pbo_from_block_sums
from engine.metrics.significance import deflated_sharpe, per_period_sharpe, probabilistic_sharpe
from engine.render.html.charts import pbo_figure
from tests.pbo_reference import reference_pbo

LN3 = math.log(3.0)


def test_public_api() -> None:
    assert sorted(ovf.__all__) == [
        "DeflatedBest",
        "MAX_ENUMERATED_SPLITS",
        "PBOResult",
        "deflated_sharpe_of_best",
        "logit_histogram",
        "pbo_cscv",
        "pbo_from_block_sums",
    ]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_block_sums_give_the_matrix_result(seed: int) -> None:
    """A sweep keeps per-block sums of r and r^2; PBO from them equals PBO from the matrix."""
    rng = np.random.default_rng(seed)
    r = rng.normal(0.0003, 0.01, (16 * 25 + 7, 12))
    r[:, 4] += 0.002  # some structure, so ranks are not all ties of noise
    full = ovf.pbo_cscv(r, n_splits=16)
    kept = r[7:].reshape(16, 25, 12)  # the 7 oldest rows dropped, as pbo_cscv does
    sums = ovf.pbo_from_block_sums(kept.sum(axis=1), (kept**2).sum(axis=1), 25, n_rows_dropped=7)
    assert sums.pbo == full.pbo
    np.testing.assert_allclose(sums.logits, full.logits, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(sums.best_in_sample, full.best_in_sample)
    np.testing.assert_allclose(sums.oos_performance, full.oos_performance, rtol=1e-9)
    assert (sums.n_rows_dropped, sums.block_size) == (7, 25)


def test_docstring_examples_run() -> None:
    functions = [obj for name in ovf.__all__ if callable(obj := getattr(ovf, name)) and not isinstance(obj, type)]
    assert functions
    assert all(">>>" in (f.__doc__ or "") for f in functions)
    failed, attempted = doctest.testmod(ovf, verbose=False)
    assert attempted > 0
    assert failed == 0


# ------------------------------------------------------------------------ hand-worked PBO

# Three combinations over S = 4 blocks of 2 rows.  Block b of a column with block mean m holds the
# rows (m + 1, m - 1), so a half made of blocks with means a and b has 4 rows with
#   mean = (a + b) / 2,  sum of squared deviations = 4 * 1 + (a - b)^2,  var(ddof=1) = (4 + (a - b)^2) / 3
# and Sharpe ratios  a = b = m: m / sqrt(4/3) = m * sqrt(3) / 2;  |a - b| = 1, a + b = +-1: +-0.5 / sqrt(5/3) =
# +-sqrt(3/20) = +-0.387298;  (2, -1): 0.5 / sqrt(13/3) = sqrt(3/52) = 0.240192.
#
#              block means      what it is
#   A          -1, -1, -1,  0   always losing
#   B          -1,  0,  0,  1   slowly improving
#   C           2,  2, -1, -1   an early winner that reversed
HAND_MEANS = np.array([[-1, -1, 2], [-1, 0, 2], [-1, 0, -1], [0, 1, -1]], dtype=float)  # blocks x columns
HAND = np.repeat(HAND_MEANS, 2, axis=0) + np.tile([[1.0], [-1.0]], (4, 1))  # rows m + 1, m - 1 per block
S3_2 = math.sqrt(3) / 2  # Sharpe of a half with both block means 1
SR_DIFF1 = math.sqrt(3 / 20)  # |a - b| = 1, |a + b| = 1
SR_2_M1 = math.sqrt(3 / 52)  # (a, b) = (2, -1)

# Sharpe ratio of A, B, C on each pair of blocks:
#   {0,1}: A -sqrt3/2,     B -sqrt(3/20),  C 2*sqrt3/2 = sqrt3
#   {0,2}: A -sqrt3/2,     B -sqrt(3/20),  C sqrt(3/52)
#   {0,3}: A -sqrt(3/20),  B 0,            C sqrt(3/52)
#   {1,2}: A -sqrt3/2,     B 0,            C sqrt(3/52)
#   {1,3}: A -sqrt(3/20),  B sqrt(3/20),   C sqrt(3/52)
#   {2,3}: A -sqrt(3/20),  B sqrt(3/20),   C -sqrt3/2
# The six splits, IS -> OOS, with n* = the IS winner and its OOS rank among 3 (1 = worst):
#   {0,1} -> {2,3}: n* = C (sqrt3);     OOS  C -0.866 < A -0.387 < B 0.387: rank 1, w = 1/4, logit ln(1/3)
#   {0,2} -> {1,3}: n* = C (0.240);     OOS  A -0.387 < C 0.240 < B 0.387:  rank 2, w = 2/4, logit 0
#   {0,3} -> {1,2}: n* = C (0.240);     OOS  A -0.866 < B 0 < C 0.240:      rank 3, w = 3/4, logit ln 3
#   {1,2} -> {0,3}: n* = C (0.240);     OOS  A -0.387 < B 0 < C 0.240:      rank 3, logit ln 3
#   {1,3} -> {0,2}: n* = B (0.387);     OOS  A -0.866 < B -0.387 < C 0.240: rank 2, logit 0
#   {2,3} -> {0,1}: n* = B (0.387);     OOS  A -0.866 < B -0.387 < C 1.732: rank 2, logit 0
# PBO = #{logit <= 0} / 6 = 4/6 (the three medians count); OOS Sharpe of n* < 0 in splits 1, 5, 6: 3/6.


def test_hand_example_every_split() -> None:
    res = pbo_cscv(HAND, n_splits=4)
    assert res.in_sample_blocks.tolist() == [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]]
    assert res.best_in_sample.tolist() == [2, 2, 2, 2, 1, 1]
    assert res.oos_rank.tolist() == [1.0, 2.0, 3.0, 3.0, 2.0, 2.0]
    assert res.logits.tolist() == [-LN3, 0.0, LN3, LN3, 0.0, 0.0]
    assert res.pbo == 4 / 6
    assert res.is_performance == pytest.approx([2 * S3_2, SR_2_M1, SR_2_M1, SR_2_M1, SR_DIFF1, SR_DIFF1], rel=1e-12)
    assert res.oos_performance == pytest.approx([-S3_2, SR_2_M1, SR_2_M1, SR_2_M1, -SR_DIFF1, -SR_DIFF1], rel=1e-12)
    assert res.prob_loss == 3 / 6
    assert (res.n_splits, res.n_combinations_tested, res.block_size, res.n_rows_dropped) == (4, 3, 2, 0)


def test_hand_example_with_the_mean_as_metric() -> None:
    # Mean of each half = average of its two block means:
    #   {0,1}: A -1, B -0.5, C 2     {0,2}: A -1, B -0.5, C 0.5    {0,3}: A -0.5, B 0, C 0.5
    #   {1,2}: A -1, B 0, C 0.5      {1,3}: A -0.5, B 0.5, C 0.5   {2,3}: A -0.5, B 0.5, C -1
    # {1,3}: B and C tie at 0.5 in sample: both are winners, n* the lower index, B, whose OOS {0,2} mean -0.5
    # ranks 2 of 3 (logit 0: overfit, and a loss); C's OOS {0,2} mean 0.5 ranks 3 (neither): the split counts 1/2.
    #   {0,1} -> C, OOS {2,3}: C -1 lowest -> rank 1        {0,2} -> C, OOS {1,3}: C 0.5 ties B 0.5 -> rank 2.5
    #   {0,3} -> C, OOS {1,2}: C 0.5 highest -> rank 3      {1,2} -> C, OOS {0,3}: C 0.5 highest -> rank 3
    #   {1,3} -> B, C (B reported)                          {2,3} -> B, OOS {0,1}: B -0.5 -> rank 2
    res = pbo_cscv(HAND, n_splits=4, metric="mean")
    assert res.best_in_sample.tolist() == [2, 2, 2, 2, 1, 1]
    assert res.tied_winners.tolist() == [1, 1, 1, 1, 2, 1]
    assert res.oos_rank.tolist() == [1.0, 2.5, 3.0, 3.0, 2.0, 2.0]
    # rank 2.5 of 3: w = 2.5 / 4, logit ln(2.5 / 1.5) = ln(5/3)
    assert res.logits == pytest.approx([-LN3, math.log(5 / 3), LN3, LN3, 0.0, 0.0], abs=1e-15)
    assert res.overfit_share.tolist() == [1.0, 0.0, 0.0, 0.0, 0.5, 1.0]
    assert res.pbo == pytest.approx(2.5 / 6, abs=1e-15)  # (1 + 1/2 + 1) / 6
    assert res.is_performance.tolist() == [2.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert res.oos_performance.tolist() == [-1.0, 0.5, 0.5, 0.5, -0.5, -0.5]
    assert res.prob_loss == pytest.approx(2.5 / 6, abs=1e-15)  # splits {0,1}, half of {1,3}, {2,3}
    # ranks 1, 2.5, 3, 3, 2 and 3 (split {1,3}'s two winners, 1/2 each), 2: the histogram's mass
    assert res.rank_mass.tolist() == [1.0, 0.0, 1.5, 1.0, 2.5]  # ranks 1, 1.5, 2, 2.5, 3


def test_ties_flat_columns_and_remainder_rows() -> None:
    # X (block means 1, 2, 1, 2, rows m +- 1), an exact copy of X, and cash (all zeros).  Every half: X and its
    # copy tie in sample, both winners, n* = 0 (the lower index); out of sample cash is flat (0, below X's
    # positive Sharpe ratio: rank 1) and the twins share ranks 2 and 3 -> 2.5, w = 2.5 / 4, logit ln(5/3) > 0
    # for both winners in all 6 splits: PBO = 0.
    x = np.repeat([1.0, 2.0, 1.0, 2.0], 2) + np.tile([1.0, -1.0], 4)
    core = np.column_stack([x, x, np.zeros(8)])
    # one extra first row: T = 9 = 4 * 2 + 1 drops the oldest row, which would break both the tie and the flatness
    r = np.vstack([[-50.0, 50.0, 7.0], core])
    res = pbo_cscv(r, n_splits=4)
    assert res.n_rows_dropped == 1
    assert res.block_size == 2
    assert res.best_in_sample.tolist() == [0] * 6
    assert res.tied_winners.tolist() == [2] * 6
    assert res.oos_rank.tolist() == [2.5] * 6
    assert res.logits == pytest.approx([math.log(5 / 3)] * 6, abs=1e-15)
    assert res.pbo == 0.0
    with np.errstate(invalid="ignore", divide="ignore"):  # the callable's own 0 / 0 for cash -> NaN -> -inf
        via_callable = pbo_cscv(r, n_splits=4, metric=lambda h: h.mean(axis=0) / h.std(axis=0, ddof=1))
    assert via_callable.logits.tolist() == res.logits.tolist()


def test_a_flat_column_scores_zero_as_cash_does() -> None:
    # a constant return has no variation: it scores 0, cash's Sharpe ratio (no excess return, no risk), not +inf.
    # Against columns losing 1% a day (sd 1%: every half's Sharpe ratio about -1) it wins every half, and out of
    # sample it ranks above all three (rank 4 of 4, logit ln 4): PBO 0.
    rng = np.random.default_rng(3)
    r = np.column_stack([np.full(64, 0.01), rng.normal(-0.01, 0.01, (64, 3))])
    res = pbo_cscv(r, n_splits=4)
    assert res.best_in_sample.tolist() == [0] * 6 and res.is_performance.tolist() == [0.0] * 6
    assert res.oos_rank.tolist() == [4.0] * 6 and res.pbo == 0.0 and res.prob_loss == 0.0
    # against columns gaining 1% a day it never wins, and ranks below every winner out of sample
    r = np.column_stack([np.zeros(64), rng.normal(0.01, 0.01, (64, 3))])
    res = pbo_cscv(r, n_splits=4)
    assert 0 not in res.best_in_sample.tolist() and np.all(res.oos_rank >= 2)


def test_a_winner_that_loses_out_of_sample_ranks_below_the_columns_in_cash() -> None:
    # two columns in cash (flat: 0) and two that trade: a winner whose OOS Sharpe ratio is negative ranks below
    # both cash columns (rank 1 or 2 of 4, logit <= 0: overfit), not above them
    rng = np.random.default_rng(5)
    trend = np.concatenate([np.full(32, 0.01), np.full(32, -0.01)]) + rng.normal(0.0, 0.002, 64)
    r = np.column_stack([np.zeros(64), trend, np.zeros(64), -trend])
    res = pbo_cscv(r, n_splits=2)  # one split each way: IS the first half (trend wins) and the second (-trend)
    assert res.best_in_sample.tolist() == [1, 3]
    assert res.oos_performance[0] < 0 and res.oos_performance[1] < 0
    assert res.oos_rank.tolist() == [1.0, 1.0] and res.pbo == 1.0


def test_a_column_in_cash_for_half_the_time_is_flat_there_despite_rounding() -> None:
    # 0.01% a day of cash interest in blocks 0 and 1, then trading.  About its full-sample mean the cash rows are
    # one constant d, and s2 - s1^2 / n comes out as 5.3e-23 instead of 0: taken at face value, the cash half
    # would have a Sharpe ratio of 1e-4 / sqrt(5.3e-23 / 19) = 6e7 and win.  It is flat, so it scores 0.
    rng = np.random.default_rng(1)
    cash_then_trading = np.concatenate([np.full(20, 0.0001), rng.normal(0.0, 0.01, 20)])
    r = np.column_stack([cash_then_trading, rng.normal(0.0, 0.01, (40, 1))])
    res = pbo_cscv(r, n_splits=4)
    assert res.in_sample_blocks[[0, 5]].tolist() == [[0, 1], [2, 3]]
    # IS {0,1}: column 0 is in cash there (0); the other column lost over rows 0..19 (a Sharpe ratio of -0.026),
    # so the cash wins, with 0, and its OOS half is the other column's
    assert r[:20, 1].mean() / r[:20, 1].std(ddof=1) == pytest.approx(-0.026321913790292133, rel=1e-12)
    assert res.best_in_sample[0] == 0 and res.is_performance[0] == 0.0
    # IS {2,3}: the trading half wins, and its OOS half {0,1} is the cash: 0, above the other column's -0.026
    assert res.best_in_sample[5] == 0
    assert res.oos_performance[5] == 0.0
    assert res.oos_rank[5] == 2.0


def test_logit_histogram_of_the_hand_example() -> None:
    res = pbo_cscv(HAND, n_splits=4)  # logits -ln3, 0, ln3, ln3, 0, 0
    edges, counts = logit_histogram(res, bins=2)
    assert edges.tolist() == [-LN3, 0.0, LN3]
    assert counts.tolist() == [4, 2]  # (-ln3, 0] closed on the right holds the three zeros: 4 / 6 = PBO
    edges, counts = logit_histogram(res, bins=6)  # width ln3 / 3
    assert edges == pytest.approx(np.arange(-3, 4) * LN3 / 3, abs=1e-15)
    assert counts.tolist() == [1, 0, 3, 0, 0, 2]


@pytest.mark.parametrize("n", [7, 12, 392, 5061])
def test_logit_histograms_middle_edge_is_zero_so_its_left_half_adds_up_to_pbo(n: int) -> None:
    """np.linspace(-ln N, ln N, 21) puts its middle point at 8.9e-16 for N = 392: a chart colouring the bins
    whose right edge is <= 0 then left a whole bin of overfit splits out of the red ones."""
    res = pbo_cscv(np.random.default_rng(n).normal(0.0, 0.01, (64, n)), n_splits=4)
    edges, counts = logit_histogram(res)
    assert edges[10] == 0.0
    assert counts[:10].sum() == counts[edges[1:] <= 0].sum() == round(res.pbo * len(res.logits))
    fig = pbo_figure(edges.tolist(), counts.tolist(), pbo=res.pbo, title="t")
    red = np.array(fig.data[0].marker.color) == "#b3261e"
    stored = edges.copy()
    stored[10] = 8.881784197001252e-16  # as a sweep stored before the middle edge was set
    again = np.array(pbo_figure(stored.tolist(), counts.tolist(), pbo=res.pbo, title="t").data[0].marker.color)
    assert red.tolist() == (again == "#b3261e").tolist() == [True] * 10 + [False] * 10


def test_logit_histogram_adds_up_to_pbo() -> None:
    res = pbo_cscv(np.random.default_rng(4).normal(0.0, 0.01, (300, 7)), n_splits=10)
    edges, counts = logit_histogram(res)
    assert len(edges) == 21
    assert edges[0] == -math.log(7)
    assert edges[-1] == math.log(7)
    assert counts.sum() == len(res.logits) == math.comb(10, 5)
    assert counts[edges[1:] <= 0].sum() == round(res.pbo * len(res.logits))
    # bins closed on the right, (e_i, e_i+1], the first one also holding e_0
    by_hand = [int(np.sum((res.logits > lo) & (res.logits <= hi))) for lo, hi in itertools.pairwise(edges)]
    by_hand[0] += int(np.sum(res.logits == edges[0]))
    assert counts.tolist() == by_hand


# ------------------------------------------------------------------------- independent oracle


def _with_ties(r: np.ndarray, s: int, *, losing: bool = False) -> np.ndarray:
    """``r``, its first two columns made strong, with columns a sweep makes: cash (flat: 0) twice, a copy of column
    0 that differs from it in the last two blocks only (the two hold the same positions over every half without
    those blocks: tied there up to rounding), copies of column 1 scaled by 1 + k 1e-13 (tied everywhere, but not
    bit for bit; ten of them), a column in cash over the first quarter of the blocks, and an exact copy of
    column 1 (merged with it from block sums, counted twice).  ``losing``: every column loses 1% a day more and
    there is no cash, so every in-sample best is negative."""
    t, n = r.shape
    size = t // s
    r = r.copy()
    r[:, :2] += [0.003, 0.0035]  # columns 0 and 1 (and so their copies) win often
    if losing:
        r -= 0.01
    copies = [r[:, 1] * (1 + k * 1e-13) for k in range(1, 11)]  # more ties than a tile keeps as it goes
    cash = np.full(t, -0.01) * (1 + np.arange(t) % 2) if losing else np.zeros(t)  # not flat when losing
    out = np.column_stack([r, cash, r[:, 0], copies[0], r[:, 2], *copies[1:], r[:, 1], cash])
    out[t - 2 * size :, n + 1] = r[t - 2 * size :, 3]
    if not losing:
        out[: t - s * size + s // 4 * size, n + 3] = 0.0
    return out


@pytest.mark.parametrize(
    ("seed", "t", "n", "s", "score"),
    [
        (11, 400, 20, 8, "sharpe"),
        (12, 401, 20, 8, "sharpe"),  # one remainder row
        (13, 400, 21, 8, "sharpe"),
        (14, 398, 20, 8, "mean"),
        pytest.param(15, 400, 20, 16, "sharpe", marks=pytest.mark.slow),  # 12,870 splits: ~10 s in the oracle
        (16, 203, 9, 16, "sharpe"),  # 11 remainder rows
        (17, 400, 20, 8, "losing"),  # every in-sample best negative: the tie's floor below it
        (18, 400, 20, 8, "cash"),  # everything that trades loses: five columns in cash tie for the best at 0
    ],
)
@pytest.mark.parametrize("path", ["returns", "block sums", "tiles", "callable"])
def test_matches_the_independent_reference(
    seed: int, t: int, n: int, s: int, score: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tests/pbo_reference.py, written from the contract alone (docs/methodology.md's CSCV rules), on matrices
    with the ties a sweep makes: from the returns, from per-block sums (as a sweep keeps them), a tile of 3
    columns at a time (as on a million columns) and with the metric as a user's callable."""
    from engine.metrics import cscv_blocks

    r, want = _reference_case(seed, t, n, s, score)
    metric = "mean" if score == "mean" else "sharpe"
    if path == "tiles":  # a tile of 3 columns at a time, the winners of 20 at a time (a pair with more alone)
        monkeypatch.setattr(cscv_blocks, "IN_CACHE", 0)
        monkeypatch.setattr(cscv_blocks, "TILE", 3)
        monkeypatch.setattr(cscv_blocks, "BATCH", 20)
    if path in ("block sums", "tiles"):
        size = t // s
        cut = r[t - s * size :].reshape(s, size, -1)
        res = pbo_from_block_sums(cut.sum(axis=1), (cut**2).sum(axis=1), size, metric=metric)  # type: ignore[arg-type]
    elif path == "callable":
        res = pbo_cscv(r, n_splits=s, metric=_callable_sharpe if metric == "sharpe" else lambda h: h.mean(axis=0))
    else:
        res = pbo_cscv(r, n_splits=s, metric=metric)  # type: ignore[arg-type]
    assert (res.tied_winners > (4 if score == "cash" else 8)).any()  # a tile keeps 8 as it goes; from 4: sorted
    if score == "losing":
        assert (res.is_performance < 0).all()
    if score == "cash":
        assert (res.is_performance == 0.0).all() and (res.tied_winners == 5).all()
    np.testing.assert_array_equal(res.best_in_sample, want["best_in_sample"])
    np.testing.assert_array_equal(res.tied_winners, want["tied"])
    np.testing.assert_array_equal(res.oos_rank, want["oos_rank"])
    np.testing.assert_allclose(res.overfit_share, want["overfit_share"], rtol=1e-15)
    assert res.pbo == pytest.approx(want["pbo"], rel=1e-14)
    assert res.prob_loss == pytest.approx(want["prob_loss"], rel=1e-14)
    assert res.logits == pytest.approx(want["logits"], rel=1e-12, abs=1e-12)
    assert res.is_performance == pytest.approx(want["is_performance"], rel=1e-10, abs=1e-15)
    assert res.oos_performance == pytest.approx(want["oos_performance"], rel=1e-10, abs=1e-15)
    edges, counts = logit_histogram(res)
    np.testing.assert_allclose(edges, want["hist_edges"], rtol=0, atol=1e-15)
    np.testing.assert_allclose(counts, want["hist_counts"], rtol=1e-12, atol=1e-12)


@functools.cache
def _reference_case(seed: int, t: int, n: int, s: int, score: str) -> tuple[np.ndarray, dict]:
    """The case's matrix and the reference's result, computed once for the four paths."""
    rng = np.random.default_rng(seed)
    # some real, persistent differences between columns, so the ranks are not pure noise
    r = _with_ties(rng.standard_t(5, (t, n)) * 0.01 + rng.normal(0.0, 0.0005, n), s, losing=score in ("losing", "cash"))
    if score == "cash":  # out of sample, each cash column's 0 lies exactly on the bounds of the five winners
        r = np.column_stack([r, np.zeros((t, 5))])
    return r, reference_pbo(r, n_splits=s, metric="mean" if score == "mean" else "sharpe")


def _callable_sharpe(half: np.ndarray) -> np.ndarray:
    """The Sharpe ratio with the contract's flat rule, written as a user would (0 where a half does not vary)."""
    mean = half.mean(axis=0)
    deviations = ((half - mean) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        sharpe = mean / half.std(axis=0, ddof=1)
    return np.where(deviations <= 1e-10 * (half**2).sum(axis=0), 0.0, sharpe)


def test_callable_metric_matches_the_named_one() -> None:
    r = np.random.default_rng(17).normal(0.0002, 0.01, (240, 9))
    named = pbo_cscv(r, n_splits=6)
    called = pbo_cscv(r, n_splits=6, metric=lambda h: h.mean(axis=0) / h.std(axis=0, ddof=1))
    assert called.logits.tolist() == named.logits.tolist()
    assert called.is_performance == pytest.approx(named.is_performance, rel=1e-12)


# ------------------------------------------------------------------------------- properties


def test_a_real_edge_in_every_block_gives_pbo_zero() -> None:
    # column 7 earns 1 standard deviation a day more than 29 noise columns: a half of 240 rows gives it a Sharpe
    # ratio near 1 against noise Sharpe ratios with standard deviation 1 / sqrt(240) = 0.065
    rng = np.random.default_rng(21)
    r = rng.standard_normal((480, 30))
    r[:, 7] += 1.0
    res = pbo_cscv(r, n_splits=16)
    assert res.pbo == 0.0
    assert set(res.best_in_sample.tolist()) == {7}
    assert np.all(res.logits == math.log(30))  # rank 30 of 30 every time
    assert res.prob_loss == 0.0


def test_pure_noise_gives_pbo_one_half() -> None:
    # With exchangeable columns the OOS rank of the IS winner is uniform on 1..N, so E[PBO] = 1/2 for even N.
    # One matrix is a noisy estimate: over 300 seeds (T = 320, N = 50, S = 8) the PBO had mean 0.500 and standard
    # deviation 0.18.  The mean over 100 independent matrices has standard deviation 0.018, so the band
    # 0.5 +- 0.08 is 4.4 standard deviations wide and a correct implementation fails it for no seed in ~100,000.
    pbos = [pbo_cscv(np.random.default_rng(5000 + i).standard_normal((320, 50)), n_splits=8).pbo for i in range(100)]
    assert 0.42 < float(np.mean(pbos)) < 0.58


def test_column_order_does_not_matter() -> None:
    rng = np.random.default_rng(22)
    r = rng.normal(0.0003, 0.01, (320, 12)) + rng.normal(0.0, 0.001, 12)
    perm = rng.permutation(12)
    base = pbo_cscv(r, n_splits=8)
    shuffled = pbo_cscv(r[:, perm], n_splits=8)
    assert shuffled.pbo == base.pbo
    assert shuffled.logits.tolist() == base.logits.tolist()
    assert perm[shuffled.best_in_sample].tolist() == base.best_in_sample.tolist()


def test_scaling_all_returns_does_not_matter() -> None:
    r = np.random.default_rng(23).normal(0.0003, 0.01, (320, 12))
    base = pbo_cscv(r, n_splits=8)
    scaled = pbo_cscv(r * 3.7, n_splits=8)
    assert scaled.pbo == base.pbo
    assert scaled.logits.tolist() == base.logits.tolist()
    assert scaled.is_performance == pytest.approx(base.is_performance, rel=1e-12)
    # the mean scales with the returns: same ranks, performances times 3.7
    mean_base = pbo_cscv(r, n_splits=8, metric="mean")
    mean_scaled = pbo_cscv(r * 3.7, n_splits=8, metric="mean")
    assert mean_scaled.logits.tolist() == mean_base.logits.tolist()
    assert mean_scaled.oos_performance == pytest.approx(mean_base.oos_performance * 3.7, rel=1e-12)


def test_sampled_splits_are_a_symmetric_subset_of_all() -> None:
    r = np.random.default_rng(24).normal(0.0, 0.01, (320, 10))
    full = pbo_cscv(r, n_splits=10)  # 252 splits
    part = pbo_cscv(r, n_splits=10, max_splits=40, seed=5)
    blocks = [tuple(b) for b in part.in_sample_blocks.tolist()]
    assert len(blocks) == len(set(blocks)) == 40
    assert blocks == sorted(blocks)
    assert {tuple(sorted(set(range(10)) - set(b))) for b in blocks} == set(blocks)  # every complement is there
    index = {tuple(b): i for i, b in enumerate(full.in_sample_blocks.tolist())}
    rows = [index[b] for b in blocks]
    assert part.logits.tolist() == full.logits[rows].tolist()
    assert part.pbo == float(np.mean(full.logits[rows] <= 0))
    assert pbo_cscv(r, n_splits=10, max_splits=40, seed=5).in_sample_blocks.tolist() == part.in_sample_blocks.tolist()
    assert pbo_cscv(r, n_splits=10, max_splits=40, seed=6).in_sample_blocks.tolist() != part.in_sample_blocks.tolist()
    # a cap at or above C(10, 5) = 252 is no cap
    assert pbo_cscv(r, n_splits=10, max_splits=252).logits.tolist() == full.logits.tolist()


def test_many_blocks_need_a_cap() -> None:
    r = np.random.default_rng(25).normal(0.0, 0.01, (96, 4))
    with pytest.raises(ValueError, match="max_splits"):
        pbo_cscv(r, n_splits=24)  # C(24, 12) = 2,704,156 splits
    res = pbo_cscv(r, n_splits=24, max_splits=200)
    assert res.in_sample_blocks.shape == (200, 12)
    assert np.all(res.in_sample_blocks[:100, 0] == 0)  # the drawn halves hold block 0, their complements do not
    assert np.all(res.in_sample_blocks[100:, 0] > 0)


def test_result_is_read_only() -> None:
    res = pbo_cscv(HAND, n_splits=4)
    with pytest.raises(ValueError, match="read-only"):
        res.logits[0] = 1.0
    with pytest.raises(FrozenInstanceError):
        res.pbo = 0.0  # type: ignore[misc]


# ------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_splits": 3}, "even"),
        ({"n_splits": 0}, "even"),
        ({"n_splits": True}, "integer"),
        ({"n_splits": 4.0}, "integer"),
        ({"n_splits": 10}, "exceeds the 8 rows"),
        ({"max_splits": 3}, "max_splits"),
        ({"max_splits": 2.5}, "max_splits"),
        ({"metric": "sortino"}, "metric"),
        ({"metric": lambda h: h.mean()}, "one value per column"),
    ],
)
def test_pbo_rejects_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        pbo_cscv(HAND, **{"n_splits": 4, **kwargs})  # type: ignore[arg-type]


def test_pbo_rejects_bad_returns() -> None:
    with pytest.raises(ValueError, match="2-D"):
        pbo_cscv(HAND[:, 0], n_splits=4)
    with pytest.raises(ValueError, match="at least 2 columns"):
        pbo_cscv(HAND[:, :1], n_splits=4)
    for bad in (math.nan, math.inf):
        r = HAND.copy()
        r[3, 1] = bad
        with pytest.raises(ValueError, match="NaN or infinite"):
            pbo_cscv(r, n_splits=4)
    with pytest.raises(ValueError, match="needs at least 2"):
        pbo_cscv(HAND[:3], n_splits=2)  # halves of one row have no standard deviation
    assert pbo_cscv(HAND[:3], n_splits=2, metric="mean").n_rows_dropped == 1  # a mean of one row is fine


def test_logit_histogram_rejects_odd_bins() -> None:
    res = pbo_cscv(HAND, n_splits=4)
    for bins in (0, 3, 7):
        with pytest.raises(ValueError, match="bins"):
            logit_histogram(res, bins=bins)


# ------------------------------------------------------------------------------ DSR of the best


def _paper_matrix() -> tuple[np.ndarray, float]:
    """1250 days x 100 trials built so that the trials reproduce Bailey & López de Prado's (2014) example.

    z: 1145 days of +105 and 105 days of -1145 (mean exactly 0), scaled to std(ddof=1) = 1.  A two-point
    distribution with q = 1145/1250 = 0.916 of the mass on the high value has skewness -(2q - 1) / sqrt(q(1 - q))
    = -0.832 / sqrt(0.076944) = -2.9994 and kurtosis 1 / (q(1 - q)) - 3 = 9.9965: the paper's -3 and 10 (which
    lie on the two-point bound kurtosis = 1 + skewness^2).  Column j is 1% * (s_j + z in its own random order),
    so its per-day Sharpe ratio is s_j.  s: the selected 2.5 / sqrt(250) = 0.158114 at column 42, and 99 values
    w * linspace(-1, 1, 99) with w set so that var(s, ddof=1) = 0.5 / 250 = 0.002:
        99 * 0.002 = b^2 + w^2 * sum(e^2) - b^2 / 100  ->  w^2 = (0.198 - 0.99 * 0.025) / 33.6735,  w = 0.071729.
    """
    z = np.array([105.0] * 1145 + [-1145.0] * 105)
    z /= z.std(ddof=1)
    best = 2.5 / math.sqrt(250)
    e = np.linspace(-1.0, 1.0, 99)
    w = math.sqrt((0.002 * 99 - 0.99 * best**2) / float(np.sum(e * e)))
    s = np.insert(w * e, 42, best)
    rng = np.random.default_rng(0)
    return np.column_stack([0.01 * (s[j] + rng.permutation(z)) for j in range(100)]), best


def test_dsr_of_best_reproduces_the_paper_from_returns() -> None:
    r, best = _paper_matrix()
    res = deflated_sharpe_of_best(r)
    assert res.best_index == 42
    assert res.n_trials == 100
    assert res.sharpe == pytest.approx(best, rel=1e-12)
    assert res.var_sharpe == pytest.approx(0.002, rel=1e-12)
    assert res.sr0 == pytest.approx(0.1132, abs=5e-5)
    assert res.dsr == pytest.approx(0.9004, abs=5e-5)
    # the same strategy selected from 46 trials
    assert deflated_sharpe_of_best(r, n_trials=46).dsr == pytest.approx(0.9505, abs=5e-5)


def test_dsr_of_best_is_significance_deflated_sharpe_of_that_column() -> None:
    rng = np.random.default_rng(31)
    r = rng.standard_t(4, (500, 15)) * 0.01 + rng.normal(0.0003, 0.0004, 15)
    sharpes = [per_period_sharpe(r[:, k]) for k in range(15)]
    res = deflated_sharpe_of_best(r)
    assert res.best_index == int(np.argmax(sharpes))
    assert res.sharpe == pytest.approx(max(sharpes), rel=1e-12)
    assert res.var_sharpe == pytest.approx(np.var(sharpes, ddof=1), rel=1e-12)
    assert res.dsr == pytest.approx(deflated_sharpe(r[:, res.best_index], trial_sharpes=sharpes), rel=1e-12)


def test_more_trials_lower_the_dsr() -> None:
    r, _ = _paper_matrix()
    dsrs = [deflated_sharpe_of_best(r, n_trials=n).dsr for n in (1, 2, 10, 46, 100, 1000, 100_000)]
    assert all(a > b for a, b in itertools.pairwise(dsrs))
    one = deflated_sharpe_of_best(r, n_trials=1)
    assert one.sr0 == 0.0
    assert one.dsr == probabilistic_sharpe(r[:, 42])


def test_dsr_of_best_skips_flat_columns_but_counts_them_as_trials() -> None:
    rng = np.random.default_rng(32)
    noise = rng.normal(0.0004, 0.01, (300, 3))
    # cash (zeros) and a constant 0.1 a day: its computed std is 1.4e-17, not 0 (per_period_sharpe reads it as a
    # Sharpe ratio of 7e15), flat all the same
    r = np.column_stack([np.zeros(300), noise, np.full(300, 0.1)])
    res = deflated_sharpe_of_best(r)
    sharpes = [per_period_sharpe(noise[:, k]) for k in range(3)]
    assert res.best_index == 1 + int(np.argmax(sharpes))
    assert res.var_sharpe == pytest.approx(np.var(sharpes, ddof=1), rel=1e-12)
    assert res.n_trials == 5


def test_dsr_of_best_rejects_bad_input() -> None:
    r, _ = _paper_matrix()
    with pytest.raises(ValueError, match="at least 3 rows"):
        deflated_sharpe_of_best(r[:2])
    with pytest.raises(ValueError, match="2-D"):
        deflated_sharpe_of_best(r[:, 0])
    with pytest.raises(ValueError, match="zero variance"):
        deflated_sharpe_of_best(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="n_trials"):
        deflated_sharpe_of_best(r, n_trials=0)
    bad = r.copy()
    bad[5, 5] = math.nan
    with pytest.raises(ValueError, match="NaN"):
        deflated_sharpe_of_best(bad)


@pytest.mark.parametrize("metric", ["sharpe", "mean"])
@pytest.mark.parametrize(("rows", "columns", "blocks", "max_splits"), [(1600, 300, 16, None), (600, 9, 12, 200)])
@pytest.mark.parametrize("tile", [None, 1, 7])
def test_compiled_splits_are_the_numpy_formulation_bit_for_bit(
    metric: str, rows: int, columns: int, blocks: int, max_splits: int | None, tile: int | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # the compiled pass (engine.metrics.cscv_splits) against the (splits, S) x (S, N) products it replaced,
    # with a tie (two equal columns), a flat column (a Sharpe ratio of 0 in every half) and sampled splits; with
    # columns in tiles of 1 and 7 too (the tie then across tiles, and a last tile shorter than the others)
    from engine.metrics import cscv, cscv_blocks
    from engine.metrics.cscv_blocks import BlockSums

    if tile is not None:
        monkeypatch.setattr(cscv_blocks, "IN_CACHE", 0)
        monkeypatch.setattr(cscv_blocks, "TILE", tile)
    rng = np.random.default_rng(columns)
    r = rng.normal(0.0003, 0.01, (rows, columns))
    r[:, 1] = r[:, 0]
    r[:, 2] = 0.0
    size = rows // blocks
    cut = r[: size * blocks].reshape(blocks, size, columns)
    result = cscv.pbo_from_block_sums(
        cut.sum(axis=1),
        (cut**2).sum(axis=1),
        size,
        metric=metric,
        max_splits=max_splits,  # type: ignore[arg-type]
    )
    perf = BlockSums.from_raw(cut.sum(axis=1), (cut**2).sum(axis=1), size, metric)
    halves = np.zeros((len(result.in_sample_blocks), blocks))
    halves[np.arange(len(halves))[:, None], result.in_sample_blocks] = 1.0
    is_perf, oos_perf = perf(halves)
    star = np.argmax(is_perf, axis=1)
    winner = oos_perf[np.arange(len(star)), star]
    rank = (oos_perf < winner[:, None]).sum(axis=1) + ((oos_perf == winner[:, None]).sum(axis=1) + 1) / 2.0
    np.testing.assert_array_equal(result.best_in_sample, star)
    np.testing.assert_array_equal(result.is_performance, is_perf[np.arange(len(star)), star])
    np.testing.assert_array_equal(result.oos_performance, winner)
    np.testing.assert_array_equal(result.oos_rank, rank)


def test_block_sums_centred_in_place_give_the_same_bits() -> None:
    # overwrite_input (what a finished sweep uses on its 256 MB of sums) changes the arrays, not the result
    from engine.metrics import cscv

    rng = np.random.default_rng(8)
    cut = rng.normal(0.0004, 0.01, (1200, 40)).reshape(12, 100, 40)
    block_sum, block_sq = cut.sum(axis=1), (cut**2).sum(axis=1)
    kept = cscv.pbo_from_block_sums(block_sum, block_sq, 100)
    raw = block_sum.copy()
    consumed = cscv.pbo_from_block_sums(block_sum, block_sq, 100, overwrite_input=True)
    assert not np.array_equal(block_sum, raw)  # centred in place: each column's mean taken out
    np.testing.assert_allclose(block_sum, raw - raw.mean(axis=0), atol=1e-15)
    for name in ("logits", "oos_rank", "best_in_sample", "is_performance", "oos_performance"):
        np.testing.assert_array_equal(getattr(consumed, name), getattr(kept, name))
    assert consumed.pbo == kept.pbo


def test_tiles_keep_np_argmax_s_first_nan_and_first_maximum() -> None:
    # the compiled pass on sums with NaN columns (which pbo_from_block_sums refuses): in-sample winners
    # chosen tile by tile are those of all the columns at once (the first NaN, else every column tied with the
    # largest, the first reported), and so are their ranks, shares and masses
    from engine.metrics.cscv_splits import pair_splits, splits_nb

    rng = np.random.default_rng(3)
    s1, s2 = rng.normal(0.0, 1.0, (8, 23)), rng.uniform(5.0, 9.0, (8, 23))
    s1[:, 4] = s1[:, 17] = s1[:, 9]  # ties, in different tiles of 5
    s1[:, 2] = np.abs(s1[:, 2]) + 3.0  # the largest in most halves ...
    s1[:, 20], s2[:, 20] = s1[:, 2] * (1 + 1e-13), s2[:, 2]  # ... tied up to rounding with one in another tile
    s1[3, 12] = s1[5, 15] = np.nan  # a NaN in some splits' in-sample halves (and in the totals)
    blocks = np.array(list(itertools.combinations(range(8), 4)), dtype=np.int64)
    args = (*pair_splits(blocks, 8), s1, s2, s1.sum(axis=0), s2.sum(axis=0), np.zeros(23), 40.0)
    for sharpe in (True, False):
        whole, tiled = [
            [np.empty(70, np.int64), *(np.empty(70) for _ in range(3)), np.empty(70, np.int64), np.empty(70),
             np.empty(70), np.zeros(45)]
            for _ in range(2)
        ]  # fmt: skip
        splits_nb(*args, sharpe, 1e-12, 1e-9, 0, 35, *whole, 23, np.ones(23, np.int64), 1_000_000)
        splits_nb(*args, sharpe, 1e-12, 1e-9, 0, 35, *tiled, 5, np.ones(23, np.int64), 3)  # batches of 3 winners
        for a, b in zip(whole, tiled, strict=True):
            np.testing.assert_array_equal(a, b)
        assert np.isnan(whole[1]).any() and (~np.isnan(whole[1])).any()
        assert (whole[4] > 1).any()  # splits with tied winners
        ranked = np.count_nonzero(whole[3] >= 1)  # a NaN OOS metric has no rank (which the sweep never has)
        assert 0 < ranked < 70 and whole[7].sum() == pytest.approx(ranked, abs=1e-12)  # each split's winners: 1


@pytest.mark.parametrize("tiled", [False, True])
def test_columns_alike_are_scored_once_and_counted_as_often_as_they_occur(
    tiled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a sweep's combinations that change nothing have the same block sums: pbo_from_block_sums scores each
    # kind once and counts it as often as it occurs; every result is the bits of scoring all of them
    from engine.metrics import cscv, cscv_blocks

    if tiled:  # the tile-by-tile pass, as on a million columns
        monkeypatch.setattr(cscv_blocks, "IN_CACHE", 8)
        monkeypatch.setattr(cscv_blocks, "TILE", 5)
    rng = np.random.default_rng(11)
    cut = rng.normal(0.0003, 0.01, (1600, 40)).reshape(16, 100, 40)
    cut[:, :, [5, 17, 30, 31]] = cut[:, :, [2]]  # four copies of column 2 (before and after it in other tiles)
    cut[:, :, 0] = cut[:, :, 39]  # column 39's first occurrence is column 0
    cut[:, :, 8] = 0.0  # two flat columns alike: never winners, the lowest ranks
    cut[:, :, 21] = 0.0
    block_sum, block_sq = cut.sum(axis=1), (cut**2).sum(axis=1)
    found = cscv_blocks.distinct_columns(block_sum, block_sq)
    assert found is not None and list(found[2][:4]) == [0, 1, 2, 3] and found[3].sum() == 40 and len(found[2]) == 34
    every = cscv._cscv(cscv.BlockSums.from_raw(block_sum, block_sq, 100, "sharpe"), 16, 40, 100, 0, None, 0)
    once = cscv.pbo_from_block_sums(block_sum.copy(), block_sq.copy(), 100)
    consumed = cscv.pbo_from_block_sums(block_sum.copy(), block_sq.copy(), 100, overwrite_input=True)
    assert set(every.best_in_sample) & {2, 5, 17, 30, 31} and 5 not in every.best_in_sample  # ties: the first
    for result in (once, consumed):
        for name in ("logits", "oos_rank", "best_in_sample", "is_performance", "oos_performance"):
            np.testing.assert_array_equal(getattr(result, name), getattr(every, name))
        assert result.pbo == every.pbo and result.n_combinations_tested == 40
    # a hash shared by unlike columns: no column is merged, the same results
    monkeypatch.setattr(cscv_blocks, "_column_hashes_nb", lambda a, b: np.zeros(a.shape[1], np.uint64))
    assert cscv_blocks.distinct_columns(block_sum, block_sq) is None
    collided = cscv.pbo_from_block_sums(block_sum.copy(), block_sq.copy(), 100)
    np.testing.assert_array_equal(collided.logits, every.logits)
    assert cscv_blocks.distinct_columns(block_sum[:, 1:8], block_sq[:, 1:8]) is None  # nothing alike


def test_a_callables_nan_scores_rank_last_without_a_warning() -> None:
    # a user's metric gives NaN for a half in cash (0 / 0): it scores -inf and ties only with another -inf (an
    # infinity ties only with itself), and no RuntimeWarning escapes the ranking (pytest makes them errors).
    # Column 0 gains in the first half and holds cash in the second; column 3 holds cash throughout.
    def sharpe(half: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return half.mean(axis=0) / half.std(axis=0, ddof=1)

    rng = np.random.default_rng(0)
    r = rng.normal(0.0, 0.01, (64, 4))
    r[:32, 0] = rng.normal(0.02, 0.01, 32)
    r[32:, 0] = r[:, 3] = 0.0
    res = pbo_cscv(r, n_splits=2, metric=sharpe)  # split 0: in sample the first half, column 0 wins
    assert res.best_in_sample[0] == 0 and res.oos_performance[0] == -np.inf
    assert res.oos_rank[0] == 1.5 and res.pbo >= 0.5  # it shares ranks 1 and 2 with column 3
