"""``seesaw report RUN --format text``: a stored run's headline metrics and tear sheet as plain text.

Fits a terminal of ``width`` columns (100 by default) without cutting a number: every table's
columns are as wide as their widest cell, and a table too wide for the width is split into blocks
of columns, each repeating the first.  No colour, no box drawing, so the text is the same on a
terminal, in a pipe and in a file.  The tear sheet is ``metrics.json``'s ``tearsheet`` block; a run
stored before it existed has it computed from its stored tables (:func:`run_tearsheet`).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.data.base import SYNTHETIC_LABEL
from engine.metrics.frames import partial_years_between
from engine.metrics.samples import withhold_short_runs
from engine.metrics.tearsheet import tearsheet
from engine.render.text import RUN_COLUMNS, format_value
from engine.store.rundir import StoredRun

__all__ = [
    "CURRENCY_UNAVAILABLE",
    "FINANCING",
    "MONTHS",
    "pct",
    "risky_assets",
    "run_fx",
    "run_tearsheet",
    "stat_facts",
    "table_lines",
    "tearsheet_text",
]

#: The line shown instead of the currency's contribution of a run stored before fx.parquet existed.
CURRENCY_UNAVAILABLE = (
    "currency contribution unavailable (stored before fx.parquet): each asset's includes its currency"
)
#: The line under the title of a run made from synthetic data (as the HTML report's banner says).
SYNTHETIC_BANNER = SYNTHETIC_LABEL
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_GAP = 2
#: The contribution table's label of a margin account's borrow and margin spread (docs/shorts.md).
FINANCING = {"financing": "borrow and margin spread"}


def pct(value: float | None, digits: int = 1) -> str:
    """A fraction in percent (``-1.23%``; no minus sign when it rounds to zero); None or NaN as ``–``."""
    if value is None or not np.isfinite(value):
        return "–"
    return f"{value * 100:z.{digits}f}%"


def _num(value: float | None, digits: int = 2) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:z.{digits}f}"


def risky_assets(run: StoredRun) -> list[str]:
    """The run's assets that can be held (not signal-only): the keys of the strategy's ``avg_weight``."""
    return list(run.metrics["strategy"].get("avg_weight") or [])


def run_fx(run: StoredRun) -> pd.DataFrame | None:
    """``fx.parquet``; for a run stored before it, ones where every asset is in the base currency, else None."""
    if run.fx is not None:
        return run.fx
    data = run.metrics.get("data") or {}
    base, assets = data.get("base_currency"), data.get("assets") or {}
    if base and all((assets.get(a) or {}).get("currency") == base for a in risky_assets(run)):
        return pd.DataFrame(1.0, index=run.equity.index, columns=risky_assets(run))
    return None


def run_tearsheet(run: StoredRun) -> dict[str, Any]:
    """The run's tear sheet: the stored ``tearsheet`` block, or computed from the stored tables."""
    if "tearsheet" in run.metrics:
        return dict(run.metrics["tearsheet"])
    strategy = run.metrics["strategy"]
    return tearsheet(
        run.equity,
        run.weights,
        run.prices,
        run.trades,
        initial=run.initial_cash,
        assets=risky_assets(run),
        periods_per_year=strategy["periods_per_year"],
        quotes=run.quotes,
        fx=run_fx(run),
        financing=strategy.get("financing"),
    )


