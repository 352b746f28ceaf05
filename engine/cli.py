"""The ``seesaw`` command line: the only module that prints or exits.

A user's mistake (a bad config, missing data, an unwritable results
directory) is one line on stderr and exit code 2; anything else is a bug and
shows its traceback.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from engine import __version__
from engine.errors import StoreError, UserError

__all__ = ["app", "main"]

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help=(
        "Seesaw: backtest YAML rotation rules between the US and Hong Kong stock markets on vectorbt.\n\n"
        "Returns are fractions; CAGR uses calendar time; volatility, Sharpe and Sortino are annualised with "
        "the run's own number of trading periods per year (the union of both markets' trading dates), "
        "not vectorbt's 365. Sharpe and Sortino are in excess of the config's cash rate (zero without one)."
    ),
)


class Source(StrEnum):
    yahoo = "yahoo"
    csv = "csv"
    synthetic = "synthetic"


class Format(StrEnum):
    table = "table"
    json = "json"


class EngineChoice(StrEnum):
    rust = "rust"
    numba = "numba"


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{option}: expected a date as YYYY-MM-DD, got {value!r}") from None


def _run_options(
    source: Source | None,
    data_dir: Path | None,
    start: str | None,
    end: str | None,
    results_dir: Path,
    engine: EngineChoice,
    store: Path | None,
    force: bool,
    cache_dir: Path | None,
    offline: bool,
):
    from engine.jobs import RunOptions

    return RunOptions(
        source=source.value if source else None,
        data_dir=data_dir,
        start=_date(start, "--start"),
        end=_date(end, "--end"),
        results_dir=results_dir,
        engine=engine.value,
        cache_dir=cache_dir,
        offline=offline,
        store=store,
        force=force,
    )


def _fail(err: UserError) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"error: {err.one_line()}", markup=False)
    raise typer.Exit(2)


_RUN_HELP = (
    "Run configs and print one table: a row per config plus its benchmark rows.\n\n"
    "Each run is written to RESULTS_DIR/<config-name>/<run-id>/. "
    "Volatility, Sharpe and Sortino are annualised with the run's own trading periods per year "
    "(dates of the union US/HK timeline per calendar year, about 258), not 365; "
    "CAGR uses calendar time; Sharpe and Sortino are in excess of the config's cash_rate (zero without one)."
)


@app.command(help=_RUN_HELP)
def run(
    configs: Annotated[list[Path], typer.Argument(help="Config files (or directories of *.yaml).")],
    source: Annotated[
        Source | None,
        typer.Option(help="Override data.source: yahoo (internet, cached), csv, synthetic (offline)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            help="Directory of Yahoo-style CSVs for --source csv (default: $SEESAW_DATA_DIR, else ../shared/data)."
        ),
    ] = None,
    start: Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")] = None,
    format: Annotated[
        Format, typer.Option("--format", help="table, or json (one object per row) on stdout.")
    ] = Format.table,
    results_dir: Annotated[Path, typer.Option(help="Where run directories are written.")] = Path("results"),
    engine: Annotated[
        EngineChoice, typer.Option(help="vectorbt simulation engine (pinned, never 'auto').")
    ] = EngineChoice.rust,
    cache_dir: Annotated[
        Path | None,
        typer.Option(help="Yahoo download cache (default: $SEESAW_CACHE_DIR, else ~/.cache/seesaw)."),
    ] = None,
    offline: Annotated[bool, typer.Option(help="Yahoo: use the cache only, never download.")] = False,
    store: Annotated[
        Path | None,
        typer.Option(help="Results catalog (default: $SEESAW_STORE, else RESULTS_DIR/seesaw.duckdb)."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Run again even if an identical run (config and data) is stored.")
    ] = False,
) -> None:
    """Run configs and print one table: a row per config plus its benchmark rows."""
    from engine.jobs import run_configs
    from engine.render import rows_json, rows_table

    try:
        opts = _run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline)
        report = run_configs(configs, opts, env=dict(os.environ), now=dt.datetime.now(dt.UTC))
    except UserError as err:
        _fail(err)
        return
    warnings = [w for r in report.runs for w in r.warnings]
    if format is Format.json:
        sys.stdout.write(rows_json(report.rows))
        err_console = Console(stderr=True, highlight=False, soft_wrap=True)
        if report.synthetic:
            err_console.print("warning: SYNTHETIC data: generated prices, not market history", markup=False)
        for w in warnings:
            err_console.print(f"warning: {w}", markup=False)
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(rows_table(report.rows, warnings))
    for r in report.runs:
        for note in r.notes:
            console.print(f"note: {r.config.name}: {note}", markup=False)
        if r.run_dir is not None:
            verb = "reused (same config and data; --force runs again)" if r.reused else "wrote"
            console.print(f"{verb} {r.run_dir}", markup=False)


class CompareFormat(StrEnum):
    table = "table"
    markdown = "markdown"
    csv = "csv"
    json = "json"
    html = "html"


@app.command(
    help=(
        "Compare strategies on the same data and common window: run (or reuse) CONFIGS, or pick stored runs with "
        "--runs. One row per strategy plus the benchmarks; bootstrap Sharpe intervals, PSR, deflated Sharpe and "
        "Hansen's SPA p-value. Annualised with the run's own trading periods per year, not 365; Sharpe-type "
        "ratios in excess of each run's cash rate."
    )
)
def compare(
    configs: Annotated[list[Path] | None, typer.Argument(help="Config files (or directories of *.yaml).")] = None,
    runs: Annotated[str | None, typer.Option(help="Stored runs instead of configs: 'latest' or RUN_ID,RUN_ID.")] = None,
    source: Annotated[Source | None, typer.Option(help="Override data.source.")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="CSV directory for --source csv.")] = None,
    start: Annotated[str | None, typer.Option(help="Override data.start (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Override data.end (YYYY-MM-DD).")] = None,
    period: Annotated[str | None, typer.Option(help="Compare only START:END (either side may be empty).")] = None,
    by: Annotated[str | None, typer.Option(help="'year': add calendar-year returns, a column per year.")] = None,
    benchmark: Annotated[
        str | None, typer.Option(help="Reference for excess return, IR, PSR and SPA [default: 50/50 monthly].")
    ] = None,
    sort: Annotated[str | None, typer.Option(help="Sort strategies best-first by this column (e.g. sharpe).")] = None,
    top: Annotated[int | None, typer.Option(min=1, help="Keep the first N strategies.")] = None,
    format: Annotated[
        CompareFormat, typer.Option("--format", help="html: a self-contained report page (needs --output).")
    ] = CompareFormat.table,
    output: Annotated[Path | None, typer.Option(help="Write the output to FILE instead of stdout.")] = None,
    png: Annotated[
        Path | None, typer.Option(help="With --format html: also write each chart as DIR/<chart>.png (Chromium).")
    ] = None,
    allow_mixed: Annotated[bool, typer.Option(help="Allow runs on different data (fingerprints).")] = False,
    reps: Annotated[int, typer.Option(min=100, help="Bootstrap resamples for the Sharpe CI and SPA.")] = 2000,
    regime: Annotated[
        str | None, typer.Option(help="Split history by this when:-style expression, e.g. 'corr < 0.2'.")
    ] = None,
    regime_config: Annotated[
        Path | None, typer.Option(help="Config whose signals --regime names (its assets and data are used).")
    ] = None,
    results_dir: Annotated[Path, typer.Option(help="Where run directories are written.")] = Path("results"),
    store: Annotated[Path | None, typer.Option(help="Results catalog (default: RESULTS_DIR/seesaw.duckdb).")] = None,
    force: Annotated[bool, typer.Option(help="Run configs again even if stored.")] = False,
    engine: Annotated[EngineChoice, typer.Option(help="vectorbt engine.")] = EngineChoice.rust,
    cache_dir: Annotated[Path | None, typer.Option(help="Yahoo download cache.")] = None,
    offline: Annotated[bool, typer.Option(help="Yahoo: use the cache only, never download.")] = False,
) -> None:
    from engine.jobs import compare_job, parse_period
    from engine.render import compare_csv, compare_json, compare_markdown, compare_sort, compare_table

    try:
        if by not in (None, "year"):
            raise UserError(f"--by: expected 'year', got {by!r}")
        html = format is CompareFormat.html
        if png is not None and not html:
            raise UserError("--png goes with --format html (the images are the report's charts)")
        if html:
            from engine.report.files import report_target

            if output is None:
                raise UserError("--format html writes a report file: give --output FILE")
            report_target(output, png, dict(os.environ))  # refuse before running anything
        opts = _run_options(source, data_dir, start, end, results_dir, engine, store, force, cache_dir, offline)
        comparison, _ = compare_job(
            configs or [],
            opts,
            runs=runs,
            env=dict(os.environ),
            now=dt.datetime.now(dt.UTC),
            period=parse_period(period),
            benchmark=benchmark,
            allow_mixed=allow_mixed,
            by_year=by == "year" or html,  # the report's year-by-year table
            reps=reps,
            regime=regime,
            regime_config=regime_config,
        )
        try:
            rows = compare_sort(comparison.rows, sort, top)
        except KeyError as exc:
            raise UserError(f"--sort: {exc.args[0]}") from None
        if html and output is not None:
            from engine.jobs import compare_report_job

            written = compare_report_job(comparison, rows, reps, env=dict(os.environ), output=output, png_dir=png)
    except UserError as err:
        _fail(err)
        return
    if html:
        _print_written(written)
        return
    if format is CompareFormat.table and output is None:
        Console(highlight=False, width=None if sys.stdout.isatty() else 240).print(
            compare_table(comparison, rows, reps)
        )
        return
    if format is CompareFormat.table:
        buffer = io.StringIO()
        Console(file=buffer, highlight=False, width=240, no_color=True).print(compare_table(comparison, rows, reps))
        text = buffer.getvalue()
    else:
        text = {
            CompareFormat.markdown: lambda: compare_markdown(comparison, rows, reps),
            CompareFormat.csv: lambda: compare_csv(rows),
            CompareFormat.json: lambda: compare_json(comparison, rows),
        }[format]()
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        _fail(StoreError(f"cannot write the output: {exc.strerror or exc}", file=str(output)))


def _print_written(files: list[Path]) -> None:
    for f in files:
        print(f"wrote {f}")


@app.command(
    help=(
        "Write the HTML report of a stored run: RUN_ID (or a unique prefix), or 'latest' (the most recently created "
        "run). One self-contained file that opens offline: metrics, equity against the benchmarks, drawdowns, "
        "weights, signals with their rules, rolling one-year return and Sharpe, calendar years, trades."
    )
)
def report(
    run: Annotated[str, typer.Argument(help="RUN_ID, a unique prefix of one, or 'latest'.")],
    output: Annotated[Path | None, typer.Option(help="The HTML file to write (its directory must exist).")] = None,
    png: Annotated[Path | None, typer.Option(help="Also write each chart as DIR/<chart>.png (Chromium).")] = None,
    results_dir: Annotated[Path, typer.Option(help="Where run directories are.")] = Path("results"),
    store: Annotated[Path | None, typer.Option(help="Results catalog (default: RESULTS_DIR/seesaw.duckdb).")] = None,
) -> None:
    from engine.jobs import RunOptions, report_job

    try:
        if output is None:
            raise UserError("a report is a file: give --output FILE (e.g. --output report.html)")
        written = report_job(
            run, RunOptions(results_dir=results_dir, store=store), env=dict(os.environ), output=output, png_dir=png
        )
    except UserError as err:
        _fail(err)
        return
    _print_written(written)


runs_app = typer.Typer(help="Browse the results store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _catalog(results_dir: Path, store: Path | None):
    from engine.jobs import RunOptions, catalog_for

    return catalog_for(RunOptions(results_dir=results_dir, store=store), dict(os.environ))


def _print_rows(columns: list[str], rows: list[tuple], title: str | None = None) -> None:
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(highlight=False, width=None if sys.stdout.isatty() else 240).print(table)


ResultsDir = Annotated[Path, typer.Option(help="Where run directories are.")]
StorePath = Annotated[Path | None, typer.Option(help="Results catalog (default: RESULTS_DIR/seesaw.duckdb).")]


@runs_app.command("list")
def runs_list(results_dir: ResultsDir = Path("results"), store: StorePath = None) -> None:
    """List stored runs, newest first, with their strategy's headline metrics."""
    try:
        cols, rows = _catalog(results_dir, store).query(
            'SELECT r.run_id, r.config_name, r.data_source, r.start, r."end", r.data_fingerprint, '
            "round(m.total_return, 4) AS total_return, round(m.sharpe, 3) AS sharpe, r.created_at "
            "FROM runs r JOIN metrics m ON m.run_id = r.run_id AND m.kind = 'strategy' "
            "ORDER BY r.created_at DESC, r.run_id DESC"
        )
    except UserError as err:
        _fail(err)
        return
    _print_rows(cols, rows)


