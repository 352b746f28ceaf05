"""An independent reference for the optional columns of ``seesaw compare``; imports nothing from ``engine``.

Written from the documented contract only (README.md, docs/compare.md, docs/methodology.md, docs/runs.md,
docs/data.md, docs/signals.md), with plain pandas/numpy, from the files a run directory stores.  In words:

Inputs (docs/runs.md lines 76-80, "The run directory"; docs/reports.md line 130)
    ``equity.csv`` (``date,value,...,cash_index``) gives the strategy's end-of-day value and what one unit
    of cash has grown to; ``benchmarks.csv`` one value column per benchmark; ``config.yaml`` the resolved
    config (``initial_cash``, ``base_currency``, each asset's ``currency``); ``fx.parquet`` "the
    base-currency value of one unit of each asset's currency on each date" (docs/reports.md, named by
    docs/compare.md "One currency").  A benchmark's initial capital and cash rate are its run's.

Window returns (docs/methodology.md lines 195-205; docs/compare.md lines 96-101, "The table")
    ``r_t = V_t / V_{t-1} - 1`` over the window's dates.  A window that starts on the run's first date
    starts from its initial cash (``V_{-1} = initial_cash``); a sub-period starts from the previous close.
    The risk-free return is ``rf_t = cash_index_t / cash_index_{t-1} - 1`` (``cash_index`` is 1 before the
    first date), and the excess return ``e_t = r_t - rf_t``.  Periods per year: ``(number of dates - 1) /
    years``, ``years`` the calendar days from the window's first to its last date / 365.25.

One currency (docs/compare.md lines 110-117, "One currency"; docs/methodology.md lines 228-231)
    A run in the other currency is converted "at the HKD=X closes of its own data ... kept in its
    fx.parquet: every amount on a date is divided by that date's rate, the initial capital by the first
    date's".  The rate divided by is the fx.parquet value (in the run's base currency) of one unit of the
    target currency: the column of an asset quoted in the target currency.  "Sharpe-type ratios stay in
    excess of each run's own cash rate": ``rf`` is not converted.

Calendar-year returns (``--by year``: docs/compare.md line 52, "a column y<year> per year")
    ``y<year> = prod(1 + r_t over the window's dates in that year) - 1``: the value at the year's last
    window date over the value at the previous close (or the initial capital).

Regimes (docs/compare.md lines 122-131 "Regimes" and 135-137 "Small samples"; docs/methodology.md lines 339-344)
    The regime is a boolean series over the regime config's dates (its union timeline), computed from its
    signals; "A comparison with NaN is false" (docs/config.md line 211).  "Day t is classified by the regime at the
    close of t-1": a window date is *in* when the regime held on the last regime date strictly before it.
    Each side's figures use only its days' returns:
      * annualised return (geometric): ``prod(1 + r_in) ** (ppy / n_in) - 1``, ``ppy`` the window's periods
        per year (the annualisation of methodology.md; ``n_in / ppy`` years of returns);
      * Sharpe: ``mean(e_in) / std(e_in, ddof=1) * sqrt(ppy)`` ("in excess of each row's cash rate, as the
        main Sharpe column");
      * share: ``n_in / n`` of the window's dates; spells: the number of maximal runs of consecutive window
        dates classified in ("a regime that held in fewer than 10 separate spells says so").
    "A side of the regime seen for less than a year of days (its share of the window, counted as the window
    is)" shows no annualised figure (None): side years = share x window years, the window counted as
    "calendar days / 365.25, the first date's own period included" (from the previous timeline date to the
    last date), and "a week less counts as a year": withheld when side years < 1 - 7 / 365.25.  The tests
    keep every side away from that edge, so the reading of "the first date's own period" does not matter.

The regime's signal (docs/signals.md lines 38, 125-141: ``rolling_corr``, defaults ``on: returns,
align: async, dates: union, currency: local``)
    On the union timeline of the two assets' trading dates, each price carried forward over its market's
    holidays (a zero return), ``r[t] = ln(P[t] / P[t-1])``.  ``align: async`` pairs the Hong Kong return of
    row t with the New York return of row t-1; the value on row t is the Pearson correlation of the
    ``window`` pairs ending at row t, NaN until ``window + 1`` rows of returns exist.  The prices come from
    the CSV files (``Close``; rows without a positive price and weekend rows dropped, docs/data.md) or, for
    synthetic data, a run's ``quotes.parquet`` ("each asset's quoted price in its own currency on the dates
    it traded", docs/runs.md).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "YEAR_LESS_A_WEEK",
    "Curve",
    "async_rolling_corr",
    "classify",
    "csv_closes",
    "load_curve",
    "quotes_closes",
    "regime_side",
    "regime_sides",
    "window_returns",
    "year_returns",
]

#: "a week less counts as a year" (docs/compare.md "Small samples").
YEAR_LESS_A_WEEK = 1.0 - 7.0 / 365.25


@dataclass(frozen=True)
class Curve:
    """One row's money: end-of-day values, initial capital and the cash index, in the shown currency."""

    values: pd.Series  # indexed by pd.Timestamp
    initial: float
    cash_index: pd.Series  # same index; not converted (the run's own cash rate)
    currency: str


