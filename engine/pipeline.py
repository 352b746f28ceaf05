"""The composition root: config + panel -> simulated run with metrics.

``run_strategy`` is what the CLI, the tests, the benchmarks and (later)
sweeps call.  Data flows one way: signals -> rules -> target weights ->
order plan -> the one vectorbt call -> daily equity, weights, trades ->
metrics.  Nothing here reads files, the clock or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.config.models import Benchmark, Costs, Execution, StrategyConfig
from engine.costs import cost_rates
from engine.data.panel import LoadedPanel, PricePanel
from engine.execution import OrderPlan, plan_orders
from engine.rules import compile_rules, decide
from engine.signals import compute_signals, signal_lookback
from engine.simulate import Engine, SimResult, simulate

__all__ = ["RunResult", "required_warmup", "run_allocation", "run_benchmark", "run_strategy", "slot_prices"]


@dataclass(frozen=True)
class RunResult:
    """Everything one simulated allocation produced, on the run's dates."""

    kind: str  # "strategy" or "benchmark"
    name: str
    dates: pd.DatetimeIndex
    assets: tuple[str, ...]
    value: np.ndarray
    cash: np.ndarray
    asset_value: np.ndarray  # (n, A)
    target: np.ndarray  # (n, A) targets in force
    rule: np.ndarray | None  # (n,) index of the rule that matched on each decision date
    rule_labels: tuple[str, ...]
    trades: pd.DataFrame
    metrics: dict[str, Any]
    notes: tuple[str, ...] = field(default=())

    @property
    def weights(self) -> np.ndarray:
        """Actual end-of-day weight of each asset: asset value / portfolio value."""
        return self.asset_value / self.value[:, None]


def required_warmup(cfg: StrategyConfig) -> int:
    """Rows of history before the start that make every signal valid for the first decision.

    The longest signal warm-up, one more row for ``crosses_above``/``crosses_below``
    (they look at the previous value), and the lag: the decision that fills on
    the first simulated date is taken ``lag`` rows earlier.
    """
    lookback = signal_lookback(cfg.signals)
    crosses = any("crosses_" in (r.when or "") for r in cfg.rules)
    return lookback + int(crosses) + cfg.execution.lag


def slot_prices(panel: PricePanel, asset_slot: np.ndarray, m_slots: int) -> np.ndarray:
    """Price of each asset known in each slot: (n*M, A).

    In slot (d, r) an asset whose market closes in slot <= r is valued at its
    close of d (carried forward over its holidays); one that closes later is
    valued at its close of d-1, because its close of d is not known yet.
    """
    known = panel.known
    n, n_assets = known.shape
    prev = np.vstack([np.full((1, n_assets), np.nan), known[:-1]])
    out = np.empty((n * m_slots, n_assets))
    for r in range(m_slots):
        out[r::m_slots] = np.where(asset_slot[None, :] <= r, known, prev)
    return out


def _trades_frame(
    sim: SimResult, dates: pd.DatetimeIndex, assets: tuple[str, ...], m_slots: int, first_slot: int
) -> pd.DataFrame:
    day = (sim.order_slot + first_slot) // m_slots
    order = np.lexsort((sim.order_asset, sim.order_slot))
    return pd.DataFrame(
        {
            "date": dates[day[order]].strftime("%Y-%m-%d"),
            "asset": np.asarray(assets, dtype=object)[sim.order_asset[order]],
            "side": np.where(sim.order_side[order] == 0, "buy", "sell"),
            "quantity": sim.order_size[order],
            "price": sim.order_price[order],
            "value": sim.order_size[order] * sim.order_price[order],
            "fees": sim.order_fees[order],
        }
    )


