"""Deterministic synthetic US/HK prices, ETFs, USD/HKD and a cash rate: the offline default source.

Everything it produces is generated, not observed (``synthetic = True``); other code labels
such outputs with :data:`SYNTHETIC_LABEL`.

Model.  One daily timeline ``t = 0..T-1``: the union of the ``XNYS`` and ``XHKG`` sessions
over ``[first, last]`` (always both markets, so a symbol never depends on which other
symbols are configured).  With ``e1, e2 ~ iid N(0, 1)`` drawn from ``seed``:

* correlation regimes: alternating episodes, *coupled* (length 500 * U(0.5, 1.5) days,
  level ~ U(0.6, 0.8)) and *divergent* (250 * U(0.5, 1.5) days, level ~ U(-0.4, -0.15)),
  smoothed by an EWMA (span 40 days) into ``rho_t``; divergent episodes also carry a drift
  tilt ``s * 0.15`` a year with ``s = ±1`` alternating between them (random first sign),
  smoothed the same way into ``tilt_t``;
* standardised shocks, with the lead-lag built in (Hong Kong closes before New York, so
  HK day t reacts to the US news of day t-1)::

      x_us[t] = e1[t]
      x_hk[t] = rho_t * e1[t-1] + g * rho_t * e1[t] + sqrt(1 - (1 + g^2) rho_t^2) * e2[t],  g = 0.4

  so ``corr(x_hk[t], x_us[t-1]) = rho_t`` (the "async" correlation) while the same-date
  correlation is only ``g * rho_t``;
* volatility clustering, GARCH(1,1) per market on its own shocks::

      h[t] = omega + alpha * h[t-1] * x[t-1]^2 + beta * h[t-1],  alpha = 0.08, beta = 0.90,
      omega = (1 - alpha - beta) * vol^2,  vol = 1.1% (us), 1.5% (hk) per day;

* factor log-returns, drift 7% a year (``P`` = timeline days per year)::

      f_m[t] = (ln 1.07 - P vol_m^2 / 2) / P ± tilt_t / P + sqrt(h_m[t]) * x_m[t]
      (+ for us, - for hk: in a divergent episode one market trends up, the other down);

* a symbol of market ``m``: ``r[t] = f_m[t] + 0.15 * vol_m * z[t]`` with ``z`` drawn from
  ``(seed, sha256(symbol))``; ``Close = L0 * exp(cumsum r)`` sampled on the market's own
  sessions only, so returns of its holidays land on its next session and a closed market
  has no row.  ``L0`` is 1000 (us) or 10000 (hk) times ``exp(U(-0.3, 0.3))``.
  ``Open = previous Close * exp(N(0, 0.2 vol))``, ``High``/``Low`` extend ``max``/``min`` of
  Open and Close by ``|N(0, 0.4 vol)|`` in log terms, ``Adj Close = Close``, ``Volume`` is a
  positive integer that grows with ``|r|``.

ETFs.  A symbol of this table mapped to "us" or "hk" trades on the sessions of the market it is
mapped to but follows the table's factor ``m`` (so ``EWH`` mapped to "us" is a New York listing
of Hong Kong: its New York day d carries the HK factor returns up to d), starts near the table's
price instead of 1000/10000 (still times ``exp(U(-0.3, 0.3))``) and pays quarterly dividends::

    symbol   factor  yield y a year  start price
    SPY      us      1.8%            150
    QQQ      us      0.7%            100
    EWH      hk      3.0%             12
    FXI      hk      2.5%             30
    MCHI     hk      2.0%             50
    KWEB     hk      0.5%             30
    2800.HK  hk      3.0%             16

``TR = L0 * exp(cumsum r)`` is its total-return path (``r`` as above, ``vol = vol_m``).  Ex-dates:
its first session on or after the 15th of March, June, September and December, when that
session lies in ``[first, last]``; ``N`` of them in all, ``n[t]`` up to and including t.  The cash
dividend is ``D = (y / 4) * previous Close`` (L0 before the first session), so::

    Close[t]     = TR[t] * (1 - y/4)^n[t]            (the price drops by D on an ex-date)
    Adj Close[t] = Close[t] * (1 - y/4)^(N - n[t])   (Yahoo's back-adjustment: the product over
                                                      later ex-dates of 1 - D / previous Close)

Adj Close equals Close after the last ex-date and its returns are the total returns: on an
ex-date ``Close[t] / (Close[t-1] - D) = TR[t] / TR[t-1]``.  Open, High and Low are those of the
total-return path times the same ``(1 - y/4)^n[t]`` (an ex-date opens near ``Close[t-1] - D``).

Two more kinds of series, independent of the factors (``e`` iid N(0, 1) drawn from
``(seed, sha256(symbol))`` in a stream of each kind's own):

* ``"fx"``: USD/HKD in HKD per 1 USD, Yahoo style (``HKD=X``), on every weekday (Monday-Friday)
  of ``[first, last]``, holidays included.  A mean-reverting AR(1) (a discrete
  Ornstein-Uhlenbeck process, half-life 260 weekdays) mapped into the convertibility band::

      y[t] = phi * y[t-1] + d * e[t],   phi = 0.5^(1/260),  d = 0.7 * sqrt(1 - phi^2),  y[-1] ~ N(0, 0.7^2)
      Close = 7.80 + 0.05 * tanh(clip(y, -3, 3))     always in [7.7502, 7.8498]

  Open, High and Low are mapped the same way from ``y[t-1] + N(0, 0.2 d)`` and from ``max``/``min`` of
  the Open and Close ``y`` extended by ``|N(0, 0.4 d)|``, so they stay in the band too;
  ``Adj Close = Close``, ``Volume = 0``.
* ``"rate"``: a short-term interest rate in percent a year, like Yahoo's ``^IRX`` (13-week
  T-bill), on ``XNYS`` sessions.  A slow AR(1) (half-life 500 sessions, about two years)
  smoothed by an EWMA, floored at zero::

      u[t] = phi * u[t-1] + sqrt(1 - phi^2) * e[t],   phi = 0.5^(1/500),  u[-1] ~ N(0, 1)
      x[t] = 2.5 + 1.75 * u[t]
      Close = max(0, EWMA(x)[t]),   EWMA span 60 sessions, started at x[0]

  so multi-year swings, mostly between 0 and 6, with stretches at the zero floor (about 7% of
  the time on average over seeds), and day-to-day moves of about a basis point.
  ``Adj Close = Close``; ``Open``, ``High``, ``Low`` and ``Volume`` are NaN, as in the real
  ``^IRX`` history.

Any other market is a :class:`~engine.errors.DataError`.

A symbol's values depend only on ``(seed, first, last, symbol, market)``, never on the range
passed to :meth:`SyntheticProvider.fetch`.

>>> p = SyntheticProvider({"^GSPC": "us", "^HSI": "hk"})
>>> p.fetch("^GSPC", dt.date(2024, 7, 3), dt.date(2024, 7, 5)).index.strftime("%m-%d").tolist()
['07-03', '07-05']
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.calendar import CALENDAR_FIRST, MARKETS, sessions
from engine.data.base import RAW_COLUMNS
from engine.errors import DataError

__all__ = ["SYNTHETIC_LABEL", "SyntheticProvider", "market_sessions"]

SYNTHETIC_LABEL = "SYNTHETIC"

_DRIFT = 0.07  # expected simple return per year, both markets
_VOL = {"us": 0.011, "hk": 0.015}  # unconditional daily volatility of the factor
_START_LEVEL = {"us": 1_000.0, "hk": 10_000.0}
_VOLUME = {"us": 3.0e9, "hk": 1.5e9}  # typical shares per session
_GARCH_ALPHA, _GARCH_BETA = 0.08, 0.90
_SAME_DATE = 0.4  # g: same-date loading of HK on the US shock, relative to the lagged one
_COUPLED = (500.0, 0.6, 0.8)  # mean episode length in days, rho range
_DIVERGENT = (250.0, -0.4, -0.15)
_TILT = 0.15  # drift per year added to one market and taken from the other while divergent
_SMOOTH_SPAN = 40
_IDIO = 0.15  # idiosyncratic daily vol as a fraction of the market's


@dataclass(frozen=True)
class _Etf:
    factor: str  # market whose factor it follows
    dividend_yield: float  # fraction of the price a year, paid in four equal quarterly parts
    start_price: float


_ETFS = {
    "SPY": _Etf("us", 0.018, 150.0),
    "QQQ": _Etf("us", 0.007, 100.0),
    "EWH": _Etf("hk", 0.030, 12.0),
    "FXI": _Etf("hk", 0.025, 30.0),
    "MCHI": _Etf("hk", 0.020, 50.0),
    "KWEB": _Etf("hk", 0.005, 30.0),
    "2800.HK": _Etf("hk", 0.030, 16.0),
}
_EX_DIVIDEND_MONTHS = (3, 6, 9, 12)  # ex-date: first session on or after the 15th
_EX_DIVIDEND_DAY = 15

_FX_CENTRE, _FX_HALF_BAND = 7.80, 0.05  # HKD per USD: the 7.75-7.85 convertibility band
_FX_CAP = 3.0  # |y| cap: 0.05 * (1 - tanh(3)) keeps every price 0.000247 inside the band
_FX_HALF_LIFE = 260.0  # weekdays
_FX_SPREAD = 0.7  # stationary standard deviation of y
_RATE_MEAN, _RATE_SPREAD = 2.5, 1.75  # percent a year
_RATE_HALF_LIFE = 500.0  # sessions, about two years
_RATE_SMOOTH_SPAN = 60
_SERIES_MARKETS = ("fx", "rate")  # kinds of series that are not listings on an exchange
_KNOWN_MARKETS = " or ".join(sorted((*_VOL, *_SERIES_MARKETS)))
# independent random streams of one symbol: its price path, fx path, rate path
_PRICE_STREAM, _FX_STREAM, _RATE_STREAM = 1, 2, 3


def market_sessions(market: str, first: dt.date, last: dt.date) -> pd.DatetimeIndex:
    """Dates within ``[first, last]`` on which a synthetic symbol of ``market`` has a row.

    "us": XNYS sessions, "hk": XHKG sessions, "rate": XNYS sessions, "fx": every weekday
    (Monday-Friday, holidays included); tz-naive midnight.  Empty when the range holds no
    session; DataError for an unknown market or dates an exchange calendar does not cover
    (XHKG holidays start in 1960).

    >>> market_sessions("us", dt.date(2024, 7, 3), dt.date(2024, 7, 5)).strftime("%d").tolist()
    ['03', '05']
    >>> market_sessions("fx", dt.date(2024, 7, 3), dt.date(2024, 7, 5)).strftime("%d").tolist()
    ['03', '04', '05']
    """
    if market not in _VOL and market not in _SERIES_MARKETS:
        raise DataError(f"unknown market '{market}'", expected=_KNOWN_MARKETS, got=market)
    if first > last:
        raise DataError(f"first date {first} is after last date {last}", got=(first, last))
    if market == "fx":
        return pd.DatetimeIndex(pd.bdate_range(first, last).to_numpy(), name="Date")
    exchange = "us" if market == "rate" else market
    if first < CALENDAR_FIRST:
        raise DataError(f"no {MARKETS[exchange].calendar} calendar before {CALENDAR_FIRST}", got=(first, last))
    return pd.DatetimeIndex(sessions(exchange, first, last).to_numpy(), name="Date")


@dataclass(frozen=True)
class _Factors:
    """Market factor log-returns on the union timeline."""

    timeline: pd.DatetimeIndex
    returns: dict[str, np.ndarray]


def _episodes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Smoothed ``rho_t`` and drift tilt (fraction per year, added to US, taken from HK) for n days."""
    rho = np.zeros(n)
    tilt = np.zeros(n)
    pos, divergent = 0, bool(rng.random() < 0.5)
    sign = 1.0 if rng.random() < 0.5 else -1.0
    while pos < n:
        mean_len, lo, hi = _DIVERGENT if divergent else _COUPLED
        length = round(mean_len * rng.uniform(0.5, 1.5))
        rho[pos : pos + length] = rng.uniform(lo, hi)
        if divergent:
            tilt[pos : pos + length] = sign * _TILT
            sign = -sign  # alternate which market leads, so neither drifts away over decades
        pos += length
        divergent = not divergent
    smooth = pd.DataFrame({"rho": rho, "tilt": tilt}).ewm(span=_SMOOTH_SPAN).mean()
    return smooth["rho"].to_numpy(), smooth["tilt"].to_numpy()


