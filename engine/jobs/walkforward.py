"""``seesaw walkforward``: select on training windows, run out of sample, store the stitched run.

Steps (pure parts in :mod:`engine.walkforward` and :mod:`engine.sweep`):

1. every combination of the config's grid is simulated over the whole period, in chunks, and
   scored on each fold's training window (``w<fold>:<metric>`` columns, returns inside the
   window only);
2. on each fold the best combination by ``--select`` is chosen from its training scores alone;
3. one out-of-sample run follows the chosen combinations fold by fold
   (:func:`engine.walkforward.stitched_columns`), with the config's benchmarks over the same dates;
4. the run is written like any run, as config ``<name>_walkforward`` (its ``metrics.json`` has a
   ``walkforward`` block: the folds, the chosen values, in- and out-of-sample metrics), so
   ``seesaw compare`` can show it next to the plain configs.

A walk-forward of the same config, data (every row loaded), settings and code as a stored run is not
computed again (:func:`walkforward_job`), nor stored twice when two such commands run together (they
look again under the config's write lock, :mod:`engine.store.write_lock`); what the command shows is read
back from the stored run either way (:func:`load_walkforward`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.config.models import StrategyConfig
from engine.config.params import Grid
from engine.data.panel import LoadedPanel, load_for_config
from engine.errors import UserError
from engine.jobs.common import catalog_for, data_provider, resolve
from engine.jobs.run import resolved_config, run_files
from engine.jobs.run_assumptions import run_warnings
from engine.jobs.sweep import load_sweep_config
from engine.metrics.specs import LOWER_IS_BETTER, WINDOW_METRICS
from engine.pipeline import Allocation, RunResult, benchmark_allocation, run_with_config
from engine.rule_targets import spelled_out
from engine.store import config_hash, new_run_id, write_run
from engine.store.last_run import note_last_run
from engine.store.rundir import code_fingerprint, load_run
from engine.store.write_lock import writing
from engine.sweep import (
    SweepContext,
    chunks,
    evaluate_chunk,
    grid_frame,
    panel_chunk_size,
    prepare,
    setting,
    window_metrics,
)
from engine.walkforward import Fold, duration_text, folds, parse_duration, select, stitched_columns, tied_with_best
from strategies.errors import SignalError

__all__ = [
    "StoredWalkForward",
    "WalkForward",
    "WalkForwardPlan",
    "load_walkforward",
    "plan_walkforward",
    "run_planned",
    "store_walkforward",
    "walkforward_job",
    "walkforward_table",
]


@dataclass(frozen=True)
class WalkForward:
    """A finished walk-forward: its folds, choices, scores and the stitched out-of-sample run."""

    cfg: StrategyConfig
    loaded: LoadedPanel
    keys: tuple[str, ...]
    folds: list[Fold]
    chosen: list[dict[str, Any]]  # the combination chosen on each fold
    table: pd.DataFrame  # every combination, with its training scores
    folds_table: pd.DataFrame  # one row per fold: windows, chosen values, IS and OOS metrics
    results: list[RunResult]  # [stitched strategy, *benchmarks] from the first test date
    select_metric: str
    windows: tuple[str, str, str] = ("", "", "")  # --train, --test and --step as written (``5y``, ``1y``, ``1y``)


@dataclass(frozen=True)
class WalkForwardPlan:
    """A walk-forward's inputs, checked: the config, its grid and data, the folds, and how they are chosen."""

    cfg: StrategyConfig
    grid: Grid
    loaded: LoadedPanel
    folds: list[Fold]
    select_metric: str
    windows: tuple[str, str, str]  # --train, --test and --step as durations (``5y``, ``1y``, ``1y``)


def plan_walkforward(
    path: str | Path,
    resolve: Callable[[StrategyConfig], StrategyConfig],
    load: Callable[[StrategyConfig, int], LoadedPanel],
    *,
    train: str,
    test: str,
    step: str | None,
    select_metric: str,
    max_combos: int = 100_000,
) -> WalkForwardPlan:
    """The config at ``path``, its grid and data loaded and checked, and its folds; a user error otherwise."""
    if select_metric not in WINDOW_METRICS:
        raise UserError(f"--select: expected one of {', '.join(WINDOW_METRICS)}, got {select_metric!r}")
    cfg, g, loaded = load_sweep_config(path, resolve, load, max_combos=max_combos, purpose="choose from")
    dates = loaded.panel.dates[loaded.start :]
    train_off, test_off = parse_duration(train, "--train"), parse_duration(test, "--test")
    step_off = parse_duration(step, "--step") if step else test_off
    fold_list = folds(dates, train_off, test_off, step_off)
    windows = (duration_text(train_off), duration_text(test_off), duration_text(step_off))
    return WalkForwardPlan(cfg, g, loaded, fold_list, select_metric, windows)


