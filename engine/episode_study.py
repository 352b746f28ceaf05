"""What followed the episodes: forward returns and the event study against all other dates (docs/episodes.md).

Forward returns run over ``h`` calendar months (:data:`HORIZONS`).  An asset's starts at its first
close after the start date (the episode is known once that date's closes are in; an order takes
the next close) and ends at its last close on or before that first close's date plus h months; a
strategy's runs over the same dates of its own equity (its first value after the start date to its
last on or before that date plus h months), so that the rows of one episode compare the same days.
Either is NaN when the data ends before the horizon does, a strategy's also when it starts after the
start date.

The event study keeps *independent* episodes (in date order, one whose start is at least h months
after the previous kept start), so overlapping windows do not count twice; it compares their mean
with every other date's, taking the other dates' standard error from a non-overlapping sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import stdtrit  # the t quantile, without importing all of scipy.stats

__all__ = [
    "HORIZONS",
    "Study",
    "asset_forward",
    "base_date",
    "equity_forward",
    "inside_any",
    "non_overlapping",
    "study",
]

#: The forward horizons, in calendar months, by label.
HORIZONS: dict[str, int] = {"1m": 1, "3m": 3, "6m": 6, "12m": 12}


def _plus_months(dates: pd.DatetimeIndex, months: int) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(dates) + pd.DateOffset(months=months)


def asset_forward(traded: pd.Series, starts: pd.DatetimeIndex, months: int) -> np.ndarray:
    """Forward return over ``months`` from each start, for an asset's base-currency closes ``traded``.

    ``traded`` holds the closes of the dates it traded (NaN where no rate converts it).
    """
    dates, prices = traded.index.to_numpy(), traded.to_numpy(dtype="float64")
    out = np.full(len(starts), np.nan)
    if not len(dates):
        return out
    entry = np.searchsorted(dates, starts.to_numpy(), side="right")
    ok = entry < len(dates)
    entry_dates = pd.DatetimeIndex(dates[np.minimum(entry, len(dates) - 1)])
    target = _plus_months(entry_dates, months).to_numpy()
    ok &= target <= dates[-1]
    exit_ = np.searchsorted(dates, target, side="right") - 1
    e, x = np.minimum(entry, len(dates) - 1), np.maximum(exit_, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = prices[x] / prices[e] - 1.0
    out[ok] = r[ok]
    return out


def base_date(level: pd.Series, start: pd.Timestamp, *, strategy: bool) -> pd.Timestamp | None:
    """Where a forward return from ``start`` starts: the series' first date after it (:func:`asset_forward`); for a
    strategy none when its run begins after ``start`` (:func:`equity_forward`)."""
    if strategy and (not len(level) or level.index[0] > start):
        return None
    after = level.index[level.index > start]
    return after[0] if len(after) else None


def equity_forward(equity: pd.Series, starts: pd.DatetimeIndex, months: int) -> np.ndarray:
    """Forward return of a strategy's equity over ``months`` from each start, on the dates an asset's takes
    (:func:`asset_forward`: from its first value after the start); NaN where the strategy has no value on or
    before the start (its run begins later)."""
    out = asset_forward(equity, starts, months)
    if len(equity):
        out[starts.to_numpy() < equity.index[0].to_datetime64()] = np.nan
    return out


def non_overlapping(dates: pd.DatetimeIndex, months: int) -> np.ndarray:
    """Positions kept in date order: each at least ``months`` after the previous kept one."""
    kept: list[int] = []
    next_allowed = None
    for i, d in enumerate(dates):
        if next_allowed is None or d >= next_allowed:
            kept.append(i)
            next_allowed = d + pd.DateOffset(months=months)
    return np.asarray(kept, dtype=np.int64)


@dataclass(frozen=True)
class Study:
    """One series and horizon of the event study (every float NaN when it cannot be computed)."""

    mean: float
    ci_low: float
    ci_high: float
    n_episodes: int
    n_independent: int
    others_mean: float
    n_others: int
    difference: float
    difference_low: float
    difference_high: float

    def as_dict(self) -> dict[str, float | int | None]:
        """Plain Python numbers, None for NaN."""
        return {k: (v if isinstance(v, int) else None if math.isnan(v) else float(v)) for k, v in self.__dict__.items()}


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    if len(x) < 2:
        return (float(x.mean()) if len(x) else math.nan), math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x)))


def study(
    episode_starts: pd.DatetimeIndex,
    episode_returns: np.ndarray,
    other_dates: pd.DatetimeIndex,
    other_returns: np.ndarray,
    months: int,
) -> Study:
    """The event study of one series and horizon (see the module docstring)."""
    known = np.isfinite(episode_returns)
    starts, rets = episode_starts[known], episode_returns[known]
    independent = rets[non_overlapping(starts, months)] if len(rets) else rets
    k = len(independent)
    mean, se1 = _mean_se(independent)
    half = stdtrit(k - 1, 0.975) * se1 if k >= 2 else math.nan
    has = np.isfinite(other_returns)
    odates, orets = other_dates[has], other_returns[has]
    others_mean = float(orets.mean()) if len(orets) else math.nan
    sample = orets[non_overlapping(odates, months)] if len(orets) else orets
    _, se2 = _mean_se(sample)
    diff = mean - others_mean
    dlow = dhigh = math.nan
    if k >= 2 and len(sample) >= 2:
        # Welch's standard error, with the conservative degrees of freedom: Welch-Satterthwaite's would rest on a
        # variance from as few as two episodes, and give the difference a narrower interval than the mean's own
        dhalf = stdtrit(min(k, len(sample)) - 1, 0.975) * math.sqrt(se1**2 + se2**2)
        dlow, dhigh = diff - dhalf, diff + dhalf
    return Study(mean, mean - half, mean + half, len(rets), k, others_mean, len(orets), diff, dlow, dhigh)


def inside_any(dates: pd.DatetimeIndex, spans: Mapping[pd.Timestamp, pd.Timestamp]) -> np.ndarray:
    """True where a date lies within one of the ``{start: end}`` spans (inclusive)."""
    out = np.zeros(len(dates), dtype=bool)
    for start, end in spans.items():
        out |= (dates >= start) & (dates <= end)
    return out
