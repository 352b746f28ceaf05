"""From decisions to an order plan: lag, rebalance schedule and closed-market deferral.

Timeline.  Every date of the union timeline is split into one *slot* per
market, in closing order (Hong Kong, then New York); slot ``d*M + rank``.  A
decision is taken after the last close of date t, from data up to that close.

Rules (also in the README):

1. **Events.**  ``on_change``: the first decision date and every date whose
   target weights differ from the previous date's.  ``daily``: every date.
   ``weekly`` / ``monthly``: the first decision date and the last date of each
   week / month of the timeline.  ``{band: b}`` (mode ``band``, or its ``every``
   schedule): the first decision date and every date, with no leg of an earlier
   event still pending, on which some asset's actual end-of-day weight (as in
   rule 4) differs from that date's target by more than b.  An event rebalances
   *every* asset to the event's targets.
2. **Lag.**  An event decided on date t executes from date t+lag (``lag`` dates
   of the union timeline later; ``lag >= 1`` unless ``allow_same_bar``).  No
   leg fills before the decision: with ``lag: 0`` a US leg fills at the same
   New York close (the look-ahead that option accepts), a Hong Kong leg at
   Hong Kong's next close.
3. **Closed markets.**  Each leg executes at the close of the first session
   of its asset's market on or after the execution date; the decision is never
   re-dated.  vectorbt gets orders only on real trading prices.
4. **Sales first; a buy waits only for the sales that fund it.**  A leg is a
   *sale* when its target is below the asset's actual end-of-day weight on the
   decision date (what the portfolio holds after every fill up to then, valued
   at that date's end-of-day values, cash included; with ``lag: 0`` and
   ``fill: close``, before the fills of that date's last close); every other
   leg is a *buy*.  A sale executes at the first session of its market on or
   after the execution date; a buy at the first session of its market *at or
   after* the event's last sale slot (on or after the execution date when the
   event sells nothing).  So two legs in one market switch at the same close;
   a New York sale funds a Hong Kong buy at Hong Kong's next close; a Hong
   Kong sale funds a New York buy at New York's close of the same date.
   Within one slot vectorbt orders sells first (``call_seq='auto'``) and buys
   are limited to available cash (no leverage, no shorting), except in a margin
   account (docs/shorts.md): targets may be negative, no buy is cut to the cash,
   and financing is paid at the start of each date.  Orders are sized
   when they fill: a target percent of the portfolio's value in that slot.
5. **Superseding.**  A leg still pending when a later event schedules the same
   asset at the same or an earlier slot is dropped.
6. **Fill price.**  ``fill: close`` (default) fills a leg at its session's
   close.  ``fill: next_open`` fills it at the same session's open, and the
   session must open after the decision: a decision from the closes of date t
   fills at an open of t+1 at the earliest (with ``lag: 0`` too), so it never
   trades at a price from before the close it was computed on.  Slots keep
   their order (Hong Kong's open and close both come before New York's open).

The actual holdings in (4) depend on every earlier fill, so the legs are
scheduled while they are filled, slot by slot, with vectorbt's own order
primitives (:mod:`engine.execution_nb`); the simulation of :mod:`engine.simulate`
then fills the same legs (the tests check that the fills agree).

One code path for one allocation and for thousands: :func:`plan_batch` plans K
allocations (a strategy and its benchmarks, or the combinations of a sweep) at
once.  Events, lags and targets are numpy arrays over (dates, K); legs are
scheduled event by event inside one compiled kernel (numba, cached on disk),
which loops over the K columns in machine code, never in Python.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np
import pandas as pd

from engine.calendar import market_rank
from engine.rule_targets import RULE_DTYPE, RuleTargets, spelled_out
from engine.simulate import group_rows

__all__ = ["TARGET_EPS", "BatchPlan", "OrderPlan", "event_mask", "next_slots", "plan_batch"]

NEVER = np.iinfo(np.int64).max
#: Targets that differ by no more than this in every asset are the same targets (``on_change``: no event).
TARGET_EPS = 1e-12
REBALANCE_MODES = ("on_change", "daily", "weekly", "monthly", "band")


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
        """Targets of the latest decided event whose execution date is on or before each date (0 before), as
        :meth:`BatchPlan.in_force`: with a lag that differs between rows, executions need not be in decision
        order, and an event a later decision overtakes (executing on or before its date) is never in force."""
        last = np.full(n, -1, dtype=np.int64)
        due = self.event_execution < n
        np.maximum.at(last, self.event_execution[due], np.flatnonzero(due))  # the events are in decision order
        last = np.maximum.accumulate(last) if n else last
        out = np.zeros((n, self.event_targets.shape[1]))
        out[last >= 0] = self.event_targets[last[last >= 0]]
        return out


@dataclass(frozen=True)
class BatchPlan:
    """The order plans of K allocations side by side (column block k*A .. k*A+A-1 is allocation k)."""

    slots_per_date: int
    asset_slot: np.ndarray  # (A,)
    n_slots: int  # n*M
    legs: np.ndarray  # (L, 4) each order (leg): its slot, column k*A + j, target weight and decision row
    events: np.ndarray  # (n, K) bool: a decision with an event on that row that executes before the end
    lag: np.ndarray  # (n, K) lag of a decision taken on each row
    decided: np.ndarray | RuleTargets  # (n, K, A) the targets decided on each row, or by rule
    unfilled: tuple[tuple[int, int, int], ...]  # (allocation, decision row, asset) never executed
    fills: np.ndarray  # the scheduler's own fills: vectorbt order records, idx = slot - first_slot
    switches: np.ndarray  # (K,) changes of the targets in force from the first simulated date on (schedule_nb)
    charges: np.ndarray | None = None  # (n, K, 2) margin accounts' (borrow, margin) paid at the start of each date
    margin: np.ndarray | None = None  # (K,) bool: margin accounts (docs/shorts.md)
    ruined: np.ndarray | None = None  # (K,) the row a margin account's value fell to zero or below at (-1: never)

    @functools.cached_property
    def leg_slot(self) -> np.ndarray:
        """(L,) the slot of each leg (a sweep needs only the fills: these are made when asked for)."""
        return self.legs[:, 0].astype(np.int64)

    @functools.cached_property
    def leg_column(self) -> np.ndarray:
        """(L,) each leg's column k*A + j."""
        return self.legs[:, 1].astype(np.int64)

    @functools.cached_property
    def leg_target(self) -> np.ndarray:
        """(L,) each leg's target weight."""
        return np.ascontiguousarray(self.legs[:, 2])

    @functools.cached_property
    def leg_decision(self) -> np.ndarray:
        """(L,) the row each leg was decided on."""
        return self.legs[:, 3].astype(np.int64)

    @functools.cached_property
    def targets(self) -> np.ndarray:
        """(n, K, A): the targets decided on each row (spelled out once when given by rule)."""
        return spelled_out(self.decided)

    @property
    def has_margin(self) -> bool:
        """Whether some column is a margin account (its fills are the scheduler's: docs/shorts.md)."""
        return self.margin is not None and bool(self.margin.any())

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


