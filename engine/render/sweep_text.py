"""The cells and caption of ``seesaw sweep``'s table, shared by the terminal and the HTML report (no printing here).

A sweep row (one combination of :func:`engine.jobs.sweep.top_rows` or ``combos.parquet``) is shown
as: its rank, its sweep-key values, :data:`~engine.metrics.specs.SWEEP_TABLE` and its average weights.
:func:`sweep_row_cells` gives each cell as (column, text, number shown), so the terminal table
(:func:`sweep_printout`) and the report's tables print the same text for the same number.

>>> sweep_cell("cagr", 0.1234), sweep_cell("sharpe", 0.517), sweep_cell("trades", 12.0)
('12.3%', '0.52', '12')
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from rich.text import Text

from engine.data.base import SYNTHETIC_LABEL
from engine.metrics.samples import ANNUALISED, MIN_RETURNS, covered_years, spans_a_year
from engine.metrics.specs import LOWER_IS_BETTER, PERCENT_METRICS, SPECS, SWEEP_TABLE, spec
from engine.plural import counted
from engine.render.fit import FitColumn, Printout, Whole, fit_table
from engine.render.text import LONGEST_DD_NOTE, finite, interval_sentence, significance_lines

__all__ = [
    "OVERLAP_NOTE",
    "fold_header",
    "folds_printout",
    "sweep_caption",
    "sweep_cell",
    "sweep_headers",
    "sweep_printout",
    "sweep_row_cells",
    "weight_headers",
]

_INT = frozenset(s.name for s in SPECS if s.fmt == "int")


def sweep_cell(key: str, value: Any) -> str:
    """``value`` of column ``key`` as the sweep table shows it: fractions as %, counts whole, NaN ``–``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if key in _INT:
        return f"{int(value):d}"
    if isinstance(value, float) and key in PERCENT_METRICS:
        return f"{value * 100:z.1f}%"
    if isinstance(value, float):
        return f"{value:z.2f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def _number(value: Any) -> float | int | None:
    """The number a cell shows (None for text, NaN and missing values)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if isinstance(value, float) and math.isnan(value) else value


def sweep_row_cells(
    record: Mapping[str, Any], rank: int, keys: Sequence[str], columns: Sequence[str], weights: Sequence[str]
) -> list[tuple[str, str, float | int | None]]:
    """(column, text, number) of each cell of one row: ``#``, the keys, ``columns``, the ``weights`` columns.

    ``sharpe_ci`` is one cell, ``low…high``, its number the low end (what a table sorts it by).
    """
    cells: list[tuple[str, str, float | int | None]] = [("rank", str(rank), rank)]
    cells += [(k, str(record[k]), _number(record[k])) for k in keys]
    for c in columns:
        if c == "sharpe_ci":
            lo, hi = record.get("sharpe_ci_low"), record.get("sharpe_ci_high")
            shown = lo is not None and not math.isnan(lo)
            cells.append((c, f"{lo:z.2f}…{hi:z.2f}" if shown else "–", _number(lo) if shown else None))
        else:
            v = record.get(c)
            cells.append((c, sweep_cell(c, v), _number(v)))
    cells += [(c, f"{record[c] * 100:z.0f}%", _number(record[c])) for c in weights]
    return cells


def sweep_headers(keys: Sequence[str], weight_cols: Sequence[str]) -> list[str]:
    """The headers of a sweep table's columns after ``#``: the grid's keys as the config and ``--heatmap`` name
    them, the metrics of :data:`~engine.metrics.specs.SWEEP_TABLE` as ``compare`` labels them, ``Avg us``.

    >>> sweep_headers(["corr_cut"], ["weight_us"])[:3], sweep_headers(["corr_cut"], ["weight_us"])[-1]
    (['corr_cut', 'Total ret', 'CAGR'], 'Avg us')
    """
    return [*keys, *(spec(k).label for k in SWEEP_TABLE), *weight_headers(weight_cols)]


def weight_headers(weight_cols: Sequence[str]) -> list[str]:
    """The headers of the average weights' columns: ``weight_us`` is ``Avg us``."""
    return [f"Avg {k.removeprefix('weight_')}" for k in weight_cols]


