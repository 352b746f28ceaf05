"""Stored runs in another currency: their money converted at the exchange rates of their own data.

A run values everything in its base currency B (engine/valuation.py): an asset quoted in another
currency C is converted at X_C(d), the value in B of one unit of C from the USD/HKD close known on
date d (carried forward over FX holidays), which the run stores per asset in ``fx.parquet``.  To
show the run in C, every amount of money on date d is divided by X_C(d):

    V_C(d) = V_B(d) / X_C(d)    for the equity, cash, holdings, benchmark curves, unit values,
                                 fills, fees and slippage (each on its own date)
    initial capital in C = initial capital in B / X_C(first run date)

Returns in C therefore include the move of the exchange rate, as an investor counting in C sees
them.  The rate is the run's own (the same closes that valued its foreign assets), never a rate
fetched for the occasion, so converting a run and converting it back gives the run again.  Weights,
quoted prices, signals and the cash index (the run's own cash rate) are not money and stay, as do the
prices of an asset only the signals read (kept in its own currency).

A run whose assets are all in B has no rate to convert with (its data has no exchange rate), and
a run stored before ``fx.parquet`` existed has none kept: both are a one-line error.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from engine.errors import UserError
from engine.store.rundir import StoredRun

__all__ = ["CURRENCIES", "base_currency", "currency_of", "in_currency", "majority_currency", "rate_to"]

#: The currencies a run can be shown in.
CURRENCIES = ("USD", "HKD")


def base_currency(run: StoredRun) -> str:
    """The currency ``run`` values everything in."""
    return currency_of(run.metrics)


def currency_of(metrics: Mapping[str, Any]) -> str:
    """The base currency a run's ``metrics.json`` names (USD for a run stored before it named one)."""
    return str(metrics.get("data", {}).get("base_currency") or "USD")


def _label(run: StoredRun) -> str:
    return f"run {run.manifest.get('run_id', run.run_dir.name)} ({run.name}, in {base_currency(run)})"


def _traded(run: StoredRun) -> dict[str, dict[str, Any]]:
    """The assets ``run`` valued in its base currency (:attr:`StoredRun.traded_assets`): not those only its
    signals read, which keep their own currency's prices (their ``fx.parquet`` column is 1, not a rate)."""
    assets = run.metrics.get("data", {}).get("assets") or {}
    return {a: assets[a] for a in run.traded_assets if a in assets}


def rate_to(run: StoredRun, currency: str) -> pd.Series:
    """The value in ``currency`` of one unit of ``run``'s base currency on each run date (1 for its own)."""
    dates = run.equity.index
    if currency == base_currency(run):
        return pd.Series(1.0, index=dates)
    quoted_in = [a for a, info in _traded(run).items() if info.get("currency") == currency]
    if not quoted_in:
        raise UserError(
            f"{_label(run)} trades no asset quoted in {currency}, so its data has no exchange rate to convert "
            f"it with; compare it in {base_currency(run)}"
        )
    if run.fx is None or quoted_in[0] not in run.fx:
        raise UserError(
            f"{_label(run)} was stored before Seesaw kept its exchange rates (fx.parquet); run its config "
            f"again with --force to compare it in {currency}"
        )
    return 1.0 / run.fx[quoted_in[0]].reindex(dates)


def in_currency(run: StoredRun, currency: str) -> StoredRun:
    """``run`` with its money in ``currency`` (module docstring); ``run`` itself when already in it."""
    if currency not in CURRENCIES:
        raise UserError(f"--currency: expected one of {', '.join(CURRENCIES)}, got {currency!r}")
    base = base_currency(run)
    if currency == base:
        return run
    rate = rate_to(run, currency)
    money = [c for c in run.equity.columns if c != "cash_index"]
    equity = run.equity.assign(**{c: run.equity[c] * rate for c in money})
    valued = list(_traded(run))  # the assets whose prices and rates are in the base currency
    on_fill = rate.reindex(pd.DatetimeIndex(pd.to_datetime(run.trades["date"]))).to_numpy()
    trades = run.trades.assign(
        **{c: run.trades[c].to_numpy() * on_fill for c in ("price", "value", "fees") if c in run.trades}
    )
    metrics: dict[str, Any] = {**run.metrics, "data": {**run.metrics.get("data", {}), "base_currency": currency}}
    metrics["data"]["converted_from"] = base
    return dataclasses.replace(
        run,
        metrics=metrics,
        initial_cash=run.initial_cash * float(rate.iloc[0]),
        equity=equity,
        benchmarks=run.benchmarks.mul(rate, axis=0),
        trades=trades,
        prices=_converted(run.prices, rate, valued),
        fx=None if run.fx is None else _converted(run.fx, rate, valued),
    )


def _converted(frame: pd.DataFrame, rate: pd.Series, columns: Sequence[str]) -> pd.DataFrame:
    """``frame`` with its ``columns`` (those it has) multiplied by ``rate`` on each date."""
    return frame.assign(**{c: frame[c].mul(rate, axis=0) for c in columns if c in frame})


def majority_currency(runs: Sequence[StoredRun]) -> str:
    """The base currency most of ``runs`` use (USD on a tie)."""
    counts = Counter(base_currency(r) for r in runs)
    return max(CURRENCIES, key=lambda c: (counts[c], c == "USD"))
