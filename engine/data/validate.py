"""Check one symbol's raw frame and reduce it to the price series Seesaw trades on.

Every check either repairs the data, when the repair is unambiguous, and says
so in a note (symbol, date, what was done; notes reach the run's printed output
and ``metrics.json``), or refuses with a :class:`~engine.errors.DataError` naming
the date (the loader adds the file).  Nothing is changed silently.  What the
file itself must be (encoding, header, dates, numbers, a last line cut short)
is checked when it is read, in :mod:`engine.data.csv`; the detectors and their
thresholds are in :mod:`engine.data.faults`.

Prices (:func:`clean_prices`), in this order:

* dates must be unique and ascending: unsorted rows are sorted (noted); a date
  repeated with identical values keeps one row (noted); a date repeated with
  different values is refused.
* the chosen price column (``Close`` or ``Adj Close``) must exist: a file with
  no value at all in it is refused, naming the other column if it has data.
* rows whose price is empty are not sessions of that symbol (noted, counted).
* ``inf`` or ``-inf`` is refused; non-positive prices are removed (noted with
  the first dates); a positive price at or below 1e-6 or at or above 1e7 is
  refused (the real indices and ETFs range from about 2 to 35,000).
* non-sessions: rows on a Saturday or Sunday are dropped (noted).  With the
  asset's ``market``, a weekday row from 1960 on that is not a session of the
  market's exchange calendar (``XNYS``, ``XHKG``) is dropped when it is a
  placeholder: no trading (High equal to Low or empty, Volume 0 or empty) on a
  row whose predecessor shows trading (a range or a volume), such as a close
  copied onto Christmas or a typhoon day.  Other such rows are kept and noted:
  the calendar can be wrong (it closes Hong Kong on Buddha's Birthday before
  1999, when it was not yet a holiday), and a file without ranges or volumes
  cannot tell.
* one-day spikes: with ``r`` the daily log move and the typical move the
  median ``|r|`` of the previous 63 moves, a move is *extreme* beyond
  ``max(8 x typical, 0.25)``.  A row reached by an extreme move and left by an
  opposite extreme move that gives back all but a third of it (``|r_t +
  r_t+1| <= min(|r_t|, |r_t+1|) / 3``) is a bad tick: the row is dropped (noted
  with the three prices), the day counting as one the symbol did not trade.
* unadjusted splits: an extreme move that persists, with a price ratio within
  2% of 2, 3, 4, 5, 8, 10, 20, 50, 100 or their inverses, is refused naming the
  two dates, suggesting split-adjusted data (``price: adj_close``).
  Back-adjusting would be a guess: a real -50% day is possible.  (1.5 is not
  on the list: the Hang Seng's -33% of 1987-10-26 is real.)
* a stale feed: the same price on 20 or more consecutive rows is refused with
  the first and last date (no index on the real files repeats more than 5).
* a series with no row left after these checks is refused.
* gaps: against the market's exchange calendar, sessions with no row are
  counted and the first ones named; gaps longer than 10 calendar days are
  listed.  Nothing is filled in: a missing session is simply a day on which
  that symbol did not trade.

The USD/HKD rate (:func:`clean_fx`): ``inf`` is refused; weekend rows are
dropped (noted; FX trades on exchange holidays, so no exchange calendar
applies); closes outside a plausibility band (default 7.74-7.86, around the
7.75-7.85 convertibility band) or not positive are bad ticks and are dropped,
with the dates and values in the notes, and the rate is later carried forward
over them as over any FX holiday (a series with every close dropped is
refused).  Without a band, values outside 1e-6..1e7 are
refused and one-day spikes are dropped as for prices.  A pegged rate may
repeat: 60 or more equal consecutive closes are only noted.

A cash-rate series (:func:`clean_rate`) is read from ``Close`` in percent per
year (Yahoo's ``^IRX``): ``inf`` and values outside -1% to 25% are refused
naming the date; weekend rows are dropped (noted); a series that looks written
as fractions (over the file's whole history, every value below 1 and the
median below 0.3, so 0.05 would mean 5%) is refused: it is ambiguous, and
reading it as percent would make cash interest 100 times too small.  20 or
more equal consecutive values other than 0 are noted (rates are sometimes
quoted stale; a rate held at 0 is not).  A one-day spike of more than 3 percentage points each way
(:func:`~engine.data.faults.rate_spikes`) is dropped (noted), the previous rate carried forward.
Opens (:func:`open_prices`) are put on the price column's basis; an open that is not
positive, or a bad tick (:func:`~engine.data.faults.bad_opens`), is removed (noted).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.calendar import sessions
from engine.data import faults
from engine.errors import DataError
from engine.plural import counted

__all__ = [
    "PRICE_COLUMNS",
    "calendar_gap_notes",
    "clean_fx",
    "clean_prices",
    "clean_rate",
    "clean_series",
    "open_prices",
]

#: config value of ``data.price`` -> raw column
PRICE_COLUMNS = {"close": "Close", "adj_close": "Adj Close"}
_LONG_GAP_DAYS = 10
#: Equal consecutive USD/HKD closes noted (the real file repeats up to 34 in 2002).
_FX_STALE_ROWS = 60
#: A cash-rate history whose values are all below 1 with a median below this looks written as fractions.
_FRACTION_MEDIAN = 0.3


#: Dates a note names in full; beyond, the first ones, ``…`` and the last.
NAMED_DATES = 12


def _some_dates(index: pd.Index, k: int = NAMED_DATES) -> str:
    """Up to ``k`` of the dates in ``index``: the first ones and, when there are more, ``…`` and the last (the
    most recent is often the one a reader needs: inside today's signal windows, say)."""
    return _some([str(pd.Timestamp(d).date()) for d in index], k)


def _some(items: list[str], k: int = NAMED_DATES) -> str:
    """Up to ``k`` of ``items``, as :func:`_some_dates` names dates."""
    return ", ".join(items if len(items) <= k else [*items[: max(k - 1, 1)], "…", items[-1]])


def clean_prices(
    raw: pd.DataFrame, *, symbol: str, price: str, asset: str | None = None, market: str | None = None
) -> tuple[pd.Series, list[str]]:
    """Validate ``raw`` and return (prices on the symbol's trading dates, notes).

    ``price`` is ``close`` or ``adj_close``; ``asset`` (the config's name) makes
    the hint of a missing column name the asset's own ``price`` key; ``market``
    (``us``, ``hk``) enables the exchange-calendar check of non-session rows.  The
    result is indexed by date, strictly positive, ascending and unique.
    """
    notes: list[str] = []
    frame = _ordered(raw, symbol, notes)
    column = PRICE_COLUMNS[price]
    values = frame[column]
    if values.isna().all():
        other = "adj_close" if price == "close" else "close"
        has_other = len(frame) and frame[PRICE_COLUMNS[other]].notna().any()
        where = f"assets.{asset}.price" if asset else "data.price"
        kind = " (a total-return price: dividends reinvested)" if other == "adj_close" else ""
        hint = f"; this data has only {PRICE_COLUMNS[other]!r}: set {where}: {other}{kind}" if has_other else ""
        raise DataError(
            f"{symbol}: no {column!r} values{hint}",
            expected=f"a {column!r} column with prices",
        )
    missing = values.isna()
    if missing.any():
        notes.append(
            f"{symbol}: dropped {counted(int(missing.sum()), 'rows')} without {column} (taken as no trading) "
            f"({_some_dates(values.index[missing])})"
        )
    values = values[~missing]
    faults.non_finite(values, symbol=symbol, column=column)
    nonpos = values <= 0
    if nonpos.any():
        n = int(nonpos.sum())
        notes.append(
            f"{symbol}: removed {n} non-positive {column} {'value' if n == 1 else 'values'} "
            f"({_some_dates(values.index[nonpos])})"
        )
        values = values[~nonpos]
    faults.absurd_values(values, symbol=symbol, column=column)
    values = _drop_non_sessions(frame.loc[values.index], values, symbol, market, notes)
    values = _drop_spikes(values, symbol, column, notes)
    faults.unadjusted_splits(values, symbol=symbol, column=column)
    stale = faults.stale_runs(values, faults.STALE_PRICE_ROWS)
    if stale:
        first, last, n, value = stale[0]
        raise DataError(
            f"{symbol}: {column} is {faults.number(value)} on {n} consecutive rows from {first.date()} to "
            f"{last.date()}: a stale (frozen) feed",
            expected=f"fewer than {faults.STALE_PRICE_ROWS} equal consecutive prices",
        )
    if values.empty:
        raise DataError(f"{symbol}: no usable {column} value is left", expected=f"positive {column} prices on sessions")
    series = pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(values.index, name="date"))
    return series, notes


