"""End-to-end tests of ``seesaw compare`` and ``seesaw runs``, checked against independent arithmetic.

Every number compared here is recomputed from the stored run directories (``equity.csv``,
``benchmarks.csv``, ``config.yaml``, ``run.json``) with plain pandas and the metric
definitions of ``tests/oracle.py`` (which imports nothing from ``engine``); never with
``engine.metrics`` or ``engine.metrics.frames``.

The configs run once per module into temporary results directories; every later
comparison selects those stored runs with ``--runs`` (no data loading).  Bootstrap
statistics use ``--reps 200``: their precision does not matter here.

Golden file: ``tests/golden/compare_synthetic.md`` is the Markdown output of
``seesaw compare`` on synthetic data (see ``GOLDEN_ARGS``), compared byte for byte, from this
process and from a second one.  After an intended change of the output, regenerate it with

    SEESAW_UPDATE_GOLDEN=1 python -m pytest tests/test_compare.py -k golden

and review the diff of the golden file before committing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import math
import os
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.jobs.common import RunOptions
from engine.jobs.compare import compare_job
from tests import oracle
from tests.run_files import resum

REPO = Path(__file__).resolve().parents[1]
ALL_CONFIGS = sorted((REPO / "configs").glob("*.yaml"))


def _plain_index_pair(path: Path) -> bool:
    """A config on ^GSPC and ^HSI only, both traded, with no cash rate and no dividends: these share
    every benchmark curve, so the table has exactly :data:`BENCHMARKS` as benchmark rows."""
    cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    assets = cfg["assets"]
    plain = {a: {"symbol": s["symbol"], "market": s["market"]} for a, s in assets.items()} == assets
    return plain and sorted(s["symbol"] for s in assets.values()) == ["^GSPC", "^HSI"] and "cash_rate" not in cfg


CONFIGS = [p for p in ALL_CONFIGS if _plain_index_pair(p)]
GOLDEN = REPO / "tests" / "golden" / "compare_synthetic.md"
UPDATE_GOLDEN = os.environ.get("SEESAW_UPDATE_GOLDEN") == "1"

START, END = "2005-01-01", "2024-12-31"
FIRST, LAST = "2005-01-03", "2024-12-31"  # the data files' first and last trading dates inside START..END
REPS = "200"
BENCHMARKS = ["buy & hold US", "buy & hold HK", "50/50 monthly"]  # every shipped config's, in order

GOLDEN_CONFIGS = ["buy_hold_us", "ratio_trend", "static_60_40"]
GOLDEN_ARGS = [
    *(str(REPO / "configs" / f"{name}.yaml") for name in GOLDEN_CONFIGS),
    *("--source", "synthetic", "--start", "2010-01-01", "--end", "2015-12-31", "--reps", REPS),
    *("--format", "markdown"),
]

# Environment variables that would colour or resize rich's output, or move the results store.
_UNSET = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")
RUN_ID = re.compile(r"\b\d{8}T\d{6}Z-[0-9a-f]{8}(?:-\d+)?\b")
EULER_GAMMA = 0.5772156649015329


def invoke(*args: str):
    """Run the CLI in-process; stdout and stderr apart; an exception other than exit is a bug."""
    result = CliRunner().invoke(app, list(args), env=dict.fromkeys(_UNSET), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def user_error(*args: str) -> str:
    """The one-line message of a command that must fail with exit 2."""
    result = invoke(*args)
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------------------------------------
# Independent reading of run directories


@dataclass(frozen=True)
class StoredRun:
    run_dir: Path
    manifest: dict[str, Any]
    initial: float
    equity: pd.Series
    benchmarks: pd.DataFrame


def read_run(run_dir: Path) -> StoredRun:
    equity = pd.read_csv(run_dir / "equity.csv", index_col="date", parse_dates=["date"])
    benchmarks = pd.read_csv(run_dir / "benchmarks.csv", index_col="date", parse_dates=["date"])
    config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
    manifest = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return StoredRun(run_dir, manifest, float(config["initial_cash"]), equity["value"], benchmarks)


def stored_runs(results: Path) -> list[StoredRun]:
    return [read_run(p.parent) for p in sorted(results.glob("*/*/run.json"))]


def run_of(results: Path, run_id: str) -> StoredRun:
    [run_dir] = [p for p in results.glob(f"*/{run_id}") if p.is_dir()]
    return read_run(run_dir)


def curve_of(results: Path, row: dict) -> tuple[pd.Series, float]:
    """The stored curve behind a compare row and the cash it started from."""
    run = run_of(results, row["run_id"])
    curve = run.equity if row["kind"] == "strategy" else run.benchmarks[row["name"]]
    return curve, run.initial


def window(curve: pd.Series, initial: float, first: str, last: str) -> tuple[pd.Series, float]:
    """The curve on [first, last] and the value before it: the previous close, or the initial cash."""
    inside = curve[(curve.index >= pd.Timestamp(first)) & (curve.index <= pd.Timestamp(last))]
    before = curve[curve.index < pd.Timestamp(first)]
    return inside, (initial if before.empty else float(before.iloc[-1]))


def daily_returns(values: pd.Series, start: float) -> np.ndarray:
    v = values.to_numpy(dtype=float)
    return v / np.concatenate([[start], v[:-1]]) - 1.0


def year_returns(values: pd.Series, start: float) -> dict[int, float]:
    """R_y = V(last date of y) / V(last date of y - 1) - 1, the first year from ``start``."""
    out, previous = {}, start
    for year in sorted(set(values.index.year)):
        end = float(values[values.index.year == year].iloc[-1])
        out[year] = end / previous - 1.0
        previous = end
    return out


def psr(r: np.ndarray, reference_sharpe: float) -> float:
    """Bailey & Lopez de Prado (2012): Phi((SR - SR*) sqrt(n-1) / sqrt(1 - g3 SR + (g4-1)/4 SR^2)), per period."""
    n = len(r)
    sr = r.mean() / r.std(ddof=1)
    dev = r - r.mean()
    m2 = np.mean(dev**2)
    g3, g4 = np.mean(dev**3) / m2**1.5, np.mean(dev**4) / m2**2
    z = (sr - reference_sharpe) * math.sqrt(n - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2)
    return statistics.NormalDist().cdf(z)


def jobson_korkie(x: np.ndarray, y: np.ndarray) -> float:
    """Phi(z) of the Jobson-Korkie test of SR_x > SR_y with Memmel's (2003) correction, per period:
    z = (SR_x - SR_y) / sqrt((2 - 2 rho + (SR_x^2 + SR_y^2 - 2 SR_x SR_y rho^2) / 2) / n)."""
    sx, sy = x.mean() / x.std(ddof=1), y.mean() / y.std(ddof=1)
    rho = float(np.corrcoef(x, y)[0, 1])
    v = (2 - 2 * rho + 0.5 * (sx**2 + sy**2 - 2 * sx * sy * rho**2)) / len(x)
    return statistics.NormalDist().cdf((sx - sy) / math.sqrt(v))


def expected_max_sharpe(trial_sharpes: list[float]) -> float:
    """Bailey & Lopez de Prado (2014), SR0 for N trials with sample variance V (ddof=1)."""
    n, q = len(trial_sharpes), statistics.NormalDist().inv_cdf
    v = statistics.variance(trial_sharpes)
    return math.sqrt(v) * ((1 - EULER_GAMMA) * q(1 - 1 / n) + EULER_GAMMA * q(1 - 1 / (n * math.e)))


def rel(x: float, rel_tol: float = 1e-9) -> Any:
    return pytest.approx(x, rel=rel_tol, abs=0.0)


# ---------------------------------------------------------------------------------------------
# Fixtures: every shipped config on real data once, a small synthetic store


@dataclass(frozen=True)
class Real:
    results: Path
    data_dir: Path
    doc: dict  # the JSON output of the first comparison


@pytest.fixture(scope="module")
def real(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Real:
    results = tmp_path_factory.mktemp("real") / "results"
    args = ["compare", *map(str, CONFIGS), "--source", "csv", "--data-dir", str(data_dir)]
    args += ["--start", START, "--end", END, "--format", "json", "--reps", REPS, "--results-dir", str(results)]
    return Real(results, data_dir, json.loads(ok(*args)))


def compare_real(real: Real, *args: str) -> str:
    return ok("compare", "--runs", "latest", "--results-dir", str(real.results), "--reps", REPS, *args)


def compare_real_json(real: Real, *args: str) -> dict:
    return json.loads(compare_real(real, *args, "--format", "json"))


@dataclass(frozen=True)
class Synthetic:
    results: Path
    markdown: str  # the golden command's output, before anything else was stored


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Synthetic:
    results = tmp_path_factory.mktemp("synthetic") / "results"
    return Synthetic(results, ok("compare", *GOLDEN_ARGS, "--results-dir", str(results)))


@pytest.fixture(scope="module")
def store(synthetic: Synthetic) -> Path:
    """The synthetic store plus a newer run of ratio_trend (``--force``: same config and data, a new run)."""
    args = [str(REPO / "configs" / "ratio_trend.yaml"), "--source", "synthetic", "--start", "2010-01-01"]
    ok("run", *args, "--end", "2015-12-31", "--force", "--format", "json", "--results-dir", str(synthetic.results))
    return synthetic.results


def newest_first(results: Path) -> list[dict]:
    """Manifests, newest first: creation time, then run id (as documented for `runs list`)."""
    manifests = [r.manifest for r in stored_runs(results)]
    return sorted(manifests, key=lambda m: (dt.datetime.fromisoformat(m["created_at"]), m["run_id"]), reverse=True)


# ---------------------------------------------------------------------------------------------
# 1. Real data, the full window


@pytest.mark.realdata
def test_window_is_the_common_first_and_last_date(real: Real) -> None:
    doc = real.doc
    assert (doc["first"], doc["last"]) == (FIRST, LAST)
    assert doc["reference"] == "50/50 monthly"
    assert doc["synthetic"] is False
    assert len(doc["data_fingerprints"]) == 1
    for run in stored_runs(real.results):
        assert (str(run.equity.index[0].date()), str(run.equity.index[-1].date())) == (FIRST, LAST)
    for row in doc["rows"]:
        assert (row["start"], row["end"]) == (FIRST, LAST)


@pytest.mark.realdata
def test_one_row_per_config_then_each_distinct_benchmark(real: Real) -> None:
    rows = real.doc["rows"]
    names = [yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in CONFIGS]
    assert [r["name"] for r in rows if r["kind"] == "strategy"] == names
    # Same costs, cash and data in every config: each benchmark curve once.
    assert [r["name"] for r in rows if r["kind"] == "benchmark"] == BENCHMARKS
    assert [r["kind"] for r in rows] == ["strategy"] * len(names) + ["benchmark"] * len(BENCHMARKS)


@pytest.mark.realdata
def test_metrics_equal_an_independent_recomputation_from_the_stored_curves(real: Real) -> None:
    doc = real.doc
    for row in doc["rows"]:
        curve, initial = curve_of(real.results, row)
        values, start = window(curve, initial, doc["first"], doc["last"])
        assert start == initial  # the window starts on the curve's first date: from the initial cash
        expected = oracle.metrics(values.index, values.to_numpy(), start)
        for key in ("total_return", "cagr", "ann_vol", "sharpe", "max_drawdown", "sortino", "calmar"):
            assert row[key] == rel(expected[key]), (row["name"], key)
        assert row["final_value"] == rel(float(values.iloc[-1]))


@pytest.mark.realdata
def test_strategy_total_return_equals_its_runs_metrics_json(real: Real) -> None:
    for row in real.doc["rows"]:
        if row["kind"] != "strategy":
            continue
        run = run_of(real.results, row["run_id"])
        metrics = json.loads((run.run_dir / "metrics.json").read_text(encoding="utf-8"))
        assert metrics["strategy"]["name"] == row["name"]
        assert row["total_return"] == rel(metrics["strategy"]["total_return"], 1e-12)
        assert row["sharpe"] == rel(metrics["strategy"]["sharpe"], 1e-12)


@pytest.mark.realdata
def test_excess_return_tracking_error_and_ir_against_the_reference(real: Real) -> None:
    doc = real.doc
    [ref_row] = [r for r in doc["rows"] if r["name"] == doc["reference"]]
    ref_values, ref_start = window(*curve_of(real.results, ref_row), doc["first"], doc["last"])
    ref = oracle.metrics(ref_values.index, ref_values.to_numpy(), ref_start)
    ref_r = daily_returns(ref_values, ref_start)
    for row in doc["rows"]:
        values, start = window(*curve_of(real.results, row), doc["first"], doc["last"])
        d = daily_returns(values, start) - ref_r
        ppy = (len(values) - 1) / ((values.index[-1] - values.index[0]).days / 365.25)
        assert row["excess_return"] == pytest.approx(oracle.metrics(values.index, values, start)["cagr"] - ref["cagr"])
        if row is ref_row:
            assert row["excess_return"] == 0.0
            assert row["tracking_error"] == 0.0
            assert row["information_ratio"] is None  # NaN: zero tracking error
        else:
            assert row["tracking_error"] == rel(d.std(ddof=1) * math.sqrt(ppy))
            assert row["information_ratio"] == rel(d.mean() / d.std(ddof=1) * math.sqrt(ppy))


@pytest.mark.realdata
def test_compare_job_reuses_the_stored_runs_and_gives_the_same_rows(real: Real) -> None:
    opts = RunOptions(
        source="csv",
        data_dir=real.data_dir,
        start=dt.date.fromisoformat(START),
        end=dt.date.fromisoformat(END),
        results_dir=real.results,
    )
    comparison, config_runs = compare_job(
        CONFIGS, opts, runs=None, env={}, now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC), reps=int(REPS)
    )
    assert all(r.reused for r in config_runs)  # nothing ran again
    assert len(list(real.results.glob("*/*/run.json"))) == len(CONFIGS)
    assert (str(comparison.first.date()), str(comparison.last.date())) == (FIRST, LAST)
    assert [r["name"] for r in comparison.rows] == [r["name"] for r in real.doc["rows"]]
    for mine, cli in zip(comparison.rows, real.doc["rows"], strict=True):
        for key in ("total_return", "cagr", "ann_vol", "sharpe", "max_drawdown", "psr", "dsr"):
            assert mine.get(key) == cli.get(key) or (math.isnan(mine[key]) and cli[key] is None), key


# ---------------------------------------------------------------------------------------------
# 2. Sub-period and calendar years


@pytest.mark.realdata
def test_period_rows_start_from_the_previous_close(real: Real) -> None:
    doc = compare_real_json(real, "--period", "2020-01-01:2020-12-31", "--by", "year")
    assert (doc["first"], doc["last"]) == ("2020-01-02", "2020-12-31")
    for row in doc["rows"]:
        assert (row["start"], row["end"]) == ("2020-01-02", "2020-12-31")
        curve, _ = curve_of(real.results, row)
        # By hand: the value on the last date over the value on the date before the first.
        before = curve[curve.index < pd.Timestamp("2020-01-02")]
        assert before.index[-1] == pd.Timestamp("2019-12-31")
        by_hand = float(curve[pd.Timestamp("2020-12-31")]) / float(before.iloc[-1]) - 1.0
        assert row["total_return"] == rel(by_hand)
        values, start = window(curve, math.nan, doc["first"], doc["last"])
        expected = oracle.metrics(values.index, values.to_numpy(), start)
        for key in ("cagr", "ann_vol", "sharpe", "max_drawdown"):
            assert row[key] == rel(expected[key]), (row["name"], key)
        assert [k for k in row if re.fullmatch(r"y\d{4}", k)] == ["y2020"]
        assert row["y2020"] == rel(by_hand)


def test_runs_starting_on_the_window_and_before_it_cover_the_same_market_days(tmp_path: Path) -> None:
    """Two copies of one config, one started half a year later (on F): the window is the later run's, and
    every row's returns are of the dates after F's close: the earlier run's from its value then, the later
    run's from its initial cash (its first trades' costs count).  From the close before F, the earlier run
    would count F's move, which the later one did not hold: the same strategy, two numbers apart."""
    results = tmp_path / "results"
    text = (REPO / "configs" / "static_60_40.yaml").read_text(encoding="utf-8")
    for name, start in (("early_6040", "2010-01-01"), ("late_6040", "2010-07-01")):
        (tmp_path / f"{name}.yaml").write_text(text.replace("name: static_60_40", f"name: {name}"), encoding="utf-8")
        common = ["--source", "synthetic", "--end", "2011-12-30", "--results-dir", str(results)]
        ok("run", str(tmp_path / f"{name}.yaml"), "--start", start, *common)
    args = ["compare", "--runs", "latest", "--results-dir", str(results), "--reps", "200"]
    doc = json.loads(ok(*args, "--format", "json"))
    rows = {r["name"]: r for r in doc["rows"]}
    early, late = run_of(results, rows["early_6040"]["run_id"]), run_of(results, rows["late_6040"]["run_id"])
    first_late = late.equity.index[0]
    after = early.equity.index[early.equity.index > first_late]
    assert doc["first"] == str(after[0].date()) and doc["last"] == "2011-12-30"
    last = pd.Timestamp("2011-12-30")
    by_hand = {
        "early_6040": early.equity[last] / early.equity[first_late] - 1.0,
        "late_6040": late.equity[last] / late.initial - 1.0,
    }
    for config, expected in by_hand.items():
        assert rows[config]["total_return"] == pytest.approx(expected, rel=1e-12)
    for config, run in (("early_6040", early), ("late_6040", late)):
        bench = run.benchmarks["buy & hold US"]
        base = run.initial if run is late else bench[first_late]
        row = rows[f"buy & hold US ({config})"]  # not alike: the later one paid for its first trades
        assert row["total_return"] == pytest.approx(bench[last] / base - 1.0, rel=1e-12)
    note = " ".join(ok(*args).split())
    assert f"Every row from the close of {first_late.date()}, the first date of late_6040: that run from the" in note
    assert any(n.startswith(f"Every row from the close of {first_late.date()}") for n in doc["notes"])
    # measured from that close, two common dates leave one return: refused in one line, not a traceback
    error = user_error(*args, "--period", f":{after[0].date()}")
    assert "the runs share 1 date after the close of" in error


