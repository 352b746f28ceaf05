"""``seesaw run``: run configs and print one table of strategies and benchmarks."""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.app import app
from engine.cli.options import (
    CacheDirOpt,
    ConfigsArg,
    DataDirOpt,
    EndOpt,
    EngineChoice,
    EngineOpt,
    ForceOpt,
    OfflineOpt,
    ResultsDirOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    err_console,
    out_console,
    run_options,
    user_errors,
)

__all__ = ["run"]


class Format(StrEnum):
    table = "table"
    json = "json"


_RUN_HELP = (
    "Run configs and print one table: a row per config plus its benchmark rows.\n\n"
    "Each run is written to RESULTS_DIR/<config-name>/<run-id>/. "
    "Volatility, Sharpe and Sortino are annualised with the run's own trading periods per year "
    "(dates of the union US/HK timeline per calendar year, about 258), not 365; "
    "CAGR uses calendar time; Sharpe and Sortino are in excess of the config's cash_rate (zero without one)."
)


@app.command(help=_RUN_HELP)
def run(
    configs: ConfigsArg,
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    format: Annotated[
        Format, typer.Option("--format", help="table, or json (one object per row) on stdout.")
    ] = Format.table,
    results_dir: ResultsDirOpt = Path("results"),
    engine: EngineOpt = EngineChoice.rust,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    store: StoreOpt = None,
    force: ForceOpt = False,
) -> None:
    """Run configs and print one table: a row per config plus its benchmark rows."""
    from engine.jobs.run import run_configs
    from engine.render.text import rows_json, rows_table

    with user_errors():
        opts = run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline)
        report = run_configs(configs, opts, env=dict(os.environ), now=dt.datetime.now(dt.UTC))
    warnings = [w for r in report.runs for w in r.warnings]
    if format is Format.json:
        sys.stdout.write(rows_json(report.rows))
        err = err_console()
        if report.synthetic:
            err.print("warning: SYNTHETIC data: generated prices, not market history", markup=False)
        for w in warnings:
            err.print(f"warning: {w}", markup=False)
        return
    console = out_console(piped_width=200)
    console.print(rows_table(report.rows, warnings))
    for r in report.runs:
        for note in r.notes:
            console.print(f"note: {r.config.name}: {note}", markup=False)
        if r.run_dir is not None:
            verb = "reused (same config and data; --force runs again)" if r.reused else "wrote"
            console.print(f"{verb} {r.run_dir}", markup=False)