def _garch_variance(x: np.ndarray, vol: float) -> np.ndarray:
    """Conditional variance h of the GARCH(1,1) recursion driven by standardised shocks x."""
    omega = (1.0 - _GARCH_ALPHA - _GARCH_BETA) * vol**2
    h = np.empty(len(x))
    prev = vol**2
    for t, shock2 in enumerate((x * x).tolist()):
        h[t] = prev
        prev = omega + _GARCH_ALPHA * prev * shock2 + _GARCH_BETA * prev
    return h


def _factors(seed: int, timeline: pd.DatetimeIndex, first: dt.date, last: dt.date) -> _Factors:
    n = len(timeline)
    rng = np.random.default_rng([seed, 0])
    rho, tilt = _episodes(rng, n)
    e1 = rng.standard_normal(n + 1)  # e1[0] is the US shock of the day before the timeline
    e2 = rng.standard_normal(n)
    x_us = e1[1:]
    own = np.sqrt(1.0 - (1.0 + _SAME_DATE**2) * rho**2)
    x_hk = rho * e1[:-1] + _SAME_DATE * rho * x_us + own * e2
    per_year = n / max((last - first).days / 365.25, 1.0 / 365.25)
    returns = {}
    for market, x, sign in (("us", x_us, 1.0), ("hk", x_hk, -1.0)):
        vol = _VOL[market]
        drift = (np.log1p(_DRIFT) - per_year * vol**2 / 2.0 + sign * tilt) / per_year
        returns[market] = drift + np.sqrt(_garch_variance(x, vol)) * x
    return _Factors(timeline, returns)


