"""The tear-sheet statistics of what a run held (hand-written: no library computes them; see
:mod:`engine.metrics.tearsheet` for the rest), in fractions.

* ``time_invested``: {asset: share of run dates whose end-of-day holding of it is not 0 (long, or short in
  a margin account), "cash_only": share of dates holding no asset}.
* ``holdings``: the run's dates split into segments of constant target weights, one starting on the first
  date and on every date whose targets differ from the previous date's, each ending on the date the next
  starts (the last on the last date, ``open``): start, end, target, return = V_end / V_start - 1,
  profit = V_end - V_start, calendar days, open.  V_start is the value at the end of the start date, and
  for the first segment the initial capital C (as the first month's return), so the first date's fills
  and costs fall in a segment and the profits add up to V_T - C.
* ``switch_stats``: over the closed segments: count, win_rate (share with return > 0), avg_win (mean return
  of those), avg_loss (mean return of those < 0; a zero return is neither), avg_days, median_days.
* ``contribution``: the gain V_T - C (C: the initial capital) split additively, as fractions of C.  With
  u_{t,j} the units of asset j held at the end of date t (asset value / unit value, u_{-1} = 0), V the
  unit value in the base currency (``prices``), X the base-currency value of one unit of the asset's
  currency (``fx``) and L = V / X:

  - holding gain_j = sum_t u_{t-1,j} (V_{t,j} - V_{t-1,j});
  - trade-day gain_j = sum over j's fills of q (V_{t,j} - p0), q signed (+buy, -sell), p0 the fill price
    without slippage in the base currency (= V_{t,j} * quoted price / quote of the date: the close, or the
    open with ``fill: next_open``);
  - currency_j = sum_t u_{t-1,j} L_{t,j} (X_{t,j} - X_{t-1,j}); asset_j = holding + trade-day - currency_j;
  - cash_interest = sum_t cash_{t-1} (B_t / B_{t-1} - 1), B the cash index;
  - costs = -(fees + slippage), slippage = sum over fills of |q| |fill price - p0|;
  - financing = -(borrow + margin spread) a margin account paid (docs/shorts.md; only for one).

  They sum to total_return exactly (up to rounding): end-of-day value is cash + sum_j u_j V_j, cash moves
  only by interest, fills at the fill price, fees and financing (engine/valuation.py, engine/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["contribution", "holdings", "switch_stats", "time_invested"]


def time_invested(equity: pd.DataFrame, assets: Sequence[str]) -> dict[str, float]:
    """Share of dates holding each asset (end-of-day value not 0: a short counts), and of dates holding none
    (``cash_only``)."""
    held = equity[list(assets)].to_numpy(dtype="float64") != 0.0
    out = {a: float(held[:, j].mean()) for j, a in enumerate(assets)}
    out["cash_only"] = float((~held.any(axis=1)).mean())
    return out


def _changed(targets: np.ndarray) -> np.ndarray:
    """(n - 1,): whether row t's targets differ from row t - 1's (NaN equal to NaN)."""
    a, b = targets[1:], targets[:-1]
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    return ~same.all(axis=1)


def holdings(value: pd.Series, targets: pd.DataFrame, initial: float) -> list[dict[str, Any]]:
    """The segments of constant target weights (module docstring); ``targets``: dates x assets; ``initial``:
    the capital the first segment starts from."""
    t = targets.to_numpy(dtype="float64")
    v = value.to_numpy(dtype="float64")
    index = pd.DatetimeIndex(value.index)
    dates, day = index.strftime("%Y-%m-%d"), index.to_numpy(dtype="datetime64[D]").astype(np.int64)
    starts = [0, *(np.flatnonzero(_changed(t)) + 1).tolist()]
    ends = [*starts[1:], len(v) - 1]
    out = []
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        base = float(initial) if k == 0 else v[s]
        out.append(
            {
                "start": dates[s],
                "end": dates[e],
                "target": {a: float(t[s, j]) for j, a in enumerate(targets.columns)},
                "return": float(v[e] / base - 1.0),
                "profit": float(v[e] - base),
                "days": int(day[e] - day[s]),
                "open": k == len(starts) - 1,
            }
        )
    return out


def _mean(x: np.ndarray) -> float | None:
    return float(x.mean()) if len(x) else None


def switch_stats(segments: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """count, win_rate, avg_win, avg_loss, avg_days and median_days of the closed segments (None if none)."""
    closed = [s for s in segments if not s["open"]]
    r = np.array([s["return"] for s in closed], dtype="float64")
    days = np.array([s["days"] for s in closed], dtype="float64")
    return {
        "count": len(closed),
        "win_rate": _mean(r > 0) if len(r) else None,
        "avg_win": _mean(r[r > 0]),
        "avg_loss": _mean(r[r < 0]),
        "avg_days": _mean(days),
        "median_days": float(np.median(days)) if len(days) else None,
    }


def _units_before(held: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """u_{t-1}: units held at the end of the previous date (0 before the first, and where nothing is held)."""
    units = np.where(held == 0.0, 0.0, held / np.where(held == 0.0, 1.0, unit))
    return np.vstack([np.zeros((1, units.shape[1])), units[:-1]])


def _step(units_before: np.ndarray, level: np.ndarray, move: np.ndarray) -> np.ndarray:
    """sum_t u_{t-1} * level_t * move_t per column, 0 wherever nothing was held (NaN prices there)."""
    return np.where(units_before == 0.0, 0.0, units_before * level * move).sum(axis=0)


def _fills(trades: pd.DataFrame, dates: pd.DatetimeIndex, assets: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Each fill's row, asset column, signed quantity (+buy, -sell) and fill price (base currency)."""
    rows = dates.get_indexer(pd.DatetimeIndex(trades["date"]))
    cols = pd.Index(list(assets)).get_indexer(trades["asset"])
    if (rows < 0).any() or (cols < 0).any():
        raise ValueError("a trade's date or asset is not one of the run's")
    sign = np.where(trades["side"].to_numpy() == "buy", 1.0, -1.0)
    return rows, cols, sign * trades["quantity"].to_numpy(dtype="float64"), trades["price"].to_numpy(dtype="float64")


