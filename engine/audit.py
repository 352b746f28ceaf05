"""A look-ahead audit of a config as written: nothing known at a moment may change when later data changes.

Information time.  Every date t has two closes, Hong Kong's (08:00 UTC) before New York's (21:00 UTC).
A *cut* is one of those moments, (t, market).  What is observed at or after the cut is replaced:

* **noise**: every close at or after the cut (a Hong Kong cut of t: Hong Kong's and New York's closes
  of t onwards; a New York cut of t: New York's closes of t onwards and Hong Kong's of t+1 onwards;
  the exchange rate and the cash rate from t on, and every open from the cut's own session on) is
  multiplied by a random walk, so prices after the cut are noise;
* **truncated** (New York cuts only): the data ends at t.

Then every signal, the rules' decisions and the order legs are recomputed, and must be what they were:

* a signal's value and each rule's ``when:`` (and ``until:``) on every date before t, and on t itself
  for a truncated cut (all of t is known after New York's close);
* the deciding rule and its target weights on the same dates;
* every order leg (slot, asset, target weight) at a slot up to and including the cut's.

And, once, on the data as it is: every order leg fills at a close after the last close of the date its
decision was taken on (a leg filling at the close its decision used, as ``allow_same_bar`` allows, fails).

:func:`audit` runs this at ``cuts`` dates spread over the decision dates, both markets each, and a
*planted control*: the same config with one signal shifted one date into the future (its value on t is
its value on t+1), which the audit must catch, so a user sees that it can fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from engine import expr
from engine.calendar import market_rank
from engine.config.models import StrategyConfig
from engine.data.panel import LoadedPanel, PricePanel
from engine.evaluate import Market, evaluate, market
from engine.execution import BatchPlan
from engine.pipeline import allocation_columns, strategy_allocation
from engine.rules import CompiledRules, compile_rules, condition_mask
from engine.signals import compute_signals

__all__ = ["CUTS", "Audit", "Check", "Cut", "audit", "cut_rows"]

#: Dates audited by default; each is cut at both markets' closes.
CUTS = 8
_SEED = 20_250_314
_NOISE = 0.05  # daily volatility of the random walk that replaces prices after a cut


@dataclass(frozen=True)
class Cut:
    """A moment of information time: after the close of ``market`` on row ``row``, or the data ending there."""

    row: int
    market: str  # "hk" or "us"
    kind: str  # "noise", "truncated", or "as is" (a check of the data as it is)


@dataclass
class Check:
    """One audited item (a signal, a rule, the decisions or the orders) and the first change found."""

    kind: str  # "signal", "rule", "decision", "orders", "timing"
    name: str
    failed_at: Cut | None = None
    row: int | None = None  # the first row whose value changed

    @property
    def passed(self) -> bool:
        return self.failed_at is None


@dataclass(frozen=True)
class Audit:
    """The audit of one config: its checks, the cuts tried, and the planted control's outcome."""

    config: str
    dates: list
    cuts: list[Cut]
    checks: list[Check]
    control_signal: str | None = None
    control: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def control_caught(self) -> bool | None:
        """Whether the planted control failed the audit (None: the config has no signal a rule reads)."""
        return None if self.control_signal is None else not all(c.passed for c in self.control)


Tamper = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


@dataclass(frozen=True)
class _Trace:
    """Everything the audit compares, from one panel."""

    signals: dict[str, np.ndarray]
    rules: dict[str, np.ndarray]  # each rule's when: (and until:) mask, (n,)
    rule: np.ndarray  # (n,) the deciding rule
    targets: np.ndarray  # (n, A)
    legs: np.ndarray  # (L, 3): slot, asset, target of every leg, sorted
    same_close: tuple[int, int] | None  # (decision row, slot) of the first leg filling at its decision's close


def cut_rows(first: int, n: int, cuts: int = CUTS) -> list[int]:
    """``cuts`` rows spread evenly from the first simulated row to the second-last row (fewer if there are
    fewer)."""
    if n - 1 <= first:
        return []
    return sorted({round(float(x)) for x in np.linspace(first, n - 2, cuts)})


