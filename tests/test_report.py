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
import re
import shutil
from html import escape, unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.jobs.sweep import load_sweep
from engine.metrics.specs import SWEEP_TABLE, spec
from engine.render.html import run_report
from engine.render.html.page import page_html
from engine.render.html.run import SIGNALS_MISSING
from engine.render.html.series import thresholds
from engine.render.html.sweep import sweep_report
from engine.render.html.tearsheet import tearsheet_sections
from engine.render.text import RUN_COLUMNS, format_value
from engine.store.rundir import load_run
from tests.conftest import CONFIGS, stored_run_dir
from tests.report_html import Table, array, figures, tables
from tests.run_files import as_older

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
    curves |= {b: benchmarks[b].to_numpy() for b in benchmarks.columns if b not in ("date", "synthetic")}
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
    # areas without edges: the top edge of the stack would take the last asset's colour over a day in cash
    assert all(t["line"]["width"] == 0 and t["stackgroup"] == "weights" for t in figs["fig-weights"]["data"])

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
        html = run_report(load_run(run_dir)).html
        figs = figures(html)
        assert "its orders execute 1 date later)" in html  # lag: 1, counted in the singular
        assert sorted(k for k in figs if k.startswith("fig-signal-")) == sorted(f"fig-signal-{s}" for s in expected)
        for name, lines in expected.items():
            fig = figs[f"fig-signal-{name}"]
            assert sorted(s["y0"] for s in fig["layout"]["shapes"]) == lines
            (line,) = [t for t in fig["data"] if t["name"] == name]
            assert array(line["y"]).tolist() == signals[name].tolist()
            shaded = [t for t in fig["data"] if t["name"].startswith("rule ")]
            assert shaded, "no rule shaded"
            # the line on the overlaying axis, which plotly draws over the base axis's shading: never tinted by it
            assert line["yaxis"] == "y2" and fig["layout"]["yaxis2"]["overlaying"] == "y"
            assert all(t.get("yaxis", "y") == "y" for t in shaded)
            for t in shaded:  # the legend's "rule k" is the k that weights.csv holds (both count from 1)
                k = int(t["name"].split()[1])
                assert array(t["y"]).tolist() == (rule == k).astype(float).tolist()
            assert {int(t["name"].split()[1]) for t in shaded} == set(rule.tolist())


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
    as_older(old)  # such a run recorded no sums of its files either (tests/run_files.py)
    report = run_report(load_run(old))
    assert SIGNALS_MISSING in report.html
    assert list(report.figures) == ["equity", "drawdown", "weights", "rolling", "years", "rolling_beta"]
    assert not [k for k in figures(report.html) if "signal" in k]


def test_a_config_without_signals_says_so(report_results: Path) -> None:
    report = run_report(load_run(stored_run_dir(report_results, "static_60_40")))
    assert "This config has no signals" in report.html
    assert SIGNALS_MISSING not in report.html
    assert list(report.figures) == ["equity", "drawdown", "weights", "rolling", "years", "rolling_beta"]


def test_header_states_data_version_and_config_and_synthetic_banner(report_results: Path) -> None:
    run = load_run(stored_run_dir(report_results, "corr_breakdown"))
    html = run_report(run).html
    assert 'id="synthetic-banner">SYNTHETIC DATA' in html
    for fact in (run.manifest["data_fingerprint"], run.manifest["run_id"], "0.1.0", "2010-01-04 → 2014-12-31"):
        assert fact in html
    assert "When the US/HK correlation breaks down" in html  # the description
    assert "# resolved config written by seesaw" in html  # config.yaml, as stored
    have, need = (run.metrics["data"][k] for k in ("warmup_dates", "warmup_needed"))
    assert f"<dt>warm-up</dt><dd>{have} dates before the start; the signals need {need}</dd>" in html
    real = dataclasses.replace(run, manifest={**run.manifest, "synthetic": False, "data_source": "csv"})
    assert "synthetic-banner" not in run_report(real).html


def test_a_page_is_self_contained_and_deterministic(report_results: Path) -> None:
    run = load_run(stored_run_dir(report_results, "corr_breakdown"))
    report = run_report(run)
    html = report.html
    assert html.count("* plotly.js v") == 1  # plotly's JavaScript once, inline
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert html.count("Plotly.newPlot(") == len(report.figures) == 8  # with the tear sheet's rolling beta
    assert run_report(run).html == html


def test_every_id_on_every_kind_of_page_is_unique(report_results: Path, sweep_reports: dict, tmp_path: Path) -> None:
    """A section and the table in it were both ``metrics`` (and six others): sections are ``section-<anchor>``,
    the contents list links to them, and no id appears twice on a run, compare, sweep or walk-forward page."""
    import collections

    compare = tmp_path / "compare.html"
    args = ["compare", "--runs", "latest", "--results-dir", str(report_results), "--reps", "200"]
    assert invoke(*args, "--format", "html", "--output", str(compare)).exit_code == 0
    pages = {
        "run": run_report(load_run(stored_run_dir(report_results, "corr_breakdown"))).html,
        "compare": compare.read_text(encoding="utf-8"),
        "sweep": Path(sweep_reports["sweep_html"]).read_text(encoding="utf-8"),
        "walkforward": Path(sweep_reports["walkforward_html"]).read_text(encoding="utf-8"),
    }
    for kind, html in pages.items():
        ids = collections.Counter(re.findall(r'\bid="([^"]+)"', html))
        assert [i for i, n in ids.items() if n > 1] == [], kind
        for target in re.findall(r'<a href="#([^"]+)"', html):
            assert ids[target] == 1, (kind, target)  # every link of the contents lands on its section
    assert '<a href="#section-metrics">Metrics</a>' in pages["run"]
    # the sweep page's walk-forward part has the stitched run's fingerprint, which is not the sweep's: said so
    assert unescape(pages["sweep"]).count("(of the stitched run's own dates and warm-up, not the sweep's)") == 1


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


