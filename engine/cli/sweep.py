"""``seesaw sweep``: every combination of a config's sweep, the best rows printed.

Ctrl-C during a sweep keeps the finished chunks and exits 130.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from engine.cli.app import app
from engine.cli.options import (
    PATH,
    PATH_ARG,
    CacheDirOpt,
    DataDirOpt,
    EndOpt,
    EngineChoice,
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
from engine.errors import UserError
from engine.output_paths import check_html_file, distinct_files
from engine.sweep_columns import check_heatmap_keys, numeric_columns

if TYPE_CHECKING:
    import pandas as pd

    from engine.jobs.common import RunOptions
    from engine.store.sweeps import SweepOutcome

__all__ = ["SweepEngine", "SweepFormat", "report_target", "sweep"]


class SweepFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class SweepEngine(StrEnum):
    fused = "fused"
    rust = "rust"
    numba = "numba"


SweepEngineOpt = Annotated[
    SweepEngine,
    typer.Option(
        "--engine",
        help="fused: Seesaw's compiled scheduler fills every chunk with vectorbt's order primitives (fast; "
        "equal to vectorbt's simulation, which the tests check); rust|numba: every chunk re-simulated by "
        "vectorbt's from_orders on that engine (the reference, slower).",
    ),
]
ChunkSizeOpt = Annotated[
    int | None,
    typer.Option(
        min=1, help="Combinations per chunk (default 200, 100 with --engine rust|numba; fewer if memory is short)."
    ),
]
ClusterOpt = Annotated[
    str | None, typer.Option(help="Run chunks on Dask: 'local' (a LocalCluster) or tcp://HOST:PORT.")
]
WorkersOpt = Annotated[
    int | None, typer.Option(min=1, help="Threads running chunks in this process (default: the cores, up to 8).")
]
MaxCombosOpt = Annotated[int, typer.Option(min=1, help="Refuse grids with more combinations.")]
FormatOpt = Annotated[SweepFormat, typer.Option("--format")]


def report_target(
    report: Path | None,
    png: Path | None,
    *,
    report_rows: int | None = None,
    config: Path | None = None,
    output: Path | None = None,
) -> str | None:
    """Refuse, before any work, a report that cannot be written, or that would write over the ``config`` or the
    heatmap's ``output``; the Chromium for ``--png`` (None without)."""
    distinct_files({"--output": output, "--report": report}, [config])
    if output is not None:
        check_html_file(output)  # the heatmap's file: HTML, where it can be written, not over the store's
    if png is not None and report is None:
        raise UserError("--png goes with --report FILE (the images are the report's charts)")
    if report_rows is not None and report is None:
        raise UserError("--report-rows goes with --report FILE (it sizes the report's table)")
    if report is None:
        return None
    from engine.render.html.files import report_target as check_target

    return check_target(report, png, dict(os.environ))


def _heatmap_pair(heatmap: str | None, output: Path | None, metric: str | None) -> tuple[str, str] | None:
    """The --heatmap keys; its file and metric refused without it (never silently ignored)."""
    if heatmap is None:
        if output is not None:
            raise UserError("--output goes with --heatmap A,B (it is the heatmap's file; the report's is --report)")
        if metric is not None:
            raise UserError("--heatmap-metric goes with --heatmap A,B")
        return None
    pair = tuple(p.strip() for p in heatmap.split(","))
    if len(pair) != 2 or not all(pair):
        raise UserError(f"--heatmap: expected two sweep keys as A,B, got {heatmap!r}")
    if output is None:
        raise UserError("--heatmap needs --output FILE.html")
    return pair[0], pair[1]


def _before_any_work(
    config: Path,
    sort: str,
    heatmap: str | None,
    metric: str | None,
    output: Path | None,
    report: Path | None,
    png: Path | None,
    report_rows: int | None,
) -> tuple[tuple[str, str] | None, str | None, Callable[[Any], None]]:
    """The options checked before any work: (the --heatmap keys, the Chromium for --png, the check of the table
    options against the config once it is loaded, :func:`check_table_options`)."""
    pair = _heatmap_pair(heatmap, output, metric)
    browser = report_target(report, png, report_rows=report_rows, config=config, output=output)
    return pair, browser, functools.partial(check_table_options, sort=sort, pair=pair, metric=metric)


def check_table_options(cfg: Any, *, sort: str, pair: tuple[str, str] | None, metric: str | None) -> None:
    """Refuse, before the sweep runs, a ``--sort`` that is neither a numeric column of its table nor a sweep key,
    a ``--heatmap-metric`` that is not a numeric column, and ``--heatmap`` keys that are not two of its sweep
    keys (each said again when the table is read)."""
    columns, keys = numeric_columns(cfg.sweep, list(cfg.assets), cfg.traded_assets), list(cfg.sweep)
    if sort not in columns and sort not in keys:  # a text key (execution.rebalance) sorts too
        raise UserError(f"--sort: cannot sort by {sort!r} (columns: {', '.join(columns)})")
    if pair is None:
        return
    check_heatmap_keys(keys, *pair)
    shown = metric or sort  # the heatmap's metric: --heatmap-metric, else --sort
    if shown not in columns or shown in pair:
        what = "--heatmap-metric" if metric else "--heatmap-metric (default: --sort)"
        drawable = [c for c in columns if c not in pair]  # a heatmap's axis is not its colour
        raise UserError(f"{what}: cannot draw {shown!r} over {pair[0]} and {pair[1]} (metrics: {', '.join(drawable)})")


