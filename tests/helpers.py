"""Small helpers shared by tests: an in-memory price provider, real raw frames, perturbations.

A *raw frame* is what a provider returns (:mod:`engine.data.base`): a ``DatetimeIndex``
named ``Date`` and the float columns ``Open, High, Low, Close, Adj Close, Volume``.
Perturbation helpers return modified copies; they never change their input::

    frames = real_frames(data_dir, ["^GSPC", "^HSI"])
    frames["^GSPC"] = scale_prices_after(frames["^GSPC"], "2020-03-16", seed=1)
    loaded = load_panel(MemProvider(frames), cfg.assets, price_field="close", ...)
"""

from __future__ import annotations

import datetime as dt
import functools
import mmap
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.calendar import market_rank
from engine.config.models import AssetSpec
from engine.data.csv import CsvProvider
from engine.data.panel import PricePanel, build_panel
from engine.execution import BatchPlan, plan_batch
from engine.valuation import Valuation, simulation_prices, valuation

__all__ = [
    "PLAN_CASH",
    "PLAN_FEES",
    "PLAN_SLIPPAGE",
    "PRICE_COLUMNS",
    "MemProvider",
    "PlanPrices",
    "map_of",
    "on_disk",
    "panel_from_closes",
    "plan_on",
    "plan_prices",
    "random_three_asset_panel",
    "real_frames",
    "scale_close_on",
    "scale_prices_after",
    "truncate_after",
]

#: The raw columns that hold prices (``Volume`` is left alone by the perturbations).
PRICE_COLUMNS: tuple[str, ...] = ("Open", "High", "Low", "Close", "Adj Close")