def test_report_latest_is_the_run_the_last_command_showed_even_when_reused(tmp_path: Path) -> None:
    """``latest`` is the run the last ``run`` or ``compare`` showed (its last config), computed or reused from the
    store, not the most recently created one; once that run is removed, the most recently created."""
    results = tmp_path / "results"
    common = ["--source", "synthetic", "--start", "2013-01-01", "--end", "2014-12-31", "--results-dir", str(results)]

    def latest() -> str:
        shown = invoke("report", "latest", "--format", "text", "--results-dir", str(results))
        assert shown.exit_code == 0, shown.stderr
        return shown.stdout.splitlines()[0]

    def stored(config: str) -> Path:
        (run_dir,) = (results / config).iterdir()
        return run_dir

    for config in ("static_60_40", "buy_hold_us"):  # buy_hold_us created last
        assert invoke("run", str(CONFIGS / f"{config}.yaml"), *common).exit_code == 0
    again = invoke("run", str(CONFIGS / "static_60_40.yaml"), *common)
    assert again.exit_code == 0 and "reused" in again.stderr + again.stdout
    assert latest().split() == ["static_60_40", "run", stored("static_60_40").name]
    shown = invoke("compare", str(CONFIGS / "static_60_40.yaml"), str(CONFIGS / "buy_hold_us.yaml"), *common)
    assert shown.exit_code == 0, shown.stderr
    assert latest().split() == ["buy_hold_us", "run", stored("buy_hold_us").name]  # the compare's last config
    assert invoke("run", str(CONFIGS / "static_60_40.yaml"), *common).exit_code == 0
    twin = stored("static_60_40").with_name(stored("static_60_40").name + "-2")  # a second run's id in that second
    shutil.copytree(stored("static_60_40"), twin)
    manifest = json.loads((twin / "run.json").read_text(encoding="utf-8"))
    (twin / "run.json").write_text(json.dumps({**manifest, "run_id": twin.name}), encoding="utf-8")
    assert invoke("runs", "list", "--results-dir", str(results)).exit_code == 0  # indexed: its id begins the same
    assert latest().split() == ["static_60_40", "run", twin.name[:-2]]  # the one noted, exactly, not its twin
    shutil.rmtree(twin)
    shutil.rmtree(stored("static_60_40"))
    assert latest().split() == ["buy_hold_us", "run", stored("buy_hold_us").name]  # the newest still stored


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["NOPE", "--output", "{out}"], {}, "no stored run matches run id 'NOPE'"),
        (["latest", "--output", "{tmp}/missing/r.html"], {}, "does not exist"),
        (["latest"], {}, "give --output FILE"),
        (["latest", "--output", "{tmp}"], {}, "the output is a directory"),
        (["latest", "--output", "{tmp}/c.yaml"], {}, "the output is an HTML page, not a .yaml file (a config, data"),
        (["latest", "--output", "{tmp}/prices.CSV"], {}, "the output is an HTML page, not a .CSV file"),
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
    assert len(figures(html)) == 7  # equity, drawdown, weights, one signal, rolling, years, rolling beta


# ---------------------------------------------------------------------------------------------
# sweep and walk-forward reports (tests/conftest.py: sweep_reports, a 12-combination sweep and its walk-forward)


def _sweep_dir(results: Path) -> Path:
    (sweep_dir,) = [p for p in (results / "report_sweep" / "sweeps").iterdir() if not p.name.startswith(".")]
    return sweep_dir


def _parquet_value(v: object) -> float | None:
    return None if isinstance(v, float) and math.isnan(v) else float(v)  # type: ignore[arg-type]


def _texts(table: Table, key: str) -> list[str]:
    return [text for row in table.rows for text, attrs in row if attrs.get("data-key") == key]


def test_sweep_report_top_table_is_the_printed_rows(sweep_reports: dict) -> None:
    doc = sweep_reports["sweep"]
    rows, keys = doc["rows"], doc["sweep"]["keys"]
    table = tables(sweep_reports["sweep_html"].read_text(encoding="utf-8"))["top"]
    # headed as the terminal's table: the grid's keys, the metrics' labels, the average weights
    assert table.headers == ["#", *keys, *(spec(k).label for k in SWEEP_TABLE), "Avg us", "Avg hk"]
    assert "P(SR>ref)" in table.headers
    assert table.column("rank") == [1, 2, 3, 4, 5]
    numeric = [*keys, *(c for c in SWEEP_TABLE if c != "sharpe_ci"), "weight_us", "weight_hk"]
    for key in numeric:
        assert table.column(key) == [_value(r[key]) for r in rows], key  # exactly the --format json numbers
    # the cells read as in the terminal table
    # (a value that rounds to zero without a minus sign: Python's "z" format option)
    assert _texts(table, "cagr") == [f"{r['cagr'] * 100:z.1f}%" for r in rows]
    assert _texts(table, "sharpe") == [f"{r['sharpe']:z.2f}" for r in rows]
    assert _texts(table, "trades") == [str(r["trades"]) for r in rows]
    assert _texts(table, "weight_us") == [f"{r['weight_us'] * 100:z.0f}%" for r in rows]
    assert _texts(table, "sharpe_ci") == [f"{r['sharpe_ci_low']:z.2f}…{r['sharpe_ci_high']:z.2f}" for r in rows]
    assert table.column("sharpe_ci") == [_value(r["sharpe_ci_low"]) for r in rows]  # sorted by its low end, as a number


