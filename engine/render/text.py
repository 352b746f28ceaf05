"""Run and compare rows as Markdown, CSV or JSON, and the captions and cells every table shares.

No printing here: the CLI prints.  The terminal tables are in :mod:`engine.render.tables`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeGuard

from engine.data.base import SYNTHETIC_LABEL
from engine.metrics.frames import partial_years_between
from engine.metrics.samples import MIN_TRACKING_ERROR, annualised_shown
from engine.metrics.specs import COMPARE_TABLE, LOWER_IS_BETTER, RUN_TABLE, MetricSpec, beta_label, spec
from engine.plural import counted
from engine.render.data_words import data_words, synthetic_words
from engine.store.rundir import dumps_json

__all__ = [
    "COMPARE_COLUMNS",
    "JSON_KEYS",
    "KIND_COLUMN",
    "RUN_COLUMNS",
    "WEIGHTS_COLUMN",
    "assumption_lines",
    "caption_lines",
    "column_extremes",
    "compare_caption",
    "compare_cell",
    "compare_columns",
    "compare_csv",
    "compare_json",
    "compare_markdown",
    "compare_sort",
    "dated_after",
    "finite",
    "format_value",
    "interval_sentence",
    "narrow_rows",
    "part_years_note",
    "rows_json",
    "significance_lines",
    "spa_sentence",
    "weights_cell",
    "year_label",
]

#: Keys of every object in ``--format json`` output (the contract), in order; more may follow.
JSON_KEYS = (
    "kind", "name", "start", "end", "final_value", "total_return", "cagr", "ann_vol", "sharpe", "sortino",
    "max_drawdown", "calmar", "turnover", "switches_per_year", "avg_weight", "fees_paid", "synthetic",
    "data_fingerprint", "run_dir",
)  # fmt: skip

#: The run table's columns, (key, header, format), for the other renderers (the HTML report).
RUN_COLUMNS: tuple[tuple[str, str, str], ...] = tuple((n, spec(n).label, spec(n).fmt) for n in RUN_TABLE)

#: What the run table's columns less plain than a return are, said under it when they are shown (``fx_return``:
#: not the tear sheet's additive ``currency`` part).
_DEFINED = {
    "fees_paid": " Fees: the fees (fee_bps) and HK stamp duty paid, in money (slippage is paid in the fill prices).",
    "fx_return": " FX ret: the currency's contribution, the final value over the same run's with the exchange rate"
    " held at its first value, minus 1 (a ratio of two runs; the tear sheet's currency part adds up the rate's daily"
    " moves).",
    "avg_weight": " Avg weight: each asset's mean end-of-day weight (the rest is cash).",
}


def format_value(value: Any, kind: str) -> str:
    """A fraction, ratio or amount as shown in every table: ``pct`` 12.3%, ``num`` 0.51, ``money`` 1,234; NaN ``–``.

    A value that rounds to zero shows no sign (``0.00``, not ``-0.00``)."""
    return _fmt(value, kind)


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "pct":
        return f"{value * 100:z.1f}%"
    if kind == "money":
        return f"{value:z,.0f}"
    return f"{value:z.2f}"


def rows_json(rows: Sequence[dict[str, Any]], keys: Sequence[str] | None = None) -> str:
    """The ``--format json`` document: a list with one object per row, contract keys first; ``keys``:
    only these ``--columns`` (:func:`narrow_rows`)."""
    if keys is not None:
        return dumps_json(narrow_rows(rows, keys))
    ordered = [{**{k: r.get(k) for k in JSON_KEYS}, **{k: v for k, v in r.items() if k not in JSON_KEYS}} for r in rows]
    return dumps_json(ordered)


def caption_lines(rows: Sequence[dict[str, Any]], warnings: Sequence[str], shown: Sequence[str] = ()) -> list[str]:
    """Caption: what the numbers mean, and every warning; ``shown``: the keys of the table's columns (a column's
    definition only when it is there)."""
    annualised = [r for r in rows if r.get("periods_per_year") is not None and annualised_shown(r)]
    by_ppy: dict[float, list[str]] = {}
    for r in annualised:
        names = by_ppy.setdefault(round(r["periods_per_year"], 1), [])
        if r["kind"] == "strategy" and r["config"] not in names:
            names.append(r["config"])
    ppy = sorted(by_ppy)
    per_run = "; ".join(f"{p:.1f}: {', '.join(by_ppy[p])}" for p in ppy) if len(ppy) > 1 else ""
    lines = []
    if any(r.get("synthetic") for r in rows):
        lines.append(SYNTHETIC_LABEL)
    lines.append(
        "Returns are fractions shown as %; CAGR from calendar time; volatility, Sharpe and Sortino annualised "
        f"with the run's own trading periods per year ({per_run or ', '.join(f'{p:.1f}' for p in ppy)}), not 365."
        if ppy
        else "Returns are fractions shown as %."  # every run under a year: a note says no figure is annualised
    )
    rates = {r["config"]: r.get("risk_free") or "zero" for r in rows if r["kind"] == "strategy"}
    if len(set(rates.values())) <= 1:
        words = next(iter(rates.values()), "zero")
    else:
        words = "; ".join(f"{config}: {text}" for config, text in rates.items())
    lines.append(f"Sharpe and Sortino are in excess of the risk-free rate, each run's cash rate: {words}.")
    lines.append("Turnover: one-way, per year." + "".join(text for key, text in _DEFINED.items() if key in shown))
    lines += assumption_lines({r["config"]: r.get("assumptions") or [] for r in rows if r["kind"] == "strategy"})
    warm = sorted({(r["config"], r.get("warmup_dates")) for r in rows if r["kind"] == "strategy"})
    lines.append("Warm-up dates before start: " + ", ".join(f"{c} {w}" for c, w in warm) + ".")
    lines += [f"WARNING: {w}" for w in warnings]
    return lines


def dated_after(rows: Sequence[Mapping[str, Any]], today: dt.date) -> list[str]:
    """A warning for each config whose data runs past ``today`` (the clock's UTC date): dates in the future are
    not market history (a file edited, or generated).  Printed, never stored: a stored run is the same
    bytes whenever it is made.  Synthetic data is exempt.

    >>> row = {"kind": "strategy", "config": "a", "end": "2027-06-30"}
    >>> [line[:61] for line in dated_after([row], dt.date(2026, 12, 5))], dated_after([row], dt.date(2027, 6, 30))
    (['a: the data runs to 2027-06-30, after today (2026-12-05, UTC)'], [])
    """
    return [
        f"{r['config']}: the data runs to {r['end']}, after today ({today}, UTC): dates in the future are not "
        "market history; check the data"
        for r in rows
        if r["kind"] == "strategy" and not r.get("synthetic") and dt.date.fromisoformat(str(r["end"])) > today
    ]


def assumption_lines(per_config: Mapping[str, Sequence[str]]) -> list[str]:
    """Each run's modelling assumptions (currency, cash rate and risk-free, dividends, prices, fills).

    ``per_config``: {config name: its assumption lines}.  Each distinct line is shown once, in
    order of first appearance, prefixed with the configs it applies to unless it applies to all.

    >>> assumption_lines({"a": ["values in USD", "x"], "b": ["values in USD"]})
    ['Assumption: values in USD.', 'Assumption (a): x.']
    """
    holders: dict[str, list[str]] = {}
    for config, lines in per_config.items():
        for line in lines:
            holders.setdefault(line, []).append(config)
    out = []
    for line, configs in holders.items():
        who = "" if len(configs) == len(per_config) else f" ({', '.join(configs)})"
        out.append(f"Assumption{who}: {line}.")
    return out


# -- seesaw compare -------------------------------------------------------------------------------------------------


def _ranked(s: MetricSpec) -> str:
    """A compare column's colouring: "high" or "low" for a scored metric with a direction, "" otherwise."""
    if not s.score or s.better is None:
        return ""
    return "high" if s.better == "higher" else "low"


#: (key, header, format, better): better is "high", "low" or "" (not ranked).
COMPARE_COLUMNS: tuple[tuple[str, str, str, str], ...] = tuple(
    (n, spec(n).label, spec(n).fmt, _ranked(spec(n))) for n in COMPARE_TABLE
)


def compare_sort(rows: Sequence[dict[str, Any]], key: str | None, top: int | None) -> list[dict[str, Any]]:
    """Strategies sorted best-first by ``key`` (then benchmarks, in order); ``top`` keeps the first N strategies."""
    strategies = [r for r in rows if r["kind"] == "strategy"]
    benchmarks = [r for r in rows if r["kind"] != "strategy"]
    if key is not None:
        known = sorted(
            {k for r in rows for k, v in r.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        )
        if key not in known:
            raise KeyError(f"cannot sort by {key!r} (columns: {', '.join(known)})")
        lower_better = key in LOWER_IS_BETTER

        def rank(r: dict[str, Any]) -> float:
            v = r.get(key)
            if v is None or (isinstance(v, float) and math.isnan(v)):
                return math.inf
            return float(v) if lower_better else -float(v)

        strategies = sorted(strategies, key=rank)
    if top is not None:
        strategies = strategies[:top]
    return strategies + benchmarks


def year_label(c: Any, year: int) -> str:
    """A calendar year as a table labels it: ``2026*`` when comparison ``c``'s window covers it only in part."""
    return f"{year}*" if year in partial_years_between(c.first, c.last) else str(year)


def part_years_note(c: Any) -> str | None:
    """The line under calendar-year returns naming each year comparison ``c``'s window covers only in part
    (marked ``*`` by :func:`year_label`); None when it covers every year whole or shows no years."""
    part = partial_years_between(c.first, c.last) & set(c.years)
    if not part:
        return None
    spans = []
    for y in sorted(part):
        start = f" from {c.first.date()}" if y == c.first.year else ""
        spans.append(f"{y}{start}" + (f" to {c.last.date()}" if y == c.last.year else ""))
    return f"* part of a year (its return is for those dates only, not annualised): {'; '.join(spans)}."


def _columns(
    assets: Sequence[str], years: Sequence[int], regime: bool = False, year: Callable[[int], str] = str
) -> list[tuple[str, str, str, str]]:
    cols = list(COMPARE_COLUMNS)
    if regime:
        cols += [
            ("regime_in_return", "Ret in regime", "pct", "high"),
            ("regime_in_sharpe", "Sharpe in regime", "num", "high"),
            ("regime_out_return", "Ret outside", "pct", "high"),
            ("regime_out_sharpe", "Sharpe outside", "num", "high"),
        ]
    cols += [(f"beta_{a}", beta_label(a), "num", "") for a in assets]
    cols += [(f"y{y}", year(y), "pct", "high") for y in years]
    return cols


def _cell(row: dict[str, Any], key: str, kind: str) -> str:
    if kind == "ci":
        lo, hi = row.get("sharpe_ci_low"), row.get("sharpe_ci_high")
        return "–" if lo is None or lo != lo else f"{_fmt(lo, 'num')}…{_fmt(hi, 'num')}"
    if kind == "int":
        v = row.get(key)
        return "–" if v is None else f"{int(v):d}"
    return _fmt(row.get(key), kind)


#: (key, header, format, better) of the kind and average-weight columns every compare table may show.
KIND_COLUMN = ("kind", "Kind", "text", "")
WEIGHTS_COLUMN = ("avg_weight", "Avg weight", "weights", "")


def weights_cell(row: dict[str, Any]) -> str:
    """A row's average weights as ``us 60% hk 40%`` (``–`` without any)."""
    return " ".join(f"{a} {w * 100:z.0f}%" for a, w in (row.get("avg_weight") or {}).items()) or "–"


def spa_sentence(spa: Mapping[str, float], reference: str) -> str:
    """The SPA test's line under a comparison: its three p-values, or why there are none (under 3 returns)."""
    head = f"Hansen's SPA test, H0 'no strategy beats {reference}'"
    if any(math.isnan(spa[key]) for key in ("consistent", "lower", "upper")):
        return f"{head}: not computed (fewer than 3 daily returns)."
    p = {key: _decimal(spa[key]) for key in ("consistent", "lower", "upper")}
    return f"{head}: p = {p['consistent']} (lower {p['lower']}, upper {p['upper']})."


def _decimal(p: float) -> str:
    """A share of resamples to three decimals as its decimal digits round: 691/2000 = 0.3455 is 0.346, where
    ``f"{0.3455:.3f}"`` gives 0.345 (the double nearest 0.3455 lies just below it)."""
    return str(Decimal(repr(float(p))).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def interval_sentence(head: str, rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> str:
    """``head`` (the Sharpe interval's method), and the rows labelled ``labels`` (one per row) that have a Sharpe
    ratio but no interval, with the reason: some resample of their returns has no variation, so its Sharpe, and
    the percentile interval over all resamples, is undefined (as arch's would be; the interval is the only way
    a row with a Sharpe ratio lacks one)."""
    missing = [
        label
        for row, label in zip(rows, labels, strict=True)
        if finite(row.get("sharpe")) and not finite(row.get("sharpe_ci_low"))
    ]
    if not missing:
        return head
    return (
        f"{head} No interval (–) for {', '.join(missing)}: some resamples of {'its' if len(missing) == 1 else 'their'} "
        "returns have no variation at all (only dates in cash, say), so their Sharpe, and the interval, is undefined."
    )


def finite(value: Any) -> TypeGuard[int | float]:
    """A number that is neither NaN nor infinite (None, text and the like are not)."""
    return isinstance(value, int | float) and math.isfinite(value)


def significance_lines(reference: str, n_trials: int, trials: str = "strategies") -> list[str]:
    """The one-line definitions of PSR, P(SR>ref) and DSR that every table showing them carries;
    ``reference``: whose Sharpe P(SR>ref) is against, ``n_trials`` ``trials``: what the DSR deflates for."""
    return [
        "PSR: probability that the true Sharpe exceeds 0, from its estimate, skew, kurtosis and length "
        "(Bailey & López de Prado 2012).",
        f"P(SR>ref): share of paired block-bootstrap resamples in which the Sharpe beats that of {reference}.",
        f"DSR: the PSR against the best Sharpe expected from {counted(n_trials, trials)} with zero skill "
        "(Bailey & López de Prado 2014); never above the PSR.",
    ]


#: What the ``Longest DD d`` header stands for, under a table that shows it.
LONGEST_DD_NOTE = "Longest DD d: the longest drawdown, in calendar days from a peak until it is regained (or the end)."


def reference_words(c: Any) -> str:
    """The comparison's reference benchmark as the caption names it (none: no run compared has a benchmark)."""
    return str(c.reference) if c.reference else "no benchmark (no run compared has one: –)"


#: The caption's lines about one column, by how they begin: left out under a table that does not show it.
_ABOUT_COLUMN = {
    "P(SR>ref): share of paired": "p_beats_ref",
    "P(SR>ref) compares each strategy's Sharpe": "p_beats_ref",
    "Information ratios over a tracking error": "information_ratio",
}


def compare_caption(
    c: Any, reps: int, shown: Sequence[Mapping[str, Any]] | None = None, columns: Collection[str] | None = None
) -> list[str]:
    """What every compare output says under the table; ``shown``: the table's rows (default: all), the only
    ones a note may name; ``columns``: the table's column keys (default: all), the only ones a line about one
    column (:data:`_ABOUT_COLUMN`) is kept for."""
    lines = _caption_lines(c, reps, shown)
    if columns is None:
        return lines
    kept = [line for line in lines if _about(line) in ("", *columns)]
    if len(kept) < len(lines):
        kept.append("The notes on columns not shown come with them: --columns all, or --format markdown, csv or json.")
    return kept


def _about(line: str) -> str:
    """The column a caption line is about (:data:`_ABOUT_COLUMN`), or ``""``."""
    return next((key for start, key in _ABOUT_COLUMN.items() if line.startswith(start)), "")


def _caption_lines(c: Any, reps: int, shown: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """:func:`compare_caption` for every column; a run's warnings (a look-ahead config) first."""
    notes = list(getattr(c, "notes", ()) or ())
    lines = [n for n in notes if n.startswith("WARNING: ")]
    lines += [line] if (line := synthetic_words(c.rows)[1]) else []
    n_strategies = sum(r["kind"] == "strategy" for r in c.rows)
    ppy = next(r["periods_per_year"] for r in c.rows)
    annualised = (
        f"Annualised with {ppy:.1f} trading periods per year (not 365). "
        if annualised_shown(c.rows[0])
        else ""  # under a year: a note says no figure is annualised
    )
    lines += [
        f"Common window {c.first.date()} → {c.last.date()}; " + data_words(c),
        annualised + "Sharpe, Sortino, the Sharpe interval, PSR, P(SR>ref) and DSR are of returns in excess of each "
        f"run's cash rate (a benchmark: its run's): {c.risk_free}; P(SR>ref) measures the reference over the "
        "strategy's rate, SPA their difference of returns. "
        f"Reference benchmark for excess return (difference of CAGRs), IR, P(SR>ref) and SPA: {reference_words(c)}. "
        "Betas: same-date OLS betas on each asset's daily returns.",
        interval_sentence(
            f"Sharpe 95% CI: stationary bootstrap (arch), {reps} resamples, seed 20250120, automatic block length.",
            [r for r in (c.rows if shown is None else shown) if r["kind"] == "strategy"],
            [r["name"] for r in (c.rows if shown is None else shown) if r["kind"] == "strategy"],
        ),
        *significance_lines(reference_words(c), n_strategies),
    ]
    if c.spa:
        lines.append(spa_sentence(c.spa, "the reference"))
    if c.regime is not None:
        share = next(r["regime_in_share"] for r in c.rows)
        lines.append(
            f"Regime {c.regime!r}: {share * 100:.1f}% of days (each day classified by the regime at the previous "
            "close); returns annualised geometrically, Sharpe in excess of the cash rate as in the main table."
        )
    if any(r["kind"] == "benchmark" for r in c.rows):
        lines.append(
            "Benchmarks' turnover, switches and average weights are –: their fills are not stored, so they cannot "
            "be measured over the common window (`seesaw run` shows them over each run's own dates)."
        )
    lines += [n for n in notes if not n.startswith("WARNING: ")]
    lines += assumption_lines(c.assumptions or {})
    return lines


def compare_columns(c: Any, *, years: bool = True) -> list[tuple[str, str, str, str]]:
    """The compare table's columns for comparison ``c``: (key, header, format, better); ``years=False`` drops
    the calendar-year columns."""
    return _columns(c.assets, c.years if years else (), c.regime is not None, lambda y: year_label(c, y))


def compare_cell(row: dict[str, Any], key: str, kind: str) -> str:
    """One compare-table cell as text (``ci``: the Sharpe interval ``low…high``)."""
    return _cell(row, key, kind)


def column_extremes(
    cols: Sequence[tuple[str, str, str, str]], rows: Sequence[dict[str, Any]]
) -> dict[str, tuple[float, float]]:
    """{key: (best, worst)} of each ranked column whose finite values are not all equal.  An information ratio
    over a tracking error under :data:`~engine.metrics.samples.MIN_TRACKING_ERROR` (a drift the notes call no
    skill) is not ranked."""
    extremes: dict[str, tuple[float, float]] = {}
    for key, _, _, better in cols:
        drift = key == "information_ratio"
        values = [r.get(key) for r in rows if not (drift and r.get("tracking_error", 1.0) < MIN_TRACKING_ERROR)]
        known = [float(v) for v in values if finite(v)]
        if better and len(known) > 1 and min(known) != max(known):
            best, worst = (max(known), min(known)) if better == "high" else (min(known), max(known))
            extremes[key] = (best, worst)
    return extremes


def compare_markdown(
    c: Any, rows: Sequence[dict[str, Any]], reps: int, cols: Sequence[tuple[str, str, str, str]] | None = None
) -> str:
    """The same table as GitHub Markdown, caption as a paragraph below; ``cols`` (key, header, format,
    better) after the name: the columns to show (default: kind, the compare columns, average weights)."""
    if cols is None:
        cols = [KIND_COLUMN, *compare_columns(c), WEIGHTS_COLUMN]
    header = ["Name", *(h for _, h, _, _ in cols)]
    align = ["---", *("---" if kind in ("text", "weights") else "---:" for _, _, kind, _ in cols)]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for r in rows:
        cells = [r["name"], *(_markdown_cell(r, k, kind) for k, _, kind, _ in cols)]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    shown_years = any(key.startswith("y") and key[1:].isdigit() for key, _, _, _ in cols)
    caption = [*compare_caption(c, reps, rows), *([note] if (note := part_years_note(c)) and shown_years else [])]
    if any(key == "longest_drawdown_days" for key, _, _, _ in cols):
        caption.append(LONGEST_DD_NOTE)
    return "\n".join(lines) + "\n\n" + "\n".join(caption) + "\n"


def _markdown_cell(row: dict[str, Any], key: str, kind: str) -> str:
    if kind == "weights":
        return weights_cell(row)
    if kind == "text":
        return str(row.get(key) or "")
    return _cell(row, key, kind)


def narrow_rows(rows: Sequence[dict[str, Any]], keys: Sequence[str] | None) -> list[dict[str, Any]]:
    """Each row cut to ``kind``, ``name`` and the ``--columns`` ``keys`` (None: whole), and ``synthetic`` when
    some row is on synthetic data (a file of numbers is labelled too); ``sharpe_ci`` is ``sharpe_ci_low``
    and ``sharpe_ci_high``, ``period`` is ``start`` and ``end``.

    >>> narrow_rows([{"kind": "strategy", "name": "a", "cagr": 0.1, "psr": 0.5}], ["cagr"])
    [{'kind': 'strategy', 'name': 'a', 'cagr': 0.1}]
    >>> narrow_rows([{"kind": "strategy", "name": "a", "cagr": 0.1, "synthetic": True}], ["cagr"])
    [{'kind': 'strategy', 'name': 'a', 'synthetic': True, 'cagr': 0.1}]
    """
    if keys is None:
        return list(rows)
    expand = {"sharpe_ci": ["sharpe_ci_low", "sharpe_ci_high"], "period": ["start", "end"]}
    expand["currency"] = ["currency", "base_currency"]
    wanted = ["kind", "name", *(["synthetic"] if any(r.get("synthetic") for r in rows) else [])]
    for key in keys:
        wanted += expand.get(key, [key])
    present = [k for k in dict.fromkeys(wanted) if any(k in r for r in rows)]
    return [{k: r.get(k) for k in present} for r in rows]


def compare_csv(rows: Sequence[dict[str, Any]], keys: Sequence[str] | None = None) -> str:
    """Flat CSV (fractions, full precision); average weights become ``weight_<asset>`` columns;
    ``keys``: only these ``--columns`` (:func:`narrow_rows`)."""
    import pandas as pd

    flat = []
    for r in narrow_rows(rows, keys):
        out = {k: v for k, v in r.items() if k != "avg_weight"}
        out.update({f"weight_{a}": w for a, w in (r.get("avg_weight") or {}).items()})
        flat.append(out)
    return pd.DataFrame(flat).to_csv(index=False, lineterminator="\n")


def compare_json(c: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str] | None = None) -> str:
    """JSON: the window, reference, SPA p-values, the bootstrap's resamples, every note under the table (as
    the Markdown caption: the statistics' definitions and settings, the runs' assumptions; a run's warnings
    first) and one object per row (fractions); ``keys``: only these ``--columns`` in each row (:func:`narrow_rows`)."""
    return dumps_json(
        {
            "first": str(c.first.date()),
            "last": str(c.last.date()),
            "reference": c.reference or None,
            "data_fingerprints": list(c.fingerprints),
            "synthetic": c.synthetic,
            "spa": c.spa,
            "resamples": c.reps,
            "notes": compare_caption(c, c.reps, rows),
            "rows": narrow_rows(rows, keys),
        }
    )
