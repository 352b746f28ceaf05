"""One function per command: read configs and data, call the pipeline, write results.

This module may touch files and the environment (it receives the
environment and the clock as arguments); it never prints: the CLI renders
what it returns.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from engine import __version__
from engine.config import StrategyConfig, load_configs
from engine.config.checks import _pydantic_message, first_error
from engine.config.models import AssetSpec, DataSpec
from engine.data.base import Provider
from engine.data.panel import LoadedPanel, load_for_config
from engine.errors import ConfigError, UserError
from engine.pipeline import RunResult, required_warmup, run_config
from engine.signals import compute_signals
from engine.simulate import Engine
from engine.store import RunFiles, config_hash, new_run_id, write_run
from engine.store.catalog import Catalog, default_store_path
from engine.store.rundir import code_fingerprint

if TYPE_CHECKING:
    from engine.compare import Comparison

__all__ = [
    "DEFAULT_DATA_DIR",
    "ConfigRun",
    "RunOptions",
    "RunReport",
    "catalog_for",
    "compare_job",
    "compare_report_job",
    "config_schema",
    "expand_config_paths",
    "parse_period",
    "report_job",
    "run_configs",
    "validate_configs",
]

DEFAULT_DATA_DIR = "../shared/data"
#: The synthetic generator starts early enough that configs starting in 2000 have warm-up history.
SYNTHETIC_FIRST = dt.date(1998, 1, 2)


@dataclass(frozen=True)
class RunOptions:
    """Command-line overrides and where to write."""

    source: str | None = None
    data_dir: Path | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    results_dir: Path = Path("results")
    engine: Engine = "rust"
    cache_dir: Path | None = None
    offline: bool = False
    write: bool = True
    store: Path | None = None
    force: bool = False


@dataclass(frozen=True)
class ConfigRun:
    """One config's run: its ``metrics.json`` content and where it is stored."""

    config: StrategyConfig
    file: str
    run_dir: Path | None
    metrics: dict[str, Any]
    reused: bool = False

    @property
    def synthetic(self) -> bool:
        return bool(self.metrics["data"]["synthetic"])

    @property
    def notes(self) -> list[str]:
        return list(self.metrics["notes"])

    @property
    def warnings(self) -> list[str]:
        return list(self.metrics["warnings"])


@dataclass(frozen=True)
class RunReport:
    """What ``seesaw run`` shows: the rows (strategies, then distinct benchmarks) and notes."""

    runs: list[ConfigRun]
    rows: list[dict[str, Any]]

    @property
    def synthetic(self) -> bool:
        return any(r.synthetic for r in self.runs)


def expand_config_paths(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given; a directory stands for the ``*.yaml`` files in it (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("*.yaml"))
            if not found:
                raise ConfigError("directory holds no *.yaml config", file=str(p), expected="one or more YAML files")
            out += found
        else:
            out.append(p)
    if not out:
        raise ConfigError("no config files given", expected="one or more YAML files")
    return out


def validate_configs(paths: Sequence[str | Path]) -> list[StrategyConfig]:
    """Load and check every config; the first error raises."""
    return load_configs(expand_config_paths(paths))


def config_schema() -> dict[str, Any]:
    """JSON Schema of the config file, for editors."""
    schema = StrategyConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Seesaw strategy config (v1)"
    return schema


def _resolve(cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str]) -> StrategyConfig:
    data = cfg.data
    update: dict[str, Any] = {}
    if opts.source is not None:
        update["source"] = opts.source
    if opts.start is not None:
        update["start"] = opts.start
    if opts.end is not None:
        update["end"] = opts.end
    source = update.get("source", data.source)
    if source == "csv":
        update["data_dir"] = str(opts.data_dir or data.data_dir or env.get("SEESAW_DATA_DIR") or DEFAULT_DATA_DIR)
    elif opts.source is not None:
        update["data_dir"] = None
    try:
        resolved = DataSpec.model_validate({**data.model_dump(), **update})
    except ValidationError as exc:
        err = first_error(exc)
        field = str(err["loc"][0]) if err["loc"] else ""
        options = [f"--{k}" for k in ("start", "end") if k in update]
        if field:
            where = f"--{field.replace('_', '-')}" if field in update else f"data.{field}"
        else:  # a check across fields (start before end)
            where = "/".join(options) or "data"
        raise ConfigError(_pydantic_message(err, []), path=where, got=err.get("input")) from None
    return cfg.model_copy(update={"data": resolved})


