"""Tests of the PBO reference (tests/pbo_reference.py) alone, on tiny matrices worked out by hand.

Every expected number below is derived in the comments, not by running the reference.  Shorthand: a
two-row half [a, b] has mean (a + b) / 2 and std(ddof=1) |a - b| / sqrt(2), so its Sharpe ratio is
(a + b) / (sqrt(2) * |a - b|).  With S = 2 there are C(2, 1) = 2 splits, (0,) then (1,): split 1 has
block 0 in-sample (IS) and block 1 out-of-sample (OOS), split 2 the reverse.  Histogram bins are 20 unless
said: edges = linspace(-ln N, ln N, 21), width ln(N) / 10, bin i = (e_i, e_{i+1}], so a logit L lands in bin
floor((L + ln N) / (ln(N) / 10)) (bin 0 holds -ln N).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.pbo_reference import reference_pbo

SQRT2 = math.sqrt(2.0)

# 8 x 3, S = 4 -> b = 2, blocks B0 = rows 0-1, B1 = rows 2-3, B2 = rows 4-5, B3 = rows 6-7.
# Block means: col0 (6, -1, 0, 1), col1 (0, 3, -1, 6), col2 (2.75, 2.75, 2.75, 2.75).
EIGHT_BY_THREE = np.array(
    [
        [7.0, 1.0, 2.75],
        [5.0, -1.0, 2.75],
        [-2.0, 3.0, 2.75],
        [0.0, 3.0, 2.75],
        [1.0, -3.0, 2.75],
        [-1.0, 1.0, 2.75],
        [0.0, 5.0, 2.75],
        [2.0, 7.0, 2.75],
    ]
)


def test_eight_by_three_mean_metric_six_splits() -> None:
    # metric "mean": a half's mean is the average of its two block means (equal block sizes).
    # Sum of the two block means per pair (half mean = sum / 2):
    #   pair     01   02   03   12   13   23
    #   col0      5    6    7   -1    0    1
    #   col1      3   -1    6    2    9    5
    #   col2    5.5  5.5  5.5  5.5  5.5  5.5
    # Splits in combinations order; IS pair / OOS pair = complement:
    #   1: IS 01 (5, 3, 5.5) -> W={2}, R=2.75; OOS 23 (1, 5, 5.5) -> col2 best: rank 3, logit ln(3/1) > 0, no.
    #   2: IS 02 (6, -1, 5.5) -> W={0}, R=3; OOS 13 (0, 9, 5.5) -> col0 worst (0): rank 1, ln(1/3), overfit.
    #   3: IS 03 (7, 6, 5.5) -> W={0}, R=3.5; OOS 12 (-1, 2, 5.5) -> col0 -0.5 worst: rank 1, overfit, loss.
    #   4: IS 12 (-1, 2, 5.5) -> W={2}, R=2.75; OOS 03 (7, 6, 5.5) -> col2 worst: rank 1, overfit.
    #   5: IS 13 (0, 9, 5.5) -> W={1}, R=4.5; OOS 02 (6, -1, 5.5) -> col1 -0.5 worst: rank 1, overfit, loss.
    #   6: IS 23 (1, 5, 5.5) -> W={2}, R=2.75; OOS 01 (5, 3, 5.5) -> col2 best: rank 3, no.
    # PBO = 4/6, prob_loss = 2/6 (split 2's OOS mean is exactly 0: not a loss).
    out = reference_pbo(EIGHT_BY_THREE, n_splits=4, metric="mean")
    assert out["best_in_sample"] == [2, 0, 0, 2, 1, 2]
    assert out["tied"] == [1, 1, 1, 1, 1, 1]
    assert out["is_performance"] == [2.75, 3.0, 3.5, 2.75, 4.5, 2.75]
    assert out["oos_performance"] == [2.75, 0.0, -0.5, 2.75, -0.5, 2.75]
    assert out["oos_rank"] == [3.0, 1.0, 1.0, 1.0, 1.0, 3.0]
    ln3 = math.log(3.0)
    assert out["logits"] == pytest.approx([ln3, -ln3, -ln3, -ln3, -ln3, ln3], abs=1e-15)
    assert out["overfit_share"] == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert out["pbo"] == pytest.approx(4 / 6, abs=1e-15)
    assert out["prob_loss"] == pytest.approx(2 / 6, abs=1e-15)
    # Histogram, N = 3: -ln 3 is the first edge -> bin 0 (four times); ln 3 the last edge -> bin 19 (twice).
    edges = out["hist_edges"]
    assert len(edges) == 21
    assert edges[0] == pytest.approx(-ln3, abs=1e-15)
    assert edges[20] == pytest.approx(ln3, abs=1e-15)
    assert edges[10] == 0.0
    expected = np.zeros(20)
    expected[0] = 4.0
    expected[19] = 2.0
    np.testing.assert_allclose(out["hist_counts"], expected, atol=1e-12)
    assert out["hist_counts"][:10].sum() == pytest.approx(out["pbo"] * 6)


def test_exact_duplicate_column_is_its_own_winner() -> None:
    # The 8 x 3 matrix plus a copy of col2 as col3: N = 4; col2 and col3 always tie (identical rows).
    #   1: IS 01 (5, 3, 5.5, 5.5) -> W={2,3}; OOS 23 (1, 5, 5.5, 5.5): rank(5.5) = below 2 + (2+1)/2 = 3.5,
    #      logit ln(3.5/1.5) = ln(7/3) > 0, both not overfit: share 0.
    #   2: W={0}; OOS 13 (0, 9, 5.5, 5.5): col0 rank 1, logit ln(1/4) = -ln 4, overfit.
    #   3: W={0}; OOS 12 (-1, 2, 5.5, 5.5): rank 1, overfit.
    #   4: IS 12 (-1, 2, 5.5, 5.5) -> W={2,3}; OOS 03 (7, 6, 5.5, 5.5): rank = 0 + 3/2 = 1.5,
    #      logit ln(1.5/3.5) = ln(3/7) < 0, both overfit: share 1.
    #   5: W={1}; OOS 02 (6, -1, 5.5, 5.5): rank 1, overfit.
    #   6: IS 23 (1, 5, 5.5, 5.5) -> W={2,3}; OOS 01 (5, 3, 5.5, 5.5): rank 3.5, share 0.
    # PBO = 4/6.  Histogram, N = 4 (width ln(4)/10 = 0.138629):
    #   -ln 4 -> bin 0, 1 each from splits 2, 3, 5 = 3.0;
    #   ln(3/7) = -0.847298: (-0.847298 + 1.386294) / 0.138629 = 3.89 -> bin 3, 1/2 + 1/2 = 1.0;
    #   ln(7/3) = 0.847298: (0.847298 + 1.386294) / 0.138629 = 16.11 -> bin 16, (1/2 + 1/2) * 2 splits = 2.0.
    r = np.column_stack([EIGHT_BY_THREE, EIGHT_BY_THREE[:, 2]])
    out = reference_pbo(r, n_splits=4, metric="mean")
    assert out["tied"] == [2, 1, 1, 2, 1, 2]
    assert out["best_in_sample"] == [2, 0, 0, 2, 1, 2]
    assert out["oos_rank"] == [3.5, 1.0, 1.0, 1.5, 1.0, 3.5]
    assert out["overfit_share"] == [0.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert out["logits"][0] == pytest.approx(math.log(7 / 3), abs=1e-15)
    assert out["logits"][3] == pytest.approx(math.log(3 / 7), abs=1e-15)
    assert out["pbo"] == pytest.approx(4 / 6, abs=1e-15)
    expected = np.zeros(20)
    expected[0] = 3.0
    expected[3] = 1.0
    expected[16] = 2.0
    np.testing.assert_allclose(out["hist_counts"], expected, atol=1e-12)
    assert out["hist_counts"][:10].sum() == pytest.approx(out["pbo"] * 6)


def test_tied_winners_with_different_oos_give_share_one_half() -> None:
    # S = 2, T = 4, N = 5.  col1 duplicates col0, col3 duplicates col2, and col2 equals col0 in-sample.
    #   col0/col1: IS [1, 3] -> 2 / sqrt(2) = sqrt(2); OOS [0, 2] -> 1 / sqrt(2).
    #   col2/col3: IS [1, 3] -> sqrt(2);               OOS [2, 4] -> 3 / sqrt(2).
    #   col4:      IS [0, 4] -> 2 / (2 sqrt(2)) = 1/sqrt(2); OOS [1, 3] -> sqrt(2).
    # (No half is flat: e.g. col0 IS squared deviations 2 vs 1e-10 * ((1-1.5)^2 + (3-1.5)^2) = 2.5e-10.)
    # W = {0, 1, 2, 3}, tied 4.  OOS (0.707, 0.707, 2.121, 2.121, 1.414):
    #   rank(col0) = 0 + (2+1)/2 = 1.5 -> logit ln(1.5/4.5) = ln(1/3) < 0, overfit (cols 0 and 1);
    #   rank(col2) = 3 + (2+1)/2 = 4.5 -> logit ln(4.5/1.5) = ln 3 > 0 (cols 2 and 3).
    # Split 1: share = 2/4 = 1/2.  First winner col0: IS sqrt(2), OOS 1/sqrt(2), rank 1.5, logit ln(1/3).
    # Split 2 (IS block 1): IS (0.707, 0.707, 2.121, 2.121, 1.414) -> W = {2, 3}, tied 2, R* = 3/sqrt(2);
    #   OOS (1.414 x 4, 0.707): rank(sqrt(2)) = 1 below + (4+1)/2 = 3.5 -> 2*3.5 = 7 > 6, not overfit;
    #   logit ln(3.5/2.5) = ln 1.4 = 0.336472.  share 0.
    # PBO = (1/2 + 0)/2 = 1/4, no OOS value is negative.
    # Histogram N = 5 (width ln(5)/10 = 0.160944): ln(1/3) = -1.098612 -> 0.510826 / 0.160944 = 3.17 -> bin 3;
    # ln 3 -> 2.708050 / 0.160944 = 16.83 -> bin 16; each gets 2 winners * 1/4 = 0.5.
    # ln 1.4 -> 1.945910 / 0.160944 = 12.09 -> bin 12, 2 winners * 1/2 = 1.0.  Left half 0.5 = PBO * 2.
    r = np.array(
        [
            [1.0, 1.0, 1.0, 1.0, 0.0],
            [3.0, 3.0, 3.0, 3.0, 4.0],
            [0.0, 0.0, 2.0, 2.0, 1.0],
            [2.0, 2.0, 4.0, 4.0, 3.0],
        ]
    )
    out = reference_pbo(r, n_splits=2)
    assert out["tied"] == [4, 2]
    assert out["best_in_sample"] == [0, 2]
    assert out["is_performance"] == pytest.approx([SQRT2, 3 / SQRT2], rel=1e-14)
    assert out["oos_performance"] == pytest.approx([1 / SQRT2, SQRT2], rel=1e-14)
    assert out["oos_rank"] == [1.5, 3.5]
    assert out["logits"] == pytest.approx([math.log(1 / 3), math.log(1.4)], abs=1e-15)
    assert out["overfit_share"] == [0.5, 0.0]
    assert out["pbo"] == 0.25
    assert out["prob_loss"] == 0.0
    expected = np.zeros(20)
    expected[3] = 0.5
    expected[16] = 0.5
    expected[12] = 1.0
    np.testing.assert_allclose(out["hist_counts"], expected, atol=1e-12)
    assert out["hist_counts"][:10].sum() == pytest.approx(out["pbo"] * 2)


def test_three_tied_winners_count_one_third_each() -> None:
    # metric "mean", S = 2, N = 4.  IS means (1, 1, 1, 0) -> W = {0, 1, 2}, tied 3 (col3's constant-zero
    # IS half just has mean 0: "mean" has no flat rule).  OOS means (-1, 0.5, 2, 1):
    #   col0 rank 1 -> ln(1/4), overfit (2*1 <= 5), loss (-1 < 0);
    #   col1 rank 2 -> ln(2/3), overfit (2*2 = 4 <= 5);
    #   col2 rank 4 -> ln(4/1), not (8 > 5).
    # Split 1: share 2/3, loss share 1/3.
    # Split 2 (IS block 1): IS (-1, 0.5, 2, 1) -> W = {2}, R* = 2; OOS (1, 1, 1, 0): rank(1) = 1 below +
    #   (3+1)/2 = 3 -> 6 > 5, not overfit, logit ln(3/2); no loss.
    # PBO = (2/3 + 0)/2 = 1/3, prob_loss = (1/3 + 0)/2 = 1/6.  Histogram N = 4 (width 0.138629): -ln 4 -> bin 0;
    # ln(2/3) = -0.405465 -> 0.980829 / 0.138629 = 7.08 -> bin 7; ln 4 -> bin 19; each 1/3.
    # ln(3/2) = 0.405465 -> 1.791759 / 0.138629 = 12.92 -> bin 12, 1.  Left half 2/3 = PBO * 2.
    r = np.array(
        [
            [1.0, 1.0, 1.0, 0.0],
            [1.0, 1.0, 1.0, 0.0],
            [-1.0, 0.5, 2.0, 1.0],
            [-1.0, 0.5, 2.0, 1.0],
        ]
    )
    out = reference_pbo(r, n_splits=2, metric="mean")
    assert out["tied"] == [3, 1]
    assert out["best_in_sample"] == [0, 2]
    assert out["is_performance"] == [1.0, 2.0]
    assert out["oos_performance"] == [-1.0, 1.0]
    assert out["oos_rank"] == [1.0, 3.0]
    assert out["logits"] == pytest.approx([-math.log(4), math.log(1.5)], abs=1e-15)
    assert out["overfit_share"] == pytest.approx([2 / 3, 0.0], abs=1e-15)
    assert out["pbo"] == pytest.approx(1 / 3, abs=1e-15)
    assert out["prob_loss"] == pytest.approx(1 / 6, abs=1e-15)
    expected = np.zeros(20)
    expected[[0, 7, 19]] = 1 / 3
    expected[12] = 1.0
    np.testing.assert_allclose(out["hist_counts"], expected, atol=1e-12)
    assert out["hist_counts"][:10].sum() == pytest.approx(2 / 3)


def test_cash_column_is_flat_and_a_losing_winner_ranks_below_it() -> None:
    # S = 2, N = 3.  col0 is cash (all zero): every half has squared deviations 0 <= 1e-10 * 0 -> flat -> 0.
    #   col1: IS [1, 3] -> sqrt(2) (the winner); OOS [-1, -3]: mean -2, std sqrt(2) -> -sqrt(2).
    #   col2: IS [0, 2] -> 1/sqrt(2); OOS [1, 2]: mean 1.5, std 1/sqrt(2) -> 1.5 sqrt(2) = 2.121.
    # OOS (0, -1.414, 2.121): rank(-sqrt(2)) = 0 below + (1+1)/2 = 1, under the cash column's 0.
    # logit ln(1/3), overfit; loss (-sqrt(2) < 0).
    # Split 2 (IS block 1): IS (0, -1.414, 2.121) -> W = {2}; OOS (0, sqrt(2), 1/sqrt(2)): rank = 1 + 1 = 2
    #   -> logit ln(2/2) = 0.0, overfit (2*2 <= 4), no loss.
    # PBO = (1 + 1)/2 = 1, prob_loss = (1 + 0)/2 = 1/2.
    r = np.array(
        [
            [0.0, 1.0, 0.0],
            [0.0, 3.0, 2.0],
            [0.0, -1.0, 1.0],
            [0.0, -3.0, 2.0],
        ]
    )
    out = reference_pbo(r, n_splits=2)
    assert out["best_in_sample"] == [1, 2]
    assert out["tied"] == [1, 1]
    assert out["is_performance"] == pytest.approx([SQRT2, 1.5 * SQRT2], rel=1e-14)
    assert out["oos_performance"] == pytest.approx([-SQRT2, 1 / SQRT2], rel=1e-14)
    assert out["oos_rank"] == [1.0, 2.0]
    assert out["logits"][0] == pytest.approx(-math.log(3), abs=1e-15)
    assert out["logits"][1] == 0.0
    assert out["pbo"] == 1.0
    assert out["prob_loss"] == 0.5


def test_cash_wins_when_everything_else_loses_in_sample() -> None:
    # S = 2, N = 4.  col0 cash -> 0 on both halves.
    #   col1: IS [1, -3]: mean -1, std 2 sqrt(2) -> -0.354; OOS [1, 3] -> sqrt(2).
    #   col2: IS [0.5, 0.5] is flat (squared deviations 0 <= 1e-10 * ((0.5-1)^2 * 2) with full mean
    #         (0.5+0.5+0.5+2.5)/4 = 1) -> 0.0, not 0.5/0 = inf; OOS [0.5, 2.5]: 1.5 / sqrt(2) = 1.061.
    #   col3: IS [-1, -2]: -1.5 / sqrt(0.5) = -2.121; OOS [-1, -3] -> -sqrt(2).
    # R* = 0, so winners are the exact zeros: W = {0, 2}, tied 2.  OOS (0, 1.414, 1.061, -1.414):
    #   rank(0) = 1 below + 1 = 2 -> ln(2/3), overfit (4 <= 5);  rank(1.061) = 2 + 1 = 3 -> ln(3/2), not.
    # share 1/2; no OOS loss (0 is not < 0).
    # Split 2 (IS block 1): IS (0, 1.414, 1.061, -1.414) -> W = {1}; OOS (0, -0.354, 0 (flat), -2.121):
    #   rank(-0.354) = 1 below + 1 = 2 -> ln(2/3), overfit, loss (-0.354 < 0).
    # PBO = (1/2 + 1)/2 = 3/4, prob_loss = (0 + 1)/2 = 1/2.
    # Histogram N = 4: ln(2/3) -> bin 7 (7.08, as above): 1/2 + 1 = 1.5;
    # ln(3/2) = 0.405465 -> 1.791759 / 0.138629 = 12.92 -> bin 12: 1/2.  Left half 1.5 = PBO * 2.
    r = np.array(
        [
            [0.0, 1.0, 0.5, -1.0],
            [0.0, -3.0, 0.5, -2.0],
            [0.0, 1.0, 0.5, -1.0],
            [0.0, 3.0, 2.5, -3.0],
        ]
    )
    out = reference_pbo(r, n_splits=2)
    assert out["tied"] == [2, 1]
    assert out["best_in_sample"] == [0, 1]
    assert out["is_performance"] == pytest.approx([0.0, SQRT2], rel=1e-14)
    assert out["is_performance"][0] == 0.0
    assert out["oos_performance"] == pytest.approx([0.0, -1 / (2 * SQRT2)], rel=1e-14)
    assert out["oos_rank"] == [2.0, 2.0]
    assert out["logits"] == pytest.approx([math.log(2 / 3)] * 2, abs=1e-15)
    assert out["overfit_share"] == [0.5, 1.0]
    assert out["pbo"] == 0.75
    assert out["prob_loss"] == 0.5
    expected = np.zeros(20)
    expected[7] = 1.5
    expected[12] = 0.5
    np.testing.assert_allclose(out["hist_counts"], expected, atol=1e-12)


def _near_tie_is(delta: float) -> np.ndarray:
    # col0: IS [1, 3] -> sqrt(2); OOS [0, 2] -> 1/sqrt(2).
    # col1: IS [1, 3 + d]: mean 2 + d/2, std (2 + d)/sqrt(2) -> sqrt(2) (2 + d/2)/(2 + d) ~ sqrt(2) (1 - d/4);
    #       OOS [2, 4] -> 3/sqrt(2).
    # col2: IS [0, 4] -> 1/sqrt(2); OOS [1, 3] -> sqrt(2).
    return np.array(
        [
            [1.0, 1.0, 0.0],
            [3.0, 3.0 + delta, 4.0],
            [0.0, 2.0, 1.0],
            [2.0, 4.0, 3.0],
        ]
    )


def test_in_sample_near_tie_within_rtol_counts_as_tied() -> None:
    # d = 4e-13: col1's IS Sharpe is sqrt(2) (1 - 1e-13), within 1e-9 relative of R* = sqrt(2) -> W = {0, 1}.
    # OOS (0.707, 2.121, 1.414): col0 rank 1 -> ln(1/3), overfit; col1 rank 3 -> ln 3, not.  share 1/2.
    # Split 2 (IS block 1): IS (0.707, 2.121, 1.414) -> W = {1}; OOS (sqrt(2), sqrt(2) (1 - 1e-13), 0.707):
    #   col1's OOS value ties col0's within RTOL: rank = 1 below + (2+1)/2 = 2.5 -> 5 > 4, not overfit.
    # PBO = (1/2 + 0)/2 = 1/4.
    out = reference_pbo(_near_tie_is(4e-13), n_splits=2)
    assert out["tied"] == [2, 1]
    assert out["best_in_sample"] == [0, 1]
    assert out["oos_rank"] == [1.0, 2.5]
    assert out["overfit_share"] == [0.5, 0.0]
    assert out["pbo"] == 0.25
    # d = 4e-8: 1e-8 relative below R*, outside RTOL -> split 1 W = {0} alone, share 1.  Split 2: col1's OOS
    # value sqrt(2) (1 - 1e-8) is now strictly below col0's: rank 1 + 1 = 2 -> 4 <= 4, overfit.  PBO = 1.
    out = reference_pbo(_near_tie_is(4e-8), n_splits=2)
    assert out["tied"] == [1, 1]
    assert out["oos_rank"] == [1.0, 2.0]
    assert out["pbo"] == 1.0
    # d = -4e-13: col1 is now the (slightly) larger, R* = sqrt(2) (1 + 1e-13); col0 is within tolerance, so
    # W = {0, 1} and the reported first winner is col0 (lowest index) with its own IS value sqrt(2).
    # Split 2 as for d = 4e-13 (col1's OOS sqrt(2) (1 + 1e-13) ties col0's): rank 2.5.
    out = reference_pbo(_near_tie_is(-4e-13), n_splits=2)
    assert out["tied"] == [2, 1]
    assert out["best_in_sample"] == [0, 1]
    assert out["oos_rank"] == [1.0, 2.5]
    assert out["is_performance"][0] == pytest.approx(SQRT2, rel=1e-15)
    assert out["is_performance"][0] < SQRT2 * (1 + 5e-14)


def _near_tie_oos(delta: float) -> np.ndarray:
    # col0: IS [1, 3] -> sqrt(2) (winner); OOS [1, 3] -> sqrt(2).
    # col1: IS [0, 4] -> 1/sqrt(2); OOS [1, 3 + d] -> ~ sqrt(2) (1 - d/4).
    # col2: IS [-1, 1] -> 0 / 1 = 0 (not flat: squared deviations 2 vs 1e-10 * (9 + 1), full mean 2);
    #       OOS [5, 3]: mean 4, std sqrt(2) -> 2 sqrt(2).
    return np.array(
        [
            [1.0, 0.0, -1.0],
            [3.0, 4.0, 1.0],
            [1.0, 1.0, 5.0],
            [3.0, 3.0 + delta, 3.0],
        ]
    )


def test_oos_near_tie_shares_the_average_rank() -> None:
    # d = 4e-13: col1's OOS Sharpe is within RTOL of col0's -> below 0, equal 2 -> rank 1.5,
    # logit ln(1.5 / 2.5) = ln 0.6 = -0.510826 -> bin (-0.510826 + 1.098612) / 0.109861 = 5.35 -> 5.
    # Split 2 (IS block 1): IS (sqrt(2), ~sqrt(2), 2 sqrt(2)) -> W = {2}; OOS (sqrt(2), 1/sqrt(2), 0):
    #   col2 worst, rank 1, logit ln(1/3) -> bin 0, overfit.  PBO = 1.
    out = reference_pbo(_near_tie_oos(4e-13), n_splits=2)
    assert out["best_in_sample"] == [0, 2]
    assert out["tied"] == [1, 1]
    assert out["oos_rank"] == [1.5, 1.0]
    assert out["logits"] == pytest.approx([math.log(0.6), -math.log(3)], abs=1e-15)
    assert out["hist_counts"][5] == 1.0
    assert out["hist_counts"][0] == 1.0
    assert out["hist_counts"].sum() == 2.0
    assert out["pbo"] == 1.0
    # d = 4e-8: 1e-8 relative below -> strictly below: rank 1 + (1+1)/2 = 2 = (N+1)/2 -> logit ln(2/2) = 0
    # exactly, which is overfit (logit <= 0) and lands in bin 9, (e_9, 0], closed on the right at the middle 0.
    # Split 2 unchanged (bin 0).
    out = reference_pbo(_near_tie_oos(4e-8), n_splits=2)
    assert out["oos_rank"] == [2.0, 1.0]
    assert out["logits"][0] == 0.0
    assert out["hist_counts"][9] == 1.0
    assert out["hist_counts"][0] == 1.0
    assert out["hist_counts"][10] == 0.0
    assert out["pbo"] == 1.0


def test_remainder_rows_are_dropped_from_the_oldest_end() -> None:
    # T = 5, S = 2 -> b = 2, m = 1: row 0 (the 100s) is dropped; B0 = rows 1-2, B1 = rows 3-4.
    #   col0: IS mean (1 + 2)/2 = 1.5, OOS (0 + 0)/2 = 0.   col1: IS (0 + 1)/2 = 0.5, OOS (3 + 1)/2 = 2.
    # W = {0}; OOS rank of 0 among (0, 2) = 1 -> N = 2: logit ln(1/2), overfit (2 <= 3); no loss (0 is not < 0).
    # Split 2 (IS = rows 3-4): IS (0, 2) -> W = {1}; OOS (1.5, 0.5): rank 1, ln(1/2), overfit, no loss.
    # (Dropping the newest row instead would give col0 IS mean (100 + 1)/2 = 50.5 in split 1.)
    r = np.array(
        [
            [100.0, -100.0],
            [1.0, 0.0],
            [2.0, 1.0],
            [0.0, 3.0],
            [0.0, 1.0],
        ]
    )
    out = reference_pbo(r, n_splits=2, metric="mean")
    assert out["is_performance"] == [1.5, 2.0]
    assert out["oos_performance"] == [0.0, 0.5]
    assert out["best_in_sample"] == [0, 1]
    assert out["oos_rank"] == [1.0, 1.0]
    assert out["logits"] == pytest.approx([math.log(0.5)] * 2, abs=1e-15)
    assert out["pbo"] == 1.0
    assert out["prob_loss"] == 0.0
    # T = 11, S = 4 -> b = 2, m = 3: the result is that of the last 8 rows.
    rng = np.random.default_rng(7)
    big = rng.normal(size=(11, 3))
    full, tail = reference_pbo(big, n_splits=4), reference_pbo(big[3:], n_splits=4)
    assert full["logits"] == tail["logits"]
    assert full["is_performance"] == tail["is_performance"]


def test_invariants_on_random_data() -> None:
    # S = 6 -> C(6, 3) = 20 splits; histogram counts sum to the number of splits (each split adds
    # tied * 1/tied = 1) and the left half to PBO * splits.
    rng = np.random.default_rng(11)
    r = rng.normal(0.0, 0.01, size=(63, 5))
    out = reference_pbo(r, n_splits=6, bins=8)
    assert len(out["logits"]) == 20
    assert len(out["hist_counts"]) == 8
    assert out["hist_edges"][4] == 0.0
    assert out["hist_counts"].dtype == np.float64
    assert out["hist_counts"].sum() == pytest.approx(20.0)
    assert out["hist_counts"][:4].sum() == pytest.approx(out["pbo"] * 20)
    assert all(1.0 <= k <= 5.0 for k in out["oos_rank"])


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((8, 2), {"n_splits": 3}),
        ((8, 2), {"n_splits": 4, "bins": 5}),
        ((3, 2), {"n_splits": 4}),
        ((8, 2), {"n_splits": 4, "metric": "sortino"}),
    ],
)
def test_inputs_outside_the_contract_are_rejected(shape: tuple[int, int], kwargs: dict) -> None:
    with pytest.raises(ValueError):
        reference_pbo(np.zeros(shape), **kwargs)
