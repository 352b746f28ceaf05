"""One function per command: read configs and data, call the pipeline, write results.

This module may touch files and the environment (it receives the
environment and the clock as arguments); it never prints: the CLI renders
what it returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine import __version__
from engine.config import StrategyConfig, load_configs
from engine.config.models import DataSpec
from engine.data.base import Provider
from engine.data.panel import LoadedPanel, load_panel
from engine.errors import ConfigError
from engine.pipeline import RunResult, required_warmup, run_config
from engine.simulate import Engine
from engine.store import RunFiles, config_hash, new_run_id, write_run

__all__ = [
    "DEFAULT_DATA_DIR",
    "ConfigRun",
    "RunOptions",
    "RunReport",
    "config_schema",
    "expand_config_paths",
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


@dataclass(frozen=True)
class ConfigRun:
    """One config's strategy run, its benchmarks and where they were written."""

    config: StrategyConfig
    file: str
    loaded: LoadedPanel
    strategy: RunResult
    benchmarks: list[RunResult]
    run_dir: Path | None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def synthetic(self) -> bool:
        return self.loaded.panel.synthetic


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
            out += sorted(p.glob("*.yaml"))
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
    resolved = DataSpec.model_validate({**data.model_dump(), **update})
    return cfg.model_copy(update={"data": resolved})


def _provider(cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str], cache: dict) -> Provider:
    data = cfg.data
    if data.source == "synthetic":
        markets = {a.symbol: a.market for a in cfg.assets.values()}
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


def _benchmark_key(cfg: StrategyConfig, bench_result: RunResult, fingerprint: str, bench: Any) -> tuple:
    return (
        bench.name,
        tuple(sorted(bench.weights.items())),
        bench.rebalance,
        cfg.costs,
        cfg.execution.lag,
        cfg.initial_cash,
        fingerprint,
        bench_result.metrics["start"],
        bench_result.metrics["end"],
    )


def _files(run: ConfigRun, resolved: dict[str, Any]) -> RunFiles:
    s = run.strategy
    equity = pd.DataFrame({"date": s.dates.strftime("%Y-%m-%d"), "value": s.value, "cash": s.cash})
    weights = pd.DataFrame({"date": equity["date"]})
    for j, a in enumerate(s.assets):
        equity[a] = s.asset_value[:, j]
        weights[f"{a}_target"] = s.target[:, j]
        weights[f"{a}_actual"] = s.weights[:, j]
    if s.rule is not None:
        weights["rule"] = s.rule
    benchmarks = pd.DataFrame({"date": equity["date"]})
    for b in run.benchmarks:
        benchmarks[b.name] = b.value
    metrics = {
        "seesaw_version": __version__,
        "config_hash": config_hash(resolved),
        "data": _data_block(run),
        "strategy": s.metrics,
        "benchmarks": [b.metrics for b in run.benchmarks],
        "rules": list(s.rule_labels),
        "warnings": run.warnings,
        "notes": run.notes,
    }
    label = " (SYNTHETIC)" if run.synthetic else ""
    header = [
        f"resolved config written by seesaw {__version__}",
        f"data: {run.loaded.panel.source}{label}, fingerprint {run.loaded.fingerprint}",
    ]
    return RunFiles(
        config_name=run.config.name,
        resolved_config=resolved,
        header=header,
        metrics=metrics,
        equity=equity,
        weights=weights,
        trades=s.trades,
        benchmarks=benchmarks,
    )


def _data_block(run: ConfigRun) -> dict[str, Any]:
    p = run.loaded.panel
    return {
        "source": p.source,
        "synthetic": p.synthetic,
        "fingerprint": run.loaded.fingerprint,
        "symbols": dict(zip(p.assets, p.symbols, strict=True)),
        "price": p.price_field,
        "warmup_dates": run.loaded.warmup_used,
        "warmup_needed": run.loaded.warmup_needed,
        "first_date": str(p.dates[run.loaded.start].date()),
        "last_date": str(p.dates[-1].date()),
    }


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


def run_configs(
    paths: Sequence[str | Path], opts: RunOptions, *, env: Mapping[str, str], now: dt.datetime
) -> RunReport:
    """Validate every config first, then run each and write its results directory."""
    files = expand_config_paths(paths)
    configs = [_resolve(c, opts, env) for c in load_configs(files)]
    providers: dict = {}
    runs: list[ConfigRun] = []
    for file, cfg in zip(files, configs, strict=True):
        provider = _provider(cfg, opts, env, providers)
        notes_before = len(getattr(provider, "notes", []))
        loaded = load_panel(
            provider,
            cfg.assets,
            price_field=cfg.data.price,
            start=cfg.data.start,
            end=cfg.data.end,
            warmup_rows=required_warmup(cfg),
        )
        strategy, *benchmarks = run_config(cfg, loaded, engine=opts.engine)
        notes = [*loaded.panel.notes, *getattr(provider, "notes", [])[notes_before:], *strategy.notes]
        run = ConfigRun(cfg, str(file), loaded, strategy, benchmarks, None, notes, _warnings(cfg, loaded))
        runs.append(run)
    written: list[ConfigRun] = []
    for run in runs:
        run_dir = None
        if opts.write:
            resolved = run.config.model_dump(mode="json")
            run_id = new_run_id(now, config_hash(resolved), run.loaded.fingerprint)
            run_dir = write_run(opts.results_dir, run_id, _files(run, resolved), created_at=now)
        written.append(
            ConfigRun(
                run.config,
                run.file,
                run.loaded,
                run.strategy,
                run.benchmarks,
                run_dir,
                run.notes,
                run.warnings,
            )
        )
    return RunReport(runs=written, rows=_rows(written))


def _rows(runs: list[ConfigRun]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bench_rows: dict[tuple, dict[str, Any]] = {}
    for run in runs:
        fp = run.loaded.fingerprint
        extra = {
            "synthetic": run.synthetic,
            "data_fingerprint": fp,
            "run_dir": str(run.run_dir) if run.run_dir is not None else None,
            "config": run.config.name,
            "warmup_dates": run.loaded.warmup_used,
        }
        rows.append({**run.strategy.metrics, **extra})
        for bench, result in zip(run.config.benchmarks, run.benchmarks, strict=True):
            key = _benchmark_key(run.config, result, fp, bench)
            if key not in bench_rows:
                bench_rows[key] = {**result.metrics, **extra}
    return rows + list(bench_rows.values())