def _provider(cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str], cache: dict) -> Provider:
    data = cfg.data
    if data.source == "synthetic":
        markets = {a.symbol: a.market for a in cfg.assets.values()} | {data.fx_symbol: "fx"}
        if isinstance(cfg.cash_rate, str):
            markets[cfg.cash_rate] = "rate"
        key: tuple = ("synthetic", tuple(sorted(markets.items())))
        if key not in cache:
            from engine.data.synthetic import SyntheticProvider

            cache[key] = SyntheticProvider(markets, first=SYNTHETIC_FIRST)
        return cache[key]
    if data.source == "csv":
        key = ("csv", data.data_dir)
        if key not in cache:
            from engine.data.csv import CsvProvider

            cache[key] = CsvProvider(Path(data.data_dir or DEFAULT_DATA_DIR))
        return cache[key]
    key = ("yahoo",)
    if key not in cache:
        from engine.data.cache import FrameCache, default_cache_dir
        from engine.data.yahoo import YahooProvider

        root = opts.cache_dir or default_cache_dir(env)
        cache[key] = YahooProvider(FrameCache(root), offline=opts.offline)
    return cache[key]


def _files(
    cfg: StrategyConfig,
    loaded: LoadedPanel,
    results: list[RunResult],
    resolved: dict[str, Any],
    notes: list[str],
    warnings: list[str],
) -> RunFiles:
    s, *benches = results
    equity = pd.DataFrame({"date": s.dates.strftime("%Y-%m-%d"), "value": s.value, "cash": s.cash})
    weights = pd.DataFrame({"date": equity["date"]})
    for j, a in enumerate(s.assets):
        equity[a] = s.asset_value[:, j]
        weights[f"{a}_target"] = s.target[:, j]
        weights[f"{a}_actual"] = s.weights[:, j]
    equity["cash_index"] = s.cash_index  # value of one unit of cash: interest is its growth
    if s.rule is not None:
        weights["rule"] = s.rule
    benchmarks = pd.DataFrame({"date": equity["date"]})
    for b in benches:
        benchmarks[b.name] = b.value
    prices = pd.DataFrame({"date": equity["date"]})
    assert s.unit_value is not None
    quotes = pd.DataFrame({"date": equity["date"]})
    for j, a in enumerate(s.assets):
        prices[a] = s.unit_value[:, j]
        quotes[a] = loaded.panel.close[loaded.start :, j]
    # The signal values the rules saw, on the run's dates (computed once, by engine.pipeline.strategy_allocation).
    signals = pd.DataFrame({"date": equity["date"]})
    for name, values in (s.signals or {}).items():
        signals[name] = np.asarray(values, dtype="float64")[loaded.start :]
    data = _data_block(cfg, loaded)
    chash = config_hash(resolved)
    metrics = {
        "seesaw_version": __version__,
        "config_hash": chash,
        "data": data,
        "strategy": s.metrics,
        "benchmarks": [b.metrics for b in benches],
        "rules": list(s.rule_labels),
        "assumptions": assumptions(cfg, loaded),
        "warnings": warnings,
        "notes": notes,
    }
    label = " (SYNTHETIC)" if loaded.panel.synthetic else ""
    header = [
        f"resolved config written by seesaw {__version__}",
        f"data: {loaded.panel.source}{label}, fingerprint {loaded.fingerprint}",
    ]
    manifest = {
        "config_name": cfg.name,
        "config_hash": chash,
        "data_fingerprint": loaded.fingerprint,
        "data_source": loaded.panel.source,
        "symbols": data["symbols"],
        "synthetic": loaded.panel.synthetic,
        "seesaw_version": __version__,
        "code_hash": code_fingerprint(),
        "start": s.metrics["start"],
        "end": s.metrics["end"],
    }
    return RunFiles(
        config_name=cfg.name,
        resolved_config=resolved,
        header=header,
        metrics=metrics,
        equity=equity,
        weights=weights,
        trades=s.trades,
        benchmarks=benchmarks,
        prices=prices,
        manifest=manifest,
        quotes=quotes,
        signals=signals,
    )


