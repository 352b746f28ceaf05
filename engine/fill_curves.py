"""Money curves and average weights straight from the order scheduler's fills, in one compiled pass.

A sweep needs, of each combination's simulation, only its value in money at the end of every run
date and each asset's average weight.  :func:`engine.simulate.from_fills` builds the cash (n, K) and
the units (n, K*A) at every reported row first; the value is then multiplied by the cash index and
the weights are averaged from the units in two more passes.  :func:`curves_from_fills` walks each
column's fills once, in date order, and keeps only the running cash and units, so neither array is
written or read again.  It goes date by date; within a date, after the fills reported there, each step
(holdings, value, weights) is one loop over all the groups, which the compiler runs several groups at a time
(SIMD lanes; each group's operations and their order are unchanged).

The operations, and so the bits, are those of ``from_fills`` (a reported row's flows summed in
record order, then added to the running sums; an asset held at a NaN price adds nothing only when
no units are held), the value times the scale, and
:func:`engine.metrics.returns.average_weights` (units x unit value / value, summed in date order).
``tests/unit/test_fill_curves.py`` checks them against those functions bit for bit.

It needs each column's fills together and in date order, as the scheduler writes them
(:attr:`engine.execution.BatchPlan.fills`: column by column, by slot); vectorbt's own records, by
asset within a column, go through ``from_fills``.  Records in another order raise ``ValueError``.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["curves_from_fills", "fill_flows", "first_at_or_after", "reported_rows"]


def curves_from_fills(
    records: np.ndarray,
    *,
    price: np.ndarray,
    init_cash: float,
    n_groups: int,
    n_assets: int,
    report_rows: np.ndarray,
    scale: np.ndarray,
    unit_value: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """((n, K) value x ``scale`` after each of the n ``report_rows``, (K, A) average weights).

    ``records``: vectorbt order records (``idx`` the slot, ``col`` g*A + j), each group's together
    and in slot order; ``price``: (S, A) value of one unit at the end of each slot, in the units of
    the cash; ``scale``: (n,) money per unit of cash at each reported row (the cash index);
    ``unit_value``: (n, A) money value of one unit of each asset, the weights' numerator.
    """
    rows = np.asarray(report_rows, dtype=np.int64)
    return _curves_nb(
        rows,
        records["idx"],
        records["col"],
        records["size"],
        records["price"],
        records["fees"],
        records["side"],
        np.ascontiguousarray(np.asarray(price)[rows], dtype=np.float64),
        n_groups,
        n_assets,
        float(init_cash),
        np.ascontiguousarray(scale, dtype=np.float64),
        np.ascontiguousarray(unit_value, dtype=np.float64),
    )


@numba.njit(cache=True, nogil=True)
def first_at_or_after(out_rows: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """For each row 0..out_rows[-1], the index of the first of ``out_rows`` (ascending) at or after it."""
    n_out = len(out_rows)
    table = np.empty(max(out_rows[n_out - 1] + 1, 0) if n_out > 0 else 0, np.int64)
    at = 0
    for row in range(len(table)):
        while out_rows[at] < row:
            at += 1
        table[row] = at
    return table


@numba.njit(cache=True, nogil=True)
def reported_rows(out_rows: np.ndarray, slots: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    """For each of ``slots``, the index of the first of ``out_rows`` (ascending) at or after it
    (``len(out_rows)``: none).

    A table of every slot up to the last reported one, then a lookup per slot written out in the loop (a
    slot past the table, or before 0, by a binary search).  Not a helper called per slot: numba counts
    references to the arrays a call is passed, even inlined, which cost 10 ns a record (1.1 ms of a
    sweep chunk's 110,000 records; the lookups themselves take 0.1 ms).
    """
    first_at = first_at_or_after(out_rows)
    size = len(first_at)
    out = np.empty(len(slots), np.int64)
    for r in range(len(slots)):
        slot = slots[r]
        out[r] = first_at[slot] if 0 <= slot < size else np.searchsorted(out_rows, slot)
    return out


@numba.njit(cache=True, nogil=True)
def _row_flows(
    row_of: np.ndarray,
    col: np.ndarray,
    size: np.ndarray,
    price: np.ndarray,
    fees: np.ndarray,
    side: np.ndarray,
    n_groups: int,
    n_assets: int,
    n_out: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """Each group's flows on each reported row it trades on, sorted by row (a counting sort): (start
    (n_out + 1,): row i's flows are [start[i], start[i+1]); their group; cash flow; (., A) units flows).

    ``row_of``: each record's reported row.  A group's flows on a row are its records' there, summed in
    record order.  Checks that the records are grouped by column, in column order, each group's in slot
    order; those reported after the last row (``row_of`` = ``n_out``) change no row.
    """
    n_rec = len(row_of)
    start = np.zeros(n_out + 1, np.int64)
    base = 0  # the first column of the current record's group (group 0 until a record says otherwise)
    last_row = -1
    for r in range(n_rec):
        c, row = col[r], row_of[r]
        new = c < base or c >= base + n_assets  # a division per group, not per record
        if new:
            if c < base + n_assets or c >= n_groups * n_assets:  # an earlier group, a negative column, or past K
                raise ValueError("curves_from_fills: records are not grouped by column in column order")
            base = c // n_assets * n_assets
        elif row < last_row:
            raise ValueError("curves_from_fills: a column's records are not in slot order")
        if (new or row != last_row) and row < n_out:
            start[row + 1] += 1
        last_row = row
    for i in range(n_out):
        start[i + 1] += start[i]
    at = start[:n_out].copy()
    group = np.empty(start[n_out], np.int64)
    cash = np.empty(start[n_out])
    units = np.zeros((start[n_out], n_assets))
    r = 0
    while r < n_rec:
        g, row = col[r] // n_assets, row_of[r]
        base = g * n_assets
        p = at[row] if row < n_out else -1
        row_cash = 0.0
        while r < n_rec and row_of[r] == row and base <= col[r] < base + n_assets:
            units_in, cash_in = fill_flows(size[r], price[r], fees[r], side[r])
            if p >= 0:
                units[p, col[r] - base] += units_in
            row_cash += cash_in
            r += 1
        if p >= 0:
            group[p], cash[p] = g, row_cash
            at[row] = p + 1
    return start, group, cash, units


@numba.njit(cache=True, nogil=True, error_model="numpy")
def _curves_nb(
    out_rows: np.ndarray,
    idx: np.ndarray,
    col: np.ndarray,
    size: np.ndarray,
    price: np.ndarray,
    fees: np.ndarray,
    side: np.ndarray,
    close: np.ndarray,
    n_groups: int,
    n_assets: int,
    init_cash: float,
    scale: np.ndarray,
    unit_value: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    n_out = close.shape[0]
    start, flow_group, flow_cash, flow_units = _row_flows(
        reported_rows(out_rows, idx), col, size, price, fees, side, n_groups, n_assets, n_out
    )
    value = np.empty((n_out, n_groups))
    cash_sum = np.zeros(n_groups)
    units = np.zeros((n_assets, n_groups))  # by asset: each loop below runs over the groups, in SIMD lanes
    total = np.zeros((n_assets, n_groups))
    held = np.empty(n_groups)
    money = np.empty(n_groups)  # the row's values; dividing by a view of ``value`` was 0.2-0.3 ms a chunk slower
    for i in range(n_out):
        for p in range(start[i], start[i + 1]):  # this row's flows, each added to its group's running sums
            g = flow_group[p]
            cash_sum[g] += flow_cash[p]
            for j in range(n_assets):
                units[j, g] += flow_units[p, j]
        held[:] = 0.0
        for j in range(n_assets):  # each group's holdings summed in asset order, as one group at a time would
            c = close[i, j]
            for g in range(n_groups):
                u = units[j, g]
                if u != 0.0:  # no units are worth 0, even at a NaN price (as vectorbt's value())
                    held[g] += u * c
        s = scale[i]
        for g in range(n_groups):
            money[g] = ((init_cash + cash_sum[g]) + held[g]) * s
            value[i, g] = money[g]
        for j in range(n_assets):  # numpy's error model: a zero value gives inf or NaN, as average_weights
            uv = unit_value[i, j]
            for g in range(n_groups):
                total[j, g] += units[j, g] * uv / money[g]
    average = np.empty((n_groups, n_assets))
    for g in range(n_groups):
        for j in range(n_assets):
            average[g, j] = total[j, g] / n_out
    return value, average


@numba.njit(cache=True, nogil=True, inline="always")
def fill_flows(size: float, price: float, fees: float, side: int) -> tuple[float, float]:  # pragma: no cover
    """A fill's (units, cash) flows as vectorbt's ``assets()`` and ``cash()`` add them up: a buy
    (``side`` 0) adds ``size`` units and pays size x price + fees, a sale removes them and receives
    size x price - fees."""
    traded = size * price
    if side == 0:
        return size, -(traded + fees)
    return -size, traded - fees
