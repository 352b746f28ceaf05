"""``seesaw runs list|show|query``: browse the results store."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from engine.cli.app import Commands, app
from engine.cli.options import ResultsDirOpt, StoreOpt, err_console, out_console, table_width, user_errors
from engine.data.base import SYNTHETIC_LABEL
from engine.errors import StoreError, UserError, printable

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from engine.store.catalog import Catalog

__all__ = ["runs_app", "runs_list", "runs_query", "runs_show"]

runs_app = typer.Typer(cls=Commands, help="Browse the results store.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")


def _catalog(results_dir: Path, store: Path | None) -> Catalog:
    from engine.jobs.common import RunOptions, catalog_for

    catalog = catalog_for(RunOptions(results_dir=results_dir, store=store), dict(os.environ))
    catalog.check_stored()
    return catalog


def _console() -> Console:
    """stdout at the terminal's width; piped, ``COLUMNS`` wide when that is set (:func:`table_width`), else 240."""
    return out_console(piped_width=table_width(os.environ) or 240)


def _left_out(file: str, why: str) -> None:
    """A stored file left out of the views (read as numbers, they would be wrong): its rows are not in the result."""
    err_console().print(f"warning: left out of the views: {Path(file).parent}: {why}", markup=False)


def _print_rows(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """A query's rows as they come: a table when every column fits the window whole (a cell too long for it
    is folded, never cut), else one record per row, a line per column (:func:`_print_records`)."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    columns = [printable(c) for c in columns]  # a control character shown escaped, never sent to the terminal
    cells = [[printable(_text_value(v)) for v in row] for row in rows]
    natural = _natural_widths(columns, cells)
    if sum(natural) + 3 * len(columns) + 1 > console.width and len(columns) > 1:
        _print_records(columns, cells, console.width)
        return
    table = Table()
    for c in columns:
        table.add_column(Text(c), overflow="fold")
    for row in cells:
        table.add_row(*map(Text, row))  # as stored: "[b]x[/b]" is text, not rich's markup
    console.print(table)


def _text_value(value: Any) -> str:
    """A query's value as the table and CSV show it: its text, a list or struct as its JSON (:func:`_json_value`:
    dates as ISO text, not Python's repr); NULL as nothing."""
    if value is None:
        return ""
    if isinstance(value, list | tuple | dict):
        return json.dumps(_json_value(value), ensure_ascii=False)
    return str(value)


def _json_value(value: Any) -> Any:
    """A query's value as JSON holds it: a date or time as ISO text, a DECIMAL as the number it is (its text when
    no float is that number), a list or struct value by value; what JSON has no type for (an INTERVAL, a BLOB, a
    UUID) as its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None  # as the JSON output writes it (null), also inside a list or struct the table shows as JSON
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        number = float(value)
        return number if Decimal(repr(number)) == value else str(value)
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return str(value)


def _natural_widths(headers: Sequence[str], texts: Sequence[Sequence[str]]) -> list[int]:
    """Each column's width with every cell, and its header, on one line."""
    return [max([len(h), *(len(row[i]) for row in texts)]) for i, h in enumerate(headers)]


def _print_records(columns: list[str], cells: list[list[str]], width: int) -> None:
    """Each row as ``-[ row N ]-`` and a ``column | value`` line per column (psql's expanded display): a
    value longer than the line continues on the next ones, whole."""
    key = max(len(c) for c in columns)
    room = max(width - key - 3, 20)
    out = sys.stdout
    if not cells:  # as psql says it: an empty result is not nothing
        import textwrap

        out.write(textwrap.fill(f"(0 rows; columns: {', '.join(columns)})", width, break_long_words=False) + "\n")
    for n, row in enumerate(cells, 1):
        out.write(f"-[ row {n} ]".ljust(min(width, key + 3 + room), "-") + "\n")
        for c, value in zip(columns, row, strict=True):
            pieces = [value[i : i + room] for i in range(0, len(value), room)] or [""]
            out.write(f"{c.ljust(key)} | {pieces[0]}\n")
            for piece in pieces[1:]:
                out.write(f"{'':{key}} | {piece}\n")


def _print_metrics(
    console: Console, fixed: Sequence[tuple[str, str]], metrics: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """``rows``: the ``fixed`` columns' values (header, key) then ``metrics``' values, formatted as every table
    formats them (:func:`engine.render.text.format_value`: percent with one decimal, ratios with two), printed as
    a table of the console's width.

    Numbers and run ids are never wrapped nor cut; a window too narrow for every cell on one line narrows the
    other columns (:func:`_narrowed`); one too narrow for that shows each row as a block of ``column | value``
    lines (:func:`_print_records`), as ``runs query`` does, rather than cut a number or leave out a column.
    """
    from engine.metrics.specs import spec
    from engine.render.text import format_value

    texts = [
        ["" if v is None else str(v) for v in row[: len(fixed)]]
        + [format_value(v, spec(name).fmt) for name, v in zip(metrics, row[len(fixed) :], strict=True)]
        for row in rows
    ]
    headers = [h for h, _ in fixed] + [spec(name).label for name in metrics]
    natural = _natural_widths(headers, texts)
    widths = _narrowed([k for _, k in fixed], natural, console.width)
    if widths is None:
        _print_records(headers, texts, console.width)
        return
    console.print(_metric_table(fixed, metrics, headers, texts, widths))


def _metric_table(
    fixed: Sequence[tuple[str, str]],
    metrics: Sequence[str],
    headers: Sequence[str],
    texts: list[list[str]],
    widths: dict[int, int],
) -> Table:
    """The table of :func:`_print_metrics`: the fixed columns at ``widths`` (the others at their own)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from engine.metrics.specs import spec

    # no frame (as the other tables): its rules and padding would take a long config name's room
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), pad_edge=False)
    for i, (header, key) in enumerate(fixed):
        w = widths.get(i)
        table.add_column(header, no_wrap=key in _NO_WRAP, overflow="fold", min_width=w, max_width=w)
        if w is not None and key in ("name", "config"):
            for row in texts:
                row[i] = _at_underscores(row[i], w)
    for name in metrics:
        table.add_column(spec(name).label, justify="right", no_wrap=True)
    for t in texts:
        table.add_row(*map(Text, t))  # names as given: "[us]" is text, not rich's markup
    return table


def _at_underscores(text: str, width: int) -> str:
    r"""``text`` in lines of at most ``width`` characters, each ending after an underscore where one allows
    (``relative_momentum_`` / ``price_only``); a part longer than ``width`` is left whole for the table to fold.

    >>> _at_underscores("relative_momentum_price_only", 21)
    'relative_momentum_\nprice_only'
    >>> _at_underscores("corr_breakdown", 20)
    'corr_breakdown'
    """
    lines: list[str] = []
    for part in re.findall(r"[^_]*_+|[^_]+$", text):
        if lines and len(lines[-1]) + len(part) <= width:
            lines[-1] += part
        else:
            lines.append(part)
    return "\n".join(lines)


def _narrowed(keys: Sequence[str], natural: list[int], width: int) -> dict[int, int] | None:
    """Widths for some of the columns ``keys`` (then the metrics) whose widest cells are ``natural``, so that
    the table fits ``width``: the config or row name gives up its room first, down to 12 characters (a long
    one wraps after an underscore, else folds: :func:`_at_underscores`), then the period, down to its first
    date and arrow (it wraps there), then the name again, down to 6.  Empty when the table fits as it is; None
    when it cannot fit that way."""
    excess = sum(natural) + 2 * (len(natural) - 1) - width  # each column but the last: its padding and a rule
    now = list(natural)
    for key, floor in (("name", 12), ("period", len("2002-01-02 →")), ("name", 6)):
        i = next((i for i, k in enumerate(keys) if k == key or (key == "name" and k == "config")), None)
        if i is not None and excess > 0:
            give = max(0, min(excess, now[i] - floor))
            now[i], excess = now[i] - give, excess - give
    return {i: w for i, (w, n) in enumerate(zip(now, natural, strict=True)) if w != n} if excess <= 0 else None


_NO_WRAP = frozenset({"run_id", "kind"})
#: ``runs list``: the strategy's headline metrics.
_LIST_METRICS = ("total_return", "sharpe")
#: ``runs show``: the run table's metrics (:data:`engine.metrics.specs.RUN_TABLE`) in two tables that each fit
#: 100 columns: returns and risk, then trading (from this metric on).
_SHOW_SPLIT_AT = "turnover"


@runs_app.command("list")
def runs_list(
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    config: Annotated[
        str | None, typer.Option(help="Only the runs of the config of this name (its walk-forwards: NAME_walkforward).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the newest N runs.")] = None,
) -> None:
    """List stored runs, newest first, with their strategy's headline metrics."""
    with user_errors():
        _, rows = _catalog(results_dir, store).query(
            "SELECT r.run_id, r.config_name, r.data_source, CAST(r.start AS VARCHAR) || ' → ' || CAST(r.\"end\" "
            f"AS VARCHAR), {', '.join(f'm.{n}' for n in _LIST_METRICS)}, r.run_dir "
            "FROM runs r LEFT JOIN metrics m ON m.run_id = r.run_id AND m.kind = 'strategy' "
            "WHERE ? IS NULL OR r.config_name = ? ORDER BY r.created_at DESC, r.run_id DESC",
            [config, config],
        )
    total, rows = len(rows), rows[:limit]
    names = [row[1] for row in rows]
    rows = [(row[0], _with_settings(row[1], row[-1]), *row[2:-1]) for row in rows]
    fixed = [("Run id", "run_id"), ("Config", "config"), ("Source", "source"), ("Period", "period")]
    console = _console()
    _print_metrics(console, fixed, _LIST_METRICS, rows)
    if rows:  # a config with a cash rate and one without: two conventions in one column
        console.print("Sharpe: annualised, in excess of each run's own cash rate (zero without one).", markup=False)
    if any(all(value is None for value in row[4:]) for row in rows):  # indexed without metrics: damaged by hand
        console.print("–: its metrics.json is not as written; `seesaw report RUN_ID` says more.", markup=False)
    if any(row[1] != name for row, name in zip(rows, names, strict=True)):
        console.print("A walk-forward's (train/test/step, metric chosen by) follows its config's name.", markup=False)
    if len(rows) < total:
        console.print(f"The newest {len(rows)} of {total} runs (--limit).", markup=False)
    elif config is not None and not rows:
        console.print(f"No stored run of a config named {config!r}.", markup=False)


def _with_settings(config_name: str, run_dir: str) -> str:
    """A walk-forward's config name with how its folds were made and chosen (``(5y/1y/1y, sharpe)``: train, test
    and step, and the metric chosen by, from its ``metrics.json``): walk-forwards of one config made otherwise are
    told apart."""
    if not config_name.endswith("_walkforward"):
        return config_name
    try:
        block = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8")).get("walkforward")
        said = f"{block['train']}/{block['test']}/{block['step']}, {block['select']}"
    except (OSError, ValueError, AttributeError, KeyError, TypeError):  # not a walk-forward's, or damaged: the name
        return config_name
    return f"{config_name} ({said})"


@runs_app.command("show")
def runs_show(run_id: str, results_dir: ResultsDirOpt = Path("results"), store: StoreOpt = None) -> None:
    """Show one run: its manifest and the metrics of its strategy and benchmarks."""
    from engine.metrics.specs import RUN_TABLE  # numba: only when a command shows metrics
    from engine.store.run_check import check_shapes, read_checked, sums_of

    split = RUN_TABLE.index(_SHOW_SPLIT_AT)
    with user_errors():
        catalog = _catalog(results_dir, store)
        selected = catalog.select(run_id)
        if len(selected) != 1:
            raise UserError(f"{run_id!r} selects {len(selected)} runs; runs show takes one run id")
        (run_dir,) = selected
        _, rows = catalog.query(
            f"SELECT kind, name, {', '.join(RUN_TABLE)} FROM metrics "
            "WHERE run_id = (SELECT run_id FROM runs WHERE run_dir = ?) ORDER BY position",  # as seesaw run shows them
            [str(run_dir)],
        )
        data = read_checked(run_dir, "run.json", {})  # gone or unreadable since it was indexed: one line
        try:
            manifest = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StoreError(f"run.json cannot be read ({exc}); run its config again", file=str(run_dir)) from None
        currency, warnings = _money_and_warnings(run_dir)
        try:
            synthetic = json.loads(manifest).get("synthetic") is True
        except (ValueError, AttributeError):
            message = "run.json is not a run's (not a JSON mapping); run its config again"
            raise StoreError(message, file=str(run_dir)) from None
        if not rows:  # indexed without its metrics (damaged when the catalog was rebuilt): say what is wrong
            doc = json.loads(manifest)
            check_shapes(run_dir, doc, json.loads(read_checked(run_dir, "metrics.json", sums_of(run_dir, doc))))
    print(manifest, end="")
    print(f"run directory: {run_dir}")
    if synthetic:
        print(SYNTHETIC_LABEL)
    if currency is not None:
        print(f"money (fees, final value) in {currency}, the run's base currency")
    for warning in warnings:
        print(f"WARNING: {warning}")
    console, fixed = _console(), [("Kind", "kind"), ("Name", "name")]
    _print_metrics(console, fixed, RUN_TABLE[:split], [r[: 2 + split] for r in rows])
    _print_metrics(console, fixed, RUN_TABLE[split:], [r[:2] + r[2 + split :] for r in rows])


def _money_and_warnings(run_dir: Path) -> tuple[str | None, list[str]]:
    """The currency a stored run counts its money in (:func:`engine.currency.currency_of` its ``metrics.json``) and
    its warnings (a look-ahead config, say); None and none when that cannot be read."""
    from engine.currency import currency_of

    try:
        metrics = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, []
    if not isinstance(metrics, dict):
        return None, []
    return currency_of(metrics), [str(w) for w in metrics.get("warnings") or ()]


_QUERY_HELP = (
    "Run read-only SQL on the catalog: tables runs, metrics, sweeps; views equity, weights, trades, benchmarks, "
    "prices, quotes, signals, fx, sweep_combos. A run's Parquet file that is not as the run wrote it (missing, cut "
    "short or changed since) is left out of the views the statement names, with a warning naming it."
)


@runs_app.command("query", help=_QUERY_HELP)
def runs_query(
    sql: str,
    results_dir: ResultsDirOpt = Path("results"),
    store: StoreOpt = None,
    format: Annotated[str, typer.Option("--format", help="table, csv or json")] = "table",
) -> None:
    with user_errors():
        if format not in ("table", "csv", "json"):
            raise UserError(f"--format: expected table, csv or json, got {format!r}")
        cols, rows = _catalog(results_dir, store).user_query(sql, _left_out)
        repeated = sorted({c for c in cols if cols.count(c) > 1})
        if format == "json" and repeated:  # a JSON object holds one value of a name: the others would be lost
            names = (
                f"columns {', '.join(map(repr, repeated))} appear"
                if len(repeated) > 1
                else f"column {repeated[0]!r} appears"
            )
            raise UserError(
                f"--format json: the {names} more than once in the result; name each apart (AS) or use --format csv"
            )
    if format == "table":
        _print_rows(cols, rows)
    elif format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(cols)
        writer.writerows([_text_value(v) for v in r] for r in rows)
    else:
        from engine.store.rundir import dumps_json

        sys.stdout.write(dumps_json([dict(zip(cols, map(_json_value, r), strict=True)) for r in rows]))