def _data_block(cfg: StrategyConfig, loaded: LoadedPanel) -> dict[str, Any]:
    p = loaded.panel
    traded = cfg.traded_assets
    assets = {}
    for j, a in enumerate(p.assets):
        spec = cfg.assets[a]
        assets[a] = {
            "symbol": spec.symbol,
            "market": spec.market,
            "currency": p.currencies[j],
            "price": p.price_fields[j],
            "instrument": spec.kind,
            "traded": a in traded,
            "dividend_yield": spec.dividend_yield,
            "stamp_duty_bps": _stamp_duty_text(spec, cfg),
        }
    return {
        "source": p.source,
        "synthetic": p.synthetic,
        "fingerprint": loaded.fingerprint,
        "symbols": dict(zip(p.assets, p.symbols, strict=True)),
        "price": p.price_field,
        "base_currency": p.base_currency,
        "assets": assets,
        "fx_symbol": p.fx_symbol,
        "cash_rate": cfg.cash_rate,
        "risk_free": risk_free_text(cfg),
        "fill": cfg.execution.fill,
        "warmup_dates": loaded.warmup_used,
        "warmup_needed": loaded.warmup_needed,
        "first_date": str(p.dates[loaded.start].date()),
        "last_date": str(p.dates[-1].date()),
    }


def _stamp_duty_text(spec: AssetSpec, cfg: StrategyConfig) -> float | str:
    """The asset's stamp duty per side: bps, or ``hk schedule`` (engine/costs.py)."""
    if spec.stamp_duty_bps is not None:
        return spec.stamp_duty_bps
    if spec.market != "hk" or spec.kind == "etf":
        return 0.0
    return cfg.costs.hk_stamp_duty_bps if cfg.costs.hk_stamp_duty_bps is not None else "hk schedule"


def risk_free_text(cfg: StrategyConfig) -> str:
    """What Sharpe and Sortino are measured in excess of."""
    if cfg.cash_rate is None:
        return "zero"
    if isinstance(cfg.cash_rate, str):
        return f"{cfg.cash_rate} (a series in percent a year)"
    return f"{cfg.cash_rate * 100:g}% a year (constant cash rate)"


def assumptions(cfg: StrategyConfig, loaded: LoadedPanel) -> list[str]:
    """The modelling choices behind a run's numbers, one line each, for every output."""
    p = loaded.panel
    lines = [f"values in {p.base_currency}"]
    foreign = [a for j, a in enumerate(p.assets) if p.currencies[j] != p.base_currency and a in cfg.traded_assets]
    if foreign:
        lines[0] += (
            f"; {', '.join(foreign)} converted at {p.fx_symbol} closes (carried forward over FX holidays); "
            "fx_return is the currency's contribution"
        )
    if cfg.cash_rate is None:
        lines.append("cash earns no interest")
    else:
        lines.append(f"cash earns {risk_free_text(cfg)}, compounded daily (ACT/365)")
    for a, spec in cfg.assets.items():
        if spec.dividend_yield > 0:
            lines.append(
                f"APPROXIMATION: {a} ({spec.symbol}) dividends modelled as a constant {spec.dividend_yield * 100:.2f}% "
                "a year accrued daily and reinvested, not actual payments"
            )
    prices = ", ".join(f"{a} {f}" for a, f in zip(p.assets, p.price_fields, strict=True))
    fill = "the open of the next session" if cfg.execution.fill == "next_open" else "the close"
    lines.append(f"prices: {prices}; orders fill at {fill}")
    signal_only = [a for a in cfg.assets if a not in cfg.traded_assets]
    if signal_only:
        lines.append(f"signal-only (never traded): {', '.join(signal_only)}")
    return lines


def _warnings(cfg: StrategyConfig, loaded: LoadedPanel) -> list[str]:
    out = []
    if cfg.execution.lag == 0:
        out.append(
            f"{cfg.name}: allow_same_bar with lag 0: US orders fill at the New York close the decision was "
            "made on (look-ahead: results are optimistic); Hong Kong orders fill at Hong Kong's next close"
        )
    if loaded.warmup_used < loaded.warmup_needed:
        out.append(
            f"{cfg.name}: only {loaded.warmup_used} of {loaded.warmup_needed} warm-up dates before the start; "
            "until signals are complete the otherwise weights apply"
        )
    return out


def catalog_for(opts: RunOptions, env: Mapping[str, str]) -> Catalog:
    """The results catalog: ``--store``, else ``$SEESAW_STORE``, else ``<results-dir>/seesaw.duckdb``."""
    return Catalog(opts.store or default_store_path(opts.results_dir, dict(env)), opts.results_dir)


