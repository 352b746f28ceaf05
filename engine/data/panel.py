"""Align the assets of one config on the union timeline: the :class:`PricePanel`.

The timeline is the sorted union of the dates on which any asset traded.
``close[d, j]`` is asset j's price on date d if it traded that day and NaN
otherwise: a market trades only on a date it has a price.  Carrying prices
forward (:attr:`PricePanel.known`) is for valuation and signals only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from engine.calendar import union_dates
from engine.config.models import AssetSpec
from engine.data.base import Provider
from engine.data.validate import calendar_gap_notes, clean_prices
from engine.errors import DataError
from strategies.registry import SignalInputs

__all__ = ["LoadedPanel", "PricePanel", "build_panel", "load_panel"]

# Calendar days fetched per warm-up row: 10 sessions span at most ~16 days around holidays.
_DAYS_PER_ROW = 1.6
_DAYS_MARGIN = 20


@dataclass(frozen=True)
class PricePanel:
    """Prices of a config's assets on the union timeline (see the module docstring)."""

    dates: pd.DatetimeIndex
    assets: tuple[str, ...]
    symbols: tuple[str, ...]
    markets: tuple[str, ...]
    close: np.ndarray
    price_field: str
    source: str
    synthetic: bool
    notes: tuple[str, ...] = field(default=())

    @cached_property
    def traded(self) -> np.ndarray:
        """True where the asset traded on that date (it has a real price)."""
        return ~np.isnan(self.close)

    @cached_property
    def known(self) -> np.ndarray:
        """Last traded price at or before each date (NaN before the first one)."""
        return pd.DataFrame(self.close).ffill().to_numpy(dtype="float64")

    @cached_property
    def fingerprint(self) -> str:
        """Hash of source, price field, symbols, dates and prices: equal data, equal fingerprint."""
        h = hashlib.sha256()
        h.update(f"{self.source}|{self.price_field}|{','.join(self.symbols)}|".encode())
        h.update(np.ascontiguousarray(self.dates.asi8).tobytes())
        h.update(np.ascontiguousarray(self.close).tobytes())
        return h.hexdigest()[:16]

    def signal_inputs(self) -> SignalInputs:
        """The read-only view signals see."""
        known, traded = self.known, self.traded
        return SignalInputs(
            dates=self.dates,
            prices={a: known[:, j] for j, a in enumerate(self.assets)},
            traded={a: traded[:, j] for j, a in enumerate(self.assets)},
            markets=dict(zip(self.assets, self.markets, strict=True)),
        )

    def slice(self, first: int, last: int | None = None) -> PricePanel:
        """Rows ``first .. last-1`` as a new panel."""
        return PricePanel(
            dates=self.dates[first:last],
            assets=self.assets,
            symbols=self.symbols,
            markets=self.markets,
            close=self.close[first:last],
            price_field=self.price_field,
            source=self.source,
            synthetic=self.synthetic,
            notes=self.notes,
        )


def build_panel(
    series: Mapping[str, pd.Series],
    specs: Mapping[str, AssetSpec],
    *,
    price_field: str,
    source: str,
    synthetic: bool,
    notes: tuple[str, ...] = (),
) -> PricePanel:
    """Align per-asset price series (indexed by their trading dates) on their union timeline."""
    assets = tuple(specs)
    dates = union_dates([pd.DatetimeIndex(series[a].index) for a in assets])
    close = np.column_stack([series[a].reindex(dates).to_numpy(dtype="float64") for a in assets])
    return PricePanel(
        dates=dates,
        assets=assets,
        symbols=tuple(specs[a].symbol for a in assets),
        markets=tuple(specs[a].market for a in assets),
        close=np.ascontiguousarray(close),
        price_field=price_field,
        source=source,
        synthetic=synthetic,
        notes=notes,
    )


@dataclass(frozen=True)
class LoadedPanel:
    """A panel trimmed for one run: ``start`` is the row of the first simulated date."""

    panel: PricePanel
    start: int
    warmup_needed: int

    @cached_property
    def fingerprint(self) -> str:
        """Fingerprint of the simulated window (source, symbols, price field, dates and prices).

        Warm-up rows are excluded, so configs with different look-backs run on
        the same data share a fingerprint.
        """
        return self.panel.slice(self.start).fingerprint

    @property
    def warmup_used(self) -> int:
        """Rows of history before the first simulated date that signals could warm up on."""
        return self.start


def load_panel(
    provider: Provider,
    specs: Mapping[str, AssetSpec],
    *,
    price_field: str,
    start: dt.date | None,
    end: dt.date | None,
    warmup_rows: int,
    check_calendar: bool = True,
) -> LoadedPanel:
    """Fetch, validate and align every asset; keep at most ``warmup_rows`` rows before ``start``.

    The run ends on the earliest last date among the assets (noted when that
    is before ``end``), so no asset is carried forward past its data.  Every
    asset must have a price on or before the first simulated date.
    """
    fetch_start = None
    if start is not None:
        fetch_start = start - dt.timedelta(days=int(warmup_rows * _DAYS_PER_ROW) + _DAYS_MARGIN)
    series: dict[str, pd.Series] = {}
    notes: list[str] = []
    for asset, spec in specs.items():
        raw = provider.fetch(spec.symbol, fetch_start, end)
        if raw.empty:
            span = f" between {fetch_start or 'the beginning'} and {end or 'today'}"
            raise DataError(f"no data for {spec.symbol!r} (asset {asset!r}){span} from source {provider.name}")
        s, asset_notes = clean_prices(raw, symbol=spec.symbol, price=price_field)
        notes += asset_notes
        if check_calendar and not provider.synthetic:
            notes += calendar_gap_notes(s, symbol=spec.symbol, market=spec.market)
        series[asset] = s
    last_common = min(s.index[-1] for s in series.values())
    ends_early = [f"{specs[a].symbol} {s.index[-1].date()}" for a, s in series.items() if s.index[-1] > last_common]
    if ends_early:
        notes.append(
            f"the run ends on {last_common.date()}, the last date every asset has data (later: {', '.join(ends_early)})"
        )
    series = {a: s[s.index <= last_common] for a, s in series.items()}
    panel = build_panel(
        series,
        specs,
        price_field=price_field,
        source=provider.name,
        synthetic=provider.synthetic,
        notes=tuple(notes),
    )
    first_all = max(s.index[0] for s in series.values())
    if start is None:
        s0 = int(panel.dates.searchsorted(first_all)) + warmup_rows
    else:
        s0 = int(panel.dates.searchsorted(pd.Timestamp(start)))
        late = [
            (a, series[a].index[0])
            for a in panel.assets
            if series[a].index[0] > panel.dates[min(s0, len(panel.dates) - 1)]
        ]
        if late:
            asset, first = late[0]
            raise DataError(
                f"asset {asset!r} ({specs[asset].symbol}) has no price before {first.date()}, after the start {start}: "
                f"use a start on or after {first.date()}",
                expected=f"data from {start} or earlier",
            )
    if s0 >= len(panel.dates) - 1:
        raise DataError(
            f"fewer than two dates to simulate from {panel.dates[min(s0, len(panel.dates) - 1)].date()} "
            f"to {panel.dates[-1].date()}",
            expected="a period with at least two trading dates",
        )
    keep_from = max(0, s0 - warmup_rows)
    return LoadedPanel(panel=panel.slice(keep_from), start=s0 - keep_from, warmup_needed=warmup_rows)
