"""``seesaw report``: the HTML report of one stored run."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from engine.cli.app import app
from engine.cli.options import PngOpt, ResultsDirOpt, StoreOpt, print_written, user_errors
from engine.errors import UserError

__all__ = ["report"]

_HELP = (
    "Write the HTML report of a stored run: RUN_ID (or a unique prefix), or 'latest' (the most recently created "
    "run). One self-contained file that opens offline: metrics, equity against the benchmarks, drawdowns, "
    "weights, signals with their rules, rolling one-year return and Sharpe, calendar years, trades."
)


@app.command(help=_HELP)
def report(
    run: Annotated[str, typer.Argument(help="RUN_ID, a unique prefix of one, or 'latest'.")],
    output: Annotated[Path | None, typer.Option(help="The HTML file to write (its directory must exist).")] = None,
    png: PngOpt = None,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
) -> None:
    from engine.jobs.common import RunOptions
    from engine.jobs.report import report_job

    with user_errors():
        if output is None:
            raise UserError("a report is a file: give --output FILE (e.g. --output report.html)")
        written = report_job(
            run, RunOptions(results_dir=results_dir, store=store), env=dict(os.environ), output=output, png_dir=png
        )
    print_written(written)
