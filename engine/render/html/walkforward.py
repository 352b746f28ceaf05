"""The walk-forward part of the reports (``seesaw walkforward --report``, the sweep report): pure, from the stored run.

A walk-forward is stored as the run ``<config>_walkforward`` (:func:`engine.jobs.walkforward.store_walkforward`):
its ``metrics.json`` has a ``walkforward`` block (the selection metric, the sweep keys, and per fold
the windows, the chosen values and the in-sample / out-of-sample metrics), and its ``equity`` and
``benchmarks`` are the stitched out-of-sample run and the benchmarks over the same dates.  Every
number shown is one of those: the folds table is the ``walkforward`` block's rows (cells as
``seesaw walkforward`` prints them), the scatter is each fold's ``is_<metric>`` against
``oos_<metric>``, the equity curves are the stored ones, the metrics table is ``metrics.json``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.metrics.specs import PERCENT_METRICS
from engine.render.html import charts
from engine.render.html.page import (
    SYNTHETIC_BANNER,
    Cell,
    Report,
    Section,
    facts_html,
    figure_html,
    page_html,
    paragraphs,
    preformatted,
    table_html,
)
from engine.render.html.run import metrics_table, run_facts, strategy_and_benchmarks
from engine.render.sweep_text import OVERLAP_NOTE, fold_header, sweep_cell, ties_note
from engine.store.rundir import StoredRun

__all__ = ["fold_metrics", "walkforward_report", "walkforward_sections"]


def fold_metrics(folds: Sequence[Mapping[str, Any]]) -> list[str]:
    """The metrics stored for each fold in and out of sample, in their stored order (``is_sharpe`` -> sharpe)."""
    if not folds:
        return []
    return [k.removeprefix("is_") for k in folds[0] if k.startswith("is_") and f"oos_{k[3:]}" in folds[0]]


def _scored_to(fold: Mapping[str, Any]) -> str:
    """The date a fold's OOS figures end (``scored_to``; a walk-forward stored without the key scored every test
    window to its end)."""
    return str(fold.get("scored_to", fold["test_end"]))


def _overlap(folds: Sequence[Mapping[str, Any]]) -> bool:
    """Whether some fold's OOS figures end before its test window does (--step shorter than --test)."""
    return any(_scored_to(f) != f["test_end"] for f in folds)


def _folds_table(folds: Sequence[Mapping[str, Any]], keys: Sequence[str], metrics: Sequence[str]) -> str:
    overlap = _overlap(folds)
    headers = ["Fold", "Train", "Test", *(["OOS scored to"] if overlap else []), *keys]
    for m in metrics:
        headers += [fold_header(f"is_{m}"), fold_header(f"oos_{m}")]  # the terminal's names: IS Sharpe, OOS Max DD
    rows = []
    for f in folds:
        cells: list[Cell | str] = [
            Cell(str(f["fold"]), value=f["fold"], key="fold"),
            f"{f['train_start']} → {f['train_end']}",
            f"{f['test_start']} → {f['test_end']}",
            *([_scored_to(f)] if overlap else []),
        ]
        for k in keys:
            v = f[k]
            number = v if isinstance(v, int | float) and not isinstance(v, bool) else None
            cells.append(Cell(str(v), value=number, key=k) if number is not None else str(v))
        for m in metrics:
            for side in ("is", "oos"):
                v = f[f"{side}_{m}"]
                cells.append(Cell(sweep_cell(m, v), value=v, key=f"{side}_{m}", css=side))
        rows.append(cells)
    return table_html(headers, rows, table_id="folds")


