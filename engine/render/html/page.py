"""One self-contained HTML page: sections of prose, tables and plotly figures, plotly's JavaScript inline once.

Pure string building; the only file read is the vendored plotly.js bundle (package data).  A page
opens offline from disk: nothing is fetched (no CDN, no fonts, no images by URL), plotly.js is
inlined once in the ``<head>``, and every figure is a ``<div>`` plus a ``Plotly.newPlot`` call with
a fixed id, so the same input gives the same bytes.

Size: plotly.js is the official *cartesian* partial bundle (``plotly.js-cartesian-dist-min``, MIT,
vendored in ``assets/``: scatter, bar, heatmap and the other 2-D traces, 1.5 MB instead of the full
bundle's 4.8 MB), the version plotly.py expects (:func:`plotly_js_version`; a test fails when they
differ).  A long axis of text (the dates of a curve) is written once per page, in a
``<script type="application/json" id="seesaw-x-…">``, and each trace names it (``{"seesaw_table": id}``,
with ``index``: the positions it uses, as little-endian ``u2``/``u4``); ``seesawData`` puts the values
back before ``Plotly.newPlot`` draws them.

Layout: the page never scrolls sideways; a table wider than the page scrolls inside its own box
(``div.wide``, or ``div.scroll``, which also caps its height), and long unbroken text (a path, a
fingerprint) wraps.  A header wraps at its spaces before its table needs to scroll (numbers never wrap):
the walk-forward's fold and metrics tables fit a 1280 px window.

Tables carry their numbers twice: the cell text is rounded for reading, and ``data-value``
holds the full-precision number it was formatted from (``data-key`` names the column), so a
test or a script can read the exact values back from the page.  A table made with
``sortable=True`` sorts in the browser when a header is clicked (a small inline script, added
once to a page that has such a table; nothing is fetched).

>>> cell = Cell("12.3%", value=0.1234, key="cagr")
>>> table_html(["CAGR"], [[cell]], table_id="t")
'<div class="wide"><table ...<tbody><tr><td class="n" data-key="cagr" data-value="0.1234">12.3%</td></tr>...'
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.io.json import to_json_plotly

from engine.data.base import SYNTHETIC_LABEL

__all__ = [
    "FIGURE_PX",
    "SYNTHETIC_BANNER",
    "TALL_PX",
    "Cell",
    "Report",
    "Section",
    "facts_html",
    "figure_html",
    "notice",
    "page_html",
    "paragraphs",
    "plotly_js",
    "plotly_js_version",
    "preformatted",
    "table_html",
]

#: The banner across the top of every page made from synthetic data.
SYNTHETIC_BANNER = SYNTHETIC_LABEL
#: A figure's height on the page, and a tall one's (``figure_html(tall=True)``), in px.
FIGURE_PX, TALL_PX = 440, 620

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#fff}
main{max-width:1280px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:1.6em;margin:.4em 0}h2{font-size:1.2em;margin:1.6em 0 .4em;border-bottom:1px solid #dde}
p,li{line-height:1.45}.muted{color:#5a6270}.small{font-size:.85em}
.banner{background:#b3261e;color:#fff;font-weight:700;padding:10px 16px;letter-spacing:.04em}
.notice{background:#fff4d6;border-left:4px solid #e0a000;padding:8px 12px;margin:8px 0}
table.data{border-collapse:collapse;font-size:.85em;font-variant-numeric:tabular-nums}
table.data th,table.data td{padding:3px 5px;border-bottom:1px solid #e6e8ee;white-space:nowrap}
table.data th{white-space:normal}
table.data td.wrap{white-space:normal}
table.data th{background:#f3f4f8;position:sticky;top:0;text-align:left}
table.data td.n{text-align:right}table.data tr.strategy td:first-child{font-weight:600}
table.data td:first-child{position:sticky;left:0;background:#fff;z-index:1}table.data th:first-child{left:0;z-index:2}
td.best{color:#0a7a2f;font-weight:700}td.worst{color:#b3261e}td.oos{background:#f1f5fc}
.scroll{max-height:420px;overflow:auto;border:1px solid #e6e8ee}.wide{overflow-x:auto}
.scroll,.wide{max-width:100%}main,section{min-width:0}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:2px 16px;margin:0}
dl.facts dt{color:#5a6270}dl.facts dd{margin:0;font-family:ui-monospace,monospace;overflow-wrap:anywhere}
h1,h2,p,li,nav{overflow-wrap:anywhere}
pre{background:#f6f7f9;padding:10px;overflow:auto;max-height:420px;font-size:.8em}
.figure{height:FIGURE_PXpx;margin:4px 0 12px}.figure.tall{height:TALL_PXpx}
.pair{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:0 16px}.pair>*{min-width:0}
table.sortable th{cursor:pointer;user-select:none}table.sortable th:hover{background:#e4e7f0}
table.sortable th[aria-sort=ascending]::after{content:" \\25B2"}
table.sortable th[aria-sort=descending]::after{content:" \\25BC"}
""".replace("FIGURE_PX", str(FIGURE_PX)).replace("TALL_PX", str(TALL_PX))

