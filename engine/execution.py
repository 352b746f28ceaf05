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
decides the order of legs; sizes are computed by vectorbt at the fill.

One code path for one allocation and for thousands: :func:`plan_batch` plans K
allocations (a strategy and its benchmarks, or the combinations of a sweep) at
once.  Events, lags and targets are numpy arrays over (dates, K); legs are
scheduled event by event inside one compiled kernel (numba, cached on disk),
which loops over the K columns in machine code, never in Python.
:func:`plan_orders` is the same for a single allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from engine.calendar import market_rank
from engine.simulate import group_rows

__all__ = ["BatchPlan", "OrderPlan", "event_mask", "plan_batch", "plan_orders"]

NEVER = np.iinfo(np.int64).max
_EPS = 1e-12
REBALANCE_MODES = ("on_change", "daily", "weekly", "monthly")


@dataclass(frozen=True)
class OrderPlan:
    """Orders per slot, and the events they came from, for one allocation."""

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

    def switches(self, start: int) -> int:
        """Events executed from row ``start`` on whose targets differ from the previous such event's
        (:meth:`BatchPlan.switches` for one allocation)."""
        t = self.event_targets[self.event_execution >= start]
        return int(np.any(np.abs(np.diff(t, axis=0)) > _EPS, axis=1).sum()) if len(t) > 1 else 0


@dataclass(frozen=True)
class BatchPlan:
    """The order plans of K allocations side by side (column block k*A .. k*A+A-1 is allocation k)."""

    slots_per_date: int
    asset_slot: np.ndarray  # (A,)
    n_slots: int  # n*M
    leg_slot: np.ndarray  # (L,) slot of each order (leg)
    leg_column: np.ndarray  # (L,) its column k*A + j
    leg_target: np.ndarray  # (L,) its target weight
    events: np.ndarray  # (n, K) bool: a decision with an event on that row that executes before the end
    lag: np.ndarray  # (n, K) lag of a decision taken on each row
    targets: np.ndarray  # (n, K, A) the targets decided on each row
    unfilled: tuple[tuple[int, int, int], ...]  # (allocation, decision row, asset) never executed

    @property
    def n_allocations(self) -> int:
        return self.events.shape[1]

    @property
    def size(self) -> np.ndarray:
        """(n*M, K*A) target weight of the order in each slot and column, NaN where there is none."""
        out = np.full((self.n_slots, self.events.shape[1] * len(self.asset_slot)), np.nan)
        out[self.leg_slot, self.leg_column] = self.leg_target
        return out

    def orders_from(self, first_slot: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, sizes): each allocation's slots from ``first_slot`` on with some order (relative
        to it), as :func:`engine.simulate.group_rows` lays them out, (R, K), and their (R, K*A)
        sizes, NaN where a column has none: what the simulator needs."""
        keep = self.leg_slot >= first_slot
        column = self.leg_column[keep]
        a = len(self.asset_slot)
        rows, at = group_rows(self.leg_slot[keep] - first_slot, column // a, self.events.shape[1])
        out = np.full((len(rows), self.events.shape[1] * a), np.nan)
        out[at, column] = self.leg_target[keep]
        return rows, out

    def _last_executed(self) -> np.ndarray:
        """(n, K): the decision row of the latest event executed on or before each row (-1 if none)."""
        n, k = self.events.shape
        src = np.full((n, k), -1, dtype=np.int64)
        rows, cols = np.nonzero(self.events)
        src[rows + self.lag[rows, cols], cols] = rows
        return np.maximum.accumulate(src, axis=0)

    def in_force(self) -> np.ndarray:
        """(n, K, A): the targets of the latest event executed on or before each row (0 before any)."""
        last = self._last_executed()
        out = self.targets[np.maximum(last, 0), np.arange(last.shape[1])[None, :]]
        out[last < 0] = 0.0
        return out

    def switches(self, start: int) -> np.ndarray:
        """(K,): events executed from row ``start`` on whose targets differ from the previous such event's."""
        return _switches(self.events, self.lag, self.targets, start, _EPS)

    def single(self, k: int) -> OrderPlan:
        """Allocation ``k``'s plan on its own."""
        a = len(self.asset_slot)
        decided = np.flatnonzero(self.events[:, k]).astype(np.int64)
        return OrderPlan(
            slots_per_date=self.slots_per_date,
            asset_slot=self.asset_slot,
            size=np.ascontiguousarray(self.size[:, k * a : (k + 1) * a]),
            event_decision=decided,
            event_execution=decided + self.lag[decided, k],
            event_targets=self.targets[decided, k],
            unfilled=tuple((d, j) for kk, d, j in self.unfilled if kk == k),
        )


