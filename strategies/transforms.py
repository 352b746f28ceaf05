"""One input series: an asset's price level, and transforms of another signal.

A transform reads what its ``of:`` names (a :data:`~strategies.registry.SignalRef`): another
signal of the config, or an asset, whose price series is then the input (``^VIX``, the
T-bill yield ``^IRX``: read, never traded)::

    signals:
      vix: {fn: level, a: vix}
      vix_z: {fn: zscore, of: vix, window: 252}        # warm-up 251 + 0 rows
      mom: {fn: momentum, a: us, window: 63}
      mom_fast: {fn: ema, of: mom, span: 10}           # warm-up 39 + 63 rows

Every value at row t is a fixed-order sum over the rows ``t-L+1 .. t`` of a fixed window
length L, so it is bit for bit the same whatever history precedes the window (panels are cut
at different warm-up lengths).  A window that holds a NaN gives NaN.

The registered ``lookback`` of a transform is its own warm-up; the engine adds the warm-up
of what ``of:`` names (0 for an asset's price series).
"""

from __future__ import annotations

import numpy as np
from pydantic import PositiveInt, conint

from strategies.registry import AssetRef, SignalInputs, SignalRef, signal
from strategies.windows import placed, trailing, window_sum, window_zscore

__all__ = ["EMA_SPANS", "diff", "ema", "ema_weights", "lag", "level", "percentile", "sma", "zscore"]

#: An EMA's window in rows is this many spans (the weight left out is (1-α)^(4·span), under 2%).
EMA_SPANS = 4


def _input(x: SignalInputs, of: str) -> np.ndarray:
    return x.values(of).to_numpy(dtype="float64")


@signal("level", lookback=lambda p: 0)
def level(x: SignalInputs, *, a: AssetRef) -> np.ndarray:
    """The price of a itself: level_t = P[t] (a yield for ``^IRX``, an index level for ``^VIX``).

    For series used as inputs, not traded: volatility indices, yields, exchange rates.
    Warm-up: none (NaN before the asset's first price).
    """
    return x.series(a).to_numpy(dtype="float64")


@signal("sma", lookback=lambda p: p["window"] - 1)
def sma(x: SignalInputs, *, of: SignalRef, window: PositiveInt) -> np.ndarray:
    """Trailing simple moving average of v (what ``of`` names) over ``window`` rows.

    sma_t = (v[t-window+1] + ... + v[t]) / window.  Warm-up: ``window - 1`` rows plus v's.
    """
    v = _input(x, of)
    return placed(window_sum(v, window) / window, len(v), window - 1)


@signal("zscore", lookback=lambda p: p["window"] - 1)
def zscore(x: SignalInputs, *, of: SignalRef, window: conint(strict=True, ge=2)) -> np.ndarray:  # type: ignore[valid-type]
    """Z-score of v (what ``of`` names) within its trailing ``window`` rows.

    z_t = (v_t - m_t) / s_t, m_t = mean(v[t-window+1..t]), s_t their sample standard deviation
    (ddof = 1); NaN where s_t = 0 (a flat window).  Warm-up: ``window - 1`` rows plus v's.
    """
    v = _input(x, of)
    return placed(window_zscore(v, window), len(v), window - 1)


def ema_weights(span: int) -> np.ndarray:
    """The weights of :func:`ema`: w_i = (1-α)^i / Σ_j (1-α)^j, i = 0 .. 4·span-1, α = 2/(span+1).

    >>> ema_weights(1).tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    alpha = 2.0 / (span + 1.0)
    raw = (1.0 - alpha) ** np.arange(EMA_SPANS * span, dtype="float64")
    return raw / raw.sum()


@signal("ema", lookback=lambda p: EMA_SPANS * p["span"] - 1)
def ema(x: SignalInputs, *, of: SignalRef, span: PositiveInt) -> np.ndarray:
    """Exponential moving average of v (what ``of`` names) over a finite window of L = 4·span rows.

    ema_t = Σ_{i=0..L-1} w_i · v[t-i],  w_i = (1-α)^i / Σ_{j=0..L-1} (1-α)^j,  α = 2/(span+1).

    Unlike a recursive EMA (pandas ``ewm``), whose value depends on every row since the start
    of the data, this one depends on the last L rows only, so a panel cut at any warm-up length
    gives bit-identical values on the rows it shares with another.  The weights dropped beyond
    L rows would total (1-α)^L < 2%.  Warm-up: ``4·span - 1`` rows plus v's.
    """
    v = _input(x, of)
    weights = ema_weights(span)
    total = np.zeros(max(len(v) - len(weights) + 1, 0))
    for w, shifted in zip(weights, trailing(v, len(weights)), strict=True):
        total = total + w * shifted
    return placed(total, len(v), len(weights) - 1)


@signal("lag", lookback=lambda p: p["n"])
def lag(x: SignalInputs, *, of: SignalRef, n: PositiveInt) -> np.ndarray:
    """v (what ``of`` names) ``n`` rows earlier: lag_t = v[t-n].  Warm-up: ``n`` rows plus v's."""
    v = _input(x, of)
    return placed(v[: max(len(v) - n, 0)], len(v), n)


@signal("diff", lookback=lambda p: p["n"])
def diff(x: SignalInputs, *, of: SignalRef, n: PositiveInt) -> np.ndarray:
    """Change of v (what ``of`` names) over ``n`` rows: diff_t = v[t] - v[t-n].  Warm-up: ``n`` rows plus v's."""
    v = _input(x, of)
    return placed(v[n:] - v[: max(len(v) - n, 0)], len(v), n)


@signal("percentile", lookback=lambda p: p["window"] - 1)
def percentile(x: SignalInputs, *, of: SignalRef, window: PositiveInt) -> np.ndarray:
    """Percentile rank of today's v (what ``of`` names) among its trailing ``window`` values.

    pct_t = #{i in 0..window-1 : v[t-i] <= v[t]} / window, in (0, 1]: 1 at a new high of the
    window, 1/window at a new low.  NaN when the window holds a NaN.  Warm-up: ``window - 1``
    rows plus v's.
    """
    v = _input(x, of)
    today = v[window - 1 :]
    count = np.zeros_like(today)
    has_nan = np.zeros(today.shape, dtype=bool)
    for shifted in trailing(v, window):
        count = count + (shifted <= today)
        has_nan |= np.isnan(shifted)
    return placed(np.where(has_nan, np.nan, count / window), len(v), window - 1)
