"""Tear-sheet statistics of one stored run (the ``tearsheet`` block of ``metrics.json``), fractions throughout.

Daily returns follow :mod:`engine.metrics.returns`: r_t = V_t / V_{t-1} - 1 over the run's dates, with
V_{-1} = the initial capital, so monthly and yearly returns compound exactly to ``total_return``.
Each statistic, its definition (one line each, as in docs/reports.md) and the library the tests
(tests/test_tearsheet_libraries.py) check it against; the libraries are not imported here (importing
them costs seconds), the numbers are computed with numpy and pandas:

* ``monthly_returns``: {year: {month "1".."12": V(month's last date) / V(previous month's last date) - 1,
  "year": compounded}}, the first month from the initial capital; months with no run date are absent.
  Anchor: quantstats ``stats.monthly_returns`` (which fills absent months with 0).
* ``worst_drawdowns``: up to 5 drawdown periods, deepest first: start = the last date at the previous
  high, trough, recovery = the first date back at that high (null if never), depth = trough / peak - 1,
  days = calendar days from start to recovery (or to the last date), recovered.  pyfolio's convention
  (peak, valley, recovery); the initial capital counts as a high, as in ``max_drawdown``: a drawdown
  from it starts on the first date.  Anchor: quantstats ``stats.drawdown_details``, whose start is the
  first date under water (our start's next date) and whose end the last date under water (our
  recovery's previous date), its days counting both ends.
* ``rolling``: window = round(periods_per_year) rows; for each risky asset the rolling correlation and
  beta (cov / var of the asset's returns) of the strategy's daily returns to the asset's daily return
  in the base currency (``prices``), from the second date on; summarised as last, median, min, max.
  Anchors: pandas ``Series.rolling().corr``, empyrical ``roll_beta``.
* ``var_95``: the 5th percentile of daily returns (numpy's linear interpolation); ``cvar_95``: the mean
  of the daily returns <= var_95.  Anchors: empyrical ``value_at_risk(r, 0.05)`` and
  ``conditional_value_at_risk(r, 0.05)`` (which averages the int((n - 1) * 0.05) + 1 smallest returns:
  the same set but for ties at the cut).
* ``skew``: sample skewness, bias-corrected (pandas ``skew``); ``kurtosis``: excess kurtosis (pandas
  ``kurt``).  Anchors: quantstats ``stats.skew`` and ``stats.kurtosis``.
* ``positive_days``: share of daily returns > 0 among all of them (zero days count as not positive;
  quantstats ``win_rate`` leaves zero days out: positive_days * n = win_rate * (n - zero days));
  ``positive_months``: share of the months of ``monthly_returns`` with a return > 0.
* ``time_invested``, ``holdings``, ``switch_stats``, ``contribution``: no library computes these (hand
  written, :mod:`engine.metrics.tearsheet_positions`; tested against hand-computed tables).

>>> value = pd.Series([100.0, 110.0, 99.0], pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-01"]))
>>> monthly_returns(value, 100.0)["2024"]  # Jan 100/100 - 1, Feb 110/100 - 1, Mar 99/110 - 1
{'1': 0.0, '2': 0.10000000000000009, '3': -0.09999999999999998, 'year': -0.010000000000000009}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.metrics.frames import year_returns
from engine.metrics.tearsheet_positions import contribution, holdings, switch_stats, time_invested

__all__ = [
    "TOP_DRAWDOWNS",
    "daily_returns",
    "monthly_returns",
    "monthly_table",
    "rolling_series",
    "rolling_summary",
    "tail_stats",
    "tearsheet",
    "worst_drawdowns",
]

#: How many drawdown periods ``worst_drawdowns`` lists.
TOP_DRAWDOWNS = 5
#: The tail cut of VaR and CVaR: the worst 5% of days.
VAR_CUT = 0.05


def daily_returns(value: pd.Series, initial: float) -> pd.Series:
    """:func:`engine.metrics.returns.daily_returns` (V_{-1} = ``initial``) as a series on the run's dates."""
    return pd.Series(m.daily_returns(value.to_numpy(dtype="float64"), initial), index=value.index, name="return")


def monthly_table(value: pd.Series, initial: float) -> pd.DataFrame:
    """Years x months 1..12 and ``year``: month returns (NaN where no run date), the year compounded."""
    index = pd.DatetimeIndex(value.index)
    ends = value.groupby([index.year, index.month]).last()
    v = ends.to_numpy(dtype="float64")
    month = pd.Series(v / np.concatenate([[initial], v[:-1]]) - 1.0, index=ends.index)
    table = month.unstack().reindex(columns=range(1, 13))
    table.index = table.index.astype(int)
    table["year"] = pd.Series(year_returns(value, initial))
    return table


def monthly_returns(value: pd.Series, initial: float) -> dict[str, dict[str, float]]:
    """``monthly_table`` as JSON: {"YYYY": {"1".."12" (months with a run date): r, "year": r}}."""
    table = monthly_table(value, initial)
    out: dict[str, dict[str, float]] = {}
    for year, row in zip(table.index, table.to_numpy(dtype="float64").tolist(), strict=True):
        cells = {str(m): r for m, r in enumerate(row[:12], 1) if r == r}  # r == r: not NaN
        out[str(year)] = {**cells, "year": row[12]}
    return out


