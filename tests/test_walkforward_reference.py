"""``seesaw walkforward`` against the independent oracle ``tests/walkforward_reference.py``.

The engine runs as a black box (the ``seesaw`` command in a subprocess, ``--format json``, and the files of the
run it stores); the oracle gets the same closes (synthetic ones read back from a plain ``engine.api.run`` of the
same config without its sweep, real ones read by hand from the CSVs) and re-derives the folds, every
combination's training score, each fold's choice and ties, the stitched out-of-sample run and every figure.
Numbers agree to 1e-9 relative: the contract determines them exactly; the two sides only sum differently.

The oracle found the engine trading at every fold's start even when the new fold's targets were those already
ordered (a drifted 50/50 mix rebalanced because the same combination was chosen again): the contract trades only
changes of targets, so the engine moved ("synthetic ann_vol ties", "synthetic max_drawdown 18m/6m" and
"real sharpe 3y/1y" are the cases that caught it).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests import walkforward_reference as wf

RTOL = 1e-9
# A figure near 0 (an in-sample Sharpe of 1.3e-4 on the synthetic 2y/1y case) is a difference of nearly equal
# sums, whose last bits are rounding (1.4e-13 apart there, 1.1e-9 relative): an absolute floor of 1e-12 on the
# figures, far below anything a choice or a reader could notice, keeps 1e-9 relative everywhere else.
ATOL = 1e-12
MARKETS = {"us": "us", "hk": "hk"}
METRICS = ("final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar")
METRICS += ("periods_per_year", "fees_paid", "turnover", "trades", "switches")

CONFIG = """\
name: {name}
description: walk-forward oracle test
data: {{source: {source}, start: {start}, end: {end}}}
params: {{cut: 0.0, window: 40}}
assets:
  us: {{symbol: ^GSPC, market: us}}
  hk: {{symbol: ^HSI, market: hk}}
signals:
  rel: {{fn: relative_momentum, a: us, b: hk, window: $window}}
rules:
  - when: rel > cut
    weights: {{us: 1.0}}
  - when: rel < -cut
    weights: {{hk: 1.0}}
  - otherwise: {{us: {us}, hk: {hk}}}
execution: {{lag: 1, rebalance: on_change}}
costs: {{fee_bps: 5, slippage_bps: 5}}
cash_rate: {cash_rate}
benchmarks:
  - {{name: 50/50 monthly, weights: {{us: 0.5, hk: 0.5}}, rebalance: monthly}}
