"""The compiled order scheduler of :mod:`engine.execution`: legs decided from the portfolio actually held.

Which legs of an event are sales depends on what the portfolio holds at the end of the decision
date (rule 4), and that depends on every earlier fill.  So the scheduler walks each allocation's
slots in time order and fills the legs as it goes, with vectorbt's own order primitives
(``order_nb``, ``approx_order_value_nb``, ``insert_argsort_nb``, and ``execute_order_nb`` with
``fill_order_record_nb``, which is what ``process_order_nb`` does with ``update_value=False`` and
no logs) called exactly as ``Portfolio.from_orders`` calls them for a target-percent, long-only,
cash-sharing group with ``call_seq='auto'`` (vectorbt 1.2, ``simulate_from_orders_nb``): at a slot where the
group has an order, every column's valuation price is that slot's price, the group's value is
cash plus units at those prices, the orders run sells first by approximate order value, and each
is sized on the value at the start of the slot.  Its fills are therefore the fills vectorbt's
simulation makes of the same legs (``tests/unit/test_execution.py`` checks both engines).

The helpers are inlined into :func:`schedule_nb` (``inline="always"``), and vectorbt's
``process_order_nb``, which takes the record arrays, is replaced by the two functions it calls: as
separate compiled calls, each passed a dozen arrays, they cost more than the work of a fill (most
likely numba counting references to every array a call is passed).  The scheduler took 1.56 times
as long on the benchmark grid's chunks that way, with the same fills.  Inlined, the counting stays:
numba increments and decrements (atomically) a count for every array an inlined helper is passed.
So :func:`schedule_nb` is compiled without numba's runtime (``_nrt=False``, the option numba uses
for its own string and sorting kernels): it allocates nothing, its caller gives it its work arrays
(:func:`work_arrays`), and no count is kept.  It also calls :func:`_fill_until` only when a leg is
due before the slot it fills up to, approximates the legs' order values and sorts them only at a slot with
two or more (one leg's order is that leg), and, for a column without a band or a margin account, goes from
one date to the next with an event or a due leg.  On the benchmark grid's chunks these took the scheduler
from 31 to about 12.5 ms per 100 combinations, with the same fills.  (Compiling vectorbt's
``execute_order_nb`` inline as well takes its compilation from about 4.5 to 13 s, for no measurable gain.)

This module imports vectorbt (about 2 s), so :mod:`engine.execution` imports it lazily.
"""

from __future__ import annotations

import numba
import numpy as np
from vectorbt.portfolio.enums import Direction, OrderSide, OrderStatus, ProcessOrderState, SizeType, order_dt
from vectorbt.portfolio.nb import approx_order_value_nb, execute_order_nb, fill_order_record_nb, order_nb
from vectorbt.utils.array_ import insert_argsort_nb
from vectorbt.utils.math_ import add_nb, is_close_nb

__all__ = ["ORDER_DT", "schedule_nb", "work_arrays"]

ORDER_DT = order_dt
_TARGET_PERCENT = SizeType.TargetPercent
_LONG_ONLY = Direction.LongOnly
_BOTH = Direction.Both
_FILLED = OrderStatus.Filled
_BUY = OrderSide.Buy
_EPS = 1e-12
_NEVER = np.iinfo(np.int64).max


def work_arrays(n: int, n_assets: int) -> tuple[np.ndarray, ...]:
    """:func:`schedule_nb`'s work arrays for n dates and ``n_assets`` assets (its last seven arguments)."""
    legs = np.empty((2, n_assets, n + 1), np.int64)  # each asset's legs: slot, decision row
    leg_target = np.empty((n_assets, n + 1), np.float64)
    ints = np.zeros((4, n_assets), np.int64)  # count, nxt, seq, new_slot
    floats = np.zeros((4, n_assets))  # units, last_val, weight, temp
    flags = np.zeros((2, n_assets), np.bool_)  # sell, active
    alive = np.empty((3, n + 1), np.int64)  # the events that may still come into force: row, execution row, counted
    return legs, leg_target, ints, floats, flags, np.zeros(3), alive


