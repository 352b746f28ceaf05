"""``seesaw today``: each config's weights in force, the next decision, why, what is pending, how fresh the data is."""

from __future__ import annotations

import json
import os
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

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

__all__ = ["today"]

#: Width of the report when stdout is not a terminal and ``COLUMNS`` is unset.
PIPED_WIDTH = 100


class TodayFormat(StrEnum):
    table = "table"
    json = "json"


_TODAY_HELP = (
    "What each config says on the last date of its data, without trading: the weights in force and the "
    "ones the next orders move to, the rule that decided and each signal against its thresholds (and how "
    "far from flipping), the last switch, pending orders with the session they fill at (exchange "
    "calendars), and each series' last date, flagged when stale at the clock. Exit 2 for bad input."
)
NowOpt = Annotated[
    str | None,
    typer.Option(help="The clock: an ISO datetime in UTC, or a date (its end, UTC) (default: now)."),
]


@app.command(help=_TODAY_HELP)
def today(
    configs: ConfigsArg,
    source: SourceOpt = None,
    data_dir: DataDirOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    now: NowOpt = None,
    format: Annotated[TodayFormat, typer.Option("--format", help="table, or json on stdout.")] = TodayFormat.table,
    cache_dir: CacheDirOpt = None,
    offline: OfflineOpt = False,
) -> None:
    """Report each config's state today (see the command's help)."""
    import datetime as dt

    from engine.cli.options import read_options
    from engine.jobs.today import parse_now, today_configs, today_json

    with user_errors(), compile_notice():
        clock = parse_now(now, dt.datetime.now(dt.UTC))
        opts = read_options(source, data_dir, start, end, cache_dir, offline)
        reports = today_configs(configs, opts, env=dict(os.environ), now=clock)
    rows = today_json(reports)
    if format is TodayFormat.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    console = Console(highlight=False, width=table_width(os.environ) or PIPED_WIDTH)
    for i, row in enumerate(rows):
        if i:
            console.print()
        console.print(_render(row))


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{x:z.1%}"


def _num(x: float | None) -> str:
    return "–" if x is None else f"{x:.4g}"


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for i, c in enumerate(columns):
        table.add_column(c, justify="left" if i == 0 or c in ("symbol", "market", "rule", "comparison") else "right")
    return table


def _render(row: dict[str, Any]) -> Group:
    """One config as a header, its decision, and tables of weights, signals, pending orders and data."""
    label = " — SYNTHETIC DATA" if row["synthetic"] else ""
    rule, clock = row["rule"], row["now"][:16].replace("T", " ")
    head = [
        Text(f"{row['config']}{label}", style="bold"),
        Text(f"as of {row['as_of']} · clock {clock} UTC · source {row['source']} · {row['file']}"),
        Text(
            f"rule {rule['index']} decides: {rule['label']}"
            + ("" if rule["state"] == "otherwise" else f" ({rule['state']})")
        ),
        *(Text(f"  {reason}") for reason in rule["reasons"]),
    ]
    return Group(*head, *_weights(row), _signals(row), *_switch(row), _pending(row), _data(row), *_warnings(row))


def _weights(row: dict[str, Any]) -> list[Table | Text]:
    table = _table("Weights", "asset", "in force", "next", "change", "actual")
    for asset, w in row["weights"].items():
        nxt = row["next_weights"][asset]
        table.add_row(asset, _pct(w), _pct(nxt), _change(nxt - w), _pct(row["actual_weights"][asset]))
    if row["decided_on_as_of"] or not _unordered(row):
        return [table]
    ex, when = row["execution"], row["next_decision"]  # a change no order follows yet: say when one may
    mode, band = ex["rebalance"], ex["band"]
    if band is not None:
        shown = f"band {band:g}" + ("" if mode == "band" else f", every {mode}")
        later = f"an order is decided when a weight drifts more than {band:g} from its target" + (
            f", or on {when}" if when else ""
        )
    else:
        shown = mode
        later = (
            f"the next decision is on {when}, with the rules' targets then"
            if when
            else "one is decided when they change"
        )
    said = f"No order is decided on {row['as_of']} (rebalance: {shown}): next is what the rules give that day; "
    return [table, Text(said + later)]


def _change(x: float) -> str:
    """A change of weight: none within 1e-12, one under 0.05 points with two significant digits (not ``+0.0%``)."""
    if abs(x) <= 1e-12:
        return ""
    return f"{x:+.1%}" if abs(x) >= 0.0005 else f"{x * 100:+.2g}%"


