"""Check one symbol's raw frame and reduce it to the price series Seesaw trades on.

What is checked, and what happens (every change is reported in the notes):

* dates must be unique and ascending: unsorted rows are sorted (noted); a date
  repeated with identical values keeps one row (noted); a date repeated with
  different values is a :class:`~engine.errors.DataError`.
* the chosen price column (``Close`` or ``Adj Close``) must exist: a file with
  no value at all in it is an error that names the other column if it has data.
* rows whose price is empty are not sessions of that symbol (noted, counted);
  non-positive prices are removed (noted with the first dates).
* gaps: against the market's exchange calendar, sessions with no row are
  counted and the first ones named; gaps longer than 10 calendar days are
  listed.  Nothing is filled in: a missing session is simply a day on which
  that symbol did not trade.
* the USD/HKD rate (:func:`clean_fx`): closes outside a plausibility band
  (default 7.74-7.86, around the 7.75-7.85 convertibility band) are bad ticks
  and are dropped, with the dates and values in the notes; the rate is later
  carried forward over them as over any FX holiday.
* a cash-rate series (:func:`clean_rate`) is read from ``Close`` in percent
  per year; opens (:func:`open_prices`) are put on the price column's basis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.calendar import sessions
from engine.errors import DataError

__all__ = ["PRICE_COLUMNS", "calendar_gap_notes", "clean_fx", "clean_prices", "clean_rate", "open_prices"]

#: config value of ``data.price`` -> raw column
PRICE_COLUMNS = {"close": "Close", "adj_close": "Adj Close"}
_LONG_GAP_DAYS = 10


def _first_dates(index: pd.Index, k: int = 3) -> str:
    shown = ", ".join(str(pd.Timestamp(d).date()) for d in index[:k])
    return shown + (", …" if len(index) > k else "")


def clean_prices(
    raw: pd.DataFrame, *, symbol: str, price: str, asset: str | None = None
) -> tuple[pd.Series, list[str]]:
    """Validate ``raw`` and return (prices on the symbol's trading dates, notes).

    ``price`` is ``close`` or ``adj_close``; ``asset`` (the config's name) makes
    the hint of a missing column name the asset's own ``price`` key.  The result
    is indexed by date, strictly positive, ascending and unique.
    """
    notes: list[str] = []
    frame = _ordered(raw, symbol, notes)
    column = PRICE_COLUMNS[price]
    values = frame[column]
    if values.isna().all():
        other = "adj_close" if price == "close" else "close"
        has_other = len(frame) and frame[PRICE_COLUMNS[other]].notna().any()
        where = f"assets.{asset}.price" if asset else "data.price"
        hint = f"; this data has only {PRICE_COLUMNS[other]!r}: set {where}: {other}" if has_other else ""
        raise DataError(
            f"{symbol}: no {column!r} values{hint}",
            expected=f"a {column!r} column with prices",
        )
    missing = values.isna()
    if missing.any():
        notes.append(
            f"{symbol}: {int(missing.sum())} rows without {column} are not sessions "
            f"({_first_dates(values.index[missing])})"
        )
    values = values[~missing]
    nonpos = values <= 0
    if nonpos.any():
        notes.append(
            f"{symbol}: removed {int(nonpos.sum())} non-positive {column} values ({_first_dates(values.index[nonpos])})"
        )
        values = values[~nonpos]
    series = pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(values.index, name="date"))
    return series, notes


def _ordered(raw: pd.DataFrame, symbol: str, notes: list[str]) -> pd.DataFrame:
    """Rows sorted by date with exact duplicates dropped (both noted); conflicting duplicates raise."""
    frame = raw
    if not frame.index.is_monotonic_increasing:
        frame = frame.sort_index(kind="stable")
        notes.append(f"{symbol}: rows were not in date order; sorted")
    dup = frame.index.duplicated(keep=False)
    if dup.any():
        dups = frame[dup]
        conflicting = dups.groupby(level=0).nunique(dropna=False).max(axis=1) > 1
        if conflicting.any():
            day = conflicting[conflicting].index[0]
            raise DataError(
                f"{symbol}: date {pd.Timestamp(day).date()} appears more than once with different values",
                expected="unique dates",
            )
        frame = frame[~frame.index.duplicated(keep="last")]
        notes.append(f"{symbol}: dropped {int(dup.sum()) - dups.index.nunique()} duplicate rows")
    return frame


def _close_series(raw: pd.DataFrame, symbol: str, what: str, notes: list[str]) -> pd.Series:
    frame = _ordered(raw, symbol, notes)
    values = frame["Close"].dropna()
    if values.empty:
        raise DataError(f"{symbol}: no 'Close' values for the {what}", expected=f"a {what} series with a Close column")
    return pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(values.index, name="date"))


def clean_fx(raw: pd.DataFrame, *, symbol: str, band: tuple[float, float] | None) -> tuple[pd.Series, list[str]]:
    """The USD/HKD closes (HKD per USD) to convert with, and notes on what was removed.

    Closes that are not positive, or fall outside ``band`` (implausible ticks for a pegged
    pair), are dropped; the previous close is then carried forward over them, exactly as
    over an FX holiday.
    """
    notes: list[str] = []
    values = _close_series(raw, symbol, "exchange rate", notes)
    bad = values <= 0
    if band is not None:
        bad |= (values < band[0]) | (values > band[1])
    if bad.any():
        worst = values[bad].iloc[:4]
        shown = ", ".join(f"{d.date()} {v:.4f}" for d, v in zip(pd.DatetimeIndex(worst.index), worst, strict=True))
        more = ", …" if bad.sum() > 4 else ""
        where = f"outside the band {band[0]:g}-{band[1]:g} (data.fx_band)" if band is not None else "not positive"
        notes.append(
            f"{symbol}: dropped {int(bad.sum())} closes {where} as bad ticks ({shown}{more}); "
            "the previous close is carried forward over them"
        )
    kept = values[~bad]
    notes += _long_gaps(kept, symbol, "the previous close is carried forward over each")
    return kept, notes


def _long_gaps(values: pd.Series, symbol: str, consequence: str, days: int = 10) -> list[str]:
    """A note naming the gaps of more than ``days`` calendar days between consecutive rows."""
    index = pd.DatetimeIndex(values.index)
    step = np.diff(index.to_numpy()).astype("timedelta64[D]").astype(int)
    where = np.flatnonzero(step > days)
    if not len(where):
        return []
    shown = ", ".join(f"{index[i].date()} → {index[i + 1].date()} ({step[i]} days)" for i in where[:3])
    more = ", …" if len(where) > 3 else ""
    return [f"{symbol}: {len(where)} gaps longer than {days} calendar days ({shown}{more}); {consequence}"]


def clean_rate(raw: pd.DataFrame, *, symbol: str) -> tuple[pd.Series, list[str]]:
    """A cash-rate series in percent per year (Yahoo's ``^IRX``), as an annual fraction."""
    notes: list[str] = []
    values = _close_series(raw, symbol, "cash rate", notes)
    notes += _long_gaps(values, symbol, "the previous rate is carried forward over each")
    return values / 100.0, notes


def open_prices(raw: pd.DataFrame, index: pd.DatetimeIndex, *, price: str) -> pd.Series:
    """Opens on the dates of ``index``, on the same basis as the chosen price column.

    With ``adj_close`` the open is adjusted by that date's ``Adj Close / Close`` (so an
    open-to-close return is the same on either basis); NaN where a value is missing.
    """
    frame = raw[~raw.index.duplicated(keep="last")].reindex(index)
    opens = frame["Open"]
    if price == "adj_close":
        opens = opens * frame["Adj Close"] / frame["Close"]
    return pd.Series(opens.to_numpy(dtype="float64"), index=index)


def calendar_gap_notes(series: pd.Series, *, symbol: str, market: str) -> list[str]:
    """Notes on sessions the exchange calendar expects but ``series`` lacks, and on long gaps."""
    if series.empty:
        return []
    notes: list[str] = []
    first, last = series.index[0].date(), series.index[-1].date()
    expected = sessions(market, first, last)
    absent = expected.difference(pd.DatetimeIndex(series.index))
    if len(absent):
        notes.append(
            f"{symbol}: {len(absent)} {market} exchange-calendar sessions have no price "
            f"({_first_dates(absent)}); treated as days it did not trade"
        )
    gaps = np.diff(series.index.to_numpy()).astype("timedelta64[D]").astype(int)
    long_gaps = np.flatnonzero(gaps > _LONG_GAP_DAYS)
    if len(long_gaps):
        shown = ", ".join(f"{series.index[i].date()}→{series.index[i + 1].date()}" for i in long_gaps[:3])
        more = ", …" if len(long_gaps) > 3 else ""
        notes.append(f"{symbol}: {len(long_gaps)} gaps longer than {_LONG_GAP_DAYS} days ({shown}{more})")
    return notes
