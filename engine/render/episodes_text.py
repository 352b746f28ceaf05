"""``seesaw episodes`` in the terminal (tables) and as CSV; the JSON is the report's own lists."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from rich.console import JustifyMethod
from rich.table import Table

from engine.render.fit import MIN_NAME, column_blocks, natural_width, shorten_names

if TYPE_CHECKING:
    from engine.episode_report import EpisodeReport

__all__ = ["CSV_FIELDS", "episodes_csv", "episodes_lines", "percentile_text"]

#: Columns of ``--format csv``: one row per episode and series, the horizons last.
CSV_FIELDS = (
    "config", "signal", "direction", "synthetic", "date", "value", "rank", "percentile", "most_extreme_since",
    "record", "ci_low", "ci_high", "bootstrap_low", "bootstrap_high", "indistinguishable_count",
    "indistinguishable_first", "indistinguishable_last", "indistinguishable_share", "start", "end",
    "observations", "series", "1m", "3m", "6m", "12m",
)  # fmt: skip


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:+z.1%}"


def percentile_text(p: float) -> str:
    """A percentile to one decimal, or two significant digits below 0.1 (a record's, 100/n, never shows as 0.0)."""
    return f"{p:.1f}" if p >= 0.1 or p == 0 else f"{p:.2g}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:z.3f}"


def _band(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low:z.2f}…{high:z.2f}"


#: The episodes table's columns (header, justification); the first, the date, is repeated in every block.
_EPISODE_COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("extreme on", "left"), ("value [95% Fisher]", "right"), ("95% bootstrap", "right"), ("rank", "right"),
    ("pctile", "right"), ("extreme since", "left"), ("obs", "right"), ("as close", "right"),
)  # fmt: skip
#: The event study's columns; the first two, the series and the horizon, are repeated in every block.
_STUDY_COLUMNS: tuple[tuple[str, JustifyMethod], ...] = (
    ("series", "left"), ("h", "left"), ("mean", "right"), ("95% CI", "right"), ("indep./all", "right"),
    ("others", "right"), ("difference", "right"), ("95% CI", "right"),
)  # fmt: skip
_HORIZONS = ("1m", "3m", "6m", "12m")


def _episode_tables(r: EpisodeReport, width: int | None) -> list[Table]:
    rows = []
    for e in r.episodes:
        same = e["indistinguishable"]
        value = f"{e['value']:z.3f}"
        if e["ci_low"] is not None:
            value += f" [{e['ci_low']:z.2f}, {e['ci_high']:z.2f}]"
        boot = "–" if e["bootstrap_low"] is None else f"[{e['bootstrap_low']:z.2f}, {e['bootstrap_high']:z.2f}]"
        rows.append([
            e["date"],
            value,
            boot,
            str(e["rank"]),
            percentile_text(e["percentile"]),
            e["most_extreme_since"] or "ever",
            str(e["observations"]),
            "–" if same is None or same["share"] is None else f"{same['share']:.0%}",
        ])  # fmt: skip
    return column_blocks(_EPISODE_COLUMNS, rows, keys=1, width=width)


def _forward_tables(r: EpisodeReport, names: Mapping[str, str], width: int | None) -> list[Table]:
    columns: list[tuple[str, JustifyMethod]] = [("from (episode start)", "left"), ("series", "left")]
    rows = [
        [e["start"] if k == 0 else "", names[name], *(_pct(fwd[h]) for h in _HORIZONS)]
        for e in r.episodes
        for k, (name, fwd) in enumerate(e["forward"].items())
    ]
    return column_blocks([*columns, *((h, "right") for h in _HORIZONS)], rows, keys=2, width=width)


def _study_rows(summary: Mapping[str, Mapping[str, Mapping[str, Any]]], names: Mapping[str, str]) -> list[list[str]]:
    return [
        [
            names[name] if k == 0 else "",
            h,
            _pct(s["mean"]),
            _pct_band(s["ci_low"], s["ci_high"]),
            f"{s['n_independent']}/{s['n_episodes']}",
            _pct(s["others_mean"]),
            _pct(s["difference"]),
            _pct_band(s["difference_low"], s["difference_high"]),
        ]
        for name, by_h in summary.items()
        for k, (h, s) in enumerate(by_h.items())
    ]


def _pct_band(low: float | None, high: float | None) -> str:
    return "–" if low is None or high is None else f"{low:+z.1%}…{high:+z.1%}"


def _series_names(r: EpisodeReport, width: int | None) -> tuple[dict[str, str], list[str]]:
    """Each series' name as the tables show it, and the legend of those shortened: a name longer than the event
    study leaves room for at ``width`` becomes a prefix and ``[n]`` (never a number cut)."""
    names = list(dict.fromkeys([*r.summary, *(n for e in r.episodes for n in e["forward"])]))
    if width is None:
        return {n: n for n in names}, []
    [whole] = column_blocks(_STUDY_COLUMNS, _study_rows(r.summary, dict.fromkeys(names, "")), keys=2, width=None)
    rest = natural_width(whole)
    short, legend = shorten_names(names, max(width - rest, MIN_NAME))
    return dict(zip(names, short, strict=True)), ["  names shortened: " + "; ".join(legend)] if legend else []


def episodes_lines(r: EpisodeReport, width: int | None = None) -> list[Any]:
    """What the terminal shows: a heading, the episodes, what followed, the event study; at ``width`` a series'
    name the event study has no room for is shortened, with a legend."""
    label = " (SYNTHETIC DATA)" if r.synthetic else ""
    obs = r.observations
    head = [
        f"{r.config}{label}: episodes of {r.signal} at its {'lowest' if r.direction == 'low' else 'highest'}",
        f"  {obs['count']} observations, {obs['first']} … {obs['last']}",
        f"  an episode: {r.threshold_text()}",
        f"  (runs separated by fewer than {r.gap} other observations are one episode)",
    ]
    if not r.episodes:
        return [*head, "  no episode"]
    names, legend = _series_names(r, width)
    return [
        *head,
        *_episode_tables(r, width),
        "  extreme on: its most extreme date (it starts earlier; What came after counts from the start);",
        "  extreme since: the last earlier date as extreme (ever: a record); obs: observations it spans;",
        "  as close: the share of earlier dates whose value a 5% test cannot tell apart from it",
        "What came after (base-currency returns from each series' first close after the episode's start)",
        *_forward_tables(r, names, width),
        "Event study: independent episodes (h-month windows not overlapping) against every other date",
        *column_blocks(_STUDY_COLUMNS, _study_rows(r.summary, names), keys=2, width=width),
        *legend,
        *([f"  {caveat}"] if (caveat := r.interval_caveat()) else []),
    ]


def episodes_csv(r: EpisodeReport) -> str:
    """One row per episode and series (:data:`CSV_FIELDS`)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for e in r.episodes:
        same = e["indistinguishable"] or {}
        base = {k: e.get(k) for k in CSV_FIELDS if k in e}
        base |= {f"indistinguishable_{k}": same.get(k) for k in ("count", "first", "last", "share")}
        for name, fwd in e["forward"].items():
            w.writerow(base | {"series": name, **fwd})
    return buf.getvalue()
