"""Fit a text table to a width without ever cutting a number.

Every cell keeps its full text: a column is never narrower than its widest cell.  To fit a
width, in this order: headers wrap between words (and after ``/``, ``_``, ``.``), long row names
are shortened to a prefix and a marker ``[n]`` explained in a legend under the table, and
finally the columns are split into several blocks, each repeating the name column.  With no
width (output piped to a file or a program) the table is printed at its natural width.

>>> from rich.text import Text
>>> f = fit_table("T", "Name", [FitColumn("r", "Total ret")], ["a_long_name"], [[Text("12.5%")]], width=None)
>>> (f.legend, f.width)
([], 22)
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console, JustifyMethod
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

__all__ = [
    "FitColumn",
    "Fitted",
    "Printout",
    "Whole",
    "column_blocks",
    "fit_table",
    "natural_width",
    "plain_text",
    "resolve_columns",
    "shorten_names",
]

#: Names are never shortened below this many characters (marker included).
MIN_NAME = 12


@dataclass(frozen=True)
class FitColumn:
    """One column after the name column: its key (for ``--columns``), header and justification."""

    key: str
    header: str
    justify: JustifyMethod = "right"


@dataclass(frozen=True)
class Fitted:
    """The tables to print (one per block of columns), the legend of shortened names, and the
    width to print them at (at least the requested one; wider only if one column block is)."""

    tables: list[Table]
    legend: list[str]
    width: int

    def printout(self, lines: Sequence[str], *, wrap: bool) -> Printout:
        """The tables, the legend under a "Names shortened:" line when a name was, then ``lines``."""
        legend = ["Names shortened:", *self.legend] if self.legend else []
        return Printout([*self.tables, *legend, *lines], self.width, wrap=wrap)


class Whole(str):
    """A line of a :class:`Printout` never wrapped at its width: a path or a command to copy (the terminal
    itself may still fold it on screen)."""

    __slots__ = ()


@dataclass(frozen=True)
class Printout:
    """What a command prints: tables and lines of text, at ``width``; ``wrap``: the text lines wrap at
    ``width`` (a terminal), else they stay whole (natural width, for pipes and files); a :class:`Whole`
    line always stays whole."""

    parts: list[Table | str]
    width: int
    wrap: bool

    def print_on(self, console: Console) -> None:
        """Every part on ``console`` (made at :attr:`width`, soft-wrapping unless :attr:`wrap`)."""
        for part in self.parts:
            console.print(part, markup=False, soft_wrap=True if isinstance(part, Whole) else None)


def plain_text(printout: Printout) -> str:
    """``printout`` as plain text: no colour, no style."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=printout.width, no_color=True, highlight=False, soft_wrap=not printout.wrap)
    printout.print_on(console)
    return buffer.getvalue()


def resolve_columns(
    requested: str | None, available: Sequence[str], default: Sequence[str], every: Sequence[str] | None = None
) -> list[str]:
    """The column keys ``--columns`` asks for: ``None`` the ``default`` (those available), ``all`` every
    column (``every``, else all ``available``), else a comma-separated list in the order given
    (ValueError naming the valid keys).

    >>> resolve_columns("cagr, sharpe", ["cagr", "sharpe", "psr"], ["psr"])
    ['cagr', 'sharpe']
    >>> resolve_columns(None, ["cagr", "psr"], ["psr", "dsr"])
    ['psr']
    >>> resolve_columns("sharpe,all", ["sharpe"], [])
    Traceback (most recent call last):
    ValueError: --columns: 'all' stands alone (every column), not in a list: got 'sharpe,all'
    >>> resolve_columns("sharpe, cagr,sharpe", ["sharpe", "cagr"], [])
    Traceback (most recent call last):
    ValueError: --columns: 'sharpe' is named twice in 'sharpe, cagr,sharpe'; name each column once
    >>> resolve_columns("cagr,,sharpe", ["sharpe", "cagr"], [])
    Traceback (most recent call last):
    ValueError: --columns: an empty name in 'cagr,,sharpe'; name a column between every two commas
    """
    if requested is None:
        return [k for k in default if k in available]
    if requested.strip() == "all":
        return list(available if every is None else every)
    keys = [k.strip() for k in requested.split(",")]
    if "" in keys and any(keys):  # a name left out between commas, or a comma too many: said, not guessed
        raise ValueError(f"--columns: an empty name in {requested.strip()!r}; name a column between every two commas")
    keys = [k for k in keys if k]
    unknown = [k for k in keys if k not in available]
    if "all" in keys:
        raise ValueError(f"--columns: 'all' stands alone (every column), not in a list: got {requested.strip()!r}")
    if unknown or not keys:
        what = f"unknown column {unknown[0]!r}" if unknown else f"no column in {requested!r}"
        raise ValueError(f"--columns: {what} (valid: all on its own, or a list of {', '.join(available)})")
    if twice := next((k for i, k in enumerate(keys) if k in keys[:i]), None):
        raise ValueError(f"--columns: {twice!r} is named twice in {requested.strip()!r}; name each column once")
    return keys


