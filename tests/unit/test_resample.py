"""engine.metrics.resample hands out arch's own stationary-bootstrap resamples, in batches.

The reference is arch itself: ``StationaryBootstrap.bootstrap(reps)`` with the same block and seed,
its ``index`` read after each resample.  A statistic reduced over a batch's columns must give each
resample the bits the one-at-a-time callback gives it, whatever the batch size.
"""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import StationaryBootstrap, optimal_block_length

from engine.metrics import sharpe
from engine.metrics.resample import optimal_block, stationary_indices
from engine.metrics.significance import sharpe_ci


@pytest.mark.parametrize(("n", "block", "reps", "batch"), [(250, 7, 230, 100), (40, 1, 5, 2), (1000, 30, 101, 100)])
def test_indices_are_archs_resamples_in_order(n: int, block: int, reps: int, batch: int) -> None:
    x = np.random.default_rng(n).normal(size=n)
    bs = StationaryBootstrap(block, x, seed=np.random.default_rng(11))
    expected = np.stack([bs.index.copy() for _ in bs.bootstrap(reps)])
    batches = list(stationary_indices(n, block=block, reps=reps, seed=11, batch=batch))
    assert [len(b) for b in batches] == [min(batch, reps - i) for i in range(0, reps, batch)]
    np.testing.assert_array_equal(np.concatenate(batches), expected)


def test_sharpe_ci_is_bitwise_archs_conf_int() -> None:
    # arch's own percentile interval with engine.metrics.sharpe as the callback, one resample at a time
    r = np.random.default_rng(3).standard_t(4, 1500) * 0.01 + 0.0004
    bs = StationaryBootstrap(9, r, seed=np.random.default_rng(5))
    ci = bs.conf_int(lambda x: np.array([sharpe(x, 252.0)]), reps=333, method="percentile", size=0.9)
    assert sharpe_ci(r, periods_per_year=252.0, level=0.9, reps=333, seed=5, block=9) == (ci[0, 0], ci[1, 0])


def test_optimal_block_is_the_rounded_mean_of_archs_estimates() -> None:
    rng = np.random.default_rng(8)
    x = np.cumsum(rng.normal(size=(600, 3)), axis=0) * 0.01 + rng.normal(size=(600, 3))
    mean = optimal_block_length(x)["stationary"].mean()
    assert optimal_block(x) == max(1, round(mean))
    assert optimal_block(rng.normal(size=600)) >= 1


def test_a_kept_set_is_handed_out_again_unchanged() -> None:
    first = np.concatenate(list(stationary_indices(300, block=4, reps=50, seed=2)))
    again = np.concatenate(list(stationary_indices(300, block=4, reps=50, seed=2, batch=7)))
    other = np.concatenate(list(stationary_indices(300, block=5, reps=50, seed=2)))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    with pytest.raises(ValueError, match="read-only"):
        first_batch = next(stationary_indices(300, block=4, reps=50, seed=2))
        first_batch[0, 0] = 1
