"""The one place that calls vectorbt's simulation.

``Portfolio.from_orders`` with target-percent sizes, cash sharing within a
group and ``call_seq='auto'`` (sells before buys within a slot), long only,
partial fills allowed (buys are limited to available cash).  Several
allocations (a strategy and its benchmarks, later sweep combinations) are
simulated in one call as separate groups of columns: vectorbt's "matrices
are first-class" idea, and most of a call's cost is Python overhead.

The engine is pinned explicitly: every call passes ``engine=`` to vectorbt's
simulation dispatch (vectorbt 1.2's default ``'auto'`` switches to Rust
silently when vectorbt-rust is installed); vectorbt's global setting is
never read nor changed, so threads may simulate at the same time.  Arrays are passed
C-contiguous (the Rust engine is about 2x slower on column-major arrays).
vectorbt is imported lazily so that ``seesaw validate`` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numba
import numpy as np

from engine.fill_curves import fill_flows, reported_rows

__all__ = ["ENGINES", "BatchSim", "Engine", "SimResult", "from_fills", "group_rows", "simulate", "simulate_batch"]

Engine = Literal["rust", "numba"]
ENGINES: tuple[str, ...] = ("rust", "numba")


@dataclass(frozen=True)
class SimResult:
    """Per-slot state of one group (allocation) after the simulation, and its fills."""

    value: np.ndarray  # (S,) portfolio value at the end of each slot
    cash: np.ndarray  # (S,)
    position: np.ndarray  # (S, A) units held
    order_slot: np.ndarray  # (F,) slot row of each fill
    order_asset: np.ndarray  # (F,) asset column
    order_size: np.ndarray  # (F,) units, positive
    order_price: np.ndarray  # (F,) fill price including slippage
    order_fees: np.ndarray  # (F,)
    order_side: np.ndarray  # (F,) 0 = buy, 1 = sell


@dataclass(frozen=True)
class BatchSim:
    """Every group of one vectorbt call, side by side: group g owns columns g*A .. g*A+A-1."""

    cash: np.ndarray  # (S, G) cash after each slot
    position: np.ndarray  # (S, G*A) units held after each slot
    value: np.ndarray  # (S, G) cash + units x price at the end of each slot
    records: np.ndarray  # vectorbt's order records (fields idx, col, size, price, fees, side)
    n_assets: int


def group_rows(slots: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Each group's own order slots, as the rows of one compact simulation.

    ``slots``, ``groups``: (L,) the slot and group of each order.  Returns ``rows`` (R, G), where
    column g lists group g's distinct slots ascending (R: the most any group has), padded with
    its last slot (slot 0 for a group without orders), and ``at`` (L,), the row of each order.
    """
    slots, groups = np.asarray(slots, dtype=np.int64), np.asarray(groups, dtype=np.int64)
    if len(slots) == 0:
        return np.zeros((0, n_groups), dtype=np.int64), np.zeros(0, dtype=np.int64)
    return _group_rows_nb(slots, groups, n_groups)