def _drop_non_sessions(
    frame: pd.DataFrame, values: pd.Series, symbol: str, market: str | None, notes: list[str]
) -> pd.Series:
    """``values`` without weekend and placeholder non-session rows (noted; see the module docstring)."""
    drop, kept = faults.non_sessions(frame, market=market)
    if len(drop):
        where = f"not {market} exchange sessions" if market else "on weekends"
        notes.append(
            f"{symbol}: dropped {counted(len(drop), 'rows')} dated on days that are {where} ({_some_dates(drop)}); "
            "treated as days it did not trade"
        )
    if len(kept):
        notes.append(
            f"{symbol}: kept {counted(len(kept), 'rows')} on weekdays the {market} exchange calendar has no session "
            f"for ({_some_dates(kept)}): the data shows trading, or cannot tell"
        )
    return values.drop(drop)


def _drop_spikes(
    values: pd.Series,
    symbol: str,
    what: str,
    notes: list[str],
    spikes: list[tuple[pd.Timestamp, float, float, float]] | None = None,
    dropped: str = "; row dropped (treated as a day it did not trade)",
) -> pd.Series:
    """``values`` without one-day reverting ``spikes`` (default: a price's, :func:`faults.reverting_spikes`),
    each noted with its neighbours and ``dropped``, what became of it."""
    spikes = faults.reverting_spikes(values) if spikes is None else spikes
    for day, before, value, after in spikes:
        notes.append(
            f"{symbol}: {day.date()}: {what} {faults.number(value)} is a one-day spike between "
            f"{faults.number(before)} and {faults.number(after)}{dropped}"
        )
    return values.drop([s[0] for s in spikes]) if spikes else values


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
        notes.append(
            f"{symbol}: dropped {int(dup.sum()) - dups.index.nunique()} duplicate rows "
            f"({_some_dates(dups.index.unique())})"
        )
    return frame


