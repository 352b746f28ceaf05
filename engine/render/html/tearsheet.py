"""The tear-sheet sections of a run's HTML report: pure, from the stored run.

The numbers are ``metrics.json``'s ``tearsheet`` block (computed from the stored tables for a run
written before it existed: :func:`engine.render.tearsheet_text.run_tearsheet`); the rolling chart's
series and the monthly table are recomputed from the stored curves by the same functions
(:mod:`engine.metrics.tearsheet`).  Every table cell carries its full-precision number
(``data-value``), as the other report tables do.

Sections: monthly returns (years x months, coloured), worst drawdowns, rolling one-year correlation
and beta to each asset, daily statistics, switches and the holdings between them, contribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.metrics.frames import partial_years
from engine.metrics.tearsheet import monthly_table, rolling_series
from engine.render.html.charts import MAX_POINTS, PALETTE
from engine.render.html.page import Cell, Section, facts_html, figure_html, notice, paragraphs, table_html
from engine.render.html.series import envelope
from engine.render.tearsheet_text import (
    CURRENCY_UNAVAILABLE,
    FINANCING,
    MONTHS,
    pct,
    risky_assets,
    run_tearsheet,
    stat_facts,
)
from engine.store.rundir import StoredRun

__all__ = ["monthly_colour", "rolling_figure", "tearsheet_sections"]

#: A monthly return of this size or more is drawn in the full colour (green up, red down).
_FULL_COLOUR = 0.10


def monthly_colour(r: float | None) -> str:
    """The background of a monthly-return cell: green for gains, red for losses, deeper the larger."""
    if r is None or not np.isfinite(r):
        return ""
    alpha = min(abs(r) / _FULL_COLOUR, 1.0) * 0.55
    rgb = "0,158,115" if r > 0 else "213,94,0"
    return f"background:rgba({rgb},{alpha:.3f})"


def _pct_cell(value: float | None, key: str, digits: int = 1, style: str = "") -> Cell:
    return Cell(pct(value, digits), value=value, key=key, style=style)


def _monthly_section(run: StoredRun) -> Section:
    table = monthly_table(run.equity["value"], run.initial_cash)
    partial = partial_years(run.equity["value"])
    rows = []
    for year, row in zip(table.index, table.to_numpy(dtype="float64"), strict=True):
        cells: list[Cell | str] = [f"{year} (partial)" if year in partial else str(year)]
        for m, r in enumerate(row[:12], 1):
            value = None if np.isnan(r) else float(r)
            cells.append(
                Cell("" if value is None else pct(value), value=value, key=str(m), style=monthly_colour(value))
            )
        cells.append(_pct_cell(float(row[12]), "year", style=monthly_colour(float(row[12]))))
        rows.append(cells)
    note = (
        "Each month from the previous month's last date (the first from the initial capital); a blank: no date. "
        "A partial year's Year compounds only the months the run covers."
    )
    body = table_html(["Year", *MONTHS, "Year"], rows, table_id="monthly") + paragraphs([note], "small muted")
    return Section("monthly", "Monthly returns", body)


def _drawdowns_section(ts: dict[str, Any]) -> Section:
    rows = []
    for k, d in enumerate(ts["worst_drawdowns"], 1):
        rows.append(
            [
                str(k),
                d["start"],
                d["trough"],
                d["recovery"] or "not yet",
                _pct_cell(d["depth"], "depth"),
                Cell(str(d["days"]), value=d["days"], key="days"),
            ]
        )
    note = "Start: the last date at the previous high; days: calendar days to the recovery, or to the last date."
    body = table_html(["#", "Start", "Trough", "Recovery", "Depth", "Days"], rows, table_id="worst-drawdowns")
    return Section("worst-drawdowns", "Worst drawdowns", body + paragraphs([note], "small muted"))


def rolling_figure(series: dict[str, Any], window: int) -> go.Figure:
    """Rolling correlation (top) and beta (bottom) of the strategy's daily returns to each asset."""
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=("Correlation", "Beta")
    )
    thinned = 1
    for i, (asset, frame) in enumerate(series.items()):
        dates = np.asarray(frame.index.strftime("%Y-%m-%d"), dtype=object)
        colour = PALETTE[i % len(PALETTE)]
        for row, what in ((1, "correlation"), (2, "beta")):
            values = frame[what].to_numpy(dtype="float64")
            keep, k = envelope(values, MAX_POINTS)  # every peak and trough kept (engine/render/html/series.py)
            thinned = max(thinned, k)
            y = [None if np.isnan(v) else float(v) for v in values[keep]]
            line = {"color": colour, "width": 1.5}
            trace = go.Scatter(
                x=list(dates[keep]), y=y, mode="lines", name=asset, legendgroup=asset, showlegend=row == 1, line=line
            )
            fig.add_trace(trace, row=row, col=1)
    title = f"Rolling one-year ({window} dates) correlation and beta of daily returns to each asset"
    if thinned > 1:
        title += f"<br><sup>each line drawn through the lowest and highest value of every {thinned} dates</sup>"
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 80, "b": 40},
        legend={"orientation": "v", "y": 1, "yanchor": "top", "x": 1.01, "xanchor": "left"},
        hovermode="x unified",
    )
    return fig