def test_sweep_report_table_of_all_combinations_is_combos_parquet(sweep_reports: dict) -> None:
    html = sweep_reports["sweep_html"].read_text(encoding="utf-8")
    combos = pd.read_parquet(_sweep_dir(sweep_reports["results"]) / "combos.parquet")
    ranked = combos.sort_values("sharpe", ascending=False, kind="stable")  # best first, as --sort sharpe
    table = tables(html)["combinations"]
    weights = [c for c in combos.columns if c.startswith("weight_")]
    assert weights == ["weight_us", "weight_hk"]
    keys, metrics = ["combo", "window", "cut", "execution.lag"], [c for c in combos.columns if c not in weights][4:]
    assert list(combos.columns[:4]) == keys
    labels = [f"β {m[5:]}" if m.startswith("beta_") else spec(m).label for m in metrics]  # as the best rows' table
    assert "Total ret" in labels and "Max DD" in labels and labels[-2:] == ["β us", "β hk"]  # and compare head them
    assert table.headers == ["#", *keys, *labels, "Avg us", "Avg hk"]  # weights last
    assert len(table.rows) == len(combos) == 12
    assert table.column("rank") == list(range(1, 13))
    for col in combos.columns:
        assert table.column(col) == [_parquet_value(v) for v in ranked[col].tolist()], col
    assert 'aria-sort="descending">Sharpe</th>' in html  # the order the rows come in
    assert "The best 12 of 12 combinations by Sharpe (all of them)" in html  # the metric named as headed
    assert "The best 5 by Sharpe" in html and "Heatmaps of Sharpe" in html  # the sections' titles too
    assert "by sharpe<" not in html and "of sharpe<" not in html


def test_sweep_report_heatmaps_show_the_best_over_the_other_key(sweep_reports: dict) -> None:
    figs = figures(sweep_reports["sweep_html"].read_text(encoding="utf-8"))
    combos = pd.read_parquet(_sweep_dir(sweep_reports["results"]) / "combos.parquet")
    pairs = {
        "fig-heatmap-window-cut": ("window", "cut"),
        "fig-heatmap-window-execution-lag": ("window", "execution.lag"),
        "fig-heatmap-cut-execution-lag": ("cut", "execution.lag"),
    }
    assert [k for k in figs if k.startswith("fig-heatmap")] == list(pairs)
    for name, (x, y) in pairs.items():
        (trace,) = figs[name]["data"]
        best = combos.groupby([y, x])["sharpe"].max().unstack(x)  # the third key: its best value per cell
        assert trace["x"] == [str(v) for v in best.columns] and trace["y"] == [str(v) for v in best.index]
        assert array(trace["z"]).tolist() == best.to_numpy().tolist()