def audit(cfg: StrategyConfig, loaded: LoadedPanel, *, cuts: int = CUTS, control: bool = True) -> Audit:
    """Audit ``cfg`` on ``loaded`` (module docstring)."""
    panel = loaded.panel
    rows = cut_rows(loaded.start, len(panel.dates), cuts)
    closes = list(market_rank(list(panel.markets)))  # the panel's markets in closing order
    plan = [Cut(r, mk, "noise") for r in rows for mk in closes] + [Cut(r, closes[-1], "truncated") for r in rows]
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    checks = _audit_cuts(cfg, compiled, loaded, plan, None)
    out = Audit(cfg.name, list(panel.dates), plan, checks)
    used = _signals_rules_read(cfg, compiled)
    if not control or not used:
        return out
    name = used[0]

    def shifted(signals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:  # the planted control
        future = np.append(signals[name][1:], np.nan)
        return {**signals, name: future}

    return replace(out, control_signal=name, control=_audit_cuts(cfg, compiled, loaded, plan, shifted))


def _audit_cuts(
    cfg: StrategyConfig, compiled: CompiledRules, loaded: LoadedPanel, plan: list[Cut], tamper: Tamper | None
) -> list[Check]:
    """The checks of every signal, rule, the decisions and the orders over the cuts ``plan``."""
    base = _trace(cfg, compiled, loaded, tamper)
    checks = [Check("signal", s) for s in base.signals]
    checks += [Check("rule", r) for r in base.rules]
    checks += [Check("decision", "deciding rule and weights"), Check("orders", "legs up to each cut")]
    timing = Check("timing", "orders fill after their decision's close")
    if base.same_close is not None:
        decided, slot = base.same_close
        timing.failed_at, timing.row = Cut(decided, _market_of(slot, loaded.panel), "as is"), decided
    checks.append(timing)
    rng = np.random.default_rng(_SEED)
    ranks = market_rank(list(loaded.panel.markets))
    for cut in plan:
        other = _trace(cfg, compiled, _after(loaded, cut, rng), tamper)
        known = cut.row + 1 if cut.kind == "truncated" else cut.row  # rows decided before the cut
        slot = cut.row * len(ranks) + ranks[cut.market]  # the cut's close (engine.execution's slots)
        for c in checks:
            if c.passed:
                row = _first_change(c, base, other, known, slot, len(ranks))
                if row is not None:
                    c.failed_at, c.row = cut, row
    return checks


def _first_change(c: Check, base: _Trace, other: _Trace, known: int, slot: int, m: int) -> int | None:
    """The first row (< ``known``; for the orders, of a leg at a slot up to ``slot``, ``m`` slots a row)
    where ``c``'s item differs between the two traces, or None."""
    if c.kind == "orders":
        mine, theirs = base.legs[base.legs[:, 0] <= slot], other.legs[other.legs[:, 0] <= slot]
        if mine.shape == theirs.shape and np.allclose(mine, theirs, rtol=1e-9, atol=1e-12):
            return None
        return _first_bad_leg(mine, theirs) // m
    if c.kind == "signal":
        a, b = base.signals[c.name][:known], other.signals[c.name][:known]
    elif c.kind == "rule":
        a, b = base.rules[c.name][:known], other.rules[c.name][:known]
    else:
        a = np.column_stack([base.rule[:known], base.targets[:known]])
        b = np.column_stack([other.rule[:known], other.targets[:known]])
    same = np.asarray((a == b) | (np.isnan(a) & np.isnan(b)) | np.isclose(a, b, rtol=1e-9, atol=1e-12))
    if same.ndim == 2:
        same = np.asarray(same.all(axis=1))
    bad = np.flatnonzero(~same)
    return int(bad[0]) if len(bad) else None


def _first_bad_leg(mine: np.ndarray, theirs: np.ndarray) -> int:
    """The slot of the first leg that differs (or exists on one side only), as a row of the panel's slots."""
    k = min(len(mine), len(theirs))
    for i in range(k):
        if not np.allclose(mine[i], theirs[i], rtol=1e-9, atol=1e-12):
            return int(min(mine[i, 0], theirs[i, 0]))
    rest = mine[k:] if len(mine) > k else theirs[k:]
    return int(rest[0, 0])


def _trace(cfg: StrategyConfig, compiled: CompiledRules, loaded: LoadedPanel, tamper: Tamper | None) -> _Trace:
    """Signals, rule masks, decisions and order legs of ``cfg`` (its rules ``compiled``) on ``loaded``."""
    panel = loaded.panel
    given = None if tamper is None else tamper(compute_signals(cfg.resolved_signals, panel.signal_inputs()))
    alloc = strategy_allocation(cfg, panel, loaded.start, signals=given)
    signals = dict(alloc.signals or {})
    env = {**signals, **cfg.params}
    masks: dict[str, np.ndarray] = {}
    for i, (cond, exit_) in enumerate(zip(compiled.conditions, compiled.exits, strict=True)):
        if cond is not None:
            masks[f"rules[{i}].when"] = _mask(condition_mask(cond, env), len(panel.dates))
        if exit_ is not None:
            masks[f"rules[{i}].until"] = _mask(condition_mask(exit_, env), len(panel.dates))
    mk = market(loaded, assets=cfg.assets, cash_rate=cfg.constant_cash_rate, fill=cfg.execution.fill)
    cols = allocation_columns([alloc], mk, cfg.execution, cfg.costs)
    plan = evaluate(mk, cols, init_cash=cfg.initial_cash, engine=None).plan
    legs = np.column_stack([plan.leg_slot, plan.leg_column, plan.leg_target]).astype(np.float64)
    legs = legs[np.lexsort((legs[:, 1], legs[:, 0]))]
    rule = np.asarray(alloc.rule, dtype=np.float64)
    return _Trace(signals, masks, rule, np.asarray(alloc.targets, dtype=np.float64), legs, _same_close(plan, mk))


def _same_close(plan: BatchPlan, mk: Market) -> tuple[int, int] | None:
    """(decision row, slot) of the first leg (by slot) filling at or before the last close of its decision date."""
    if not len(plan.leg_slot):
        return None
    m = mk.slots_per_date
    early = np.flatnonzero(plan.leg_slot <= plan.leg_decision * m + m - 1)
    if not len(early):
        return None
    i = early[np.argmin(plan.leg_slot[early])]
    return int(plan.leg_decision[i]), int(plan.leg_slot[i])


def _market_of(slot: int, panel: PricePanel) -> str:
    """The market whose close a slot is."""
    ranks = market_rank(list(panel.markets))
    return next(mk for mk, r in ranks.items() if r == slot % len(ranks))


def _mask(x: np.ndarray | bool, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(x, dtype=np.float64), (n,)).copy()


def _signals_rules_read(cfg: StrategyConfig, compiled: CompiledRules) -> list[str]:
    """The signals some rule's ``when:``, ``until:`` or weight expression names, in config order."""
    trees = [*compiled.conditions, *compiled.exits, *(w for row in compiled.weights for w in row)]
    names = frozenset().union(*(expr.names(t) for t in trees if isinstance(t, expr.Expr)))
    return [s for s in cfg.signals if s in names]


def _after(loaded: LoadedPanel, cut: Cut, rng: np.random.Generator) -> LoadedPanel:
    """``loaded`` with what is observed at or after ``cut`` replaced (module docstring)."""
    panel = loaded.panel
    if cut.kind == "truncated":
        return replace(loaded, panel=panel.slice(0, cut.row + 1))
    n = len(panel.dates)
    close = panel.close.copy()
    opens = None if panel.open is None else panel.open.copy()
    order = market_rank(list(panel.markets))
    for j, mk in enumerate(panel.markets):
        first = cut.row if order[mk] >= order[cut.market] else cut.row + 1  # closes at or after the cut
        walk = np.exp(np.cumsum(rng.normal(0.0, _NOISE, n - first)))
        close[first:, j] *= walk
        if opens is not None:
            opens[first:, j] *= walk
    usdhkd, cash_rate = (_jitter(a, cut.row, rng) for a in (panel.usdhkd, panel.cash_rate))
    noisy = replace(panel, close=close, open=opens, usdhkd=usdhkd, cash_rate=cash_rate)
    return replace(loaded, panel=noisy)


def _jitter(arr: np.ndarray | None, row: int, rng: np.random.Generator) -> np.ndarray | None:
    """A daily series (exchange rate, cash rate) with its values from ``row`` on moved by noise."""
    if arr is None:
        return None
    out = arr.copy()
    out[row:] *= np.exp(rng.normal(0.0, 0.001, len(out) - row))
    return out
