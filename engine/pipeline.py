"""A config's run: config + panel -> the strategy and its benchmarks, simulated and scored.

``run_config`` is what the CLI, the API, the tests and the benchmarks call.  Data flows one
way: signals -> rules -> target weights (:func:`strategy_allocation`) -> the columns of one
evaluation (:mod:`engine.evaluate`, the path sweeps and walk-forward runs share) -> daily
equity, weights, trades -> metrics (:mod:`engine.metrics.specs`).  Nothing here reads files,
the clock or the environment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from engine import metrics as m
from engine.config.models import AssetSpec, Benchmark, Costs, Execution, StrategyConfig
from engine.data.panel import LoadedPanel, PricePanel
from engine.errors import ConfigError
from engine.evaluate import Columns, Evaluation, Market, cost_groups, evaluate, first_decision, market, warmup_rows
from engine.execution import OrderPlan
from engine.metrics import specs
from engine.rules import compile_rules
from engine.signals import compute_signals, rows_lacking
from engine.simulate import Engine
from engine.sizing import check_window
from engine.strategy import decide_columns, knobs
from engine.valuation import valuation

__all__ = [
    "Allocation",
    "RunResult",
    "allocation_columns",
    "benchmark_allocation",
    "check_usable",
    "decision_notes",
    "incomplete_signals",
    "required_warmup",
    "run_allocations",
    "run_config",
    "run_strategy",
    "run_with_config",
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
    incomplete: tuple[str, ...] = ()  # signals without a value at the first decision (:func:`incomplete_signals`)

    @property
    def weights(self) -> np.ndarray:
        """Actual end-of-day weight of each asset: asset value / portfolio value."""
        return self.asset_value / self.value[:, None]


def required_warmup(cfg: StrategyConfig) -> int:
    """Rows of history before the start that make every signal valid for the first decision
    (:func:`engine.evaluate.warmup_rows` of the config's signals, rules and lag)."""
    return warmup_rows(cfg.resolved_signals, cfg.rules, cfg.execution.lag, sizing=cfg.sizing)


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
    decisions: Mapping[str, int] | None = None  # the counts of docs/rules.md (a strategy's)
    band: float | None = None  # a rebalancing band (execution.rebalance: {band: ...})


def allocation_columns(allocations: Sequence[Allocation], mk: Market, execution: Execution, costs: Costs) -> Columns:
    """The allocations as the columns of one evaluation: the config's lag and costs for each."""
    k = len(allocations)
    lag = np.full(k, execution.lag, dtype=np.int64)
    return Columns(
        targets=np.stack([a.targets for a in allocations], axis=1),
        lag=lag,
        rebalance=[a.rebalance for a in allocations],
        costs=cost_groups([(np.arange(k), costs)], mk),
        first_decision=first_decision(mk.start, lag),
        band=np.array([np.nan if a.band is None else a.band for a in allocations]),
        margin=_margin_accounts(allocations, execution),
    )


def _margin_accounts(allocations: Sequence[Allocation], execution: Execution) -> np.ndarray | None:
    """(K,) bool: the strategy's account is a margin account when ``execution.max_gross`` is set, a
    benchmark's never (docs/shorts.md); None when every account is a cash account."""
    if execution.max_gross is None:
        return None
    return np.array([a.kind == "strategy" for a in allocations], dtype=bool)


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
    columns: Columns | None = None,
) -> list[RunResult]:
    """Simulate several allocations on ``loaded`` in one vectorbt call and score each.

    ``assets``: the config's asset specs (currency, dividend yield, per-asset costs);
    default: plain specs of the panel's symbols and markets.  ``cash_rate``: a constant
    annual rate on cash; None uses the panel's cash-rate series, or none.  When an asset
    is quoted in another currency than the base, each allocation is simulated a second
    time with the exchange rate frozen at the first date, in the same call, for ``fx_return``.
    ``columns``: the columns to evaluate instead of :func:`allocation_columns` (a walk-forward's
    schedule of lags, events and costs; its targets replace the allocations').
    """
    mk = market(loaded, assets=assets, cash_rate=cash_rate, fill=execution.fill)
    if columns is None:
        cols = allocation_columns(allocations, mk, execution, costs)
        check_usable(allocations, mk.panel.dates, int(cols.first_decision[0]), execution.lag)
    else:
        cols = columns
    ev = evaluate(mk, cols, init_cash=initial_cash, engine=engine, frozen_fx=True)
    scored = specs.compute((*RUN_METRICS, "fees_paid"), ev.curves)
    weights = m.average_weights(ev.units, mk.val.known[mk.start :], ev.value)  # (K, A)
    first = int(cols.first_decision[0])
    out = []
    for i, a in enumerate(allocations):
        res = _result(a, i, mk, ev, {name: v[i].item() for name, v in scored.items()}, weights[i])
        lacking = incomplete_signals(a.signals, mk.panel.dates, first)
        if lacking:
            res = replace(res, notes=(*lacking.values(), *res.notes), incomplete=tuple(lacking))
        out.append(res)
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