def run_planned(
    plan: WalkForwardPlan,
    *,
    engine: str,
    chunk_size: int | None = None,
    evaluate: Callable[[SweepContext, pd.DataFrame, list[np.ndarray]], Any] | None = None,
) -> WalkForward:
    """Steps 1-3 of the module docstring on a planned walk-forward (:func:`plan_walkforward`; writing the run is
    :func:`store_walkforward`'s)."""
    cfg, g, loaded, fold_list, select_metric = plan.cfg, plan.grid, plan.loaded, plan.folds, plan.select_metric
    ctx = prepare(cfg, loaded, engine=engine, windows=[f.train for f in fold_list])  # type: ignore[arg-type]
    combos = list(g)
    table = _scores(ctx, g, chunks(cfg, g, chunk_size or panel_chunk_size(loaded)), evaluate)
    lower = select_metric in LOWER_IS_BETTER
    chosen = [
        combos[int(table["combo"].iloc[select(table, f, select_metric, lower_is_better=lower)])] for f in fold_list
    ]
    settings = [setting(cfg, c) for c in chosen]
    columns = stitched_columns(cfg, ctx, fold_list, settings)
    oos = replace(loaded, start=loaded.start + fold_list[0].test[0])
    targets = spelled_out(columns.targets)[:, 0]  # (n, A): the folds' chosen targets, stitched
    stitched = Allocation("strategy", f"{cfg.name}_walkforward", targets, settings[0].rebalance)
    [strategy] = run_with_config(cfg, [stitched], oos, engine=engine, columns=columns)  # type: ignore[arg-type]
    benches = [benchmark_allocation(b, loaded.panel) for b in cfg.benchmarks]
    results = [strategy, *(run_with_config(cfg, benches, oos, engine=engine) if benches else [])]  # type: ignore[arg-type]
    ties = [int(tied_with_best(table, f, select_metric, lower_is_better=lower).sum()) for f in fold_list]
    folds_table = walkforward_table(ctx, fold_list, chosen, ties, table, strategy, select_metric, g.keys)
    return WalkForward(cfg, loaded, g.keys, fold_list, chosen, table, folds_table, results, select_metric, plan.windows)


def _scores(
    ctx: SweepContext,
    g: Grid,
    parts: list[np.ndarray],
    evaluate: Callable[[SweepContext, pd.DataFrame, list[np.ndarray]], Any] | None,
) -> pd.DataFrame:
    """Every combination's row (its training-window scores), in grid order, with its values (step 1)."""
    frame = grid_frame(g)
    results = (
        evaluate(ctx, frame, parts)
        if evaluate is not None
        else ((i, evaluate_chunk(ctx, frame.iloc[part], part)) for i, part in enumerate(parts))
    )
    tables = []
    for _, result in results:
        part_table = result.table.copy()
        part_table.insert(0, "combo", result.index)
        tables.append(part_table)
    table = pd.concat(tables, ignore_index=True).sort_values("combo", kind="stable").reset_index(drop=True)
    combos = list(g)
    for key in reversed(g.keys):
        table.insert(1, key, [combos[i][key] for i in table["combo"]])
    return table