def _symbol_rng(seed: int, symbol: str, stream: int = _PRICE_STREAM) -> np.random.Generator:
    """Generator seeded from the seed, a stream number and a stable (process-independent) hash of ``symbol``."""
    digest = hashlib.sha256(symbol.encode("utf-8")).digest()
    return np.random.default_rng([seed, stream, int.from_bytes(digest[:8], "little")])


def _ex_dividend_counts(market: str, sessions: pd.DatetimeIndex, first: dt.date, last: dt.date) -> np.ndarray:
    """``n[t]``: ex-dates among ``sessions[:t + 1]``, an ex-date being the first session of ``market``
    on or after the 15th of March, June, September and December."""
    ex = np.zeros(len(sessions), dtype=np.int64)
    for year in range(first.year - 1, last.year + 1):
        for month in _EX_DIVIDEND_MONTHS:
            day = dt.date(year, month, _EX_DIVIDEND_DAY)
            if day > last or (day < first and not _no_session_before(market, day, first)):
                continue  # the quarter's ex-date is outside [first, last]
            at = int(sessions.searchsorted(pd.Timestamp(day)))
            if at < len(sessions):
                ex[at] = 1
    return np.cumsum(ex)


def _no_session_before(market: str, day: dt.date, first: dt.date) -> bool:
    """Whether ``market`` has no session in ``[day, first)`` (False when no calendar covers ``day``)."""
    return day >= CALENDAR_FIRST and not len(market_sessions(market, day, first - dt.timedelta(days=1)))


