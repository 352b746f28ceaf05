"""engine.metrics' one-pass kernels against plain numpy, and a column's bits whatever its neighbours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import metrics as m
from engine.metrics.nb import covariances_nb, drawdowns_nb, means_nb, moments_nb
from engine.metrics.returns import curve_passes
from engine.metrics.specs import Curves


@pytest.fixture
def curves() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    n, k, a = 500, 6, 2
    value = 1000.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.01, (n, k)), axis=0)
    units = rng.uniform(0.0, 5.0, (n, k * a))
    unit_value = rng.uniform(50.0, 150.0, (n, a))
    rf = rng.uniform(0.0, 0.0002, n)
    return value, units, unit_value, rf


def test_average_weights_are_the_mean_of_asset_value_over_portfolio_value(curves) -> None:
    value, units, unit_value, _ = curves
    got = m.average_weights(units, unit_value, value)
    k, a = value.shape[1], unit_value.shape[1]
    want = np.array(
        [[np.mean(units[:, c * a + j] * unit_value[:, j] / value[:, c]) for j in range(a)] for c in range(k)]
    )
    np.testing.assert_allclose(got, want, rtol=1e-12)
    alone = m.average_weights(units[:, 2 * a : 3 * a], unit_value, value[:, 2])  # one curve, (dates,)
    assert np.array_equal(alone[0], got[2])  # the same bits beside other columns or alone


def test_average_is_the_column_mean(curves) -> None:
    value = curves[0]
    np.testing.assert_allclose(m.average(value), value.mean(axis=0), rtol=1e-12)
    assert m.average(value[:, 3]) == m.average(value)[3]
    assert isinstance(m.average(value[:, 3]), float)


def test_risk_ratios_equal_the_separate_metrics_and_numpy(curves) -> None:
    value, _, _, rf = curves
    rets = m.daily_returns(value, 1000.0)
    ppy = 252.0
    vol, sharpe, sortino = m.risk_ratios(rets, ppy, risk_free=rf)
    assert np.array_equal(vol, m.annual_volatility(rets, ppy))
    assert np.array_equal(sharpe, m.sharpe(rets, ppy, risk_free=rf))
    assert np.array_equal(sortino, m.sortino(rets, ppy, risk_free=rf))
    e = rets - rf[:, None]
    np.testing.assert_allclose(vol, rets.std(axis=0, ddof=1) * np.sqrt(ppy), rtol=1e-12)
    np.testing.assert_allclose(sharpe, e.mean(axis=0) / e.std(axis=0, ddof=1) * np.sqrt(ppy), rtol=1e-12)
    down = np.sqrt(np.mean(np.minimum(e, 0.0) ** 2, axis=0))
    np.testing.assert_allclose(sortino, e.mean(axis=0) / down * np.sqrt(ppy), rtol=1e-12)
    one = m.risk_ratios(rets[:, 4], ppy, risk_free=rf)
    assert one == (vol[4], sharpe[4], sortino[4])


def _drawdowns_by_definition(days: np.ndarray, v: np.ndarray, initial: float) -> tuple[float, float]:
    """Max drawdown: min over t of V_t / max(initial, V_0..V_t) - 1 (NaN from the first NaN on, as numpy's
    running maximum and min give).  Longest drawdown: the most calendar days from a peak (the latest date
    at the running maximum; ``initial`` is a peak on the first date) to the date the curve first regains
    it, or to the last date if it never does."""
    curve = np.concatenate([[initial], v])
    running = np.maximum.accumulate(curve)
    deepest = float(np.min(curve[1:] / running[1:] - 1.0)) if len(v) else 0.0
    longest, peak_day = 0.0, days[0]
    for t in range(len(v)):
        if not v[t] >= running[t + 1] or not (t == 0 or v[t - 1] >= running[t]):
            longest = max(longest, days[t] - peak_day)
        if v[t] >= running[t + 1]:
            peak_day = days[t]
    return min(deepest, 0.0) if deepest == deepest else deepest, longest


def test_drawdowns_of_every_column_follow_their_definition_alone_or_side_by_side() -> None:
    rng = np.random.default_rng(11)
    n, k = 260, 7
    value = 100.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (n, k)), axis=0)
    value[:, 1] = 100.0  # never below its first peak
    value[120, 2] = np.nan  # NaN from there on
    value[200:, 3] = -4.0  # a margin account below zero
    value[:, 4] = np.linspace(90.0, 80.0, n)  # never regains the initial value
    days = np.cumsum(rng.integers(1, 4, n)).astype(np.float64)
    deepest, longest = m.drawdowns(days, value, 100.0)
    for c in range(k):
        want = _drawdowns_by_definition(days, value[:, c], 100.0)
        np.testing.assert_allclose([deepest[c], longest[c]], want, rtol=1e-15, atol=0)
        alone = m.drawdowns(days, value[:, c], 100.0)
        assert np.array_equal(alone, (deepest[c], longest[c]), equal_nan=True)  # the same bits alone
    assert np.isnan(deepest[2]) and deepest[3] < -1.0 and deepest[1] == 0.0 and longest[4] == days[-1] - days[0]


def test_daily_returns_of_a_matrix_are_numpy_s_division_bit_for_bit() -> None:
    """The compiled pass for (dates, K) curves against ``value / previous - 1`` in numpy, on curves with
    zeros, NaN, inf and negative values, one initial value or one per column, and a column alone."""
    rng = np.random.default_rng(11)
    value = 1000.0 * np.cumprod(1.0 + rng.normal(0.0, 0.02, (300, 7)), axis=0)
    value[5, 1] = 0.0  # then a division by zero: inf, and 0 / 0: NaN
    value[6, 1] = 0.0
    value[40:45, 2] = np.nan
    value[80, 3] = np.inf
    value[:, 4] *= -1.0
    for initial in (1000.0, rng.uniform(500.0, 1500.0, 7), np.zeros(7)):
        prev = np.vstack([np.broadcast_to(initial, (1, 7)), value[:-1]])
        with np.errstate(divide="ignore", invalid="ignore"):
            want = value / prev - 1.0
        got = m.daily_returns(value, initial)
        assert got.shape == want.shape and np.array_equal(got, want, equal_nan=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # one curve: numpy's own path
            alone = m.daily_returns(value[:, 3], np.broadcast_to(initial, (7,))[3])
        assert np.array_equal(alone, got[:, 3], equal_nan=True)
    strided = value[::2, ::3]  # a view that is not C-ordered
    assert np.array_equal(m.daily_returns(strided, 1.0), m.daily_returns(np.array(strided), 1.0), equal_nan=True)
    assert m.daily_returns(np.empty((0, 3)), 1.0).shape == (0, 3)


def _awkward_curves(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(value (300, 7), risk-free (300,), reference (300,), market (299, 2), days (300,)): random curves, one
    with a zero (inf and NaN returns), one with NaN values, one with an inf, one negative, one flat."""
    rng = np.random.default_rng(seed)
    value = 1000.0 * np.cumprod(1.0 + rng.normal(0.0003, 0.01, (300, 7)), axis=0)
    value[50, 1] = 0.0
    value[100:104, 2] = np.nan
    value[200, 3] = np.inf
    value[:, 4] *= -1.0
    value[:, 5] = 1000.0
    reference = 1000.0 * np.cumprod(1.0 + rng.normal(0.0002, 0.01, 300))
    market = rng.normal(0.0, 0.01, (299, 2))
    days = np.cumsum(rng.integers(1, 4, 300)) - 1.0
    return value, rng.uniform(0.0, 0.0002, 300), reference, market, days