def test_sweep_report_pbo_chart_is_the_stored_histogram(sweep_reports: dict) -> None:
    html = sweep_reports["sweep_html"].read_text(encoding="utf-8")
    man = sweep_reports["sweep"]["sweep"]
    stored = json.loads((_sweep_dir(sweep_reports["results"]) / "sweep.json").read_text(encoding="utf-8"))
    assert stored["pbo"] == man["pbo"] and stored["pbo_logit_hist"] == man["pbo_logit_hist"]
    edges, counts = np.array(man["pbo_logit_hist"]["edges"]), man["pbo_logit_hist"]["counts"]
    fig = figures(html)["fig-pbo"]
    (bars,) = fig["data"]
    assert array(bars["y"]).tolist() == counts
    assert array(bars["x"]) == pytest.approx((edges[:-1] + edges[1:]) / 2, abs=1e-15)
    red = [c == "#b3261e" for c in bars["marker"]["color"]]
    assert red == (edges[1:] <= 0).tolist()  # bins closed on the right: the red ones hold the logits <= 0
    assert sum(c for c, r in zip(counts, red, strict=True) if r) == round(man["pbo"] * man["pbo_split_count"])
    assert [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"]] == [(0, 0)]  # the zero line
    assert f"PBO = {man['pbo']:.3f}" in html
    assert f"out-of-sample Sharpe below zero): {man['pbo_prob_loss']:.3f}." in html  # probability of a loss
    assert f"DSR = {man['best_dsr']:.3f}" in html and f"{man['pbo_split_count']:,} splits" in html


def test_walkforward_part_is_the_stored_walkforward_run(sweep_reports: dict) -> None:
    doc = sweep_reports["walkforward"]
    run_dir = Path(doc["run_dir"])
    metrics = _metrics(run_dir)
    folds, keys = doc["folds"], metrics["walkforward"]["keys"]
    assert metrics["walkforward"]["folds"] == folds and len(folds) == 4
    equity = pd.read_csv(run_dir / "equity.csv")
    benchmarks = pd.read_csv(run_dir / "benchmarks.csv")
    own = sweep_reports["walkforward_html"].read_text(encoding="utf-8")  # the walk-forward run's own header
    have = metrics["data"]["warmup_dates"]
    assert f"<dt>warm-up</dt><dd>{have} dates before the first test date (the first training window" in own
    for page in (sweep_reports["sweep_html"], sweep_reports["walkforward_html"]):
        html = page.read_text(encoding="utf-8")
        assert run_dir.name in html
        assert "<dt>windows</dt><dd>train 3y, test 1y, step 1y</dd>" in html  # how the folds were made
        table = tables(html)["folds"]
        assert table.column("fold") == [0, 1, 2, 3]
        assert [row[1][0] for row in table.rows] == [f"{f['train_start']} → {f['train_end']}" for f in folds]
        assert [row[2][0] for row in table.rows] == [f"{f['test_start']} → {f['test_end']}" for f in folds]
        metric_keys = [k for k in folds[0] if k.startswith(("is_", "oos_"))]
        assert metric_keys == ["is_sharpe", "oos_sharpe", "is_cagr", "oos_cagr", "is_max_drawdown", "oos_max_drawdown"]
        for key in [*keys, *metric_keys]:
            assert table.column(key) == [f[key] for f in folds], key
        figs = figures(html)
        points = [t for t in figs["fig-walkforward-is-oos"]["data"] if t["name"] == "fold"]
        for trace, metric in zip(points, ("sharpe", "cagr", "max_drawdown"), strict=True):
            assert array(trace["x"]).tolist() == [f[f"is_{metric}"] for f in folds]
            assert array(trace["y"]).tolist() == [f[f"oos_{metric}"] for f in folds]
        curves = {t["name"]: t for t in figs["fig-walkforward-equity"]["data"]}
        assert list(curves) == ["report_sweep_walkforward", "50/50 monthly"]
        assert curves["report_sweep_walkforward"]["x"] == equity["date"].tolist()
        assert array(curves["report_sweep_walkforward"]["y"]).tolist() == equity["value"].tolist()
        assert array(curves["50/50 monthly"]["y"]).tolist() == benchmarks["50/50 monthly"].tolist()
        shown = tables(html)["walkforward-metrics"]
        for key in ("total_return", "cagr", "sharpe", "max_drawdown"):
            assert shown.column(key) == [metrics["strategy"][key], *(b[key] for b in metrics["benchmarks"])]


def test_walkforward_report_is_one_self_contained_page(sweep_reports: dict) -> None:
    html = sweep_reports["walkforward_html"].read_text(encoding="utf-8")
    assert "<title>Seesaw walk-forward report: report_sweep_walkforward</title>" in html
    assert html.count("* plotly.js v") == 1 and "<script src" not in html
    assert list(figures(html)) == ["fig-walkforward-is-oos", "fig-walkforward-equity"]
    assert 'id="synthetic-banner"' in html and "# resolved config written by seesaw" in html
    assert "table.sortable" not in html.split("</style>")[1]  # no sortable table: no sort script


def test_sweep_report_header_and_page(sweep_reports: dict) -> None:
    html = sweep_reports["sweep_html"].read_text(encoding="utf-8")
    man = sweep_reports["sweep"]["sweep"]
    assert 'id="synthetic-banner">SYNTHETIC DATA' in html
    for fact in (man["sweep_id"], man["data_fingerprint"], man["code_hash"], "0.1.0", "2008-01-02 → 2014-12-31"):
        assert fact in html
    assert "A small sweep for the report tests" in html  # the description
    assert "12 = 3 × 2 × 2 (3 chunks of up to 5)" in html and "<dd>20, 40, 60</dd>" in html
    assert f"<dt>engine</dt><dd>{man['simulator']}</dd>" in html and man["simulator"] == "fused"
    assert "Assumption: values in USD" in html and "Assumption: prices: " in html  # as seesaw sweep prints them
    assert "# resolved sweep config written by seesaw" in html and "sweep:\n  window:" in html  # config.yaml
    assert html.count("* plotly.js v") == 1  # plotly's JavaScript once, inline
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    assert html.count('document.querySelectorAll("table.sortable")') == 1  # the sort script, once
    assert html.count("Plotly.newPlot(") == len(figures(html)) == 6  # 3 heatmaps, PBO, IS vs OOS, equity


def test_sweep_report_is_pure_and_cuts_the_table(sweep_reports: dict) -> None:
    outcome = load_sweep(_sweep_dir(sweep_reports["results"]))
    rows = pd.DataFrame(sweep_reports["sweep"]["rows"])
    report = sweep_report(outcome, rows, sort="sharpe", reps=200, config_text="name: x", max_rows=5)
    assert report.html == sweep_report(outcome, rows, sort="sharpe", reps=200, config_text="name: x", max_rows=5).html
    table = tables(report.html)["combinations"]
    assert len(table.rows) == 5 and "The best 5 of 12 combinations by Sharpe (7 left out" in report.html
    assert "No walk-forward of this config on this data is stored" in report.html  # none given: said, not faked
    assert list(report.figures) == [
        "heatmap_window_cut", "heatmap_window_execution-lag", "heatmap_cut_execution-lag", "pbo"
    ]  # fmt: skip
    by_vol = tables(sweep_report(outcome, rows, sort="ann_vol", reps=200, config_text="").html)["combinations"]
    assert by_vol.column("ann_vol") == sorted(outcome.table["ann_vol"].tolist())  # lower is better: lowest first
    labelled = dataclasses.replace(outcome, table=outcome.table.assign(label="x"))  # as a text key would be
    by_text = sweep_report(labelled, rows, sort="label", reps=200, config_text="")
    assert "No heatmap: the sort column label is not a number" in by_text.html and list(by_text.figures) == ["pbo"]
    one_key = dataclasses.replace(outcome, keys=("window",))
    assert (
        "No heatmap here: the report draws them over two numeric sweep keys, and this sweep has window "
        "(12 combinations; see the tables). --heatmap A,B --output FILE.html draws one over any two keys."
        in sweep_report(one_key, rows, sort="sharpe", reps=200, config_text="").html
    )
    single = dataclasses.replace(one_key, table=outcome.table.head(1))  # one combination: no "1 combinations"
    page = sweep_report(single, rows.head(1), sort="sharpe", reps=200, config_text="").html
    assert "(1 combination; see the tables)" in page and "The best 1 of 1 combination by Sharpe" in page
    assert "1 combinations" not in page


def test_a_walkforward_is_shown_only_for_the_same_config_and_data(sweep_reports: dict) -> None:
    from engine.config.params import grid
    from engine.data.panel import load_for_config
    from engine.data.synthetic import SyntheticProvider
    from engine.jobs.common import SYNTHETIC_FIRST, RunOptions
    from engine.jobs.report import find_walkforward
    from engine.sweep import sweep_warmup

    results = sweep_reports["results"]
    opts = RunOptions(results_dir=results)
    outcome = load_sweep(_sweep_dir(results))
    cfg = outcome.cfg
    markets = {"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}

    def loaded(seed: int):
        provider = SyntheticProvider(markets, seed=seed, first=SYNTHETIC_FIRST)
        return load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, grid(cfg)))

    same = dataclasses.replace(outcome, loaded=loaded(20250120))  # the synthetic data the commands used
    assert find_walkforward(same, opts, {}) == Path(sweep_reports["walkforward"]["run_dir"])
    assert find_walkforward(outcome, opts, {}) is None  # no panel to check the data against
    other_data = dataclasses.replace(outcome, loaded=loaded(7))  # same dates and config, other prices
    assert find_walkforward(other_data, opts, {}) is None
    cheaper = cfg.costs.model_copy(update={"fee_bps": 1.0})
    other_config = dataclasses.replace(same, cfg=cfg.model_copy(update={"costs": cheaper}))
    assert find_walkforward(other_config, opts, {}) is None