def event_mask(
    dates: pd.DatetimeIndex, targets: np.ndarray | RuleTargets, first: np.ndarray, rebalance: Sequence[str]
) -> np.ndarray:
    """(n, K) bool: rows (>= ``first[k]``) on which allocation k decides an event (rule 1).

    ``targets``: (n, K, A) decided targets, or by rule; ``first``: (K,) rows, or one for every column;
    ``rebalance[k]``: the allocation's mode.
    """
    n, k = targets.shape[:2]
    by_rule = isinstance(targets, RuleTargets)  # its changes come column after column: so does the mask
    out = np.zeros((n, k), dtype=bool, order="F" if by_rule else "C")
    first = np.broadcast_to(np.asarray(first), (k,))  # one for every column, or one each
    modes = np.asarray(rebalance)
    for mode in sorted(set(rebalance)):
        if mode not in REBALANCE_MODES:
            raise ValueError(f"unknown rebalance {mode!r}")
        listed = np.flatnonzero(modes == mode)
        cols = slice(None) if len(listed) == k else listed  # every column: a copy, not a gather and scatter
        if mode == "daily":
            out[:, cols] = True
        elif mode == "band":  # only the first decision: the scheduler adds the drift events (rule 1)
            continue
        elif mode == "on_change":
            if isinstance(targets, RuleTargets):
                out[:, cols] = targets.changed(cols, TARGET_EPS)
            else:
                out[:, cols] = _changed(np.ascontiguousarray(targets[:, cols], dtype=np.float64), TARGET_EPS)
        else:
            out[:, cols] = _period_ends(dates, mode)[:, None]
    first_row = np.asarray(first)
    for row in np.unique(first_row):  # per distinct first decision: nothing before it
        out[: max(int(row), 0), first_row == row] = False
    valid = first_row < n
    out[first_row[valid], np.flatnonzero(valid)] = True  # the first decision is always an event
    return out


