"""engine.evaluate's cost layouts: the same rates given per column group, per date, or shared give the
same columns (the walk-forward path gives slippage per date; a sweep that sweeps costs gives groups).

Checked on the embedded synthetic data: two markets, one allocation that switches every few weeks,
evaluated with the scheduler's fills (``engine=None``) and with vectorbt's ``from_orders``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from engine.config import StrategyConfig
from engine.costs import CostRates, cost_rates
from engine.data.panel import load_for_config
from engine.data.synthetic import SyntheticProvider
from engine.evaluate import Columns, evaluate, first_decision, market

CONFIG = {
    "name": "layouts",
    "data": {"source": "synthetic", "start": "2010-01-01", "end": "2012-12-31"},
    "assets": {"us": {"symbol": "^GSPC", "market": "us"}, "hk": {"symbol": "^HSI", "market": "hk"}},
    "rules": [{"otherwise": {"us": 0.5, "hk": 0.5}}],
    "costs": {"fee_bps": 7, "slippage_bps": 11},
}


@pytest.fixture(scope="module")
def setting():
    cfg = StrategyConfig.model_validate(CONFIG)
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2009, 1, 2))
    loaded = load_for_config(provider, cfg, warmup_rows=1)
    mk = market(loaded, assets=cfg.assets)
    n, a = len(loaded.panel.dates), len(loaded.panel.assets)
    targets = np.zeros((n, a))
    targets[:, 0] = (np.arange(n) // 20) % 2  # all in one market, then the other, every 20 rows
    targets[:, 1] = 1.0 - targets[:, 0]
    rates = cost_rates(cfg.costs, cfg.assets, loaded.panel.assets, loaded.panel.dates)
    return mk, targets, rates


def _columns(mk, targets: np.ndarray, k: int, costs) -> Columns:
    lag = np.ones(k, dtype=np.int64)
    return Columns(
        targets=np.repeat(targets[:, None, :], k, axis=1),
        lag=lag,
        rebalance=["on_change"] * k,
        costs=costs,
        first_decision=first_decision(mk.start, lag),
    )


@pytest.mark.parametrize("engine", [None, "rust"])
def test_groups_per_date_slippage_and_shared_rates_agree(setting, engine) -> None:
    mk, targets, rates = setting
    n = len(mk.panel.dates)
    shared = evaluate(mk, _columns(mk, targets, 1, [(np.arange(1), rates)]), init_cash=1e5, engine=engine)
    per_date = CostRates(fees=rates.fees, slippage=np.tile(rates.slippage, (n, 1)))
    free = CostRates(fees=np.zeros_like(rates.fees), slippage=np.zeros_like(rates.slippage))
    groups = [(np.array([0, 2]), rates), (np.array([1]), per_date), (np.array([3]), free)]
    mixed = evaluate(mk, _columns(mk, targets, 4, groups), init_cash=1e5, engine=engine)
    assert shared.curves.trades[0] > 10  # the allocation trades, so the costs matter
    for column in (0, 1, 2):
        np.testing.assert_allclose(mixed.value[:, column], shared.value[:, 0], rtol=1e-12)
    assert mixed.value[-1, 3] > shared.value[-1, 0] * 1.001  # the column without costs ends higher
    np.testing.assert_allclose(mixed.curves.fees[:3], shared.curves.fees[0], rtol=1e-12)
    assert mixed.curves.fees[3] == 0.0


def test_record_totals_are_the_bincounts_of_the_records() -> None:
    """Value traded (size x price x cash growth), fees (x growth) and fills per column of the order
    records: the bits of ``np.bincount`` with those weights, records of the columns in any order."""
    from engine.evaluate import _record_totals_nb

    rng = np.random.default_rng(3)
    n_assets, k, slots = 2, 7, 40
    growth = 1 + np.cumsum(rng.random(slots) * 1e-4)
    for n in (0, 1, 300):
        col, idx = rng.integers(0, k * n_assets, n), rng.integers(0, slots, n)
        size, price, fees = rng.random(n) * 1e3, 10 ** rng.uniform(-2, 5, n), rng.random(n)
        traded, paid, count = _record_totals_nb(col, idx, size, price, fees, growth, n_assets, k)
        group = col // n_assets
        np.testing.assert_array_equal(traded, np.bincount(group, weights=size * price * growth[idx], minlength=k))
        np.testing.assert_array_equal(paid, np.bincount(group, weights=fees * growth[idx], minlength=k))
        np.testing.assert_array_equal(count, np.bincount(group, minlength=k))
        assert traded.dtype == paid.dtype == np.float64  # also when no column traded
    one = np.ones(1)
    for bad_col, bad_idx in ((k * n_assets, 0), (-1, 0), (0, slots), (0, -1)):
        with pytest.raises(IndexError):
            _record_totals_nb(np.array([bad_col]), np.array([bad_idx]), one, one, one, growth, n_assets, k)
