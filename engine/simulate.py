"""The one place that calls vectorbt's simulation.

``Portfolio.from_orders`` with target-percent sizes, one group with cash
sharing and ``call_seq='auto'`` (sells before buys within a slot), long only,
partial fills allowed (buys are limited to available cash).  The engine is
pinned explicitly: vectorbt 1.2's default ``'auto'`` switches to Rust
silently when vectorbt-rust is installed.  Arrays are passed C-contiguous
(the Rust engine is about 2x slower on column-major arrays).

vectorbt is imported lazily so that ``seesaw validate`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["ENGINES", "SimResult", "simulate"]

Engine = Literal["rust", "numba"]
ENGINES: tuple[str, ...] = ("rust", "numba")


@dataclass(frozen=True)
class SimResult:
    """Per-slot state after the simulation, and the filled orders."""

    value: np.ndarray  # (S,) portfolio value at the end of each slot
    cash: np.ndarray  # (S,)
    position: np.ndarray  # (S, A) units held
    order_slot: np.ndarray  # (F,) slot row of each fill
    order_asset: np.ndarray  # (F,) asset column
    order_size: np.ndarray  # (F,) units, positive
    order_price: np.ndarray  # (F,) fill price including slippage
    order_fees: np.ndarray  # (F,)
    order_side: np.ndarray  # (F,) 0 = buy, 1 = sell


def simulate(
    *,
    size: np.ndarray,
    price: np.ndarray,
    fees: np.ndarray,
    slippage: np.ndarray,
    init_cash: float,
    engine: Engine,
) -> SimResult:
    """Simulate target-percent orders.

    ``size[s, j]``: target weight of asset j ordered in slot s (NaN: no order).
    ``price[s, j]``: the price of asset j known in slot s; orders are only
    placed where it is the asset's real close of that slot (the caller
    guarantees this), and it values the position everywhere else.
    ``fees``/``slippage``: fractions per asset.
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}")
    import vectorbt as vbt

    c = np.ascontiguousarray
    # vectorbt's derived-array methods (value, cash, assets) take no engine= and read the global
    # setting; pin it for the duration of this call and restore it afterwards.
    previous = vbt.settings["engine"]
    vbt.settings["engine"] = engine
    try:
        return _run(vbt, c, size, price, fees, slippage, init_cash, engine)
    finally:
        vbt.settings["engine"] = previous


def _run(vbt, c, size, price, fees, slippage, init_cash, engine) -> SimResult:  # type: ignore[no-untyped-def]
    pf = vbt.Portfolio.from_orders(
        close=c(price, dtype=np.float64),
        size=c(size, dtype=np.float64),
        size_type="targetpercent",
        direction="longonly",
        price=c(price, dtype=np.float64),
        val_price=c(price, dtype=np.float64),
        fees=c(np.broadcast_to(fees, price.shape[1:]), dtype=np.float64),
        slippage=c(np.broadcast_to(slippage, price.shape[1:]), dtype=np.float64),
        init_cash=float(init_cash),
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        allow_partial=True,
        raise_reject=False,
        ffill_val_price=True,
        update_value=False,
        engine=engine,
    )
    rec = pf.orders.values
    return SimResult(
        value=np.asarray(pf.value(), dtype=np.float64).reshape(-1),
        cash=np.asarray(pf.cash(), dtype=np.float64).reshape(-1),
        position=np.asarray(pf.assets(), dtype=np.float64).reshape(price.shape),
        order_slot=rec["idx"].astype(np.int64),
        order_asset=rec["col"].astype(np.int64),
        order_size=rec["size"].astype(np.float64),
        order_price=rec["price"].astype(np.float64),
        order_fees=rec["fees"].astype(np.float64),
        order_side=rec["side"].astype(np.int64),
    )
