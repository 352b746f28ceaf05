"""Planted data faults: each one is repaired and noted, or refused naming the file and the date; none is silent.

A clean, realistic set of Yahoo-style CSVs (S&P 500 and Hang Seng on their exchange
sessions, USD/HKD on weekdays, ^IRX in percent) is generated with a fixed seed into a
temporary directory; one fault is planted in one file; the real loading path
(:func:`engine.data.panel.load_for_config` over :class:`engine.data.csv.CsvProvider`)
reads it.  The outcome must be exactly the one the fault's row says:

* ``repaired``: the load succeeds, a note that the clean run did not have names the
  symbol and the date, and every price in the panel is the clean one (or absent);
* ``refused``: a :class:`DataError` whose ``file`` is the planted file and whose
  message names the row or date (a missing file: a :class:`MissingSeries` at the config's
  ``assets.<name>.symbol``, naming the file in its message).

A handful also go through ``seesaw run`` in a subprocess: exit 0 or 2, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.calendar import sessions
from engine.config.loader import load_config
from engine.data.cache import FrameCache
from engine.data.csv import CsvProvider
from engine.data.panel import LoadedPanel, load_for_config
from engine.errors import DataError, MissingSeries
from tests.conftest import REPO

FIRST, LAST = dt.date(2018, 1, 2), dt.date(2019, 12, 31)
CONFIG = """\
name: faults
description: Planted data faults
data: {{source: csv, start: {start}, end: 2019-12-31, price: {price}}}
cash_rate: ^IRX
assets:
  us: {{symbol: ^GSPC, market: us}}
  hk: {{symbol: ^HSI, market: hk}}
rules:
  - otherwise: {{us: 0.5, hk: 0.5}}
execution: {{lag: 1, rebalance: monthly}}
costs: {{fee_bps: 5, slippage_bps: 5}}
benchmarks:
  - {{name: buy & hold US, weights: {{us: 1.0}}, rebalance: on_change}}
initial_cash: 100000
"""
HEADER = "Date,Open,High,Low,Close,Adj Close,Volume"


def _index_csv(dates: pd.DatetimeIndex, start: float, vol: float, seed: int) -> str:
    """OHLC-consistent prices on ``dates``: a random walk with daily log volatility ``vol``."""
    rng = np.random.default_rng(seed)
    close = start * np.exp(np.cumsum(rng.normal(0.0003, vol, len(dates))))
    open_ = np.concatenate([[start], close[:-1]]) * np.exp(rng.normal(0, 0.003, len(dates)))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0, 0.004, len(dates))))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0, 0.004, len(dates))))
    volume = rng.integers(1_000_000, 5_000_000, len(dates))
    lines = [HEADER]
    for i, d in enumerate(dates):
        c = f"{close[i]:.2f}"
        lines.append(f"{d.date()},{open_[i]:.2f},{high[i]:.2f},{low[i]:.2f},{c},{c},{volume[i]}")
    return "\n".join(lines) + "\n"


def _close_only_csv(dates: pd.DatetimeIndex, values: np.ndarray, digits: int) -> str:
    lines = [HEADER] + [f"{d.date()},,,,{v:.{digits}f},{v:.{digits}f}," for d, v in zip(dates, values, strict=True)]
    return "\n".join(lines) + "\n"


def clean_files() -> dict[str, str]:
    """File name -> text of the clean data set."""
    us = sessions("us", FIRST, LAST)
    hk = sessions("hk", FIRST, LAST)
    weekdays = pd.bdate_range(FIRST, LAST)
    rng = np.random.default_rng(7)
    fx = np.clip(7.80 + np.cumsum(rng.normal(0, 0.002, len(weekdays))), 7.76, 7.84) + rng.normal(0, 1e-4, len(weekdays))
    irx = 2.0 + np.cumsum(rng.normal(0, 0.02, len(us)))
    return {
        "GSPC.csv": _index_csv(us, 2700.0, 0.011, seed=1),
        "HSI.csv": _index_csv(hk, 30000.0, 0.013, seed=2),
        "HKD_X.csv": _close_only_csv(weekdays, fx, 4),
        "IRX.csv": _close_only_csv(us, irx, 3),
    }


CLEAN = clean_files()
#: A US session in the run, and its row in GSPC.csv (1-based data row = position + 1).
D = pd.Timestamp("2019-06-14")
US_DATES = [line.split(",")[0] for line in CLEAN["GSPC.csv"].splitlines()[1:]]
K = US_DATES.index("2019-06-14")
HK_DATES = [line.split(",")[0] for line in CLEAN["HSI.csv"].splitlines()[1:]]
FX_DATES = [line.split(",")[0] for line in CLEAN["HKD_X.csv"].splitlines()[1:]]


# --- text mutations -----------------------------------------------------------------------------------


def _rows(text: str) -> tuple[str, list[str]]:
    lines = text.splitlines()
    return lines[0], lines[1:]


def _join(header: str, rows: list[str]) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def _scale(row: str, factor: float, cols: tuple[int, ...] = (1, 2, 3, 4, 5)) -> str:
    f = row.split(",")
    for j in cols:
        if f[j]:
            f[j] = f"{float(f[j]) * factor:.6g}"
    return ",".join(f)


def _set(row: str, value: str, cols: tuple[int, ...] = (4, 5)) -> str:
    f = row.split(",")
    for j in cols:
        f[j] = value
    return ",".join(f)


def spike(factor: float, k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        r[k] = _scale(r[k], factor)
        return _join(h, r)

    return go


def split(ratio: float, k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        return _join(h, r[:k] + [_scale(x, 1 / ratio) for x in r[k:]])

    return go


def pad(column: str, quote: str = "") -> Callable[[str], bytes]:
    """The header naming ``column`` with a space after it (inside ``quote``s)."""
    return lambda text: text.replace(f",{column},", f",{quote}{column} {quote},", 1).encode()


def set_close(value: str, k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        r[k] = _set(r[k], value)
        return _join(h, r)

    return go


def short_row(fields: int, k: int = K) -> Callable[[str], bytes]:
    """Row ``k`` with only its first ``fields`` fields, its last one cut to the integer part (a line damaged in the
    middle of the file: ``2019-06-14,...,2886`` for ``2886.98``)."""

    def go(text: str) -> bytes:
        h, r = _rows(text)
        f = r[k].split(",")[:fields]
        f[-1] = f[-1].split(".")[0]
        r[k] = ",".join(f)
        return _join(h, r)

    return go


def set_date(value: str, k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        f = r[k].split(",")
        r[k] = ",".join([value, *f[1:]])
        return _join(h, r)

    return go


def set_rate(value: str, k: int) -> Callable[[str], bytes]:
    return set_close(value, k)


def insert_row(date: str, *, copy_of: int = K, placeholder: bool = True) -> Callable[[str], bytes]:
    """A row dated ``date`` copying row ``copy_of``'s close (flat and volume 0 when ``placeholder``), in order."""

    def go(text: str) -> bytes:
        h, r = _rows(text)
        f = r[copy_of].split(",")
        if placeholder:
            f = [date, f[4], f[4], f[4], f[4], f[5], "0" if f[6] else ""]
        else:
            f[0] = date
        r.append(",".join(f))
        r.sort(key=lambda x: x.split(",")[0])
        return _join(h, r)

    return go


