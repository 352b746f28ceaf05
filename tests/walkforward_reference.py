"""An independent walk-forward oracle, written from docs/sweeps.md "Walk-forward validation" and docs/methodology.md.

It imports nothing from ``engine``: every simulation is ``tests/reference.py``'s ``backtest``, every target
a plain loop over the documented signal formula.  The semantics, as read from the contract:

Timeline
    The simulated dates run from the first date of the union timeline on or after the config's start to the
    last date on which every asset has a close (at or before the end).  Signals look back before the start
    (the history is in ``Market.closes``).

Fold windows (calendar durations ``Ny``, ``Nm``, ``Nd``)
    ``t0`` is the FIRST SIMULATED DATE (assumption: the docs write ``t0`` without defining it; the config's
    start may be a holiday).  Fold i's training window is the dates in ``[t0 + i*step, t0 + i*step + train)``,
    its test window the dates in ``[t0 + i*step + train, ... + test)``.  ``t0 + i*step`` is one calendar shift
    of ``i`` times the step (``pandas.DateOffset``: month ends clip, 29 February goes to the 28th), never an
    accumulation of shifts.  A fold exists while its test window holds at least one simulated date
    (assumption).  ``train_end`` / ``test_end`` are the last dates of the windows; ``test_start`` the first.

Selection
    Every combination of the grid (the product of the sweep's values, the first key slowest, as
    ``itertools.product``) is simulated once over all the simulated dates, from the initial cash.  Its score on
    a window is the window metric (below) of its own end-of-day values on the window's dates.  ``sharpe``,
    ``sortino``, ``cagr``, ``total_return``, ``calmar`` and ``max_drawdown`` (a drawdown is negative: the
    shallowest wins) are maximised; ``ann_vol`` is minimised (assumption: the docs list it without a direction).
    NaN scores never win (assumption).  Every score within a relative 1e-9 of the best (``|s - best| <= 1e-9 *
    |best|``) is tied; the first tied combination in grid order is chosen and ``tied`` counts them all.

Window metrics (methodology.md "Walk-forward")
    The window's own dates only: returns from the previous close (the value on the date before the window's
    first date; the initial cash when the window starts on the first simulated date), ``periods_per_year =
    (n - 1) / years`` with years the calendar days first -> last date over 365.25, CAGR ``(V_last / V_prev) **
    (365.25 / days) - 1``, Sharpe and Sortino of the excess returns over the cash rate (what cash earned on each
    date, 0 on the run's first date), max drawdown with ``V_prev`` as the first peak (assumption, as the
    initial cash in a full run), Calmar ``cagr / |max_drawdown|``.

The stitched out-of-sample run
    One simulation from fold 0's test start, from the initial cash, with the config's lag, rebalance mode and
    costs (the grid here sweeps signal parameters only).  The targets decided on date t are those of fold i's
    chosen combination for ``train_end_i <= t < train_end_{i+1}`` (fold 0's before), so fold i's combination
    decides from the close of its last training date and a change of combination is an ordinary change of
    targets, traded with its costs.  A fold's first decision is NOT an event of its own (reading "one simulation"
    and on_change, "trade when the target changes", literally; the docs do not say a fold start rebalances): when
    the targets decided at a fold boundary are those already in force (the same combination chosen again, or
    another deciding the same weights), nothing trades and a drifted mix stays drifted.  It ends on the last
    fold's ``test_end``.  ``weights.csv`` targets in force
    on date d are those decided ``lag`` rows earlier (on_change: every change is an event); ``switches`` counts
    the dates after the first whose targets in force differ from the previous date's.

Out-of-sample figures per fold; ``scored_to``
    A fold's out-of-sample metrics are the window metrics of the stitched run on ``[test_start_i, scored_to_i]``,
    ``scored_to_i`` being the date before fold i+1's test start (the next choice takes over there) or, for the
    last fold, its ``test_end``.  With ``step == test`` that is ``test_end``; with ``step < test`` windows overlap
    and a fold is scored only on the dates its own choice traded.  In-sample figures: the chosen combination's
    window metrics on the training window.

Benchmark
    A ``{name, weights, rebalance}`` benchmark over the same dates: its own simulation from fold 0's test start
    with the config's lag and costs.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tests import reference

__all__ = [
    "Fold",
    "Market",
    "Setup",
    "WalkForward",
    "choose",
    "csv_market",
    "fold_windows",
    "grid",
    "rotation_targets",
    "walkforward",
    "window_metrics",
]

TIE_RTOL = 1e-9
MAXIMISED = ("sharpe", "sortino", "cagr", "total_return", "calmar", "max_drawdown")
MINIMISED = ("ann_vol",)
_DURATION = re.compile(r"^(\d+)([ymd])$")


# ------------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class Market:
    """Quoted closes on the union timeline (NaN where the asset's market was closed), history included."""

    closes: pd.DataFrame
    markets: Mapping[str, str]
    usdhkd: pd.Series | None = None  # HKD per USD on the same index (carried forward by the reference)


@dataclass(frozen=True)
class Setup:
    """The config's execution, costs and money (one lag for the whole grid)."""

    lag: int = 1
    rebalance: str = "on_change"
    fee_bps: float = 0.0
    slippage_bps: float = 0.0
    stamp_duty: float | str | None = "schedule"  # Hong Kong's dated schedule by default
    cash_rate: float | None = None
    initial_cash: float = 100_000.0


def csv_market(data_dir: Path, symbols: Mapping[str, str], markets: Mapping[str, str]) -> Market:
    """Yahoo-style CSVs read by hand: ``Close`` per asset, USD/HKD closes outside [7.74, 7.86] dropped."""
    series = {}
    for asset, symbol in symbols.items():
        frame = pd.read_csv(data_dir / symbol, index_col="Date", parse_dates=True)
        series[asset] = frame["Close"].dropna()
    closes = pd.DataFrame(series).sort_index()
    closes = closes[closes.notna().any(axis=1)]
    fx = pd.read_csv(data_dir / "HKD_X.csv", index_col="Date", parse_dates=True)["Close"].dropna()
    fx = fx[(fx >= 7.74) & (fx <= 7.86)]
    usdhkd = fx.reindex(fx.index.union(closes.index)).ffill().reindex(closes.index)
    return Market(closes=closes, markets=dict(markets), usdhkd=usdhkd)


def grid(sweep: Mapping[str, Sequence]) -> list[dict]:
    """The combinations in grid order: the product of the values, keys in the order written."""
    keys = list(sweep)
    return [dict(zip(keys, values, strict=True)) for values in itertools.product(*(sweep[k] for k in keys))]


def rotation_targets(
    closes: pd.DataFrame, *, window: int, cut: float, otherwise: tuple[float, float] = (0.5, 0.5)
) -> pd.DataFrame:
    """``rel = relative_momentum(us, hk, window)`` (docs/signals.md, on carried-forward quoted closes);
    rules: ``rel > cut`` -> us 1.0; ``rel < -cut`` -> hk 1.0; otherwise ``otherwise`` (also while rel is NaN)."""
    price = closes[["us", "hk"]].ffill().to_numpy(dtype=float)
    out = np.empty((len(price), 2))
    for t in range(len(price)):
        rel = math.nan
        if t >= window:
            rel = (price[t, 0] / price[t - window, 0] - 1.0) - (price[t, 1] / price[t - window, 1] - 1.0)
        if rel > cut:
            out[t] = (1.0, 0.0)
        elif rel < -cut:
            out[t] = (0.0, 1.0)
        else:
            out[t] = otherwise
    return pd.DataFrame(out, index=closes.index, columns=["us", "hk"])


# ------------------------------------------------------------------------------------------ folds


def _offset(text: str, times: int) -> pd.DateOffset:
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"duration {text!r}: expected Ny, Nm or Nd")
    n = int(match.group(1)) * times
    return {"y": pd.DateOffset(years=n), "m": pd.DateOffset(months=n), "d": pd.DateOffset(days=n)}[match.group(2)]


