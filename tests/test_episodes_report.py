"""The report of ``seesaw episodes … --report FILE``: one self-contained page whose numbers are the command's.

Each page is written by the command itself (typer's runner, as ``tests/test_report.py`` does) with
``--format json``, so the page can be compared with what the command printed and stored: the tables
cell by cell (``data-value``), the charts trace by trace (``tests/report_html.py`` reads both back with
the standard library).  The growth curves of each episode's chart are checked against the stored
forward returns: every dot sits on its curve.  One test opens the page in headless Chromium
(``tests/test_browser.py``'s fixture and helpers; marked ``browser``), one runs on the real data
(``data_dir``: skipped locally without it, failing under CI).
"""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.episode_study import HORIZONS
from engine.render.episodes_text import percentile_text
from engine.render.html.episodes import MAX_EPISODE_CHARTS
from tests.conftest import CONFIGS
from tests.report_html import array, figures, tables
from tests.test_browser import browser, drawn, open_report, rows  # noqa: F401  (browser: a fixture)
from tests.test_report import invoke

CONFIG = str(CONFIGS / "episodes" / "hsi_spx_divergence.yaml")
BASE = ["episodes", CONFIG, "--signal", "corr", "--low", "--format", "json"]


def _episodes(tmp: Path, *options: str) -> dict[str, Any]:
    """Run the command with ``--report``; the page, the printed episodes and the stored ``episodes.json``."""
    out, results = tmp / "episodes.html", tmp / "results"
    result = invoke(*BASE, *options, "--report", str(out), "--results-dir", str(results))
    assert result.exit_code == 0, result.stderr
    assert f"wrote {out}" in result.stderr  # stdout stays JSON
    (stored,) = (results / "episodes").glob("*/episodes.json")
    html = out.read_text(encoding="utf-8")
    return {"path": out, "html": html, "printed": json.loads(result.stdout), "stored": json.loads(stored.read_text())}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _episodes(tmp_path_factory.mktemp("episodes"), "--source", "synthetic")


def _expected_figures(episodes: list[dict[str, Any]]) -> list[str]:
    return ["fig-history", "fig-study", *(f"fig-episode-{e['date']}" for e in episodes)]


def test_the_page_is_self_contained(synthetic: dict[str, Any]) -> None:
    html = synthetic["html"]
    assert html.count("* plotly.js v") == 1  # plotly's JavaScript once, inline
    assert "<script src" not in html and "<link" not in html and "@import" not in html
    bundle = re.search(r"<script>/\* plotly\.js v.*?</script>", html, re.S)
    assert bundle is not None
    rest = html[: bundle.start()] + html[bundle.end() :]  # the vendored bundle names its licence's URLs
    assert re.findall(r"https?://", rest) == []


def test_the_page_says_synthetic(synthetic: dict[str, Any]) -> None:
    html = synthetic["html"]
    assert synthetic["stored"]["synthetic"] is True
    assert 'id="synthetic-banner">SYNTHETIC DATA' in html
    assert "<dd>synthetic (SYNTHETIC)</dd>" in html  # the data source in the header
    assert synthetic["stored"]["data"]["fingerprint"] in html
    # the loaded dates start before the first observation (its windows' history): said, not called the data period
    data, first = synthetic["stored"]["data"], synthetic["stored"]["observations"]["first"]
    assert data["first_date"] < first and "data period" not in html
    assert f"<dd>{data['first_date']} → {data['last_date']}, the dates loaded (the signal's windows read" in unescape(
        html
    )


def test_one_chart_per_episode_and_the_two_summary_charts(synthetic: dict[str, Any]) -> None:
    episodes = synthetic["printed"]
    assert len(episodes) > 1
    assert list(figures(synthetic["html"])) == _expected_figures(episodes)
    assert synthetic["html"].count("Plotly.newPlot(") == len(episodes) + 2