def move_to_top(k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        return _join(h, [r[k], *r[:k], *r[k + 1 :]])

    return go


def shuffled(text: str) -> bytes:
    h, r = _rows(text)
    order = np.random.default_rng(3).permutation(len(r))
    return _join(h, [r[i] for i in order])


def reversed_rows(text: str) -> bytes:
    h, r = _rows(text)
    return _join(h, r[::-1])


def duplicate(*, different: bool) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        extra = _scale(r[K], 1.01) if different else r[K]
        return _join(h, [*r[: K + 1], extra, *r[K + 1 :]])

    return go


def stale(rows: int) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        value = r[K].split(",")[4]
        return _join(h, r[:K] + [_set(x, value, (1, 2, 3, 4, 5)) for x in r[K : K + rows]] + r[K + rows :])

    return go


def cut_last_line(keep: Callable[[str], int]) -> Callable[[str], bytes]:
    """The file cut inside its last line, after ``keep(last_line)`` characters (no final newline)."""

    def go(text: str) -> bytes:
        body = text.rstrip("\n")
        start = body.rfind("\n") + 1
        return body[: start + keep(body[start:])].encode()

    return go


def drop_column(name: str) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        j = h.split(",").index(name)
        cut = [",".join(f for i, f in enumerate(x.split(",")) if i != j) for x in [h, *r]]
        return _join(cut[0], cut[1:])

    return go


def replace_date(new: str, k: int = K) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        r[k] = ",".join([new, *r[k].split(",")[1:]])
        return _join(h, r)

    return go


def raw_bytes(fn: Callable[[str], str | bytes]) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        out = fn(text)
        return out if isinstance(out, bytes) else out.encode()

    return go


def fx_all(factor: float) -> Callable[[str], bytes]:
    def go(text: str) -> bytes:
        h, r = _rows(text)
        return _join(h, [_scale(x, factor, (4, 5)) for x in r])

    return go


# --- the battery --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    """One planted fault: which file, how, the expected outcome and what the note or error must name."""

    id: str
    file: str
    plant: Callable[[str], bytes] | None  # None: the file is replaced by something else (see _plant)
    outcome: str  # "repaired" or "refused"
    names: tuple[str, ...]
    price: str = "close"
    start: str = "2019-01-02"
    special: str | None = None


def _day(i: int, dates: list[str] = US_DATES) -> str:
    return dates[i]


SYM = {"GSPC.csv": "^GSPC", "HSI.csv": "^HSI", "HKD_X.csv": "HKD=X", "IRX.csv": "^IRX"}
LAST_US = US_DATES[-1]
FX_K = FX_DATES.index("2019-06-14")
HK_K = HK_DATES.index("2019-06-14")
K_NEW_YEAR = US_DATES.index("2018-12-31")
K_HK_HOLIDAY = HK_DATES.index("2019-09-30")

FAULTS = [
    # one-day spikes that revert: the row is dropped
    Fault("spike_up_10x", "GSPC.csv", spike(10.0), "repaired", ("^GSPC", "2019-06-14", "spike")),
    Fault("spike_down_10x", "GSPC.csv", spike(0.1), "repaired", ("^GSPC", "2019-06-14", "spike")),
    Fault("spike_up_2x", "GSPC.csv", spike(2.0), "repaired", ("^GSPC", "2019-06-14", "spike")),
    Fault("spike_down_half", "GSPC.csv", spike(0.5), "repaired", ("^GSPC", "2019-06-14", "spike")),
    Fault("spike_up_hk", "HSI.csv", spike(10.0, HK_K), "repaired", ("^HSI", "2019-06-14", "spike")),
    Fault("spike_adj_close", "GSPC.csv", spike(10.0), "repaired", ("^GSPC", "2019-06-14"), price="adj_close"),
    # unadjusted splits (a jump near a round ratio that stays): refused
    Fault("split_2_for_1", "GSPC.csv", split(2.0), "refused", ("2019-06-14", "split")),
    Fault("split_3_for_1", "GSPC.csv", split(3.0), "refused", ("2019-06-14", "split")),
    Fault("split_4_for_1", "GSPC.csv", split(4.0), "refused", ("2019-06-14", "split")),
    Fault("split_10_for_1", "GSPC.csv", split(10.0), "refused", ("2019-06-14", "split")),
    Fault("reverse_split_1_for_2", "GSPC.csv", split(0.5), "refused", ("2019-06-14", "reverse split")),
    Fault("reverse_split_1_for_10", "HSI.csv", split(0.1, HK_K), "refused", ("2019-06-14", "reverse split")),
    # a write cut short: the last line is dropped
    Fault("truncated_mid_close", "GSPC.csv", cut_last_line(lambda s: len(s.split(",", 4)[0]) + 30), "repaired", ()),
    Fault("truncated_mid_row", "GSPC.csv", cut_last_line(lambda s: 15), "repaired", ("^GSPC", "2019-12-3")),
    Fault("truncated_in_date", "GSPC.csv", cut_last_line(lambda s: 8), "repaired", ("^GSPC", "2019-12")),
    Fault("truncated_last_number", "GSPC.csv", None, "repaired", ("^GSPC", LAST_US), "adj_close", special="cut_num"),
    # order
    Fault("row_moved_to_top", "GSPC.csv", move_to_top(), "repaired", ("^GSPC", "2019-06-14", "sorted")),
    Fault("shuffled", "GSPC.csv", shuffled, "repaired", ("^GSPC", "sorted")),
    Fault("reversed", "GSPC.csv", reversed_rows, "repaired", ("^GSPC", LAST_US, "sorted")),
    Fault("shuffled_weekend_start", "GSPC.csv", shuffled, "repaired", ("^GSPC", "sorted"), start="2019-01-05"),
    Fault("duplicate_row_identical", "GSPC.csv", duplicate(different=False), "repaired", ("^GSPC", "2019-06-14")),
    Fault("duplicate_date_different", "GSPC.csv", duplicate(different=True), "refused", ("2019-06-14",)),
    # rows on days the market was closed
    Fault("saturday_row", "GSPC.csv", insert_row("2019-06-15", placeholder=False), "repaired", ("^GSPC", "2019-06-15")),
    Fault("sunday_row", "GSPC.csv", insert_row("2019-06-16", placeholder=False), "repaired", ("^GSPC", "2019-06-16")),
    Fault("christmas_row", "GSPC.csv", insert_row("2019-12-25"), "repaired", ("^GSPC", "2019-12-25")),
    Fault(
        "new_year_row", "GSPC.csv", insert_row("2019-01-01", copy_of=K_NEW_YEAR), "repaired", ("^GSPC", "2019-01-01")
    ),
    Fault(
        "hk_national_day", "HSI.csv", insert_row("2019-10-01", copy_of=K_HK_HOLIDAY), "repaired", ("^HSI", "2019-10-01")
    ),
    # values
    Fault("stale_3_months", "GSPC.csv", stale(63), "refused", ("2019-06-14", "stale")),
    Fault("inf_close", "GSPC.csv", set_close("inf"), "refused", ("2019-06-14", f"row {K + 1}")),
    Fault("minus_inf_close", "GSPC.csv", set_close("-inf"), "refused", ("2019-06-14",)),
    Fault("nan_string_close", "GSPC.csv", set_close("nan"), "refused", ("2019-06-14",)),
    Fault("tiny_1e-300", "GSPC.csv", set_close("1e-300"), "refused", ("2019-06-14",)),
    Fault("huge_1e308", "GSPC.csv", set_close("1e308"), "refused", ("2019-06-14",)),
    Fault(
        "zero_close",
        "GSPC.csv",
        set_close("0"),
        "repaired",
        ("^GSPC: removed 1 non-positive Close value", "2019-06-14"),
    ),
    Fault("negative_close", "GSPC.csv", set_close("-2744.5"), "repaired", ("^GSPC", "2019-06-14")),
    Fault("non_numeric_close", "GSPC.csv", set_close("abc"), "refused", ("2019-06-14", "'abc'")),
    Fault("thousands_separator", "GSPC.csv", set_close('"2,744.50"'), "refused", ("2019-06-14",)),
    Fault(
        "empty_close_rows",
        "GSPC.csv",
        set_close(""),
        "repaired",
        ("^GSPC: dropped 1 row without Close (taken as no trading)", "2019-06-14"),
    ),
    Fault("short_row_mid_file", "GSPC.csv", short_row(5), "refused", ("2019-06-14", "5 of the header's 7 fields")),
    Fault("short_row_hk", "HSI.csv", short_row(3, HK_K), "refused", ("2019-06-14", "3 of the header's 7 fields")),
    Fault(
        "date_one_digit_month",
        "GSPC.csv",
        set_date("2019-6-14"),
        "refused",
        ("'2019-6-14'", "expected YYYY-MM-DD from 1900-01-01 to 2100-12-31"),
    ),
    Fault(
        "non_utf8_header",
        "GSPC.csv",
        lambda t: t.replace("Volume", "Vol\xe9", 1).encode("latin-1"),
        "refused",
        ("byte 0xe9 on line 1 (the header)",),
    ),
    Fault(
        "extra_value_in_a_row",
        "GSPC.csv",
        lambda t: t.replace("\n2019-06-14,", "\n2019-06-14,1,", 1).encode(),
        "refused",
        ("more than the header's 7",),
    ),
    # file shape
    Fault("empty_file", "GSPC.csv", lambda t: b"", "refused", ("empty",)),
    Fault("header_only", "GSPC.csv", lambda t: (HEADER + "\n").encode(), "refused", ("no data rows",)),
    Fault("header_close_padded", "GSPC.csv", pad("Close"), "refused", ("'Close '", "with a space around 'Close'")),
    Fault("header_quoted_padded", "GSPC.csv", pad("Adj Close", '"'), "refused", ("'Adj Close '", "around 'Adj")),
    Fault("missing_date_column", "GSPC.csv", drop_column("Date"), "refused", ("Date",)),
    Fault("missing_close_column", "GSPC.csv", drop_column("Close"), "refused", ("'Close'",)),
    Fault(
        "header_close_misspelt",
        "GSPC.csv",
        lambda t: t.replace(",Close,", ",Klose,", 1).encode(),
        "refused",
        ("the header names 'Klose' but no 'Close' column: a misspelt 'Close'?",),
    ),
    Fault(  # Quandl's header: a column like Adj Close but no Adj Close; price: close reads Close
        "header_adj_close_like_columns",
        "GSPC.csv",
        lambda t: t.replace(",Adj Close,", ",Adj. Close,", 1).encode(),
        "repaired",
        ("GSPC.csv has no 'Adj Close' column (treated as missing)",),
    ),
    Fault(
        "header_unadjusted_close_too",
        "GSPC.csv",
        lambda t: t.replace(",Adj Close,", ",Unadj Close,", 1).encode(),
        "repaired",
        ("GSPC.csv has no 'Adj Close' column",),
    ),
    Fault(
        "header_close_case",
        "GSPC.csv",
        lambda t: t.replace(",Close,", ",close,", 1).encode(),
        "refused",
        ("'close' but no 'Close' column",),
    ),
    Fault("semicolon_delimited", "GSPC.csv", lambda t: t.replace(",", ";").encode(), "refused", ("Date",)),
    Fault("header_repeated_midfile", "GSPC.csv", None, "refused", ("'Date'", f"row {K + 1}"), special="header"),
    Fault("non_utf8_bytes", "GSPC.csv", None, "refused", (f"line {K + 2}",), special="latin1"),
    # dates
    Fault("bad_date_format", "GSPC.csv", replace_date("06/14/2019"), "refused", ("06/14/2019", f"row {K + 1}")),
    Fault("date_with_time", "GSPC.csv", replace_date("2019-06-14 00:00:00"), "refused", (f"row {K + 1}",)),
    Fault("date_year_9999", "GSPC.csv", replace_date("9999-06-14", len(US_DATES) - 1), "refused", ("9999-06-14",)),
    Fault("date_before_1900", "GSPC.csv", replace_date("1850-06-14", 0), "refused", ("1850-06-14", "row 1")),
    # the exchange rate (pegged, HKD per USD)
    Fault("fx_78_ten_times", "HKD_X.csv", set_close("78.0", FX_K), "repaired", ("HKD=X", "2019-06-14", "band")),
    Fault("fx_zero", "HKD_X.csv", set_close("0", FX_K), "repaired", ("HKD=X", "2019-06-14")),
    Fault("fx_outside_band", "HKD_X.csv", set_close("7.5", FX_K), "repaired", ("HKD=X", "2019-06-14", "band")),
    Fault("fx_inf", "HKD_X.csv", set_close("inf", FX_K), "refused", ("2019-06-14",)),
    Fault("fx_empty_close", "HKD_X.csv", set_close("", FX_K), "repaired", ("HKD=X", "2019-06-14", "without Close")),
    Fault("fx_saturday_row", "HKD_X.csv", insert_row("2019-06-15", copy_of=FX_K), "repaired", ("HKD=X", "2019-06-15")),
    Fault("fx_whole_file_10x", "HKD_X.csv", fx_all(10.0), "refused", ("HKD=X", "band", "2019-12-31")),
    # the cash rate (^IRX, percent per year)
    Fault("irx_5000", "IRX.csv", set_rate("5000", K), "refused", ("2019-06-14", "5000")),
    Fault("irx_below_minus_1", "IRX.csv", set_rate("-2.5", K), "refused", ("2019-06-14", "-2.5")),
    Fault("irx_as_fraction", "IRX.csv", fx_all(0.01), "refused", ("fractions",)),
    Fault("irx_inf", "IRX.csv", set_rate("inf", K), "refused", ("2019-06-14",)),
    Fault("irx_empty_close", "IRX.csv", set_rate("", K), "repaired", ("^IRX", "2019-06-14", "without Close")),
    Fault("irx_one_day_spike", "IRX.csv", set_rate("24", K), "repaired", ("^IRX", "2019-06-14", "one-day spike")),
    Fault("irx_saturday_row", "IRX.csv", insert_row("2019-06-15"), "repaired", ("^IRX", "2019-06-15")),
    # the file itself
    Fault("file_is_a_directory", "GSPC.csv", None, "refused", ("GSPC.csv",), special="dir"),
    Fault("file_missing", "GSPC.csv", None, "refused", ("GSPC.csv",), special="missing"),
    Fault("file_unreadable", "GSPC.csv", None, "refused", ("GSPC.csv",), special="chmod"),
]

#: Variations that are not faults: they must load exactly like the clean files, with no new note.
CONTROLS = {
    "crlf_line_endings": lambda t: t.replace("\n", "\r\n").encode(),
    "byte_order_mark": lambda t: b"\xef\xbb\xbf" + t.encode(),
    "extra_columns": lambda t: "\n".join(
        x + (",Dividends" if i == 0 else ",0") for i, x in enumerate(t.splitlines())
    ).encode(),
    "no_final_newline": lambda t: t.rstrip("\n").encode(),
    "blank_line_inside": lambda t: t.replace(f"\n{US_DATES[K]},", f"\n\n{US_DATES[K]},").encode(),
    "header_and_rows_end_in_a_comma": lambda t: "".join(line + ",\n" for line in t.splitlines()).encode(),
    "header_ends_in_a_comma": lambda t: t.replace("\n", ",\n", 1).encode(),
}


def _write(directory: Path, fault: Fault | None = None) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in CLEAN.items():
        (directory / name).write_text(text, encoding="utf-8")
    if fault is None:
        return
    path = directory / fault.file
    text = CLEAN[fault.file]
    if fault.plant is not None:
        path.write_bytes(fault.plant(text))
    elif fault.special == "cut_num":  # no Volume column, so the last field is a price: "2744.12" -> "27"
        body = drop_column("Volume")(text).decode().rstrip("\n")
        path.write_bytes(body[: body.rfind(",") + 3].encode())
    elif fault.special == "header":  # two downloads concatenated
        h, r = _rows(text)
        path.write_bytes(_join(h, [*r[:K], h, *r[K:]]))
    elif fault.special == "latin1":
        h, r = _rows(text)
        r[K] = r[K].replace(",", ",\xe9", 1)
        path.write_bytes(_join(h, r).replace("\xe9".encode(), b"\xe9"))
    elif fault.special == "dir":
        path.unlink()
        path.mkdir()
    elif fault.special == "missing":
        path.unlink()
    elif fault.special == "chmod":
        path.chmod(0)


def _config(directory: Path, fault: Fault | None = None) -> Path:
    path = directory / "faults.yaml"
    start, price = (fault.start, fault.price) if fault else ("2019-01-02", "close")
    path.write_text(CONFIG.format(start=start, price=price), encoding="utf-8")
    return path


def _load(directory: Path, fault: Fault | None = None) -> tuple[LoadedPanel, list[str]]:
    provider = CsvProvider(directory)
    cfg = load_config(_config(directory, fault))
    loaded = load_for_config(provider, cfg, warmup_rows=5)
    return loaded, [*loaded.panel.notes, *provider.notes]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[LoadedPanel, list[str]]]:
    """The clean files loaded once per price field."""
    out = {}
    for price in ("close", "adj_close"):
        directory = tmp_path_factory.mktemp(f"clean_{price}")
        _write(directory)
        out[price] = _load(directory, Fault("clean", "GSPC.csv", None, "repaired", (), price=price))
    return out


