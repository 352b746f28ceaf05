"""First-match rules: from signals to target weights on every decision date.

Rules are evaluated top to bottom on every date; the first whose ``when:``
holds decides the weights, and ``otherwise`` (always last) applies when none
does.  A ``when:`` is false on every date where any signal it names is NaN
(still warming up, or undefined), so during warm-up the ``otherwise``
weights apply.  (Inside the expression language a comparison with NaN is
false, so ``not corr < 0.2`` alone would be *true*; this mask is what makes
"warming up means otherwise" hold for every expression.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine import expr
from engine.config.models import Rule

__all__ = ["CompiledRules", "compile_rules", "condition_mask", "decide"]


@dataclass(frozen=True)
class CompiledRules:
    """Parsed conditions (None for ``otherwise``) and one target-weight row per rule."""

    conditions: tuple[expr.Expr | None, ...]
    targets: np.ndarray  # (n_rules, n_assets)
    labels: tuple[str, ...]


def compile_rules(rules: Sequence[Rule], assets: Sequence[str], signal_names: Sequence[str]) -> CompiledRules:
    """Parse every ``when:`` and lay the weights out in asset order."""
    conditions = tuple(
        None if r.when is None else expr.parse_condition(r.when, known=list(signal_names)) for r in rules
    )
    targets = np.array([[r.target.get(a, 0.0) for a in assets] for r in rules], dtype="float64")
    labels = tuple("otherwise" if c is None else expr.to_text(c) for c in conditions)
    return CompiledRules(conditions=conditions, targets=targets, labels=labels)


def condition_mask(cond: expr.Expr, signals: Mapping[str, np.ndarray]) -> np.ndarray:
    """Where ``cond`` holds: its value, and false wherever a signal it names is NaN (module docstring)."""
    ok = np.asarray(expr.evaluate(cond, signals), dtype=bool).copy()
    for name in expr.names(cond):
        value = signals[name]
        if isinstance(value, np.ndarray):
            ok &= ~np.isnan(value)
    return ok


def decide(compiled: CompiledRules, signals: Mapping[str, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of the matching rule per date, target weights per date x asset)."""
    matches = np.empty((len(compiled.conditions), n), dtype=bool)
    for i, cond in enumerate(compiled.conditions):
        matches[i] = True if cond is None else condition_mask(cond, signals)
    rule_index = np.argmax(matches, axis=0)
    return rule_index, compiled.targets[rule_index]
