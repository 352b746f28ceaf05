"""An independent reference for ``metrics.json["tearsheet"]``, written from the contract, not from the engine.

It reads a stored run directory (``equity``, ``weights``, ``prices``, ``quotes``, ``trades`` and ``fx``
Parquet files, ``metrics.json`` and ``config.yaml``) with pandas and recomputes the whole tear sheet with
numpy. It imports nothing from ``engine``.

Notation: dates ``t = 0 .. N-1`` are the run's dates (rows of ``equity.parquet``); ``v_t`` the portfolio
value at the end of date t; ``C`` the initial cash (``initial_cash`` of ``config.yaml``); ``V_{t,j}`` what
one unit of asset j is worth in the base currency (``prices.parquet``); ``Q_{t,j}`` its quoted close in
its own currency (``quotes.parquet``); ``X_{t,j}`` what one unit of its currency is worth in the base
currency (``fx.parquet``); ``B_t`` the cash index and ``cash_t`` the cash held (``equity.parquet``).

Semantics (each choice the contract left open is marked *chosen*):

* **Daily returns** ``r_t = v_t / v_{t-1} - 1`` for every run date, with ``v_{-1} = C`` (*chosen*, as
  docs/methodology.md defines the run's daily returns): N returns, the first one from the initial cash.
  These feed ``var_95``, ``cvar_95``, ``skew``, ``kurtosis`` and ``positive_days``.
* **monthly_returns** ``{"YYYY": {"M": ..., "year": ...}}``: a month's return is its last run date's
  value over the previous month's last run date's value, minus 1; the first month's base is ``C`` (as
  ``total_return``'s), so the months compound to ``v_{N-1} / C - 1``. Months without a run date are
  absent (a month after such a gap is measured from the last run date before it). ``"year"`` compounds
  that year's months. Month keys are ``"1".."12"`` without a leading zero.
* **worst_drawdowns**: the initial capital ``C`` is the first high, dated the first run date, then the
  run's values ``v_0 .. v_{N-1}`` (decided when the contract was settled: as ``max_drawdown``'s spec,
  "V_-1 the first peak", and quantstats, which adds a baseline point for the capital; so a run whose
  first close is below ``C`` is under water from its first date and ``worst_drawdowns[0].depth`` equals
  ``max_drawdown``). An underwater spell is a maximal run of dates with ``v_t`` below the running
  maximum; its ``start`` is the date before it (the last date at the previous high; the first run date
  when the high is ``C``), its ``trough`` the date of its lowest value (the
  first such date on a tie), its ``recovery`` the date after it (the first date back at or above the
  peak) or ``None`` when the run ends underwater; ``depth = v_trough / v_start - 1``; ``days`` are
  calendar days from start to recovery, else to the last run date. Spells never overlap; the five
  deepest are kept, deepest first (ties: earlier start first).
* **rolling**: ``window = round(periods_per_year)`` rows. The pairs ``(r_t, a_t)`` for ``t = 1 .. N-1``,
  ``a_t = V_{t,j} / V_{t-1,j} - 1`` (date 0 has no asset return); a window is the last ``window`` pairs
  ending at t, full windows only. In each window ``cov = mean((r - mean r)(a - mean a))``,
  ``corr = cov / sqrt(var r var a)``, ``beta = cov / var a`` (population moments; the ddof cancels).
  Statistics of each series: ``last`` = its value at the last date (``None`` if undefined there, e.g. a
  strategy with constant returns over the window), ``median``, ``min``, ``max`` over the defined windows
  (*chosen*: undefined windows skipped); all ``None`` when the run is shorter than a window. Computed for
  every traded asset of the config, i.e. each market (``assets:`` with ``traded`` not false in
  metrics.json's ``data.assets``; signal-only assets excluded), in ``config.yaml``'s order, whether or
  not a rule names it (decided when the contract was settled: the issue asks for the correlation "to
  each market"; the other per-asset entries use the same list, zeros included).
* **var_95** = ``numpy.percentile(r, 5)`` (linear interpolation); **cvar_95** = mean of ``r_t <= var_95``.
* **skew**, **kurtosis**: the bias-corrected sample skewness ``G1 = sqrt(n(n-1)) / (n-2) * m3 / m2^1.5``
  and excess kurtosis ``G2 = (n-1) / ((n-2)(n-3)) * ((n+1) m4 / m2^2 - 3(n-1))`` (central moments
  ``m_k``), which is what pandas' ``.skew()`` and ``.kurt()`` compute; written out here, checked against
  pandas in the tests.
* **positive_days** = share of the N daily returns ``> 0``; **positive_months** = share of the months of
  ``monthly_returns`` with a return ``> 0``.
* **time_invested** ``{asset: share of run dates with equity[asset] > 0, "cash_only": share of dates
  holding no asset (every holdable asset's value <= 0)}``.
* **holdings**: segments of constant targets (the ``<asset>_target`` columns of the holdable assets,
  compared exactly, NaN equal to NaN). A segment starts on date 0 and on each date whose targets differ
  from the previous date's and ends on the next segment's start (the last ends on the last date and is
  ``open``). Each ``{"start", "end", "target": {asset: weight for every holdable asset, 0 included}
  (*chosen*), "return": V_end / V_start - 1, "profit": V_end - V_start, "days": calendar days, "open"}``,
  with ``V_end = v_end`` and ``V_start = v_start``, the value at the end of the start date, except for
  the first segment, whose ``V_start = C`` (as the first month's base): date 0's fills and costs fall in
  it, and the profits telescope to ``v_{N-1} - C``. ``days`` stay calendar days from start to end.
  **switch_stats** over the closed segments: ``count``, ``win_rate`` (share with return ``> 0``),
  ``avg_win`` (mean of returns ``> 0``), ``avg_loss`` (mean of returns ``< 0``, *chosen*: a segment
  returning exactly 0 is neither a win nor a loss), ``avg_days`` (mean), ``median_days`` (median, a
  float); each ``None`` when it has no segment to average (``count`` 0, or no win, or no loss).
* **contribution**, fractions of ``C`` that sum to ``v_{N-1} / C - 1``. Units ``u_{t,j} = equity[j] /
  V_{t,j}`` (0 where nothing is held; ``u_{-1} = 0``, ``cash_{-1} = C``, ``B_{-1} = B_0 = 1``).
  For each fill, ``p0 = quoted_price * V_{t,j} / Q_{t,j}``, the fill price without slippage in the base
  currency (FX and dividend accrual of date t applied to the exchange's price), ``q`` its quantity
  signed (+ buy, - sell).

  - holding_j  = sum_{t>=1} u_{t-1,j} (V_{t,j} - V_{t-1,j})
  - trade_j    = sum over fills of j: q (V_{t,j} - p0)      (0 for fills at the close)
  - currency_j = sum_{t>=1} u_{t-1,j} L_{t,j} (X_{t,j} - X_{t-1,j}),  L = V / X
  - ``"<asset>"`` = (holding_j + trade_j - currency_j) / C
  - ``"currency"`` = sum_j currency_j / C
  - ``"cash_interest"`` = sum_{t>=1} cash_{t-1} (B_t / B_{t-1} - 1) / C
  - ``"costs"`` = -(sum of fees + sum over fills |q| |price - p0|) / C

  Why it closes: cash changes by interest, minus ``q * price`` and the fee of each fill, and units change
  only by fills, so ``v_t - v_{t-1} = sum_j u_{t-1,j} dV_{t,j} + sum_fills q (V_t - price) - fees +
  interest``, and ``q (V_t - price) = q (V_t - p0) - |q| |price - p0|`` because slippage moves the price
  against the trade. :func:`unit_residual` checks the "only by fills" premise on a stored run.

All dates are ``"YYYY-MM-DD"`` strings; numbers are Python floats; undefined numbers are ``None``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "RunFrames",
    "contribution",
    "daily_returns",
    "fills_table",
    "holdable_assets",
    "holdings",
    "load_run",
    "monthly_returns",
    "rolling",
    "sample_kurtosis",
    "sample_skew",
    "switch_stats",
    "tearsheet",
    "time_invested",
    "unit_residual",
    "worst_drawdowns",
]

_NON_ASSET_COLUMNS = ("date", "value", "cash", "cash_index")


@dataclass(frozen=True)
class RunFrames:
    """What the reference reads from a run; every frame is indexed by date (``DatetimeIndex``, the run's dates).

    ``equity``: ``value``, ``cash``, ``cash_index`` and one column per holdable asset (base-currency value
    held at the end of the date). ``targets``, ``prices``, ``quotes``, ``fx``: one column per holdable
    asset. ``trades``: columns ``date`` (Timestamp), ``asset``, ``side`` (``buy``/``sell``), ``quantity``
    (> 0), ``price`` (base currency, slippage included), ``fees``, ``quoted_price`` (own currency).
    """

    equity: pd.DataFrame
    targets: pd.DataFrame
    prices: pd.DataFrame
    quotes: pd.DataFrame
    fx: pd.DataFrame
    trades: pd.DataFrame
    initial_cash: float
    periods_per_year: float
    assets: tuple[str, ...]


def _dated(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.index = pd.DatetimeIndex(pd.to_datetime(out.pop("date")))
    return out


def holdable_assets(config: dict[str, Any], metrics: dict[str, Any]) -> tuple[str, ...]:
    """The config's traded assets (each market), in ``assets:`` order: signal-only ones (``traded: false``
    in metrics.json's ``data.assets``) excluded."""
    info = metrics.get("data", {}).get("assets") or {}
    return tuple(a for a in config["assets"] if info.get(a, {}).get("traded", True))


def load_run(run_dir: Path | str, *, fx_missing_as_base: bool = False) -> RunFrames:
    """Read a stored run directory into :class:`RunFrames`.

    ``fx.parquet`` is required, unless ``fx_missing_as_base`` (then every ``X`` is 1: the currency split of
    the contribution is lost but its sum is unchanged; for checking the identity on runs written before
    ``fx.parquet`` existed).
    """
    run_dir = Path(run_dir)
    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assets = holdable_assets(config, metrics)
    equity = _dated(pd.read_parquet(run_dir / "equity.parquet"))
    weights = _dated(pd.read_parquet(run_dir / "weights.parquet"))
    prices = _dated(pd.read_parquet(run_dir / "prices.parquet"))
    quotes = _dated(pd.read_parquet(run_dir / "quotes.parquet"))
    fx_path = run_dir / "fx.parquet"
    if fx_path.is_file():
        fx = _dated(pd.read_parquet(fx_path))
    elif fx_missing_as_base:
        fx = pd.DataFrame(1.0, index=prices.index, columns=list(assets))
    else:
        raise FileNotFoundError(f"{fx_path} is missing")
    trades = pd.read_parquet(run_dir / "trades.parquet")
    trades = trades.assign(date=pd.to_datetime(trades["date"]))
    for name, frame in (("weights", weights), ("prices", prices), ("quotes", quotes), ("fx", fx)):
        if not frame.index.equals(equity.index):
            raise ValueError(f"{name}.parquet has other dates than equity.parquet")
    return RunFrames(
        equity=equity[["value", "cash", "cash_index", *assets]],
        targets=weights[[f"{a}_target" for a in assets]].set_axis(list(assets), axis=1),
        prices=prices[list(assets)],
        quotes=quotes[list(assets)],
        fx=fx[list(assets)],
        trades=trades,
        initial_cash=float(config["initial_cash"]),
        periods_per_year=float(metrics["strategy"]["periods_per_year"]),
        assets=assets,
    )


def _day(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d")


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def daily_returns(value: np.ndarray, initial_cash: float) -> np.ndarray:
    """``r_t = v_t / v_{t-1} - 1`` for every date, ``v_{-1}`` = the initial cash."""
    value = np.asarray(value, dtype=float)
    return value / np.concatenate(([initial_cash], value[:-1])) - 1.0


def monthly_returns(value: pd.Series, initial_cash: float) -> dict[str, dict[str, float]]:
    """Month-end to month-end returns by year, the first month from the initial cash; ``"year"`` compounds them."""
    last = value.groupby([value.index.year, value.index.month]).last()
    base = np.concatenate(([initial_cash], last.to_numpy()[:-1]))
    out: dict[str, dict[str, float]] = {}
    growth: dict[str, float] = {}
    for ((year, month), end), start in zip(last.items(), base, strict=True):
        ret = end / start - 1.0
        out.setdefault(str(year), {})[str(month)] = float(ret)
        growth[str(year)] = growth.get(str(year), 1.0) * (1.0 + ret)
    for year, months in out.items():
        months["year"] = growth[year] - 1.0
    return out


def worst_drawdowns(value: pd.Series, initial: float, n: int = 5) -> list[dict[str, Any]]:
    """The ``n`` deepest underwater spells of ``initial`` (the first high, dated the first run date) and the
    run's values, deepest first."""
    v = np.concatenate([[float(initial)], value.to_numpy(dtype=float)])
    dates = value.index[[0, *range(len(value))]]
    under = v < np.maximum.accumulate(v)
    spells = []
    i, size = 0, len(v)
    while i < size:
        if not under[i]:
            i += 1
            continue
        j = i
        while j + 1 < size and under[j + 1]:
            j += 1
        start = i - 1  # under[0] is False: the initial capital is its own running maximum
        trough = i + int(np.argmin(v[i : j + 1]))
        recovery = j + 1 if j + 1 < size else None
        end = recovery if recovery is not None else size - 1
        spells.append(
            {
                "start": _day(dates[start]),
                "trough": _day(dates[trough]),
                "recovery": _day(dates[recovery]) if recovery is not None else None,
                "depth": float(v[trough] / v[start] - 1.0),
                "days": int((dates[end] - dates[start]).days),
                "recovered": recovery is not None,
            }
        )
        i = j + 1
    spells.sort(key=lambda s: (s["depth"], s["start"]))
    return spells[:n]


def _stats(series: np.ndarray) -> dict[str, float | None]:
    finite = series[np.isfinite(series)]
    if len(series) == 0:
        return {"last": None, "median": None, "min": None, "max": None}
    return {
        "last": _num(series[-1]),
        "median": float(np.median(finite)) if len(finite) else None,
        "min": float(finite.min()) if len(finite) else None,
        "max": float(finite.max()) if len(finite) else None,
    }


def rolling(strategy_returns: np.ndarray, prices: pd.DataFrame, window: int) -> dict[str, Any]:
    """Rolling correlation and beta of the strategy's daily returns (dates 1..N-1) to each asset's, per asset."""
    from numpy.lib.stride_tricks import sliding_window_view

    out: dict[str, Any] = {"window": int(window)}
    r = np.asarray(strategy_returns, dtype=float)[1:]
    for asset in prices.columns:
        p = prices[asset].to_numpy(dtype=float)
        a = p[1:] / p[:-1] - 1.0
        if len(r) < window:
            corr = beta = np.array([])
        else:
            rw = sliding_window_view(r, window)
            aw = sliding_window_view(a, window)
            dr = rw - rw.mean(axis=1, keepdims=True)
            da = aw - aw.mean(axis=1, keepdims=True)
            cov = (dr * da).mean(axis=1)
            var_r = (dr * dr).mean(axis=1)
            var_a = (da * da).mean(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                corr = cov / np.sqrt(var_r * var_a)
                beta = cov / var_a
        out[asset] = {"correlation": _stats(corr), "beta": _stats(beta)}
    return out


def sample_skew(r: np.ndarray) -> float:
    """Bias-corrected sample skewness G1 (pandas ``Series.skew``)."""
    n = len(r)
    d = r - r.mean()
    m2, m3 = (d**2).mean(), (d**3).mean()
    return float(np.sqrt(n * (n - 1)) / (n - 2) * m3 / m2**1.5)


def sample_kurtosis(r: np.ndarray) -> float:
    """Bias-corrected sample excess kurtosis G2 (pandas ``Series.kurt``)."""
    n = len(r)
    d = r - r.mean()
    m2, m4 = (d**2).mean(), (d**4).mean()
    return float((n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * m4 / m2**2 - 3 * (n - 1)))


def time_invested(holdings_value: pd.DataFrame) -> dict[str, float]:
    """Share of dates holding each asset (value > 0), and of dates holding none (``cash_only``)."""
    held = holdings_value.to_numpy(dtype=float) > 0
    out = {a: float(held[:, k].mean()) for k, a in enumerate(holdings_value.columns)}
    out["cash_only"] = float((~held.any(axis=1)).mean())
    return out


def holdings(value: pd.Series, targets: pd.DataFrame, initial_cash: float) -> list[dict[str, Any]]:
    """Segments of constant target weights: start, end, targets, return, profit, calendar days, open.

    A segment's base is the value at the end of its start date, the first's the initial cash ``C``.
    """
    t = targets.to_numpy(dtype=float)
    same = (t[1:] == t[:-1]) | (np.isnan(t[1:]) & np.isnan(t[:-1]))
    starts = [0, *(np.flatnonzero(~same.all(axis=1)) + 1).tolist()]
    ends = [*starts[1:], len(t) - 1]
    v = value.to_numpy(dtype=float)
    dates = value.index
    out = []
    for k, (s, e) in enumerate(zip(starts, ends, strict=True)):
        base = initial_cash if k == 0 else v[s]
        out.append(
            {
                "start": _day(dates[s]),
                "end": _day(dates[e]),
                "target": {a: _num(t[s, i]) for i, a in enumerate(targets.columns)},
                "return": float(v[e] / base - 1.0),
                "profit": float(v[e] - base),
                "days": int((dates[e] - dates[s]).days),
                "open": k == len(starts) - 1,
            }
        )
    return out


def switch_stats(segments: list[dict[str, Any]]) -> dict[str, Any]:
    """Count, win rate, mean win (> 0), mean loss (< 0), mean and median days of the closed segments."""
    closed = [s for s in segments if not s["open"]]
    rets = np.array([s["return"] for s in closed], dtype=float)
    days = np.array([s["days"] for s in closed], dtype=float)
    wins, losses = rets[rets > 0], rets[rets < 0]
    return {
        "count": len(closed),
        "win_rate": float((rets > 0).mean()) if len(rets) else None,
        "avg_win": float(wins.mean()) if len(wins) else None,
        "avg_loss": float(losses.mean()) if len(losses) else None,
        "avg_days": float(days.mean()) if len(days) else None,
        "median_days": float(np.median(days)) if len(days) else None,
    }


def _units(frames: RunFrames) -> pd.DataFrame:
    held = frames.equity[list(frames.assets)]
    with np.errstate(divide="ignore", invalid="ignore"):
        units = held / frames.prices
    return units.where(held != 0, 0.0)


def fills_table(frames: RunFrames) -> pd.DataFrame:
    """Each fill with its signed quantity, ``V_t``, ``p0`` and slippage in money."""
    tr = frames.trades
    sign = np.where(tr["side"] == "buy", 1.0, np.where(tr["side"] == "sell", -1.0, np.nan))
    if np.isnan(sign).any() or (tr["quantity"] < 0).any():
        raise ValueError("trades: side must be buy/sell and quantity >= 0")
    V = np.array([frames.prices.at[d, a] for d, a in zip(tr["date"], tr["asset"], strict=True)], dtype=float)
    Q = np.array([frames.quotes.at[d, a] for d, a in zip(tr["date"], tr["asset"], strict=True)], dtype=float)
    p0 = tr["quoted_price"].to_numpy(dtype=float) * V / Q
    qty = tr["quantity"].to_numpy(dtype=float)
    price = tr["price"].to_numpy(dtype=float)
    return pd.DataFrame(
        {
            "asset": tr["asset"].to_numpy(),
            "signed": sign * qty,
            "V": V,
            "p0": p0,
            "price": price,
            "slippage": qty * np.abs(price - p0),
            "fees": tr["fees"].to_numpy(dtype=float),
        }
    )


def contribution(frames: RunFrames) -> dict[str, float]:
    """Additive attribution of the total return (fractions of the initial cash); see the module docstring."""
    C = frames.initial_cash
    units = _units(frames).to_numpy(dtype=float)
    V = frames.prices.to_numpy(dtype=float)
    X = frames.fx.to_numpy(dtype=float)
    L = V / X
    fills = fills_table(frames)
    out: dict[str, float] = {}
    currency_total = 0.0
    with np.errstate(invalid="ignore"):
        holding_terms = units[:-1] * (V[1:] - V[:-1])
        currency_terms = units[:-1] * L[1:] * (X[1:] - X[:-1])
    for k, asset in enumerate(frames.assets):
        held = units[:-1, k] != 0  # 0 x NaN (an asset priced later) contributes nothing
        holding = holding_terms[held, k].sum()
        currency = currency_terms[held, k].sum()
        mine = fills[fills["asset"] == asset]
        trade = (mine["signed"] * (mine["V"] - mine["p0"])).sum()
        out[asset] = float((holding + trade - currency) / C)
        currency_total += currency
    cash = frames.equity["cash"].to_numpy(dtype=float)
    index = frames.equity["cash_index"].to_numpy(dtype=float)
    interest = (cash[:-1] * (index[1:] / index[:-1] - 1.0)).sum()
    out["currency"] = float(currency_total / C)
    out["cash_interest"] = float(interest / C)
    out["costs"] = float(-(fills["fees"].sum() + fills["slippage"].sum()) / C)
    return out


def unit_residual(frames: RunFrames) -> float:
    """Largest ``|u_t - u_{t-1} - signed fills of t|`` relative to the units held: 0 if only fills move units."""
    units = _units(frames)
    fills = fills_table(frames).assign(date=frames.trades["date"].to_numpy())
    traded = fills.pivot_table(index="date", columns="asset", values="signed", aggfunc="sum")
    traded = traded.reindex(index=units.index, columns=units.columns).fillna(0.0)
    moved = units.diff().fillna(units.iloc[:1]) - traded
    scale = np.maximum(units.abs().to_numpy(), units.shift(1).abs().fillna(0).to_numpy()).max(initial=0.0)
    return float(np.abs(moved.to_numpy()).max(initial=0.0) / scale) if scale else 0.0


def tearsheet(frames: RunFrames) -> dict[str, Any]:
    """The whole ``tearsheet`` dict of a run, as the contract defines it (see the module docstring)."""
    value = frames.equity["value"]
    r = daily_returns(value.to_numpy(), frames.initial_cash)
    months = monthly_returns(value, frames.initial_cash)
    month_rets = np.array([x for m in months.values() for k, x in m.items() if k != "year"])
    var_95 = float(np.percentile(r, 5))
    segments = holdings(value, frames.targets, frames.initial_cash)
    return {
        "monthly_returns": months,
        "worst_drawdowns": worst_drawdowns(value, frames.initial_cash),
        "rolling": rolling(r, frames.prices, round(frames.periods_per_year)),
        "var_95": var_95,
        "cvar_95": float(r[r <= var_95].mean()),
        "skew": sample_skew(r),
        "kurtosis": sample_kurtosis(r),
        "positive_days": float((r > 0).mean()),
        "positive_months": float((month_rets > 0).mean()),
        "time_invested": time_invested(frames.equity[list(frames.assets)]),
        "holdings": segments,
        "switch_stats": switch_stats(segments),
        "contribution": contribution(frames),
    }