def test_the_episode_table_is_the_printed_episodes(synthetic: dict[str, Any]) -> None:
    episodes = synthetic["printed"]
    assert synthetic["stored"]["episodes"] == episodes
    table = tables(synthetic["html"])["episodes"]
    assert len(table.rows) == len(episodes)
    assert [row[1][0] for row in table.rows] == [e["date"] for e in episodes]
    for key in ("value", "ci_low", "ci_high", "bootstrap_low", "bootstrap_high", "rank", "percentile", "observations"):
        assert table.column(key) == [e[key] for e in episodes], key  # exact: data-value is repr(float)
    assert table.column("indistinguishable_count") == [e["indistinguishable"]["count"] for e in episodes]
    assert table.column("indistinguishable_share") == [e["indistinguishable"]["share"] for e in episodes]
    texts = [[text for text, _ in row] for row in table.rows]
    for row, e in zip(texts, episodes, strict=True):
        assert row[8] == percentile_text(e["percentile"])  # as the text output and the charts' titles write it
        assert row[9:13] == [e["most_extreme_since"] or "–", "yes" if e["record"] else "no", e["start"], e["end"]]
        assert row[15:17] == [e["indistinguishable"]["first"], e["indistinguishable"]["last"]]
    forward = tables(synthetic["html"])["forward"]
    for h in HORIZONS:
        assert forward.column(h) == [f[h] for e in episodes for f in e["forward"].values()], h


def test_the_event_study_table_and_chart_are_the_stored_summary(synthetic: dict[str, Any]) -> None:
    summary = synthetic["stored"]["summary"]
    table = tables(synthetic["html"])["study"]
    assert [(row[0][0], row[1][0]) for row in table.rows] == [(s, h) for s in summary for h in HORIZONS]
    for key in ("mean", "ci_low", "ci_high", "n_independent", "n_episodes", "others_mean", "n_others", "difference"):
        assert table.column(key) == [summary[s][h][key] for s in summary for h in HORIZONS], key
    traces = figures(synthetic["html"])["fig-study"]["data"]
    assert len(traces) == 2 * len(HORIZONS)  # per horizon: after episodes, other dates
    for i, h in enumerate(HORIZONS):
        after, others = traces[2 * i], traces[2 * i + 1]
        assert after["x"] == others["x"] == list(summary)
        mean = np.array([summary[s][h]["mean"] for s in summary], dtype=float)
        assert array(after["y"]).tolist() == mean.tolist()
        assert array(others["y"]).tolist() == [summary[s][h]["others_mean"] for s in summary]
        high = np.array([summary[s][h]["ci_high"] for s in summary], dtype=float)
        assert np.allclose(array(after["error_y"]["array"]), high - mean, rtol=0, atol=1e-15)


def test_the_history_chart_shades_each_episode_and_marks_its_peak(synthetic: dict[str, Any]) -> None:
    episodes = synthetic["printed"]
    fig = figures(synthetic["html"])["fig-history"]
    line, peaks = fig["data"]
    assert line["name"] == "corr" and line["x"][0] == synthetic["stored"]["observations"]["first"]
    assert peaks["x"] == [e["date"] for e in episodes]
    value = np.array([e["value"] for e in episodes])
    assert array(peaks["y"]).tolist() == value.tolist()
    low = np.array([e["ci_low"] for e in episodes])
    assert np.allclose(value - array(peaks["error_y"]["arrayminus"]), low, rtol=0, atol=1e-15)
    spans = [(s["x0"], s["x1"]) for s in fig["layout"]["shapes"]]
    assert spans == [(e["start"], e["end"]) for e in episodes]  # percentile rule: no threshold line
    first, last = pd.Timestamp(line["x"][0]), pd.Timestamp(line["x"][-1])
    low, high = (pd.Timestamp(v) for v in fig["layout"]["xaxis"]["range"])  # the data's dates, not plotly's padding
    assert first - (last - first) * 0.02 <= low <= first and last <= high <= last + (last - first) * 0.02


