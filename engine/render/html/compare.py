"""The HTML report of a comparison (``seesaw compare … --format html``): pure, from a :class:`Comparison`.

Every number is one that :func:`engine.compare.compare_runs` computed: the table cells are its
rows (formatted by :mod:`engine.render.text`, exactly as the terminal and Markdown tables), the
curves are the values its metrics were measured on (``Comparison.curves``), the scatter is
each row's ``ann_vol`` and ``cagr``, the heat table its ``y<year>`` returns, the statistics its
bootstrap interval, PSR, DSR and SPA p-values.  Nothing is recomputed differently here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from engine.compare import Comparison
from engine.metrics import frames as cmp
from engine.metrics.specs import spec
from engine.render.data_words import synthetic_words
from engine.render.html import charts, labels
from engine.render.html import series as ser
from engine.render.html.page import (
    Cell,
    Report,
    Section,
    facts_html,
    figure_html,
    notice,
    page_html,
    paragraphs,
    table_html,
)
from engine.render.text import (
    column_extremes,
    compare_caption,
    compare_cell,
    compare_columns,
    finite,
    format_value,
    reference_words,
    significance_lines,
    spa_sentence,
)

__all__ = ["compare_report", "heat_colour"]

_STAT_COLUMNS = (
    ("sharpe", spec("sharpe").label, spec("sharpe").fmt),
    ("sharpe_ci_low", "CI low", "num"),
    ("sharpe_ci_high", "CI high", "num"),
    ("psr", spec("psr").label, spec("psr").fmt),
    ("p_beats_ref", spec("p_beats_ref").label, spec("p_beats_ref").fmt),
    ("dsr", spec("dsr").label, spec("dsr").fmt),
)


def heat_colour(value: float | None, scale: float) -> str:
    """Background for a return in a heat table: red below 0, green above, white at 0, full at ±``scale``.

    >>> heat_colour(0.0, 0.5), heat_colour(-0.5, 0.5)
    ('rgb(255,255,255)', 'rgb(214,96,77)')
    """
    if value is None or not math.isfinite(value) or not scale > 0:
        return "rgb(255,255,255)"
    t = max(-1.0, min(1.0, value / scale))
    end = (214, 96, 77) if t < 0 else (77, 172, 38)
    mix = [round(255 + (c - 255) * abs(t)) for c in end]
    return f"rgb({mix[0]},{mix[1]},{mix[2]})"


def _compare_table(c: Comparison, rows: Sequence[dict[str, Any]]) -> str:
    cols = compare_columns(c, years=False)
    extremes = column_extremes(cols, rows)
    out, classes = [], []
    for r in rows:
        cells: list[Cell | str] = [r["name"], r["kind"]]
        for key, _, kind, _ in cols:
            v = r.get(key)
            css = ""
            if key in extremes and isinstance(v, int | float):
                css = "best" if v == extremes[key][0] else "worst" if v == extremes[key][1] else ""
            value = None if kind == "ci" else v
            cells.append(Cell(compare_cell(r, key, kind), value=value, key=key, css=css))
        cells.append(" ".join(f"{a} {w * 100:z.0f}%" for a, w in (r.get("avg_weight") or {}).items()) or "–")
        out.append(cells)
        classes.append(r["kind"])
    headers = ["Name", "Kind", *(h for _, h, _, _ in cols), "Avg weight"]
    return table_html(headers, out, table_id="compare", row_classes=classes)


def _heat_table(c: Comparison, rows: Sequence[dict[str, Any]], partial: set[int]) -> str:
    values = [r.get(f"y{y}") for r in rows for y in c.years]
    scale = max((abs(float(v)) for v in values if finite(v)), default=0.0)
    headers = ["Name", *(f"{y} (partial)" if y in partial else str(y) for y in c.years)]
    out = []
    for r in rows:
        cells: list[Cell | str] = [r["name"]]
        for y in c.years:
            v = r.get(f"y{y}")
            style = f"background:{heat_colour(v, scale)}"
            cells.append(Cell(format_value(v, "pct"), value=v, key=f"y{y}", style=style))
        out.append(cells)
    return table_html(headers, out, table_id="years", row_classes=[r["kind"] for r in rows])


def _stats_table(rows: Sequence[dict[str, Any]]) -> str:
    out = []
    for r in rows:
        if r["kind"] != "strategy":
            continue
        cells: list[Cell | str] = [r["name"]]
        cells += [Cell(format_value(r.get(k), kind), value=r.get(k), key=k) for k, _, kind in _STAT_COLUMNS]
        out.append(cells)
    return table_html(["Name", *(h for _, h, _ in _STAT_COLUMNS)], out, table_id="statistics")


def _summary_sections(c: Comparison, rows: Sequence[dict[str, Any]], reps: int) -> list[Section]:
    """The comparison's facts and its table."""
    facts = [
        ("common window", f"{c.first.date()} → {c.last.date()}"),
        ("data fingerprints", ", ".join(c.fingerprints)),
        ("reference benchmark", reference_words(c)),
        ("strategies", str(sum(r["kind"] == "strategy" for r in rows))),
        ("risk-free rate", c.risk_free),
    ]
    table = _compare_table(c, rows) + paragraphs(compare_caption(c, reps, rows), "small muted")
    return [Section("summary", "Comparison", facts_html(facts)), Section("table", "Compare table", table)]


