"""Risk sizing of a strategy's decided weights: shares by risk, a volatility target, a gross cap.

docs/rules.md (*Sizing*) is the contract.  On each decision date t, with w the deciding rule's
valid weights and R_j the daily returns of each asset's unit value (base currency, dividends
accrued) over the trailing ``window`` returns s = t-window+1 .. t:

1. ``inverse_vol`` / ``equal_risk``: the total weight G of the listed assets the rule holds (two or
   more) is shared in inverse proportion to their volatilities, or so that each contributes the
   same risk under their sample covariance;
2. ``target_vol``: the weights are multiplied by ``min(target_vol / sigma_p, max_gross / gross)``
   (gross: the sum of the absolute weights),
   sigma_p the sample volatility of ``sum_j w_j R_j`` over the window, annualised with the window's
   own dates per year;
3. without ``target_vol``, weights whose gross (the sum of their absolute values: a short counts by
   its size) is above ``max_gross`` are scaled down to it.

A date whose window has a NaN or zero volatility keeps the weights of the step that needed it and
goes on to the next step, and is counted once as *unsized*; a date the gross cap changed is counted
as *clipped*.  Everything is trailing: the covariance on t
uses returns up to t.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np

from engine.config.values import WEIGHT_TOLERANCE
from engine.errors import ConfigError

__all__ = [
    "DAYS_PER_YEAR",
    "SizingPlan",
    "check_window",
    "equal_risk_shares",
    "rolling_covariance",
    "size_targets",
]


def check_window(window: int, dates: Sequence[Any], *, path: str) -> None:
    """Refuse (ConfigError at ``path``) a sizing window the data cannot fill: ``window`` returns need ``window``
    + 1 dates of prices, so with fewer ``dates`` (every date loaded, warm-up included) no decision is sized and
    the rules' weights would run unsized while the run says it targets a volatility."""
    if window + 1 > len(dates):
        raise ConfigError(
            f"a sizing window of {window:,} dates needs {window + 1:,} dates of prices and the data has "
            f"{len(dates):,} ({_day(dates[0])} to {_day(dates[-1])}): no decision could be sized",
            path=path,
            expected="a sizing window shorter than the data",
        )


def _day(value: Any) -> str:
    return str(value)[:10]


DAYS_PER_YEAR = 365.25
_SCHEMES = {None: 0, "inverse_vol": 1, "equal_risk": 2}


@dataclass(frozen=True)
class SizingPlan:
    """A ``sizing:`` block laid out per column: NaN ``target_vol`` for none; ``risk`` the shared assets' columns."""

    target_vol: np.ndarray  # (K,)
    window: np.ndarray  # (K,) int
    max_gross: np.ndarray  # (K,)
    risk: np.ndarray  # (m,) asset indices shared by risk (empty without a scheme)
    scheme: str | None  # "inverse_vol", "equal_risk" or None


