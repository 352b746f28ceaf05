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

__all__ = [
    "Allocation",
    "RunResult",
    "benchmark_allocation",
    "required_warmup",
    "run_allocations",
    "run_config",
    "run_strategy",
    "slot_prices",
    "strategy_allocation",
]


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
    # Row 0 has no earlier close; nothing can be held before the first row, so its own close is used.
    prev = np.vstack([known[:1], known[:-1]])
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


@dataclass(frozen=True)
class Allocation:
    """Per-date target weights to simulate, and how to label them."""

    kind: str
    name: str
    targets: np.ndarray  # (n, A) on the panel's dates
    rebalance: str
    rule: np.ndarray | None = None
    rule_labels: tuple[str, ...] = ()


def run_allocations(
    allocations: list[Allocation],
    loaded: LoadedPanel,
    *,
    execution: Execution,
    costs: Costs,
    initial_cash: float,
    engine: Engine,
) -> list[RunResult]:
    """Simulate several allocations on ``loaded`` in one vectorbt call and score each."""
    panel, start = loaded.panel, loaded.start
    plans: list[OrderPlan] = [
        plan_orders(
            targets=a.targets,
            traded=panel.traded,
            known=panel.known,
            markets=panel.markets,
            dates=panel.dates,
            first_decision=max(start - execution.lag, 0),
            lag=execution.lag,
            rebalance=a.rebalance,
        )
        for a in allocations
    ]
    ms = plans[0].slots_per_date
    prices = slot_prices(panel, plans[0].asset_slot, ms)
    first_slot = start * ms
    rates = cost_rates(costs, panel.markets)
    sims = simulate(
        sizes=[p.size[first_slot:] for p in plans],
        price=prices[first_slot:],
        fees=rates.fees,
        slippage=rates.slippage,
        init_cash=initial_cash,
        engine=engine,
    )
    return [
        _score(a, plan, sim, loaded, prices[first_slot:], initial_cash)
        for a, plan, sim in zip(allocations, plans, sims, strict=True)
    ]


def _score(
    alloc: Allocation,
    plan: OrderPlan,
    sim: SimResult,
    loaded: LoadedPanel,
    prices: np.ndarray,
    initial_cash: float,
) -> RunResult:
    panel, start = loaded.panel, loaded.start
    ms = plan.slots_per_date
    eod = np.arange(ms - 1, len(sim.value), ms)  # last slot of each date
    dates = panel.dates[start:]
    value = sim.value[eod]
    asset_value = sim.position[eod] * panel.known[start:]
    trades = _trades_frame(sim, panel.dates, panel.assets, ms, start * ms)
    slot_close = prices[sim.order_slot, sim.order_asset]
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
        "kind": alloc.kind,
        "name": alloc.name,
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
        kind=alloc.kind,
        name=alloc.name,
        dates=dates,
        assets=panel.assets,
        value=value,
        cash=sim.cash[eod],
        asset_value=asset_value,
        target=plan.in_force(len(panel.dates))[start:],
        rule=None if alloc.rule is None else alloc.rule[start:],
        rule_labels=alloc.rule_labels,
        trades=trades,
        metrics=metrics,
        notes=tuple(notes),
    )


def strategy_allocation(cfg: StrategyConfig, panel: PricePanel) -> Allocation:
    """Signals -> rules -> per-date targets for one config."""
    signals = compute_signals(cfg.signals, panel.signal_inputs())
    compiled = compile_rules(cfg.rules, panel.assets, list(cfg.signals))
    rule, targets = decide(compiled, signals, len(panel.dates))
    return Allocation("strategy", cfg.name, targets, cfg.execution.rebalance, rule, compiled.labels)


def benchmark_allocation(bench: Benchmark, panel: PricePanel) -> Allocation:
    """A static allocation: the same weights on every date."""
    weights = np.array([bench.weights.get(a, 0.0) for a in panel.assets])
    targets = np.broadcast_to(weights, (len(panel.dates), len(weights))).copy()
    return Allocation("benchmark", bench.name, targets, bench.rebalance)


def run_config(cfg: StrategyConfig, loaded: LoadedPanel, *, engine: Engine = "rust") -> list[RunResult]:
    """The strategy and each of its benchmarks, simulated together: [strategy, *benchmarks]."""
    allocations = [strategy_allocation(cfg, loaded.panel)]
    allocations += [benchmark_allocation(b, loaded.panel) for b in cfg.benchmarks]
    return run_allocations(
        allocations,
        loaded,
        execution=cfg.execution,
        costs=cfg.costs,
        initial_cash=cfg.initial_cash,
        engine=engine,
    )


def run_strategy(cfg: StrategyConfig, loaded: LoadedPanel, *, engine: Engine = "rust") -> RunResult:
    """Signals -> rules -> orders -> simulation -> metrics for one config (no benchmarks)."""
    return run_allocations(
        [strategy_allocation(cfg, loaded.panel)],
        loaded,
        execution=cfg.execution,
        costs=cfg.costs,
        initial_cash=cfg.initial_cash,
        engine=engine,
    )[0]