@dataclass(frozen=True)
class Fold:
    fold: int
    train: np.ndarray  # row numbers into the simulated dates
    test: np.ndarray
    scored: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=int))

    def dates(self, sim: pd.DatetimeIndex) -> dict[str, str]:
        day = lambda r: sim[r].strftime("%Y-%m-%d")  # noqa: E731
        return {
            "train_start": day(self.train[0]),
            "train_end": day(self.train[-1]),
            "test_start": day(self.test[0]),
            "test_end": day(self.test[-1]),
            "scored_to": day(self.scored[-1]),
        }


def fold_windows(sim: pd.DatetimeIndex, train: str, test: str, step: str | None = None) -> list[Fold]:
    """The folds over the simulated dates ``sim`` (module docstring), with their ``scored`` rows."""
    step = step or test
    t0 = sim[0]
    if t0 + _offset(step, 1) > t0 + _offset(test, 1):
        raise ValueError("a step longer than the test window is refused")
    rows = np.arange(len(sim))
    raw = []
    for i in itertools.count():
        a = t0 + _offset(step, i)
        b = a + _offset(train, 1)
        c = b + _offset(test, 1)
        test_rows = rows[(sim >= b) & (sim < c)]
        train_rows = rows[(sim >= a) & (sim < b)]
        if test_rows.size == 0 or train_rows.size == 0:
            break
        raw.append((train_rows, test_rows))
    folds = []
    for i, (train_rows, test_rows) in enumerate(raw):
        limit = raw[i + 1][1][0] if i + 1 < len(raw) else test_rows[-1] + 1
        folds.append(Fold(i, train_rows, test_rows, test_rows[test_rows < limit]))
    return folds


