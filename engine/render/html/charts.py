"""Plotly figures for the reports: pure functions from series (fractions) or stored statistics to ``go.Figure``.

Every figure uses SVG traces (no WebGL, so it renders in any headless browser), dates as
``YYYY-MM-DD`` strings, fractions formatted as percent by the axis (``tickformat``), never
multiplied by 100.  The first curve of a mapping is drawn as the subject (thicker); the
others are the comparison curves.

A curve of more than :data:`MAX_POINTS` dates is drawn through the lowest and highest value of
each run of k dates (:func:`engine.render.html.series.envelope`), and the chart's title says so.
No text is drawn on points where labels could collide: the risk-return labels are placed apart
(:func:`engine.render.html.labels.label_offsets`), a fold's number is its colour, a threshold's
text is its legend entry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from engine.render.html import labels
from engine.render.html.series import Threshold, envelope
from engine.store.rundir import FIRST_RULE

__all__ = [
    "MAX_POINTS",
    "PALETTE",
    "drawdown_figure",
    "equity_figure",
    "layout",
    "log_ticks",
    "pbo_figure",
    "risk_return_figure",
    "rolling_figure",
    "sharpe_interval_figure",
    "signal_figure",
    "weights_figure",
    "year_returns_figure",
]

#: Line colours in order (colour-blind-safe Okabe-Ito, then greys).
PALETTE = ("#0b4f9c", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#7f7f7f", "#000000", "#b9b9b9")
_RULE_FILLS = ("rgba(0,158,115,0.25)", "rgba(213,94,0,0.25)", "rgba(204,121,167,0.28)", "rgba(230,159,0,0.28)")
_OTHERWISE_FILL = "rgba(127,127,127,0.07)"  # the fallback rule: shaded faintly, so the others stand out
#: Points drawn per curve at most: two per pixel column of a chart on the page (about 1150 px wide).
MAX_POINTS = 2400
_THRESHOLD_COLOURS = ("#444444", "#8a3b12", "#1f5f8b", "#5b6b2f")


def _dates(index: pd.Index) -> list[str]:
    return [str(d) for d in pd.DatetimeIndex(index).strftime("%Y-%m-%d")]


#: More legend entries than this go in a column on the right instead of a row above the plot.
_LEGEND_ROW_MAX = 6


@cache
def _template() -> go.layout.Template:
    """plotly_white with only the parts our figures use (the whole template is 7 kB on every figure)."""
    full = pio.templates["plotly_white"].to_plotly_json()
    unused = ("geo", "mapbox", "polar", "scene", "ternary")
    return go.layout.Template(
        layout={k: v for k, v in full["layout"].items() if k not in unused},
        data={k: v for k, v in full["data"].items() if k in ("bar", "heatmap", "scatter")},
    )


def layout(fig: go.Figure, title: str, **kwargs: Any) -> go.Figure:
    """The house style of every figure: title on the left, white template, the legend above (or right, when long)."""
    entries = len({t.legendgroup or t.name for t in fig.data if t.showlegend is not False})
    if entries > _LEGEND_ROW_MAX:
        legend = {"orientation": "v", "y": 1, "yanchor": "top", "x": 1.01, "xanchor": "left", "font": {"size": 10}}
    else:
        legend = {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "xanchor": "left"}
    style: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "template": _template(),
        "margin": {"l": 60, "r": 20, "t": 70, "b": 40},
        "legend": legend,
        "hovermode": "x unified",
    }
    fig.update_layout(**{**style, **kwargs})
    return fig


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


#: The line patterns of curves whose colour an earlier curve of their kind (strategy: solid, benchmark: dotted)
#: already has, round after round past the palette's length: no two curves of a chart (up to 36 of a kind) share
#: a colour and a pattern.
_SOLID_ROUNDS = ("solid", "dash", "longdash", "8px,3px,2px,3px")
_DOTTED_ROUNDS = ("dot", "dashdot", "longdashdot", "2px,5px")


def _patterns(dotted: Sequence[bool]) -> list[str]:
    """Each curve's pattern, the i-th in :func:`_color` (i): solid (dotted) unless an earlier curve of its kind has
    its colour, then the next of its kind's rounds."""
    seen: dict[tuple[str, bool], int] = {}
    out = []
    for i, dots in enumerate(dotted):
        n = seen.get((_color(i), dots), 0)
        seen[(_color(i), dots)] = n + 1
        rounds = _DOTTED_ROUNDS if dots else _SOLID_ROUNDS
        out.append(rounds[n % len(rounds)])
    return out