def walkforward_table(
    ctx: SweepContext,
    fold_list: Sequence[Fold],
    chosen: Sequence[Mapping[str, Any]],
    ties: Sequence[int],
    table: pd.DataFrame,
    strategy: RunResult,
    metric: str,
    keys: Sequence[str],
) -> pd.DataFrame:
    """One row per fold: windows, chosen values, how many combinations tied for the best training score with the
    chosen one (``ties``, itself included), in-sample (training) and out-of-sample (test) metrics.

    In-sample: the chosen combination's scores on its training window.  Out-of-sample: the
    stitched run on the test window, from the previous close, up to ``scored_to``: the test window's end, or,
    with a step shorter than the test, the date before the next fold's test starts (its combination trades
    from there on).
    """
    dates = ctx.dates
    offset = len(dates) - len(strategy.dates)  # the stitched run starts at the first test date
    rows = []
    # a fold's combination trades until the next fold's takes over (sooner than its test end with --step < --test)
    takeover = [f.test[0] for f in fold_list[1:]] + [len(dates)]
    for f, combo, tied, after in zip(fold_list, chosen, ties, takeover, strict=True):
        match = np.ones(len(table), dtype=bool)
        for k in keys:
            match &= (table[k] == combo[k]).to_numpy()
        row_is = table[match].iloc[0]
        last = min(f.test[1], after - 1)
        test = (f.test[0] - offset, last - offset)
        oos = window_metrics(
            dates[offset:], strategy.value[:, None], test, ctx.cfg.initial_cash, ctx.risk_free[offset:]
        )
        row = {
            "fold": f.number,
            **f.describe(dates),
            "scored_to": str(dates[last].date()),
            **{k: combo[k] for k in keys},
            "tied": tied,
        }
        for name in ("sharpe", "cagr", "max_drawdown", metric):
            row[f"is_{name}"] = float(row_is[f"w{f.number}:{name}"])
            row[f"oos_{name}"] = float(np.asarray(oos[name]).ravel()[0])
        rows.append(row)
    return pd.DataFrame(rows)


def load_walkforward_panel(
    cfg: StrategyConfig, opts: Any, env: Mapping[str, str], providers: dict, warmup: int, *, file: str | Path
) -> LoadedPanel:
    """The panel of ``cfg`` (read from ``file``) with ``warmup`` rows, through the command's provider."""
    return load_for_config(data_provider(cfg, opts, env, providers), cfg, warmup_rows=warmup, file=file)


def walkforward_job(
    config: str | Path,
    opts: Any,
    env: Mapping[str, str],
    *,
    train: str,
    test: str,
    step: str | None,
    select_metric: str,
    max_combos: int,
    chunk_size: int | None,
    evaluate: Callable[[SweepContext, pd.DataFrame, list[np.ndarray]], Any] | None,
    now: dt.datetime,
    stored: Callable[[Path], None] | None = None,
) -> StoredWalkForward:
    """``seesaw walkforward``: the stored run of this walk-forward (config, data, settings and code the same)
    reused unless ``opts.force``, else steps 1-4; returns it as stored (:func:`load_walkforward`: every file
    checked), noted as the run ``seesaw report latest`` shows next (:mod:`engine.store.last_run`).  ``stored`` is
    told the run directory once there is one to show (found, or written and indexed), before it is read back."""
    told = stored or (lambda _: None)
    providers: dict = {}
    plan = plan_walkforward(
        config,
        lambda cfg: resolve(cfg, opts, env),
        lambda cfg, warmup: load_walkforward_panel(cfg, opts, env, providers, warmup, file=config),
        train=train,
        test=test,
        step=step,
        select_metric=select_metric,
        max_combos=max_combos,
    )
    catalog = catalog_for(opts, env)
    cfg, resolved = _stored_form(plan.cfg)
    catalog.check_name(cfg.name, str(config))
    key = (
        config_hash({**resolved, "walkforward": _settings(plan.windows, plan.select_metric)}),
        plan.loaded.loaded_key,
        code_fingerprint(),
    )
    found = None if opts.force else catalog.find([key], data="loaded_key")[0]
    if found is None:
        try:
            wf = run_planned(plan, engine=opts.engine, chunk_size=chunk_size, evaluate=evaluate)
        except SignalError as err:  # a signal from another package breaking its contract
            raise err.located(file=str(config)) from None
        # an identical walk-forward started meanwhile may have stored its run: look again under the write lock
        with writing(opts.results_dir, [cfg.name]):
            found = None if opts.force else catalog.find([key], data="loaded_key")[0]
            said = [n for provider in providers.values() for n in getattr(provider, "notes", [])]  # files' repairs
            run_dir = found if found is not None else store_walkforward(wf, opts, env, now, said)
    told(found or run_dir)
    return _shown(found or run_dir, opts, reused=found is not None)


def _shown(run_dir: Path, opts: Any, *, reused: bool) -> StoredWalkForward:
    """The stored walk-forward read back and checked, then noted for ``seesaw report latest`` (a damaged run never
    is)."""
    shown = load_walkforward(run_dir, reused=reused)
    note_last_run(opts.results_dir, run_dir)
    return shown