def shorten_names(names: Sequence[str], limit: int) -> tuple[list[str], list[str]]:
    """Names longer than ``limit`` become a prefix and ``[n]``; returns (names, legend lines).  A prefix ends on
    neither a space nor an opening bracket or joining mark (no dangling ``(`` before the marker), and is never
    another row's whole name (``corr_breakdown_[1]`` under a ``corr_breakdown`` row, not ``corr_breakdown[1]``).

    >>> shorten_names(["abc", "relative_momentum_total_return", "buy & hold US (bh_us_a)"], 18)[0]
    ['abc', 'relative_moment[1]', 'buy & hold US[2]']
    >>> shorten_names(["corr_breakdown", "corr_breakdown_hysteresis"], 18)[0]
    ['corr_breakdown', 'corr_breakdown_[1]']
    >>> shorten_names(["corr_breakdown", "corr_breakdown_hysteresis"], 17)[0]
    ['corr_breakdown', 'corr_breakdow[1]']
    """
    out: list[str] = []
    legend: list[str] = []
    whole = set(names)
    for name in names:
        if len(name) <= limit:
            out.append(name)
            continue
        marker = f"[{len(legend) + 1}]"
        prefix = name[: max(limit - len(marker), 1)]
        shown = prefix.rstrip(" ([{<-_,;:/&") or prefix
        shown = shown if shown not in whole else prefix
        while shown in whole and len(shown) > 1:  # the prefix is another row's name: cut one more character
            shown = shown[:-1]
        out.append(shown + marker)
        legend.append(f"{marker} {name}")
    return out, legend


def _pieces(header: str) -> list[str]:
    """Where a header may wrap: after spaces, ``/``, ``_`` and ``.`` (``execution.lag``)."""
    return [p for p in re.split(r"(?<=[/_.])|\s+", header) if p]


def _wrapped(header: str, width: int) -> str:
    """``header`` packed greedily into lines of ``width`` characters at its wrap points."""
    lines: list[str] = []
    for piece in _pieces(header):
        glue = "" if not lines or lines[-1].endswith(("/", "_", ".")) else " "
        if lines and len(lines[-1]) + len(glue) + len(piece) <= width:
            lines[-1] += glue + piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def _widths(columns: Sequence[FitColumn], cells: Sequence[Sequence[Text]], *, wrap: bool) -> list[int]:
    """Each column's width: its widest cell, and its header whole (``wrap=False``) or its longest piece."""
    out = []
    for j, col in enumerate(columns):
        widest = max((row[j].cell_len for row in cells), default=0)
        header = max(len(p) for p in _pieces(col.header)) if wrap else len(col.header)
        out.append(max(widest, header, 1))
    return out


def _table(title: str | None, name_header: str, names: Sequence[Text], cols: Sequence[tuple[FitColumn, int]],
           cells: Sequence[Sequence[Text]], sections: Sequence[int]) -> Table:  # fmt: skip
    name_width = max([len(name_header), *(n.cell_len for n in names)])
    table = Table(title=title, box=box.SIMPLE_HEAD, show_edge=False, padding=(0, 1, 0, 0), pad_edge=False)
    table.add_column(name_header, width=name_width, no_wrap=True)
    for col, width in cols:
        table.add_column(_wrapped(col.header, width), width=width, justify=col.justify, no_wrap=True)
    for i, (name, row) in enumerate(zip(names, cells, strict=True)):
        if i in sections:
            table.add_section()
        table.add_row(name, *row)
    return table


def natural_width(table: Table) -> int:
    """The columns ``table`` takes printed with no width to fit."""
    console = Console(width=100_000, color_system=None)
    return Measurement.get(console, console.options, table).maximum