def _thin(s: pd.Series) -> tuple[list[str], np.ndarray, int]:
    """The dates and values a chart draws of ``s`` (:func:`~engine.render.html.series.envelope`), and k."""
    y, dates = s.to_numpy(dtype=float), _dates(s.index)
    keep, k = envelope(y, MAX_POINTS)
    return ([dates[j] for j in keep], y[keep], k) if k > 1 else (dates, y, 1)


def _thinned(k: int) -> str:
    return "" if k == 1 else f"each curve drawn through the lowest and highest value of every {k} dates"


def _lines(fig: go.Figure, curves: Mapping[str, pd.Series], hover: str, dotted: Collection[str]) -> str:
    """One line per curve; with no ``dotted`` curves the first is the subject (thicker), else ``dotted`` are
    the benchmarks (dotted) among equals.  Returns the note for the date axis when a curve is thinned, else ""."""
    thinned = 1
    patterns = _patterns([name in dotted for name in curves])
    for i, (name, s) in enumerate(curves.items()):
        width = 1.3 if dotted else (2.2 if i == 0 else 1.3)
        x, y, k = _thin(s)
        thinned = max(thinned, k)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=name,
                mode="lines",
                line={"width": width, "color": _color(i), "dash": patterns[i]},
                hovertemplate=hover,
            )
        )
    return _thinned(thinned)


def equity_figure(
    curves: Mapping[str, pd.Series], *, title: str, y_title: str, dotted: Collection[str] = ()
) -> go.Figure:
    """Curves on a log scale (equal vertical distances are equal percentage moves); ``dotted``: see ``_lines``."""
    fig = go.Figure()
    note = _lines(fig, curves, "%{y:,.4g}", dotted)
    values = np.concatenate([np.asarray(s, dtype=float) for s in curves.values()] or [np.zeros(0)])
    ticks = log_ticks(values[np.isfinite(values) & (values > 0)])
    return layout(fig, title, yaxis={"type": "log", "title": y_title, **ticks}, xaxis=_note(note))


def log_ticks(values: np.ndarray) -> dict[str, list[Any]]:
    """Tick values and labels for a log axis over ``values`` (positive): the first of powers of ten, 1-2-5,
    1-2-3-5 and every digit that puts four ticks in the range (else the one with the most, when two or
    more), each written in full (``200k``, not plotly's bare ``2`` between powers of ten); where the range
    runs on more than half as far again past the first or last of them, one digit-times-a-power tick more
    there, so that no end of the axis is left without a scale.  Empty (plotly's own ticks) when fewer than
    two would fall in the range.

    >>> log_ticks(np.array([60_000.0, 700_000.0]))["ticktext"]
    ['60k', '100k', '200k', '300k', '500k']
    >>> log_ticks(np.array([1.0, 9.5]))["ticktext"]
    ['1', '2', '3', '5', '8']
    """
    if len(values) == 0:
        return {}
    lo, hi = float(values.min()), float(values.max())
    powers = range(int(np.floor(np.log10(lo))), int(np.floor(np.log10(hi))) + 1)
    best: list[float] = []
    for digits in ((1,), (1, 2, 5), (1, 2, 3, 5), tuple(range(1, 10))):
        ticks = [m * 10.0**e for e in powers for m in digits if lo <= m * 10.0**e <= hi]
        best = ticks if len(ticks) > len(best) else best
        if len(ticks) >= 4:
            break
    if len(best) < 2:
        return {}
    every = [m * 10.0**e for e in powers for m in range(1, 10)]
    below = [v for v in every if lo <= v <= best[0] / 1.5]
    above = [v for v in every if best[-1] * 1.5 <= v <= hi]
    best = [*below[-1:], *best, *above[:1]]
    return {"tickvals": best, "ticktext": [_short(v) for v in best]}


def _short(v: float) -> str:
    """``v`` (a 1-9 times a power of ten) with an SI suffix: 0.5, 20, 300k, 4M, 5G."""
    for power, suffix in ((9, "G"), (6, "M"), (3, "k")):
        if v >= 10.0**power:
            return f"{v / 10.0**power:g}{suffix}"
    return f"{v:g}"