def _fold_details(folds: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    return [
        f"fold {f['fold']}: test {f['test_start']} → {f['test_end']}"
        + (f" (OOS scored to {_scored_to(f)})" if _scored_to(f) != f["test_end"] else "")
        + "<br>"
        + ", ".join(f"{k} = {f[k]}" for k in keys)
        for f in folds
    ]


def _fold_points(
    x: np.ndarray, y: np.ndarray, numbers: Sequence[int], details: Sequence[str], fmt: str, *, scale: bool
) -> go.Scatter:
    """The folds of one panel; a fold's number is its colour (text on the points would collide), ``scale``: the bar."""
    low, high = min(numbers, default=0), max(numbers, default=1)
    return go.Scatter(
        x=x,
        y=y,
        mode="markers",
        name="fold",
        legendgroup="fold",
        showlegend=False,
        customdata=list(details),
        marker={
            "size": 10,
            "color": np.asarray(numbers, dtype=float),
            "colorscale": "Viridis",
            "cmin": low,
            "cmax": max(high, low + 1),
            "showscale": scale,
            "colorbar": {"title": {"text": "fold"}, "thickness": 12, "len": 0.8, "dtick": max(1, -(-len(x) // 6))},
            "line": {"width": 0.5, "color": "#ffffff"},
        },
        hovertemplate=f"%{{customdata}}<br>in sample %{{x:{fmt}}}<br>out of sample %{{y:{fmt}}}<extra></extra>",
    )


def _is_oos_figure(
    metrics: Sequence[tuple[str, str, Sequence[float], Sequence[float]]],
    numbers: Sequence[int],
    details: Sequence[str],
    *,
    title: str,
) -> go.Figure:
    """One panel per metric: each fold's in-sample value (x) against its out-of-sample value (y), y = x dashed.

    ``metrics``: (name, format ``pct`` or ``num``, in-sample values, out-of-sample values), one value per
    fold; ``numbers``: each fold's number, ``details`` its hover text.  A fold's colour is its number (the
    colour bar); a point below the diagonal did worse out of sample than in sample.  No legend: placed above the
    panels' titles, in paper units, it met the title at a PNG's height, so the title says what the dashed line is.
    """
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[m[0] for m in metrics], horizontal_spacing=0.07)
    for col, (name, kind, ins, outs) in enumerate(metrics, start=1):
        x, y = np.asarray(ins, dtype=float), np.asarray(outs, dtype=float)
        both = np.concatenate([x, y])
        both = both[np.isfinite(both)]
        lo, hi = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
        pad = (hi - lo) * 0.08 or 0.1
        fmt = ".1%" if kind == "pct" else ".2f"
        fig.add_trace(
            go.Scatter(
                x=[lo - pad, hi + pad],
                y=[lo - pad, hi + pad],
                mode="lines",
                name="out of sample = in sample",
                showlegend=False,  # the title says what the dashed line is: a legend above the panels' titles
                line={"dash": "dash", "color": "#7f7f7f", "width": 1},
                hoverinfo="skip",
            ),
            row=1,
            col=col,
        )
        fig.add_trace(_fold_points(x, y, numbers, details, fmt, scale=col == 1), row=1, col=col)
        axis = {"tickformat": ".0%"} if kind == "pct" else {}
        fig.update_xaxes(title_text=f"in sample ({name})", row=1, col=col, **axis)
        fig.update_yaxes(title_text=f"out of sample ({name})", row=1, col=col, **axis)
    charts.layout(fig, f"{title} (dashed: out of sample = in sample)", hovermode="closest")
    fig.update_layout(margin={"t": 90})  # the title above the panels' titles
    return fig


def walkforward_sections(run: StoredRun, figures: dict[str, go.Figure]) -> list[Section]:
    """The walk-forward's sections: folds with IS vs OOS metrics and their scatter; the stitched run's equity.

    Adds figures ``walkforward_is_oos`` and ``walkforward_equity`` to ``figures``.
    """
    folds: list[dict[str, Any]] = run.metrics["walkforward"]["folds"]
    return [
        Section("walkforward", "Walk-forward: in sample vs out of sample", _folds_body(run, figures)),
        Section("walkforward-equity", "Walk-forward: the out-of-sample run", _equity_body(run, folds, figures)),
    ]


def _folds_body(run: StoredRun, figures: dict[str, go.Figure]) -> str:
    """Facts, the folds table and the IS-against-OOS scatter (figure ``walkforward_is_oos``)."""
    block = run.metrics["walkforward"]
    folds: list[dict[str, Any]] = block["folds"]
    keys: list[str] = block["keys"]
    select: str = block["select"]
    metrics = fold_metrics(folds)
    strategy = run.metrics["strategy"]
    facts = [
        ("walk-forward run", f"{run.manifest.get('run_id')} ({run.name}, created {run.manifest.get('created_at')})"),
        ("windows", f"train {block['train']}, test {block['test']}, step {block.get('step', block['test'])}"),
        ("chosen by", f"{select} on each training window only"),
        (
            "folds",
            f"{len(folds)}: the first trains {folds[0]['train_start']} → {folds[0]['train_end']}, "
            f"the last tests {folds[-1]['test_start']} → {folds[-1]['test_end']}",
        ),
        ("out of sample", f"{strategy['start']} → {strategy['end']} (one stitched run)"),
        (
            "data fingerprint",
            f"{run.manifest.get('data_fingerprint')} (of the stitched run's own dates and warm-up, not the sweep's)",
        ),
    ]
    figures["walkforward_is_oos"] = _is_oos_figure(
        [
            (m, "pct" if m in PERCENT_METRICS else "num", [f[f"is_{m}"] for f in folds], [f[f"oos_{m}"] for f in folds])
            for m in metrics
        ],
        [int(f["fold"]) for f in folds],
        _fold_details(folds, keys),
        title="In sample (training window) against out of sample (test window), per fold",
    )
    notes = [
        "In sample (IS): the chosen combination's metrics on its training window, where it was chosen as the best "
        f"by {select}. Out of sample (OOS): the stitched run on the fold's test window, from the previous close, "
        "switches traded with their costs. Points below the dashed diagonal did worse out of sample.",
    ]
    if _overlap(folds):
        notes.append(OVERLAP_NOTE.format(column="OOS scored to"))
    from engine.walkforward_windows import short_windows  # imports engine.walkforward: for a walk-forward's page only

    notes += short_windows(pd.DatetimeIndex(run.equity.index), folds, str(block["test"]))
    ties = ties_note(folds)
    if ties:
        notes.append(ties)
    return (
        facts_html(facts)
        + _folds_table(folds, keys, metrics)
        + figure_html(figures["walkforward_is_oos"], "fig-walkforward-is-oos")
        + paragraphs(notes, "small muted")
    )


def _equity_body(run: StoredRun, folds: Sequence[Mapping[str, Any]], figures: dict[str, go.Figure]) -> str:
    """The stitched run against the benchmarks, folds marked (figure ``walkforward_equity``), and its metrics."""
    curves = strategy_and_benchmarks(run)
    currency = (run.metrics.get("data") or {}).get("base_currency", "")
    fig = charts.equity_figure(
        curves,
        title="Out-of-sample value (log scale): the stitched run against the benchmarks over the same dates",
        y_title=f"value ({currency})".strip(),
    )
    for f in folds[1:]:
        fig.add_vline(x=f["test_start"], line={"dash": "dot", "color": "#9aa0ab", "width": 1})
    figures["walkforward_equity"] = fig
    return (
        figure_html(fig, "fig-walkforward-equity")
        + paragraphs(
            [
                "Dotted vertical lines: the first date of each later fold's test window. The run starts with the "
                "initial cash on the first test date; the benchmarks are run over the same dates. Metrics from "
                "metrics.json of the walk-forward run:"
            ],
            "small muted",
        )
        + metrics_table(run, "walkforward-metrics")
    )


def walkforward_report(run: StoredRun) -> Report:
    """The report of a stored walk-forward run (``seesaw walkforward --report``) and its figures."""
    if "walkforward" not in run.metrics:
        raise ValueError(f"{run.run_dir} is not a walk-forward run (its metrics.json has no walkforward block)")
    figures: dict[str, go.Figure] = {}
    sections = [Section("run", "Run", run_facts(run))]
    sections += walkforward_sections(run, figures)
    sections.append(Section("config", "Resolved config", preformatted(run.config_text or "(config.yaml missing)")))
    title = f"Seesaw walk-forward report: {run.name}"
    strategy = run.metrics["strategy"]
    subtitle = f"run {run.manifest.get('run_id')} · out of sample {strategy['start']} → {strategy['end']}"
    banner = SYNTHETIC_BANNER if run.manifest.get("synthetic") else None
    return Report(title=title, html=page_html(title, sections, banner=banner, subtitle=subtitle), figures=figures)
