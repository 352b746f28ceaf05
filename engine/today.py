"""``seesaw today``: what a config's rules say on the last date of its data (docs/today.md is the contract).

Pure computation on a loaded panel, with the engine's own machinery and nothing re-implemented:

* the decisions are :func:`engine.pipeline.strategy_allocation`'s (signals, rules with their state,
  sizing); ``as_of`` is the panel's last date;
* the orders are the engine's scheduler (:func:`engine.evaluate.evaluate`) on the panel *extended*
  past ``as_of`` by its markets' next sessions (:func:`extend_panel`, exchange calendars), where no
  event is decided: every leg decided up to ``as_of`` is placed as in a run (lag, closed markets,
  sales before the buys they fund, ``fill``, ``allow_same_bar``); a leg after ``as_of`` is *pending*;
* a comparison's truth value and the rule that would decide with a signal moved are the rules'
  own evaluation (:func:`engine.rules.decisions`, :func:`engine.rules.condition_mask`) on the
  expression tree of :mod:`engine.expr`.

The staleness of each series against a clock is :func:`engine.calendar.session_status`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from engine import expr
from engine.calendar import sessions, union_dates
from engine.config.models import StrategyConfig
from engine.data.panel import LoadedPanel
from engine.evaluate import evaluate, first_decision, market
from engine.execution import BatchPlan, event_mask
from engine.pipeline import Allocation, allocation_columns, strategy_allocation
from engine.rules import CompiledRules, compile_rules, condition_mask, decisions

__all__ = [
    "HORIZON",
    "Comparison",
    "Decision",
    "Leg",
    "RuleState",
    "SignalState",
    "Switch",
    "Today",
    "extend_panel",
    "today",
]

#: Union-timeline dates appended after ``as_of`` (beyond the lag), enough for the longest holidays.
HORIZON = 30
#: Targets that differ by more than this are a change (the order planner's tolerance).
EPS = 1e-12
#: Relative step past a threshold that makes a comparison change its truth value.
STEP = 1e-9
_Env = Mapping[str, np.ndarray | float]


@dataclass(frozen=True)
class Leg:
    """One order of the plan: an asset moved from one target weight to another at one session."""

    asset: str
    market: str
    from_weight: float
    to_weight: float
    decided: dt.date
    session: dt.date | None  # None: its market has no session within the horizon


@dataclass(frozen=True)
class Comparison:
    """One comparison of a ``when:`` or ``until:`` that names a signal, at ``as_of``."""

    rule: int  # counted from 1, as in weights.csv
    part: str  # "when" or "until"
    text: str
    holds: bool
    other: str | None  # the side the signal is compared with
    threshold: float | None  # that side's value (None when it is not a constant)
    distance: float | None  # threshold - value
    relative: float | None  # distance / |value|
    rule_if_flipped: int | None  # the deciding rule with the signal just past the threshold
    reason: str | None  # why distance is None


@dataclass(frozen=True)
class SignalState:
    name: str
    value: float | None
    comparisons: tuple[Comparison, ...]


@dataclass(frozen=True)
class RuleState:
    """A rule at ``as_of``: its conditions and whether it is in force (its latch included)."""

    index: int  # from 1
    label: str
    when: str | None
    until: str | None
    when_holds: bool | None
    until_holds: bool | None
    in_force: bool


@dataclass(frozen=True)
class Decision:
    """The deciding rule at ``as_of`` and why: ``state`` is when, latched, min_hold or otherwise."""

    rule: int  # from 1
    label: str
    state: str
    held: bool  # kept by its until: latch or by execution.min_hold, not by its own when:
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Switch:
    """The last event whose targets differ from the previous event's (or from all cash)."""

    decided: dt.date
    filled: dt.date | None  # the last session its legs filled at; None while one is pending
    rule: int
    from_weights: dict[str, float]
    to_weights: dict[str, float]