@numba.njit(cache=True, nogil=True)
def _changed(targets: np.ndarray, eps: float) -> np.ndarray:  # pragma: no cover - compiled
    """(n, K) bool: rows whose targets differ from the previous row's by more than ``eps`` in any asset.

    Every asset is compared (no early exit), so a row's columns go through the vector units together.
    """
    n, k, a = targets.shape
    out = np.zeros((n, k), dtype=np.bool_)
    for d in range(1, n):
        for c in range(k):
            differ = False
            for j in range(a):
                differ |= abs(targets[d, c, j] - targets[d - 1, c, j]) > eps
            out[d, c] = differ
    return out


def _period_ends(dates: pd.DatetimeIndex, mode: str) -> np.ndarray:
    """(n,) bool: the last date of each week or month of ``dates``."""
    period = dates.to_period({"weekly": "W", "monthly": "M"}[mode]).asi8
    return np.append(period[1:] != period[:-1], True)


def _executable(events: np.ndarray, lag: np.ndarray, *, fresh: bool) -> tuple[np.ndarray, np.ndarray]:
    """``events`` without the decisions whose execution date ``d + lag`` is past the last row (rule 1),
    and the (n, K) lag of a decision on each row; ``lag``: (K,) or (n, K), or anything that broadcasts
    to them (one value, (1, K), (n, 1)).  A ``fresh`` mask (the scheduler's own) is changed in place.

    A lag that does not change over time comes back as a read-only view of its one row (no (n, K) copy).
    """
    n, k = events.shape
    if lag.ndim == 2 and lag.shape[0] > 1:
        full = np.ascontiguousarray(np.broadcast_to(lag, (n, k)))  # (n, 1) as well
        return events & (np.arange(n)[:, None] + full < n), full
    lag = np.broadcast_to(lag.reshape(-1) if lag.ndim == 2 else lag, (k,))
    out = events if fresh else events.copy()
    for value in np.unique(lag):  # per distinct lag, not per column: the last ``lag`` rows
        out[max(n - int(value), 0) :, lag == value] = False
    return out, np.broadcast_to(lag[None, :], (n, k))


def next_slots(traded: np.ndarray, asset_slot: np.ndarray, m: int) -> np.ndarray:
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


def _first_fill_slot(m: int, fill: str) -> int:
    """The first slot after a decision in which its legs may fill: after the last close of the decision date.

    With lag >= 1 the execution date's first slot is already later; with lag 0 (allow_same_bar) this
    sends Hong Kong legs to Hong Kong's next close instead of the one 13 hours before the decision.
    With fill: next_open (rule 6) even the last market's open of the decision date came before it.
    """
    return m if fill == "next_open" else m - 1


