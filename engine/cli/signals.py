"""``seesaw signals [NAME]``: the signals a config may name, built-in and from installed packages."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from engine.cli.app import app
from engine.cli.options import table_width, user_errors

__all__ = ["lookback_text", "signals"]

#: Width of the listing when stdout is not a terminal and ``COLUMNS`` is unset.
PIPED_WIDTH = 100


class SignalsFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def signals(
    name: Annotated[str | None, typer.Argument(help="Show this signal's full documentation.")] = None,
    format: Annotated[
        SignalsFormat, typer.Option("--format", help="table, or json (a list, or one object with NAME).")
    ] = SignalsFormat.table,
) -> None:
    """List the signals configs can name in signals: (fn), with parameters, warm-up and formula.

    Built-in signals have origin 'seesaw'; others come from installed packages (entry point group
    seesaw.signals) and are checked against the signal contract each time they are computed.
    """
    from engine.jobs.signals import describe_signal, describe_signals

    with user_errors():
        found: Any = describe_signals() if name is None else describe_signal(name)
    if format is SignalsFormat.json:
        sys.stdout.write(json.dumps(found, indent=2) + "\n")
        return
    console = Console(highlight=False, width=table_width(os.environ) or PIPED_WIDTH)
    if name is None:
        console.print(_listing(found), markup=False)
    else:
        for line in _details(found):
            console.print(line, markup=False)


def lookback_text(cases: list[dict[str, Any]]) -> list[str]:
    """One line per lookback case: ``window + 1 (align=async)``.

    >>> lookback_text([{"when": {}, "rows": "window - 1"}])
    ['window - 1']
    """
    out = []
    for case in cases:
        when = ", ".join(f"{k}={v}" for k, v in case["when"].items())
        out.append(f"{case['rows']} ({when})" if when else str(case["rows"]))
    return out


def _listing(described: list[dict[str, Any]]) -> Table:
    """Name, origin, parameters, lookback and formula of every signal; long cells wrap between words."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), pad_edge=False, leading=1)
    table.add_column("signal", no_wrap=True)
    table.add_column("origin", max_width=14, overflow="fold")
    table.add_column("parameters", max_width=20, overflow="fold")
    table.add_column("lookback (rows)", max_width=20, overflow="fold")
    table.add_column("formula", ratio=1, overflow="fold")
    for d in described:
        table.add_row(
            d["name"],
            d["origin"],
            "\n".join(p["text"] for p in d["parameters"]),
            "\n".join(lookback_text(d["lookback"])),
            d["formula"],
        )
    return table


def _details(d: dict[str, Any]) -> list[str]:
    """One signal: its name and origin, parameters, lookback, then its whole docstring."""
    lines = [f"{d['name']} (origin: {d['origin']})", "", "parameters:"]
    lines += [f"  {p['text']}" for p in d["parameters"]] or ["  (none)"]
    lines += ["", "lookback (rows):", *(f"  {t}" for t in lookback_text(d["lookback"])), ""]
    return [*lines, d["doc"]]