@dataclass(frozen=True)
class Today:
    config: str
    as_of: dt.date
    weights: dict[str, float]  # targets of the last filled leg of each traded asset
    next_weights: dict[str, float]  # targets decided on as_of
    actual_weights: dict[str, float]  # end-of-day weights of the simulated account at as_of
    decision: Decision
    rules: tuple[RuleState, ...]
    signals: tuple[SignalState, ...]
    last_switch: Switch | None
    pending: tuple[Leg, ...]
    decided_on_as_of: bool  # an order event is decided on as_of (its orders are pending, or filled with lag 0)
    next_decision: dt.date | None  # the next date after as_of the rebalance calendar decides on (None: no calendar)


def today(cfg: StrategyConfig, loaded: LoadedPanel) -> Today:
    """The state of ``cfg`` on the last date of ``loaded`` (module docstring)."""
    panel = loaded.panel
    n = len(panel.dates)
    alloc = strategy_allocation(cfg, panel, loaded.start)
    plan, dates, actual, scheduled = _future_plan(cfg, loaded, alloc)
    traded = [j for j, a in enumerate(panel.assets) if a in cfg.traded_assets]
    legs = _legs(plan, n, len(panel.assets))
    weights = np.zeros(len(panel.assets))
    for slot, j, target, _ in legs:
        if slot < n * plan.slots_per_date:
            weights[j] = target
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    env: dict[str, np.ndarray | float] = {**(alloc.signals or {}), **cfg.params}
    decide = _decider(cfg, compiled, n, int(first_decision(loaded.start, cfg.execution.lag)))
    rules = _rule_states(cfg, compiled, env, n, decide.first)
    assert alloc.rule is not None
    rule = int(alloc.rule[-1])

    def named(w: np.ndarray) -> dict[str, float]:
        return _with_cash({panel.assets[j]: float(w[j]) for j in traded})

    return Today(
        config=cfg.name,
        as_of=panel.dates[-1].date(),
        weights=named(weights),
        next_weights=named(alloc.targets[-1]),
        actual_weights=named(actual),
        decision=_decision(compiled, rules, rule, decide, env, cfg),
        rules=rules,
        signals=_signal_states(cfg, compiled, env, decide, rule),
        last_switch=_last_switch(plan, dates, n, legs, alloc, named),
        pending=_pending(plan, dates, n, legs, weights, panel.assets, panel.markets, set(traded)),
        decided_on_as_of=bool(plan.events[n - 1, 0]),
        next_decision=None if scheduled is None else dates[scheduled].date(),
    )


def _with_cash(w: dict[str, float]) -> dict[str, float]:
    """The weights, rounding noise below 1e-12 set to 0, and cash: 1 minus their sum."""
    w = {a: 0.0 if abs(x) < EPS else x for a, x in w.items()}
    cash = 1.0 - sum(w.values())
    return {**w, "cash": 0.0 if abs(cash) < EPS else cash}


