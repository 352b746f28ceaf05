"""Seesaw against one plain ``vbt.Portfolio.from_orders`` call, wherever the traded assets share one market.

When every traded asset trades on the same sessions, the execution rules of docs/methodology.md reduce to what a
plain vectorbt user writes: each event's targets are ordered, all at once, at the close of the
first session on or after its execution date (``lag`` dates of the timeline after the decision);
a later event landing on the same session replaces an earlier one; within a close vectorbt sells
first (``call_seq='auto'``) and buys are limited to cash.  So Seesaw's end-of-day equity must equal
``pf.value()`` of one ``from_orders`` call (target percent, cash sharing, the same fees and
slippage) on every session, carried forward over the other market's sessions, to 1e-9, with the
same fills.  The reference side below uses pandas and vectorbt only: the event dates, sessions
and sizes are worked out here from that description, not from ``engine/``.

Cases: the real data (SPY/EWH/QQQ in New York, the Hang Seng with 2800.HK in Hong Kong) and
hypothesis-generated panels, target paths, lags, schedules and costs, with the other market's
sessions on the timeline (holidays of the traded market included).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config.models import AssetSpec, Costs, Execution
from engine.data.panel import LoadedPanel, build_panel
from engine.pipeline import Allocation, run_allocations
from tests.helpers import real_frames

RTOL = 1e-9


# --------------------------------------------------------------------------- the plain vectorbt side


def events(targets: pd.DataFrame, first: int, rebalance: str) -> list[int]:
    """Rows of the timeline on which an event is decided (README, `execution.rebalance`)."""
    n = len(targets)
    values = targets.to_numpy()
    if rebalance == "daily":
        rows = list(range(first, n))
    elif rebalance == "on_change":
        rows = [d for d in range(first + 1, n) if np.any(np.abs(values[d] - values[d - 1]) > 1e-12)]
    else:
        period = targets.index.to_period("W" if rebalance == "weekly" else "M")
        rows = [d for d in range(first, n) if d == n - 1 or period[d] != period[d + 1]]
    return sorted({first, *rows})


def plain_vectorbt(
    closes: pd.DataFrame, targets: pd.DataFrame, *, start: int, lag: int, rebalance: str, fees, slippage, cash: float
) -> tuple[pd.Series, pd.DataFrame]:
    """One ``from_orders`` call on the traded market's sessions from ``start``; value on every date from ``start``."""
    sessions = closes.index[start:][closes.iloc[start:].notna().all(axis=1).to_numpy()]
    size = pd.DataFrame(np.nan, index=sessions, columns=closes.columns)
    for d in events(targets, max(start - lag, 0), rebalance):
        execute = d + lag
        if execute >= len(closes):
            continue
        at = sessions.searchsorted(closes.index[execute])
        if at < len(sessions):
            size.iloc[at] = targets.iloc[d].to_numpy()
    pf = vbt.Portfolio.from_orders(
        close=closes.loc[sessions],
        size=size,
        size_type="targetpercent",
        direction="longonly",
        fees=np.asarray(fees, dtype=float),
        slippage=np.asarray(slippage, dtype=float),
        init_cash=cash,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        freq="1D",
        engine="numba",
    )
    value = pf.value().reindex(closes.index[start:]).ffill().fillna(cash)  # cash until the first session
    orders = pf.orders.values  # vectorbt's raw order records (records_readable warns under pandas 3)
    fills = pd.DataFrame(
        {
            "date": sessions[orders["idx"]].strftime("%Y-%m-%d"),
            "asset": np.asarray(closes.columns, dtype=object)[orders["col"]],
            "quantity": orders["size"],
        }
    )
    return value, fills


# --------------------------------------------------------------------------- the engine side


