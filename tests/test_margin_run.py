"""A margin account's run end to end (docs/shorts.md): the shipped spread trade on synthetic and real data.

What a user reads must agree with what was simulated: ``metrics.json`` ``strategy.financing``, the run
notes, the signed weights in ``weights.csv`` and the report's weights chart (lines, shorts below zero),
and ``fx_return`` from the same fills on frozen exchange rates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.config import load_config
from engine.data.panel import load_for_config
from engine.data.synthetic import SyntheticProvider
from engine.jobs.common import RunOptions
from engine.jobs.run import run_configs
from engine.pipeline import required_warmup, run_config
from engine.render.html import run_report
from engine.store.rundir import load_run
from tests.conftest import CONFIGS, stored_run_dir
from tests.report_html import array, figures

SPREAD = CONFIGS / "hk_us_spread.yaml"


@pytest.fixture(scope="module")
def spread_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    results = tmp_path_factory.mktemp("margin") / "results"
    opts = RunOptions(source="synthetic", start=dt.date(2004, 1, 1), end=dt.date(2014, 12, 31), results_dir=results)
    run_configs([SPREAD], opts, env={}, now=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
    return stored_run_dir(results, "hk_us_spread")


def test_the_spread_run_reports_its_financing_and_signed_weights(spread_run: Path) -> None:
    metrics = json.loads((spread_run / "metrics.json").read_text(encoding="utf-8"))
    strategy = metrics["strategy"]
    assert set(strategy["financing"]) == {"borrow", "margin"}
    assert strategy["financing"]["borrow"] > 0  # it held a short
    assert all("financing" not in b for b in metrics["benchmarks"])  # benchmarks are cash accounts
    weights = pd.read_csv(spread_run / "weights.csv")
    assert weights["us_actual"].min() < -0.5 < 0.5 < weights["hk_actual"].max()  # long HK, short US
    run = load_run(spread_run)
    assert any("margin account" in n and "financing paid" in n for n in metrics["notes"])
    fig = figures(run_report(run).html)["fig-weights"]
    assert "below zero" in json.dumps(fig["layout"]["title"])
    lines = {t["name"]: array(t["y"]) for t in fig["data"]}
    assert all("stackgroup" not in t for t in fig["data"])
    assert lines["us"].tolist() == weights["us_actual"].tolist()
    assert lines["us"] + lines["hk"] + lines["cash"] == pytest.approx(1.0, abs=1e-9)
    tear = metrics["tearsheet"]
    parts = tear["contribution"]  # financing has its own part, and the parts add up to the total return
    assert parts["financing"] == pytest.approx(-sum(strategy["financing"].values()) / 100_000, rel=1e-12)
    assert sum(v for v in parts.values() if v is not None) == pytest.approx(strategy["total_return"], abs=1e-9)
    assert tear["time_invested"]["us"] == pytest.approx((weights["us_actual"] != 0).mean())  # a short counts


def test_borrow_costs_lower_the_spread_by_what_it_paid() -> None:
    """The same run with borrow and spread at zero trades on the same dates and ends higher.  (Not higher by
    exactly what was paid: orders are a percent of the value, so a poorer account holds smaller positions.)"""
    cfg = load_config(SPREAD)
    free = cfg.model_copy(update={"costs": cfg.costs.model_copy(update={"borrow_bps": 0.0, "margin_spread_bps": 0.0})})
    provider = SyntheticProvider(
        {"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx", "^IRX": "rate"}, first=dt.date(2002, 1, 2)
    )
    loaded = load_for_config(provider, cfg, warmup_rows=required_warmup(cfg))
    paid, unpaid = run_config(cfg, loaded)[0], run_config(free, loaded)[0]
    cost = paid.metrics["financing"]["borrow"] + paid.metrics["financing"]["margin"]
    assert unpaid.metrics["financing"] == {"borrow": 0.0, "margin": 0.0}
    assert cost > 0
    assert unpaid.value[-1] > paid.value[-1]
    first = int(np.flatnonzero(paid.cash != unpaid.cash)[0])  # the first date anything differs ...
    assert paid.trades["date"].min() < str(paid.dates[first].date())  # ... comes after the first short
    assert paid.trades[["date", "asset", "side"]].equals(unpaid.trades[["date", "asset", "side"]])
    assert np.isfinite(paid.metrics["fx_return"])
