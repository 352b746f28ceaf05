"""Seesaw from Python: run, compare and sweep configs in a notebook and get pandas objects back.

The functions here call the same jobs as the command line (:mod:`engine.jobs`), with the same
options, so a number is the same whichever door it came through, and results are stored the same
way (``results_dir``, the catalog, reuse of identical runs).  They never print; a user's mistake
raises a :class:`~engine.errors.UserError` (the message the CLI would print after ``error:``).

* :func:`load_config` - read and validate one config file;
* :func:`run` - run (or reuse) configs like ``seesaw run``; a :class:`RunSet` of :class:`Run`;
* :func:`compare` - the ``seesaw compare`` table; a :class:`Compared`;
* :func:`sweep` - a config's sweep like ``seesaw sweep``; a :class:`Sweep`.

Every data option of the commands is a keyword here: ``source`` (``"yahoo"``, ``"csv"`` or
``"synthetic"``), ``data_dir``, ``start`` and ``end`` (``"YYYY-MM-DD"`` or dates), ``results_dir``,
``store``, ``force``, ``engine``, ``cache_dir``, ``offline``; ``env`` is the environment the jobs
read (``SEESAW_DATA_DIR``, ``SEESAW_STORE``, ``SEESAW_CACHE_DIR``), by default ``os.environ``.
docs/api.md has a worked example (run by tests/test_api.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args, overload

import pandas as pd

from engine.api_args import (
    check_counts,
    check_env,
    check_flags,
    check_optional_counts,
    check_texts,
    config_paths,
    optional_path,
    runs_text,
)
from engine.compare import Comparison
from engine.config import StrategyConfig
from engine.config import load_config as _load_config
from engine.config.models import DataSpec
from engine.errors import UserError
from engine.jobs.chunk_workers import check_cluster
from engine.jobs.common import RunOptions, parse_date, parse_start
from engine.jobs.compare import compare_job, parse_period, refuse_run_options
from engine.jobs.run import ConfigRun, row_extra, run_configs
from engine.jobs.sweep import SweepOptions, run_sweep, sweep_engines, sweep_top
from engine.output_paths import check_results_dir
from engine.render.text import compare_json, compare_sort, rows_json
from engine.simulate import Engine
from engine.store.rundir import StoredRun, load_run
from engine.store.sweeps import SweepOutcome

__all__ = ["Compared", "Run", "RunSet", "Sweep", "compare", "load_config", "run", "sweep"]

PathLike = str | os.PathLike[str]
DateLike = str | dt.date | None

_SOURCES: tuple[str, ...] = get_args(DataSpec.model_fields["source"].annotation)
_ENGINES: tuple[str, ...] = get_args(Engine)


# -- what the functions return --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One config's stored run, read back from its run directory.

    ``equity`` (value, cash, each asset's value, cash_index), ``weights`` (each asset's
    ``_target`` and ``_actual``, and ``rule``) and ``benchmarks`` (one column per benchmark)
    are indexed by date; ``trades`` has one row per fill.  ``metrics`` has one row for the
    strategy, then one per benchmark, with the keys of ``seesaw run --format json`` (contract
    keys first).  ``stored`` is the whole run directory (prices, quotes, signals, manifest).
    """

    name: str
    config: StrategyConfig
    file: str
    run_dir: Path
    reused: bool
    equity: pd.DataFrame
    weights: pd.DataFrame
    trades: pd.DataFrame
    benchmarks: pd.DataFrame
    metrics: pd.DataFrame
    notes: tuple[str, ...]
    warnings: tuple[str, ...]
    stored: StoredRun

    @property
    def synthetic(self) -> bool:
        """Whether the run used generated prices (``source="synthetic"``), not market history."""
        return bool(self.stored.manifest["synthetic"])


@dataclass(frozen=True)
class RunSet:
    """The runs of one :func:`run` call, in the order the configs were given.

    ``metrics`` is the table ``seesaw run --format json`` prints for the same configs: each
    strategy, then each distinct benchmark once.  Iterate it, take ``len()``, or index it by
    position or by config name (``runs["static_60_40"]``).
    """

    runs: tuple[Run, ...]
    metrics: pd.DataFrame

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __len__(self) -> int:
        return len(self.runs)

    @overload
    def __getitem__(self, key: int | str) -> Run: ...
    @overload
    def __getitem__(self, key: slice) -> tuple[Run, ...]: ...
    def __getitem__(self, key: int | str | slice) -> Run | tuple[Run, ...]:
        if isinstance(key, str):
            for r in self.runs:
                if r.name == key:
                    return r
            raise KeyError(f"no run of config {key!r} (runs: {', '.join(r.name for r in self.runs)})")
        return self.runs[key]

    @property
    def names(self) -> list[str]:
        """The configs' names, in order."""
        return [r.name for r in self.runs]

    @property
    def warnings(self) -> list[str]:
        """Every run's warnings (look-ahead, short warm-up), which the CLI prints under its table."""
        return [w for r in self.runs for w in r.warnings]


