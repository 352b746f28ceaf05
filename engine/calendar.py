"""Markets, their closing order within a date, and the union timeline.

Information timeline (all times local):

    date d        HK close 16:00 HKT  = 08:00 UTC   (known first)
    date d        NY close 16:00 ET   = 21:00 UTC   (known about 13 hours later)
    date d+1      HK close            = 08:00 UTC next day

So on one calendar date Hong Kong's close is known before New York's.  Seesaw
splits every date into one *slot* per market, ordered by closing time
(``hk`` then ``us``).  A trade in a slot may only use prices known at that
slot: the Hong Kong slot of date d sees New York's close of d-1, never d.

The data's own dates are the truth of when a market traded; exchange
calendars (``XNYS``, ``XHKG``) only drive the synthetic generator and flag
gaps in real data.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from engine.cache_dir import default_cache_dir
from engine.markets import MARKETS, Market

__all__ = [
    "MARKETS",
    "Market",
    "SessionStatus",
    "last_known_session",
    "market_rank",
    "next_index_at_or_after",
    "session_status",
    "sessions",
    "union_dates",
]


def market_rank(markets: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Slot number of each distinct market in ``markets``, by closing order.

    >>> market_rank(["us", "hk", "us"])
    {'hk': 0, 'us': 1}
    """
    present = sorted(set(markets), key=lambda m: MARKETS[m].close_order)
    return {m: i for i, m in enumerate(present)}


def union_dates(indexes: list[pd.DatetimeIndex]) -> pd.DatetimeIndex:
    """The sorted union of several date indexes: the run's timeline."""
    out = pd.DatetimeIndex([], name="date")
    for idx in indexes:
        out = out.union(idx)
    return pd.DatetimeIndex(out.sort_values(), name="date")


def next_index_at_or_after(open_mask: np.ndarray) -> np.ndarray:
    """For each row i, the first row j >= i where ``open_mask[j]`` is true (len(mask) if none).

    Works column-wise on 2-D masks.

    >>> next_index_at_or_after(np.array([False, True, False, False, True])).tolist()
    [1, 1, 4, 4, 4]
    """
    mask = np.asarray(open_mask, dtype=bool)
    n = mask.shape[0]
    idx = np.where(mask, np.arange(n).reshape((n,) + (1,) * (mask.ndim - 1)), n)
    # reverse cumulative minimum
    return np.minimum.accumulate(idx[::-1], axis=0)[::-1]


def sessions(market: str, first: dt.date, last: dt.date) -> pd.DatetimeIndex:
    """Exchange-calendar sessions of ``market`` within ``[first, last]`` (tz-naive dates).

    Known errors of exchange-calendars 4.13.2: it lists 2023-09-01 and
    2023-09-08 as XHKG sessions although Hong Kong closed (typhoon, rainstorm).
    """
    out = _all_sessions(market)
    return out[(out >= pd.Timestamp(first)) & (out <= pd.Timestamp(last))]


def last_known_session(market: str) -> dt.date:
    """The last session exchange-calendars lists for ``market`` (about a year after the calendar was built):
    past it, no session, holiday or close is known."""
    return _all_sessions(market)[-1].date()


@dataclass(frozen=True)
class SessionStatus:
    """A market's sessions around a clock: the last one closed by then, and the one on the clock's local date."""

    last_session: dt.date | None
    session_today: dt.date | None


