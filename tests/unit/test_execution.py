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
from engine.execution import event_mask, plan_batch
from engine.simulate import simulate_batch
from engine.valuation import simulation_prices, valuation
from tests.helpers import PLAN_CASH, PLAN_FEES, PLAN_SLIPPAGE, plan_on, plan_prices, random_three_asset_panel


@pytest.mark.parametrize("engine", ["rust", "numba"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scheduler_fills_equal_vectorbt_simulation_of_its_legs(engine: str, seed: int) -> None:
    panel = random_three_asset_panel(seed)
    rng = np.random.default_rng(seed + 100)
    n, a, k = len(panel.dates), len(panel.assets), 6
    menu = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.3, 0.3, 0.4], [0.5, 0, 0.2], [0, 0, 0]], dtype=float)
    choice = np.repeat(rng.integers(0, len(menu), size=(n // 10 + 1, k)), 10, axis=0)[:n]
    targets = menu[choice]  # (n, k, a)
    prices = plan_prices(panel, start=5)
    batch = plan_on(
        panel,
        prices,
        targets,
        first_decision=np.full(k, 4),
        lag=rng.integers(1, 4, size=k),
        rebalance=["on_change", "daily", "weekly", "monthly", "band", "on_change"],
        band=np.array([np.nan, np.nan, 0.05, np.nan, 0.03, 0.1]),  # drift events, decided from the fills so far
    )
    rows, sizes = batch.orders_from(prices.first_slot)
    sim = simulate_batch(
        size=sizes,
        rows=rows,
        n_slots=len(prices.close),
        price=prices.close,
        order_price=prices.order,
        fees=np.full((len(prices.close), a), PLAN_FEES),
        slippage=PLAN_SLIPPAGE,
        init_cash=PLAN_CASH,
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


def _switches_from_events(events: np.ndarray, lag: np.ndarray, targets: np.ndarray, start: int) -> np.ndarray:
    """Per column: of the events that come into force (decision row d, execution d + lag[d]; an event is
    overtaken, never in force, when a later decision executes on or before its execution row), those executing
    on or after row ``start`` whose targets differ by more than 1e-12 in some asset from the previous event in
    force, itself executing on or after ``start``."""
    out = np.zeros(events.shape[1], dtype=np.int64)
    for k in range(events.shape[1]):
        rows = np.flatnonzero(events[:, k])
        execution = rows + lag[rows, k]
        kept = [d for i, (d, x) in enumerate(zip(rows, execution, strict=True)) if (execution[i + 1 :] > x).all()]
        rows = [d for d in kept if d + lag[d, k] >= start]
        t = targets[rows, k]
        out[k] = int((np.abs(np.diff(t, axis=0)) > 1e-12).any(axis=1).sum())
    return out


@pytest.mark.parametrize("given", [False, True])
@pytest.mark.parametrize("seed", [1, 2])
def test_the_scheduler_counts_switches_of_the_events_it_kept(seed: int, given: bool) -> None:
    """The scheduler's count of switches equals a count over the plan's final events (drift events of a
    band included): only events executing from the first simulated date on, a change under 1e-12 not
    counted; no event executing past the last date.  ``given``: events of the caller's, some decided before the
    start (and a lag per row for one seed), which plan_batch leaves as they were."""
    panel = random_three_asset_panel(seed)
    rng = np.random.default_rng(seed + 300)
    n, k = len(panel.dates), 5
    menu = np.array([[1, 0, 0], [1, 0, 1e-13], [0, 1, 0], [0.3, 0.3, 0.4], [0.3, 0.3, 0.4 + 1e-11]], dtype=float)
    targets = menu[np.repeat(rng.integers(0, len(menu), size=(n // 6 + 1, k)), 6, axis=0)[:n]]
    lag = rng.integers(1, 6, size=(n, k)) if given and seed == 1 else rng.integers(1, 4, size=k)
    events = rng.random((n, k)) < 0.3
    events[-6:] = True  # decisions whose execution date would be past the end are dropped
    kept = events.copy()
    batch = plan_on(
        panel,
        plan_prices(panel, start=20),
        targets,
        first_decision=np.full(k, 2 if given else 17),
        lag=lag,
        rebalance=["on_change", "daily", "weekly", "band", "on_change"],
        events=events if given else None,
        band=np.array([np.nan, np.nan, np.nan, 0.02, np.nan]),
    )
    np.testing.assert_array_equal(events, kept)  # the caller's mask is not written to
    assert not (batch.events & (np.arange(n)[:, None] + batch.lag >= n)).any()
    assert batch.events[-7].any() and not batch.unfilled
    expected = _switches_from_events(batch.events, batch.lag, batch.targets, 20)
    assert (expected > 5).all()
    np.testing.assert_array_equal(batch.switches, expected)
    overtaken = 0
    for column in range(k):
        rows = np.flatnonzero(batch.events[:, column])
        execution = rows + batch.lag[rows, column]
        overtaken += sum(bool((execution[i + 1 :] <= x).any()) for i, x in enumerate(execution))
    assert (overtaken > 0) == (given and seed == 1), overtaken  # a lag per row overtakes some decisions
    for column in range(k):  # one allocation's targets in force (a run's weights.csv) are the batch's
        np.testing.assert_array_equal(batch.single(column).in_force(n), batch.in_force()[:, column])


def test_the_event_mask_follows_each_column_s_mode_from_its_first_decision() -> None:
    """Rule 1, column by column: nothing before the first decision, which is always an event; from it on,
    ``on_change`` where some target moved by more than 1e-12 since the previous date, ``daily`` every
    date, ``weekly``/``monthly`` the last date of each week or month, ``band`` only the first decision."""
    dates = pd.bdate_range("2022-01-03", periods=90)
    rng = np.random.default_rng(5)
    menu = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5 + 1e-13]])
    modes = ["on_change", "daily", "weekly", "monthly", "band", "on_change", "daily"]
    targets = menu[np.repeat(rng.integers(0, len(menu), size=(30, len(modes))), 3, axis=0)]
    first = np.array([0, 4, 10, 0, 7, 33, 95])  # the last one's first decision is past the end
    got = event_mask(dates, targets, first, modes)
    week, month = dates.isocalendar().week.to_numpy(), dates.month
    for k, mode in enumerate(modes):
        want = np.zeros(len(dates), dtype=bool)
        for d in range(first[k], len(dates)):
            last_of_week = d == len(dates) - 1 or week[d + 1] != week[d]
            last_of_month = d == len(dates) - 1 or month[d + 1] != month[d]
            moved = d > 0 and bool((np.abs(targets[d, k] - targets[d - 1, k]) > 1e-12).any())
            want[d] = d == first[k] or {
                "on_change": moved, "daily": True, "weekly": last_of_week, "monthly": last_of_month, "band": False
            }[mode]  # fmt: skip
        np.testing.assert_array_equal(got[:, k], want, err_msg=f"column {k} ({mode})")
    assert got[:, 0].sum() > 5 and not got[:, 6].any()
    one = event_mask(dates, targets[:, [0]], first[[0]], ["on_change"])
    np.testing.assert_array_equal(one[:, 0], got[:, 0])  # a column alone gives the same events
    shared = event_mask(dates, targets[:, :3], 4, ["band", "band", "monthly"])  # one first row for all
    np.testing.assert_array_equal(shared, event_mask(dates, targets[:, :3], np.full(3, 4), ["band", "band", "monthly"]))
    assert shared[4].all()


@pytest.mark.parametrize("shape", ["(K,)", "(1,)", "(1, K)", "(n, 1)"])
def test_a_lag_for_every_column_or_date_plans_as_the_full_lag_does(shape: str) -> None:
    """A lag given once for every column or every date is the (n, K) lag it stands for, not a smaller
    array the compiled scheduler would read past."""
    panel = random_three_asset_panel(7)
    n, a, k = len(panel.dates), len(panel.assets), 3
    menu = np.array([[1, 0, 0], [0, 1, 0], [0.3, 0.3, 0.4]], dtype=float)
    targets = menu[np.repeat(np.random.default_rng(8).integers(0, 3, size=(n // 5 + 1, k)), 5, axis=0)[:n]]
    val = valuation(panel, dividend_yields=np.zeros(a), cash_rate=0.0, start=5)
    ranks = market_rank(list(panel.markets))
    m = len(ranks)
    close, order = simulation_prices(val, panel.traded, np.array([ranks[mk] for mk in panel.markets]), m, "close")
    given = {"(K,)": np.full(k, 2), "(1,)": np.array([2]), "(1, K)": np.full((1, k), 2), "(n, 1)": np.full((n, 1), 2)}

    def plan(lag: np.ndarray):
        return plan_batch(
            targets=targets, traded=panel.traded, markets=panel.markets, dates=panel.dates,
            first_decision=np.full(k, 3), lag=lag, rebalance=["on_change"] * k, close=close[5 * m :],
            order_price=order[5 * m :], fees=np.full((n * m - 5 * m, a), 1e-3), slippage=np.zeros(a),
            init_cash=100_000.0, first_slot=5 * m,
        )  # fmt: skip

    mine, full = plan(given[shape]), plan(np.full((n, k), 2))
    assert len(full.fills) > 30
    np.testing.assert_array_equal(mine.events, full.events)
    np.testing.assert_array_equal(mine.lag, full.lag)
    for field in ("col", "idx", "size", "price", "fees"):
        np.testing.assert_array_equal(mine.fills[field], full.fills[field])


def _band_plan(lag: int, band: float = 0.05):
    """Two New York assets, 50/50 targets on every date, a band; no costs.  us2 stays at 100; us
    starts rising once the first decision has filled (row ``lag``)."""
    dates = pd.bdate_range("2021-03-01", periods=9 + lag - 1)
    path = [110.0, 121.0, 133.1, 133.1, 100.0, 100.0, 100.0]
    us = pd.Series([100.0] * (lag + 1) + path[: 9 + lag - 1 - (lag + 1)], index=dates)
    us2 = pd.Series(100.0, index=dates)
    specs = {"us": AssetSpec(symbol="US", market="us"), "us2": AssetSpec(symbol="US2", market="us")}
    panel = build_panel({"us": us, "us2": us2}, specs, price_field="close", source="t", synthetic=True)
    val = valuation(panel, dividend_yields=np.zeros(2), cash_rate=0.0, start=1)
    close, order = simulation_prices(val, panel.traded, np.zeros(2, dtype=np.int64), 1, "close")
    n = len(dates)
    return plan_batch(
        targets=np.full((n, 1, 2), 0.5),
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=np.array([0]),
        lag=np.array([lag]),
        rebalance=["band"],
        close=close[1:],
        order_price=order[1:],
        fees=np.zeros((n - 1, 2)),
        slippage=np.zeros(2),
        init_cash=100_000.0,
        first_slot=1,
        band=np.array([band]),
    )


def test_a_band_rebalances_only_when_a_weight_drifts_past_it() -> None:
    """Hand-computed: bought 50/50 at 100 on row 1 (500 units each, 100,000).
    row 2: us 110 -> 55,000 / 105,000 = 0.5238, drift 0.024: no event
    row 3: us 121 -> 60,500 / 110,500 = 0.5475, drift 0.048: no event
    row 4: us 133.1 -> 66,550 / 116,550 = 0.5710, drift 0.071 > 0.05: event, fills on row 5
    row 5: back to 50/50 of 116,550 at 133.1: 437.83 us, 582.75 us2; drift 0
    row 6: us 100 -> 43,782.9 / 102,057.9 = 0.4290, drift 0.071: event, fills on row 7
    """
    plan = _band_plan(lag=1)
    assert np.flatnonzero(plan.events[:, 0]).tolist() == [0, 4, 6]
    fills = np.sort(plan.fills, order=["idx", "col"])
    assert sorted(set((fills["idx"] + 1).tolist())) == [1, 5, 7]  # rows of the fills (idx counts from row 1)
    sold = fills[(fills["idx"] + 1 == 5) & (fills["col"] == 0)]
    assert float(sold["size"][0]) == pytest.approx(500 - 116_550 / 2 / 133.1, rel=1e-12)


def test_a_band_waits_for_pending_legs_before_it_fires_again() -> None:
    """With lag 2 everything is a row later: bought on row 2, drift 0.071 on row 5 (an event that fills
    on row 7); row 6 drifts by 0.071 too, but the legs of row 5 are pending, so it is no event.  Row
    7's fill at 100 brings the weights back: no event until the end."""
    plan = _band_plan(lag=2)
    assert np.flatnonzero(plan.events[:, 0]).tolist() == [0, 5]
    assert np.flatnonzero(_band_plan(lag=1, band=0.08).events[:, 0]).tolist() == [0]  # 0.071 < 0.08


@pytest.mark.parametrize("engine", ["rust", "numba"])
@pytest.mark.parametrize("seed", [4, 5])
def test_margin_fills_equal_vectorbt_from_orders_with_shorts(engine: str, seed: int) -> None:
    """A margin account without financing whose cash never limits a buy (dollar-neutral spreads and
    shorts, docs/shorts.md) fills as vectorbt's own ``Portfolio.from_orders(direction='both')`` does."""
    import vectorbt as vbt

    panel = random_three_asset_panel(seed)
    rng = np.random.default_rng(seed + 200)
    n, a, k = len(panel.dates), len(panel.assets), 4
    menu = np.array([[1, 0, -1], [-1, 1, 0], [0, -0.5, 0.5], [0.5, 0, 0], [0, 0, 0], [-0.3, 0.3, 0.3]], dtype=float)
    targets = menu[np.repeat(rng.integers(0, len(menu), size=(n // 8 + 1, k)), 8, axis=0)[:n]]
    val = valuation(panel, dividend_yields=np.zeros(a), cash_rate=0.02, start=5)
    m = len(market_rank(list(panel.markets)))
    asset_slot = np.array([market_rank(list(panel.markets))[mk] for mk in panel.markets])
    close, order = simulation_prices(val, panel.traded, asset_slot, m, "close")
    first_slot = 5 * m
    fees, slippage = np.full((n * m - first_slot, a), 7e-4), np.array([2e-4, 3e-4, 5e-4])
    batch = plan_batch(
        targets=targets,
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=np.full(k, 4),
        lag=np.array([1, 2, 1, 3]),
        rebalance=["on_change", "daily", "weekly", "on_change"],
        close=close[first_slot:],
        order_price=order[first_slot:],
        fees=fees,
        slippage=slippage,
        init_cash=100_000.0,
        first_slot=first_slot,
        margin=np.ones(k, dtype=bool),
    )
    size = batch.size[first_slot:]
    pf = vbt.Portfolio.from_orders(
        close=np.tile(close[first_slot:], k),
        size=size,
        size_type="targetpercent",
        direction="both",
        price=np.tile(order[first_slot:], k),
        val_price=np.tile(order[first_slot:], k),
        fees=np.tile(fees, k),
        slippage=np.tile(slippage, k),
        init_cash=100_000.0,
        cash_sharing=True,
        group_by=np.repeat(np.arange(k), a),
        call_seq="auto",
        ffill_val_price=True,
        update_value=False,
        engine=engine,
    )
    theirs = np.sort(pf.orders.values, order=["col", "idx"])
    mine = np.sort(batch.fills, order=["col", "idx"])
    assert (batch.fills["side"] == 1).sum() > 50 and len(mine) == len(theirs) > 100
    for field in ("col", "idx", "side"):
        np.testing.assert_array_equal(mine[field], theirs[field])
    for field in ("size", "price", "fees"):
        np.testing.assert_allclose(mine[field], theirs[field], rtol=1e-12, atol=0)
    assert pf.cash(group_by=np.repeat(np.arange(k), a)).to_numpy().min() > 0  # cash never limited a buy
