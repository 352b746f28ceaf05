"""Trailing momentum of one asset, and the momentum of one market relative to the other."""

from __future__ import annotations

import numpy as np
from pydantic import PositiveInt

from strategies.registry import AssetRef, SignalInputs, signal

__all__ = ["momentum", "relative_momentum"]


def _trailing_return(x: SignalInputs, asset: str, window: int) -> np.ndarray:
    p = x.series(asset)
    return (p / p.shift(window) - 1.0).to_numpy(dtype="float64")


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