# ------------------------------------------------------------------------------------------ metrics


def risk_free(dates: pd.DatetimeIndex, cash_rate: float | None) -> np.ndarray:
    """What cash earned on each simulated date: ``(1 + r / 365) ** days - 1``, 0 on the first date."""
    rf = np.zeros(len(dates))
    if cash_rate:
        days = np.diff(dates.values).astype("timedelta64[D]").astype(float)
        rf[1:] = (1.0 + cash_rate / 365.0) ** days - 1.0
    return rf


def window_metrics(dates: pd.DatetimeIndex, value: np.ndarray, rf: np.ndarray, previous: float) -> dict[str, float]:
    """The metrics of one window's dates alone (module docstring): the reference backtester's, with the value before
    the window as the initial capital (no trades are counted here)."""
    trades = pd.DataFrame({"quantity": [], "price": [], "fees": []})
    kept = ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar", "periods_per_year")
    series = pd.Series(np.asarray(value, dtype=float), index=dates)
    got = reference._metrics(series, np.asarray(rf, dtype=float), trades, initial_cash=previous, cash_interest=0.0,
                             cash_index=1.0)  # fmt: skip
    return {k: float(got[k]) for k in kept}  # type: ignore[arg-type]


def choose(scores: Sequence[float], select: str) -> tuple[int, int]:
    """(index of the chosen combination, number tied with the best) for the metric ``select``."""
    if select not in MAXIMISED + MINIMISED:
        raise ValueError(f"unknown selection metric {select!r}")
    sign = -1.0 if select in MINIMISED else 1.0
    s = np.array([sign * x for x in scores], dtype=float)
    ok = np.isfinite(s) | (s == math.inf)
    if not ok.any():
        return 0, 0
    best = float(np.max(s[ok]))
    tied = [i for i in range(len(s)) if ok[i] and (s[i] >= best - TIE_RTOL * abs(best) or s[i] == best)]
    return tied[0], len(tied)


# ------------------------------------------------------------------------------------------ the walk-forward


@dataclass(frozen=True)
class WalkForward:
    dates: pd.DatetimeIndex  # the simulated dates of the combinations' runs
    folds: list[dict]  # per fold: dates, chosen combination, tied, is_* and oos_* metrics
    scores: list[list[float]]  # per fold, every combination's training score
    equity: pd.DataFrame  # the stitched run's value and cash per date
    targets_in_force: pd.DataFrame
    metrics: dict  # the stitched run's metrics (tests/reference.py) plus ``switches``
    benchmark: pd.DataFrame | None = None
    benchmark_metrics: dict | None = None


def simulated_dates(market: Market, start: str, end: str) -> pd.DatetimeIndex:
    closes = market.closes
    last = min(closes[a].loc[:end].last_valid_index() for a in closes.columns)
    index = closes.index
    return index[(index >= pd.Timestamp(start)) & (index <= last)]


