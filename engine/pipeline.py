"""The composition root: config + panel -> simulated run with metrics.

``run_strategy`` is what the CLI, the tests, the benchmarks and (later)
sweeps call.  Data flows one way: signals -> rules -> target weights ->
order plan -> the one vectorbt call -> daily equity, weights, trades ->
metrics.  Nothing here reads files, the clock or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.calendar import market_rank
from engine.config.models import AssetSpec, Benchmark, Costs, Execution, StrategyConfig
from engine.costs import cost_rates
from engine.data.panel import LoadedPanel, PricePanel
from engine.errors import ConfigError
from engine.execution import OrderPlan, plan_batch
from engine.metrics import specs
from engine.metrics.specs import Curves
from engine.rules import compile_rules, decide
from engine.signals import compute_signals, signal_lookback
from engine.simulate import Engine, SimResult, simulate
from engine.valuation import Valuation, simulation_prices, valuation

__all__ = [
    "Allocation",
    "RunResult",
    "Schedule",
    "benchmark_allocation",
    "check_usable",
    "incomplete_signals",
    "required_warmup",
    "run_allocations",
    "run_config",
    "run_strategy",
    "strategy_allocation",
]


#: The metrics of a run computed from its equity curve, in ``metrics.json`` order (after kind, name, start, end).
RUN_METRICS = ("final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar",
               "turnover", "switches_per_year")  # fmt: skip


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
    cash_index: np.ndarray | None = None  # (n,) value of one unit of cash (1 on the first date)
    unit_value: np.ndarray | None = None  # (n, A) base-currency value of one unit of each asset
    plan: OrderPlan | None = None  # the order plan on the panel's rows (warm-up included)
    signals: Mapping[str, np.ndarray] | None = None  # the values the rules saw, on the panel's rows

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
    lookback = signal_lookback(cfg.resolved_signals)
    crosses = any("crosses_" in (r.when or "") for r in cfg.rules)
    return lookback + int(crosses) + cfg.execution.lag


def _trades_frame(
    sim: SimResult, growth: np.ndarray, panel: PricePanel, m_slots: int, first_slot: int, fill: str
) -> pd.DataFrame:
    """Fills in money of the base currency; ``quoted_price`` is the exchange's price in the asset's currency."""
    day = (sim.order_slot + first_slot) // m_slots
    order = np.lexsort((sim.order_asset, sim.order_slot))
    row, col = day[order], sim.order_asset[order]
    quoted = panel.open if fill == "next_open" and panel.open is not None else panel.close
    price = sim.order_price[order] * growth[order]
    return pd.DataFrame(
        {
            "date": panel.dates[row].strftime("%Y-%m-%d"),
            "asset": np.asarray(panel.assets, dtype=object)[col],
            "side": np.where(sim.order_side[order] == 0, "buy", "sell"),
            "quantity": sim.order_size[order],
            "price": price,
            "value": sim.order_size[order] * price,
            "fees": sim.order_fees[order] * growth[order],
            "quoted_price": quoted[row, col],
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
    signals: Mapping[str, np.ndarray] | None = None  # what ``rule`` was decided from


@dataclass(frozen=True)
class Schedule:
    """Execution settings that change over time (a walk-forward's folds), per row of the panel."""

    first_decision: int
    lag: np.ndarray  # (n,) lag of a decision taken on each row
    events: np.ndarray  # (n,) bool: rows on which an event is decided
    fees: np.ndarray  # (n, A) fee fractions of a fill on each date
    slippage: np.ndarray  # (n, A) slippage fractions of a fill on each date


def run_allocations(
    allocations: list[Allocation],
    loaded: LoadedPanel,
    *,
    execution: Execution,
    costs: Costs,
    initial_cash: float,
    engine: Engine,
    assets: Mapping[str, AssetSpec] | None = None,
    cash_rate: float | None = None,
    schedule: Schedule | None = None,
) -> list[RunResult]:
    """Simulate several allocations on ``loaded`` in one vectorbt call and score each.

    ``assets``: the config's asset specs (currency, dividend yield, per-asset costs);
    default: plain specs of the panel's symbols and markets.  ``cash_rate``: a constant
    annual rate on cash; None uses the panel's cash-rate series, or none.  When an asset
    is quoted in another currency than the base, each allocation is simulated a second
    time with the exchange rate frozen at the first date, in the same call, for ``fx_return``.
    ``schedule`` replaces ``execution.lag``, the rebalance events and ``costs`` for every allocation.
    """
    panel, start = loaded.panel, loaded.start
    k = len(allocations)
    specs = assets or {
        a: AssetSpec.model_validate({"symbol": sym, "market": mk, "currency": ccy})
        for a, sym, mk, ccy in zip(panel.assets, panel.symbols, panel.markets, panel.currencies, strict=True)
    }
    yields = np.array([specs[a].dividend_yield for a in panel.assets], dtype="float64")
    val = valuation(panel, dividend_yields=yields, cash_rate=cash_rate, start=start)
    first = max(start - execution.lag, 0) if schedule is None else schedule.first_decision
    if schedule is None:
        check_usable(allocations, panel.dates, first, execution.lag)
    ranks = market_rank(list(panel.markets))
    ms = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in panel.markets], dtype=np.int64)
    first_slot = start * ms
    close, order = simulation_prices(val, panel.traded, asset_slot, ms, execution.fill)
    if schedule is None:
        rates = cost_rates(costs, specs, panel.assets, panel.dates)
        fees, slippage = np.repeat(rates.fees, ms, axis=0)[first_slot:], rates.slippage
    else:
        fees = np.repeat(schedule.fees, ms, axis=0)[first_slot:]
        slippage = np.repeat(schedule.slippage, ms, axis=0)[first_slot:]
    batch = plan_batch(
        targets=np.stack([a.targets for a in allocations], axis=1),
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        first_decision=np.full(k, first),
        lag=np.full(k, execution.lag) if schedule is None else np.repeat(schedule.lag[:, None], k, axis=1),
        rebalance=[a.rebalance for a in allocations],
        close=close[first_slot:],
        order_price=order[first_slot:],
        fees=fees,
        slippage=slippage,
        init_cash=initial_cash,
        first_slot=first_slot,
        fill=execution.fill,
        events=None if schedule is None else np.repeat(schedule.events[:, None], k, axis=1),
    )
    plans = [batch.single(k) for k in range(len(allocations))]
    closes, orders = [close[first_slot:]] * len(plans), [order[first_slot:]] * len(plans)
    with_fx = panel.usdhkd is not None
    if with_fx:
        frozen = valuation(panel, dividend_yields=yields, cash_rate=cash_rate, start=start, frozen_fx=True)
        close_f, order_f = simulation_prices(frozen, panel.traded, asset_slot, ms, execution.fill)
        closes += [close_f[first_slot:]] * len(plans)
        orders += [order_f[first_slot:]] * len(plans)
    sizes = [p.size[first_slot:] for p in plans] * (2 if with_fx else 1)
    sims = simulate(
        sizes=sizes,
        price=closes,
        order_price=orders,
        fees=fees,
        slippage=slippage,
        init_cash=initial_cash,
        engine=engine,
    )
    cash_slots = np.repeat(val.cash_index, ms)[first_slot:]
    out = []
    for i, (a, plan) in enumerate(zip(allocations, plans, strict=True)):
        frozen_final = sims[len(plans) + i].value[-1] * cash_slots[-1] if with_fx else None
        res = _score(a, plan, sims[i], loaded, val, orders[i], cash_slots, initial_cash, frozen_final, execution.fill)
        lacking = incomplete_signals(a.signals, panel.dates, first)
        out.append(replace(res, notes=(*lacking, *res.notes)) if lacking else res)
    return out