@pytest.mark.realdata
def test_a_window_under_a_year_prints_no_annualised_figure(real: Real) -> None:
    """40 days after the 2025 inauguration would print a CAGR of hundreds of percent: withheld, and said."""
    doc = compare_real_json(real, "--period", "2024-10-01:2024-11-15")
    for row in doc["rows"]:
        for key in ("cagr", "ann_vol", "sharpe", "sortino", "calmar", "excess_return", "information_ratio"):
            assert row.get(key) is None, (row["name"], key)
        assert row["total_return"] is not None and row["max_drawdown"] is not None
    text = compare_real(real, "--period", "2024-10-01:2024-11-15")
    assert "under one year no annualised figure is shown" in " ".join(text.split())
    assert re.search(r"rest on only \d+ daily returns", " ".join(text.split()))
    assert "trading periods per year" not in text  # a rate estimated from 33 dates, annualising nothing
    year = " ".join(compare_real(real, "--period", "2023-11-15:2024-11-15").split())
    assert re.search(r"Annualised with 25\d\.\d trading periods per year", year)
    # the calendar year 2023: its trading dates, 2023-01-03 to 2023-12-29, are 360 days, and it is a year
    calendar = compare_real_json(real, "--period", "2023-01-01:2023-12-31")
    for row in calendar["rows"]:
        assert (row["start"], row["end"]) == ("2023-01-03", "2023-12-29")
        assert row["cagr"] == pytest.approx((1 + row["total_return"]) ** (365.25 / 360) - 1, rel=1e-12)
        assert row["sharpe"] is not None and row["ann_vol"] is not None, row["name"]
    assert not any("no annualised figure" in note for note in calendar["notes"])