@numba.njit(cache=True, nogil=True)
def _group_rows_nb(slots: np.ndarray, groups: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`group_rows`: orders by group (a counting sort), then each group's distinct slots in
    order by marking them on the slot axis and scanning it from the group's first to last slot
    (no sorting routine: numba takes seconds to compile one)."""
    begin = np.zeros(n_groups + 1, dtype=np.int64)
    for g in groups:
        begin[g + 1] += 1
    begin = np.cumsum(begin)
    pointer = begin[:-1].copy()
    perm = np.empty(len(slots), dtype=np.int64)
    for i in range(len(slots)):
        perm[pointer[groups[i]]] = i
        pointer[groups[i]] += 1
    span = slots.max() + 1
    seen = np.zeros(span, dtype=np.bool_)
    row_of = np.zeros(span, dtype=np.int64)
    at = np.empty(len(slots), dtype=np.int64)
    distinct = np.zeros(n_groups, dtype=np.int64)
    for g in range(n_groups):
        if begin[g] == begin[g + 1]:
            continue
        low, high = span, -1
        for p in range(begin[g], begin[g + 1]):
            slot = slots[perm[p]]
            seen[slot] = True
            low, high = min(low, slot), max(high, slot)
        row = 0
        for slot in range(low, high + 1):
            if seen[slot]:
                row_of[slot] = row
                row += 1
                seen[slot] = False
        for p in range(begin[g], begin[g + 1]):
            at[perm[p]] = row_of[slots[perm[p]]]
        distinct[g] = row
    rows = np.zeros((distinct.max(), n_groups), dtype=np.int64)
    for i in range(len(slots)):
        rows[at[i], groups[i]] = slots[i]
    for g in range(n_groups):
        if distinct[g] > 0:
            rows[distinct[g] :, g] = rows[distinct[g] - 1, g]
    return rows, at


def _gather(
    x: np.ndarray | Sequence[np.ndarray], rows: np.ndarray, n_rows: int, n_groups: int, n_assets: int
) -> np.ndarray:
    """Group g's values at its rows ``rows[:, g]``, side by side: one C-ordered (R, G*A) array.

    ``x``: an (S, A) array (or (A,)) shared by every group, a list of G such arrays, or (S, G*A).
    """
    if not isinstance(x, np.ndarray):
        if len(x) != n_groups:
            raise ValueError(f"expected {n_groups} price arrays, got {len(x)}")
        return np.ascontiguousarray(np.hstack([np.asarray(a)[rows[:, g]] for g, a in enumerate(x)]), dtype=np.float64)
    if x.ndim == 2 and x.shape[1] == n_groups * n_assets and n_groups > 1:
        return np.ascontiguousarray(
            x[np.repeat(rows, n_assets, axis=1), np.arange(n_groups * n_assets)], dtype=np.float64
        )
    full = np.broadcast_to(x, (n_rows, n_assets))
    return np.ascontiguousarray(full[rows].reshape(len(rows), n_groups * n_assets), dtype=np.float64)


def simulate_batch(
    *,
    size: np.ndarray,
    price: np.ndarray | Sequence[np.ndarray],
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    engine: Engine,
    n_assets: int,
    order_price: np.ndarray | Sequence[np.ndarray] | None = None,
    report_rows: np.ndarray | None = None,
    rows: np.ndarray | None = None,
    n_slots: int | None = None,
) -> BatchSim:
    """Simulate target-percent orders of G = size.shape[1] / A allocations in one call.

    ``size[s, g*A + j]``: target weight of asset j that allocation g orders in slot s (NaN:
    none).  ``price``: the value of each asset at the end of each slot, which values positions:
    (S, A) for every group, a list of G such arrays, or (S, G*A).  ``order_price``: what an
    order fills at and what the group is valued at when sizing it (default: ``price``); orders
    are only placed where it is a real traded price (the caller guarantees this).  ``fees``:
    fractions, (A,), (S, A) or (S, G*A); ``slippage``: (A,), (G*A,), (S, A) or (S, G*A).  Each
    allocation starts with ``init_cash`` and shares cash only among its own assets.
    ``report_rows``: the slots at which cash, units and value are returned (default: every slot;
    a sweep asks for the last slot of each date only).  ``rows`` (R, G), with ``n_slots`` (the
    number of slots S): ``size`` is already compact, row r of group g being slot ``rows[r, g]``
    (what :meth:`engine.execution.BatchPlan.orders_from` gives, without an (S, G*A) array of NaN).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    n_groups = size.shape[1] // n_assets
    rows, active, n_rows = _compact(size, n_assets, n_groups, rows, n_slots)
    rec = _batch_records(
        engine,
        active=active,
        rows=rows,
        n_rows=n_rows,
        price=price if order_price is None else order_price,
        fees=fees,
        slippage=slippage,
        init_cash=float(init_cash),
        n_assets=n_assets,
    )
    out_rows = np.arange(n_rows) if report_rows is None else np.asarray(report_rows, dtype=np.int64)
    close_out, price_col = _report_prices(price, out_rows, n_rows, n_groups, n_assets)
    cash, position, value = _cash_and_position(
        rec, out_rows, n_groups, n_assets, float(init_cash), close_out, price_col
    )
    assert value is not None
    return BatchSim(cash=cash, position=position, value=value, records=rec, n_assets=n_assets)


def _compact(
    size: np.ndarray, n_assets: int, n_groups: int, rows: np.ndarray | None, n_slots: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """``(rows, active, n_rows)``: each group's order slots ``rows`` (R, G), its orders on those rows
    ``active`` (R, G*A), and the number of slots S.

    Each group is simulated on its own order slots only (:func:`group_rows`): between its orders
    nothing changes its cash or units (no interest is credited in cash-index units, no fees), and
    sizing reads only the current cash, units and that slot's valuation prices, so leaving the other
    slots out is exact, and a group's fills do not depend on which groups share the call.  The
    groups' row r are different slots: prices and fees are gathered per group.  Values at any slot
    are recomputed afterwards from the order records.  Given ``rows``, ``size`` is already compact.
    """
    if rows is not None:
        if n_slots is None:
            raise ValueError("rows needs n_slots, the number of slots")
        return rows, size, n_slots
    slot, column = np.nonzero(~np.isnan(size))
    rows, at = group_rows(slot, column // n_assets, n_groups)
    active = np.full((len(rows), size.shape[1]), np.nan)
    active[at, column] = size[slot, column]
    return rows, active, size.shape[0]


def _batch_records(
    engine: Engine,
    *,
    active: np.ndarray,
    rows: np.ndarray,
    n_rows: int,
    price: np.ndarray | Sequence[np.ndarray],
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    n_assets: int,
) -> np.ndarray:
    """vectorbt's order records for the compact orders ``active`` (R, G*A) on the slots ``rows``
    (R, G), with ``idx`` mapped back from the compact row to the slot.

    ``price`` (what orders fill at), ``fees`` and ``slippage`` are in :func:`simulate_batch`'s
    layouts over all ``n_rows`` slots; each group's rows are gathered from them.
    """
    if len(rows) == 0:
        from vectorbt.portfolio.enums import order_dt

        return np.zeros(0, dtype=order_dt)
    width = active.shape[1]
    n_groups = width // n_assets
    slip = np.asarray(slippage, dtype=np.float64)
    if slip.ndim == 2:  # per slot and asset: (S, A) or (S, G*A)
        slip_rows = _gather(slip, rows, n_rows, n_groups, n_assets)
    else:
        slip_rows = slip if slip.shape == (width,) else np.tile(np.broadcast_to(slip, (n_assets,)), n_groups)
    rec = _order_records(
        engine,
        size=np.ascontiguousarray(active, dtype=np.float64),
        price=_gather(price, rows, n_rows, n_groups, n_assets),
        fees=_gather(np.asarray(fees, dtype=np.float64), rows, n_rows, n_groups, n_assets),
        slippage=np.ascontiguousarray(slip_rows, dtype=np.float64),
        init_cash=init_cash,
        n_groups=n_groups,
        n_assets=n_assets,
    )
    rec["idx"] = rows[rec["idx"], rec["col"] // n_assets]
    return rec


def _report_prices(
    price: np.ndarray | Sequence[np.ndarray], out_rows: np.ndarray, n_rows: int, n_groups: int, n_assets: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(close_out, price_col)``: the valuation prices at ``out_rows`` and, for each column c of the
    group layout, the column of ``close_out`` that prices it (see :func:`_cash_and_position`)."""
    width = n_groups * n_assets
    if isinstance(price, np.ndarray) and price.ndim == 2 and price.shape[1] == width and n_groups > 1:
        return price[out_rows], np.arange(width)  # (S, G*A): one column each
    if isinstance(price, np.ndarray):  # (S, A) or (A,), shared by every group
        return np.broadcast_to(price, (n_rows, n_assets))[out_rows], np.tile(np.arange(n_assets), n_groups)
    # one (S, A) array per group
    close_out = _gather(
        price, np.broadcast_to(out_rows[:, None], (len(out_rows), n_groups)), n_rows, n_groups, n_assets
    )
    return close_out, np.arange(width)


def from_fills(
    records: np.ndarray, *, price: np.ndarray, init_cash: float, n_groups: int, n_assets: int, report_rows: np.ndarray
) -> BatchSim:
    """Cash, units and value after each of ``report_rows`` from fills already made: vectorbt order
    records (``idx`` the slot, ``col`` g*A + j), such as those of the order scheduler
    (:attr:`engine.execution.BatchPlan.fills`), which executes every leg with vectorbt's own order
    primitives as ``from_orders`` does.  ``price``: (S, A) values of one unit at the end of each slot,
    shared by every group.
    """
    out_rows = np.asarray(report_rows, dtype=np.int64)
    close_out = np.asarray(price)[out_rows]
    cash, position, value = _cash_and_position(
        records, out_rows, n_groups, n_assets, float(init_cash), close_out, np.tile(np.arange(n_assets), n_groups)
    )
    assert value is not None
    return BatchSim(cash=cash, position=position, value=value, records=records, n_assets=n_assets)


def simulate(
    *,
    sizes: list[np.ndarray],
    price: np.ndarray | Sequence[np.ndarray],
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    engine: Engine,
    order_price: np.ndarray | Sequence[np.ndarray] | None = None,
) -> list[SimResult]:
    """Simulate several allocations (``sizes[g]``: (S, A)) in one call; one :class:`SimResult` each.

    See :func:`simulate_batch` for the arguments.
    """
    n_assets = sizes[0].shape[1]
    batch = simulate_batch(
        size=np.hstack(sizes),
        price=price,
        fees=fees,
        slippage=slippage,
        init_cash=init_cash,
        engine=engine,
        n_assets=n_assets,
        order_price=order_price,
    )
    rec = batch.records
    out = []
    for g in range(len(sizes)):
        mine = rec[(rec["col"] // n_assets) == g]
        out.append(
            SimResult(
                value=batch.value[:, g].copy(),
                cash=batch.cash[:, g].copy(),
                position=batch.position[:, g * n_assets : (g + 1) * n_assets].copy(),
                order_slot=mine["idx"].astype(np.int64),
                order_asset=(mine["col"] % n_assets).astype(np.int64),
                order_size=mine["size"].astype(np.float64),
                order_price=mine["price"].astype(np.float64),
                order_fees=mine["fees"].astype(np.float64),
                order_side=mine["side"].astype(np.int64),
            )
        )
    return out


def _order_records(
    engine: Engine,
    *,
    size: np.ndarray,
    price: np.ndarray,
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    n_groups: int,
    n_assets: int,
) -> np.ndarray:
    """vectorbt's order simulation, as ``Portfolio.from_orders`` runs it, returning its order records.

    ``Portfolio.from_orders(close=price, size=size, size_type="targetpercent", direction="longonly",
    price=price, val_price=price, fees=fees, slippage=slippage, init_cash=init_cash,
    cash_sharing=True, group_by=<A columns a group>, call_seq="auto", allow_partial=True,
    raise_reject=False, ffill_val_price=True, update_value=False)`` prepares exactly these arguments
    for ``vectorbt.portfolio.dispatch.simulate_from_orders`` (vectorbt 1.2, ``base.py``) and then
    wraps the records in pandas objects Seesaw never reads; calling the dispatch directly skips
    that wrapping (about a fifth of a sweep chunk's time).  ``tests/unit/test_simulate.py`` checks
    the records against ``from_orders`` on both engines.
    """
    from vectorbt.portfolio import dispatch
    from vectorbt.portfolio.enums import CallSeqType, Direction, SizeType
    from vectorbt.portfolio.nb import build_call_seq

    shape = size.shape
    group_lens = np.full(n_groups, n_assets, dtype=np.int64)
    records, _ = dispatch.simulate_from_orders(
        shape,
        group_lens,
        np.full(n_groups, init_cash, dtype=np.float64),
        build_call_seq(shape, group_lens, call_seq_type=CallSeqType.Default),
        size=size,
        price=price,
        size_type=np.asarray(SizeType.TargetPercent),
        direction=np.asarray(Direction.LongOnly),
        fees=fees,
        slippage=slippage,
        allow_partial=np.asarray(True),
        raise_reject=np.asarray(False),
        log=np.asarray(False),
        val_price=price,
        close=price,
        auto_call_seq=True,
        ffill_val_price=True,
        update_value=False,
        max_orders=shape[0] * shape[1],
        max_logs=1,
        flex_2d=True,
        engine=engine,
    )
    return np.asarray(records).copy()


def _cash_and_position(
    rec: np.ndarray,
    out_rows: np.ndarray,
    n_groups: int,
    n_assets: int,
    init_cash: float,
    close: np.ndarray | None = None,
    price_col: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Cash per group, units per column and (given ``close``) value per group after each of
    ``out_rows`` (ascending), from the order records.

    This is how vectorbt's own ``cash()``, ``assets()`` and ``value()`` derive them (cumulative
    sums of cash and asset flows; cash + units x price), without the wrappers' overhead of
    several milliseconds a call.  The tests check all three against vectorbt's methods.  Each
    record's flow counts from the first reported row at or after its own.  ``close``: (len(out_rows), P)
    prices at those rows; column c of the group layout is priced by ``close[:, price_col[c]]``.
    """
    width = n_groups * n_assets
    priced = close is not None
    if close is None or price_col is None:
        close, price_col = np.zeros((len(out_rows), 1)), np.zeros(width, dtype=np.int64)
    cash, position, value = _equity_nb(
        np.asarray(out_rows, dtype=np.int64),
        rec["idx"],
        rec["col"],
        rec["size"],
        rec["price"],
        rec["fees"],
        rec["side"],
        np.ascontiguousarray(close, dtype=np.float64),
        np.asarray(price_col, dtype=np.int64),
        n_groups,
        n_assets,
        float(init_cash),
    )
    return cash, position, value if priced else None


@numba.njit(cache=True, nogil=True)
def _equity_nb(
    out_rows: np.ndarray,
    idx: np.ndarray,
    col: np.ndarray,
    size: np.ndarray,
    price: np.ndarray,
    fees: np.ndarray,
    side: np.ndarray,
    close: np.ndarray,
    price_col: np.ndarray,
    n_groups: int,
    n_assets: int,
    init_cash: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Each record's units and cash flow (a buy pays size x price + fees, a sell receives size x
    price - fees) summed per reported row in record order, then running sums in row order (the
    operations, and so the bits, of ``init_cash + cumsum(bincount(...))``), and value."""
    n_out = close.shape[0]
    width = n_groups * n_assets
    cash = np.zeros((n_out, n_groups))
    position = np.zeros((n_out, width))
    reported = reported_rows(out_rows, idx)  # the first reported row at or after each record's slot
    for r in range(len(idx)):
        at = reported[r]
        if at < n_out:  # an order after the last reported row changes none of them
            units_in, cash_in = fill_flows(size[r], price[r], fees[r], side[r])
            position[at, col[r]] += units_in
            cash[at, col[r] // n_assets] += cash_in
    value = np.empty((n_out, n_groups))
    cash_sum = np.zeros(n_groups)
    units_sum = np.zeros(width)
    for i in range(n_out):
        for c in range(width):
            units_sum[c] += position[i, c]
            position[i, c] = units_sum[c]
        for g in range(n_groups):
            cash_sum[g] += cash[i, g]
            cash[i, g] = init_cash + cash_sum[g]
            held = 0.0
            for j in range(n_assets):
                c = g * n_assets + j
                if position[i, c] != 0.0:  # no units are worth 0, even at a NaN price (as vectorbt's value())
                    held += position[i, c] * close[i, price_col[c]]
            value[i, g] = cash[i, g] + held
    return cash, position, value
