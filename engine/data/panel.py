"""Align the assets of one config on the union timeline: the :class:`PricePanel`.

The timeline is the sorted union of the dates on which any asset traded.
``close[d, j]`` is asset j's price on date d if it traded that day and NaN
otherwise: a market trades only on a date it has a price.  Carrying prices
forward (:attr:`PricePanel.known`) is for valuation and signals only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from engine.calendar import MARKETS, union_dates
from engine.config.models import AssetSpec, StrategyConfig
from engine.config.values import DEFAULT_FX_BAND
from engine.data.base import Provider
from engine.data.loading import Extra, calendar_notes, fetch_series, load_assets, load_rates
from engine.errors import DataError, UserError
from strategies.registry import SignalInputs

__all__ = ["RUN_ENDS", "LoadedPanel", "PricePanel", "build_panel", "load_for_config", "load_panel"]

#: How the note of a run cut short by a series that ends early begins (``seesaw today`` warns of it instead).
RUN_ENDS = "the run ends on"


@dataclass(frozen=True)
class PricePanel:
    """Prices of a config's assets on the union timeline (see the module docstring).

    ``close`` and ``open`` are in each asset's own currency, on its price column's
    basis (``Close`` or ``Adj Close``); ``usdhkd`` (HKD per USD) and ``cash_rate``
    (annual fraction) are the last values known on or before each date.
    """

    dates: pd.DatetimeIndex
    assets: tuple[str, ...]
    symbols: tuple[str, ...]
    markets: tuple[str, ...]
    close: np.ndarray
    price_fields: tuple[str, ...]
    source: str
    synthetic: bool
    notes: tuple[str, ...] = field(default=())
    currencies: tuple[str, ...] = field(default=())
    base_currency: str = "USD"
    open: np.ndarray | None = None
    usdhkd: np.ndarray | None = None
    cash_rate: np.ndarray | None = None
    fx_symbol: str | None = None
    cash_symbol: str | None = None
    signal_only: tuple[str, ...] = ()

    @cached_property
    def traded(self) -> np.ndarray:
        """True where the asset traded on that date (it has a real price)."""
        return ~np.isnan(self.close)

    @cached_property
    def known(self) -> np.ndarray:
        """Last traded price at or before each date (NaN before the first one)."""
        return pd.DataFrame(self.close).ffill().to_numpy(dtype="float64")

    @property
    def price_field(self) -> str:
        """The price column of every asset, or ``mixed``."""
        fields = set(self.price_fields)
        return fields.pop() if len(fields) == 1 else "mixed"

    @cached_property
    def fingerprint(self) -> str:
        """Hash of source, price fields, currencies, symbols, dates, prices, rates: equal data, equal fingerprint."""
        h = hashlib.sha256()
        head = [self.source, ",".join(self.price_fields), ",".join(self.symbols), ",".join(self.currencies)]
        head += [self.base_currency, str(self.fx_symbol), str(self.cash_symbol)]
        h.update(("|".join(head) + "|").encode())
        h.update(np.ascontiguousarray(self.dates.asi8).tobytes())
        for arr in (self.close, self.open, self.usdhkd, self.cash_rate):
            if arr is not None:
                h.update(np.ascontiguousarray(arr).tobytes())
        return h.hexdigest()[:16]

    def fx_factor(self, *, frozen_at: int | None = None) -> np.ndarray:
        """(n, A): base-currency value of one unit of each asset's currency on each date.

        ``frozen_at``: use that row's rate on every date (the counterfactual behind ``fx_return``).
        Signal-only assets are never held; without an exchange-rate series they keep a factor of 1.
        """
        out = np.ones((len(self.dates), len(self.assets)))
        foreign = [
            a
            for a, c in zip(self.assets, self.currencies, strict=True)
            if c != self.base_currency and a not in self.signal_only
        ]
        if self.usdhkd is None:
            if foreign:
                raise ValueError(f"no USD/HKD series to convert {', '.join(foreign)} to {self.base_currency}")
            return out
        rate = self.usdhkd if frozen_at is None else np.full(len(self.dates), self.usdhkd[frozen_at])
        for j, ccy in enumerate(self.currencies):
            if ccy == self.base_currency:
                continue
            out[:, j] = 1.0 / rate if ccy == "HKD" else rate
        return out

    def signal_inputs(self) -> SignalInputs:
        """The read-only view signals see: quoted prices in each asset's own currency, and the rates
        that convert them to the base currency (none for a foreign asset without an exchange rate)."""
        known, traded = self.known, self.traded
        convertible = [c == self.base_currency or self.usdhkd is not None for c in self.currencies]
        factor = self.fx_factor() if any(convertible) and self.usdhkd is not None else None
        fx = {
            a: (np.ones(len(self.dates)) if factor is None else factor[:, j])
            for j, a in enumerate(self.assets)
            if convertible[j]
        }
        return SignalInputs(
            dates=self.dates,
            prices={a: known[:, j] for j, a in enumerate(self.assets)},
            traded={a: traded[:, j] for j, a in enumerate(self.assets)},
            markets=dict(zip(self.assets, self.markets, strict=True)),
            close_order={m: MARKETS[m].close_order for m in sorted(set(self.markets))},
            fx=fx,
        )

    def slice(self, first: int, last: int | None = None) -> PricePanel:
        """Rows ``first .. last-1`` as a new panel."""

        def cut(arr: np.ndarray | None) -> np.ndarray | None:
            return None if arr is None else arr[first:last]

        return replace(
            self,
            dates=self.dates[first:last],
            close=self.close[first:last],
            open=cut(self.open),
            usdhkd=cut(self.usdhkd),
            cash_rate=cut(self.cash_rate),
        )


def build_panel(
    series: Mapping[str, pd.Series],
    specs: Mapping[str, AssetSpec],
    *,
    price_field: str | Mapping[str, str],
    source: str,
    synthetic: bool,
    notes: tuple[str, ...] = (),
    base_currency: str = "USD",
    opens: Mapping[str, pd.Series] | None = None,
    usdhkd: pd.Series | None = None,
    cash_rate: pd.Series | None = None,
    fx_symbol: str | None = None,
    cash_symbol: str | None = None,
    signal_only: tuple[str, ...] = (),
) -> PricePanel:
    """Align per-asset price series (indexed by their trading dates) on their union timeline.

    ``usdhkd`` and ``cash_rate`` are sampled on that timeline by carrying their last value forward.
    """
    assets = tuple(specs)
    dates = union_dates([pd.DatetimeIndex(series[a].index) for a in assets])
    close = np.column_stack([series[a].reindex(dates).to_numpy(dtype="float64") for a in assets])
    fields = {a: price_field for a in assets} if isinstance(price_field, str) else dict(price_field)
    open_ = None
    if opens is not None:
        open_ = np.column_stack(
            [
                opens[a].reindex(dates).to_numpy(dtype="float64") if a in opens else np.full(len(dates), np.nan)
                for a in assets
            ]
        )

    def sampled(s: pd.Series | None) -> np.ndarray | None:
        if s is None:
            return None
        return np.ascontiguousarray(s.reindex(s.index.union(dates)).ffill().reindex(dates).to_numpy("float64"))

    return PricePanel(
        dates=dates,
        assets=assets,
        symbols=tuple(specs[a].symbol for a in assets),
        markets=tuple(specs[a].market for a in assets),
        close=np.ascontiguousarray(close),
        price_fields=tuple(fields[a] for a in assets),
        source=source,
        synthetic=synthetic,
        notes=notes,
        currencies=tuple(specs[a].quote_currency for a in assets),
        base_currency=base_currency,
        open=None if open_ is None else np.ascontiguousarray(open_),
        usdhkd=sampled(usdhkd),
        cash_rate=sampled(cash_rate),
        fx_symbol=fx_symbol if usdhkd is not None else None,
        cash_symbol=cash_symbol if cash_rate is not None else None,
        signal_only=signal_only,
    )


@dataclass(frozen=True)
class LoadedPanel:
    """A panel trimmed for one run: ``start`` is the row of the first simulated date."""

    panel: PricePanel
    start: int
    warmup_needed: int
    #: The series with data after the run's last date, and their last dates: another series ended the run early.
    ends_early: tuple[tuple[str, dt.date], ...] = ()

    @property
    def later(self) -> str:
        """:attr:`ends_early` as the notes say it: "^GSPC 2026-08-26, ^HSI 2026-08-26"."""
        return ", ".join(f"{symbol} {last}" for symbol, last in self.ends_early)

    @cached_property
    def fingerprint(self) -> str:
        """Fingerprint of the simulated window (source, symbols, price field, dates and prices).

        Warm-up rows are excluded, so configs with different look-backs run on
        the same data share a fingerprint.
        """
        return self.panel.slice(self.start).fingerprint

    @cached_property
    def loaded_key(self) -> str:
        """Fingerprint of every row a run on this panel reads, its warm-up rows included, and of the notes
        its load made: what a stored run is reused by (a price changed before the first simulated date
        changes the signals, and so the run, though not :attr:`fingerprint`; a row the load dropped, which
        leaves the prices alone, is noted by the run that reads it)."""
        notes = "\n".join(self.panel.notes)
        return hashlib.sha256(f"{self.panel.fingerprint}|{notes}".encode()).hexdigest()[:16]

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
    asset_prices: Mapping[str, str] | None = None,
    base_currency: str = "USD",
    traded: Collection[str] | None = None,
    fx_symbol: str = "HKD=X",
    fx_band: tuple[float, float] | None = DEFAULT_FX_BAND,
    cash_symbol: str | None = None,
    with_open: bool = False,
    fx_for_signals: bool = False,
) -> LoadedPanel:
    """Fetch, validate and align every asset; keep at most ``warmup_rows`` rows before ``start``.

    ``asset_prices`` overrides ``price_field`` per asset.  ``traded`` (default: all) are the assets bought
    and sold: if one (any asset, with ``fx_for_signals``) is quoted in another currency than ``base_currency``
    the USD/HKD series ``fx_symbol`` is loaded (cleaned with ``fx_band``); with ``with_open`` each needs an
    open on every session it trades from the first simulated date on.  ``cash_symbol`` loads a cash rate.

    The run ends on the earliest last date among the assets and those series (noted when that is
    before ``end``), so nothing is carried forward past its data.  Every asset must have a price, and
    the exchange and cash rates a value, on or before the first simulated date; with ``start`` None
    (``auto``) the run starts on the first date where that holds, after the warm-up.
    """
    traded = list(specs) if traded is None else [a for a in specs if a in traded]
    fields = {a: (asset_prices or {}).get(a, price_field) for a in specs}
    fx_needed = any(specs[a].quote_currency != base_currency for a in (specs if fx_for_signals else traded))
    raws, rates = fetch_series(provider, specs, fx_symbol if fx_needed else None, cash_symbol, start, end, warmup_rows)
    series, opens, asset_notes = load_assets(
        provider, specs, raws, fields, check_calendar=check_calendar, opens_of=traded if with_open else ()
    )
    extras, rate_notes = load_rates(provider, rates, fx_band)
    series, end_notes, ends_early = _cut_to_common_end(series, specs, extras, _resumes(provider, extras, end))
    asset_notes += calendar_notes(provider, specs, series, check_calendar=check_calendar)  # over the run's dates
    panel = build_panel(
        series,
        specs,
        price_field=fields,
        source=provider.name,
        synthetic=provider.synthetic,
        notes=(*asset_notes, *rate_notes, *end_notes),
        base_currency=base_currency,
        opens=opens if with_open else None,
        usdhkd=next((e.values for e in extras if e.role == "exchange rate"), None),
        cash_rate=next((e.values for e in extras if e.role == "cash rate"), None),
        fx_symbol=fx_symbol,
        cash_symbol=cash_symbol,
        signal_only=tuple(a for a in specs if a not in traded),
    )
    s0 = _first_simulated_row(panel, series, specs, extras, start=start, warmup_rows=warmup_rows)
    if with_open:
        _check_opens(panel, s0, traded)
    keep_from = _first_kept_row(panel.traded, max(0, s0 - warmup_rows))
    return LoadedPanel(panel.slice(keep_from), start=s0 - keep_from, warmup_needed=warmup_rows, ends_early=ends_early)


def _resumes(provider: Provider, extras: list[Extra], end: dt.date | None) -> dict[str, pd.Timestamp]:
    """The exchange- and cash-rate series that stop before ``end`` inside a gap of their source, with the
    date their next value comes (after ``end``): inside a longer window their last value would be carried
    over the gap, so it is here too, rather than end the run early (Yahoo's HKD=X has a 214-day gap in 2003)."""
    out: dict[str, pd.Timestamp] = {}
    if end is None:
        return out
    for e in extras:
        if e.values.index[-1].date() >= end:
            continue
        try:
            later = provider.fetch(e.symbol, end + dt.timedelta(days=1), None)
        except DataError:  # cannot tell (offline, say): the run ends with the series, as before
            continue
        if len(later):
            out[e.symbol] = pd.Timestamp(later.index.min())
    return out


def _cut_to_common_end(
    series: dict[str, pd.Series],
    specs: Mapping[str, AssetSpec],
    extras: list[Extra],
    resumes: Mapping[str, pd.Timestamp] | None = None,
) -> tuple[dict[str, pd.Series], list[str], tuple[tuple[str, dt.date], ...]]:
    """The asset series up to the earliest last date of every series, a note when that cuts any, and the series
    that end later (symbol and last date); a rate series in ``resumes`` (:func:`_resumes`) does not cut them: its
    last value is carried forward, and a note says so."""
    resumes = resumes or {}
    lasts = {specs[a].symbol: s.index[-1] for a, s in series.items()}
    lasts |= {e.symbol: e.values.index[-1] for e in extras if e.symbol not in resumes}
    last_common = min(lasts.values())
    ends_early = [(sym, last.date()) for sym, last in lasts.items() if last > last_common]
    notes = [
        f"{e.symbol}: no value from {(e.values.index[-1] + pd.Timedelta(days=1)).date()} to the end of the window "
        f"(the next is on {resumes[e.symbol].date()}); its {e.values.index[-1].date()} value is carried forward"
        for e in extras
        if e.symbol in resumes and e.values.index[-1] < last_common
    ]
    if ends_early:
        notes.append(
            f"{RUN_ENDS} {last_common.date()}, the last date every series has data "
            f"(later: {', '.join(f'{sym} {last}' for sym, last in ends_early)})"
        )
    return {a: s[s.index <= last_common] for a, s in series.items()}, notes, tuple(ends_early)


def _first_simulated_row(
    panel: PricePanel,
    series: Mapping[str, pd.Series],
    specs: Mapping[str, AssetSpec],
    extras: list[Extra],
    *,
    start: dt.date | None,
    warmup_rows: int,
) -> int:
    """Row of ``panel`` where the simulation starts (see :func:`load_panel`); errors when data is missing there.

    With ``start`` None: the first row after ``warmup_rows`` rows from where every asset has a price, and
    not before the first value of the exchange or cash rate.  With a ``start``: its row, and every asset and
    extra series must have data on or before it.  At least two dates must remain to simulate.
    """
    if start is None:
        first_all = max(s.index[0] for s in series.values())
        s0 = int(panel.dates.searchsorted(first_all)) + warmup_rows
        for e in extras:
            s0 = max(s0, int(panel.dates.searchsorted(e.values.index[0])))
    else:
        s0 = int(panel.dates.searchsorted(pd.Timestamp(start)))
        _check_data_by(panel.dates[min(s0, len(panel.dates) - 1)], start, panel, series, specs, extras)
        _check_data_from(start, panel.dates[0])
    if s0 >= len(panel.dates) - 1:
        found = max(len(panel.dates) - s0, 0)
        where = (
            f"from the start {start}"
            if start is not None
            else "once every series (exchange and cash rates included) has data and the warm-up is done"
        )
        last = panel.dates[-1].date()
        said = f"none: the data in the period end on {last}" if found == 0 else f"only {last}, where the data end"
        raise DataError(
            f"fewer than two trading dates to simulate {where} ({said})",
            expected="a period with at least two trading dates",
        )
    return s0


#: Calendar days without a session of either market, at most (New York closed six days from 2001-09-11).
_LONGEST_CLOSURE_DAYS = 7


def _check_data_from(start: dt.date, first: pd.Timestamp) -> None:
    """The data reach back to ``start``: a start before every series' first date would silently move to it."""
    if (first.date() - start).days > _LONGEST_CLOSURE_DAYS:
        raise DataError(
            f"the data start on {first.date()}, after the start {start}: use a start on or after {first.date()}, "
            "or start: auto",
            expected=f"data from {start} or earlier",
        )


def _check_data_by(
    first_sim: pd.Timestamp,
    start: dt.date,
    panel: PricePanel,
    series: Mapping[str, pd.Series],
    specs: Mapping[str, AssetSpec],
    extras: list[Extra],
) -> None:
    """Every asset and extra series has data on or before ``first_sim``, the first simulated date."""
    late = [
        (f"asset {a!r} ({specs[a].symbol})", series[a].index[0]) for a in panel.assets if series[a].index[0] > first_sim
    ]
    late += [(f"the {e.role} {e.symbol}", e.values.index[0]) for e in extras if e.values.index[0] > first_sim]
    if late:
        what, first = late[0]
        raise DataError(
            f"{what} has no data before {first.date()}, after the start {start}: "
            f"use a start on or after {first.date()}, or start: auto",
            expected=f"data from {start} or earlier",
        )


def _first_kept_row(traded: np.ndarray, first: int) -> int:
    """The first row to keep so that every asset has a price carried forward from row ``first`` on.

    The warm-up counts rows of the union timeline; when row ``first`` is a date one market was closed,
    its assets' last prices are on earlier rows, which are kept too (so a signal on that market is
    complete at the first decision).  An asset with no price before ``first`` keeps it unchanged.
    """
    out = first
    for j in range(traded.shape[1]):
        rows = np.flatnonzero(traded[: first + 1, j])
        if len(rows):
            out = min(out, int(rows[-1]))
    return out


def _check_opens(panel: PricePanel, s0: int, traded: Collection[str]) -> None:
    """Every traded asset has an open on every session it trades from row ``s0`` on."""
    assert panel.open is not None
    for j, asset in enumerate(panel.assets):
        if asset not in traded:
            continue
        missing = panel.traded[s0:, j] & np.isnan(panel.open[s0:, j])
        if missing.any():
            first = panel.dates[s0 + int(np.argmax(missing))].date()
            raise DataError(
                f"asset {asset!r} ({panel.symbols[j]}) has no Open on {int(missing.sum())} of its sessions in the run "
                f"(first {first}; empty, not positive, or a bad tick far from the closes around it); "
                "execution.fill: next_open needs an open on every session, use fill: close",
                expected="an Open price on every session",
            )


def load_for_config(
    provider: Provider,
    cfg: StrategyConfig,
    *,
    warmup_rows: int,
    check_calendar: bool = True,
    file: str | Path | None = None,
) -> LoadedPanel:
    """:func:`load_panel` with everything ``cfg`` asks for (prices, currency, cash rate, opens); ``file``: the
    config's file, named by an error about its data that names no data file (a period without two dates)."""
    try:
        return _load_for_config(provider, cfg, warmup_rows=warmup_rows, check_calendar=check_calendar)
    except UserError as err:
        if file is None:
            raise
        raise err.located(file=str(file)) from None


def _load_for_config(provider: Provider, cfg: StrategyConfig, *, warmup_rows: int, check_calendar: bool) -> LoadedPanel:
    return load_panel(
        provider,
        cfg.assets,
        price_field=cfg.data.price,
        start=cfg.data.start_date,
        end=cfg.data.end,
        warmup_rows=warmup_rows,
        check_calendar=check_calendar,
        asset_prices={a: cfg.price_of(a) for a in cfg.assets},
        base_currency=cfg.base_currency,
        traded=cfg.traded_assets,
        fx_symbol=cfg.data.fx_symbol,
        fx_band=cfg.data.fx_band,
        cash_symbol=cfg.cash_rate if isinstance(cfg.cash_rate, str) else None,
        with_open=cfg.execution.fill == "next_open",
        fx_for_signals=any(spec.get("currency") == "base" for spec in cfg.resolved_signals.values()),
    )
