"""engine.metrics.resample hands out arch's own stationary-bootstrap resamples, in batches.

The reference is arch itself: ``StationaryBootstrap.bootstrap(reps)`` with the same block and seed,
its ``index`` read after each resample.  A statistic reduced over a batch's columns must give each
resample the bits the one-at-a-time callback gives it, whatever the batch size; one reduced from the
resamples' runs of consecutive dates (engine/metrics/run_sums.py), the same up to rounding.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap, optimal_block_length

from engine.metrics import sharpe
from engine.metrics.pcg64 import Runs, circular_draws
from engine.metrics.resample import Resampled, evaluate, optimal_block, stationary_batches, stationary_indices
from engine.metrics.returns import resampled_sharpes
from engine.metrics.significance import sharpe_beats_probability, sharpe_ci, sharpe_ci_resampled


@pytest.mark.parametrize(("n", "block", "reps", "batch"), [(250, 7, 230, 100), (40, 1, 5, 2), (1000, 30, 101, 100)])
def test_indices_are_archs_resamples_in_order(n: int, block: int, reps: int, batch: int) -> None:
    x = np.random.default_rng(n).normal(size=n)
    bs = StationaryBootstrap(block, x, seed=np.random.default_rng(11))
    expected = np.stack([bs.index.copy() for _ in bs.bootstrap(reps)])
    batches = list(stationary_indices(n, block=block, reps=reps, seed=11, batch=batch))
    assert [len(b) for b in batches] == [min(batch, reps - i) for i in range(0, reps, batch)]
    np.testing.assert_array_equal(np.concatenate(batches), expected)


def test_sharpe_ci_is_archs_conf_int() -> None:
    # arch's own percentile interval with engine.metrics.sharpe as the callback, one resample at a time:
    # the gathered resamples give its bits, their runs (engine/metrics/run_sums.py) the same up to rounding
    r = np.random.default_rng(3).standard_t(4, 1500) * 0.01 + 0.0004
    bs = StationaryBootstrap(9, r, seed=np.random.default_rng(5))
    ci = bs.conf_int(lambda x: np.array([sharpe(x, 252.0)]), reps=333, method="percentile", size=0.9)
    plan = sharpe_ci_resampled(r, periods_per_year=252.0, level=0.9, block=9)
    assert isinstance(plan, Resampled) and plan.runs is not None
    assert evaluate([replace(plan, runs=None)], reps=333, seed=5) == [(ci[0, 0], ci[1, 0])]
    got = sharpe_ci(r, periods_per_year=252.0, level=0.9, reps=333, seed=5, block=9)
    assert got == pytest.approx((ci[0, 0], ci[1, 0]), rel=1e-12, abs=0)


def test_optimal_block_is_the_rounded_mean_of_archs_estimates() -> None:
    rng = np.random.default_rng(8)
    x = np.cumsum(rng.normal(size=(600, 3)), axis=0) * 0.01 + rng.normal(size=(600, 3))
    mean = optimal_block_length(x)["stationary"].mean()
    assert optimal_block(x) == max(1, round(mean))
    assert optimal_block(rng.normal(size=600)) >= 1


def test_the_same_arguments_give_the_same_resamples_whatever_the_batches() -> None:
    first = np.concatenate(list(stationary_indices(300, block=4, reps=50, seed=2)))
    again = np.concatenate(list(stationary_indices(300, block=4, reps=50, seed=2, batch=7)))
    other = np.concatenate(list(stationary_indices(300, block=5, reps=50, seed=2)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    assert first.dtype == np.int32 and first.min() >= 0 and first.max() < 300


@pytest.mark.parametrize("n", [1, 2, 3, 999, 6318, 6319])
@pytest.mark.parametrize("seed", [0, 1, 20_250_120, 2**40 + 7])
def test_arch_streams_of_odd_and_even_lengths(n: int, seed: int) -> None:
    """A resample of odd length leaves half of a 64-bit draw for the next one: the stream must carry it,
    inside a batch and from one batch to the next."""
    block = 1 + seed % 9
    bs = StationaryBootstrap(block, np.empty(n), seed=np.random.default_rng(seed))
    expected = np.stack([bs.update_indices() for _ in range(9)])
    np.testing.assert_array_equal(
        np.concatenate(list(stationary_indices(n, block=block, reps=9, seed=seed, batch=4))), expected
    )


@pytest.mark.parametrize("n", [1, 7, 6318])
def test_several_block_lengths_from_one_stream_are_each_archs_own_resamples(n: int) -> None:
    """One stream serves several block lengths (a block of 1 included, and one twice): each gets the
    indices arch draws for it alone, in order, across batches."""
    blocks = (3, 1, 25, 3, 2)
    batches = list(stationary_batches(n, blocks=blocks, reps=11, seed=77, batch=4))
    assert [b.shape for b in batches] == [(5, 4, n), (5, 4, n), (5, 3, n)]
    for j, block in enumerate(blocks):
        bs = StationaryBootstrap(block, np.empty(n), seed=np.random.default_rng(77))
        expected = np.stack([bs.update_indices() for _ in range(11)])
        np.testing.assert_array_equal(np.concatenate([b[j] for b in batches]), expected)


@pytest.mark.parametrize("parts", [1, 2, 3, 8])
def test_statistics_get_the_same_results_however_their_block_lengths_are_split(parts: int) -> None:
    """evaluate splits the block lengths of each set of dates between groups that each draw the stream
    once; every statistic's values are those of its own resamples drawn alone."""
    rng = np.random.default_rng(6)
    series = {n: rng.normal(size=n) for n in (300, 301)}
    stats = [
        Resampled(n, block, lambda index, n=n: series[n][index].sum(axis=1), np.copy)
        for n in (300, 301)
        for block in (1, 4, 4, 9, 2)
    ]
    got = evaluate(stats, reps=23, seed=5, parts=parts)
    for stat, values in zip(stats, got, strict=True):
        alone = np.concatenate(
            [series[stat.n][i].sum(axis=1) for i in stationary_indices(stat.n, block=stat.block, reps=23, seed=5)]
        )
        np.testing.assert_array_equal(values, alone)


