"""``seesaw report``: the HTML report of one stored run, or its tear sheet as text."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.app import app
from engine.cli.options import (
    PATH,
    PngOpt,
    ResultsDirOpt,
    StoreOpt,
    compile_notice,
    err_console,
    print_written,
    user_errors,
)
from engine.errors import UserError

__all__ = ["ReportFormat", "report"]


class ReportFormat(StrEnum):
    html = "html"
    text = "text"


_HELP = (
    "Write the HTML report of a stored run: RUN_ID (or a unique prefix, or the run's directory), or 'latest' "
    "(the last config's run of the last run, compare or walkforward, computed or reused; else the most recently "
    "created). One self-contained file that opens offline: metrics, equity against the benchmarks, drawdowns, "
    "weights, signals with their rules, rolling one-year return and Sharpe, calendar years, trades. --format text "
    "prints the run's headline metrics, warnings and notes and its tear sheet instead (monthly returns, worst "
    "drawdowns, rolling correlation and beta, VaR, switches, contribution), 100 columns wide."
)


@app.command(help=_HELP)
def report(
    run: Annotated[str, typer.Argument(help="RUN_ID, a unique prefix of one, a run directory, or 'latest'.")],
    output: Annotated[
        Path | None,
        typer.Option(
            **PATH, help="The file to write (its directory must exist); needed with html, optional with text."
        ),
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", help="html: a report page (needs --output); text: the tear sheet.")
    ] = ReportFormat.html,
    png: PngOpt = None,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
) -> None:
    from engine.jobs.common import RunOptions
    from engine.jobs.report import report_job, report_text_job

    opts = RunOptions(results_dir=results_dir, store=store)
    with user_errors(), compile_notice():
        if format is ReportFormat.text:
            if png is not None:
                raise UserError("--png goes with --format html (the images are the report's charts)")
            text = report_text_job(run, opts, env=dict(os.environ), output=output)
        elif output is None:
            raise UserError("a report is a file: give --output FILE (e.g. --output report.html)")
        else:
            written = report_job(run, opts, env=dict(os.environ), output=output, png_dir=png)
    if format is ReportFormat.text:
        sys.stdout.write(text)
        if output is not None:
            print_written([output], err_console())  # stdout stays the text
        return
    print_written(written)
