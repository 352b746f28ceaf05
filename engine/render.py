"""Turn run rows into a rich table or JSON (no printing here: the CLI prints)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from engine.store.rundir import dumps_json

__all__ = ["JSON_KEYS", "caption_lines", "rows_json", "rows_table"]

#: Keys of every object in ``--format json`` output (the contract), in order; more may follow.
JSON_KEYS = (
    "kind", "name", "start", "end", "final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino",
    "max_drawdown", "calmar", "turnover", "switches_per_year", "avg_weight", "fees_paid", "synthetic",
    "data_fingerprint", "run_dir",
)  # fmt: skip

_COLUMNS: tuple[tuple[str, str, str], ...] = (
    # key, header, format
    ("total_return", "Total ret", "pct"),
    ("cagr", "CAGR", "pct"),
    ("ann_vol", "Vol", "pct"),
    ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"),
    ("max_drawdown", "Max DD", "pct"),
    ("calmar", "Calmar", "num"),
    ("turnover", "Turnover/yr", "num"),
    ("switches_per_year", "Switch/yr", "num"),
    ("fees_paid", "Fees", "money"),
    ("final_value", "Final value", "money"),
)


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "money":
        return f"{value:,.0f}"
    return f"{value:.2f}"


def rows_json(rows: Sequence[dict[str, Any]]) -> str:
    """The ``--format json`` document: a list with one object per row, contract keys first."""
    ordered = [{**{k: r.get(k) for k in JSON_KEYS}, **{k: v for k, v in r.items() if k not in JSON_KEYS}} for r in rows]
    return dumps_json(ordered)


def caption_lines(rows: Sequence[dict[str, Any]], warnings: Sequence[str]) -> list[str]:
    """Caption: what the numbers mean, and every warning."""
    ppy = sorted({round(r["periods_per_year"], 1) for r in rows if r.get("periods_per_year") is not None})
    lines = []
    if any(r.get("synthetic") for r in rows):
        lines.append("SYNTHETIC DATA: generated prices, not market history.")
    lines.append(
        "Returns are fractions shown as %; CAGR from calendar time; volatility, Sharpe and Sortino annualised "
        f"with the run's own trading periods per year ({', '.join(f'{p:g}' for p in ppy)}), not 365."
    )
    lines.append("Sharpe and Sortino use a zero risk-free rate (no cash rate yet). Turnover: one-way, per year.")
    warm = sorted({(r["config"], r.get("warmup_dates")) for r in rows if r["kind"] == "strategy"})
    lines.append("Warm-up dates before start: " + ", ".join(f"{c} {w}" for c, w in warm) + ".")
    lines += [f"WARNING: {w}" for w in warnings]
    return lines


def rows_table(rows: Sequence[dict[str, Any]], warnings: Sequence[str] = ()) -> Table:
    """A rich table: one row per strategy, then one per distinct benchmark."""
    synthetic = any(r.get("synthetic") for r in rows)
    title = "Seesaw run" + (" — SYNTHETIC DATA" if synthetic else "")
    table = Table(title=title, caption="\n".join(caption_lines(rows, warnings)), caption_justify="left")
    table.add_column("Name", no_wrap=True)
    table.add_column("Kind")
    table.add_column("Period", no_wrap=True)
    for _, header, _ in _COLUMNS:
        table.add_column(header, justify="right")
    table.add_column("Avg weight", no_wrap=True)
    previous_kind = None
    for r in rows:
        if previous_kind == "strategy" and r["kind"] == "benchmark":
            table.add_section()
        previous_kind = r["kind"]
        weights = " ".join(f"{a} {w * 100:.0f}%" for a, w in r["avg_weight"].items())
        name = Text(r["name"], style="bold" if r["kind"] == "strategy" else "")
        table.add_row(
            name,
            r["kind"],
            f"{r['start']}→{r['end']}",
            *(_fmt(r.get(key), kind) for key, _, kind in _COLUMNS),
            weights,
        )
    return table
