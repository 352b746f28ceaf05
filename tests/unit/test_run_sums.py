"""A resample's Sharpe ratio from its runs of consecutive dates equals the gathered one up to rounding.

The reference is ``engine.metrics.returns.resampled_sharpes`` on the expanded indices (itself checked
bit for bit against ``sharpe`` of the gathered columns in tests/unit/test_resample.py): mean / std
(ddof=1) x sqrt(ppy) of each resample, NaN when std <= FLAT_RTOL x max |x| of the resample.  The runs
come from the same draws as arch's indices (``StationaryDraws.next_runs``), and from hand-made runs for
the edges: a run that wraps past the last date, one run covering every date, every date its own run.
Where the two differ, the runs are at least as close to the exact value (rational arithmetic) on the
draws checked by hand: both within 4e-15 of it on daily-scale series.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.metrics.pcg64 import Runs, StationaryDraws
from engine.metrics.returns import resampled_sharpes
from engine.metrics.run_sums import PrefixSums, run_sharpes


def _both(x: np.ndarray, runs: Runs, ppy: float = 252.0) -> tuple[np.ndarray, np.ndarray]:
    return run_sharpes(PrefixSums.of(x), runs, ppy), resampled_sharpes(x, runs.indices(), ppy)


def _close(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-12) -> None:
    """Equal NaNs, numbers within ``rtol`` or 1e-14 (a Sharpe ratio near 0 has no relative precision)."""
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-14)


SERIES = {
    "daily": lambda rng, n: rng.normal(0.0003, 0.012, n),
    "heavy tails": lambda rng, n: rng.standard_t(2.5, n) * 0.01,
    "large mean": lambda rng, n: 0.05 + rng.normal(0.0, 1e-5, n),  # mean / std 5,000: cancellation
    "trend": lambda rng, n: np.linspace(-0.02, 0.03, n) + rng.normal(0.0, 1e-4, n),
    "mostly zero": lambda rng, n: np.where(rng.random(n) < 0.1, rng.normal(0.0, 0.02, n), 0.0),
}


@pytest.mark.parametrize("kind", list(SERIES))
@pytest.mark.parametrize(("n", "block"), [(6357, 6), (6357, 40), (501, 1), (500, 9), (3, 2)])
def test_drawn_runs_give_the_gathered_sharpes(kind: str, n: int, block: int) -> None:
    rng = np.random.default_rng(n + block)
    x = SERIES[kind](rng, n)
    runs = StationaryDraws(n, blocks=(block,), seed=7).next_runs(120)[0]
    got, expected = _both(x, runs)
    _close(got, expected)
    if n > 3:
        assert np.isfinite(expected).mean() > 0.5  # the comparison is of numbers, not only of NaNs


def test_hand_made_runs_wrap_cover_everything_or_one_date_each() -> None:
    n = 8
    x = np.array([0.01, -0.02, 0.03, 0.005, -0.01, 0.02, -0.015, 0.004])
    at = np.zeros((3, n), dtype=np.int32)
    origin = np.zeros((3, n), dtype=np.int32)
    at[0, :2], origin[0, :2] = (0, 3), (6, 1)  # 6, 7, 0 (wraps), then 1 .. 5
    at[1, 0], origin[1, 0] = 0, 5  # one run from 5: 5, 6, 7, 0, 1, 2, 3, 4
    at[2], origin[2] = np.arange(n), (np.arange(n) * 3) % n  # every date its own run
    runs = Runs(n, at, origin, np.array([2, 1, n]))
    np.testing.assert_array_equal(runs.indices()[0], [6, 7, 0, 1, 2, 3, 4, 5])
    np.testing.assert_array_equal(runs.indices()[1], [5, 6, 7, 0, 1, 2, 3, 4])
    got, expected = _both(x, runs)
    _close(got, expected, rtol=1e-14)
    # each resample is a permutation of x, so its Sharpe is x's own
    np.testing.assert_allclose(got, np.mean(x) / np.std(x, ddof=1) * np.sqrt(252.0), rtol=1e-14)


def test_near_flat_resamples_are_decided_by_the_gathered_sums() -> None:
    """A resample without variation, or with a spread at the flat threshold, is NaN exactly when the gathered
    path says so (it scores them itself)."""
    rng = np.random.default_rng(3)
    n = 400
    x = np.full(n, 0.001)
    x[rng.choice(n, 3, replace=False)] += 1e-3  # most resamples of short blocks still hold one of them
    x[:40] = 0.001 * (1 + 1e-10 * rng.normal(size=40))  # noise at the threshold's scale
    for block in (1, 3, 50, 400):
        runs = StationaryDraws(n, blocks=(block,), seed=block).next_runs(200)[0]
        got, expected = _both(x, runs)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
        near = np.isnan(expected) | (np.abs(got - expected) > 1e-12 * np.abs(expected))
        np.testing.assert_array_equal(got[near], expected[near])
    flat = np.full(n, 0.002)
    got, expected = _both(flat, StationaryDraws(n, blocks=(5,), seed=1).next_runs(10)[0])
    assert np.isnan(got).all() and np.isnan(expected).all()
    # a spread of 1e-12 of the level: well within the digits of the sums, and flat (NaN) all the same
    level = 0.002 * (1 + 1e-12 * rng.normal(size=n))
    got, expected = _both(level, StationaryDraws(n, blocks=(5,), seed=1).next_runs(10)[0])
    assert np.isnan(got).all() and np.isnan(expected).all()


def test_a_resample_far_from_the_series_mean_is_scored_from_its_gathered_dates() -> None:
    """Half the series at 0, half at 1 +- 1e-4: a resample of only the second half has squared deviations
    from the series' mean of about 0.25 a date but from its own mean of 1e-8, so the prefix sums would
    leave few of their digits; it is scored from its gathered dates, as exactly as a single series."""
    x = np.concatenate([np.zeros(100), 1.0 + 1e-4 * (-1.0) ** np.arange(100) + 1e-6 * np.arange(100) / 100])
    at = np.zeros((1, 200), dtype=np.int32)
    origin = np.zeros((1, 200), dtype=np.int32)
    at[0, :2], origin[0, :2] = (0, 100), (100, 100)  # the second half, twice
    runs = Runs(200, at, origin, np.array([2]))
    got = run_sharpes(PrefixSums.of(x), runs, 252.0)[0]
    assert abs(got - _exact_sharpe(x[runs.indices()[0]], 252.0)) <= 1e-13 * abs(got)


def test_runs_of_another_length_are_refused() -> None:
    runs = StationaryDraws(10, blocks=(2,), seed=1).next_runs(3)[0]
    with pytest.raises(ValueError, match="runs of 10 dates for a series of 9"):
        run_sharpes(PrefixSums.of(np.ones(9)), runs, 252.0)


def _exact_sharpe(x: np.ndarray, ppy: float) -> float:
    """mean / std(ddof=1) x sqrt(ppy) of x in rational arithmetic, rounded once at the end (NaN: no variation)."""
    v = [Fraction(float(a)) for a in x]
    mean = sum(v) / len(v)
    var = sum((a - mean) ** 2 for a in v) / (len(v) - 1)
    return float(mean) / math.sqrt(float(var)) * math.sqrt(ppy) if var > 0 else math.nan


RETURN = st.floats(-1.0, 1.0, allow_subnormal=False).map(lambda v: 0.0 if abs(v) < 1e-100 else v)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x=arrays(np.float64, st.integers(3, 120), elements=RETURN),
    block=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    scale=st.sampled_from([1.0, 1e-6, 1e6]),
    shift=st.sampled_from([0.0, 1e-3, 1.0, -50.0]),
)
def test_run_sharpes_are_the_exact_ones_to_1e12(
    x: np.ndarray, block: int, seed: int, scale: float, shift: float
) -> None:
    """Against rational arithmetic (the gathered two-pass sums are themselves off by up to about 1e-12 on a
    level of -50 with a spread of 1e-6): NaN exactly where the gathered path says so, else within 1e-12 of
    the exact ratio (relative, or absolute near 0).  Values below 1e-100 are 0 here: their squares would be
    subnormal and lose digits in both paths."""
    x = x * scale + shift
    runs = StationaryDraws(len(x), blocks=(block,), seed=seed).next_runs(4)[0]
    got = run_sharpes(PrefixSums.of(x), runs, 252.0)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(resampled_sharpes(x, runs.indices(), 252.0)))
    for value, index in zip(got, runs.indices(), strict=True):
        if not np.isnan(value):
            exact = _exact_sharpe(x[index], 252.0)
            assert abs(value - exact) <= 1e-12 * max(abs(exact), 1.0)