def drawdown_figure(
    drawdowns: Mapping[str, pd.Series], *, title: str = "Drawdown from the running peak", dotted: Collection[str] = ()
) -> go.Figure:
    """Drawdowns (fractions <= 0) drawn as percent."""
    fig = go.Figure()
    note = _lines(fig, drawdowns, "%{y:.1%}", dotted)
    return layout(fig, title, yaxis={"tickformat": ".0%", "title": "drawdown"}, xaxis=_note(note))


def _note(note: str) -> dict[str, Any]:
    """The date axis, titled with ``note`` (a thinned curve says so under its chart)."""
    return {"title": {"text": note, "font": {"size": 11, "color": "#5a6270"}}} if note else {}


def weights_figure(weights: pd.DataFrame, *, title: str = "Weights at the end of each date") -> go.Figure:
    """Stacked areas of the actual end-of-day weights, plus cash (1 minus their sum) on top; a margin
    account's weights (a short, or more than the value invested) as lines, shorts and borrowed cash
    below zero (docs/shorts.md)."""
    fig = go.Figure()
    columns = {c: weights[c].to_numpy(dtype=float) for c in weights.columns}
    cash = 1.0 - weights.sum(axis=1).to_numpy(dtype=float)
    signed = bool((weights.to_numpy(dtype=float) < -1e-9).any() or (cash < -1e-6).any())
    columns["cash"] = cash if signed else np.clip(cash, 0.0, None)
    x = _dates(weights.index)
    for i, (name, values) in enumerate(columns.items()):
        color = "#8a909c" if name == "cash" else _color(i)
        stacked = {} if signed else {"stackgroup": "weights", "fillcolor": "#c9ccd3" if name == "cash" else color}
        fig.add_trace(
            go.Scatter(
                x=x,
                y=values,
                name=name,
                mode="lines",
                # stacked: fills only, no edge (an asset never held would draw the cash edge in its colour)
                line={"width": 1.2 if signed else 0.0, "color": color},
                hovertemplate="%{y:.1%}",
                **stacked,
            )
        )
    if signed:
        return layout(
            fig, title + " (shorts and borrowed cash below zero)", yaxis={"tickformat": ".0%", "title": "weight"}
        )
    return layout(fig, title, yaxis={"tickformat": ".0%", "range": [0, 1.0001], "title": "weight"})


def signal_figure(
    name: str,
    values: pd.Series,
    thresholds: Sequence[Threshold],
    rule: pd.Series | None,
    rule_labels: Sequence[str],
    *,
    description: str = "",
) -> go.Figure:
    """A signal's values, its rules' thresholds as dashed lines, and the active rule shaded.

    The shading is one filled step trace per rule on a hidden 0..1 axis: 1 on the dates whose
    decision matched that rule (``weights.rule``, numbered from :data:`~engine.store.rundir.FIRST_RULE`
    as every output numbers rules: ``rule 1`` is the first of ``rule_labels``), 0 elsewhere.  The shading
    is on the base axis ``y`` and the signal on ``y2`` over it, which plotly draws on top: the shading
    never tints the line.
    """
    fig = go.Figure()
    x = _dates(values.index)
    if rule is not None:
        _add_rule_shading(fig, x, rule, rule_labels)
    line_x, line_y, k = _thin(values)
    fig.add_trace(
        go.Scatter(
            x=line_x,
            y=line_y,
            name=name,
            mode="lines",
            line={"width": 1.4, "color": PALETTE[0]},
            hovertemplate="%{y:.4g}",
            yaxis="y2",
        )
    )
    both = np.concatenate([values.to_numpy(dtype=float), [t.value for t in thresholds]])
    y_range = _padded(both[np.isfinite(both)] if np.isfinite(both).any() else np.zeros(1), 0.06)
    _add_threshold_lines(fig, thresholds, y_range)
    title = f"Signal {name}" + (f": {description}" if description else "")
    values_axis = {"title": name, "zeroline": False, "range": y_range, "overlaying": "y", "tickmode": "auto"}
    return layout(
        fig,
        title,
        yaxis={"range": [0, 1], "visible": False, "fixedrange": True},
        yaxis2={**values_axis, "side": "left"},
        xaxis=_note(_thinned(k).replace("each curve", "the signal")),
    )


