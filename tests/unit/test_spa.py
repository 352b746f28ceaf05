"""engine.metrics.spa gives arch.bootstrap.SPA's three p-values.

The reference is arch itself: ``SPA(benchmark_losses, model_losses, block_size, reps,
seed=np.random.default_rng(seed)).compute()`` with its defaults (stationary bootstrap,
studentize=True, nested=False), whose loss differentials are benchmark minus model losses.
The long-run variance is checked against arch's direct O(T^2) sum (its ``_compute_variance``).
"""

from __future__ import annotations

import numpy as np
import pytest
from arch.bootstrap import SPA

from engine.metrics.nb import resampled_means_nb
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


@pytest.mark.parametrize(("t", "k"), [(5, 2), (301, 3), (6357, 15), (1000, 40)])
def test_the_compiled_resample_means_are_numpys_bits(t: int, k: int) -> None:
    """The means SPA reduces each resample to: numpy's mean over the dates of the gathered array."""
    rng = np.random.default_rng(t + k)
    d = rng.normal(size=(t, k)) * 10.0 ** rng.integers(-4, 4, size=k)
    index = rng.integers(0, t, size=(7, t)).astype(np.int32)
    assert np.array_equal(resampled_means_nb(d, index), d[index].mean(axis=1))