class MemProvider:
    """A provider over raw frames held in memory, ``{symbol: raw frame}`` (no I/O, not synthetic)."""

    name = "mem"
    synthetic = False

    def __init__(self, frames: Mapping[str, pd.DataFrame]) -> None:
        self.frames = dict(frames)
        self.notes: list[str] = []

    def fetch(self, symbol: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
        """Rows of ``symbol`` inside ``[start, end]`` (inclusive; None is unbounded), as a copy."""
        frame = self.frames[symbol]
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        return frame.loc[lo:hi].copy()


@functools.cache
def _read_raw(data_dir: str, symbol: str) -> pd.DataFrame:
    return CsvProvider(data_dir).fetch(symbol, None, None)


def real_frames(data_dir: Path | str, symbols: Iterable[str]) -> dict[str, pd.DataFrame]:
    """Raw frames of ``symbols`` from the CSVs in ``data_dir`` (read once per process; copies)."""
    return {s: _read_raw(str(data_dir), s).copy() for s in symbols}


def scale_prices_after(
    frame: pd.DataFrame, day: str | dt.date, *, seed: int, low: float = 0.9, high: float = 1.1
) -> pd.DataFrame:
    """Prices of the rows strictly after ``day`` times random factors in ``[low, high)``, one per row.

    The default range keeps the result plausible: factors of 0.5-1.5 made one-day spikes and
    split-like jumps, which loading repairs or refuses (:mod:`engine.data.validate`).
    """
    out = frame.copy()
    after = out.index > pd.Timestamp(day)
    factors = np.random.default_rng(seed).uniform(low, high, size=int(after.sum()))
    for col in PRICE_COLUMNS:
        out.loc[after, col] = out.loc[after, col].to_numpy() * factors
    return out


def truncate_after(frame: pd.DataFrame, day: str | dt.date) -> pd.DataFrame:
    """The rows on or before ``day``."""
    return frame[frame.index <= pd.Timestamp(day)].copy()


def scale_close_on(frame: pd.DataFrame, day: str | dt.date, factor: float) -> pd.DataFrame:
    """``Close`` and ``Adj Close`` of the row ``day`` times ``factor`` (KeyError when it is not a row)."""
    out = frame.copy()
    ts = pd.Timestamp(day)
    if ts not in out.index:
        raise KeyError(f"{ts.date()} is not a row of the frame")
    for col in ("Close", "Adj Close"):
        out.loc[ts, col] = out.loc[ts, col] * factor
    return out


def panel_from_closes(closes: Mapping[str, pd.Series], markets: Mapping[str, str]) -> PricePanel:
    """A :class:`PricePanel` of assets named like their markets' keys, from close prices per asset.

    ``closes[asset]`` is indexed by the dates the asset traded; ``markets[asset]`` is ``us``/``hk``.
    Symbols are the asset names; every price is in USD (these panels are about timing, not currency).
    """
    specs = {a: AssetSpec(symbol=a, market=markets[a], currency="USD") for a in closes}
    series = {a: pd.Series(s.to_numpy(dtype="float64"), index=pd.DatetimeIndex(s.index)) for a, s in closes.items()}
    return build_panel(series, specs, price_field="close", source="test", synthetic=False)


def random_three_asset_panel(seed: int, periods: int = 300) -> PricePanel:
    """A synthetic panel of ``periods`` business days: ``us`` and ``us2`` (US market, about 5% of days
    missing) and ``hk`` (Hong Kong market, quoted in USD, about 8% missing), random-walk closes."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2020-01-01", periods=periods)
    steps = np.cumsum(rng.normal(0, 0.02, periods))
    us = pd.Series(100 * np.exp(steps), index=dates)[rng.random(periods) > 0.05]
    hk = pd.Series(50 * np.exp(np.cumsum(rng.normal(0, 0.02, periods))), index=dates)[rng.random(periods) > 0.08]
    us2 = pd.Series(80 * np.exp(np.cumsum(rng.normal(0, 0.02, len(us)))), index=us.index)
    specs = {
        "us": AssetSpec(symbol="US", market="us"),
        "us2": AssetSpec(symbol="US2", market="us"),
        "hk": AssetSpec(symbol="HK", market="hk", currency="USD"),
    }
    return build_panel({"us": us, "us2": us2, "hk": hk}, specs, price_field="close", source="t", synthetic=True)


@dataclass(frozen=True)
class PlanPrices:
    """A panel's prices as an order plan reads them (fills at the close): ``close`` and ``order`` (S, A)
    per slot in cash-index units, from slot ``first_slot`` (the first simulated date's) on."""

    val: Valuation
    close: np.ndarray
    order: np.ndarray
    first_slot: int
    slots_per_date: int


def plan_prices(panel: PricePanel, *, start: int, dividend_yield: float = 0.0, cash_rate: float = 0.02) -> PlanPrices:
    """:class:`PlanPrices` of ``panel`` simulated from row ``start``."""
    val = valuation(panel, dividend_yields=np.full(len(panel.assets), dividend_yield), cash_rate=cash_rate, start=start)
    ranks = market_rank(list(panel.markets))
    m = len(ranks)
    close, order = simulation_prices(val, panel.traded, np.array([ranks[x] for x in panel.markets]), m, "close")
    return PlanPrices(val, close[start * m :], order[start * m :], start * m, m)


#: The costs of :func:`plan_on`: fees a fraction of value traded, slippage per asset (three assets).
PLAN_FEES, PLAN_SLIPPAGE, PLAN_CASH = 7e-4, np.array([2e-4, 3e-4, 5e-4]), 100_000.0


def plan_on(panel: PricePanel, prices: PlanPrices, targets: object, **kwargs: object) -> BatchPlan:
    """``plan_batch`` of ``targets`` on ``prices`` with :data:`PLAN_FEES`, :data:`PLAN_SLIPPAGE` and
    :data:`PLAN_CASH`; ``kwargs``: the rest (first_decision, lag, rebalance, band, events)."""
    return plan_batch(
        targets=targets,  # type: ignore[arg-type]
        traded=panel.traded,
        markets=panel.markets,
        dates=panel.dates,
        close=prices.close,
        order_price=prices.order,
        fees=np.full((len(prices.close), len(panel.assets)), PLAN_FEES),
        slippage=PLAN_SLIPPAGE,
        init_cash=PLAN_CASH,
        first_slot=prices.first_slot,
        **kwargs,  # type: ignore[arg-type]
    )


def map_of(values: np.ndarray) -> object | None:
    """The memory map of a file ``values`` is (a view of), or None when it is in memory."""
    base: object = values
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            return base
        base = base.base
    if isinstance(base, memoryview):  # np.frombuffer over a map
        base = base.obj
    return base if isinstance(base, mmap.mmap) else None


def on_disk(values: np.ndarray) -> bool:
    """Whether ``values`` is (a view of) a memory map of a file (:func:`map_of`)."""
    return map_of(values) is not None