def extend_panel(loaded: LoadedPanel, rows: int) -> LoadedPanel:
    """``loaded`` with the next ``rows`` dates of its markets' union timeline appended (exchange calendars).

    On an appended date an asset has its last known price where its market has a session, else none;
    the exchange and cash rates keep their last values.  Only the order planner reads these rows.
    """
    panel = loaded.panel
    last = panel.dates[-1]
    first, until = (last + pd.Timedelta(days=1)).date(), (last + pd.Timedelta(days=3 * rows + 30)).date()
    per_market = {m: sessions(m, first, until) for m in sorted(set(panel.markets))}
    future = union_dates(list(per_market.values()))[:rows]
    is_open = np.zeros((len(future), len(panel.assets)), dtype=bool)
    for j, m in enumerate(panel.markets):
        is_open[:, j] = future.isin(per_market[m])
    price = np.where(is_open, panel.known[-1][None, :], np.nan)

    def carried(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else np.concatenate([values, np.full(len(future), values[-1])])

    extended = replace(
        panel,
        dates=pd.DatetimeIndex(panel.dates.append(future), name="date"),
        close=np.ascontiguousarray(np.vstack([panel.close, price])),
        open=None if panel.open is None else np.ascontiguousarray(np.vstack([panel.open, price])),
        usdhkd=carried(panel.usdhkd),
        cash_rate=carried(panel.cash_rate),
    )
    return replace(loaded, panel=extended)


def _future_plan(
    cfg: StrategyConfig, loaded: LoadedPanel, alloc: Allocation
) -> tuple[BatchPlan, pd.DatetimeIndex, np.ndarray, int | None]:
    """The strategy's order plan on the extended panel (no event after ``as_of``), its dates, the
    simulated account's end-of-day weights at ``as_of``, and the first extended row after it on which the
    rebalance calendar decides with the targets held (a week's or month's last date, the next date with
    ``daily``; None with ``on_change`` and a band without ``every``, which decide on a change or a drift only)."""
    n = len(loaded.panel.dates)
    ext = extend_panel(loaded, HORIZON + cfg.execution.lag)
    rows = len(ext.panel.dates) - n
    targets = np.vstack([alloc.targets, np.repeat(alloc.targets[-1:], rows, axis=0)])
    mk = market(ext, assets=cfg.assets, cash_rate=cfg.constant_cash_rate, fill=cfg.execution.fill)
    cols = allocation_columns([replace(alloc, targets=targets)], mk, cfg.execution, cfg.costs)
    events = event_mask(ext.panel.dates, cols.targets, cols.first_decision, cols.rebalance)
    later = np.flatnonzero(events[n:, 0])
    events[n:] = False
    ev = evaluate(mk, replace(cols, events=events), init_cash=cfg.initial_cash, engine=None)
    row = n - 1 - loaded.start
    units = ev.units[row, : len(loaded.panel.assets)]
    held = np.where(units == 0.0, 0.0, units * mk.val.known[n - 1])
    scheduled = n + int(later[0]) if len(later) else None
    return ev.plan, ext.panel.dates, np.round(held / ev.value[row, 0], 12), scheduled


def _legs(plan: BatchPlan, n: int, a: int) -> list[tuple[int, int, float, int]]:
    """(slot, asset, target, decision row) of every leg decided on or before ``as_of`` (row n-1), by slot.

    A leg whose market never opens within the horizon is in ``plan.unfilled`` instead (:func:`_pending`)."""
    out = [
        (int(s), int(c) % a, float(t), int(d))
        for s, c, t, d in zip(plan.leg_slot, plan.leg_column, plan.leg_target, plan.leg_decision, strict=True)
        if d < n
    ]
    return sorted(out)


def _pending(
    plan: BatchPlan,
    dates: pd.DatetimeIndex,
    n: int,
    legs: list[tuple[int, int, float, int]],
    weights: np.ndarray,
    assets: tuple[str, ...],
    markets: tuple[str, ...],
    traded: set[int],
) -> tuple[Leg, ...]:
    """The legs decided on or before ``as_of`` that fill after it, each from the target before it."""
    m = plan.slots_per_date
    later = [(slot, j, t, d, dates[slot // m].date()) for slot, j, t, d in legs if slot >= n * m]
    later += [(np.iinfo(np.int64).max, j, float(plan.targets[d, 0, j]), d, None) for _, d, j in plan.unfilled if d < n]
    current = weights.copy()
    out = []
    for _, j, target, d, session in sorted(later, key=lambda x: x[0]):
        before, current[j] = float(current[j]), target
        if j in traded and (abs(before) > EPS or abs(target) > EPS):
            out.append(Leg(assets[j], markets[j], before, target, dates[d].date(), session))
    return tuple(out)


def _last_switch(
    plan: BatchPlan,
    dates: pd.DatetimeIndex,
    n: int,
    legs: list[tuple[int, int, float, int]],
    alloc: Allocation,
    named: Callable[[np.ndarray], dict[str, float]],
) -> Switch | None:
    """The last event up to ``as_of`` whose targets differ from the previous event's (all cash before the first)."""
    rows = np.flatnonzero(plan.events[:n, 0])
    if not len(rows):
        return None
    targets = plan.targets[rows, 0]
    before = np.vstack([np.zeros((1, targets.shape[1])), targets[:-1]])
    changed = np.flatnonzero(np.any(np.abs(targets - before) > EPS, axis=1))
    if not len(changed):
        return None
    i = int(changed[-1])
    row = int(rows[i])
    m = plan.slots_per_date
    slots = [slot for slot, _, _, d in legs if d == row]
    unfilled = any(d == row for _, d, _ in plan.unfilled)
    filled = None if unfilled or not slots or max(slots) >= n * m else dates[max(slots) // m].date()
    assert alloc.rule is not None
    return Switch(dates[row].date(), filled, int(alloc.rule[row]) + 1, named(before[i]), named(targets[i]))


@dataclass(frozen=True)
class _Decider:
    """The deciding rule (from 0) on ``as_of`` for an environment, with the config's state knobs or others."""

    compiled: CompiledRules
    n: int
    first: int
    knobs: dict[str, Any]  # min_hold, cooldown, max_gross

    def __call__(self, env: _Env, **override: int) -> int:
        d = decisions(self.compiled, env, self.n, first=self.first, **{**self.knobs, **override})
        return int(np.asarray(d.rule).reshape(self.n, -1)[-1, 0])


def _decider(cfg: StrategyConfig, compiled: CompiledRules, n: int, first: int) -> _Decider:
    ex = cfg.execution
    gross = np.nan if ex.max_gross is None else float(ex.max_gross)
    return _Decider(compiled, n, first, {"min_hold": ex.min_hold, "cooldown": ex.cooldown, "max_gross": gross})


def _last(values: np.ndarray | float) -> float:
    """The value on the last row of an (n,) or (n, 1) array, or the number itself."""
    arr = np.asarray(values, dtype=np.float64)
    return float(arr.reshape(-1)[-1]) if arr.ndim else float(arr)


def _rule_states(cfg: StrategyConfig, compiled: CompiledRules, env: _Env, n: int, first: int) -> tuple[RuleState, ...]:
    """Each rule at ``as_of``; in force is the engine's latch, computed by deciding it alone (no hold, no cooling)."""
    out = []
    for i, (cond, exit_) in enumerate(zip(compiled.conditions, compiled.exits, strict=True)):
        rule = cfg.rules[i]
        when = None if cond is None else bool(_last(condition_mask(cond, env)))
        until = None if exit_ is None else bool(_last(condition_mask(exit_, env)))
        if cond is None:
            in_force = True
        else:
            alone = CompiledRules(
                conditions=(cond, None),
                exits=(exit_, None),
                weights=(compiled.weights[i], compiled.weights[-1]),
                labels=(compiled.labels[i], "otherwise"),
            )
            in_force = int(np.asarray(decisions(alone, env, n, first=first).rule).reshape(n, -1)[-1, 0]) == 0
        out.append(RuleState(i + 1, compiled.labels[i], rule.when, rule.until, when, until, in_force))
    return tuple(out)


def _decision(
    compiled: CompiledRules,
    rules: tuple[RuleState, ...],
    rule: int,
    decide: _Decider,
    env: _Env,
    cfg: StrategyConfig,
) -> Decision:
    """Why rule ``rule`` (from 0) decides on ``as_of``: its own condition, its latch, the minimum hold, cooling."""
    state = rules[rule]
    above = ", ".join(str(r.index) for r in rules[:rule] if r.in_force)
    without_hold, without_cooling = decide(env, min_hold=0), decide(env, cooldown=0)
    if compiled.conditions[rule] is None:
        kind, why = "otherwise", f"in force above it: rule {above}" if above else "no rule above is in force"
    elif state.when_holds:
        kind, why = "when", "its when: holds"
    elif state.in_force:
        kind, why = "latched", "its when: held when it was entered and its until: has not held since"
    else:
        kind, why = "min_hold", "it is not in force"
    reasons = [why]
    if without_hold != rule:
        kind = "min_hold"
        hold = cfg.execution.min_hold
        reasons.append(f"execution.min_hold ({hold} dates) keeps it; rule {without_hold + 1} would decide without it")
    if without_cooling != rule:
        reasons.append(f"rule {without_cooling + 1} is cooling (execution.cooldown: {cfg.execution.cooldown} dates)")
    elif without_hold == rule and (without_both := decide(env, min_hold=0, cooldown=0)) != rule:
        kind = "min_hold"  # each keeps it when the other is gone: a rule held while the one it left cools
        reasons.append(
            f"execution.min_hold ({cfg.execution.min_hold} dates) and execution.cooldown ({cfg.execution.cooldown} "
            f"dates) together keep it; rule {without_both + 1} would decide without both"
        )
    return Decision(rule + 1, compiled.labels[rule], kind, kind in ("latched", "min_hold"), tuple(reasons))


def _atoms(tree: expr.Expr) -> Iterator[expr.Expr]:
    """The comparisons and ``crosses_*`` calls of a condition, left to right."""
    match tree:
        case expr.Compare():
            yield tree
        case expr.Call(func=func) if func.startswith("crosses_"):
            yield tree
        case expr.BoolOp(operands=items):
            for item in items:
                yield from _atoms(item)
        case expr.Not(operand=x):
            yield from _atoms(x)


def _signal_states(
    cfg: StrategyConfig, compiled: CompiledRules, env: _Env, decide: _Decider, rule: int
) -> tuple[SignalState, ...]:
    """Every signal the rules read, its value at ``as_of`` and each comparison of a when:/until: naming it."""
    trees = [t for pair in zip(compiled.conditions, compiled.exits, strict=True) for t in pair if t is not None]
    weights = [w for row in compiled.weights for w in row if isinstance(w, expr.Expr)]
    read = frozenset().union(*(expr.names(t) for t in [*trees, *weights]))
    signals = [name for name in cfg.signals if name in read]
    out = []
    for name in signals:
        value = _last(env[name])
        comps = []
        for i, (cond, exit_) in enumerate(zip(compiled.conditions, compiled.exits, strict=True)):
            for part, tree in (("when", cond), ("until", exit_)):
                for atom in [] if tree is None else _atoms(tree):
                    if name in expr.names(atom):
                        comps.append(_comparison(atom, name, value, i + 1, part, env, decide, set(signals)))
        out.append(SignalState(name, None if np.isnan(value) else value, tuple(comps)))
    return tuple(out)


def _comparison(
    atom: expr.Expr,
    name: str,
    value: float,
    rule: int,
    part: str,
    env: _Env,
    decide: _Decider,
    signals: set[str],
) -> Comparison:
    """One comparison with the distance of ``name`` from its threshold, and the rule deciding just past it."""
    holds = bool(_last(condition_mask(atom, env)))
    text = expr.to_text(atom)
    blank = Comparison(rule, part, text, holds, None, None, None, None, None, None)
    if not isinstance(atom, expr.Compare):
        return replace(blank, reason="a crossing also depends on the previous date's values")
    sig = expr.Name(name)
    if atom.left == sig and name not in expr.names(atom.right):
        other = atom.right
    elif atom.right == sig and name not in expr.names(atom.left):
        other = atom.left
    else:
        return replace(blank, reason=f"{name} is not alone on one side of the comparison")
    moving = sorted(expr.names(other) & signals)
    if moving:
        return replace(
            blank,
            other=expr.to_text(other),
            reason=f"compared with {'signal' if len(moving) == 1 else 'signals'} {', '.join(moving)}",
        )
    threshold = _last(expr.evaluate(other, env))
    if np.isnan(value):
        return replace(blank, other=expr.to_text(other), threshold=threshold, reason=f"{name} has no value (warm-up)")
    distance = threshold - value
    relative = distance / abs(value) if value != 0.0 else None
    flipped = _flipped(atom, name, threshold, holds, env, decide)
    return replace(
        blank, other=expr.to_text(other), threshold=threshold, distance=distance, relative=relative,
        rule_if_flipped=flipped,
    )  # fmt: skip


def _flipped(atom: expr.Expr, name: str, threshold: float, holds: bool, env: _Env, decide: _Decider) -> int | None:
    """The deciding rule (from 1) with signal ``name`` on ``as_of`` set at ``threshold`` or just past it,
    whichever first changes the comparison's truth value (other signals and earlier dates unchanged)."""
    step = STEP * max(1.0, abs(threshold))
    for candidate in (threshold, threshold + step, threshold - step):
        trial = dict(env)
        values = np.array(env[name], dtype=np.float64, copy=True)
        values.reshape(-1)[-1] = candidate
        trial[name] = values
        if bool(_last(condition_mask(atom, trial))) != holds:
            return decide(trial) + 1
    return None