def _stored_form(cfg: StrategyConfig) -> tuple[StrategyConfig, dict[str, Any]]:
    """The walk-forward's run as stored: config ``<name>_walkforward`` and its resolved form (hashed with the
    settings, so walk-forwards of other settings have other config hashes)."""
    stored = cfg.model_copy(update={"name": f"{cfg.name}_walkforward"})
    return stored, resolved_config(stored)


def _settings(windows: tuple[str, str, str], select_metric: str) -> dict[str, str]:
    """How the folds were made and chosen, as the stored run's ``walkforward`` block and config hash have them."""
    train, test, step = windows
    return {"train": train, "test": test, "step": step, "select": select_metric}


def store_walkforward(
    wf: WalkForward, opts: Any, env: Mapping[str, str], now: dt.datetime, file_notes: Sequence[str] = ()
) -> Path:
    """Write the stitched run as config ``<name>_walkforward`` and index it (step 4); ``file_notes``: what the
    provider noted while reading the data files (a row sorted into place, say), among its data notes as a run's."""
    cfg, resolved = _stored_form(wf.cfg)
    settings = _settings(wf.windows, wf.select_metric)
    # the out-of-sample run starts at the first test date: everything before it is its warm-up
    first_test = wf.loaded.start + wf.folds[0].test[0]
    loaded = replace(wf.loaded, start=first_test)
    # How the folds were made and chosen: hashed with the config, and said in config.yaml's header (its body
    # stays a config Seesaw can validate and run).
    chosen = wf.folds_table["execution.lag"].tolist() if "execution.lag" in wf.folds_table else []
    notes = list(dict.fromkeys([*wf.loaded.panel.notes, *file_notes]))
    warned = run_warnings(cfg, loaded, lags=[int(lag) for lag in chosen])
    files = run_files(cfg, loaded, wf.results, {**resolved, "walkforward": settings}, notes, warned, data_notes=notes)
    described = ", ".join(f"{k} {v}" for k, v in settings.items())
    files = replace(files, resolved_config=resolved, header=[*files.header, f"walk-forward: {described}"])
    files.metrics["walkforward"] = {
        **settings,
        "keys": list(wf.keys),
        "combinations": len(wf.table),
        "folds": wf.folds_table.to_dict(orient="records"),
    }
    catalog = catalog_for(opts, env)
    run_id = new_run_id(now, files.manifest["config_hash"], files.manifest["data_fingerprint"])
    run_dir = write_run(opts.results_dir, run_id, files, created_at=now)
    catalog.record(run_dir)
    return run_dir


@dataclass(frozen=True)
class StoredWalkForward:
    """What ``seesaw walkforward`` shows, read back from the stored run (computed now or reused)."""

    name: str  # the swept config's name (the run's is ``<name>_walkforward``)
    synthetic: bool
    combinations: int
    settings: dict[str, str]  # train, test, step (durations) and select, as stored
    folds: pd.DataFrame  # one row per fold, as ``walkforward_table`` made it
    strategy: dict[str, Any]  # the stitched run's metrics
    benchmarks: list[dict[str, Any]]
    dates: pd.DatetimeIndex  # the stitched run's dates
    run_dir: Path
    reused: bool
    warnings: tuple[str, ...] = ()  # the stitched run's (a fold that chose lag 0: look-ahead)


def load_walkforward(run_dir: Path, *, reused: bool) -> StoredWalkForward:
    """The stored walk-forward run ``run_dir``, every file checked (:func:`engine.store.rundir.load_run`)."""
    run = load_run(run_dir)
    block = run.metrics["walkforward"]
    return StoredWalkForward(
        name=run.name.removesuffix("_walkforward"),
        synthetic=bool(run.manifest.get("synthetic", False)),
        combinations=int(block["combinations"]),
        settings={k: str(block[k]) for k in ("train", "test", "step", "select")},
        folds=pd.DataFrame.from_records(block["folds"]),
        strategy=run.metrics["strategy"],
        benchmarks=run.metrics["benchmarks"],
        dates=pd.DatetimeIndex(run.equity.index),
        run_dir=run_dir,
        reused=reused,
        warnings=tuple(run.warnings),
    )
