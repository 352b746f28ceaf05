"""The terminal tables of ``seesaw run`` and ``seesaw compare``, fitted to a width (:mod:`engine.render.fit`).

By default a compact set of columns (:data:`~engine.metrics.specs.RUN_COMPACT`,
:data:`~engine.metrics.specs.COMPARE_COMPACT`); ``--columns a,b`` or ``--columns all`` choose
others.  A currency column is added whenever the rows are in different currencies, and rows
that would share a label name their config and/or currency.  No number is ever cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text

from engine.compare import qualified_labels
from engine.metrics.specs import COMPARE_COMPACT, RUN_COMPACT
from engine.render.data_words import synthetic_words
from engine.render.fit import FitColumn, Printout, fit_table, resolve_columns
from engine.render.text import (
    KIND_COLUMN,
    RUN_COLUMNS,
    WEIGHTS_COLUMN,
    caption_lines,
    column_extremes,
    compare_caption,
    compare_cell,
    compare_columns,
    format_value,
    part_years_note,
    weights_cell,
    year_label,
)

__all__ = [
    "compare_chosen",
    "compare_keys",
    "compare_printout",
    "run_column_keys",
    "run_keys",
    "run_printout",
    "year_printout",
]

#: (key, header, format, better) of the columns every table may show besides the metrics.
_CURRENCY = ("currency", "Currency", "text", "")
_PERIOD = ("period", "Period", "text", "")

Col = tuple[str, str, str, str]


def _currency(row: dict[str, Any]) -> str:
    return str(row.get("currency") or row.get("base_currency") or "")


def _mixed_currency(rows: Sequence[dict[str, Any]]) -> bool:
    return len({_currency(r) for r in rows}) > 1


def _terminal_cell(row: dict[str, Any], key: str, kind: str) -> str:
    """A cell as the terminal shows it: the Sharpe interval as ``[low, high]``, weights ``us 60% hk 40%``."""
    if kind == "ci":
        lo, hi = row.get("sharpe_ci_low"), row.get("sharpe_ci_high")
        return "–" if lo is None or lo != lo else f"[{format_value(lo, 'num')}, {format_value(hi, 'num')}]"
    if kind == "weights":
        return weights_cell(row)
    if key == "kind":
        return str(row["kind"])
    if key == "currency":
        return _currency(row)
    if key == "period":
        return f"{row['start']}→{row['end']}"
    return compare_cell(row, key, kind)


def compare_keys(c: Any, rows: Sequence[dict[str, Any]], *, years: bool) -> tuple[list[Col], list[Col]]:
    """(every column of the full compare table, every column ``--columns`` may name), in order; the
    currency column is in the first only when the rows' currencies differ."""
    metrics = compare_columns(c, years=years)
    valid = [KIND_COLUMN, _CURRENCY, *metrics, WEIGHTS_COLUMN]
    every = [KIND_COLUMN, *([_CURRENCY] if _mixed_currency(rows) else []), *metrics, WEIGHTS_COLUMN]
    return every, valid


def _chosen(requested: str | None, every: list[Col], valid: list[Col], default: Sequence[str]) -> list[Col]:
    by_key = {col[0]: col for col in valid}
    return [by_key[k] for k in resolve_columns(requested, list(by_key), default, [col[0] for col in every])]


def compare_chosen(c: Any, rows: Sequence[dict[str, Any]], requested: str | None, *, terminal: bool) -> list[Col]:
    """The compare columns to show: ``--columns``, else the compact set and, with ``--regime``, the regime's
    columns (terminal) or all of them."""
    every, valid = compare_keys(c, rows, years=not terminal)
    currency = ["currency"] if _mixed_currency(rows) else []
    regime = [col[0] for col in every if col[0].startswith("regime_")]
    default = [*currency, *COMPARE_COMPACT, *regime] if terminal else [col[0] for col in every]
    return _chosen(requested, every, valid, default)


def _cells(rows: Sequence[dict[str, Any]], cols: Sequence[Col]) -> list[list[Text]]:
    """Each row's cells, the best value of each ranked column bold green and the worst red."""
    extremes = column_extremes(cols, rows)
    out = []
    for r in rows:
        cells = []
        for key, _, kind, _ in cols:
            v, style = r.get(key), ""
            if key in extremes and isinstance(v, int | float):
                style = "bold green" if v == extremes[key][0] else "red" if v == extremes[key][1] else ""
            cells.append(Text(_terminal_cell(r, key, kind), style=style))
        out.append(cells)
    return out