def _close_series(raw: pd.DataFrame, symbol: str, what: str, notes: list[str]) -> pd.Series:
    frame = _ordered(raw, symbol, notes)
    values = frame["Close"].dropna()
    if values.empty:
        raise DataError(f"{symbol}: no 'Close' values for the {what}", expected=f"a {what} series with a Close column")
    empty = frame.index[frame["Close"].isna().to_numpy()]
    if len(empty):  # as a price's: said, and carried over like any day without a quote
        notes.append(
            f"{symbol}: dropped {counted(len(empty), 'rows')} without Close ({_some_dates(empty)}); the previous "
            "value is carried forward over them"
        )
    faults.non_finite(values, symbol=symbol, column="Close")
    return pd.Series(values.to_numpy(dtype="float64"), index=pd.DatetimeIndex(values.index, name="date"))


def clean_fx(raw: pd.DataFrame, *, symbol: str, band: tuple[float, float] | None) -> tuple[pd.Series, list[str]]:
    """The USD/HKD closes (HKD per USD) to convert with, and notes on what was removed.

    Closes that are not positive, or fall outside ``band`` (implausible ticks for a pegged
    pair), are dropped; the previous close is then carried forward over them, exactly as
    over an FX holiday.
    """
    notes: list[str] = []
    values = _close_series(raw, symbol, "exchange rate", notes)
    values = _drop_non_sessions(values.to_frame("Close"), values, symbol, None, notes)
    bad = values <= 0
    if band is not None:
        bad |= (values < band[0]) | (values > band[1])
    where = f"outside the band {band[0]:g}-{band[1]:g} (data.fx_band)" if band is not None else "not positive"
    if bad.all():
        span = f" from {values.index[0].date()} to {values.index[-1].date()}" if len(values) else ""
        raise DataError(
            f"{symbol}: none of the {len(values)} closes{span} is usable (all {where})",
            expected="USD/HKD closes (HKD per USD) inside data.fx_band",
        )
    if bad.any():
        ticks = values[bad]
        shown = _some([f"{d.date()} {v:.4f}" for d, v in zip(pd.DatetimeIndex(ticks.index), ticks, strict=True)])
        notes.append(
            f"{symbol}: dropped {int(bad.sum())} closes {where} as bad ticks ({shown}); "
            "the previous close is carried forward over them"
        )
    kept = values[~bad]
    if band is None:
        faults.absurd_values(kept, symbol=symbol, column="Close")
        kept = _drop_spikes(kept, symbol, "Close", notes)
    notes += _stale_notes(kept, symbol, _FX_STALE_ROWS, "a pegged rate may repeat; kept")
    notes += _long_gaps(kept, symbol, "the previous close is carried forward over each")
    return kept, notes


