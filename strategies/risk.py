"""Risk state of one asset: realised volatility and drawdown from a trailing high."""

from __future__ import annotations

import numpy as np
from pydantic import PositiveInt, conint

from strategies._common import log_returns
from strategies.registry import AssetRef, SignalInputs, signal
from strategies.windows import placed, window_var

#: Annualisation of realized_vol; a convention, independent of the run's timeline.
TRADING_DAYS_PER_YEAR = 252

__all__ = ["TRADING_DAYS_PER_YEAR", "drawdown", "realized_vol"]


@signal("realized_vol", lookback=lambda p: p["window"])
def realized_vol(x: SignalInputs, *, a: AssetRef, window: conint(strict=True, ge=2)) -> np.ndarray:  # type: ignore[valid-type]
    """Annualised realised volatility of a's log returns over ``window`` rows.

    vol_t = std(r[t-window+1..t], ddof=1) * sqrt(252), r[t] = ln(P[t]/P[t-1]) on the
    union timeline (a holiday of a's market contributes a zero return).
    Warm-up: ``window`` rows.
    """
    r = log_returns(x, a).to_numpy(dtype="float64")
    vol = np.sqrt(window_var(r, window)) * np.sqrt(TRADING_DAYS_PER_YEAR)  # 0 exactly on a flat window
    return placed(vol, len(r), window - 1)


@signal("drawdown", lookback=lambda p: p["window"] - 1)
def drawdown(x: SignalInputs, *, a: AssetRef, window: PositiveInt) -> np.ndarray:
    """Drawdown of a from its highest price in the trailing ``window`` rows.

    dd_t = P[t] / max(P[t-window+1..t]) - 1, so 0 at a new high and -0.2 when 20%
    below it.  Warm-up: ``window - 1`` rows.
    """
    p = x.series(a)
    return (p / p.rolling(window, min_periods=window).max() - 1.0).to_numpy(dtype="float64")