@numba.njit(cache=True, nogil=True)
def _switches(events, lag, targets, start, eps):  # pragma: no cover - compiled
    """:meth:`BatchPlan.switches`: per column, counted events whose targets differ from the previous one's."""
    n, k = targets.shape[:2]
    out = np.zeros(k, dtype=np.int64)
    last = np.full(k, -1, dtype=np.int64)  # row of the column's previous counted event
    for d in range(n):
        for c in range(k):
            if not events[d, c] or d + lag[d, c] < start:
                continue
            if last[c] >= 0 and _differ(targets, d, last[c], c, eps):
                out[c] += 1
            last[c] = d
    return out


def event_mask(dates: pd.DatetimeIndex, targets: np.ndarray, first: np.ndarray, rebalance: Sequence[str]) -> np.ndarray:
    """(n, K) bool: rows (>= ``first[k]``) on which allocation k decides an event (rule 1).

    ``targets``: (n, K, A) decided targets; ``rebalance[k]``: the allocation's mode.
    """
    n, k = targets.shape[:2]
    rows = np.arange(n)[:, None]
    from_first = rows >= np.asarray(first)[None, :]
    out = np.zeros((n, k), dtype=bool)
    modes = np.asarray(rebalance)
    for mode in sorted(set(rebalance)):
        if mode not in REBALANCE_MODES:
            raise ValueError(f"unknown rebalance {mode!r}")
        cols = np.flatnonzero(modes == mode)
        if mode == "daily":
            out[:, cols] = True
        elif mode == "on_change":
            sub = targets[:, cols] if len(cols) < k else targets
            out[:, cols] = _changed(np.ascontiguousarray(sub, dtype=np.float64), _EPS)
        else:
            out[:, cols] = _period_ends(dates, mode)[:, None]
    out &= from_first
    first_row = np.asarray(first)
    valid = first_row < n
    out[first_row[valid], np.flatnonzero(valid)] = True  # the first decision is always an event
    return out


@numba.njit(cache=True, nogil=True)
def _changed(targets: np.ndarray, eps: float) -> np.ndarray:  # pragma: no cover - compiled
    """(n, K) bool: rows whose targets differ from the previous row's by more than ``eps`` in any asset."""
    n, k = targets.shape[:2]
    out = np.zeros((n, k), dtype=np.bool_)
    for d in range(1, n):
        for c in range(k):
            out[d, c] = _differ(targets, d, d - 1, c, eps)
    return out


@numba.njit(cache=True, nogil=True)
def _differ(targets, d, p, c, eps):  # pragma: no cover - compiled
    """Whether column c's targets on rows d and p differ by more than ``eps`` in any asset."""
    for j in range(targets.shape[2]):  # noqa: SIM110 - a plain loop: numba compiles it, not any() of a generator
        if abs(targets[d, c, j] - targets[p, c, j]) > eps:
            return True
    return False


def _period_ends(dates: pd.DatetimeIndex, mode: str) -> np.ndarray:
    """(n,) bool: the last date of each week or month of ``dates``."""
    period = dates.to_period({"weekly": "W", "monthly": "M"}[mode]).asi8
    return np.append(period[1:] != period[:-1], True)


