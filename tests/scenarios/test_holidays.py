"""Holiday scenarios: small US/HK panels with hand-set targets, run through the real pipeline.

Each table row is ``(date, US close, HK close, US target, HK target)``; ``_`` marks a market that
is closed on that date (the asset has no row there).  The first row is the decision date before
the first simulated date (``start = 1``, ``lag = 1``), so expected end-of-day values and cash
start at the second row.  No costs, 1000 of initial cash, round prices: the arithmetic is in the
comments.  Within one date Hong Kong closes first (the HK slot), New York second (the US slot).

Rules under test (``engine/execution.py``): a leg fills at the close of its market's first
session on or after the execution date; buys wait for the first session strictly after the
event's last sell slot; a later event that schedules the same asset at the same or an earlier
slot supersedes a pending leg.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from engine.config.models import AssetSpec, Costs, Execution
from engine.data.panel import LoadedPanel, build_panel
from engine.pipeline import Allocation, RunResult, run_allocations

_ = None  # market closed on that date
Row = tuple[str, float | None, float | None, float, float]
Trade = tuple[str, str, str, float, float]  # date, asset, side, quantity, price

SPECS = {"us": AssetSpec(symbol="US", market="us"), "hk": AssetSpec(symbol="HK", market="hk", currency="USD")}
COLUMN = {"us": 1, "hk": 2}  # position of each asset's close in a row


def run_rows(rows: tuple[Row, ...], rebalance: str) -> RunResult:
    dates = pd.DatetimeIndex([r[0] for r in rows])
    series = {a: pd.Series([r[c] for r in rows], index=dates, dtype="float64").dropna() for a, c in COLUMN.items()}
    panel = build_panel(series, SPECS, price_field="close", source="mem", synthetic=False)
    assert list(panel.dates) == list(dates)
    targets = np.array([[r[3], r[4]] for r in rows], dtype="float64")
    loaded = LoadedPanel(panel=panel, start=1, warmup_needed=1)
    [result] = run_allocations(
        [Allocation("strategy", "scenario", targets, rebalance)],
        loaded,
        execution=Execution(lag=1),
        costs=Costs(fee_bps=0, slippage_bps=0, hk_stamp_duty_bps=0),
        initial_cash=1000.0,
        engine="rust",
    )
    return result


def assert_trades_only_when_open(result: RunResult, rows: tuple[Row, ...]) -> None:
    """Every fill is on a date its market traded, at that date's close (no costs, no slippage)."""
    close = {(r[0], a): r[c] for r in rows for a, c in COLUMN.items()}
    for t in result.trades.itertuples():
        price = close[(t.date, t.asset)]
        assert price is not None, f"{t.asset} traded on {t.date}, when its market was closed"
        assert t.price == pytest.approx(price, rel=1e-12)


def trade_list(result: RunResult) -> list[Trade]:
    return [(t.date, t.asset, t.side, t.quantity, t.price) for t in result.trades.itertuples()]


def assert_trades(result: RunResult, expected: tuple[Trade, ...]) -> None:
    actual = trade_list(result)
    assert [t[:3] for t in actual] == [t[:3] for t in expected]
    for got, want in zip(actual, expected, strict=True):
        assert got[3:] == pytest.approx(want[3:], rel=1e-9), got


@dataclass(frozen=True)
class Scenario:
    rows: tuple[Row, ...]
    trades: tuple[Trade, ...]
    values: tuple[float, ...]  # end of each date from rows[1]
    cash: tuple[float, ...]
    rebalance: str = "on_change"