def _rolling_section(run: StoredRun, ts: dict[str, Any], figures: dict[str, Any]) -> Section:
    window = int(ts["rolling"]["window"])
    series = rolling_series(run.equity["value"], run.prices, risky_assets(run), window)
    # on every run date (undefined before a full window), so the chart shares the page's date axis
    series = {asset: frame.reindex(run.equity.index) for asset, frame in series.items()}
    figures["rolling_beta"] = rolling_figure(series, window)
    rows: list[list[Cell | str]] = []
    for asset in series:
        for what in ("correlation", "beta"):
            stats = ts["rolling"][asset][what]
            cells = [Cell("–" if v is None else f"{v:z.2f}", value=v, key=k) for k, v in stats.items()]
            rows.append([f"{asset} {what}", *cells])
    table = table_html(["", "Last", "Median", "Min", "Max"], rows, table_id="rolling-beta")
    return Section(
        "rolling-beta",
        "Rolling correlation and beta",
        figure_html(figures["rolling_beta"], "fig-rolling-beta", tall=True) + table,
    )


def _stats_section(ts: dict[str, Any]) -> Section:
    return Section("daily-stats", "Daily returns and time invested", facts_html(stat_facts(ts)))


def _switches_section(ts: dict[str, Any]) -> Section:
    st = ts["switch_stats"]
    summary = [
        [
            Cell(str(st["count"]), value=st["count"], key="count"),
            _pct_cell(st["win_rate"], "win_rate"),
            _pct_cell(st["avg_win"], "avg_win"),
            _pct_cell(st["avg_loss"], "avg_loss"),
            Cell("–" if st["avg_days"] is None else f"{st['avg_days']:.1f}", value=st["avg_days"], key="avg_days"),
            Cell(
                "–" if st["median_days"] is None else f"{st['median_days']:.1f}",
                value=st["median_days"],
                key="median_days",
            ),
        ]
    ]
    heads = ["Closed holdings", "Win rate", "Avg win", "Avg loss", "Avg days", "Median days"]
    rows = []
    for h in ts["holdings"]:
        target = " ".join(f"{a} {w * 100:g}%" for a, w in h["target"].items() if w) or "cash"
        rows.append(
            [
                h["start"],
                f"{h['end']} (open)" if h["open"] else h["end"],
                target,
                _pct_cell(h["return"], "return"),
                Cell(f"{h['profit']:,.0f}", value=h["profit"], key="profit"),
                Cell(str(h["days"]), value=h["days"], key="days"),
            ]
        )
    holdings = table_html(
        ["Start", "End", "Target", "Return", "Profit", "Days"], rows, table_id="holdings", scroll=True
    )
    note = (
        "A holding: the dates with the same target weights, from the date they changed to the next change; the"
        " first from the initial capital, so the first date's costs fall in it and the profits add up."
    )
    body = table_html(heads, summary, table_id="switch-stats") + paragraphs([note], "small muted") + holdings
    return Section("switches", f"Switches and holdings ({len(rows)})", body)


def _contribution_section(run: StoredRun, ts: dict[str, Any]) -> Section:
    c = ts.get("contribution")
    if c is None:
        return Section(
            "contribution", "Contribution", notice("unavailable: the run lacks quotes.parquet or the cash index")
        )
    labels = {"currency": "currency", "cash_interest": "cash interest", "costs": "fees and slippage", **FINANCING}
    local = c.get("currency") is not None
    rows = [
        [labels.get(k, f"{k} (local)" if local else k), _pct_cell(v, "contribution", 2)]
        for k, v in c.items()
        if not (k == "currency" and v is None)
    ]
    rows.append(["total return", _pct_cell(run.metrics["strategy"]["total_return"], "contribution", 2)])
    body = table_html(["Part", "Of the initial capital"], rows, table_id="contribution")
    body += "" if local else notice(CURRENCY_UNAVAILABLE)
    return Section("contribution", "Contribution to the total return", body)


def tearsheet_sections(run: StoredRun, figures: dict[str, Any] | None = None) -> list[Section]:
    """The tear sheet's sections, in page order; ``figures`` (optional) receives the chart (``rolling_beta``)
    for ``--png``."""
    ts = run_tearsheet(run)
    figs = {} if figures is None else figures
    return [
        _monthly_section(run),
        _drawdowns_section(ts),
        _rolling_section(run, ts, figs),
        _stats_section(ts),
        _switches_section(ts),
        _contribution_section(run, ts),
    ]