def contribution(
    equity: pd.DataFrame,
    prices: pd.DataFrame,
    trades: pd.DataFrame,
    *,
    initial: float,
    assets: Sequence[str],
    quotes: pd.DataFrame | None,
    fx: pd.DataFrame | None,
    financing: Mapping[str, float] | None = None,
) -> dict[str, float | None] | None:
    """Each asset's, the currency's, cash interest's and costs' part of total_return (module docstring);
    ``financing``: a margin account's ``{borrow, margin}`` paid, money (``metrics.json``), its own part.

    None without ``quotes`` (no fill price before slippage) or ``cash_index``; ``fx`` None: ``currency``
    is None and each asset's part is in the base currency (its currency's move included).
    """
    if quotes is None or "cash_index" not in equity:
        return None
    names = list(assets)
    dates = pd.DatetimeIndex(equity.index)
    unit = prices[names].to_numpy(dtype="float64")
    before = _units_before(equity[names].to_numpy(dtype="float64"), unit)
    previous = np.vstack([unit[:1], unit[:-1]])
    gain = _step(before, np.ones_like(unit), unit - previous)
    rows, cols, signed, price = _fills(trades, dates, names)
    v = unit[rows, cols]
    p0 = v * trades["quoted_price"].to_numpy(dtype="float64") / quotes[names].to_numpy(dtype="float64")[rows, cols]
    np.add.at(gain, cols, signed * (v - p0))
    out: dict[str, float | None] = {}
    currency: float | None = None
    if fx is not None:
        x = fx[names].to_numpy(dtype="float64")
        by_asset = _step(before, unit / x, x - np.vstack([x[:1], x[:-1]]))
        gain, currency = gain - by_asset, float(by_asset.sum() / initial)
    out.update({a: float(gain[j] / initial) for j, a in enumerate(names)})
    cash, index = equity["cash"].to_numpy(dtype="float64"), equity["cash_index"].to_numpy(dtype="float64")
    slippage = float(np.sum(np.abs(signed) * np.abs(price - p0)))
    out["currency"] = currency
    out["cash_interest"] = float(np.sum(cash[:-1] * (index[1:] / index[:-1] - 1.0)) / initial)
    out["costs"] = -(float(trades["fees"].sum()) + slippage) / initial
    if financing is not None:
        out["financing"] = -(float(financing["borrow"]) + float(financing["margin"])) / initial
    return out
