"""The HTML report of one stored run (``seesaw report RUN_ID``): pure, from the run directory's contents.

Everything shown comes from the stored run (:class:`engine.compare.StoredRun`): the metrics
table is ``metrics.json`` as written by the run, the curves are ``equity``/``benchmarks``,
the weights and the rule of each date are ``weights``, the signals are ``signals`` (runs
written before Seesaw stored them say so instead of showing them, and so does a walk-forward
run, whose parameters change from fold to fold), the trades are ``trades``.  A rule's threshold
is a constant its ``when:`` compares a signal with, a ``params`` name counting as its value.

Sections: header (config, data, fingerprint, version, resolved config), metrics, equity
(log scale) against the benchmarks, drawdowns, weights (stacked), each signal with its
rules' thresholds and the active rule shaded, trailing one-year return and Sharpe,
calendar-year returns, trades.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from engine import expr
from engine.metrics import frames as cmp
from engine.metrics.samples import annualised_shown, withhold_short_runs
from engine.plural import counted
from engine.render.html import charts
from engine.render.html import series as ser
from engine.render.html.page import (
    SYNTHETIC_BANNER,
    Cell,
    Report,
    Section,
    facts_html,
    figure_html,
    notice,
    page_html,
    paragraphs,
    preformatted,
    table_html,
)
from engine.render.html.tearsheet import tearsheet_sections
from engine.render.text import RUN_COLUMNS, format_value
from engine.store.rundir import FIRST_RULE, StoredRun

__all__ = [
    "SIGNALS_MISSING",
    "SIGNALS_WALKFORWARD",
    "metrics_table",
    "run_facts",
    "run_report",
    "strategy_and_benchmarks",
]

SIGNALS_MISSING = (
    "Signal values are not stored in this run directory (it was written before Seesaw stored signals.parquet), "
    "so the signal charts are left out; run the config again to get them."
)
SIGNALS_WALKFORWARD = (
    "This is a walk-forward run: each fold trades the parameters chosen on its training window (the walkforward "
    "block of metrics.json), so no single set of signals and rules applies and the signal charts are left out."
)
_TRADE_COLUMNS = (
    ("date", "Date", "date"),
    ("asset", "Asset", ""),
    ("side", "Side", ""),
    ("quantity", "Quantity", "qty"),
    ("price", "Price", "price"),
    ("value", "Value", "money"),
    ("fees", "Fees", "money2"),
    ("quoted_price", "Quoted price", "price"),
)


def strategy_and_benchmarks(run: StoredRun) -> dict[str, pd.Series]:
    """The run's value and each benchmark's, by name (the strategy first)."""
    curves = {run.name: run.equity["value"]}
    for name in run.benchmarks.columns:
        curves[name if name not in curves else f"{name} (benchmark)"] = run.benchmarks[name]
    return curves


def _metrics_rows(run: StoredRun) -> tuple[list[dict[str, Any]], list[str]]:
    """The strategy's and the benchmarks' rows of ``metrics.json``, annualised figures withheld under a
    year (engine/metrics/samples.py), and the note saying so."""
    rows = [dict(r) for r in (run.metrics["strategy"], *run.metrics.get("benchmarks", []))]
    return rows, withhold_short_runs(rows)


def metrics_table(run: StoredRun, table_id: str = "metrics") -> str:
    """The strategy's and the benchmarks' rows of ``metrics.json``, cells as the terminal table's (no period
    column: a run's rows share its simulated period, which the page's header gives)."""
    headers = ["Name", "Kind", *(h for _, h, _ in RUN_COLUMNS), "Avg weight"]
    rows, classes = [], []
    for r in _metrics_rows(run)[0]:
        # an asset and its weight kept together; the assets may wrap, so the table fits a 1280-pixel window
        weights = " ".join(f"{a}\u00a0{w * 100:z.0f}%" for a, w in (r.get("avg_weight") or {}).items())
        cells: list[Cell | str] = [r["name"], r["kind"]]
        cells += [Cell(format_value(r.get(k), kind), value=r.get(k), key=k) for k, _, kind in RUN_COLUMNS]
        cells.append(Cell(weights or "–", css="wrap"))
        rows.append(cells)
        classes.append(r["kind"])
    return table_html(headers, rows, table_id=table_id, row_classes=classes)


def _warmup(data: dict[str, Any], walkforward: bool) -> str:
    """``262 dates before the start; the signals need 262``; a walk-forward's start is its first test date, after
    the first training window."""
    have, need = data.get("warmup_dates", "–"), data.get("warmup_needed", "–")
    where = (
        "before the first test date (the first training window and its warm-up)" if walkforward else "before the start"
    )
    return f"{have} dates {where}; the signals need {need}"


def run_facts(run: StoredRun) -> str:
    """The run's header: config, data, fingerprint, hashes, version; its assumptions, warnings and notes."""
    data, cfg, man = run.metrics.get("data", {}), run.config or {}, run.manifest
    synthetic = " (SYNTHETIC)" if man.get("synthetic") else ""
    facts = [
        ("config", str(man["config_name"])),
        ("description", str(cfg.get("description") or "–")),
        ("run id", str(man.get("run_id"))),
        ("created", str(man.get("created_at", "–"))),
        ("data source", f"{man.get('data_source')}{synthetic}"),
        ("simulated period", f"{man.get('start')} → {man.get('end')}"),
        ("symbols", ", ".join(f"{a}: {s}" for a, s in (data.get("symbols") or man.get("symbols") or {}).items())),
        ("base currency", str(data.get("base_currency", "–"))),
        ("warm-up", _warmup(data, "walkforward" in run.metrics)),
        ("data fingerprint", str(man.get("data_fingerprint"))),
        ("config hash", str(man.get("config_hash"))),
        ("code hash", str(man.get("code_hash", "–"))),
        ("Seesaw version", str(run.metrics.get("seesaw_version") or man.get("seesaw_version"))),
        ("risk-free rate", str(data.get("risk_free", "zero"))),
    ]
    lines = [f"Assumption: {a}." for a in run.metrics.get("assumptions", [])]
    lines += [f"WARNING: {w}" for w in run.warnings]
    lines += [f"Note: {n}" for n in run.metrics.get("notes", [])]
    return facts_html(facts) + paragraphs(lines, "small")


