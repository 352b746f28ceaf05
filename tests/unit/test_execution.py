"""The order scheduler's own fills equal vectorbt's simulation of the legs it schedules, on both engines.

The scheduler (engine/execution_nb.py) fills legs as it goes, because which legs are sales depends on
what is actually held; sweeps use those fills, single runs simulate the same legs with
``from_orders`` on the pinned engine.  The two must be the same fills.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.calendar import market_rank
from engine.config.models import AssetSpec
from engine.data.panel import build_panel
from engine.execution import plan_batch
from engine.simulate import simulate_batch
from engine.valuation import simulation_prices, valuation


def _panel(seed: int):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=300)
    us = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300))), index=dates)[rng.random(300) > 0.05]
    hk = pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.02, 300))), index=dates)[rng.random(300) > 0.08]
    us2 = pd.Series(80 * np.exp(np.cumsum(rng.normal(0, 0.02, len(us)))), index=us.index)
    specs = {
        "us": AssetSpec(symbol="US", market="us"),
        "us2": AssetSpec(symbol="US2", market="us"),
        "hk": AssetSpec(symbol="HK", market="hk", currency="USD"),
    }
    return build_panel({"us": us, "us2": us2, "hk": hk}, specs, price_field="close", source="t", synthetic=True)


@pytest.mark.parametrize("engine", ["rust", "numba"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scheduler_fills_equal_vectorbt_simulation_of_its_legs(engine: str, seed: int) -> None:
    panel = _panel(seed)
    rng = np.random.default_rng(seed + 100)
    n, a, k = len(panel.dates), len(panel.assets), 6
    menu = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.3, 0.3, 0.4], [0.5, 0, 0.2], [0, 0, 0]], dtype=float)
    choice = np.repeat(rng.integers(0, len(menu), size=(n // 10 + 1, k)), 10, axis=0)[:n]
    targets = menu[choice]  # (n, k, a)
    val = valuation(panel, dividend_yields=np.zeros(a), cash_rate=0.02, start=5)
    ranks = market_rank(list(panel.markets))
    m = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in panel.markets])
    close, order = simulation_prices(val, panel.traded, asset_slot, m, "close")
    first_slot = 5 * m
    fees = np.full((n * m - first_slot, a), 7e-4)
    slippage = np.array([2e-4, 3e-4, 5e-4])
    batch = plan_batch(
        targets=targets,
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=np.full(k, 4),
        lag=rng.integers(1, 4, size=k),
        rebalance=["on_change", "daily", "weekly", "monthly", "on_change", "daily"],
        close=close[first_slot:],
        order_price=order[first_slot:],
        fees=fees,
        slippage=slippage,
        init_cash=100_000.0,
        first_slot=first_slot,
    )
    rows, sizes = batch.orders_from(first_slot)
    sim = simulate_batch(
        size=sizes,
        rows=rows,
        n_slots=len(close) - first_slot,
        price=close[first_slot:],
        order_price=order[first_slot:],
        fees=fees,
        slippage=slippage,
        init_cash=100_000.0,
        engine=engine,  # type: ignore[arg-type]
        n_assets=a,
    )
    mine = np.sort(batch.fills, order=["col", "idx"])
    theirs = np.sort(sim.records, order=["col", "idx"])
    assert len(mine) == len(theirs) > 100
    for field in ("col", "idx", "side"):
        np.testing.assert_array_equal(mine[field], theirs[field])
    for field in ("size", "price", "fees"):
        np.testing.assert_allclose(mine[field], theirs[field], rtol=1e-12, atol=0)
