"""From decisions to an order plan: lag, rebalance schedule and closed-market deferral.

Timeline.  Every date of the union timeline is split into one *slot* per
market, in closing order (Hong Kong, then New York); slot ``d*M + rank``.  A
decision is taken after the last close of date t, from data up to that close.

Rules (also in the README):

1. **Events.**  ``on_change``: the first decision date and every date whose
   target weights differ from the previous date's.  ``daily``: every date.
   ``weekly`` / ``monthly``: the first decision date and the last date of each
   week / month of the timeline.  An event rebalances *every* asset to the
   event's targets.
2. **Lag.**  An event decided on date t executes from date t+lag (``lag`` dates
   of the union timeline later; ``lag >= 1`` unless ``allow_same_bar``).  No
   leg fills before the decision: with ``lag: 0`` a US leg fills at the same
   New York close (the look-ahead that option accepts), a Hong Kong leg at
   Hong Kong's next close.
3. **Closed markets.**  Each leg executes at the close of the first session
   of its asset's market on or after the execution date; the decision is never
   re-dated.  vectorbt gets orders only on real trading prices.
4. **Sells before buys.**  Legs that reduce a position (the target is below
   the weight the position has drifted to since its last *filled* order; a
   pending order has not filled) go first;
   buys execute at the first session of their market *strictly after* the last
   sell slot of the same event, i.e. once the proceeds exist.  Within one
   slot vectorbt orders sells first (``call_seq='auto'``) and buys are limited
   to available cash (no leverage, no shorting).
5. **Superseding.**  A leg still pending when a later event schedules the same
   asset at the same or an earlier slot is dropped.
6. **Fill price.**  ``fill: close`` (default) fills a leg at its session's
   close.  ``fill: next_open`` fills it at the same session's open, and the
   session must open after the decision: a decision from the closes of date t
   fills at an open of t+1 at the earliest (with ``lag: 0`` too), so it never
   trades at a price from before the close it was computed on.  Slots keep
   their order (Hong Kong's open and close both come before New York's open).

The drift estimate in (4) uses closes known at the decision date and only
decides the order of legs; sizes are computed by vectorbt at the fill.  Legs
are scheduled event by event (a loop over events, not over dates or slots).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.calendar import market_rank

__all__ = ["OrderPlan", "event_dates", "plan_orders"]

NEVER = np.iinfo(np.int64).max
_EPS = 1e-12


@dataclass(frozen=True)
class OrderPlan:
    """Orders per slot, and the events they came from."""

    slots_per_date: int
    asset_slot: np.ndarray  # (A,) slot number of each asset's market within a date
    size: np.ndarray  # (n*M, A) target weight of the order, NaN where there is none
    event_decision: np.ndarray  # (K,) row of the decision date
    event_execution: np.ndarray  # (K,) row of the execution date
    event_targets: np.ndarray  # (K, A)
    unfilled: tuple[tuple[int, int], ...]  # (decision row, asset) of legs never executed before the end

    def in_force(self, n: int) -> np.ndarray:
        """Targets of the latest event whose execution date is on or before each date (0 before)."""
        out = np.zeros((n, self.event_targets.shape[1]))
        if len(self.event_execution):
            k = np.searchsorted(self.event_execution, np.arange(n), side="right") - 1
            has = k >= 0
            out[has] = self.event_targets[k[has]]
        return out

    def switches(self) -> int:
        """Events after the first whose targets differ from the previous event's."""
        t = self.event_targets
        return int(np.any(np.abs(np.diff(t, axis=0)) > _EPS, axis=1).sum()) if len(t) > 1 else 0


def event_dates(dates: pd.DatetimeIndex, targets: np.ndarray, first: int, rebalance: str) -> np.ndarray:
    """Rows (>= ``first``) on which an event is decided; see rule 1 of the module docstring."""
    n = len(dates)
    rows = np.arange(first, n)
    if rebalance == "daily":
        return rows
    if rebalance == "on_change":
        changed = np.any(np.abs(targets[first + 1 :] - targets[first:-1]) > _EPS, axis=1)
        return np.concatenate([[first], rows[1:][changed]]).astype(np.int64)
    freq = {"weekly": "W", "monthly": "M"}[rebalance]
    period = dates.to_period(freq).asi8
    last_of_period = np.append(period[1:] != period[:-1], True)
    scheduled = rows[last_of_period[first:]]
    return np.unique(np.concatenate([[first], scheduled])).astype(np.int64)


def _first_slot(slots: list[int], lower: int) -> int:
    """The first of the ascending ``slots`` at or after ``lower`` (NEVER if none)."""
    i = bisect.bisect_left(slots, lower)
    return slots[i] if i < len(slots) else NEVER


