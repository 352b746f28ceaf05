"""Detectors for planted-looking faults in one price series: the thresholds behind :mod:`engine.data.validate`.

Each function takes a date-indexed float series (ascending, unique, positive
unless said otherwise) and either returns what to keep plus notes, or raises
:class:`~engine.errors.DataError` naming the date.  The thresholds are module
constants, documented in :mod:`engine.data.validate`.

Moves are daily log moves ``r_t = ln(p_t / p_{t-1})`` between consecutive rows.
Their *typical size* on row t is the median of ``|r|`` over the
:data:`SCALE_WINDOW` moves before it (the whole series' median while fewer than
:data:`SCALE_MIN` are available); a move is *extreme* when
``|r_t| > max(EXTREME_SCALES x typical size, EXTREME_FLOOR)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.calendar import CALENDAR_FIRST, sessions
from engine.errors import DataError

__all__ = [
    "ABSURD_HIGH",
    "ABSURD_LOW",
    "EXTREME_FLOOR",
    "EXTREME_SCALES",
    "RATE_BAND_PCT",
    "RATE_SPIKE_POINTS",
    "SPLIT_RATIOS",
    "SPLIT_TOLERANCE",
    "STALE_PRICE_ROWS",
    "absurd_values",
    "bad_opens",
    "extreme_threshold",
    "non_finite",
    "non_sessions",
    "number",
    "rate_spikes",
    "reverting_spikes",
    "stale_runs",
    "unadjusted_splits",
]

#: Prices at or below this, or at or above :data:`ABSURD_HIGH`, are not prices (any currency, any era).
ABSURD_LOW = 1e-6
ABSURD_HIGH = 1e7
#: Moves used for the typical size of a move, and the fewest that make it local.
SCALE_WINDOW = 63
SCALE_MIN = 20
#: A move is extreme beyond this many typical sizes, and never below the floor (a log move; 0.25 is +28%/-22%).
EXTREME_SCALES = 8.0
EXTREME_FLOOR = 0.25
#: A spike's second move gives back all but this fraction of the smaller of the two moves.
SPIKE_NET_FRACTION = 1.0 / 3.0
#: Price ratios (before / after) of a forward or reverse split, and the relative tolerance around them.
_SPLITS = (2.0, 3.0, 4.0, 5.0, 8.0, 10.0, 20.0, 50.0, 100.0)
SPLIT_RATIOS = (*_SPLITS, *(1 / q for q in _SPLITS))
SPLIT_TOLERANCE = 0.02
#: A price repeated on this many consecutive rows is a frozen feed.
STALE_PRICE_ROWS = 20
#: Plausible cash rates, percent per year.
RATE_BAND_PCT = (-1.0, 25.0)
#: A cash rate's move, in percentage points, beyond which it is extreme: ^IRX never moved more than 1.34 in a
#: day (1981-05-04).  Rates are near 0 for years, so their moves are not measured in logs as prices' are.
RATE_SPIKE_POINTS = 3.0


def number(value: float) -> str:
    """A value read from a data file, as a message shows it: its shortest exact text (``9999999``, ``1234.5678``),
    not ``:g``'s six digits (``1e+07``, ``1234.57``), which can show a price the file does not hold."""
    text = repr(float(value))
    return text.removesuffix(".0")


def _day(ts: object) -> str:
    return str(pd.Timestamp(ts).date())


def non_finite(values: pd.Series, *, symbol: str, column: str) -> None:
    """Refuse ``inf``/``-inf`` (NaN is a missing value and handled by the caller)."""
    bad = np.isinf(values.to_numpy(dtype="float64"))
    if bad.any():
        i = int(np.argmax(bad))
        raise DataError(
            f"{symbol}: {column} is {values.iloc[i]} on {_day(values.index[i])} ({int(bad.sum())} such rows)",
            expected="finite numbers",
            got=float(values.iloc[i]),
        )