@contextmanager
def _progress_bar(err: Console) -> Iterator[Callable[[int, int, int, int], None]]:
    """A progress bar on stderr (only on a terminal); yields the sweep's progress callback."""
    columns = (TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("combinations"))
    timing = (TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, *timing, console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("sweep", total=None, rate="")
        started = dt.datetime.now(dt.UTC)

        def progress(done_chunks: int, total_chunks: int, done: int, total: int) -> None:
            seconds = (dt.datetime.now(dt.UTC) - started).total_seconds()
            rate = f"{done / seconds:,.0f}/s" if seconds > 0 and done else ""
            if done == total and done_chunks == total_chunks:  # a big grid's last step takes minutes
                rate = f"{rate}, all computed; overfitting statistics…"
            bar.update(task, completed=done, total=total, rate=rate)

        yield progress


_HELP = (
    "Run every combination of a config's sweep: block, vectorised on vectorbt in chunks, and print the best "
    "rows. The sweep and all its combinations are stored in the results store. Ctrl-C stops cleanly and keeps "
    "the finished chunks; --resume continues."
)


@app.command(help=_HELP)
def sweep(
    config: Annotated[Path, typer.Argument(help="A config with a sweep: block.", **PATH_ARG)],
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    top: Annotated[int, typer.Option(min=1, help="Print the best N combinations.")] = 20,
    sort: Annotated[str, typer.Option(help="Rank by this metric (best first).")] = "sharpe",
    max_combos: MaxCombosOpt = 100_000,
    chunk_size: ChunkSizeOpt = None,
    heatmap: Annotated[str | None, typer.Option(help="Two sweep keys A,B: write a heatmap to --output.")] = None,
    heatmap_metric: Annotated[str | None, typer.Option(help="Metric of the heatmap (default: --sort).")] = None,
    output: Annotated[Path | None, typer.Option(**PATH, help="HTML file for --heatmap.")] = None,
    report: Annotated[
        Path | None,
        typer.Option(**PATH, help="Also write the sweep's HTML report to FILE: tables, heatmaps, PBO, walk-forward."),
    ] = None,
    png: PngOpt = None,
    report_rows: Annotated[
        int | None,
        typer.Option(min=1, help="Rows of the report's table of combinations, the best by --sort (default 500)."),
    ] = None,
    resume: Annotated[bool, typer.Option(help="Continue a stopped sweep of the same config and data.")] = False,
    force: ForceOpt = False,
    cluster: ClusterOpt = None,
    workers: WorkersOpt = None,
    reps: Annotated[int, typer.Option(min=100, help="Bootstrap resamples for the top rows' Sharpe CI.")] = 1000,
    format: FormatOpt = SweepFormat.table,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    engine: SweepEngineOpt = SweepEngine.fused,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
) -> None:
    from engine.jobs.chunk_workers import check_cluster
    from engine.jobs.sweep import SweepOptions, run_sweep, sweep_engines, sweep_top

    env, err, stop = dict(os.environ), err_console(), _Stopped(force)
    with user_errors(stop), compile_notice():
        pair, browser, check = _before_any_work(config, sort, heatmap, heatmap_metric, output, report, png, report_rows)
        vectorbt, sim = sweep_engines(engine.value)
        opts = run_options(
            source, data_dir, start, end, results_dir, EngineChoice(vectorbt), store, force, cache_dir, offline
        )
        sopts = SweepOptions(max_combos, chunk_size, resume, check_cluster(cluster), workers=workers, simulator=sim)
        with _progress_bar(err) as progress:
            now, say = dt.datetime.now(dt.UTC), functools.partial(err.print, markup=False)
            outcome = run_sweep(
                config, opts, sopts, env=env, now=now, progress=progress, say=say, stage=stop.at, check=check
            )
        _exit_if_stopped(outcome, err)
    with user_errors(stop.stored(outcome.sweep_dir)), compile_notice():
        rows = sweep_top(outcome, opts, env=env, sort=sort, top=top, reps=reps)
        _write_heatmap(outcome, pair, heatmap_metric or sort, output)
        written = _write_report(
            report, outcome, rows, opts, env=env, sort=sort, reps=reps, max_rows=report_rows, png_dir=png,
            browser=browser,
        )  # fmt: skip
    _emit(outcome, rows, format, reps=reps, sort=sort, heatmap_output=output if pair else None, written=written)


#: What Ctrl-C outside the chunks says (the chunks themselves stop with :func:`_exit_if_stopped`'s count) before
#: the sweep is stored (once it is: :func:`engine.cli.options.stopped_once_stored`).
_STOPPED = "stopped (Ctrl-C): every chunk finished is kept; continue with --resume"


class _Stopped:
    """What Ctrl-C says while the sweep runs, by how far it got (the job tells it, :func:`engine.jobs.sweep.sweep_job`):
    nothing computed yet, :data:`_STOPPED` while computing, where it is once stored (or while a stored one is read).
    """

    def __init__(self, force: bool) -> None:
        self.stage, self.final, self.force = "", Path(), force

    def at(self, stage: str, final: Path) -> None:
        self.stage, self.final = stage, final

    def stored(self, final: Path) -> str:
        """Where the sweep is stored (``final``) and the command that shows it."""
        return stopped_once_stored("sweep", final, self.force)

    def __call__(self) -> str:
        if self.stage == "stored":
            return self.stored(self.final)
        return _STOPPED if self.stage == "computing" else "stopped (Ctrl-C): nothing was computed"


_REUSED = "reused {} (same config, data and code; --force runs again)"


def _write_heatmap(outcome: SweepOutcome, pair: tuple[str, str] | None, metric: str, output: Path | None) -> None:
    """``--heatmap A,B --output FILE``: the heatmap of ``metric`` over keys A and B written to FILE."""
    if pair is not None and output is not None:
        from engine.jobs.report import heatmap_html

        heatmap_html(outcome, pair[0], pair[1], metric, output)


def _exit_if_stopped(outcome: SweepOutcome, err: Console) -> None:
    """After Ctrl-C: say which chunks were kept and where, and exit with 130."""
    if outcome.stopped:
        err.print(
            f"stopped: {outcome.chunks_done} of {outcome.chunks_total} chunks finished and kept in "
            f"{outcome.sweep_dir}; continue with --resume",
            markup=False,
        )
        raise typer.Exit(130)


def _write_report(
    report: Path | None,
    outcome: SweepOutcome,
    rows: pd.DataFrame,
    opts: RunOptions,
    *,
    env: dict[str, str],
    sort: str,
    reps: int,
    max_rows: int | None,
    png_dir: Path | None,
    browser: str | None,
) -> list[Path]:
    """``--report``: the sweep's report (+ PNGs) written to ``report``; the files written (none without it)."""
    if report is None:
        return []
    from engine.jobs.report import sweep_report_job

    return sweep_report_job(
        outcome, rows, opts, env=env, sort=sort, reps=reps, max_rows=max_rows, output=report, png_dir=png_dir,
        browser=browser,
    )  # fmt: skip


def _emit(
    outcome: SweepOutcome,
    rows: pd.DataFrame,
    format: SweepFormat,
    *,
    reps: int,
    sort: str,
    heatmap_output: Path | None,
    written: list[Path],
) -> None:
    """The best rows in ``format`` on stdout; what was written, on stderr for json and csv."""
    from engine.jobs.run_assumptions import caveat_lines
    from engine.render.sweep_text import sweep_caption, sweep_printout
    from engine.store.rundir import dumps_json

    if outcome.chunks_resumed:  # on stderr: the table's, or the document's, stdout stays as without --resume
        err_console().print(
            f"resumed: {outcome.chunks_resumed} of {outcome.chunks_total} chunks kept from the stopped sweep, "
            f"{outcome.chunks_total - outcome.chunks_resumed} computed now",
            markup=False,
        )
    if format is not SweepFormat.table:
        # where the sweep is stored and whether this command computed it (the manifest is the stored sweep.json's)
        doc: Any = {
            "sweep": outcome.manifest,
            "rows": rows.to_dict(orient="records"),
            "sweep_dir": str(outcome.sweep_dir),
            "reused": outcome.reused,
        }
        labelled = rows.assign(synthetic=outcome.synthetic)  # as compare's csv: every row says what data it is of
        text = dumps_json(doc) if format is SweepFormat.json else labelled.to_csv(index=False, lineterminator="\n")
        sys.stdout.write(text)
        err = err_console()
        if outcome.reused:
            err.print(_REUSED.format(outcome.sweep_dir), markup=False, soft_wrap=True)
        print_written(written, err)
        return
    console = out_console()
    title = f"Seesaw sweep: {outcome.cfg.name}" + (" — SYNTHETIC DATA" if outcome.synthetic else "")
    caption = sweep_caption(outcome, reps, sort, rows, caveat_lines(outcome))
    print_printout(sweep_printout(rows, outcome.keys, title, caption, table_width(os.environ)))
    if outcome.reused:
        console.print(_REUSED.format(outcome.sweep_dir), markup=False, soft_wrap=True)  # a path to copy: never cut
    if heatmap_output is not None:
        console.print(f"wrote {heatmap_output}", markup=False)
    print_written(written, console)