def _symbol_frame(
    symbol: str, market: str, seed: int, factors: _Factors, sessions: pd.DatetimeIndex, first: dt.date, last: dt.date
) -> pd.DataFrame:
    etf = _ETFS.get(symbol)
    factor = etf.factor if etf is not None else market
    rng = _symbol_rng(seed, symbol)
    vol = _VOL[factor]
    start = etf.start_price if etf is not None else _START_LEVEL[market]
    level0 = start * float(np.exp(rng.uniform(-0.3, 0.3)))
    r = factors.returns[factor] + _IDIO * vol * rng.standard_normal(len(factors.timeline))
    log_close_all = np.log(level0) + np.cumsum(r)
    at = factors.timeline.get_indexer(sessions)
    if (at < 0).any():  # impossible: the timeline is the union of the sessions
        raise AssertionError(f"{market} sessions missing from the union timeline")
    log_close = log_close_all[at]  # of the total-return path
    m = len(at)
    log_prev = np.concatenate(([np.log(level0)], log_close[:-1]))
    log_open = log_prev + rng.normal(0.0, 0.2 * vol, m)
    log_high = np.maximum(log_open, log_close) + np.abs(rng.normal(0.0, 0.4 * vol, m))
    log_low = np.minimum(log_open, log_close) - np.abs(rng.normal(0.0, 0.4 * vol, m))
    move = np.abs(log_close - log_prev) / vol
    volume = np.rint(_VOLUME[market] * np.exp(rng.normal(0.0, 0.25, m)) * (1.0 + 0.3 * move))
    if etf is None:
        close = np.exp(log_close)
        columns = {
            "Open": np.exp(log_open),
            "High": np.exp(log_high),
            "Low": np.exp(log_low),
            "Close": close,
            "Adj Close": close.copy(),
        }
    else:
        n = _ex_dividend_counts(market, sessions, first, last)
        log_keep = np.log1p(-etf.dividend_yield / 4.0)  # ln(1 - y/4): the price kept on an ex-date
        paid = n * log_keep
        close = np.exp(log_close + paid)
        later = ((n[-1] if m else 0) - n) * log_keep  # ex-dates after t
        columns = {
            "Open": np.exp(log_open + paid),
            "High": np.exp(log_high + paid),
            "Low": np.exp(log_low + paid),
            "Close": close,
            "Adj Close": close * np.exp(later),
        }
    columns["Volume"] = np.maximum(volume, 1.0)
    return pd.DataFrame({c: columns[c].astype("float64") for c in RAW_COLUMNS}, index=sessions)