SCENARIOS = {
    "closed market never trades": Scenario(
        rows=(
            # date          US    HK   us   hk
            ("2024-01-01", 100, 50, 0.5, 0.5),  # decision: 50/50
            ("2024-01-02", _, 50, 0.5, 0.5),  # US closed. fill HK: buy 10 @ 50 (50% of 1000); US leg waits
            ("2024-01-03", 100, _, 0.5, 0.5),  # HK closed. fill US: buy 5 @ 100 with the other 500
            ("2024-01-04", 120, 60, 1.0, 0.0),  # 5*120 + 10*60 = 1200. decision: all US
            ("2024-01-05", _, 40, 1.0, 0.0),  # US closed. fill HK: sell 10 @ 40 = 400; US buy waits
            ("2024-01-08", 100, _, 1.0, 0.0),  # HK closed. fill US: 5*100 + 400 = 900 -> 9 units: buy 4 @ 100
            ("2024-01-09", 110, 45, 1.0, 0.0),  # 9*110 = 990
        ),
        trades=(
            ("2024-01-02", "hk", "buy", 10, 50),
            ("2024-01-03", "us", "buy", 5, 100),
            ("2024-01-05", "hk", "sell", 10, 40),
            ("2024-01-08", "us", "buy", 4, 100),
        ),
        # 01-05: US valued at its last close, 120: 5*120 + 400 = 1000
        values=(1000, 1000, 1200, 1000, 900, 990),
        cash=(500, 0, 0, 400, 0, 0),
    ),
    "HK to US, HK closed the next day": Scenario(
        rows=(
            ("2024-01-01", 100, 50, 0.0, 1.0),  # decision: all HK
            ("2024-01-02", 100, 50, 0.0, 1.0),  # fill HK: buy 20 @ 50
            ("2024-01-03", 100, 50, 1.0, 0.0),  # decision t: switch to US
            ("2024-01-04", 110, _, 1.0, 0.0),  # t+1, HK closed: the HK sale waits; the US buy it funds waits too
            ("2024-01-05", 120, 60, 1.0, 0.0),  # HK close: sell 20 @ 60 = 1200; NY closes later: buy 10 @ 120
            ("2024-01-08", 130, 60, 1.0, 0.0),  # 10*130 = 1300
        ),
        trades=(
            ("2024-01-02", "hk", "buy", 20, 50),
            ("2024-01-05", "hk", "sell", 20, 60),
            ("2024-01-05", "us", "buy", 10, 120),
        ),
        values=(1000, 1000, 1000, 1200, 1300),  # 01-04: 20 HK at its last close 50
        cash=(0, 0, 0, 0, 0),
    ),
    "US to HK, the HK buy waits for HK's next close": Scenario(
        rows=(
            ("2024-01-01", 100, 50, 1.0, 0.0),  # decision: all US
            ("2024-01-02", 100, 50, 1.0, 0.0),  # fill US: buy 10 @ 100
            ("2024-01-03", 100, 50, 0.0, 1.0),  # decision t: switch to HK
            ("2024-01-04", 110, 55, 0.0, 1.0),  # t+1: sell 10 US @ 110 = 1100; HK closed before that: no buy
            ("2024-01-05", 120, _, 0.0, 1.0),  # t+2, HK closed: the HK buy waits
            ("2024-01-08", 130, 40, 0.0, 1.0),  # fill HK: 1100 / 40 = 27.5 units
            ("2024-01-09", 130, 44, 0.0, 1.0),  # 27.5*44 = 1210
        ),
        trades=(
            ("2024-01-02", "us", "buy", 10, 100),
            ("2024-01-04", "us", "sell", 10, 110),
            ("2024-01-08", "hk", "buy", 27.5, 40),
        ),
        values=(1000, 1000, 1100, 1100, 1100, 1210),
        cash=(0, 0, 1100, 1100, 0, 0),
    ),
    "daily rebalance while HK is closed: the latest decision wins": Scenario(
        rebalance="daily",
        rows=(
            ("2024-01-01", 100, 50, 0.0, 1.0),  # decision: all HK
            ("2024-01-02", 100, 50, 0.0, 1.0),  # fill HK: buy 20 @ 50
            ("2024-01-03", 100, _, 0.0, 0.5),  # HK closed until 01-08. decision: half HK (leg waits for 01-08)
            ("2024-01-04", 100, _, 0.0, 0.0),  # decision: no HK, supersedes the pending half sale
            ("2024-01-05", 100, _, 0.0, 0.0),
            ("2024-01-08", 100, 60, 0.0, 0.0),  # fill HK: one sale of all 20 @ 60 = 1200
            ("2024-01-09", 100, 70, 0.0, 0.0),  # cash earns nothing, HK's rise is missed
        ),
        trades=(
            ("2024-01-02", "hk", "buy", 20, 50),
            ("2024-01-08", "hk", "sell", 20, 60),
        ),
        values=(1000, 1000, 1000, 1000, 1200, 1200),
        cash=(0, 0, 0, 0, 1200, 1200),
    ),
    "pending US buy superseded by a later all-cash decision": Scenario(
        rebalance="daily",
        rows=(
            ("2024-01-01", 100, 50, 0.0, 1.0),  # decision: all HK
            ("2024-01-02", 100, 50, 0.0, 1.0),  # fill HK: buy 20 @ 50
            ("2024-01-03", 100, 50, 1.0, 0.0),  # decision: switch to US
            ("2024-01-04", 100, _, 0.0, 0.0),  # HK closed: the HK sale and the US buy wait. decision: all cash
            ("2024-01-05", 110, _, 0.0, 0.0),  # the all-cash US leg (nothing to sell) drops the pending US buy
            ("2024-01-08", 120, 60, 0.0, 0.0),  # fill HK: sell 20 @ 60 = 1200; no US buy
            ("2024-01-09", 130, 70, 0.0, 0.0),
        ),
        trades=(
            ("2024-01-02", "hk", "buy", 20, 50),
            ("2024-01-08", "hk", "sell", 20, 60),
        ),
        values=(1000, 1000, 1000, 1000, 1200, 1200),
        cash=(0, 0, 0, 0, 1200, 1200),
    ),
    "weights below 1 leave cash, {} is all cash, cash earns nothing": Scenario(
        rows=(
            ("2024-01-01", 100, 50, 0.5, 0.0),  # decision: half US, half cash
            ("2024-01-02", 100, 50, 0.5, 0.0),  # fill US: buy 5 @ 100 = 500; 500 stays cash
            ("2024-01-03", 200, 50, 0.0, 0.0),  # 500 + 5*200 = 1500. decision: {} (all cash)
            ("2024-01-04", 300, _, 0.0, 0.0),  # fill US: sell 5 @ 300 = 1500 -> 2000 cash
            ("2024-01-05", 50, 20, 0.0, 0.0),  # prices crash, cash stays 2000
        ),
        trades=(
            ("2024-01-02", "us", "buy", 5, 100),
            ("2024-01-04", "us", "sell", 5, 300),
        ),
        values=(1000, 1500, 2000, 2000),
        cash=(500, 500, 2000, 2000),
    ),
    "HK never reopens: the HK buy never fills": Scenario(
        rows=(
            ("2024-01-01", 100, 50, 1.0, 0.0),  # decision: all US
            ("2024-01-02", 100, 50, 1.0, 0.0),  # fill US: buy 10 @ 100
            ("2024-01-03", 100, 50, 1.0, 0.0),
            ("2024-01-04", 100, 50, 0.0, 1.0),  # decision: switch to HK
            ("2024-01-05", 110, _, 0.0, 1.0),  # fill US: sell 10 @ 110 = 1100; HK closed
            ("2024-01-08", 120, _, 0.0, 1.0),  # last date, HK still closed: the HK buy never fills
        ),
        trades=(
            ("2024-01-02", "us", "buy", 10, 100),
            ("2024-01-05", "us", "sell", 10, 110),
        ),
        values=(1000, 1000, 1000, 1100, 1100),
        cash=(0, 0, 0, 1100, 1100),
    ),
}


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=list(SCENARIOS))
def test_scenario(scenario: Scenario) -> None:
    result = run_rows(scenario.rows, scenario.rebalance)
    assert list(result.dates.strftime("%Y-%m-%d")) == [r[0] for r in scenario.rows[1:]]
    assert_trades_only_when_open(result, scenario.rows)
    assert_trades(result, scenario.trades)
    assert result.value == pytest.approx(np.array(scenario.values, dtype=float), abs=1e-9)
    assert result.cash == pytest.approx(np.array(scenario.cash, dtype=float), abs=1e-9)
    # value = cash + holdings valued at each asset's last known close
    assert result.cash + result.asset_value.sum(axis=1) == pytest.approx(result.value, abs=1e-9)


