"""``seesaw run``, ``validate`` and ``schema``: run configs (or reuse stored runs) and write their results.

Jobs may touch files and the environment (they receive the environment and the clock as
arguments); they never print: :mod:`engine.cli` renders what they return.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engine import __version__
from engine.config import StrategyConfig, load_configs
from engine.data.inputs import input_key
from engine.data.panel import LoadedPanel
from engine.errors import ConfigError
from engine.jobs.common import (
    RunOptions,
    catalog_for,
    data_provider,
    expand_config_paths,
    load_with_notes,
    resolved_configs,
)
from engine.jobs.config_workers import config_steps, default_processes
from engine.jobs.run_assumptions import assumptions, data_block, risk_free_text, run_warnings
from engine.metrics.tearsheet import tearsheet
from engine.pipeline import RunResult, run_config
from engine.store import RunFiles, config_hash, new_run_id, write_run
from engine.store.last_run import note_last_run
from engine.store.rundir import FIRST_RULE, code_fingerprint, dumps_json, read_back, reusable_metrics
from engine.store.write_lock import writing
from strategies.errors import SignalError

if TYPE_CHECKING:
    from engine.simulate import Engine
    from engine.store.catalog import Catalog, DataKey

__all__ = [
    "ConfigRun",
    "RunReport",
    "assumptions",
    "data_block",
    "resolved_config",
    "risk_free_text",
    "row_extra",
    "run_configs",
    "run_files",
    "run_warnings",
    "stored_tearsheet",
    "validate_configs",
]


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
    shared: list[str] = field(default_factory=list)  # the note on benchmark rows of several configs

    @property
    def synthetic(self) -> bool:
        return any(r.synthetic for r in self.runs)


def validate_configs(paths: Sequence[str | Path]) -> list[StrategyConfig]:
    """Load and check every config; the first error raises."""
    return load_configs(expand_config_paths(paths))


def run_files(
    cfg: StrategyConfig,
    loaded: LoadedPanel,
    results: list[RunResult],
    resolved: dict[str, Any],
    notes: list[str],
    warnings: list[str],
    *,
    input_key: str | None = None,
    loaded_key: str | None = None,
    data_notes: Sequence[str] = (),
) -> RunFiles:
    """What :func:`engine.store.write_run` writes for one run; ``results``: the strategy's, then each benchmark's;
    ``input_key``: the key of the files the data was loaded from (:mod:`engine.data.inputs`), if any;
    ``loaded_key``: what the run is reused by (:func:`_reuse_key`; default: the panel's own); ``data_notes``: those
    of ``notes`` about its data (what the data's checks repaired or left out), which ``compare`` shows."""
    s, *benches = results
    tables = _run_tables(s, benches, loaded)
    data = data_block(cfg, loaded)
    chash = config_hash(resolved)
    metrics = {
        "seesaw_version": __version__,
        "config_hash": chash,
        "data": data,
        "strategy": s.metrics,
        "benchmarks": [b.metrics for b in benches],
        "tearsheet": stored_tearsheet(tables, s.trades, s.metrics, cfg.initial_cash),
        "rules": list(s.rule_labels),
        "assumptions": assumptions(cfg, loaded),
        "warnings": warnings,
        "notes": notes,
        "data_notes": list(data_notes),
    }
    label = " (SYNTHETIC)" if loaded.panel.synthetic else ""
    header = [
        f"resolved config written by seesaw {__version__}",
        f"data: {loaded.panel.source}{label}, fingerprint {loaded.fingerprint}",
    ]
    return RunFiles(
        config_name=cfg.name,
        resolved_config=resolved,
        header=header,
        metrics=metrics,
        equity=tables["equity"],
        weights=tables["weights"],
        trades=s.trades,
        benchmarks=tables["benchmarks"],
        prices=tables["prices"],
        manifest={
            **_manifest(cfg, loaded, s, data["symbols"], chash),
            "input_key": input_key,
            "loaded_key": loaded_key or loaded.loaded_key,
        },
        quotes=tables["quotes"],
        signals=tables["signals"],
        fx=tables["fx"],
    )


def stored_tearsheet(
    tables: Mapping[str, pd.DataFrame], trades: pd.DataFrame, strategy: Mapping[str, Any], initial: float
) -> dict[str, Any]:
    """The strategy's tear sheet (:func:`engine.metrics.tearsheet.tearsheet`) from the tables as they are stored,
    so that recomputing it from the run directory gives the same numbers."""
    frames = {n: read_back(tables[n], n) for n in ("equity", "weights", "prices", "quotes", "fx")}
    return tearsheet(
        frames["equity"],
        frames["weights"],
        frames["prices"],
        read_back(trades, "trades"),
        initial=initial,
        assets=list(strategy["avg_weight"]),
        periods_per_year=strategy["periods_per_year"],
        quotes=frames["quotes"],
        fx=frames["fx"],
        financing=strategy.get("financing"),
    )


def _run_tables(s: RunResult, benches: Sequence[RunResult], loaded: LoadedPanel) -> dict[str, pd.DataFrame]:
    """The run's tables by name (equity, weights, benchmarks, prices, quotes, signals, fx), a row per run date."""
    equity = pd.DataFrame({"date": s.dates.strftime("%Y-%m-%d"), "value": s.value, "cash": s.cash})
    weights = pd.DataFrame({"date": equity["date"]})
    for j, a in enumerate(s.assets):
        equity[a] = s.asset_value[:, j]
        weights[f"{a}_target"] = s.target[:, j]
        weights[f"{a}_actual"] = s.weights[:, j]
    equity["cash_index"] = s.cash_index  # value of one unit of cash: interest is its growth
    if s.rule is not None:
        weights["rule"] = s.rule + FIRST_RULE  # numbered as the report and the docs number rules: 1 is the first
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
    fx = pd.DataFrame({"date": equity["date"]})
    factor = loaded.panel.fx_factor()[loaded.start :]  # base-currency value of one unit of each asset's currency
    for j, a in enumerate(s.assets):
        fx[a] = factor[:, j]
    return {
        "equity": equity,
        "weights": weights,
        "benchmarks": benchmarks,
        "prices": prices,
        "quotes": quotes,
        "signals": signals,
        "fx": fx,
    }


def _manifest(
    cfg: StrategyConfig, loaded: LoadedPanel, s: RunResult, symbols: dict[str, str], chash: str
) -> dict[str, Any]:
    """``run.json``'s content but the run id, creation time and status (added when the run is written)."""
    return {
        "config_name": cfg.name,
        "config_hash": chash,
        "data_fingerprint": loaded.fingerprint,
        "data_source": loaded.panel.source,
        "symbols": symbols,
        "synthetic": loaded.panel.synthetic,
        "seesaw_version": __version__,
        "code_hash": code_fingerprint(),
        "start": s.metrics["start"],
        "end": s.metrics["end"],
        "rule_base": FIRST_RULE,
    }


def resolved_config(cfg: StrategyConfig) -> dict[str, Any]:
    """The config a run stores in ``config.yaml`` and hashes for reuse: every field, with each asset's
    ``currency``, ``price`` and ``instrument`` the values the run used (as ``metrics.json``'s data block
    reports them) where the file left them to their defaults.

    Only for storing: the defaults depend on other fields (``price`` on ``data.price``, ``instrument``
    on ``symbol``), so a config to run or sweep is never rebuilt from this.
    """
    out = cfg.model_dump(mode="json")
    for name, asset in out["assets"].items():
        spec = cfg.assets[name]
        asset.update(currency=spec.quote_currency, price=cfg.price_of(name), instrument=spec.kind)
    return out


def run_configs(
    paths: Sequence[str | Path], opts: RunOptions, *, env: Mapping[str, str], now: dt.datetime
) -> RunReport:
    """Validate every config first, then run (or reuse) each and store what is new.

    A config whose resolved form, data and code match a stored complete run reuses it (its metrics are read back)
    unless ``opts.force``. The data is matched first by the key of the files a load would read
    (:mod:`engine.data.inputs`), so such a config's data is not even loaded; the others are loaded and matched by
    every row loaded, warm-up included (:attr:`LoadedPanel.loaded_key`). Nothing is written until every config has
    been validated, loaded and simulated, and every run to reuse checked whole.
    """
    configs = resolved_configs(paths, opts, env)
    catalog = _catalog(configs, opts, env)
    providers: dict = {}
    resolved = [resolved_config(cfg) for _, cfg in configs]
    hashes, code = [config_hash(r) for r in resolved], code_fingerprint()
    keys = [input_key(cfg, data_provider(cfg, opts, env, providers)) for _, cfg in configs]
    reuse = catalog is not None and not opts.force
    stored = _find(catalog, [(h, k, code) for h, k in zip(hashes, keys, strict=True)], "input_key", reuse)
    todo = [i for i, found in enumerate(stored) if found is None]
    # what each config's steps leave for its next step, in the process that runs them (engine/jobs/config_workers.py)
    inputs: dict[int, tuple[LoadedPanel, list[str]]] = {}
    pending: dict[int, RunFiles] = {}

    def load(i: int, _: None) -> tuple[str, str]:
        inputs[i] = _load(*configs[i], opts, env, providers)
        return inputs[i][0].fingerprint, _reuse_key(*inputs[i], configs[i][1].data.source)

    def simulate(i: int, _: None) -> dict[str, Any]:
        pending[i] = _simulated(*configs[i], *inputs.pop(i), resolved[i], keys[i], opts.engine)
        return pending[i].metrics

    def write(i: int, run_id: str) -> Path:
        return write_run(opts.results_dir, run_id, pending.pop(i), created_at=now)

    workers = _worker_count(opts, len(todo))
    # Yahoo's provider downloads and notes a symbol once per command: loaded here, before the fork, as one process
    here = workers > 1 and any(configs[i][1].data.source == "yahoo" for i in todo)
    fingerprints = {i: load(i, None) for i in todo} if here else {}
    with config_steps([load, simulate, write], workers, hashes.__getitem__, lambda i: str(configs[i][0])) as steps:
        fingerprints = fingerprints or dict(zip(todo, steps.map(load, todo), strict=True))
        data_keys = {i: (hashes[i], fingerprints[i][1], code) for i in todo}  # the loaded data's
        kept = {i: reusable_metrics(found) for i, found in enumerate(stored) if found is not None}  # whole, or refused
        new = _found_by_data(catalog, data_keys, stored, kept, reuse)
        metrics = dict(zip(new, steps.map(simulate, new), strict=True))
        with writing(opts.results_dir, [configs[i][1].name for i in new] * (catalog is not None), stop=steps.close):
            new = _found_by_data(catalog, {i: data_keys[i] for i in new}, stored, kept, reuse)  # stored meanwhile?
            ids = [new_run_id(now, hashes[i], fingerprints[i][0]) for i in new]
            written = dict(zip(new, steps.map(write, new, ids), strict=True)) if catalog is not None else {}
    runs = [
        ConfigRun(cfg, str(file), written.get(i), metrics[i])
        if found is None
        else ConfigRun(cfg, str(file), found, kept[i], reused=True)
        for i, ((file, cfg), found) in enumerate(zip(configs, stored, strict=True))
    ]
    if catalog is not None:
        _record(catalog, [written[i] for i in new], runs, opts.results_dir)
    return RunReport(runs, *_rows(runs))


def _record(catalog: Any, written: list[Path], runs: list[ConfigRun], results_dir: Path) -> None:
    """Index the runs ``written``, and note the last config's run, written or reused, as the one ``seesaw report
    latest`` shows next (:mod:`engine.store.last_run`)."""
    catalog.record(*written)
    if runs and runs[-1].run_dir is not None:
        note_last_run(results_dir, runs[-1].run_dir)


def _catalog(configs: Sequence[tuple[Path, StrategyConfig]], opts: RunOptions, env: Mapping[str, str]) -> Any:
    """The catalog a writing run records in (None when it writes nothing), every config's name checked usable."""
    catalog = catalog_for(opts, env) if opts.write else None
    if catalog is not None:
        for file, cfg in configs:
            catalog.check_name(cfg.name, str(file))
    return catalog


def _worker_count(opts: RunOptions, configs: int) -> int:
    """Processes for ``configs`` configs to run (1: this one); with more, vectorbt is imported here first, once,
    not once in each worker (1.5 s)."""
    workers = min(opts.workers or default_processes(configs), configs)
    if workers > 1:
        import engine.execution_nb  # noqa: F401

    return workers


def _simulated(
    file: Path,
    cfg: StrategyConfig,
    loaded: LoadedPanel,
    data_notes: list[str],
    resolved: dict[str, Any],
    key: str | None,
    engine: Engine,
) -> RunFiles:
    """What a new run of ``cfg`` writes: simulated on ``loaded``, its tables and metrics."""
    try:
        results = run_config(cfg, loaded, engine=engine)
    except (ConfigError, SignalError) as err:  # a value the data cannot support; a plugin breaking its contract
        raise err.located(file=str(file)) from None
    on_data = [*loaded.panel.notes, *data_notes]
    warned = run_warnings(cfg, loaded, results[0].incomplete)
    reuse = _reuse_key(loaded, data_notes, cfg.data.source)
    return run_files(
        cfg, loaded, results, resolved, [*on_data, *results[0].notes], warned,
        input_key=key, loaded_key=reuse, data_notes=on_data,
    )  # fmt: skip


def _reuse_key(loaded: LoadedPanel, data_notes: Sequence[str], source: str) -> str:
    """What a loaded config's stored run is matched by: every row it reads and the notes its load made
    (:attr:`LoadedPanel.loaded_key`), with the notes of the files it parsed (a row sorted into place, a cut
    last line), so a file repaired in a new way runs again.  Not Yahoo's: they say when data was downloaded."""
    if source == "yahoo" or not data_notes:
        return loaded.loaded_key
    return hashlib.sha256("\n".join([loaded.loaded_key, *data_notes]).encode()).hexdigest()[:16]


def _found_by_data(
    catalog: Catalog | None,
    keys: Mapping[int, tuple[str, str | None, str]],
    stored: list[Path | None],
    kept: dict[int, dict[str, Any]],
    reuse: bool,
) -> list[int]:
    """Of the configs ``keys`` names (i: config hash, loaded data's key, code), those still to simulate or write: a
    stored run of the same config, data and code is reused instead, set in ``stored`` and ``kept`` (its metrics,
    checked whole).  Asked once the data is loaded, and again under the write lock just before writing, for a run
    another command stored while this one simulated (:mod:`engine.store.write_lock`)."""
    for i, found in zip(keys, _find(catalog, list(keys.values()), "loaded_key", reuse), strict=True):
        if found is not None:
            stored[i], kept[i] = found, reusable_metrics(found)
    return [i for i in keys if stored[i] is None]


def _find(
    catalog: Catalog | None,
    keys: list[tuple[str, str | None, str]],
    data: DataKey,
    reuse: bool,
) -> list[Path | None]:
    """:meth:`Catalog.find` of the keys whose data key is known, None for the others (and for all
    without ``reuse``)."""
    known = {i: (h, k, code) for i, (h, k, code) in enumerate(keys) if k is not None}
    found: list[Path | None] = [None] * len(keys)
    if catalog is None or not reuse or not known:
        return found
    for i, run_dir in zip(known, catalog.find(list(known.values()), data=data), strict=True):
        found[i] = run_dir
    return found


def _load(
    file: Path, cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str], providers: dict
) -> tuple[LoadedPanel, list[str]]:
    """``cfg``'s data as a run loads it, and the notes its provider added while loading it (:func:`load_with_notes`)."""
    return load_with_notes(data_provider(cfg, opts, env, providers), cfg, file)


def row_extra(run: ConfigRun) -> dict[str, Any]:
    """What every table row of ``run`` (its strategy and each benchmark) carries besides its metrics."""
    data = run.metrics["data"]
    return {
        "synthetic": data["synthetic"],
        "data_fingerprint": data["fingerprint"],
        "run_dir": str(run.run_dir) if run.run_dir is not None else None,
        "config": run.config.name,
        "warmup_dates": data["warmup_dates"],
        "base_currency": data["base_currency"],
        "risk_free": risk_free_text(run.config),
        "assumptions": run.metrics["assumptions"],
        "warnings": run.warnings,  # a look-ahead config, say
        "notes": run.notes,  # what the data's checks repaired or left out
    }


def _rows(runs: list[ConfigRun]) -> tuple[list[dict[str, Any]], list[str]]:
    """Each config's strategy row, then each distinct benchmark row (:func:`benchmarks_once`), and its note."""
    strategies: list[dict[str, Any]] = []
    benchmarks: list[dict[str, Any]] = []
    for run in runs:
        extra = row_extra(run)
        strategies.append({**run.metrics["strategy"], **extra})
        benchmarks += [{**metrics, **extra} for metrics in run.metrics["benchmarks"]]
    return benchmarks_once(strategies + benchmarks)


#: The keys of a row that name its config rather than measure it.
_PER_CONFIG = frozenset({"config", "run_dir", "warmup_dates", "assumptions", "warnings", "notes"})


def benchmarks_once(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """``rows`` with a benchmark of several configs whose every number is the same (money, cash rate, data and
    metrics) once, under the first config holding it, its ``also_of`` naming the others (empty on every other
    row); and the note saying so."""
    kept: dict[str, dict[str, Any]] = {}
    out = []
    for row in rows:
        if row["kind"] != "benchmark":
            out.append({**row, "also_of": []})
            continue
        key = dumps_json({k: v for k, v in row.items() if k not in _PER_CONFIG})  # NaN as null, as a reused run's
        if key not in kept:
            kept[key] = row = {**row, "also_of": []}
            out.append(row)
        elif row["config"] != kept[key]["config"] and row["config"] not in kept[key]["also_of"]:
            kept[key]["also_of"].append(row["config"])
    by_configs: dict[tuple[str, ...], list[str]] = {}
    for row in kept.values():
        if row["also_of"]:
            by_configs.setdefault((row["config"], *row["also_of"]), []).append(repr(row["name"]))
    notes = [
        f"{'Benchmark' if len(benches) == 1 else 'Benchmarks'} {', '.join(benches)} of {names[0]} "
        f"{'is also that' if len(benches) == 1 else 'are also those'} of {', '.join(names[1:])} (every number the "
        "same): shown once."
        for names, benches in by_configs.items()
    ]
    return out, notes