def run_configs(
    paths: Sequence[str | Path], opts: RunOptions, *, env: Mapping[str, str], now: dt.datetime
) -> RunReport:
    """Validate every config first, then run (or reuse) each and store what is new.

    A config whose resolved form and data fingerprint match a stored complete run
    reuses it (its metrics are read back) unless ``opts.force``.  Nothing is written
    until every config has been validated, loaded and simulated.
    """
    files = expand_config_paths(paths)
    configs = [_resolve(c, opts, env) for c in load_configs(files)]
    catalog = catalog_for(opts, env) if opts.write else None
    providers: dict = {}
    done: list[tuple[ConfigRun, RunFiles | None]] = []
    if catalog is not None:
        for file, cfg in zip(files, configs, strict=True):
            catalog.check_name(cfg.name, str(file))
    for file, cfg in zip(files, configs, strict=True):
        provider = _provider(cfg, opts, env, providers)
        notes_before = len(getattr(provider, "notes", []))
        loaded = load_for_config(provider, cfg, warmup_rows=required_warmup(cfg))
        resolved = cfg.model_dump(mode="json")
        stored = None
        if catalog is not None and not opts.force:
            stored = catalog.find(config_hash(resolved), loaded.fingerprint, code_fingerprint())
        if stored is not None:
            metrics = json.loads((stored / "metrics.json").read_text(encoding="utf-8"))
            done.append((ConfigRun(cfg, str(file), stored, metrics, reused=True), None))
            continue
        try:
            results = run_config(cfg, loaded, engine=opts.engine)
        except ConfigError as err:  # a value the data cannot support (pipeline.check_usable)
            raise err.located(file=str(file)) from None
        notes = [*loaded.panel.notes, *getattr(provider, "notes", [])[notes_before:], *results[0].notes]
        new_files = _files(cfg, loaded, results, resolved, notes, _warnings(cfg, loaded))
        done.append((ConfigRun(cfg, str(file), None, new_files.metrics), new_files))
    runs: list[ConfigRun] = []
    for run, pending in done:
        if pending is not None and catalog is not None:
            run_id = new_run_id(now, pending.manifest["config_hash"], pending.manifest["data_fingerprint"])
            run_dir = write_run(opts.results_dir, run_id, pending, created_at=now)
            run = ConfigRun(run.config, run.file, run_dir, run.metrics)
        runs.append(run)
    if catalog is not None:
        catalog.record(*[r.run_dir for r, (_, pending) in zip(runs, done, strict=True) if pending and r.run_dir])
    return RunReport(runs=runs, rows=_rows(runs))