def test_order_that_never_fills_is_noted() -> None:
    result = run_rows(SCENARIOS["HK never reopens: the HK buy never fills"].rows, "on_change")
    assert any("hk" in note and "2024-01-04" in note for note in result.notes), result.notes


def test_pending_buy_is_not_lost_when_a_later_event_rebalances() -> None:
    rows: tuple[Row, ...] = (
        ("2024-01-01", 100, 50, 0.0, 1.0),  # decision: all HK
        ("2024-01-02", 100, 50, 0.0, 1.0),  # fill HK: buy 20 @ 50
        ("2024-01-03", 100, 50, 1.0, 0.0),  # decision: switch to US; HK closed for 3 dates, both legs wait
        ("2024-01-04", 100, _, 0.5, 0.5),  # decision: 50/50
        ("2024-01-05", 100, _, 0.5, 0.5),
        ("2024-01-08", 100, _, 0.5, 0.5),
        ("2024-01-09", 100, 50, 0.5, 0.5),  # HK close: sell 10 @ 50 = 500; NY close: buy 5 US @ 100
        ("2024-01-10", 100, 50, 0.5, 0.5),  # 5*100 + 10*50 = 1000, no cash
    )
    result = run_rows(rows, "on_change")
    assert_trades_only_when_open(result, rows)
    assert_trades(
        result,
        (
            ("2024-01-02", "hk", "buy", 20, 50),
            ("2024-01-09", "hk", "sell", 10, 50),
            ("2024-01-09", "us", "buy", 5, 100),
        ),
    )
    assert result.cash[-1] == pytest.approx(0.0, abs=1e-9)
