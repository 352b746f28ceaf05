"""engine.metrics.spa gives arch.bootstrap.SPA's three p-values.

The reference is arch itself: ``SPA(benchmark_losses, model_losses, block_size, reps,
seed=np.random.default_rng(seed)).compute()`` with its defaults (stationary bootstrap,
studentize=True, nested=False), whose loss differentials are benchmark minus model losses.
The long-run variance is checked against arch's direct O(T^2) sum (its ``_compute_variance``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from arch.bootstrap import SPA

from engine.metrics.resample import stationary_runs
from engine.metrics.run_sums import column_prefix, run_means
from engine.metrics.spa import long_run_variance, spa_pvalues


def _differentials(t: int, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    common = rng.normal(0.0, 0.01, (t, 1))
    edge = np.linspace(-0.0006, 0.0004, k)  # some strategies worse than the benchmark, some better
    noise = rng.standard_t(4, (t, k)) * 0.004
    return 0.3 * common + noise + edge


@pytest.mark.parametrize(
    ("t", "k", "block", "reps", "seed"),
    [(500, 1, 5, 300, 1), (800, 3, 12, 400, 2), (1200, 15, 7, 250, 3), (301, 6, 1, 200, 4), (2000, 2, 40, 150, 5)],
)
def test_pvalues_are_archs(t: int, k: int, block: int, reps: int, seed: int) -> None:
    d = _differentials(t, k, seed)
    test = SPA(np.zeros(t), -d, block_size=block, reps=reps, seed=np.random.default_rng(seed + 100))
    test.compute()
    got = spa_pvalues(d, block=block, reps=reps, seed=seed + 100)
    assert got == {key: float(test.pvalues[key]) for key in ("lower", "consistent", "upper")}
    assert got["lower"] <= got["consistent"] <= got["upper"]


def test_a_strategy_near_the_consistent_threshold_is_judged_as_arch_judges_it() -> None:
    # a mean set just above and just below -sqrt(omega^2 / T * 2 log log T): the valid columns agree
    t, block = 900, 6
    d = _differentials(t, 2, 9)
    omega2 = long_run_variance(d, block)
    threshold = -np.sqrt(omega2 / t * 2 * np.log(np.log(t)))
    d = d - d.mean(axis=0) + threshold * np.array([0.999, 1.001])
    test = SPA(np.zeros(t), -d, block_size=block, reps=200, seed=np.random.default_rng(3))
    test.compute()
    assert spa_pvalues(d, block=block, reps=200, seed=3) == {
        k: float(test.pvalues[k]) for k in ("lower", "consistent", "upper")
    }


def test_long_run_variance_is_archs_direct_sum() -> None:
    d = _differentials(400, 4, 6)
    block = 9
    t, p = d.shape[0], 1.0 / block
    demeaned = d - d.mean(axis=0)
    expected = np.sum(demeaned**2, 0) / t
    for i in range(1, t):
        kappa = ((1.0 - (i / t)) * ((1 - p) ** i)) + ((i / t) * ((1 - p) ** (t - i)))
        expected += 2 * kappa * np.sum(demeaned[: (t - i), :] * demeaned[i:, :], 0) / t
    np.testing.assert_allclose(long_run_variance(d, block), expected, rtol=1e-12)


@pytest.mark.parametrize(("t", "k", "block"), [(5, 2, 3), (301, 3, 7), (6357, 15, 12), (1000, 40, 1), (400, 1, 400)])
def test_resample_means_from_runs_are_the_gathered_means(t: int, k: int, block: int) -> None:
    """The means SPA reduces each resample to, from its runs of dates: numpy's mean over the dates of the
    gathered array, up to rounding (columns of very different scales, runs that wrap, one column)."""
    rng = np.random.default_rng(t + k)
    d = rng.normal(size=(t, k)) * 10.0 ** rng.integers(-4, 4, size=k) + rng.normal(size=k)
    runs = next(stationary_runs(t, block=block, reps=9, seed=t))
    expected = d[runs.indices()].mean(axis=1)
    got = run_means(column_prefix(d), runs)
    scale = np.abs(d).max(axis=0)  # a mean near 0 is known to about eps x its largest term
    np.testing.assert_array_less(np.abs(got - expected), 1e-15 * scale + 1e-13 * np.abs(expected))


def test_column_prefix_sums_carry_their_rounding_errors() -> None:
    """Each prefix sum and its compensation add up to the exact sum (math.fsum) to about a unit in the last
    place, where a plain running sum drifts by many (so a run's sum, a difference of two, keeps its digits)."""
    rng = np.random.default_rng(5)
    d = rng.normal(0.0, 1.0, (4000, 2)) + np.array([3e4, -1e-3])
    prefix = column_prefix(d)
    exact = np.array([[0.0, *(math.fsum(d[: i + 1, k]) for i in range(len(d)))] for k in range(2)]).T
    assert np.all(np.abs(prefix[0] + prefix[1] - exact) <= 2.3e-16 * np.abs(exact))
    plain = np.concatenate([np.zeros((1, 2)), np.cumsum(d, axis=0)])
    assert np.abs(plain - exact)[:, 0].max() > 1e-10  # the data do need the compensation
