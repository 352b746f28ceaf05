"""A heatmap of one sweep metric over two parameters, as a self-contained HTML file (plotly).

With more than two sweep keys, each cell shows the *best* value of the metric over the other
keys (the highest, or the lowest for a lower-is-better metric), and the hover text names the
values of the other keys that gave it: a heatmap of a slice would hide where the best lies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engine.errors import UserError
from engine.metrics.specs import LOWER_IS_BETTER
from engine.plural import counted
from engine.sweep_columns import check_heatmap_keys

if TYPE_CHECKING:
    from engine.store.sweeps import SweepOutcome

__all__ = ["heatmap_figure", "heatmap_grid", "heatmap_page"]


def heatmap_grid(table: pd.DataFrame, keys: Sequence[str], x: str, y: str, metric: str) -> pd.DataFrame:
    """(y values x x values) of the best ``metric`` over the other keys; the rows of ``table`` that gave it.

    Returns a frame indexed by (y, x) with the metric and the other keys' values of the best row.
    """
    check_heatmap_keys(keys, x, y)
    if metric not in table.columns:
        raise UserError(f"--heatmap-metric: unknown metric {metric!r}")
    ascending = metric in LOWER_IS_BETTER
    ranked = table.sort_values(metric, ascending=ascending, na_position="last", kind="stable")
    return ranked.groupby([y, x], sort=True).head(1).set_index([y, x]).sort_index()


def heatmap_figure(table: pd.DataFrame, keys: Sequence[str], x: str, y: str, metric: str, *, title: str) -> Any:
    """The plotly figure (see the module docstring)."""
    import plotly.graph_objects as go

    from engine.render.html.colour_scale import colour_scale

    best = heatmap_grid(table, keys, x, y, metric)
    ys = sorted(best.index.get_level_values(0).unique())
    xs = sorted(best.index.get_level_values(1).unique())
    z = np.full((len(ys), len(xs)), np.nan)
    text = np.full((len(ys), len(xs)), "", dtype=object)
    others = [k for k in keys if k not in (x, y)]
    for (yv, xv), row in best.iterrows():
        i, j = ys.index(yv), xs.index(xv)
        z[i, j] = row[metric]
        text[i, j] = "<br>".join(f"{k} = {row[k]}" for k in others)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(v) for v in xs],
            y=[str(v) for v in ys],
            text=text,
            colorscale=colour_scale(metric, z),
            colorbar={"title": metric},
            hovertemplate=f"{x} = %{{x}}<br>{y} = %{{y}}<br>{metric} = %{{z:.4g}}<br>%{{text}}<extra></extra>",
        )
    )
    note = f" (best over {', '.join(others)})" if others else ""
    fig.update_layout(title=f"{title}: {metric}{note}", xaxis_title=x, yaxis_title=y, template="plotly_white")
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def heatmap_page(outcome: SweepOutcome, x: str, y: str, metric: str) -> str:
    """The heatmap of ``metric`` over sweep keys ``x`` and ``y`` as a self-contained report page
    (:func:`engine.render.html.page.page_html`, plotly.js as every report inlines it), under a line
    naming the data, the period and the sweep, as the sweep's report does."""
    from engine.render.html.page import SYNTHETIC_BANNER, Section, figure_html, page_html

    fig = heatmap_figure(outcome.table, outcome.keys, x, y, metric, title=f"Sweep of {outcome.cfg.name}")
    section = Section("heatmap", f"{metric} over {x} × {y}", figure_html(fig, "fig-heatmap", tall=True))
    man = outcome.manifest
    source = f"{man['data_source']}{' (SYNTHETIC)' if outcome.synthetic else ''}"
    tried = counted(int(man["combinations"]), "combinations")
    subtitle = f"{source} data, {man['start']} → {man['end']}; {tried}, sweep {man['sweep_id']}"
    banner = SYNTHETIC_BANNER if outcome.synthetic else None
    return page_html(f"Seesaw sweep heatmap: {outcome.cfg.name}", [section], banner=banner, subtitle=subtitle)
