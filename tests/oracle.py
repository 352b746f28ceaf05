"""Independent signal formulas and metrics, for the tests (imports nothing from ``engine``).

Targets recomputed with plain loops from the documented signal formulas and the metric
definitions of docs/methodology.md, so the tests can check signals + rules and metrics apart from the
engine.  The execution (events, legs, fills, currency, cash, dividends) is re-derived by the
independent reference backtester, ``tests/reference.py``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "carried_forward",
    "corr_breakdown_targets",
    "metrics",
    "ratio_trend_targets",
    "relative_momentum_targets",
]

# --------------------------------------------------------------------------- prices


def carried_forward(close: np.ndarray) -> np.ndarray:
    """Last traded price at or before each date (NaN before the first one), column by column."""
    out = np.array(close, dtype=float, copy=True)
    for j in range(out.shape[1]):
        last = math.nan
        for d in range(out.shape[0]):
            if math.isnan(out[d, j]):
                out[d, j] = last
            else:
                last = out[d, j]
    return out


# --------------------------------------------------------------------------- metrics


def metrics(dates: Sequence, value: Sequence[float], initial: float) -> dict[str, float]:
    """The metrics of engine/metrics.py, re-derived from their definitions.

    Daily simple returns with the initial cash before the first date;
    years = calendar days first -> last / 365.25; periods per year =
    (number of dates - 1) / years; sample standard deviation (n - 1); zero
    risk-free rate and Sortino target; the downside deviation averages squared
    negative returns over *all* dates; the drawdown counts the initial cash as
    the first peak.
    """
    stamps = [pd.Timestamp(x) for x in dates]
    years = (stamps[-1] - stamps[0]).days / 365.25
    ppy = (len(stamps) - 1) / years
    values = [float(v) for v in value]
    previous = [float(initial), *values[:-1]]
    rets = [v / p - 1.0 for v, p in zip(values, previous, strict=True)]
    k = len(rets)
    mean = math.fsum(rets) / k
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in rets) / (k - 1))
    downside = math.sqrt(math.fsum(min(x, 0.0) ** 2 for x in rets) / k)
    peak, mdd = float(initial), 0.0
    for v in values:
        peak = max(peak, v)
        mdd = min(mdd, v / peak - 1.0)
    cagr = (values[-1] / initial) ** (1.0 / years) - 1.0
    return {
        "total_return": values[-1] / initial - 1.0,
        "cagr": cagr,
        "ann_vol": sd * math.sqrt(ppy),
        "sharpe": mean / sd * math.sqrt(ppy) if sd > 0 else math.nan,
        "sortino": mean / downside * math.sqrt(ppy) if downside > 0 else math.nan,
        "max_drawdown": mdd,
        "calmar": cagr / abs(mdd) if mdd < 0 else math.nan,
        "years": years,
        "periods_per_year": ppy,
    }


# --------------------------------------------------------------------------- signals + rules


def _window_mean(x: np.ndarray, t: int, window: int) -> float:
    return float(np.mean(x[t - window + 1 : t + 1])) if t + 1 >= window else math.nan


def ratio_trend_targets(us: np.ndarray, hk: np.ndarray, window: int) -> np.ndarray:
    """configs/ratio_trend.yaml: HK when ln(R_t / SMA_window(R)_t) > 0 with R = HK / US, else US.

    ``us``, ``hk``: carried-forward closes on the union timeline.  Columns (us, hk).
    While the average is warming up (NaN) the rule is false: US.
    """
    ratio = hk / us
    out = np.zeros((len(us), 2))
    for t in range(len(us)):
        sma = _window_mean(ratio, t, window)
        trend = math.log(ratio[t] / sma) if math.isfinite(sma) and math.isfinite(ratio[t]) else math.nan
        out[t] = (0.0, 1.0) if (not math.isnan(trend) and trend > 0) else (1.0, 0.0)
    return out


def _trailing_return(p: np.ndarray, t: int, window: int) -> float:
    return p[t] / p[t - window] - 1.0 if t >= window else math.nan


def relative_momentum_targets(us: np.ndarray, hk: np.ndarray, window: int) -> np.ndarray:
    """configs/relative_momentum.yaml: US if rel > 0 and mom_us > 0; HK if rel <= 0 and mom_hk > 0; else cash.

    mom_x = P[t] / P[t - window] - 1, rel = mom_us - mom_hk; a rule naming a NaN signal is false.
    """
    out = np.zeros((len(us), 2))
    for t in range(len(us)):
        mu, mh = _trailing_return(us, t, window), _trailing_return(hk, t, window)
        rel = mu - mh
        if not (math.isnan(rel) or math.isnan(mu)) and rel > 0 and mu > 0:
            out[t] = (1.0, 0.0)
        elif not (math.isnan(rel) or math.isnan(mh)) and rel <= 0 and mh > 0:
            out[t] = (0.0, 1.0)
    return out


def corr_breakdown_targets(us: np.ndarray, hk: np.ndarray, corr_window: int, mom_window: int) -> np.ndarray:
    """configs/corr_breakdown.yaml: corr < 0.2 -> the stronger 63-row momentum (US if mom > 0), else 50/50.

    corr_t = Pearson correlation over rows t-window+1..t of (US log return of the
    *previous* row, HK log return of the row): Hong Kong's day d reacts to New
    York's day d-1 (``align: async``).  mom = mom_us - mom_hk.
    """
    n = len(us)
    r_us = np.full(n, math.nan)
    r_hk = np.full(n, math.nan)
    for t in range(1, n):
        r_us[t] = math.log(us[t] / us[t - 1])
        r_hk[t] = math.log(hk[t] / hk[t - 1])
    u = np.concatenate([[math.nan], r_us[:-1]])  # US return of the previous row
    out = np.zeros((n, 2))
    for t in range(n):
        corr = math.nan
        if t + 1 >= corr_window:
            a, b = u[t - corr_window + 1 : t + 1], r_hk[t - corr_window + 1 : t + 1]
            if np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
                da, db = a - a.mean(), b - b.mean()
                corr = float(np.sum(da * db) / math.sqrt(np.sum(da * da) * np.sum(db * db)))
        mom = _trailing_return(us, t, mom_window) - _trailing_return(hk, t, mom_window)
        ok = not (math.isnan(corr) or math.isnan(mom))
        if ok and corr < 0.2 and mom > 0:
            out[t] = (1.0, 0.0)
        elif ok and corr < 0.2 and mom <= 0:
            out[t] = (0.0, 1.0)
        else:
            out[t] = (0.5, 0.5)
    return out
