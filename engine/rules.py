"""Rules: from signals to target weights on every decision date (docs/rules.md is the contract).

Rules are evaluated top to bottom on every date; the first rule *in force* decides, and
``otherwise`` (always last) applies when none is.  A rule is in force where its ``when:`` holds, or,
with ``until:``, from a date its ``when:`` holds until its ``until:`` holds (a latch).  A ``when:``
or ``until:`` is false on every date where any signal it names is NaN (still warming up, or
undefined), and a rule is not in force where a signal one of its weight expressions names is NaN;
so during warm-up the ``otherwise`` weights apply.  (Inside the expression language a comparison
with NaN is false, so ``not corr < 0.2`` alone would be *true*; this mask is what makes "warming
up means otherwise" hold for every expression.)  ``execution.min_hold`` keeps a rule deciding for
at least that many dates once it began, ``execution.cooldown`` keeps a rule that stopped deciding
from deciding again for that many dates; that state starts fresh on the first decision date, in
the compiled kernel of :mod:`engine.rules_nb`.  The deciding rule's weights (numbers, expressions,
``rest``) are then made valid: clipped to [0, 1], scaled to sum at most 1 (:func:`valid_weights`); in
a margin account (docs/shorts.md) clipped to [-G, G] and scaled to a gross of at most G.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine import expr
from engine.config.models import Rule
from engine.config.values import REST, WEIGHT_TOLERANCE
from engine.expr_eval import Order

__all__ = [
    "CompiledRules",
    "Decisions",
    "compile_rules",
    "condition_mask",
    "decide",
    "deciding_rules",
    "decisions",
    "valid_weights",
]

Weight = float | expr.Expr | None  # a number, an expression, or None for ``rest``


@dataclass(frozen=True)
class CompiledRules:
    """Parsed conditions (None for ``otherwise``), exits (None without ``until:``) and weights per rule."""

    conditions: tuple[expr.Expr | None, ...]
    exits: tuple[expr.Expr | None, ...]
    weights: tuple[tuple[Weight, ...], ...]  # (n_rules, n_assets); 0.0 for an asset the rule does not name
    labels: tuple[str, ...]

    @property
    def targets(self) -> np.ndarray:
        """(n_rules, n_assets) constant target weights (NaN where a weight is an expression or ``rest``)."""
        return np.array([[w if isinstance(w, float) else np.nan for w in row] for row in self.weights])

    @property
    def constant(self) -> bool:
        """Whether every weight is a number (then the targets are one row per rule)."""
        return all(isinstance(w, float) for row in self.weights for w in row)

    @property
    def stateful(self) -> bool:
        """Whether a rule has ``until:`` (the first match then depends on earlier dates)."""
        return any(e is not None for e in self.exits)


def compile_rules(rules: Sequence[Rule], assets: Sequence[str], signal_names: Sequence[str]) -> CompiledRules:
    """Parse every ``when:``, ``until:`` and weight expression, and lay the weights out in asset order."""
    known = list(signal_names)
    conditions = tuple(None if r.when is None else expr.parse_condition(r.when, known=known) for r in rules)
    exits = tuple(None if r.until is None else expr.parse_condition(r.until, known=known) for r in rules)

    def weight(value: float | str | None) -> Weight:
        if value is None:
            return 0.0
        if value == REST:
            return None
        if isinstance(value, str):
            return expr.parse_number(value, known=known)
        return float(value)

    weights = tuple(tuple(weight(r.target.get(a)) for a in assets) for r in rules)
    labels = tuple(
        "otherwise" if c is None else expr.to_text(c) + ("" if e is None else " until " + expr.to_text(e))
        for c, e in zip(conditions, exits, strict=True)
    )
    return CompiledRules(conditions=conditions, exits=exits, weights=weights, labels=labels)


def condition_mask(cond: expr.Expr, signals: Mapping[str, np.ndarray | float], *, order: Order = "K") -> np.ndarray:
    """Where ``cond`` holds: its value, and false wherever a signal it names is NaN (module docstring).

    Parameters (numbers, or (1, K) rows of a sweep) are never NaN; a NaN signal masks every column.
    ``order``: the memory layout of the arrays computed (:func:`engine.expr_eval.evaluate`).
    """
    ok = np.asarray(expr.evaluate(cond, signals, order=order), dtype=bool)
    return np.logical_and(ok, _known_mask(expr.names(cond), signals, order=order), order=order)


def _known_mask(
    names: frozenset[str], signals: Mapping[str, np.ndarray | float], *, order: Order = "K"
) -> np.ndarray | bool:
    """False wherever one of the signals ``names`` is NaN (True when none is an array); ``order``: the layout
    of a mask broadcast from several arrays.  An array without a NaN (a sweep's (1, K) parameters) adds
    nothing and is left out: a (dates, 1) signal's mask is not broadcast to (dates, K) for it."""
    ok: np.ndarray | bool = True
    for name in names:
        value = signals[name]
        if isinstance(value, np.ndarray):
            unknown = np.isnan(value)
            if unknown.any():
                ok = np.logical_and(ok, ~unknown, order=order)
    return ok


@dataclass(frozen=True)
class Decisions:
    """The rule that decided on each date, the targets it set, and what the state and clipping did.

    ``rule`` is (n,) and ``targets`` (n, A) for one column, else (n, K) and (n, K, A); the counts are
    (K,) over the dates from each column's first decision on (docs/rules.md).
    """

    rule: np.ndarray
    targets: np.ndarray
    held: np.ndarray
    cooled: np.ndarray
    clipped: np.ndarray
    clipped_at: np.ndarray  # (n, K) bool: the dates whose weights were clipped or scaled


def _columns(env: Mapping[str, np.ndarray | float], *per_column: np.ndarray | int) -> int | None:
    """K when ``env`` holds (·, K) arrays or a knob has K values; None for one column of plain arrays."""
    sizes = [np.shape(v)[1] for v in env.values() if np.ndim(v) == 2] + [np.size(x) for x in per_column]
    k = max(sizes, default=1)
    return k if k > 1 or any(np.ndim(v) == 2 for v in env.values()) else None


def _as_columns(x: np.ndarray | float | bool, n: int, k: int) -> np.ndarray:
    """(n, K): a number, an (n,) array of dates or a (1, K) / (n, 1) / (n, K) array, broadcast."""
    x = np.asarray(x)
    return np.broadcast_to(x[:, None] if x.ndim == 1 else x, (n, k))


def decisions(
    compiled: CompiledRules,
    env: Mapping[str, np.ndarray | float],
    n: int,
    *,
    first: np.ndarray | int = 0,
    min_hold: np.ndarray | int = 0,
    cooldown: np.ndarray | int = 0,
    max_gross: np.ndarray | float = np.nan,
) -> Decisions:
    """Decide on every date (module docstring): ``env`` maps signal names to (n,) arrays and parameter
    names to numbers, or, for K parameter columns at once (a sweep), to (1, K) arrays; signals may also
    be (n, 1) or (n, K).  ``first``, ``min_hold``, ``cooldown``: a number or one per column;
    ``max_gross``: a margin account's gross limit, a number or one per column (NaN: a cash account)."""
    columns = _columns(env, first, min_hold, cooldown, np.asarray(max_gross))
    k = columns or 1
    gross = np.broadcast_to(np.asarray(max_gross, dtype=np.float64), (k,))
    rule, held, cooled = deciding_rules(compiled, env, n, k, first=first, min_hold=min_hold, cooldown=cooldown)
    return _decided(compiled, env, rule, np.broadcast_to(np.asarray(first), (k,)), held, cooled, columns, gross)


def deciding_rules(
    compiled: CompiledRules,
    env: Mapping[str, np.ndarray | float],
    n: int,
    k: int,
    *,
    first: np.ndarray | int = 0,
    min_hold: np.ndarray | int = 0,
    cooldown: np.ndarray | int = 0,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rule (n, K), held (K,), cooled (K,)): the rule that decides on every date of K columns, before its
    weights are taken (:func:`decisions`, which a sweep of rules whose weights are numbers skips: it hands
    the rules on, :class:`engine.rule_targets.RuleTargets`).  ``out``: an (n, K) integer array (a view of a
    bigger one) the rules are written into and returned as; the rule array otherwise.  Laid out column
    after column (the transpose of a C-contiguous (K, n) array, as a sweep's), the conditions are computed
    and the rules marked in that layout (:func:`_first_in_force`)."""
    if not compiled.stateful and np.all(np.asarray(min_hold) <= 1) and np.all(np.asarray(cooldown) == 0):
        zeros = np.zeros(k, dtype=np.int64)
        return _first_in_force(compiled, env, n, k, out), zeros, zeros  # no state: the first match, vectorised
    from engine.rules_nb import decide_nb  # numba: compiled on first use, cached on disk

    r = len(compiled.conditions)
    in_force = np.empty((r, n, k), dtype=np.bool_)
    exits = np.zeros((r, n, k), dtype=np.bool_)
    for i, exit_ in enumerate(compiled.exits):
        in_force[i] = _as_columns(_when_holds(compiled, i, env), n, k)
        if exit_ is not None:
            exits[i] = _as_columns(condition_mask(exit_, env), n, k)

    def per_column(x: np.ndarray | int) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=np.int64), (k,)))

    rule, held, cooled = decide_nb(
        in_force,
        exits,
        np.array([e is not None for e in compiled.exits]),
        np.array([c is None for c in compiled.conditions]),
        _fallback(compiled),
        per_column(first),
        per_column(min_hold),
        per_column(cooldown),
    )
    if out is not None:
        out[...] = rule
        rule = out
    return rule, held, cooled


def _decided(
    compiled: CompiledRules,
    env: Mapping[str, np.ndarray | float],
    rule: np.ndarray,
    first: np.ndarray,
    held: np.ndarray,
    cooled: np.ndarray,
    columns: int | None,
    max_gross: np.ndarray,
) -> Decisions:
    """The :class:`Decisions` of the (n, K) deciding rules ``rule``: their valid weights (``max_gross``:
    (K,), NaN for a cash account), one column's arrays as (n,) and (n, A) when ``columns`` is None."""
    targets, changed = _targets(compiled, env, rule, max_gross)
    if compiled.constant:  # numbers are taken as they are (_targets): none is clipped, no (n, K) passes
        clipped = np.zeros(rule.shape[1], dtype=np.int64)
    else:
        clipped = (changed & (np.arange(len(rule))[:, None] >= first[None, :])).sum(axis=0).astype(np.int64)
    if columns is None:
        rule, targets = rule[:, 0], targets[:, 0]
    return Decisions(rule=rule, targets=targets, held=held, cooled=cooled, clipped=clipped, clipped_at=changed)


def _first_in_force(
    compiled: CompiledRules, env: Mapping[str, np.ndarray | float], n: int, k: int, out: np.ndarray | None = None
) -> np.ndarray:
    """(n, K): the first rule in force on each date (rules without ``until:``), from the last rule up;
    written into ``out`` when given."""
    fallback = _fallback(compiled)
    if out is None:
        rule = np.full((n, k), fallback, dtype=np.int64)
    else:
        rule = out
        rule[...] = fallback
    # rules written column after column (a sweep's): conditions computed in that layout, marked by a compiled loop
    by_column = rule.ndim == 2 and rule.flags.f_contiguous and not rule.flags.c_contiguous
    for i in range(len(compiled.conditions) - 1, -1, -1):
        holds = _when_holds(compiled, i, env, order="F" if by_column else "K")
        if isinstance(holds, bool):  # ``otherwise`` with number weights: every date
            if holds and not (i == fallback == len(compiled.conditions) - 1):  # the last and the fallback: as filled
                rule[:] = i
            continue
        holds = _as_columns(holds, n, k)
        if by_column and holds.flags.f_contiguous:
            from engine.rules_nb import mark_nb  # numba: compiled on first use, cached on disk

            mark_nb(rule.T, holds.T, i)  # both (K, n) C-contiguous
        else:
            rule[holds] = i
    return rule


def _when_holds(
    compiled: CompiledRules, i: int, env: Mapping[str, np.ndarray | float], *, order: Order = "K"
) -> np.ndarray | bool:
    """Where rule ``i``'s ``when:`` holds (always for ``otherwise``) and its weight expressions are known."""
    cond = compiled.conditions[i]
    weight_names = frozenset().union(*(expr.names(w) for w in compiled.weights[i] if isinstance(w, expr.Expr)))
    holds = True if cond is None else condition_mask(cond, env, order=order)
    return holds & _known_mask(weight_names, env) if weight_names else holds  # numbers: no second (n, K) pass


def _fallback(compiled: CompiledRules) -> int:
    """The rule when none is in force: ``otherwise`` (last) in a checked config, else the first."""
    return len(compiled.conditions) - 1 if compiled.conditions and compiled.conditions[-1] is None else 0


def _targets(
    compiled: CompiledRules, env: Mapping[str, np.ndarray | float], rule: np.ndarray, max_gross: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(n, K, A) the deciding rule's valid weights on each date, and (n, K) where clipping changed them."""
    n, k = rule.shape
    if compiled.constant:
        return np.take(compiled.targets, rule, axis=0), np.zeros((n, k), dtype=bool)  # np.take: ~10x faster
    a = len(compiled.weights[0]) if compiled.weights else 0
    out = np.zeros((n, k, a))
    changed = np.zeros((n, k), dtype=bool)
    for i, row in enumerate(compiled.weights):
        at = rule == i
        if not at.any():
            continue
        raw = np.empty((n, k, a))
        for j, w in enumerate(row):
            value = w if not isinstance(w, expr.Expr) else expr.evaluate(w, env)
            raw[:, :, j] = _as_columns(np.nan if value is None else value, n, k)
        rest = [j for j, w in enumerate(row) if w is None]
        limit = np.broadcast_to(max_gross[None, :], (n, k))[at]
        weights, fixed = valid_weights(raw[at], rest[0] if rest else None, limit)
        out[at] = weights
        changed[at] = fixed
    return out, changed


def valid_weights(
    raw: np.ndarray, rest: int | None, max_gross: np.ndarray | float = np.nan
) -> tuple[np.ndarray, np.ndarray]:
    """(m, A) weights made valid (docs/rules.md, *Weights*), and (m,) whether anything changed.

    A cash account (``max_gross`` NaN): non-``rest`` weights NaN -> 0, clipped to [0, 1], divided by
    their sum when it exceeds 1 (by more than 1e-9); the ``rest`` column (its ``raw`` is ignored) gets 1
    minus their sum, never below 0.  A margin account with gross limit G (docs/shorts.md): NaN -> 0,
    clipped to [-G, G], ``rest`` 1 minus the others' sum, clipped to [-G, G] too, and the set divided by
    gross / G when its gross (sum of absolute weights) exceeds G (by more than 1e-9).  ``max_gross``:
    a number or one per row.
    """
    w = np.array(raw, dtype=np.float64)
    limit = np.broadcast_to(np.asarray(max_gross, dtype=np.float64), (len(w),))
    margin = ~np.isnan(limit)
    if rest is not None:
        w[:, rest] = 0.0
    low = np.where(margin, -limit, 0.0)[:, None]
    high = np.where(margin, limit, 1.0)[:, None]
    fixed = np.isnan(w).any(axis=1) | (w < low).any(axis=1) | (w > high).any(axis=1)
    w = np.clip(np.nan_to_num(w, nan=0.0), low, high)
    if not margin.any():
        total = w.sum(axis=1)
        over = total > 1.0 + WEIGHT_TOLERANCE
        w[over] /= total[over, None]
        fixed |= over
        if rest is not None:
            w[:, rest] = np.maximum(1.0 - w.sum(axis=1), 0.0)
        return w, fixed
    if rest is not None:
        left = 1.0 - w.sum(axis=1)
        w[:, rest] = np.clip(left, low[:, 0], high[:, 0])
        fixed |= w[:, rest] != left
    cap = np.where(margin, limit, np.inf)
    gross = np.where(margin, np.abs(w).sum(axis=1), w.sum(axis=1))
    over = gross > np.where(margin, cap, 1.0) + WEIGHT_TOLERANCE
    w[over] *= (np.where(margin, cap, 1.0)[over] / gross[over])[:, None]
    fixed |= over
    return w, fixed


def decide(
    compiled: CompiledRules,
    env: Mapping[str, np.ndarray | float],
    n: int,
    *,
    first: np.ndarray | int = 0,
    min_hold: np.ndarray | int = 0,
    cooldown: np.ndarray | int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """(index of the deciding rule, target weights) per date, or per date and column (:func:`decisions`)."""
    d = decisions(compiled, env, n, first=first, min_hold=min_hold, cooldown=cooldown)
    return d.rule, d.targets