def sweep_printout(rows: Any, keys: Sequence[str], title: str, caption: Sequence[str], width: int | None) -> Printout:
    """The terminal table of ``seesaw sweep`` (``rows``: the frame of :func:`engine.jobs.sweep.top_rows`) and
    its ``caption``, fitted to ``width`` (None: natural width): a terminal narrower than the table gets its
    columns in blocks, each a table with the ``#`` column, instead of cut cells.  The metrics' headers are
    their labels in every table (``Total ret``, ``P(SR>ref)``); the JSON and CSV keep the keys."""
    weight_cols = [c for c in rows.columns if c.startswith("weight_")]
    records = rows.to_dict(orient="records")  # per-column dtypes: an int key stays an int
    cells = [sweep_row_cells(r, i, keys, SWEEP_TABLE, weight_cols) for i, r in enumerate(records, 1)]
    names = [*keys, *SWEEP_TABLE, *weight_cols]
    columns = [FitColumn(k, h) for k, h in zip(names, sweep_headers(keys, weight_cols), strict=True)]
    texts = [[Text(text) for _, text, _ in row[1:]] for row in cells]
    fitted = fit_table(title, "#", columns, [row[0][1] for row in cells], texts, width=width)
    return fitted.printout(caption, wrap=width is not None)


def _reference(man: Mapping[str, Any]) -> str:
    """The benchmark P(SR>ref) is against, as the caption names it (a sweep stored before its manifest named
    it: "the reference benchmark")."""
    if "reference" not in man:
        return "the reference benchmark"
    return "no benchmark (the config has none: –)" if man["reference"] is None else str(man["reference"])


def _one_reference(keys: Sequence[str], reference: str | None) -> list[str]:
    """The line saying that a swept lag or cost leaves the reference curve as the config's own."""
    swept = [k for k in keys if k == "execution.lag" or k.startswith("costs.")]
    if not swept or reference is None:
        return []
    return [
        f"Excess, IR and P(SR>ref) of every row are against one curve, {reference} with the config's "
        f"own {' and '.join(swept)}: a single run with a row's values gives its benchmarks those."
    ]


#: The sweep table's columns that no other line of its caption explains.
_COLUMNS_NOTE = (
    "Excess: CAGR less the reference benchmark's. Worst year: the lowest calendar-year return (a part year at "
    "either end counts as its year). Avg <asset>: the asset's average end-of-day weight."
)
#: Who filled a sweep's orders (``sweep.json``'s ``simulator``, the ``--engine``).
_FILLED_BY = {
    "fused": "orders filled by the scheduler with vectorbt's order primitives (--engine fused)",
    "rust": "orders re-simulated by vectorbt's from_orders on Rust (--engine rust)",
    "numba": "orders re-simulated by vectorbt's from_orders on numba (--engine numba)",
}


#: Under PBO when some splits had several in-sample bests (``pbo_tied_splits``): how they count.
TIED_SPLITS = (
    "In {tied} of the {splits} splits several combinations tied for the best in sample (within a relative 1e-9: "
    "those holding the same positions there score alike up to rounding); each of them counts an equal share of "
    "its split in PBO, the probability of loss and the logits."
)


