"""``seesaw runs list|show|query``: browse the results store."""

from __future__ import annotations

import csv
import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.app import app
from engine.cli.options import ResultsDirOpt, StoreOpt, out_console, user_errors
from engine.errors import UserError

if TYPE_CHECKING:
    from engine.store.catalog import Catalog

__all__ = ["runs_app", "runs_list", "runs_query", "runs_show"]

runs_app = typer.Typer(help="Browse the results store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _catalog(results_dir: Path, store: Path | None) -> Catalog:
    from engine.jobs.common import RunOptions, catalog_for

    catalog = catalog_for(RunOptions(results_dir=results_dir, store=store), dict(os.environ))
    catalog.check_stored()
    return catalog


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    from rich.table import Table

    table = Table()
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    out_console().print(table)


@runs_app.command("list")
def runs_list(results_dir: ResultsDirOpt = Path("results"), store: StoreOpt = None) -> None:
    """List stored runs, newest first, with their strategy's headline metrics."""
    with user_errors():
        cols, rows = _catalog(results_dir, store).query(
            'SELECT r.run_id, r.config_name, r.data_source, r.start, r."end", r.data_fingerprint, '
            "round(m.total_return, 4) AS total_return, round(m.sharpe, 3) AS sharpe, r.created_at "
            "FROM runs r JOIN metrics m ON m.run_id = r.run_id AND m.kind = 'strategy' "
            "ORDER BY r.created_at DESC, r.run_id DESC"
        )
    _print_rows(cols, rows)


@runs_app.command("show")
def runs_show(run_id: str, results_dir: ResultsDirOpt = Path("results"), store: StoreOpt = None) -> None:
    """Show one run: its manifest and the metrics of its strategy and benchmarks."""
    with user_errors():
        catalog = _catalog(results_dir, store)
        selected = catalog.select(run_id)
        if len(selected) != 1:
            raise UserError(f"{run_id!r} selects {len(selected)} runs; runs show takes one run id")
        (run_dir,) = selected
        cols, rows = catalog.query(
            "SELECT kind, name, total_return, cagr, ann_vol, sharpe, sortino, max_drawdown, calmar, turnover, "
            "switches_per_year, fees_paid FROM metrics WHERE run_id = (SELECT run_id FROM runs WHERE run_dir = ?) "
            "ORDER BY kind DESC, name",
            [str(run_dir)],
        )
    print((run_dir / "run.json").read_text(encoding="utf-8"), end="")
    print(f"run directory: {run_dir}")
    _print_rows(cols, rows)


@runs_app.command("query")
def runs_query(
    sql: str,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Run read-only SQL on the catalog: tables runs, metrics; views equity, weights, trades, benchmarks, prices."""
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