@pytest.mark.realdata
def test_a_window_of_a_week_is_compared_not_refused_with_a_traceback(real: Real) -> None:
    """Seven daily returns: the automatic block length's lags reach past the last date (arch's own estimator
    fails there); the bootstrap statistics are still computed, and said to rest on 7 returns."""
    doc = compare_real_json(real, "--period", "2024-12-20:2024-12-31")
    assert all(row["total_return"] is not None for row in doc["rows"])
    assert all(0.0 <= doc["spa"][key] <= 1.0 for key in ("lower", "consistent", "upper"))
    text = " ".join(compare_real(real, "--period", "2024-12-20:2024-12-31").split())
    assert "rest on only 7 daily returns" in text
    # a rule that did not switch in the window has one holding period and is named; a buy-and-hold decides nothing
    thin = re.search(r"Fewer than 10 holding periods in the window[^:]*: ([^.]*)\.", text)
    assert thin and "relative_momentum (no switch)" in thin[1] and "corr_breakdown (1 switch)" in thin[1]
    assert not re.search(r"buy_hold|static_60_40", thin[1])


@pytest.mark.realdata
def test_a_window_of_two_returns_has_no_sharpe_statistics_and_says_why(real: Real) -> None:
    """Two daily returns: no Sharpe ratio, so no interval, PSR, DSR (the DSR's trials are the strategies
    whose Sharpe is defined: none) nor SPA, each said once, not a traceback."""
    doc = compare_real_json(real, "--period", "2024-12-30:2024-12-31")
    for row in doc["rows"]:
        assert row["total_return"] is not None
        if row.get("kind", "strategy") == "strategy":
            assert row["psr"] is None and row["dsr"] is None and row["sharpe_ci_low"] is None
    text = " ".join(compare_real(real, "--period", "2024-12-30:2024-12-31").split())
    assert "H0 'no strategy beats the reference': not computed (fewer than 3 daily returns)." in text
    assert "nan" not in text.lower().split()


@pytest.mark.realdata
def test_period_from_before_the_runs_starts_from_the_initial_cash(real: Real) -> None:
    doc = compare_real_json(real, "--period", "2000-01-01:2005-06-30")
    assert (doc["first"], doc["last"]) == (FIRST, "2005-06-30")
    for row in doc["rows"]:
        curve, initial = curve_of(real.results, row)
        assert row["total_return"] == rel(float(curve[pd.Timestamp("2005-06-30")]) / initial - 1.0)


@pytest.mark.realdata
def test_year_columns_are_calendar_returns_that_compound_to_the_total(real: Real) -> None:
    doc = compare_real_json(real, "--by", "year")
    for row in doc["rows"]:
        years = [k for k in row if re.fullmatch(r"y\d{4}", k)]
        assert years == [f"y{y}" for y in range(2005, 2025)]
        assert math.prod(1.0 + row[k] for k in years) - 1.0 == pytest.approx(row["total_return"], rel=1e-9)
        values, start = window(*curve_of(real.results, row), doc["first"], doc["last"])
        for year, r in year_returns(values, start).items():
            assert row[f"y{year}"] == rel(r), (row["name"], year)


# ---------------------------------------------------------------------------------------------
# 3. Mixed data


