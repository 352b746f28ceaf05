"""engine.metrics' one-pass kernels against plain numpy, and a column's bits whatever its neighbours."""

from __future__ import annotations

import numpy as np
import pytest

from engine import metrics as m


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