def test_each_growth_curve_starts_at_1_and_passes_through_the_stored_forward_returns(synthetic: dict[str, Any]) -> None:
    figs = figures(synthetic["html"])
    for e in synthetic["printed"]:
        traces = {t["name"]: t for t in figs[f"fig-episode-{e['date']}"]["data"]}
        assert traces["95% bootstrap band"]["x"] == [e["date"]]
        for name, forward in e["forward"].items():
            curve, dots = traces[name], traces[f"{name} 1m/3m/6m/12m"]
            y = array(curve["y"])
            assert y[0] == 1.0 and curve["x"][0] > e["start"]  # an asset: from its first close after the start
            on_curve = dict(zip(curve["x"], y.tolist(), strict=True))
            known = [r for r in forward.values() if r is not None]
            assert array(dots["y"]).tolist() == [1.0 + r for r in known]
            said = [
                f"{name}, {h} forward return: {r:+.1%} (growth {1 + r:.3f})"
                for h, r in forward.items()
                if r is not None
            ]
            assert dots["hovertext"] == said  # the horizon and the return in percent, as the table shows it
            for x, r in zip(dots["x"], known, strict=True):
                assert on_curve[x] == pytest.approx(1.0 + r, rel=1e-12), (e["date"], name, x)


def test_many_episodes_chart_only_the_most_extreme(tmp_path: Path) -> None:
    page = _episodes(tmp_path, "--source", "synthetic", "--percentile", "40", "--gap", "0")
    episodes = page["printed"]
    assert len(episodes) > MAX_EPISODE_CHARTS
    order = sorted(episodes, key=lambda e: (e["rank"], e["value"]))  # --low: among equal ranks, the lower value
    extreme = [e for e in episodes if e in order[:MAX_EPISODE_CHARTS]]
    assert order[MAX_EPISODE_CHARTS - 1]["rank"] < order[MAX_EPISODE_CHARTS]["rank"]  # the cut is not a tie
    assert list(figures(page["html"])) == _expected_figures(extreme)  # in date order
    assert len(tables(page["html"])["episodes"].rows) == len(episodes)  # the table keeps them all
    assert f"Charts for the {MAX_EPISODE_CHARTS} most extreme of the {len(episodes)} episodes" in page["html"]


def test_without_an_episode_the_page_says_so(tmp_path: Path) -> None:
    page = _episodes(tmp_path, "--source", "synthetic", "--threshold", "-0.99")
    assert page["printed"] == []
    assert list(figures(page["html"])) == ["fig-history"]  # the history with the threshold line, nothing else
    assert [s["y0"] for s in figures(page["html"])["fig-history"]["layout"]["shapes"]] == [-0.99]
    for text in ("No episode: no event study to chart.", "No episode: no observation", "No episode: no chart."):
        assert text in page["html"]


def test_a_report_in_a_missing_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "missing" / "episodes.html"
    result = invoke(*BASE, "--source", "synthetic", "--report", str(out), "--results-dir", str(tmp_path / "r"))
    assert result.exit_code == 2
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not out.parent.exists() and not (tmp_path / "r" / "episodes").exists()


@pytest.mark.browser
def test_the_report_renders_in_chromium(browser: Any, synthetic: dict[str, Any]) -> None:  # noqa: F811
    episodes = synthetic["printed"]
    expected = {k: len(v["data"]) for k, v in figures(synthetic["html"]).items()}
    assert list(expected) == _expected_figures(episodes)
    page, problems = open_report(browser, synthetic["path"], "episodes_report.png")
    assert drawn(page) == expected  # every trace of every chart drawn
    assert page.locator(".js-plotly-plot").count() == len(episodes) + 2
    assert page.locator("#fig-history .shapelayer path").count() == len(episodes)  # the shaded spans
    assert page.locator("#fig-history .scatterlayer path.point").count() == len(episodes)  # a marker per peak
    assert page.locator("#fig-history g.errorbar").count() == len(episodes)  # each with its Fisher band
    assert rows(page, "episodes") == len(episodes)
    assert rows(page, "study") == len(synthetic["stored"]["summary"]) * len(HORIZONS)
    assert page.locator("#synthetic-banner").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1300  # no sideways scrolling
    assert problems == []  # no console error, no request off the file
    page.close()


