"""One colour scale for every heatmap of one metric on a page: pure, on plotly figures.

Each heatmap of :func:`engine.render.heatmap.heatmap_figure` scales its colours to its own
cells, so the same colour would mean a different Sharpe in two heatmaps side by side.
:func:`share_colour_scale` gives them all the same ``zmin``/``zmax`` and colour scale: the
lowest and highest value over every cell of every one of them.  When that range holds both
signs it is symmetric about 0 on a red-yellow-green scale, so 0 is the middle colour (a loss is
red, a gain green, however lopsided the range); when every cell has one sign, a single green
from pale to dark (darker is better), so that the worst of all-positive Sharpes is not red.

>>> import plotly.graph_objects as go
>>> a, b = go.Figure(go.Heatmap(z=[[0.1, 0.3]])), go.Figure(go.Heatmap(z=[[-0.2, 0.2]]))
>>> share_colour_scale([a, b], "cagr")
(-0.3, 0.3)
>>> b.data[0].zmin, b.data[0].zmax, b.data[0].zauto
(-0.3, 0.3, False)
>>> colour_scale("sharpe", np.array([0.24, 0.51])), colour_scale("sharpe", np.array([-0.1, 0.5, np.nan]))
('Greens', 'RdYlGn')
>>> colour_scale("ann_vol", np.array([0.1, 0.2]))
'Greens_r'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from engine.metrics.specs import LOWER_IS_BETTER

__all__ = ["colour_scale", "share_colour_scale"]


def colour_scale(metric: str, cells: np.ndarray) -> str:
    """For ``cells`` (NaN ignored): red for bad, green for good (``RdYlGn``) when the finite ones hold both signs,
    else one green, darker for better (``Greens``); reversed for a metric where lower is better."""
    finite = cells[np.isfinite(cells)]
    scale = "RdYlGn" if len(finite) and finite.min() < 0 < finite.max() else "Greens"
    return f"{scale}_r" if metric in LOWER_IS_BETTER else scale


def share_colour_scale(figures: Sequence[go.Figure], metric: str) -> tuple[float, float] | None:
    """Set one ``zmin``/``zmax`` and colour scale on every heatmap trace of ``figures``; return the range.

    None (and nothing changed) when no cell has a finite value.
    """
    traces = [t for fig in figures for t in fig.data if isinstance(t, go.Heatmap)]
    cells = np.concatenate([np.asarray(t.z, dtype=float).ravel() for t in traces]) if traces else np.array([])
    cells = cells[np.isfinite(cells)]
    if not len(cells):
        return None
    low, high = float(cells.min()), float(cells.max())
    scale = colour_scale(metric, cells)
    if low < 0 < high:
        low, high = -max(-low, high), max(-low, high)
    for t in traces:
        t.update(zmin=low, zmax=high, zauto=False, colorscale=scale)
    return low, high