def engine_run(
    closes: pd.DataFrame,
    markets: dict[str, str],
    targets: pd.DataFrame,
    *,
    start: int,
    lag: int,
    rebalance: str,
    fee_bps: float,
    slippage_bps: float,
    cash: float,
    extra: dict[str, pd.Series] | None = None,
):
    """Seesaw on the same closes: only the traded assets' targets, and any signal-only series in ``extra``."""
    series = {a: closes[a].dropna() for a in closes}
    specs = {a: AssetSpec(symbol=a, market=markets[a], instrument="etf") for a in closes}
    for name, s in (extra or {}).items():
        series[name] = s
        specs[name] = AssetSpec(symbol=name, market="hk" if markets[next(iter(closes))] == "us" else "us")
    panel = build_panel(
        series,
        specs,
        price_field="close",
        source="test",
        synthetic=False,
        base_currency="HKD" if markets[next(iter(closes))] == "hk" else "USD",  # no currency conversion
        signal_only=tuple(extra or ()),
    )
    assert panel.dates.equals(closes.index)
    full = np.zeros((len(panel.dates), len(panel.assets)))
    for j, a in enumerate(panel.assets):
        if a in targets:
            full[:, j] = targets[a].to_numpy()
    (res,) = run_allocations(
        [Allocation("strategy", "t", full, rebalance)],
        LoadedPanel(panel=panel, start=start, warmup_needed=0),
        execution=Execution(lag=lag, rebalance=rebalance),
        costs=Costs(fee_bps=fee_bps, slippage_bps=slippage_bps),
        initial_cash=cash,
        engine="rust",
        assets=specs,
    )
    return res


def assert_same(res, value: pd.Series, fills: pd.DataFrame) -> None:
    np.testing.assert_allclose(res.value, value.to_numpy(), rtol=RTOL, atol=0)
    mine = res.trades[["date", "asset", "quantity"]].reset_index(drop=True)
    theirs = fills.sort_values(["date", "asset"], kind="stable").reset_index(drop=True)
    mine = mine.sort_values(["date", "asset"], kind="stable").reset_index(drop=True)
    assert mine[["date", "asset"]].equals(theirs[["date", "asset"]])
    np.testing.assert_allclose(mine["quantity"], theirs["quantity"], rtol=RTOL)


# --------------------------------------------------------------------------- real data


def _closes(data_dir: Path, symbols: dict[str, str], field: str, first: str, last: str) -> pd.DataFrame:
    frames = real_frames(data_dir, symbols.values())
    out = pd.DataFrame({a: frames[s][field] for a, s in symbols.items()}).loc[first:last]
    return out.dropna(how="all")


def _relative_momentum_targets(closes: pd.DataFrame, a: str, b: str, window: int) -> pd.DataFrame:
    """All in ``a`` while its trailing return beats ``b``'s, else all in ``b`` (cash while warming up)."""
    known = closes.ffill()
    mom = known[a] / known[a].shift(window) - known[b] / known[b].shift(window)
    out = pd.DataFrame(0.0, index=closes.index, columns=closes.columns)
    out.loc[mom > 0, a] = 1.0
    out.loc[mom <= 0, b] = 1.0
    return out


@pytest.mark.realdata
def test_spy_ewh_relative_momentum_matches_one_from_orders_call(data_dir: Path) -> None:
    """The issue's case: a 63-day SPY/EWH rotation, 10 bps per side, 2000-2024, switching at one close."""
    closes = _closes(data_dir, {"spy": "SPY", "ewh": "EWH"}, "Adj Close", "2000-01-01", "2024-12-31")
    targets = _relative_momentum_targets(closes, "spy", "ewh", 63)
    kw = dict(start=64, lag=1, rebalance="on_change", cash=100_000.0)
    res = engine_run(closes, {"spy": "us", "ewh": "us"}, targets, fee_bps=10, slippage_bps=0, **kw)
    value, fills = plain_vectorbt(closes, targets, fees=10e-4, slippage=0.0, **kw)
    assert_same(res, value, fills)
    # a switch sells and buys at the same close: no date ends the day in cash
    held = res.asset_value.sum(axis=1) / res.value
    assert held.min() > 0.99


@pytest.mark.realdata
@pytest.mark.parametrize("rebalance", ["monthly", "weekly", "daily"])
def test_three_us_etfs_with_partial_weights_match_from_orders(data_dir: Path, rebalance: str) -> None:
    closes = _closes(data_dir, {"spy": "SPY", "qqq": "QQQ", "ewh": "EWH"}, "Adj Close", "2005-01-01", "2012-12-31")
    mom = _relative_momentum_targets(closes, "qqq", "ewh", 42)
    targets = 0.5 * mom.assign(spy=0.0) + pd.DataFrame({"spy": 0.3, "qqq": 0.0, "ewh": 0.0}, index=closes.index)
    kw = dict(start=50, lag=2, rebalance=rebalance, cash=50_000.0)
    res = engine_run(closes, dict.fromkeys(closes, "us"), targets, fee_bps=5, slippage_bps=3, **kw)
    value, fills = plain_vectorbt(closes, targets, fees=5e-4, slippage=3e-4, **kw)
    assert_same(res, value, fills)