def run_allocation(
    *,
    kind: str,
    name: str,
    loaded: LoadedPanel,
    targets: np.ndarray,
    rebalance: str,
    execution: Execution,
    costs: Costs,
    initial_cash: float,
    engine: Engine,
    rule: np.ndarray | None = None,
    rule_labels: tuple[str, ...] = (),
) -> RunResult:
    """Simulate per-date target weights on ``loaded`` and score the result."""
    panel, start = loaded.panel, loaded.start
    n = len(panel.dates)
    plan: OrderPlan = plan_orders(
        targets=targets,
        traded=panel.traded,
        known=panel.known,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=max(start - execution.lag, 0),
        lag=execution.lag,
        rebalance=rebalance,
    )
    ms = plan.slots_per_date
    prices = slot_prices(panel, plan.asset_slot, ms)
    first_slot = start * ms
    rates = cost_rates(costs, panel.markets)
    sim = simulate(
        size=plan.size[first_slot:],
        price=prices[first_slot:],
        fees=rates.fees,
        slippage=rates.slippage,
        init_cash=initial_cash,
        engine=engine,
    )
    eod = np.arange(ms - 1, len(sim.value), ms)  # last slot of each date
    dates = panel.dates[start:]
    value = sim.value[eod]
    position = sim.position[eod]
    asset_value = position * panel.known[start:]
    trades = _trades_frame(sim, panel.dates, panel.assets, ms, first_slot)
    slot_close = prices[first_slot:][sim.order_slot, sim.order_asset]
    notes = [
        f"order for {panel.assets[j]} decided {panel.dates[d].date()} never executed: its market did not open again"
        for d, j in plan.unfilled
    ]
    years = m.years_between(dates[0].date(), dates[-1].date())
    ppy = m.periods_per_year(len(dates), years)
    rets = m.daily_returns(value, initial_cash)
    cagr = m.cagr(value, initial_cash, years)
    mdd = m.max_drawdown(value, initial_cash)
    traded_value = float(trades["value"].sum())
    in_window = plan.event_execution >= start
    switches = int(np.any(np.abs(np.diff(plan.event_targets[in_window], axis=0)) > 1e-12, axis=1).sum())
    metrics: dict[str, Any] = {
        "kind": kind,
        "name": name,
        "start": str(dates[0].date()),
        "end": str(dates[-1].date()),
        "final_value": float(value[-1]),
        "total_return": m.total_return(value, initial_cash),
        "cagr": cagr,
        "ann_vol": m.annual_volatility(rets, ppy),
        "sharpe": m.sharpe(rets, ppy),
        "sortino": m.sortino(rets, ppy),
        "max_drawdown": mdd,
        "calmar": m.calmar(cagr, mdd),
        "turnover": traded_value / 2.0 / float(np.mean(value)) / years if years > 0 else float("nan"),
        "switches_per_year": switches / years if years > 0 else float("nan"),
        "avg_weight": {a: float(np.mean(asset_value[:, j] / value)) for j, a in enumerate(panel.assets)},
        "fees_paid": float(trades["fees"].sum()),
        "slippage_paid": float(np.sum(sim.order_size * np.abs(sim.order_price - slot_close))),
        "trades": len(trades),
        "switches": switches,
        "years": years,
        "periods_per_year": ppy,
    }
    return RunResult(
        kind=kind,
        name=name,
        dates=dates,
        assets=panel.assets,
        value=value,
        cash=sim.cash[eod],
        asset_value=asset_value,
        target=plan.in_force(n)[start:],
        rule=None if rule is None else rule[start:],
        rule_labels=rule_labels,
        trades=trades,
        metrics=metrics,
        notes=tuple(notes),
    )


def run_strategy(cfg: StrategyConfig, loaded: LoadedPanel, *, engine: Engine = "rust") -> RunResult:
    """Signals -> rules -> orders -> simulation -> metrics for one config."""
    panel = loaded.panel
    signals = compute_signals(cfg.signals, panel.signal_inputs())
    compiled = compile_rules(cfg.rules, panel.assets, list(cfg.signals))
    rule, targets = decide(compiled, signals, len(panel.dates))
    return run_allocation(
        kind="strategy",
        name=cfg.name,
        loaded=loaded,
        targets=targets,
        rebalance=cfg.execution.rebalance,
        execution=cfg.execution,
        costs=cfg.costs,
        initial_cash=cfg.initial_cash,
        engine=engine,
        rule=rule,
        rule_labels=compiled.labels,
    )


def run_benchmark(cfg: StrategyConfig, bench: Benchmark, loaded: LoadedPanel, *, engine: Engine = "rust") -> RunResult:
    """A static allocation with the config's data, lag, costs and initial cash."""
    weights = np.array([bench.weights.get(a, 0.0) for a in loaded.panel.assets])
    targets = np.broadcast_to(weights, (len(loaded.panel.dates), len(weights))).copy()
    return run_allocation(
        kind="benchmark",
        name=bench.name,
        loaded=loaded,
        targets=targets,
        rebalance=bench.rebalance,
        execution=cfg.execution,
        costs=cfg.costs,
        initial_cash=cfg.initial_cash,
        engine=engine,
    )
