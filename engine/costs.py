"""Per-asset trading cost rates, converted from basis points once, here.

* ``fee_bps`` and ``slippage_bps`` apply to every trade of every asset.
* ``hk_stamp_duty_bps`` applies to buys and sells of assets whose market is
  ``hk`` (Hong Kong stamp duty is charged to both sides); set it to 0 for
  instruments that do not pay it.

Fees (fee plus stamp duty) are a fraction of the traded value at the fill
price; slippage moves the fill price against the trader: a buy fills at
``close * (1 + slippage)``, a sell at ``close * (1 - slippage)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.config.models import Costs

__all__ = ["CostRates", "cost_rates"]

BPS = 1e-4


@dataclass(frozen=True)
class CostRates:
    """Fractions per asset: ``fees[j]`` of traded value, ``slippage[j]`` of price."""

    fees: np.ndarray
    slippage: np.ndarray


def cost_rates(costs: Costs, markets: Sequence[str]) -> CostRates:
    """Cost fractions for assets in ``markets`` order.

    >>> r = cost_rates(Costs(fee_bps=5, slippage_bps=2, hk_stamp_duty_bps=10), ["us", "hk"])
    >>> r.fees.round(6).tolist(), r.slippage.round(6).tolist()
    ([0.0005, 0.0015], [0.0002, 0.0002])
    """
    fees = np.array(
        [(costs.fee_bps + (costs.hk_stamp_duty_bps if m == "hk" else 0.0)) * BPS for m in markets],
        dtype="float64",
    )
    slippage = np.full(len(markets), costs.slippage_bps * BPS, dtype="float64")
    return CostRates(fees=fees, slippage=slippage)