def column_blocks(
    columns: Sequence[tuple[str, JustifyMethod]], rows: Sequence[Sequence[str]], *, keys: int, width: int | None
) -> list[Table]:
    """``rows`` under ``columns`` (header, justification) as one compact table or, when it is wider than
    ``width``, as several: the columns after the first ``keys`` split greedily into blocks that fit, each
    block repeating those ``keys`` columns.  No cell is cut or wrapped (a block of one column wider than
    ``width`` stays whole).

    >>> columns = [("k", "left"), ("a", "right"), ("b", "right")]
    >>> blocks = column_blocks(columns, [["x", "1.25", "-3.5"]], keys=1, width=10)
    >>> [[column.header for column in table.columns] for table in blocks], natural_width(blocks[0])
    ([['k', 'a'], ['k', 'b']], 9)
    """

    def build(chosen: Sequence[int]) -> Table:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        for j in chosen:
            table.add_column(columns[j][0], justify=columns[j][1], no_wrap=True)
        for row in rows:
            table.add_row(*(row[j] for j in chosen))
        return table

    whole = build(range(len(columns)))
    if width is None or natural_width(whole) <= width:
        return [whole]
    key_columns = list(range(keys))
    groups: list[list[int]] = [[]]
    for j in range(keys, len(columns)):
        if groups[-1] and natural_width(build([*key_columns, *groups[-1], j])) > width:
            groups.append([j])
        else:
            groups[-1].append(j)
    return [build([*key_columns, *group]) for group in groups]


def fit_table(
    title: str | None,
    name_header: str,
    columns: Sequence[FitColumn],
    names: Sequence[str | Text],
    cells: Sequence[Sequence[Text]],
    *,
    width: int | None,
    sections: Sequence[int] = (),
) -> Fitted:
    """``names`` (one per row) and ``cells`` (a Text per row and column) as tables that fit ``width``.

    ``sections``: row indexes a rule is drawn above (strategies, then benchmarks).
    """
    texts = [n if isinstance(n, Text) else Text(n) for n in names]

    def build(wrap: bool, shown: Sequence[Text]) -> Table:
        cols = list(zip(columns, _widths(columns, cells, wrap=wrap), strict=True))
        return _table(title, name_header, shown, cols, cells, sections)

    natural = build(False, texts)
    if width is None or natural_width(natural) <= width:
        return Fitted([natural], [], natural_width(natural) if width is None else width)
    if natural_width(wrapped := build(True, texts)) <= width:
        return Fitted([wrapped], [], width)
    longest = max((t.cell_len for t in texts), default=0)
    rest = natural_width(wrapped) - max(longest, len(name_header))
    limit = max(width - rest, MIN_NAME)
    shown, legend = _shortened(texts, limit)
    if natural_width(table := build(True, shown)) <= width:
        return Fitted([table], legend, width)
    # Split into blocks of columns: the names may then take up to a third of the width.
    shown, legend = _shortened(texts, max(MIN_NAME, min(longest, width // 3)))
    tables = _blocks(title, name_header, columns, shown, cells, sections, width)
    return Fitted(tables, legend, max(width, *(natural_width(t) for t in tables)))


def _shortened(texts: Sequence[Text], limit: int) -> tuple[list[Text], list[str]]:
    short, legend = shorten_names([t.plain for t in texts], limit)
    return [Text(s, style=t.style) for s, t in zip(short, texts, strict=True)], legend


def _blocks(title: str | None, name_header: str, columns: Sequence[FitColumn], names: Sequence[Text],
            cells: Sequence[Sequence[Text]], sections: Sequence[int], width: int) -> list[Table]:  # fmt: skip
    """The columns split greedily into tables no wider than ``width``, each with the name column
    (a single column wider than ``width`` still gets its own table, whole)."""
    widths = _widths(columns, cells, wrap=True)
    groups: list[list[int]] = [[]]
    for j in range(len(columns)):
        trial = [*groups[-1], j]
        cols = [(columns[i], widths[i]) for i in trial]
        sub = [[row[i] for i in trial] for row in cells]
        if groups[-1] and natural_width(_table(None, name_header, names, cols, sub, sections)) > width:
            groups.append([j])
        else:
            groups[-1] = trial
    tables = []
    for k, group in enumerate(groups):
        cols = [(columns[i], widths[i]) for i in group]
        sub = [[row[i] for i in group] for row in cells]
        tables.append(_table(title if k == 0 else None, name_header, names, cols, sub, sections))
    return tables
