"""YahooProvider and FrameCache, with recorded yfinance responses and no network.

The "recorded responses" are built from ``tests/fixtures/yahoo/gspc_2024_01.csv``
(twelve ^GSPC-like sessions: real dates, prices and volumes halved so that no shared market
data is copied into the repository) into the exact shape ``yfinance.download`` 1.7
returns with ``auto_adjust=False``: columns ``MultiIndex`` ``(Price, Ticker)``
sorted by price field, ``Volume`` as int64, a ``DatetimeIndex`` named ``Date``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance

from engine.data import cache as cache_module
from engine.data.base import RAW_COLUMNS, Provider
from engine.data.cache import FrameCache, default_cache_dir
from engine.data.yahoo import YahooProvider
from engine.errors import DataError

FIXTURE = Path(__file__).parent.parent / "fixtures" / "yahoo" / "gspc_2024_01.csv"
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
SUGGESTION = "use --source csv --data-dir DIR or --source synthetic"


class NetworkUsed(BaseException):
    """A BaseException, so the provider's "download failed" handling cannot swallow it."""


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise NetworkUsed("a test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # yfinance downloads through libcurl (curl_cffi), which bypasses Python sockets.
    monkeypatch.setattr(yfinance, "download", refuse)


def expected_frame() -> pd.DataFrame:
    """The fixture as the raw frame the provider must produce."""
    frame = pd.read_csv(FIXTURE, index_col="Date", dtype={c: "float64" for c in RAW_COLUMNS})
    frame.index = pd.DatetimeIndex(pd.to_datetime(frame.index, format="%Y-%m-%d"), name="Date")
    return frame


def recorded_response(
    symbol: str = "^GSPC", *, tz: str | None = None, multi_level: bool = True, auto_adjust: bool = False
) -> pd.DataFrame:
    """What ``yfinance.download(symbol, period="max", auto_adjust=..., ...)`` returns for the fixture."""
    frame = expected_frame()
    frame["Volume"] = frame["Volume"].astype("int64")
    if auto_adjust:  # yfinance then overwrites Close with the adjusted close and drops Adj Close
        frame["Close"] = frame.pop("Adj Close")
    if tz is not None:
        frame.index = pd.DatetimeIndex(frame.index).tz_localize(tz)
    frame = frame[sorted(frame.columns)]
    if multi_level:
        frame.columns = pd.MultiIndex.from_product([list(frame.columns), [symbol.upper()]], names=["Price", "Ticker"])
    return frame


def empty_response(symbol: str = "^GSPC") -> pd.DataFrame:
    """yfinance's answer to an unknown ticker or no connection: no rows, the usual columns."""
    columns = pd.MultiIndex.from_product([sorted(RAW_COLUMNS), [symbol]], names=["Price", "Ticker"])
    return pd.DataFrame(index=pd.DatetimeIndex([]), columns=columns, dtype="float64")


class FakeDownloader:
    """Returns a copy of ``response`` (or raises it) and records each call."""

    def __init__(self, response: pd.DataFrame | BaseException) -> None:
        self.response = response
        self.calls: list[str] = []

    def __call__(self, symbol: str) -> pd.DataFrame:
        self.calls.append(symbol)
        if isinstance(self.response, BaseException):
            raise self.response
        return self.response.copy()


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def provider(tmp_path: Path, downloader: FakeDownloader, **kwargs: object) -> YahooProvider:
    return YahooProvider(FrameCache(tmp_path), downloader=downloader, now=Clock(), **kwargs)  # type: ignore[arg-type]


def seed_cache(tmp_path: Path, frame: pd.DataFrame, downloaded_at: dt.datetime) -> FrameCache:
    cache = FrameCache(tmp_path)
    cache.put("yahoo", "^GSPC", frame, downloaded_at)
    return cache


# --- normalising what yfinance returns -------------------------------------------------------------


def test_multi_level_columns_become_the_raw_frame(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(recorded_response()))
    got = p.fetch("^GSPC", None, None)
    pd.testing.assert_frame_equal(got, expected_frame(), check_exact=True)
    assert list(got.columns) == list(RAW_COLUMNS)
    assert p.notes == []
    assert isinstance(p, Provider) and p.name == "yahoo" and p.synthetic is False


def test_single_level_columns_give_the_same_frame(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(recorded_response(multi_level=False)))
    pd.testing.assert_frame_equal(p.fetch("^GSPC", None, None), expected_frame(), check_exact=True)


def test_lower_case_symbol_matches_yfinance_upper_cased_ticker(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(recorded_response("2800.HK")))
    assert len(p.fetch("2800.hk", None, None)) == 12


def test_other_ticker_in_response_fails_clearly(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(recorded_response("AAPL")))
    with pytest.raises(DataError) as info:
        p.fetch("^GSPC", None, None)
    assert "'AAPL'" in str(info.value.got)


def test_missing_adj_close_is_left_nan_not_copied(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(recorded_response(auto_adjust=True)))
    got = p.fetch("^GSPC", None, None)
    assert got["Adj Close"].isna().all()
    np.testing.assert_array_equal(got["Close"].to_numpy(), expected_frame()["Adj Close"].to_numpy())
    assert any("Adj Close" in note for note in p.notes)


def test_missing_volume_becomes_nan_with_a_note(tmp_path: Path) -> None:
    response = recorded_response(multi_level=False).drop(columns="Volume")
    p = provider(tmp_path, FakeDownloader(response))
    got = p.fetch("^GSPC", None, None)
    assert got["Volume"].isna().all() and got["Volume"].dtype == "float64"
    assert any("Volume" in note for note in p.notes)


@pytest.mark.parametrize("tz", ["America/New_York", "Asia/Hong_Kong"])
def test_tz_aware_index_keeps_the_exchange_local_date(tmp_path: Path, tz: str) -> None:
    # Hong Kong midnight is the previous day in UTC: converting before dropping the zone would shift bars.
    p = provider(tmp_path, FakeDownloader(recorded_response(tz=tz)))
    got = p.fetch("^GSPC", None, None)
    assert pd.DatetimeIndex(got.index).tz is None
    pd.testing.assert_index_equal(got.index, expected_frame().index)


def test_unsorted_and_duplicate_dates_are_sorted_and_deduplicated(tmp_path: Path) -> None:
    good = recorded_response(multi_level=False)
    changed = good.iloc[[5]].copy()
    changed["Close"] += 1.0  # same date, revised values: the later row wins
    shuffled = pd.concat([good.iloc[::-1], good.iloc[[0]], changed])
    p = provider(tmp_path, FakeDownloader(shuffled))
    got = p.fetch("^GSPC", None, None)
    want = expected_frame()
    want.loc[want.index[5], "Close"] = changed["Close"].iloc[0]
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert len(p.notes) == 3  # sorted, one exact duplicate dropped, one repeated date resolved
    assert "^GSPC: dropped 1 exact duplicate row" in p.notes  # counted in the singular
    assert "^GSPC: 1 date appeared twice with different values; kept the last" in p.notes


# --- download failures -------------------------------------------------------------------------------


def test_empty_response_is_a_one_line_data_error_with_the_alternatives(tmp_path: Path) -> None:
    p = provider(tmp_path, FakeDownloader(empty_response()))
    with pytest.raises(DataError) as info:
        p.fetch("^GSPC", None, None)
    message = str(info.value)
    assert SUGGESTION in message and "'^GSPC'" in message and str(tmp_path) in message
    assert "\n" not in message
    assert "no rows" in str(info.value.got)


def test_downloader_exception_without_cache_is_a_data_error(tmp_path: Path) -> None:
    error = ConnectionError("curl: (6) Could not resolve host: query2.finance.yahoo.com")
    p = provider(tmp_path, FakeDownloader(error))
    with pytest.raises(DataError) as info:
        p.fetch("^GSPC", None, None)
    assert SUGGESTION in str(info.value)
    assert str(info.value.got).startswith("ConnectionError: curl: (6)")


def test_downloader_exception_with_stale_cache_uses_it_and_says_so(tmp_path: Path) -> None:
    stale = expected_frame().iloc[:5]
    cache = seed_cache(tmp_path, stale, NOW - dt.timedelta(days=3))
    fake = FakeDownloader(ValueError("Expecting value: line 1 column 1 (char 0)"))
    p = YahooProvider(cache, downloader=fake, now=Clock())
    got = p.fetch("^GSPC", None, None)
    pd.testing.assert_frame_equal(got, stale, check_exact=True)
    assert fake.calls == ["^GSPC"]
    assert len(p.notes) == 1
    assert "download failed" in p.notes[0] and "2026-11-17T10:00Z" in p.notes[0]


# --- cache policy --------------------------------------------------------------------------------------


def test_fresh_cache_is_used_without_downloading(tmp_path: Path) -> None:
    cache = seed_cache(tmp_path, expected_frame(), NOW - dt.timedelta(hours=11))
    fake = FakeDownloader(recorded_response())
    p = YahooProvider(cache, downloader=fake, now=Clock(), max_age=dt.timedelta(hours=12))
    pd.testing.assert_frame_equal(p.fetch("^GSPC", None, None), expected_frame(), check_exact=True)
    assert fake.calls == []


def test_old_cache_is_refreshed_and_rewritten(tmp_path: Path) -> None:
    cache = seed_cache(tmp_path, expected_frame().iloc[:3], NOW - dt.timedelta(hours=13))
    fake = FakeDownloader(recorded_response())
    p = YahooProvider(cache, downloader=fake, now=Clock(), max_age=dt.timedelta(hours=12))
    assert len(p.fetch("^GSPC", None, None)) == 12
    assert fake.calls == ["^GSPC"]
    entry = cache.get("yahoo", "^GSPC")
    assert entry is not None and entry[1]["rows"] == 12
    assert entry[1]["downloaded_at"] == "2026-11-20T10:00:00Z"


def test_offline_uses_any_cache_and_never_downloads(tmp_path: Path) -> None:
    cache = seed_cache(tmp_path, expected_frame(), NOW - dt.timedelta(days=400))
    fake = FakeDownloader(recorded_response())
    p = YahooProvider(cache, downloader=fake, now=Clock(), offline=True)
    assert len(p.fetch("^GSPC", None, None)) == 12
    with pytest.raises(DataError) as info:
        p.fetch("^HSI", None, None)
    assert SUGGESTION in str(info.value)
    assert fake.calls == []


def test_fetch_downloads_full_history_once_and_slices_inclusively(tmp_path: Path) -> None:
    fake = FakeDownloader(recorded_response())
    p = provider(tmp_path, fake)
    got = p.fetch("^GSPC", dt.date(2024, 1, 3), dt.date(2024, 1, 12))
    assert (got.index[0], got.index[-1], len(got)) == (
        pd.Timestamp("2024-01-03"),
        pd.Timestamp("2024-01-12"),
        8,
    )
    assert len(p.fetch("^GSPC", dt.date(2024, 1, 13), dt.date(2024, 1, 15))) == 0  # weekend + holiday
    assert fake.calls == ["^GSPC"]
    entry = p.cache.get("yahoo", "^GSPC")
    assert entry is not None and (entry[1]["first"], entry[1]["last"]) == ("2024-01-02", "2024-01-18")


# --- the cache itself ----------------------------------------------------------------------------------


def test_cache_round_trip_is_exact_including_nan(tmp_path: Path) -> None:
    frame = expected_frame().iloc[:4].copy()
    frame["Open"] = [0.1 + 0.2, 1 / 3, 1e-300, np.nan]
    frame["Volume"] = [np.nan, 2.0**53, 123456789.123456789, 0.0]
    cache = FrameCache(tmp_path)
    cache.put("yahoo", "^GSPC", frame, NOW)
    entry = cache.get("yahoo", "^GSPC")
    assert entry is not None
    got, meta = entry
    pd.testing.assert_frame_equal(got, frame, check_exact=True)
    assert np.array_equal(got.to_numpy(), frame.to_numpy(), equal_nan=True)
    assert meta["symbol"] == "^GSPC" and meta["provider"] == "yahoo" and meta["seesaw_cache_version"] == 1
    assert (tmp_path / "yahoo" / "GSPC.csv").read_text().startswith("Date,Open,High,Low,Close,Adj Close,Volume\n")


def test_edited_cache_file_fails_its_checksum(tmp_path: Path) -> None:
    cache = seed_cache(tmp_path, expected_frame(), NOW)
    csv_path = tmp_path / "yahoo" / "GSPC.csv"
    csv_path.write_text(csv_path.read_text().replace("2371.4150390625", "2371.41", 1))
    with pytest.raises(DataError) as info:
        cache.get("yahoo", "^GSPC")
    assert info.value.file == str(csv_path)
    assert "delete it" in info.value.message


def test_csv_without_sidecar_or_of_another_symbol_is_absent(tmp_path: Path) -> None:
    cache = seed_cache(tmp_path, expected_frame(), NOW)
    assert cache.get("yahoo", "GSPC") is None  # same file name as ^GSPC, different symbol
    (tmp_path / "yahoo" / "GSPC.json").unlink()
    assert cache.get("yahoo", "^GSPC") is None


def test_put_leaves_no_temp_files_even_when_a_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = seed_cache(tmp_path, expected_frame(), NOW)
    assert sorted(p.name for p in (tmp_path / "yahoo").iterdir()) == ["GSPC.csv", "GSPC.json"]

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "fsync", disk_full)
    with pytest.raises(OSError):
        cache.put("yahoo", "^GSPC", expected_frame().iloc[:2], NOW)
    monkeypatch.setattr(cache_module.os, "fsync", os.fsync)
    assert sorted(p.name for p in (tmp_path / "yahoo").iterdir()) == ["GSPC.csv"]
    assert cache.get("yahoo", "^GSPC") is None  # the old sidecar went first, so no mismatched pair