@pytest.mark.parametrize("command", ["sweep", "walkforward"])
@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--png", "{tmp}/png"], {}, "--png goes with --report FILE"),
        (["--report", "{tmp}/missing/s.html"], {}, "does not exist"),
        (["--report", "{tmp}"], {}, "the output is a directory"),
        (["--report", "{tmp}/s.html", "--png", "{tmp}/png"], {"CHROMIUM": "/nonexistent/chromium"},
         "CHROMIUM=/nonexistent/chromium is not an executable"),
    ],
)  # fmt: skip
def test_sweep_report_errors_come_before_the_sweep_runs(
    sweep_reports: dict, tmp_path: Path, command: str, args: list[str], env: dict[str, str], message: str
) -> None:
    results = tmp_path / "results"  # never created: the error comes first
    argv = [a.format(tmp=tmp_path) for a in args]
    result = invoke(command, str(sweep_reports["config"]), "--results-dir", str(results), *argv, env=env)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sort", "foo"], "--sort: cannot sort by 'foo' (columns: window, cut, execution.lag, total_return,"),
        (["--sort", "dsr"], "--sort: cannot sort by 'dsr'"),  # the top rows' statistic, not the table's
        (["--heatmap", "window,nosuch", "--output", "{tmp}/h.html"], "y 'nosuch' is not a sweep key (keys: window,"),
        (["--heatmap", "window,window", "--output", "{tmp}/h.html"], "expected two different sweep keys"),
        (["--heatmap", "window,cut", "--heatmap-metric", "dsr", "--output", "{tmp}/h.html"],
         "--heatmap-metric: cannot draw 'dsr' over window and cut (metrics: execution.lag, total_return,"),
        (["--sort", "window", "--heatmap", "window,cut", "--output", "{tmp}/h.html"],
         "--heatmap-metric (default: --sort): cannot draw 'window' over window and cut"),
        (["--heatmap", "window,cut", "--output", "{tmp}/missing/h.html"], "the output's directory"),
        (["--heatmap", "window,cut", "--output", "{tmp}"], "the output is a directory"),
        (["--heatmap", "window,cut", "--output", "{tmp}/h.png"], "the output is an HTML page, not a .png image"),
    ],
)  # fmt: skip
def test_a_sweeps_table_options_are_refused_before_it_runs(
    sweep_reports: dict, tmp_path: Path, args: list[str], message: str
) -> None:
    """--sort, --heatmap and its metric and file are known wrong from the config and the file system: refused
    before any data is loaded or any chunk computed, not after the sweep ran and was stored."""
    results = tmp_path / "results"  # never created: the error comes first
    argv = [a.format(tmp=tmp_path) for a in args]
    result = invoke("sweep", str(sweep_reports["config"]), "--results-dir", str(results), *argv)
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: ") and message in line, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_text_sweep_key_may_be_sorted_by_but_is_no_heatmap_metric(sweep_reports: dict, tmp_path: Path) -> None:
    from engine.cli.sweep import check_table_options
    from engine.config import load_config
    from engine.errors import UserError

    text = sweep_reports["config"].read_text(encoding="utf-8")
    path = tmp_path / "text_key.yaml"
    path.write_text(text.replace("execution.lag: [1, 2]", "execution.rebalance: [on_change, monthly]"), "utf-8")
    cfg = load_config(path)
    check_table_options(cfg, sort="execution.rebalance", pair=None, metric=None)  # sorted as text, as before
    with pytest.raises(UserError, match=r"--heatmap-metric: cannot draw 'execution\.rebalance' over window and cut"):
        check_table_options(cfg, sort="sharpe", pair=("window", "cut"), metric="execution.rebalance")
    with pytest.raises(UserError, match=r"\(default: --sort\): cannot draw 'execution\.rebalance'"):  # a KeyError once
        check_table_options(cfg, sort="execution.rebalance", pair=("window", "cut"), metric=None)


def test_png_may_name_directories_still_to_create_but_not_under_a_file(tmp_path: Path) -> None:
    from engine.errors import StoreError
    from engine.output_paths import check_png_dir

    check_png_dir(tmp_path / "new" / "nested" / "charts")  # created when the charts are written
    (tmp_path / "file").write_text("", encoding="utf-8")
    for bad in (tmp_path / "file", tmp_path / "file" / "charts"):
        with pytest.raises(StoreError):
            check_png_dir(bad)
    for first, second in (("run.json", "metrics.json"), ("sweep.json", "combos.parquet")):  # a stored run, a sweep
        stored = tmp_path / first.split(".")[0]
        stored.mkdir()
        (stored / first).write_text("{}", encoding="utf-8")
        check_png_dir(stored)  # a saved document alone is no stored run
        (stored / second).write_bytes(b"x")
        for bad in (stored, stored / "charts"):
            with pytest.raises(StoreError, match="--png is in a stored run's or sweep's directory"):
                check_png_dir(bad)


