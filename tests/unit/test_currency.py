"""engine/currency.py: a stored run shown in another currency, by hand.

Semantics (engine/currency.py docstring): every amount of money on date d is divided by X_C(d), the
value in the run's base currency of one unit of C (the run's own fx.parquet column of an asset
quoted in C); the initial capital at the first date's rate; weights, quotes and the cash index stay.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.currency import in_currency, majority_currency, rate_to
from engine.errors import UserError
from engine.jobs.compare import one_currency
from engine.store.rundir import StoredRun

DATES = pd.DatetimeIndex(["2024-01-02", "2024-01-03", "2024-01-04"], name="date")
HKD_PER_USD = np.array([7.80, 7.82, 7.79])


def hkd_run(name: str = "hkd_run", *, fx: bool = True, usd_asset: bool = True) -> StoredRun:
    """A run in HKD holding a USD asset ``us`` (fx: HKD per USD) and an HKD asset ``hk`` (fx 1)."""
    equity = pd.DataFrame(
        {"value": [1000.0, 1010.0, 990.0], "cash": [100.0, 100.0, 100.0], "us": [450.0, 460.0, 440.0],
         "hk": [450.0, 450.0, 450.0], "cash_index": [1.0, 1.0001, 1.0002]}, index=DATES)  # fmt: skip
    assets = {"us": {"currency": "USD" if usd_asset else "HKD"}, "hk": {"currency": "HKD"}}
    return StoredRun(
        run_dir=Path("/nonexistent") / name,
        manifest={"run_id": f"id-{name}", "config_name": name},
        metrics={"data": {"base_currency": "HKD", "assets": assets}},
        initial_cash=1000.0,
        equity=equity,
        benchmarks=pd.DataFrame({"buy & hold US": [1000.0, 1002.0, 1004.0]}, index=DATES),
        trades=pd.DataFrame(
            {
                "date": [DATES[0], DATES[2]],
                "asset": ["us", "hk"],
                "side": ["buy", "sell"],
                "quantity": [2.0, 1.0],
                "price": [225.0, 45.0],
                "value": [450.0, 45.0],
                "fees": [0.5, 0.1],
                "quoted_price": [28.8, 45.0],
            }
        ),
        weights=pd.DataFrame({"us_actual": [0.45, 0.455, 0.444]}, index=DATES),
        prices=pd.DataFrame({"us": [225.0, 230.0, 220.0], "hk": [45.0, 45.0, 45.0]}, index=DATES),
        quotes=pd.DataFrame({"us": [28.85, 29.41, 28.24], "hk": [45.0, 45.0, 45.0]}, index=DATES),
        fx=pd.DataFrame({"us": HKD_PER_USD, "hk": [1.0, 1.0, 1.0]}, index=DATES) if fx else None,
    )


def test_every_amount_is_divided_by_the_rate_of_its_own_date() -> None:
    usd = in_currency(hkd_run(), "USD")
    assert usd.metrics["data"]["base_currency"] == "USD" and usd.metrics["data"]["converted_from"] == "HKD"
    np.testing.assert_allclose(usd.equity["value"], [1000 / 7.80, 1010 / 7.82, 990 / 7.79], rtol=1e-15)
    np.testing.assert_allclose(usd.equity["us"], [450 / 7.80, 460 / 7.82, 440 / 7.79], rtol=1e-15)
    np.testing.assert_allclose(usd.benchmarks["buy & hold US"], [1000 / 7.80, 1002 / 7.82, 1004 / 7.79], rtol=1e-15)
    np.testing.assert_allclose(usd.prices["us"], [225 / 7.80, 230 / 7.82, 220 / 7.79], rtol=1e-15)
    # fills on their own dates: the first at 7.80, the second at 7.79
    np.testing.assert_allclose(usd.trades["value"], [450 / 7.80, 45 / 7.79], rtol=1e-15)
    np.testing.assert_allclose(usd.trades["fees"], [0.5 / 7.80, 0.1 / 7.79], rtol=1e-15)
    assert usd.initial_cash == pytest.approx(1000 / 7.80, rel=1e-15)
    # not money: unchanged
    assert usd.equity["cash_index"].tolist() == [1.0, 1.0001, 1.0002]
    assert usd.trades["quoted_price"].tolist() == [28.8, 45.0] and usd.weights.equals(hkd_run().weights)
    # the USD asset's own currency is now the base: its rate is 1
    np.testing.assert_allclose(usd.fx["us"], [1.0, 1.0, 1.0], rtol=1e-15)


def test_the_base_currency_is_the_run_itself() -> None:
    run = hkd_run()
    assert in_currency(run, "HKD") is run
    assert rate_to(run, "HKD").tolist() == [1.0, 1.0, 1.0]


def test_a_run_without_rates_is_one_line_error() -> None:
    with pytest.raises(UserError, match=r"run id-hkd_run \(hkd_run, in HKD\) was stored before .*fx\.parquet.*--force"):
        in_currency(hkd_run(fx=False), "USD")
    with pytest.raises(UserError, match="trades no asset quoted in USD, so its data has no exchange rate"):
        in_currency(hkd_run(usd_asset=False), "USD")
    with pytest.raises(UserError, match="--currency: expected one of USD, HKD"):
        in_currency(hkd_run(), "EUR")


def test_an_asset_only_the_signals_read_is_neither_a_rate_nor_money() -> None:
    """A USD run that trades only USD assets but reads an HKD index for its signals (``etf_pair_us``): that
    index's fx column is 1 (its prices stay in HKD), not an exchange rate, so the run cannot be shown in HKD;
    and a run that can be converted leaves such an asset's prices and column as they are."""
    run = hkd_run(usd_asset=False)
    signal = {"currency": "USD", "traded": False}
    only_signal = dataclasses.replace(run, metrics={"data": {"base_currency": "HKD", "assets": {"us": signal}}})
    with pytest.raises(UserError, match="trades no asset quoted in USD, so its data has no exchange rate"):
        in_currency(only_signal, "USD")
    converted = in_currency(hkd_run(usd_asset=True), "USD")
    read = hkd_run()
    read.metrics["data"]["assets"]["hk"]["traded"] = False
    kept = in_currency(read, "USD")
    assert kept.prices["hk"].tolist() == [45.0, 45.0, 45.0] and kept.fx["hk"].tolist() == [1.0, 1.0, 1.0]
    assert kept.prices["us"].equals(converted.prices["us"]) and kept.equity.equals(converted.equity)


def test_majority_currency_and_the_note() -> None:
    runs = [hkd_run("a"), hkd_run("b")]
    usd_run = in_currency(hkd_run("c"), "USD")
    assert majority_currency([*runs, usd_run]) == "HKD"
    assert majority_currency([runs[0], usd_run]) == "USD"  # a tie
    shown, notes = one_currency([*runs, usd_run], None)
    assert [r.metrics["data"]["base_currency"] for r in shown] == ["HKD", "HKD", "HKD"]
    assert len(notes) == 1 and notes[0].startswith("Shown in HKD (the majority currency; --currency USD|HKD chooses)")
    assert "c (USD) converted" in notes[0]
    _, tied = one_currency([runs[0], usd_run], None)
    assert tied[0].startswith("Shown in USD (USD on a tie; --currency USD|HKD chooses): a (HKD) converted")
    shown, notes = one_currency(runs, None)
    assert notes == [] and shown == runs
    shown, notes = one_currency(runs, "USD")
    assert "as --currency asks" in notes[0] and "a (HKD), b (HKD)" in notes[0]
