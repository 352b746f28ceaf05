"""The time series a report draws, from a stored run's curves: pure functions, fractions, no I/O.

Each uses the definitions of :mod:`engine.metrics` (and :mod:`engine.metrics.frames` for calendar
years), so a chart and the metrics table beside it agree: the lowest point of
:func:`drawdown` is ``max_drawdown``, the last point of :func:`normalised` is
``1 + total_return``, :func:`rolling_sharpe` on the last window is ``engine.metrics.sharpe``
of that window's excess returns.

Rules and thresholds: :func:`thresholds` reads the constant a ``when:`` condition compares
each signal with (``corr < 0.2`` -> 0.2 on ``corr``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import expr
from engine import metrics as m

__all__ = [
    "Threshold",
    "drawdown",
    "envelope",
    "normalised",
    "risk_free_returns",
    "rolling_return",
    "rolling_sharpe",
    "thresholds",
    "window_rows",
]

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def drawdown(value: pd.Series, initial: float) -> pd.Series:
    """D_t = V_t / max(initial, max_{s<=t} V_s) - 1 <= 0, on the curve's dates.

    The initial cash is the first peak, as in :func:`engine.metrics.max_drawdown`, so
    ``drawdown(v, c).min() == max_drawdown(v, c)``.

    >>> s = pd.Series([110.0, 99.0, 121.0], pd.bdate_range("2024-01-01", periods=3))
    >>> drawdown(s, 100.0).round(4).tolist()  # 99 / 110 - 1
    [0.0, -0.1, 0.0]
    """
    v = value.to_numpy(dtype=float)
    peak = np.maximum.accumulate(np.concatenate([[initial], v]))[1:]
    return pd.Series(v / peak - 1.0, index=value.index, name=value.name)


def normalised(value: pd.Series, start: float) -> pd.Series:
    """V_t / V_{-1}: growth of 1 invested at the close before the first date (``start`` = V_{-1}).

    V_{-1} is the run's initial cash, or the previous close for a later window
    (:func:`engine.metrics.frames.rebase`), so the last point is ``1 + total_return``.
    """
    return value.astype(float) / float(start)


def envelope(values: np.ndarray, max_points: int) -> tuple[np.ndarray, int]:
    """The positions a chart draws of a curve longer than ``max_points``, and the dates per bucket (1: all).

    The dates are cut into buckets of ``k = ceil(n / (max_points // 2))`` consecutive dates; of each
    bucket the lowest and the highest value are kept (their own dates and exact values), and the
    first missing value (a gap stays a gap), plus the first and last date.  A line through them is
    the curve as a screen of ``max_points / 2`` pixel columns shows it: every peak and trough is there.

    >>> envelope(np.array([5.0, 1.0, 2.0, 9.0, 3.0, 4.0, 0.0]), 4)  # buckets [5 1 2 9] [3 4 0]
    (array([0, 1, 3, 5, 6]), 4)
    """
    n = len(values)
    if n <= max_points:
        return np.arange(n), 1
    k = -(-n // max(1, max_points // 2))
    buckets = -(-n // k)
    flat = np.full(buckets * k, np.nan)
    flat[:n] = values
    grid = flat.reshape(buckets, k)
    finite = np.isfinite(grid)
    low = np.where(finite, grid, np.inf).argmin(axis=1)
    high = np.where(finite, grid, -np.inf).argmax(axis=1)
    gap = (~finite).argmax(axis=1)
    start = np.arange(buckets) * k
    keep = np.concatenate([start + low, start + high, (start + gap)[(~finite).any(axis=1)], [0, n - 1]])
    return np.unique(keep[keep < n]), k


def window_rows(periods_per_year: float) -> int:
    """Rows in one year of the run's own timeline: round(periods_per_year), at least 2."""
    return max(2, round(periods_per_year)) if np.isfinite(periods_per_year) else 252


def rolling_return(value: pd.Series, initial: float, rows: int) -> pd.Series:
    """R_t = V_t / V_{t-rows} - 1: the compounded return of the trailing ``rows`` daily returns.

    V_{-1} = ``initial``, so the first value is on the ``rows``-th date (as :func:`rolling_sharpe`'s).

    >>> s = pd.Series([110.0, 99.0, 121.0], pd.bdate_range("2024-01-01", periods=3))
    >>> rolling_return(s, 100.0, 2).round(4).tolist()  # [nan, 99/100 - 1, 121/110 - 1]
    [nan, -0.01, 0.1]
    """
    v = value.to_numpy(dtype=float)
    full = np.concatenate([[initial], v])
    out = np.full(len(v), np.nan)
    if len(v) >= rows:
        out[rows - 1 :] = full[rows:] / full[: len(full) - rows] - 1.0
    return pd.Series(out, index=value.index, name=value.name)


def risk_free_returns(cash_index: pd.Series | None, index: pd.Index) -> np.ndarray:
    """r_f,t = B_t / B_{t-1} - 1 from the stored cash index (0 on the first date; all 0 without one).

    As :meth:`engine.valuation.Valuation.risk_free`, which the run's Sharpe used.
    """
    if cash_index is None:
        return np.zeros(len(index))
    b = cash_index.to_numpy(dtype=float)
    return np.concatenate([[0.0], b[1:] / b[:-1] - 1.0])


def rolling_sharpe(
    value: pd.Series, initial: float, rows: int, periods_per_year: float, risk_free: np.ndarray | None = None
) -> pd.Series:
    """Sharpe of the trailing ``rows`` daily excess returns, annualised with the run's periods per year.

        S_t = mean(e_{t-rows+1..t}) / std(e_{t-rows+1..t}, ddof=1) * sqrt(ppy),  e = r - r_f

    with r from :func:`engine.metrics.daily_returns` (V_{-1} = ``initial``); NaN before a full
    window and where the window's excess returns do not vary.
    """
    r = m.daily_returns(value.to_numpy(dtype=float), initial)
    e = pd.Series(r if risk_free is None else r - risk_free, index=value.index)
    roll = e.rolling(rows, min_periods=rows)
    mean, sd = roll.mean(), roll.std(ddof=1)
    return (mean / sd.where(sd > 0) * np.sqrt(periods_per_year)).rename(value.name)


@dataclass(frozen=True)
class Threshold:
    """A constant a rule compares a signal with: ``signal op value`` in rule ``rule`` (0-based)."""

    signal: str
    op: str
    value: float
    rule: int

    @property
    def label(self) -> str:
        return f"{self.signal} {self.op} {self.value:g}"


def _constant(node: expr.Expr) -> float | None:
    if isinstance(node, expr.Number):
        return float(node.value)
    if isinstance(node, expr.Neg):
        inner = _constant(node.operand)
        return None if inner is None else -inner
    return None


def _signal(node: expr.Expr) -> tuple[str, bool] | None:
    """(name, under abs) for ``name`` or ``abs(name)``."""
    if isinstance(node, expr.Name):
        return node.id, False
    if isinstance(node, expr.Call) and node.func == "abs" and isinstance(node.args[0], expr.Name):
        return node.args[0].id, True
    return None


def _walk(node: expr.Expr, rule: int, out: list[Threshold]) -> None:
    if isinstance(node, expr.Compare):
        for a, b, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIP[node.op])):
            sig, value = _signal(a), _constant(b)
            if sig is not None and value is not None:
                name, absolute = sig
                values = (value, -value) if absolute and value != 0 else (value,)
                out += [Threshold(name, f"|·| {op}" if absolute else op, v, rule) for v in values]
                return
    elif isinstance(node, expr.Call) and node.func in ("crosses_above", "crosses_below"):
        sig, value = _signal(node.args[0]), _constant(node.args[1])
        if sig is not None and value is not None and not sig[1]:
            out.append(Threshold(sig[0], node.func.replace("_", " "), value, rule))
    for child in _children(node):
        _walk(child, rule, out)


def _children(node: expr.Expr) -> tuple[expr.Expr, ...]:
    if isinstance(node, expr.BoolOp):
        return node.operands
    if isinstance(node, expr.Not | expr.Neg):
        return (node.operand,)
    if isinstance(node, expr.BinOp):
        return (node.left, node.right)
    if isinstance(node, expr.Call):
        return node.args
    return ()


def thresholds(whens: Sequence[str | None], signal_names: Sequence[str]) -> list[Threshold]:
    """Every ``signal op constant`` comparison in the rules' ``when:`` texts (None: ``otherwise``).

    ``abs(z) > 2`` gives lines at 2 and -2; ``crosses_above(x, 1)`` gives 1; a comparison
    of two signals (``mom_us > mom_hk``) has no constant and gives none.

    >>> [t.label for t in thresholds(["corr < 0.2 and mom > 0", None], ["corr", "mom"])]
    ['corr < 0.2', 'mom > 0']
    """
    out: list[Threshold] = []
    for i, text in enumerate(whens):
        if text is not None:
            _walk(expr.parse_condition(text, known=list(signal_names)), i, out)
    return out