def _count(value: float) -> str:
    """A histogram's count: whole, or with a split's share of tied bests (2191.5, 0.333: never 0.00)."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}" if value >= 1 else f"{value:.3g}"


def _overfitting(man: Mapping[str, Any]) -> list[str]:
    """The caption's lines on overfitting: PBO with its logits' histogram and the best combination's DSR."""
    lines: list[str] = []
    if "pbo" in man:
        lines.append(
            f"Overfitting: probability of backtest overfitting (CSCV, {man['pbo_splits']} blocks of "
            f"{man['pbo_block_dates']} dates, {man['pbo_split_count']:,} splits) PBO = {man['pbo']:.3f}, "
            f"probability of an out-of-sample loss {man['pbo_prob_loss']:.3f}{_best_dsr(man)}."
        )
        if tied := man.get("pbo_tied_splits"):
            lines.append(TIED_SPLITS.format(tied=f"{tied:,}", splits=f"{man['pbo_split_count']:,}"))
        hist = man.get("pbo_logit_hist")
        if hist:
            bars = " ".join(_count(c) for c in hist["counts"])
            lines.append(
                f"Logits of the best in-sample combination's out-of-sample rank, counts in bins from "
                f"{hist['edges'][0]:.2f} to {hist['edges'][-1]:.2f}: {bars} (PBO = share of logits <= 0)."
            )
    else:
        lines.append(
            "Overfitting: no PBO (combinatorially symmetric cross-validation needs at least two combinations and "
            f"two dates in each of its 16 blocks){_best_dsr(man)}."
        )
    return lines


def _column_notes() -> list[str]:
    """What the table's columns are that their headers do not say."""
    return [LONGEST_DD_NOTE, _COLUMNS_NOTE] if "longest_drawdown_days" in SWEEP_TABLE else [_COLUMNS_NOTE]


def _filled(outcome: Any) -> str:
    """``orders filled by ...; `` of a sweep's ``--engine`` (empty for a sweep stored before it was recorded); a
    margin account's are the scheduler's whatever the engine
    (:attr:`engine.store.sweeps.SweepOutcome.engine_overruled`)."""
    engine = str(outcome.manifest.get("simulator"))
    said = _FILLED_BY.get(engine)
    if outcome.engine_overruled:
        said = (
            f"orders filled by the scheduler with vectorbt's order primitives, not re-simulated (--engine {engine}): "
            "margin accounts, whose financing from_orders cannot debit"
        )
    return f"{said}; " if said else ""


def sweep_caption(
    outcome: Any, reps: int, sort: str, rows: pd.DataFrame | None = None, caveats: Sequence[str] = ()
) -> list[str]:
    """The lines under the sweep table: data, annualisation, the statistics and the overfitting controls;
    ``rows``, the table's rows in rank order, for what they lack; ``caveats``, the model's assumptions and the
    data's notes (:func:`engine.jobs.run_assumptions.caveat_lines`), before where the sweep is stored."""
    man = outcome.manifest
    lines = []
    if outcome.synthetic:
        lines.append(SYNTHETIC_LABEL)
    first = "lowest" if sort in LOWER_IS_BETTER else "highest"
    lines.append(
        f"{counted(int(man['combinations']), 'combinations')} of {', '.join(outcome.keys)}; {man['start']} → "
        f"{man['end']}; data fingerprint {man['data_fingerprint']}; {_filled(outcome)}sorted by {sort} ({first} first)."
    )
    lines.append(
        f"Annualised with {man.get('periods_per_year', float('nan')):.1f} trading periods per year (not 365); "
        "Sharpe, Sortino, the interval, PSR, P(SR>ref) and DSR are in excess of the config's cash rate."
    )
    lines += _auto_start(man) + _short_warmup(man) + _incomplete(man)
    lines += _column_notes()
    years, n_returns = _window_years(man)
    if not spans_a_year(years):
        extrapolated = ", ".join(spec(c).label for c in SWEEP_TABLE if c in ANNUALISED)
        lines.append(
            f"The window is {years:.2f} years: under one year {extrapolated} extrapolate it to a year "
            "(compare does not show them; a sweep ranks by them)."
        )
    if n_returns < MIN_RETURNS:
        lines.append(
            f"PSR, P(SR>ref) and DSR rest on only {n_returns} daily returns (under {MIN_RETURNS}): read them as "
            "indications, not evidence."
        )
    records = [] if rows is None else rows.to_dict(orient="records")
    head = (
        f"Sharpe 95% CI and P(SR>ref): stationary bootstrap (arch), {reps} resamples, seed 20250120, automatic block "
        "length."
    )  # as compare's caption says it
    lines.append(interval_sentence(head, records, [f"#{i}" for i in range(1, len(records) + 1)]))
    lines += significance_lines(_reference(man), int(man["combinations"]), "combinations (all tried)")
    lines += _one_reference(outcome.keys, man.get("reference"))
    lines += _overfitting(man)
    results = shlex.quote(str(Path(outcome.sweep_dir).parents[2]))  # <results>/<config>/sweeps/<sweep-id>
    query = f"SELECT * FROM sweep_combos WHERE sweep_id = '{Path(outcome.sweep_dir).name}'"
    lines += caveats
    lines.append(  # whole: a path and a command to copy
        Whole(f'Stored in {outcome.sweep_dir} (query: seesaw runs query "{query}" --results-dir {results}).')
    )
    return lines