def size_targets(
    targets: np.ndarray, unit_value: np.ndarray, dates: np.ndarray, first: np.ndarray, plan: SizingPlan
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sized (n, K, A) targets, unsized (K,), capped (n, K)): :data:`plan` applied to every date
    (module docstring); ``unsized`` counts dates from each column's ``first`` on, ``capped`` marks
    the dates the gross cap scaled (the caller counts them with the weights' own clipping)."""
    targets = np.array(targets, dtype=np.float64)  # a copy: sized in place
    n, k, _ = targets.shape
    unsized = np.zeros(k, dtype=np.int64)
    clipped = np.zeros((n, k), dtype=np.bool_)
    with np.errstate(divide="ignore", invalid="ignore"):
        returns = np.concatenate([np.full((1, unit_value.shape[1]), np.nan), unit_value[1:] / unit_value[:-1] - 1.0])
    days = dates.astype("datetime64[D]").astype(np.int64).astype(np.float64)
    for window in np.unique(plan.window):
        cols = np.flatnonzero(plan.window == window)
        cov = rolling_covariance(np.ascontiguousarray(returns), int(window))
        span = np.full(n, np.nan)
        span[window:] = (days[window:] - days[:-window]) / DAYS_PER_YEAR
        ppy = window / span
        sub = np.ascontiguousarray(targets[:, cols])
        u, c = _size_nb(
            sub,
            cov,
            ppy,
            np.ascontiguousarray(first[cols], dtype=np.int64),
            np.ascontiguousarray(plan.target_vol[cols], dtype=np.float64),
            np.ascontiguousarray(plan.max_gross[cols], dtype=np.float64),
            np.ascontiguousarray(plan.risk, dtype=np.int64),
            _SCHEMES[plan.scheme],
            WEIGHT_TOLERANCE,
        )
        targets[:, cols] = sub
        unsized[cols], clipped[:, cols] = u, c
    return targets, unsized, clipped


@numba.njit(cache=True, nogil=True)
def rolling_covariance(returns, window):  # pragma: no cover - compiled
    """(n, A, A): the sample covariance (ddof 1) of the rows t-window+1 .. t of ``returns`` (n, A);
    NaN where that window starts before row 1 or an entry of the pair is NaN in it."""
    n, a = returns.shape
    out = np.full((n, a, a), np.nan)
    for t in range(window, n):
        lo = t - window + 1
        for i in range(a):
            for j in range(i, a):
                mi = 0.0
                mj = 0.0
                for s in range(lo, t + 1):
                    mi += returns[s, i]
                    mj += returns[s, j]
                mi /= window
                mj /= window
                acc = 0.0
                for s in range(lo, t + 1):
                    acc += (returns[s, i] - mi) * (returns[s, j] - mj)
                out[t, i, j] = acc / (window - 1)
                out[t, j, i] = out[t, i, j]
    return out


@numba.njit(cache=True, nogil=True)
def equal_risk_shares(cov):  # pragma: no cover - compiled
    """b > 0 with sum 1 and equal risk contributions b_j (cov b)_j, by cyclical coordinate descent on
    Spinu's convex problem (min y'cov y / 2 - sum log(y_j) / m); NaN if it does not converge."""
    m = cov.shape[0]
    y = np.empty(m)
    for i in range(m):
        y[i] = 1.0 / np.sqrt(cov[i, i])
    target = 1.0 / m
    for _ in range(10_000):
        largest = 0.0
        for i in range(m):
            c = 0.0
            for j in range(m):
                if j != i:
                    c += cov[i, j] * y[j]
            new = (-c + np.sqrt(c * c + 4.0 * cov[i, i] * target)) / (2.0 * cov[i, i])
            change = abs(new - y[i]) / new
            if change > largest:
                largest = change
            y[i] = new
        if largest < 1e-13:
            return y / y.sum()
    return np.full(m, np.nan)


@numba.njit(cache=True, nogil=True)
def _share(w, cov_t, risk, scheme):  # pragma: no cover - compiled
    """Share the held risk assets' total weight by risk, in place; False when a volatility is unusable."""
    held = 0
    for j in risk:
        if w[j] > 0:
            held += 1
    if held < 2:
        return True
    idx = np.empty(held, np.int64)
    q = 0
    total = 0.0
    for j in risk:
        if w[j] > 0:
            idx[q] = j
            q += 1
            total += w[j]
    for j in idx:
        v = cov_t[j, j]
        if not (v > 0) or np.isnan(v):
            return False
    if scheme == 1:
        inv = np.empty(held)
        for q in range(held):
            inv[q] = 1.0 / np.sqrt(cov_t[idx[q], idx[q]])
        shares = inv / inv.sum()
    else:
        sub = np.empty((held, held))
        for p in range(held):
            for q in range(held):
                sub[p, q] = cov_t[idx[p], idx[q]]
        if np.isnan(sub).any():
            return False
        shares = equal_risk_shares(sub)
        if np.isnan(shares).any():
            return False
    for q in range(held):
        w[idx[q]] = total * shares[q]
    return True


@numba.njit(cache=True, nogil=True)
def _size_nb(targets, cov, ppy, first, target_vol, max_gross, risk, scheme, tol):  # pragma: no cover - compiled
    """:func:`size_targets` for columns sharing one window: sizes ``targets`` (n, K, A) in place."""
    n, k, a = targets.shape
    unsized = np.zeros(k, np.int64)
    clipped = np.zeros((n, k), np.bool_)
    for c in range(k):
        for t in range(n):
            w = targets[t, c]
            missing = scheme != 0 and not _share(w, cov[t], risk, scheme)  # kept as they are, then steps 2-3
            gross = np.abs(w).sum()  # shorts count by their size (docs/shorts.md)
            if gross > 0 and not np.isnan(target_vol[c]):
                var = 0.0
                for i in range(a):
                    if w[i] != 0:
                        for j in range(a):
                            if w[j] != 0:
                                var += w[i] * w[j] * cov[t, i, j]
                sigma = np.sqrt(var * ppy[t])
                if sigma > 0 and not np.isnan(sigma):
                    w *= min(target_vol[c] / sigma, max_gross[c] / gross)
                else:
                    missing = True
            elif gross > max_gross[c] + tol:
                w *= max_gross[c] / gross
                clipped[t, c] = True
            if missing and t >= first[c]:
                unsized[c] += 1
    return unsized, clipped
