"""The HTML report of ``seesaw episodes … --report FILE``: one self-contained page, written atomically.

Every number shown is one of the command's :class:`~engine.episode_report.EpisodeReport`: the tables are
its ``episodes`` and ``summary`` fields, cell by cell (each cell's exact number in ``data-value``, its
field in ``data-key``); the charts draw its ``history`` (the signal's observations) and ``paths`` (each
series' base-currency level), and mark the stored peaks, bands and forward returns on them.

Sections: the header, the signal's history (episodes shaded, peaks with their Fisher band), the event
study (chart and table), the episodes, what came after, one chart per episode (at most
:data:`MAX_EPISODE_CHARTS`, the most extreme by rank), the notes.  docs/reports.md says what each chart shows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from engine.episode_report import EpisodeReport
from engine.episode_study import HORIZONS, base_date
from engine.render.episodes_text import percentile_text
from engine.render.html import charts
from engine.render.html.files import report_target, write_report
from engine.render.html.page import (
    SYNTHETIC_BANNER,
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
from engine.render.html.series import envelope
from engine.render.text import format_value

__all__ = ["MAX_EPISODE_CHARTS", "episodes_page", "write_episodes_report"]

#: At most this many per-episode charts: the most extreme episodes (lowest rank) when there are more.
MAX_EPISODE_CHARTS = 40
_PEAK, _BOOT, _THRESHOLD, _SPAN_FILL = "#b3261e", "rgba(230,159,0,0.55)", "#444444", "rgba(127,127,127,0.2)"


def _dates(index: pd.Index) -> list[str]:
    return [str(d) for d in pd.DatetimeIndex(index).strftime("%Y-%m-%d")]


def _nan(x: float | None) -> float:
    return math.nan if x is None else float(x)


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _header(r: EpisodeReport) -> str:
    d, obs = r.data, r.observations
    facts = [
        ("config", f"{r.config} ({r.file})"),
        ("signal", r.signal),
        ("direction", f"{r.direction}: the {'lowest' if r.direction == 'low' else 'highest'} values are extreme"),
        ("an episode", r.threshold_text()),
        ("gap", f"runs separated by fewer than {r.gap} non-qualifying observations are one episode"),
        ("observations", f"{obs['count']:,}, {obs['first']} → {obs['last']}"),
        ("data source", f"{d.get('source')}{' (SYNTHETIC)' if r.synthetic else ''}"),
        (
            "dates read",
            f"{d.get('first_date')} → {d.get('last_date')}, the dates loaded (the signal's windows read dates before "
            f"the first observation); base currency {d.get('base_currency')}",
        ),
        ("data fingerprint", str(d.get("fingerprint"))),
        ("episodes", str(len(r.episodes))),
        *((f"run of {name}", path) for name, path in r.runs.items()),
    ]
    return facts_html(facts)


def _signal_line(fig: go.Figure, values: pd.Series, name: str, **where: int) -> int:
    """The signal as a line, thinned through its extremes when long (:func:`envelope`); returns k (1: every date)."""
    y, x = values.to_numpy(dtype=float), _dates(values.index)
    keep, k = envelope(y, charts.MAX_POINTS)
    if k > 1:
        x, y = [x[j] for j in keep], y[keep]
    line = {"width": 1.3, "color": charts.PALETTE[0]}
    fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", line=line, hovertemplate="%{y:.3f}"), **where)
    return k


def _spans(fig: go.Figure, episodes: Sequence[Mapping[str, Any]], **where: int) -> None:
    """Each episode's span, start to end, shaded (one legend entry)."""
    for i, e in enumerate(episodes):
        fig.add_vrect(
            x0=e["start"], x1=e["end"], fillcolor=_SPAN_FILL, line_width=0, layer="below", name="episode span",
            legendgroup="span", showlegend=i == 0, **where,
        )  # fmt: skip


