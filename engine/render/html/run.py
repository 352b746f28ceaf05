"""The HTML report of one stored run (``seesaw report RUN_ID``): pure, from the run directory's contents.

Everything shown comes from the stored run (:class:`engine.compare.StoredRun`): the metrics
table is ``metrics.json`` as written by the run, the curves are ``equity``/``benchmarks``,
the weights and the rule of each date are ``weights``, the signals are ``signals`` (runs
written before Seesaw stored them say so instead of showing them), the trades are ``trades``.

Sections: header (config, data, fingerprint, version, resolved config), metrics, equity
(log scale) against the benchmarks, drawdowns, weights (stacked), each signal with its
rules' thresholds and the active rule shaded, trailing one-year return and Sharpe,
calendar-year returns, trades.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from engine.metrics import frames as cmp
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
from engine.render.text import RUN_COLUMNS, format_value
from engine.store.rundir import StoredRun

__all__ = ["SIGNALS_MISSING", "metrics_table", "run_facts", "run_report", "strategy_and_benchmarks"]

SIGNALS_MISSING = (
    "Signal values are not stored in this run directory (it was written before Seesaw stored signals.parquet), "
    "so the signal charts are left out; run the config again to get them."
)
_TRADE_COLUMNS = (
    ("date", "Date", ""),
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


def _metrics_rows(run: StoredRun) -> list[dict[str, Any]]:
    return [run.metrics["strategy"], *run.metrics.get("benchmarks", [])]


def metrics_table(run: StoredRun, table_id: str = "metrics") -> str:
    """The strategy's and the benchmarks' rows of ``metrics.json``, cells as the terminal table's."""
    headers = ["Name", "Kind", "Period", *(h for _, h, _ in RUN_COLUMNS), "Avg weight"]
    rows, classes = [], []
    for r in _metrics_rows(run):
        weights = " ".join(f"{a} {w * 100:.0f}%" for a, w in (r.get("avg_weight") or {}).items())
        cells: list[Cell | str] = [r["name"], r["kind"], f"{r['start']}→{r['end']}"]
        cells += [Cell(format_value(r.get(k), kind), value=r.get(k), key=k) for k, _, kind in RUN_COLUMNS]
        cells.append(weights or "–")
        rows.append(cells)
        classes.append(r["kind"])
    return table_html(headers, rows, table_id=table_id, row_classes=classes)


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
        ("warm-up dates", f"{data.get('warmup_dates', '–')} used of {data.get('warmup_needed', '–')} needed"),
        ("data fingerprint", str(man.get("data_fingerprint"))),
        ("config hash", str(man.get("config_hash"))),
        ("code hash", str(man.get("code_hash", "–"))),
        ("Seesaw version", str(run.metrics.get("seesaw_version") or man.get("seesaw_version"))),
        ("risk-free rate", str(data.get("risk_free", "zero"))),
    ]
    lines = [f"Assumption: {a}." for a in run.metrics.get("assumptions", [])]
    lines += [f"WARNING: {w}" for w in run.metrics.get("warnings", [])]
    lines += [f"Note: {n}" for n in run.metrics.get("notes", [])]
    return facts_html(facts) + paragraphs(lines, "small")


def _signal_description(spec: dict[str, Any]) -> str:
    params = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "fn")
    return f"{spec.get('fn')}({params})"


def _rule_texts(cfg: dict[str, Any]) -> list[str | None]:
    return [r.get("when") for r in cfg.get("rules", [])]