def test_an_output_is_refused_in_a_stored_run_or_sweep_not_beside_a_saved_json_document(tmp_path: Path) -> None:
    """A stored run's directory holds run.json and metrics.json, a sweep's sweep.json and combos.parquet: a report
    there would damage them.  A run.json or sweep.json alone (a --format json output saved under that name) is not
    one, and a report may go beside it."""
    from engine.errors import StoreError
    from engine.output_paths import check_output

    for first, second in (("run.json", "metrics.json"), ("sweep.json", "combos.parquet")):
        folder = tmp_path / first.split(".")[0]
        folder.mkdir()
        (folder / first).write_text("{}", encoding="utf-8")
        check_output(folder / "report.html")  # a saved document alone
        (folder / second).write_bytes(b"x")
        with pytest.raises(StoreError, match="stored run's or sweep's directory"):
            check_output(folder / "report.html")


def test_report_of_a_sweep_id_says_how_a_sweep_gets_its_report(sweep_reports: dict, tmp_path: Path) -> None:
    sweep_id, name = sweep_reports["sweep"]["sweep"]["sweep_id"], sweep_reports["sweep"]["sweep"]["config_name"]
    for given in (sweep_id, sweep_id[:6]):
        args = ["report", given, "--results-dir", str(sweep_reports["results"]), "--output", str(tmp_path / "r.html")]
        result = invoke(*args)
        assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.stderr
        assert (
            f"{given!r} is a stored sweep's id, not a run's: a sweep's report is written by seesaw sweep CONFIG "
            "--report FILE, which shows the stored sweep again given the options it was made with "
            f"(config {name}, --source synthetic, --engine fused, --start 2008-01-01, --end 2014-12-31)"
            in result.stderr
        )
    hinted = result.stderr.split(f"(config {name}, ")[1].strip().rstrip(")").replace(",", "").split()
    again = invoke(
        "sweep",
        str(sweep_reports["config"]),
        *hinted,
        "--results-dir",
        str(sweep_reports["results"]),
        "--format",
        "json",
    )
    assert again.exit_code == 0 and json.loads(again.stdout)["reused"] is True, again.stderr  # the hint finds it
    unknown = invoke("report", "ffffffffffff", "--results-dir", str(sweep_reports["results"]), "--format", "text")
    assert unknown.exit_code == 2 and "no stored run matches run id 'ffffffffffff'" in unknown.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--report-rows", "9"], "--report-rows goes with --report FILE"),
        (["--output", "{tmp}/h.html"], "--output goes with --heatmap A,B"),
        (["--heatmap-metric", "cagr"], "--heatmap-metric goes with --heatmap A,B"),
    ],
)
def test_an_option_without_the_one_it_goes_with_is_refused(
    sweep_reports: dict, tmp_path: Path, args: list[str], message: str
) -> None:
    """Never silently ignored: before the sweep runs, one line, exit 2, nothing written."""
    argv = [a.format(tmp=tmp_path) for a in args]
    result = invoke("sweep", str(sweep_reports["config"]), "--results-dir", str(tmp_path / "r"), *argv)
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {message}"), result.stderr
    assert len(result.stderr.splitlines()) == 1 and list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------------------------------------
# the tear sheet: seesaw report RUN --format text, and its HTML sections


def test_report_text_prints_the_tear_sheet_within_100_columns(report_results: Path, tmp_path: Path) -> None:
    from engine.render.tearsheet_text import tearsheet_text

    run_dir = stored_run_dir(report_results, "corr_breakdown")
    result = invoke("report", run_dir.name, "--format", "text", "--results-dir", str(report_results))
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == tearsheet_text(load_run(run_dir))
    lines = result.stdout.splitlines()
    assert max(map(len, lines)) <= 100
    ts = _metrics(run_dir)["tearsheet"]
    for year, months in ts["monthly_returns"].items():  # each year's row ends with its compounded return
        (row,) = [line for line in lines if line.startswith(f"{year} ")]
        assert row.split()[-1] == f"{months['year'] * 100:.1f}%"
    worst = ts["worst_drawdowns"][0]
    assert any(line.split()[1:4] == [worst["start"], worst["trough"], worst["recovery"] or "not"] for line in lines)
    assert f"{ts['var_95'] * 100:.2f}%" in result.stdout
    assert lines[1] == "SYNTHETIC DATA: generated prices, not market history."
    out = tmp_path / "tearsheet.txt"
    written = invoke(
        "report", run_dir.name, "--format", "text", "--output", str(out), "--results-dir", str(report_results)
    )
    assert written.exit_code == 0 and written.stderr == f"wrote {out}\n"
    assert out.read_text(encoding="utf-8") == written.stdout == result.stdout


