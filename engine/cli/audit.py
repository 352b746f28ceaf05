"""``seesaw audit``: a look-ahead audit of configs as written, with a planted control that must fail."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console

from engine.cli.app import app
from engine.cli.options import (
    CacheDirOpt,
    ConfigsArg,
    DataDirOpt,
    EndOpt,
    OfflineOpt,
    SourceOpt,
    StartOpt,
    compile_notice,
    table_width,
    user_errors,
)
from engine.plural import counted

__all__ = ["audit"]

#: Width of the report when stdout is not a terminal and ``COLUMNS`` is unset.
PIPED_WIDTH = 100


class AuditFormat(StrEnum):
    table = "table"
    json = "json"


_AUDIT_HELP = (
    "Audit configs for look-ahead: recompute every signal, rule, decision and order with the data cut "
    "at dates spread over the run (after Hong Kong's close, after New York's close, and the data ending "
    "there; prices after the cut replaced by noise) and check that nothing known before each cut changes. "
    "A planted control (one signal shifted one date into the future) shows the audit can fail. "
    "Exit 1 if a config fails, 2 for bad input."
)


@app.command(help=_AUDIT_HELP)
def audit(
    configs: ConfigsArg,
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    cuts: Annotated[int, typer.Option(min=8, max=200, help="Dates to cut at (each at both markets' closes).")] = 8,
    format: Annotated[AuditFormat, typer.Option("--format", help="table, or json on stdout.")] = AuditFormat.table,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Audit configs for look-ahead (see the command's help)."""

    from engine.cli.options import read_options
    from engine.jobs.audit import audit_configs, audit_json

    with user_errors(), compile_notice():
        opts = read_options(source, data_dir, start, end, cache_dir, offline)
        reports = audit_configs(configs, opts, env=dict(os.environ), cuts=cuts)
    rows = audit_json(reports)
    if format is AuditFormat.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        console = Console(highlight=False, width=table_width(os.environ) or PIPED_WIDTH)
        for row in rows:
            for line in _lines(row):
                console.print(line, markup=False)
    if not all(r["passed"] for r in rows):
        raise typer.Exit(1)


def _lines(row: dict[str, Any]) -> list[str]:
    """The audit of one config as text: a verdict, a line per check, the control."""
    label = " (SYNTHETIC DATA)" if row["synthetic"] else ""
    out = [f"{row['config']}{label}: {'PASS' if row['passed'] else 'FAIL'}", f"  file: {row['file']}"]
    if row["cuts"]:
        dates = [c["date"] for c in row["cuts"] if c["kind"] == "truncated"]
        span = f"{dates[0]} … {dates[-1]}" if len(dates) > 1 else dates[0]
        if len(dates) < row["cuts_asked"]:  # a short run: every date it has before its last, and it says so
            span += f": every date before the run's last; {row['cuts_asked']} asked"
        out.append(f"  cut at {counted(len(dates), 'dates')} ({span}), after each market's close and truncated")
    for c in row["checks"]:
        out.append("  " + _check_line(c))
    if row["contract"]:
        out.append(f"  {row['contract']}")
    control = row["control"]
    if control["signal"] is None and row["contract"]:
        out.append("  control: not run (the signal contract refused a signal before any cut)")
    elif control["signal"] is None:
        out.append("  control: none (no rule reads a signal)")
    else:
        caught = next((c for c in control["checks"] if not c["passed"]), None)
        verdict = f"caught: {_where(caught, named=False)}" if caught else "NOT caught: the audit cannot see it"
        out.append(f"  control, {control['signal']} one date ahead: {verdict}")
    return out


def _check_line(c: dict[str, Any]) -> str:
    what = f"{c['kind']} {c['name']}"
    return f"pass  {what}" if c["passed"] else f"FAIL  {what}: {_where(c)}"


def _where(c: dict[str, Any], *, named: bool = True) -> str:
    """Where a failed check failed, briefly."""
    cut = c["cut"]
    where = {
        "noise": f"{cut['market']} close cut of {cut['date']}",
        "truncated": f"data ending {cut['date']}",
        "as is": f"{cut['date']} filled at its own {cut['market']} close",
        "signal contract": "refused by the signal contract",
    }[cut["kind"]]
    if c["kind"] == "signal" and named:
        where = f"signal {c['name']}, {where}"
    changed = f", changed {c['first_changed']}" if c["first_changed"] and cut["kind"] != "as is" else ""
    return where + changed