def _stale_notes(values: pd.Series, symbol: str, rows: int, consequence: str, *, zero: bool = True) -> list[str]:
    """A note on the runs of ``rows`` or more equal values (runs of 0 left out unless ``zero``)."""
    runs = [run for run in faults.stale_runs(values, rows) if zero or run[3] != 0]
    if not runs:
        return []
    shown = ", ".join(f"{a.date()} → {b.date()} ({n} rows at {faults.number(v)})" for a, b, n, v in runs[:3])
    more = ", …" if len(runs) > 3 else ""
    return [f"{symbol}: {len(runs)} runs of {rows} or more equal values ({shown}{more}); {consequence}"]


def _long_gaps(values: pd.Series, symbol: str, consequence: str, days: int = 10) -> list[str]:
    """A note naming the gaps of more than ``days`` calendar days between consecutive rows."""
    index = pd.DatetimeIndex(values.index)
    step = np.diff(index.to_numpy()).astype("timedelta64[D]").astype(int)
    where = np.flatnonzero(step > days)
    if not len(where):
        return []
    shown = ", ".join(f"{index[i].date()} → {index[i + 1].date()} ({step[i]} days)" for i in where[:3])
    more = ", …" if len(where) > 3 else ""
    return [f"{symbol}: {counted(len(where), 'gaps')} longer than {days} calendar days ({shown}{more}); {consequence}"]


def clean_series(raw: pd.DataFrame, *, symbol: str, market: str | None = None) -> tuple[pd.Series, list[str]]:
    """A data series that is not a price (a yield, an exchange rate, a spread): its closes on the symbol's dates.

    Read for signals only (``instrument: series``): any finite value is kept, zero and negative ones
    too, and nothing is taken for a split or a spike; rows off ``market``'s sessions (weekends
    without a market) are dropped with a note, so a series never adds a date to the timeline; stale
    runs and long gaps are noted.
    """
    notes: list[str] = []
    values = _close_series(raw, symbol, "series", notes)
    if market is not None:  # never a date of its own on the timeline: only its market's sessions
        off = ~values.index.isin(sessions(market, values.index[0].date(), values.index[-1].date()))
        if off.any():
            notes.append(
                f"{symbol}: dropped {int(off.sum())} rows dated on days that are not {market} exchange sessions "
                f"({_some_dates(values.index[off])}); a series is read on its market's sessions only"
            )
            values = values[~off]
    else:
        values = values[values.index.day_of_week < 5]
    kept = "kept (a series may stay put)"
    notes += _stale_notes(values, symbol, faults.STALE_PRICE_ROWS, kept, zero=False)
    notes += _long_gaps(values, symbol, "the previous value is carried forward over each")
    return values, notes


def clean_rate(raw: pd.DataFrame, *, symbol: str, history: pd.DataFrame | None = None) -> tuple[pd.Series, list[str]]:
    """A cash-rate series in percent per year (Yahoo's ``^IRX``), as an annual fraction.

    ``history`` (default ``raw``) is the symbol's whole history, on which the
    written-as-fractions test runs: a short window of near-zero rates (2009-2015)
    is not a reason to refuse a file that is in percent elsewhere.
    """
    notes: list[str] = []
    values = _close_series(raw, symbol, "cash rate", notes)
    values = _drop_non_sessions(values.to_frame("Close"), values, symbol, None, notes)
    lo, hi = faults.RATE_BAND_PCT
    out = (values < lo) | (values > hi)
    if out.any():
        day = values.index[out.to_numpy()][0]
        raise DataError(
            f"{symbol}: cash rate {faults.number(values[day])} on {pd.Timestamp(day).date()} is outside {lo:g}..{hi:g} "
            f"percent per year ({int(out.sum())} such rows)",
            expected=f"a rate in percent per year between {lo:g} and {hi:g}",
            got=float(values[day]),
        )
    whole = values if history is None else history["Close"].dropna()
    if len(whole) and float(whole.abs().max()) < 1.0 and float(whole.median()) < _FRACTION_MEDIAN:
        raise DataError(
            f"{symbol}: every cash rate from {pd.Timestamp(whole.index[0]).date()} to "
            f"{pd.Timestamp(whole.index[-1]).date()} is below 1 (median {float(whole.median()):g}): it looks written "
            "as fractions (0.05 for 5%), but is read as percent per year; write it in percent, as ^IRX is",
            expected="a rate in percent per year (5.0 for 5%)",
            got=float(whole.median()),
        )
    carried = f" (moves of over {faults.RATE_SPIKE_POINTS:g} points); dropped, the previous rate carried forward"
    values = _drop_spikes(values, symbol, "cash rate", notes, faults.rate_spikes(values), carried)
    # a rate held at exactly 0 (a floor) is not a stale quote
    stale = "kept (rates are sometimes quoted stale)"
    notes += _stale_notes(values, symbol, faults.STALE_PRICE_ROWS, stale, zero=False)
    notes += _long_gaps(values, symbol, "the previous rate is carried forward over each")
    return values / 100.0, notes