def incomplete_signals(signals: Mapping[str, np.ndarray] | None, dates: pd.DatetimeIndex, first: int) -> dict[str, str]:
    """A note for each signal (by name) that is NaN at the first decision (row ``first``): how many dates of
    history it lacked (until its first value), during which a rule naming it is false."""
    out = {}
    for name, rows in rows_lacking(signals, first).items():
        if rows is not None:
            out[name] = (
                f"signal {name!r} is not complete at the first decision ({dates[first].date()}): the data lacked "
                f"{rows} dates of history; rules naming it are false until {dates[first + rows].date()}"
            )
        else:
            out[name] = f"signal {name!r} has no value from the first decision ({dates[first].date()}) on"
    return out


def _trades_frame(mk: Market, rec: np.ndarray, quoted_price: np.ndarray) -> pd.DataFrame:
    """One column's fills in money of the base currency (``rec``: its order records, sorted);
    ``quoted_price`` is the exchange's price in the asset's currency."""
    panel, n_assets = mk.panel, len(mk.panel.assets)
    row = (rec["idx"] + mk.first_slot) // mk.slots_per_date
    col = rec["col"] % n_assets
    growth = mk.cash_slots[rec["idx"]]
    price = rec["price"] * growth
    return pd.DataFrame(
        {
            "date": panel.dates[row].strftime("%Y-%m-%d"),
            "asset": np.asarray(panel.assets, dtype=object)[col],
            "side": np.where(rec["side"] == 0, "buy", "sell"),
            "quantity": rec["size"],
            "price": price,
            "value": rec["size"] * price,
            "fees": rec["fees"] * growth,
            "quoted_price": quoted_price[row, col],
        }
    )