@numba.njit(cache=True, nogil=True, _nrt=False)  # type: ignore[call-overload]  # the stubs omit _nrt
def schedule_nb(  # pragma: no cover - compiled
    targets,
    rule,
    events,
    lag,
    next_slot,
    m,
    after,
    close,
    order_price,
    fees,
    fee_per_col,
    slippage,
    slip_per_col,
    init_cash,
    first_slot,
    leg_out,
    unfilled,
    records,
    band,
    first,
    margin,
    financing,
    accrual,
    charges,
    ruined,
    switches,
    legs,
    leg_target,
    ints,
    floats,
    flags,
    state,
    alive,
):
    """Rules 2-5 of :mod:`engine.execution` for each allocation k, filling legs as time passes.

    ``targets``: (n, K, A) with ``rule`` (0, 0), or each rule's weights (R, 1, A) with ``rule`` (K, n) the
    rule deciding on each row (:func:`_target`); ``events``: (K, n); ``lag``: (n, K), or (1, K) when the same
    on every row;
    ``next_slot``: (n*m + 1, A) the first slot at or after each slot in which each asset trades;
    ``after``: the first slot offset within the decision date at which a leg may fill (m - 1 with
    ``fill: close``, m with ``next_open``).  ``close``, ``order_price``: (S, A) value of one unit at
    the end of each slot and the price an order fills at (and the group is valued at) in it, both in
    cash-index units, row 0 being slot ``first_slot``; ``fees``: (S, A) or (S, K*A) (``fee_per_col``);
    ``slippage``: (1 or S, A or K*A) (``slip_per_col``).  Writes ``leg_out[i] = (slot, column
    k*A + j, target, decision row)`` of every kept leg, by column, ``unfilled`` the (k, decision row, asset) of
    legs whose market never opened again, and ``records`` vectorbt's order records of the fills
    (``idx``: the slot relative to ``first_slot``); returns (#legs, #unfilled, #records).

    An event decided on date d is scheduled once the portfolio's state at the end of d is known
    (before d's last slot with ``lag: 0`` and ``fill: close``, whose legs may fill there): a leg
    is a sale when its target is below the asset's actual weight at the end of d, valued at d's
    end-of-day prices, cash included; sales go to their market's first session on or after the
    execution date, buys to their market's first session at or after the event's last sale slot.
    A new leg drops the asset's pending legs at the same or a later slot (superseding).

    ``band`` (K,): a rebalancing band (NaN: none).  From row ``first[k]`` on, a date without an
    event whose decision would execute before the end becomes one (``events[k, d]`` is set) when
    no earlier leg is still pending and some asset's actual weight at the end of the date (as an
    event's sales are decided from) is more than ``band`` from the date's target (rule 1).

    ``switches`` (K,): written, each allocation's switches: of the events that come into force (no later
    decision executes on or before their execution date: with a lag that differs between rows, a decision can
    overtake an earlier one, whose targets then never are the ones in force,
    :meth:`engine.execution.BatchPlan.in_force`), those executing from the first simulated date on
    (``(d + lag) * m >= first_slot``) whose targets differ by more than ``_EPS`` in some asset from the
    previous such event's.

    The last seven arguments are :func:`work_arrays` (compiled without numba's runtime, this allocates
    nothing): ``legs`` (2, A, n+1) each asset's leg slots and decision rows, ``leg_target`` (A, n+1),
    ``ints`` (4, A), ``floats`` (4, A), ``flags`` (2, A), ``state`` (3,), ``alive`` (3, n+1).
    """
    n, n_alloc = events.shape[1], events.shape[0]
    n_assets = targets.shape[2]
    total_slots = n * m
    by_row = 1 if lag.shape[0] > 1 else 0  # lag[d * by_row, k]: a decision's lag on row d
    leg_slot, leg_decision = legs[0], legs[1]
    count, nxt, seq, new_slot = ints[0], ints[1], ints[2], ints[3]  # nxt: each asset's first leg not yet filled
    units, last_val, weight, temp = floats[0], floats[1], floats[2], floats[3]
    sell, active = flags[0], flags[1]
    n_unfilled = 0
    n_legs = 0
    n_records = 0
    for k in range(n_alloc):
        count[:] = 0
        nxt[:] = 0
        units[:] = 0.0
        last_val[:] = np.nan
        state[0] = init_cash
        state[1] = init_cash
        state[2] = n_records
        due = _NEVER  # the earliest slot of a leg not yet filled
        banded = not np.isnan(band[k])
        on_margin = margin[k]
        financed = on_margin and (financing[k, 0] > 0 or financing[k, 1] > 0)
        ruined[k] = -1
        switches[k] = 0
        top = 0  # alive[:, :top]: the events not (yet) overtaken by a later decision, in decision order
        skips = not banded and not on_margin  # only an event or a due leg makes a date do anything
        d = 0
        while d <= n:
            if on_margin and d * m > first_slot and _worthless(d, m, close, first_slot, state, units):
                ruined[k] = d - 1  # closed out at the end of d-1: nothing pending, no later event
                for j in range(n_assets):
                    count[j] = nxt[j]
                events[k, d:] = False
                break
            if d == n:
                break
            if financed and d * m > first_slot:
                _charge(d, k, m, close, first_slot, state, units, financing, accrual, charges)
            event = events[k, d]
            drift = banded and not event and d >= first[k] and d + lag[d * by_row, k] < n
            if not event and not drift and due >= (d + 1) * m:
                d += 1
                while skips and d < n and not events[k, d] and due >= (d + 1) * m:
                    d += 1
                continue
            lower = 0
            decide_before = (d + 1) * m  # the event is decided once the date's slots before this are filled
            if event or drift:
                lower = max((d + lag[d * by_row, k]) * m, d * m + after)
                decide_before = min(decide_before, lower)  # lag 0, fill: close: before the last slot
            for stage in range(2 if event or drift else 1):
                end = decide_before if (event or drift) and stage == 0 else (d + 1) * m
                if due < end:
                    due = _fill_until(
                        end, due, k, leg_slot, leg_target, nxt, count, order_price, fees, fee_per_col, slippage,
                        slip_per_col, first_slot, state, units, last_val, temp, seq, records, on_margin,
                    )  # fmt: skip
                if drift and stage == 0 and due == _NEVER:
                    event = _drifted(d, k, targets, rule, close, first_slot, m, state, units, band[k])
                    events[k, d] = event
                if event and stage == 0:
                    x = d + lag[d * by_row, k]  # the execution row
                    while top > 0 and alive[1, top - 1] >= x:  # overtaken: never in force, nor its switch
                        top -= 1
                        switches[k] -= alive[2, top]
                    change = 0  # a change from the previous event in force, both executing from first_slot on
                    if top > 0 and alive[1, top - 1] * m >= first_slot:
                        change = 1 if _differ(targets, rule, d, alive[0, top - 1], k) else 0
                    switches[k] += change
                    alive[0, top], alive[1, top], alive[2, top] = d, x, change
                    top += 1
                    _decide(
                        d, k, lower, targets, rule, next_slot, close, first_slot, total_slots, m, state, units,
                        weight, sell, active, new_slot, leg_slot, leg_target, leg_decision, count, nxt,
                    )  # fmt: skip
                    due = _next_due(leg_slot, nxt, count)
            d += 1
        n_records = int(state[2])
        for j in range(n_assets):
            for i in range(count[j]):
                if leg_slot[j, i] == _NEVER:
                    unfilled[n_unfilled, 0] = k
                    unfilled[n_unfilled, 1] = leg_decision[j, i]
                    unfilled[n_unfilled, 2] = j
                    n_unfilled += 1
                else:
                    leg_out[n_legs, 0] = leg_slot[j, i]
                    leg_out[n_legs, 1] = k * n_assets + j
                    leg_out[n_legs, 2] = leg_target[j, i]
                    leg_out[n_legs, 3] = leg_decision[j, i]
                    n_legs += 1
    return n_legs, n_unfilled, n_records


