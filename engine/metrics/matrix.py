"""Input checks shared by the sweep statistics (:mod:`engine.metrics.cscv`, :mod:`engine.metrics.deflated`).

Both take a (T, N) numpy matrix of per-period simple returns (fractions): row t a date, column n one
combination of a sweep, every column on the same dates.  A NaN or infinite value is a caller bug
(align the dates first) and raises ``ValueError``, as does a bad shape or a non-integer count.
"""

from __future__ import annotations

import numpy as np

__all__ = ["FLAT_SS_RTOL", "TIE_RTOL", "check_int", "returns_matrix"]

FLAT_SS_RTOL = 1e-10
"""A column (or half of one) whose sum of squared deviations is at most this fraction of its sum of
squares (about the column's mean) has no variation: rounding in s2 - s1^2 / n is ~1e-16 of s2."""

TIE_RTOL = 1e-9
"""Scores of combinations within this fraction of each other (of the larger's size) are tied: those holding
the same positions over a window score alike up to rounding (their values, and so their returns' last bits,
differ by what they held before it: 7e-13 of the Sharpe ratio apart on the shipped sweep).  Without a margin,
which of them wins, and where each ranks, would depend on those bits (:mod:`engine.metrics.cscv`,
:func:`engine.walkforward.select`)."""


def returns_matrix(returns: np.ndarray, min_columns: int) -> np.ndarray:
    """A C-contiguous 2-D float view or copy of ``returns``; ValueError on a bad shape or value.

    >>> returns_matrix([[0.01, 0.0], [0.02, -0.01]], min_columns=2).shape
    (2, 2)
    """
    arr = np.ascontiguousarray(returns, dtype=float)
    if arr.ndim != 2:
        raise ValueError(f"returns must be 2-D (T dates x N combinations), got shape {arr.shape}")
    if arr.shape[1] < min_columns:
        raise ValueError(f"returns need at least {min_columns} columns (combinations), got {arr.shape[1]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("returns contain NaN or infinite values; align the dates first")
    return arr


def check_int(value: int, name: str) -> int:
    """``value`` as an int; ValueError naming ``name`` for a bool, a float or anything else.

    >>> check_int(np.int64(16), "n_splits")
    16
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)
