"""tests/reference.py's margin account (docs/shorts.md) alone: hand-computed cases, arithmetic inline.

No engine import: every expected number is written from the case's literal inputs, so these pin the
reference to the written contract (shorts, no cash limit, financing on d-1 over calendar days).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.reference import ReferenceRun, backtest

REL = 1e-12
US_HK = {"us": "us", "hk": "hk"}
SAME_CCY = {"us": "USD", "hk": "USD"}  # keep FX out unless a case is about it


def frame(dates: list[str], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.DatetimeIndex(dates), dtype=float)


def approx(x: float) -> object:
    return pytest.approx(x, rel=REL, abs=1e-9)


def fills(run: ReferenceRun) -> list[tuple[str, str, str]]:
    t = run.trades
    return [(d.strftime("%Y-%m-%d"), a, s) for d, a, s in zip(t["date"], t["asset"], t["side"], strict=True)]


# --------------------------------------------------------------------------------------------------
# a. long/short over a Hong Kong holiday: the short trades on HK sessions, borrow and margin accrue


def test_short_with_borrow_and_margin_over_a_weekend_and_a_hong_kong_holiday() -> None:
    # Thu (decision), Fri (start), Mon, Tue (Hong Kong holiday), Wed
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]
    closes = frame(dates, us=[100, 100, 110, 120, 125], hk=[20, 20, 22, np.nan, 25])
    targets = frame(dates, us=[1.5] * 5, hk=[-0.25, -0.25, -0.5, -0.5, -0.5])
    run = backtest(
        closes,
        markets=US_HK,
        currencies=SAME_CCY,
        targets=targets,
        start=pd.Timestamp("2024-03-01"),
        max_gross=2.0,
        borrow_bps=100,
        margin_spread_bps=200,
    )
    # Thu decides hk -0.25 (a sale: 0 -> -0.25) and us 1.5 (a buy).
    # Fri HK slot: value 100000, sell 0.25 x 100000 / 20 = 1250 hk at 20: cash 125000.
    # Fri NY slot: value 125000 - 1250 x 20 = 100000, buy 1.5 x 100000 / 100 = 1500 us: cash -25000.
    c_fri = 100_000 + 1250 * 20 - 1500 * 100
    # Mon, D = 3 calendar days (a weekend), on Friday's end: short 1250 x 20, debt 25000.
    b_mon = 0.01 * 3 / 365 * (1250 * 20)
    m_mon = 0.02 * 3 / 365 * 25_000
    c_mon = c_fri - b_mon - m_mon
    # Mon decides hk -0.5: weight -1250 x 22 / (c_mon + 1500 x 110 - 1250 x 22) = -0.244 > -0.5, a sale;
    # us weight 165000 / 112494 = 1.467 < 1.5, a buy, which waits for the sale.
    # Tue (D = 1): Hong Kong closed, the sale waits and so does the US buy; Monday's end: hk at 22.
    b_tue = 0.01 * 1 / 365 * (1250 * 22)
    m_tue = 0.02 * 1 / 365 * -c_mon
    c_tue = c_mon - b_tue - m_tue
    # Wed (D = 1), on Tuesday's end: hk carried at 22 (not Wednesday's 25), Tuesday's cash.
    b_wed = 0.01 * 1 / 365 * (1250 * 22)
    m_wed = 0.02 * 1 / 365 * -c_tue
    c_wed0 = c_tue - b_wed - m_wed
    # Wed HK slot: us worth New York's close of Tue (120); hk to -0.5 x value / 25 units.
    v_hk = c_wed0 + 1500 * 120 - 1250 * 25
    hk_units = -0.5 * v_hk / 25
    sold = hk_units + 1250  # negative: a sale of -sold
    c_wed1 = c_wed0 - sold * 25
    # Wed NY slot: us to 1.5 x value / 125.
    v_ny = c_wed1 + 1500 * 125 + hk_units * 25
    bought = 1.5 * v_ny / 125 - 1500
    c_wed = c_wed1 - bought * 125

    assert fills(run) == [
        ("2024-03-01", "hk", "sell"),
        ("2024-03-01", "us", "buy"),
        ("2024-03-06", "hk", "sell"),
        ("2024-03-06", "us", "buy"),
    ]
    assert run.trades["quantity"].tolist() == [approx(1250), approx(1500), approx(-sold), approx(bought)]
    assert run.trades["price"].tolist() == [approx(20), approx(100), approx(25), approx(125)]
    eq = run.equity
    assert eq["cash"].tolist() == [approx(c_fri), approx(c_mon), approx(c_tue), approx(c_wed)]
    assert eq["hk"].tolist() == [approx(-1250 * 20), approx(-1250 * 22), approx(-1250 * 22), approx(hk_units * 25)]
    assert eq["us"].tolist() == [approx(150_000), approx(165_000), approx(180_000), approx((1500 + bought) * 125)]
    assert eq["value"].tolist() == [
        approx(c_fri + 150_000 - 25_000),
        approx(c_mon + 165_000 - 27_500),
        approx(c_tue + 180_000 - 27_500),
        approx(c_wed + (1500 + bought) * 125 + hk_units * 25),
    ]
    m = run.metrics
    assert m["borrow_paid"] == approx(b_mon + b_tue + b_wed)
    assert m["margin_paid"] == approx(m_mon + m_tue + m_wed)
    assert m["fees_paid"] == 0 and m["cash_interest"] == 0  # financing is not a fee


# --------------------------------------------------------------------------------------------------
# b. leverage: negative cash earns (pays) the cash rate and pays the margin spread on top


def test_leverage_pays_the_cash_rate_and_the_margin_spread_on_borrowed_cash() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05"]  # Thu, Fri (start), Mon, Tue
    closes = frame(dates, us=[100, 100, 100, 104])
    targets = frame(dates, us=[1.5] * 4)
    run = backtest(
        closes,
        markets={"us": "us"},
        targets=targets,
        start=pd.Timestamp("2024-03-01"),
        max_gross=2.0,
        cash_rate=0.0365,
        borrow_bps=100,  # no short: nothing to pay
        margin_spread_bps=365,
    )
    # Fri: buy 1.5 x 100000 / 100 = 1500 us at 100, not cut to the cash: cash -50000.
    # Mon (3 days): cash x 1.0001 ** 3 (the cash index), less 3.65% x 3 / 365 of Friday's 50000 debt.
    i_mon = -50_000 * (1.0001**3 - 1)
    m_mon = 0.0365 * 3 / 365 * 50_000
    c_mon = -50_000 + i_mon - m_mon
    # Tue (1 day): interest on Monday's cash, spread on Monday's debt (before the interest).
    i_tue = c_mon * (1.0001 - 1)
    m_tue = 0.0365 * 1 / 365 * -c_mon
    c_tue = c_mon + i_tue - m_tue
    assert fills(run) == [("2024-03-01", "us", "buy")]
    assert run.trades["quantity"].tolist() == [approx(1500)]
    eq = run.equity
    assert eq["cash"].tolist() == [approx(-50_000), approx(c_mon), approx(c_tue)]
    assert eq["value"].tolist() == [approx(100_000), approx(150_000 + c_mon), approx(156_000 + c_tue)]
    m = run.metrics
    assert m["margin_paid"] == approx(m_mon + m_tue)
    assert m["borrow_paid"] == 0.0
    assert m["cash_interest"] == approx(i_mon + i_tue)  # negative: the borrowing pays the cash rate
    assert m["risk_free_return"] == approx(1.0001**4 - 1)


# --------------------------------------------------------------------------------------------------
# c. dollar-neutral spread with fees, stamp duty and slippage


def test_dollar_neutral_spread_fills_with_costs() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04"]  # Thu (decision), Fri (start), Mon
    closes = frame(dates, us=[100, 100, 90], hk=[20, 20, 21])
    targets = frame(dates, us=[-1.0] * 3, hk=[1.0] * 3)
    run = backtest(
        closes,
        markets=US_HK,
        currencies=SAME_CCY,
        targets=targets,
        start=pd.Timestamp("2024-03-01"),
        max_gross=2.0,
        fee_bps=10,
        slippage_bps=20,
        stamp_duty={"hk": 10},
        borrow_bps=0,
    )
    # Thu: us 0 -> -1 a sale, hk 0 -> 1 a buy.  The sale fills at New York's close of Fri; the buy it
    # funds at Hong Kong's next close, Mon.
    # Fri NY: value 100000, sell 1000 us at 100 x (1 - 0.002) = 99.8: 99800 less 10 bps.
    us_fee = 1000 * 99.8 * 0.001
    c_fri = 100_000 + 1000 * 99.8 - us_fee
    # Mon HK: us worth Friday's New York close (100): value c_fri - 100000; buy value / 21 hk at
    # 21 x 1.002, fee and stamp 20 bps of that.
    v_mon = c_fri - 1000 * 100
    hk_units = v_mon / 21
    hk_fee = hk_units * 21 * 1.002 * 0.002
    c_mon = c_fri - hk_units * 21 * 1.002 - hk_fee
    assert fills(run) == [("2024-03-01", "us", "sell"), ("2024-03-04", "hk", "buy")]
    t = run.trades
    assert t["quantity"].tolist() == [approx(1000), approx(hk_units)]
    assert t["price"].tolist() == [approx(99.8), approx(21 * 1.002)]
    assert t["fees"].tolist() == [approx(us_fee), approx(hk_fee)]
    eq = run.equity
    assert eq["us"].tolist() == [approx(-100_000), approx(-90_000)]
    assert eq["hk"].tolist() == [0.0, approx(hk_units * 21)]
    assert eq["cash"].tolist() == [approx(c_fri), approx(c_mon)]
    assert eq["value"].tolist() == [approx(c_fri - 100_000), approx(c_mon - 90_000 + hk_units * 21)]
    assert run.metrics["fees_paid"] == approx(us_fee + hk_fee)


# --------------------------------------------------------------------------------------------------
# d. an account worth nothing is closed out (shorts.md rule 3)


def test_an_account_worth_nothing_is_closed_out_and_trades_no_more() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]  # Thu..Wed
    closes = frame(dates, us=[100, 100, 45, 45, 80])
    targets = frame(dates, us=[2.0, 2.0, 1.0, 0.5, 1.5])  # a new decision every date from Mon
    run = backtest(closes, markets={"us": "us"}, targets=targets, start=pd.Timestamp("2024-03-01"), max_gross=2.0)
    # Fri: 2000 us at 100, cash -100000.  Mon's end: 2000 x 45 - 100000 = -10000 <= 0: closed out on
    # Mon.  Mon's row keeps Mon's end-of-day state (90000 of us, cash -100000); from Tue on the 2000
    # units are gone, cash is -10000 (no cash rate: constant), and Mon's decision (Tue's leg), Tue's
    # and Wed's are dropped: Wed's recovery to 80 neither revives a leg nor moves the value.
    assert fills(run) == [("2024-03-01", "us", "buy")]
    assert run.trades["quantity"].tolist() == [approx(2000)]
    eq = run.equity
    assert eq["value"].tolist() == [approx(100_000), approx(-10_000), approx(-10_000), approx(-10_000)]
    assert eq["cash"].tolist() == [approx(-100_000), approx(-100_000), approx(-10_000), approx(-10_000)]
    assert eq["us"].tolist() == [approx(200_000), approx(90_000), 0.0, 0.0]
    m = run.metrics
    assert m["closed_out"] == "2024-03-04"
    assert m["trades"] == 1 and m["fees_paid"] == 0
    assert m["final_value"] == approx(-10_000)
    assert math.isnan(m["cagr"]) and math.isnan(m["calmar"])  # a negative final value has no CAGR


def test_a_value_of_exactly_zero_is_closed_out() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05"]  # Thu..Tue
    closes = frame(dates, us=[100, 100, 50, 90])
    targets = frame(dates, us=[2.0, 2.0, 2.0, 1.0])
    run = backtest(closes, markets={"us": "us"}, targets=targets, start=pd.Timestamp("2024-03-01"), max_gross=2.0)
    # Mon's end: 2000 x 50 - 100000 = 0, "at or below 0": closed out, nothing left.
    assert run.metrics["closed_out"] == "2024-03-04"
    assert fills(run) == [("2024-03-01", "us", "buy")]
    assert run.equity["value"].tolist() == [approx(100_000), 0.0, 0.0]
    assert run.equity["cash"].tolist() == [approx(-100_000), approx(-100_000), 0.0]
    assert run.equity["us"].tolist() == [approx(200_000), approx(100_000), 0.0]


def test_after_the_close_out_the_debt_grows_with_the_cash_rate_without_financing() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]  # Thu..Wed
    closes = frame(dates, us=[100, 100, 40, 100, 120], s=[50, 50, 60, 40, 30])
    targets = frame(dates, us=[2.0, 2.0, 1.0, 1.0, 1.0], s=[-0.5, -0.5, 0.0, 0.0, 0.0])
    run = backtest(
        closes,
        markets={"us": "us", "s": "us"},
        targets=targets,
        start=pd.Timestamp("2024-03-01"),
        max_gross=3.0,
        cash_rate=0.0365,  # 1.0001 a calendar day
        borrow_bps=100,
        margin_spread_bps=365,
    )
    # Fri NY slot, both sized on 100000: sell 0.5 x 100000 / 50 = 1000 s (sales first), buy
    # 2 x 100000 / 100 = 2000 us: cash 100000 + 50000 - 200000 = -50000.
    # Mon (3 days), on Friday's end: interest on -50000, borrow on 1000 x 50, spread on 50000.
    i_mon = -50_000 * (1.0001**3 - 1)
    b_mon = 0.01 * 3 / 365 * (1000 * 50)
    m_mon = 0.0365 * 3 / 365 * 50_000
    c_mon = -50_000 + i_mon - b_mon - m_mon
    # Mon's end: c_mon + 2000 x 40 - 1000 x 60 = c_mon + 20000 < 0: closed out on Mon.
    v_mon = c_mon + 2000 * 40 - 1000 * 60
    assert v_mon < 0
    # Tue, Wed: the debt v_mon grows with the cash index only; no borrow (the short is gone) and no
    # margin spread on the debt; Mon's decision (us 1.0, cover s) never trades.
    c_tue = v_mon * 1.0001
    c_wed = c_tue * 1.0001
    assert fills(run) == [("2024-03-01", "s", "sell"), ("2024-03-01", "us", "buy")]
    assert run.trades["quantity"].tolist() == [approx(1000), approx(2000)]
    eq = run.equity
    assert eq["cash"].tolist() == [approx(-50_000), approx(c_mon), approx(c_tue), approx(c_wed)]
    assert eq["us"].tolist() == [approx(200_000), approx(80_000), 0.0, 0.0]
    assert eq["s"].tolist() == [approx(-50_000), approx(-60_000), 0.0, 0.0]
    assert eq["value"].tolist() == [approx(100_000), approx(v_mon), approx(c_tue), approx(c_wed)]
    m = run.metrics
    assert m["closed_out"] == "2024-03-04"
    assert m["borrow_paid"] == approx(b_mon)
    assert m["margin_paid"] == approx(m_mon)
    assert m["cash_interest"] == approx(i_mon + (c_tue - v_mon) + (c_wed - c_tue))
    assert m["risk_free_return"] == approx(1.0001**5 - 1)
    assert m["trades"] == 2 and m["final_value"] == approx(c_wed)


def test_a_leg_sized_on_a_non_positive_value_within_a_date_does_not_fill() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05", "2024-03-06"]  # Thu..Wed
    opens = frame(dates, us=[100, 100, 100, 45, 80])
    closes = frame(dates, us=[100, 100, 100, 80, 80])
    targets = frame(dates, us=[2.0, 2.0, 1.0, 1.0, 1.0])
    run = backtest(
        closes,
        markets={"us": "us"},
        targets=targets,
        start=pd.Timestamp("2024-03-01"),
        fill="next_open",
        opens=opens,
        max_gross=2.0,
    )
    # Fri open: 2000 us at 100, cash -100000.  Mon decides 1.0: Tue's open leg is sized on
    # 2000 x 45 - 100000 = -10000 <= 0: no fill, dropped.  Tue's end: 2000 x 80 - 100000 = 60000 > 0:
    # not closed out, and nothing trades again (no new decision).
    assert fills(run) == [("2024-03-01", "us", "buy")]
    eq = run.equity
    assert eq["value"].tolist() == [approx(100_000), approx(100_000), approx(60_000), approx(60_000)]
    assert eq["cash"].tolist() == [approx(-100_000)] * 4
    assert run.metrics["closed_out"] is None


# --------------------------------------------------------------------------------------------------
# e. without max_gross: the cash account, unchanged


def test_without_max_gross_the_cash_account_is_unchanged() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04"]
    closes = frame(dates, us=[100, 100, 110])
    targets = frame(dates, us=[1.0] * 3)
    kw = {"markets": {"us": "us"}, "targets": targets, "start": pd.Timestamp("2024-03-01"), "fee_bps": 10}
    default = backtest(closes, **kw)
    explicit = backtest(closes, **kw, max_gross=None, borrow_bps=100, margin_spread_bps=200)
    pd.testing.assert_frame_equal(default.equity, explicit.equity)
    pd.testing.assert_frame_equal(default.trades, explicit.trades)
    assert default.metrics == explicit.metrics
    # the cash cap: 100000 / 1.001 on the asset, the rest fees, cash 0; no financing
    assert default.trades["quantity"].tolist() == [approx(100_000 / 1.001 / 100)]
    assert default.equity["cash"].tolist() == [0.0, 0.0]
    assert default.metrics["borrow_paid"] == 0.0 and default.metrics["margin_paid"] == 0.0
    assert default.metrics["closed_out"] is None
    # the margin account buys the full 1000 units and borrows the fee
    margin = backtest(closes, **kw, max_gross=1.0)
    assert margin.trades["quantity"].tolist() == [approx(1000)]
    assert margin.equity["cash"].tolist() == [approx(-100), approx(-100)]
    # a negative target needs a margin account
    with pytest.raises(ValueError):
        backtest(closes, **{**kw, "targets": -targets})


def test_gross_above_max_gross_is_refused() -> None:
    dates = ["2024-03-01", "2024-03-04"]
    closes = frame(dates, us=[100, 100], hk=[20, 20])
    targets = frame(dates, us=[1.5, 1.5], hk=[-0.75, -0.75])
    with pytest.raises(ValueError, match="max_gross"):
        backtest(closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp(dates[0]), max_gross=2)


# --------------------------------------------------------------------------------------------------
# shorts: signed weights decide the sale; a short carries dividends and FX


def test_covering_a_short_is_a_buy_and_waits_for_the_new_short() -> None:
    dates = ["2024-02-28", "2024-02-29", "2024-03-01", "2024-03-04", "2024-03-05"]  # Wed..Tue
    closes = frame(dates, us=[100, 100, 100, 100, 110], hk=[20, 20, 20, 25, 24])
    targets = frame(dates, us=[0, 0, -1, -1, -1], hk=[-1, -1, 0, 0, 0])
    run = backtest(
        closes, markets=US_HK, currencies=SAME_CCY, targets=targets, start=pd.Timestamp(dates[1]), max_gross=1.0
    )
    # Thu HK: short 100000 / 20 = 5000 hk: cash 200000.  Fri decides hk -> us: us 0 -> -1 is a sale
    # (Mon's New York close); covering hk (-1 -> 0) is a buy, at Hong Kong's next close after that, Tue.
    # Mon NY: value 200000 - 5000 x 25 = 75000: sell 750 us at 100, cash 275000.
    # Tue HK: buy back 5000 hk at 24: cash 275000 - 120000 = 155000.
    assert fills(run) == [
        ("2024-02-29", "hk", "sell"),
        ("2024-03-04", "us", "sell"),
        ("2024-03-05", "hk", "buy"),
    ]
    assert run.trades["quantity"].tolist() == [approx(5000), approx(750), approx(5000)]
    eq = run.equity
    assert eq["cash"].tolist() == [approx(200_000), approx(200_000), approx(275_000), approx(155_000)]
    assert eq["hk"].tolist() == [approx(-100_000), approx(-100_000), approx(-125_000), 0.0]
    assert eq["value"].tolist() == [approx(100_000), approx(100_000), approx(75_000), approx(155_000 - 750 * 110)]


def test_a_short_carries_the_dividend_and_the_currency_and_pays_borrow_on_them() -> None:
    dates = ["2024-02-29", "2024-03-01", "2024-03-04"]  # Thu (decision), Fri (start), Mon
    closes = frame(dates, hk=[78, 78, 80])
    fx = pd.Series([7.8, 7.8, 8.0], index=pd.DatetimeIndex(dates))
    run = backtest(
        closes,
        markets={"hk": "hk"},
        targets=frame(dates, hk=[-1.0] * 3),
        start=pd.Timestamp(dates[1]),
        usdhkd=fx,
        dividend_yield={"hk": 0.1},
        max_gross=1.0,
        borrow_bps=100,
    )
    # Fri: one unit worth 78 / 7.8 = 10 USD (dividend factor 1 at the start): short 10000, cash 200000.
    # Mon: 80 / 8.0 x 1.1 ** (3 / 365.25) a unit; borrow 1% x 3 / 365 on Friday's 10000 x 10.
    unit_mon = 80 / 8.0 * 1.1 ** (3 / 365.25)
    borrow = 0.01 * 3 / 365 * (10_000 * 10)
    assert run.trades["price"].tolist() == [approx(10)]
    assert run.trades["quantity"].tolist() == [approx(10_000)]
    eq = run.equity
    assert eq["hk"].tolist() == [approx(-100_000), approx(-10_000 * unit_mon)]
    assert eq["cash"].tolist() == [approx(200_000), approx(200_000 - borrow)]
    assert eq["value"].tolist() == [approx(100_000), approx(200_000 - borrow - 10_000 * unit_mon)]
    assert run.metrics["borrow_paid"] == approx(borrow)
    assert run.metrics["margin_paid"] == 0.0
