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

MARKETS = {"^GSPC": "us", "SPY": "us", "^HSI": "hk"}
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def provider() -> SyntheticProvider:
    return SyntheticProvider(MARKETS)


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


def test_public_surface() -> None:
    assert sorted(synthetic.__all__) == ["SYNTHETIC_LABEL", "SyntheticProvider", "market_sessions"]
    assert SYNTHETIC_LABEL == "SYNTHETIC"
    p = SyntheticProvider({"^GSPC": "us"})
    assert isinstance(p, Provider)
    assert (p.name, p.synthetic) == ("synthetic", True)


@pytest.mark.parametrize("symbol", sorted(MARKETS))
def test_frame_follows_the_raw_frame_contract(provider: SyntheticProvider, symbol: str) -> None:
    frame = provider.fetch(symbol, None, None)
    assert list(frame.columns) == list(RAW_COLUMNS)
    assert all(dtype == np.float64 for dtype in frame.dtypes)
    idx = frame.index
    assert isinstance(idx, pd.DatetimeIndex)
    assert idx.name == "Date"
    assert idx.tz is None
    assert (idx == idx.normalize()).all()
    assert idx.is_monotonic_increasing and idx.is_unique
    assert idx[0] >= pd.Timestamp("2000-01-03") and idx[-1] <= pd.Timestamp("2025-12-31")
    assert not frame.isna().to_numpy().any()
    # 26 years of one market's sessions: roughly 245-253 a year
    assert 6_300 < len(frame) < 6_600


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
        f = SyntheticProvider({"^HSI": "hk"}).fetch("^HSI", None, None)
        print(hashlib.sha256(f.index.asi8.tobytes() + f.to_numpy().tobytes()).hexdigest())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == frame_digest(provider.fetch("^HSI", None, None))


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


@pytest.mark.parametrize("symbol", sorted(MARKETS))
def test_ohlc_are_consistent_and_positive(provider: SyntheticProvider, symbol: str) -> None:
    f = provider.fetch(symbol, None, None)
    assert (f[["Open", "High", "Low", "Close", "Volume"]] > 0).all().all()
    assert (f["High"] >= f[["Open", "Close"]].max(axis=1)).all()
    assert (f["Low"] <= f[["Open", "Close"]].min(axis=1)).all()
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
    b = np.log(provider.fetch("SPY", None, None)["Close"]).diff()
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
    with pytest.raises(DataError) as info:
        SyntheticProvider({"^N225": "jp"})
    assert info.value.got == "jp"


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
