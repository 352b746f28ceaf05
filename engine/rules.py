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

__all__ = ["CompiledRules", "compile_rules", "condition_mask", "decide", "match"]


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


def condition_mask(cond: expr.Expr, signals: Mapping[str, np.ndarray | float]) -> np.ndarray:
    """Where ``cond`` holds: its value, and false wherever a signal it names is NaN (module docstring).

    Parameters (numbers, or (1, K) rows of a sweep) are never NaN; a NaN signal masks every column.
    """
    ok = np.asarray(expr.evaluate(cond, signals), dtype=bool)
    for name in expr.names(cond):
        value = signals[name]
        if isinstance(value, np.ndarray):
            ok = ok & ~np.isnan(value)
    return ok


def decide(compiled: CompiledRules, env: Mapping[str, np.ndarray | float], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (index of the matching rule, target weights) per date, or per date and column.

    ``env`` maps signal names to (n,) arrays and parameter names to numbers, or, for K parameter
    columns at once (a sweep), to (1, K) arrays; signals may also be (n, 1) or (n, K).  The result
    is (n,) and (n, A) when everything is one column, else (n, K) and (n, K, A).
    """
    rule_index = match(compiled, env, n)
    return rule_index, np.take(compiled.targets, rule_index, axis=0)


def match(compiled: CompiledRules, env: Mapping[str, np.ndarray | float], n: int) -> np.ndarray:
    """The index of the first matching rule per date, or per date and column (see :func:`decide`)."""
    shapes = [np.shape(v) for v in env.values()]
    columns = max((s[1] for s in shapes if len(s) == 2), default=None)
    shape = (n,) if columns is None else (n, columns)
    # First match: walk the rules from the last (always ``otherwise``) up, each overwriting where it holds.
    rule_index = np.full(shape, len(compiled.conditions) - 1, dtype=np.int64)
    if compiled.conditions and compiled.conditions[-1] is not None:  # not from a checked config: no fallback
        rule_index[...] = len(compiled.conditions)
    for i in range(len(compiled.conditions) - 1, -1, -1):
        cond = compiled.conditions[i]
        if cond is None:
            rule_index[...] = i
        else:
            rule_index[np.broadcast_to(condition_mask(cond, env), shape)] = i
    if compiled.conditions and compiled.conditions[-1] is not None:
        rule_index[rule_index == len(compiled.conditions)] = 0  # as argmax of no match: the first rule
    return rule_index
