"""Daily history from Yahoo Finance (via yfinance), cached on disk.

Policy of :meth:`YahooProvider.fetch`:

1. A cache entry younger than ``max_age`` (by the injected clock), or any entry
   when ``offline=True``, is used without downloading.
2. Otherwise the *full* history (``period="max"``) is downloaded, normalised,
   written to the cache and sliced to ``[start, end]``: warm-up history stays
   available and one entry serves every date range.
3. If the download fails (the downloader raised, or returned something
   unusable such as an empty frame) a stale entry is used and a note says so;
   without one a one-line :class:`DataError` suggests the other sources.

yfinance's quirks are handled explicitly by ``_normalise``: MultiIndex
``(Price, Ticker)`` columns even for one ticker; a frame without ``Adj Close``
(``auto_adjust=True``: Close is then adjusted, and Adj Close is left NaN rather
than copied); an empty frame instead of an exception; a tz-aware index
(exchange-local midnights: the tz is dropped, keeping the local date); unsorted
or repeated dates; missing columns.  Everything cleaned goes to
:attr:`YahooProvider.notes`.

The downloader is injectable (``downloader(symbol) -> DataFrame`` shaped like
``yfinance.download``'s result), so tests never touch the network.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd

from engine.data.base import RAW_COLUMNS, between
from engine.data.cache import FrameCache, parse_downloaded_at
from engine.errors import DataError
from engine.plural import counted

__all__ = ["YahooProvider", "yfinance_download"]

Downloader = Callable[[str], pd.DataFrame]

_SUGGESTION = "use --source csv --data-dir DIR or --source synthetic"


class _BadResponse(Exception):
    """The download "succeeded" but returned nothing usable; the message says why."""


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = " ".join(record.getMessage().split())
        if not re.fullmatch(r"\d+ Failed downloads?:", message):  # yfinance's header line
            self.messages.append(message)


def yfinance_download(symbol: str) -> pd.DataFrame:
    """The full daily history of ``symbol`` as ``yfinance.download`` (1.x) returns it.

    Unadjusted OHLC plus ``Adj Close`` (``auto_adjust=False``), no dividend or
    split columns, one thread, no progress bar, ``(Price, Ticker)`` columns.
    yfinance reports failures by logging them and returning an empty frame:
    those log lines are captured (not printed) and raised as the reason.
    """
    import yfinance as yf  # imported lazily: slow, and only needed for real downloads

    collector = _LogCollector()
    logger = logging.getLogger("yfinance")
    logger.addHandler(collector)
    try:
        with warnings.catch_warnings():
            # yfinance 1.7 trips pandas deprecations of its own; they are not ours to show.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module="yfinance")
            warnings.filterwarnings("ignore", category=FutureWarning, module="yfinance")
            frame = yf.download(
                symbol,
                period="max",
                interval="1d",
                auto_adjust=False,
                actions=False,
                progress=False,
                threads=False,
                ignore_tz=True,
                multi_level_index=True,
            )
    finally:
        logger.removeHandler(collector)
    if (frame is None or frame.empty) and collector.messages:
        raise _BadResponse("; ".join(collector.messages))
    return frame if frame is not None else pd.DataFrame()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class YahooProvider:
    """Provider over Yahoo Finance with an on-disk cache (policy in the module docstring).

    Parameters
    ----------
    cache:
        Where downloaded histories are kept (:class:`engine.data.cache.FrameCache`).
    downloader:
        ``downloader(symbol)`` returning a frame shaped like ``yfinance.download``'s;
        :func:`yfinance_download` when None.
    now:
        The clock, returning an aware datetime; used for cache age and ``downloaded_at``.
    max_age:
        A cache entry younger than this is used without downloading.
    offline:
        Never download; use the cache whatever its age.
    """

    name = "yahoo"
    synthetic = False

    def __init__(
        self,
        cache: FrameCache,
        *,
        downloader: Downloader | None = None,
        now: Callable[[], dt.datetime] = _utc_now,
        max_age: dt.timedelta = dt.timedelta(hours=12),
        offline: bool = False,
    ) -> None:
        self.cache = cache
        self.downloader: Downloader = downloader if downloader is not None else yfinance_download
        self.now = now
        self.max_age = max_age
        self.offline = offline
        self.notes: list[str] = []
        self._frames: dict[str, pd.DataFrame] = {}

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Rows of ``symbol`` inside ``[start, end]`` (inclusive; None is unbounded)."""
        if symbol not in self._frames:
            self._frames[symbol] = self._full_history(symbol)
        return between(self._frames[symbol], start, end)

    def _full_history(self, symbol: str) -> pd.DataFrame:
        cached = self.cache.get(self.name, symbol)
        where = self.cache.csv_path(self.name, symbol).parent
        if cached is not None:
            frame, meta = cached
            downloaded_at = parse_downloaded_at(meta)
            if self.offline:
                self.notes.append(f"{symbol}: offline; using cached data downloaded {_stamp(downloaded_at)}")
                return frame
            if dt.timedelta(0) <= self.now() - downloaded_at < self.max_age:
                return frame
        elif self.offline:
            raise DataError(
                f"offline and no cached copy of '{symbol}' exists in {where}: {_SUGGESTION}",
                expected=f"a cache entry for '{symbol}'",
            )
        try:
            frame, notes = _normalise(self._download(symbol), symbol)
        except _BadResponse as exc:
            full, reason = str(exc), _short(str(exc))
            if cached is None:
                raise DataError(
                    f"cannot download '{symbol}' from Yahoo Finance ({reason}) and no cached copy "
                    f"exists in {where} (offline?): {_SUGGESTION}",
                    expected=f"daily history for '{symbol}'",
                    got=full,
                ) from None
            stale, meta = cached
            self.notes.append(
                f"{symbol}: download failed ({reason}); using cached data downloaded "
                f"{_stamp(parse_downloaded_at(meta))}"
            )
            return stale
        self.notes.extend(notes)
        try:
            self.cache.put(self.name, symbol, frame, self.now())
        except OSError as exc:
            self.notes.append(f"{symbol}: could not write the cache in {where} ({exc})")
        return frame

    def _download(self, symbol: str) -> pd.DataFrame:
        """Call the downloader; any exception it raises means "download failed"."""
        try:
            return self.downloader(symbol)
        except _BadResponse:
            raise
        except Exception as exc:  # curl/requests/JSON errors: yfinance raises whatever its stack raised
            first_line = (str(exc).splitlines() or [""])[0][:200]
            raise _BadResponse(f"{type(exc).__name__}: {first_line}".rstrip(": ")) from exc


