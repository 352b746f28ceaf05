"""The reports in a real browser: headless Chromium (Debian's ``chromium``, or ``$CHROMIUM``) driven by Playwright.

Each test writes a report with the ``seesaw`` command, opens it from disk (``file://``), waits
until plotly has drawn every chart, then checks the number of charts and of traces drawn in
each, the number of rows of each table, that the browser console shows no error, and that the
page asked for nothing from the network (it is self-contained).  A full-page screenshot of
each is saved under ``test-artifacts/`` (git-ignored).

``pytest -m browser`` runs these alone.  Without Chromium or Playwright they are skipped, and
under CI (``CI`` set) they fail instead: ``.ci/run`` installs Debian's chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.render.html.run import SIGNALS_MISSING
from tests.conftest import CONFIGS, REPO, stored_run_dir
from tests.report_html import RUN_FIGURES_WITHOUT_SIGNALS, figures
from tests.run_files import as_older
from tests.test_report import invoke

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
_ALL_DRAWN = "() => [...document.querySelectorAll('.plotly-graph-div')].every(d => d._fullLayout && d.data)"


def _missing(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def chromium_path() -> str:
    """``$CHROMIUM``, else ``/usr/bin/chromium``; skip (fail under CI) when it is not there."""
    path = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        _missing(f"Chromium not found at {path} (apt-get install chromium, or set CHROMIUM)")
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_report(browser: Any, html: Path, screenshot: str) -> tuple[Any, list[str]]:
    """Open ``html`` from disk, wait for every chart, save a screenshot; return the page and its problems."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("request", lambda req: None if req.url.startswith(("file:", "data:")) else problems.append(req.url))
    page.goto(html.as_uri())
    page.wait_for_function(_ALL_DRAWN, timeout=30_000)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    return page, problems


def drawn(page: Any) -> dict[str, int]:
    """{chart id: number of traces drawn in its SVG}."""
    return page.evaluate(
        "() => Object.fromEntries([...document.querySelectorAll('.plotly-graph-div')]"
        ".map(d => [d.id, d.querySelectorAll('g.trace').length]))"
    )


def rows(page: Any, table: str) -> int:
    return page.locator(f"#{table} tbody tr").count()


def test_run_report_renders_every_chart_and_table(browser: Any, report_results: Path, tmp_path: Path) -> None:
    run_dir = stored_run_dir(report_results, "corr_breakdown")
    out = tmp_path / "run.html"
    result = invoke("report", run_dir.name, "--results-dir", str(report_results), "--output", str(out))
    assert result.exit_code == 0, result.stderr
    expected = {k: len(v["data"]) for k, v in figures(out.read_text(encoding="utf-8")).items()}
    assert list(expected) == [
        *("fig-equity", "fig-drawdown", "fig-weights", "fig-signal-corr", "fig-signal-mom", "fig-rolling", "fig-years"),
        "fig-rolling-beta",  # the tear sheet's rolling correlation and beta
    ]
    page, problems = open_report(browser, out, "run_report.png")
    assert drawn(page) == expected
    assert page.locator(".js-plotly-plot").count() == 8
    for table in ("monthly", "worst-drawdowns", "holdings", "contribution"):
        assert rows(page, table) > 0, table
    assert page.locator("#fig-signal-corr .shapelayer path").count() == 1  # the threshold line at 0.2
    assert rows(page, "metrics") == 4  # the strategy and its three benchmarks
    assert rows(page, "years") == 5
    assert rows(page, "trades") == len(pd.read_csv(run_dir / "trades.csv")) > 0
    assert page.locator("#synthetic-banner").is_visible()
    assert problems == []
    page.close()