def plan_batch(
    *,
    targets: np.ndarray | RuleTargets,
    traded: np.ndarray,
    markets: Sequence[str],
    dates: pd.DatetimeIndex,
    first_decision: np.ndarray,
    lag: np.ndarray,
    rebalance: Sequence[str],
    close: np.ndarray,
    order_price: np.ndarray,
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    first_slot: int,
    fill: str = "close",
    events: np.ndarray | None = None,
    band: np.ndarray | None = None,
    margin: np.ndarray | None = None,
    financing: np.ndarray | None = None,
    accrual: np.ndarray | None = None,
    next_slot: np.ndarray | None = None,
) -> BatchPlan:
    """Plan K allocations at once (module docstring, rules 1-6).

    ``targets``: (n, K, A) targets decided on each row, or by rule (the same plan); ``first_decision``: (K,)
    rows; ``lag``: (K,), or (n, K) for a lag that changes over time (a walk-forward's folds); ``rebalance``:
    K modes; ``traded``: (n, A) shared by every allocation.  ``events``: an (n, K) event mask to use instead
    of the one the modes give; ``band``: (K,) rebalancing bands, NaN for none (rule 1).  What the simulation
    gets, from slot ``first_slot`` (the first simulated date's first slot) on: ``close`` and ``order_price``,
    (S, A) in cash-index units (:func:`engine.valuation.simulation_prices`); ``fees``: (S, A) or (S, K*A)
    fractions; ``slippage``: (A,), (K*A,), (S, A) or (S, K*A); ``init_cash``.  ``margin``: (K,) bool,
    the margin accounts of docs/shorts.md (default none), with ``financing`` (K, 2) their borrow and
    spread fractions a year and ``accrual`` (n,) each date's calendar days since the previous one / 365
    x B[d-1] / B[d] (B the cash index).  ``next_slot``: :func:`next_slots` of ``traded``, when the caller
    keeps it (it depends on the panel only).
    """
    if not isinstance(targets, RuleTargets):
        targets = np.ascontiguousarray(targets, dtype=np.float64)
    n, n_alloc = targets.shape[:2]
    ranks = market_rank(list(markets))
    m = len(ranks)
    asset_slot = np.array([ranks[mk] for mk in markets], dtype=np.int64)
    lag = np.asarray(lag, dtype=np.int64)
    own = event_mask(dates, targets, np.asarray(first_decision, dtype=np.int64), rebalance) if events is None else None
    events, lag = _executable(events if own is None else own, lag, fresh=own is not None)  # type: ignore[arg-type]
    next_slot = next_slots(traded, asset_slot, m) if next_slot is None else next_slot
    bands = np.full(n_alloc, np.nan) if band is None else np.asarray(band, dtype=np.float64)
    first = np.broadcast_to(np.asarray(first_decision, dtype=np.int64), (n_alloc,))
    account = _Account(
        margin=np.zeros(n_alloc, dtype=np.bool_) if margin is None else np.ascontiguousarray(margin, dtype=np.bool_),
        financing=np.zeros((n_alloc, 2)) if financing is None else np.ascontiguousarray(financing, dtype=np.float64),
        accrual=np.zeros(n) if accrual is None else np.ascontiguousarray(accrual, dtype=np.float64),
        charges=np.zeros((n, n_alloc, 2) if margin is not None and np.any(margin) else (1, 1, 2)),  # cash: none
        ruined=np.full(n_alloc, -1, dtype=np.int64),
    )
    return _schedule(
        targets, events, lag, next_slot, asset_slot, m, fill, close, order_price, fees, slippage, init_cash, first_slot,
        np.ascontiguousarray(bands), np.ascontiguousarray(first), account,
    )  # fmt: skip