@dataclass(frozen=True)
class Compared:
    """What :func:`compare` returns.

    ``table``: one row per strategy, then per distinct benchmark, with the keys and numbers of
    ``seesaw compare --format json`` (its ``"rows"``).  ``comparison``: the
    :class:`engine.compare.Comparison` behind it (window, reference, SPA p-values, each row's
    curve on the common dates).  ``runs``: the runs made or reused for the configs (empty with
    ``runs=``).
    """

    table: pd.DataFrame
    comparison: Comparison
    runs: RunSet

    @property
    def first(self) -> pd.Timestamp:
        """The first date of the common window."""
        return self.comparison.first

    @property
    def last(self) -> pd.Timestamp:
        """The last date of the common window."""
        return self.comparison.last

    @property
    def reference(self) -> str:
        """The reference benchmark of excess return, IR, PSR and SPA."""
        return self.comparison.reference

    @property
    def spa(self) -> dict[str, float]:
        """Hansen's SPA p-values of "no strategy beats the reference" (consistent, lower, upper)."""
        return dict(self.comparison.spa)


@dataclass(frozen=True)
class Sweep:
    """What :func:`sweep` returns.

    ``combinations``: every combination's row (``combo``, the swept keys, their metrics), in grid
    order.  ``top``: the best rows by ``sort`` with their Sharpe 95% interval, PSR and DSR (the
    ``"rows"`` of ``seesaw sweep --format json``).  ``manifest``: the sweep's ``sweep.json``
    (grid, data, PBO and the best combination's DSR; the ``"sweep"`` of the JSON).  A sweep
    stopped by Ctrl-C has ``stopped`` set, its finished combinations only and an empty ``top``:
    call :func:`sweep` again with ``resume=True``.
    """

    config: StrategyConfig
    keys: tuple[str, ...]
    combinations: pd.DataFrame
    top: pd.DataFrame
    manifest: dict[str, Any]
    sweep_dir: Path
    reused: bool
    stopped: bool
    outcome: SweepOutcome

    @property
    def synthetic(self) -> bool:
        """Whether the sweep used generated prices, not market history."""
        return self.outcome.synthetic


# -- the functions --------------------------------------------------------------------------------------------------


def load_config(path: PathLike) -> StrategyConfig:
    """Read, validate and cross-check one config file, as every command does before it runs.

    A problem raises :class:`~engine.errors.ConfigError` (a :class:`~engine.errors.UserError`)
    naming the file, the YAML path and line.

    Example::

        cfg = load_config("configs/corr_breakdown.yaml")
        cfg.name, list(cfg.assets), cfg.data.start
    """
    return _load_config(Path(path))


def run(
    *configs: PathLike,
    source: str | None = None,
    data_dir: PathLike | None = None,
    start: DateLike = None,
    end: DateLike = None,
    results_dir: PathLike = "results",
    store: PathLike | None = None,
    force: bool = False,
    engine: str = "rust",
    cache_dir: PathLike | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
    workers: int | None = None,
) -> RunSet:
    """Run (or reuse) config files like ``seesaw run`` and read each stored run back.

    ``configs`` are YAML files or directories of them.  Every config is validated, loaded and
    simulated before anything is written to ``results_dir``; a config whose resolved form, data
    and code match a stored run reuses it (``force=True`` runs again).  ``workers``: processes
    running the configs (default: the cores, at most 8; this process alone while it runs other
    threads, as a notebook's kernel does); the results do not depend on it.

    Example::

        runs = run("configs/static_60_40.yaml", source="synthetic", start="2015-01-01", end="2016-12-31")
        r = runs["static_60_40"]
        r.equity["value"].plot()
        runs.metrics[["name", "kind", "cagr", "sharpe", "max_drawdown"]]
    """
    check_optional_counts(workers=(workers, 1))
    opts = _options(source, data_dir, start, end, results_dir, store, force, engine, cache_dir, offline)
    opts = dataclasses.replace(opts, workers=workers)
    report = run_configs(config_paths(configs), opts, env=_env(env), now=_now())
    return _run_set(report.runs, report.rows)


