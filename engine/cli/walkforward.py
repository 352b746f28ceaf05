"""``seesaw walkforward``: choose on each training window, test on the next, stitch the out-of-sample run."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from engine.cli.app import app
from engine.cli.options import (
    PATH,
    PATH_ARG,
    CacheDirOpt,
    DataDirOpt,
    EndOpt,
    EngineChoice,
    EngineOpt,
    ForceOpt,
    OfflineOpt,
    PngOpt,
    ResultsDirOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    compile_notice,
    err_console,
    out_console,
    print_printout,
    print_written,
    run_options,
    stopped_once_stored,
    table_width,
    user_errors,
)
from engine.cli.sweep import ClusterOpt, FormatOpt, MaxCombosOpt, SweepFormat, WorkersOpt, report_target
from engine.data.base import SYNTHETIC_LABEL

if TYPE_CHECKING:
    from engine.jobs.walkforward import StoredWalkForward

__all__ = ["walkforward"]

_HELP = (
    "Walk-forward validation of a config's sweep: on each fold choose the best combination on the training "
    "window only, apply it to the following test window, and stitch the out-of-sample run (stored as "
    "<name>_walkforward, comparable with seesaw compare). Durations: 5y, 18m, 90d."
)


@app.command(help=_HELP)
def walkforward(
    config: Annotated[Path, typer.Argument(help="A config with a sweep: block.", **PATH_ARG)],
    train: Annotated[str, typer.Option(help="Training window, e.g. 5y.")] = "5y",
    test: Annotated[str, typer.Option(help="Test window, e.g. 1y.")] = "1y",
    step: Annotated[str | None, typer.Option(help="Step between folds (default: --test).")] = None,
    select: Annotated[str, typer.Option(help="Metric chosen on each training window.")] = "sharpe",
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    max_combos: MaxCombosOpt = 100_000,
    chunk_size: Annotated[
        int | None,
        typer.Option(min=1, help="Combinations per chunk (default 200, fewer when memory is short)."),
    ] = None,
    cluster: ClusterOpt = None,
    workers: WorkersOpt = None,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    force: ForceOpt = False,
    engine: EngineOpt = EngineChoice.rust,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    format: FormatOpt = SweepFormat.table,
    report: Annotated[
        Path | None,
        typer.Option(**PATH, help="Also write the walk-forward's HTML report to FILE: folds, IS vs OOS, equity."),
    ] = None,
    png: PngOpt = None,
) -> None:
    from engine.jobs.chunk_workers import check_cluster, cluster_evaluator, default_workers, thread_evaluator
    from engine.jobs.walkforward import walkforward_job

    env, stored = dict(os.environ), list[Path]()
    with user_errors(lambda: _stopped(stored, force)), compile_notice():
        browser = report_target(report, png, config=config)  # refuse before running anything
        check_cluster(cluster)
        opts = run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline)
        shown = walkforward_job(
            config,
            opts,
            env,
            train=train,
            test=test,
            step=step,
            select_metric=select,
            max_combos=max_combos,
            chunk_size=chunk_size,
            evaluate=cluster_evaluator(cluster) if cluster else thread_evaluator(workers or default_workers()),
            now=dt.datetime.now(dt.UTC),
            stored=stored.append,
        )
        run_dir = shown.run_dir  # computed or reused: what is shown is what is stored
        written: list[Path] = []
        if report is not None:
            from engine.jobs.report import walkforward_report_job

            written = walkforward_report_job(run_dir, output=report, png_dir=png, browser=browser)
    _write_output(shown, written, format)


def _stopped(stored: list[Path], force: bool) -> str:
    """What Ctrl-C says: once the walk-forward is stored (or a stored one is being read), where, as a sweep says."""
    return stopped_once_stored("walk-forward", stored[-1], force) if stored else "stopped (Ctrl-C)"


def _write_output(
    wf: StoredWalkForward,
    written: list[Path],
    fmt: SweepFormat,
) -> None:
    """The result in ``fmt`` on stdout; the report files written after it (on stderr unless a table)."""
    if fmt is SweepFormat.table:
        _print_table(wf)
        print_written(written, out_console())
        return
    if fmt is SweepFormat.json:
        from engine.store.rundir import dumps_json

        doc = {
            **{k: wf.settings[k] for k in ("select", "train", "test", "step")},
            "combinations": wf.combinations,
            "folds": wf.folds.to_dict(orient="records"),
            "out_of_sample": wf.strategy,
            "benchmarks": wf.benchmarks,
            "run_dir": str(wf.run_dir),
            "reused": wf.reused,
            "synthetic": wf.synthetic,
            "warnings": list(wf.warnings),
        }
        sys.stdout.write(dumps_json(doc))
    else:
        labelled = wf.folds.assign(synthetic=wf.synthetic)
        sys.stdout.write(labelled.to_csv(index=False, lineterminator="\n"))
    err = err_console()
    if wf.reused:
        err.print(_REUSED.format(wf.run_dir), markup=False, soft_wrap=True)
    print_written(written, err)


#: How a walk-forward printed from the store says so (the table's last lines, or stderr with --format json|csv).
_REUSED = "reused {} (same config, data, settings and code; --force runs again)"


def _print_table(wf: StoredWalkForward) -> None:
    """The folds table, then the out-of-sample run against its benchmarks in words."""
    from engine.render.sweep_text import folds_printout

    title = f"Seesaw walk-forward: {wf.name}" + (" — SYNTHETIC DATA" if wf.synthetic else "")
    summary = _summary(wf)
    print_printout(folds_printout(wf.folds, title, summary, table_width(os.environ)))


def _summary(wf: StoredWalkForward) -> list[str]:
    """The lines under the folds table: what was swept and chosen (the stored settings), the stitched run, and its
    benchmarks."""
    from engine.metrics.samples import annualised_shown
    from engine.metrics.specs import spec
    from engine.plural import counted
    from engine.render.fit import Whole
    from engine.render.text import format_value

    def pct(x: float | None) -> str:
        return format_value(x, "pct")

    def num(x: float | None) -> str:
        return format_value(x, "num")

    strategy = wf.strategy
    select, train, test, step = (wf.settings[k] for k in ("select", "train", "test", "step"))
    is_mean, oos_mean = (float(np.nanmean(wf.folds[f"{k}_{select}"].to_numpy(dtype=float))) for k in ("is", "oos"))
    lines = [f"WARNING: {w}" for w in wf.warnings]  # a fold that chose lag 0: look-ahead
    if wf.synthetic:
        lines.append(SYNTHETIC_LABEL)
    lines.append(
        f"{counted(wf.combinations, 'combinations')}; {counted(len(wf.folds), 'folds')} (train {train}, test {test}, "
        f"step {step}); "
        f"chosen by {select} on each training window only."
    )
    lines.append(
        f"Out of sample {strategy['start']} → {strategy['end']} (one stitched run, switches traded with their costs): "
        f"total {pct(strategy['total_return'])}, CAGR {pct(strategy['cagr'])}, "
        f"Sharpe {num(strategy['sharpe'])}, max DD {pct(strategy['max_drawdown'])}; "
        f"over the folds, the chosen combinations' {select} averaged {format_value(is_mean, spec(select).fmt)} in "
        f"sample and {format_value(oos_mean, spec(select).fmt)} out of sample (each on its fold's own window)."
    )
    if not annualised_shown(strategy):
        lines.append(
            f"The out-of-sample run is {strategy['years']:.2f} years: under one year its CAGR and Sharpe, and the "
            "folds' out-of-sample ones, extrapolate it to a year (compare does not show them)."
        )
    else:
        lines += _short_windows(wf, test)
    for b in wf.benchmarks:
        lines.append(f"  {b['name']} over the same dates: total {pct(b['total_return'])}, Sharpe {num(b['sharpe'])}.")
    run_dir = wf.run_dir
    results = shlex.quote(str(run_dir.parents[1]))  # <results>/<config>_walkforward/<run id>
    verb = _REUSED.format(run_dir) if wf.reused else f"wrote {run_dir}"
    lines.append(f"{verb}; compare it with runs on the same data (seesaw runs list shows their ids):")
    lines.append(Whole(f"seesaw compare --runs {run_dir.name},RUN_ID --results-dir {results}"))  # a command to copy
    return lines


def _short_windows(wf: StoredWalkForward, test: str) -> list[str]:
    """What extrapolates a fold's out-of-sample window to a year (:func:`engine.walkforward_windows.short_windows`)."""
    from engine.walkforward_windows import short_windows

    return short_windows(wf.dates, wf.folds.to_dict("records"), test)
