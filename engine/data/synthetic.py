"""Deterministic synthetic US/HK prices: the offline default source for demos and tests.

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

A symbol's values depend only on ``(seed, first, last, symbol, market)``, never on the range
passed to :meth:`SyntheticProvider.fetch`.

>>> p = SyntheticProvider({"^GSPC": "us", "^HSI": "hk"})
>>> p.fetch("^GSPC", dt.date(2024, 7, 3), dt.date(2024, 7, 5)).index.strftime("%m-%d").tolist()
['07-03', '07-05']
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
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


def market_sessions(market: str, first: dt.date, last: dt.date) -> pd.DatetimeIndex:
    """Sessions of ``market`` ("us": XNYS, "hk": XHKG) within ``[first, last]``, tz-naive midnight.

    Empty when the range holds no session; DataError for an unknown market or dates the
    calendar does not cover (XHKG holidays start in 1960).

    >>> market_sessions("us", dt.date(2024, 7, 3), dt.date(2024, 7, 5)).strftime("%d").tolist()
    ['03', '05']
    """
    if market not in MARKETS:
        raise DataError(f"unknown market '{market}'", expected=" or ".join(sorted(MARKETS)), got=market)
    if first > last:
        raise DataError(f"first date {first} is after last date {last}", got=(first, last))
    if first < CALENDAR_FIRST:
        raise DataError(f"no {MARKETS[market].calendar} calendar before {CALENDAR_FIRST}", got=(first, last))
    return pd.DatetimeIndex(sessions(market, first, last).to_numpy(), name="Date")


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


def _symbol_rng(seed: int, symbol: str) -> np.random.Generator:
    """Generator seeded from the seed and a stable (process-independent) hash of ``symbol``."""
    digest = hashlib.sha256(symbol.encode("utf-8")).digest()
    return np.random.default_rng([seed, 1, int.from_bytes(digest[:8], "little")])


def _symbol_frame(symbol: str, market: str, seed: int, factors: _Factors, sessions: pd.DatetimeIndex) -> pd.DataFrame:
    rng = _symbol_rng(seed, symbol)
    vol = _VOL[market]
    level0 = _START_LEVEL[market] * float(np.exp(rng.uniform(-0.3, 0.3)))
    r = factors.returns[market] + _IDIO * vol * rng.standard_normal(len(factors.timeline))
    log_close_all = np.log(level0) + np.cumsum(r)
    at = factors.timeline.get_indexer(sessions)
    if (at < 0).any():  # impossible: the timeline is the union of the sessions
        raise AssertionError(f"{market} sessions missing from the union timeline")
    log_close = log_close_all[at]
    m = len(at)
    log_prev = np.concatenate(([np.log(level0)], log_close[:-1]))
    log_open = log_prev + rng.normal(0.0, 0.2 * vol, m)
    log_high = np.maximum(log_open, log_close) + np.abs(rng.normal(0.0, 0.4 * vol, m))
    log_low = np.minimum(log_open, log_close) - np.abs(rng.normal(0.0, 0.4 * vol, m))
    move = np.abs(log_close - log_prev) / vol
    volume = np.rint(_VOLUME[market] * np.exp(rng.normal(0.0, 0.25, m)) * (1.0 + 0.3 * move))
    close = np.exp(log_close)
    columns = {
        "Open": np.exp(log_open),
        "High": np.exp(log_high),
        "Low": np.exp(log_low),
        "Close": close,
        "Adj Close": close.copy(),
        "Volume": np.maximum(volume, 1.0),
    }
    return pd.DataFrame({c: columns[c].astype("float64") for c in RAW_COLUMNS}, index=sessions)


class SyntheticProvider:
    """Provider of deterministic synthetic prices for symbols mapped to "us" or "hk".

    Parameters
    ----------
    markets:
        Symbol -> market key, e.g. ``{"^GSPC": "us", "^HSI": "hk"}``.
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
            if market not in _VOL:
                raise DataError(
                    f"symbol '{symbol}' has unknown market '{market}'",
                    expected=" or ".join(sorted(_VOL)),
                    got=market,
                )
        if first > last:
            raise DataError(f"first date {first} is after last date {last}", got=(first, last))
        self.markets = dict(markets)
        self.seed = seed
        self.first = first
        self.last = last
        self._sessions: dict[str, pd.DatetimeIndex] | None = None
        self._factors: _Factors | None = None
        self._frames: dict[str, pd.DataFrame] = {}

    def sessions(self, market: str) -> pd.DatetimeIndex:
        """Sessions of ``market`` over ``[first, last]`` (calendars built once, lazily)."""
        if self._sessions is None:
            self._sessions = {m: market_sessions(m, self.first, self.last) for m in sorted(_VOL)}
        if market not in self._sessions:
            raise DataError(f"unknown market '{market}'", expected=" or ".join(sorted(_VOL)), got=market)
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
            self._frames[symbol] = _symbol_frame(
                symbol, market, self.seed, self._factor_returns(), self.sessions(market)
            )
        frame = self._frames[symbol]
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        return frame.loc[lo:hi].copy()

    def _factor_returns(self) -> _Factors:
        if self._factors is None:
            timeline = pd.DatetimeIndex(self.sessions("us").union(self.sessions("hk")), name="Date")
            self._factors = _factors(self.seed, timeline, self.first, self.last)
        return self._factors