def test_report_text_is_not_written_over_a_stored_run_nor_to_a_file_named_dash(
    report_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The text tear sheet's --output is checked as an HTML report's is: never over a stored run's file (which
    would damage the run it reports on), and '-' is refused rather than written as a file of that name."""
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    before = (run_dir / "metrics.json").read_bytes()
    args = ["report", run_dir.name, "--format", "text", "--results-dir", str(report_results)]
    result = invoke(*args, "--output", str(run_dir / "metrics.json"))
    assert result.exit_code == 2 and "the output is in a stored run's or sweep's directory" in result.stderr
    assert (run_dir / "metrics.json").read_bytes() == before and result.stdout == ""
    monkeypatch.chdir(tmp_path)
    for command in (args, ["compare", "--runs", run_dir.name, "--results-dir", str(report_results)]):
        dash = invoke(*command, "--output", "-")
        assert dash.exit_code == 2 and "the output '-' would be a file named '-', not stdout" in dash.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_text_refuses_png(report_results: Path, tmp_path: Path) -> None:
    args = ["latest", "--format", "text", "--png", str(tmp_path / "png"), "--results-dir", str(report_results)]
    result = invoke("report", *args)
    assert result.exit_code == 2 and "--png goes with --format html" in result.stderr
    assert result.stdout == "" and list(tmp_path.iterdir()) == []


def test_the_stored_tearsheet_is_what_the_stored_tables_give(report_results: Path) -> None:
    from engine.render.tearsheet_text import run_tearsheet
    from engine.store.rundir import dumps_json

    for config in ("corr_breakdown", "static_60_40"):
        run = load_run(stored_run_dir(report_results, config))
        metrics = {k: v for k, v in run.metrics.items() if k != "tearsheet"}
        assert dumps_json(run_tearsheet(dataclasses.replace(run, metrics=metrics))) == dumps_json(
            run.metrics["tearsheet"]
        )


def test_a_run_stored_before_the_tear_sheet_has_one_computed_without_the_currency(
    report_results: Path, tmp_path: Path
) -> None:
    from engine.render.tearsheet_text import CURRENCY_UNAVAILABLE, tearsheet_text

    old = tmp_path / "old"
    shutil.copytree(stored_run_dir(report_results, "corr_breakdown"), old)
    metrics = _metrics(old)
    stored = metrics.pop("tearsheet")
    (old / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    (old / "fx.parquet").unlink()
    manifest = json.loads((old / "run.json").read_text(encoding="utf-8"))  # written before run.json kept sums
    (old / "run.json").write_text(json.dumps({k: v for k, v in manifest.items() if k != "files"}), encoding="utf-8")
    run = load_run(old)
    assert run.fx is None and "tearsheet" not in run.metrics
    text = tearsheet_text(run)
    assert CURRENCY_UNAVAILABLE in text.splitlines()
    sections = tearsheet_sections(run)
    table = tables(page_html("t", sections))["contribution"]
    c = stored["contribution"]
    assert table.first_column() == ["us", "hk", "cash interest", "fees and slippage", "total return"]
    got = table.column("contribution")
    assert got[1] == pytest.approx(c["hk"] + c["currency"], abs=1e-12)  # the currency stays in the HKD asset
    assert got[0] == pytest.approx(c["us"], abs=1e-12) and got[2:4] == [c["cash_interest"], c["costs"]]
    assert escape(CURRENCY_UNAVAILABLE) in page_html("t", sections)


def test_tearsheet_sections_show_the_stored_numbers(report_results: Path) -> None:
    run = load_run(stored_run_dir(report_results, "corr_breakdown"))
    ts = run.metrics["tearsheet"]
    figs: dict = {}
    sections = tearsheet_sections(run, figs)
    assert [s.anchor for s in sections] == [
        "monthly", "worst-drawdowns", "rolling-beta", "daily-stats", "switches", "contribution",
    ]  # fmt: skip
    html = page_html("t", sections)
    got = tables(html)
    assert got["monthly"].column("year") == [m["year"] for m in ts["monthly_returns"].values()]
    for m in range(1, 13):
        assert got["monthly"].column(str(m)) == [y.get(str(m)) for y in ts["monthly_returns"].values()]
    assert got["worst-drawdowns"].column("depth") == [d["depth"] for d in ts["worst_drawdowns"]]
    assert got["holdings"].column("return") == [h["return"] for h in ts["holdings"]]
    assert got["switch-stats"].column("win_rate") == [ts["switch_stats"]["win_rate"]]
    c = ts["contribution"]
    assert got["contribution"].column("contribution") == [*c.values(), run.metrics["strategy"]["total_return"]]
    assert got["contribution"].first_column()[:3] == ["us (local)", "hk (local)", "currency"]
    assert got["rolling-beta"].column("last") == [
        ts["rolling"][a][w]["last"] for a in ("us", "hk") for w in ("correlation", "beta")
    ]
    (fig,) = [f for f in figures(html).values()]
    assert list(figs) == ["rolling_beta"] and len(fig["data"]) == 4  # correlation and beta to us and hk


def test_report_text_of_a_run_under_a_year_prints_no_annualised_figure(tmp_path: Path) -> None:
    results = tmp_path / "results"
    args = ["--source", "synthetic", "--start", "2020-01-01", "--end", "2020-06-30", "--results-dir", str(results)]
    assert invoke("run", str(CONFIGS / "relative_momentum.yaml"), *args).exit_code == 0
    result = invoke("report", "latest", "--format", "text", "--results-dir", str(results))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "Total ret" in line)
    header, row = lines[at : at + 2]
    assert header.split()[:4] == ["Total", "ret", "CAGR", "Vol"]
    total, cagr, vol = row.split()[1:4]
    assert total.endswith("%") and cagr == "–" and vol == "–"
    assert "no annualised figure is shown" in " ".join(result.stdout.split())


@pytest.mark.parametrize("synthetic", [True, False])
def test_png_images_of_a_synthetic_page_carry_the_label(synthetic: bool, tmp_path: Path, monkeypatch) -> None:
    """An image leaves its page: from synthetic data, each figure drawn for --png carries the banner's words
    (the figure on the page is unchanged); from market data, none does."""
    import kaleido
    import plotly.graph_objects as go

    from engine.render.html import files
    from engine.render.html.page import SYNTHETIC_BANNER, Report, page_html

    drawn: list[go.Figure] = []

    def capture(jobs, **kwargs) -> None:  # type: ignore[no-untyped-def]
        for job in jobs:
            drawn.append(job["fig"])
            Path(job["path"]).write_bytes(b"png")

    monkeypatch.setattr(kaleido, "write_fig_from_object_sync", capture)
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    html = page_html("t", [], banner=SYNTHETIC_BANNER if synthetic else None)
    written = files.write_report(
        Report("t", html, {"equity": fig}), tmp_path / "r.html", png_dir=tmp_path / "png", browser="chromium"
    )
    assert [p.name for p in written] == ["r.html", "equity.png"]
    texts = [a.text for a in drawn[0].layout.annotations]
    assert (f"<b>{SYNTHETIC_BANNER}</b>" in texts) is synthetic
    assert not fig.layout.annotations  # the page's own figure is left as it was


def test_the_trades_table_names_the_currency_of_each_money_column(report_results: Path) -> None:
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    html = run_report(load_run(run_dir)).html
    table = tables(html)["trades"]
    assert table.headers == [
        "Date",
        "Asset",
        "Side",
        "Quantity",
        "Price (USD)",
        "Value (USD)",
        "Fees (USD)",
        "Quoted price (local)",
    ]
    assert "Quoted price: the exchange&#x27;s price in the asset&#x27;s own currency (us USD, hk HKD)." in html
    assert "for an asset with a dividend_yield its accrued dividends too" in html  # Price is the unit value held
    assert "adjusted for dividends" not in html  # closes of indexes


def test_the_trades_table_says_an_adjusted_close_is_not_the_exchange_s_tape(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run = ["run", str(CONFIGS / "etf_pair_us.yaml"), "--source", "synthetic", "--start", "2012-01-01"]
    assert invoke(*run, "--end", "2012-12-31", "--results-dir", str(results)).exit_code == 0
    html = run_report(load_run(stored_run_dir(results, "etf_pair_us"))).html
    assert "(spy USD, ewh USD); adjusted for dividends and splits for spy, ewh (price: adj_close)." in html


def test_a_run_directory_as_a_command_prints_it_names_the_run(
    report_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    by_id = invoke("report", run_dir.name, "--format", "text", "--results-dir", str(report_results))
    monkeypatch.chdir(report_results.parent)
    for given in (str(run_dir), f"{report_results.name}/{run_dir.parent.name}/{run_dir.name}/"):  # either spelling
        result = invoke("report", given, "--format", "text", "--results-dir", str(report_results))
        assert result.exit_code == 0 and result.stdout == by_id.stdout, result.stderr
    other = next(d for d in report_results.glob("*/*") if (d / "run.json").is_file() and d != run_dir)
    compared = invoke("compare", "--runs", f"{run_dir},{other.name}", "--results-dir", str(report_results))
    assert compared.exit_code == 0, compared.stderr
    twice = invoke("compare", "--runs", f"{run_dir},{run_dir.name}", "--results-dir", str(report_results))
    assert twice.exit_code == 2 and f"run {run_dir.name} of config 'corr_breakdown' is given twice" in twice.stderr
    elsewhere = tmp_path / "other"
    assert invoke("run", str(CONFIGS / "buy_hold_us.yaml"), "--source", "synthetic", "--results-dir", str(elsewhere))
    (foreign,) = elsewhere.glob("buy_hold_us/*/run.json")
    refused = invoke("report", str(foreign.parent), "--format", "text", "--results-dir", str(report_results))
    assert refused.exit_code == 2 and len(refused.stderr.splitlines()) == 1
    assert f"run directory '{foreign.parent}' is not in this store: give the --results-dir" in refused.stderr
    monkeypatch.chdir(run_dir)  # the directory itself, as "."
    here = invoke("report", ".", "--format", "text", "--results-dir", str(report_results))
    assert here.exit_code == 0 and here.stdout == by_id.stdout, here.stderr
    not_a_run = invoke("report", str(run_dir.parent), "--format", "text", "--results-dir", str(report_results))
    assert not_a_run.exit_code == 2
    assert f"'{run_dir.parent}' is a directory but not a run directory (it has no run.json)" in not_a_run.stderr
    monkeypatch.chdir(tmp_path)
    (tmp_path / run_dir.name).mkdir()  # a directory named like the id, not a run: the id is still an id
    again = invoke("report", run_dir.name, "--format", "text", "--results-dir", str(report_results))
    assert again.exit_code == 0 and again.stdout == by_id.stdout, again.stderr
    too_long = invoke("report", "x" * 300 + "/y", "--format", "text", "--results-dir", str(report_results))
    assert too_long.exit_code == 2 and "no stored run matches" in too_long.stderr
    missing = invoke("report", "./nope/x", "--format", "text", "--results-dir", str(report_results))
    assert missing.exit_code == 2 and "'./nope/x': no such run directory" in missing.stderr
    empty = invoke("report", str(run_dir), "--format", "text", "--results-dir", str(tmp_path / "empty"))
    assert empty.exit_code == 2 and len(empty.stderr.splitlines()) == 1
    assert f"run directory '{run_dir}' is not in this store (nothing is stored under" in empty.stderr
    assert "give the --results-dir (or --store) that holds it" in empty.stderr


def test_a_partial_years_monthly_row_is_marked_in_the_html_and_the_text(tmp_path: Path) -> None:
    """A run from March 2012 to June 2013 covers both years in part: their Year cell compounds only the months the
    run has, and both tear sheets (HTML and text) say which years those are; a whole year is not marked."""
    results = tmp_path / "results"
    args = ["--source", "synthetic", "--start", "2012-03-01", "--end", "2014-06-30", "--results-dir", str(results)]
    assert invoke("run", str(CONFIGS / "buy_hold_us.yaml"), *args).exit_code == 0
    out = tmp_path / "run.html"
    assert invoke("report", "latest", "--output", str(out), "--results-dir", str(results)).exit_code == 0
    got = tables(out.read_text(encoding="utf-8"))
    assert got["monthly"].first_column() == ["2012 (partial)", "2013", "2014 (partial)"]
    bars = figures(out.read_text(encoding="utf-8"))["fig-years"]["data"][0]["x"]  # the chart names them alike
    assert bars == ["2012 (partial)", "2013", "2014 (partial)"]
    text = invoke("report", "latest", "--format", "text", "--results-dir", str(results))
    assert text.exit_code == 0, text.stderr
    rows = [line.split()[0] for line in text.stdout.splitlines() if re.match(r"20\d\d\*? ", line)]
    assert rows == ["2012*", "2013", "2014*"]
    assert "* a partial year" in text.stdout
