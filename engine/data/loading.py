"""Fetch and clean the series a :class:`~engine.data.panel.PricePanel` is built from, one at a time.

Each asset's prices (and opens), the USD/HKD exchange rate and the cash rate: fetched from the
provider, cleaned by :mod:`engine.data.validate`, their notes collected.  A validation error names
the file the series came from (the CSV provider's), and an empty series is a :class:`DataError`
naming the symbol and the period asked for.  :func:`engine.data.panel.load_panel` aligns them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from engine.config.models import AssetSpec
from engine.data.base import Provider, between
from engine.data.validate import calendar_gap_notes, clean_fx, clean_prices, clean_rate, clean_series, open_prices
from engine.errors import DataError

__all__ = ["Extra", "load_assets", "load_rates"]


@dataclass(frozen=True)
class Extra:
    """A series that is not an asset (exchange rate, cash rate), cleaned, with its role for messages."""

    role: str
    symbol: str
    values: pd.Series


def _fetch_extra(
    provider: Provider, role: str, symbol: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    raw = provider.fetch(symbol, start, end)
    if raw.empty:
        raise _no_data(provider, role, symbol, start, end)
    return raw


def _no_data(provider: Provider, role: str, symbol: str, start: dt.date | None, end: dt.date | None) -> DataError:
    span = f" between {start or 'the beginning'} and {end or 'today'}"
    return DataError(
        f"no data for the {role} {symbol!r}{span} from source {provider.name}{_covered(provider, symbol)}",
        file=_file_of(provider, symbol),
    )


def _covered(provider: Provider, symbol: str) -> str:
    """``"; it has data from <first> to <last>"`` for a provider that reads files (nothing is downloaded for a
    message); empty for one that does not, or when the file has no dated rows at all."""
    if _file_of(provider, symbol) is None:
        return ""
    try:
        dates = pd.DatetimeIndex(provider.fetch(symbol, None, None).index)
    except (DataError, OSError, ValueError):  # only a detail of the message: the error stands without it
        return ""
    return f"; it has data from {dates.min().date()} to {dates.max().date()}" if len(dates) else ""


def _file_of(provider: Provider, symbol: str) -> str | None:
    """The file ``provider`` reads ``symbol`` from, when it reads files (the CSV provider)."""
    path_for = getattr(provider, "path_for", None)
    return str(path_for(symbol)) if callable(path_for) else None


@contextmanager
def _in_file(provider: Provider, symbol: str) -> Iterator[None]:
    """Re-raise a validation :class:`DataError` with the file of ``symbol`` filled in."""
    try:
        yield
    except DataError as err:
        raise err.located(file=_file_of(provider, symbol)) from None


def load_assets(
    provider: Provider,
    specs: Mapping[str, AssetSpec],
    fields: Mapping[str, str],
    fetch_start: dt.date | None,
    end: dt.date | None,
    *,
    check_calendar: bool,
    opens_of: Collection[str],
) -> tuple[dict[str, pd.Series], dict[str, pd.Series], list[str]]:
    """Each asset's cleaned prices, the opens of the assets in ``opens_of``, and the notes, in asset order.

    ``check_calendar``: compare each series with its market's sessions (the notes say where they differ);
    never for a synthetic provider.
    """
    check_calendar = check_calendar and not provider.synthetic
    series: dict[str, pd.Series] = {}
    opens: dict[str, pd.Series] = {}
    notes: list[str] = []
    raws = {asset: provider.fetch(spec.symbol, fetch_start, end) for asset, spec in specs.items()}
    if fetch_start is None:
        raws = _common_history(raws)
    for asset, spec in specs.items():
        raw = raws[asset]
        if raw.empty:
            span = f" between {fetch_start or 'the beginning'} and {end or 'today'}"
            raise DataError(
                f"no data for {spec.symbol!r} (asset {asset!r}){span} from source {provider.name}"
                f"{_covered(provider, spec.symbol)}",
                file=_file_of(provider, spec.symbol),
            )
        market = spec.market if check_calendar else None
        with _in_file(provider, spec.symbol):
            if spec.kind == "series":  # not a price: no split, spike or positivity checks
                s, asset_notes = clean_series(raw, symbol=spec.symbol, market=market)
            else:
                s, asset_notes = clean_prices(raw, symbol=spec.symbol, price=fields[asset], asset=asset, market=market)
        notes += asset_notes
        if check_calendar:
            notes += calendar_gap_notes(s, symbol=spec.symbol, market=spec.market)
        series[asset] = s
        if asset in opens_of:
            opens[asset] = open_prices(raw, pd.DatetimeIndex(s.index), price=fields[asset])
    return series, opens, notes


#: How much of an asset's history before the first date every asset has data is kept with ``start: auto``:
#: a month, so the checks that compare a price with the ones before it still see its neighbours.
COMMON_HISTORY_MARGIN = dt.timedelta(days=31)


def _common_history(raws: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Each raw frame from :data:`COMMON_HISTORY_MARGIN` before the latest first date among them (or before the
    frame's last row on or before that date, if earlier: the price it carries into the run).

    With ``start: auto`` the run starts once every asset has data (:func:`engine.data.panel.load_panel`),
    so an asset's history before then is never used: it is neither checked nor noted (a note about the
    S&P 500 in 1933 says nothing of a run that starts in 1987).
    """
    firsts = [raw.index.min() for raw in raws.values() if not raw.empty]
    if len(firsts) < 2:
        return raws
    common = max(firsts)
    out = {}
    for asset, raw in raws.items():
        # an asset's last row on or before the common first date is its price then, however long ago
        before = raw.index[raw.index <= common]
        anchor = before.max() if len(before) else common
        out[asset] = raw[raw.index >= anchor - COMMON_HISTORY_MARGIN]
    return out


def load_rates(
    provider: Provider,
    fx_symbol: str | None,
    fx_band: tuple[float, float] | None,
    cash_symbol: str | None,
    fetch_start: dt.date | None,
    end: dt.date | None,
) -> tuple[list[Extra], list[str]]:
    """The cleaned USD/HKD series ``fx_symbol`` and cash-rate series ``cash_symbol`` (each when not None), and notes."""
    extras: list[Extra] = []
    notes: list[str] = []
    if fx_symbol is not None:
        fx_raw = _fetch_extra(provider, "exchange rate", fx_symbol, fetch_start, end)
        with _in_file(provider, fx_symbol):
            fx, fx_notes = clean_fx(fx_raw, symbol=fx_symbol, band=fx_band)
        notes += fx_notes
        extras.append(Extra("exchange rate", fx_symbol, fx))
    if cash_symbol is not None:
        # fetched from the beginning: the written-as-fractions test looks at the whole history (see clean_rate)
        history = _fetch_extra(provider, "cash rate", cash_symbol, None, end)
        rate_raw = between(history, fetch_start, end)
        if rate_raw.empty:
            raise _no_data(provider, "cash rate", cash_symbol, fetch_start, end)
        with _in_file(provider, cash_symbol):
            rate, rate_notes = clean_rate(rate_raw, symbol=cash_symbol, history=history)
        notes += rate_notes
        extras.append(Extra("cash rate", cash_symbol, rate))
    return extras, notes
