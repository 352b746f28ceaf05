"""Read a report page back without the engine: its tables (with each cell's ``data-key``/``data-value``)
and its figures (the JSON handed to ``Plotly.newPlot``), using only the standard library and numpy.

plotly encodes numpy arrays as ``{"dtype": "f8", "bdata": <base64>}``; :func:`array` decodes them.  A long
text axis shared by several traces is put back into each (:func:`figures`).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import numpy as np

__all__ = ["RUN_FIGURES_WITHOUT_SIGNALS", "Table", "array", "figures", "tables"]

#: The charts of a run report whose run has no signal chart (signals not stored, or a walk-forward), in order.
RUN_FIGURES_WITHOUT_SIGNALS = [
    "fig-equity",
    "fig-drawdown",
    "fig-weights",
    "fig-rolling",
    "fig-years",
    "fig-rolling-beta",
]


@dataclass
class Table:
    """One ``<table>``: header texts, and per body row a list of (text, attributes) cells."""

    headers: list[str] = field(default_factory=list)
    rows: list[list[tuple[str, dict[str, str]]]] = field(default_factory=list)

    def column(self, key: str) -> list[float | None]:
        """The ``data-value`` of every row's cell with ``data-key=key`` (None when the cell has no value)."""
        out = []
        for row in self.rows:
            (attrs,) = [a for _, a in row if a.get("data-key") == key]
            out.append(float(attrs["data-value"]) if "data-value" in attrs else None)
        return out

    def first_column(self) -> list[str]:
        return [row[0][0] for row in self.rows]


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, Table] = {}
        self.current: Table | None = None
        self.in_head = False
        self.cell: list[str] | None = None
        self.cell_attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.current = self.tables.setdefault(a.get("id", f"table{len(self.tables)}"), Table())
        elif self.current is not None and tag == "thead":
            self.in_head = True
        elif self.current is not None and tag == "tbody":
            self.in_head = False
        elif self.current is not None and tag == "tr" and not self.in_head:
            self.current.rows.append([])
        elif self.current is not None and tag in ("td", "th"):
            self.cell, self.cell_attrs = [], a

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.current = None
        elif self.current is not None and tag in ("td", "th") and self.cell is not None:
            text = "".join(self.cell)
            if self.in_head:
                self.current.headers.append(text)
            else:
                self.current.rows[-1].append((text, self.cell_attrs))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, Table]:
    """Every table of the page by its id."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


_NEWPLOT = re.compile(r'Plotly\.newPlot\(\s*"([^"]+)",\s*(seesawData\()?')
_SHARED = re.compile(r'<script type="application/json" id="(seesaw-x-[0-9a-f]+)">(.*?)</script>', re.S)


def _resolve(trace: dict, shared: dict[str, list]) -> None:
    """A trace's shared axis (``{"seesaw_table": id, "index": positions}``) back as its list of values."""
    ref = trace.get("x")
    if isinstance(ref, dict) and "seesaw_table" in ref:
        values = shared[ref["seesaw_table"]]
        trace["x"] = [values[i] for i in array(ref["index"]).tolist()] if "index" in ref else list(values)


def figures(html: str) -> dict[str, dict]:
    """{div id: {"data": [...], "layout": {...}}} of every ``Plotly.newPlot(id, data, layout, config)`` call.

    A page writes a long text axis once (``<script type="application/json" id="seesaw-x-…">``) and its
    traces name it (``seesawData`` resolves them in the browser); here they are resolved the same way.
    """
    shared = {m.group(1): json.loads(m.group(2).replace("<\\/", "</")) for m in _SHARED.finditer(html)}
    decoder = json.JSONDecoder()
    out = {}
    for m in _NEWPLOT.finditer(html):
        data, end = decoder.raw_decode(html, m.end())
        rest = re.compile(r"\)?\s*,\s*" if m.group(2) else r"\s*,\s*").match(html, end)
        assert rest is not None
        layout, _ = decoder.raw_decode(html, rest.end())
        for trace in data:
            _resolve(trace, shared)
        out[m.group(1)] = {"data": data, "layout": layout}
    return out


def array(value: object) -> np.ndarray:
    """A trace's ``x``/``y``/``z``: a plain list, or plotly's base64 typed array (with its ``shape``, e.g. "2, 3")."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        return flat.reshape([int(n) for n in str(shape).split(",")]) if shape else flat
    return np.asarray(value)
