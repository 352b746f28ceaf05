"""Money: exchange-rate and cash-rate cleaning, the stamp-duty schedule, unit values and the cash index.

Small hand-computed cases; the arithmetic is in the comments.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.config.models import AssetSpec, Costs
from engine.costs import cost_rates, stamp_duty_bps
from engine.data.panel import build_panel
from engine.data.validate import clean_fx, clean_rate, open_prices
from engine.errors import DataError
from engine.valuation import cash_index, dividend_growth, valuation


def raw(dates: list[str], close: list[float], **columns: list[float]) -> pd.DataFrame:
    """A raw provider frame with ``Close`` (and any other column) on ``dates``; the rest empty."""
    index = pd.DatetimeIndex(pd.to_datetime(dates), name="Date")
    frame = pd.DataFrame({c: np.nan for c in ("Open", "High", "Low", "Close", "Adj Close", "Volume")}, index=index)
    frame["Close"] = close
    for name, values in columns.items():
        frame[name.replace("_", " ")] = values
    return frame


# ------------------------------------------------------------------------------------ exchange rate


def test_fx_ticks_outside_the_band_are_dropped_and_named() -> None:
    frame = raw(["2008-03-13", "2008-03-14", "2008-03-17", "2008-03-18"], [7.7900, 7.6849, 7.7950, 7.9000])
    kept, notes = clean_fx(frame, symbol="HKD=X", band=(7.74, 7.86))
    assert kept.index.strftime("%Y-%m-%d").tolist() == ["2008-03-13", "2008-03-17"]
    [note] = notes
    assert "dropped 2 closes outside the band 7.74-7.86" in note
    assert "2008-03-14 7.6849" in note and "2008-03-18 7.9000" in note


def test_fx_band_null_keeps_every_positive_tick() -> None:
    frame = raw(["2008-03-13", "2008-03-14", "2008-03-17"], [7.79, 7.6849, -1.0])
    kept, notes = clean_fx(frame, symbol="HKD=X", band=None)
    assert kept.tolist() == [7.79, 7.6849]
    assert "not positive" in notes[0]


def test_long_fx_gaps_are_named() -> None:
    frame = raw(["2003-04-30", "2003-05-01", "2003-12-01", "2003-12-02"], [7.799, 7.799, 7.764, 7.765])
    _, notes = clean_fx(frame, symbol="HKD=X", band=(7.74, 7.86))
    assert notes == [
        "HKD=X: 1 gap longer than 10 calendar days (2003-05-01 → 2003-12-01 (214 days)); "
        "the previous close is carried forward over each"
    ]


def test_fx_without_closes_is_a_data_error() -> None:
    frame = raw(["2024-01-02"], [np.nan])
    with pytest.raises(DataError, match="no 'Close' values for the exchange rate"):
        clean_fx(frame, symbol="HKD=X", band=(7.74, 7.86))


def test_cash_rate_is_read_in_percent_a_year() -> None:
    rate, notes = clean_rate(raw(["2024-01-02", "2024-01-03"], [5.25, 5.2]), symbol="^IRX")
    assert rate.tolist() == [pytest.approx(0.0525, rel=1e-15), pytest.approx(0.052, rel=1e-15)]
    assert notes == []


def test_opens_on_the_adjusted_basis_scale_by_adj_close_over_close() -> None:
    frame = raw(["2024-01-02", "2024-01-03"], [100.0, 110.0], Open=[99.0, 104.0], Adj_Close=[50.0, 55.0])
    opens, notes = open_prices(frame, frame["Adj Close"], price="adj_close")
    assert notes == []
    assert opens.tolist() == [49.5, 52.0]  # 99 x 50/100, 104 x 55/110: the same open-to-close return


# ------------------------------------------------------------------------------------- stamp duty


def test_stamp_duty_schedule_and_overrides() -> None:
    days = pd.DatetimeIndex(["2021-07-30", "2021-08-01", "2023-11-16", "2023-11-17", "2026-01-02"])
    index = AssetSpec(symbol="^HSI", market="hk")
    assert stamp_duty_bps(index, Costs(), days).tolist() == [10.0, 13.0, 13.0, 10.0, 10.0]
    etf = AssetSpec(symbol="2800.HK", market="hk", instrument="etf")
    assert stamp_duty_bps(etf, Costs(), days).tolist() == [0.0] * 5
    us = AssetSpec(symbol="^GSPC", market="us")
    assert stamp_duty_bps(us, Costs(), days).tolist() == [0.0] * 5
    assert stamp_duty_bps(index, Costs(hk_stamp_duty_bps=8), days).tolist() == [8.0] * 5  # flat, config-wide
    own = AssetSpec(symbol="^HSI", market="hk", stamp_duty_bps=2)
    assert stamp_duty_bps(own, Costs(hk_stamp_duty_bps=8), days).tolist() == [2.0] * 5  # the asset's own wins
    us_listed_hk_etf = AssetSpec(symbol="EWH", market="us", instrument="etf")
    assert stamp_duty_bps(us_listed_hk_etf, Costs(), days).tolist() == [0.0] * 5


def test_cost_rates_per_asset_and_date() -> None:
    specs = {
        "us": AssetSpec(symbol="SPY", market="us", instrument="etf", fee_bps=1, slippage_bps=2),
        "hk": AssetSpec(symbol="^HSI", market="hk"),
    }
    rates = cost_rates(Costs(fee_bps=5, slippage_bps=5), specs, ["us", "hk"], pd.DatetimeIndex(["2022-06-01"]))
    assert rates.fees.tolist() == [[pytest.approx(1e-4), pytest.approx(18e-4)]]  # SPY 1 bp; HSI 5 + 13 bps
    assert rates.slippage.tolist() == [pytest.approx(2e-4), pytest.approx(5e-4)]


# ------------------------------------------------------------------------------------- unit values


def test_dividend_growth_is_one_on_the_first_simulated_date() -> None:
    dates = pd.DatetimeIndex(["2023-12-29", "2024-01-02", "2025-01-01"]).to_numpy()
    g = dividend_growth(dates, np.array([0.0, 0.04]), start=1)
    assert g[:, 0].tolist() == [1.0, 1.0, 1.0]
    assert g[1, 1] == 1.0
    assert g[2, 1] == pytest.approx(1.04 ** (365 / 365.25), rel=1e-15)  # 365 days later
    assert g[0, 1] == pytest.approx(1.04 ** (-4 / 365.25), rel=1e-15)  # a warm-up row, 4 days before


def test_cash_index_compounds_the_rate_known_the_day_before() -> None:
    dates = pd.DatetimeIndex(["2024-01-05", "2024-01-08", "2024-01-09"]).to_numpy()  # Friday, Monday, Tuesday
    b = cash_index(dates, np.array([0.0365, 0.073, 0.0]), start=0)
    # Friday -> Monday: 3 days at Friday's 3.65% (0.01% a day); Monday -> Tuesday: 1 day at 7.3%.
    assert b.tolist() == [1.0, pytest.approx(1.0001**3, rel=1e-15), pytest.approx(1.0001**3 * 1.0002, rel=1e-15)]
    assert cash_index(dates, np.array([0.0365, 0.073, 0.0]), start=1)[1] == 1.0


def test_valuation_converts_hkd_with_the_rate_of_each_date() -> None:
    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"])
    specs = {"us": AssetSpec(symbol="US", market="us"), "hk": AssetSpec(symbol="HK", market="hk")}
    series = {"us": pd.Series([10.0, 11.0, 12.0], index=dates), "hk": pd.Series([78.0, 78.0, np.nan], index=dates)}
    fx = pd.Series([7.8, 7.75], index=dates[[0, 2]])  # no rate on 01-03: 7.8 carries forward
    panel = build_panel(series, specs, price_field="close", source="t", synthetic=False, usdhkd=fx)
    val = valuation(panel, dividend_yields=np.zeros(2), cash_rate=None, start=0)
    assert val.known[:, 0].tolist() == [10.0, 11.0, 12.0]
    hk = [78 / 7.8, 78 / 7.8, 78 / 7.75]  # HK closed on 01-04: 78 carried, at that day's rate
    assert val.known[:, 1].tolist() == [pytest.approx(x, rel=1e-15) for x in hk]
    frozen = valuation(panel, dividend_yields=np.zeros(2), cash_rate=None, start=0, frozen_fx=True)
    assert frozen.known[:, 1].tolist() == [pytest.approx(78 / 7.8, rel=1e-15)] * 3
    assert val.cash_index.tolist() == [1.0, 1.0, 1.0]


def test_a_foreign_asset_without_an_exchange_rate_is_refused() -> None:
    dates = pd.DatetimeIndex(["2024-01-02", "2024-01-03"])
    specs = {"hk": AssetSpec(symbol="HK", market="hk")}
    panel = build_panel(
        {"hk": pd.Series([1.0, 2.0], index=dates)}, specs, price_field="close", source="t", synthetic=False
    )
    with pytest.raises(ValueError, match="no USD/HKD series to convert hk to USD"):
        valuation(panel, dividend_yields=np.zeros(1), cash_rate=None, start=0)
