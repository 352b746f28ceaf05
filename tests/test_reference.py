"""tests/reference.py alone: tiny hand-computed cases, the arithmetic in the comments (bt-style).

No engine import: these pin the reference to the written contract, so that it can check the engine.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.reference import ReferenceRun, backtest, hk_stamp_duty_bps

REL = 1e-12
US_HK = {"US": "us", "HK": "hk"}
SAME_CCY = {"US": "USD", "HK": "USD"}  # keep FX out of the timing tests


def frame(dates: list[str], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.DatetimeIndex(dates), dtype=float)


def approx(x: float) -> object:
    return pytest.approx(x, rel=REL, abs=1e-9)


def fills(run: ReferenceRun) -> list[tuple[str, str, str]]:
    t = run.trades
    return [(d.strftime("%Y-%m-%d"), a, s) for d, a, s in zip(t["date"], t["asset"], t["side"], strict=True)]


# --------------------------------------------------------------------------------------------------
# one asset


def test_buy_and_hold_with_fees_and_slippage() -> None:
    dates = ["2024-01-01", "2024-01-02", "2024-01-03"]
    closes = frame(dates, US=[100, 110, 121])
    targets = frame(dates, US=[1, 1, 1])
    run = backtest(
        closes,
        markets={"US": "us"},
        targets=targets,
        start=pd.Timestamp("2024-01-02"),
        fee_bps=10,
        slippage_bps=20,
    )
    # decided on 01-01 (lag 1 before the start), filled at the close of 01-02: 110 x 1.002 = 110.22.
    # Target 100000 / 110 = 909.09 units would cost 100200 + 100.2 fees > 100000: partial fill,
    # 100000 / 1.001 = 99900.0999 on the asset, the rest (99.9001) fees.
    spend = 100_000 / 1.001
    units = spend / 110.22
    t = run.trades
    assert len(t) == 1 and t.loc[0, "side"] == "buy" and t.loc[0, "date"] == pd.Timestamp("2024-01-02")
    assert t.loc[0, "price"] == approx(110.22)
    assert t.loc[0, "quantity"] == approx(units)
    assert t.loc[0, "fees"] == approx(100_000 - spend)
    eq = run.equity
    assert list(eq.index) == list(pd.DatetimeIndex(dates[1:]))
    assert list(eq.columns) == ["value", "cash", "US"]
    assert eq["cash"].iloc[0] == 0.0
    assert eq["value"].tolist() == [approx(units * 110), approx(units * 121)]

    m = run.metrics
    v0, v1 = units * 110, units * 121
    r = np.array([v0 / 100_000 - 1, v1 / v0 - 1])  # the first return includes the costs
    assert m["final_value"] == approx(v1)
    assert m["total_return"] == approx(v1 / 100_000 - 1)
    assert m["cagr"] == approx((v1 / 100_000) ** 365.25 - 1)  # one calendar day
    assert m["periods_per_year"] == approx(365.25)  # (2 - 1) / (1 / 365.25)
    assert m["ann_vol"] == approx(np.std(r, ddof=1) * math.sqrt(365.25))
    assert m["sharpe"] == approx(r.mean() / np.std(r, ddof=1) * math.sqrt(365.25))
    assert m["sortino"] == approx(r.mean() / math.sqrt(min(r[0], 0) ** 2 / 2) * math.sqrt(365.25))
    assert m["max_drawdown"] == approx(v0 / 100_000 - 1)  # the initial cash is the first peak
    assert m["calmar"] == approx(m["cagr"] / abs(v0 / 100_000 - 1))
    assert m["fees_paid"] == approx(100_000 - spend)
    assert m["turnover"] == approx(spend / 2 / ((v0 + v1) / 2) * 365.25)
    assert m["trades"] == 1
    assert m["cash_interest"] == 0 and m["risk_free_return"] == 0


def test_dividend_yield_accrues_daily_and_is_in_the_fill_price() -> None:
    dates = ["2024-01-01", "2024-01-02", "2024-01-03", "2025-01-02"]
    closes = frame(dates, US=[100, 100, 100, 100])
    targets = frame(dates, US=[1, 1, 0, 0])
    run = backtest(
        closes, markets={"US": "us"}, targets=targets, start=pd.Timestamp("2024-01-02"), dividend_yield={"US": 0.1}
    )
    # 01-02 is the start: G = 1, 1000 units at 100.  01-03: G = 1.1 ** (1 / 365.25).
    # The exit decided on 01-03 fills on 2025-01-02, 366 days after the start: 100 x 1.1 ** (366 / 365.25).
    g1 = 1.1 ** (1 / 365.25)
    g366 = 1.1 ** (366 / 365.25)
    assert run.equity["value"].tolist() == [approx(100_000), approx(100_000 * g1), approx(100_000 * g366)]
    assert fills(run) == [("2024-01-02", "US", "buy"), ("2025-01-02", "US", "sell")]
    assert run.trades["price"].tolist() == [approx(100), approx(100 * g366)]
    assert run.trades["quantity"].tolist() == [approx(1000), approx(1000)]
    assert run.equity["cash"].iloc[-1] == approx(100_000 * g366)


# --------------------------------------------------------------------------------------------------
# switches


def test_same_market_switch_at_one_close() -> None:
    dates = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    closes = frame(dates, A=[100, 100, 120, 150], B=[50, 50, 40, 60])
    targets = frame(dates, A=[1, 1, 0, 0], B=[0, 0, 1, 1])
    run = backtest(
        closes, markets={"A": "us", "B": "us"}, targets=targets, start=pd.Timestamp("2024-01-02"), fee_bps=10
    )
    # 01-02: buy A, partial for the fee: 100000 / 1.001 / 100 units.
    a = 100_000 / 1.001 / 100
    # decided 01-03 (A 100% > target 0: a sale; B a buy), both at the close of 01-04, the sale first.
    # Slot value = a x 150.  Sell a x 150 less 0.1% fee; B's target (a x 150 / 60 units) costs more than
    # that cash with its fee: partial, cash / 1.001 on B.
    cash = a * 150 * (1 - 0.001)
    b = cash / 1.001 / 60
    assert fills(run) == [("2024-01-02", "A", "buy"), ("2024-01-04", "A", "sell"), ("2024-01-04", "B", "buy")]
    assert run.trades["quantity"].tolist() == [approx(a), approx(a), approx(b)]
    assert run.trades["fees"].tolist() == [approx(100_000 - a * 100), approx(a * 150 * 0.001), approx(cash - b * 60)]
    eq = run.equity
    assert eq["A"].tolist() == [approx(a * 100), approx(a * 120), 0.0]
    assert eq["value"].iloc[-1] == approx(b * 60)
    assert eq["cash"].iloc[-1] == 0.0


DATES5 = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
US5 = [100, 100, 110, 120, 130]
HK5 = [20, 20, 22, 25, 30]


def test_us_to_hk_sells_at_new_york_close_and_buys_at_hong_kong_next_close() -> None:
    closes = frame(DATES5, US=US5, HK=HK5)
    targets = frame(DATES5, US=[1, 1, 0, 0, 0], HK=[0, 0, 1, 1, 1])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-01-02"))
    # 01-02 NY: 1000 US at 100.  Decided 01-03 (value 110000), executed from 01-04:
    # sell 1000 US at New York's close of 01-04 (120000 cash); Hong Kong closed 13 hours earlier,
    # so the HK buy waits for Hong Kong's close of 01-05: 120000 / 30 = 4000 units.
    assert fills(run) == [("2024-01-02", "US", "buy"), ("2024-01-04", "US", "sell"), ("2024-01-05", "HK", "buy")]
    assert run.trades["quantity"].tolist() == [approx(1000), approx(1000), approx(4000)]
    assert run.equity["value"].tolist() == [approx(100_000), approx(110_000), approx(120_000), approx(120_000)]
    assert run.equity["cash"].iloc[2] == approx(120_000)
    assert run.equity["HK"].iloc[3] == approx(120_000)


def test_hk_to_us_sells_and_buys_on_the_same_date() -> None:
    closes = frame(DATES5, US=US5, HK=HK5)
    targets = frame(DATES5, US=[0, 0, 1, 1, 1], HK=[1, 1, 0, 0, 0])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-01-02"))
    # 01-02 HK: 100000 / 20 = 5000 HK.  Decided 01-03; 01-04: sell 5000 at Hong Kong's close (125000),
    # buy US at New York's close the same date: 125000 / 120 units.
    us = 125_000 / 120
    assert fills(run) == [("2024-01-02", "HK", "buy"), ("2024-01-04", "HK", "sell"), ("2024-01-04", "US", "buy")]
    assert run.trades["quantity"].tolist() == [approx(5000), approx(5000), approx(us)]
    assert run.equity["value"].tolist() == [approx(100_000), approx(110_000), approx(125_000), approx(us * 130)]


def test_monthly_60_40_drift_turns_a_leg_into_a_sale() -> None:
    dates = ["2024-01-29", "2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-05"]
    closes = frame(dates, US=[100, 100, 110, 110, 120, 120], HK=[50, 50, 45, 50, 50, 50])
    targets = frame(dates, US=[0.6, 0.6, 0.5, 0.5, 0.5, 0.5], HK=[0.4] * 6)
    run = backtest(
        closes,
        markets=US_HK,
        currencies=SAME_CCY,
        targets=targets,
        start=pd.Timestamp("2024-01-30"),
        rebalance="monthly",
    )
    # Events: 01-29 (first decision), 01-31 (end of January); 02-05 ends February but would execute
    # past the index: dropped.  The target change on 01-30 is not an event.
    # 01-30 HK: 40000 / 50 = 800 HK; NY: value 60000 + 800 x 50 = 100000, 60000 / 100 = 600 US.
    # 01-31: US 66000, HK 36000, total 102000: US weight 0.647 > 0.5 (a sale), HK 0.353 < 0.4 (a buy).
    # 02-01 NY: value 66000 + 800 x 50 = 106000; US to 53000 / 110 = 481.8181 units: sell 118.18 (13000 cash).
    us = 53_000 / 110
    # 02-02 HK (the first HK close after the sale): US worth New York's close of 02-01 (110, not 120):
    # value 13000 + 53000 + 40000 = 106000, HK to 42400 / 50 = 848 units: buy 48 for 2400.
    assert fills(run) == [
        ("2024-01-30", "HK", "buy"),
        ("2024-01-30", "US", "buy"),
        ("2024-02-01", "US", "sell"),
        ("2024-02-02", "HK", "buy"),
    ]
    assert run.trades["quantity"].tolist() == [approx(800), approx(600), approx(600 - us), approx(48)]
    eq = run.equity
    assert eq["cash"].tolist() == [0.0, 0.0, approx(13_000), approx(10_600), approx(10_600)]
    assert eq["value"].iloc[-1] == approx(10_600 + us * 120 + 848 * 50)


# --------------------------------------------------------------------------------------------------
# holidays, superseding, lag


def test_hong_kong_holiday_defers_the_sale_and_the_buy_it_funds() -> None:
    # Fri, Mon, Tue (Hong Kong holiday), Wed, Thu
    dates = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
    closes = frame(dates, US=[100, 100, 105, 110, 120], HK=[20, 20, np.nan, 25, 26])
    targets = frame(dates, US=[0, 1, 1, 1, 1], HK=[1, 0, 0, 0, 0])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-03-04"))
    # Mon HK: 5000 HK at 20.  Decided Mon: HK -> US.  Tue: HK closed, the sale waits and so does the
    # US buy (New York trades Tuesday, but the buy waits for the sale that funds it).
    # Wed: sell 5000 at 25 (125000), buy 125000 / 110 US at New York's close.
    assert fills(run) == [("2024-03-04", "HK", "buy"), ("2024-03-06", "HK", "sell"), ("2024-03-06", "US", "buy")]
    assert run.equity["HK"].tolist() == [approx(100_000), approx(100_000), 0.0, 0.0]  # carried 20 on Tue
    assert run.equity["value"].iloc[-1] == approx(125_000 / 110 * 120)


def test_a_sale_that_never_executes_blocks_its_buys() -> None:
    dates = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]
    closes = frame(dates, US=[100, 100, 105, 110], HK=[20, 20, np.nan, np.nan])
    targets = frame(dates, US=[0, 1, 1, 1], HK=[0.5, 0, 0, 0])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-03-04"))
    # Mon: 2500 HK at 20, 50000 cash.  Mon decides US 100%: Hong Kong never trades again, so the HK
    # sale never executes and neither does the US buy (though the 50000 cash could pay for part of it).
    assert fills(run) == [("2024-03-04", "HK", "buy")]
    assert run.equity["cash"].tolist() == [approx(50_000)] * 3
    assert run.equity["value"].tolist() == [approx(100_000)] * 3


def test_superseding_drops_a_pending_leg_at_the_same_slot() -> None:
    # Fri, Mon, Tue, Wed (Hong Kong holiday Tue and Wed), Thu
    dates = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
    closes = frame(dates, US=[100, 100, 100, 110, 120], HK=[20, 20, np.nan, np.nan, 25])
    targets = frame(dates, US=[0, 0, 0.5, 0.5, 0.5], HK=[0, 1, 0, 0, 0])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-03-04"))
    # Fri: all cash, no legs.  Mon decides HK 100%: the buy waits for Hong Kong's close of Thu.
    # Tue decides US 50%: HK (pending) gets a leg at target 0, also at Thu's HK close: it drops the
    # pending buy (which would otherwise spend the 50000 left).  US buys at New York's close of Wed:
    # 50000 / 110 units.  Thu: the HK leg trades nothing.
    us = 50_000 / 110
    assert fills(run) == [("2024-03-06", "US", "buy")]
    assert run.trades["quantity"].tolist() == [approx(us)]
    assert run.equity["cash"].tolist() == [approx(100_000), approx(100_000), approx(50_000), approx(50_000)]
    assert run.equity["value"].iloc[-1] == approx(50_000 + us * 120)


def test_lag_two_and_a_pending_leg_at_an_earlier_slot_fills_first() -> None:
    # Mon..Fri, both markets open
    dates = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
    closes = frame(dates, US=[100, 100, 100, 125, 125], HK=[20, 20, 20, 20, 20])
    targets = frame(dates, US=[0, 1, 0, 0, 0], HK=[0, 0, 1, 1, 1])
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-03-06"), lag=2)
    # First decision: Mon (two rows before the start Wed), all cash.  Tue decides US 100%: a buy at
    # New York's close of Thu (lag 2).  Wed decides HK 100% (executes from Fri): Thu's US buy is pending,
    # not held, so US weighs 0 and its target-0 leg is a buy too: at New York's close of Fri, a later
    # slot than the pending buy, which stays and fills first (Thu: 100000 / 125 = 800 US).
    # Fri HK: value = 800 x 125 (US at Thu's close), target 100000 / 20 HK units but no cash: rejected.
    # Fri NY: US to 0, sold at 125: all cash.
    assert fills(run) == [("2024-03-07", "US", "buy"), ("2024-03-08", "US", "sell")]
    assert run.trades["quantity"].tolist() == [approx(800), approx(800)]
    assert run.equity["cash"].tolist() == [approx(100_000), 0.0, approx(100_000)]


def test_lag_zero_us_at_the_decision_close_hk_at_the_next_close() -> None:
    closes = frame(DATES5[:3], US=[100, 110, 110], HK=[20, 25, 25])
    targets = frame(DATES5[:3], US=[0.5] * 3, HK=[0.5] * 3)
    run = backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp("2024-01-01"), lag=0)
    # Decided after both closes of 01-01: US at that very close: 50000 / 100 = 500 US.
    # HK at Hong Kong's next close (01-02): value 50000 + 500 x 100 (US at 01-01's close) = 100000,
    # 50000 / 25 = 2000 HK.
    assert fills(run) == [("2024-01-01", "US", "buy"), ("2024-01-02", "HK", "buy")]
    assert run.trades["quantity"].tolist() == [approx(500), approx(2000)]
    assert run.equity["value"].tolist() == [approx(100_000), approx(105_000), approx(105_000)]


# --------------------------------------------------------------------------------------------------
# next_open


def test_next_open_fills_at_the_open_and_values_at_the_close() -> None:
    closes = frame(DATES5, US=US5, HK=HK5)
    opens = frame(DATES5, US=[99, 104, 108, 115, 125], HK=[19, 21, 21, 24, 28])
    targets = frame(DATES5, US=[0, 0, 1, 0, 0], HK=[1, 1, 0, 1, 1])
    run = backtest(
        closes,
        markets=US_HK,
        currencies=SAME_CCY,
        targets=targets,
        start=pd.Timestamp("2024-01-02"),
        fill="next_open",
        opens=opens,
    )
    # 01-02 HK open: 100000 / 21 HK.  End 01-02: x 20.
    hk = 100_000 / 21
    # Decided 01-03 (HK -> US): 01-04 HK open sells at 24; NY open (the HK close 25 is known, but HK
    # is sold): buys hk x 24 / 115 US.
    us = hk * 24 / 115
    # Decided 01-04 (US -> HK): 01-05 NY open sells at 125; the HK buy waits for the next HK open: none.
    assert fills(run) == [
        ("2024-01-02", "HK", "buy"),
        ("2024-01-04", "HK", "sell"),
        ("2024-01-04", "US", "buy"),
        ("2024-01-05", "US", "sell"),
    ]
    assert run.trades["price"].tolist() == [approx(21), approx(24), approx(115), approx(125)]
    assert run.equity["value"].tolist() == [
        approx(hk * 20),
        approx(hk * 22),
        approx(us * 120),
        approx(us * 125),
    ]


def test_next_open_lag_zero_never_fills_on_the_decision_date() -> None:
    dates = DATES5[:2]
    closes = frame(dates, US=[100, 110])
    opens = frame(dates, US=[90, 105])
    targets = frame(dates, US=[1, 1])
    run = backtest(
        closes,
        markets={"US": "us"},
        targets=targets,
        start=pd.Timestamp(dates[0]),
        lag=0,
        fill="next_open",
        opens=opens,
    )
    # decided after the close of 01-01: the first open after it is 01-02's (105).
    assert fills(run) == [("2024-01-02", "US", "buy")]
    assert run.equity["value"].tolist() == [approx(100_000), approx(100_000 / 105 * 110)]


# --------------------------------------------------------------------------------------------------
# cash, currency, costs


def test_constant_cash_rate() -> None:
    dates = ["2024-03-01", "2024-03-04", "2024-03-05"]  # Fri, Mon, Tue
    closes = frame(dates, US=[100, 100, 100])
    targets = frame(dates, US=[0, 0, 0])
    run = backtest(closes, markets={"US": "us"}, targets=targets, start=pd.Timestamp(dates[0]), cash_rate=0.0365)
    # (1 + 0.0365 / 365) = 1.0001 a calendar day: 3 days to Monday, 1 to Tuesday.
    assert run.equity["value"].tolist() == [approx(100_000), approx(100_000 * 1.0001**3), approx(100_000 * 1.0001**4)]
    m = run.metrics
    assert m["cash_interest"] == approx(100_000 * (1.0001**4 - 1))
    assert m["risk_free_return"] == approx(1.0001**4 - 1)
    assert math.isnan(m["sharpe"])  # cash earns exactly the risk-free rate: no excess variation
    assert m["trades"] == 0 and m["max_drawdown"] == 0


def test_cash_rate_series_in_percent_is_carried_and_used_from_the_earlier_date() -> None:
    dates = ["2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]
    closes = frame(dates, US=[100, 100, 100, 100])
    targets = frame(dates, US=[0, 0, 0, 0])
    rate = pd.Series([3.65, np.nan, 7.3, np.nan], index=pd.DatetimeIndex(dates))
    run = backtest(closes, markets={"US": "us"}, targets=targets, start=pd.Timestamp(dates[0]), cash_rate=rate)
    # Fri->Mon at Friday's 3.65% (3 days), Mon->Tue at Monday's (carried 3.65%), Tue->Wed at 7.3%: 1.0002.
    growth = [1.0, 1.0001**3, 1.0001**4, 1.0001**4 * 1.0002]
    assert run.equity["cash"].tolist() == [approx(100_000 * g) for g in growth]
    assert run.metrics["risk_free_return"] == approx(growth[-1] - 1)


def test_sharpe_uses_excess_returns_over_the_cash_index() -> None:
    dates = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"]
    closes = frame(dates, US=[100, 100, 102, 101])
    targets = frame(dates, US=[0.5] * 4)
    run = backtest(closes, markets={"US": "us"}, targets=targets, start=pd.Timestamp(dates[1]), cash_rate=0.0365, lag=1)
    # 03-05: 500 US at 100, 50000 cash.  Then cash x 1.0001 a day (on_change: no more trades).
    cash = [50_000, 50_000 * 1.0001, 50_000 * 1.0001**2]
    value = [c + 500 * p for c, p in zip(cash, [100, 102, 101], strict=True)]
    r = np.array([value[0] / 100_000 - 1, value[1] / value[0] - 1, value[2] / value[1] - 1])
    e = r - np.array([0, 0.0001, 0.0001])
    ppy = 2 / (2 / 365.25)
    assert run.metrics["sharpe"] == approx(e.mean() / np.std(e, ddof=1) * math.sqrt(ppy))
    assert run.metrics["sortino"] == approx(e.mean() / math.sqrt(np.mean(np.minimum(e, 0) ** 2)) * math.sqrt(ppy))
    assert run.metrics["max_drawdown"] == approx(value[2] / value[1] - 1)


def test_hkd_base_with_fx_carried_over_a_missing_quote() -> None:
    dates = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]
    closes = frame(dates, US=[100, 100, 100, 100], HK=[10, 10, 10, 10])
    targets = frame(dates, US=[0.5] * 4, HK=[0.5] * 4)
    fx = pd.Series([7.8, 7.8, 7.85, np.nan], index=pd.DatetimeIndex(dates))
    run = backtest(
        closes,
        markets=US_HK,
        targets=targets,
        start=pd.Timestamp(dates[1]),
        base_currency="HKD",
        usdhkd=fx,
        initial_cash=780_000,
    )
    # HK slot of 01-02: 390000 / 10 = 39000 HK.  NY slot: one US unit = 100 x 7.8 = 780 HKD,
    # value 390000 + 390000 = 780000: 390000 / 780 = 500 US.
    # 01-03: US 500 x 785 = 392500.  01-04: no FX quote, 7.85 carried.
    assert run.trades["quantity"].tolist() == [approx(39_000), approx(500)]
    assert run.trades["price"].tolist() == [approx(10), approx(780)]
    assert run.equity["US"].tolist() == [approx(390_000), approx(392_500), approx(392_500)]
    assert run.equity["value"].tolist() == [approx(780_000), approx(782_500), approx(782_500)]


def test_hkd_asset_in_usd_base_is_divided_by_the_rate() -> None:
    dates = ["2024-01-01", "2024-01-02", "2024-01-03"]
    closes = frame(dates, HK=[78, 78, 80])
    fx = pd.Series([7.8, 7.8, 8.0], index=pd.DatetimeIndex(dates))
    run = backtest(
        closes, markets={"HK": "hk"}, targets=frame(dates, HK=[1] * 3), start=pd.Timestamp(dates[1]), usdhkd=fx
    )
    # 78 HKD / 7.8 = 10 USD a unit: 10000 units; 01-03: 80 / 8 = 10 USD again.
    assert run.trades["price"].tolist() == [approx(10)]
    assert run.equity["value"].tolist() == [approx(100_000), approx(100_000)]


def test_buys_limited_by_cash_run_in_order_of_order_value() -> None:
    dates = ["2024-01-01", "2024-01-02"]
    closes = frame(dates, A=[100, 100], B=[50, 50])
    targets = frame(dates, A=[0.6, 0.6], B=[0.4, 0.4])
    run = backtest(closes, markets={"A": "us", "B": "us"}, targets=targets, start=pd.Timestamp(dates[1]), fee_bps=100)
    # Slot value 100000.  Order values: A 60000, B 40000: B first (call_seq 'auto' sorts ascending).
    # B: 800 units, 40000 + 400 fee: cash 59600.  A: 600 units would cost 60600 > 59600: partial,
    # 59600 / 1.01 = 59009.90 on A (590.099 units), 590.099 fee.  Cash 0.
    assert fills(run) == [("2024-01-02", "B", "buy"), ("2024-01-02", "A", "buy")]
    assert run.trades["quantity"].tolist() == [approx(800), approx(59_600 / 1.01 / 100)]
    assert run.trades["fees"].tolist() == [approx(400), approx(59_600 - 59_600 / 1.01)]
    assert run.equity["cash"].iloc[0] == 0.0


def test_stamp_duty_schedule_by_fill_date() -> None:
    assert [hk_stamp_duty_bps(pd.Timestamp(d)) for d in ("2021-07-30", "2021-08-02", "2023-11-16", "2023-11-17")] == [
        10.0,
        13.0,
        13.0,
        10.0,
    ]
    dates = ["2021-07-30", "2021-08-02", "2021-08-03"]
    closes = frame(dates, HK=[10, 10, 10])
    targets = frame(dates, HK=[1, 0.5, 0.5])
    run = backtest(
        closes,
        markets={"HK": "hk"},
        currencies={"HK": "USD"},
        targets=targets,
        start=pd.Timestamp(dates[1]),
        fee_bps=5,
        stamp_duty={"HK": "schedule"},
    )
    # 08-02 (13 bps stamp + 5 fee = 18 bps): decided 07-30 (100%), partial: 100000 / 1.0018 on HK.
    spend = 100_000 / 1.0018
    # 08-03: 50% (decided 08-02): slot value spend, sell down to spend / 2 / 10 units: sale of spend / 2,
    # 18 bps on it.
    assert run.trades["fees"].tolist() == [approx(100_000 - spend), approx(spend / 2 * 0.0018)]
    assert run.trades["side"].tolist() == ["buy", "sell"]


def test_weekly_rebalances_on_the_last_date_of_each_week() -> None:
    # Thu, Fri | Mon, Tue, Wed, Thu (holiday Fri) | Mon
    dates = ["2024-03-07", "2024-03-08", "2024-03-11", "2024-03-12", "2024-03-13", "2024-03-14", "2024-03-18"]
    closes = frame(dates, A=[100, 100, 100, 120, 130, 140, 150], B=[100] * 7)
    targets = frame(dates, A=[0.5] * 7, B=[0.5] * 7)
    run = backtest(
        closes, markets={"A": "us", "B": "us"}, targets=targets, start=pd.Timestamp(dates[1]), rebalance="weekly"
    )
    # Events: Thu 03-07 (first decision), Fri 03-08 (week end), Thu 03-14 (last date of its week);
    # Mon 03-18 ends the index but executes past it.  Fri's event finds A and B at 50/50: both
    # target-percent orders are zero, nothing trades on Mon 03-11.  Thu 03-14 drifted: A 70000 vs B
    # 50000: A sells down to 60000 (A first, the sale), B buys 10000 on Mon 03-18.
    assert fills(run) == [
        ("2024-03-08", "A", "buy"),
        ("2024-03-08", "B", "buy"),
        ("2024-03-18", "A", "sell"),
        ("2024-03-18", "B", "buy"),
    ]
    # 03-18 slot value: 500 x 150 + 500 x 100 = 125000: 62500 each.
    assert run.trades["quantity"].tolist() == [approx(500), approx(500), approx(500 - 62_500 / 150), approx(125)]


def test_weeks_run_monday_to_sunday() -> None:
    # Thu, Fri, Sun, Mon, Tue: Sunday 03-10 is the last date of the week of Mon 03-04.
    dates = ["2024-03-07", "2024-03-08", "2024-03-10", "2024-03-11", "2024-03-12"]
    closes = frame(dates, A=[100] * 5)
    targets = frame(dates, A=[1, 0.5, 0.25, 0.25, 0.25])
    run = backtest(closes, markets={"A": "us"}, targets=targets, start=pd.Timestamp(dates[1]), rebalance="weekly")
    # Events: Thu (first decision) and Sun (end of the week): Fri buys 1000 A, Mon sells down to 25%.
    # Friday is no week end here, so its 50% is never traded; Tue ends the index (executes past it).
    assert fills(run) == [("2024-03-08", "A", "buy"), ("2024-03-11", "A", "sell")]
    assert run.trades["quantity"].tolist() == [approx(1000), approx(750)]