@pytest.mark.parametrize("seed", [3, 4])
def test_curve_passes_give_each_kernel_s_bits(seed: int) -> None:
    """The two fused passes against the kernels they stand for, each on its own array of returns: the
    moments of r - rf, of the active returns, the drawdowns, the mean value, the covariances with each
    market's returns and the block sums (numpy's reshaped sums), for one initial value or one per column."""
    value, rf, reference, market, days = _awkward_curves(seed)
    for initial in (1000.0, np.linspace(900.0, 1100.0, 7)):
        with np.errstate(divide="ignore", invalid="ignore"):
            r = m.daily_returns(value, initial)
            rr = m.daily_returns(reference, 1000.0)
            active = r - rr[:, None]
            got = curve_passes(value, initial, days, risk_free=rf, reference_returns=rr, market=market, blocks=7)
            size = 300 // 7  # 42 dates each: the first 6 dates are in none
            cut = (r - rf[:, None])[300 - 7 * size :].reshape(7, size, 7)
            want = {
                "excess": moments_nb(r, rf),
                "active": tuple(moments_nb(active, np.zeros(300))[i] for i in (0, 1, 3)),
                "drawdowns": drawdowns_nb(value, np.broadcast_to(initial, (7,)).astype(float), days),
                "mean_value": means_nb(value),
                "covariances": np.stack([covariances_nb(r[1:].copy(), market[:, q].copy()) for q in (0, 1)]),
                "block_sum": cut.sum(axis=1),
                "block_sq": (cut**2).sum(axis=1),
            }
        for name, expected in want.items():
            mine = getattr(got, name)
            pairs = zip(*(x if isinstance(x, tuple) else (x,) for x in (mine, expected)), strict=True)
            assert all(np.array_equal(a, b, equal_nan=True) for a, b in pairs), name


def test_curves_read_their_metrics_from_the_passes_as_the_separate_functions_give_them() -> None:
    """``Curves``' ratios, drawdowns, information ratio, tracking error, turnover and betas against
    :mod:`engine.metrics.returns`' functions on the arrays of returns, bit for bit."""
    value, rf, reference, market, _ = _awkward_curves(5)
    dates = pd.bdate_range("2001-01-01", periods=300)
    traded = np.full(7, 5.0e5)
    c = Curves(dates, value, 1000.0, risk_free=rf, reference=reference, traded=traded, market=market)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = m.daily_returns(value, 1000.0)
        active = r - m.daily_returns(reference, 1000.0)[:, None]
        ppy = c.periods_per_year
        pairs = [
            (c.ratios, m.risk_ratios(r, ppy, risk_free=rf)),
            (c.drawdowns, m.drawdowns((dates - dates[0]).days.to_numpy(), value, 1000.0)),
            (c.relative, (m.annual_volatility(active, ppy), m.sharpe(active, ppy))),
            ((c.passes.mean_value,), (m.average(value),)),
            (tuple(c.betas), tuple(m.betas(r[1:], market[:, q]) for q in (0, 1))),
        ]
    for mine, theirs in pairs:
        for a, b in zip(mine, theirs, strict=True):
            assert np.array_equal(a, b, equal_nan=True)
    alone = Curves(dates, value, 1000.0, risk_free=rf)  # no reference: no relative metrics
    assert np.isnan(alone.relative[1]).all()
    with pytest.raises(TypeError, match="market"):
        _ = alone.betas