@pytest.mark.realdata
def test_runs_on_different_data_are_refused_unless_allowed(data_dir: Path, tmp_path: Path) -> None:
    results = str(tmp_path / "results")
    common = ["--start", START, "--end", END, "--format", "json", "--results-dir", results]
    ok("run", str(REPO / "configs" / "buy_hold_us.yaml"), "--source", "csv", "--data-dir", str(data_dir), *common)
    ok("run", str(REPO / "configs" / "ratio_trend.yaml"), "--source", "synthetic", *common)
    ids = ",".join(r.manifest["run_id"] for r in stored_runs(tmp_path / "results"))

    message = user_error("compare", "--runs", ids, "--results-dir", results, "--reps", REPS)
    assert "--allow-mixed" in message

    out = ok("compare", "--runs", ids, "--allow-mixed", "--results-dir", results, "--reps", REPS, "--format", "json")
    doc = json.loads(out)
    assert len(doc["data_fingerprints"]) == 2
    assert doc["synthetic"] is True
    assert [r["name"] for r in doc["rows"] if r["kind"] == "strategy"] == ["buy_hold_us", "ratio_trend"]
    assert {r["synthetic"] for r in doc["rows"]} == {True, False}
    # the table says which rows are synthetic, and that the data were let through, not checked to agree
    text = " ".join(ok("compare", "--runs", ids, "--allow-mixed", "--results-dir", results, "--reps", REPS).split())
    synthetic = [r["name"] for r in doc["rows"] if r["synthetic"]]
    assert text.startswith("Seesaw compare — SYNTHETIC DATA IN SOME ROWS ")
    assert f"SYNTHETIC DATA in {len(synthetic)} of the {len(doc['rows'])} rows " in text
    years = ok("compare", "--runs", ids, "--allow-mixed", "--results-dir", results, "--reps", REPS, "--by", "year")
    assert "Calendar-year returns — SYNTHETIC DATA IN SOME ROWS" in years  # the second table, copied alone, says so
    assert "checked to agree" not in text
    assert "on different data (sources csv: buy_hold_us; synthetic: ratio_trend), compared as --allow-mixed" in text
    page = tmp_path / "mixed.html"
    ok("compare", "--runs", ids, "--allow-mixed", "--results-dir", results, "--reps", REPS, "--format", "html",
       "--output", str(page))  # fmt: skip
    assert f"SYNTHETIC DATA in {len(synthetic)} of the {len(doc['rows'])} rows" in page.read_text(encoding="utf-8")


def test_the_readme_main_job_compares_every_shipped_config_on_synthetic_data(tmp_path: Path) -> None:
    """`seesaw compare configs/*.yaml --source synthetic`: different symbol sets and cash rates, one table."""
    results = str(tmp_path / "results")
    args = ["compare", *map(str, ALL_CONFIGS), "--source", "synthetic", "--reps", REPS, "--format", "json"]
    doc = json.loads(ok(*args, "--results-dir", results))
    names = [yaml.safe_load(p.read_text(encoding="utf-8"))["name"] for p in ALL_CONFIGS]
    assert [r["name"] for r in doc["rows"] if r["kind"] == "strategy"] == names
    assert doc["synthetic"] is True
    # index configs, the ETF pair, the index pair with the T-bill, and the pair with the VIX: four sets of series
    assert len(doc["data_fingerprints"]) == 4
    rows = {r["name"]: r for r in doc["rows"]}
    for name in names:  # each strategy's Sharpe is in excess of its own cash rate, as in its run
        run = run_of(tmp_path / "results", rows[name]["run_id"])
        metrics = json.loads((run.run_dir / "metrics.json").read_text(encoding="utf-8"))
        assert rows[name]["sharpe"] == rel(metrics["strategy"]["sharpe"], 1e-12), name


def test_an_unknown_benchmark_is_refused_before_any_config_runs(tmp_path: Path) -> None:
    """A user's mistake: one line, no run made or stored, and ``latest`` still the run it was."""
    results = tmp_path / "results"
    args = ["--source", "synthetic", "--results-dir", str(results)]
    ok("run", str(REPO / "configs" / "static_60_40.yaml"), *args)
    args += ["--reps", REPS]
    latest = (results / ".last-run").read_bytes()
    refused = invoke("compare", str(REPO / "configs" / "corr_breakdown.yaml"), "--benchmark", "nope", *args)
    assert refused.exit_code == 2
    assert refused.stderr == "error: unknown benchmark 'nope' (known: buy & hold US, buy & hold HK, 50/50 monthly)\n"
    assert not (results / "corr_breakdown").exists() and (results / ".last-run").read_bytes() == latest
    named = ok("compare", str(REPO / "configs" / "corr_breakdown.yaml"), "--benchmark", "buy & hold HK", *args)
    assert "buy & hold HK" in named


def test_json_keeps_every_note_of_the_caption_and_the_resamples(tmp_path: Path) -> None:
    """JSON carries what the numbers rest on, as Markdown does: the statistics' definitions and settings (the
    resamples, the seed, DSR's number of trials), the regime, the runs' assumptions; with --top 1 too."""
    corr = str(REPO / "configs" / "corr_breakdown.yaml")
    args = ["compare", str(REPO / "configs" / "buy_hold_us.yaml"), corr, "--source", "synthetic", "--reps", REPS]
    args += ["--results-dir", str(tmp_path / "results"), "--regime", "corr > 0.5", "--regime-config", corr]
    doc = json.loads(ok(*args, "--top", "1", "--format", "json"))
    markdown = ok(*args, "--top", "1", "--format", "markdown").split("\n\n", 1)[1].splitlines()
    assert doc["resamples"] == int(REPS) and doc["notes"] and set(doc["notes"]) <= set(markdown)
    said = " ".join(doc["notes"])
    for words in (f"{REPS} resamples, seed 20250120", "expected from 2 strategies", "Regime '(corr > 0.5)': ",
                  "Assumption", "Hansen's SPA test", "SYNTHETIC DATA"):  # fmt: skip
        assert words in said, words


def _two_runs(tmp_path: Path, second: str, **edits: str) -> str:
    """Run buy_hold_us and an edited copy of ``second`` on synthetic data; return both run ids."""
    results = tmp_path / "results"
    text = (REPO / "configs" / f"{second}.yaml").read_text(encoding="utf-8")
    for old, new in edits.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / f"{second}.yaml"
    path.write_text(text, encoding="utf-8")
    common = ["--source", "synthetic", "--start", "2010-01-01", "--end", "2012-12-31", "--results-dir", str(results)]
    ok("run", str(REPO / "configs" / "buy_hold_us.yaml"), *common, "--format", "json")
    ok("run", str(path), *common, "--format", "json")
    return ",".join(r.manifest["run_id"] for r in stored_runs(results))


def test_a_look_ahead_run_is_warned_of_wherever_it_is_shown(tmp_path: Path) -> None:
    """docs/config.md: allow_same_bar is look-ahead, "warned in every output": compare's table (first under it),
    JSON and HTML, a run's text report, runs show and run's JSON rows, as run's table does."""
    lag0 = {"execution: {lag: 1,": "execution: {lag: 0, allow_same_bar: true,", "name: corr_breakdown": "name: peek"}
    ids = _two_runs(tmp_path, "corr_breakdown", **lag0)
    results, said = str(tmp_path / "results"), "WARNING: peek: allow_same_bar with lag 0:"
    table = ok("compare", "--runs", ids, "--results-dir", results, "--reps", REPS)
    assert said in " ".join(table.split()) and "look-ahead: results are optimistic" in " ".join(table.split())
    assert next(line for line in table.splitlines() if line.startswith(("WARNING", "Common window"))).startswith(said)
    doc = json.loads(ok("compare", "--runs", ids, "--results-dir", results, "--reps", REPS, "--format", "json"))
    assert [n for n in doc["notes"] if n.startswith("WARNING: ")] == [n for n in doc["notes"] if said in n]
    assert len([n for n in doc["notes"] if said in n]) == 1  # the look-ahead run's, not buy_hold_us's
    page = tmp_path / "compare.html"
    ok("compare", "--runs", ids, "--results-dir", results, "--reps", REPS, "--format", "html", "--output", str(page))
    assert said in html.unescape(page.read_text(encoding="utf-8"))
    peek = [i for i in ids.split(",") if i in ok("runs", "list", "--config", "peek", "--results-dir", results)]
    assert len(peek) == 1
    assert said in ok("report", peek[0], "--format", "text", "--results-dir", results).replace("\n", " ")
    assert said in ok("runs", "show", peek[0], "--results-dir", results)
    rows = json.loads(ok("run", str(tmp_path / "corr_breakdown.yaml"), "--source", "synthetic", "--start", "2010-01-01",
                         "--end", "2012-12-31", "--results-dir", results, "--format", "json"))  # fmt: skip
    assert next(w for r in rows if r["kind"] == "strategy" for w in r["warnings"]).startswith(said[len("WARNING: ") :])
    assert all(isinstance(r["notes"], list) for r in rows)