def _run(market: Market, targets: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, setup: Setup, rebalance=None):
    closes = market.closes.loc[:end]
    return reference.backtest(
        closes,
        markets=market.markets,
        targets=targets.loc[:end],
        start=start,
        lag=setup.lag,
        rebalance=rebalance or setup.rebalance,
        usdhkd=None if market.usdhkd is None else market.usdhkd.loc[:end],
        fee_bps=setup.fee_bps,
        slippage_bps=setup.slippage_bps,
        stamp_duty={a: (setup.stamp_duty if m == "hk" else None) for a, m in market.markets.items()},
        cash_rate=setup.cash_rate,
        initial_cash=setup.initial_cash,
    )


def _metrics_on(rows: np.ndarray, dates, value, rf, initial: float) -> dict[str, float]:
    previous = initial if rows[0] == 0 else float(value[rows[0] - 1])
    return window_metrics(dates[rows], value[rows], rf[rows], previous)


def _stitch(combo_targets: list[pd.DataFrame], chosen: list[int], folds: list[Fold], sim) -> pd.DataFrame:
    index = combo_targets[0].index
    stitched = combo_targets[chosen[0]].copy()
    for fold, combo in zip(folds[1:], chosen[1:], strict=True):
        takes_over = index >= sim[fold.train[-1]]
        stitched.loc[takes_over] = combo_targets[combo].loc[takes_over].to_numpy()
    return stitched


def _in_force(targets: pd.DataFrame, dates: pd.DatetimeIndex, lag: int) -> pd.DataFrame:
    rows = targets.index.get_indexer(dates) - lag
    return pd.DataFrame(targets.to_numpy()[rows], index=dates, columns=targets.columns)


def walkforward(
    market: Market,
    combos: list[dict],
    targets_fn: Callable[..., pd.DataFrame],
    setup: Setup,
    *,
    start: str,
    end: str,
    train: str,
    test: str,
    step: str | None = None,
    select: str = "sharpe",
    benchmark: Mapping[str, float] | None = None,
    benchmark_rebalance: str = "monthly",
) -> WalkForward:
    """The whole walk-forward of ``combos`` (targets from ``targets_fn(closes, **combo)``)."""
    sim = simulated_dates(market, start, end)
    folds = fold_windows(sim, train, test, step)
    rf = risk_free(sim, setup.cash_rate)
    targets = [targets_fn(market.closes, **combo) for combo in combos]
    values = [_run(market, t, sim[0], sim[-1], setup).equity["value"].to_numpy() for t in targets]
    init = setup.initial_cash
    scores, chosen, out = [], [], []
    for fold in folds:
        per_combo = [_metrics_on(fold.train, sim, v, rf, init) for v in values]
        scores.append([m[select] for m in per_combo])
        best, tied = choose(scores[-1], select)
        chosen.append(best)
        is_metrics = {f"is_{k}": x for k, x in per_combo[best].items()}
        out.append({"fold": fold.fold, **fold.dates(sim), **combos[best], "tied": tied, **is_metrics})
    stitched = _stitch(targets, chosen, folds, sim)
    first, last = sim[folds[0].test[0]], sim[folds[-1].test[-1]]
    run = _run(market, stitched, first, last, setup)
    oos_dates = run.equity.index
    oos_value = run.equity["value"].to_numpy()
    oos_rf = risk_free(oos_dates, setup.cash_rate)
    for fold, row in zip(folds, out, strict=True):
        rows = oos_dates.get_indexer(sim[fold.scored])
        row.update({f"oos_{k}": x for k, x in _metrics_on(rows, oos_dates, oos_value, oos_rf, init).items()})
    in_force = _in_force(stitched, oos_dates, setup.lag)
    changed = np.any(np.abs(np.diff(in_force.to_numpy(), axis=0)) > 1e-12, axis=1)
    metrics = {**run.metrics, "switches": int(changed.sum()), "start": first, "end": last}
    bench, bench_metrics = None, None
    if benchmark is not None:
        weights = pd.DataFrame(
            {a: float(benchmark.get(a, 0.0)) for a in market.closes.columns}, index=market.closes.index
        )
        b = _run(market, weights, first, last, setup, rebalance=benchmark_rebalance)
        bench, bench_metrics = b.equity, b.metrics
    return WalkForward(sim, out, scores, run.equity, in_force, metrics, bench, bench_metrics)