def absurd_values(values: pd.Series, *, symbol: str, column: str) -> None:
    """Refuse positive values at or below :data:`ABSURD_LOW` or at or above :data:`ABSURD_HIGH`."""
    bad = ((values > 0) & (values <= ABSURD_LOW)) | (values >= ABSURD_HIGH)
    if bad.any():
        day = values.index[bad.to_numpy()][0]
        raise DataError(
            f"{symbol}: {column} {number(values[day])} on {_day(day)} is not a plausible price "
            f"({int(bad.sum())} rows outside {ABSURD_LOW:g}..{ABSURD_HIGH:g})",
            expected=f"prices between {ABSURD_LOW:g} and {ABSURD_HIGH:g}",
            got=float(values[day]),
        )


def non_sessions(frame: pd.DataFrame, *, market: str | None) -> tuple[pd.Index, pd.Index]:
    """(rows to drop, rows kept although the calendar has no session) of ``frame``.

    Dropped: Saturdays and Sundays; with a ``market``, also weekdays from
    :data:`~engine.calendar.CALENDAR_FIRST` on that are not sessions of its
    exchange calendar when the row is a placeholder: it shows no trading (High
    equal to Low or missing, Volume 0 or missing) while the row before it does
    (a range or a volume), like a close copied onto a closed day.  Any other
    weekday non-session row is kept (the data's dates are the truth; exchange
    calendars have errors, such as Hong Kong's Buddha's Birthday before 1999,
    and in files without ranges or volumes the data cannot tell) and returned
    second, to be noted.
    """
    index = pd.DatetimeIndex(frame.index)
    weekend = index.day_of_week >= 5
    if market is None or not len(index):
        return frame.index[weekend], frame.index[:0]
    first = max(index[0], pd.Timestamp(CALENDAR_FIRST))
    known = sessions(market, first.date(), index[-1].date()) if first <= index[-1] else pd.DatetimeIndex([])
    off = ~weekend & (index >= pd.Timestamp(CALENDAR_FIRST)) & ~index.isin(known)
    ranged = (frame["High"] > frame["Low"]).to_numpy()
    traded = ranged | (frame["Volume"] > 0).to_numpy()
    before = np.concatenate([[False], traded[:-1]])
    placeholder = off & ~traded & before
    return frame.index[weekend | placeholder], frame.index[off & ~placeholder]


def extreme_threshold(moves: np.ndarray) -> np.ndarray:
    """Per move, the size beyond which it is extreme (see the module docstring)."""
    size = pd.Series(np.abs(moves))
    typical = size.rolling(SCALE_WINDOW, min_periods=SCALE_MIN).median().shift(1)
    overall = float(np.nanmedian(size)) if len(size) else 0.0
    typical = typical.fillna(overall).to_numpy()
    return np.maximum(EXTREME_SCALES * typical, EXTREME_FLOOR)


def bad_opens(opens: pd.Series, closes: pd.Series, highs: pd.Series, lows: pd.Series) -> np.ndarray:
    """Which of ``opens`` (on the dates of ``closes``, the cleaned closes, as ``highs`` and ``lows``) is a bad
    tick: outside the day's range (a day without one is not judged) and off both the previous close and the same day's
    close by an extreme move (:func:`extreme_threshold` of the closes' moves, by the move into that day), such
    as an open 100 times the day's prices.  A real gap opens away from the previous close near where the day
    closes, or reverses within the day, inside the day's range (the VIX opened at 45.69 on 1997-10-28, between
    closes of 31.12 and 31.22, its range 30.69-48.64)."""
    c = closes.to_numpy(dtype="float64")
    o = opens.to_numpy(dtype="float64")
    if len(c) < 2:
        return np.zeros(len(o), dtype=bool)
    into = extreme_threshold(np.diff(np.log(c)))  # the threshold of the move into each row after the first
    thr = np.concatenate([into[:1], into])  # the first row: its first move's
    with np.errstate(divide="ignore", invalid="ignore"):
        off_close = np.abs(np.log(o / c))
        off_before = np.abs(np.log(o[1:] / c[:-1]))
    off_before = np.concatenate([[np.inf], off_before])  # the first row: no close before it, its own close decides
    h, lo = highs.to_numpy(dtype="float64"), lows.to_numpy(dtype="float64")
    outside = (o > h) | (o < lo)  # a comparison with a missing High or Low is false: without a range no open is judged
    return (o > 0) & outside & (off_close > thr) & (off_before > thr)