@numba.njit(cache=True, nogil=True, inline="always")
def _drifted(d, k, targets, rule, close, first_slot, m, state, units, band):  # pragma: no cover - compiled
    """Whether some asset's actual weight at the end of date d (units held now, at d's end-of-day values,
    cash included) is more than ``band`` from allocation k's target decided on d."""
    n_assets = targets.shape[2]
    eod = d * m + m - 1 - first_slot
    value = state[0]
    if eod >= 0:
        for j in range(n_assets):
            if units[j] != 0:
                value += units[j] * close[eod, j]
    for j in range(n_assets):
        held = 0.0
        if eod >= 0 and units[j] != 0 and value > 0:
            held = units[j] * close[eod, j] / value
        if abs(held - _target(targets, rule, d, k, j)) > band:
            return True
    return False


@numba.njit(cache=True, nogil=True, inline="always")
def _worthless(d, m, close, first_slot, state, units):  # pragma: no cover - compiled
    """Whether the account's value at the end of date d-1 (cash and every holding at its end-of-day value)
    is at or below zero."""
    eod = d * m - 1 - first_slot
    value = state[0]
    for j in range(len(units)):
        if units[j] != 0:
            value += units[j] * close[eod, j]
    return value <= 0


@numba.njit(cache=True, nogil=True, inline="always")
def _charge(d, k, m, close, first_slot, state, units, financing, accrual, charges):  # pragma: no cover - compiled
    """A margin account's financing for the gap from date d-1 to d (docs/shorts.md), paid from cash at the
    start of d: borrow on its shorts' value and the spread on its borrowed cash, both at the end of d-1."""
    eod = d * m - 1 - first_slot  # the last slot of d-1
    short = 0.0
    for j in range(len(units)):
        if units[j] < 0:
            short -= units[j] * close[eod, j]
    debt = max(-state[0], 0.0)
    borrow = financing[k, 0] * short * accrual[d]
    spread = financing[k, 1] * debt * accrual[d]
    state[0] -= borrow + spread
    state[1] -= borrow + spread
    charges[d, k, 0] = borrow
    charges[d, k, 1] = spread