def check_usable(allocations: list[Allocation], dates: pd.DatetimeIndex, first: int, lag: int) -> None:
    """Refuse a run that cannot use its config: a lag that leaves no date to trade on, or a signal
    with no value on any decision date (its window needs more history than the data has).

    Both would otherwise run and report numbers that only the ``otherwise`` rule, or no trade at
    all, produced.
    """
    if first + lag >= len(dates):
        raise ConfigError(
            f"lag {lag} leaves no date to trade on: the data has {len(dates) - first} dates from the first "
            f"decision ({dates[min(first, len(dates) - 1)].date()})",
            path="execution.lag",
            got=lag,
        )
    for a in allocations:
        for name, values in (a.signals or {}).items():
            column = np.asarray(values, dtype=np.float64).reshape(len(dates), -1)[first:, 0]
            if len(column) and np.isnan(column).all():
                raise ConfigError(
                    f"signal {name!r} has no value on any decision date ({dates[first].date()} to "
                    f"{dates[-1].date()}): its window needs more history than the data has, or is too short to "
                    "define it",
                    path=f"signals.{name}",
                    expected="a window shorter than the data",
                )


def incomplete_signals(signals: Mapping[str, np.ndarray] | None, dates: pd.DatetimeIndex, first: int) -> list[str]:
    """A note for each signal that is NaN at the first decision (row ``first``): how many dates of
    history it lacked (until its first value), during which a rule naming it is false."""
    out = []
    for name, values in (signals or {}).items():
        column = np.asarray(values, dtype=np.float64).reshape(len(dates), -1)[:, 0]
        if first >= len(dates) or not np.isnan(column[first]):
            continue
        finite = np.flatnonzero(~np.isnan(column[first:]))
        if len(finite):
            out.append(
                f"signal {name!r} is not complete at the first decision ({dates[first].date()}): the data lacked "
                f"{int(finite[0])} dates of history; rules naming it are false until {dates[first + finite[0]].date()}"
            )
        else:
            out.append(f"signal {name!r} has no value from the first decision ({dates[first].date()}) on")
    return out