def _rows(runs: list[ConfigRun]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bench_rows: dict[tuple, dict[str, Any]] = {}
    for run in runs:
        data = run.metrics["data"]
        extra = {
            "synthetic": data["synthetic"],
            "data_fingerprint": data["fingerprint"],
            "run_dir": str(run.run_dir) if run.run_dir is not None else None,
            "config": run.config.name,
            "warmup_dates": data["warmup_dates"],
            "base_currency": data["base_currency"],
            "risk_free": risk_free_text(run.config),
            "assumptions": run.metrics["assumptions"],
        }
        rows.append({**run.metrics["strategy"], **extra})
        cfg = run.config
        for bench, metrics in zip(cfg.benchmarks, run.metrics["benchmarks"], strict=True):
            key = (
                bench.name,
                tuple(sorted(bench.weights.items())),
                bench.rebalance,
                cfg.costs,
                cfg.execution.lag,
                cfg.initial_cash,
                data["fingerprint"],
                metrics["start"],
                metrics["end"],
            )
            if key not in bench_rows:
                bench_rows[key] = {**metrics, **extra}
    return rows + list(bench_rows.values())


def parse_period(text: str | None) -> tuple[dt.date | None, dt.date | None] | None:
    """``2025-01-20:2025-03-17`` (either side may be empty) -> (start, end)."""
    if text is None:
        return None
    left, sep, right = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return (dt.date.fromisoformat(left) if left else None, dt.date.fromisoformat(right) if right else None)
    except ValueError:
        raise UserError(f"--period: expected START:END as YYYY-MM-DD:YYYY-MM-DD, got {text!r}") from None


def compare_job(
    paths: Sequence[str | Path],
    opts: RunOptions,
    *,
    runs: str | None,
    env: Mapping[str, str],
    now: dt.datetime,
    period: tuple[dt.date | None, dt.date | None] | None = None,
    benchmark: str | None = None,
    allow_mixed: bool = False,
    by_year: bool = False,
    reps: int = 2000,
    regime: str | None = None,
    regime_config: Path | None = None,
) -> tuple[Comparison, list[ConfigRun]]:
    """Run (or reuse) the configs, or select stored runs, and compare them."""
    from engine.compare import compare_runs, load_run

    regime_mask = None
    if regime is not None or regime_config is not None:
        if regime is None or regime_config is None:
            raise UserError("--regime EXPR and --regime-config FILE go together (the file defines the signals)")
        regime_mask = regime_series(regime, regime_config, opts, env)

    if paths and runs:
        raise UserError("give config files or --runs, not both")
    if paths:
        report = run_configs(paths, opts, env=env, now=now)
        run_dirs = [r.run_dir for r in report.runs if r.run_dir is not None]
        config_runs = report.runs
    elif runs:
        run_dirs = catalog_for(opts, env).select(runs)
        config_runs = []
    else:
        raise UserError("nothing to compare: give config files or --runs latest|RUN_ID,...")
    stored = [load_run(d) for d in run_dirs]
    if regime_mask is not None and not allow_mixed:
        sources = {r.manifest["data_source"] for r in stored}
        if sources != {regime_mask.attrs["source"]}:
            raise UserError(
                f"the regime is computed on {regime_mask.attrs['source']} data but the runs use "
                f"{', '.join(sorted(sources))}; use the same --source, or --allow-mixed"
            )
    comparison = compare_runs(
        stored,
        period=period,
        benchmark=benchmark,
        allow_mixed=allow_mixed,
        by_year=by_year,
        reps=reps,
        regime=regime_mask,
    )
    return comparison, config_runs


def regime_series(text: str, config_file: Path, opts: RunOptions, env: Mapping[str, str]) -> pd.Series:
    """True on date t where ``text`` held at the close of t-1, from the signals of ``config_file``.

    The expression uses the ``when:`` grammar over that config's signals, with the same NaN rule
    (false while a signal it names is NaN).  Shifting by one date attributes each day's return
    to the regime known before it.
    """
    from engine import expr
    from engine.config import load_config
    from engine.errors import ExpressionError
    from engine.rules import condition_mask
    from engine.signals import signal_lookback

    cfg = _resolve(load_config(config_file), opts, env)
    try:
        cond = expr.parse_condition(text, known=[*cfg.signals, *cfg.params])
    except ExpressionError as exc:
        raise exc.located(file="--regime") from None
    loaded = load_for_config(_provider(cfg, opts, env, {}), cfg, warmup_rows=signal_lookback(cfg.resolved_signals) + 1)
    panel = loaded.panel
    mask = condition_mask(cond, {**compute_signals(cfg.resolved_signals, panel.signal_inputs()), **cfg.params})
    shifted = pd.Series(np.concatenate([[False], mask[:-1]]), index=panel.dates)
    shifted.attrs["source"] = panel.source
    shifted.attrs["text"] = expr.to_text(cond)
    return shifted


def report_job(
    run: str, opts: RunOptions, *, env: Mapping[str, str], output: Path, png_dir: Path | None = None
) -> list[Path]:
    """``seesaw report``: the HTML report of one stored run, written to ``output`` (+ PNGs); the files written.

    ``run``: a run id (or a unique prefix of one), or ``latest``: the most recently created run.
    """
    from engine.compare import load_run
    from engine.report import run_report
    from engine.report.files import report_target, write_report

    browser = report_target(output, png_dir, env)
    catalog = catalog_for(opts, env)
    run_dir = catalog.latest() if run == "latest" else catalog.select_one(run)
    return write_report(run_report(load_run(run_dir)), output, png_dir=png_dir, browser=browser)


def compare_report_job(
    comparison: Comparison,
    rows: Sequence[dict[str, Any]],
    reps: int,
    *,
    env: Mapping[str, str],
    output: Path,
    png_dir: Path | None = None,
) -> list[Path]:
    """``seesaw compare --format html``: the comparison's report written to ``output`` (+ PNGs)."""
    from engine.report import compare_report
    from engine.report.files import report_target, write_report

    browser = report_target(output, png_dir, env)
    return write_report(compare_report(comparison, rows, reps), output, png_dir=png_dir, browser=browser)
