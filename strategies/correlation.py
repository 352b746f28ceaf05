"""Correlation and beta between two assets: when the US/HK link breaks down, and how strong it is."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from pydantic import PositiveInt, conint

from strategies._common import later_closing, log_returns
from strategies.registry import AssetRef, SignalInputs, signal

__all__ = ["rolling_beta", "rolling_corr"]


def _corr_lookback(p) -> int:
    base = p["window"] if p.get("on", "returns") == "returns" else p["window"] - 1
    return base + (1 if p.get("align", "async") == "async" else 0)


@signal("rolling_corr", lookback=_corr_lookback)
def rolling_corr(
    x: SignalInputs,
    *,
    a: AssetRef,
    b: AssetRef,
    window: PositiveInt,
    on: Literal["returns", "levels"] = "returns",
    align: Literal["async", "sync"] = "async",
) -> np.ndarray:
    """Pearson correlation of a and b over the trailing ``window`` rows.

    corr_t = corr(u[t-window+1..t], v[t-window+1..t]) with u, v the log returns
    r[t] = ln(P[t]/P[t-1]) (``on: returns``) or the price levels (``on: levels``).

    ``align: async`` pairs the earlier-closing market's value of date d with the
    later-closing market's value of date d-1: Hong Kong closes about 13 hours
    before New York, so HK's day d reacts to New York's day d-1, and same-date
    returns understate the link.  ``align: sync`` pairs same dates (the naive
    version).  For two assets of the same market both are the same.

    Warm-up: ``window`` rows for returns (``window - 1`` for levels), plus one
    for ``async``.  Known at the close of date t: uses rows <= t only.
    """
    if on == "returns":
        u, v = log_returns(x, a), log_returns(x, b)
    else:
        u, v = x.series(a), x.series(b)
    u, v = _aligned(x, u, v, a, b, align)
    return u.rolling(window, min_periods=window).corr(v).to_numpy(dtype="float64")


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
    u, v = _aligned(x, log_returns(x, a), log_returns(x, b), a, b, align)
    var = v.rolling(window, min_periods=window).var(ddof=1)
    cov = u.rolling(window, min_periods=window).cov(v, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = cov / var
    return beta.where(var > 0).to_numpy(dtype="float64")