def compare(
    *configs: PathLike,
    runs: str | Sequence[str] | None = None,
    period: str | tuple[DateLike, DateLike] | None = None,
    benchmark: str | None = None,
    by_year: bool = False,
    reps: int = 2000,
    sort: str | None = None,
    top: int | None = None,
    allow_mixed: bool = False,
    regime: str | None = None,
    regime_config: PathLike | None = None,
    currency: str | None = None,
    source: str | None = None,
    data_dir: PathLike | None = None,
    start: DateLike = None,
    end: DateLike = None,
    results_dir: PathLike = "results",
    store: PathLike | None = None,
    force: bool = False,
    engine: str = "rust",
    cache_dir: PathLike | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
) -> Compared:
    """Compare strategies on their common window like ``seesaw compare``.

    Give config files (run or reused first, like :func:`run`), or ``runs=`` stored runs: ``"latest"`` (the newest
    run of each config) or run ids (a list, or comma-separated). ``period`` is ``"START:END"`` (either side may be
    empty) or a ``(start, end)`` pair; ``benchmark`` the reference (default ``50/50 monthly``); ``by_year`` adds a
    ``y<year>`` column per calendar year; ``reps`` bootstrap resamples; ``sort``/``top`` as ``--sort``/``--top``;
    ``regime`` (a ``when:`` expression) with ``regime_config`` (the config defining its signals) splits every row's
    returns by regime; ``currency`` (``"USD"`` or ``"HKD"``) shows every run in it (default: the majority's).

    Example::

        c = compare("configs/corr_breakdown.yaml", "configs/static_60_40.yaml", source="synthetic", reps=500)
        c.table.set_index("name")[["sharpe", "sharpe_ci_low", "sharpe_ci_high", "psr", "dsr"]]
        c.spa["consistent"], c.reference, c.first, c.last
    """
    check_counts(reps=(reps, 100))
    check_optional_counts(top=(top, 1))
    check_flags(by_year=by_year, allow_mixed=allow_mixed)
    check_texts(regime=regime, benchmark=benchmark, sort=sort, currency=currency)
    stored = runs_text(runs)
    refuse_run_options(stored, "=", regime=regime_config is not None, source=source, data_dir=data_dir, start=start,
                       end=end, force=force, cache_dir=cache_dir, offline=offline)  # fmt: skip
    opts = _options(source, data_dir, start, end, results_dir, store, force, engine, cache_dir, offline,
                    writes=stored is None)  # fmt: skip
    comparison, config_runs = compare_job(
        config_paths(configs), opts, runs=stored, env=_env(env), now=_now(), period=_period(period),
        benchmark=benchmark, allow_mixed=allow_mixed, by_year=by_year, reps=reps, regime=regime,
        regime_config=optional_path("regime_config", regime_config), currency=currency,
    )  # fmt: skip
    return _compared(comparison, config_runs, sort, top)


def sweep(
    config: PathLike,
    *,
    top: int = 20,
    sort: str = "sharpe",
    max_combos: int = 100_000,
    chunk_size: int | None = None,
    workers: int | None = None,
    reps: int = 1000,
    resume: bool = False,
    cluster: str | None = None,
    source: str | None = None,
    data_dir: PathLike | None = None,
    start: DateLike = None,
    end: DateLike = None,
    results_dir: PathLike = "results",
    store: PathLike | None = None,
    force: bool = False,
    engine: str = "fused",
    cache_dir: PathLike | None = None,
    offline: bool = False,
    env: Mapping[str, str] | None = None,
) -> Sweep:
    """Run (or reuse, or resume) the ``sweep:`` block of a config like ``seesaw sweep``.

    Every combination is evaluated (in chunks of ``chunk_size``, on ``workers`` threads or a Dask ``cluster``) and
    stored under ``results_dir/<config>/sweeps/``; an identical sweep (config, data, code) is reused unless
    ``force=True``. ``top`` rows by ``sort`` get their Sharpe interval (``reps`` resamples), PSR and DSR. ``engine``
    as ``--engine``: "fused" (the compiled scheduler's fills) or "rust"/"numba" (vectorbt re-simulates each chunk).

    Example::

        s = sweep("configs/sweeps/corr_breakdown_sweep.yaml", source="synthetic", top=5, reps=200)
        s.top[["corr_cut", "mom_window", "execution.lag", "sharpe", "psr", "dsr"]]
        s.combinations.pivot_table("sharpe", "mom_window", "corr_cut")
        s.manifest["pbo"]
    """
    vectorbt, simulator = sweep_engines(engine)
    opts = _options(source, data_dir, start, end, results_dir, store, force, vectorbt, cache_dir, offline)
    check_counts(top=(top, 1), max_combos=(max_combos, 1), reps=(reps, 100))
    check_optional_counts(chunk_size=(chunk_size, 1), workers=(workers, 1))
    check_flags(resume=resume)
    sopts = SweepOptions(
        max_combos, chunk_size, resume, check_cluster(cluster, "cluster"), workers=workers, simulator=simulator
    )
    environ = _env(env)
    outcome = run_sweep(config_paths([config], "config")[0], opts, sopts, env=environ, now=_now())
    stopped = outcome.stopped  # a sweep stopped by Ctrl-C: its finished combinations, no top rows
    best = outcome.table.iloc[:0] if stopped else sweep_top(outcome, opts, env=environ, sort=sort, top=top, reps=reps)
    return Sweep(
        config=outcome.cfg,
        keys=tuple(outcome.keys),
        combinations=outcome.table,
        top=best,
        manifest=dict(outcome.manifest),
        sweep_dir=outcome.sweep_dir,
        reused=outcome.reused,
        stopped=outcome.stopped,
        outcome=outcome,
    )