def test_a_long_runs_metrics_fit_a_1280_pixel_window(browser: Any, tmp_path: Path) -> None:
    """Twenty-four years: four-digit returns, six-digit fees, seven-digit values.  In a laptop's window the
    metrics table is whole, without scrolling sideways (its period is the page's, the weights may wrap)."""
    results = tmp_path / "results"
    config = str(CONFIGS / "corr_breakdown.yaml")
    assert invoke("run", config, "--source", "synthetic", "--results-dir", str(results)).exit_code == 0
    out = tmp_path / "long.html"
    assert invoke("report", "latest", "--results-dir", str(results), "--output", str(out)).exit_code == 0
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(out.as_uri())
    page.wait_for_function(_ALL_DRAWN, timeout=30_000)
    table_right, window = page.evaluate(
        "() => [document.querySelector('table#metrics').getBoundingClientRect().right, window.innerWidth]"
    )
    assert table_right <= window - 24, (table_right, window)  # inside the page's margin
    page.close()


def test_report_of_a_run_without_stored_signals_renders(browser: Any, report_results: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(report_results / "corr_breakdown", results / "corr_breakdown")
    old = stored_run_dir(results, "corr_breakdown")
    (old / "signals.parquet").unlink()  # as written before Seesaw stored signals
    as_older(old)  # and before it recorded its files' sums
    out = tmp_path / "old.html"
    result = invoke("report", "latest", "--results-dir", str(results), "--output", str(out))
    assert result.exit_code == 0, result.stderr
    page, problems = open_report(browser, out, "run_report_without_signals.png")
    assert list(drawn(page)) == RUN_FIGURES_WITHOUT_SIGNALS
    assert page.get_by_text(SIGNALS_MISSING).is_visible()  # said, not faked
    assert problems == []
    page.close()


def test_compare_report_renders_every_chart_and_table(browser: Any, report_results: Path, tmp_path: Path) -> None:
    out = tmp_path / "compare.html"
    args = ["--runs", "latest", "--results-dir", str(report_results), "--reps", "200"]
    result = invoke("compare", *args, "--format", "html", "--output", str(out))
    assert result.exit_code == 0, result.stderr
    expected = {k: len(v["data"]) for k, v in figures(out.read_text(encoding="utf-8")).items()}
    assert list(expected) == ["fig-equity", "fig-drawdown", "fig-risk-return", "fig-sharpe-interval"]
    page, problems = open_report(browser, out, "compare_report.png")
    assert drawn(page) == expected
    n_rows = expected["fig-equity"]  # one curve per row: 3 strategies and the distinct benchmarks
    assert rows(page, "compare") == n_rows == 6
    assert rows(page, "years") == n_rows
    assert rows(page, "statistics") == 3
    labels = page.eval_on_selector_all("#fig-risk-return .annotation-text", "els => els.map(e => e.textContent)")
    names = page.locator("#compare tbody tr td:first-child").all_inner_texts()
    assert sorted(n for label in labels for n in label.split(" = ")) == sorted(names)  # every row named, once
    # a table wider than the page scrolls sideways with its names in view (they scrolled away with the numbers)
    page.set_viewport_size({"width": 700, "height": 900})
    box = page.locator("#compare").evaluate("t => t.parentElement.getBoundingClientRect().left")
    page.locator("#compare").evaluate("t => { t.parentElement.scrollLeft = 400; }")
    page.wait_for_timeout(100)
    name_left = page.locator("#compare tbody tr:first-child td:first-child").evaluate(
        "c => c.getBoundingClientRect().left"
    )
    assert page.locator("#compare").evaluate("t => t.parentElement.scrollLeft") > 0
    assert abs(name_left - box) < 2, (name_left, box)
    assert problems == []
    page.close()


@pytest.mark.parametrize(("chart", "curves"), [("equity", 8), ("equity", 27), ("equity", 40), ("rolling", 18)])
def test_every_legend_entry_of_a_chart_of_many_curves_is_in_view(
    browser: Any, tmp_path: Path, chart: str, curves: int
) -> None:
    """A compare of every shipped config draws 27 curves: each legend entry lies inside the figure, none scrolled
    out of it (plotly scrolls a legend taller than its plot), the plot fills its box, and the figure does not
    overlap what follows; also a tall figure of two panels whose legend groups each curve's two lines, and whose
    margins its caller widens after the house style."""
    import numpy as np
    import pandas as pd

    from engine.render.html import charts
    from engine.render.html.page import Section, figure_html, page_html

    dates = pd.bdate_range("2020-01-01", periods=300)
    series = {
        f"config_number_{i}": pd.Series(np.linspace(1, 1 + i / 10, len(dates)), index=dates) for i in range(curves)
    }
    if chart == "equity":
        fig = charts.equity_figure(series, title="t", y_title="y", dotted=[f"config_number_{curves - 1}"])
    else:
        fig = charts.rolling_figure(series, series, rows=63, title="t")
    body = figure_html(fig, "fig-equity", tall=chart == "rolling")
    html = page_html("legend", [Section("equity", "E", body), Section("after", "A", "<p>x</p>")])
    out = tmp_path / "legend.html"
    out.write_text(html, encoding="utf-8")
    page, problems = open_report(browser, out, f"legend_{chart}_{curves}.png")
    figure = page.locator("#fig-equity").evaluate("d => d.getBoundingClientRect().bottom")
    entries = page.eval_on_selector_all(
        "#fig-equity .legend .traces", "els => els.map(e => e.getBoundingClientRect().bottom)"
    )
    assert len(entries) == curves
    assert max(entries) <= figure, (max(entries), figure)
    assert (
        page.locator("#fig-equity .legend .scrollbar").evaluate_all("els => els.filter(e => e.getBBox().height > 0)")
        == []
    )
    after = page.locator("#section-after").evaluate("s => s.getBoundingClientRect().top")
    drawn = page.locator("#fig-equity .main-svg").first.evaluate("s => s.getBoundingClientRect().bottom")
    assert after >= figure and abs(drawn - figure) < 2, (after, drawn, figure)  # the plot fills its box
    assert problems == []
    page.close()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_writes_each_chart_with_kaleido_and_chromium(report_results: Path, tmp_path: Path) -> None:
    chromium = chromium_path()
    run_dir = stored_run_dir(report_results, "spread_reversion")
    out, png = tmp_path / "run.html", tmp_path / "png"
    result = invoke(
        "report", run_dir.name, "--results-dir", str(report_results), "--output", str(out), "--png", str(png),
        env={"CHROMIUM": chromium},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    names = ["equity", "drawdown", "weights", "signal_z", "rolling", "years", "rolling_beta"]
    assert sorted(p.name for p in png.iterdir()) == sorted(f"{n}.png" for n in names)  # no staging left
    assert result.stdout.splitlines() == [f"wrote {out}", *(f"wrote {png / n}.png" for n in names)]
    for name in names:
        assert _png_size(png / f"{name}.png") == (1200, 650)


def _first_combo(page: Any) -> int:
    return int(page.locator("#combinations tbody tr").first.locator("td[data-key=combo]").inner_text())


def test_sweep_report_renders_every_chart_and_sorts_its_table(browser: Any, sweep_reports: dict) -> None:
    html = sweep_reports["sweep_html"]
    expected = {k: len(v["data"]) for k, v in figures(html.read_text(encoding="utf-8")).items()}
    assert list(expected) == [
        "fig-heatmap-window-cut", "fig-heatmap-window-execution-lag", "fig-heatmap-cut-execution-lag",
        "fig-pbo", "fig-walkforward-is-oos", "fig-walkforward-equity",
    ]  # fmt: skip
    page, problems = open_report(browser, html, "sweep_report.png")
    heatmaps = [k for k in expected if k.startswith("fig-heatmap")]
    assert drawn(page) == {k: 0 if k in heatmaps else n for k, n in expected.items()}  # scatter and bar traces
    for fig in heatmaps:  # a heatmap is drawn as an image in its own layer, not a g.trace
        assert page.locator(f"#{fig} .heatmaplayer g.hm image").count() == expected[fig] == 1
    assert page.locator(".js-plotly-plot").count() == 6
    assert page.locator("#fig-pbo g.point").count() == 20  # a bar per stored histogram bin
    assert rows(page, "top") == 5
    assert rows(page, "combinations") == 12
    assert rows(page, "folds") == len(sweep_reports["walkforward"]["folds"]) == 4
    assert rows(page, "walkforward-metrics") == 2  # the stitched run and its benchmark
    assert page.locator("#synthetic-banner").is_visible()

    combos = pd.read_parquet(next((sweep_reports["results"] / "report_sweep" / "sweeps").iterdir()) / "combos.parquet")
    assert _first_combo(page) == int(combos.loc[combos["sharpe"].idxmax(), "combo"])  # as written: by --sort
    header = page.locator("#combinations thead th", has_text=re.compile(r"^Vol$"))  # ann_vol, headed as compare does
    header.click()
    assert _first_combo(page) == int(combos.loc[combos["ann_vol"].idxmin(), "combo"])
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()  # again: reversed
    assert _first_combo(page) == int(combos.loc[combos["ann_vol"].idxmax(), "combo"])
    assert header.get_attribute("aria-sort") == "descending"
    page.locator("#combinations thead th", has_text="combo").click()
    assert _first_combo(page) == 0
    assert rows(page, "combinations") == 12  # sorting moves rows, never drops one
    ranks = page.locator("#top tbody td[data-key=rank]").all_inner_texts()
    page.locator("#top thead th", has_text="#").click()  # the top table sorts too; its order is already 1..5
    page.locator("#top thead th", has_text="#").click()
    assert page.locator("#top tbody td[data-key=rank]").all_inner_texts() == list(reversed(ranks))
    page.screenshot(path=str(ARTIFACTS / "sweep_report_sorted.png"), full_page=False)
    assert problems == []
    page.close()


def test_walkforward_report_renders_every_chart_and_table(browser: Any, sweep_reports: dict) -> None:
    html = sweep_reports["walkforward_html"]
    expected = {k: len(v["data"]) for k, v in figures(html.read_text(encoding="utf-8")).items()}
    assert list(expected) == ["fig-walkforward-is-oos", "fig-walkforward-equity"]
    page, problems = open_report(browser, html, "walkforward_report.png")
    assert drawn(page) == expected
    assert page.locator("#fig-walkforward-is-oos .textpoint").count() == 0  # a fold's number is its colour
    assert page.locator("#fig-walkforward-is-oos .colorbar").count() == 1  # one colour bar: fold 0..3
    assert rows(page, "folds") == 4
    assert rows(page, "walkforward-metrics") == 2
    assert problems == []
    page.close()


def test_sweep_png_writes_each_chart(sweep_reports: dict, tmp_path: Path) -> None:
    chromium = chromium_path()
    out, png = tmp_path / "sweep.html", tmp_path / "png"
    result = invoke(
        "sweep", str(sweep_reports["config"]), "--results-dir", str(sweep_reports["results"]), "--reps", "200",
        "--top", "3", "--report", str(out), "--png", str(png), env={"CHROMIUM": chromium},
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "reused" in result.stdout  # the stored sweep: only the report is new
    names = ["heatmap_window_cut", "heatmap_window_execution-lag", "heatmap_cut_execution-lag", "pbo"]
    names += ["walkforward_is_oos", "walkforward_equity"]
    assert sorted(p.name for p in png.iterdir()) == sorted(f"{n}.png" for n in names)
    assert result.stdout.splitlines()[-7:] == [f"wrote {out}", *(f"wrote {png / n}.png" for n in names)]
    for name in names:
        assert _png_size(png / f"{name}.png") == (1200, 650)