def _ar1(e: np.ndarray, half_life: float) -> np.ndarray:
    """Stationary unit-variance AR(1) driven by ``e``: ``u[0] = e[0]``,
    ``u[k] = phi * u[k-1] + sqrt(1 - phi^2) * e[k]``, ``phi = 0.5^(1/half_life)``."""
    phi = 0.5 ** (1.0 / half_life)
    step = np.sqrt(1.0 - phi * phi)
    u = np.empty(len(e))
    prev = 0.0
    for t, shock in enumerate(e.tolist()):
        prev = shock if t == 0 else phi * prev + step * shock
        u[t] = prev
    return u


def _fx_level(y: np.ndarray) -> np.ndarray:
    """HKD per USD from the unbounded ``y``: increasing, inside the band whatever ``y``."""
    return _FX_CENTRE + _FX_HALF_BAND * np.tanh(np.clip(y, -_FX_CAP, _FX_CAP))


def _fx_frame(symbol: str, seed: int, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    rng = _symbol_rng(seed, symbol, _FX_STREAM)
    m = len(sessions)
    y_all = _FX_SPREAD * _ar1(rng.standard_normal(m + 1), _FX_HALF_LIFE)  # y[-1..m-1]
    daily = _FX_SPREAD * np.sqrt(1.0 - 0.5 ** (2.0 / _FX_HALF_LIFE))  # d, the daily step of y
    y_close = y_all[1:]
    y_open = y_all[:-1] + rng.normal(0.0, 0.2 * daily, m)
    y_high = np.maximum(y_open, y_close) + np.abs(rng.normal(0.0, 0.4 * daily, m))
    y_low = np.minimum(y_open, y_close) - np.abs(rng.normal(0.0, 0.4 * daily, m))
    close = _fx_level(y_close)
    columns = {
        "Open": _fx_level(y_open),
        "High": _fx_level(y_high),
        "Low": _fx_level(y_low),
        "Close": close,
        "Adj Close": close.copy(),
        "Volume": np.zeros(m),
    }
    return pd.DataFrame({c: columns[c].astype("float64") for c in RAW_COLUMNS}, index=sessions)


def _rate_frame(symbol: str, seed: int, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    rng = _symbol_rng(seed, symbol, _RATE_STREAM)
    m = len(sessions)
    x = _RATE_MEAN + _RATE_SPREAD * _ar1(rng.standard_normal(m + 1), _RATE_HALF_LIFE)[1:]
    smooth = pd.Series(x).ewm(span=_RATE_SMOOTH_SPAN, adjust=False).mean().to_numpy()
    close = np.maximum(smooth, 0.0)
    empty = np.full(m, np.nan)
    columns = {
        "Open": empty,
        "High": empty,
        "Low": empty,
        "Close": close,
        "Adj Close": close.copy(),
        "Volume": empty,
    }
    return pd.DataFrame({c: columns[c].astype("float64") for c in RAW_COLUMNS}, index=sessions)


class SyntheticProvider:
    """Provider of deterministic synthetic series for symbols mapped to "us", "hk", "fx" or "rate".

    Parameters
    ----------
    markets:
        Symbol -> market key, e.g. ``{"^GSPC": "us", "^HSI": "hk", "EWH": "us", "HKD=X": "fx",
        "^IRX": "rate"}``: "us"/"hk" are listings on that exchange (an ETF of the module's table
        follows its table factor), "fx" is USD/HKD, "rate" a cash rate in percent a year.
    seed:
        Seed of every random draw; the same seed gives bitwise-identical frames.
    first, last:
        Span of the generated history (inclusive); ``fetch`` returns slices of it.
    """

    name = "synthetic"
    synthetic = True

    def __init__(
        self,
        markets: Mapping[str, str],
        *,
        seed: int = 20250120,
        first: dt.date = dt.date(2000, 1, 3),
        last: dt.date = dt.date(2025, 12, 31),
    ) -> None:
        for symbol, market in markets.items():
            if market not in _VOL and market not in _SERIES_MARKETS:
                raise DataError(f"symbol '{symbol}' has unknown market '{market}'", expected=_KNOWN_MARKETS, got=market)
        if first > last:
            raise DataError(f"first date {first} is after last date {last}", got=(first, last))
        self.markets = dict(markets)
        self.seed = seed
        self.first = first
        self.last = last
        self._sessions: dict[str, pd.DatetimeIndex] = {}
        self._factors: _Factors | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    def input_key(self, symbols: Iterable[str]) -> str:
        """What the generated history of ``symbols`` depends on: the seed, the span and each symbol's
        market (a symbol's history never depends on the others, :mod:`engine.data.inputs`)."""
        text = "|".join(f"{s}={self.markets.get(s)}" for s in sorted(set(symbols)))
        return hashlib.sha256(f"synthetic|{self.seed}|{self.first}|{self.last}|{text}".encode()).hexdigest()

    def sessions(self, market: str) -> pd.DatetimeIndex:
        """Sessions of ``market`` over ``[first, last]`` (see :func:`market_sessions`; built once, lazily)."""
        if market not in self._sessions:
            self._sessions[market] = market_sessions(market, self.first, self.last)
        return self._sessions[market]

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Rows of ``symbol`` inside ``[start, end]`` (inclusive; None is unbounded)."""
        if symbol not in self.markets:
            known = ", ".join(sorted(self.markets)) or "none"
            raise DataError(
                f"synthetic data has no symbol '{symbol}' (known: {known})",
                expected=known,
                got=symbol,
            )
        if symbol not in self._frames:
            market = self.markets[symbol]
            if market == "fx":
                frame = _fx_frame(symbol, self.seed, self.sessions(market))
            elif market == "rate":
                frame = _rate_frame(symbol, self.seed, self.sessions(market))
            else:
                frame = _symbol_frame(
                    symbol, market, self.seed, self._factor_returns(), self.sessions(market), self.first, self.last
                )
            self._frames[symbol] = frame
        frame = self._frames[symbol]
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        return frame.loc[lo:hi].copy()

    def _factor_returns(self) -> _Factors:
        if self._factors is None:
            timeline = pd.DatetimeIndex(self.sessions("us").union(self.sessions("hk")), name="Date")
            self._factors = _factors(self.seed, timeline, self.first, self.last)
        return self._factors
