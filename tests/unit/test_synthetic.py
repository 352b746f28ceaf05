"""Tests of the synthetic two-market generator (engine/data/synthetic.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine.data.synthetic as synthetic
from engine.data.base import RAW_COLUMNS, Provider
from engine.data.synthetic import SYNTHETIC_LABEL, SyntheticProvider, market_sessions
from engine.errors import DataError

MARKETS = {"^GSPC": "us", "^NDX": "us", "^HSI": "hk"}
FIRST, LAST = dt.date(2000, 1, 3), dt.date(2025, 12, 31)  # the provider's default span
REPO = Path(__file__).resolve().parents[2]

# The ETF table of the module docstring: symbol -> (factor, dividend yield a year).
ETFS = {
    "SPY": ("us", 0.018),
    "QQQ": ("us", 0.007),
    "EWH": ("hk", 0.030),
    "FXI": ("hk", 0.025),
    "MCHI": ("hk", 0.020),
    "KWEB": ("hk", 0.005),
    "2800.HK": ("hk", 0.030),
}
# Where each is listed in the tests: every US-listed one on XNYS (EWH, FXI, ... are New York
# listings of Hong Kong), the tracker fund on XHKG.
ETF_MARKETS = {symbol: "hk" if symbol.endswith(".HK") else "us" for symbol in ETFS}
SERIES = {"HKD=X": "fx", "^IRX": "rate"}

# Frames as the generator made them before ETFs, fx and rates were added: symbols outside the
# ETF table mapped to "us"/"hk" must not change.  Each row: symbol, market, provider options, a
# date and the Close on it, the first 16 hex digits of the dates' digest, and each column's sum
# (Open, High, Low, Close, Adj Close, Volume).  The prices are compared to 1e-12, not by their
# bits: numpy's exp and log may round the last bit differently on another CPU.
SHORT = {"seed": 7, "first": dt.date(2018, 3, 1), "last": dt.date(2019, 6, 30)}
PINNED = [
    (
        "^GSPC",
        "us",
        {},
        "2000-05-25",
        850.3049024063073,
        "681d04a5d59d5ed3",
        (
            28098123.94578764,
            28315304.416438147,
            27890883.098854788,
            28104257.997706026,
            28104257.997706026,
            24796148118171.0,
        ),
    ),
    (
        "^HSI",
        "hk",
        {},
        "2000-05-31",
        9982.548167133978,
        "7c7219c63b54493f",
        (
            516262161.83576256,
            521714127.5628945,
            510995699.88206714,
            516458305.7342424,
            516458305.7342424,
            12055432729785.0,
        ),
    ),
    (
        "^NDX",
        "us",
        {},
        "2000-05-25",
        973.4631917593897,
        "681d04a5d59d5ed3",
        (
            33076489.837642316,
            33334888.433138654,
            32835066.943531834,
            33086634.667583324,
            33086634.667583324,
            24698507734714.0,
        ),
    ),
    (
        "XYZ",
        "hk",
        {},
        "2000-05-31",
        7055.841086324375,
        "7c7219c63b54493f",
        (
            447525703.88882697,
            452265641.5243965,
            443018861.7733879,
            447723681.0925151,
            447723681.0925151,
            12113884593458.0,
        ),
    ),
    (
        "^GSPC",
        "us",
        SHORT,
        "2018-07-24",
        1167.290703650826,
        "39441d9e20f5921f",
        (
            364729.971695222,
            367118.9075906553,
            362169.61198855017,
            364484.0670764123,
            364484.0670764123,
            1217743562202.0,
        ),
    ),
    (
        "^HSI",
        "hk",
        SHORT,
        "2018-07-30",
        9664.473098576022,
        "8b4e87b0b2b56306",
        (
            2584870.3658376466,
            2606690.320158838,
            2556676.6815477996,
            2577958.5030867336,
            2577958.5030867336,
            598646261654.0,
        ),
    ),
    (
        "^NDX",
        "us",
        SHORT,
        "2018-07-24",
        1073.844038938286,
        "39441d9e20f5921f",
        (
            336454.84283674404,
            338593.6335643269,
            334027.81136526656,
            336195.32493968843,
            336195.32493968843,
            1204254150635.0,
        ),
    ),
    (
        "XYZ",
        "hk",
        SHORT,
        "2018-07-30",
        9071.0027283738,
        "8b4e87b0b2b56306",
        (
            2350707.873587909,
            2371547.9771314003,
            2324761.304459878,
            2345483.7851751847,
            2345483.7851751847,
            591938339545.0,
        ),
    ),
]


@pytest.fixture(scope="module")
def provider() -> SyntheticProvider:
    return SyntheticProvider(MARKETS)


@pytest.fixture(scope="module")
def etfs() -> SyntheticProvider:
    """Every ETF of the table, with the two index-like symbols to compare them with."""
    return SyntheticProvider({**ETF_MARKETS, "^GSPC": "us", "^HSI": "hk"})


@pytest.fixture(scope="module")
def series() -> SyntheticProvider:
    return SyntheticProvider(SERIES)


def union_closes(provider: SyntheticProvider) -> pd.DataFrame:
    """Closes of ^GSPC ("us") and ^HSI ("hk") on the union timeline, carried over holidays."""
    closes = {
        "us": provider.fetch("^GSPC", None, None)["Close"],
        "hk": provider.fetch("^HSI", None, None)["Close"],
    }
    return pd.concat(closes, axis=1, sort=True).ffill()


@pytest.fixture(scope="module")
def log_returns(provider: SyntheticProvider) -> pd.DataFrame:
    """Log-returns on the union timeline (zero on a market's holidays)."""
    return np.log(union_closes(provider)).diff().iloc[1:]


def frame_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(frame.index.asi8.tobytes() + frame.to_numpy().tobytes()).hexdigest()


def expected_ex_dates(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """First date of ``index`` on or after the 15th of March, June, September, December."""
    dates = []
    for year in range(index[0].year, index[-1].year + 1):
        for month in (3, 6, 9, 12):
            later = index[index >= pd.Timestamp(year, month, 15)]
            if len(later):
                dates.append(later[0])
    return pd.DatetimeIndex(dates)


def adjustment_steps(frame: pd.DataFrame) -> pd.Series:
    """``d`` on each date where ``Adj Close / Close`` moves: ``1 - ratio[t-1] / ratio[t]``."""
    ratio = frame["Adj Close"] / frame["Close"]
    d = 1.0 - ratio.shift(1) / ratio
    return d[d.abs() > 1e-12]


def test_public_surface() -> None:
    assert sorted(synthetic.__all__) == ["SYNTHETIC_LABEL", "SyntheticProvider", "market_sessions"]
    assert SYNTHETIC_LABEL == "SYNTHETIC"
    p = SyntheticProvider({"^GSPC": "us"})
    assert isinstance(p, Provider)
    assert (p.name, p.synthetic) == ("synthetic", True)


def assert_raw_frame_shape(frame: pd.DataFrame) -> None:
    assert list(frame.columns) == list(RAW_COLUMNS)
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    idx = frame.index
    assert isinstance(idx, pd.DatetimeIndex)
    assert idx.name == "Date"
    assert idx.tz is None
    assert (idx == idx.normalize()).all()
    assert idx.is_monotonic_increasing and idx.is_unique
    assert idx[0] >= pd.Timestamp("2000-01-03") and idx[-1] <= pd.Timestamp("2025-12-31")


@pytest.mark.parametrize("symbol", sorted(MARKETS) + sorted(ETFS))
def test_frame_follows_the_raw_frame_contract(
    provider: SyntheticProvider, etfs: SyntheticProvider, symbol: str
) -> None:
    frame = (provider if symbol in MARKETS else etfs).fetch(symbol, None, None)
    assert_raw_frame_shape(frame)
    assert not frame.isna().to_numpy().any()
    # 26 years of one market's sessions: roughly 245-253 a year
    assert 6_300 < len(frame) < 6_600


@pytest.mark.parametrize("symbol", sorted(SERIES))
def test_fx_and_rate_frames_have_the_raw_columns(series: SyntheticProvider, symbol: str) -> None:
    frame = series.fetch(symbol, None, None)
    assert_raw_frame_shape(frame)
    assert not frame[["Close", "Adj Close"]].isna().to_numpy().any()
    assert 6_300 < len(frame) < 6_800  # weekdays: about 261 a year


def test_each_symbol_trades_exactly_on_its_market_sessions(provider: SyntheticProvider) -> None:
    us = provider.fetch("^GSPC", None, None).index
    hk = provider.fetch("^HSI", None, None).index
    assert us.equals(market_sessions("us", dt.date(2000, 1, 3), dt.date(2025, 12, 31)))
    assert hk.equals(market_sessions("hk", dt.date(2000, 1, 3), dt.date(2025, 12, 31)))
    christmas, july_4, lunar_new_year = (pd.Timestamp(d) for d in ("2024-12-25", "2024-07-04", "2024-02-12"))
    assert christmas not in us and christmas not in hk
    assert july_4 not in us and july_4 in hk
    assert lunar_new_year not in hk and lunar_new_year in us


@pytest.mark.parametrize(
    ("symbol", "start", "end", "expected"),
    [
        # US: Independence Day (Thu) closed; weekend closed
        ("^GSPC", "2024-07-01", "2024-07-08", ["07-01", "07-02", "07-03", "07-05", "07-08"]),
        # HK: Lunar New Year Mon 12 and Tue 13 Feb 2024 closed
        ("^HSI", "2024-02-08", "2024-02-15", ["02-08", "02-09", "02-14", "02-15"]),
        # HK: Christmas and Boxing Day closed; US only Christmas
        ("^HSI", "2024-12-23", "2024-12-27", ["12-23", "12-24", "12-27"]),
        ("^GSPC", "2024-12-23", "2024-12-27", ["12-23", "12-24", "12-26", "12-27"]),
    ],
)
def test_dates_of_a_short_range(
    provider: SyntheticProvider, symbol: str, start: str, end: str, expected: list[str]
) -> None:
    frame = provider.fetch(symbol, dt.date.fromisoformat(start), dt.date.fromisoformat(end))
    assert frame.index.strftime("%m-%d").tolist() == expected


def test_same_seed_gives_identical_frames_in_fresh_instances() -> None:
    a, b = SyntheticProvider(MARKETS), SyntheticProvider(MARKETS)
    for symbol in MARKETS:
        fa, fb = a.fetch(symbol, None, None), b.fetch(symbol, None, None)
        assert fa.index.equals(fb.index)
        assert fa.to_numpy().tobytes() == fb.to_numpy().tobytes()


def test_same_seed_gives_identical_frames_in_another_process(provider: SyntheticProvider) -> None:
    # A fresh interpreter has a different PYTHONHASHSEED, so this catches any use of hash().
    code = textwrap.dedent(
        """
        import hashlib
        from engine.data.synthetic import SyntheticProvider
        p = SyntheticProvider({"^HSI": "hk", "EWH": "us", "HKD=X": "fx", "^IRX": "rate"})
        for symbol in ("^HSI", "EWH", "HKD=X", "^IRX"):
            f = p.fetch(symbol, None, None)
            print(hashlib.sha256(f.index.asi8.tobytes() + f.to_numpy().tobytes()).hexdigest())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    here = SyntheticProvider({"EWH": "us", **SERIES})
    expected = [
        frame_digest(provider.fetch("^HSI", None, None)),
        *(frame_digest(here.fetch(symbol, None, None)) for symbol in ("EWH", "HKD=X", "^IRX")),
    ]
    assert out.stdout.split() == expected


def test_another_seed_gives_other_data(provider: SyntheticProvider) -> None:
    other = SyntheticProvider(MARKETS, seed=7)
    for symbol in MARKETS:
        a, b = provider.fetch(symbol, None, None), other.fetch(symbol, None, None)
        assert a.index.equals(b.index)  # same calendar ...
        assert not np.isclose(a["Close"].to_numpy(), b["Close"].to_numpy()).all()  # ... other prices


def test_values_on_a_date_do_not_depend_on_the_requested_range(provider: SyntheticProvider) -> None:
    full = provider.fetch("^HSI", None, None)
    fresh = SyntheticProvider(MARKETS)
    narrow = fresh.fetch("^HSI", dt.date(2013, 5, 2), dt.date(2013, 5, 31))  # first call of this instance
    pd.testing.assert_frame_equal(narrow, full.loc["2013-05-02":"2013-05-31"], check_exact=True)
    open_ended = fresh.fetch("^HSI", dt.date(2025, 12, 1), None)
    pd.testing.assert_frame_equal(open_ended, full.loc["2025-12-01":], check_exact=True)
    assert narrow.index[0] == pd.Timestamp("2013-05-02")


def test_fetch_returns_a_copy(provider: SyntheticProvider) -> None:
    frame = provider.fetch("^GSPC", dt.date(2010, 1, 4), dt.date(2010, 1, 8))
    before = frame["Close"].iloc[0]
    frame.loc[:, "Close"] = -1.0
    assert provider.fetch("^GSPC", dt.date(2010, 1, 4), dt.date(2010, 1, 8))["Close"].iloc[0] == before


def test_range_outside_the_generated_span(provider: SyntheticProvider) -> None:
    empty = provider.fetch("^GSPC", dt.date(1990, 1, 1), dt.date(1999, 12, 31))
    assert len(empty) == 0
    assert list(empty.columns) == list(RAW_COLUMNS)
    assert all(dtype == np.float64 for dtype in empty.dtypes)
    assert isinstance(empty.index, pd.DatetimeIndex) and empty.index.name == "Date"
    overlap = provider.fetch("^GSPC", dt.date(2025, 12, 29), dt.date(2026, 6, 30))
    assert overlap.index.strftime("%Y-%m-%d").tolist() == ["2025-12-29", "2025-12-30", "2025-12-31"]


def test_a_shorter_span_is_generated_over_that_span() -> None:
    p = SyntheticProvider({"^HSI": "hk"}, first=dt.date(2024, 1, 1), last=dt.date(2024, 3, 31))
    frame = p.fetch("^HSI", None, None)
    assert frame.index[0] == pd.Timestamp("2024-01-02")  # 1 January is a holiday
    assert frame.index[-1] == pd.Timestamp("2024-03-28")  # Good Friday and Easter Monday follow


@pytest.mark.parametrize("symbol", sorted(MARKETS) + sorted(ETFS))
def test_ohlc_are_consistent_and_positive(provider: SyntheticProvider, etfs: SyntheticProvider, symbol: str) -> None:
    f = (provider if symbol in MARKETS else etfs).fetch(symbol, None, None)
    assert (f[["Open", "High", "Low", "Close", "Volume"]] > 0).all().all()
    assert (f["High"] >= f[["Open", "Close"]].max(axis=1)).all()
    assert (f["Low"] <= f[["Open", "Close"]].min(axis=1)).all()
    if symbol in ETFS:  # back-adjusted for the dividends paid later
        assert (f["Adj Close"] <= f["Close"]).all() and f["Adj Close"].iloc[0] < f["Close"].iloc[0]
    else:
        assert (f["Adj Close"] == f["Close"]).all()
    assert (f["Volume"] == np.round(f["Volume"])).all() and (f["Volume"] >= 1).all()
    # Open is the previous close times a small gap
    gap = np.log(f["Open"] / f["Close"].shift(1)).dropna()
    assert gap.abs().max() < 0.05


def test_start_levels_are_plausible(provider: SyntheticProvider) -> None:
    assert 500 < provider.fetch("^GSPC", None, None)["Close"].iloc[0] < 2_000
    assert 5_000 < provider.fetch("^HSI", None, None)["Close"].iloc[0] < 20_000


def test_daily_volatility_is_about_the_target(log_returns: pd.DataFrame) -> None:
    us = log_returns["us"][log_returns["us"] != 0]  # drop days the US was closed
    hk = log_returns["hk"][log_returns["hk"] != 0]
    assert 0.009 < us.std() < 0.013
    assert 0.012 < hk.std() < 0.018


def test_volatility_clusters(provider: SyntheticProvider) -> None:
    for symbol in ("^GSPC", "^HSI"):
        r = np.log(provider.fetch(symbol, None, None)["Close"]).diff().dropna()
        monthly_vol = r.groupby(np.arange(len(r)) // 21).std()
        assert monthly_vol.autocorr(1) > 0.3  # about 0 for returns of constant volatility


def test_hk_follows_the_previous_us_day_more_than_the_same_day(log_returns: pd.DataFrame) -> None:
    same_date = log_returns["hk"].corr(log_returns["us"])
    asynchronous = log_returns["hk"].corr(log_returns["us"].shift(1))
    assert asynchronous > same_date + 0.1


@pytest.mark.parametrize("seed", [20250120, 1, 42])
def test_rolling_correlation_switches_regimes(seed: int) -> None:
    r = np.log(union_closes(SyntheticProvider(MARKETS, seed=seed))).diff()
    # HK day d paired with US day d-1, the information timeline
    rolling = r["hk"].rolling(90).corr(r["us"].shift(1)).dropna()
    assert (rolling > 0.5).mean() > 0.25
    assert (rolling < 0.1).mean() > 0.15


def test_markets_diverge_for_long_stretches(provider: SyntheticProvider) -> None:
    # 250-session log-returns of opposite signs, at least 10% each way, in both directions
    yearly = np.log(union_closes(provider)).diff(250).dropna()
    us_up_hk_down = (yearly["us"] > 0.10) & (yearly["hk"] < -0.10)
    hk_up_us_down = (yearly["hk"] > 0.10) & (yearly["us"] < -0.10)
    assert us_up_hk_down.sum() > 150 and hk_up_us_down.sum() > 150


def test_two_symbols_of_one_market_are_close_but_not_equal(provider: SyntheticProvider) -> None:
    a = np.log(provider.fetch("^GSPC", None, None)["Close"]).diff()
    b = np.log(provider.fetch("^NDX", None, None)["Close"]).diff()
    assert a.corr(b) > 0.9
    assert not np.allclose(a.dropna(), b.dropna())


def test_unknown_symbol_is_a_data_error_naming_the_known_ones(provider: SyntheticProvider) -> None:
    with pytest.raises(DataError) as info:
        provider.fetch("^N225", None, None)
    assert info.value.got == "^N225"
    assert info.value.expected is not None
    assert all(symbol in info.value.expected for symbol in MARKETS)
    assert "^N225" in str(info.value)


def test_unknown_market_is_a_data_error() -> None:
    with pytest.raises(DataError) as info:
        market_sessions("jp", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    assert info.value.got == "jp"
    assert info.value.expected is not None
    assert all(market in info.value.expected for market in ("us", "hk", "fx", "rate"))
    with pytest.raises(DataError) as info:
        SyntheticProvider({"^N225": "jp"})
    assert info.value.got == "jp"
    assert info.value.expected is not None
    assert all(market in info.value.expected for market in ("us", "hk", "fx", "rate"))


def test_a_span_without_sessions_gives_empty_frames() -> None:
    weekend = SyntheticProvider({"^GSPC": "us", "^HSI": "hk"}, first=dt.date(2024, 1, 6), last=dt.date(2024, 1, 7))
    for symbol in ("^GSPC", "^HSI"):
        frame = weekend.fetch(symbol, None, None)
        assert len(frame) == 0 and list(frame.columns) == list(RAW_COLUMNS)
        assert isinstance(frame.index, pd.DatetimeIndex) and frame.index.name == "Date"


def test_dates_the_calendar_does_not_cover_are_a_data_error() -> None:
    with pytest.raises(DataError) as info:
        market_sessions("hk", dt.date(1900, 1, 1), dt.date(1900, 12, 31))
    assert info.value.got == (dt.date(1900, 1, 1), dt.date(1900, 12, 31))


# --- symbols outside the ETF table are unchanged -------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "market", "options", "date", "close", "dates_digest", "sums"),
    PINNED,
    ids=[f"{row[0]}-{'short' if row[2] else 'default'}" for row in PINNED],
)
def test_index_like_symbols_are_unchanged(
    symbol: str, market: str, options: dict, date: str, close: float, dates_digest: str, sums: tuple
) -> None:
    # Pinned before ETFs, fx and rates were added: adding kinds of series must not move the
    # existing ones (stored runs and golden files were made from them).
    frame = SyntheticProvider({symbol: market}, **options).fetch(symbol, None, None)
    assert frame.loc[date, "Close"] == pytest.approx(close, rel=1e-12)
    assert hashlib.sha256(frame.index.asi8.tobytes()).hexdigest()[:16] == dates_digest
    assert list(frame.columns) == list(RAW_COLUMNS)
    np.testing.assert_allclose(frame.sum().to_numpy(), sums, rtol=1e-12)


# --- ETFs: table factor, listing sessions, quarterly dividends ------------------------------


def test_a_us_listed_hk_etf_trades_on_xnys_and_follows_the_hk_factor(etfs: SyntheticProvider) -> None:
    ewh = etfs.fetch("EWH", None, None)
    assert ewh.index.equals(market_sessions("us", FIRST, LAST))
    assert pd.Timestamp("2024-02-12") in ewh.index  # Lunar New Year: HK closed, New York open
    assert pd.Timestamp("2024-07-04") not in ewh.index
    assert etfs.fetch("2800.HK", None, None).index.equals(market_sessions("hk", FIRST, LAST))
    closes = {s: etfs.fetch(s, None, None)["Adj Close"] for s in ("EWH", "^HSI", "^GSPC")}
    weekly = np.log(pd.concat(closes, axis=1, sort=True).ffill().resample("W-FRI").last()).diff()
    with_hk, with_us = weekly["EWH"].corr(weekly["^HSI"]), weekly["EWH"].corr(weekly["^GSPC"])
    assert with_hk > 0.9  # same factor, 15% idiosyncratic noise
    assert with_hk > with_us + 0.3  # the US factor would give the opposite


@pytest.mark.parametrize("symbol", sorted(ETFS))
def test_etf_adjustment_steps_only_on_ex_dates(etfs: SyntheticProvider, symbol: str) -> None:
    f = etfs.fetch(symbol, None, None)
    ex = expected_ex_dates(f.index)
    assert adjustment_steps(f).index.equals(ex)
    assert len(ex) == 4 * 26
    # Adj Close is the price itself from the last ex-date on, below it before
    before, after = f.loc[: ex[-1] - pd.Timedelta(days=1)], f.loc[ex[-1] :]
    assert (after["Adj Close"] == after["Close"]).all()
    assert (before["Adj Close"] < before["Close"]).all()


@pytest.mark.parametrize("symbol", sorted(ETFS))
def test_etf_ex_date_drop_is_a_quarter_of_the_yield(etfs: SyntheticProvider, symbol: str) -> None:
    f = etfs.fetch(symbol, None, None)
    quarter = ETFS[symbol][1] / 4
    steps = adjustment_steps(f)
    np.testing.assert_allclose(steps.to_numpy(), quarter, rtol=1e-9)
    # D = quarter * previous Close; the price gives up D relative to the total return
    ex = steps.index
    prev = f["Close"].shift(1)
    dividend = quarter * prev[ex]
    total = f["Adj Close"] / f["Adj Close"].shift(1)
    np.testing.assert_allclose(
        (f.loc[ex, "Close"] / (prev[ex] - dividend)).to_numpy(), total[ex].to_numpy(), rtol=1e-12
    )
    # Open on an ex-date gaps down by about the dividend
    gap = np.log(f["Open"] / prev)
    assert gap[ex].mean() < gap.drop(ex).mean() - quarter / 2


@pytest.mark.parametrize("symbol", sorted(ETFS))
def test_etf_adj_close_returns_are_the_total_returns(etfs: SyntheticProvider, symbol: str) -> None:
    f = etfs.fetch(symbol, None, None)
    quarter = ETFS[symbol][1] / 4
    close, prev = f["Close"], f["Close"].shift(1)
    ex = expected_ex_dates(f.index)
    # total return of holding one share: the price return, and on an ex-date the dividend
    # D = quarter * previous Close reinvested at the ex-date reference price previous Close - D
    dividend = pd.Series(0.0, index=f.index)
    dividend[ex] = quarter * prev[ex]
    total = (close / (prev - dividend)).iloc[1:]
    adjusted = (f["Adj Close"] / f["Adj Close"].shift(1)).iloc[1:]
    np.testing.assert_allclose(adjusted.to_numpy(), total.to_numpy(), rtol=1e-12)
    assert not np.allclose((close / prev).iloc[1:].to_numpy(), total.to_numpy(), rtol=1e-6)  # prices alone are not


@pytest.mark.parametrize("symbol", sorted(ETFS))
def test_dividends_add_up_to_the_annual_yield(etfs: SyntheticProvider, symbol: str) -> None:
    f = etfs.fetch(symbol, None, None)
    steps = adjustment_steps(f)
    per_year = steps.groupby(steps.index.year).size()
    assert (per_year.loc[2001:2025] == 4).all()
    years = (f.index[-1] - f.index[0]).days / 365.25
    annual = steps.sum() / years
    assert annual == pytest.approx(ETFS[symbol][1], rel=0.02)


def test_etf_price_return_lags_its_total_return_by_the_yield(etfs: SyntheticProvider) -> None:
    f = etfs.fetch("EWH", None, None)
    years = (f.index[-1] - f.index[0]).days / 365.25
    price = np.log(f["Close"].iloc[-1] / f["Close"].iloc[0]) / years
    total = np.log(f["Adj Close"].iloc[-1] / f["Adj Close"].iloc[0]) / years
    assert total - price == pytest.approx(-np.log1p(-0.03 / 4) * 4, rel=0.05)


@pytest.mark.parametrize(
    ("first", "expected"),
    [
        # 15 March 2025 is a Saturday, 15 June a Sunday: the ex-dates are the Mondays after
        ("2025-03-14", ["2025-03-17", "2025-06-16"]),
        ("2025-03-16", ["2025-03-17", "2025-06-16"]),  # the span's first session is the March one
        ("2025-03-17", ["2025-03-17", "2025-06-16"]),
        ("2025-03-18", ["2025-06-16"]),  # the March ex-date was before the span
    ],
)
def test_ex_dates_near_the_start_of_a_span(first: str, expected: list[str]) -> None:
    # Through the private helper: on a span's first session the price before is the start level,
    # so the frame alone cannot show whether it is an ex-date.
    start, last = dt.date.fromisoformat(first), dt.date(2025, 6, 30)
    days = market_sessions("us", start, last)
    counts = synthetic._ex_dividend_counts("us", days, start, last)
    assert days[np.diff(counts, prepend=0) == 1].strftime("%Y-%m-%d").tolist() == expected


def test_etf_depends_only_on_its_own_symbol_and_market(etfs: SyntheticProvider) -> None:
    alone = SyntheticProvider({"EWH": "us"}).fetch("EWH", None, None)
    assert frame_digest(alone) == frame_digest(etfs.fetch("EWH", None, None))
    in_hk = SyntheticProvider({"EWH": "hk"}).fetch("EWH", None, None)
    assert in_hk.index.equals(market_sessions("hk", FIRST, LAST))


# --- fx: USD/HKD inside the convertibility band, every weekday ------------------------------


def test_fx_trades_every_weekday(series: SyntheticProvider) -> None:
    fx = series.fetch("HKD=X", None, None)
    assert fx.index.equals(pd.DatetimeIndex(pd.bdate_range(FIRST, LAST), name="Date"))
    assert (fx.index.day_of_week < 5).all()
    # exchange holidays are FX days: Christmas, Independence Day, Lunar New Year
    assert all(pd.Timestamp(d) in fx.index for d in ("2024-12-25", "2024-07-04", "2024-02-12"))
    assert series.fetch("HKD=X", dt.date(2024, 7, 3), dt.date(2024, 7, 8)).index.strftime("%m-%d").tolist() == [
        "07-03",
        "07-04",
        "07-05",
        "07-08",
    ]


def test_fx_stays_strictly_inside_the_convertibility_band(series: SyntheticProvider) -> None:
    fx = series.fetch("HKD=X", None, None)
    prices = fx[["Open", "High", "Low", "Close"]].to_numpy()
    assert (prices > 7.75).all() and (prices < 7.85).all()
    assert (fx["High"] >= fx[["Open", "Close"]].max(axis=1)).all()
    assert (fx["Low"] <= fx[["Open", "Close"]].min(axis=1)).all()
    assert (fx["Adj Close"] == fx["Close"]).all()
    assert (fx["Volume"] == 0).all()


def test_fx_band_holds_for_any_path() -> None:
    # The paths above never reach the cap; the mapping itself must keep any y inside the band.
    y = np.array([-1e300, -1e6, -50.0, -3.0, 0.0, 3.0, 50.0, 1e6, 1e300])
    level = synthetic._fx_level(y)
    assert (level > 7.75).all() and (level < 7.85).all()
    assert level[4] == 7.80
    assert (np.diff(level) >= 0).all()


@pytest.mark.parametrize("seed", [20250120, 1, 42])
def test_fx_reverts_to_7_80_and_uses_the_band(seed: int) -> None:
    close = SyntheticProvider(SERIES, seed=seed).fetch("HKD=X", None, None)["Close"]
    assert 7.77 < close.mean() < 7.83  # the 26-year mean: 7.80 give or take 0.012 (one sd)
    assert 0.1 < (close > 7.80).mean() < 0.9  # both halves of the band, for long stretches
    assert close.min() < 7.77 and close.max() > 7.83
    daily = close.diff().abs()
    assert daily.max() < 0.02  # a quiet pegged rate: no jumps across the band
    assert daily.mean() > 0.0005  # ... but it moves


# --- rate: a cash rate in percent a year on XNYS sessions -----------------------------------


def test_rate_is_a_close_only_percent_series_on_xnys_sessions(series: SyntheticProvider) -> None:
    rate = series.fetch("^IRX", None, None)
    assert rate.index.equals(market_sessions("us", FIRST, LAST))
    assert rate[["Open", "High", "Low", "Volume"]].isna().all().all()  # like the real ^IRX file
    assert rate["Close"].notna().all()
    assert (rate["Close"] >= 0).all()
    assert (rate["Adj Close"] == rate["Close"]).all()


@pytest.mark.parametrize("seed", [20250120, 1, 7])
def test_rate_swings_slowly_mostly_between_0_and_6(seed: int) -> None:
    close = SyntheticProvider(SERIES, seed=seed).fetch("^IRX", None, None)["Close"]
    assert (close >= 0).all()
    assert ((close >= 0) & (close <= 6)).mean() > 0.95
    assert 0.5 < close.mean() < 4.5
    yearly = close.rolling(252).mean().dropna()
    assert yearly.max() - yearly.min() > 2.0  # multi-year swings of percentage points
    assert close.diff().abs().max() < 0.1  # ... made of small daily moves (a fraction, not a percent)


def test_rate_stays_at_the_zero_floor_for_a_while() -> None:
    close = SyntheticProvider(SERIES).fetch("^IRX", None, None)["Close"]
    assert (close == 0).mean() > 0.05  # default seed: a zero-rate era, no negative rates


# --- every kind: deterministic, range-independent ---------------------------------------------


ALL_KINDS = {"^GSPC": "us", "EWH": "us", "2800.HK": "hk", **SERIES}


def test_every_kind_is_identical_in_fresh_instances() -> None:
    a, b = SyntheticProvider(ALL_KINDS), SyntheticProvider(ALL_KINDS)
    for symbol in ALL_KINDS:
        fa, fb = a.fetch(symbol, None, None), b.fetch(symbol, None, None)
        assert fa.index.equals(fb.index)
        assert fa.to_numpy().tobytes() == fb.to_numpy().tobytes()


@pytest.mark.parametrize("symbol", sorted(ALL_KINDS))
def test_every_kind_ignores_the_requested_range_and_the_other_symbols(symbol: str) -> None:
    full = SyntheticProvider(ALL_KINDS).fetch(symbol, None, None)
    alone = SyntheticProvider({symbol: ALL_KINDS[symbol]})
    narrow = alone.fetch(symbol, dt.date(2013, 5, 2), dt.date(2013, 5, 31))
    pd.testing.assert_frame_equal(narrow, full.loc["2013-05-02":"2013-05-31"], check_exact=True)
    assert frame_digest(alone.fetch(symbol, None, None)) == frame_digest(full)


@pytest.mark.parametrize("symbol", sorted(ALL_KINDS))
def test_every_kind_changes_with_the_seed(symbol: str) -> None:
    a = SyntheticProvider(ALL_KINDS).fetch(symbol, None, None)["Close"]
    b = SyntheticProvider(ALL_KINDS, seed=7).fetch(symbol, None, None)["Close"]
    assert a.index.equals(b.index)
    assert not np.isclose(a.to_numpy(), b.to_numpy()).all()


def test_fx_and_rate_spans_without_sessions_give_empty_frames() -> None:
    weekend = SyntheticProvider(SERIES, first=dt.date(2024, 1, 6), last=dt.date(2024, 1, 7))
    for symbol in SERIES:
        frame = weekend.fetch(symbol, None, None)
        assert len(frame) == 0 and list(frame.columns) == list(RAW_COLUMNS)