def test_runs_in_different_base_currencies_are_shown_in_one(tmp_path: Path) -> None:
    """Converted at their own HKD=X closes (tests/test_compare_currency.py checks the numbers on real data)."""
    ids = _two_runs(tmp_path, "static_60_40", **{"name: static_60_40": "name: static_hkd\nbase_currency: HKD"})
    results = str(tmp_path / "results")
    text = " ".join(ok("compare", "--runs", ids, "--results-dir", results, "--reps", REPS).split())
    assert "Shown in USD (USD on a tie; --currency USD|HKD chooses): static_hkd (HKD) converted" in text
    doc = json.loads(ok("compare", "--runs", ids, "--currency", "HKD", "--results-dir", results, "--reps", REPS,
                        "--format", "json"))  # fmt: skip
    assert {row["currency"] for row in doc["rows"]} == {"HKD"}


def test_two_runs_of_one_config_are_two_rows_named_by_run_id(tmp_path: Path) -> None:
    """A config edited between two runs (here static_60_40's rules under buy_hold_us's name): both are compared,
    each row named after its run; the same run given twice is refused."""
    ids = _two_runs(tmp_path, "static_60_40", **{"name: static_60_40": "name: buy_hold_us"})
    results = tmp_path / "results"
    doc = json.loads(ok("compare", "--runs", ids, "--results-dir", str(results), "--reps", REPS, "--format", "json"))
    rows = [r for r in doc["rows"] if r["kind"] == "strategy"]
    assert sorted(r["name"] for r in rows) == sorted(f"buy_hold_us ({i})" for i in ids.split(","))
    for row in rows:  # each row is its own run's
        metrics = json.loads((run_of(results, row["run_id"]).run_dir / "metrics.json").read_text(encoding="utf-8"))
        assert row["sharpe"] == rel(metrics["strategy"]["sharpe"], 1e-12)
    assert rows[0]["sharpe"] != rows[1]["sharpe"]
    first = ids.split(",")[0]
    message = user_error("compare", "--runs", f"{first},{first}", "--results-dir", str(results), "--reps", REPS)
    assert message == f"error: run {first} of config 'buy_hold_us' is given twice; give each run once"


def test_configs_without_benchmarks_are_compared_without_relative_figures(tmp_path: Path) -> None:
    """No run has a benchmark: every absolute figure and statistic is there; excess return, IR, P(SR>ref) and
    SPA, which need a reference, are not, and the caption and the JSON say there is none."""
    text = (REPO / "configs" / "static_60_40.yaml").read_text(encoding="utf-8")
    bare = tmp_path / "bare.yaml"
    bare.write_text(text[: text.index("benchmarks:")] + "initial_cash: 100000\n", encoding="utf-8")
    common = ["--source", "synthetic", "--results-dir", str(tmp_path / "results"), "--reps", REPS]
    doc = json.loads(ok("compare", str(bare), *common, "--format", "json"))
    [row] = doc["rows"]
    assert doc["reference"] is None and doc["spa"] == {}
    assert row["excess_return"] is row["information_ratio"] is row["p_beats_ref"] is None
    assert 0.0 < row["psr"] <= 1.0 and row["sharpe_ci_low"] < row["sharpe"] < row["sharpe_ci_high"]
    said = " ".join(ok("compare", str(bare), *common).split())
    assert "IR, P(SR>ref) and SPA: no benchmark (no run compared has one: –)." in said
    assert "Benchmarks' turnover" not in said and "SPA test" not in said


def test_the_terminal_table_leaves_out_the_notes_on_columns_it_does_not_show(tmp_path: Path) -> None:
    """The default terminal table shows no P(SR>ref): its definition waits for --columns that show it, and a
    line says where the notes on hidden columns are; markdown (every column) keeps it."""
    configs = [str(REPO / "configs" / f"{n}.yaml") for n in ("corr_breakdown", "static_60_40")]
    common = ["--source", "synthetic", "--results-dir", str(tmp_path / "results"), "--reps", REPS]
    terminal = " ".join(ok("compare", *configs, *common).split())
    assert "P(SR>ref): share of paired" not in terminal
    assert "The notes on columns not shown come with them: --columns all" in terminal
    shown = " ".join(ok("compare", *configs, *common, "--columns", "sharpe,p_beats_ref").split())
    assert "P(SR>ref): share of paired" in shown and "notes on columns not shown" not in shown
    markdown = " ".join(ok("compare", *configs, *common, "--format", "markdown").split())
    assert "P(SR>ref): share of paired" in markdown and "notes on columns not shown" not in markdown


def test_runs_whose_shared_symbol_has_other_prices_are_refused(tmp_path: Path) -> None:
    """Same symbols, other data: a second synthetic seed cannot be chosen, so edit a stored quote."""
    ids = _two_runs(tmp_path, "static_60_40")
    results = tmp_path / "results"
    [static] = [p for p in results.glob("static_60_40/*/quotes.parquet")]
    quotes = pd.read_parquet(static)
    row = quotes["us"].dropna().index[10]  # a day New York traded
    quotes.loc[row, "us"] *= 1.001
    quotes.to_parquet(static, index=False)
    resum(static)  # as if the run had stored these quotes
    message = user_error("compare", "--runs", ids, "--results-dir", str(results), "--reps", REPS)
    day = quotes.loc[row, "date"]
    assert f"^GSPC (close) on {day}: buy_hold_us" in message
    assert "--allow-mixed" in message


# ---------------------------------------------------------------------------------------------
# 4. Reference benchmark, sorting, top


def test_paired_statistics_do_not_depend_on_which_equal_reference_comes_first(tmp_path: Path) -> None:
    """corr_breakdown's cash earns nothing, relative_momentum_price_only's the T-bill (^IRX); both have a
    '50/50 monthly' with the same curve, and the first config's is the default reference.  P(SR>ref) measures
    both Sharpe ratios in excess of the strategy's own rate (its row's Sharpe), and SPA tests differences of
    returns: so neither depends on which of the two equal curves is the reference."""
    from engine.metrics.significance import sharpe_beats_probability  # the statistic; its basis is tested here

    zero, tbill = (str(REPO / "configs" / f"{n}.yaml") for n in ("corr_breakdown", "relative_momentum_price_only"))
    common = ("--source", "synthetic", "--start", "2008-01-01", "--end", "2015-12-31", "--reps", REPS)
    docs = {}
    for first, second in ((zero, tbill), (tbill, zero)):
        out = ok("compare", first, second, *common, "--format", "json", "--results-dir", str(tmp_path))
        docs[Path(first).stem] = json.loads(out)

    def excess(run: StoredRun, values: pd.Series, doc: dict) -> np.ndarray:
        index = pd.read_csv(run.run_dir / "equity.csv", index_col="date", parse_dates=["date"])["cash_index"]
        return daily_returns(*window(values, run.initial, doc["first"], doc["last"])) - daily_returns(
            *window(index, 1.0, doc["first"], doc["last"])
        )

    for doc in docs.values():
        rows = {r["name"]: r for r in doc["rows"]}
        ref = rows[doc["reference"]]
        ref_run = run_of(tmp_path, ref["run_id"])
        assert doc["reference"].startswith("50/50 monthly (")
        reference = daily_returns(
            *window(ref_run.benchmarks["50/50 monthly"], ref_run.initial, doc["first"], doc["last"])
        )
        others = [r for r in rows.values() if r["kind"] == "strategy" and r["risk_free"] != ref["risk_free"]]
        assert len(others) == 1  # the strategy whose cash rate is not the reference's
        for row in others:
            run = run_of(tmp_path, row["run_id"])
            mine = excess(run, run.equity, doc)
            minus_rate = mine - daily_returns(*window(run.equity, run.initial, doc["first"], doc["last"]))
            theirs = reference + minus_rate  # the reference in excess of the strategy's own rate
            assert row["p_beats_ref"] == sharpe_beats_probability(mine, theirs, reps=int(REPS)), row["name"]
        assert "both in excess of the strategy's own cash rate" in " ".join(doc["notes"])
    a, b = docs["corr_breakdown"], docs["relative_momentum_price_only"]
    assert a["spa"] == pytest.approx(b["spa"], abs=1e-9)
    for name in ("corr_breakdown", "relative_momentum_price_only"):
        pa = next(r for r in a["rows"] if r["name"] == name)["p_beats_ref"]
        pb = next(r for r in b["rows"] if r["name"] == name)["p_beats_ref"]
        assert pa == pytest.approx(pb, abs=1.5 / int(REPS)), name  # the two references' curves agree to rounding