def _auto_start(man: Mapping[str, Any]) -> list[str]:
    """The line on a ``start: auto`` grid whose warm-ups differ: every row starts after the longest."""
    shortest, longest = man.get("warmup_rows") or (0, 0)
    if shortest == longest:
        return []
    return [
        f"start: auto: every row starts on {man['start']}, once the grid's longest warm-up ({longest} rows; the "
        f"shortest is {shortest}) is done, so that all cover the same dates; a single run of a combination with "
        f"a shorter warm-up may start earlier: add --start {man['start']} to compare it with its row."
    ]


def _short_warmup(man: Mapping[str, Any]) -> list[str]:
    """The warning on combinations the data has too little history before the start to warm up."""
    short = man.get("warmup_short")
    if not short:
        return []
    example = ", ".join(f"{k} = {v}" for k, v in short["example"].items())
    return [
        f"Warning: {short['combinations']:,} of {int(man['combinations']):,} combinations "
        f"{'needs' if short['combinations'] == 1 else 'need'} more warm-up than the "
        f"{short['available']} dates of data before the start{f' (such as {example})' if example else ''}: until "
        "their signals are complete the rules naming them are false and the otherwise weights apply, so those rows "
        "are not their rule's alone (a single run of one says so too)."
    ]


def _incomplete(man: Mapping[str, Any]) -> list[str]:
    """The warning on combinations one of whose signals has no value at the first decision despite the warm-up."""
    found = man.get("incomplete_signals")
    if not found:
        return []
    n, example = found["combinations"], ", ".join(f"{k} = {v}" for k, v in found["example"].items())
    names = ", ".join(map(repr, found["signals"]))
    such = f" (such as {example})" if example else ""
    return [
        f"Warning: {n:,} of {int(man['combinations']):,} combinations{such} {'has' if n == 1 else 'have'} a signal "
        f"({names}) without a value at the first decision, though the data has their warm-up before the start: a "
        "series it reads starts later than the others, or the signal is undefined there (a flat window, say). "
        f"Until it has one (as late as {found['until']}) the rules naming it are false and the otherwise weights "
        "apply, so those rows are not their rule's alone (a single run of one says so too)."
    ]


def _window_years(man: Mapping[str, Any]) -> tuple[float, int]:
    """The years a sweep's dates cover, as compare counts them (:func:`engine.metrics.samples.covered_years`:
    first to last date plus the first date's own period), and its daily returns, from its manifest's dates
    and periods a year."""
    years = (pd.Timestamp(man["end"]) - pd.Timestamp(man["start"])).days / 365.25
    ppy = float(man.get("periods_per_year") or math.nan)
    if not (math.isfinite(ppy) and years > 0):
        return years, 1
    n_returns = round(years * ppy) + 1
    return covered_years(years, n_returns), n_returns


def _best_dsr(man: Mapping[str, Any]) -> str:
    """The caption's clause on the best combination's deflated Sharpe ratio ("" without one in ``man``); a
    statistic the window cannot define (stored as null) is said to be undefined."""
    if "best_dsr" not in man:
        return ""
    dsr, best, sr0 = (man.get(k) for k in ("best_dsr", "best_sharpe", "best_sr0_annualised"))
    if not (finite(dsr) and finite(best) and finite(sr0)):
        return "; the best combination's deflated Sharpe ratio is undefined (it needs 3 daily returns that vary)"
    trials = counted(int(man["combinations"]), "trials")
    return (
        f"; the best combination's deflated Sharpe DSR = {dsr:.3f} (its Sharpe {best:.2f} against the expected "
        f"maximum of {trials} without skill, {sr0:.2f})"
    )