def _blocks(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[list[int]]:
    """Column indices of each block: the first column, then as many more as fit ``width``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    blocks, current, used = [], [0], widths[0]
    for i in range(1, len(headers)):
        if len(current) > 1 and used + _GAP + widths[i] > width:
            blocks.append(current)
            current, used = [0], widths[0]
        current.append(i)
        used += _GAP + widths[i]
    return [*blocks, current]


def table_lines(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int) -> list[str]:
    """A plain table: the first column left-aligned, the others right-aligned, split to fit ``width``."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    out: list[str] = []
    for block in _blocks(headers, rows, width):
        if out:
            out.append("")
        for cells in [headers, *rows]:
            parts = [cells[i].ljust(widths[i]) if i == 0 else cells[i].rjust(widths[i]) for i in block]
            out.append((" " * _GAP).join(parts).rstrip())
    return out


def _headline(run: StoredRun, width: int) -> list[str]:
    s, man = run.metrics["strategy"], run.manifest
    data = run.metrics.get("data") or {}
    lines = [f"{run.name}  run {man.get('run_id')}"]
    if man.get("synthetic"):
        lines.append(SYNTHETIC_BANNER)
    lines += [
        f"{s['start']} → {s['end']}, data {man.get('data_source')}, values in {data.get('base_currency', '–')}",
        *(f"WARNING: {w}" for w in run.warnings),  # a look-ahead config, say
        *(f"note: {n}" for n in run.metrics.get("notes") or ()),  # what the data's checks repaired, say
        "",
    ]
    s = dict(s)
    short = withhold_short_runs([s])  # under a year: no annualised figure (engine/metrics/samples.py)
    headers = [h for _, h, _ in RUN_COLUMNS]
    cells = [format_value(s.get(k), kind) for k, _, kind in RUN_COLUMNS]
    return lines + table_lines(["", *headers], [["strategy", *cells]], width) + short


def _monthly(ts: dict[str, Any], strategy: dict[str, Any], width: int) -> list[str]:
    partial = partial_years_between(pd.Timestamp(strategy["start"]), pd.Timestamp(strategy["end"]))
    rows = []
    for year, months in ts["monthly_returns"].items():
        label = f"{year}*" if int(year) in partial else year
        rows.append([label, *(pct(months.get(str(m))) if str(m) in months else "" for m in range(1, 13))])
        rows[-1].append(pct(months["year"]))
    marked = "; * a partial year, its Year only the months the run covers" if partial else ""
    return [
        f"Monthly returns (the first month from the initial capital{marked})",
        *table_lines(["", *MONTHS, "Year"], rows, width),
    ]


def _drawdowns(ts: dict[str, Any], width: int) -> list[str]:
    rows = [
        [str(k), d["start"], d["trough"], d["recovery"] or "not yet", pct(d["depth"]), str(d["days"])]
        for k, d in enumerate(ts["worst_drawdowns"], 1)
    ]
    if not rows:
        return ["Worst drawdowns: none (the value never fell below a previous high)"]
    title = "Worst drawdowns (start: the last date at the previous high; days to recovery, or to the last date)"
    return [title, *table_lines(["#", "Start", "Trough", "Recovery", "Depth", "Days"], rows, width)]


def _rolling(ts: dict[str, Any], width: int) -> list[str]:
    roll = ts["rolling"]
    stats = ("last", "median", "min", "max")
    rows = [
        [f"{a} {what}", *(_num(roll[a][what][k]) for k in stats)]
        for a in roll
        if a != "window"
        for what in ("correlation", "beta")
    ]
    title = f"Rolling one-year ({roll['window']} dates) correlation and beta of daily returns to each asset"
    return [title, *table_lines(["", "Last", "Median", "Min", "Max"], rows, width)] if rows else [title, "(no asset)"]


def stat_facts(ts: dict[str, Any]) -> list[tuple[str, str]]:
    """The daily-return statistics and time invested as (label, text), for the text and the HTML report."""
    return [
        ("daily VaR 95% (5th percentile)", pct(ts["var_95"], 2)),
        ("daily CVaR 95% (mean below VaR)", pct(ts["cvar_95"], 2)),
        ("skew", _num(ts["skew"])),
        ("excess kurtosis", _num(ts["kurtosis"])),
        ("positive days", pct(ts["positive_days"])),
        ("positive months", pct(ts["positive_months"])),
        *((f"time invested: {a}", pct(v)) for a, v in ts["time_invested"].items() if a != "cash_only"),
        ("time in cash only", pct(ts["time_invested"]["cash_only"])),
    ]


def _stats(ts: dict[str, Any], width: int) -> list[str]:
    rows = [list(fact) for fact in stat_facts(ts)]
    return ["Daily returns and time invested", *table_lines(["", ""], rows, width)[1:]]


def _switches(ts: dict[str, Any], width: int) -> list[str]:
    st = ts["switch_stats"]
    head = ["Closed holdings", "Win rate", "Avg win", "Avg loss", "Avg days", "Median days"]
    row = [str(st["count"]), pct(st["win_rate"]), pct(st["avg_win"]), pct(st["avg_loss"])]
    row += [_num(st["avg_days"], 1), _num(st["median_days"], 1)]
    out = [
        "Switches (a holding: the dates with the same target weights; the first from the initial capital)",
        *table_lines(head, [row], width),
        "",
    ]
    rows = []
    for h in ts["holdings"]:
        target = " ".join(f"{a} {w * 100:g}%" for a, w in h["target"].items() if w) or "cash"
        end = f"{h['end']} (open)" if h["open"] else h["end"]
        rows.append([h["start"], end, target, pct(h["return"]), f"{h['profit']:,.0f}", str(h["days"])])
    return out + table_lines(["Start", "End", "Target", "Return", "Profit", "Days"], rows, width)


def _contribution(ts: dict[str, Any], total: float, width: int) -> list[str]:
    c = ts.get("contribution")
    title = "Contribution to the total return (fractions of the initial capital; they add up)"
    if c is None:
        return [title, "unavailable: the run directory lacks quotes.parquet or the cash index"]
    labels = {"currency": "currency", "cash_interest": "cash interest", "costs": "fees and slippage", **FINANCING}
    rows = [[labels.get(k, f"{k} (local)" if c.get("currency") is not None else k), pct(v, 2)] for k, v in c.items()]
    rows = [r for r, (k, v) in zip(rows, c.items(), strict=True) if not (k == "currency" and v is None)]
    out = [title, *table_lines(["", ""], [*rows, ["total return", pct(total, 2)]], width)[1:]]
    return out + ([CURRENCY_UNAVAILABLE] if c.get("currency") is None else [])


def tearsheet_text(run: StoredRun, width: int = 100) -> str:
    """The whole text: headline metrics, then each tear-sheet block, separated by blank lines."""
    ts = run_tearsheet(run)
    parts = [
        _headline(run, width),
        _monthly(ts, run.metrics["strategy"], width),
        _drawdowns(ts, width),
        _rolling(ts, width),
        _stats(ts, width),
        _contribution(ts, run.metrics["strategy"]["total_return"], width),
        _switches(ts, width),
    ]
    lines = [wrapped for part in parts for line in ["", *part] for wrapped in _wrap(line, width)]
    return "\n".join(lines[1:]) + "\n"


def _wrap(line: str, width: int) -> list[str]:
    """A line of prose wrapped at ``width`` (between words); a table row is never this long."""
    if len(line) <= width:
        return [line]
    return textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False)