@pytest.mark.realdata
def test_benchmark_option_changes_the_reference(real: Real) -> None:
    doc = compare_real_json(real, "--benchmark", "buy & hold US")
    assert doc["reference"] == "buy & hold US"
    rows = {r["name"]: r for r in doc["rows"]}
    assert rows["buy & hold US"]["excess_return"] == 0.0
    assert rows["buy & hold US"]["information_ratio"] is None
    for row in doc["rows"]:
        assert row["excess_return"] == pytest.approx(row["cagr"] - rows["buy & hold US"]["cagr"], abs=1e-12)
    # P(SR > ref) is against the new reference (a paired test: it depends on the reference's Sharpe and on
    # the correlation with it, so it need not fall for every strategy); PSR is against 0 and does not move.
    default = {r["name"]: r for r in real.doc["rows"]}
    strategies = [n for n in rows if rows[n]["kind"] == "strategy"]
    assert all(rows[n]["p_beats_ref"] != default[n]["p_beats_ref"] for n in strategies)
    assert sum(rows[n]["p_beats_ref"] for n in strategies) < sum(default[n]["p_beats_ref"] for n in strategies)
    assert all(rows[n]["psr"] == default[n]["psr"] for n in strategies)
    assert 0.0 <= doc["spa"]["consistent"] <= 1.0


@pytest.mark.realdata
def test_unknown_benchmark_is_one_line_naming_the_known_ones(real: Real) -> None:
    message = user_error("compare", "--runs", "latest", "--results-dir", str(real.results), "--benchmark", "nope")
    assert "'nope'" in message
    for name in BENCHMARKS:
        assert name in message


@pytest.mark.realdata
def test_sort_by_sharpe_is_descending_with_benchmarks_last(real: Real) -> None:
    rows = compare_real_json(real, "--sort", "sharpe")["rows"]
    strategies = [r for r in rows if r["kind"] == "strategy"]
    assert [r["kind"] for r in rows] == ["strategy"] * len(strategies) + ["benchmark"] * len(BENCHMARKS)
    assert [r["name"] for r in rows[len(strategies) :]] == BENCHMARKS
    expected = sorted((r for r in real.doc["rows"] if r["kind"] == "strategy"), key=lambda r: -r["sharpe"])
    assert [r["name"] for r in strategies] == [r["name"] for r in expected]
    sharpes = [r["sharpe"] for r in strategies]
    assert sharpes == sorted(sharpes, reverse=True)
    assert sharpes[0] > sharpes[-1]


@pytest.mark.realdata
def test_sort_by_volatility_is_ascending(real: Real) -> None:
    rows = compare_real_json(real, "--sort", "ann_vol")["rows"]
    vols = [r["ann_vol"] for r in rows if r["kind"] == "strategy"]
    assert len(vols) == len(CONFIGS)
    assert vols == sorted(vols)
    assert vols[0] < vols[-1]


@pytest.mark.realdata
def test_top_keeps_the_best_strategies_and_every_benchmark(real: Real) -> None:
    rows = compare_real_json(real, "--sort", "sharpe", "--top", "2")["rows"]
    best = sorted((r for r in real.doc["rows"] if r["kind"] == "strategy"), key=lambda r: -r["sharpe"])[:2]
    assert [r["name"] for r in rows] == [r["name"] for r in best] + BENCHMARKS


@pytest.mark.realdata
def test_unknown_sort_column_is_one_line(real: Real) -> None:
    message = user_error("compare", "--runs", "latest", "--results-dir", str(real.results), "--sort", "nope")
    assert "--sort" in message
    assert "'nope'" in message


# ---------------------------------------------------------------------------------------------
# 5. Formats


@pytest.mark.realdata
def test_table_format(real: Real) -> None:
    out = compare_real(real)
    assert "Seesaw compare" in out
    assert "SYNTHETIC" not in out
    assert f"{FIRST} → {LAST}" in out
    assert "SPA" in out
    assert "\x1b[" not in out  # no colour when not a terminal
    for row in real.doc["rows"]:
        assert row["name"] in out


@pytest.mark.realdata
def test_markdown_format_one_line_per_row(real: Real) -> None:
    lines = compare_real(real, "--format", "markdown").splitlines()
    rows = real.doc["rows"]
    assert lines[0].startswith("| Name | Kind | Total ret |")
    assert set(lines[1]) <= set("|-:")
    for line, row in zip(lines[2 : 2 + len(rows)], rows, strict=True):
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        assert cells[:3] == [row["name"], row["kind"], f"{row['total_return'] * 100:.1f}%"]
    assert lines[2 + len(rows)] == ""
    assert f"Common window {FIRST} → {LAST}" in lines[3 + len(rows)]


@pytest.mark.realdata
def test_csv_format_one_row_per_compared_row_with_weight_columns(real: Real) -> None:
    frame = pd.read_csv(io.StringIO(compare_real(real, "--format", "csv")))
    rows = real.doc["rows"]
    assert list(frame["name"]) == [r["name"] for r in rows]
    assert {"weight_us", "weight_hk"} <= set(frame.columns)
    assert "avg_weight" not in frame.columns
    for (_, line), row in zip(frame.iterrows(), rows, strict=True):
        assert line["total_return"] == rel(row["total_return"], 1e-12)
        if row["kind"] == "strategy":
            assert line["weight_us"] == rel(row["avg_weight"]["us"], 1e-12)
            assert line["weight_hk"] == rel(row["avg_weight"]["hk"], 1e-12)
        else:
            assert math.isnan(line["weight_us"])


@pytest.mark.realdata
@pytest.mark.parametrize("fmt", ["markdown", "csv", "json"])
def test_output_file_gets_what_stdout_would(real: Real, fmt: str, tmp_path: Path) -> None:
    target = tmp_path / f"out.{fmt}"
    assert compare_real(real, "--format", fmt, "--output", str(target)) == f"wrote {target}\n"  # as the HTML's
    assert target.read_text(encoding="utf-8") == compare_real(real, "--format", fmt)