def _signal_description(spec: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "fn")
    return f"{spec.get('fn')}({params})"


def _rule_texts(cfg: dict[str, Any], key: str = "when") -> list[str | None]:
    """Each rule's ``when:`` (or ``until:``) text, None where it has none."""
    return [r.get(key) for r in cfg.get("rules", [])]


def _rule_labels(cfg: dict[str, Any]) -> list[str]:
    """Each rule as the legend names it: ``<when>``, ``<when> until <until>`` or ``otherwise``."""
    out = []
    for when, until in zip(_rule_texts(cfg), _rule_texts(cfg, "until"), strict=True):
        out.append("otherwise" if when is None else when + (f" until {until}" if until else ""))
    return out


def _with_values(node: expr.Expr, values: Mapping[str, float]) -> expr.Expr:
    """``node`` with every name in ``values`` replaced by that number."""
    if isinstance(node, expr.Name):
        return expr.Number(float(values[node.id])) if node.id in values else node
    changes: dict[str, Any] = {}
    for field in dataclasses.fields(node):
        child = getattr(node, field.name)
        if isinstance(child, expr.Expr):
            changes[field.name] = _with_values(child, values)
        elif isinstance(child, tuple):
            changes[field.name] = tuple(_with_values(c, values) for c in child)
    return dataclasses.replace(node, **changes)


def _params_as_numbers(when: str, known: Sequence[str], params: Mapping[str, float]) -> str:
    """``when`` with each ``params`` name written as its value (``corr < corr_cut`` -> ``(corr < 0.2)``).

    The text as written when it names no parameter, or when the rewritten text would be too long for
    the language (its parameter comparisons then draw no line).
    """
    cond = expr.parse_condition(when, known=list(known))
    if not expr.names(cond) & params.keys():
        return when
    text = expr.to_text(_with_values(cond, params))
    return text if len(text) <= expr.MAX_LENGTH else when


def _rule_thresholds(cfg: dict[str, Any], signal_names: Sequence[str]) -> list[ser.Threshold]:
    """The constants the rules compare each signal with, a ``params`` name counting as its value.

    The ``when:`` language names signals and ``params`` (as the config checks and the pipeline read it).
    """
    params: dict[str, float] = cfg.get("params") or {}
    known = [*signal_names, *params]
    found = []
    for key in ("when", "until"):  # an until: is where a latched rule lets go
        texts = [None if w is None else _params_as_numbers(w, known, params) for w in _rule_texts(cfg, key)]
        found += [t for t in ser.thresholds(texts, known) if t.signal in signal_names]
    return found