def _date(index: pd.DatetimeIndex, i: int | None) -> str | None:
    return None if i is None else str(index[i].date())


def worst_drawdowns(value: pd.Series, initial: float, top: int = TOP_DRAWDOWNS) -> list[dict[str, Any]]:
    """The ``top`` deepest drawdown periods (module docstring), deepest first; ties keep date order."""
    v = value.to_numpy(dtype="float64")
    index = pd.DatetimeIndex(value.index)
    periods: list[tuple[int, int, int | None, float]] = []  # (start, trough, recovery, depth) rows
    peak, peak_row, trough = initial, 0, None  # peak_row: the start (row 0 for the initial capital)
    for i, x in enumerate(v):
        if x >= peak:
            if trough is not None:
                periods.append((peak_row, trough, i, v[trough] / peak - 1.0))
                trough = None
            peak, peak_row = x, i
        elif trough is None or x < v[trough]:
            trough = i
    if trough is not None:
        periods.append((peak_row, trough, None, v[trough] / peak - 1.0))
    periods.sort(key=lambda p: p[3])
    out = []
    for start, low, recovery, depth in periods[:top]:
        end = index[recovery] if recovery is not None else index[-1]
        out.append(
            {
                "start": _date(index, start),
                "trough": _date(index, low),
                "recovery": _date(index, recovery),
                "depth": float(depth),
                "days": int((end - index[start]).days),
                "recovered": recovery is not None,
            }
        )
    return out


def rolling_series(
    value: pd.Series, prices: pd.DataFrame, assets: Sequence[str], window: int
) -> dict[str, pd.DataFrame]:
    """Per asset: ``correlation`` and ``beta`` of the strategy's daily returns to the asset's over the
    trailing ``window`` rows, from the second date on (the first has no asset return); NaN until a full
    window and where the asset's returns do not vary."""
    r = value.pct_change().iloc[1:]
    out = {}
    for a in assets:
        x = prices[a].pct_change(fill_method=None).iloc[1:]
        roll = r.rolling(window, min_periods=window)
        corr = roll.corr(x)
        var = x.rolling(window, min_periods=window).var()
        beta = roll.cov(x) / var.where(var > 0)
        out[a] = pd.DataFrame({"correlation": corr.where(var > 0), "beta": beta})
    return out


def _summary(s: pd.Series) -> dict[str, float | None]:
    s = s.dropna()
    if s.empty:
        return dict.fromkeys(("last", "median", "min", "max"))
    return {"last": float(s.iloc[-1]), "median": float(s.median()), "min": float(s.min()), "max": float(s.max())}


def rolling_summary(series: Mapping[str, pd.DataFrame], window: int) -> dict[str, Any]:
    """The ``rolling`` block: the window, and last, median, min and max of each asset's series."""
    out: dict[str, Any] = {"window": window}
    for a, frame in series.items():
        out[a] = {"correlation": _summary(frame["correlation"]), "beta": _summary(frame["beta"])}
    return out


def tail_stats(returns: pd.Series) -> dict[str, float]:
    """var_95, cvar_95, skew, kurtosis and positive_days of daily returns (module docstring)."""
    r = returns.to_numpy(dtype="float64")
    var = float(np.percentile(r, VAR_CUT * 100))
    return {
        "var_95": var,
        "cvar_95": float(r[r <= var].mean()),
        "skew": float(returns.skew()),
        "kurtosis": float(returns.kurt()),
        "positive_days": float(np.mean(r > 0)),
    }


def tearsheet(
    equity: pd.DataFrame,
    weights: pd.DataFrame,
    prices: pd.DataFrame,
    trades: pd.DataFrame,
    *,
    initial: float,
    assets: Sequence[str],
    periods_per_year: float,
    quotes: pd.DataFrame | None = None,
    fx: pd.DataFrame | None = None,
    financing: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Every tear-sheet statistic of one run, JSON-ready (module docstring), from its stored tables.

    ``equity``, ``weights``, ``prices``, ``quotes``, ``fx``: indexed by date, as
    :func:`engine.store.rundir.load_run` reads them; ``trades``: its ``date`` a column;
    ``assets``: the risky (not signal-only) assets; ``fx`` None: the currency's contribution is
    unavailable (``contribution.currency`` null, the assets' contributions in the base currency).
    """
    value = equity["value"]
    returns = daily_returns(value, initial)
    months = monthly_returns(value, initial)
    month_values = [r for year in months.values() for k, r in year.items() if k != "year"]
    window = round(periods_per_year) if np.isfinite(periods_per_year) else len(value)  # one date: no window
    targets = weights[[f"{a}_target" for a in assets]].set_axis(list(assets), axis=1)
    segments = holdings(value, targets, initial)
    return {
        "monthly_returns": months,
        "worst_drawdowns": worst_drawdowns(value, initial),
        "rolling": rolling_summary(rolling_series(value, prices, assets, window), window),
        **tail_stats(returns),
        "positive_months": float(np.mean(np.asarray(month_values) > 0)),
        "time_invested": time_invested(equity, assets),
        "holdings": segments,
        "switch_stats": switch_stats(segments),
        "contribution": contribution(
            equity, prices, trades, initial=initial, assets=assets, quotes=quotes, fx=fx, financing=financing
        ),
    }