@dataclass(frozen=True)
class _Account:
    """Which columns are margin accounts, their financing (K, 2) a year, and each date's accrual factor (n,)."""

    margin: np.ndarray
    financing: np.ndarray
    accrual: np.ndarray
    charges: np.ndarray  # (n, K, 2) written by the scheduler: (borrow, margin) paid at the start of each date
    ruined: np.ndarray  # (K,) written by the scheduler: the row a margin account was closed out at (-1: never)


def _kernel_targets(targets: np.ndarray | RuleTargets) -> tuple[np.ndarray, np.ndarray]:
    """The scheduler's ``targets`` and ``rule``: (n, K, A) targets and no rule, or the rules' weights as
    (R, 1, A) and the (K, n) rules (a target is then ``targets[rule[k, d], 0, j]``)."""
    if isinstance(targets, RuleTargets):
        table = np.ascontiguousarray(targets.table, dtype=np.float64)[:, None, :]
        return table, targets.kernel_rule()
    return targets, np.zeros((0, 0), dtype=RULE_DTYPE)


def _schedule(
    targets: np.ndarray | RuleTargets, events: np.ndarray, lag: np.ndarray, next_slot: np.ndarray,
    asset_slot: np.ndarray, m: int, fill: str, close: np.ndarray, order_price: np.ndarray, fees: np.ndarray,
    slippage: np.ndarray, init_cash: float, first_slot: int, band: np.ndarray, first: np.ndarray, account: _Account,
) -> BatchPlan:  # fmt: skip
    """:func:`plan_batch` once its events and lags are known: the compiled scheduler plans and fills every leg
    (and adds the drift events of a band, so ``events`` is a copy it writes into)."""
    from engine.execution_nb import ORDER_DT, schedule_nb, work_arrays  # imports vectorbt: only when a plan is made

    n, n_alloc, n_assets = targets.shape
    fees = np.ascontiguousarray(fees, dtype=np.float64)
    slip = np.ascontiguousarray(np.atleast_2d(np.asarray(slippage, dtype=np.float64)))  # (A,) or (K*A,) as one row
    banded = ~np.isnan(band)
    n_legs_max = (np.count_nonzero(events[:, ~banded]) + int(banded.sum()) * n) * n_assets  # a band: every date
    leg_out = np.empty((n_legs_max, 4), dtype=np.float64)  # at most one leg per event, asset and allocation
    unfilled = np.zeros((n_alloc * n_assets, 3), dtype=np.int64)
    records = np.empty(n_legs_max, dtype=ORDER_DT)
    by_column = np.array(events.T, dtype=np.bool_, order="C")  # (K, n), in date order; the kernel adds drift events
    switches = np.zeros(n_alloc, dtype=np.int64)
    rows = lag if lag.strides[0] else lag[:1]  # a lag the same on every row: its one row, (1, K)
    n_legs, count, n_fills = schedule_nb(
        *_kernel_targets(targets), by_column, np.ascontiguousarray(rows), next_slot, m, _first_fill_slot(m, fill),
        np.ascontiguousarray(close, dtype=np.float64), np.ascontiguousarray(order_price, dtype=np.float64),
        fees, fees.shape[1] != n_assets, slip, slip.shape[1] != n_assets, float(init_cash), int(first_slot),
        leg_out, unfilled, records, band, first,
        *(account.margin, account.financing, account.accrual, account.charges, account.ruined), switches,
        *work_arrays(n, n_assets),
    )  # fmt: skip
    return BatchPlan(
        slots_per_date=m,
        asset_slot=asset_slot,
        n_slots=n * m,
        legs=leg_out[:n_legs],
        events=by_column.T,
        lag=lag,
        decided=targets,
        unfilled=tuple((int(k), int(d), int(j)) for k, d, j in unfilled[:count]),
        fills=records[:n_fills],
        switches=switches,
        charges=account.charges if account.margin.any() else None,
        margin=account.margin,
        ruined=account.ruined,
    )