def _schedule_legs(
    w_new: np.ndarray,
    decided: np.ndarray,
    base: np.ndarray,
    known: np.ndarray,
    traded_slots: list[np.ndarray],
    m: int,
) -> list[list[tuple[int, float, int]]]:
    """Per asset, the kept legs ``(slot, target, decision row)`` of every event (rules 3-5).

    Events are processed in order.  For each, what the portfolio holds is estimated from the last
    leg of each asset that has *filled* before the event's first slot (pending legs have not), let
    drift with the closes known at the decision date; legs whose target is below that estimate are
    sells and go first, the others are buys and wait for the last sell of the event.
    """
    n_assets = w_new.shape[1]
    # Per asset, kept legs in ascending slot order; the tail with slot >= an event's first slot is pending.
    legs: list[list[tuple[int, float, int]]] = [[] for _ in range(n_assets)]
    # Plain Python floats: a handful of assets per event, where numpy's per-call overhead dominates.
    targets = w_new.tolist()
    first_slots = [ts.tolist() for ts in traded_slots]
    for k, (d, lower) in enumerate(zip(decided.tolist(), base.tolist(), strict=True)):
        held = [0.0] * n_assets
        grown = [0.0] * n_assets
        pending = [False] * n_assets
        for j, asset_legs in enumerate(legs):
            i = len(asset_legs)
            while i and asset_legs[i - 1][0] >= lower:
                i -= 1
            pending[j] = i < len(asset_legs)
            if i:
                slot, held[j], _ = asset_legs[i - 1]
                fill_row = slot // m
                drift = known[d, j] / known[fill_row, j] if fill_row <= d and known[fill_row, j] > 0 else 1.0
                grown[j] = held[j] * float(drift)
        total = sum(grown) + (1.0 - sum(held))
        want = targets[k]
        active = [want[j] > _EPS or held[j] > _EPS or pending[j] for j in range(n_assets)]
        sell = [active[j] and want[j] < grown[j] / total - _EPS for j in range(n_assets)]
        slots = {j: _first_slot(first_slots[j], lower) for j in range(n_assets) if sell[j]}
        last_sell = max(slots.values(), default=lower - 1)
        buy_lower = NEVER if last_sell == NEVER else max(lower, last_sell + 1)
        for j in range(n_assets):
            if active[j] and not sell[j]:
                slots[j] = _first_slot(first_slots[j], buy_lower)
        for j, slot in slots.items():
            # superseding (rule 5): drop this asset's legs that have not filled before the new one
            asset_legs = legs[j]
            while asset_legs and asset_legs[-1][0] >= slot:
                asset_legs.pop()
            asset_legs.append((slot, want[j], d))
    return legs


def plan_orders(
    *,
    targets: np.ndarray,
    traded: np.ndarray,
    known: np.ndarray,
    markets: Sequence[str],
    dates: pd.DatetimeIndex,
    first_decision: int,
    lag: int,
    rebalance: str,
    fill: str = "close",
) -> OrderPlan:
    """Turn per-date target weights into the order plan (module docstring, rules 1-6)."""
    n, n_assets = targets.shape
    ranks = market_rank(list(markets))
    m = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in markets], dtype=np.int64)

    decided = event_dates(dates, targets, first_decision, rebalance)
    execution = decided + lag
    keep = execution < n
    decided, execution = decided[keep], execution[keep]
    w_new = targets[decided]
    # Traded slots of each asset, ascending: the only slots where it may fill.
    traded_slots = [np.flatnonzero(traded[:, j]) * m + asset_slot[j] for j in range(n_assets)]
    # No leg may fill before the decision exists: after the last close of the decision date.  With
    # lag >= 1 the execution date's first slot is already later; with lag 0 (allow_same_bar) this
    # sends Hong Kong legs to Hong Kong's next close instead of the one 13 hours before the decision.
    # With fill: next_open (rule 6) even the last market's open of the decision date came before the decision.
    after_decision = decided * m + (m if fill == "next_open" else m - 1)
    base = np.maximum(execution * m, after_decision)
    legs = _schedule_legs(w_new, decided, base, known, traded_slots, m)

    size = np.full((n * m, n_assets), np.nan)
    unfilled: list[tuple[int, int]] = []
    for j, asset_legs in enumerate(legs):
        for slot, target, decision in asset_legs:
            if slot == NEVER:
                unfilled.append((decision, j))
            else:
                size[slot, j] = target
    return OrderPlan(
        slots_per_date=m,
        asset_slot=asset_slot,
        size=size,
        event_decision=decided,
        event_execution=execution,
        event_targets=w_new,
        unfilled=tuple(unfilled),
    )
