"""A strategy's decisions for one or many columns: rules with their state, then risk sizing.

One code path for a run (one column) and a sweep (K columns, parameters as (1, K) rows): the
deciding rule and its valid weights come from :func:`engine.rules.decisions`, sizing from
:func:`engine.sizing.size_targets`; what differs per column (first decision, ``min_hold``,
``cooldown``, the ``sizing:`` values) is a :class:`DecisionKnobs`.  docs/rules.md is the contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.config.models import Sizing, StrategyConfig
from engine.rules import CompiledRules, decisions
from engine.sizing import SizingPlan, size_targets

__all__ = ["COUNTS", "DecisionKnobs", "StrategyDecisions", "decide_columns", "knobs", "sizing_plan"]

#: The decision counts of docs/rules.md, in the order ``metrics.json`` lists them.
COUNTS = ("held", "cooled", "clipped", "unsized")


@dataclass(frozen=True)
class DecisionKnobs:
    """What differs between K columns' decisions."""

    first: np.ndarray  # (K,) row of each column's first decision: its state starts there
    min_hold: np.ndarray  # (K,)
    cooldown: np.ndarray  # (K,)
    sizing: SizingPlan | None
    max_gross: np.ndarray | None = None  # (K,) a margin account's gross limit (NaN: a cash account); None: all cash

    def subset(self, rows: np.ndarray) -> DecisionKnobs:
        """The knobs of columns ``rows``."""
        plan = self.sizing
        if plan is not None:
            plan = SizingPlan(plan.target_vol[rows], plan.window[rows], plan.max_gross[rows], plan.risk, plan.scheme)
        gross = None if self.max_gross is None else self.max_gross[rows]
        return DecisionKnobs(self.first[rows], self.min_hold[rows], self.cooldown[rows], plan, gross)

    @property
    def gross_limit(self) -> np.ndarray:
        """(K,) each column's margin-account gross limit, NaN for a cash account."""
        return np.full(len(self.first), np.nan) if self.max_gross is None else self.max_gross


def sizing_plan(sizings: Sequence[Sizing | None], assets: Sequence[str]) -> SizingPlan | None:
    """One column per entry (all None, or all set with the same shared assets): the ``sizing:`` blocks as arrays."""
    if all(s is None for s in sizings):
        return None
    if any(s is None for s in sizings):
        raise ValueError("sizing must be set for every column or none")
    first = sizings[0]
    assert first is not None
    scheme = "inverse_vol" if first.inverse_vol else ("equal_risk" if first.equal_risk else None)
    return SizingPlan(
        target_vol=np.array([np.nan if s.target_vol is None else s.target_vol for s in sizings if s], dtype=float),
        window=np.array([s.window for s in sizings if s], dtype=np.int64),
        max_gross=np.array([s.max_gross for s in sizings if s], dtype=float),
        risk=np.array([list(assets).index(a) for a in first.risk_assets], dtype=np.int64),
        scheme=scheme,
    )


def knobs(cfg: StrategyConfig, first: int, assets: Sequence[str]) -> DecisionKnobs:
    """The knobs of one config, as one column whose first decision is on row ``first``."""
    one = np.array([first], dtype=np.int64)
    return DecisionKnobs(
        first=one,
        min_hold=np.array([cfg.execution.min_hold], dtype=np.int64),
        cooldown=np.array([cfg.execution.cooldown], dtype=np.int64),
        sizing=sizing_plan([cfg.sizing], assets),
        max_gross=np.array([np.nan if cfg.execution.max_gross is None else cfg.execution.max_gross]),
    )


@dataclass(frozen=True)
class StrategyDecisions:
    """Per date (and column): the deciding rule and the sized targets; per column: the counts."""

    rule: np.ndarray  # (n, K)
    targets: np.ndarray  # (n, K, A)
    counts: dict[str, np.ndarray]  # name in COUNTS -> (K,)

    def column_counts(self, k: int) -> dict[str, int]:
        """Column ``k``'s counts as plain numbers (``metrics.json``'s ``decisions``)."""
        return {name: int(self.counts[name][k]) for name in COUNTS}


def decide_columns(
    compiled: CompiledRules,
    env: Mapping[str, np.ndarray | float],
    n: int,
    k: DecisionKnobs,
    *,
    unit_value: np.ndarray | None = None,
    dates: np.ndarray | None = None,
) -> StrategyDecisions:
    """Decide and size K columns (module docstring); ``env`` as :func:`engine.rules.decisions` takes it,
    with parameters as (1, K) rows or numbers.  ``unit_value`` (n, A) and ``dates`` (n,): for sizing."""
    d = decisions(compiled, env, n, first=k.first, min_hold=k.min_hold, cooldown=k.cooldown, max_gross=k.gross_limit)
    rule = d.rule if d.rule.ndim == 2 else np.broadcast_to(d.rule[:, None], (n, len(k.first)))
    targets = (
        d.targets if d.targets.ndim == 3 else np.broadcast_to(d.targets[:, None], (n, len(k.first), d.targets.shape[1]))
    )
    clipped = np.broadcast_to(d.clipped, (len(k.first),)).copy()
    unsized = np.zeros(len(k.first), dtype=np.int64)
    if k.sizing is not None:
        if unit_value is None or dates is None:
            raise ValueError("sizing needs the unit values and dates")
        targets, unsized, capped = size_targets(targets, unit_value, dates, k.first, k.sizing)
        at = np.broadcast_to(d.clipped_at, capped.shape) | capped  # a date counts once, clipped or capped
        clipped = (at & (np.arange(n)[:, None] >= k.first[None, :])).sum(axis=0).astype(np.int64)
    counts = {
        "held": np.broadcast_to(d.held, (len(k.first),)).copy(),
        "cooled": np.broadcast_to(d.cooled, (len(k.first),)).copy(),
        "clipped": clipped,
        "unsized": unsized,
    }
    return StrategyDecisions(rule=np.ascontiguousarray(rule), targets=np.ascontiguousarray(targets), counts=counts)