def _next_slots(traded: np.ndarray, asset_slot: np.ndarray, m: int) -> np.ndarray:
    """(n*M + 1, A): the first slot at or after each slot in which the asset trades (NEVER if none)."""
    n, a = traded.shape
    out = np.full((n * m + 1, a), NEVER, dtype=np.int64)
    every = np.arange(n * m)
    for j in range(a):
        slots = np.flatnonzero(traded[:, j]) * m + asset_slot[j]
        at = np.searchsorted(slots, every)
        has = at < len(slots)
        out[:-1, j][has] = slots[at[has]]
    return out


@numba.njit(cache=True, nogil=True)  # nogil: sweep chunks plan in parallel threads
def _schedule(targets, events, lag, known, next_slot, m, after, leg_out, unfilled):  # pragma: no cover - compiled
    """Rules 3-5 for each allocation k: keep legs per asset as stacks; return (#legs, #unfilled).

    ``leg_out[i] = (slot, column k*A + j, target)`` of every kept leg, by column; ``unfilled``
    the (k, decision row, asset) of legs whose market never opened again.

    For each event, in order: what the portfolio holds is estimated from the last leg of each asset
    that has *filled* before the event's first slot (pending legs have not), let drift with the
    values known at the decision date; legs whose target is below that estimate are sells and go
    first, the others are buys and wait for the last sell of the event.  A new leg drops the
    asset's legs at the same or a later slot (superseding).
    """
    n, n_alloc, n_assets = targets.shape  # events: (K, n)
    total_slots = n * m
    never = np.iinfo(np.int64).max
    leg_slot = np.empty((n_assets, n + 1), np.int64)
    leg_target = np.empty((n_assets, n + 1), np.float64)
    leg_decision = np.empty((n_assets, n + 1), np.int64)
    count = np.zeros(n_assets, np.int64)
    held = np.zeros(n_assets)
    grown = np.zeros(n_assets)
    pending = np.zeros(n_assets, np.bool_)
    active = np.zeros(n_assets, np.bool_)
    sell = np.zeros(n_assets, np.bool_)
    new_slot = np.zeros(n_assets, np.int64)
    n_unfilled = 0
    n_legs = 0
    for k in range(n_alloc):
        count[:] = 0
        for d in range(n):
            if not events[k, d]:
                continue
            lower = max((d + lag[d, k]) * m, d * m + after)
            sum_held = 0.0
            sum_grown = 0.0
            for j in range(n_assets):
                i = count[j]
                while i > 0 and leg_slot[j, i - 1] >= lower:
                    i -= 1
                pending[j] = i < count[j]
                held[j] = 0.0
                grown[j] = 0.0
                if i > 0:
                    fill_row = leg_slot[j, i - 1] // m
                    drift = 1.0
                    if fill_row <= d and known[fill_row, j] > 0:
                        drift = known[d, j] / known[fill_row, j]
                    held[j] = leg_target[j, i - 1]
                    grown[j] = held[j] * drift
                sum_held += held[j]
                sum_grown += grown[j]
            total = sum_grown + (1.0 - sum_held)
            last_sell = lower - 1
            for j in range(n_assets):
                want = targets[d, k, j]
                active[j] = want > 1e-12 or held[j] > 1e-12 or pending[j]
                sell[j] = active[j] and want < grown[j] / total - 1e-12
                if sell[j]:
                    new_slot[j] = next_slot[lower, j] if lower < total_slots else never
                    if new_slot[j] > last_sell:
                        last_sell = new_slot[j]
            buy_lower = never if last_sell == never else max(lower, last_sell + 1)
            for j in range(n_assets):
                if active[j] and not sell[j]:
                    new_slot[j] = next_slot[buy_lower, j] if buy_lower < total_slots else never
            for j in range(n_assets):
                if not active[j]:
                    continue
                while count[j] > 0 and leg_slot[j, count[j] - 1] >= new_slot[j]:
                    count[j] -= 1
                leg_slot[j, count[j]] = new_slot[j]
                leg_target[j, count[j]] = targets[d, k, j]
                leg_decision[j, count[j]] = d
                count[j] += 1
        for j in range(n_assets):
            for i in range(count[j]):
                if leg_slot[j, i] == never:
                    unfilled[n_unfilled, 0] = k
                    unfilled[n_unfilled, 1] = leg_decision[j, i]
                    unfilled[n_unfilled, 2] = j
                    n_unfilled += 1
                else:
                    leg_out[n_legs, 0] = leg_slot[j, i]
                    leg_out[n_legs, 1] = k * n_assets + j
                    leg_out[n_legs, 2] = leg_target[j, i]
                    n_legs += 1
    return n_legs, n_unfilled


