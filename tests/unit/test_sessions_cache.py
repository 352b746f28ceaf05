"""engine.calendar keeps each exchange's sessions on disk for the day: the same sessions as
exchange-calendars computes, read back without it; a bad or unwritable cache never changes them.

Reference: ``exchange_calendars.get_calendar(code, start=1960-01-01).sessions`` called here directly.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine import calendar


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("SEESAW_CACHE_DIR", str(tmp_path))
    calendar._all_sessions.cache_clear()
    yield tmp_path / "sessions"
    calendar._all_sessions.cache_clear()


def _reference(code: str) -> pd.DatetimeIndex:
    import exchange_calendars as xc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = xc.get_calendar(code, start=pd.Timestamp("1960-01-01")).sessions
    return pd.DatetimeIndex(out.tz_localize(None) if out.tz is not None else out)


@pytest.mark.parametrize(("market", "code"), [("us", "XNYS"), ("hk", "XHKG")])
def test_sessions_are_exchange_calendars_own_then_read_back_from_disk(
    cache: Path, market: str, code: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = calendar.sessions(market, dt.date(1960, 1, 1), dt.date(2100, 1, 1))
    assert first.equals(_reference(code)) and first.name == "date"
    [stored] = cache.glob(f"{code}-*.npy")
    assert stored.name.endswith(f"-{dt.date.today().isoformat()}.npy")
    calendar._all_sessions.cache_clear()

    def no_library(code: str) -> pd.DatetimeIndex:
        raise AssertionError("computed again instead of read from disk")

    monkeypatch.setattr(calendar, "_computed_sessions", no_library)
    again = calendar.sessions(market, dt.date(1960, 1, 1), dt.date(2100, 1, 1))
    assert again.equals(first) and again.name == "date"


def test_a_damaged_file_is_computed_again_and_replaced(cache: Path) -> None:
    calendar.sessions("us", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    [stored] = cache.glob("XNYS-*.npy")
    expected = np.load(stored)
    for damage in (b"not a numpy file", "reversed", "empty"):
        if damage == "reversed":  # a valid file whose dates are out of order
            np.save(stored, expected[::-1])
        elif damage == "empty":  # a valid file without a session
            np.save(stored, expected[:0])
        else:
            stored.write_bytes(damage)
        calendar._all_sessions.cache_clear()
        got = calendar.sessions("us", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
        assert len(got) == 253 and got[0] == pd.Timestamp("2020-01-02")
        np.testing.assert_array_equal(np.load(stored), expected)


def test_an_unwritable_cache_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory would go", encoding="utf-8")
    monkeypatch.setenv("SEESAW_CACHE_DIR", str(blocked))
    calendar._all_sessions.cache_clear()
    try:
        got = calendar.sessions("hk", dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    finally:
        calendar._all_sessions.cache_clear()
    reference = _reference("XHKG")
    assert got.equals(reference[(reference >= "2024-01-01") & (reference <= "2024-12-31")])
    assert blocked.is_file() and list(tmp_path.iterdir()) == [blocked]  # no temporary file left behind


def test_an_earlier_days_file_is_replaced(cache: Path) -> None:
    cache.mkdir(parents=True)
    old = cache / "XNYS-4.0.0-2020-01-01.npy"
    np.save(old, np.array(["2020-01-02"], dtype="datetime64[ns]"))
    other = cache / "XHKG-4.0.0-2020-01-01.npy"
    np.save(other, np.array(["2020-01-02"], dtype="datetime64[ns]"))
    calendar.sessions("us", dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert not old.exists() and other.exists()  # another calendar's file is its own business
    assert len(list(cache.glob("XNYS-*.npy"))) == 1