def _signals_section(run: StoredRun, figures: dict[str, Any]) -> str:
    cfg = run.config or {}
    specs: dict[str, Any] = cfg.get("signals") or {}
    if not specs:
        return paragraphs(["This config has no signals: its rules are static weights."])
    if "walkforward" in run.metrics:
        return notice(SIGNALS_WALKFORWARD)
    if run.signals is None:
        return notice(SIGNALS_MISSING)
    labels = _rule_labels(cfg)
    lines = _rule_thresholds(cfg, list(specs))
    rule = run.weights.get("rule")
    body = [
        paragraphs(
            [
                "Shaded: the rule that decided on each date (taken after both closes; its orders execute "
                f"{counted((cfg.get('execution') or {}).get('lag', 1), 'dates')} later), numbered as in weights.csv: "
                "rule "
                f"{FIRST_RULE} is the config's first rule. Dashed: the constants the rules compare "
                "the signal with. Before a signal is complete (warm-up) its rules are false and the otherwise "
                "weights apply."
            ],
            "small muted",
        )
    ]
    for name, spec in specs.items():
        fig = charts.signal_figure(
            name,
            run.signals[name],
            [t for t in lines if t.signal == name],
            rule,
            labels,
            description=_signal_description(spec),
        )
        figures[f"signal_{name}"] = fig
        body.append(figure_html(fig, f"fig-signal-{name}"))
    return "".join(body)


def _years_table(years: dict[str, dict[int, float]], partial: set[int], table_id: str) -> str:
    all_years = sorted({y for v in years.values() for y in v})
    headers = ["Year", *years]
    rows = []
    for y in all_years:
        cells: list[Cell | str] = [f"{y} (partial)" if y in partial else str(y)]
        cells += [Cell(format_value(v.get(y), "pct"), value=v.get(y), key=name) for name, v in years.items()]
        rows.append(cells)
    return table_html(headers, rows, table_id=table_id)


def _trade_text(value: Any, kind: str) -> str:
    if kind == "money":
        return f"{value:,.0f}"
    if kind == "money2":
        return f"{value:,.2f}"
    return f"{value:,.4f}" if kind in ("qty", "price") else str(value)


def _trade_cell(value: Any, key: str, kind: str) -> Cell | str:
    if kind == "date":  # a datetime (a typed date in trades.parquet), shown as the CSV shows it
        return f"{pd.Timestamp(value):%Y-%m-%d}"
    return Cell(_trade_text(value, kind), value=value, key=key) if kind else str(value)


def _trades_table(trades: pd.DataFrame, base: str) -> str:
    cols = [c for c in _TRADE_COLUMNS if c[0] in trades.columns]
    rows = [[_trade_cell(rec[k], k, kind) for k, _, kind in cols] for rec in trades.to_dict("records")]
    unit = {"price": f" ({base})", "value": f" ({base})", "fees": f" ({base})", "quoted_price": " (local)"}
    return table_html([h + unit.get(k, "") for k, h, _ in cols], rows, table_id="trades", scroll=True)


def _metrics_section(run: StoredRun) -> Section:
    ppy = run.metrics["strategy"]["periods_per_year"]
    period = f"Every row over {run.manifest.get('start')} → {run.manifest.get('end')}, from metrics.json"
    note = (
        f"{period}, as computed by the run. Returns are fractions shown as %; CAGR from calendar "
        "time; volatility, Sharpe and Sortino annualised with the run's own "
        f"{ppy:.1f} trading periods per year, not 365. Turnover: one-way, per year."
        if annualised_shown(run.metrics["strategy"])
        else f"{period}, as computed by the run. Returns are fractions shown as %."
    )
    short = _metrics_rows(run)[1]
    return Section("metrics", "Metrics", metrics_table(run) + paragraphs([*short, note], "small muted"))


def _equity_sections(run: StoredRun, curves: dict[str, pd.Series], figures: dict[str, Any]) -> list[Section]:
    """Equity (log scale) against the benchmarks, and their drawdowns."""
    currency = (run.metrics.get("data") or {}).get("base_currency", "")
    figures["equity"] = charts.equity_figure(
        curves, title="Portfolio value (log scale) against the benchmarks", y_title=f"value ({currency})".strip()
    )
    figures["drawdown"] = charts.drawdown_figure({k: ser.drawdown(v, run.initial_cash) for k, v in curves.items()})
    return [
        Section("equity", "Equity", figure_html(figures["equity"], "fig-equity")),
        Section("drawdowns", "Drawdowns", figure_html(figures["drawdown"], "fig-drawdown")),
    ]


