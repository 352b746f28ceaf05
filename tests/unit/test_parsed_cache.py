"""Files parsed before come back from the cache as the parser made them, and only when nothing they depend on changed.

The reference is the parser itself: a provider without a cache parses every file; the frame and
notes a cached provider returns must equal them exactly (values, NaN, dates and their unit, column
order, notes).  A cache hit is proven by making the parser raise.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from engine.data import csv as csv_module
from engine.data import parsed_cache
from engine.data.csv import CsvProvider
from engine.data.parsed_cache import ParsedCache
from engine.errors import DataError

HEADER = "Date,Open,High,Low,Close,Adj Close,Volume\n"


def _fetch(folder: Path, symbol: str, cache: ParsedCache | None) -> tuple[pd.DataFrame, list[str]]:
    provider = CsvProvider(folder, parsed=cache)
    return provider.fetch(symbol, None, None), provider.notes


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(csv_module, "_parse", refuse)


def _same(a: tuple[pd.DataFrame, list[str]], b: tuple[pd.DataFrame, list[str]]) -> None:
    pd.testing.assert_frame_equal(a[0], b[0], check_exact=True, check_freq=True)
    assert a[0].index.dtype == b[0].index.dtype and a[0].index.name == b[0].index.name
    assert a[1] == b[1]


@pytest.mark.parametrize("symbol", ["^GSPC", "^HSI", "HKD=X", "^IRX"])
def test_a_real_file_comes_back_as_parsed(data_dir: Path, tmp_path: Path, symbol: str, monkeypatch) -> None:
    cache = ParsedCache(tmp_path / "cache")
    parsed = _fetch(data_dir, symbol, None)
    first = _fetch(data_dir, symbol, cache)
    _same(parsed, first)
    _no_parsing(monkeypatch)
    _same(parsed, _fetch(data_dir, symbol, cache))


def test_the_notes_of_a_repaired_file_come_back(tmp_path: Path, monkeypatch) -> None:
    """Rows out of order, a missing column, a missing value and a last line cut short: each noted."""
    data = tmp_path / "data"
    data.mkdir()
    rows = [
        "2020-01-03,3,3,3,3,3,300",
        "2020-01-02,2,2,2,2,,200",
        "2020-01-06,4,4,4,4,4,400",
        "2020-01-07,5,5,5,5,5,500",
        "2020-01-08,5",
    ]
    (data / "ABC.csv").write_text(HEADER.replace(",Volume", "") + "\n".join(r.rsplit(",", 1)[0] for r in rows))
    cache = ParsedCache(tmp_path / "cache")
    parsed = _fetch(data, "ABC", None)
    assert len(parsed[1]) == 3, parsed[1]  # no Volume column, sorted, last line dropped
    _same(parsed, _fetch(data, "ABC", cache))
    _no_parsing(monkeypatch)
    _same(parsed, _fetch(data, "ABC", cache))


def test_changed_bytes_are_parsed_again_and_replace_the_old_entry(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ABC.csv").write_text(HEADER + "2020-01-02,1,1,1,1,1,100\n")
    cache = ParsedCache(tmp_path / "cache")
    assert _fetch(data, "ABC", cache)[0]["Close"].tolist() == [1.0]
    (data / "ABC.csv").write_text(HEADER + "2020-01-02,1,1,1,2,1,100\n")
    assert _fetch(data, "ABC", cache)[0]["Close"].tolist() == [2.0]
    assert len(list((tmp_path / "cache" / "csv").glob("ABC.csv-*.npz"))) == 1


def test_the_same_file_under_another_symbol_is_another_entry(tmp_path: Path) -> None:
    """``^ABC`` and ``ABC`` both read ABC.csv; the notes name the symbol."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "ABC.csv").write_text(HEADER + "2020-01-03,1,1,1,1,1,100\n2020-01-02,1,1,1,1,1,100\n")
    cache = ParsedCache(tmp_path / "cache")
    assert _fetch(data, "^ABC", cache)[1][0].startswith("^ABC: ABC.csv")
    assert _fetch(data, "ABC", cache)[1][0].startswith("ABC: ABC.csv")
    assert _fetch(data, "^ABC", cache)[1][0].startswith("^ABC: ABC.csv")


def test_a_corrupt_entry_is_parsed_again_and_replaced(tmp_path: Path, data_dir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(data_dir / "HSI.csv", data / "HSI.csv")
    cache = ParsedCache(tmp_path / "cache")
    parsed = _fetch(data, "^HSI", cache)
    (entry,) = (tmp_path / "cache" / "csv").glob("HSI.csv-*.npz")
    raw = bytearray(entry.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # one byte inside the values: the archive's CRC no longer matches
    entry.write_bytes(bytes(raw))
    _same(parsed, _fetch(data, "^HSI", cache))
    entry.write_bytes(b"not an archive")
    _same(parsed, _fetch(data, "^HSI", cache))
    assert entry.read_bytes()[:2] == b"PK"  # replaced by a good entry


def test_a_file_that_fails_to_parse_is_never_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ABC.csv").write_text(HEADER + "2020-01-02,1,1,1,x,1,100\n")
    cache = ParsedCache(tmp_path / "cache")
    for _ in range(2):
        with pytest.raises(DataError, match="non-numeric or infinite Close 'x'"):
            _fetch(data, "ABC", cache)
    assert not list((tmp_path / "cache").rglob("*.npz"))


def test_another_parser_or_library_never_meets_the_entry(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ABC.csv").write_text(HEADER + "2020-01-02,1,1,1,1,1,100\n")
    cache = ParsedCache(tmp_path / "cache")
    _fetch(data, "ABC", cache)
    monkeypatch.setattr(parsed_cache, "_code_digest", lambda: b"another parser")
    calls = []
    real = csv_module._parse
    monkeypatch.setattr(csv_module, "_parse", lambda *a: calls.append(1) or real(*a))
    _fetch(data, "ABC", cache)
    assert calls == [1]


def test_an_unwritable_cache_only_costs_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "ABC.csv").write_text(HEADER + "2020-01-02,1,1,1,1,1,100\n")
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache's folder would be")
    frame, notes = _fetch(data, "ABC", ParsedCache(blocked))
    assert frame["Close"].tolist() == [1.0] and notes == []
