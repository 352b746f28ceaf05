"""``seesaw compare``: strategies side by side on the same data and common window."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.app import app
from engine.cli.options import (
    PATH,
    PATH_ARG,
    CacheDirOpt,
    ColumnsOpt,
    DataDirOpt,
    EndOpt,
    EngineChoice,
    EngineOpt,
    ForceOpt,
    OfflineOpt,
    PngOpt,
    ProcessesOpt,
    ResultsDirOpt,
    SourceOpt,
    StartOpt,
    StoreOpt,
    compile_notice,
    err_console,
    joined,
    print_printout,
    print_written,
    run_options,
    table_width,
    user_errors,
)
from engine.errors import StoreError, UserError
from engine.output_paths import check_output, distinct_files

if TYPE_CHECKING:
    from engine.jobs.run import ConfigRun
    from engine.render.fit import Printout

__all__ = ["compare"]


class Currency(StrEnum):
    USD = "USD"
    HKD = "HKD"


class CompareFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    html = "html"


CurrencyOpt = Annotated[
    Currency | None,
    typer.Option(
        help="Show every run in this currency, converted at the HKD=X closes of its own data (default: the "
        "runs' currency; the majority's when they differ)."
    ),
]
BenchmarkOpt = Annotated[
    str | None, typer.Option(help="Reference for excess return, IR, P(SR>ref) and SPA (default: 50/50 monthly).")
]

_HELP = (
    "Compare strategies on the same data and common window: run (or reuse) CONFIGS, or pick stored runs with "
    "--runs. One row per strategy plus the benchmarks; bootstrap Sharpe intervals, PSR, deflated Sharpe and "
    "Hansen's SPA p-value. Annualised with the run's own trading periods per year, not 365; Sharpe-type "
    "ratios in excess of each run's cash rate."
)


_RUNS_HELP = (
    "Stored runs instead of configs: 'latest', or RUN_ID,… (run ids, unique prefixes or run directories); "
    "repeat the option for more."
)

#: ``ConfigsArg``, which ``--runs`` may replace.
_ConfigsOrNone = Annotated[
    list[Path] | None, typer.Argument(help="Config files (or directories of *.yaml).", **PATH_ARG)
]


@app.command(help=_HELP)
def compare(
    configs: _ConfigsOrNone = None,
    runs_given: Annotated[list[str] | None, typer.Option("--runs", help=_RUNS_HELP)] = None,
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    period: Annotated[str | None, typer.Option(help="Compare only START:END (either side may be empty).")] = None,
    by: Annotated[str | None, typer.Option(help="'year': also calendar-year returns, a row per year.")] = None,
    columns: ColumnsOpt = None,
    benchmark: BenchmarkOpt = None,
    sort: Annotated[str | None, typer.Option(help="Sort strategies best-first by this column (e.g. sharpe).")] = None,
    top: Annotated[int | None, typer.Option(min=1, help="Keep the first N strategies.")] = None,
    format: Annotated[
        CompareFormat, typer.Option("--format", help="html: a self-contained report page (needs --output).")
    ] = CompareFormat.table,
    output: Annotated[Path | None, typer.Option(**PATH, help="Write the output to FILE instead of stdout.")] = None,
    png: PngOpt = None,
    allow_mixed: Annotated[bool, typer.Option(help="Allow runs on different data (fingerprints).")] = False,
    currency: CurrencyOpt = None,
    reps: Annotated[int, typer.Option(min=100, help="Resamples for the Sharpe CI, P(SR>ref) and SPA.")] = 2000,
    regime: Annotated[
        str | None, typer.Option(help="Split history by this when:-style expression, e.g. 'corr < 0.2'.")
    ] = None,
    regime_config: Annotated[
        Path | None, typer.Option(**PATH, help="Config whose signals --regime names (its assets and data are used).")
    ] = None,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    force: ForceOpt = False,
    engine: EngineOpt = EngineChoice.rust,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
    workers: ProcessesOpt = None,
) -> None:
    from engine.jobs.compare import compare_job, parse_period, refuse_run_options

    html = format is CompareFormat.html
    runs = joined(runs_given)  # every --runs, as one list: none is dropped
    with user_errors(), compile_notice():
        _check_options(by, png, output, [*(configs or []), regime_config], html=html)
        refuse_run_options(runs, "--", regime=regime_config is not None, source=source, data_dir=data_dir,
                           start=start, end=end, force=force, cache_dir=cache_dir, offline=offline,
                           workers=workers)  # fmt: skip
        opts = run_options(
            source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline, workers,
            writes=runs is None,  # stored runs are only read: the store says what it lacks
        )  # fmt: skip
        comparison, runs_made = compare_job(
            configs or [], opts, runs=runs, env=dict(os.environ), now=dt.datetime.now(dt.UTC),
            period=parse_period(period), benchmark=benchmark, allow_mixed=allow_mixed,
            by_year=by == "year" or html,  # the report's year-by-year table
            reps=reps, regime=regime, regime_config=regime_config,
            currency=None if currency is None else currency.value,
        )  # fmt: skip
        rows = _sorted_rows(comparison.rows, sort, top)
    _output(format, comparison, rows, reps, output, png, joined(columns))
    _say_stored(runs_made)


def _say_stored(runs: Sequence[ConfigRun]) -> None:
    """On stderr, after the comparison: how many of the configs' runs were computed and stored now, and how many
    shown from the store (none said when stored runs were compared, ``--runs``)."""
    from engine.plural import counted

    stored = [r for r in runs if r.run_dir is not None]
    new, reused = sum(not r.reused for r in stored), sum(r.reused for r in stored)
    said = [f"{counted(new, 'runs')} computed and stored (seesaw runs list)"] if new else []
    if reused:
        said.append(f"{counted(reused, 'runs')} reused from the store (same config, data and code; --force runs again)")
    if said:
        err_console().print("; ".join(said), markup=False)


def _check_options(
    by: str | None, png: Path | None, output: Path | None, reads: Sequence[Path | None], *, html: bool
) -> None:
    """Refuse option combinations ``compare`` cannot honour, and an output over a config it ``reads`` or a file of
    the results store, before anything runs (UserError, StoreError)."""
    distinct_files({"--output": output}, reads)
    if output is not None:
        check_output(output)
    if by not in (None, "year"):
        raise UserError(f"--by: expected 'year', got {by!r}")
    if png is not None and not html:
        raise UserError("--png goes with --format html (the images are the report's charts)")
    if html:
        from engine.render.html.files import report_target

        if output is None:
            raise UserError("--format html writes a report file: give --output FILE")
        report_target(output, png, dict(os.environ))  # refuse before running anything


def _sorted_rows(rows: list[dict[str, Any]], sort: str | None, top: int | None) -> list[dict[str, Any]]:
    """The rows sorted by ``--sort`` and cut to ``--top`` (an unknown column is a UserError)."""
    from engine.render.text import compare_sort

    try:
        return compare_sort(rows, sort, top)
    except KeyError as exc:
        raise UserError(f"--sort: {exc.args[0]}") from None


def _output(
    format: CompareFormat,
    comparison: Any,
    rows: list[dict[str, Any]],
    reps: int,
    output: Path | None,
    png: Path | None,
    columns: str | None = None,
) -> None:
    """The HTML report written to ``output`` (its paths printed), or the comparison in ``format``."""
    if format is CompareFormat.html and output is not None:
        from engine.jobs.report import compare_report_job

        with user_errors():
            written = compare_report_job(comparison, rows, reps, env=dict(os.environ), output=output, png_dir=png)
        print_written(written)
        return
    with user_errors():
        try:
            _emit(format, comparison, rows, reps, output, columns)
        except ValueError as exc:  # an unknown --columns name
            raise UserError(str(exc)) from None


def _table_parts(
    comparison: Any, rows: list[dict[str, Any]], reps: int, columns: str | None, width: int | None
) -> list[Printout]:
    """The terminal table, and with ``--by year`` the years × rows table, fitted to ``width``."""
    from engine.render.tables import compare_printout, year_printout

    parts = [compare_printout(comparison, rows, reps, columns=columns, width=width)]
    if comparison.years:
        parts.append(year_printout(comparison, rows, width=width))
    return parts


def _emit(
    format: CompareFormat,
    comparison: Any,
    rows: list[dict[str, Any]],
    reps: int,
    output: Path | None,
    columns: str | None,
) -> None:
    """The comparison in ``format``, on stdout or into ``output`` (ValueError: an unknown ``--columns`` name)."""
    from engine.render.fit import plain_text
    from engine.render.tables import compare_chosen
    from engine.render.text import compare_csv, compare_json, compare_markdown

    if format is CompareFormat.table and output is None:
        for part in _table_parts(comparison, rows, reps, columns, table_width(os.environ)):
            print_printout(part)
        return
    if format is CompareFormat.table:  # a file: plain text at its natural width
        text = "\n".join(plain_text(part) for part in _table_parts(comparison, rows, reps, columns, None))
    else:
        cols = compare_chosen(comparison, rows, columns, terminal=False)
        keys = None if columns is None else [k for k, _, _, _ in cols]
        text = {
            CompareFormat.markdown: lambda: compare_markdown(comparison, rows, reps, cols),
            CompareFormat.csv: lambda: compare_csv(rows, keys),
            CompareFormat.json: lambda: compare_json(comparison, rows, keys),
        }[format]()
    if format is CompareFormat.csv:  # a CSV has no place for the runs' warnings: stderr says them
        for warning in comparison.warnings:
            err_console().print(f"warning: {warning}", markup=False)
    if output is None:
        sys.stdout.write(text)
        return
    with user_errors():
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise StoreError(f"cannot write the output: {exc.strerror or exc}", file=str(output)) from None
    print_written([output])  # as the HTML report says where it went
