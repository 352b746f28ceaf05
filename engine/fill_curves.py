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

__all__ = ["curves_from_fills", "fill_flows", "first_at_or_after", "reported_row"]


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
    n_rec = len(idx)
    first_at = first_at_or_after(out_rows)
    # each group's records: [ptr[g], end[g]), the groups in order
    ptr = np.zeros(n_groups, np.int64)
    end = np.zeros(n_groups, np.int64)
    last = -1
    for r in range(n_rec):
        g = col[r] // n_assets
        if g < last or g >= n_groups or col[r] < 0:
            raise ValueError("curves_from_fills: records are not grouped by column in column order")
        if g != last:
            ptr[g] = r
            last = g
        end[g] = r + 1
    # the reported row of each group's next record (n_out: none left to report)
    nxt = np.full(n_groups, n_out, np.int64)
    for g in range(n_groups):
        if ptr[g] < end[g]:
            nxt[g] = reported_row(first_at, out_rows, idx[ptr[g]])
    value = np.empty((n_out, n_groups))
    cash_sum = np.zeros(n_groups)
    units = np.zeros((n_assets, n_groups))  # by asset: each loop below runs over the groups, in SIMD lanes
    total = np.zeros((n_assets, n_groups))
    held = np.empty(n_groups)
    money = np.empty(n_groups)  # the row's values; dividing by a view of ``value`` was 0.2-0.3 ms a chunk slower
    flow = np.zeros(n_assets)
    for i in range(n_out):
        for g in range(n_groups):
            if nxt[g] == i:  # this row's flows, summed in record order, then added to the running sums
                base = g * n_assets
                row_cash = 0.0
                flow[:] = 0.0
                r = ptr[g]
                at = i
                while at == i:
                    units_in, cash_in = fill_flows(size[r], price[r], fees[r], side[r])
                    flow[col[r] - base] += units_in
                    row_cash += cash_in
                    r += 1
                    at = reported_row(first_at, out_rows, idx[r]) if r < end[g] else n_out
                if at < i:
                    raise ValueError("curves_from_fills: a column's records are not in slot order")
                ptr[g], nxt[g] = r, at
                cash_sum[g] += row_cash
                for j in range(n_assets):
                    units[j, g] += flow[j]
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
        for j in range(n_assets):
            uv = unit_value[i, j]
            for g in range(n_groups):
                total[j, g] += units[j, g] * uv / money[g]
    average = np.empty((n_groups, n_assets))
    for g in range(n_groups):
        for j in range(n_assets):
            average[g, j] = total[j, g] / n_out
    return value, average


@numba.njit(cache=True, nogil=True, inline="always")
def reported_row(first_at: np.ndarray, out_rows: np.ndarray, slot: int) -> int:  # pragma: no cover - compiled
    """The first of ``out_rows`` at or after ``slot`` (``first_at``: :func:`first_at_or_after` of them; a
    slot past its end, or before 0, by a binary search: the table costs half as much)."""
    return int(first_at[slot]) if 0 <= slot < len(first_at) else int(np.searchsorted(out_rows, slot))


@numba.njit(cache=True, nogil=True, inline="always")
def fill_flows(size: float, price: float, fees: float, side: int) -> tuple[float, float]:  # pragma: no cover
    """A fill's (units, cash) flows as vectorbt's ``assets()`` and ``cash()`` add them up: a buy
    (``side`` 0) adds ``size`` units and pays size x price + fees, a sale removes them and receives
    size x price - fees."""
    traded = size * price
    if side == 0:
        return size, -(traded + fees)
    return -size, traded - fees