def _short(reason: str) -> str:
    """A readable summary of yfinance's (often repeated, multi-part) failure text; the full text stays in ``got``."""
    if "Could not resolve host" in reason or "DNSError" in reason:
        return "no network: the Yahoo host name did not resolve"
    last = reason.split("; ")[-1]
    return last if len(last) <= 160 else last[:157] + "..."


def _stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _normalise(raw: pd.DataFrame | None, symbol: str) -> tuple[pd.DataFrame, list[str]]:
    """A yfinance result as a raw frame (see :mod:`engine.data.base`), plus notes on what was cleaned.

    Raises :class:`_BadResponse` when the result cannot be used at all.
    """
    if raw is None or len(raw.index) == 0:
        raise _BadResponse("Yahoo returned no rows; unknown ticker or no connection")
    notes: list[str] = []
    frame = _select_ticker(raw, symbol)
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise _BadResponse(f"expected dates as the index, got {type(frame.index).__name__}")

    index = frame.index
    if index.tz is not None:
        # Yahoo labels daily bars with the exchange-local midnight: drop the zone, keep the date.
        # (Converting to UTC first would move Hong Kong bars to the previous day.)
        index = index.tz_localize(None)
    if not (index == index.normalize()).all():
        notes.append(f"{symbol}: timestamps had a time of day; kept the date only")
    index = index.normalize()

    columns: dict[str, np.ndarray] = {}
    for col in RAW_COLUMNS:
        if col in frame.columns:
            try:
                columns[col] = frame[col].to_numpy(dtype="float64", na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise _BadResponse(f"non-numeric {col} values ({exc})") from None
        else:
            columns[col] = np.full(len(frame), np.nan)
            if col == "Adj Close":
                notes.append(
                    f"{symbol}: Yahoo returned no 'Adj Close' (auto-adjusted data?): "
                    "Close may already be adjusted; Adj Close left empty"
                )
            else:
                notes.append(f"{symbol}: Yahoo returned no '{col}' column; left empty")
    out = pd.DataFrame(columns, index=pd.DatetimeIndex(index, name="Date"))

    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="mergesort")  # stable: among equal dates, "last" keeps its meaning
        notes.append(f"{symbol}: rows were not in date order; sorted")
    exact = out.reset_index().duplicated(keep="last").to_numpy()
    if exact.any():
        out = out[~exact]
        n = int(exact.sum())
        notes.append(f"{symbol}: dropped {n:,} exact duplicate {'row' if n == 1 else 'rows'}")
    repeated = out.index.duplicated(keep="last")
    if repeated.any():
        out = out[~repeated]
        notes.append(
            f"{symbol}: {counted(int(repeated.sum()), 'dates')} appeared twice with different values; kept the last"
        )
    return out, notes


def _select_ticker(raw: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """The single-ticker frame with flat price columns, from flat or (Price, Ticker) columns."""
    if not isinstance(raw.columns, pd.MultiIndex):
        return raw
    if raw.columns.nlevels != 2:
        raise _BadResponse(f"unexpected {raw.columns.nlevels}-level columns")
    names = list(raw.columns.names)
    if "Ticker" in names:
        level = names.index("Ticker")
    else:  # unnamed levels: the ticker level is the one that is not made of price fields
        level = 0 if set(raw.columns.get_level_values(1)) & set(RAW_COLUMNS) else 1
    tickers = [str(t) for t in raw.columns.get_level_values(level).unique()]
    matches = [t for t in tickers if t.upper() == symbol.upper()]
    if not matches:
        raise _BadResponse(f"Yahoo returned data for {', '.join(map(repr, tickers))}, not '{symbol}'")
    keep = raw.columns.get_level_values(level) == matches[0]
    picked = raw.loc[:, keep]
    picked.columns = pd.Index([str(c) for c in picked.columns.get_level_values(1 - level)])
    return picked