@pytest.mark.realdata
def test_hang_seng_and_tracker_fund_in_hong_kong_match_from_orders(data_dir: Path) -> None:
    """Both legs on Hong Kong's sessions, with the S&P 500 as a signal-only series adding New York dates."""
    closes = _closes(data_dir, {"hsi": "^HSI", "tracker": "2800.HK"}, "Close", "2010-01-01", "2016-12-31")
    closes = closes.dropna()  # the two Hong Kong series on their common sessions
    spx = real_frames(data_dir, ["^GSPC"])["^GSPC"]["Close"].loc["2010-01-01":"2016-12-31"]
    timeline = closes.index.union(spx.index)
    closes = closes.reindex(timeline)
    targets = _relative_momentum_targets(closes, "hsi", "tracker", 21) * 0.8
    kw = dict(start=30, lag=1, rebalance="on_change", cash=1_000_000.0)
    res = engine_run(closes, dict.fromkeys(closes, "hk"), targets, fee_bps=8, slippage_bps=5, extra={"spx": spx}, **kw)
    value, fills = plain_vectorbt(closes, targets, fees=8e-4, slippage=5e-4, **kw)
    assert_same(res, value, fills)


# --------------------------------------------------------------------------- generated panels


@st.composite
def single_market_cases(draw):
    """A traded market with 2-3 assets, the other market's sessions on the timeline, a target path."""
    n = draw(st.integers(30, 90))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    dates = pd.bdate_range("2021-01-04", periods=n)
    market = draw(st.sampled_from(["us", "hk"]))
    closed = rng.random(n) < draw(st.sampled_from([0.0, 0.1, 0.25]))  # the traded market's holidays
    closed[0] = False
    other_closed = rng.random(n) < 0.1
    other_closed[closed] = False  # every date of the timeline is a session of one market at least
    n_assets = draw(st.integers(2, 3))
    names = ["a", "b", "c"][:n_assets]
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(n, n_assets)), axis=0))
    closes = pd.DataFrame(prices, index=dates, columns=names)
    closes[closed] = np.nan
    other = pd.Series(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), index=dates)[~other_closed]
    # piecewise-constant targets: full switches, partial weights and cash
    menu = [np.eye(n_assets)[i] for i in range(n_assets)] + [rng.dirichlet(np.ones(n_assets + 1))[:n_assets]]
    menu.append(np.zeros(n_assets))
    change = draw(st.sampled_from([0.05, 0.15, 0.5]))  # chance that the target changes on a date
    path = np.empty((n, n_assets))
    current = menu[draw(st.integers(0, len(menu) - 1))]
    for d in range(n):
        if rng.random() < change:
            current = menu[rng.integers(len(menu))]
        path[d] = current
    targets = pd.DataFrame(path, index=dates, columns=names)
    lag = draw(st.integers(1, 3))
    return dict(
        closes=closes,
        other=other,
        market=market,
        targets=targets,
        start=draw(st.integers(lag, 10)),
        lag=lag,
        rebalance=draw(st.sampled_from(["on_change", "daily", "weekly", "monthly"])),
        fee_bps=draw(st.sampled_from([0.0, 5.0, 25.0])),
        slippage_bps=draw(st.sampled_from([0.0, 2.0, 10.0])),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=single_market_cases())
def test_generated_single_market_cases_match_from_orders(case) -> None:
    closes, targets = case["closes"], case["targets"]
    kw = dict(start=case["start"], lag=case["lag"], rebalance=case["rebalance"], cash=100_000.0)
    res = engine_run(
        closes,
        dict.fromkeys(closes, case["market"]),
        targets,
        fee_bps=case["fee_bps"],
        slippage_bps=case["slippage_bps"],
        extra={"other": case["other"]},
        **kw,
    )
    value, fills = plain_vectorbt(
        closes, targets, fees=case["fee_bps"] * 1e-4, slippage=case["slippage_bps"] * 1e-4, **kw
    )
    assert_same(res, value, fills)