def _score(
    alloc: Allocation,
    plan: OrderPlan,
    sim: SimResult,
    loaded: LoadedPanel,
    val: Valuation,
    order_prices: np.ndarray,
    cash_slots: np.ndarray,
    initial_cash: float,
    frozen_final: float | None,
    fill: str,
) -> RunResult:
    """Back from cash-index units to money, then metrics (see engine/valuation.py)."""
    panel, start = loaded.panel, loaded.start
    ms = plan.slots_per_date
    eod = np.arange(ms - 1, len(sim.value), ms)  # last slot of each date
    dates = panel.dates[start:]
    index = val.cash_index[start:]
    value = sim.value[eod] * index
    cash = sim.cash[eod] * index
    asset_value = sim.position[eod] * val.known[start:]
    growth = cash_slots[sim.order_slot]
    trades = _trades_frame(sim, growth, panel, ms, start * ms, fill)
    quoted = order_prices[sim.order_slot, sim.order_asset]
    notes = [
        f"order for {panel.assets[j]} decided {panel.dates[d].date()} never executed: its market did not open again"
        for d, j in plan.unfilled
    ]
    switches = plan.switches(start)
    curves = Curves(
        dates=dates,
        value=value[:, None],
        initial=initial_cash,
        risk_free=val.risk_free(start),
        traded=np.array([trades["value"].sum()]),
        fees=np.array([trades["fees"].sum()]),
        trades=np.array([len(trades)]),
        switches=np.array([switches]),
    )
    scored = {name: v.item() for name, v in specs.compute((*RUN_METRICS, "fees_paid"), curves).items()}
    fees_paid = scored.pop("fees_paid")
    # Interest credited on date d: the cash held overnight (in cash-index units) times the index's rise.
    interest = float(np.sum(sim.cash[eod][:-1] * np.diff(index)))
    weights = m.average_weights(sim.position[eod], val.known[start:], value)[0]
    metrics: dict[str, Any] = {
        "kind": alloc.kind,
        "name": alloc.name,
        "start": str(dates[0].date()),
        "end": str(dates[-1].date()),
        **scored,
        "avg_weight": {a: float(weights[j]) for j, a in enumerate(panel.assets) if a not in panel.signal_only},
        "fees_paid": fees_paid,
        "slippage_paid": float(np.sum(sim.order_size * np.abs(sim.order_price - quoted) * growth)),
        "trades": len(trades),
        "switches": switches,
        "years": curves.years,
        "periods_per_year": curves.periods_per_year,
        "fx_return": 0.0 if frozen_final is None else float(value[-1] / frozen_final - 1.0),
        "cash_interest": interest,
        "risk_free_return": float(index[-1] / index[0] - 1.0),
    }
    return RunResult(
        kind=alloc.kind,
        name=alloc.name,
        dates=dates,
        assets=panel.assets,
        value=value,
        cash=cash,
        asset_value=asset_value,
        target=plan.in_force(len(panel.dates))[start:],
        rule=None if alloc.rule is None else alloc.rule[start:],
        rule_labels=alloc.rule_labels,
        trades=trades,
        metrics=metrics,
        notes=tuple(notes),
        cash_index=index,
        unit_value=val.known[start:],
        plan=plan,
        signals=alloc.signals,
    )


def strategy_allocation(cfg: StrategyConfig, panel: PricePanel) -> Allocation:
    """Signals -> rules -> per-date targets for one config."""
    signals = compute_signals(cfg.resolved_signals, panel.signal_inputs())
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    rule, targets = decide(compiled, {**signals, **cfg.params}, len(panel.dates))
    return Allocation("strategy", cfg.name, targets, cfg.execution.rebalance, rule, compiled.labels, signals)


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
        assets=cfg.assets,
        cash_rate=cfg.cash_rate if isinstance(cfg.cash_rate, float | int) else None,
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
        assets=cfg.assets,
        cash_rate=cfg.cash_rate if isinstance(cfg.cash_rate, float | int) else None,
    )[0]