def _read_dated_csv(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    frame["date"] = pd.to_datetime(frame["date"])
    return frame.set_index("date").drop(columns=["synthetic"], errors="ignore")


def _run_config(run_dir: Path) -> dict:
    return yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))


def load_curve(run_dir: Path, column: str | None, currency: str | None = None) -> Curve:
    """The strategy (``column=None``) or benchmark ``column`` of ``run_dir``, shown in ``currency``.

    ``currency`` None or the run's base currency: as stored.  Otherwise every value on a date is divided by
    that date's fx.parquet value of the target currency, the initial capital by the first date's.
    """
    config = _run_config(run_dir)
    base = str(config.get("base_currency", "USD"))
    initial = float(config["initial_cash"])
    equity = _read_dated_csv(run_dir / "equity.csv")
    if column is None:
        values = equity["value"].astype(float)
    else:
        values = _read_dated_csv(run_dir / "benchmarks.csv")[column].astype(float)
    cash_index = equity["cash_index"].astype(float).reindex(values.index)
    shown = base if currency is None else currency
    if shown != base:
        assets = config["assets"]
        holders = [name for name, spec in assets.items() if spec.get("currency") == shown]
        if not holders:
            raise ValueError(f"{run_dir}: no asset quoted in {shown}, so no rate to convert with")
        fx = pd.read_parquet(run_dir / "fx.parquet")
        fx["date"] = pd.to_datetime(fx["date"])
        rate = fx.set_index("date")[holders[0]].astype(float).reindex(values.index)
        if rate.isna().any():
            raise ValueError(f"{run_dir}: fx.parquet misses dates of the curve")
        initial = initial / float(rate.iloc[0])
        values = values / rate
    return Curve(values=values, initial=initial, cash_index=cash_index, currency=shown)


