"""engine.metrics.block_length gives arch's Politis-White stationary block lengths, bit for bit.

The reference is ``arch.bootstrap.optimal_block_length(x)["stationary"]`` itself.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from arch.bootstrap import optimal_block_length

from engine.metrics.block_length import stationary_block_lengths
from engine.metrics.resample import optimal_block


def _series(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.standard_t(4, n) * 0.01
    if kind == "iid":
        return noise
    if kind == "ar":  # strongly autocorrelated: a long block
        out = np.empty(n)
        out[0] = noise[0]
        for t in range(1, n):
            out[t] = 0.9 * out[t - 1] + noise[t]
        return out
    if kind == "ma":  # short memory: the moving-average smoothing of the sweep's rows
        return np.convolve(noise, np.ones(5) / 5, mode="same")
    if kind == "steps":  # long flat stretches, as a rotation's daily excess returns have
        return np.repeat(noise[: n // 20 + 1], 20)[:n]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["iid", "ar", "ma", "steps"])
@pytest.mark.parametrize("n", [40, 257, 1000, 6318])
def test_one_column_is_archs(kind: str, n: int) -> None:
    x = _series(kind, n, n)
    expected = optimal_block_length(x)["stationary"].to_numpy(dtype=float)
    np.testing.assert_array_equal(stationary_block_lengths(x), expected)


def test_columns_of_a_matrix_are_archs() -> None:
    x = np.column_stack([_series(k, 900, i) for i, k in enumerate(["iid", "ar", "ma", "steps", "iid"])])
    expected = optimal_block_length(x)["stationary"].to_numpy(dtype=float)
    np.testing.assert_array_equal(stationary_block_lengths(x), expected)
    assert optimal_block(x) == max(1, round(float(np.mean(expected))))


def test_a_serially_correlated_series_gets_a_longer_block() -> None:
    assert optimal_block(_series("ar", 2000, 1)) > optimal_block(_series("iid", 2000, 1))
    with pytest.raises(ValueError, match="1-D or 2-D"):
        stationary_block_lengths(np.zeros((3, 3, 3)))


@pytest.mark.parametrize("n", [3, 5, 6, 7, 8])
def test_a_series_shorter_than_the_lags_searched_gets_an_estimate_not_an_error(n: int) -> None:
    """Under 8 dates the lags searched (ceil(sqrt n) + 5) reach past the last date, where arch's
    ``optimal_block_length`` fails on mismatched slices (a `compare --period` of a week did too): a lag with
    no pair of dates counts as none, as arch's own slices give it for 8 dates.  The estimate stays within
    arch's cap, or is NaN (``optimal_block`` then takes 1)."""
    x = _series("iid", n, 3)
    with warnings.catch_warnings():  # arch divides 0 by 0 at the lags without pairs (and warns)
        warnings.simplefilter("ignore", RuntimeWarning)
        if n >= 8:
            expected = optimal_block_length(x)["stationary"].to_numpy()
            np.testing.assert_array_equal(stationary_block_lengths(x), expected)
        else:
            with pytest.raises(ValueError):
                optimal_block_length(x)
    (b,) = stationary_block_lengths(x)
    assert np.isnan(b) or 0 <= b <= np.ceil(min(3 * np.sqrt(n), n / 3))
    assert optimal_block(x) >= 1
