"""The compiled state of :mod:`engine.rules`: latches, minimum hold and cooldown, date by date.

Which rule decides on a date depends on which rules were latched, which decided and since when:
a scan in time order per column, in machine code (numba, cached on disk).  docs/rules.md, steps
2-5 of *The decision on one date*, is the contract this kernel follows.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["decide_nb", "mark_nb"]


@numba.njit(cache=True, nogil=True)
def decide_nb(in_force, exits, has_until, always, fallback, first, min_hold, cooldown):  # pragma: no cover - compiled
    """(rule (n, K), held (K,), cooled (K,)) from ``in_force`` and ``exits``, (R, n, K) bool.

    ``in_force[i, t, k]``: rule i's ``when:`` holds (and its weights are known); ``exits``: its
    ``until:`` holds; ``has_until`` (R,): the rule latches; ``always`` (R,): ``otherwise`` (never
    cools); ``fallback``: the rule when none is in force (``otherwise`` of a checked config).
    Before ``first[k]`` the first rule in force decides and no state is kept; from it on, rule i
    is latched from a date its ``when:`` holds until its ``until:`` holds (``when:`` wins on a
    date both hold), a rule that stopped deciding on x cools on x .. x + cooldown - 1, the
    candidate is the first latched rule not cooling, and a rule whose spell began on e keeps
    deciding on e .. e + min_hold - 1.  ``held`` counts dates from ``first`` on where the minimum
    hold kept the previous rule, ``cooled`` dates where the first latched rule was cooling.
    """
    n_rules, n, k = in_force.shape
    rule = np.empty((n, k), np.int64)
    held = np.zeros(k, np.int64)
    cooled = np.zeros(k, np.int64)
    latch = np.zeros(n_rules, np.bool_)
    cool_until = np.zeros(n_rules, np.int64)
    for c in range(k):
        latch[:] = False
        cool_until[:] = 0
        prev = -1
        began = 0
        for t in range(n):
            if t < first[c]:
                rule[t, c] = fallback
                for i in range(n_rules):
                    if in_force[i, t, c]:
                        rule[t, c] = i
                        break
                continue
            for i in range(n_rules):
                latch[i] = in_force[i, t, c] or (has_until[i] and latch[i] and not exits[i, t, c])
            candidate = fallback
            first_latched = True
            for i in range(n_rules):
                if not latch[i]:
                    continue
                if t < cool_until[i] and not always[i]:
                    if first_latched:
                        cooled[c] += 1
                    first_latched = False
                    continue
                candidate = i
                break
            chosen = candidate
            if prev >= 0 and candidate != prev and t - began < min_hold[c]:
                chosen = prev
                held[c] += 1
            if chosen != prev:
                if prev >= 0:
                    cool_until[prev] = t + cooldown[c]
                began = t
            rule[t, c] = chosen
            prev = chosen
    return rule, held, cooled


@numba.njit(cache=True, nogil=True)
def mark_nb(rule: np.ndarray, holds: np.ndarray, i: int) -> None:  # pragma: no cover - compiled
    """``rule[holds] = i`` for two C-contiguous arrays of one shape: one pass in memory order, a select
    rather than a branch (numpy's masked assignment branches on every element: about 80 times slower
    on a sweep's masks, which change from date to date)."""
    flat, where = rule.reshape(-1), holds.reshape(-1)
    for e in range(flat.size):
        flat[e] = i if where[e] else flat[e]