def test_the_clean_files_load_without_a_note(clean: dict[str, tuple[LoadedPanel, list[str]]]) -> None:
    loaded, notes = clean["close"]
    assert notes == []
    assert loaded.panel.dates[0] <= pd.Timestamp("2019-01-02") < loaded.panel.dates[loaded.start + 1]


def assert_none_silent(notes: list[str], clean_notes: list[str], error: DataError | None) -> None:
    """Every fault either adds a note the clean run did not have, or is an error."""
    assert error is not None or set(notes) - set(clean_notes), "fault passed silently"


@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
def test_fault_is_repaired_and_noted_or_refused(
    fault: Fault, tmp_path: Path, clean: dict[str, tuple[LoadedPanel, list[str]]]
) -> None:
    if fault.special == "chmod" and os.geteuid() == 0:
        pytest.skip("root reads files whatever their mode")
    _write(tmp_path, fault)
    clean_loaded, clean_notes = clean[fault.price]
    error: DataError | None = None
    try:
        loaded, notes = _load(tmp_path, fault)
    except DataError as exc:
        error, notes = exc, []
    assert_none_silent(notes, clean_notes, error)
    if fault.outcome == "refused":
        assert error is not None, f"expected a refusal, got notes {notes}"
        if fault.special == "missing":  # the config's symbol is the mistake: its YAML path; the file in the words
            assert isinstance(error, MissingSeries) and error.path == "assets.us.symbol", error
        else:
            assert error.file is not None and Path(error.file).name == fault.file, error
        for name in fault.names:
            assert name in str(error), (name, str(error))
        return
    assert error is None, f"expected a repair, got {error}"
    new = [n for n in notes if n not in clean_notes]
    symbol = SYM[fault.file]
    names = fault.names or (symbol, LAST_US)
    assert any(all(name in n for name in names) for n in new), (names, new)
    assert any(symbol in n for n in new)
    _assert_clean_prices(loaded, clean_loaded)


