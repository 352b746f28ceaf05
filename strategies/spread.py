"""The HK/US price ratio: how stretched it is and which way it trends."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import PositiveInt, conint

from strategies._common import log_of
from strategies.registry import AssetRef, SignalInputs, signal
from strategies.windows import placed, window_sum, window_zscore

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ratio_trend", "spread_zscore"]


def _log_ratio(x: SignalInputs, a: str, b: str) -> pd.Series:
    """s[t] = ln(Pb[t] / Pa[t]): with a = us, b = hk this is log(HK/US)."""
    return log_of(x.series(b) / x.series(a))


@signal("spread_zscore", lookback=lambda p: p["window"] - 1)
def spread_zscore(x: SignalInputs, *, a: AssetRef, b: AssetRef, window: conint(strict=True, ge=2)) -> np.ndarray:  # type: ignore[valid-type]
    """Z-score of the log price ratio ln(Pb/Pa) over the trailing ``window`` rows.

    z_t = (s_t - mean(s[t-window+1..t])) / std(s[t-window+1..t]), sample standard
    deviation (ddof = 1), s = ln(Pb/Pa).  With a = us, b = hk, a large positive z
    means HK is rich relative to its recent history against the US.  Warm-up:
    ``window - 1`` rows.
    """
    s = _log_ratio(x, a, b).to_numpy(dtype="float64")
    return placed(window_zscore(s, window), len(s), window - 1)  # each window on its own (strategies/windows.py)


@signal("ratio_trend", lookback=lambda p: p["window"] - 1)
def ratio_trend(x: SignalInputs, *, a: AssetRef, b: AssetRef, window: PositiveInt) -> np.ndarray:
    """Log distance of the ratio R = Pb/Pa from its ``window``-row simple moving average.

    trend_t = ln(R_t / mean(R[t-window+1..t])).  With a = us, b = hk, positive
    when HK/US is above its moving average (HK is trending up against the
    US).  Warm-up: ``window - 1`` rows.
    """
    ratio = (x.series(b) / x.series(a)).to_numpy(dtype="float64")
    sma = window_sum(ratio, window) / window  # each window on its own (strategies/windows.py)
    with np.errstate(divide="ignore", invalid="ignore"):
        return placed(np.log(ratio[window - 1 :] / sma), len(ratio), window - 1)