def _signals_section(run: StoredRun, figures: dict[str, Any]) -> str:
    cfg = run.config or {}
    specs: dict[str, Any] = cfg.get("signals") or {}
    if not specs:
        return paragraphs(["This config has no signals: its rules are static weights."])
    if run.signals is None:
        return notice(SIGNALS_MISSING)
    whens = _rule_texts(cfg)
    labels = [w if w is not None else "otherwise" for w in whens]
    lines = ser.thresholds(whens, list(specs))
    rule = run.weights.get("rule")
    body = [
        paragraphs(
            [
                "Shaded: the rule that matched each date's decision (taken after both closes; its orders execute "
                f"{(cfg.get('execution') or {}).get('lag', 1)} date(s) later). Dashed: the constants the rules compare "
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


def _trades_table(trades: pd.DataFrame) -> str:
    cols = [c for c in _TRADE_COLUMNS if c[0] in trades.columns]
    rows = [
        [Cell(_trade_text(rec[k], kind), value=rec[k], key=k) if kind else str(rec[k]) for k, _, kind in cols]
        for rec in trades.to_dict("records")
    ]
    return table_html([h for _, h, _ in cols], rows, table_id="trades", scroll=True)


def run_report(run: StoredRun) -> Report:
    """The run's report page and its figures."""
    metrics = run.metrics["strategy"]
    initial = run.initial_cash
    curves = strategy_and_benchmarks(run)
    figures: dict[str, Any] = {}
    sections: list[Section] = []

    sections.append(Section("run", "Run", run_facts(run)))
    sections.append(
        Section(
            "metrics",
            "Metrics",
            metrics_table(run)
            + paragraphs(
                [
                    "From metrics.json, as computed by the run. Returns are fractions shown as %; CAGR from calendar "
                    "time; volatility, Sharpe and Sortino annualised with the run's own "
                    f"{metrics['periods_per_year']:.1f} trading periods per year, not 365. Turnover: one-way, per year."
                ],
                "small muted",
            ),
        )
    )
    currency = (run.metrics.get("data") or {}).get("base_currency", "")
    figures["equity"] = charts.equity_figure(
        curves, title="Portfolio value (log scale) against the benchmarks", y_title=f"value ({currency})".strip()
    )
    sections.append(Section("equity", "Equity", figure_html(figures["equity"], "fig-equity")))
    figures["drawdown"] = charts.drawdown_figure({k: ser.drawdown(v, initial) for k, v in curves.items()})
    sections.append(Section("drawdowns", "Drawdowns", figure_html(figures["drawdown"], "fig-drawdown")))

    info = run.metrics.get("data", {}).get("assets") or {}
    traded = [  # signal-only assets have no weight to show
        c
        for c in run.weights.columns
        if c.endswith("_actual") and info.get(c.removesuffix("_actual"), {}).get("traded", True)
    ]
    actual = run.weights[traded].rename(columns=lambda c: c.removesuffix("_actual"))
    figures["weights"] = charts.weights_figure(actual)
    sections.append(Section("weights", "Weights", figure_html(figures["weights"], "fig-weights")))
    sections.append(Section("signals", "Signals and rules", _signals_section(run, figures)))

    rows = ser.window_rows(metrics["periods_per_year"])
    rf = ser.risk_free_returns(run.equity.get("cash_index"), run.equity.index)
    ppy = metrics["periods_per_year"]
    figures["rolling"] = charts.rolling_figure(
        {k: ser.rolling_return(v, initial, rows) for k, v in curves.items()},
        {k: ser.rolling_sharpe(v, initial, rows, ppy, rf) for k, v in curves.items()},
        rows=rows,
        title="Trailing one-year return and Sharpe",
    )
    sections.append(
        Section(
            "rolling",
            "Rolling one-year return and Sharpe",
            figure_html(figures["rolling"], "fig-rolling", tall=True)
            + paragraphs(
                [
                    f"One year = {rows} dates (the run's periods per year, rounded). Sharpe of daily returns in "
                    "excess of the run's cash rate, as in the metrics table."
                ],
                "small muted",
            ),
        )
    )

    years = {k: cmp.year_returns(v, initial) for k, v in curves.items()}
    partial = set(cmp.partial_years(run.equity["value"]))
    figures["years"] = charts.year_returns_figure(
        years, title="Calendar-year returns (* partial year)", partial=partial
    )
    sections.append(
        Section(
            "years",
            "Calendar-year returns",
            figure_html(figures["years"], "fig-years") + _years_table(years, partial, "years"),
        )
    )
    sections.append(
        Section(
            "trades",
            f"Trades ({len(run.trades)})",
            _trades_table(run.trades)
            + paragraphs(
                ["Price: the fill price in the base currency, slippage included; fees include stamp duty."],
                "small muted",
            ),
        )
    )
    sections.append(Section("config", "Resolved config", preformatted(run.config_text or "(config.yaml missing)")))

    title = f"Seesaw run report: {run.name}"
    banner = SYNTHETIC_BANNER if run.manifest.get("synthetic") else None
    subtitle = f"run {run.manifest.get('run_id')} · {run.manifest.get('start')} → {run.manifest.get('end')}"
    html = page_html(title, sections, banner=banner, subtitle=subtitle)
    return Report(title=title, html=html, figures=figures)
