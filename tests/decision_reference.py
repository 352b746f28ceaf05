"""An independent reference for the decision layer of docs/rules.md, written from the contract, not the engine.

It imports nothing from ``engine`` or ``strategies`` (numpy, pandas and scipy only) and was written
without reading them. Given per-date inputs it returns, for every date of a timeline, the rule that
decided, the targets decided (made valid, then sized) and the four ``strategy.decisions`` counts.

Notation: dates ``t = 0 .. n-1`` are positions on the union timeline; ``F`` is the first decision date
(its decision fills on the first simulated date); rules ``i = 1 .. m`` in YAML order, rule ``m`` the
``otherwise``. Dates before ``F`` are outside the decision state (rule 0, targets NaN).

Semantics (the contract in my words), on each date ``t >= F`` in this order:

1. **Conditions.** ``when_i(t)`` and ``until_i(t)`` are boolean, false wherever a signal they name is
   NaN (the caller masks them, or builds them with :func:`condition`, which does).
2. **Latches.** A rule without ``until`` is in force iff ``when_i(t)``. A rule with ``until``:
   ``L_i(t) = when_i(t) or (L_i(t-1) and not until_i(t))``, ``L_i(F-1) = False``; the latch is the rule's
   own and evolves whether or not the rule decides. ``otherwise`` is always in force.
3. **Cooling.** With cooldown ``C``, a rule that decided on ``x-1`` and not on ``x`` is *cooling* on
   ``x .. x+C-1`` (positions on the timeline). ``otherwise`` never cools. Nothing cools on ``F``.
4. **Candidate.** The first rule in force and not cooling (``otherwise`` at worst).
5. **Minimum hold.** With ``H``, if the candidate differs from the previous date's rule ``p`` and
   ``t - e_p < H`` (``e_p`` the first date of ``p``'s current spell), ``p`` decides again (it is *held*),
   whether or not it is still in force. On ``F`` the candidate decides.
6. **Weights** of the deciding rule at ``t``: non-``rest`` weights NaN -> 0, < 0 -> 0, > 1 -> 1; if they
   then sum to more than ``1 + 1e-9`` each is divided by their sum; ``rest`` gets ``max(0, 1 - sum)``.
   The date is *clipped* when a non-``rest`` weight changed in these steps (NaN -> 0 included).
7. **Sizing** (optional), with unit values ``V`` and returns ``R_j(s) = V_j(s)/V_j(s-1) - 1``, window
   ``s = t-window+1 .. t``: (a) risk weights over ``S`` = listed assets with weight > 0, when ``|S| >= 2``:
   ``inverse_vol`` ``w_j = G (1/sigma_j) / sum_S (1/sigma_k)`` (ddof 1), or ``equal_risk`` ``w = G b`` with
   ``b_j (Sigma b)_j`` all equal (solved by Newton's method on a convex log-barrier objective); a NaN or
   zero ``sigma_j`` leaves them unchanged and the date *unsized*. (b) ``target_vol``: ``r_p = sum_j w_j R_j``
   over the window, ``sigma_p = std(r_p, ddof 1) sqrt(ppy)``, ``ppy = window / (days(date_t -
   date_{t-window}) / 365.25)``; with ``g = sum w > 0`` multiply by ``min(target_vol / sigma_p,
   max_gross / g)``; NaN or zero ``sigma_p``: unchanged, *unsized*; ``g = 0``: unchanged, not counted.
   (c) without ``target_vol``: ``g > max_gross`` -> multiply by ``max_gross / g``, *clipped*.

Counts (``held``, ``cooled``, ``clipped``, ``unsized``) are over the dates ``F .. n-1``.

Inputs are plain arrays: conditions as booleans (or built from signal arrays and a Python callable by
:func:`condition`), weights as numbers, arrays of an expression's values (written with numpy in the
test: ``np.clip``, ``np.minimum``, ``np.maximum``) or :data:`REST`, and unit values ``V`` per asset.
:func:`union_closes` and :func:`momentum` recompute the signals of docs/config.md from the CSVs (last
traded close carried forward on the union of both markets' dates; ``P[t] / P[t-window] - 1`` over its
rows; ``relative_momentum`` is the difference of two momenta).

Interpretations I had to make where docs/rules.md is ambiguous (each is a choice, listed so a
disagreement can be traced to it):

I1. **NaN signals of weight expressions.** Step 1 says a rule is "not in force" where a signal named by
    one of its weight expressions is NaN, and *Weights* says NaN weights are possible for "a rule held
    by the minimum hold or a latch". Both hold only if the weight-signal check is part of the rule's
    *entry* condition: ``when_i(t)`` is false there (so the rule cannot enter or be in force by ``when``),
    but a latch already set keeps it in force (its NaN weights then become 0, clipped). The caller
    passes this as the ``ready`` mask of :class:`Rule`; the latch is not reset by it.
I2. **Cooling on the stop date itself** (``x``) changes nothing: the rule that stopped on ``x`` is by
    definition not the one deciding on ``x``. So ``C = 1`` has no effect (like ``H = 1``).
I3. **``cooled``** counts a date when the first rule in force (ignoring cooling) is cooling, i.e. the
    candidate was changed by cooling, also when the minimum hold then keeps the previous rule. A date
    counts once however many cooling rules were skipped.
I4. **``held``** counts a date when the held rule differs from the candidate (the only case step 5 acts).
I5. **Spell start** ``e``: a held date continues the spell (it does not start a new one).
I6. **``rest``** floored at 0 (only possible when the other weights sum to within 1e-9 above 1) is not a
    change that counts as clipped; a ``rest`` asset is never itself clipped.
I7. **Risk weights then volatility target** are independent steps: an *unsized* risk step still lets the
    volatility target scale the (unchanged) weights. A date counts as *unsized* once even if both
    steps fail.
I8. **Portfolio returns** ``r_p(s)`` sum only over assets with a nonzero weight (``0 * NaN`` is taken as
    0, so an asset not held cannot make ``sigma_p`` NaN).
I9. **Gross cap** applies when ``g > max_gross + 1e-9`` (the same tolerance as the weights' step 2, so a
    float sum like ``1 + 2e-16`` after risk weighting is neither scaled nor counted). The volatility
    target's own ``max_gross / g`` bound is not a clip and is not counted.
I10. **The last date** is a decision date and is counted, although its targets fill after the run.
I11. ``equal_risk``'s zero/NaN check is on the listed held assets' variances (the diagonal of Sigma).
I12. **Margin-account weights** (``valid_weights(..., max_gross=G)``, docs/rules.md *Weights*, last
    paragraph, and docs/shorts.md *Weights*), in this order: (1) each non-``rest`` weight NaN -> 0, then
    clipped to ``[-G, G]``; (2) ``rest`` = ``1 - sum`` of the others *after* (1), clipped to ``[-G, G]``;
    (3) when the gross ``sum |w|`` (``rest`` included) exceeds ``G + 1e-9`` (absolute tolerance, as in
    step 2 of the cash account) every weight, ``rest`` included, is multiplied by ``G / gross``. The cash
    account's step 2 (dividing the non-``rest`` weights by their sum above 1) does not apply. The date is
    *changed* (clipped) when (1) changed a value (NaN -> 0 included; ``-0.0`` is not a change), when
    (2)'s clip to ``[-G, G]`` changed ``rest`` (unlike I6: here the bound is a real one, up to ``G`` away
    from the unclipped value, and the docs count "any of this changes a value"), or when (3) scaled.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "REST",
    "Decisions",
    "Rule",
    "Sizing",
    "condition",
    "decide",
    "equal_risk_budget",
    "momentum",
    "size_weights",
    "union_closes",
    "valid_weights",
]

#: The marker of the ``rest`` weight.
REST = "rest"

#: Weights: a number, an array of values per date (an expression already evaluated), or :data:`REST`.
Weight = float | np.ndarray | str


@dataclass(frozen=True)
class Rule:
    """One rule: ``when`` (None for ``otherwise``), optional ``until``, weights per asset.

    ``when``/``until`` are boolean arrays over the timeline, already false where a signal they name is
    NaN. ``ready`` (default all true) is false where a signal named by a weight expression is NaN: it
    is and-ed into ``when`` (interpretation I1).
    """

    when: np.ndarray | None
    weights: Mapping[str, Weight]
    until: np.ndarray | None = None
    ready: np.ndarray | None = None

    @property
    def is_otherwise(self) -> bool:
        return self.when is None


@dataclass(frozen=True)
class Sizing:
    """The ``sizing:`` block (docs/rules.md)."""

    target_vol: float | None = None
    window: int = 63
    max_gross: float = 1.0
    inverse_vol: Sequence[str] | None = None
    equal_risk: Sequence[str] | None = None


@dataclass
class Decisions:
    """Per date: ``rule`` (1-based, 0 before F), ``targets`` (dates x assets, NaN before F); the counts."""

    rule: np.ndarray
    targets: np.ndarray
    assets: list[str]
    counts: dict[str, int] = field(default_factory=dict)
    in_force: np.ndarray | None = None  # dates x rules, for the hand tests


# --------------------------------------------------------------------------- conditions


def condition(
    fn: Callable[[Mapping[str, np.ndarray]], np.ndarray], signals: Mapping[str, np.ndarray], names
) -> np.ndarray:
    """``fn(signals)`` as a boolean array, false wherever one of ``names`` is NaN (docs/rules.md step 1)."""
    value = np.asarray(fn(signals), dtype=bool)
    ok = np.ones(value.shape, dtype=bool)
    for name in names:
        ok &= ~np.isnan(np.asarray(signals[name], dtype=float))
    return value & ok


# --------------------------------------------------------------------------- weights


def valid_weights(
    raw: Mapping[str, float | str], assets: Sequence[str], *, max_gross: float | None = None
) -> tuple[np.ndarray, bool]:
    """The rule's weights at one date made valid (*Weights* steps 1-3); returns (weights, clipped).

    With ``max_gross`` (G) the margin account's bounds apply instead (interpretation I12).
    """
    if max_gross is not None:
        return _valid_margin_weights(raw, assets, float(max_gross))
    out = np.zeros(len(assets))
    clipped = False
    named = {}
    rest_asset = None
    for asset, w in raw.items():
        if isinstance(w, str):
            if w != REST:
                raise ValueError(f"unknown weight {w!r}")
            rest_asset = asset
            continue
        x = float(w)
        y = 0.0 if math.isnan(x) else min(max(x, 0.0), 1.0)
        if y != x:  # NaN != anything, so NaN -> 0 counts
            clipped = True
        named[asset] = y
    total = math.fsum(named.values())
    if total > 1.0 + 1e-9:
        named = {a: v / total for a, v in named.items()}
        clipped = True
        total = math.fsum(named.values())
    for asset, v in named.items():
        out[assets.index(asset)] = v
    if rest_asset is not None:
        out[assets.index(rest_asset)] = max(0.0, 1.0 - total)
    return out, clipped


def _valid_margin_weights(raw: Mapping[str, float | str], assets: Sequence[str], g: float) -> tuple[np.ndarray, bool]:
    """Margin-account *Weights* (I12): clip to [-G, G], ``rest`` clipped to [-G, G], gross scaled to G."""
    if not g > 0:
        raise ValueError(f"max_gross must be > 0, got {g!r}")
    out = np.zeros(len(assets))
    changed = False
    rest_asset = None
    named: dict[str, float] = {}
    for asset, w in raw.items():
        if isinstance(w, str):
            if w != REST:
                raise ValueError(f"unknown weight {w!r}")
            if rest_asset is not None:
                raise ValueError("rest for more than one asset")
            rest_asset = asset
            continue
        x = float(w)
        y = 0.0 if math.isnan(x) else min(max(x, -g), g)
        if y != x:  # NaN != anything, so NaN -> 0 counts
            changed = True
        named[asset] = y
    for asset, v in named.items():
        out[assets.index(asset)] = v
    if rest_asset is not None:
        r = 1.0 - math.fsum(named.values())
        rc = min(max(r, -g), g)
        if rc != r:
            changed = True
        out[assets.index(rest_asset)] = rc
    gross = math.fsum(abs(v) for v in out)
    if gross > g + 1e-9:
        out = out * (g / gross)
        changed = True
    return out, changed


# --------------------------------------------------------------------------- sizing


def equal_risk_budget(cov: np.ndarray) -> np.ndarray:
    """b > 0, sum b = 1, with ``b_j (cov b)_j`` equal for all j.

    Newton's method on ``f(y) = y' cov y / 2 - sum(log y) / n``, strictly convex for y > 0, whose minimum
    has ``y_j (cov y)_j = 1/n`` for every j; ``b = y / sum(y)``. Iterates to a relative step of 1e-14.
    """
    n = cov.shape[0]
    y = 1.0 / np.sqrt(np.diag(cov))
    y = y / math.sqrt(float(y @ cov @ y) * n)  # scaled near the solution
    for _ in range(100):
        grad = cov @ y - 1.0 / (n * y)
        hess = cov + np.diag(1.0 / (n * y * y))
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while np.any(y - t * step <= 0):  # stay inside y > 0
            t /= 2
        y = y - t * step
        if np.max(np.abs(t * step) / y) < 1e-14:
            break
    b = y / y.sum()
    return b


def size_weights(
    w: np.ndarray, t: int, values: np.ndarray, dates: pd.DatetimeIndex, assets: Sequence[str], sizing: Sizing
) -> tuple[np.ndarray, bool, bool]:
    """*Sizing* steps 1-3 at date position ``t``; returns (weights, unsized, clipped)."""
    w = w.astype(float).copy()
    unsized = clipped = False
    win = sizing.window
    lo = t - win  # the window's returns need values t-win .. t
    if lo >= 0:
        v = values[lo : t + 1]
        rets = v[1:] / v[:-1] - 1.0  # rows s = t-win+1 .. t
    else:
        rets = np.full((win, len(assets)), np.nan)
    listed = sizing.inverse_vol or sizing.equal_risk
    if listed:
        held = [assets.index(a) for a in listed if w[assets.index(a)] > 0]
        if len(held) >= 2:
            r = rets[:, held]
            sig = np.std(r, axis=0, ddof=1)
            if np.any(np.isnan(sig)) or np.any(sig == 0):
                unsized = True
            else:
                g = math.fsum(w[held])
                if sizing.inverse_vol:
                    inv = 1.0 / sig
                    share = inv / inv.sum()
                else:
                    share = equal_risk_budget(np.cov(r, rowvar=False, ddof=1))
                w[held] = g * share
    if sizing.target_vol is not None:
        g = math.fsum(w)
        if g > 0:
            held = np.flatnonzero(w != 0)
            rp = rets[:, held] @ w[held]
            if lo >= 0:
                days = (dates[t] - dates[lo]).days
                ppy = win / (days / 365.25)
            else:
                ppy = math.nan
            sp = float(np.std(rp, ddof=1)) * math.sqrt(ppy)
            if math.isnan(sp) or sp == 0:
                unsized = True
            else:
                w = w * min(sizing.target_vol / sp, sizing.max_gross / g)
    else:
        g = math.fsum(w)
        if g > sizing.max_gross + 1e-9:
            w = w * (sizing.max_gross / g)
            clipped = True
    return w, unsized, clipped


# --------------------------------------------------------------------------- the decision


def _weight_at(w: Weight, t: int) -> float | str:
    if isinstance(w, str):
        return w
    if isinstance(w, np.ndarray):
        return float(w[t])
    return float(w)


def decide(
    rules: Sequence[Rule],
    assets: Sequence[str],
    n: int,
    *,
    first: int,
    min_hold: int = 0,
    cooldown: int = 0,
    sizing: Sizing | None = None,
    values: np.ndarray | None = None,
    dates: Sequence | None = None,
) -> Decisions:
    """The decision on every date ``first .. n-1`` (docs/rules.md, module docstring for the semantics)."""
    assets = list(assets)
    m = len(rules)
    if not rules[-1].is_otherwise or any(r.is_otherwise for r in rules[:-1]):
        raise ValueError("the last rule, and only it, is otherwise")
    if sizing is not None and (values is None or dates is None):
        raise ValueError("sizing needs values and dates")
    idx = pd.DatetimeIndex(dates) if dates is not None else None

    rule_out = np.zeros(n, dtype=int)
    targets = np.full((n, len(assets)), np.nan)
    force = np.zeros((n, m), dtype=bool)
    counts = {"held": 0, "cooled": 0, "clipped": 0, "unsized": 0}

    latch = np.zeros(m, dtype=bool)
    cool_until = np.full(m, -1)  # rule i is cooling on dates t <= cool_until[i]
    prev = -1  # index of the rule that decided on t-1
    spell_start = -1
    for t in range(first, n):
        # 1-2: conditions and latches
        for i, r in enumerate(rules):
            if r.is_otherwise:
                latch[i] = True
                continue
            w = bool(r.when[t]) and (r.ready is None or bool(r.ready[t]))
            if r.until is None:
                latch[i] = w
            else:
                latch[i] = w or (latch[i] and not bool(r.until[t]))
        force[t] = latch
        # 3-4: cooling and the candidate
        first_in_force = int(np.argmax(latch))
        cand = next(i for i in range(m) if latch[i] and not (cooldown > 0 and t <= cool_until[i]))
        if cand != first_in_force:
            counts["cooled"] += 1  # I3
        # 5: minimum hold
        chosen = cand
        if prev >= 0 and cand != prev and t - spell_start < min_hold:
            chosen = prev
            counts["held"] += 1  # I4
        if chosen != prev:
            if prev >= 0 and not rules[prev].is_otherwise and cooldown > 0:
                cool_until[prev] = t + cooldown - 1
            spell_start = t
        prev = chosen
        rule_out[t] = chosen + 1
        # 6: weights
        raw = {a: _weight_at(w, t) for a, w in rules[chosen].weights.items()}
        w, clipped = valid_weights(raw, assets)
        unsized = False
        if sizing is not None:
            w, unsized, capped = size_weights(w, t, values, idx, assets, sizing)
            clipped = clipped or capped
        counts["clipped"] += int(clipped)
        counts["unsized"] += int(unsized)
        targets[t] = w
    return Decisions(rule_out, targets, assets, counts, force)


# --------------------------------------------------------------------------- signals from the CSVs


def union_closes(frames: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Close per asset on the union of their dates, each carried forward over its market's holidays."""
    index = pd.DatetimeIndex(sorted(set().union(*(s.dropna().index for s in frames.values()))))
    return pd.DataFrame({a: s.dropna().reindex(index).ffill() for a, s in frames.items()})


def momentum(closes: pd.Series, window: int) -> pd.Series:
    """``P[t] / P[t-window] - 1`` over rows of the union timeline (docs/config.md)."""
    return closes / closes.shift(window) - 1.0
