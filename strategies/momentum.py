"""Trailing momentum of one asset, its distance from its moving average, and one market's relative momentum."""

from __future__ import annotations

import numpy as np
from pydantic import PositiveInt

from strategies.registry import AssetRef, SignalInputs, signal
from strategies.windows import placed, window_sum

__all__ = ["momentum", "price_vs_ma", "relative_momentum"]


def _trailing_return(x: SignalInputs, asset: str, window: int) -> np.ndarray:
    """P[t] / P[t-window] - 1, NaN on the first ``window`` rows (plain arrays: a sweep computes one per window)."""
    p = np.asarray(x.prices[asset], dtype="float64")
    out = np.full(len(p), np.nan)
    if window < len(p):
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero price gives inf or NaN, as pandas does, silently
            out[window:] = p[window:] / p[: len(p) - window] - 1.0
    return out


@signal("momentum", lookback=lambda p: p["window"])
def momentum(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Trailing simple return of a over ``window`` rows: P[t] / P[t-window] - 1.

    Warm-up: ``window`` rows.  Uses rows t-window and t only.
    """
    return _trailing_return(x, a, window)


@signal("relative_momentum", lookback=lambda p: p["window"])
def relative_momentum(x: SignalInputs, *, a: AssetRef, b: AssetRef, window: PositiveInt) -> np.ndarray:
    """Difference of trailing returns over ``window`` rows, a's minus b's.

    mom_t = (Pa[t] / Pa[t-window] - 1) - (Pb[t] / Pb[t-window] - 1).  Positive
    when a has done better.  Warm-up: ``window`` rows.
    """
    return _trailing_return(x, a, window) - _trailing_return(x, b, window)


@signal("price_vs_ma", lookback=lambda p: p["window"] - 1)
def price_vs_ma(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Distance of a's price from its trailing simple moving average of ``window`` rows.

    d_t = P[t] / mean(P[t-window+1..t]) - 1: positive above the average (an uptrend), 0.05
    when 5% above it.  Warm-up: ``window - 1`` rows.
    """
    p = x.series(a).to_numpy(dtype="float64")
    return placed(p[window - 1 :] / (window_sum(p, window) / window) - 1.0, len(p), window - 1)  # strategies/windows.py
