"""HTML reports read back without a browser: every number on the page is the stored or compared one.

Pages are parsed with the standard library (``tests/report_html.py``): tables with each cell's
``data-key``/``data-value`` (the full-precision number a cell shows), and the JSON of every
``Plotly.newPlot`` call.  Table values are compared *exactly* with ``metrics.json`` and the
``compare --format json`` rows; chart values against the stored curves with the arithmetic
written out here (numpy only, not the engine's report helpers).

The rendering in a real browser is ``tests/test_browser.py``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.compare import load_run
from engine.render import RUN_COLUMNS, format_value
from engine.report import run_report
from engine.report.run import SIGNALS_MISSING
from engine.report.series import thresholds
from tests.conftest import CONFIGS, stored_run_dir
from tests.report_html import array, figures, tables

_RICH_ENV = ("FORCE_COLOR", "COLUMNS", "LINES", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "SEESAW_STORE")


def invoke(*args: str, env: dict[str, str | None] | None = None):
    result = CliRunner().invoke(app, list(args), env={**dict.fromkeys(_RICH_ENV), **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _metrics(run_dir: Path) -> dict:
    return json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))


def _value(v: object) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# run report


def test_run_report_metrics_table_is_metrics_json(report_results: Path) -> None:
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    metrics = _metrics(run_dir)
    table = tables(run_report(load_run(run_dir)).html)["metrics"]
    expected = [metrics["strategy"], *metrics["benchmarks"]]
    assert table.first_column() == [m["name"] for m in expected]
    for key, _, kind in RUN_COLUMNS:
        assert table.column(key) == [_value(m.get(key)) for m in expected], key
        texts = [text for row in table.rows for text, attrs in row if attrs.get("data-key") == key]
        assert texts == [format_value(m.get(key), kind) for m in expected], key  # as the terminal table


def test_run_report_charts_are_the_stored_curves(report_results: Path) -> None:
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    metrics = _metrics(run_dir)
    equity = pd.read_csv(run_dir / "equity.csv")
    benchmarks = pd.read_csv(run_dir / "benchmarks.csv")
    initial = 100_000.0
    curves = {"corr_breakdown": equity["value"].to_numpy()}
    curves |= {b: benchmarks[b].to_numpy() for b in benchmarks.columns if b != "date"}
    by_name = {m["name"]: m for m in [metrics["strategy"], *metrics["benchmarks"]]}
    figs = figures(run_report(load_run(run_dir)).html)

    eq = figs["fig-equity"]
    assert eq["layout"]["yaxis"]["type"] == "log"
    assert [t["name"] for t in eq["data"]] == list(curves)
    for trace in eq["data"]:
        assert trace["x"] == equity["date"].tolist()
        assert array(trace["y"]).tolist() == curves[trace["name"]].tolist()

    for trace in figs["fig-drawdown"]["data"]:
        v = curves[trace["name"]]
        peak = np.maximum.accumulate(np.concatenate([[initial], v]))[1:]  # the initial cash is the first peak
        y = array(trace["y"])
        assert y == pytest.approx(v / peak - 1, abs=1e-15)
        assert y.min() == pytest.approx(by_name[trace["name"]]["max_drawdown"], abs=1e-12)

    weights = pd.read_csv(run_dir / "weights.csv")
    stacked = {t["name"]: array(t["y"]) for t in figs["fig-weights"]["data"]}
    assert list(stacked) == ["us", "hk", "cash"]
    assert stacked["us"].tolist() == weights["us_actual"].tolist()
    assert stacked["us"] + stacked["hk"] + stacked["cash"] == pytest.approx(1.0, abs=1e-9)

    # Calendar-year returns: last value of the year over the last of the year before (initial cash first).
    years = pd.to_datetime(equity["date"]).dt.year
    for trace in figs["fig-years"]["data"]:
        ends = pd.Series(curves[trace["name"]]).groupby(years.to_numpy()).last()
        want = ends.to_numpy() / np.concatenate([[initial], ends.to_numpy()[:-1]]) - 1
        assert trace["x"] == [str(y) for y in ends.index]  # 2010-2014 are whole years
        assert array(trace["y"]) == pytest.approx(want, rel=1e-12)

    # Rolling one year = round(periods per year) dates; Sharpe of those daily returns (zero cash rate here).
    rows = round(metrics["strategy"]["periods_per_year"])
    v = curves["corr_breakdown"]
    r = v / np.concatenate([[initial], v[:-1]]) - 1
    rolling = {(t.get("yaxis", "y"), t["name"]): array(t["y"]) for t in figs["fig-rolling"]["data"]}
    ret, sharpe = rolling[("y", "corr_breakdown")], rolling[("y2", "corr_breakdown")]
    assert np.isnan(ret[: rows - 1]).all() and np.isnan(sharpe[: rows - 1]).all()
    assert ret[-1] == pytest.approx(v[-1] / v[-1 - rows] - 1, rel=1e-12)
    assert ret[rows - 1] == pytest.approx(v[rows - 1] / initial - 1, rel=1e-12)
    window = r[-rows:]
    assert sharpe[-1] == pytest.approx(
        window.mean() / window.std(ddof=1) * math.sqrt(metrics["strategy"]["periods_per_year"]), rel=1e-9
    )


def test_signal_charts_draw_the_thresholds_and_shade_the_active_rule(report_results: Path) -> None:
    for config, expected in {
        "corr_breakdown": {"corr": [0.2], "mom": [0.0]},
        "spread_reversion": {"z": [-2.0, 2.0]},
    }.items():
        run_dir = stored_run_dir(report_results, config)
        signals = pd.read_parquet(run_dir / "signals.parquet")
        rule = pd.read_csv(run_dir / "weights.csv")["rule"].to_numpy()
        figs = figures(run_report(load_run(run_dir)).html)
        assert sorted(k for k in figs if k.startswith("fig-signal-")) == sorted(f"fig-signal-{s}" for s in expected)
        for name, lines in expected.items():
            fig = figs[f"fig-signal-{name}"]
            assert sorted(s["y0"] for s in fig["layout"]["shapes"]) == lines
            (line,) = [t for t in fig["data"] if t["name"] == name]
            assert array(line["y"]).tolist() == signals[name].tolist()
            shaded = [t for t in fig["data"] if t["name"].startswith("rule ")]
            assert shaded, "no rule shaded"
            for t in shaded:
                i = int(t["name"].split()[1]) - 1
                assert array(t["y"]).tolist() == (rule == i).astype(float).tolist()
            assert {int(t["name"].split()[1]) - 1 for t in shaded} == set(rule.tolist())


@pytest.mark.parametrize(
    ("whens", "names", "expected"),
    [
        (["corr < 0.2 and mom > 0", "corr < 0.2 and mom <= 0", None], ["corr", "mom"],
         [("corr", "<", 0.2, 0), ("mom", ">", 0.0, 0), ("corr", "<", 0.2, 1), ("mom", "<=", 0.0, 1)]),
        (["z < -2", "z > 2", None], ["z"], [("z", "<", -2.0, 0), ("z", ">", 2.0, 1)]),
        (["0 < x < 0.5"], ["x"], [("x", ">", 0.0, 0), ("x", "<", 0.5, 0)]),  # a chain: both bounds, 0 < x flipped
        (["abs(z) > 2"], ["z"], [("z", "|·| >", 2.0, 0), ("z", "|·| >", -2.0, 0)]),  # either side
        (["crosses_above(x, 1.5) or not (y >= -1)"], ["x", "y"],
         [("x", "crosses above", 1.5, 0), ("y", ">=", -1.0, 0)]),
        (["mom_us > mom_hk", "mom_us + 1 > 2"], ["mom_us", "mom_hk"], []),  # no signal-vs-constant comparison
    ],
)  # fmt: skip
def test_thresholds_are_the_constants_each_rule_compares_a_signal_with(
    whens: list[str | None], names: list[str], expected: list[tuple[str, str, float, int]]
) -> None:
    assert [(t.signal, t.op, t.value, t.rule) for t in thresholds(whens, names)] == expected


def test_signal_only_assets_have_no_weight_but_feed_the_signals(tmp_path: Path) -> None:
    """etf_pair_us trades SPY and EWH on signals of the two indexes, which are never held."""
    results = tmp_path / "results"
    args = ["--source", "synthetic", "--start", "2013-01-01", "--end", "2014-12-31", "--results-dir", str(results)]
    assert invoke("run", str(CONFIGS / "etf_pair_us.yaml"), *args).exit_code == 0
    figs = figures(run_report(load_run(stored_run_dir(results, "etf_pair_us"))).html)
    assert [t["name"] for t in figs["fig-weights"]["data"]] == ["spy", "ewh", "cash"]
    assert {"fig-signal-corr", "fig-signal-mom"} <= set(figs)


def test_a_run_written_before_signals_were_stored_renders_and_says_so(report_results: Path, tmp_path: Path) -> None:
    old = tmp_path / "old-run"
    shutil.copytree(stored_run_dir(report_results, "corr_breakdown"), old)
    (old / "signals.parquet").unlink()
    report = run_report(load_run(old))
    assert SIGNALS_MISSING in report.html
    assert list(report.figures) == ["equity", "drawdown", "weights", "rolling", "years"]
    assert not [k for k in figures(report.html) if "signal" in k]


def test_a_config_without_signals_says_so(report_results: Path) -> None:
    report = run_report(load_run(stored_run_dir(report_results, "static_60_40")))
    assert "This config has no signals" in report.html
    assert SIGNALS_MISSING not in report.html
    assert list(report.figures) == ["equity", "drawdown", "weights", "rolling", "years"]


def test_header_states_data_version_and_config_and_synthetic_banner(report_results: Path) -> None:
    run = load_run(stored_run_dir(report_results, "corr_breakdown"))
    html = run_report(run).html
    assert 'id="synthetic-banner">SYNTHETIC DATA' in html
    for fact in (run.manifest["data_fingerprint"], run.manifest["run_id"], "0.1.0", "2010-01-04 → 2014-12-31"):
        assert fact in html
    assert "When the US/HK correlation breaks down" in html  # the description
    assert "# resolved config written by seesaw" in html  # config.yaml, as stored
    real = dataclasses.replace(run, manifest={**run.manifest, "synthetic": False, "data_source": "csv"})
    assert "synthetic-banner" not in run_report(real).html


def test_a_page_is_self_contained_and_deterministic(report_results: Path) -> None:
    run = load_run(stored_run_dir(report_results, "corr_breakdown"))
    report = run_report(run)
    html = report.html
    assert html.count("* plotly.js v") == 1  # plotly's JavaScript once, inline
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert html.count("Plotly.newPlot(") == len(report.figures) == 7
    assert run_report(run).html == html


# ---------------------------------------------------------------------------------------------
# comparison report


def test_compare_report_shows_the_compare_json_numbers(report_results: Path, tmp_path: Path) -> None:
    common = ["compare", "--runs", "latest", "--results-dir", str(report_results), "--reps", "200"]
    as_json = invoke(*common, "--format", "json", "--by", "year")  # html always has the year-by-year table
    assert as_json.exit_code == 0, as_json.stderr
    doc = json.loads(as_json.stdout)
    out = tmp_path / "compare.html"
    result = invoke(*common, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    html = out.read_text(encoding="utf-8")
    page, figs = tables(html), figures(html)
    rows = doc["rows"]
    names = [r["name"] for r in rows]

    table = page["compare"]
    assert table.first_column() == names
    numeric = [k for k in ("total_return", "cagr", "ann_vol", "sharpe", "sortino", "max_drawdown", "calmar",
                           "longest_drawdown_days", "turnover", "switches_per_year", "excess_return",
                           "information_ratio", "worst_year", "psr", "dsr", "beta_us", "beta_hk")]  # fmt: skip
    for key in numeric:
        assert table.column(key) == [_value(r.get(key)) for r in rows], key
    assert "y2010" not in {a.get("data-key") for row in table.rows for _, a in row}  # years: their own table

    years = page["years"]
    assert years.headers == ["Name", "2010", "2011", "2012", "2013", "2014"]
    for y in range(2010, 2015):
        assert years.column(f"y{y}") == [r[f"y{y}"] for r in rows]
    stats = page["statistics"]
    strategies = [r for r in rows if r["kind"] == "strategy"]
    assert stats.first_column() == [r["name"] for r in strategies]
    for key in ("sharpe", "sharpe_ci_low", "sharpe_ci_high", "psr", "dsr"):
        assert stats.column(key) == [r[key] for r in strategies], key
    assert f"p = {doc['spa']['consistent']:.3f}" in html

    scatter = {t["name"]: t for t in figs["fig-risk-return"]["data"]}
    for kind in ("strategy", "benchmark"):
        want = [r for r in rows if r["kind"] == kind]
        assert scatter[kind]["text"] == [r["name"] for r in want]
        assert array(scatter[kind]["x"]).tolist() == [r["ann_vol"] for r in want]
        assert array(scatter[kind]["y"]).tolist() == [r["cagr"] for r in want]
    by_name = {r["name"]: r for r in rows}
    for trace in figs["fig-equity"]["data"]:  # growth of 1: ends at 1 + total return
        assert trace["x"][0] == doc["first"] and trace["x"][-1] == doc["last"]
        assert array(trace["y"])[-1] == pytest.approx(1 + by_name[trace["name"]]["total_return"], rel=1e-12)
    for trace in figs["fig-drawdown"]["data"]:
        assert array(trace["y"]).min() == pytest.approx(by_name[trace["name"]]["max_drawdown"], abs=1e-12)
    assert len(figs) == 4


def test_compare_html_follows_sort_and_top(report_results: Path, tmp_path: Path) -> None:
    out = tmp_path / "top.html"
    args = ["compare", "--runs", "latest", "--results-dir", str(report_results), "--reps", "100"]
    result = invoke(*args, "--sort", "sharpe", "--top", "1", "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    page = tables(out.read_text(encoding="utf-8"))
    kinds = [row[1][0] for row in page["compare"].rows]
    assert kinds.count("strategy") == 1 and kinds[0] == "strategy"


# ---------------------------------------------------------------------------------------------
# the commands: latest, errors, nothing half-written


def test_report_latest_is_the_most_recent_run(tmp_path: Path) -> None:
    results = tmp_path / "results"
    common = ["--source", "synthetic", "--start", "2013-01-01", "--end", "2014-12-31", "--results-dir", str(results)]
    for config in ("static_60_40", "buy_hold_us"):  # buy_hold_us last
        assert invoke("run", str(CONFIGS / f"{config}.yaml"), *common).exit_code == 0
    out = tmp_path / "latest.html"
    result = invoke("report", "latest", "--results-dir", str(results), "--output", str(out))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote {out}\n"
    assert "<title>Seesaw run report: buy_hold_us</title>" in out.read_text(encoding="utf-8")
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["NOPE", "--output", "{out}"], {}, "no stored run matches run id 'NOPE'"),
        (["latest", "--output", "{tmp}/missing/r.html"], {}, "does not exist"),
        (["latest"], {}, "give --output FILE"),
        (["latest", "--output", "{tmp}"], {}, "the output is a directory"),
        (["latest", "--output", "{out}", "--png", "{tmp}/png"], {"CHROMIUM": "/nonexistent/chromium"},
         "CHROMIUM=/nonexistent/chromium is not an executable"),
    ],
)  # fmt: skip
def test_report_errors_are_one_line_exit_2_and_leave_the_output_alone(
    report_results: Path, tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    out = tmp_path / "report.html"
    out.write_text("previous report", encoding="utf-8")
    argv = [a.format(out=out, tmp=tmp_path) for a in args]
    result = invoke("report", *argv, "--results-dir", str(report_results), env=env)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert result.stdout == ""
    assert out.read_text(encoding="utf-8") == "previous report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "html"], "--format html writes a report file: give --output FILE"),
        (["--format", "markdown", "--png", "{tmp}/png"], "--png goes with --format html"),
        (["--format", "html", "--output", "{tmp}/missing/c.html"], "does not exist"),
    ],
)
def test_compare_html_errors_come_before_any_work(tmp_path: Path, args: list[str], message: str) -> None:
    results = tmp_path / "results"  # never created: the error comes first
    argv = [a.format(tmp=tmp_path) for a in args]
    result = invoke(
        "compare", str(CONFIGS / "buy_hold_us.yaml"), "--source", "synthetic", "--results-dir", str(results), *argv
    )
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.realdata
def test_report_of_a_real_data_run_has_no_synthetic_banner(data_dir: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    args = ["--source", "csv", "--data-dir", str(data_dir), "--start", "2015-01-01", "--end", "2016-12-31"]
    assert invoke("run", str(CONFIGS / "ratio_trend.yaml"), *args, "--results-dir", str(results)).exit_code == 0
    out = tmp_path / "real.html"
    assert invoke("report", "latest", "--results-dir", str(results), "--output", str(out)).exit_code == 0
    html = out.read_text(encoding="utf-8")
    assert "synthetic-banner" not in html and "SYNTHETIC" not in html
    assert "csv" in html and "2015-01-02 → 2016-12-30" in html
    assert len(figures(html)) == 6  # equity, drawdown, weights, one signal, rolling, years