def test_many_block_lengths_are_drawn_in_smaller_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs for many block lengths at once stay within BATCH_BYTES a batch, with the same results."""
    from engine.metrics import resample

    monkeypatch.setattr(resample, "BATCH_BYTES", 8 * 500 * 6 * 7)  # 7 resamples of 500 dates, 6 blocks
    shapes: list[tuple[int, ...]] = []
    real = resample.StationaryDraws

    class Recorded(real):  # type: ignore[misc, valid-type]
        def next_runs(self, reps: int) -> list:
            out = super().next_runs(reps)
            shapes.append((len(out), reps, out[0].n))
            return out

    monkeypatch.setattr(resample, "StationaryDraws", Recorded)
    x = np.random.default_rng(1).normal(size=500)
    stats = [Resampled(500, block, lambda index: x[index].sum(axis=1), np.copy) for block in range(1, 7)]
    got = evaluate(stats, reps=30, seed=4)
    assert shapes == [(6, 7, 500)] * 4 + [(6, 2, 500)]
    for stat, values in zip(stats, got, strict=True):
        alone = np.concatenate([x[i].sum(axis=1) for i in stationary_indices(500, block=stat.block, reps=30, seed=4)])
        np.testing.assert_array_equal(values, alone)


def test_a_statistic_with_a_runs_reduction_gets_the_runs_of_the_same_resamples() -> None:
    """evaluate hands a statistic that reduces runs the resamples' runs (and expands no indices for it), the
    others their indices: the same resamples either way."""
    seen: dict[str, list[np.ndarray]] = {"index": [], "runs": []}

    def by_index(index: np.ndarray) -> np.ndarray:
        seen["index"].append(index.copy())
        return np.zeros(len(index))

    def by_runs(runs: Runs) -> np.ndarray:
        seen["runs"].append(runs.indices())
        return np.ones(runs.reps)

    stats = [Resampled(50, 4, by_index, np.copy), Resampled(50, 4, lambda index: 1 / 0, np.copy, runs=by_runs)]
    got = evaluate(stats, reps=7, seed=3)
    np.testing.assert_array_equal(got[0], np.zeros(7))
    np.testing.assert_array_equal(got[1], np.ones(7))
    np.testing.assert_array_equal(np.concatenate(seen["index"]), np.concatenate(seen["runs"]))
    np.testing.assert_array_equal(np.concatenate(seen["runs"]), next(stationary_indices(50, block=4, reps=7, seed=3)))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="block"):
        next(stationary_indices(10, block=0, reps=5, seed=1))
    with pytest.raises(ValueError, match="reps"):
        next(stationary_indices(10, block=2, reps=0, seed=1))
    with pytest.raises(ValueError, match="n must"):
        next(stationary_indices(0, block=2, reps=5, seed=1))
    with pytest.raises(ValueError, match="blocks"):
        next(stationary_batches(10, blocks=(), reps=5, seed=1))
    with pytest.raises(ValueError, match="block"):
        next(stationary_batches(10, blocks=(2, 0), reps=5, seed=1))


def test_sharpe_beats_probability_is_archs_paired_bootstrap_bit_for_bit() -> None:
    # arch resamples both series on the same dates; each Sharpe as engine.metrics.sharpe(x, 1.0)
    rng = np.random.default_rng(21)
    y = rng.standard_t(5, 1200) * 0.01
    r = 0.6 * y + rng.normal(0.0002, 0.008, 1200)
    bs = StationaryBootstrap(6, r, y, seed=np.random.default_rng(9))
    diffs = np.array([sharpe(a, 1.0) - sharpe(b, 1.0) for (a, b), _ in bs.bootstrap(400)])
    diffs = diffs[np.isfinite(diffs)]
    expected = float(np.mean(diffs > 0) + 0.5 * np.mean(diffs == 0))
    assert sharpe_beats_probability(r, y, reps=400, seed=9, block=6) == expected


def test_resampled_sharpes_are_the_gathered_columns_sharpes_bit_for_bit() -> None:
    rng = np.random.default_rng(4)
    r = rng.standard_t(3, 900) * 0.01
    r[::7] = 0.0
    index = np.concatenate(list(stationary_indices(900, block=12, reps=150, seed=3)))
    index[0] = 5  # a resample of one date repeated: no variation, NaN
    expected = sharpe(r[index.T], 252.0)
    got = resampled_sharpes(r, index, 252.0)
    assert np.isnan(got[0]) and np.isnan(expected[0])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("n", [1, 7, 90, 91, 6319])
@pytest.mark.parametrize("block", [1, 3, 5, 30])
def test_circular_draws_are_archs_circular_block_resamples(n: int, block: int) -> None:
    from arch.bootstrap import CircularBlockBootstrap

    seed = n * 31 + block
    bs = CircularBlockBootstrap(block, np.empty(n), seed=seed)
    expected = np.stack([bs.update_indices() for _ in range(8)])
    np.testing.assert_array_equal(circular_draws(n, block=block, reps=8, seed=seed), expected)