#: The class of a sortable table, and the script that sorts it (added once, only to pages that have one).
_SORTABLE = "data sortable"
_SORT_SCRIPT = """
(function () {
  function num(td) { var v = td.getAttribute("data-value"); return v === null || v === "" ? null : parseFloat(v); }
  function sort(table, th, col) {
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var numeric = rows.some(function (r) { return r.cells[col].hasAttribute("data-value"); });
    rows.sort(function (a, b) {
      var x = a.cells[col], y = b.cells[col], c;
      if (numeric) {
        var p = num(x), q = num(y);
        if (p === null || q === null) { return (p === null) - (q === null); }
        c = p - q;
      } else {
        c = x.textContent.localeCompare(y.textContent, undefined, {numeric: true});
      }
      return asc ? c : -c;
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sort(table, th, col); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(table, th, col); } });
    });
  });
})();
"""

_PLOT_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}

#: The vendored plotly.js bundle and its licence, in this package's ``assets/``.
PLOTLY_BUNDLE = "plotly-cartesian.min.js"
_BUNDLE_VERSION = re.compile(r"\* plotly\.js \(cartesian - minified\) v(\d+\.\d+\.\d+)")
#: A text axis at least this long is written once per page and named by its traces.
_SHARE_MIN = 64
_SHARED_TABLE = re.compile(r'<script type="application/json" id="(seesaw-x-[0-9a-f]+)">.*?</script>', re.S)
#: Puts each shared axis back into the traces (see the module docstring); defined once, in the <head>.
_DATA_SCRIPT = """
window.seesawData = function (data) {
  function table(id) {
    var el = document.getElementById(id);
    if (!el._values) { el._values = JSON.parse(el.textContent); }
    return el._values;
  }
  function positions(spec) {
    var raw = atob(spec.bdata), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return spec.dtype === "u2" ? new Uint16Array(bytes.buffer) : new Uint32Array(bytes.buffer);
  }
  data.forEach(function (trace) {
    var ref = trace.x;
    if (ref && typeof ref === "object" && ref.seesaw_table) {
      var all = table(ref.seesaw_table);
      trace.x = ref.index
        ? Array.prototype.map.call(positions(ref.index), function (i) { return all[i]; })
        : all.slice();
    }
  });
  return data;
};
"""


@cache
def plotly_js() -> str:
    """The vendored plotly.js bundle (package data ``assets/plotly-cartesian.min.js``)."""
    return resources.files("engine.render.html").joinpath("assets", PLOTLY_BUNDLE).read_text(encoding="utf-8")


def plotly_js_version() -> str:
    """The version written in the vendored bundle's header (``4.1.1``)."""
    found = _BUNDLE_VERSION.search(plotly_js(), 0, 400)
    if found is None:  # pragma: no cover - the asset is checked by the tests
        raise ValueError(f"{PLOTLY_BUNDLE}: no version in its header")
    return found.group(1)


@dataclass(frozen=True)
class Cell:
    """One table cell: the text shown, and the number it shows (``value``) under column ``key``."""

    text: str
    value: float | int | None = None
    key: str | None = None
    css: str = ""
    style: str = ""


@dataclass(frozen=True)
class Section:
    """A titled part of the page: ``body`` is an HTML fragment (already escaped)."""

    anchor: str
    title: str
    body: str