@pytest.mark.realdata
def test_output_file_table_is_plain_text(real: Real, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    assert compare_real(real, "--output", str(target)) == f"wrote {target}\n"
    text = target.read_text(encoding="utf-8")
    assert "Seesaw compare" in text
    assert f"{FIRST} → {LAST}" in text
    assert "\x1b[" not in text


# ---------------------------------------------------------------------------------------------
# 6. Golden file


def _without_fingerprint(text: str) -> str:
    """The data fingerprint hashes the synthetic prices' bits, and numpy's exp and log may round
    the last bit differently on another CPU (its SIMD kernels differ by instruction set): every
    printed number is stable, the hash is not.  A second process on this machine must give the
    same bytes, fingerprint included (below)."""
    return re.sub(r"data fingerprint [0-9a-f]{16}", "data fingerprint <hash>", text)


def test_golden_markdown_on_synthetic_data(synthetic: Synthetic, tmp_path: Path) -> None:
    if UPDATE_GOLDEN:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(synthetic.markdown, encoding="utf-8", newline="")
    assert GOLDEN.is_file(), f"{GOLDEN} missing: run with SEESAW_UPDATE_GOLDEN=1 to create it"
    golden = GOLDEN.read_text(encoding="utf-8")
    assert "data fingerprint " in golden
    assert _without_fingerprint(synthetic.markdown) == _without_fingerprint(golden)
    # A second process, its own results directory: the same bytes.
    env = {k: v for k, v in os.environ.items() if k not in _UNSET}
    cmd = [sys.executable, "-m", "engine", "compare", *GOLDEN_ARGS, "--results-dir", str(tmp_path / "results")]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(proc.stdout.encode()).hexdigest() == hashlib.sha256(synthetic.markdown.encode()).hexdigest()


def test_golden_markdown_labels_synthetic_data(synthetic: Synthetic) -> None:
    assert "SYNTHETIC DATA: generated prices, not market history." in synthetic.markdown
    assert "Common window 2010-01-04 → 2015-12-31" in synthetic.markdown
    names = [line.split(" | ")[0].removeprefix("| ") for line in synthetic.markdown.splitlines()[2:8]]
    assert names == [*GOLDEN_CONFIGS, *BENCHMARKS]


# ---------------------------------------------------------------------------------------------
# 7. The store: --runs latest, runs list | show | query


def test_runs_latest_compares_the_newest_run_of_each_config(store: Path) -> None:
    manifests = newest_first(store)
    assert len(manifests) == len(GOLDEN_CONFIGS) + 1
    [older, newer] = [m for m in reversed(manifests) if m["config_name"] == "ratio_trend"]
    assert older["run_id"] != newer["run_id"]
    newest = {m["config_name"]: m["run_id"] for m in reversed(manifests)}  # later ones overwrite
    assert newest["ratio_trend"] == newer["run_id"]

    doc = json.loads(ok("compare", "--runs", "latest", "--results-dir", str(store), "--reps", REPS, "--format", "json"))
    assert {r["name"]: r["run_id"] for r in doc["rows"] if r["kind"] == "strategy"} == newest
    assert (doc["first"], doc["last"]) == ("2010-01-04", "2015-12-31")


def test_runs_list_shows_every_run_newest_first(store: Path) -> None:
    out = ok("runs", "list", "--results-dir", str(store))
    assert RUN_ID.findall(out) == [m["run_id"] for m in newest_first(store)]
    for name in GOLDEN_CONFIGS:
        assert name in out


def test_runs_show_by_prefix_prints_manifest_and_metrics(store: Path) -> None:
    manifests = newest_first(store)
    target = manifests[0]["run_id"]
    others = [m["run_id"] for m in manifests[1:]]
    prefix = next(target[:n] for n in range(10, len(target)) if not any(o.startswith(target[:n]) for o in others))
    assert prefix != target
    ambiguous = sorted(m["run_id"] for m in manifests if m["run_id"].startswith("2"))  # every run: this century
    error = user_error("runs", "show", "2", "--results-dir", str(store))
    listed = ", ".join(ambiguous[:5]) + (", …" if len(ambiguous) > 5 else "")
    assert error.endswith(f"{len(ambiguous)} stored runs match run id '2' ({listed}); give more of the id")
    out = ok("runs", "show", prefix, "--results-dir", str(store))
    manifest_text, rest = out.split("run directory: ", 1)
    run_dir = store / "ratio_trend" / target
    assert manifest_text == (run_dir / "run.json").read_text(encoding="utf-8")
    assert rest.splitlines()[0] == str(run_dir.resolve())
    assert json.loads(manifest_text)["synthetic"] is True
    assert rest.splitlines()[1] == "SYNTHETIC DATA: generated prices, not market history."  # as every output says
    assert re.search(r"^strategy +ratio_trend ", rest, re.MULTILINE)
    for name in BENCHMARKS:
        assert name in rest


def test_runs_query_counts_runs(store: Path) -> None:
    out = ok("runs", "query", "SELECT count(*) AS n FROM runs", "--results-dir", str(store), "--format", "json")
    assert json.loads(out) == [{"n": len(list(store.glob("*/*/run.json")))}]


def test_runs_query_cannot_write(store: Path) -> None:
    db = store / "seesaw.duckdb"
    before = db.read_bytes()
    count = ["runs", "query", "SELECT count(*) AS n FROM runs", "--results-dir", str(store), "--format", "json"]
    n = json.loads(ok(*count))[0]["n"]
    assert n > 0
    user_error("runs", "query", "DELETE FROM runs", "--results-dir", str(store))
    assert json.loads(ok(*count)) == [{"n": n}]
    assert db.read_bytes() == before


def test_runs_query_bad_sql_is_one_line(store: Path) -> None:
    message = user_error("runs", "query", "SELEC count(*) FROM runs", "--results-dir", str(store))
    assert "SELEC" in message


def test_runs_show_of_several_runs_is_a_user_error(store: Path) -> None:
    if len({m["config_name"] for m in newest_first(store)}) < 2:
        raise RuntimeError("precondition: runs of several configs are stored")
    result = CliRunner().invoke(app, ["runs", "show", "latest", "--results-dir", str(store)], env=dict.fromkeys(_UNSET))
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.exception!r}"
    assert len(result.stderr.strip().splitlines()) == 1


