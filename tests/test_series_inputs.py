"""Series that are not prices (a T-bill yield, USD/HKD) as signal inputs, never traded (`instrument: series`).

The test reads the CSV itself: the `level` signal of ^IRX on every run date is the last ^IRX close at or
before that date on New York's sessions, and HKD=X adds no date of its own to the timeline.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app

CONFIG = """\
name: series_inputs
data: {source: csv, start: 2010-01-04, end: 2014-12-31}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
  bill: {symbol: ^IRX, market: us, instrument: series}
  usdhkd: {symbol: HKD=X, market: us, instrument: series}
signals:
  rate: {fn: level, a: bill}
  peg: {fn: zscore, of: usdhkd, window: 60}
rules:
  - when: rate > 0.1 and peg < 1
    weights: {us: 1.0}
  - otherwise: {hk: 1.0}
"""


@pytest.mark.realdata
def test_a_yield_and_an_exchange_rate_feed_signals_without_being_traded(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "series.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    results = tmp_path / "results"
    result = CliRunner().invoke(
        app, ["run", str(path), "--data-dir", str(data_dir), "--results-dir", str(results), "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    [run_dir] = list((results / "series_inputs").iterdir())
    signals = pd.read_parquet(run_dir / "signals.parquet").set_index("date")
    dates = pd.DatetimeIndex(signals.index)
    irx = pd.read_csv(data_dir / "IRX.csv", parse_dates=["Date"]).set_index("Date")["Close"].dropna()
    expected = irx.reindex(irx.index.union(dates)).ffill().reindex(dates).to_numpy()
    np.testing.assert_allclose(signals["rate"].to_numpy(), expected, rtol=0, atol=0)  # in percent, as quoted
    assert signals["peg"].notna().all()
    gspc = pd.read_csv(data_dir / "GSPC.csv", parse_dates=["Date"])["Date"]
    hsi = pd.read_csv(data_dir / "HSI.csv", parse_dates=["Date"])["Date"]
    union = pd.DatetimeIndex(pd.concat([gspc, hsi]).unique()).sort_values()
    assert set(dates) <= set(union)  # HKD=X trades on New York's holidays: none of those dates is a run date
    metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    assert set(metrics["strategy"]["avg_weight"]) == {"us", "hk"}  # the series are never held
