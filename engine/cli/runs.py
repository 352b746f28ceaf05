"""``seesaw runs list|show|query``: browse the results store."""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.app import app
from engine.cli.options import ResultsDirOpt, StoreOpt, out_console, table_width, user_errors
from engine.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from engine.store.catalog import Catalog

__all__ = ["runs_app", "runs_list", "runs_query", "runs_show"]

runs_app = typer.Typer(help="Browse the results store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _catalog(results_dir: Path, store: Path | None) -> Catalog:
    from engine.jobs.common import RunOptions, catalog_for

    catalog = catalog_for(RunOptions(results_dir=results_dir, store=store), dict(os.environ))
    catalog.check_stored()
    return catalog


def _console() -> Console:
    """stdout at the terminal's width; piped, ``COLUMNS`` wide when that is set (:func:`table_width`), else 240."""
    return out_console(piped_width=table_width(os.environ) or 240)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """A query's rows as they come; a cell too long for the window is folded, never cut."""
    from rich.table import Table

    table = Table()
    for c in columns:
        table.add_column(c, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    _console().print(table)


def _metric_table(fixed: Sequence[tuple[str, str]], metrics: Sequence[str], rows: list[tuple[Any, ...]]) -> Table:
    """``rows``: the ``fixed`` columns' values (header, key) then ``metrics``' values, formatted as every table
    formats them (:func:`engine.render.text.format_value`: percent with one decimal, ratios with two).

    Numbers, run ids and periods are never wrapped nor cut: a narrow window wraps the other columns (a name
    between words, a long config name anywhere).
    """
    from rich import box
    from rich.table import Table

    from engine.metrics.specs import spec
    from engine.render.text import format_value

    # no frame (as the other tables): its rules and padding would take a long config name's room
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), pad_edge=False)
    for header, key in fixed:
        table.add_column(header, no_wrap=key in _NO_WRAP, overflow="fold")
    for name in metrics:
        table.add_column(spec(name).label, justify="right", no_wrap=True)
    for row in rows:
        texts = ["" if v is None else str(v) for v in row[: len(fixed)]]
        values = row[len(fixed) :]
        texts += [format_value(v, spec(name).fmt) for name, v in zip(metrics, values, strict=True)]
        table.add_row(*texts)
    return table


_NO_WRAP = frozenset({"run_id", "kind", "period"})
#: ``runs list``: the strategy's headline metrics.
_LIST_METRICS = ("total_return", "sharpe")
#: ``runs show``: the run table's metrics (:data:`engine.metrics.specs.RUN_TABLE`) in two tables that each fit
#: 100 columns: returns and risk, then trading (from this metric on).
_SHOW_SPLIT_AT = "turnover"


@runs_app.command("list")
def runs_list(results_dir: ResultsDirOpt = Path("results"), store: StoreOpt = None) -> None:
    """List stored runs, newest first, with their strategy's headline metrics."""
    with user_errors():
        _, rows = _catalog(results_dir, store).query(
            "SELECT r.run_id, r.config_name, r.data_source, CAST(r.start AS VARCHAR) || ' → ' || CAST(r.\"end\" "
            f"AS VARCHAR), {', '.join(f'm.{n}' for n in _LIST_METRICS)} "
            "FROM runs r JOIN metrics m ON m.run_id = r.run_id AND m.kind = 'strategy' "
            "ORDER BY r.created_at DESC, r.run_id DESC"
        )
    fixed = [("Run id", "run_id"), ("Config", "config"), ("Source", "source"), ("Period", "period")]
    _console().print(_metric_table(fixed, _LIST_METRICS, rows))


@runs_app.command("show")
def runs_show(run_id: str, results_dir: ResultsDirOpt = Path("results"), store: StoreOpt = None) -> None:
    """Show one run: its manifest and the metrics of its strategy and benchmarks."""
    from engine.metrics.specs import RUN_TABLE  # numba: only when a command shows metrics

    split = RUN_TABLE.index(_SHOW_SPLIT_AT)
    with user_errors():
        catalog = _catalog(results_dir, store)
        selected = catalog.select(run_id)
        if len(selected) != 1:
            raise UserError(f"{run_id!r} selects {len(selected)} runs; runs show takes one run id")
        (run_dir,) = selected
        _, rows = catalog.query(
            f"SELECT kind, name, {', '.join(RUN_TABLE)} FROM metrics "
            "WHERE run_id = (SELECT run_id FROM runs WHERE run_dir = ?) ORDER BY kind DESC, name",
            [str(run_dir)],
        )
    print((run_dir / "run.json").read_text(encoding="utf-8"), end="")
    print(f"run directory: {run_dir}")
    console, fixed = _console(), [("Kind", "kind"), ("Name", "name")]
    console.print(_metric_table(fixed, RUN_TABLE[:split], [r[: 2 + split] for r in rows]))
    console.print(_metric_table(fixed, RUN_TABLE[split:], [r[:2] + r[2 + split :] for r in rows]))


@runs_app.command("query")
def runs_query(
    sql: str,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Run read-only SQL on the catalog: tables runs, metrics, sweeps; views equity, weights, trades, benchmarks,
    prices, quotes, signals, fx, sweep_combos."""
    with user_errors():
        if format not in ("table", "csv", "json"):
            raise UserError(f"--format: expected table, csv or json, got {format!r}")
        cols, rows = _catalog(results_dir, store).user_query(sql)
    if format == "table":
        _print_rows(cols, rows)
    elif format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows(rows)
    else:
        from engine.store.rundir import dumps_json

        sys.stdout.write(
            dumps_json(
                [dict(zip(cols, (str(v) if isinstance(v, dt.date) else v for v in r), strict=True)) for r in rows]
            )
        )