def test_output_into_a_missing_directory_is_a_user_error(store: Path, tmp_path: Path) -> None:
    args = ["compare", "--runs", "latest", "--results-dir", str(store), "--reps", REPS, "--format", "markdown"]
    if invoke(*args).exit_code != 0:
        raise RuntimeError("precondition: the same comparison without --output succeeds")
    args += ["--output", str(tmp_path / "missing" / "out.md")]
    result = CliRunner().invoke(app, args, env=dict.fromkeys(_UNSET))
    assert result.exit_code == 2, f"exit {result.exit_code}: {result.exception!r}"
    assert len(result.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------------------------------------
# 8. Statistics on real data


@pytest.mark.realdata
def test_sharpe_lies_inside_its_bootstrap_interval(real: Real) -> None:
    for row in real.doc["rows"]:
        if row["kind"] == "strategy":
            assert row["sharpe_ci_low"] < row["sharpe"] < row["sharpe_ci_high"], row["name"]
        else:
            assert "sharpe_ci_low" not in row


@pytest.mark.realdata
def test_psr_and_dsr_equal_the_formulas_of_the_papers(real: Real) -> None:
    doc = real.doc
    returns = {}
    for row in doc["rows"]:
        values, start = window(*curve_of(real.results, row), doc["first"], doc["last"])
        returns[row["name"]] = daily_returns(values, start)
    ref = returns[doc["reference"]]
    ref_sharpe = ref.mean() / ref.std(ddof=1)
    strategies = [r for r in doc["rows"] if r["kind"] == "strategy"]
    trials = [float(returns[r["name"]].mean() / returns[r["name"]].std(ddof=1)) for r in strategies]
    sr0 = expected_max_sharpe(trials)
    assert sr0 > 0
    for row in strategies:
        r = returns[row["name"]]
        assert 0.0 <= row["dsr"] <= row["psr"] <= 1.0  # deflating can only lower it
        assert row["psr"] == pytest.approx(psr(r, 0.0), abs=1e-9)
        assert row["dsr"] == pytest.approx(psr(r, sr0), abs=1e-9)
        # the paired bootstrap is close to the Jobson-Korkie test with Memmel's correction: within 0.05 for
        # the methods, plus three Monte Carlo standard errors of a share estimated from REPS resamples
        jk = jobson_korkie(r, ref)
        allowed = 0.05 + 3 * np.sqrt(jk * (1 - jk) / int(REPS))
        assert row["p_beats_ref"] == pytest.approx(jk, abs=allowed), row["name"]
        assert (row["p_beats_ref"] > 0.5) == (r.mean() / r.std(ddof=1) > ref_sharpe), row["name"]
    for row in doc["rows"]:
        if row["kind"] == "benchmark":
            assert all(row.get(k) is None for k in ("psr", "dsr", "p_beats_ref"))


@pytest.mark.realdata
def test_spa_p_values_are_probabilities_in_the_json(real: Real) -> None:
    spa = real.doc["spa"]
    assert set(spa) == {"consistent", "lower", "upper"}
    assert all(0.0 <= p <= 1.0 for p in spa.values())
    assert spa["lower"] <= spa["consistent"] <= spa["upper"]


def test_a_strategy_without_a_sharpe_interval_is_named_with_the_reason(tmp_path: Path) -> None:
    """A rule that is rarely out of cash has a Sharpe ratio, but some resamples of its returns hold no
    position at all, so their Sharpe, and the interval, is undefined: the table shows –, and the line on
    the interval names that strategy (and only it) with the reason."""
    config = tmp_path / "mostly_cash.yaml"
    config.write_text(
        "name: mostly_cash\n"
        "data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}\n"
        "assets:\n  us: {symbol: ^GSPC, market: us}\n  hk: {symbol: ^HSI, market: hk}\n"
        "signals:\n  corr: {fn: rolling_corr, a: us, b: hk, window: 60}\n"
        "rules:\n  - when: corr < -0.3\n    weights: {us: 1.0}\n  - otherwise: {}\n"
        "execution: {lag: 1, rebalance: on_change}\n",
        encoding="utf-8",
    )
    args = [str(config), str(REPO / "configs" / "buy_hold_us.yaml"), "--source", "synthetic"]
    args += ["--start", "2012-01-01", "--end", "2016-12-30", "--results-dir", str(tmp_path / "r"), "--reps", "200"]
    rows = {r["name"]: r for r in json.loads(ok("compare", *args, "--format", "json"))["rows"]}
    assert rows["mostly_cash"]["sharpe"] is not None and rows["mostly_cash"]["sharpe_ci_low"] is None
    assert rows["buy_hold_us"]["sharpe_ci_low"] is not None
    text = " ".join(ok("compare", *args).split())
    assert re.search(r"automatic block length\. No interval \(–\) for mostly_cash: some resamples of its", text)
    top = " ".join(ok("compare", *args, "--sort", "sharpe", "--top", "1").split())  # buy_hold_us only
    assert "automatic block length. PSR:" in top and "No interval" not in top


@pytest.mark.realdata
def test_a_part_year_is_starred_in_markdown_and_its_note_only_shown_with_the_years(real: Real) -> None:
    shown = compare_real(real, "--by", "year", "--period", "2005-03-01:", "--format", "markdown")
    assert "| 2005* |" in shown and "| 2006 |" in shown
    assert "* part of a year (its return is for those dates only, not annualised): 2005 from 2005-03-01." in shown
    narrowed = compare_real(
        real, "--by", "year", "--period", "2005-03-01:", "--format", "markdown", "--columns", "cagr"
    )
    assert "2005*" not in narrowed and "part of a year" not in narrowed


def test_a_strategy_in_cash_earning_the_risk_free_rate_has_no_sharpe_statistics(tmp_path: Path) -> None:
    """Always in cash that earns the T-bill: its excess returns are zero up to rounding, so it has no Sharpe
    ratio, and no interval, PSR, DSR or P(SR>ref) either (the flat series is no trial of the DSR's variance);
    before, rounding left a PSR of about 0.95 next to a Sharpe of –."""
    config = tmp_path / "all_cash.yaml"
    config.write_text(
        "name: all_cash\n"
        "data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}\n"
        "cash_rate: ^IRX\n"
        "assets:\n  us: {symbol: ^GSPC, market: us}\n  hk: {symbol: ^HSI, market: hk}\n"
        "rules:\n  - otherwise: {}\n"
        "execution: {lag: 1, rebalance: on_change}\n"
        "benchmarks:\n  - {name: buy & hold US, weights: {us: 1.0}, rebalance: on_change}\n",
        encoding="utf-8",
    )
    args = [str(config), str(REPO / "configs" / "buy_hold_us.yaml"), str(REPO / "configs" / "buy_hold_hk.yaml")]
    args += ["--source", "synthetic", "--start", "2012-01-01", "--end", "2016-12-30", "--reps", REPS]
    doc = json.loads(ok("compare", *args, "--results-dir", str(tmp_path / "r"), "--format", "json"))
    rows = {r["name"]: r for r in doc["rows"]}
    cash = rows["all_cash"]
    assert cash["total_return"] > 0.0  # it earned interest
    for key in ("sharpe", "sharpe_ci_low", "sharpe_ci_high", "psr", "dsr", "p_beats_ref"):
        assert cash[key] is None, key
    others = [rows["buy_hold_us"], rows["buy_hold_hk"]]
    trials = []
    for row in others:
        values, start = window(*curve_of(tmp_path / "r", row), doc["first"], doc["last"])
        r = daily_returns(values, start)
        trials.append(float(r.mean() / r.std(ddof=1)))
        assert row["psr"] == pytest.approx(psr(r, 0.0), abs=1e-9)
    for row, r_sharpe in zip(others, trials, strict=True):  # N = 3 trials, the variance over the two with a Sharpe
        n, q = 3, statistics.NormalDist().inv_cdf
        sr0 = math.sqrt(statistics.variance(trials)) * (
            (1 - EULER_GAMMA) * q(1 - 1 / n) + EULER_GAMMA * q(1 - 1 / (n * math.e))
        )
        values, start = window(*curve_of(tmp_path / "r", row), doc["first"], doc["last"])
        assert row["dsr"] == pytest.approx(psr(daily_returns(values, start), sr0), abs=1e-9), r_sharpe


def test_compare_says_on_stderr_which_runs_it_computed_and_which_it_reused(tmp_path: Path) -> None:
    """Comparing configs runs them (or reuses their stored runs): stderr says how many of each, as run does per
    run; stdout stays the comparison.  Comparing stored runs (--runs) computes nothing and says nothing."""
    configs = [str(REPO / "configs" / f"{name}.yaml") for name in GOLDEN_CONFIGS]
    args = ["--source", "synthetic", "--start", "2010-01-01", "--end", "2012-12-31", "--reps", REPS]
    results = ["--results-dir", str(tmp_path / "r")]
    first = invoke("compare", *configs[:2], *args, *results, "--format", "json")
    assert first.exit_code == 0 and first.stderr.strip() == "2 runs computed and stored (seesaw runs list)"
    json.loads(first.stdout)
    second = invoke("compare", *configs, *args, *results)
    assert second.exit_code == 0 and second.stderr.strip() == (
        "1 run computed and stored (seesaw runs list); 2 runs reused from the store (same config, data and code; "
        "--force runs again)"
    )
    stored = invoke("compare", "--runs", "latest", *results, "--reps", REPS)
    assert stored.exit_code == 0 and "computed" not in stored.stderr and "reused" not in stored.stderr


def test_runs_given_in_several_options_are_all_compared(tmp_path: Path) -> None:
    """--runs A --runs B compares A and B, as --runs A,B does: a repeated option drops none of them."""
    first, second = _two_runs(tmp_path, "ratio_trend").split(",")
    results = str(tmp_path / "results")
    args = ["--results-dir", results, "--reps", REPS, "--format", "json"]
    joined = json.loads(ok("compare", "--runs", f"{first},{second}", *args))
    repeated = json.loads(ok("compare", "--runs", first, "--runs", second, *args))
    names = [r["name"] for r in repeated["rows"] if r["kind"] == "strategy"]
    assert sorted(names) == ["buy_hold_us", "ratio_trend"]
    assert repeated["rows"] == joined["rows"]