"""


def write_config(
    path: Path, *, source: str, start: str, end: str, sweep: dict | None, cash_rate, otherwise=(0.5, 0.5)
) -> Path:
    us, hk = otherwise
    text = CONFIG.format(name=path.stem, source=source, start=start, end=end, cash_rate=cash_rate, us=us, hk=hk)
    if sweep:
        text += "sweep:\n" + "".join(f"  {k}: {json.dumps(v)}\n" for k, v in sweep.items())
    path.write_text(text, encoding="utf-8")
    return path


def seesaw_walkforward(config: Path, results: Path, *args: str, data_dir: Path | None = None) -> dict:
    """The command's JSON document, with the stored run's ``equity.csv`` and ``weights.csv`` as DataFrames."""
    cmd = ["seesaw", "walkforward", str(config), *args, "--format", "json", "--results-dir", str(results)]
    if data_dir is not None:
        cmd += ["--source", "csv", "--data-dir", str(data_dir)]
    env = {**os.environ, "SEESAW_SERVER": "off", "COLUMNS": "200"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    run_dir = Path(doc["run_dir"])
    doc["equity"] = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=True)
    doc["weights"] = pd.read_csv(run_dir / "weights.csv", index_col="date", parse_dates=True)
    doc["benchmark_values"] = pd.read_csv(run_dir / "benchmarks.csv", index_col="date", parse_dates=True)
    doc["quotes"] = pd.read_parquet(run_dir / "quotes.parquet")
    return doc


def close(got, want, what: str) -> None:
    if want is None or (isinstance(want, float) and math.isnan(want)):
        assert got is None or (isinstance(got, float) and math.isnan(got)), f"{what}: {got} != {want}"
        return
    assert got is not None, f"{what}: engine has none, oracle {want}"
    np.testing.assert_allclose(float(got), float(want), rtol=RTOL, atol=ATOL, err_msg=what)


# ------------------------------------------------------------------------------------------ the data


@pytest.fixture(scope="session")
def synthetic_market(tmp_path_factory: pytest.TempPathFactory) -> wf.Market:
    """The synthetic closes 2006-2015 (the generator gives the same prices whatever the start), from a plain run."""
    from engine import api

    root = tmp_path_factory.mktemp("wf-synthetic")
    config = write_config(
        root / "wf_base.yaml", source="synthetic", start="2006-01-01", end="2015-12-31", sweep=None, cash_rate=0.02
    )
    (run,) = api.run(config, results_dir=root / "results", env={**os.environ, "SEESAW_SERVER": "off"})
    quotes = run.stored.quotes.sort_index()
    prices = run.stored.prices.sort_index()
    quotes.index = pd.DatetimeIndex(quotes.index)
    prices.index = pd.DatetimeIndex(prices.index)
    closes = quotes[["us", "hk"]]
    # one HKD unit is worth close / usdhkd in USD (docs/methodology.md "Base currency")
    usdhkd = closes["hk"].ffill() / prices["hk"]
    return wf.Market(closes=closes, markets=MARKETS, usdhkd=usdhkd)


@pytest.fixture(scope="session")
def real_market(data_dir: Path) -> wf.Market:
    return wf.csv_market(data_dir, {"us": "GSPC.csv", "hk": "HSI.csv"}, MARKETS)


# ------------------------------------------------------------------------------------------ the checks


def assert_folds_agree(doc: dict, ref: wf.WalkForward, keys: list[str], prefix: str) -> None:
    """Fold dates, choices and ties, and the figures whose names start with ``prefix`` (``is_`` or ``oos_``)."""
    assert len(doc["folds"]) == len(ref.folds), [f["test_start"] for f in doc["folds"]]
    for got, want in zip(doc["folds"], ref.folds, strict=True):
        fold = f"fold {want['fold']}"
        for key in ("fold", "train_start", "train_end", "test_start", "test_end", "scored_to"):
            assert got[key] == want[key], f"{fold} {key}: engine {got[key]}, oracle {want[key]}"
        chosen = {k: got[k] for k in keys}
        assert chosen == {k: want[k] for k in keys}, f"{fold}: engine chose {chosen}; scores {ref.scores[want['fold']]}"
        assert got["tied"] == want["tied"], f"{fold} tied"
        figures = [k for k in got if k.startswith(prefix)]
        assert len(figures) >= 3
        for key in figures:
            close(got[key], want[key], f"{fold} {key}")


def assert_stitched_agree(doc: dict, ref: wf.WalkForward) -> None:
    oos = doc["out_of_sample"]
    assert oos["start"] == ref.metrics["start"].strftime("%Y-%m-%d")
    assert oos["end"] == ref.metrics["end"].strftime("%Y-%m-%d")
    for key in METRICS:
        close(oos[key], ref.metrics[key], f"out_of_sample {key}")
    equity = doc["equity"]
    assert list(equity.index) == list(ref.equity.index)
    np.testing.assert_allclose(equity["value"], ref.equity["value"], rtol=RTOL, atol=0, err_msg="daily value")
    np.testing.assert_allclose(equity["cash"], ref.equity["cash"], rtol=RTOL, atol=1e-6, err_msg="daily cash")
    targets = doc["weights"][["us_target", "hk_target"]].to_numpy()
    differ = np.flatnonzero(np.any(np.abs(targets - ref.targets_in_force.to_numpy()) > 1e-12, axis=1))
    assert differ.size == 0, f"targets in force differ on {[str(equity.index[i].date()) for i in differ[:5]]}"
    (bench,) = doc["benchmarks"]
    for key in ("final_value", "total_return", "cagr", "sharpe", "max_drawdown", "fees_paid"):
        close(bench[key], ref.benchmark_metrics[key], f"benchmark {key}")
    got = doc["benchmark_values"][bench["name"]].to_numpy()
    np.testing.assert_allclose(got, ref.benchmark["value"], rtol=RTOL, atol=0, err_msg="benchmark values")


def oracle(market: wf.Market, sweep: dict, *, start: str, end: str, cash_rate, otherwise, **windows) -> wf.WalkForward:
    setup = wf.Setup(lag=1, fee_bps=5, slippage_bps=5, cash_rate=cash_rate)
    return wf.walkforward(
        market,
        wf.grid(sweep),
        lambda closes, **combo: wf.rotation_targets(closes, otherwise=otherwise, **combo),
        setup,
        start=start,
        end=end,
        benchmark={"us": 0.5, "hk": 0.5},
        benchmark_rebalance="monthly",
        **windows,
    )


# ------------------------------------------------------------------------------------------ the cases

ROTATION = {"window": [20, 40, 60], "cut": [0.0, 0.05]}
# cut 10.0 never lets the momentum rules fire: both windows hold 50/50 on every date, an exact tie
TIED = {"window": [60, 20], "cut": [0.0, 10.0]}
SYNTHETIC_SPAN = ("2008-01-01", "2014-12-31")
REAL_SPAN = ("2010-01-01", "2020-12-31")

HALF = (0.5, 0.5)  # the otherwise rule's weights: a drifting mix
US = (1.0, 0.0)  # every rule holds one asset whole


@dataclass(frozen=True)
class Case:
    source: str  # synthetic | csv
    sweep: dict
    windows: dict  # --train, --test, [--step], --select
    otherwise: tuple[float, float] = HALF
    end: str | None = None  # else the span's


CASES = {
    "synthetic sharpe 3y/1y": Case("synthetic", ROTATION, {"train": "3y", "test": "1y", "select": "sharpe"}),
    "synthetic ann_vol ties": Case("synthetic", TIED, {"train": "3y", "test": "1y", "select": "ann_vol"}),
    "synthetic max_drawdown 18m/6m": Case(
        "synthetic", ROTATION, {"train": "18m", "test": "6m", "select": "max_drawdown"}
    ),
    # overlapping windows, and data ending on the last fold's first test date (a window of one date: no Sharpe)
    "synthetic cagr 2y/1y step 6m, one-date last window": Case(
        "synthetic", ROTATION, {"train": "2y", "test": "1y", "step": "6m", "select": "cagr"}, end="2014-01-02"
    ),
    "real sharpe 3y/1y": Case("csv", ROTATION, {"train": "3y", "test": "1y", "select": "sharpe"}),
    "real sharpe 3y/1y, whole assets": Case("csv", ROTATION, {"train": "3y", "test": "1y", "select": "sharpe"}, US),
    "real sortino 3y/1y step 6m, whole assets, short last window": Case(
        "csv", ROTATION, {"train": "3y", "test": "1y", "step": "6m", "select": "sortino"}, US, end="2020-10-30"
    ),
}


def _params() -> list:
    return [
        pytest.param(name, marks=[pytest.mark.realdata] if case.source == "csv" else [], id=name)
        for name, case in CASES.items()
    ]


@pytest.fixture(scope="session")
def walkforwards(tmp_path_factory: pytest.TempPathFactory, synthetic_market, request):
    """``get(case name) -> (engine document, oracle)``, each case run once per session."""
    cache: dict[str, tuple[dict, wf.WalkForward]] = {}

    def get(name: str) -> tuple[dict, wf.WalkForward]:
        if name in cache:
            return cache[name]
        case = CASES[name]
        start, end = SYNTHETIC_SPAN if case.source == "synthetic" else REAL_SPAN
        end = case.end or end
        real = case.source == "csv"
        data_dir = request.getfixturevalue("data_dir") if real else None
        market = request.getfixturevalue("real_market") if real else synthetic_market
        cash_rate = None if real else 0.02
        root = tmp_path_factory.mktemp("wf")
        config = write_config(
            root / "wf_case.yaml",
            source=case.source,
            start=start,
            end=end,
            sweep=case.sweep,
            cash_rate=cash_rate or "null",
            otherwise=case.otherwise,
        )
        args = [x for key, value in case.windows.items() for x in (f"--{key}", value)]
        doc = seesaw_walkforward(config, root / "results", *args, "--chunk-size", "4", data_dir=data_dir)
        windows = case.windows
        ref = oracle(market, case.sweep, start=start, end=end, cash_rate=cash_rate, otherwise=case.otherwise, **windows)
        cache[name] = (doc, ref)
        return cache[name]

    return get


# ------------------------------------------------------------------------------------------ the tests


@pytest.mark.parametrize("name", _params())
def test_folds_and_in_sample_figures_match_oracle(name: str, walkforwards) -> None:
    """Fold windows, every fold's choice by --select with its ties, and the in-sample figures."""
    doc, ref = walkforwards(name)
    sweep, windows = CASES[name].sweep, CASES[name].windows
    assert doc["combinations"] == len(wf.grid(sweep))
    assert (doc["select"], doc["train"], doc["test"]) == (windows["select"], windows["train"], windows["test"])
    assert_folds_agree(doc, ref, list(sweep), "is_")
    # the cases exercise what they are named after
    if sweep is TIED:
        assert any(f["tied"] == 2 and f["window"] == 60 for f in ref.folds), "no tie won by the first in grid order"
    if "step" in windows:
        assert all(f["scored_to"] < f["test_end"] for f in ref.folds[:-1]), "windows do not overlap"
    else:
        assert len({tuple(f[k] for k in sweep) for f in ref.folds}) >= 2 or sweep is TIED, "no switch"