def plan_batch(
    *,
    targets: np.ndarray,
    traded: np.ndarray,
    known: np.ndarray,
    markets: Sequence[str],
    dates: pd.DatetimeIndex,
    first_decision: np.ndarray,
    lag: np.ndarray,
    rebalance: Sequence[str],
    fill: str = "close",
    events: np.ndarray | None = None,
) -> BatchPlan:
    """Plan K allocations at once (module docstring, rules 1-6).

    ``targets``: (n, K, A) targets decided on each row; ``first_decision``: (K,) rows; ``lag``:
    (K,), or (n, K) for a lag that changes over time (a walk-forward's folds); ``rebalance``: K
    modes; ``traded``, ``known``: (n, A) shared by every allocation.  ``events``: an (n, K) event
    mask to use instead of the one the modes give.
    """
    targets = np.ascontiguousarray(targets, dtype=np.float64)
    n, n_alloc, n_assets = targets.shape
    ranks = market_rank(list(markets))
    m = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in markets], dtype=np.int64)
    lag = np.asarray(lag, dtype=np.int64)
    lag = np.ascontiguousarray(np.broadcast_to(lag if lag.ndim == 2 else lag[None, :], (n, n_alloc)))
    if events is None:
        events = event_mask(dates, targets, np.asarray(first_decision, dtype=np.int64), rebalance)
    events = events & (np.arange(n)[:, None] + lag < n)  # an event executing past the end is dropped
    # No leg may fill before the decision exists: after the last close of the decision date.  With
    # lag >= 1 the execution date's first slot is already later; with lag 0 (allow_same_bar) this
    # sends Hong Kong legs to Hong Kong's next close instead of the one 13 hours before the decision.
    # With fill: next_open (rule 6) even the last market's open of the decision date came before it.
    after = m if fill == "next_open" else m - 1
    # every kept leg; at most one per event, asset and allocation
    leg_out = np.empty((int(events.sum()) * n_assets, 3), dtype=np.float64)
    unfilled = np.zeros((n_alloc * n_assets, 3), dtype=np.int64)
    n_legs, count = _schedule(
        targets,
        np.ascontiguousarray(events.T),  # (K, n): the kernel reads each allocation's events in date order
        lag,
        np.ascontiguousarray(known, dtype=np.float64),
        _next_slots(traded, asset_slot, m),
        m,
        after,
        leg_out,
        unfilled,
    )
    legs = leg_out[:n_legs]
    return BatchPlan(
        slots_per_date=m,
        asset_slot=asset_slot,
        n_slots=n * m,
        leg_slot=legs[:, 0].astype(np.int64),
        leg_column=legs[:, 1].astype(np.int64),
        leg_target=np.ascontiguousarray(legs[:, 2]),
        events=events,
        lag=lag,
        targets=targets,
        unfilled=tuple((int(k), int(d), int(j)) for k, d, j in unfilled[:count]),
    )


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
    """Turn one allocation's per-date target weights (n, A) into its order plan (rules 1-6)."""
    batch = plan_batch(
        targets=targets[:, None, :],
        traded=traded,
        known=known,
        markets=markets,
        dates=dates,
        first_decision=np.array([first_decision]),
        lag=np.array([lag]),
        rebalance=[rebalance],
        fill=fill,
    )
    return batch.single(0)
