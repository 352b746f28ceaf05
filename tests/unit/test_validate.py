"""The fault detectors' thresholds on tiny hand-made series (engine.data.faults, engine.data.validate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data import faults
from engine.data.base import check_symbol, symbol_to_filename
from engine.data.validate import clean_fx, clean_prices, clean_rate
from engine.errors import DataError


def _series(values: list[float], start: str = "2019-01-02") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype="float64")


def _raw(values: list[float], start: str = "2019-01-02", dates: pd.DatetimeIndex | None = None) -> pd.DataFrame:
    index = dates if dates is not None else pd.bdate_range(start, periods=len(values))
    v = np.asarray(values, dtype="float64")
    frame = {"Open": v, "High": v * 1.01, "Low": v * 0.99, "Close": v, "Adj Close": v, "Volume": np.full(len(v), 1e6)}
    return pd.DataFrame(frame, index=pd.DatetimeIndex(index, name="Date"))


def _walk(n: int, seed: int = 0, vol: float = 0.01) -> list[float]:
    rng = np.random.default_rng(seed)
    return list(100.0 * np.exp(np.cumsum(rng.normal(0, vol, n))))


# --- spikes --------------------------------------------------------------------------------------------


def test_a_flat_series_with_one_reverting_day_is_a_spike() -> None:
    # typical move 0 -> the threshold is the floor 0.25; ln(1.3) = 0.26 > 0.25 both ways
    s = _series([100, 100.1, 100, 130, 100.1, 100])
    assert [d for d, *_ in faults.reverting_spikes(s)] == [s.index[3]]


def test_a_spike_note_shows_the_price_the_file_holds() -> None:
    """``:g`` kept six digits: a close of 9999999 (under the 1e7 refused as no price) was noted as ``1e+07``."""
    values = [1234.5678] * 3 + [9_999_999.0] + [1234.5678] * 3
    _, notes = clean_prices(_raw(values), symbol="X", price="close")
    assert notes == [
        "X: 2019-01-07: Close 9999999 is a one-day spike between 1234.5678 and 1234.5678; row dropped (treated as "
        "a day it did not trade)"
    ]
    assert faults.number(1e-05) == "1e-05" and faults.number(2.0) == "2" and faults.number(0.1) == "0.1"


def test_a_move_just_under_the_floor_is_not_a_spike() -> None:
    # ln(1.28) = 0.247 < 0.25
    s = _series([100, 100.1, 100, 128, 100.1, 100])
    assert faults.reverting_spikes(s) == []


def test_a_jump_that_is_only_partly_given_back_is_not_a_spike() -> None:
    # up ln(2) = 0.69, back ln(1.5) = 0.41: net 0.29 > 0.41 / 3
    s = _series([100, 100, 100, 200, 133.3, 133])
    assert faults.reverting_spikes(s) == []


def test_the_threshold_scales_with_the_typical_move() -> None:
    # a volatile series (3% a day): 8 x ~0.02 = 0.16 < floor, so a 30% reverting day is still a spike
    values = _walk(100, vol=0.03)
    values[80] *= 1.6
    s = _series(values)
    assert [d for d, *_ in faults.reverting_spikes(s)] == [s.index[80]]
    # a very volatile one (10% a day): 8 x ~0.067 = 0.54 > ln(1.6) = 0.47, so the same day is normal
    values = _walk(100, vol=0.10)
    values[80] *= 1.6
    assert faults.reverting_spikes(_series(values)) == []


# --- splits --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "kind"),
    [
        (2.0, "2-for-1 split"),
        (100.0, "100-for-1 split"),
        (1 / 3, "1-for-3 reverse split"),
        (1 / 50, "1-for-50 reverse split"),
    ],
)
def test_a_persistent_jump_at_a_split_ratio_is_refused(ratio: float, kind: str) -> None:
    """The move is said as the new price over the old (x3 when it trebles), the kind of split from that."""
    values = _walk(60)
    values[30:] = [v / ratio for v in values[30:]]
    s = _series(values)
    with pytest.raises(DataError, match=kind) as err:
        faults.unadjusted_splits(s, symbol="X", column="Close")
    assert str(s.index[30].date()) in err.value.message
    assert f"(x{values[30] / values[29]:.3g} in one row)" in err.value.message, err.value.message


def test_a_crash_of_a_third_is_not_a_split() -> None:
    # the Hang Seng on 1987-10-26: -33.3% (a ratio of 1.5) after four closed days: real, and 1.5 is not a split ratio
    values = _walk(60)
    values[30:] = [v / 1.4993 for v in values[30:]]
    faults.unadjusted_splits(_series(values), symbol="X", column="Close")


def test_a_ratio_beyond_the_tolerance_is_not_a_split() -> None:
    values = _walk(60)
    values[30:] = [v / 2.05 for v in values[30:]]  # 2.5% from 2
    faults.unadjusted_splits(_series(values), symbol="X", column="Close")


# --- stale runs, absurd values, non-sessions -------------------------------------------------------------


def test_stale_runs_count_equal_consecutive_values() -> None:
    s = _series([1.0, 2.0] + [3.0] * 20 + [4.0] + [5.0] * 19)
    assert faults.stale_runs(s, 20) == [(s.index[2], s.index[21], 20, 3.0)]


def test_a_price_frozen_for_20_rows_is_refused_19_is_not() -> None:
    values = _walk(80)
    values[40:59] = [values[40]] * 19
    clean_prices(_raw(values), symbol="X", price="close")
    values[40:60] = [values[40]] * 20
    with pytest.raises(DataError, match="20 consecutive rows") as err:
        clean_prices(_raw(values), symbol="X", price="close")
    assert "2019-02-27" in err.value.message  # the 41st business day from 2019-01-02


@pytest.mark.parametrize(("value", "refused"), [(1e-6, True), (1.1e-6, False), (9.99e6, False), (1e7, True)])
def test_absurd_price_bounds(value: float, refused: bool) -> None:
    s = _series([1.0, value])
    if refused:
        with pytest.raises(DataError):
            faults.absurd_values(s, symbol="X", column="Close")
    else:
        faults.absurd_values(s, symbol="X", column="Close")


def test_weekend_rows_are_dropped_and_a_weekday_holiday_only_when_it_shows_no_trading() -> None:
    dates = pd.DatetimeIndex(["2019-12-23", "2019-12-24", "2019-12-25", "2019-12-26", "2019-12-28"])
    raw = _raw([100, 101, 102, 103, 104], dates=dates)
    prices, notes = clean_prices(raw, symbol="X", price="close", market="us")
    assert list(prices.index) == list(dates[:4])  # Christmas has a range: kept; Saturday dropped
    assert any("2019-12-28" in n and "dropped" in n for n in notes)
    assert any("2019-12-25" in n and "kept" in n for n in notes)
    raw.loc["2019-12-25", ["Open", "High", "Low", "Volume"]] = [102.0, 102.0, 102.0, 0.0]
    prices, notes = clean_prices(raw, symbol="X", price="close", market="us")
    assert pd.Timestamp("2019-12-25") not in prices.index


# --- exchange and cash rates ---------------------------------------------------------------------------


def test_a_cash_rate_in_percent_near_zero_is_accepted_when_its_history_is_in_percent() -> None:
    window = _raw([0.05, 0.04, 0.06, 0.05])
    history = _raw([5.0, 4.0, 0.05, 0.04, 0.06, 0.05], start="2018-12-27")
    rate, _ = clean_rate(window, symbol="^IRX", history=history)
    assert rate.iloc[0] == pytest.approx(0.0005)
    with pytest.raises(DataError, match="fractions"):
        clean_rate(window, symbol="^IRX")


@pytest.mark.parametrize(("value", "refused"), [(-1.01, True), (-1.0, False), (25.0, False), (25.01, True)])
def test_cash_rate_band(value: float, refused: bool) -> None:
    raw = _raw([2.0, value, 2.0])
    if refused:
        with pytest.raises(DataError, match="2019-01-03"):
            clean_rate(raw, symbol="^IRX")
    else:
        clean_rate(raw, symbol="^IRX")


def test_an_fx_spike_is_dropped_when_there_is_no_band() -> None:
    values = [7.8] * 10 + [78.0] + [7.8] * 10
    values = [v + 1e-4 * i for i, v in enumerate(values)]  # no stale run
    fx, notes = clean_fx(_raw(values), symbol="HKD=X", band=None)
    assert len(fx) == 20 and fx.max() < 8
    assert any("spike" in n and "2019-01-16" in n for n in notes)


# --- symbols -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("symbol", ["^GSPC", "2800.HK", "HKD=X", "BRK-B", "A" * 32])
def test_tickers_are_accepted(symbol: str) -> None:
    assert check_symbol(symbol) == symbol
    assert "/" not in symbol_to_filename(symbol)


@pytest.mark.parametrize("symbol", ["A" * 33, "a/b", "..", ".x", "a..b", "x\n", "^", "-", "é"])
def test_non_tickers_are_refused(symbol: str) -> None:
    with pytest.raises(DataError) as err:
        check_symbol(symbol)
    assert err.value.got == symbol