def rate_spikes(values: pd.Series) -> list[tuple[pd.Timestamp, float, float, float]]:
    """Rows of a cash rate (percent per year) reached by a move of more than :data:`RATE_SPIKE_POINTS` and left
    by an opposite one that gives back all but :data:`SPIKE_NET_FRACTION` of the smaller: (date, before, value,
    after) of each, as :func:`reverting_spikes` for prices."""
    v = values.to_numpy(dtype="float64")
    if len(v) < 3:
        return []
    moves = np.diff(v)
    return _spikes(values, v, moves, np.full(len(moves), RATE_SPIKE_POINTS))


def reverting_spikes(values: pd.Series) -> list[tuple[pd.Timestamp, float, float, float]]:
    """Rows whose price jumps by an extreme move and comes back the next row.

    Row t is a spike when ``r_t`` and ``r_{t+1}`` are both extreme (by row t's
    threshold), of opposite signs, and ``|r_t + r_{t+1}|`` is at most
    :data:`SPIKE_NET_FRACTION` of the smaller: the price on t-1 and t+1 agree and
    t alone is off.  Returns (date, before, value, after) for each.
    """
    p = values.to_numpy(dtype="float64")
    if len(p) < 3:
        return []
    r = np.diff(np.log(p))
    return _spikes(values, p, r, extreme_threshold(r))


def _spikes(
    values: pd.Series, v: np.ndarray, moves: np.ndarray, threshold: np.ndarray
) -> list[tuple[pd.Timestamp, float, float, float]]:
    """(date, before, value, after) of each row reached by a move beyond its ``threshold`` (by the move into it)
    and left by an opposite one beyond it that gives back all but :data:`SPIKE_NET_FRACTION` of the smaller."""
    r1, r2, t1 = moves[:-1], moves[1:], threshold[:-1]
    hit = (
        (np.abs(r1) > t1)
        & (np.abs(r2) > t1)
        & (np.sign(r1) != np.sign(r2))
        & (np.abs(r1 + r2) <= SPIKE_NET_FRACTION * np.minimum(np.abs(r1), np.abs(r2)))
    )
    return [
        (pd.Timestamp(values.index[k + 1]), float(v[k]), float(v[k + 1]), float(v[k + 2])) for k in np.flatnonzero(hit)
    ]


def unadjusted_splits(values: pd.Series, *, symbol: str, column: str) -> None:
    """Refuse an extreme one-row move whose price ratio is within :data:`SPLIT_TOLERANCE` of a split ratio.

    Called after reverting spikes were removed, so such a move persists: it looks
    like a split (or reverse split) that the prices were not adjusted for.
    Back-adjusting would be a guess (a real crash of -50% is possible), so this
    refuses and names the date.
    """
    p = values.to_numpy(dtype="float64")
    if len(p) < 2:
        return
    r = np.diff(np.log(p))
    thr = extreme_threshold(r)
    for k in np.flatnonzero(np.abs(r) > thr):
        ratio = p[k] / p[k + 1]
        near = [q for q in SPLIT_RATIOS if abs(ratio / q - 1.0) <= SPLIT_TOLERANCE]
        if near:
            q = near[0]
            kind = f"{q:g}-for-1 split" if q > 1 else f"1-for-{1 / q:g} reverse split"
            raise DataError(
                f"{symbol}: {column} goes from {number(p[k])} on {_day(values.index[k])} to {number(p[k + 1])} on "
                f"{_day(values.index[k + 1])} (x{1 / ratio:.3g} in one row): this looks like an unadjusted {kind}; "
                "use split-adjusted data (price: adj_close, or an adjusted file)",
                expected="split-adjusted prices",
                got=float(1 / ratio),
            )


def stale_runs(values: pd.Series, rows: int) -> list[tuple[pd.Timestamp, pd.Timestamp, int, float]]:
    """(first date, last date, length, value) of each run of at least ``rows`` equal consecutive values."""
    p = values.to_numpy(dtype="float64")
    if len(p) < rows:
        return []
    change = np.concatenate([[True], p[1:] != p[:-1]])
    starts = np.flatnonzero(change)
    ends = np.concatenate([starts[1:], [len(p)]])
    return [
        (pd.Timestamp(values.index[a]), pd.Timestamp(values.index[b - 1]), int(b - a), float(p[a]))
        for a, b in zip(starts, ends, strict=True)
        if b - a >= rows
    ]