def _unordered(row: dict[str, Any]) -> bool:
    """Whether the rules' targets on ``as_of`` differ from the ones the account holds or is moving to (the weights
    in force with the pending legs applied, in the order they fill)."""
    settled = dict(row["weights"])
    for g in row["pending"]:
        settled[g["asset"]] = g["to"]
    return any(abs(row["next_weights"][a] - settled[a]) > 1e-12 for a in settled if a != "cash")


def _signals(row: dict[str, Any]) -> Table | Text:
    if not row["signals"]:
        return Text("no rule reads a signal")
    table = _table("Signals", "signal", "value", "rule", "comparison", "holds", "threshold", "distance", "if flipped")
    for name, sig in row["signals"].items():
        comps = sig["comparisons"] or [None]
        for k, c in enumerate(comps):
            first = k == 0
            cells = [name if first else "", _num(sig["value"]) if first else ""]
            if c is None:
                table.add_row(*cells, "", "(in a weight)", "", "", "", "")
                continue
            where = f"{c['rule']} {c['part']}"
            if c["distance"] is None:
                distance, flip = (c["reason"] or "–"), ""
            else:
                rel = "" if c["relative"] is None else f" ({_relative(c['relative'])})"
                distance = f"{c['distance']:+.4g}{rel}"
                flip = "–" if c["rule_if_flipped"] is None else f"rule {c['rule_if_flipped']}"
                if c["rule_if_flipped"] == row["rule"]["index"]:
                    flip = "no change"
            table.add_row(*cells, where, c["text"], "yes" if c["holds"] else "no", _num(c["threshold"]), distance, flip)
    return table


def _relative(x: float) -> str:
    """A distance as a share of the value: whole percent, or two significant digits below 1% (``+0.15%``), so a
    distance that is not zero never shows as ``+0%``."""
    if abs(x) >= 0.01 or x == 0:
        return f"{x:+.0%}"
    return f"{x * 100:+.2g}%" if abs(x) >= 1e-4 else f"{'+' if x > 0 else '-'}<0.01%"


def _switch(row: dict[str, Any]) -> list[Text]:
    s = row["last_switch"]
    if s is None:
        return [Text("Last switch: none")]
    filled = f"filled {s['filled']}" if s["filled"] else "not filled yet (pending)"
    moves = ", ".join(
        f"{a} {_pct(s['from'][a])}→{_pct(s['to'][a])}"
        for a in s["to"]
        if a != "cash" and abs(s["to"][a] - s["from"][a]) > 1e-12
    )
    return [Text(f"Last switch: decided {s['decided']} by rule {s['rule']}, {filled}: {moves}")]


def _pending(row: dict[str, Any]) -> Table | Text:
    if not row["pending"]:
        return Text("Pending orders: none")
    fill = row["execution"]["fill"]
    table = _table(f"Pending orders (fill: {fill}, lag {row['execution']['lag']})", "asset", "market", "from", "to",
                   "decided", "fills at session")  # fmt: skip
    for g in row["pending"]:
        session = (g["session"] or "none") + (" (closed)" if g["session_closed"] else "")
        table.add_row(g["asset"], g["market"], _pct(g["from"]), _pct(g["to"]), g["decided"], session)
    captions = []
    if any(abs(g["from"] - g["to"]) <= 1e-12 for g in row["pending"]):  # the targets held: prices moved the weights
        captions.append(f"from = to: a rebalance back to the target (rebalance: {row['execution']['rebalance']})")
    if any(g["session_closed"] for g in row["pending"]):
        captions.append(f"(closed): closed by the clock; this report is as of {row['as_of']}")
    if captions:
        table.caption = "\n".join(captions)
        table.caption_justify = "left"
    return table


def _data(row: dict[str, Any]) -> Table:
    table = _table("Data", "series", "symbol", "market", "last date", "last session", "status")
    for s in row["data"]:
        status = "STALE" if s["stale"] else f"MISSING {s['last_session']}" if s["missing_last_session"] else "ok"
        if s["missing_today"] and not s["stale"] and s["session_today"] != s["last_session"]:
            status += f"; {s['session_today']} not in yet"
        table.add_row(s["series"], s["symbol"], s["market"], s["last_date"] or "none", s["last_session"] or "–", status)
    return table


def _warnings(row: dict[str, Any]) -> list[Text]:
    return [Text(f"warning: {w}") for w in row["warnings"]] + [Text(f"note: {n}") for n in row["notes"]]