def _result(
    alloc: Allocation, i: int, mk: Market, ev: Evaluation, scored: dict[str, Any], weights: np.ndarray
) -> RunResult:
    """Column ``i`` of ``ev`` as a run: back from cash-index units to money (engine/valuation.py), then
    the metrics :func:`run_allocations` scored, and what only a single run reports."""
    panel, start, n_assets = mk.panel, mk.start, len(mk.panel.assets)
    rec = ev.records[ev.records["col"] // n_assets == i]
    rec = rec[np.lexsort((rec["col"], rec["idx"]))]
    index = mk.val.cash_index[start:]
    value, cash = ev.value[:, i], ev.cash[:, i] * index
    growth = mk.cash_slots[rec["idx"]]
    quoted = mk.order[rec["idx"], rec["col"] % n_assets]  # the fill price before slippage
    plan = ev.plan.single(i)
    fees_paid = scored.pop("fees_paid")
    metrics: dict[str, Any] = {
        "kind": alloc.kind,
        "name": alloc.name,
        "start": str(mk.dates[0].date()),
        "end": str(mk.dates[-1].date()),
        **scored,
        "avg_weight": {a: float(weights[j]) for j, a in enumerate(panel.assets) if a not in panel.signal_only},
        "fees_paid": fees_paid,
        "slippage_paid": float(np.sum(rec["size"] * np.abs(rec["price"] - quoted) * growth)),
        "trades": len(rec),
        "switches": int(np.asarray(ev.curves.switches)[i]),
        "years": ev.curves.years,
        "periods_per_year": ev.curves.periods_per_year,
        "fx_return": 0.0 if ev.frozen_value is None else float(value[-1] / ev.frozen_value[-1, i] - 1.0),
        # interest credited on date d: the cash held overnight (in cash-index units) times the index's rise
        "cash_interest": float(np.sum(ev.cash[:-1, i] * np.diff(index))),
        "risk_free_return": float(index[-1] / index[0] - 1.0),
    }
    if alloc.decisions is not None:
        metrics["decisions"] = dict(alloc.decisions)
    margin = _add_financing(metrics, ev, i)
    quoted_price = panel.open if mk.fill == "next_open" and panel.open is not None else panel.close
    return RunResult(
        kind=alloc.kind,
        name=alloc.name,
        dates=mk.dates,
        assets=panel.assets,
        value=value,
        cash=cash,
        asset_value=_held_value(ev.units[:, i * n_assets : (i + 1) * n_assets], mk.val.known[start:]),
        target=plan.in_force(len(panel.dates))[start:],
        rule=None if alloc.rule is None else alloc.rule[start:],
        rule_labels=alloc.rule_labels,
        trades=_trades_frame(mk, rec, quoted_price),
        metrics=metrics,
        notes=(
            *_unfilled_notes(panel, plan),
            *decision_notes(alloc.decisions),
            *_margin_notes(metrics, margin, value, mk.dates),
        ),
        cash_index=index,
        unit_value=mk.val.known[start:],
        plan=plan,
        signals=alloc.signals,
    )


def _unfilled_notes(panel: PricePanel, plan: OrderPlan) -> list[str]:
    return [
        f"order for {panel.assets[j]} decided {panel.dates[d].date()} never executed: its market did not open again"
        for d, j in plan.unfilled
    ]


def _add_financing(metrics: dict[str, Any], ev: Evaluation, i: int) -> bool:
    """Whether column ``i`` is a margin account; if so, ``metrics["financing"]``: what it paid (docs/shorts.md)."""
    margin = ev.plan.margin is not None and bool(ev.plan.margin[i])
    if margin and ev.financing is not None:
        metrics["financing"] = {"borrow": float(ev.financing[i, 0]), "margin": float(ev.financing[i, 1])}
    return margin


def _margin_notes(metrics: Mapping[str, Any], margin: bool, value: np.ndarray, dates: pd.DatetimeIndex) -> list[str]:
    """What a margin account's run should say (docs/shorts.md): how it was simulated, what financing cost,
    and the date its value fell to zero or below, where it was closed out."""
    if not margin:
        return []
    paid = metrics.get("financing") or {"borrow": 0.0, "margin": 0.0}
    out = [
        "margin account (execution.max_gross): shorts and borrowed cash allowed; fills by the order scheduler with "
        "vectorbt's order functions, not re-simulated by from_orders (docs/shorts.md); financing paid: borrow "
        f"{paid['borrow']:,.2f}, margin spread {paid['margin']:,.2f}"
    ]
    lost = np.flatnonzero(value <= 0)
    if len(lost):
        out.append(
            f"the margin account's value fell to {value[lost[0]]:,.2f} on {dates[lost[0]].date()}: it was closed out "
            "at that date's end-of-day values and traded no more; what was left (a debt when negative) stayed in cash "
            "(docs/shorts.md)"
        )
    return out


def decision_notes(counts: Mapping[str, int] | None) -> list[str]:
    """Notes on what the rules' state did, and on weights that had to be clipped or could not be sized
    (docs/rules.md)."""
    counts = counts or {}
    out = []
    if counts.get("held") or counts.get("cooled"):
        out.append(
            f"rule state: the minimum hold kept the deciding rule on {counts.get('held', 0):,} decision dates, "
            f"a cooling rule was passed over on {counts.get('cooled', 0):,} (docs/rules.md)"
        )
    if counts.get("clipped"):
        out.append(
            f"weights clipped to their bounds or scaled to the gross limit on {counts['clipped']:,} decision dates "
            "(docs/rules.md, Weights)"
        )
    if counts.get("unsized"):
        out.append(
            f"sizing not applied on {counts['unsized']:,} decision dates: a volatility in the window was "
            "missing or zero, the rule's weights were kept"
        )
    return out


def _held_value(units: np.ndarray, unit_value: np.ndarray) -> np.ndarray:
    """Units x unit value, 0 where nothing is held (a signal-only asset may have no price yet)."""
    return np.where(units == 0.0, 0.0, units * unit_value)


def strategy_allocation(
    cfg: StrategyConfig, panel: PricePanel, start: int = 0, *, signals: Mapping[str, np.ndarray] | None = None
) -> Allocation:
    """Signals -> rules (with their state) -> sizing -> per-date targets for one config; the state starts
    on the first decision for a first simulated date on row ``start`` (docs/rules.md).  ``signals``: use
    these values instead of computing them (the look-ahead audit's planted control, engine/audit.py)."""
    if signals is None:
        signals = compute_signals(cfg.resolved_signals, panel.signal_inputs())
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    first = int(first_decision(start, cfg.execution.lag)[()])
    unit_value = None
    if cfg.sizing is not None:
        check_window(cfg.sizing.window, panel.dates, path="sizing.window")
        yields = np.array([cfg.assets[a].dividend_yield for a in panel.assets], dtype="float64")
        unit_value = valuation(panel, dividend_yields=yields, cash_rate=0.0, start=start).known
    d = decide_columns(
        compiled,
        {**signals, **cfg.params},
        len(panel.dates),
        knobs(cfg, first, panel.assets),
        unit_value=unit_value,
        dates=panel.dates.to_numpy(),
    )
    return Allocation(
        "strategy",
        cfg.name,
        d.targets[:, 0],
        cfg.execution.mode,
        rule=d.rule[:, 0],
        rule_labels=compiled.labels,
        signals=signals,
        decisions=d.column_counts(0),
        band=cfg.execution.band,
    )


def benchmark_allocation(bench: Benchmark, panel: PricePanel) -> Allocation:
    """A static allocation: the same weights on every date."""
    weights = np.array([bench.weights.get(a, 0.0) for a in panel.assets])
    targets = np.broadcast_to(weights, (len(panel.dates), len(weights))).copy()
    return Allocation("benchmark", bench.name, targets, bench.rebalance)


def run_with_config(
    cfg: StrategyConfig,
    allocations: list[Allocation],
    loaded: LoadedPanel,
    *,
    engine: Engine,
    columns: Columns | None = None,
) -> list[RunResult]:
    """:func:`run_allocations` with ``cfg``'s execution, costs, cash, assets and cash rate."""
    return run_allocations(
        allocations,
        loaded,
        execution=cfg.execution,
        costs=cfg.costs,
        initial_cash=cfg.initial_cash,
        engine=engine,
        assets=cfg.assets,
        cash_rate=cfg.constant_cash_rate,
        columns=columns,
    )


def run_config(cfg: StrategyConfig, loaded: LoadedPanel, *, engine: Engine = "rust") -> list[RunResult]:
    """The strategy and each of its benchmarks, simulated together: [strategy, *benchmarks]."""
    allocations = [strategy_allocation(cfg, loaded.panel, loaded.start)]
    allocations += [benchmark_allocation(b, loaded.panel) for b in cfg.benchmarks]
    return run_with_config(cfg, allocations, loaded, engine=engine)


def run_strategy(cfg: StrategyConfig, loaded: LoadedPanel, *, engine: Engine = "rust") -> RunResult:
    """Signals -> rules -> orders -> simulation -> metrics for one config (no benchmarks)."""
    return run_with_config(cfg, [strategy_allocation(cfg, loaded.panel, loaded.start)], loaded, engine=engine)[0]
