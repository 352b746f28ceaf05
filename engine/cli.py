"""The ``seesaw`` command line: the only module that prints or exits.

A user's mistake (a bad config, missing data, an unwritable results
directory) is one line on stderr and exit code 2; anything else is a bug and
shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from engine import __version__
from engine.errors import UserError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Seesaw: backtest YAML rotation rules between the US and Hong Kong stock markets on vectorbt.\n\n"
        "Returns are fractions; CAGR uses calendar time; volatility, Sharpe and Sortino are annualised with "
        "the run's own number of trading periods per year (the union of both markets' trading dates), "
        "not vectorbt's 365. Sharpe and Sortino use a zero risk-free rate."
    ),
)


class Source(StrEnum):
    yahoo = "yahoo"
    csv = "csv"
    synthetic = "synthetic"


class Format(StrEnum):
    table = "table"
    json = "json"


class EngineChoice(StrEnum):
    rust = "rust"
    numba = "numba"


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _fail(err: UserError) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {err.one_line()}", markup=False)
    raise typer.Exit(2)


_RUN_HELP = (
    "Run configs and print one table: a row per config plus its benchmark rows.\n\n"
    "Each run is written to RESULTS_DIR/<config-name>/<run-id>/. "
    "Volatility, Sharpe and Sortino are annualised with the run's own trading periods per year "
    "(dates of the union US/HK timeline per calendar year, about 258), not 365; "
    "CAGR uses calendar time; the risk-free rate is zero."
)


@app.command(help=_RUN_HELP)
def run(
    configs: Annotated[list[Path], typer.Argument(help="Config files (or directories of *.yaml).")],
    source: Annotated[
        Source | None,
        typer.Option(help="Override data.source: yahoo (internet, cached), csv, synthetic (offline)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory of Yahoo-style CSVs for --source csv (default: $SEESAW_DATA_DIR, else ../shared/data)."
        ),
    ] = None,
    start: Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")] = None,
    format: Annotated[
        Format, typer.Option("--format", help="table, or json (one object per row) on stdout.")
    ] = Format.table,
    results_dir: Annotated[Path, typer.Option(help="Where run directories are written.")] = Path("results"),
    engine: Annotated[
        EngineChoice, typer.Option(help="vectorbt simulation engine (pinned, never 'auto').")
    ] = EngineChoice.rust,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Yahoo download cache (default: $SEESAW_CACHE_DIR, else ~/.cache/seesaw)."),
    ] = None,
    offline: Annotated[bool, typer.Option(help="Yahoo: use the cache only, never download.")] = False,
    store: Annotated[
        Path | None,
        typer.Option(help="Results catalog (default: $SEESAW_STORE, else RESULTS_DIR/seesaw.duckdb)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run again even if an identical run (config and data) is stored.")
    ] = False,
) -> None:
    """Run configs and print one table: a row per config plus its benchmark rows."""
    from engine.jobs import RunOptions, run_configs
    from engine.render import rows_json, rows_table

    try:
        opts = RunOptions(
            source=source.value if source else None,
            data_dir=data_dir,
            start=_date(start, "--start"),
            end=_date(end, "--end"),
            results_dir=results_dir,
            engine=engine.value,
            cache_dir=cache_dir,
            offline=offline,
            store=store,
            force=force,
        )
        report = run_configs(configs, opts, env=dict(os.environ), now=dt.datetime.now(dt.UTC))
    except UserError as err:
        _fail(err)
        return
    warnings = [w for r in report.runs for w in r.warnings]
    if format is Format.json:
        sys.stdout.write(rows_json(report.rows))
        err_console = Console(stderr=True, highlight=False, soft_wrap=True)
        if report.synthetic:
            err_console.print("warning: SYNTHETIC data: generated prices, not market history", markup=False)
        for w in warnings:
            err_console.print(f"warning: {w}", markup=False)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(rows_table(report.rows, warnings))
    for r in report.runs:
        for note in r.notes:
            console.print(f"note: {r.config.name}: {note}", markup=False)
        if r.run_dir is not None:
            verb = "reused (same config and data; --force runs again)" if r.reused else "wrote"
            console.print(f"{verb} {r.run_dir}", markup=False)


@app.command()
def validate(
    configs: Annotated[list[Path], typer.Argument(help="Config files (or directories of *.yaml).")],
) -> None:
    """Check configs without running them."""
    from engine.jobs import expand_config_paths, validate_configs

    try:
        files = expand_config_paths(configs)
        validate_configs(files)
    except UserError as err:
        _fail(err)
        return
    for f in files:
        print(f"{f}: ok")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the config file, for editors."""
    from engine.jobs import config_schema

    print(json.dumps(config_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the Seesaw version."""
    print(__version__)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="seesaw")