@pytest.mark.parametrize("name", _params())
def test_out_of_sample_run_matches_oracle(name: str, walkforwards) -> None:
    """Each fold's out-of-sample figures (up to ``scored_to``) and the stitched run: metrics, daily values,
    targets in force, switches and the benchmark over the same dates."""
    doc, ref = walkforwards(name)
    assert_folds_agree(doc, ref, list(CASES[name].sweep), "oos_")
    assert_stitched_agree(doc, ref)
    if CASES[name].end:  # the data end inside the last fold's test window, which is cut short
        last = ref.folds[-1]
        assert last["test_end"] == CASES[name].end == ref.metrics["end"].strftime("%Y-%m-%d")
        if last["test_start"] == last["test_end"]:
            assert math.isnan(last["oos_sharpe"]) and math.isnan(last["oos_cagr"])


@pytest.mark.realdata
def test_real_closes_read_by_hand_are_the_engines(walkforwards, real_market: wf.Market) -> None:
    """The oracle's inputs: the closes read by hand from the CSVs are the engine's on every out-of-sample date."""
    doc, _ = walkforwards("real sharpe 3y/1y")
    quotes = doc["quotes"]
    quotes = quotes.set_index("date") if "date" in quotes.columns else quotes
    mine = real_market.closes.reindex(pd.DatetimeIndex(quotes.index))[["us", "hk"]]
    np.testing.assert_array_equal(quotes[["us", "hk"]].to_numpy(), mine.to_numpy())


def test_a_step_longer_than_the_test_window_is_refused(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "wf_step.yaml",
        source="synthetic",
        start="2008-01-01",
        end="2012-12-31",
        sweep=ROTATION,
        cash_rate=0.02,
    )
    with pytest.raises(ValueError, match="longer than the test window"):
        wf.fold_windows(pd.bdate_range("2008-01-01", "2012-12-31"), "3y", "6m", "1y")
    cmd = ["seesaw", "walkforward", str(config), "--train", "3y", "--test", "6m", "--step", "1y"]
    cmd += ["--results-dir", str(tmp_path / "results")]
    env = {**os.environ, "SEESAW_SERVER": "off"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "longer than --test" in done.stderr
    assert not (tmp_path / "results" / "wf_step_walkforward").exists()