def _peaks(episodes: Sequence[Mapping[str, Any]], name: str) -> go.Scatter:
    """Each episode's most extreme observation with its 95% Fisher band (no bar where it has none)."""
    value = np.array([e["value"] for e in episodes], dtype=float)
    low = np.array([_nan(e["ci_low"]) for e in episodes], dtype=float)
    high = np.array([_nan(e["ci_high"]) for e in episodes], dtype=float)
    hover = [
        f"{e['date']}: {e['value']:.3f} [{_num(e['ci_low'], 2)}, {_num(e['ci_high'], 2)}]<br>rank {e['rank']}, "
        f"percentile {percentile_text(e['percentile'])}, "
        + (f"most extreme since {e['most_extreme_since']}" if e["most_extreme_since"] else "a record")
        for e in episodes
    ]
    return go.Scatter(
        x=[e["date"] for e in episodes], y=value, name=name, mode="markers", hovertext=hover,
        marker={"size": 8, "color": _PEAK, "symbol": "diamond"},
        error_y={"type": "data", "symmetric": False, "array": high - value, "arrayminus": value - low,
                 "color": _PEAK, "thickness": 1.4, "width": 5},
        hovertemplate="%{hovertext}<extra></extra>",
    )  # fmt: skip


def _threshold_line(fig: go.Figure, r: EpisodeReport, **where: int) -> None:
    if r.threshold.kind == "value":
        fig.add_hline(
            y=r.threshold.value, line={"dash": "dash", "color": _THRESHOLD, "width": 1},
            annotation_text=r.threshold_text(), annotation_position="top left", annotation_font_size=10, **where,
        )  # fmt: skip


def _history_figure(r: EpisodeReport) -> go.Figure:
    """The signal's whole history, each episode's span shaded and its peak marked with its 95% Fisher band."""
    fig = go.Figure()
    k = _signal_line(fig, r.history, r.signal)
    _spans(fig, r.episodes)
    band = ", 95% Fisher band" if _has_bands(r) else ""  # a correlation's; other signals have none
    if r.episodes:
        fig.add_trace(_peaks(r.episodes, f"episode peak{band}"))
    _threshold_line(fig, r)
    note = "" if k == 1 else f"the signal drawn through the lowest and highest value of every {k} observations"
    xaxis: dict[str, Any] = {"title": {"text": note, "font": {"size": 11, "color": "#5a6270"}}} if note else {}
    if len(r.history):  # the data's dates and 1% more: plotly pads a range for markers, years on a long history
        first, last = r.history.index[0], r.history.index[-1]
        pad = (last - first) * 0.01
        xaxis["range"] = [str((first - pad).date()), str((last + pad).date())]
    return charts.layout(
        fig,
        f"{r.signal}: every observation, episodes shaded, each peak" + (" with its 95% Fisher band" if band else ""),
        yaxis={"title": r.signal, "zeroline": True},
        xaxis=xaxis,
    )


def _has_bands(r: EpisodeReport) -> bool:
    """Whether some episode's peak has a Fisher band (a correlation's; no other signal has one)."""
    return any(e.get("ci_low") is not None for e in r.episodes)


def _history_section(r: EpisodeReport, figures: dict[str, go.Figure]) -> Section:
    figures["history"] = _history_figure(r)
    line = (
        f"Every observation of {r.signal} (a date on which it is finite and changed). Shaded: each listed episode, "
        "start to end; diamonds: its most extreme observation"
        + (" with the 95% Fisher band. " if _has_bands(r) else ". ")
        + ("Dashed: the threshold." if r.threshold.kind == "value" else "The threshold is a percentile of the "
           "history so far, so no fixed line.")
    )  # fmt: skip
    body = figure_html(figures["history"], "fig-history") + paragraphs([line], "small muted")
    return Section("history", "The signal's history", body)


def _study_hover(name: str, h: str, s: Mapping[str, Any]) -> str:
    return (
        f"{name}, {h}: episodes {_pct(s['mean'])} [{_pct(s['ci_low'])}, {_pct(s['ci_high'])}], "
        f"{s['n_independent']} independent of {s['n_episodes']}<br>other dates {_pct(s['others_mean'])} "
        f"({s['n_others']:,})<br>difference {_pct(s['difference'])} "
        f"[{_pct(s['difference_low'])}, {_pct(s['difference_high'])}]"
    )


