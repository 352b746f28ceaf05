"""From quoted prices to base-currency values, and interest on cash, for the simulation.

Signals see quoted prices (each asset's own currency, its ``price`` column).  What
the portfolio holds is valued, and traded, at

    V[d, j] = Q[d, j] * G_j(d) * X_j(d)

* ``Q[d, j]``: the asset's last quoted price known on date d (close or adjusted
  close; the open for an order filled at the open);
* ``G_j(d) = (1 + y_j) ** (days from the first simulated date to d / 365.25)``:
  the ``dividend_yield`` y_j accrued daily and reinvested in the asset, as in a
  total-return index (1 on the first simulated date, so a fill on that date is at
  the quoted price).  A buy-and-hold therefore earns exactly
  ``Q_T / Q_0 * (1 + y) ** (calendar days / 365.25)``.  It is an approximation
  (real dividends are lumpy and vary); every output that uses it says so;
* ``X_j(d)``: the base-currency value of one unit of the asset's currency, from
  the USD/HKD close known on d (carried forward over FX holidays and dropped bad
  ticks).  FX only values and converts; it never feeds a signal or a decision.

Cash earns ``cash_rate``: over the calendar days from one date of the timeline to
the next, cash grows by ``(1 + r / 365) ** days`` where r is the annual rate known
on the earlier date (daily compounding, ACT/365; a constant rate therefore gives
``(1 + r / 365) ** calendar days`` exactly).  The cash index ``B`` (1 on the first
simulated date) is the value of one unit of cash.

vectorbt has no interest on cash, so Seesaw simulates in units of the cash index:
every price is divided by ``B`` of its date.  Cash then stays constant between
trades, and because fees and slippage are proportional and target weights are
ratios, every order, fee and weight is the same as with interest credited daily;
values, cash, prices and fees are multiplied by ``B`` again afterwards.  This
change of numeraire is exact, not an approximation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.data.panel import PricePanel

__all__ = ["Valuation", "cash_index", "dividend_growth", "simulation_prices", "slot_prices", "valuation"]

DAYS_PER_YEAR = 365.25
RATE_DAYS = 365.0


@dataclass(frozen=True)
class Valuation:
    """Base-currency unit values on the panel's dates, and the cash index."""

    known: np.ndarray  # (n, A) value of one unit at the end of each date
    open: np.ndarray | None  # (n, A) at each date's open where the asset traded (fill: next_open)
    cash_index: np.ndarray  # (n,) B, 1 on the first simulated date

    def risk_free(self, start: int) -> np.ndarray:
        """Per-date risk-free return on rows ``start..``: B[d] / B[d-1] - 1 (0 on the first date)."""
        b = self.cash_index[start:]
        return np.concatenate([[0.0], b[1:] / b[:-1] - 1.0])


def dividend_growth(dates: np.ndarray, yields: np.ndarray, start: int = 0) -> np.ndarray:
    """(n, A): ``(1 + y_j) ** (days since dates[start] / 365.25)`` (below 1 on warm-up rows)."""
    days = (dates - dates[start]).astype("timedelta64[D]").astype("float64")
    return np.power(1.0 + yields[None, :], days[:, None] / DAYS_PER_YEAR)


def cash_index(dates: np.ndarray, rate: np.ndarray, start: int) -> np.ndarray:
    """(n,): ``B[d] = B[d-1] * (1 + rate[d-1] / 365) ** days(d-1, d)``, ``B[start] = 1``."""
    days = np.diff(dates).astype("timedelta64[D]").astype("float64")
    log_growth = np.concatenate([[0.0], days * np.log1p(rate[:-1] / RATE_DAYS)])
    level = np.cumsum(log_growth)
    return np.exp(level - level[start])


def valuation(
    panel: PricePanel,
    *,
    dividend_yields: np.ndarray,
    cash_rate: float | None,
    start: int,
    frozen_fx: bool = False,
) -> Valuation:
    """The unit values and cash index of ``panel`` (module docstring).

    ``cash_rate``: a constant annual rate, or None to use ``panel.cash_rate`` (0 without one).
    ``frozen_fx``: exchange rates fixed at the first simulated date (for ``fx_return``).
    """
    dates = panel.dates.to_numpy()
    scale = dividend_growth(dates, np.asarray(dividend_yields, dtype="float64"), start)
    scale = scale * panel.fx_factor(frozen_at=start if frozen_fx else None)
    if cash_rate is not None:
        rate = np.full(len(dates), float(cash_rate))
    elif panel.cash_rate is not None:
        rate = panel.cash_rate
    else:
        rate = np.zeros(len(dates))
    return Valuation(
        known=np.ascontiguousarray(panel.known * scale),
        open=None if panel.open is None else np.ascontiguousarray(panel.open * scale),
        cash_index=cash_index(dates, rate, start),
    )


def slot_prices(known: np.ndarray, asset_slot: np.ndarray, m_slots: int) -> np.ndarray:
    """Value of one unit of each asset known in each slot: (n*M, A).

    In slot (d, r) an asset whose market closes in slot <= r is valued at its
    close of d (carried forward over its holidays); one that closes later is
    valued at its close of d-1, because its close of d is not known yet.
    """
    n, n_assets = known.shape
    # Row 0 has no earlier close; nothing can be held before the first row, so its own close is used.
    prev = np.vstack([known[:1], known[:-1]])
    out = np.empty((n * m_slots, n_assets))
    for r in range(m_slots):
        out[r::m_slots] = np.where(asset_slot[None, :] <= r, known, prev)
    return out


def simulation_prices(
    val: Valuation, traded: np.ndarray, asset_slot: np.ndarray, m_slots: int, fill: str
) -> tuple[np.ndarray, np.ndarray]:
    """(close, order price) per slot in cash-index units, both (n*M, A), C-contiguous.

    ``close`` values positions at the end of each slot.  The order price is what
    an order in the slot fills at, and what the group is valued at when sizing
    it: the same as ``close`` with ``fill: close``; with ``next_open`` an asset's
    own slot on a date it traded holds its open (the other assets keep the
    values known at that moment).
    """
    deflate = np.repeat(val.cash_index, m_slots)[:, None]
    close = slot_prices(val.known, asset_slot, m_slots) / deflate
    if fill == "close":
        return np.ascontiguousarray(close), np.ascontiguousarray(close)
    assert val.open is not None, "fill: next_open needs opens"
    order = close.copy()
    rows, cols = np.nonzero(traded)
    order[rows * m_slots + asset_slot[cols], cols] = val.open[rows, cols] / val.cash_index[rows]
    return np.ascontiguousarray(close), np.ascontiguousarray(order)
