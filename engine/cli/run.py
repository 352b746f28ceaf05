"""``seesaw run``: run configs and print one table of strategies and benchmarks."""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

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
    ProcessesOpt,
    ResultsDirOpt,
    RunColumnsOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    compile_notice,
    err_console,
    print_printout,
    run_options,
    table_width,
    user_errors,
)
from engine.errors import UserError

if TYPE_CHECKING:
    import pandas as pd

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
    columns: RunColumnsOpt = None,
    results_dir: ResultsDirOpt = Path("results"),
    engine: EngineOpt = EngineChoice.rust,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    store: StoreOpt = None,
    force: ForceOpt = False,
    workers: ProcessesOpt = None,
) -> None:
    """Run configs and print one table: a row per config plus its benchmark rows."""
    from engine.jobs.run import run_configs
    from engine.metrics.samples import withhold_short_runs
    from engine.render.tables import run_column_keys, run_printout
    from engine.render.text import dated_after, rows_json

    with user_errors(), compile_notice():
        try:
            keys = run_column_keys(columns)
        except ValueError as exc:  # an unknown --columns name, before anything runs
            raise UserError(str(exc)) from None
        opts = run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline, workers)
        now = dt.datetime.now(dt.UTC)
        report = run_configs(configs, opts, env=dict(os.environ), now=now)
    warnings = [*(w for r in report.runs for w in r.warnings), *dated_after(report.rows, now.date())]
    short = withhold_short_runs(report.rows)
    if format is Format.json:
        sys.stdout.write(rows_json(report.rows, keys))
        err = err_console()
        if report.synthetic:
            err.print("warning: SYNTHETIC data: generated prices, not market history", markup=False)
        for w in [*warnings, *short]:
            err.print(f"warning: {w}", markup=False)
        return
    rows, merged = _merge_equal_benchmarks(report.rows)
    notes = [*report.shared, *merged, *short]
    printout = run_printout(rows, warnings, columns=columns, width=table_width(os.environ), notes=notes)
    print_printout(printout)
    console = Console(highlight=False, width=printout.width, soft_wrap=not printout.wrap)
    for r in report.runs:
        for note in r.notes:
            console.print(f"note: {r.config.name}: {note}", markup=False)
        if r.run_dir is not None:
            verb = "reused (same config and data; --force runs again)" if r.reused else "wrote"
            console.print(f"{verb} {r.run_dir}", markup=False, soft_wrap=True)  # a path to copy: never cut


def _merge_equal_benchmarks(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Benchmark rows whose stored curves (``benchmarks.parquet`` of each row's run) agree to 1e-9
    relative, on the same dates, in the same currency and with the same cash rate: shown once; and
    the note saying which rows were merged."""
    from engine.compare import SAME_CURVE_RTOL

    kept: list[tuple[dict[str, Any], pd.Series | None]] = []
    merged = []
    for row in rows:
        curve = _benchmark_curve(row)
        twin = next((k for k, c in kept if _same_benchmark(k, c, row, curve)), None)
        if twin is None:
            kept.append((row, curve))
        else:
            merged.append(f"{row['name']!r} of {row['config']} into {twin['name']!r} of {twin['config']}")
    notes = [f"Shown once (curves equal to {SAME_CURVE_RTOL:g} relative): " + "; ".join(merged) + "."]
    return [row for row, _ in kept], notes if merged else []


def _same_benchmark(a: dict[str, Any], a_curve: pd.Series | None, b: dict[str, Any], b_curve: pd.Series | None) -> bool:
    from engine.compare import same_curve

    if a_curve is None or b_curve is None:
        return False
    same_basis = all(a.get(k) == b.get(k) for k in ("base_currency", "risk_free"))
    return same_basis and same_curve(a_curve, b_curve)


def _benchmark_curve(row: dict[str, Any]) -> pd.Series | None:
    """A benchmark row's curve by date from its run directory (None: a strategy, or no directory)."""
    import pandas as pd

    if row["kind"] != "benchmark" or not row.get("run_dir"):
        return None
    frame = pd.read_parquet(Path(row["run_dir"]) / "benchmarks.parquet", columns=["date", row["name"]])
    return pd.Series(frame[row["name"]].to_numpy(), index=pd.to_datetime(frame["date"]))