def _printout(
    title: str,
    labels: Sequence[str],
    rows: Sequence[dict[str, Any]],
    cols: Sequence[Col],
    caption: Sequence[str],
    width: int | None,
) -> Printout:
    strategy = [r["kind"] == "strategy" for r in rows]
    names = [Text(label, style="bold" if s else "") for label, s in zip(labels, strategy, strict=True)]
    sections = [i for i in range(1, len(rows)) if rows[i - 1]["kind"] == "strategy" and rows[i]["kind"] != "strategy"]
    columns = [FitColumn(k, header, "left" if kind in ("text", "weights") else "right") for k, header, kind, _ in cols]
    fitted = fit_table(title, "Name", columns, names, _cells(rows, cols), width=width, sections=sections)
    return fitted.printout(caption, wrap=width is not None)


def compare_printout(
    c: Any, rows: Sequence[dict[str, Any]], reps: int, *, columns: str | None = None, width: int | None = None
) -> Printout:
    """The compare table for a terminal ``width`` (None: natural width), its legend and its caption
    (ValueError for an unknown ``--columns`` name)."""
    cols = compare_chosen(c, rows, columns, terminal=True)
    title = "Seesaw compare" + synthetic_words(c.rows)[0]
    caption = compare_caption(c, reps, rows, columns=[col[0] for col in cols])
    return _printout(title, [r["name"] for r in rows], rows, cols, caption, width)


def year_printout(c: Any, rows: Sequence[dict[str, Any]], width: int | None = None) -> Printout:
    """Calendar-year returns as a matrix, a row per year and a column per compared row (``--by year``)."""
    columns = [FitColumn(f"row{i}", r["name"]) for i, r in enumerate(rows)]
    cells = [[Text(format_value(r.get(f"y{y}"), "pct")) for r in rows] for y in c.years]
    labels = [year_label(c, y) for y in c.years]
    title = "Calendar-year returns" + synthetic_words(rows)[0]  # copied alone, it still says so
    fitted = fit_table(title, "Year", columns, labels, cells, width=width)
    notes = ["Each year from the last close of the year before (the first from the window's start)."]
    notes += [note] if (note := part_years_note(c)) else []
    return Printout([*fitted.tables, *notes], fitted.width, wrap=width is not None)


def run_keys(rows: Sequence[dict[str, Any]]) -> tuple[list[Col], list[Col]]:
    """(every column of the full run table, every column ``--columns`` may name), in order."""
    metrics = [(key, header, kind, "") for key, header, kind in RUN_COLUMNS]
    valid = [KIND_COLUMN, _PERIOD, _CURRENCY, *metrics, WEIGHTS_COLUMN]
    every = [KIND_COLUMN, _PERIOD, *([_CURRENCY] if _mixed_currency(rows) else []), *metrics, WEIGHTS_COLUMN]
    return every, valid


def run_column_keys(columns: str | None) -> list[str] | None:
    """The keys ``--columns`` names for ``seesaw run`` (None: not given); checked before anything runs
    (ValueError naming the valid keys)."""
    if columns is None:
        return None
    every, valid = run_keys([])
    return resolve_columns(columns, [col[0] for col in valid], [], [col[0] for col in every])


def run_printout(
    rows: Sequence[dict[str, Any]],
    warnings: Sequence[str] = (),
    *,
    columns: str | None = None,
    width: int | None = None,
    notes: Sequence[str] = (),
) -> Printout:
    """``seesaw run``'s table: a row per config, then each distinct benchmark, labelled apart by config
    and/or currency when two would share a name (ValueError for an unknown ``--columns`` name)."""
    periods = {(r["start"], r["end"]) for r in rows}
    default = [*(["period"] if len(periods) > 1 else []), *(["currency"] if _mixed_currency(rows) else [])]
    cols = _chosen(columns, *run_keys(rows), [*default, *RUN_COMPACT])
    labels = qualified_labels([(r["name"], str(r.get("config", "")), _currency(r)) for r in rows])
    caption = [*caption_lines(rows, warnings, [col[0] for col in cols]), *notes]
    if len(periods) == 1:
        first, last = next(iter(periods))
        money = "each row's currency" if _mixed_currency(rows) else _currency(rows[0])
        caption.insert(0, f"Period of every row: {first}→{last}; money in {money}.")
    elif "currency" not in [col[0] for col in cols] and _mixed_currency(rows):
        caption.insert(0, "Rows are in different base currencies (--columns currency shows them).")
    title = "Seesaw run" + (" — SYNTHETIC DATA" if any(r.get("synthetic") for r in rows) else "")
    return _printout(title, labels, rows, cols, caption, width)