@numba.njit(cache=True, nogil=True, inline="always")
def _differ(targets, rule, d, p, k):  # pragma: no cover - compiled
    """Whether allocation k's targets decided on rows d and p differ by more than ``_EPS`` in some asset."""
    for j in range(targets.shape[2]):
        if abs(_target(targets, rule, d, k, j) - _target(targets, rule, p, k, j)) > _EPS:
            return True
    return False


@numba.njit(cache=True, nogil=True, inline="always")
def _next_due(leg_slot, nxt, count):  # pragma: no cover - compiled
    """The earliest slot of any asset's first leg not yet filled (``_NEVER`` if none)."""
    out = _NEVER
    for j in range(len(count)):
        if nxt[j] < count[j] and leg_slot[j, nxt[j]] < out:
            out = leg_slot[j, nxt[j]]
    return out


@numba.njit(cache=True, nogil=True, inline="always")
def _fill_until(  # pragma: no cover - compiled
    end, due, k, leg_slot, leg_target, nxt, count, order_price, fees, fee_per_col, slippage, slip_per_col,
    first_slot, state, units, last_val, temp, seq, records, margin,
):  # fmt: skip
    """Fill allocation k's legs due before slot ``end``, slot by slot, as vectorbt's from_orders does;
    return the next due slot.  ``margin``: a margin account's legs (:func:`_fill_margin`).

    ``due``: the earliest slot with a leg not yet filled.  ``state``: [cash, free cash, record count].
    At a slot with legs every column is valued at that slot's price, the group's value is cash plus
    units at those prices, and the legs run sells first by approximate order value, each sized on the
    value at the start of the slot.  Legs before ``first_slot`` are skipped (the simulation leaves
    them out too).
    """
    n_assets = len(count)
    while due < end:
        if due < first_slot:
            for j in range(n_assets):
                if nxt[j] < count[j] and leg_slot[j, nxt[j]] == due:
                    nxt[j] += 1
            due = _next_due(leg_slot, nxt, count)
            continue
        row = due - first_slot
        for j in range(n_assets):
            p = order_price[row, j]
            if not np.isnan(p):
                last_val[j] = p
        cash = state[0]
        free_cash = state[1]
        value = cash
        for j in range(n_assets):
            if units[j] != 0:
                value += units[j] * last_val[j]
        n_due = 0
        for j in range(n_assets):
            size = np.nan
            if nxt[j] < count[j] and leg_slot[j, nxt[j]] == due:
                size = leg_target[j, nxt[j]]
                n_due += 1
            temp[j] = size
            seq[j] = j
        if n_due > 1:  # the order of one leg's slot is that leg: nothing to approximate, nothing to sort
            direction = _BOTH if margin else _LONG_ONLY
            for j in range(n_assets):
                temp[j] = approx_order_value_nb(
                    temp[j], _TARGET_PERCENT, direction, cash, units[j], free_cash, last_val[j], value
                )
            insert_argsort_nb(temp, seq)
        oidx = int(state[2])
        for q in range(n_assets):
            j = seq[q]
            if not (nxt[j] < count[j] and leg_slot[j, nxt[j]] == due):
                continue
            col = k * n_assets + j
            fee = fees[row, col if fee_per_col else j]
            slip = slippage[row if slippage.shape[0] > 1 else 0, col if slip_per_col else j]
            order = order_nb(
                leg_target[j, nxt[j]], order_price[row, j], _TARGET_PERCENT, _BOTH if margin else _LONG_ONLY, fee,
                0.0, slip, 0.0, np.inf, np.nan, 0.0, False, True, False, False,
            )  # fmt: skip
            if margin:
                position, cash, oidx = _fill_margin(row, col, cash, units[j], last_val[j], value, oidx, order, records)
                free_cash = cash
            else:
                before = ProcessOrderState(cash, units[j], 0.0, free_cash, last_val[j], value, oidx, 0)
                after, _, oidx = _process(row, col, before, order, records)
                cash = after.cash
                free_cash = after.free_cash
                position = after.position
            units[j] = position
            nxt[j] += 1
        state[0] = cash
        state[1] = free_cash
        state[2] = oidx
        due = _next_due(leg_slot, nxt, count)
    return due


