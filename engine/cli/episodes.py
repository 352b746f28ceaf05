"""``seesaw episodes``: when a signal was at an extreme, how extreme in all its history, and what followed."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from engine.cli.app import app
from engine.cli.options import (
    PATH,
    PATH_ARG,
    CacheDirOpt,
    DataDirOpt,
    EndOpt,
    EngineChoice,
    OfflineOpt,
    ResultsDirOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    compile_notice,
    err_console,
    out_console,
    run_options,
    table_width,
    user_errors,
)
from engine.errors import UserError
from engine.output_paths import distinct_files

if TYPE_CHECKING:
    from engine.episode_report import EpisodeReport

__all__ = ["episodes"]


class EpisodesFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


_EPISODES_HELP = (
    "List every episode where a signal of CONFIG reached an extreme (--low: its lowest values, --high: its "
    "highest): its date and value with a 95% band, its rank and percentile in all the history before it, the "
    "date since which it is the most extreme, and the forward returns of the config's assets (and of any "
    "--configs) over 1, 3, 6 and 12 months, with an event study against all other dates. "
    "The result is stored as RESULTS_DIR/episodes/<id>/episodes.json. See docs/episodes.md."
)


_Config = Annotated[Path, typer.Argument(help="The config that names the assets and defines the signal.", **PATH_ARG)]
_Signal = Annotated[str, typer.Option(help="The signal of the config to look at.")]
_Low = Annotated[bool, typer.Option("--low", help="Extremes are the lowest values (a correlation breaking down).")]
_High = Annotated[bool, typer.Option("--high", help="Extremes are the highest values.")]
_Since = Annotated[
    str | None, typer.Option(help="List the episodes from this date on (YYYY-MM-DD); ranks still use all history.")
]
_Threshold = Annotated[float | None, typer.Option(help="An episode: the signal at or beyond this value.")]
_Percentile = Annotated[
    float | None,
    typer.Option(  # 0..100, checked with nan (which no range check of the parser catches) by the job
        help="An episode: the signal's percentile in the history so far at or beyond P (0 to 100) "
        "(default: 5 with --low, 95 with --high).",
    ),
]
_Configs = Annotated[
    list[Path] | None,
    typer.Option(
        "--configs",
        **PATH,
        help="A config whose forward returns to show (repeat the option for more), run and stored as `run` does.",
    ),
]
_Gap = Annotated[
    int,
    typer.Option(
        min=0,
        help="Runs of qualifying observations separated by fewer than this many others are one episode (0: never).",
    ),
]
_Format = Annotated[EpisodesFormat, typer.Option("--format", help="table, json (a list of episodes) or csv on stdout.")]
_Report = Annotated[
    Path | None, typer.Option(**PATH, help="Also write an HTML report with a chart per episode and a summary chart.")
]


@app.command(help=_EPISODES_HELP)
def episodes(
    config: _Config,
    signal: _Signal,
    low: _Low = False,
    high: _High = False,
    since: _Since = None,
    threshold: _Threshold = None,
    percentile: _Percentile = None,
    configs: _Configs = None,
    gap: _Gap = 21,
    format: _Format = EpisodesFormat.table,
    report: _Report = None,
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    results_dir: ResultsDirOpt = Path("results"),
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    store: StoreOpt = None,
) -> None:
    """List a signal's episodes at an extreme (see the command's help)."""
    from engine.jobs.common import parse_date
    from engine.jobs.episodes import episodes_report, store_report

    now = dt.datetime.now(dt.UTC)
    with user_errors(), compile_notice():
        if low == high:
            raise UserError("give exactly one of --low and --high", expected="--low or --high")
        if report is not None:
            from engine.render.html.files import report_target

            distinct_files({"--report": report}, [config, *(configs or [])])
            report_target(report, None, dict(os.environ))  # refuse before any work
        opts = run_options(
            source, data_dir, start, end, results_dir, EngineChoice.rust, store, False, cache_dir, offline
        )
        found = episodes_report(
            config,
            opts,
            env=dict(os.environ),
            now=now,
            signal=signal,
            direction="low" if low else "high",
            since=parse_date(since, "--since"),
            threshold=threshold,
            percentile=percentile,
            configs=configs or [],
            gap=gap,
        )
        if report is not None:
            from engine.render.html.episodes import write_episodes_report

            write_episodes_report(found, report)
        path = store_report(found, results_dir, now)
    _show(found, format, path, report)


def _show(found: EpisodeReport, format: EpisodesFormat, path: Path, report: Path | None) -> None:
    """stdout: the episodes in ``format``; stderr: the notes and where the results went."""
    from engine.render.episodes_text import episodes_csv, episodes_lines

    if format is EpisodesFormat.json:
        sys.stdout.write(json.dumps(found.episodes, indent=2) + "\n")
    elif format is EpisodesFormat.csv:
        sys.stdout.write(episodes_csv(found))
    else:
        width = table_width(os.environ)
        console = out_console(width or 240)
        for line in episodes_lines(found, width):
            console.print(line, markup=False)
    err = err_console()
    if found.synthetic and format is not EpisodesFormat.table:  # also when no episode row carries it
        err.print("warning: SYNTHETIC data: generated prices, not market history", markup=False)
    width = table_width(os.environ)  # notes wrap where the table does; the paths below never
    notes = Console(stderr=True, highlight=False, width=width, soft_wrap=width is None)
    for line in (*(f"warning: {w}" for w in found.warnings), *(f"note: {n}" for n in found.notes)):
        notes.print(line, markup=False)
    err.print(f"stored {path}")
    if report is not None:
        err.print(f"wrote {report}")