def _weights_section(run: StoredRun, figures: dict[str, Any]) -> Section:
    traded = [f"{a}_actual" for a in run.traded_assets if f"{a}_actual" in run.weights]  # signal-only: no weight
    actual = run.weights[traded].rename(columns=lambda c: c.removesuffix("_actual"))
    figures["weights"] = charts.weights_figure(actual)
    return Section("weights", "Weights", figure_html(figures["weights"], "fig-weights"))


def _rolling_section(run: StoredRun, curves: dict[str, pd.Series], figures: dict[str, Any]) -> Section:
    initial = run.initial_cash
    ppy = run.metrics["strategy"]["periods_per_year"]
    rows = ser.window_rows(ppy)
    rf = ser.risk_free_returns(run.equity.get("cash_index"), run.equity.index)
    figures["rolling"] = charts.rolling_figure(
        {k: ser.rolling_return(v, initial, rows) for k, v in curves.items()},
        {k: ser.rolling_sharpe(v, initial, rows, ppy, rf) for k, v in curves.items()},
        rows=rows,
        title="Trailing one-year return and Sharpe",
    )
    note = (
        f"One year = {rows} dates (the run's periods per year, rounded). Sharpe of daily returns in "
        "excess of the run's cash rate, as in the metrics table."
    )
    body = figure_html(figures["rolling"], "fig-rolling", tall=True) + paragraphs([note], "small muted")
    return Section("rolling", "Rolling one-year return and Sharpe", body)


def _years_section(run: StoredRun, curves: dict[str, pd.Series], figures: dict[str, Any]) -> Section:
    years = {k: cmp.year_returns(v, run.initial_cash) for k, v in curves.items()}
    partial = set(cmp.partial_years(run.equity["value"]))
    figures["years"] = charts.year_returns_figure(years, title="Calendar-year returns", partial=partial)
    body = figure_html(figures["years"], "fig-years") + _years_table(years, partial, "years")
    return Section("years", "Calendar-year returns", body)


def _trades_section(run: StoredRun) -> Section:
    data = run.metrics.get("data", {})
    base = str(data.get("base_currency", "USD"))
    traded = {a: spec for a, spec in (data.get("assets") or {}).items() if spec.get("traded")}
    adjusted = [a for a, s in traded.items() if s.get("price") == "adj_close" and s.get("instrument") != "index"]
    local = ", ".join(f"{a} {spec['currency']}" for a, spec in traded.items())
    note = (
        f"Price: what one unit cost in {base}, slippage included, and for an asset with a dividend_yield its "
        "accrued dividends too (the unit value the run holds, docs/runs.md); fees include stamp duty. Quoted price: "
        f"the exchange's price in the asset's own currency"
        + (f" ({local})" if local else "")
        + (f"; adjusted for dividends and splits for {', '.join(adjusted)} (price: adj_close)." if adjusted else ".")
    )
    body = _trades_table(run.trades, base) + paragraphs([note], "small muted")
    return Section("trades", f"Trades ({len(run.trades)})", body)


def run_report(run: StoredRun) -> Report:
    """The run's report page and its figures."""
    curves = strategy_and_benchmarks(run)
    figures: dict[str, Any] = {}
    sections = [
        Section("run", "Run", run_facts(run)),
        _metrics_section(run),
        *_equity_sections(run, curves, figures),
        _weights_section(run, figures),
        Section("signals", "Signals and rules", _signals_section(run, figures)),
        _rolling_section(run, curves, figures),
        _years_section(run, curves, figures),
        *tearsheet_sections(run, figures),
        _trades_section(run),
        Section("config", "Resolved config", preformatted(run.config_text or "(config.yaml missing)")),
    ]
    title = f"Seesaw run report: {run.name}"
    banner = SYNTHETIC_BANNER if run.manifest.get("synthetic") else None
    subtitle = f"run {run.manifest.get('run_id')} · {run.manifest.get('start')} → {run.manifest.get('end')}"
    html = page_html(title, sections, banner=banner, subtitle=subtitle)
    return Report(title=title, html=html, figures=figures)
