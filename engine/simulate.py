"""The one place that calls vectorbt's simulation.

``Portfolio.from_orders`` with target-percent sizes, cash sharing within a
group and ``call_seq='auto'`` (sells before buys within a slot), long only,
partial fills allowed (buys are limited to available cash).  Several
allocations (a strategy and its benchmarks, later sweep combinations) are
simulated in one call as separate groups of columns: vectorbt's "matrices
are first-class" idea, and most of a call's cost is Python overhead.

The engine is pinned explicitly: vectorbt 1.2's default ``'auto'`` switches
to Rust silently when vectorbt-rust is installed.  Arrays are passed
C-contiguous (the Rust engine is about 2x slower on column-major arrays).
vectorbt is imported lazily so that ``seesaw validate`` stays fast.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["ENGINES", "Engine", "SimResult", "simulate"]

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


def _per_group(x: np.ndarray | Sequence[np.ndarray], n_groups: int) -> np.ndarray:
    """One (S, A) array shared by every group, or one per group, side by side: (S, G*A)."""
    if isinstance(x, np.ndarray):
        return np.ascontiguousarray(np.tile(x, (1, n_groups)), dtype=np.float64)
    if len(x) != n_groups:
        raise ValueError(f"expected {n_groups} price arrays, got {len(x)}")
    return np.ascontiguousarray(np.hstack(list(x)), dtype=np.float64)


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
    """Simulate target-percent orders of several allocations.

    ``sizes[g][s, j]``: target weight of asset j that allocation g orders in
    slot s (NaN: no order).  ``price[s, j]``: the value of asset j at the end
    of slot s, which values positions (one array for every group, or one per
    group).  ``order_price``: what an order in slot s fills at and what the
    group is valued at when sizing it (default: ``price``); orders are only
    placed where it is a real traded price (the caller guarantees this).
    ``fees``: fractions per asset, (A,) or per slot (S, A); ``slippage``: (A,).
    Each allocation starts with ``init_cash`` and shares cash only among its
    own assets.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    import vectorbt as vbt

    with _pinned(vbt, engine):
        n_groups = len(sizes)
        close_all = _per_group(price, n_groups)
        n_rows, n_assets = close_all.shape[0], close_all.shape[1] // n_groups
        order_all = close_all if order_price is None else _per_group(order_price, n_groups)
        c = np.ascontiguousarray
        fees_all = np.tile(np.broadcast_to(fees, (n_rows, n_assets)) if np.ndim(fees) == 2 else fees, (1, n_groups))
        pf = vbt.Portfolio.from_orders(
            close=close_all,
            size=c(np.hstack(sizes), dtype=np.float64),
            size_type="targetpercent",
            direction="longonly",
            price=order_all,
            val_price=order_all,
            fees=c(fees_all, dtype=np.float64),
            slippage=c(np.tile(np.broadcast_to(slippage, (n_assets,)), n_groups), dtype=np.float64),
            init_cash=float(init_cash),
            cash_sharing=True,
            group_by=np.repeat(np.arange(n_groups), n_assets),
            call_seq="auto",
            allow_partial=True,
            raise_reject=False,
            ffill_val_price=True,
            update_value=False,
            engine=engine,
        )
        rec = pf.orders.values
        cash, position = _cash_and_position(rec, n_rows, n_groups, n_assets, float(init_cash))
        out = []
        for g in range(n_groups):
            cols = slice(g * n_assets, (g + 1) * n_assets)
            pos = position[:, cols]
            mine = rec[(rec["col"] // n_assets) == g]
            out.append(
                SimResult(
                    value=cash[:, g] + np.sum(pos * close_all[:, cols], axis=1),
                    cash=cash[:, g].copy(),
                    position=pos.copy(),
                    order_slot=mine["idx"].astype(np.int64),
                    order_asset=(mine["col"] % n_assets).astype(np.int64),
                    order_size=mine["size"].astype(np.float64),
                    order_price=mine["price"].astype(np.float64),
                    order_fees=mine["fees"].astype(np.float64),
                    order_side=mine["side"].astype(np.int64),
                )
            )
        return out


@contextlib.contextmanager
def _pinned(vbt: Any, engine: Engine) -> Iterator[None]:
    """Pin vectorbt's global engine setting for one call and restore it afterwards.

    Methods on the portfolio (records, cash, value) take no ``engine=`` and read the global setting.
    """
    previous = vbt.settings["engine"]
    vbt.settings["engine"] = engine
    try:
        yield
    finally:
        vbt.settings["engine"] = previous


def _cash_and_position(
    rec: np.ndarray, n_rows: int, n_groups: int, n_assets: int, init_cash: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cash per group and units per column after each row, from the order records.

    This is how vectorbt's own ``cash()`` and ``assets()`` derive them (cumulative
    sums of cash and asset flows), without the wrappers' overhead of several
    milliseconds a call; portfolio value is then cash + units x price, as in
    ``value()``.  The tests check all three against vectorbt's methods.
    """
    buy = rec["side"] == 0
    units = np.where(buy, rec["size"], -rec["size"])
    traded = rec["size"] * rec["price"]
    flow = np.where(buy, -(traded + rec["fees"]), traded - rec["fees"])
    asset_flow = np.zeros((n_rows, n_groups * n_assets))
    np.add.at(asset_flow, (rec["idx"], rec["col"]), units)
    cash_flow = np.zeros((n_rows, n_groups))
    np.add.at(cash_flow, (rec["idx"], rec["col"] // n_assets), flow)
    return init_cash + np.cumsum(cash_flow, axis=0), np.cumsum(asset_flow, axis=0)