def fold_header(key: str) -> str:
    """``is_sharpe`` -> "IS Sharpe", ``test_start`` -> "Test from", a sweep key as it is."""
    side, _, metric = key.partition("_")
    if side in ("is", "oos") and metric in {s.name for s in SPECS}:
        return f"{side.upper()} {spec(metric).label}"
    return {"train_start": "Train from", "test_start": "Test from", "test_end": "Test to", "scored_to": "OOS to"}.get(
        key, key
    )


#: Under a walk-forward's folds table when its test windows overlap; ``column``: where each fold's end is shown.
OVERLAP_NOTE = (
    "The test windows overlap (--step shorter than --test): a fold's OOS figures end the date before the next "
    "fold's test starts, when that fold's combination takes over ({column}); a CAGR or Sharpe over such a window, "
    "under a year, extrapolates it to a year."
)


def ties_note(folds: Sequence[Mapping[str, Any]]) -> str | None:
    """Which folds chose among tied combinations (``tied`` > 1: training scores within a relative 1e-9 of the best,
    :data:`engine.walkforward.TIE_RTOL`), or None (none did, or a walk-forward stored before the count was)."""
    groups: dict[int, list[str]] = {}
    for f in folds:
        if int(f.get("tied", 1)) > 1:
            groups.setdefault(int(f["tied"]), []).append(str(f["fold"]))
    if not groups:
        return None
    parts = [
        f"fold {numbers[0]}, {counted(n, 'combinations')}"
        if len(numbers) == 1
        else f"folds {', '.join(numbers[:-1])} and {numbers[-1]}, {counted(n, 'combinations')} each"
        for n, numbers in groups.items()
    ]
    return (
        f"Tied in training (scores within a relative 1e-9 of the best): {'; '.join(parts)}. The first of them in "
        "grid order is chosen and shown (combinations holding the same positions over a window score alike there)."
    )


def _fold_cell(key: str, value: Any) -> str:
    """A folds table's cell: an in- or out-of-sample metric as the sweep table shows it; a date as it is; a swept
    key's chosen value as the grid has it (``0.0125``, as the sweep table and the report show it, never rounded)."""
    if key.startswith(("is_", "oos_")):
        return sweep_cell(key.split("_", 1)[1], value)
    return value if isinstance(value, str) else str(value)


def folds_printout(folds: pd.DataFrame, title: str, caption: Sequence[str], width: int | None) -> Printout:
    """The walk-forward's folds table (a row per fold) fitted to ``width`` (None: natural width).

    ``train_end`` is left out: a training window always ends on the date before its test starts,
    which the first caption line says; ``--format csv|json`` keep it.
    """
    overlap = bool((folds["scored_to"] != folds["test_end"]).any())  # --step shorter than --test
    keys = [k for k in folds.columns if k not in ("fold", "train_end", "tied") and (overlap or k != "scored_to")]
    columns = [FitColumn(k, fold_header(k)) for k in keys]
    records = folds.to_dict(orient="records")
    cells = [[Text(_fold_cell(k, r[k])) for k in keys] for r in records]
    fitted = fit_table(title, "Fold", columns, [str(r["fold"]) for r in records], cells, width=width)
    note = (
        "IS: in sample, the training window a fold's combination was chosen on; OOS: out of sample, its test "
        "window. Each training window ends on the date before its test starts (train_end in --format csv and json)."
    )
    if overlap:
        note += " " + OVERLAP_NOTE.format(column="OOS to; scored_to in --format csv and json")
    ties = ties_note(records)
    return Printout([*fitted.tables, note, *([ties] if ties else []), *caption], fitted.width, wrap=width is not None)
