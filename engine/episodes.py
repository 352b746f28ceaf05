"""Episodes of a signal at an extreme: where each stands in all the history before it (docs/episodes.md).

An *observation* is a date on which the signal is finite and differs from its value on the date
before (a value carried forward over a holiday is the same observation).  With ``direction`` ``low``
a smaller value is more extreme, with ``high`` a larger one.  For observation i:

* ``rank`` = 1 + the number of earlier observations strictly more extreme than it;
* ``percentile`` = 100 x (observations up to and including i with a value <= its value) / (i + 1);
* ``most_extreme_since`` = the last earlier observation at least as extreme (None: a record).

An observation qualifies when it is beyond a fixed threshold, or when its percentile (in the
history so far) is at or beyond P, never among the first :data:`MIN_HISTORY` observations.  An
episode is a maximal run of consecutive qualifying observations; its date is its most extreme one.
Everything here reads only observations up to the one it describes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_GAP",
    "MIN_HISTORY",
    "Episode",
    "Observations",
    "Threshold",
    "find_episodes",
    "observations",
    "percentiles",
]

Direction = Literal["low", "high"]

#: Observations before which a percentile threshold never qualifies one: too little history to call it extreme.
MIN_HISTORY = 250
#: Observations that do not qualify (about a month of dates) from which two runs are separate episodes.
DEFAULT_GAP = 21


@dataclass(frozen=True)
class Observations:
    """The signal's observations: their dates, values and rows on the panel's timeline."""

    dates: pd.DatetimeIndex
    values: np.ndarray
    rows: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Threshold:
    """``value``: qualify beyond X; ``percentile``: qualify at or beyond the P-th percentile so far."""

    kind: Literal["value", "percentile"]
    value: float


@dataclass(frozen=True)
class Episode:
    """A run of qualifying observations ``first .. last`` (indices into the observations) and its peak."""

    first: int
    last: int
    peak: int
    rank: int
    percentile: float
    since: int | None  # index of the last earlier observation at least as extreme; None for a record


def observations(dates: pd.DatetimeIndex, values: np.ndarray) -> Observations:
    """The dates on which ``values`` is finite and not the previous date's value carried forward."""
    v = np.asarray(values, dtype="float64")
    prev = np.concatenate([[np.nan], v[:-1]])
    new = np.isfinite(v) & ((v != prev) | np.isnan(prev))
    rows = np.flatnonzero(new)
    return Observations(dates=dates[rows], values=v[rows], rows=rows)


def percentiles(values: np.ndarray) -> np.ndarray:
    """Percentile of each value among the values up to and including it (share <= it, in percent)."""
    seen: list[float] = []
    out = np.empty(len(values))
    for i, v in enumerate(values.tolist()):
        bisect.insort(seen, v)
        out[i] = 100.0 * bisect.bisect_right(seen, v) / (i + 1)
    return out


def _more_extreme_before(values: np.ndarray, i: int, direction: Direction) -> int:
    before = values[:i]
    return int(np.count_nonzero(before < values[i] if direction == "low" else before > values[i]))


def _since(values: np.ndarray, i: int, direction: Direction) -> int | None:
    before = values[:i]
    hits = np.flatnonzero(before <= values[i] if direction == "low" else before >= values[i])
    return int(hits[-1]) if len(hits) else None


def _qualifying(values: np.ndarray, pct: np.ndarray, direction: Direction, threshold: Threshold) -> np.ndarray:
    if threshold.kind == "value":
        return values <= threshold.value if direction == "low" else values >= threshold.value
    q = pct <= threshold.value if direction == "low" else pct >= threshold.value
    q[:MIN_HISTORY] = False
    return q


def _runs(q: np.ndarray, gap: int) -> list[tuple[int, int]]:
    """(first, last) of the runs of True in ``q``; a run fewer than ``gap`` False values after the previous joins it."""
    padded = np.concatenate([[False], q, [False]]).astype(np.int8)
    starts = np.flatnonzero(np.diff(padded) == 1).tolist()
    ends = (np.flatnonzero(np.diff(padded) == -1) - 1).tolist()
    runs: list[tuple[int, int]] = []
    for first, last in zip(starts, ends, strict=True):
        if runs and first - runs[-1][1] - 1 < gap:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
    return runs


def find_episodes(
    obs: Observations, direction: Direction, threshold: Threshold, gap: int = DEFAULT_GAP
) -> tuple[list[Episode], np.ndarray]:
    """Every episode in date order, and the percentile of every observation (in the history so far)."""
    values = obs.values
    pct = percentiles(values)
    q = _qualifying(values, pct, direction, threshold)
    episodes = []
    for first, last in _runs(q, gap):
        run = values[first : last + 1]  # the most extreme observation of the span, qualifying or not
        peak = first + int(np.argmin(run) if direction == "low" else np.argmax(run))
        rank = 1 + _more_extreme_before(values, peak, direction)
        episodes.append(Episode(first, last, peak, rank, float(pct[peak]), _since(values, peak, direction)))
    return episodes, pct
