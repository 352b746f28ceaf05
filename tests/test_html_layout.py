"""Issue 15 (HTML): the pages' size, their plotly.js bundle, one colour scale per metric, and their layout in Chromium.

* plotly.js is the vendored cartesian partial bundle, the version plotly.py expects (a plotly upgrade
  fails here until the bundle is replaced), and it has every trace type the reports draw.
* A 25-year comparison of the fifteen shipped strategies on the real data is under 4 MB.
* Every heatmap of one metric on a page has the same colour range, symmetric about 0 on red-yellow-green when it
  holds both signs, one green when it holds one.
* In Chromium at 1280 px (and 1920 px): the page never scrolls sideways (a wide table scrolls in its own
  box), and no two text labels of a chart overlap (risk-return, folds, signals' thresholds).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs_version

from engine.render.html import charts, labels
from engine.render.html.page import (
    PLOTLY_BUNDLE,
    Cell,
    Section,
    facts_html,
    figure_html,
    page_html,
    paragraphs,
    plotly_js,
    plotly_js_version,
    table_html,
)
from engine.render.html.series import Threshold
from tests.conftest import CONFIGS, REPO, stored_run_dir
from tests.report_html import array, figures
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.test_report import invoke

ASSETS = REPO / "engine" / "render" / "html" / "assets"
MAX_PAGE_BYTES = 4_000_000


# ---------------------------------------------------------------------------------------------- the bundle


def test_the_vendored_bundle_is_the_plotly_js_that_plotly_py_expects() -> None:
    assert plotly_js_version() == get_plotlyjs_version()  # plotly upgraded: vendor its cartesian bundle again
    assert "Permission is hereby granted" in (ASSETS / "plotly-cartesian.LICENSE").read_text(encoding="utf-8")


def test_a_non_editable_install_ships_the_bundle() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = declared["package-data"]["engine.render.html"]
    for name in (PLOTLY_BUNDLE, "plotly-cartesian.LICENSE"):
        assert any(Path("assets", name).match(p) for p in patterns), name


def _report_pages(report_results: Path, sweep_reports: dict, tmp_path: Path) -> dict[str, str]:
    run, cmp = tmp_path / "run.html", tmp_path / "cmp.html"
    run_dir = stored_run_dir(report_results, "spread_reversion")
    assert invoke("report", run_dir.name, "--results-dir", str(report_results), "--output", str(run)).exit_code == 0
    args = ["compare", "--runs", "latest", "--results-dir", str(report_results), "--reps", "100"]
    assert invoke(*args, "--format", "html", "--output", str(cmp)).exit_code == 0
    pages = {"run": run, "compare": cmp, "sweep": sweep_reports["sweep_html"], "wf": sweep_reports["walkforward_html"]}
    return {k: p.read_text(encoding="utf-8") for k, p in pages.items()}


def test_the_bundle_has_every_trace_type_the_reports_draw(
    report_results: Path, sweep_reports: dict, tmp_path: Path
) -> None:
    bundled = set(re.findall(r'moduleType:"trace",name:"(\w+)"', plotly_js()))
    pages = _report_pages(report_results, sweep_reports, tmp_path).values()
    used = {t.get("type", "scatter") for html in pages for fig in figures(html).values() for t in fig["data"]}
    assert used == {"scatter", "bar", "heatmap"}
    assert used <= bundled
    for html in pages:
        assert html.count(plotly_js()) == 1  # inline, once


def test_a_long_date_axis_is_written_once_per_page(report_results: Path) -> None:
    from engine.render.html import run_report
    from engine.store.rundir import load_run

    html = run_report(load_run(stored_run_dir(report_results, "corr_breakdown"))).html
    tables = re.findall(r'<script type="application/json" id="(seesaw-x-[0-9a-f]+)">', html)
    assert len(tables) == len(set(tables)) == 1  # every curve of every chart is on the run's dates
    dates = pd.read_csv(stored_run_dir(report_results, "corr_breakdown") / "equity.csv")["date"].tolist()
    assert html.count('"' + '","'.join(dates[:3])) == 1
    for fig in figures(html).values():  # and each trace still reads back as its dates
        for t in fig["data"]:
            assert not isinstance(t.get("x"), dict)


# ------------------------------------------------------------------------------------- thinning a long curve


def test_a_curve_longer_than_a_chart_is_drawn_through_its_extremes_and_says_so() -> None:
    dates = pd.bdate_range("2000-01-03", periods=6_300)
    walk = pd.Series(np.exp(np.random.default_rng(15).normal(0, 0.01, len(dates)).cumsum()), index=dates)
    fig = charts.equity_figure({"a": walk, "b": walk.iloc[:1_000]}, title="t", y_title="v")
    long, short = fig.data
    assert len(long.y) <= charts.MAX_POINTS + 2 and len(short.y) == 1_000  # a short curve: every date
    assert long.y.min() == walk.min() and long.y.max() == walk.max()  # every peak and trough is drawn
    assert (long.x[0], long.x[-1]) == ("2000-01-03", f"{dates[-1]:%Y-%m-%d}")
    assert pd.Series(long.y, index=pd.DatetimeIndex(long.x)).equals(walk.loc[pd.DatetimeIndex(long.x)])  # exact
    assert "lowest and highest value of every 6 dates" in fig.layout.xaxis.title.text  # said on the chart
    assert charts.equity_figure({"b": walk.iloc[:1_000]}, title="t", y_title="v").layout.xaxis.title.text is None


def test_no_two_curves_of_a_chart_share_a_colour_and_a_pattern() -> None:
    """A comparison of fifteen configs draws 31 curves, more than the palette's colours: a curve whose colour an
    earlier one of its kind has is drawn in another pattern; a benchmark stays dotted while no other has its colour."""
    dates = pd.bdate_range("2020-01-01", periods=3)
    names = [f"s{i}" for i in range(15)] + [f"b{i}" for i in range(16)]
    curves = {name: pd.Series([1.0, 1.1, 1.2], dates) for name in names}
    benchmarks = {n for n in names if n[0] == "b"}
    equity = charts.equity_figure(curves, title="t", y_title="v", dotted=benchmarks)
    for fig in (equity, charts.rolling_figure(curves, curves, rows=2, title="t")):
        drawn = [(t.line.color, t.line.dash) for t in fig.data if t.showlegend is not False]
        assert len(drawn) == 31 and len(set(drawn)) == 31, drawn
    dash = {t.name: t.line.dash for t in equity.data}
    assert [dash[f"s{i}"] for i in (0, 8, 9, 14)] == ["solid", "solid", "dash", "dash"]
    assert [dash[f"b{i}"] for i in (0, 2, 3, 8, 11, 12)] == ["dot", "dot", "dot", "dot", "dashdot", "dashdot"]


@pytest.mark.parametrize(
    ("lo", "hi", "labels"),
    [
        (60_000.0, 700_000.0, ["60k", "100k", "200k", "300k", "500k"]),  # 1-2-5 gives three: 1-2-3-5; 60k below
        (100_000.0, 3_000_000.0, ["100k", "200k", "500k", "1M", "2M", "3M"]),  # 3M: the top is 1.5 times 2M
        (1_000.0, 2e9, ["1k", "10k", "100k", "1M", "10M", "100M", "1G", "2G"]),  # powers of ten over six decades
        (0.42, 3.1, ["0.5", "1", "2", "3"]),
        (90_000.0, 110_000.0, ["90k", "100k"]),  # every digit, two ticks
        (95_000.0, 105_000.0, None),  # one would fall in the range: plotly's own ticks
    ],
)
def test_the_equity_axis_labels_each_tick_in_full(lo: float, hi: float, labels: list[str] | None) -> None:
    """Plotly labels a log axis between powers of ten with bare digits (``2`` for 200k): the equity chart
    gives its own ticks, every one inside the curves' range and written in full, and one more near an end of
    the range that runs on half as far again past the others (a run's 2003 and 2009 lows had no scale)."""
    dates = pd.bdate_range("2020-01-01", periods=3)
    fig = charts.equity_figure(
        {"a": pd.Series([lo, hi, np.nan], dates), "b": pd.Series([hi, lo, hi], dates)}, title="t", y_title="v"
    )
    if labels is None:
        assert fig.layout.yaxis.tickvals is None and fig.layout.yaxis.ticktext is None
        return
    assert list(fig.layout.yaxis.ticktext) == labels
    for value, text in zip(fig.layout.yaxis.tickvals, labels, strict=True):
        assert lo <= value <= hi
        number, unit = (text[:-1], text[-1]) if text[-1] in "kMG" else (text, "")
        assert value == pytest.approx(float(number) * {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}[unit], rel=1e-12)


# ------------------------------------------------------------------------------------------- colour scales


def test_every_heatmap_of_the_metric_has_one_colour_scale(sweep_reports: dict) -> None:
    heatmaps = [
        t for k, f in figures(sweep_reports["sweep_html"].read_text(encoding="utf-8")).items() if "heatmap" in k
        for t in f["data"]
    ]  # fmt: skip
    assert len(heatmaps) == 3
    z = np.concatenate([array(t["z"]).ravel() for t in heatmaps])
    low, high = float(np.nanmin(z)), float(np.nanmax(z))
    scale = {(t.get("zmin"), t.get("zmax"), t.get("zauto"), str(t.get("colorscale"))) for t in heatmaps}
    assert len(scale) == 1
    ((zmin, zmax, zauto, colours),) = scale
    assert zauto is False
    if low < 0 < high:  # Sharpe of both signs: 0 is the middle colour, losses red
        assert zmin == -zmax == -max(-low, high)
        assert re.findall(r"rgb\([^)]*\)", colours)[0] == "rgb(165,0,38)"  # RdYlGn: red at the bottom
    else:  # one sign: one green, the worst cell pale, not red
        assert (zmin, zmax) == (low, high)
        assert re.findall(r"rgb\([^)]*\)", colours)[0] == "rgb(247,252,245)"  # Greens: pale at the bottom


# --------------------------------------------------------------------------------------------- page size


@pytest.fixture(scope="module")
def real_compare(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The comparison of the fifteen shipped strategies (configs/*.yaml) on the real data, 2001-07-16 to its end."""
    root = tmp_path_factory.mktemp("real-compare")
    out = root / "compare.html"
    configs = sorted(str(p) for p in CONFIGS.glob("*.yaml"))
    assert len(configs) == 15
    result = invoke(
        "compare", *configs, "--source", "csv", "--data-dir", str(data_dir), "--start", "2001-07-16",
        "--allow-mixed", "--reps", "100", "--results-dir", str(root / "results"), "--format", "html",
        "--output", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return out


@pytest.mark.realdata
@pytest.mark.slow
def test_a_25_year_comparison_of_the_shipped_strategies_is_under_4_mb(real_compare: Path) -> None:
    html = real_compare.read_text(encoding="utf-8")
    figs = figures(html)
    first, last = figs["fig-equity"]["data"][0]["x"][0], figs["fig-equity"]["data"][0]["x"][-1]
    assert first == "2001-07-16" and int(last[:4]) >= 2025  # 25 years
    assert len([r for r in figs["fig-risk-return"]["data"][0]["text"]]) == 15  # every shipped strategy
    assert real_compare.stat().st_size < MAX_PAGE_BYTES


# ---------------------------------------------------------------------------------------- in the browser

_ALL_DRAWN = "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout && d.data)"
_LABEL_BOXES = """(id) => [...document.querySelectorAll(
    `#${id} .annotation-text, #${id} .textpoint text, #${id} .legendtext, #${id} .gtitle`)]
  .map(e => e.getBoundingClientRect()).filter(r => r.width > 0)
  .map(r => [r.left, r.top, r.right, r.bottom])"""


def _open(chromium: Any, html: Path, width: int) -> tuple[Any, list[str]]:
    page = chromium.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.goto(html.as_uri())
    page.wait_for_function(_ALL_DRAWN, timeout=30_000)
    return page, problems


def _overlapping(boxes: list[list[float]]) -> list[tuple[list[float], list[float]]]:
    return [
        (a, b)
        for a, b in itertools.combinations(boxes, 2)
        if min(a[2], b[2]) - max(a[0], b[0]) > 0.5 and min(a[3], b[3]) - max(a[1], b[1]) > 0.5
    ]


@pytest.fixture(scope="module")
def pages(report_results: Path, sweep_reports: dict, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    root = tmp_path_factory.mktemp("layout")
    out = {"sweep": sweep_reports["sweep_html"], "walkforward": sweep_reports["walkforward_html"]}
    for config in ("corr_breakdown", "spread_reversion"):
        out[config] = root / f"{config}.html"
        run = stored_run_dir(report_results, config).name
        assert invoke("report", run, "--results-dir", str(report_results), "--output", str(out[config])).exit_code == 0
    out["compare"] = root / "compare.html"
    args = ["compare", "--runs", "latest", "--results-dir", str(report_results), "--reps", "100"]
    assert invoke(*args, "--format", "html", "--output", str(out["compare"])).exit_code == 0
    out["heatmap"] = root / "heatmap.html"
    heat = ["sweep", str(sweep_reports["config"]), "--results-dir", str(sweep_reports["results"]), "--reps", "100"]
    assert invoke(*heat, "--heatmap", "window,cut", "--output", str(out["heatmap"])).exit_code == 0
    yield out


_FIGURES_WITH_LABELS = {
    "compare": ["fig-risk-return"],
    "walkforward": ["fig-walkforward-is-oos"],
    "corr_breakdown": ["fig-signal-corr", "fig-signal-mom", "fig-rolling"],  # rolling: legend and panel titles
    "spread_reversion": ["fig-signal-z"],
}


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1920])
@pytest.mark.parametrize("kind", ["compare", "corr_breakdown", "spread_reversion", "sweep", "walkforward", "heatmap"])
def test_the_page_never_scrolls_sideways_and_no_labels_overlap(
    browser: Any,  # noqa: F811
    pages: dict,
    kind: str,
    width: int,
) -> None:
    page, problems = _open(browser, pages[kind], width)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for table in page.locator("table").all():  # a table wider than its box scrolls inside the box
        box = page.evaluate("(t) => t.parentElement.getBoundingClientRect().right", table.element_handle())
        assert box <= width
    for fig in _FIGURES_WITH_LABELS.get(kind, []):
        boxes = page.evaluate(_LABEL_BOXES, fig)
        assert boxes, fig
        assert _overlapping(boxes) == [], fig
    assert problems == []
    page.close()


def _crowded_page(path: Path) -> Path:
    """Risk-return points in a cluster (two at the same place) and a signal with thresholds close together."""
    rng = np.random.default_rng(15)
    points = [(f"strategy_number_{i}", "strategy", 0.15 + rng.normal(0, 0.004), 0.05 + rng.normal(0, 0.004))
              for i in range(12)]  # fmt: skip
    points += [("benchmark A", "benchmark", 0.16, 0.06), ("benchmark B", "benchmark", 0.16, 0.06)]
    dates = pd.bdate_range("2010-01-01", periods=300)
    signal = pd.Series(np.sin(np.arange(300) / 20) * 0.1, index=dates)
    lines = [Threshold("s", ">", 0.0, 0), Threshold("s", "<=", 0.0, 1), Threshold("s", "<", 0.004, 2)]
    rule = pd.Series(np.where(signal > 0, 1, 2), index=dates)
    figs = {
        "fig-risk-return": charts.risk_return_figure(points, title="crowded"),
        "fig-signal-s": charts.signal_figure("s", signal, lines, rule, ["s > 0", "s <= 0", "s < 0.004"]),
    }
    tall = {"fig-risk-return": labels.is_tall_risk_return(points)}  # as the compare page embeds it
    body = "".join(figure_html(f, k, tall=tall.get(k, False)) for k, f in figs.items())
    path.write_text(page_html("crowded", [Section("s", "crowded", body)]), encoding="utf-8")
    return path


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 1920])
def test_wide_tables_and_long_unbroken_text_never_widen_the_page(
    browser: Any,  # noqa: F811
    tmp_path: Path,
    width: int,
) -> None:
    long = "/results/" + "a_very_long_directory_name_without_spaces" * 12
    headers = [f"column number {i}" for i in range(40)]
    rows = [[Cell(f"{i * j:,}", value=i * j, key=f"c{j}") for j in range(40)] for i in range(30)]
    body = (
        facts_html([("stored in", long), ("fingerprints", long.replace("/", ","))])
        + table_html(headers, rows, table_id="t-wide")
        + table_html(headers, rows, table_id="t-tall", scroll=True, sortable=True)
        + paragraphs([long])
    )
    path = tmp_path / "wide.html"
    path.write_text(page_html(long, [Section("wide", long, body)], subtitle=long), encoding="utf-8")
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(path.as_uri())
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    for table in ("t-wide", "t-tall"):  # each scrolls inside its own box
        assert page.evaluate(f"() => document.getElementById('{table}').parentElement.scrollWidth") > width
        assert page.evaluate(f"() => document.getElementById('{table}').parentElement.clientWidth") < width
    page.close()


@pytest.mark.browser
def test_labels_of_crowded_points_and_close_thresholds_do_not_overlap(browser: Any, tmp_path: Path) -> None:  # noqa: F811
    page, problems = _open(browser, _crowded_page(tmp_path / "crowded.html"), 1280)
    for fig in ("fig-risk-return", "fig-signal-s"):
        boxes = page.evaluate(_LABEL_BOXES, fig)
        assert len(boxes) >= 3, fig
        assert _overlapping(boxes) == [], fig
    labels = page.eval_on_selector_all("#fig-risk-return .annotation-text", "els => els.map(e => e.textContent)")
    assert "benchmark A = benchmark B" in labels  # two rows at one place: one label naming both
    assert problems == []
    page.close()


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.browser
def test_the_25_year_comparison_fits_1280_px_and_its_labels_do_not_overlap(
    browser: Any,  # noqa: F811
    real_compare: Path,
) -> None:
    page, problems = _open(browser, real_compare, 1280)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    boxes = page.evaluate(_LABEL_BOXES, "fig-risk-return")
    assert len(boxes) >= 10
    assert _overlapping(boxes) == []
    assert problems == []
    page.close()


@pytest.mark.realdata
@pytest.mark.browser
def test_a_25_year_walk_forward_s_tables_fit_1280_px_without_scrolling(
    browser: Any,  # noqa: F811
    data_dir: Path,
    tmp_path: Path,
) -> None:
    """Its fold table (dates, three parameters, six metrics) and its metrics table (a long name, the average
    weights) are read whole: a header wraps at its spaces before a table has to scroll in its box."""
    out = tmp_path / "walkforward.html"
    result = invoke(
        "walkforward", str(CONFIGS / "sweeps" / "corr_breakdown_sweep.yaml"), "--source", "csv", "--data-dir",
        str(data_dir), "--train", "5y", "--test", "1y", "--results-dir", str(tmp_path / "results"),
        "--report", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    page, problems = _open(browser, out, 1280)
    widths = page.evaluate(
        "() => Array.from(document.querySelectorAll('table'))"
        ".map(t => [t.id, t.scrollWidth, t.parentElement.clientWidth])"
    )
    assert {w[0] for w in widths} >= {"folds", "walkforward-metrics"}
    assert [w for w in widths if w[1] > w[2]] == []
    assert problems == []
    page.close()
