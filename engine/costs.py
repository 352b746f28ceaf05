"""Per-asset, per-date trading cost rates, converted from basis points once, here.

For asset j on date d (all in basis points of traded value, 1 bp = 0.01%):

* fee: ``assets.j.fee_bps`` if set, else ``costs.fee_bps``; slippage likewise
  from ``slippage_bps``.
* stamp duty, charged on buys and sells alike: ``assets.j.stamp_duty_bps`` if
  set; else, for an index or stock of the ``hk`` market, ``costs.hk_stamp_duty_bps``
  if set, else Hong Kong's dated schedule (:data:`HK_STAMP_DUTY`); else 0.
  ETFs pay none (Hong Kong waived stamp duty on ETF transfers), nor does a
  US-listed asset.  The schedule's rates are applied exactly; the statutory
  rounding up to a whole dollar per transaction is not modelled.

Fees (fee plus stamp duty) are a fraction of the traded value at the fill
price; slippage moves the fill price against the trader: a buy fills at
``price * (1 + slippage)``, a sell at ``price * (1 - slippage)``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.config.models import AssetSpec, Costs

__all__ = ["BPS", "HK_STAMP_DUTY", "CostRates", "cost_rates", "stamp_duty_bps"]

BPS = 1e-4

#: Hong Kong stamp duty on stock transfers, per side: (in force from, bps).  The first rate applies
#: to every earlier date as well.
HK_STAMP_DUTY: tuple[tuple[dt.date, float], ...] = (
    (dt.date(1900, 1, 1), 10.0),
    (dt.date(2021, 8, 1), 13.0),
    (dt.date(2023, 11, 17), 10.0),
)


@dataclass(frozen=True)
class CostRates:
    """Fractions: ``fees[d, j]`` of traded value on date d, ``slippage[j]`` of price; a margin account's
    financing a year (docs/shorts.md): ``borrow`` of its shorts' value, ``margin_spread`` above the cash
    rate on borrowed cash."""

    fees: np.ndarray  # (n, A)
    slippage: np.ndarray  # (A,)
    borrow: float = 0.0
    margin_spread: float = 0.0


def stamp_duty_bps(spec: AssetSpec, costs: Costs, dates: pd.DatetimeIndex) -> np.ndarray:
    """Stamp duty per side in bps of ``spec`` on each of ``dates`` (module docstring).

    >>> d = pd.DatetimeIndex(["2021-07-30", "2021-08-02", "2023-11-17"])
    >>> stamp_duty_bps(AssetSpec(symbol="^HSI", market="hk"), Costs(), d).tolist()
    [10.0, 13.0, 10.0]
    >>> stamp_duty_bps(AssetSpec(symbol="2800.HK", market="hk", instrument="etf"), Costs(), d).tolist()
    [0.0, 0.0, 0.0]
    """
    if spec.stamp_duty_bps is not None:
        return np.full(len(dates), spec.stamp_duty_bps)
    if spec.market != "hk" or spec.kind == "etf":
        return np.zeros(len(dates))
    if costs.hk_stamp_duty_bps is not None:
        return np.full(len(dates), costs.hk_stamp_duty_bps)
    starts = pd.DatetimeIndex([pd.Timestamp(d) for d, _ in HK_STAMP_DUTY])
    rates = np.array([r for _, r in HK_STAMP_DUTY])
    return rates[np.maximum(starts.searchsorted(dates, side="right") - 1, 0)]


def cost_rates(
    costs: Costs, specs: Mapping[str, AssetSpec], assets: Sequence[str], dates: pd.DatetimeIndex
) -> CostRates:
    """Cost fractions of ``assets`` (in that order) on each of ``dates``.

    >>> specs = {"us": AssetSpec(symbol="^GSPC", market="us"), "hk": AssetSpec(symbol="^HSI", market="hk")}
    >>> r = cost_rates(Costs(fee_bps=5, slippage_bps=2), specs, ["us", "hk"], pd.DatetimeIndex(["2022-01-03"]))
    >>> r.fees.round(6).tolist(), r.slippage.round(6).tolist()
    ([[0.0005, 0.0018]], [0.0002, 0.0002])
    """
    columns = []
    slippage = []
    for a in assets:
        spec = specs[a]
        fee = costs.fee_bps if spec.fee_bps is None else spec.fee_bps
        columns.append((fee + stamp_duty_bps(spec, costs, dates)) * BPS)
        slippage.append((costs.slippage_bps if spec.slippage_bps is None else spec.slippage_bps) * BPS)
    fees = np.column_stack(columns) if columns else np.zeros((len(dates), 0))
    return CostRates(
        fees=np.ascontiguousarray(fees, dtype="float64"),
        slippage=np.array(slippage, dtype="float64"),
        borrow=costs.borrow_bps * BPS,
        margin_spread=costs.margin_spread_bps * BPS,
    )