@dataclass(frozen=True)
class Report:
    """A finished page and the figures on it (by file-safe name, in page order, for ``--png``)."""

    title: str
    html: str
    figures: Mapping[str, go.Figure] = field(default_factory=dict)


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _data_value(value: float | int | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f' data-value="{value!r}"' if isinstance(value, float) else f' data-value="{int(value)}"'


def _td(cell: Cell | str) -> str:
    if not isinstance(cell, Cell):
        return f"<td>{_esc(cell)}</td>"
    classes = " ".join(c for c in ("n" if cell.value is not None or cell.key else "", cell.css) if c)
    attrs = f' class="{classes}"' if classes else ""
    if cell.key is not None:
        attrs += f' data-key="{_esc(cell.key)}"'
    attrs += _data_value(cell.value)
    if cell.style:
        attrs += f' style="{_esc(cell.style)}"'
    return f"<td{attrs}>{_esc(cell.text)}</td>"


def _th(header: str, sortable: bool, sorted_by: tuple[str, str] | None) -> str:
    if not sortable:
        return f"<th>{_esc(header)}</th>"
    state = f' aria-sort="{sorted_by[1]}"' if sorted_by and sorted_by[0] == header else ""
    return f'<th tabindex="0" title="sort by {_esc(header)}"{state}>{_esc(header)}</th>'


def table_html(
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell | str]],
    *,
    table_id: str,
    row_classes: Sequence[str] | None = None,
    scroll: bool = False,
    sortable: bool = False,
    sorted_by: tuple[str, str] | None = None,
) -> str:
    """A ``<table class="data">`` with one ``<tr>`` per row in ``<tbody>``; ``scroll`` caps its height.

    ``sortable``: a click on a header sorts the rows by that column in the browser (again: reversed), by
    ``data-value`` where the column has numbers (cells without one last), else by text; :func:`page_html`
    adds the script.  ``sorted_by``: (header, ``"ascending"`` or ``"descending"``), the order the rows come in.
    """
    head = "".join(_th(h, sortable, sorted_by) for h in headers)
    body = []
    for i, row in enumerate(rows):
        css = f' class="{_esc(row_classes[i])}"' if row_classes and row_classes[i] else ""
        body.append(f"<tr{css}>" + "".join(_td(c) for c in row) + "</tr>")
    table = (
        f'<table class="{_SORTABLE if sortable else "data"}" id="{_esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )
    return f'<div class="{"scroll" if scroll else "wide"}">{table}</div>'


def _text_axis(value: Any) -> list[str] | None:
    if isinstance(value, list | tuple) and len(value) >= _SHARE_MIN and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _share_axes(data: list[dict[str, Any]]) -> tuple[str, str]:
    """Replace each long text ``x`` in ``data`` by a reference to one table; return (table id, table JSON)."""
    axes = {i: axis for i, t in enumerate(data) if (axis := _text_axis(t.get("x"))) is not None}
    if not axes:
        return "", ""
    values = sorted({v for axis in axes.values() for v in axis})
    table = json.dumps(values, separators=(",", ":")).replace("</", "<\\/")
    table_id = "seesaw-x-" + hashlib.sha1(table.encode()).hexdigest()[:12]
    where = {v: i for i, v in enumerate(values)}
    dtype = "<u2" if len(values) <= 1 << 16 else "<u4"
    for i, axis in axes.items():
        ref: dict[str, Any] = {"seesaw_table": table_id}
        if axis != values:
            raw = np.array([where[v] for v in axis], dtype=dtype).tobytes()
            ref["index"] = {"dtype": dtype[1:], "bdata": base64.b64encode(raw).decode("ascii")}
        data[i]["x"] = ref
    return table_id, table


def figure_html(fig: go.Figure, div_id: str, *, tall: bool = False) -> str:
    """The figure as a ``<div>`` and its ``Plotly.newPlot`` script (plotly.js is not included here).

    Numeric arrays are plotly's base64 typed arrays; a long text ``x`` (dates) is a shared table
    (see the module docstring), which :func:`page_html` keeps once per page.
    """
    spec = fig.to_dict()  # numpy arrays become base64 typed arrays here
    data: list[dict[str, Any]] = spec.get("data", [])
    layout = spec.setdefault("layout", {})
    style = ""
    if (height := legend_height(fig)) > (TALL_PX if tall else FIGURE_PX):  # taller than the figure's class
        layout["height"] = height
        style = f' style="height:{height}px"'
    table_id, table = _share_axes(data)
    shared = f'<script type="application/json" id="{table_id}">{table}</script>' if table_id else ""
    script = (
        f'Plotly.newPlot("{div_id}", seesawData({to_json_plotly(data)}), {to_json_plotly(layout)}, '
        f"{json.dumps(_PLOT_CONFIG)});"
    )
    return (
        f'<div class="figure{" tall" if tall else ""}"{style}>{shared}'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%;width:100%"></div>'
        f"<script>{script}</script></div>"
    )


#: A legend entry's height in a column of them (font size 10), the gap plotly leaves between legend groups, and the
#: legend's padding, in px.
_ENTRY_PX, _GROUP_GAP_PX, _PAD_PX = 20, 10, 30


def legend_height(fig: go.Figure) -> int:
    """The height (px) ``fig`` needs to show every entry of its legend when the legend is a column (plotly scrolls a
    taller legend, and an image cuts it off): its margins, and a row per entry; 0 for a legend in a row, or none."""
    lay = fig.layout
    if lay.legend.orientation != "v" or lay.showlegend is False:
        return 0
    shown = [t for t in fig.data if t.showlegend is not False]
    groups = {t.legendgroup for t in shown if t.legendgroup}
    gaps = _GROUP_GAP_PX * max(len(groups) - 1, 0)
    return int((lay.margin.t or 0) + (lay.margin.b or 0) + _PAD_PX + _ENTRY_PX * len(shown) + gaps)


def facts_html(facts: Sequence[tuple[str, str]]) -> str:
    """A definition list of (label, value) pairs."""
    return '<dl class="facts">' + "".join(f"<dt>{_esc(k)}</dt><dd>{_esc(v)}</dd>" for k, v in facts) + "</dl>"


def paragraphs(lines: Sequence[str], css: str = "") -> str:
    """Each line as a ``<p>`` (escaped)."""
    attr = f' class="{css}"' if css else ""
    return "".join(f"<p{attr}>{_esc(line)}</p>" for line in lines)


def notice(text: str) -> str:
    """A highlighted note: something the page cannot show, and why."""
    return f'<div class="notice">{_esc(text)}</div>'


def preformatted(text: str) -> str:
    """``text`` as an escaped ``<pre>`` block."""
    return f"<pre>{_esc(text)}</pre>"


def page_html(title: str, sections: Sequence[Section], *, banner: str | None = None, subtitle: str = "") -> str:
    """The whole document: plotly.js once, a table of contents, then the sections in order.

    A shared axis table that several figures carry (:func:`figure_html`) is kept where it first appears.
    """
    seen: set[str] = set()

    def first(m: re.Match[str]) -> str:
        keep = m.group(1) not in seen
        seen.add(m.group(1))
        return m.group(0) if keep else ""

    bodies = [(s, _SHARED_TABLE.sub(first, s.body)) for s in sections]
    # a section's id is its anchor after "section-": a table in it may have the anchor as its own id
    toc = " · ".join(f'<a href="#section-{_esc(s.anchor)}">{_esc(s.title)}</a>' for s in sections)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(title)}</title>",
        f"<style>{_CSS}</style>",
        f"<script>/* plotly.js v{plotly_js_version()}: the cartesian partial bundle "
        f"(plotly.js-cartesian-dist-min, MIT licence, Plotly, Inc.) */\n{plotly_js()}</script>",
        f"<script>{_DATA_SCRIPT}</script>",
        "</head><body>",
        f'<div class="banner" id="synthetic-banner">{_esc(banner)}</div>' if banner else "",
        f"<main><h1>{_esc(title)}</h1>",
        f'<p class="muted">{_esc(subtitle)}</p>' if subtitle else "",
        f'<nav class="small">{toc}</nav>',
        *(f'<section id="section-{_esc(s.anchor)}"><h2>{_esc(s.title)}</h2>{body}</section>' for s, body in bodies),
        "</main>",
        f"<script>{_SORT_SCRIPT}</script>" if any(f'class="{_SORTABLE}"' in s.body for s in sections) else "",
        "</body></html>\n",
    ]
    return "\n".join(p for p in parts if p)