def _assert_clean_prices(loaded: LoadedPanel, clean_loaded: LoadedPanel) -> None:
    """Every price left in the repaired panel is the clean file's price for that date."""
    got = pd.DataFrame(loaded.panel.close, index=loaded.panel.dates, columns=loaded.panel.assets)
    want = pd.DataFrame(clean_loaded.panel.close, index=clean_loaded.panel.dates, columns=clean_loaded.panel.assets)
    assert got.index.isin(want.index).all(), "the repair invented dates"
    want = want.reindex(got.index)
    kept = got.notna()
    assert np.allclose(got[kept].fillna(0), want[kept].fillna(0), rtol=1e-12, atol=0), "a repaired price differs"


def _with_open(directory: Path, day: str, open_: str) -> Path:
    """The clean files with ^GSPC's Open on ``day`` written as ``open_``, and the config with fill: next_open."""
    _write(directory)
    text = CLEAN["GSPC.csv"].replace("\n" + day + ",", "\n" + day + ",X", 1)
    head, rest = text.split("\n" + day + ",X", 1)
    text = head + "\n" + day + "," + open_ + rest[rest.index(",") :]
    (directory / "GSPC.csv").write_text(text, encoding="utf-8")
    config = _config(directory)
    config.write_text(
        config.read_text(encoding="utf-8").replace("rebalance: monthly}", "rebalance: monthly, fill: next_open}")
    )
    return config