@runs_app.command("show")
def runs_show(run_id: str, results_dir: ResultsDir = Path("results"), store: StorePath = None) -> None:
    """Show one run: its manifest and the metrics of its strategy and benchmarks."""
    try:
        catalog = _catalog(results_dir, store)
        selected = catalog.select(run_id)
        if len(selected) != 1:
            raise UserError(f"{run_id!r} selects {len(selected)} runs; runs show takes one run id")
        (run_dir,) = selected
        cols, rows = catalog.query(
            "SELECT kind, name, total_return, cagr, ann_vol, sharpe, sortino, max_drawdown, calmar, turnover, "
            "switches_per_year, fees_paid FROM metrics WHERE run_id = (SELECT run_id FROM runs WHERE run_dir = ?) "
            "ORDER BY kind DESC, name",
            [str(run_dir)],
        )
    except UserError as err:
        _fail(err)
        return
    print((run_dir / "run.json").read_text(encoding="utf-8"), end="")
    print(f"run directory: {run_dir}")
    _print_rows(cols, rows)


@runs_app.command("query")
def runs_query(
    sql: str,
    results_dir: ResultsDir = Path("results"),
    store: StorePath = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    """Run read-only SQL on the catalog: tables runs, metrics; views equity, weights, trades, benchmarks, prices."""
    try:
        if format not in ("table", "csv", "json"):
            raise UserError(f"--format: expected table, csv or json, got {format!r}")
        cols, rows = _catalog(results_dir, store).user_query(sql)
    except UserError as err:
        _fail(err)
        return
    if format == "table":
        _print_rows(cols, rows)
    elif format == "csv":
        import csv

        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows(rows)
    else:
        from engine.store.rundir import dumps_json

        sys.stdout.write(
            dumps_json(
                [dict(zip(cols, (str(v) if isinstance(v, dt.date) else v for v in r), strict=True)) for r in rows]
            )
        )


@app.command()
def validate(
    configs: Annotated[list[Path], typer.Argument(help="Config files (or directories of *.yaml).")],
) -> None:
    """Check configs without running them."""
    from engine.jobs import expand_config_paths, validate_configs

    try:
        files = expand_config_paths(configs)
        validate_configs(files)
    except UserError as err:
        _fail(err)
        return
    for f in files:
        print(f"{f}: ok")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the config file, for editors."""
    from engine.jobs import config_schema

    print(json.dumps(config_schema(), indent=2))


@app.command()
def version() -> None:
    """Print the Seesaw version."""
    print(__version__)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="seesaw")


# The sweep commands live in their own module (this one would pass 500 lines); importing it registers them.
import engine.cli_sweep  # noqa: E402, F401
