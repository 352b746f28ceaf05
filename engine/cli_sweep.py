"""``seesaw sweep`` and ``seesaw walkforward``: the command-line half of sweeps (printing and exit codes).

Registered on :data:`engine.cli.app`; like :mod:`engine.cli`, the only code that prints or exits
for these commands.  User mistakes are one line on stderr and exit 2; Ctrl-C during a sweep keeps
the finished chunks and exits 130.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from engine.cli import EngineChoice, Source, _fail, _run_options, app
from engine.errors import UserError
from engine.sweep_render import sweep_caption, sweep_cell, sweep_table

__all__ = ["sweep", "walkforward"]


class SweepFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _report_target(report: Path | None, png: Path | None, *, report_rows: int | None = None) -> str | None:
    """Refuse, before any work, a report that cannot be written; the Chromium for ``--png`` (None without)."""
    if png is not None and report is None:
        raise UserError("--png goes with --report FILE (the images are the report's charts)")
    if report_rows is not None and report is None:
        raise UserError("--report-rows goes with --report FILE (it sizes the report's table)")
    if report is None:
        return None
    from engine.report.files import report_target

    return report_target(report, png, dict(os.environ))


def _print_written(files: list[Path], console: Console) -> None:
    for f in files:
        console.print(f"wrote {f}", markup=False)


@app.command(
    help=(
        "Run every combination of a config's sweep: block, vectorised on vectorbt in chunks, and print the best "
        "rows. The sweep and all its combinations are stored in the results store. Ctrl-C stops cleanly and keeps "
        "the finished chunks; --resume continues."
    )
)
def sweep(
    config: Annotated[Path, typer.Argument(help="A config with a sweep: block.")],
    source: Annotated[Source | None, typer.Option(help="Override data.source.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="CSV directory for --source csv.")] = None,
    start: Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")] = None,
    top: Annotated[int, typer.Option(min=1, help="Print the best N combinations.")] = 20,
    sort: Annotated[str, typer.Option(help="Rank by this metric (best first).")] = "sharpe",
    max_combos: Annotated[int, typer.Option(min=1, help="Refuse grids with more combinations.")] = 100_000,
    chunk_size: Annotated[
        int | None, typer.Option(min=1, help="Combinations per vectorbt call (default 100; fewer if memory is short).")
    ] = None,
    heatmap: Annotated[str | None, typer.Option(help="Two sweep keys A,B: write a heatmap to --output.")] = None,
    heatmap_metric: Annotated[str | None, typer.Option(help="Metric of the heatmap [default: --sort].")] = None,
    output: Annotated[Path | None, typer.Option(help="HTML file for --heatmap.")] = None,
    report: Annotated[
        Path | None,
        typer.Option(help="Also write the sweep's HTML report to FILE: tables, heatmaps, PBO, walk-forward."),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="With --report: also write each chart as DIR/<chart>.png.")] = None,
    report_rows: Annotated[
        int | None,
        typer.Option(min=1, help="Rows of the report's table of combinations, the best by --sort (default 500)."),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue a stopped sweep of the same config and data.")] = False,
    force: Annotated[bool, typer.Option(help="Run again even if this sweep is stored (or stopped).")] = False,
    cluster: Annotated[
        str | None, typer.Option(help="Run chunks on Dask: 'local' (a LocalCluster) or tcp://HOST:PORT.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Threads running chunks in this process (default: the cores, up to 8).")
    ] = None,
    reps: Annotated[int, typer.Option(min=100, help="Bootstrap resamples for the top rows' Sharpe CI.")] = 1000,
    format: Annotated[SweepFormat, typer.Option("--format")] = SweepFormat.table,
    results_dir: Annotated[Path, typer.Option(help="Where results are written.")] = Path("results"),
    store: Annotated[Path | None, typer.Option(help="Results catalog.")] = None,
    engine: Annotated[EngineChoice, typer.Option(help="vectorbt engine.")] = EngineChoice.rust,
    cache_dir: Annotated[Path | None, typer.Option(help="Yahoo download cache.")] = None,
    offline: Annotated[bool, typer.Option(help="Yahoo: use the cache only.")] = False,
) -> None:
    from engine.sweep_job import SweepOptions, heatmap_html, run_sweep, sweep_top

    console = Console(highlight=False, width=None if sys.stdout.isatty() else 240)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        pair = None
        if heatmap is not None:
            pair = tuple(p.strip() for p in heatmap.split(","))
            if len(pair) != 2 or not all(pair):
                raise UserError(f"--heatmap: expected two sweep keys as A,B, got {heatmap!r}")
            if output is None:
                raise UserError("--heatmap needs --output FILE.html")
        browser = _report_target(report, png, report_rows=report_rows)  # refuse before running anything
        opts = _run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline)
        sopts = SweepOptions(
            max_combos=max_combos, chunk_size=chunk_size, resume=resume, cluster=cluster, workers=workers
        )
        with Progress(
            TextColumn("[bold]sweep"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("combinations"),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task("sweep", total=None, rate="")
            started = dt.datetime.now(dt.UTC)

            def progress(done_chunks: int, total_chunks: int, done: int, total: int) -> None:
                seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
                rate = f"{done / seconds:,.0f}/s" if seconds > 0 and done else ""
                bar.update(task, completed=done, total=total, rate=rate)

            outcome = run_sweep(config, opts, sopts, env=dict(os.environ), now=started, progress=progress)
        if outcome.stopped:
            err.print(
                f"stopped: {outcome.chunks_done} of {outcome.chunks_total} chunks finished and kept in "
                f"{outcome.sweep_dir}; continue with --resume",
                markup=False,
            )
            raise typer.Exit(130)
        rows = sweep_top(outcome, opts, env=dict(os.environ), sort=sort, top=top, reps=reps)
        if pair is not None and output is not None:
            heatmap_html(outcome, pair[0], pair[1], heatmap_metric or sort, output)
        written: list[Path] = []
        if report is not None:
            from engine.report_jobs import sweep_report_job

            written = sweep_report_job(
                outcome,
                rows,
                opts,
                env=dict(os.environ),
                sort=sort,
                reps=reps,
                max_rows=report_rows,
                output=report,
                png_dir=png,
                browser=browser,
            )
    except UserError as exc:
        _fail(exc)
        return
    if format is SweepFormat.json:
        from engine.store.rundir import dumps_json

        doc = {"sweep": outcome.manifest, "rows": rows.to_dict(orient="records")}
        sys.stdout.write(dumps_json(doc))
        _print_written(written, err)
        return
    if format is SweepFormat.csv:
        sys.stdout.write(rows.to_csv(index=False, lineterminator="\n"))
        _print_written(written, err)
        return
    title = f"Seesaw sweep: {outcome.cfg.name}" + (" — SYNTHETIC DATA" if outcome.synthetic else "")
    console.print(sweep_table(rows, outcome.keys, title, sweep_caption(outcome, reps, sort)))
    if outcome.reused:
        console.print(f"reused {outcome.sweep_dir} (same config, data and code; --force runs again)", markup=False)
    if pair is not None:
        console.print(f"wrote {output}", markup=False)
    _print_written(written, console)


@app.command(
    help=(
        "Walk-forward validation of a config's sweep: on each fold choose the best combination on the training "
        "window only, apply it to the following test window, and stitch the out-of-sample run (stored as "
        "<name>_walkforward, comparable with seesaw compare). Durations: 5y, 18m, 90d."
    )
)
def walkforward(
    config: Annotated[Path, typer.Argument(help="A config with a sweep: block.")],
    train: Annotated[str, typer.Option(help="Training window, e.g. 5y.")] = "5y",
    test: Annotated[str, typer.Option(help="Test window, e.g. 1y.")] = "1y",
    step: Annotated[str | None, typer.Option(help="Step between folds [default: --test].")] = None,
    select: Annotated[str, typer.Option(help="Metric chosen on each training window.")] = "sharpe",
    source: Annotated[Source | None, typer.Option(help="Override data.source.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="CSV directory for --source csv.")] = None,
    start: Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")] = None,
    max_combos: Annotated[int, typer.Option(min=1, help="Refuse grids with more combinations.")] = 100_000,
    chunk_size: Annotated[int, typer.Option(min=1, help="Combinations per vectorbt call.")] = 16,
    cluster: Annotated[str | None, typer.Option(help="Run chunks on Dask: 'local' or tcp://HOST:PORT.")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Threads running chunks in this process (default: the cores, up to 8).")
    ] = None,
    results_dir: Annotated[Path, typer.Option(help="Where results are written.")] = Path("results"),
    store: Annotated[Path | None, typer.Option(help="Results catalog.")] = None,
    engine: Annotated[EngineChoice, typer.Option(help="vectorbt engine.")] = EngineChoice.rust,
    cache_dir: Annotated[Path | None, typer.Option(help="Yahoo download cache.")] = None,
    offline: Annotated[bool, typer.Option(help="Yahoo: use the cache only.")] = False,
    format: Annotated[SweepFormat, typer.Option("--format")] = SweepFormat.table,
    report: Annotated[
        Path | None,
        typer.Option(help="Also write the walk-forward's HTML report to FILE: folds, IS vs OOS, equity."),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="With --report: also write each chart as DIR/<chart>.png.")] = None,
) -> None:
    from engine.jobs import _resolve
    from engine.sweep_job import cluster_evaluator, default_workers, thread_evaluator
    from engine.walkforward_job import load_walkforward_panel, run_walkforward, store_walkforward

    env = dict(os.environ)
    now = dt.datetime.now(dt.UTC)
    try:
        browser = _report_target(report, png)  # refuse before running anything
        opts = _run_options(source, data_dir, start, end, results_dir, engine, store, False, cache_dir, offline)
        providers: dict = {}
        wf = run_walkforward(
            config,
            lambda cfg: _resolve(cfg, opts, env),
            lambda cfg, warmup: load_walkforward_panel(cfg, opts, env, providers, warmup),
            train=train,
            test=test,
            step=step,
            select_metric=select,
            engine=opts.engine,
            max_combos=max_combos,
            chunk_size=chunk_size,
            evaluate=cluster_evaluator(cluster) if cluster else thread_evaluator(workers or default_workers()),
        )
        run_dir = store_walkforward(wf, opts, env, now)
        written: list[Path] = []
        if report is not None:
            from engine.report_jobs import walkforward_report_job

            written = walkforward_report_job(run_dir, output=report, png_dir=png, browser=browser)
    except UserError as exc:
        _fail(exc)
        return
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    strategy = wf.results[0].metrics
    if format is SweepFormat.json:
        from engine.store.rundir import dumps_json

        doc = {
            "select": select,
            "folds": wf.folds_table.to_dict(orient="records"),
            "out_of_sample": strategy,
            "benchmarks": [r.metrics for r in wf.results[1:]],
            "run_dir": str(run_dir),
            "synthetic": wf.loaded.panel.synthetic,
        }
        sys.stdout.write(dumps_json(doc))
        _print_written(written, err)
        return
    if format is SweepFormat.csv:
        sys.stdout.write(wf.folds_table.to_csv(index=False, lineterminator="\n"))
        _print_written(written, err)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 240)
    title = f"Seesaw walk-forward: {wf.cfg.name}" + (" — SYNTHETIC DATA" if wf.loaded.panel.synthetic else "")
    table = Table(title=title)
    for col in wf.folds_table.columns:
        table.add_column(col, justify="right")
    for r in wf.folds_table.to_dict(orient="records"):
        cells = [v if isinstance(v, str) else sweep_cell(k.split("_", 1)[1] if k.startswith(("is_", "oos_")) else k, v)
                 for k, v in r.items()]  # fmt: skip
        table.add_row(*cells)
    console.print(table)
    is_mean = float(np.nanmean(wf.folds_table[f"is_{select}"]))
    lines = []
    if wf.loaded.panel.synthetic:
        lines.append("SYNTHETIC DATA: generated prices, not market history.")
    lines.append(
        f"{len(wf.table):,} combinations; {len(wf.folds)} folds (train {train}, test {test}, step {step or test}); "
        f"chosen by {select} on each training window only."
    )
    lines.append(
        f"Out of sample {strategy['start']} → {strategy['end']} (one stitched run, switches traded with their costs): "
        f"total {strategy['total_return'] * 100:.1f}%, CAGR {strategy['cagr'] * 100:.1f}%, "
        f"Sharpe {strategy['sharpe']:.2f}, max DD {strategy['max_drawdown'] * 100:.1f}%; "
        f"mean in-sample {select} of the chosen: {is_mean:.2f}."
    )
    for bench in wf.results[1:]:
        b = bench.metrics
        lines.append(
            f"  {b['name']} over the same dates: total {b['total_return'] * 100:.1f}%, Sharpe {b['sharpe']:.2f}."
        )
    lines.append(f"wrote {run_dir} (compare it: seesaw compare --runs latest)")
    for line in lines:
        console.print(line, markup=False)
    _print_written(written, console)