@pytest.mark.parametrize("open_", ["274412.0", "0", "-5", ""])
def test_an_open_that_is_no_price_is_refused_for_next_open_fills_and_noted_before_the_run(
    open_: str, tmp_path: Path
) -> None:
    """An open 100 times the day's prices (the day's high untouched) filled orders at it, silently (a 36,000%
    return); an open of 0 or below was a traceback from vectorbt.  Each is removed (noted), so a run that
    would fill at it is refused in one line naming the date; in the warm-up only a note says so."""
    day = "2019-06-03"  # a session of the run, which starts 2019-01-02
    config = _with_open(tmp_path, day, open_)
    with pytest.raises(DataError, match=rf"has no Open on 1 of its sessions in the run \(first {day}; empty, not "):
        load_for_config(CsvProvider(tmp_path), load_config(config), warmup_rows=5)
    done = subprocess.run(
        [sys.executable, "-m", "engine", "run", str(config), "--data-dir", str(tmp_path), "--results-dir",
         str(tmp_path / "results")], env={**os.environ, "SEESAW_SERVER": "off"}, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    early = tmp_path / "early"
    warmup_day = US_DATES[US_DATES.index("2019-01-02") - 2]  # in the 5 rows of warm-up before the run
    provider = CsvProvider(early)
    loaded = load_for_config(provider, load_config(_with_open(early, warmup_day, open_)), warmup_rows=5)
    said = [n for n in [*loaded.panel.notes, *provider.notes] if "open" in n]
    assert len(said) == (0 if open_ == "" else 1) and all("^GSPC" in n and warmup_day in n for n in said), said


def test_data_dir_is_stored_resolved_and_never_ignored(tmp_path: Path) -> None:
    """A relative --data-dir is stored as the directory it is (csv/ in two working directories is two
    directories, two runs); --data-dir for a config that reads another source is refused, not ignored."""
    _write(tmp_path / "csv")
    config = _config(tmp_path)
    env = {**os.environ, "SEESAW_SERVER": "off"}
    cmd = [sys.executable, "-m", "engine", "run", str(config), "--results-dir", str(tmp_path / "results")]
    done = subprocess.run([*cmd, "--data-dir", "csv"], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    [stored] = tmp_path.glob("results/faults/*/config.yaml")
    assert f"data_dir: {tmp_path / 'csv'}\n" in stored.read_text(encoding="utf-8")
    for source in ("synthetic", "yahoo"):
        refused = subprocess.run([*cmd, "--data-dir", "csv", "--source", source], cwd=tmp_path, env=env,
                                 capture_output=True, text=True)  # fmt: skip
        assert refused.returncode == 2
        assert refused.stderr.strip().endswith(
            f"data.source: a data directory (--data-dir) goes with source csv, and this config reads {source} data"
        )


def test_the_clean_opens_load_without_a_note(tmp_path: Path) -> None:
    """No real open is taken for a bad tick: one inside the day's range never is (the VIX opened at 45.69 on
    1997-10-28 between closes of 31.12 and 31.22), nor are the clean files' opens."""
    config = _with_open(tmp_path, US_DATES[10], CLEAN["GSPC.csv"].splitlines()[11].split(",")[1])
    provider = CsvProvider(tmp_path)
    loaded = load_for_config(provider, load_config(config), warmup_rows=5)
    assert [*loaded.panel.notes, *provider.notes] == []
    assert not (np.isnan(loaded.panel.open) & loaded.panel.traded).any()  # an open on every session
    from engine.data.faults import bad_opens

    vix = [("1997-10-24", 20.93, 23.49, 20.88, 23.17), ("1997-10-27", 24.91, 32.64, 24.77, 31.12),
           ("1997-10-28", 45.69, 48.64, 30.69, 31.22), ("1997-10-29", 29.32, 34.43, 28.83, 33.75)]  # fmt: skip
    calm = [(f"calm day {k}", 20.0, 20.3, 19.7, 20.0 * 1.01 ** (k % 2)) for k in range(1, 71)]  # 1% moves
    frame = pd.DataFrame(calm + vix, columns=["Date", "Open", "High", "Low", "Close"]).set_index("Date")
    assert not bad_opens(frame["Open"], frame["Close"], frame["High"], frame["Low"]).any()
    no_range = frame.assign(High=np.nan, Low=np.nan)  # a file without High and Low: no open is judged
    assert not bad_opens(no_range["Open"], no_range["Close"], no_range["High"], no_range["Low"]).any()
    outside = frame.assign(Open=frame["Open"] * ([1] * 72 + [10, 1]))  # ten times: above the day's range, far off
    assert np.flatnonzero(bad_opens(outside["Open"], outside["Close"], outside["High"], outside["Low"])).tolist() == [
        72
    ]


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_harmless_variations_load_like_the_clean_files(
    name: str, tmp_path: Path, clean: dict[str, tuple[LoadedPanel, list[str]]]
) -> None:
    _write(tmp_path)
    (tmp_path / "GSPC.csv").write_bytes(CONTROLS[name](CLEAN["GSPC.csv"]))
    loaded, notes = _load(tmp_path)
    clean_loaded, clean_notes = clean["close"]
    assert notes == clean_notes
    assert loaded.panel.fingerprint == clean_loaded.panel.fingerprint


def test_a_weekday_non_session_with_trading_is_kept_and_noted(tmp_path: Path) -> None:
    """Exchange calendars can be wrong (Hong Kong's Buddha's Birthday before 1999): a row with a range stays."""
    _write(tmp_path)
    (tmp_path / "GSPC.csv").write_bytes(insert_row("2019-12-25", placeholder=False)(CLEAN["GSPC.csv"]))
    loaded, notes = _load(tmp_path)
    assert pd.Timestamp("2019-12-25") in loaded.panel.dates
    assert any("^GSPC" in n and "2019-12-25" in n and "kept" in n for n in notes), notes


def test_a_spike_repair_restores_the_drawdown(tmp_path: Path, clean: dict[str, tuple[LoadedPanel, list[str]]]) -> None:
    """The motivating case: a 10x one-day spike no longer turns a small drawdown into -80%."""
    _write(tmp_path, FAULTS[0])
    loaded, _ = _load(tmp_path, FAULTS[0])
    us = loaded.panel.known[:, 0]
    drawdown = float(np.min(us / np.maximum.accumulate(us) - 1))
    clean_us = clean["close"][0].panel.known[:, 0]
    assert drawdown == pytest.approx(float(np.min(clean_us / np.maximum.accumulate(clean_us) - 1)), abs=0.02)
    assert drawdown > -0.5


# --- symbols that would be paths -----------------------------------------------------------------------

BAD_SYMBOLS = {
    "slash": "a/b",
    "dot_dot": "..",
    "dot_dot_inside": "A..B",
    "absolute_path": "/etc/passwd",
    "parent_path": "../../x",
    "nul": "AB\x00C",
    "newline": "AB\nC",
    "backslash": "..\\x",
    "leading_dot": ".hidden",
    "too_long": "A" * 200,
    "empty": "",
    "caret_only": "^",
    "space": "A B",
}


@pytest.mark.parametrize("symbol", BAD_SYMBOLS.values(), ids=list(BAD_SYMBOLS))
def test_a_symbol_is_never_a_path(symbol: str, tmp_path: Path) -> None:
    _write(tmp_path / "data")
    with pytest.raises(DataError) as err:
        CsvProvider(tmp_path / "data").fetch(symbol, None, None)
    assert err.value.got == symbol
    with pytest.raises(DataError):
        FrameCache(tmp_path / "cache").csv_path("yahoo", symbol)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize("symbol", ["^GSPC", "2800.HK", "HKD=X", "BRK-B", "^IRX", "ES=F", "0700.HK"])
def test_real_tickers_map_to_files_in_the_directory(symbol: str, tmp_path: Path) -> None:
    path = CsvProvider(tmp_path).path_for(symbol)
    assert path.parent == tmp_path.absolute()
    assert FrameCache(tmp_path).csv_path("yahoo", symbol).parent == tmp_path.absolute() / "yahoo"


# --- through the command line: exit 0 or 2, never a traceback ------------------------------------------

CLI_FAULTS = [
    "spike_up_10x",
    "split_2_for_1",
    "truncated_mid_close",
    "shuffled_weekend_start",
    "inf_close",
    "non_utf8_bytes",
    "irx_5000",
    "irx_as_fraction",
]


def _cli_run(config: Path, data: Path, tmp_path: Path) -> list[str]:
    results = ["--results-dir", str(tmp_path / "results"), "--store", str(tmp_path / "store.duckdb")]
    return [sys.executable, "-m", "engine", "run", str(config), "--source", "csv", "--data-dir", str(data), *results]


@pytest.mark.parametrize("fault_id", CLI_FAULTS)
def test_the_cli_exits_0_or_2_without_a_traceback(fault_id: str, tmp_path: Path) -> None:
    fault = next(f for f in FAULTS if f.id == fault_id)
    data = tmp_path / "data"
    _write(data, fault)
    config = _config(tmp_path, fault)
    proc = subprocess.run(
        _cli_run(config, data, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    if fault.outcome == "repaired":
        assert proc.returncode == 0, proc.stderr
        assert all(name in proc.stdout for name in fault.names), proc.stdout
    else:
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert fault.file in proc.stderr + proc.stdout


def test_a_config_symbol_that_is_a_path_exits_2(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _write(data)
    config = _config(tmp_path)
    config.write_text(config.read_text().replace("symbol: ^GSPC", "symbol: /etc/passwd"), encoding="utf-8")
    proc = subprocess.run(
        _cli_run(config, data, tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert "/etc/passwd" in proc.stderr + proc.stdout


NEAR_HSI = " (did you mean HSI.csv?)"


@pytest.mark.parametrize(("symbol", "near"), [("^HSIX", NEAR_HSI), ("^hsi", NEAR_HSI), ("ZZZZ", "")])
def test_a_symbol_without_a_file_names_the_config_and_its_yaml_path(symbol: str, near: str, tmp_path: Path) -> None:
    """The config's symbol (or the data directory) is the mistake: the one line names the config file and the
    asset's YAML path, as every other config error does, and the data directory's closest file, case aside."""
    data = tmp_path / "data"
    _write(data)
    config = _config(tmp_path)
    config.write_text(config.read_text().replace("symbol: ^HSI", f"symbol: {symbol}"), encoding="utf-8")
    proc = subprocess.run(_cli_run(config, data, tmp_path), capture_output=True, text=True, timeout=300)
    name = symbol.lstrip("^") + ".csv"
    assert proc.returncode == 2 and proc.stderr == (
        f"error: {config}: assets.hk.symbol: no file {name} for symbol '{symbol}' in {data}{near}\n"
    ), proc.stderr


def test_a_data_file_that_is_a_broken_link_is_named_so(tmp_path: Path) -> None:
    """HSI.csv a symbolic link to nothing: the file is there, what it links to is not, and the line says that
    (it said there is no HSI.csv, and asked whether HSI.csv was meant)."""
    data = tmp_path / "data"
    _write(data)
    (data / "HSI.csv").unlink()
    (data / "HSI.csv").symlink_to(tmp_path / "gone.csv")
    proc = subprocess.run(_cli_run(_config(tmp_path), data, tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.endswith(
        f"no file HSI.csv for symbol '^HSI' in {data} (HSI.csv is a link to {tmp_path / 'gone.csv'}, which does not "
        "exist)\n"
    ), proc.stderr


@pytest.mark.parametrize(
    ("line", "broken", "said"),
    [
        ("cash_rate: ^IRX", "cash_rate: ^IRXX", "cash_rate: no file IRXX.csv for symbol '^IRXX'"),
        (
            "end: 2019-12-31,",
            "end: 2019-12-31, fx_symbol: HKD=Y,",
            "data.fx_symbol: no file HKD_Y.csv for symbol 'HKD=Y'",
        ),
    ],
)
def test_a_rate_symbol_without_a_file_names_its_yaml_path(line: str, broken: str, said: str, tmp_path: Path) -> None:
    """The exchange rate's and the cash rate's symbols are the config's too: the line names where it sets them."""
    data = tmp_path / "data"
    _write(data)
    config = tmp_path / "faults.yaml"
    config.write_text(CONFIG.replace(line, broken).format(start="2019-01-02", price="close"), encoding="utf-8")
    proc = subprocess.run(_cli_run(config, data, tmp_path), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr.startswith(f"error: {config}: {said} in {data}"), proc.stderr


def test_a_period_without_data_names_the_dates_the_file_has(tmp_path: Path) -> None:
    """A start after the file's last date: the error says which dates the file does have."""
    data = tmp_path / "data"
    _write(data)
    cfg = load_config(_config(tmp_path))
    cfg = cfg.model_copy(update={"data": cfg.data.model_copy(update={"start": dt.date(2030, 1, 2), "end": None})})
    with pytest.raises(DataError) as refused:
        load_for_config(CsvProvider(data), cfg, warmup_rows=5)
    said = str(refused.value)
    # the first date fetched is the warm-up's, before the start the user typed: the line says so
    found = re.search(r"no data for '\^GSPC' \(asset 'us'\) in source csv from (\S+) \(the warm-up before the start "
                      r"2030-01-02\) on;", said)  # fmt: skip
    assert found is not None and dt.date.fromisoformat(found.group(1)) < dt.date(2030, 1, 2), said
    assert said.endswith(f"; it has data from {US_DATES[0]} to {US_DATES[-1]}"), said


def _plant_file(path: Path, kind: str) -> None:
    """``path`` made into something that is not a plain data file, without reading anything big."""
    if kind == "device":
        path.symlink_to("/dev/zero")  # endless: reading it first would never finish
    elif kind == "pipe":
        os.mkfifo(path)  # no writer: opening it for reading would wait forever
    elif kind == "directory":
        path.mkdir()
    elif kind == "huge":
        path.write_text(CLEAN["GSPC.csv"], encoding="utf-8")
        os.truncate(path, 65 * 1024 * 1024)  # sparse: 65 MB of zeros after the rows
    elif kind == "nul_tail":
        path.write_bytes(CLEAN["GSPC.csv"].encode() + b"\0" * 10_000)
    elif kind == "utf16":
        path.write_bytes(CLEAN["GSPC.csv"].encode("utf-16"))  # with its byte-order mark
    elif kind == "utf16_no_bom":
        path.write_bytes(CLEAN["GSPC.csv"].encode("utf-16-le"))
    elif kind == "cr_only":
        path.write_bytes(CLEAN["GSPC.csv"].replace("\n", "\r").encode())
    elif kind == "two_closes":
        header, *rows = CLEAN["GSPC.csv"].splitlines()
        path.write_text("\n".join([header.replace("Adj Close", "Close"), *rows]) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("device", "not a regular file (a pipe, device or directory)"),
        ("pipe", "not a regular file (a pipe, device or directory)"),
        ("directory", "not a regular file (a pipe, device or directory)"),
        ("huge", "68,157,440 bytes, more than the 67,108,864 a data file may have"),
        ("nul_tail", "a NUL byte on line"),
        ("two_closes", "the header names 'Close' more than once"),
        ("utf16", "UTF-16 text (as Excel or PowerShell may save it): save it as UTF-8"),
        ("utf16_no_bom", "UTF-16 text (as Excel or PowerShell may save it): save it as UTF-8"),
        ("cr_only", "its lines end in a carriage return alone (old Mac line endings): save it with LF or CRLF"),
    ],
)
def test_a_data_file_that_cannot_be_a_history_is_refused_before_it_is_read(
    tmp_path: Path, kind: str, said: str
) -> None:
    """Refused in one line, quickly and in bounded memory: never read to the end of a device, never waiting on a
    pipe, never quoting a whole damaged line."""
    data = tmp_path / "data"
    _write(data)
    (data / "GSPC.csv").unlink()
    _plant_file(data / "GSPC.csv", kind)
    provider = CsvProvider(data)
    assert provider.input_key(["^GSPC", "^HSI"]) is None or kind in (
        "nul_tail", "two_closes", "utf16", "utf16_no_bom", "cr_only"
    )  # fmt: skip
    with pytest.raises(DataError) as refused:
        load_for_config(provider, load_config(_config(tmp_path)), warmup_rows=5)
    assert said in str(refused.value) and str(data / "GSPC.csv") in refused.value.one_line()
    assert len(refused.value.one_line()) < 300


def test_a_data_directory_that_is_a_file_is_named_as_such(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=f"data directory {not_a_dir} is not a directory"):
        load_for_config(CsvProvider(not_a_dir), load_config(_config(tmp_path)), warmup_rows=5)
    with pytest.raises(DataError, match="does not exist"):
        load_for_config(CsvProvider(tmp_path / "missing"), load_config(_config(tmp_path)), warmup_rows=5)


def _auto_with_spike(directory: Path, spiked: str, k: int, late: str, first: int) -> tuple[LoadedPanel, list[str]]:
    """A ``start: auto`` run's panel and notes on the clean data with row ``k`` of ``spiked`` scaled tenfold and
    ``late`` (a file name) kept from its row ``first`` on."""
    _write(directory, Fault("spike", spiked, spike(10.0, k), "repaired", ()))
    h, r = _rows(CLEAN[late])
    (directory / late).write_bytes(_join(h, r[first:]))
    config = directory / "faults.yaml"
    config.write_text(CONFIG.format(start="auto", price="close"), encoding="utf-8")
    provider = CsvProvider(directory)
    loaded = load_for_config(provider, load_config(config), warmup_rows=5)
    return loaded, [*loaded.panel.notes, *provider.notes]


def test_start_auto_checks_and_notes_only_the_history_every_asset_shares(tmp_path: Path) -> None:
    """With ``start: auto`` the run starts once every asset has data: a spike in the S&P 500 a year before the
    Hang Seng's first row is never used, so it is not noted; the same spike after that row is."""
    hk_first = HK_DATES.index("2019-01-02")  # the Hang Seng from 2019 on
    for k, noted in ((US_DATES.index("2018-06-14"), False), (K, True)):
        loaded, notes = _auto_with_spike(tmp_path / f"spike_{k}", "GSPC.csv", k, "HSI.csv", hk_first)
        assert any(US_DATES[k] in n and "spike" in n for n in notes) is noted, notes
        assert loaded.panel.dates[loaded.start] > pd.Timestamp("2019-01-02")  # five warm-up rows after both begin


def test_start_auto_checks_and_notes_no_history_before_the_exchange_rates_first_value_needs(tmp_path: Path) -> None:
    """USD/HKD begins on 2019-03-01, after both assets: the run starts there, its warm-up on the assets' rows
    before it, so a Hang Seng spike in mid-2018 is never used and not noted; the same spike in June 2019 is."""
    fx_first = FX_DATES.index("2019-03-01")
    for k, noted in ((HK_DATES.index("2018-06-14"), False), (HK_DATES.index("2019-06-14"), True)):
        loaded, notes = _auto_with_spike(tmp_path / f"spike_{k}", "HSI.csv", k, "HKD_X.csv", fx_first)
        assert any(HK_DATES[k] in n and "spike" in n for n in notes) is noted, notes
        assert not any("2018" in n for n in notes), notes
        assert loaded.panel.dates[loaded.start] == pd.Timestamp("2019-03-01")  # warmed up on the rows before


def test_an_exchange_rate_gap_across_the_end_is_carried_forward_as_inside_a_longer_run(tmp_path: Path) -> None:
    """USD/HKD has no rows from June to August 2019 and the config ends on 2019-07-31: the gap continues past the
    end, so the rate's last value is carried over it as it would be in a longer run; the run does not stop at the
    rate's last row, and a note names the gap and the next value."""
    _write(tmp_path)
    h, r = _rows(CLEAN["HKD_X.csv"])
    kept = [row for row in r if not ("2019-06-01" <= row.split(",")[0] <= "2019-08-31")]
    (tmp_path / "HKD_X.csv").write_bytes(_join(h, kept))
    config = tmp_path / "gap.yaml"
    config.write_text(CONFIG.format(start="2019-01-02", price="close").replace("end: 2019-12-31", "end: 2019-07-31"))
    provider = CsvProvider(tmp_path)
    loaded = load_for_config(provider, load_config(config), warmup_rows=5)
    assert loaded.panel.dates[-1] == pd.Timestamp(US_DATES[max(i for i, d in enumerate(US_DATES) if d <= "2019-07-31")])
    notes = " ".join(loaded.panel.notes)
    assert "HKD=X: no value from 2019-06-01 to the end of the window (the next is on 2019-09-02)" in notes
    assert "the run ends on" not in notes
    fx = loaded.panel.usdhkd
    assert fx is not None and fx[-1] == fx[loaded.panel.dates.searchsorted(pd.Timestamp("2019-05-31"))]


def test_start_auto_keeps_the_price_an_asset_carries_over_a_long_gap_into_the_common_start(tmp_path: Path) -> None:
    """The S&P 500 has no rows from mid-November 2018 to 10 January 2019 and the Hang Seng begins on 2019-01-02:
    the S&P 500's 2018-11-14 close is its price on the common first date, so that row is kept (with its gap
    noted) and the run starts as it would without the gap, not when the S&P 500's rows resume."""
    hk_first = HK_DATES.index("2019-01-02")
    _write(tmp_path)
    h, r = _rows(CLEAN["GSPC.csv"])
    (tmp_path / "GSPC.csv").write_bytes(_join(h, [row for row in r if not ("2018-11-15" <= row[:10] <= "2019-01-10")]))
    h, r = _rows(CLEAN["HSI.csv"])
    (tmp_path / "HSI.csv").write_bytes(_join(h, r[hk_first:]))
    config = tmp_path / "faults.yaml"
    config.write_text(CONFIG.format(start="auto", price="close"), encoding="utf-8")
    loaded = load_for_config(CsvProvider(tmp_path), load_config(config), warmup_rows=5)
    dates = loaded.panel.dates
    first = dates.searchsorted(pd.Timestamp("2019-01-02"))
    assert loaded.start == first + 5  # five warm-up rows after the Hang Seng's first, as without the gap
    assert pd.Timestamp("2018-11-14") in dates  # the row the S&P 500's price comes from
    assert any("2018-11-14" in n and "longer than 10" in n for n in loaded.panel.notes)


def test_a_rate_near_zero_keeps_a_complete_last_line_that_moved_as_it_usually_does(
    data_dir: Path, tmp_path: Path
) -> None:
    """^IRX at the end of 2014 moved from 0.020 to 0.037 (a log move of 0.62) on its last line, without a newline:
    a rate near 0 moves that much often, so the line is read; the same last line cut to 3 characters of its
    Close's field in an index, whose moves are under 0.2, is dropped."""
    lines = [x for x in (data_dir / "IRX.csv").read_text(encoding="utf-8").splitlines() if x]
    kept = [lines[0], *(x for x in lines[1:] if x[:10] <= "2014-12-31")]
    assert kept[-1].startswith("2014-12-31,")
    (tmp_path / "IRX.csv").write_text("\n".join(kept), encoding="utf-8")  # no newline at the end
    provider = CsvProvider(tmp_path)
    frame = provider.fetch("^IRX", None, None)
    assert frame.index[-1] == pd.Timestamp("2014-12-31") and not provider.notes
    index = [x for x in (data_dir / "GSPC.csv").read_text(encoding="utf-8").splitlines() if x]
    index = [index[0], *(x for x in index[1:] if x[:10] <= "2014-12-31")]
    header = index[0].split(",")
    fields = index[-1].split(",")
    fields[header.index("Close")] = fields[header.index("Close")][:3]  # 2058.90 cut to 205
    (tmp_path / "GSPC.csv").write_text("\n".join([*index[:-1], ",".join(fields)]), encoding="utf-8")
    provider = CsvProvider(tmp_path)
    frame = provider.fetch("^GSPC", None, None)
    assert frame.index[-1] == pd.Timestamp("2014-12-30")
    [note] = provider.notes
    assert note.startswith("^GSPC: GSPC.csv: the last line '2014-12-31,") and note.endswith("dropped as cut short")


def test_a_walk_forward_stores_the_notes_on_its_files_among_its_data_notes(data_dir: Path, tmp_path: Path) -> None:
    """A repair made while reading a file (^GSPC's last line cut short, dropped) is a data note of the walk-forward's
    stored run, as of a run's, so that compare shows it."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("HSI.csv", "HKD_X.csv"):
        (data / name).write_bytes((data_dir / name).read_bytes())
    index = [x for x in (data_dir / "GSPC.csv").read_text(encoding="utf-8").splitlines() if x]
    header, fields = index[0].split(","), index[-1].split(",")
    fields[header.index("Close")] = fields[header.index("Close")][:3]
    (data / "GSPC.csv").write_text("\n".join([*index[:-1], ",".join(fields)]), encoding="utf-8")
    sweep = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8").split("sweep:")[0]
    (tmp_path / "wf.yaml").write_text(sweep + "sweep:\n  corr_cut: [0.1, 0.2]\n", encoding="utf-8")
    args = [tmp_path / "wf.yaml", "--source", "csv", "--data-dir", data, "--start", "2018-01-01"]
    args += ["--train", "2y", "--test", "1y", "--results-dir", tmp_path / "r"]
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "walkforward", *map(str, args)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    [metrics] = (tmp_path / "r").glob("*_walkforward/*/metrics.json")
    stored = json.loads(metrics.read_text(encoding="utf-8"))
    cut = [n for n in stored["data_notes"] if n.startswith("^GSPC: GSPC.csv: the last line")]
    assert len(cut) == 1 and cut[0] in stored["notes"], stored["data_notes"]


def test_a_cut_short_cash_rate_line_is_noted_once(data_dir: Path, tmp_path: Path) -> None:
    """With an --end, the cash rate's file is read for its history and for the run's window: its repair is one note,
    not two."""
    data = tmp_path / "data"
    data.mkdir()
    for name in ("GSPC.csv", "HSI.csv", "HKD_X.csv"):
        (data / name).write_bytes((data_dir / name).read_bytes())
    lines = [x for x in (data_dir / "IRX.csv").read_text(encoding="utf-8").splitlines() if x]
    (data / "IRX.csv").write_text("\n".join(lines)[:-12], encoding="utf-8")  # the last line cut mid-row
    config = REPO / "configs" / "relative_momentum_total_return.yaml"
    args = [
        config,
        "--source",
        "csv",
        "--data-dir",
        data,
        "--start",
        "2024-01-01",
        "--end",
        "2026-12-31",
        "--format",
        "json",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "run", *map(str, args), "--results-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    notes = json.loads(proc.stdout)[0]["notes"]
    assert len([n for n in notes if n.startswith("^IRX: IRX.csv: the last line")]) == 1, notes
    # and a sweep of a config with that cash rate: its notes under the table, each once
    sweep = (REPO / "configs" / "sweeps" / "corr_breakdown_sweep.yaml").read_text(encoding="utf-8")
    sweep = sweep.replace("initial_cash: 100000", "initial_cash: 100000\ncash_rate: ^IRX").split("sweep:")[0]
    (tmp_path / "cash_sweep.yaml").write_text(sweep + "sweep:\n  corr_cut: [0.1, 0.2]\n", encoding="utf-8")
    args = [tmp_path / "cash_sweep.yaml", *args[1:-2]]  # the same data and dates, the table's notes
    proc = subprocess.run(
        [sys.executable, "-m", "engine", "sweep", *map(str, args), "--results-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "400"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("IRX.csv: the last line") == 1, proc.stdout


@pytest.mark.parametrize(
    ("file", "dropped", "warned"),
    [
        (None, ("", ""), None),
        ("GSPC.csv", ("2019-05-01", "2019-06-30"), "^GSPC has no price from 2019-04-30 to 2019-07-01 (62 days)"),
        ("HSI.csv", ("2019-05-01", "2019-06-30"), "^HSI has no price from 2019-04-30 to 2019-07-02 (63 days)"),
        ("GSPC.csv", ("2019-05-01", "2019-05-30"), None),  # 31 days (to 2019-05-31): noted, not warned about
        ("HSI.csv", ("2019-11-01", "2019-12-31"), "the run ends on 2019-10-31, 61 days before the end asked for"),
        ("HSI.csv", ("2019-12-03", "2019-12-31"), None),  # 29 days before the end: the note says so
        # across the start (2019-01-02): the first orders are priced at a close 26 days old
        ("GSPC.csv", ("2018-12-10", "2019-01-20"), "^GSPC has no price from 2018-12-07 to 2019-01-22 (46 days)"),
        # every series ends early: the data end there, no series ended the run before the others
        ("GSPC.csv HSI.csv HKD_X.csv IRX.csv", ("2019-11-01", "2019-12-31"), None),
    ],
)
def test_a_long_gap_or_an_early_end_inside_the_run_is_a_warning(
    file: str | None, dropped: tuple[str, str], warned: str | None, tmp_path: Path
) -> None:
    """A price missing for more than a month inside the run (its last close carried over the gap), or a run ending
    over a month before its data.end because a series ends, changes every figure: a warning in every output, not
    only a note (the real histories' longest gap since 1934 is 7 days)."""
    from engine.jobs.run_assumptions import run_warnings

    _write(tmp_path)
    for name in (file or "").split():
        header, rows = _rows(CLEAN[name])
        (tmp_path / name).write_bytes(_join(header, [r for r in rows if not dropped[0] <= r[:10] <= dropped[1]]))
    cfg = load_config(_config(tmp_path))
    loaded = load_for_config(CsvProvider(tmp_path), cfg, warmup_rows=5)
    warnings = run_warnings(cfg, loaded)
    assert [w for w in warnings if warned is not None and warned in w] == warnings, warnings
    assert len(warnings) == (warned is not None), warnings


@pytest.mark.parametrize(("symbol", "file", "kind"), [("^GSPC", "GSPC.csv", "price"), ("HKD=X", "HKD_X.csv", "series")])
def test_a_long_gap_in_an_asset_is_noted_once(symbol: str, file: str, kind: str, tmp_path: Path) -> None:
    """Three weeks missing from an asset's file: one note names the gap, whether the asset is a price or a series
    (a series is cleaned by its own checks, which note the gap too: not a second note from the calendar's)."""
    _write(tmp_path)
    header, rows = _rows(CLEAN[file])
    (tmp_path / file).write_bytes(_join(header, [r for r in rows if not "2019-06-03" <= r[:10] <= "2019-06-21"]))
    extra = f"  x: {{symbol: {symbol}, market: us, instrument: series}}\n" if kind == "series" else ""
    path = tmp_path / "gap.yaml"
    path.write_text(
        "name: gap\ndata: {source: csv, start: 2019-01-02, end: 2019-12-31}\nassets:\n"
        f"  us: {{symbol: ^GSPC, market: us}}\n{extra}rules:\n  - otherwise: {{us: 1.0}}\n",
        encoding="utf-8",
    )
    provider = CsvProvider(tmp_path)
    loaded = load_for_config(provider, load_config(path), warmup_rows=5)
    gaps = [n for n in [*loaded.panel.notes, *provider.notes] if n.startswith(f"{symbol}: ") and "longer than" in n]
    assert len(gaps) == 1, gaps
    assert "2019-05-31" in gaps[0] and "2019-06-24" in gaps[0]


@pytest.mark.parametrize("gspc_ends", [None, "2019-11-29"])
def test_sessions_without_a_price_are_noted_only_up_to_the_runs_end(gspc_ends: str | None, tmp_path: Path) -> None:
    """^HSI lacks its 2019-12-10 session: noted while the run reaches it, not when ^GSPC's data (and so the run)
    end before it: a note names days the run treated as not traded, not days after it."""
    _write(tmp_path)
    header, rows = _rows(CLEAN["HSI.csv"])
    (tmp_path / "HSI.csv").write_bytes(_join(header, [r for r in rows if not r.startswith("2019-12-10,")]))
    if gspc_ends is not None:
        header, rows = _rows(CLEAN["GSPC.csv"])
        (tmp_path / "GSPC.csv").write_bytes(_join(header, [r for r in rows if r[:10] <= gspc_ends]))
    path = _config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("end: 2019-12-31", "end: null"), encoding="utf-8")
    loaded = load_for_config(CsvProvider(tmp_path), load_config(path), warmup_rows=5)
    noted = [n for n in loaded.panel.notes if n.startswith("^HSI: ") and "2019-12-10" in n]
    assert len(noted) == (gspc_ends is None), loaded.panel.notes
    if gspc_ends is not None:
        assert loaded.panel.dates[-1].date().isoformat() == gspc_ends


@pytest.mark.parametrize(("cut", "warned"), [("2019-11-01", True), ("2019-12-03", False)])
def test_without_an_end_a_series_ending_a_month_before_the_others_is_a_warning(
    cut: str, warned: bool, tmp_path: Path
) -> None:
    """With no data.end the run goes to the last date every series has data: ^HSI's stopping on 2019-10-31, 61
    days before the others' last data (2019-12-31), ends it there, a warning; 29 days before, only the note."""
    from engine.jobs.run_assumptions import run_warnings

    _write(tmp_path)
    header, rows = _rows(CLEAN["HSI.csv"])
    (tmp_path / "HSI.csv").write_bytes(_join(header, [r for r in rows if r[:10] < cut]))
    path = _config(tmp_path)
    path.write_text(path.read_text(encoding="utf-8").replace("end: 2019-12-31", "end: null"), encoding="utf-8")
    cfg = load_config(path)
    assert cfg.data.end is None
    loaded = load_for_config(CsvProvider(tmp_path), cfg, warmup_rows=5)
    ended = loaded.panel.dates[-1].date()
    days = (dt.date(2019, 12, 31) - ended).days
    expected = [
        f"faults: the run ends on {ended}, {days} days before the last data of other series: a series' data end "
        "there (later: ^GSPC 2019-12-31, HKD=X 2019-12-31, ^IRX 2019-12-31)"
    ]
    assert run_warnings(cfg, loaded) == (expected if warned else [])
    assert (days > 31) is warned


def test_a_sweep_a_run_and_a_compare_over_a_long_gap_all_show_the_warning(tmp_path: Path) -> None:
    """The gap does not depend on what a sweep varies: its table says so too, as the run's does, and a comparison
    written as CSV says so on stderr."""
    data = tmp_path / "data"
    _write(data)
    header, rows = _rows(CLEAN["HSI.csv"])
    (data / "HSI.csv").write_bytes(_join(header, [r for r in rows if not "2019-05-01" <= r[:10] <= "2019-06-30"]))
    config = _config(tmp_path)
    config.write_text(config.read_text(encoding="utf-8") + "sweep:\n  execution.lag: [1, 2]\n", encoding="utf-8")
    said = "WARNING: faults: ^HSI has no price from 2019-04-30 to 2019-07-02 (63 days) inside the run"
    for command in ("run", "sweep", "compare"):
        argv = _cli_run(config, data, tmp_path / command)
        argv[argv.index("run")] = command
        csv = ["--format", "csv"] if command == "compare" else []  # its warnings on stderr: a CSV has no place
        proc = subprocess.run(
            [*argv, *csv], capture_output=True, text=True, timeout=300, env={**os.environ, "COLUMNS": "250"}
        )
        assert proc.returncode == 0, proc.stderr
        shown = proc.stderr.replace("warning: ", "WARNING: ") if csv else proc.stdout
        assert said in shown, (command, shown)