def _study_figure(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> go.Figure:
    """Per horizon, each series' mean forward return after the episodes (95% interval over the independent
    episodes) beside the mean over every other date."""
    names = list(summary)
    fig = make_subplots(rows=1, cols=len(HORIZONS), subplot_titles=[f"{h} after" for h in HORIZONS])
    for col, h in enumerate(HORIZONS, start=1):
        rows = [summary[n][h] for n in names]
        mean = np.array([_nan(s["mean"]) for s in rows])
        low, high = np.array([_nan(s["ci_low"]) for s in rows]), np.array([_nan(s["ci_high"]) for s in rows])
        hover = [_study_hover(n, h, s) for n, s in zip(names, rows, strict=True)]
        others = np.array([_nan(s["others_mean"]) for s in rows])
        error = {"type": "data", "symmetric": False, "color": "#1d2330", "array": high - mean, "arrayminus": mean - low}
        for label, y, colour, err in (
            ("after episodes (mean, 95% CI)", mean, charts.PALETTE[1], error),
            ("other dates (mean)", others, charts.PALETTE[6], None),
        ):
            fig.add_trace(
                go.Bar(
                    x=names, y=y, name=label, legendgroup=label, showlegend=col == 1, marker_color=colour,
                    hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
                    error_y=err,
                ),
                row=1, col=col,
            )  # fmt: skip
    fig.update_yaxes(tickformat=".1%", zeroline=True, zerolinecolor="#9aa0ab")
    charts.layout(fig, "Mean forward return after the episodes against every other date", hovermode="closest")
    fig.update_layout(barmode="group", margin={"t": 100}, legend={"y": 1.08})
    return fig


def _growth(level: pd.Series, start: pd.Timestamp, asset: bool) -> tuple[pd.Timestamp, pd.Series] | None:
    """(base date, level / level at the base date) from the base date over the next 12 months; None without a
    finite value there.

    The base date is where forward returns start (:func:`engine.episode_study.base_date`; an asset's path holds the
    dates it traded, NaN before an exchange rate converts it).
    """
    base = base_date(level, start, strategy=not asset)
    if base is None or not np.isfinite(level.loc[base]):
        return None
    window = level[(level.index >= base) & (level.index <= base + pd.DateOffset(months=max(HORIZONS.values())))]
    return base, window / float(level.loc[base])


def _horizon_marks(level: pd.Series, base: pd.Timestamp, forward: Mapping[str, float | None]) -> tuple[list, ...]:
    """Where each stored forward return ends (the last date on or before base + h months), 1 + it, its horizon."""
    x, y, horizon = [], [], []
    for h, months in HORIZONS.items():
        r = forward.get(h)
        ends = level.index[level.index <= base + pd.DateOffset(months=months)]
        if r is not None and len(ends):
            x.append(f"{ends[-1]:%Y-%m-%d}")
            y.append(1.0 + r)
            horizon.append(h)
    return x, y, horizon


def _growth_traces(fig: go.Figure, r: EpisodeReport, e: Mapping[str, Any]) -> list[str]:
    """The growth of 1 in each series (column 2), its stored forward returns marked; the series left out."""
    start, missing = pd.Timestamp(e["start"]), []
    for i, (name, level) in enumerate(r.paths.items()):
        found = _growth(level, start, name not in r.runs)
        if found is None:
            known = level.index[np.isfinite(level.to_numpy(dtype=float))]
            first = known[0] if len(known) else None
            late_run = name in r.runs and first is not None and first > start
            why = (
                "no value" if first is None else f"its {'run begins' if late_run else 'values start'} {first:%Y-%m-%d}"
            )
            missing.append(f"{name} ({why}{', after the start' if late_run else ''})")
            continue
        base, curve = found
        colour = charts.PALETTE[(i + 1) % len(charts.PALETTE)]
        fig.add_trace(
            go.Scatter(x=_dates(curve.index), y=curve.to_numpy(dtype=float), name=name, legendgroup=name,
                       mode="lines", line={"width": 1.5, "color": colour}, hovertemplate="%{y:.3f}"),
            row=1, col=2,
        )  # fmt: skip
        x, y, horizon = _horizon_marks(level, base, (e.get("forward") or {}).get(name, {}))
        hover = [f"{name}, {h} forward return: {g - 1:+.1%} (growth {g:.3f})" for h, g in zip(horizon, y, strict=True)]
        fig.add_trace(
            go.Scatter(x=x, y=y, name=f"{name} 1m/3m/6m/12m", legendgroup=name, showlegend=False, mode="markers",
                       marker={"size": 7, "color": colour, "line": {"width": 1, "color": "#ffffff"}},
                       hovertext=hover, hovertemplate="%{hovertext}<extra></extra>"),
            row=1, col=2,
        )  # fmt: skip
    return missing


def _bands(e: Mapping[str, Any]) -> list[go.Scatter]:
    """The peak with its Fisher band (thin, capped) over its bootstrap band (thick, translucent)."""
    out = []
    if e["bootstrap_low"] is not None:
        out.append(
            go.Scatter(
                x=[e["date"]], y=[e["value"]], name="95% bootstrap band", mode="markers",
                marker={"size": 9, "symbol": "square", "color": _BOOT},
                error_y={"type": "data", "symmetric": False, "array": [e["bootstrap_high"] - e["value"]],
                         "arrayminus": [e["value"] - e["bootstrap_low"]], "color": _BOOT, "thickness": 9, "width": 0},
                hovertemplate=f"bootstrap [{e['bootstrap_low']:.3f}, {e['bootstrap_high']:.3f}]<extra></extra>",
            )
        )  # fmt: skip
    out.append(_peaks([e], "peak" if e["ci_low"] is None else "peak, 95% Fisher band"))
    return out


def _episode_title(r: EpisodeReport, e: Mapping[str, Any]) -> str:
    since = e["most_extreme_since"]
    lead = (
        f"{e['date']}: {r.signal} {e['value']:.3f}, rank {e['rank']}, percentile {percentile_text(e['percentile'])}, "
    )
    lead += f"most extreme since {since}" if since else "a record"
    bands = [
        f"{name} [{e[low]:.2f}, {e[high]:.2f}]"
        for name, low, high in (("Fisher", "ci_low", "ci_high"), ("bootstrap", "bootstrap_low", "bootstrap_high"))
        if e[low] is not None
    ]
    span = f"episode {e['start']} → {e['end']} ({e['observations']} observations)"
    return f"{lead}<br><sup>{'; '.join([span, *bands])}</sup>"


def _span(r: EpisodeReport, start: pd.Timestamp) -> str:
    """How far the growth curves go: 12 months, or to the end of the data when that comes first."""
    last, months = max((p.index[-1] for p in r.paths.values() if len(p)), default=None), max(HORIZONS.values())
    cut = last is not None and last < start + pd.DateOffset(months=months)
    return f"to the data's end, {last:%Y-%m-%d} (less than {months} months)" if cut else f"{months} months"


def _episode_figure(r: EpisodeReport, e: Mapping[str, Any]) -> tuple[go.Figure, list[str]]:
    """One episode: the signal a year either side with its bands, and the growth of 1 over the next 12 months.

    Returns the figure and the series without a growth curve (no value at their base date).
    """
    start, end = pd.Timestamp(e["start"]), pd.Timestamp(e["end"])
    around = r.history[
        (r.history.index >= start - pd.DateOffset(years=1)) & (r.history.index <= end + pd.DateOffset(years=1))
    ]
    fig = make_subplots(
        rows=1, cols=2, horizontal_spacing=0.08,
        subplot_titles=(f"{r.signal}, a year either side", f"growth of 1 from the episode's start, {_span(r, start)}"),
    )  # fmt: skip
    *boot, peak = _bands(e)  # the bootstrap band under the line, the peak over it
    fig.add_traces(boot, rows=1, cols=1)
    _signal_line(fig, around, r.signal, row=1, col=1)
    fig.add_trace(peak, row=1, col=1)
    _spans(fig, [e], row=1, col=1)
    _threshold_line(fig, r, row=1, col=1)
    missing = _growth_traces(fig, r, e)
    fig.add_hline(y=1.0, line={"color": "#9aa0ab", "width": 1}, row=1, col=2)
    charts.layout(fig, _episode_title(r, e), hovermode="closest")
    fig.update_yaxes(title_text=r.signal, row=1, col=1)
    fig.update_yaxes(title_text="growth of 1", row=1, col=2)
    below = {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.1, "yanchor": "top"}  # clear of the titles
    fig.update_layout(margin={"t": 100, "b": 70}, legend=below)
    return fig, missing


def _charted(r: EpisodeReport, limit: int = MAX_EPISODE_CHARTS) -> list[Mapping[str, Any]]:
    """The episodes that get a chart, in date order: all, or the ``limit`` most extreme (the lowest rank; among
    equal ranks, the more extreme value: two records share rank 1, the later one is beyond the earlier)."""
    episodes, sign = r.episodes, 1.0 if r.direction == "low" else -1.0
    if len(episodes) <= limit:
        return list(episodes)
    keep = sorted(range(len(episodes)), key=lambda i: (episodes[i]["rank"], sign * episodes[i]["value"]))[:limit]
    return [episodes[i] for i in sorted(keep)]


def _pct(x: float | None) -> str:
    return format_value(x, "pct")


def _int(x: int | None) -> str:
    return "–" if x is None else f"{x:,}"


def _c(d: Mapping[str, Any], key: str, fmt: Callable[[Any], str], name: str = "") -> Cell:
    """A cell of ``d[key]``: its text by ``fmt``, its exact number as ``data-value`` under ``name`` (or ``key``)."""
    v = d.get(key)
    return Cell(fmt(v), value=float(v) if isinstance(v, float) else v, key=name or key)


def _episode_row(i: int, e: Mapping[str, Any]) -> list[Cell | str]:
    same = e["indistinguishable"] or {}
    return [
        Cell(str(i), value=i, key="number"), e["date"],
        *(_c(e, k, _num) for k in ("value", "ci_low", "ci_high", "bootstrap_low", "bootstrap_high")),
        _c(e, "rank", _int), _c(e, "percentile", percentile_text),
        e["most_extreme_since"] or "–", "yes" if e["record"] else "no", e["start"], e["end"],
        _c(e, "observations", _int), _c(same, "count", _int, "indistinguishable_count"),
        same.get("first") or "–", same.get("last") or "–", _c(same, "share", _pct, "indistinguishable_share"),
    ]  # fmt: skip


_EPISODE_HEADERS = [
    "#", "Date", "Value", "Fisher low", "Fisher high", "Bootstrap low", "Bootstrap high", "Rank", "Percentile",
    "Most extreme since", "Record", "Start", "End", "Observations", "As close: count", "first", "last", "share",
]  # fmt: skip


def _episodes_section(r: EpisodeReport) -> Section:
    if not r.episodes:
        return Section(
            "episode-table", "Table of episodes", notice("No episode: no observation was beyond the threshold.")
        )
    rows = [_episode_row(i, e) for i, e in enumerate(r.episodes, start=1)]
    lines = [
        "Date: the episode's most extreme observation, whose value, bands, rank, percentile and most-extreme-since "
        "are shown; start and end: its first and last qualifying observations. Fisher: tanh(atanh(r) ∓ "
        "1.96/√(n−3)); bootstrap: 2.5% and 97.5% quantiles of 2,000 circular-block resamples of the window's pairs. "
        "Rank 1 is a record; the percentile and rank use only the observations up to that date. As close: the "
        "earlier observations whose value a 5% test of equal correlations cannot tell apart from it (count, first, "
        "last date, share of all earlier observations).",
    ]
    body = table_html(_EPISODE_HEADERS, rows, table_id="episodes") + paragraphs(lines, "small muted")
    return Section("episode-table", "Table of episodes", body)


def _forward_section(r: EpisodeReport) -> Section:
    rows: list[list[Cell | str]] = [
        [e["date"], e["start"], name, *(_c(fwd, h, _pct) for h in HORIZONS)]
        for e in r.episodes
        for name, fwd in (e.get("forward") or {}).items()
    ]
    line = (
        "Base-currency returns over 1, 3, 6 and 12 calendar months from each series' first close after the "
        "episode's start (a config's value then); – where the data ends before the horizon, no exchange rate is "
        "known, or a config's run begins after the start."
    )
    body = table_html(["Date", "Start", "Series", *HORIZONS], rows, table_id="forward", scroll=True)
    return Section("after", "What came after", body + paragraphs([line], "small muted"))


def _study_rows(summary: Mapping[str, Mapping[str, Mapping[str, Any]]]) -> list[list[Cell | str]]:
    return [
        [name, h, *(_c(s, k, _pct) for k in ("mean", "ci_low", "ci_high")), _c(s, "n_independent", _int),
         _c(s, "n_episodes", _int), _c(s, "others_mean", _pct), _c(s, "n_others", _int),
         *(_c(s, k, _pct) for k in ("difference", "difference_low", "difference_high"))]
        for name, by_h in summary.items()
        for h, s in by_h.items()
    ]  # fmt: skip


def _study_section(r: EpisodeReport, figures: dict[str, go.Figure]) -> Section:
    headers = ["Series", "Horizon", "Mean", "CI low", "CI high", "Independent", "Episodes", "Others mean", "Others",
               "Difference", "Diff. low", "Diff. high"]  # fmt: skip
    table = table_html(headers, _study_rows(r.summary), table_id="study")
    lines = [
        "Mean: over the independent episodes (in date order, one whose start is at least h months after the previous "
        "kept start), with its 95% t interval; Episodes: all with a known return. Others: every observation date "
        "outside every episode with a known return; difference: mean − others' mean with a Welch 95% interval "
        "(degrees of freedom: the smaller sample's, less one), the others' standard error from a non-overlapping "
        "sample of them.",
        *([caveat] if (caveat := r.interval_caveat()) else []),
    ]
    if not r.episodes:
        return Section("event-study", "Event study", notice("No episode: no event study to chart.") + table)
    figures["study"] = _study_figure(r.summary)
    body = figure_html(figures["study"], "fig-study") + table + paragraphs(lines, "small muted")
    return Section("event-study", "Event study", body)


def _charts_section(r: EpisodeReport, figures: dict[str, go.Figure]) -> Section:
    shown = _charted(r)
    if not shown:
        return Section("charts", "Each episode", notice("No episode: no chart."))
    lines = [
        "Left: the signal from a year before the episode's start to a year after its end, the episode shaded, its "
        + (
            "peak with the 95% Fisher band (thin, capped) over the 95% bootstrap band (thick, orange)"
            if _has_bands(r)
            else "peak (a correlation's would carry its 95% bands)"
        )
        + (", the threshold dashed." if r.threshold.kind == "value" else ".")
        + " Right: the growth of 1 in each series over 12 months, from its first close after the start; the dots "
        "are the stored 1, 3, 6 and 12-month forward returns."
    ]
    if len(shown) < len(r.episodes):
        lines.insert(0, f"Charts for the {len(shown)} most extreme of the {len(r.episodes)} episodes (lowest rank).")
    body = [paragraphs(lines, "small muted")]
    for e in shown:
        fig, missing = _episode_figure(r, e)
        figures[f"episode_{e['date']}"] = fig
        body.append(figure_html(fig, f"fig-episode-{e['date']}"))
        note = f"No growth curve from {e['start']} for {', '.join(missing)}."
        body.append(paragraphs([note], "small muted") if missing else "")
    return Section("charts", "Each episode", "".join(body))


def episodes_page(r: EpisodeReport) -> Report:
    """The report page of ``seesaw episodes`` and its figures (``history``, ``study``, ``episode_<date>``)."""
    figures: dict[str, go.Figure] = {}
    sections = [
        Section("summary", "Episodes", _header(r)),
        _history_section(r, figures),
        _study_section(r, figures),
        _episodes_section(r),
        _forward_section(r),
        _charts_section(r, figures),
        Section("notes", "Notes", paragraphs([*(f"WARNING: {w}" for w in r.warnings), *r.notes] or ["None."], "small")),
    ]  # fmt: skip
    extreme = "lowest" if r.direction == "low" else "highest"
    title = f"Seesaw episodes: {r.config}, {r.signal} at its {extreme}"
    obs = r.observations
    subtitle = f"{len(r.episodes)} episodes · {obs['count']:,} observations, {obs['first']} → {obs['last']}"
    if r.synthetic:
        subtitle += " · SYNTHETIC"
    html = page_html(title, sections, banner=SYNTHETIC_BANNER if r.synthetic else None, subtitle=subtitle)
    return Report(title=title, html=html, figures=figures)


def write_episodes_report(report: EpisodeReport, path: Path) -> None:
    """Write the page of :func:`episodes_page` to ``path``, whole or not at all (:func:`write_report`)."""
    report_target(path, None, {})
    write_report(episodes_page(report), path)