def open_prices(raw: pd.DataFrame, closes: pd.Series, *, price: str, symbol: str = "") -> tuple[pd.Series, list[str]]:
    """Opens on the dates of ``closes`` (the cleaned price series), on the same basis, and the notes.

    With ``adj_close`` the open is adjusted by that date's ``Adj Close / Close`` (so an
    open-to-close return is the same on either basis); NaN where a value is missing.  An open that is
    not positive, or a bad tick (:func:`~engine.data.faults.bad_opens`: off both the previous close and the
    day's close by an extreme move), is removed (NaN, noted): no order fills there.
    """
    index = pd.DatetimeIndex(closes.index)
    frame = raw[~raw.index.duplicated(keep="last")].reindex(index)

    def on_basis(column: str) -> pd.Series:  # x adj / close, in that order: the opens' bits as they always were
        values = frame[column] * frame["Adj Close"] / frame["Close"] if price == "adj_close" else frame[column]
        return pd.Series(values.to_numpy(dtype="float64"), index=index)

    out = on_basis("Open")
    notes = []
    not_positive = (out <= 0).to_numpy()
    if not_positive.any():
        where = _some_dates(index[not_positive])
        notes.append(f"{symbol}: removed {counted(int(not_positive.sum()), 'opens')} not positive ({where})")
    flat = (frame["Open"] == frame["Close"]) & (frame["High"] == frame["Close"]) & (frame["Low"] == frame["Close"])
    flat &= ~(frame["Volume"] > 0)  # a row the source filled from its close (PROVENANCE: old index rows)
    if flat.any():
        notes.append(
            f"{symbol}: {counted(int(flat.sum()), 'sessions')} "
            + ("has no open of its own" if flat.sum() == 1 else "have no open of their own")
            + f" (Open, High and Low equal the Close, no volume: {_some_dates(index[flat.to_numpy()])}); an "
            "order filled at the open there fills at that close"
        )
    bad = faults.bad_opens(out, closes, on_basis("High"), on_basis("Low"))
    for k in np.flatnonzero(bad):
        before = faults.number(closes.iloc[k - 1]) + " before, " if k else ""
        notes.append(
            f"{symbol}: {index[k].date()}: open {faults.number(out.iloc[k])} is a bad tick ({before}close "
            f"{faults.number(closes.iloc[k])}): removed"
        )
    return out.mask(not_positive | bad), notes


def calendar_gap_notes(series: pd.Series, *, symbol: str, market: str, long_gaps: bool = True) -> list[str]:
    """Notes on sessions the exchange calendar expects but ``series`` lacks, and on long gaps (not with
    ``long_gaps`` False: for a series :func:`clean_series` notes them, with what is carried over them)."""
    if series.empty:
        return []
    notes: list[str] = []
    first, last = series.index[0].date(), series.index[-1].date()
    expected = sessions(market, first, last)
    absent = expected.difference(pd.DatetimeIndex(series.index))
    if len(absent):
        notes.append(
            f"{symbol}: {counted(len(absent), 'sessions')} of the {market} exchange calendar "
            f"{'has' if len(absent) == 1 else 'have'} no price ({_some_dates(absent)}); "
            "treated as days it did not trade"
        )
    gaps = np.diff(series.index.to_numpy()).astype("timedelta64[D]").astype(int)
    where = np.flatnonzero(gaps > _LONG_GAP_DAYS) if long_gaps else np.zeros(0, dtype=np.int64)
    if len(where):
        shown = ", ".join(f"{series.index[i].date()}→{series.index[i + 1].date()}" for i in where[:3])
        more = ", …" if len(where) > 3 else ""
        notes.append(f"{symbol}: {counted(len(where), 'gaps')} longer than {_LONG_GAP_DAYS} days ({shown}{more})")
    return notes