def _add_rule_shading(fig: go.Figure, x: list[str], rule: pd.Series, rule_labels: Sequence[str]) -> None:
    """One filled step trace per rule that matched any date, on the hidden base axis ``y``."""
    r = rule.to_numpy()
    for i, label in enumerate(rule_labels):
        number = i + FIRST_RULE  # what weights.rule holds on the dates this rule matched
        active = (r == number).astype(np.uint8)  # 0/1: a byte each on the page, not eight
        if not active.any():
            continue
        fig.add_trace(
            go.Scatter(
                x=x,
                y=active,
                name=f"rule {number} active: {label}",
                mode="lines",
                line={"width": 0, "shape": "hv"},
                fill="tozeroy",
                fillcolor=_OTHERWISE_FILL if label == "otherwise" else _RULE_FILLS[i % len(_RULE_FILLS)],
                hoverinfo="skip",
            )
        )


def _add_threshold_lines(fig: go.Figure, thresholds: Sequence[Threshold], y_range: Sequence[float]) -> None:
    """One dashed line per distinct threshold value, labelled with each comparison and its rules.

    A label sits on its line at the left; when it would touch one placed before (two thresholds close
    together), it moves right along its own line until it is clear (:func:`engine.render.html.labels.along_the_line`).
    """
    by_value: dict[float, dict[str, list[int]]] = {}
    for t in thresholds:
        by_value.setdefault(t.value, {}).setdefault(t.label, []).append(t.rule + FIRST_RULE)  # t.rule: a position
    taken: list[tuple[float, float, float, float]] = []
    for value, texts in sorted(by_value.items()):
        label = "; ".join(
            f"{text} (rule{'s' if len(rules) > 1 else ''} {', '.join(map(str, dict.fromkeys(rules)))})"
            for text, rules in texts.items()
        )
        x, above = labels.along_the_line(value, label, y_range, taken)
        fig.add_shape(
            type="line", xref="x domain", x0=0, x1=1, yref="y2", y0=value, y1=value,
            line={"dash": "dash", "color": "#444", "width": 1},
        )  # fmt: skip
        fig.add_annotation(
            text=label, x=x, xref="x domain", y=value, yref="y2", xanchor="left", yanchor="bottom" if above else "top",
            showarrow=False, font={"size": 10}, bgcolor="rgba(255,255,255,0.85)",
        )  # fmt: skip