def window_returns(curve: Curve, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """Daily returns and risk-free returns over the window [first, last] of ``curve``'s dates."""
    values, ci = curve.values, curve.cash_index
    inside = (values.index >= first) & (values.index <= last)
    pos = np.flatnonzero(inside)
    if len(pos) == 0:
        raise ValueError("empty window")
    start = pos[0]
    if start == 0:
        prev_value, prev_ci = curve.initial, 1.0
    else:
        prev_value, prev_ci = float(values.iloc[start - 1]), float(ci.iloc[start - 1])
    v = values.iloc[pos].to_numpy(dtype=float)
    c = ci.iloc[pos].to_numpy(dtype=float)
    r = v / np.concatenate([[prev_value], v[:-1]]) - 1.0
    rf = c / np.concatenate([[prev_ci], c[:-1]]) - 1.0
    index = values.index[pos]
    return pd.Series(r, index=index), pd.Series(rf, index=index)


def periods_per_year(index: pd.DatetimeIndex) -> float:
    """(number of dates - 1) / years, years from the first to the last date / 365.25."""
    years = (index[-1] - index[0]).days / 365.25
    return (len(index) - 1) / years


def year_returns(returns: pd.Series) -> dict[str, float]:
    """``{"y<year>": prod(1 + r) - 1}`` over the window's dates of each calendar year."""
    out: dict[str, float] = {}
    for year, chunk in returns.groupby(returns.index.year):
        out[f"y{int(year)}"] = float(np.prod(1.0 + chunk.to_numpy(dtype=float)) - 1.0)
    return out


# --------------------------------------------------------------------------- regime signal


def csv_closes(data_dir: Path, files: Mapping[str, str]) -> pd.DataFrame:
    """``Close`` of each asset (``{asset: "GSPC.csv"}``) on the union of their dates, NaN where it did not trade."""
    columns = {}
    for asset, name in files.items():
        frame = pd.read_csv(data_dir / name, usecols=["Date", "Close"])
        frame["Date"] = pd.to_datetime(frame["Date"])
        close = pd.to_numeric(frame["Close"], errors="coerce")
        keep = close.notna() & (close > 0) & (frame["Date"].dt.day_of_week < 5)
        series = pd.Series(close[keep].to_numpy(dtype=float), index=frame["Date"][keep])
        columns[asset] = series[~series.index.duplicated(keep="last")].sort_index()
    return pd.DataFrame(columns).sort_index()


def quotes_closes(run_dir: Path) -> pd.DataFrame:
    """A run's ``quotes.parquet``: quoted prices on the run's dates, NaN where the asset did not trade."""
    quotes = pd.read_parquet(run_dir / "quotes.parquet")
    quotes["date"] = pd.to_datetime(quotes["date"])
    return quotes.set_index("date").astype(float)


def async_rolling_corr(closes: pd.DataFrame, early: str, late: str, window: int) -> pd.Series:
    """``rolling_corr`` with ``align: async`` on the union timeline (docs/signals.md).

    ``early`` is the earlier-closing market's asset (Hong Kong), ``late`` the later one (New York): row t
    pairs ``r_early[t]`` with ``r_late[t-1]``; the value is the Pearson correlation of the ``window``
    pairs ending at row t.  Plain loops over the rows, no rolling helpers.
    """
    prices = closes[[early, late]].ffill()
    log_p = np.log(prices.to_numpy(dtype=float))
    r = np.full_like(log_p, np.nan)
    r[1:] = log_p[1:] - log_p[:-1]
    x = r[:, 0]  # early market, row t
    y = np.full(len(r), np.nan)
    y[1:] = r[:-1, 1]  # late market, row t-1
    out = np.full(len(r), np.nan)
    for t in range(window - 1, len(r)):
        xs, ys = x[t - window + 1 : t + 1], y[t - window + 1 : t + 1]
        if np.isnan(xs).any() or np.isnan(ys).any():
            continue
        dx, dy = xs - xs.mean(), ys - ys.mean()
        den = math.sqrt(float(np.dot(dx, dx)) * float(np.dot(dy, dy)))
        out[t] = float(np.dot(dx, dy)) / den if den > 0 else math.nan
    return pd.Series(out, index=closes.index)


def classify(regime: pd.Series, dates: pd.DatetimeIndex) -> np.ndarray:
    """In/out of each window date: the regime (bool, NaN already false) on the last regime date before it."""
    regime_dates = regime.index.to_numpy()
    held = regime.to_numpy(dtype=bool)
    out = np.zeros(len(dates), dtype=bool)
    for i, day in enumerate(dates.to_numpy()):
        k = int(np.searchsorted(regime_dates, day, side="left")) - 1  # last regime date strictly before
        if k < 0:
            raise ValueError(f"the regime has no date before {day}")
        out[i] = bool(held[k])
    return out


def regime_side(returns: pd.Series, rf: pd.Series, mask: np.ndarray, ppy: float, window_years: float) -> dict:
    """The annualised return, Sharpe and share of the days in ``mask`` (None for a side seen under a year)."""
    n = len(returns)
    n_side = int(mask.sum())
    share = n_side / n
    r = returns.to_numpy(dtype=float)[mask]
    e = r - rf.to_numpy(dtype=float)[mask]
    shown = share * window_years >= YEAR_LESS_A_WEEK
    ann = float(np.prod(1.0 + r) ** (ppy / n_side) - 1.0) if shown and n_side else None
    sharpe = None
    if shown and n_side >= 3:
        sd = float(np.std(e, ddof=1))
        sharpe = float(np.mean(e)) / sd * math.sqrt(ppy) if sd > 0 else None
    return {"return": ann, "sharpe": sharpe, "share": share, "years": share * window_years}


def spells(mask: np.ndarray) -> int:
    """Maximal runs of consecutive True."""
    m = mask.astype(int)
    return int(m[0] + np.sum((m[1:] == 1) & (m[:-1] == 0))) if len(m) else 0


def regime_sides(
    returns: pd.Series, rf: pd.Series, regime: pd.Series, previous_date: pd.Timestamp | None = None
) -> dict[str, float | int | None]:
    """Every regime column of one row: ``regime_{in,out}_{return,sharpe,share}`` and ``regime_in_episodes``.

    ``previous_date``: the timeline date before the window's first (its "own period"); default: the last
    regime date before it.
    """
    dates = pd.DatetimeIndex(returns.index)
    mask = classify(regime, dates)
    ppy = periods_per_year(dates)
    if previous_date is None:
        before = regime.index[regime.index < dates[0]]
        previous_date = before[-1]
    window_years = (dates[-1] - previous_date).days / 365.25
    out: dict[str, float | int | None] = {}
    for side, m in (("in", mask), ("out", ~mask)):
        s = regime_side(returns, rf, m, ppy, window_years)
        out[f"regime_{side}_return"] = s["return"]
        out[f"regime_{side}_sharpe"] = s["sharpe"]
        out[f"regime_{side}_share"] = s["share"]
        out[f"_regime_{side}_years"] = s["years"]
    out["regime_in_episodes"] = spells(mask)
    return out