@pytest.mark.realdata
@pytest.mark.slow
def test_the_real_data_report_has_the_2025_episode(data_dir: Path, tmp_path: Path) -> None:
    options = ("--source", "csv", "--data-dir", str(data_dir), "--since", "2000-01-01")
    page = _episodes(tmp_path, *options)
    html, episodes = page["html"], page["printed"]
    assert "synthetic-banner" not in html and all(not e["synthetic"] for e in episodes)
    (headline,) = [e for e in episodes if e["date"] == "2025-02-24"]
    assert headline["value"] == pytest.approx(-0.0994, abs=5e-5)  # the March 2025 headline's low
    assert "2025-02-24" in [row[1][0] for row in tables(html)["episodes"].rows]  # the Date column
    figs = figures(html)
    assert list(figs) == _expected_figures(episodes)
    traces = {t["name"]: t for t in figs["fig-episode-2025-02-24"]["data"]}
    assert array(traces["peak, 95% Fisher band"]["y"]).tolist() == [headline["value"]]
    assert {"spx", "hsi"} <= traces.keys()  # both growth curves: the rate is known in 2025
    assert all(e["date"] >= "2000-01-01" for e in episodes)
    titles = {k: [a["text"] for a in f["layout"]["annotations"]] for k, f in figs.items() if k.startswith("fig-ep")}
    assert "growth of 1 from the episode's start, 12 months" in titles["fig-episode-2025-02-24"]
    last = max(e["start"] for e in episodes)  # within a year of the data's end: its curves stop there
    assert pd.Timestamp(last) + pd.DateOffset(months=12) > pd.Timestamp(page["stored"]["data"]["last_date"])
    assert any(
        t.startswith("growth of 1 from the episode's start, to the data's end, ")
        for t in titles[f"fig-episode-{max(e['date'] for e in episodes)}"]
    )
    assert "ever (a record)" not in html


def test_a_signal_without_a_fisher_band_is_not_said_to_have_one(synthetic: dict[str, Any], tmp_path: Path) -> None:
    """Only a correlation's peak has a 95% Fisher band: the history chart of a momentum signal names no band in
    its legend, title or caption; a correlation's does."""
    fig = figures(synthetic["html"])["fig-history"]
    assert fig["data"][1]["name"] == "episode peak, 95% Fisher band"
    text = (
        Path(CONFIG)
        .read_text(encoding="utf-8")
        .replace("signals:\n", "signals:\n  mom: {fn: relative_momentum, a: spx, b: hsi, window: 63}\n", 1)
    )
    config = tmp_path / "with_momentum.yaml"
    config.write_text(text, encoding="utf-8")
    out = tmp_path / "mom.html"
    args = ["episodes", str(config), "--signal", "mom", "--high", "--source", "synthetic", "--format", "json"]
    result = invoke(*args, "--report", str(out), "--results-dir", str(tmp_path / "results"))
    assert result.exit_code == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    mom = figures(html)["fig-history"]
    assert mom["data"][1]["name"] == "episode peak"
    assert "Fisher" not in json.dumps(mom["layout"]["title"]) and "with the 95% Fisher band" not in html


def test_a_config_whose_run_begins_after_an_episode_says_so(tmp_path: Path) -> None:
    """Its forward returns are null there (docs/episodes.md), and the page says why: the caption names the reason,
    the episode's chart note says the run begins after the start (not only that its values start later)."""
    late = tmp_path / "bh_late.yaml"
    text = (CONFIGS / "buy_hold_us.yaml").read_text(encoding="utf-8")
    late.write_text(text.replace("start: 2002-01-01", "start: 2015-01-01").replace("buy_hold_us", "bh_late"))
    found = _episodes(tmp_path, "--source", "synthetic", "--configs", str(late))
    early = [e for e in found["printed"] if e["start"] < "2015-01-01"]
    assert early and all(v is None for e in early for v in e["forward"]["bh_late"].values())
    page = " ".join(unescape(re.sub(r"<[^>]+>", " ", found["html"])).split())
    assert "– where the data ends before the horizon, no exchange rate is known, or a config's run begins" in page
    begins = re.findall(r"for bh_late \(its run begins (\S+), after the start\)", page)
    assert begins and all(day > e["start"] for day in begins for e in early)