def _curve_sections(
    rows: Sequence[dict[str, Any]], curves: dict[str, tuple[pd.Series, float]], figures: dict[str, Any]
) -> list[Section]:
    """Equity normalised to 1 and drawdowns (benchmarks dotted or dash-dotted), and the risk-return scatter."""
    benchmarks = {r["name"] for r in rows if r["kind"] != "strategy"}
    figures["equity"] = charts.equity_figure(
        {k: ser.normalised(v, start) for k, (v, start) in curves.items()},
        title="Growth of 1 on the common window (log scale; benchmarks dotted or dash-dotted)",
        y_title="value / value before the first date",
        dotted=benchmarks,
    )
    figures["drawdown"] = charts.drawdown_figure(
        {k: ser.drawdown(v, start) for k, (v, start) in curves.items()}, dotted=benchmarks
    )
    points = [(r["name"], r["kind"], r["ann_vol"], r["cagr"]) for r in rows]
    figures["risk_return"] = charts.risk_return_figure(
        points, title="Risk and return: CAGR against annualised volatility"
    )
    tall = labels.is_tall_risk_return(points)
    return [
        Section("equity", "Equity, normalised to 1", figure_html(figures["equity"], "fig-equity")),
        Section("drawdowns", "Drawdowns", figure_html(figures["drawdown"], "fig-drawdown")),
        Section("risk-return", "Risk and return", figure_html(figures["risk_return"], "fig-risk-return", tall=tall)),
    ]


def _years_section(
    c: Comparison, rows: Sequence[dict[str, Any]], curves: dict[str, tuple[pd.Series, float]]
) -> Section:
    if c.years:
        first_curve = next(iter(curves.values()))[0]
        partial = set(cmp.partial_years(first_curve))
        years_body = _heat_table(c, rows, partial) + paragraphs(
            ["Calendar-year returns, not annualised; a partial year covers only the window's part of it."],
            "small muted",
        )
    else:
        years_body = notice("Year-by-year returns were not computed for this comparison (compare --by year).")
    return Section("years", "Year by year", years_body)


def _statistics_section(c: Comparison, rows: Sequence[dict[str, Any]], reps: int, figures: dict[str, Any]) -> Section:
    """The strategies' Sharpe intervals, PSR, P(SR>ref) and DSR, and the SPA test."""
    strategies = [r for r in rows if r["kind"] == "strategy"]
    figures["sharpe_interval"] = charts.sharpe_interval_figure(
        [(r["name"], r["sharpe"], r["sharpe_ci_low"], r["sharpe_ci_high"]) for r in strategies],
        title="Sharpe with its 95% stationary-bootstrap interval",
    )
    spa = [spa_sentence(c.spa, str(c.reference))] if c.spa else [_no_spa(c)]
    notes = [
        *spa,
        f"Sharpe interval: stationary bootstrap (arch), {reps} resamples, seed 20250120.",
        *significance_lines(reference_words(c), len(strategies)),
    ]
    body = figure_html(figures["sharpe_interval"], "fig-sharpe-interval") + _stats_table(rows)
    return Section("statistics", "Statistics", body + paragraphs(notes, "small"))


def _no_spa(c: Comparison) -> str:
    """Why the page has no SPA test."""
    if not c.reference:
        return "No SPA test: no benchmark to test the strategies against."
    return "No SPA test: no strategy in the comparison."


def compare_report(c: Comparison, rows: Sequence[dict[str, Any]], reps: int) -> Report:
    """The comparison's report page and its figures; ``rows`` as shown (sorted, cut to ``--top``)."""
    if c.curves is None:
        raise ValueError("the comparison carries no curves (made by an older compare_runs?)")
    curves = {r["name"]: c.curves[r["name"]] for r in rows}
    figures: dict[str, Any] = {}
    sections = [
        *_summary_sections(c, rows, reps),
        *_curve_sections(rows, curves, figures),
        _years_section(c, rows, curves),
        _statistics_section(c, rows, reps, figures),
    ]
    title = "Seesaw comparison"
    subtitle = f"{len(rows)} rows · common window {c.first.date()} → {c.last.date()}"
    caption = synthetic_words(c.rows)[1]  # every row, or some (named) of a comparison --allow-mixed let through
    html = page_html(title, sections, banner=caption or None, subtitle=subtitle)
    return Report(title=title, html=html, figures=figures)
