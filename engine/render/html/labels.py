"""Where chart labels go: clear of the points and of each other, in pixels of the plot area.

The risk-return scatter names each point with a label on a thin line (:func:`point_labels`); a
signal chart's threshold labels sit on their own dashed line (:func:`along_the_line`).  Both place
greedily, in the pixel model below, and the browser tests check the result in Chromium.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "CHAR_PX",
    "LABEL_PX",
    "PLOT_PX",
    "TALL_LABELS",
    "TALL_PLOT_PX",
    "along_the_line",
    "covered",
    "is_tall_risk_return",
    "label_box",
    "label_offsets",
    "overlaps",
    "point_labels",
    "spots",
]

#: The plot area of a figure on the page, in CSS pixels (1232 px wide, 440 high, less margins and axis titles),
#: a width of one character of a 10 px label (an upper bound for system-ui), and a label's height.
PLOT_PX, CHAR_PX, LABEL_PX = (1100.0, 300.0), 6.2, 15.0
#: The plot area's height in a tall figure (620 px: page.figure_html(tall=True)).
TALL_PLOT_PX = 480.0
#: More labels than this make the risk-return figure tall: a 300-px plot has no free place for them all.
TALL_LABELS = 12
RADII = (28, 40, 55, 75, 100, 130, 170, 220, 280, 350, 440)
DIRECTIONS = [(np.cos(a), -np.sin(a)) for a in np.radians([90, 270, 30, 150, 210, 330, 0, 180, 60, 120, 240, 300])]


def overlaps(box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> bool:
    return any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes)


def label_offsets(
    px: np.ndarray, py: np.ndarray, texts: Sequence[str], height: float = PLOT_PX[1]
) -> list[tuple[float, float]]:
    """For each point (pixels in the plot area, y down), the offset of its label's centre: the nearest free place.

    Greedy: each label in turn tries rings of growing radius around its point, twelve directions each (a wide
    label steps further sideways), and takes the first box inside the plot that touches no marker and no
    label placed before it.
    """
    width = PLOT_PX[0]
    taken = [(x - 7, y - 7, x + 7, y + 7) for x, y in zip(px, py, strict=True)]  # the markers
    out = []
    for x, y, text in zip(px, py, texts, strict=True):
        w = len(text) * CHAR_PX + 6
        rings = [(dx * r * (1 + w / 60 * abs(dx)), dy * r) for r in RADII for dx, dy in DIRECTIONS]
        inside = [
            (dx, dy, box)
            for dx, dy in rings
            if (box := label_box(x + dx, y + dy, w)) and box[0] >= 0 and box[2] <= width and box[1] >= 0
            and box[3] <= height
        ]  # fmt: skip
        free = next(((dx, dy, box) for dx, dy, box in inside if not overlaps(box, taken)), None)
        if free is None:  # crowded: the place that covers the least of what is already there
            free = min(inside, key=lambda c: covered(c[2], taken), default=(0.0, -28.0, label_box(x, y - 28, w)))
        dx, dy, box = free
        taken.append(box)
        out.append((float(dx), float(dy)))
    return out


def covered(box: tuple[float, float, float, float], boxes: list[tuple[float, float, float, float]]) -> float:
    """The area of ``box`` that ``boxes`` cover (overlaps counted once per box)."""
    return sum(
        max(0.0, min(box[2], b[2]) - max(box[0], b[0])) * max(0.0, min(box[3], b[3]) - max(box[1], b[1])) for b in boxes
    )


def label_box(cx: float, cy: float, w: float) -> tuple[float, float, float, float]:
    return (cx - w / 2 - 2, cy - LABEL_PX / 2 - 1, cx + w / 2 + 2, cy + LABEL_PX / 2 + 1)


def spots(points: Sequence[tuple[str, str, float, float]]) -> dict[tuple[float, float], list[str]]:
    """The names at each distinct finite (volatility, CAGR)."""
    spots: dict[tuple[float, float], list[str]] = {}
    for name, _, x, y in points:
        if np.isfinite(x) and np.isfinite(y):
            spots.setdefault((x, y), []).append(name)
    return spots


def is_tall_risk_return(points: Sequence[tuple[str, str, float, float]]) -> bool:
    """Whether :func:`risk_return_figure` needs a tall figure for its labels."""
    return len(spots(points)) > TALL_LABELS


def point_labels(points: Sequence[tuple[str, str, float, float]], xr: list[float], yr: list[float]) -> list[dict]:
    """One annotation per distinct (volatility, CAGR), naming every row there, placed by :func:`label_offsets`."""
    found = spots(points)
    height = TALL_PLOT_PX if len(found) > TALL_LABELS else PLOT_PX[1]
    xy = np.array(list(found), dtype=float).reshape(-1, 2)
    px = (xy[:, 0] - xr[0]) / (xr[1] - xr[0]) * PLOT_PX[0]
    py = (1 - (xy[:, 1] - yr[0]) / (yr[1] - yr[0])) * height
    texts = [" = ".join(names) for names in found.values()]
    offsets = label_offsets(px, py, texts, height)
    return [
        {"x": x, "y": y, "ax": dx, "ay": dy, "text": text, "showarrow": True, "arrowhead": 0, "arrowwidth": 1,
         "arrowcolor": "#6b7280", "standoff": 6, "font": {"size": 10}, "bgcolor": "rgba(255,255,255,0.85)"}
        for (x, y), text, (dx, dy) in zip(xy.tolist(), texts, offsets, strict=True)
    ]  # fmt: skip


def along_the_line(
    value: float, label: str, y_range: Sequence[float], taken: list[tuple[float, float, float, float]]
) -> tuple[float, bool]:
    """Where a threshold's label goes: (left edge as a share of the plot's width, above the line), first clear."""
    width, height = PLOT_PX
    y = (y_range[1] - value) / (y_range[1] - y_range[0]) * height
    w = len(label) * CHAR_PX + 8
    for above in (True, False):
        top = y - LABEL_PX if above else y
        x = 4.0
        while x + w <= width:
            box = (x, top, x + w, top + LABEL_PX)
            hits = [b for b in taken if box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3]]
            if not hits:
                taken.append(box)
                return x / width, above
            x = max(b[2] for b in hits) + 12
    return 0.0, True