# -- helpers --------------------------------------------------------------------------------------------------------


def _compared(comparison: Comparison, config_runs: Sequence[ConfigRun], sort: str | None, top: int | None) -> Compared:
    """The :class:`Compared` of ``comparison``, its rows ordered and cut by ``sort`` and ``top``."""
    try:
        rows = compare_sort(comparison.rows, sort, top)
    except KeyError as exc:
        raise UserError(f"sort: {exc.args[0]}") from None
    table = pd.DataFrame(json.loads(compare_json(comparison, rows))["rows"])
    return Compared(table=table, comparison=comparison, runs=_run_set(config_runs, None))


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    check_env(env)
    return dict(os.environ if env is None else env)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _date(value: DateLike, name: str) -> dt.date | None:
    """``value`` as a date: a ``date`` (a ``datetime``'s date), or text ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.date() if isinstance(value, dt.datetime) else value
    return parse_date(str(value), name)


def _period(period: str | tuple[DateLike, DateLike] | None) -> tuple[dt.date | None, dt.date | None] | None:
    if period is None or isinstance(period, str):
        return parse_period(period)
    try:
        first, last = period
    except (TypeError, ValueError):
        raise UserError(f"period: expected 'START:END' or a (start, end) pair, got {period!r}") from None
    return _date(first, "period"), _date(last, "period")


def _options(
    source: str | None,
    data_dir: PathLike | None,
    start: DateLike,
    end: DateLike,
    results_dir: PathLike,
    store: PathLike | None,
    force: bool,
    engine: str,
    cache_dir: PathLike | None,
    offline: bool,
    writes: bool = True,
) -> RunOptions:
    """The jobs' options, checked as the command line's parser checks them (``writes``: under ``results_dir``)."""
    check_flags(force=force, offline=offline)
    if source is not None and source not in _SOURCES:
        raise UserError(f"source: expected one of {', '.join(_SOURCES)}, got {source!r}")
    if engine not in _ENGINES:
        raise UserError(f"engine: expected one of {', '.join(_ENGINES)}, got {engine!r}")
    chosen: Engine = "numba" if engine == "numba" else "rust"
    results = optional_path("results_dir", results_dir) or Path("results")
    if writes:
        check_results_dir(results, "results_dir")
    return RunOptions(
        source=source,
        data_dir=optional_path("data_dir", data_dir),
        start=parse_start(start, "start") if isinstance(start, str) else _date(start, "start"),
        end=_date(end, "end"),
        results_dir=results,
        engine=chosen,
        cache_dir=optional_path("cache_dir", cache_dir),
        offline=offline,
        store=optional_path("store", store),
        force=force,
    )


def _table(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Rows as ``--format json`` prints them (contract keys first; NaN and infinities as missing)."""
    return pd.DataFrame(json.loads(rows_json(rows)))


def _run_rows(config_run: ConfigRun, stored: StoredRun) -> list[dict[str, Any]]:
    """The run's rows as ``seesaw run`` builds them: its strategy, then every benchmark (none shared with another
    config's run: ``also_of`` empty)."""
    extra = {**row_extra(config_run), "also_of": []}
    metrics = stored.metrics
    return [{**metrics["strategy"], **extra}, *({**b, **extra} for b in metrics["benchmarks"])]


def _run_set(config_runs: Sequence[ConfigRun], rows: Sequence[dict[str, Any]] | None) -> RunSet:
    """Each run read back from its directory; ``rows`` (the command's table) or every run's rows."""
    out: list[Run] = []
    for r in config_runs:
        if r.run_dir is None:  # pragma: no cover - the API always writes
            raise UserError(f"{r.config.name}: the run was not stored")
        stored = load_run(r.run_dir)
        out.append(
            Run(
                name=r.config.name,
                config=r.config,
                file=r.file,
                run_dir=r.run_dir,
                reused=r.reused,
                equity=stored.equity,
                weights=stored.weights,
                trades=stored.trades,
                benchmarks=stored.benchmarks,
                metrics=_table(_run_rows(r, stored)),
                notes=tuple(r.notes),
                warnings=tuple(r.warnings),
                stored=stored,
            )
        )
    if rows is None:
        table = pd.concat([r.metrics for r in out], ignore_index=True) if out else _table([])
    else:
        table = _table(rows)
    return RunSet(runs=tuple(out), metrics=table)