def session_status(market: str, now: dt.datetime) -> SessionStatus:
    """The last session of ``market`` whose close is at or before ``now`` (aware, any zone), and its session
    on the clock's UTC date (None if it has none that day), closed yet or not.

    ``us``/``hk``: exchange-calendar sessions (:func:`sessions`) closing at the
    market's ``close_local`` time (:data:`MARKETS`; early closes are not modelled).
    ``fx``: each weekday on which New York or Hong Kong trades (Yahoo's USD/HKD has no rate on the days both are
    closed: Christmas, New Year's Day, Good Friday), complete at midnight UTC after it.
    """
    day = now.astimezone(dt.UTC).date()
    if market == "fx":
        zone, close, days_after = ZoneInfo("UTC"), dt.time(0, 0), 1
        lo, hi = day - dt.timedelta(days=30), day + dt.timedelta(days=1)
        days = sessions("us", lo, hi).union(sessions("hk", lo, hi))
    else:
        clock, zone_name = MARKETS[market].close_local.split()
        zone, close, days_after = ZoneInfo(zone_name), dt.time.fromisoformat(clock), 0
        days = sessions(market, day - dt.timedelta(days=30), day + dt.timedelta(days=1))
    dates = [d.date() for d in days]
    done = [d for d in dates if dt.datetime.combine(d + dt.timedelta(days=days_after), close, zone) <= now]
    return SessionStatus(done[-1] if done else None, day if day in dates else None)


@functools.lru_cache(maxsize=4)
def _all_sessions(market: str) -> pd.DatetimeIndex:
    """Every session exchange-calendars knows for ``market`` from 1960: built once per process, and
    kept on disk for the day (:func:`_stored_sessions`)."""
    code = MARKETS[market].calendar
    path = _sessions_file(code)
    out = _stored_sessions(path)
    if out is None:
        out = _computed_sessions(code)
        _store_sessions(path, out)
    return pd.DatetimeIndex(out, name="date")


def _computed_sessions(code: str) -> pd.DatetimeIndex:
    """exchange-calendars' sessions of ``code`` from 1960 (0.2 s each, and 0.1 s to import it, hence the
    disk copy); its pandas-3 deprecation warnings are silenced around this call only."""
    import exchange_calendars as xc

    deprecation: type[Warning] = getattr(pd.errors, "Pandas4Warning", DeprecationWarning)
    with warnings.catch_warnings():
        # exchange-calendars 4.13 uses pandas APIs that pandas 3 deprecates.  Only Pandas4Warning is
        # emitted; most carry exchange_calendars' module, the Series.values one pandas' own module,
        # hence the second, message-specific filter.
        warnings.filterwarnings("ignore", category=deprecation, module="exchange_calendars")
        warnings.filterwarnings(
            "ignore",
            message=r"Series\.values returning an ndarray that drops timezone",
            category=deprecation,
            module=r"pandas\.core\.series",
        )
        out = xc.get_calendar(code, start=pd.Timestamp(CALENDAR_FIRST)).sessions
    return pd.DatetimeIndex(out.tz_localize(None) if out.tz is not None else out, name="date")


def _sessions_file(code: str) -> Path:
    """``<cache>/sessions/<code>-<exchange-calendars version>-<today>.npy``: the sessions depend on the
    library's rules and, through its default last session (a year ahead), on the day they are built."""
    version = importlib.metadata.version("exchange-calendars")
    return default_cache_dir(os.environ) / "sessions" / f"{code}-{version}-{dt.date.today().isoformat()}.npy"


def _stored_sessions(path: Path) -> np.ndarray | None:
    """The sessions stored at ``path`` (datetime64[ns], ascending), or None when absent or unreadable."""
    try:
        values = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if values.dtype != np.dtype("datetime64[ns]") or values.ndim != 1 or len(values) == 0:
        return None  # an empty file would make every date a non-session
    return values if bool((np.diff(values) > np.timedelta64(0)).all()) else None


def _store_sessions(path: Path, sessions: pd.DatetimeIndex) -> None:
    """Write ``sessions`` to ``path`` atomically and remove the same calendar's older files; a cache
    that cannot be written is left alone (the sessions are computed again next time)."""
    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as fh:
            temp = Path(fh.name)
            np.save(fh, sessions.to_numpy(dtype="datetime64[ns]"), allow_pickle=False)
        os.replace(temp, path)
        for old in path.parent.glob(f"{path.name.split('-')[0]}-*.npy"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        if temp is not None:
            temp.unlink(missing_ok=True)


CALENDAR_FIRST = dt.date(1960, 1, 1)
