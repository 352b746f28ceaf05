"""``seesaw run``: run configs and print one table of strategies and benchmarks."""

from __future__ import annotations

import datetime as dt
import math
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
    joined,
    print_printout,
    run_options,
    table_width,
    user_errors,
)
from engine.errors import UserError
from engine.plural import counted

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

    columns_text = joined(columns)  # --columns a --columns b as a,b
    started: dict[str, Any] = {}  # where and when runs are stored, for what Ctrl-C says
    with user_errors(lambda: stopped_run(**started)), compile_notice():
        try:
            keys = run_column_keys(columns_text)
        except ValueError as exc:  # an unknown --columns name, before anything runs
            raise UserError(str(exc)) from None
        opts = run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline, workers)
        now = dt.datetime.now(dt.UTC)
        started.update(results_dir=opts.results_dir, now=now)
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
    printout = run_printout(rows, warnings, columns=columns_text, width=table_width(os.environ), notes=notes)
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
    the note saying which rows were merged.  A curve is read only for rows that could be alike
    (:func:`_may_be_alike`)."""
    from engine.compare import SAME_CURVE_RTOL, same_curve

    kept: list[dict[str, Any]] = []
    curves: dict[int, pd.Series | None] = {}

    def curve(row: dict[str, Any]) -> pd.Series | None:
        if id(row) not in curves:
            curves[id(row)] = _benchmark_curve(row)
        return curves[id(row)]

    def alike(a: dict[str, Any], b: dict[str, Any]) -> bool:
        if not _may_be_alike(a, b):
            return False
        ca, cb = curve(a), curve(b)
        return ca is not None and cb is not None and same_curve(ca, cb)

    merged = []
    for row in rows:
        twin = next((k for k in kept if alike(k, row)), None)
        if twin is None:
            kept.append(row)
        else:
            merged.append(f"{row['name']!r} of {row['config']} into {twin['name']!r} of {twin['config']}")
    notes = [f"Shown once (curves equal to {SAME_CURVE_RTOL:g} relative): " + "; ".join(merged) + "."]
    return kept, notes if merged else []


def _may_be_alike(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether two rows could be benchmark curves equal to 1e-9 relative: both benchmarks, measured alike (base
    currency, cash rate), on the same first and last date, their final values within that tolerance."""
    from engine.compare import SAME_CURVE_RTOL

    if not (a["kind"] == b["kind"] == "benchmark"):
        return False
    if any(a.get(k) != b.get(k) for k in ("base_currency", "risk_free", "start", "end")):
        return False
    fa, fb = (math.nan if r.get("final_value") is None else float(r["final_value"]) for r in (a, b))
    return (math.isnan(fa) and math.isnan(fb)) or abs(fa - fb) <= SAME_CURVE_RTOL * abs(fb)


def _benchmark_curve(row: dict[str, Any]) -> pd.Series | None:
    """A benchmark row's curve by date from its run directory (None: a strategy, or no directory)."""
    import pandas as pd

    if row["kind"] != "benchmark" or not row.get("run_dir"):
        return None
    frame = pd.read_parquet(Path(row["run_dir"]) / "benchmarks.parquet", columns=["date", row["name"]])
    return pd.Series(frame[row["name"]].to_numpy(), index=pd.to_datetime(frame["date"]))


def stopped_run(results_dir: Path | None = None, now: dt.datetime | None = None) -> str:
    """What Ctrl-C during ``seesaw run`` says: the runs it had stored, whole (a run directory appears only once
    every file is written), which the same command reuses; none before anything could be stored."""
    if results_dir is None or now is None:
        return "stopped (Ctrl-C): nothing was stored"
    stamp = f"{now.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}-"  # the ids of this command's runs (new_run_id)
    kept = sorted(p.parent.parent.name for p in Path(results_dir).glob(f"*/{stamp}*/run.json"))
    if not kept:
        return "stopped (Ctrl-C): no run was stored"
    return (
        f"stopped (Ctrl-C): {counted(len(kept), 'runs')} stored whole before it, kept ({', '.join(kept)}); "
        "the same command reuses them (and runs any others)"
    )
