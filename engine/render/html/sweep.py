"""The HTML report of a sweep (``seesaw sweep … --report``): pure, from the stored sweep and its top rows.

Every number shown is a stored or printed one: the header is the sweep's ``sweep.json`` (and its
``config.yaml``, as written), the top table is the frame ``seesaw sweep`` prints
(:func:`engine.jobs.sweep.sweep_top`, cells by :mod:`engine.render.sweep_text`, as in the terminal), the
table of all combinations is ``combos.parquet`` ranked as the top rows are
(:func:`engine.jobs.sweep.rank_combinations`), each heatmap is :func:`engine.render.heatmap.heatmap_figure`
of ``combos.parquet`` (all on one colour scale: :mod:`engine.render.html.colour_scale`), the PBO chart is
the stored histogram of the CSCV logits with the stored PBO,
probability of loss and deflated Sharpe, and the walk-forward part is a stored walk-forward run
(:mod:`engine.render.html.walkforward`).

Sections: sweep (header), the best rows, all combinations (sortable in the browser; the best
``max_rows`` of them), heatmaps over pairs of numeric sweep keys, overfitting (PBO, DSR),
walk-forward (when one of this config and data is stored), resolved config.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from engine.metrics.specs import LOWER_IS_BETTER, SWEEP_TABLE, beta_label, spec
from engine.plural import counted
from engine.render.heatmap import heatmap_figure
from engine.render.html import charts
from engine.render.html.colour_scale import share_colour_scale
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
    preformatted,
    table_html,
)
from engine.render.html.walkforward import walkforward_sections
from engine.render.sweep_text import TIED_SPLITS, sweep_caption, sweep_headers, sweep_row_cells, weight_headers
from engine.store.rundir import StoredRun
from engine.store.sweeps import SweepOutcome
from engine.sweep import rank_combinations

__all__ = ["DEFAULT_TABLE_ROWS", "MAX_HEATMAPS", "heatmap_pairs", "sweep_report"]

#: Rows of the table of all combinations by default (``--report-rows``): the best by ``--sort``.
DEFAULT_TABLE_ROWS = 500
#: At most this many heatmaps (pairs of numeric keys, in the sweep's key order).
MAX_HEATMAPS = 6


def heatmap_pairs(table: pd.DataFrame, keys: Sequence[str]) -> list[tuple[str, str]]:
    """Every pair (x, y) of numeric sweep keys, x before y in the sweep's key order.

    >>> frame = pd.DataFrame({"w": [20], "rebalance": ["weekly"], "cut": [0.1], "lag": [1]})
    >>> heatmap_pairs(frame, ["w", "rebalance", "cut", "lag"])
    [('w', 'cut'), ('w', 'lag'), ('cut', 'lag')]
    """
    numeric = [k for k in keys if pd.api.types.is_numeric_dtype(table[k]) and not pd.api.types.is_bool_dtype(table[k])]
    return list(itertools.combinations(numeric, 2))


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def _cells(cells: Sequence[tuple[str, str, float | int | None]]) -> list[Cell | str]:
    return [Cell(text, value=value, key=key) for key, text, value in cells]


def _header(outcome: SweepOutcome, sort: str) -> str:
    man, cfg = outcome.manifest, outcome.cfg
    values: list[list[Any]] = man["values"]
    facts = [
        ("config", cfg.name),
        ("description", cfg.description or "–"),
        ("sweep id", str(man["sweep_id"])),
        ("created", str(man.get("created_at", "–"))),
        ("data source", f"{man['data_source']}{' (SYNTHETIC)' if outcome.synthetic else ''}"),
        ("simulated period", f"{man['start']} → {man['end']}"),
        ("symbols", ", ".join(f"{a}: {spec.symbol}" for a, spec in cfg.assets.items())),
        ("data fingerprint", str(man["data_fingerprint"])),
        ("code hash", str(man.get("code_hash", "–"))),
        ("Seesaw version", str(man.get("seesaw_version", "–"))),
        ("engine", _engine_fact(outcome)),
        (
            "combinations",
            f"{man['combinations']:,} = {' × '.join(str(len(v)) for v in values)} "
            f"({counted(man['chunks'], 'chunks')} of up to {man['chunk_size']})",
        ),
        *((f"sweep: {k}", ", ".join(str(v) for v in vs)) for k, vs in zip(man["keys"], values, strict=True)),
        ("sorted by", f"{sort} ({'lowest' if sort in LOWER_IS_BETTER else 'highest'} first)"),
        ("stored in", str(outcome.sweep_dir)),
    ]
    return facts_html(facts)


def _engine_fact(outcome: SweepOutcome) -> str:
    """The ``--engine`` a sweep ran with, and who filled its orders when that is not the engine (margin accounts)."""
    engine = str(outcome.manifest.get("simulator", "–"))
    if outcome.engine_overruled:
        return f"{engine} (margin accounts: the scheduler's fills, not re-simulated)"
    return engine


def _top_table(outcome: SweepOutcome, rows: pd.DataFrame, sort: str, reps: int, caveats: Sequence[str]) -> str:
    weights = [c for c in rows.columns if c.startswith("weight_")]
    headers = ["#", *sweep_headers(outcome.keys, weights)]  # as the terminal's table heads them
    body = [
        _cells(sweep_row_cells(r, i, outcome.keys, SWEEP_TABLE, weights))
        for i, r in enumerate(rows.to_dict(orient="records"), 1)
    ]
    table = table_html(headers, body, table_id="top", sortable=True)
    return table + paragraphs(sweep_caption(outcome, reps, sort, rows, caveats), "small muted")


def _all_table(outcome: SweepOutcome, sort: str, max_rows: int) -> str:
    table = outcome.table
    shown = rank_combinations(table, sort, max_rows)
    keys = outcome.keys
    weights = [c for c in table.columns if c.startswith("weight_")]
    metrics = [c for c in table.columns if c not in ("combo", *keys, *weights)]
    labels = {k: _label(k) for k in metrics}  # as the best rows' table heads them; the cells keep the keys
    headers = ["#", "combo", *keys, *labels.values(), *weight_headers(weights)]
    body = []
    for i, r in enumerate(shown.to_dict(orient="records"), 1):
        cells = sweep_row_cells(r, i, keys, metrics, weights)
        cells.insert(1, ("combo", str(r["combo"]), int(r["combo"])))
        body.append(_cells(cells))
    order = "ascending" if sort in LOWER_IS_BETTER else "descending"
    by = labels.get(sort, sort)
    html = table_html(headers, body, table_id="combinations", scroll=True, sortable=True, sorted_by=(by, order))
    left = len(table) - len(shown)
    lines = [
        f"The best {len(shown):,} of {counted(len(table), 'combinations')} by {by}"
        + (f" ({left:,} left out: --report-rows N shows more)" if left else " (all of them)")
        + ", from combos.parquet. Click a column header to sort by it, again to reverse; empty values stay last. "
        "combo: the combination's number in grid order (the last key varies fastest). All combinations: "
        'seesaw runs query "SELECT * FROM sweep_combos".'
    ]
    return html + paragraphs(lines, "small muted")


def _label(key: str) -> str:
    """A metric's label (``Total ret``; ``β us`` for ``beta_us``, as compare heads it), else the column's key."""
    if key.startswith("beta_"):
        return beta_label(key.removeprefix("beta_"))
    try:
        return spec(key).label
    except KeyError:
        return key


def _heatmaps(outcome: SweepOutcome, sort: str, figures: dict[str, go.Figure]) -> str:
    pairs = heatmap_pairs(outcome.table, outcome.keys)
    if not pd.api.types.is_numeric_dtype(outcome.table[sort]):
        return notice(f"No heatmap: the sort column {sort} is not a number (sort by a metric, e.g. --sort sharpe).")
    if not pairs:
        return notice(
            f"No heatmap here: the report draws them over two numeric sweep keys, and this sweep has "
            f"{', '.join(outcome.keys)} ({counted(len(outcome.table), 'combinations')}; see the tables). "
            "--heatmap A,B --output FILE.html draws one over any two keys."
        )
    shown = pairs[:MAX_HEATMAPS]
    best = "lowest" if sort in LOWER_IS_BETTER else "highest"
    made = {}
    for x, y in shown:
        fig = heatmap_figure(outcome.table, outcome.keys, x, y, sort, title=f"{x} × {y}")
        others = [k for k in outcome.keys if k not in (x, y)]
        over = f"<br><sup>each cell: the {best} over {', '.join(others)}</sup>" if others else ""
        fig.update_layout(title={"text": f"{sort} over {x} × {y}{over}", "x": 0, "xanchor": "left"})  # two lines
        made[f"heatmap_{_safe(x)}_{_safe(y)}"] = fig
    scale = share_colour_scale(list(made.values()), sort)
    figures.update(made)
    divs = [figure_html(fig, f"fig-{name.replace('_', '-')}") for name, fig in made.items()]
    more = (
        f" The first {len(shown)} of {len(pairs)} pairs are shown; any other: seesaw sweep CONFIG --heatmap A,B."
        if len(pairs) > len(shown)
        else ""
    )
    same = (
        f" Every heatmap has the same colour scale, {scale[0]:.4g} to {scale[1]:.4g}"
        + (", 0 in the middle" if scale[0] < 0 < scale[1] else "")
        + ": a colour is the same value in each."
        if scale
        else ""
    )
    text = (
        f"{sort} over each pair of numeric sweep keys, from combos.parquet. With more than two keys each cell is "
        f"the {best} {sort} over the other keys' values, named in its hover text." + same + more
    )
    return f'<div class="pair">{"".join(divs)}</div>' + paragraphs([text], "small muted")


def _overfitting(outcome: SweepOutcome, figures: dict[str, go.Figure]) -> str:
    man = outcome.manifest
    lines = []
    body = ""
    hist = man.get("pbo_logit_hist")
    if "pbo" in man and hist:
        figures["pbo"] = charts.pbo_figure(
            hist["edges"],
            hist["counts"],
            pbo=man["pbo"],
            title="Where the in-sample best ranks out of sample: CSCV logits over all splits",
        )
        body += figure_html(figures["pbo"], "fig-pbo")
        lines += [
            f"Probability of backtest overfitting PBO = {man['pbo']:.3f}: the share of the {man['pbo_split_count']:,} "
            f"splits of {man['pbo_splits']} blocks of {man['pbo_block_dates']} dates in which the combination that "
            "was best in sample ranked at or below the median out of sample (logit <= 0; the red bars).",
            f"Probability of an out-of-sample loss (the in-sample best's out-of-sample Sharpe below zero): "
            f"{man['pbo_prob_loss']:.3f}.",
        ]
        if tied := man.get("pbo_tied_splits"):
            lines.append(TIED_SPLITS.format(tied=f"{tied:,}", splits=f"{man['pbo_split_count']:,}"))
    else:
        body += notice(
            "No PBO: combinatorially symmetric cross-validation needs at least two combinations and a full block "
            "of dates for each of its blocks."
        )
    if "best_dsr" in man:
        lines.append(
            f"The best combination by Sharpe (combo {man['best_combo']}) has Sharpe {man['best_sharpe']:.2f}; the "
            f"expected maximum Sharpe of {man['dsr_trials']:,} unskilled trials is {man['best_sr0_annualised']:.2f}, "
            f"so its deflated Sharpe ratio DSR = {man['best_dsr']:.3f} (the probability that its true Sharpe exceeds "
            "that)."
        )
    return body + paragraphs(lines)


def _walkforward(walkforward: StoredRun | None, figures: dict[str, go.Figure]) -> list[Section]:
    if walkforward is not None:
        return walkforward_sections(walkforward, figures)
    text = (
        "No walk-forward of this config on this data is stored. Run seesaw walkforward CONFIG --train 5y --test 1y "
        "with the same data options, then this sweep again with --report (the sweep is reused, not rerun)."
    )
    return [Section("walkforward", "Walk-forward: in sample vs out of sample", notice(text))]


def sweep_report(
    outcome: SweepOutcome,
    rows: pd.DataFrame,
    *,
    sort: str,
    reps: int,
    config_text: str,
    walkforward: StoredRun | None = None,
    max_rows: int | None = None,
    caveats: Sequence[str] = (),
) -> Report:
    """The sweep's report page and its figures.

    ``rows``: the top rows as ``seesaw sweep`` prints them (:func:`engine.jobs.sweep.sweep_top` with ``sort``
    and ``reps``); ``config_text``: the sweep's stored ``config.yaml``; ``walkforward``: a stored walk-forward
    run of the same config and data, if any; ``max_rows``: rows of the table of all combinations (None:
    :data:`DEFAULT_TABLE_ROWS`).
    """
    figures: dict[str, go.Figure] = {}
    total = len(outcome.table)
    sections = [
        Section("sweep", "Sweep", _header(outcome, sort)),
        Section("top", f"The best {len(rows)} by {_label(sort)}", _top_table(outcome, rows, sort, reps, caveats)),
        Section("combinations", "All combinations", _all_table(outcome, sort, max_rows or DEFAULT_TABLE_ROWS)),
        Section("heatmaps", f"Heatmaps of {_label(sort)}", _heatmaps(outcome, sort, figures)),
        Section("overfitting", "Overfitting: PBO and deflated Sharpe", _overfitting(outcome, figures)),
        *_walkforward(walkforward, figures),
        Section("config", "Resolved config", preformatted(config_text)),
    ]
    man = outcome.manifest
    title = f"Seesaw sweep report: {outcome.cfg.name}"
    subtitle = f"sweep {man['sweep_id']} · {counted(total, 'combinations')} · {man['start']} → {man['end']}"
    html = page_html(title, sections, banner=SYNTHETIC_BANNER if outcome.synthetic else None, subtitle=subtitle)
    return Report(title=title, html=html, figures=figures)