@numba.njit(cache=True, nogil=True, inline="always")
def _process(row, col, state, order, records):  # pragma: no cover - compiled
    """vectorbt's ``process_order_nb(row, col, group, state, update_value=False, order, records, logs)``
    for an order without a log: ``execute_order_nb``, then the fill's record (``fill_order_record_nb``)
    at ``state.oidx``.  Returns (vectorbt's cash, units and debt after the order, the order's result,
    the next record index); the valuation price and value, which that call leaves as they were, are
    not returned."""
    after, result = execute_order_nb(state, order)
    oidx = state.oidx
    if result.status == _FILLED:
        if oidx > len(records) - 1:
            raise IndexError("order_records index out of range. Set a higher max_orders.")
        fill_order_record_nb(records[oidx], oidx, row, col, result)
        oidx += 1
    return after, result, oidx


@numba.njit(cache=True, nogil=True, inline="always")
def _fill_margin(row, col, cash, position, val_price, value, oidx, order, records):  # pragma: no cover
    """One leg of a margin account (docs/shorts.md): vectorbt's order execution (direction both) on an
    unlimited cash line, so no buy is cut and no sale capped; the account's cash follows from the fill's
    size, price and fees with vectorbt's arithmetic (a buy: ``add_nb(cash, -(size x price + fees))``, a
    sale: ``cash + add_nb(size x price, -fees)``).  Returns (units held after the leg, cash, the next
    record index)."""
    if is_close_nb(cash, 0):
        cash = 0.0
    before = ProcessOrderState(np.inf, position, 0.0, np.inf, val_price, value, oidx, 0)
    after, result, oidx = _process(row, col, before, order, records)
    if result.status == _FILLED:
        traded = result.size * result.price
        buy = result.side == _BUY
        cash = add_nb(cash, -(traded + result.fees)) if buy else cash + add_nb(traded, -result.fees)
    return after.position, cash, oidx


@numba.njit(cache=True, nogil=True, inline="always")
def _decide(  # pragma: no cover - compiled
    d,
    k,
    lower,
    targets,
    rule,
    next_slot,
    close,
    first_slot,
    total_slots,
    m,
    state,
    units,
    weight,
    sell,
    active,
    new_slot,
    leg_slot,
    leg_target,
    leg_decision,
    count,
    nxt,
):
    """Schedule the legs of the event decided on date d from the state filled so far (rule 4)."""
    n_assets = targets.shape[2]
    eod = d * m + m - 1 - first_slot  # the decision date's last slot: its end-of-day values
    value = state[0]
    for j in range(n_assets):
        weight[j] = 0.0
    if eod >= 0:
        for j in range(n_assets):
            if units[j] != 0:
                weight[j] = units[j] * close[eod, j]
                value += weight[j]
        if value > 0:
            for j in range(n_assets):
                weight[j] /= value
    last_sell = -1
    for j in range(n_assets):
        want = _target(targets, rule, d, k, j)
        active[j] = abs(want) > _EPS or units[j] != 0 or nxt[j] < count[j]
        sell[j] = active[j] and want < weight[j] - _EPS
        if sell[j]:
            new_slot[j] = next_slot[lower, j] if lower < total_slots else _NEVER
            if new_slot[j] > last_sell:
                last_sell = new_slot[j]
    buy_lower = lower if last_sell < 0 else last_sell
    for j in range(n_assets):
        if active[j] and not sell[j]:
            new_slot[j] = next_slot[buy_lower, j] if buy_lower < total_slots else _NEVER
    for j in range(n_assets):
        if not active[j]:
            continue
        while count[j] > nxt[j] and leg_slot[j, count[j] - 1] >= new_slot[j]:
            count[j] -= 1
        leg_slot[j, count[j]] = new_slot[j]
        leg_target[j, count[j]] = _target(targets, rule, d, k, j)
        leg_decision[j, count[j]] = d
        count[j] += 1


@numba.njit(cache=True, nogil=True, inline="always")
def _target(targets, rule, d, k, j):  # pragma: no cover - compiled
    """Allocation k's target for asset j decided on row d: ``targets[d, k, j]``, or by rule (``rule`` (K, n)
    not empty) ``targets[rule[k, d], 0, j]``."""
    if rule.shape[0]:
        return targets[rule[k, d], 0, j]
    return targets[d, k, j]
