"""Fetch and clean the series a :class:`~engine.data.panel.PricePanel` is built from, one at a time.

Each asset's prices (and opens), the USD/HKD exchange rate and the cash rate: fetched from the
provider, cleaned by :mod:`engine.data.validate`, their notes collected.  A validation error names
the file the series came from (the CSV provider's), and an empty series is a :class:`DataError`
naming the symbol and the period asked for.  :func:`engine.data.panel.load_panel` aligns them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import pandas as pd

from engine.config.models import AssetSpec
from engine.data.base import Provider, between
from engine.data.validate import calendar_gap_notes, clean_fx, clean_prices, clean_rate, clean_series, open_prices
from engine.errors import DataError, MissingSeries

__all__ = [
    "Extra",
    "RateHistory",
    "calendar_notes",
    "common_history",
    "fetch_assets",
    "fetch_rates",
    "fetch_series",
    "load_assets",
    "load_rates",
]


@dataclass(frozen=True)
class Extra:
    """A series that is not an asset (exchange rate, cash rate), cleaned, with its role for messages."""

    role: str
    symbol: str
    values: pd.Series


#: Where a config names each rate's symbol (the YAML path of an error about a symbol without a series).
_RATE_KEYS = {"exchange rate": "data.fx_symbol", "cash rate": "cash_rate"}


def _fetch(provider: Provider, symbol: str, first: dt.date | None, end: dt.date | None, *, where: str) -> pd.DataFrame:
    """``provider.fetch``; a symbol without a series is the config's mistake (or its data directory's): said at
    the YAML path ``where`` that names it."""
    try:
        return provider.fetch(symbol, first, end)
    except MissingSeries as err:
        raise MissingSeries(err.message, path=where, expected=err.expected) from None


def _fetch_extra(
    provider: Provider, role: str, symbol: str, first: dt.date | None, end: dt.date | None, start: dt.date | None = None
) -> pd.DataFrame:
    raw = _fetch(provider, symbol, first, end, where=_RATE_KEYS[role])
    if raw.empty:
        raise _no_data(provider, role, symbol, first, end, start)
    return raw


def _span(first: dt.date | None, end: dt.date | None, start: dt.date | None = None) -> str:
    """The period a series was fetched for, in words: ``first`` to ``end`` (None: unbounded), ``first`` being
    the warm-up before the user's ``start`` when earlier.

    >>> _span(dt.date(2029, 7, 18), None, dt.date(2030, 1, 1))
    ' from 2029-07-18 (the warm-up before the start 2030-01-01) on'
    >>> _span(None, dt.date(2024, 12, 29)), _span(None, None)
    (' up to 2024-12-29', ' at all')
    """
    if first is None:
        return f" up to {end}" if end is not None else " at all"
    warmup = f" (the warm-up before the start {start})" if start is not None and first < start else ""
    return f" from {first}{warmup}" + (f" to {end}" if end is not None else " on")


def _no_data(
    provider: Provider, role: str, symbol: str, first: dt.date | None, end: dt.date | None, start: dt.date | None = None
) -> DataError:
    span = _span(first, end, start)
    return DataError(
        f"no data for the {role} {symbol!r} in source {provider.name}{span}{_covered(provider, symbol)}",
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


def fetch_assets(
    provider: Provider,
    specs: Mapping[str, AssetSpec],
    fetch_start: dt.date | None,
    end: dt.date | None,
    start: dt.date | None = None,
) -> dict[str, pd.DataFrame]:
    """Each asset's raw frame from ``provider`` on [``fetch_start``, ``end``] (None: unbounded), in asset order;
    a DataError for one without rows there (``start``: the user's, which the warm-up precedes, for its words)."""
    raws = {}
    for asset, spec in specs.items():
        raws[asset] = raw = _fetch(provider, spec.symbol, fetch_start, end, where=f"assets.{asset}.symbol")
        if raw.empty:
            raise DataError(
                f"no data for {spec.symbol!r} (asset {asset!r}) in source {provider.name}"
                f"{_span(fetch_start, end, start)}"
                f"{_covered(provider, spec.symbol)}",
                file=_file_of(provider, spec.symbol),
            )
    return raws


def calendar_notes(
    provider: Provider, specs: Mapping[str, AssetSpec], series: Mapping[str, pd.Series], *, check_calendar: bool
) -> list[str]:
    """Each asset's sessions of its market's exchange calendar without a price, and its long gaps
    (:func:`calendar_gap_notes`; a series notes its gaps itself), over ``series`` as the run keeps them (cut to
    the last date every series has data); never for a synthetic provider."""
    if not check_calendar or provider.synthetic:
        return []
    return [
        note
        for asset, spec in specs.items()
        for note in calendar_gap_notes(
            series[asset], symbol=spec.symbol, market=spec.market, long_gaps=spec.kind != "series"
        )
    ]


def load_assets(
    provider: Provider,
    specs: Mapping[str, AssetSpec],
    raws: Mapping[str, pd.DataFrame],
    fields: Mapping[str, str],
    *,
    check_calendar: bool,
    opens_of: Collection[str],
) -> tuple[dict[str, pd.Series], dict[str, pd.Series], list[str]]:
    """Each asset's cleaned prices from its raw frame (:func:`fetch_assets`), the opens of the assets in
    ``opens_of``, and the notes, in asset order.

    ``check_calendar``: drop the rows on days that are not sessions of its market (noted); never for a synthetic
    provider.  Where a series lacks sessions is :func:`calendar_notes`'s, once the run's end is known.
    """
    check_calendar = check_calendar and not provider.synthetic
    series: dict[str, pd.Series] = {}
    opens: dict[str, pd.Series] = {}
    notes: list[str] = []
    for asset, spec in specs.items():
        raw = raws[asset]
        market = spec.market if check_calendar else None
        with _in_file(provider, spec.symbol):
            if spec.kind == "series":  # not a price: no split, spike or positivity checks
                s, asset_notes = clean_series(raw, symbol=spec.symbol, market=market)
            else:
                s, asset_notes = clean_prices(raw, symbol=spec.symbol, price=fields[asset], asset=asset, market=market)
        notes += asset_notes
        series[asset] = s
        if asset in opens_of:
            opens[asset], open_notes = open_prices(raw, s, price=fields[asset], symbol=spec.symbol)
            notes += open_notes
    return series, opens, notes


#: How much of an asset's history before the first date every asset has data is kept with ``start: auto``:
#: a month, so the checks that compare a price with the ones before it still see its neighbours.
COMMON_HISTORY_MARGIN = dt.timedelta(days=31)


def common_history(
    raws: Mapping[str, pd.DataFrame], rates: Sequence[RateHistory], *, lead: dt.timedelta
) -> tuple[dict[str, pd.DataFrame], list[RateHistory]]:
    """Each raw frame (the assets' and the rates': ``raw``, not ``history``) from :data:`COMMON_HISTORY_MARGIN`
    before the date its history is first needed (or before the frame's last row on or before that date, if
    earlier: the value it carries into the run).

    With ``start: auto`` the run starts once every asset has data and the warm-up is done, and not before the
    exchange and cash rates have data (:func:`engine.data.panel.load_panel`): the history is first needed on
    the latest first date among the assets, or ``lead`` (the warm-up's span) before the latest first date of
    the rates, whichever is later.  A series' history before then is never used, so it is neither checked nor
    noted (a note about the S&P 500 in 1933 says nothing of a run that starts in 1987, nor one about the Hang
    Seng in 1990 of a run that starts with the exchange rate's data in 2001).
    """
    asset_firsts = [raw.index.min() for raw in raws.values() if not raw.empty]
    rate_firsts = [r.raw.index.min() for r in rates if not r.raw.empty]
    if len(asset_firsts) + len(rate_firsts) < 2:
        return dict(raws), list(rates)
    needed = max([*asset_firsts, *([max(rate_firsts) - lead] if rate_firsts else [])])

    def cut(raw: pd.DataFrame) -> pd.DataFrame:
        # a series' last row on or before that date is its value then, however long ago
        before = raw.index[raw.index <= needed]
        anchor = before.max() if len(before) else needed
        return raw[raw.index >= anchor - COMMON_HISTORY_MARGIN]

    return {a: cut(raw) for a, raw in raws.items()}, [replace(r, raw=cut(r.raw)) for r in rates]


@dataclass(frozen=True)
class RateHistory:
    """A rate series as fetched (:func:`fetch_rates`): ``raw`` the rows to clean, ``history`` every row up to the
    end (the cash rate's written-as-fractions test looks at all of them; the exchange rate's: ``raw``)."""

    role: str
    symbol: str
    raw: pd.DataFrame
    history: pd.DataFrame


def fetch_rates(
    provider: Provider,
    fx_symbol: str | None,
    cash_symbol: str | None,
    fetch_start: dt.date | None,
    end: dt.date | None,
    start: dt.date | None = None,
) -> list[RateHistory]:
    """The USD/HKD series ``fx_symbol`` and the cash-rate series ``cash_symbol`` (each when not None) as fetched
    from ``provider`` on [``fetch_start``, ``end``]; a DataError for one without rows there (``start``: as
    :func:`fetch_assets`)."""
    out = []
    if fx_symbol is not None:
        fx_raw = _fetch_extra(provider, "exchange rate", fx_symbol, fetch_start, end, start)
        out.append(RateHistory("exchange rate", fx_symbol, fx_raw, fx_raw))
    if cash_symbol is not None:
        # fetched from the beginning: the written-as-fractions test looks at the whole history (see clean_rate)
        history = _fetch_extra(provider, "cash rate", cash_symbol, None, end)
        rate_raw = between(history, fetch_start, end)
        if rate_raw.empty:
            raise _no_data(provider, "cash rate", cash_symbol, fetch_start, end, start)
        out.append(RateHistory("cash rate", cash_symbol, rate_raw, history))
    return out


def load_rates(
    provider: Provider, rates: Sequence[RateHistory], fx_band: tuple[float, float] | None
) -> tuple[list[Extra], list[str]]:
    """The rate series ``rates`` (:func:`fetch_rates`) cleaned, the exchange rate with ``fx_band``, and notes."""
    extras: list[Extra] = []
    notes: list[str] = []
    for r in rates:
        with _in_file(provider, r.symbol):
            if r.role == "exchange rate":
                values, rate_notes = clean_fx(r.raw, symbol=r.symbol, band=fx_band)
            else:
                values, rate_notes = clean_rate(r.raw, symbol=r.symbol, history=r.history)
        notes += rate_notes
        extras.append(Extra(r.role, r.symbol, values))
    return extras, notes


#: Calendar days fetched per warm-up row: 10 sessions span at most ~16 days around holidays.
_DAYS_PER_ROW = 1.6
_DAYS_MARGIN = 20


def fetch_series(
    provider: Provider,
    specs: Mapping[str, AssetSpec],
    fx_symbol: str | None,
    cash_symbol: str | None,
    start: dt.date | None,
    end: dt.date | None,
    warmup_rows: int,
) -> tuple[dict[str, pd.DataFrame], list[RateHistory]]:
    """The assets' and the rates' raw frames (:func:`fetch_assets`, :func:`fetch_rates`), from the warm-up before
    ``start`` (:func:`_fetch_start`); with ``start`` None (auto), from where their history is first needed
    (:func:`common_history`)."""
    fetch_start = _fetch_start(start, warmup_rows)
    raws = fetch_assets(provider, specs, fetch_start, end, start)
    rates = fetch_rates(provider, fx_symbol, cash_symbol, fetch_start, end, start)
    if start is None:
        return common_history(raws, rates, lead=_warmup_span(warmup_rows))
    return raws, rates


def _fetch_start(start: dt.date | None, warmup_rows: int) -> dt.date | None:
    """The first date to fetch: far enough before ``start`` for ``warmup_rows`` rows (None: from the beginning)."""
    if start is None:
        return None
    return start - _warmup_span(warmup_rows)


def _warmup_span(warmup_rows: int) -> dt.timedelta:
    """Calendar days that hold ``warmup_rows`` rows of the panel, with a margin."""
    return dt.timedelta(days=int(warmup_rows * _DAYS_PER_ROW) + _DAYS_MARGIN)