def test_default_cache_dir_follows_the_environment() -> None:
    assert default_cache_dir({"SEESAW_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert default_cache_dir({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/seesaw")
    assert default_cache_dir({"XDG_CACHE_HOME": "", "HOME": "/h"}) == Path("/h/.cache/seesaw")


# --- the real downloader's call, without the network ------------------------------------------------


def test_default_downloader_asks_for_unadjusted_full_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[object, ...], dict[str, object]]] = []

    def recorder(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append((args, kwargs))
        return recorded_response()

    monkeypatch.setattr(yfinance, "download", recorder)
    p = YahooProvider(FrameCache(tmp_path), now=Clock())
    pd.testing.assert_frame_equal(p.fetch("^GSPC", None, None), expected_frame(), check_exact=True)
    [(args, kwargs)] = calls
    assert args == ("^GSPC",)
    assert kwargs["auto_adjust"] is False
    assert (kwargs["period"], kwargs["interval"], kwargs["actions"]) == ("max", "1d", False)
    assert (kwargs["progress"], kwargs["threads"]) == (False, False)


def test_default_downloader_reports_what_yfinance_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args: object, **kwargs: object) -> pd.DataFrame:
        logging.getLogger("yfinance").error("\n1 Failed download:")
        logging.getLogger("yfinance").error("['^GSPC']: YFRateLimitError('Too Many Requests')")
        return empty_response()

    monkeypatch.setattr(yfinance, "download", offline)
    p = YahooProvider(FrameCache(tmp_path), now=Clock())
    with pytest.raises(DataError) as info:
        p.fetch("^GSPC", None, None)
    assert info.value.got == "['^GSPC']: YFRateLimitError('Too Many Requests')"
    assert SUGGESTION in str(info.value)


def test_network_guard_is_not_swallowed_by_download_failure_handling(tmp_path: Path) -> None:
    p = YahooProvider(FrameCache(tmp_path), now=Clock())
    with pytest.raises(NetworkUsed):
        p.fetch("^GSPC", None, None)


def test_failure_reasons_are_summarised_for_the_error_line() -> None:
    from engine.data.yahoo import _short

    dns = "Cookie/crumb fetch failed (DNSError); Failed to get ticker '^GSPC': curl: (6) Could not resolve host: x"
    assert _short(dns) == "no network: the Yahoo host name did not resolve"
    assert _short("first; second problem") == "second problem"
    assert len(_short("x" * 500)) == 160