def rolling_figure(
    returns: Mapping[str, pd.Series], sharpes: Mapping[str, pd.Series], *, rows: int, title: str
) -> go.Figure:
    """Two panels sharing the date axis: trailing one-year return (top) and Sharpe (bottom)."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=(f"return over the trailing {rows} dates", f"Sharpe over the trailing {rows} dates"),
    )
    thinned = 1
    patterns = _patterns([False] * max(len(returns), len(sharpes)))
    for panel, (curves, hover) in enumerate(((returns, "%{y:.1%}"), (sharpes, "%{y:.2f}")), start=1):
        for i, (name, s) in enumerate(curves.items()):
            x, y, k = _thin(s)
            thinned = max(thinned, k)
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    name=name,
                    legendgroup=name,
                    showlegend=panel == 1,
                    mode="lines",
                    line={"width": 1.8 if i == 0 else 1.0, "color": _color(i), "dash": patterns[i]},
                    hovertemplate=hover,
                ),
                row=panel,
                col=1,
            )
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_xaxes(_note(_thinned(thinned)), row=2, col=1)
    layout(fig, title)
    fig.update_layout(margin={"t": 100})
    if fig.layout.legend.orientation == "h":  # a row: above the panels' titles, right (a column stays beside them)
        fig.update_layout(legend={"y": 1.06, "x": 1, "xanchor": "right"})
    return fig


def year_returns_figure(years: Mapping[str, Mapping[int, float]], *, title: str, partial: set[int]) -> go.Figure:
    """Grouped bars of calendar-year returns, one group per year ('(partial)' marks a partial year, as the tables)."""
    fig = go.Figure()
    all_years = sorted({y for v in years.values() for y in v})
    labels = [f"{y} (partial)" if y in partial else str(y) for y in all_years]
    for i, (name, by_year) in enumerate(years.items()):
        fig.add_trace(
            go.Bar(
                x=labels,
                y=np.array([by_year.get(y, np.nan) for y in all_years], dtype=float),
                name=name,
                marker_color=_color(i),
                hovertemplate="%{y:.1%}",
            )
        )
    return layout(fig, title, barmode="group", yaxis={"tickformat": ".0%"}, xaxis={"type": "category"})


def _padded(values: np.ndarray, share: float) -> list[float]:
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    pad = (hi - lo) * share or abs(hi) * share or 0.01
    return [lo - pad, hi + pad]


def risk_return_figure(points: Sequence[tuple[str, str, float, float]], *, title: str) -> go.Figure:
    """Scatter of (name, kind, annual volatility, CAGR): strategies as dots, benchmarks as diamonds.

    Each point is named by a label placed clear of the others (rows at the same place share one label,
    names joined by " = "), with a thin line to its point; the hover text names it too.
    """
    fig = go.Figure()
    for kind, symbol in (("strategy", "circle"), ("benchmark", "diamond")):
        pts = [p for p in points if p[1] == kind]
        if not pts:
            continue
        fig.add_trace(
            go.Scatter(
                x=np.array([p[2] for p in pts], dtype=float),
                y=np.array([p[3] for p in pts], dtype=float),
                text=[p[0] for p in pts],
                name=kind,
                mode="markers",
                marker={"size": 11, "symbol": symbol, "color": PALETTE[0] if kind == "strategy" else PALETTE[6]},
                hovertemplate="%{text}<br>vol %{x:.1%}<br>CAGR %{y:.1%}<extra></extra>",
            )
        )
    xs = np.array([p[2] for p in points], dtype=float)
    ys = np.array([p[3] for p in points], dtype=float)
    if not np.isfinite(xs).any() or not np.isfinite(ys).any():
        return layout(fig, title, hovermode="closest")
    xr, yr = _padded(xs, 0.12), _padded(ys, 0.15)
    return layout(
        fig,
        title,
        hovermode="closest",
        annotations=labels.point_labels(points, xr, yr),
        xaxis={"tickformat": ".0%", "title": "annualised volatility", "range": xr},
        yaxis={"tickformat": ".0%", "title": "CAGR", "range": yr},
    )


def sharpe_interval_figure(points: Sequence[tuple[str, float, float, float]], *, title: str) -> go.Figure:
    """Each strategy's Sharpe with its bootstrap interval: (name, sharpe, low, high)."""
    names = [p[0] for p in points]
    sharpe = np.array([p[1] for p in points], dtype=float)
    low = np.array([p[2] for p in points], dtype=float)
    high = np.array([p[3] for p in points], dtype=float)
    fig = go.Figure(
        go.Scatter(
            x=names,
            y=sharpe,
            mode="markers",
            name="Sharpe",
            marker={"size": 10, "color": PALETTE[0]},
            error_y={"type": "data", "symmetric": False, "array": high - sharpe, "arrayminus": sharpe - low},
            hovertemplate="%{x}: %{y:.2f}<extra></extra>",
        )
    )
    return layout(fig, title, hovermode="closest", yaxis={"title": "annualised Sharpe", "zeroline": True})


def pbo_figure(edges: Sequence[float], counts: Sequence[float], *, pbo: float, title: str) -> go.Figure:
    """The stored histogram of the CSCV logits as bars, the bins left of 0 (overfit) in red, a line at 0.

    Bins are closed on the right (:func:`engine.metrics.overfitting.logit_histogram`), so the red bars hold
    PBO x splits logits (a split's tied in-sample bests a share each, so a count may be fractional); ``pbo``
    (the stored value) is written next to the zero line.
    """
    e = np.asarray(edges, dtype=float)
    c = np.asarray(counts, dtype=float)
    # the bins are symmetric about 0 (an even number of them): the first half is left of 0, whatever rounding
    # error a stored middle edge has (sweeps stored before it was set to 0 exactly)
    left = np.arange(len(c)) < len(c) // 2
    fig = go.Figure(
        go.Bar(
            x=(e[:-1] + e[1:]) / 2,
            y=c,
            width=np.diff(e),
            name="logits",
            marker={"color": np.where(left, "#b3261e", PALETTE[0]).tolist(), "line": {"width": 0.5, "color": "#fff"}},
            customdata=np.column_stack([e[:-1], e[1:]]),
            hovertemplate="logit in (%{customdata[0]:.2f}, %{customdata[1]:.2f}]: %{y:,.6~g} splits<extra></extra>",
        )
    )
    fig.add_vline(
        x=0.0,
        line={"color": "#1d2330", "width": 1.5, "dash": "dash"},
        annotation_text=f"PBO = {pbo:.3f} (share of logits <= 0, red)",
        annotation_position="top left",
    )
    return layout(
        fig,
        title,
        hovermode="closest",
        showlegend=False,
        bargap=0,
        xaxis={"title": "logit of the in-sample best's out-of-sample rank (> 0: above the median)", "zeroline": False},
        yaxis={"title": "splits"},
    )
