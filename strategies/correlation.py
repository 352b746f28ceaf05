"""Correlation and beta between two assets: when the US/HK link breaks down, and how strong it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import conint

from strategies._common import later_closing, log_of, log_returns, prices_in
from strategies.registry import AssetRef, SignalInputs, signal
from strategies.windows import placed, window_comoments, window_corr

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["corr_pairs", "on_union_timeline", "rolling_beta", "rolling_corr"]


def _corr_lookback(p) -> int:
    base = p["window"] if p.get("on", "returns") == "returns" else p["window"] - 1
    rows = base + (1 if p.get("align", "async") == "async" else 0)
    if p.get("dates", "union") == "common":
        rows += _common_slack(p["window"])
    return rows


def _common_slack(window: int) -> int:
    """Extra union rows a ``dates: common`` window is given to span either market's holidays.

    About one union date in ten is a holiday of one of the two markets; a quarter of the window plus
    ten rows covers that with room to spare (and a Lunar New Year or a typhoon week inside it).
    """
    return window // 4 + 10


@signal("rolling_corr", lookback=_corr_lookback)
def rolling_corr(
    x: SignalInputs,
    *,
    a: AssetRef,
    b: AssetRef,
    window: conint(strict=True, ge=2),  # type: ignore[valid-type]  # one observation has no correlation
    on: Literal["returns", "levels"] = "returns",
    align: Literal["async", "sync"] = "async",
    dates: Literal["union", "common"] = "union",
    currency: Literal["local", "base"] = "local",
) -> np.ndarray:
    """Pearson correlation of a and b over the trailing ``window`` observations.

    corr_t = corr(u[t-window+1..t], v[t-window+1..t]) with u, v the log returns
    r[t] = ln(P[t]/P[t-1]) (``on: returns``) or the price levels (``on: levels``).

    ``dates: union`` (the default) takes the observations on the union timeline, a price carried
    forward over a market's holiday (a zero return there).  ``dates: common`` takes them on the
    dates both assets traded only, a return running from one common date to the next (the
    conventional measure); its value is known on each common date and stays until the next one,
    and its first ``window // 4 + 10`` union rows past the usual warm-up are NaN, so the window can
    span holidays.

    ``align: async`` pairs the earlier-closing market's value of date d with the
    later-closing market's value of the observation before: Hong Kong closes about 13 hours
    before New York, so HK's day d reacts to New York's day d-1, and same-date
    returns understate the link.  ``align: sync`` pairs same dates (the naive
    version).  For two assets of the same market there is no lead or lag: ``async`` gives the ``sync``
    value one row later, so the warm-up does not depend on which assets are chosen.

    ``currency: base`` converts each price to the run's base currency at the rate known on its
    date before returns are taken (a Hang Seng in USD); ``local`` keeps each asset's own currency.

    Warm-up: ``window`` rows for returns (``window - 1`` for levels), plus one for ``async``,
    plus the slack of ``dates: common``.  Known at the close of date t: uses rows <= t only.
    """
    u, v = corr_pairs(x, a, b, on=on, align=align, dates=dates, currency=currency)
    u_, v_ = u.to_numpy(dtype="float64"), v.to_numpy(dtype="float64")
    corr = placed(window_corr(u_, v_, window), len(u_), window - 1)  # each window on its own (strategies/windows.py)
    if dates == "union":
        return corr
    out = on_union_timeline(x, a, b, corr)
    out[: min(len(out), _corr_lookback({"window": window, "on": on, "align": align, "dates": dates}))] = np.nan
    return out


def corr_pairs(
    x: SignalInputs,
    a: str,
    b: str,
    *,
    on: str = "returns",
    align: str = "async",
    dates: str = "union",
    currency: str = "local",
) -> tuple[pd.Series, pd.Series]:
    """The paired observations :func:`rolling_corr` correlates: (a's, b's), indexed by observation date.

    On the union timeline (``dates: union``) or on the dates both traded (``common``); the
    correlation at an observation is that of the last ``window`` pairs up to it.
    """
    pa, pb = prices_in(x, a, currency), prices_in(x, b, currency)
    if dates == "common":
        both = _both_traded(x, a, b)
        pa, pb = pa[both], pb[both]
    if on == "returns":
        u, v = log_of(pa / pa.shift(1)), log_of(pb / pb.shift(1))
    else:
        u, v = pa, pb
    return _aligned(x, u, v, a, b, align)


def on_union_timeline(x: SignalInputs, a: str, b: str, values: np.ndarray) -> np.ndarray:
    """Values of the common dates of a and b (in order) on every date: the last common date's value."""
    last_common = np.cumsum(_both_traded(x, a, b)) - 1  # position of the last common date at or before each row
    if not len(values):
        return np.full(len(x.dates), np.nan)
    return np.where(last_common >= 0, values[np.maximum(last_common, 0)], np.nan)


def _both_traded(x: SignalInputs, a: str, b: str) -> np.ndarray:
    return np.asarray(x.traded[a], dtype=bool) & np.asarray(x.traded[b], dtype=bool)


def _aligned(x: SignalInputs, u: pd.Series, v: pd.Series, a: str, b: str, align: str) -> tuple[pd.Series, pd.Series]:
    """u (of a) and v (of b) paired in information time (``async``) or by date (``sync``)."""
    if align == "async":
        later = later_closing(x, a, b)
        if later == a:
            u = u.shift(1)
        elif later == b:
            v = v.shift(1)
        else:
            u, v = u.shift(1), v.shift(1)  # same market: keep the same warm-up, no lead-lag
    return u, v


@signal("rolling_beta", lookback=lambda p: p["window"] + (1 if p.get("align", "async") == "async" else 0))
def rolling_beta(
    x: SignalInputs,
    *,
    a: AssetRef,
    b: AssetRef,
    window: conint(strict=True, ge=2),  # type: ignore[valid-type]
    align: Literal["async", "sync"] = "async",
) -> np.ndarray:
    """OLS beta of a's log returns on b's over the trailing ``window`` rows.

    beta_t = cov(u, v) / var(v) over rows t-window+1..t, u and v the log returns
    r[t] = ln(P[t]/P[t-1]) of a and b (the slope of u = alpha + beta·v + e).  NaN where
    var(v) = 0.

    ``align`` pairs the returns as :func:`rolling_corr` does: ``async`` pairs the
    earlier-closing market's return of date d with the later-closing market's of date d-1
    (Hong Kong closes about 13 hours before New York, so HK's day d reacts to New York's
    day d-1); ``sync`` pairs same dates.  With a = hk, b = us and ``async``, beta is how
    much of New York's move Hong Kong repeats the next day.

    Warm-up: ``window`` rows, plus one for ``async``.  Known at the close of date t.
    """
    u, v = (s.to_numpy(dtype="float64") for s in _aligned(x, log_returns(x, a), log_returns(x, b), a, b, align))
    _, var, cov = window_comoments(u, v, window)  # each window on its own: var 0 exactly on a flat one
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = np.where(var > 0, cov / var, np.nan)
    return placed(beta, len(v), window - 1)
