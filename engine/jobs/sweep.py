"""``seesaw sweep``: run a config's grid in chunks, keep every finished chunk, store the sweep (the I/O; the pure
evaluation is :mod:`engine.sweep`).  A sweep is written like a run:

* while it runs, in ``RESULTS/<config>/sweeps/.partial-<sweep-id>/``: ``meta.json`` (the grid, the chunking) and
  one ``chunk-NNNNN.parquet`` + ``chunk-NNNNN.npz`` per finished chunk, each written to a temporary name and
  renamed, so a chunk file is complete or absent.  Ctrl-C (or a kill) keeps the finished chunks; ``--resume``
  evaluates only the missing ones.
* when every chunk is done: ``combos.parquet`` (every combination: its values and metrics), ``blocks.npz``
  (per-block sums of daily excess returns, for the overfitting statistics), ``config.yaml`` and ``sweep.json``
  (manifest and the overfitting statistics) are written and the directory is renamed to
  ``RESULTS/<config>/sweeps/<sweep-id>/``, then indexed in the catalog.

The sweep id hashes the resolved config (sweep block included), the data fingerprint and Seesaw's code, so a
changed config, data or code is a new sweep; an unchanged one is reused.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd

from engine import __version__
from engine import metrics as m
from engine.config import load_config
from engine.config.models import StrategyConfig
from engine.config.params import Grid, grid
from engine.data.panel import LoadedPanel, load_for_config
from engine.errors import StoreError, UserError
from engine.jobs.chunk_workers import default_workers, evaluate_chunks
from engine.jobs.chunk_writer import ChunkWriter, Written
from engine.jobs.common import catalog_for, data_provider
from engine.jobs.common import resolve as resolve_data
from engine.jobs.sweep_stats import overfitting_stats
from engine.memory import release_freed_memory
from engine.metrics.row_stats import row_statistics
from engine.simulate import Engine
from engine.store.chunk_assembly import ChunkAssembly
from engine.store.rundir import code_fingerprint, dumps_json, write_atomic
from engine.store.sweeps import (
    SweepOutcome,
    chunk_files,
    clear_staging,
    done_chunks,
    held,
    load_sweep,
    put_in_place,
    running,
    save_chunk,
    stopped_elsewhere,
    stopped_lines,
    stopped_meta,
    write_blocks,
    write_sweep,
)
from engine.sweep import (
    BLOCKS,
    ChunkResult,
    SweepContext,
    check_usable,
    chunks,
    evaluate_chunk,
    grid_frame,
    panel_chunk_size,
    prepare,
    rank_combinations,
    sweep_id,
    sweep_warmup,
)
from engine.sweep_memory import available_bytes, kept_bytes, memory_note
from engine.sweep_setting import warmup_notes
from strategies.errors import SignalError

__all__ = [
    "FUSED",
    "SweepOptions",
    "load_sweep_config",
    "run_sweep",
    "sweep_engines",
    "sweep_job",
    "sweep_top",
]


@dataclass(frozen=True)
class SweepOptions:
    """What ``seesaw sweep`` adds to the run options."""

    max_combos: int = 100_000
    chunk_size: int | None = None
    resume: bool = False
    cluster: str | None = None  # None: in process; "local": a LocalCluster; "tcp://host:port": a scheduler
    reference: str | None = None
    workers: int | None = None  # threads in process (default: the cores it may use, at most 8)
    simulator: Engine | None = None  # the chunks' fills: None the scheduler's own, else vectorbt on that engine


#: ``--engine``'s value for the scheduler's own fills (:attr:`engine.sweep.SweepContext.simulator` None)
FUSED = "fused"


def sweep_engines(engine: str) -> tuple[Engine, Engine | None]:
    """(vectorbt's engine for the reference benchmark, the chunks' simulator) of a sweep's ``--engine``:
    ``fused`` is rust and the scheduler's own fills, ``rust``/``numba`` that engine for both."""
    if engine == FUSED:
        return "rust", None
    for vectorbt in get_args(Engine):
        if engine == vectorbt:
            return vectorbt, vectorbt
    raise UserError(f"engine: expected one of {FUSED}, {', '.join(get_args(Engine))}, got {engine!r}")


ProgressFn = Callable[[int, int, int, int], None]  # (chunks done, chunks total, combinations done, total)


def sweep_job(
    path: str | Path,
    resolve: Callable[[StrategyConfig], StrategyConfig],
    load: Callable[[StrategyConfig, int], LoadedPanel],
    *,
    results_dir: Path,
    options: SweepOptions,
    engine: str,
    now: dt.datetime,
    force: bool = False,
    progress: ProgressFn | None = None,
    record: Callable[[Path], None] | None = None,
    say: Callable[[str], None] | None = None,
    stage: Callable[[str, Path], None] | None = None,
) -> SweepOutcome:
    """Run (or reuse, or resume) the sweep of the config at ``path`` (module docstring).  ``resolve`` applies the
    command line to the config; ``load`` loads its panel with a given warm-up; ``record`` indexes a finished sweep
    directory in the catalog; ``say`` is told, before any chunk is computed, what the user should know of stopped
    sweeps (:func:`engine.store.sweeps.stopped_lines`); ``stage``, with the sweep's directory, ``computing`` once
    chunks are kept (before the first, or those a resumed sweep kept) and ``stored`` once in place, or reused
    (what Ctrl-C says depends on it).  While computing it, this process holds the sweep
    (:func:`engine.store.sweeps.held`): a second command of it is refused in one line."""
    cfg, g, loaded = load_sweep_config(path, resolve, load, max_combos=options.max_combos)
    sid = sweep_id(cfg, loaded.loaded_key, code_fingerprint(), options.simulator)  # the rows it reads, warm-up too
    parent = results_dir.resolve() / cfg.name / "sweeps"  # printed and stored as one path, as runs are
    final, staging = parent / sid, parent / f".partial-{sid}"
    told = stage or (lambda _stage, _final: None)
    stopped_here = (staging / "meta.json").is_file()  # a stopped run of this very sweep (a --force run, say)
    if final.is_dir() and (final / "sweep.json").is_file() and not force and not (options.resume and stopped_here):
        told("stored", final)
        outcome = load_sweep(final)
        if say is not None and stopped_here and not running(staging):
            say(
                f"a stopped run of this same sweep is in {staging}: the stored sweep is shown; --resume finishes "
                "the stopped one instead, or remove the directory to free its space"
            )
        return dataclasses.replace(outcome, cfg=cfg, loaded=loaded, reused=True)

    def stored(sweep_dir: Path) -> None:  # called once the sweep is in place
        told("stored", sweep_dir)
        if record is not None:
            record(sweep_dir)

    with held(staging):
        if not force and (staging / "sweep.json").is_file():  # stopped once written whole, before put in place
            outcome = load_sweep(staging)  # every file checked against its sum
            put_in_place(staging, final, chunks=outcome.chunks_total)
            stored(final)
            return dataclasses.replace(outcome, sweep_dir=final, cfg=cfg, loaded=loaded, reused=True)
        nothing_to_resume = options.resume and not (staging / "meta.json").is_file()
        meta = _staging_meta(staging, cfg, g, loaded, options, resume=options.resume, force=force)
        if say is not None:  # the other stopped sweeps are looked for only when someone is told of them
            for line in stopped_lines(cfg.name, nothing_to_resume, stopped_elsewhere(staging, meta)):
                say(line)
            if note := memory_note(kept_bytes(g.size, len(g.keys)), available_bytes()):
                say(note)
        told("computing" if options.resume and not (force or nothing_to_resume) else "preparing", final)
        ctx = prepare(cfg, loaded, engine=engine, reference=options.reference, simulator=options.simulator)  # type: ignore[arg-type]
        told("computing", final)  # from here on Ctrl-C keeps the chunks finished
        return _computed(ctx, g, meta, (staging, final), options, now=now, progress=progress, record=stored)


def _computed(
    ctx: SweepContext,
    g: Grid,
    meta: dict[str, Any],
    dirs: tuple[Path, Path],
    options: SweepOptions,
    *,
    now: dt.datetime,
    progress: ProgressFn | None,
    record: Callable[[Path], None] | None,
) -> SweepOutcome:
    """The sweep's chunks not yet in the staging directory computed, then the sweep stored in the final one
    (``dirs``: staging, final); stopped by Ctrl-C, what was finished, kept."""
    cfg, loaded, (staging, final) = ctx.cfg, ctx.loaded, dirs
    combos_frame = grid_frame(g)
    parts = chunks(cfg, g, int(meta["chunk_size"]))
    done, assembly, finished = _kept_chunks(staging, parts, g.size)
    todo = [i for i in range(len(parts)) if i not in done]
    if progress:
        progress(len(done), len(parts), finished, g.size)

    def written(combinations: int) -> None:
        nonlocal finished
        finished += combinations
        if progress:
            progress(len(done), len(parts), finished, g.size)

    evaluated = evaluate_chunks(ctx, combos_frame, parts, todo, options.cluster, options.workers or default_workers())
    save = functools.partial(save_chunk, staging, combos=combos_frame)
    if not _save_chunks(evaluated, save, assembly, done, written):
        # what --resume will find: Ctrl-C may land after a chunk's files were written, before it was counted;
        # the assembly's files given back first, not held twice
        del assembly
        done, assembly, _ = _kept_chunks(staging, parts, g.size)
        table = assembly.table() if done else combos_frame.iloc[:0]
        manifest = {**meta, "status": "stopped", "chunks_done": len(done)}
        return SweepOutcome(cfg, g.keys, table, staging, manifest, loaded, len(done), len(parts), stopped=True)
    release_freed_memory()  # the chunks' reused arrays given back: the statistics allocate others (engine/memory.py)
    table, blocks = assembly.table(), assembly.blocks
    del assembly
    manifest = _finish(staging, final, ctx, meta, table, blocks, now)
    if record is not None:
        record(final)
    resumed = len(parts) - len(todo)
    return SweepOutcome(
        cfg, g.keys, table, final, manifest, loaded, len(parts), len(parts), ctx=ctx, chunks_resumed=resumed
    )


def _kept_chunks(staging: Path, parts: list[np.ndarray], size: int) -> tuple[set[int], ChunkAssembly, int]:
    """The chunks a stopped sweep in ``staging`` finished, the assembly of the ``size`` rows (in grid order,
    filled as chunks finish) with theirs read back, and how many combinations they hold."""
    done = done_chunks(staging, len(parts))
    assembly = ChunkAssembly(size, BLOCKS, spill=staging)  # on disk: a grid is not bounded by memory
    for number in sorted(done):
        assembly.read(*chunk_files(staging, number))
    return done, assembly, sum(len(parts[i]) for i in done)


def _save_chunks(
    evaluated: Iterator[tuple[int, ChunkResult]],
    save: Callable[[int, ChunkResult], pd.DataFrame],
    assembly: ChunkAssembly,
    done: set[int],
    written: Callable[[int], None],
) -> bool:
    """Save each evaluated chunk on the writer's thread (engine/jobs/chunk_writer.py); once its files are
    written, add it to ``assembly`` and ``done`` and call ``written`` with its number of combinations.
    False when stopped (Ctrl-C), the chunks handed over written and added."""

    def add(chunks: list[Written]) -> None:
        for chunk in chunks:
            assembly.add(chunk.rows, chunk.result.block_sum, chunk.result.block_sq, chunk.result.block_n)
            done.add(chunk.number)
            written(len(chunk.result.index))

    with ChunkWriter(save) as writer:
        try:
            for number, result in evaluated:
                add(writer.put(number, result))
        except KeyboardInterrupt:
            add(writer.drain())
            return False
        finally:  # a chunk that cannot be written, say: the chunks' threads stop here, not in a later collection
            getattr(evaluated, "close", lambda: None)()
        add(writer.drain())
    return True


def load_sweep_config(
    path: str | Path,
    resolve: Callable[[StrategyConfig], StrategyConfig],
    load: Callable[[StrategyConfig, int], LoadedPanel],
    *,
    max_combos: int,
    purpose: str = "run",
) -> tuple[StrategyConfig, Grid, LoadedPanel]:
    """The resolved config at ``path``, its grid and its panel (with the grid's warm-up), checked usable;
    a user error in any of them is located in ``path`` (``purpose``: what the missing ``sweep:`` block is for)."""
    try:
        cfg = resolve(load_config(path))
    except UserError as err:
        raise err.located(file=str(path)) from None
    if not cfg.sweep:
        raise UserError(f"{path}: no sweep: block to {purpose}", expected="sweep: {param: [values], ...}")
    try:
        g = grid(cfg, max_combos=max_combos)
    except UserError as err:
        raise err.located(file=str(path)) from None
    loaded = load(cfg, sweep_warmup(cfg, g))
    try:
        check_usable(cfg, g, loaded)
    except UserError as err:
        raise err.located(file=str(path)) from None
    return cfg, g, loaded


def _staging_meta(
    staging: Path,
    cfg: StrategyConfig,
    g: Grid,
    loaded: LoadedPanel,
    options: SweepOptions,
    *,
    resume: bool,
    force: bool,
) -> dict[str, Any]:
    """Create the staging directory (or reopen it with ``--resume``) and return its meta data."""
    meta_path = staging / "meta.json"
    if staging.is_dir() and meta_path.is_file():
        stopped = stopped_meta(staging, force)
        if resume and not force:
            return stopped
        done = 0 if force else len(done_chunks(staging, int(stopped["chunks"])))
        if done:  # a stopped sweep with nothing done (its cluster unreachable, say) is simply started again
            raise UserError(
                f"a stopped sweep of this config and data is in {staging} ({done} of {stopped['chunks']} chunks "
                "done): continue it with --resume, or start over with --force",
                expected="--resume or --force",
            )
    if staging.is_dir():  # started over; or chunks without their meta.json, of no known grid: not kept either
        clear_staging(staging)  # the directory itself is held (store.sweeps.held): only what is in it goes
    panel = loaded.panel
    size = options.chunk_size or panel_chunk_size(loaded, options.simulator)
    meta = {
        "sweep_id": staging.name.removeprefix(".partial-"),
        "config_name": cfg.name,
        "keys": list(g.keys),
        "values": [list(v) for v in g.values],
        "combinations": g.size,
        "chunk_size": size,
        "chunks": len(chunks(cfg, g, size)),
        "data_fingerprint": loaded.fingerprint,
        "loaded_key": loaded.loaded_key,  # the sweep's id hashes it: a stopped sweep's data differs by it too
        "data_source": panel.source,
        "synthetic": panel.synthetic,
        "seesaw_version": __version__,
        "code_hash": code_fingerprint(),
        "simulator": options.simulator or FUSED,
        "start": str(panel.dates[loaded.start].date()),
        "end": str(panel.dates[-1].date()),
    }
    meta.update(warmup_notes(cfg, g, loaded))  # docs/sweeps.md
    try:
        staging.mkdir(parents=True, exist_ok=True)
        write_atomic(meta_path, lambda p: p.write_text(dumps_json(meta), encoding="utf-8"))
    except OSError as exc:
        raise StoreError(f"cannot write the sweep: {exc.strerror or exc}", file=str(staging)) from None
    return meta


def _finish(
    staging: Path,
    final: Path,
    ctx: SweepContext,
    meta: dict[str, Any],
    table: pd.DataFrame,
    blocks: dict[str, np.ndarray],
    now: dt.datetime,
) -> dict[str, Any]:
    """The finished sweep's manifest (with its overfitting statistics), once its files are in place.

    The block sums are written first: the statistics then centre them in place (a million combinations'
    sums are 256 MB) and ``blocks`` is emptied."""
    write_blocks(staging, blocks)
    manifest = {**meta, "status": "complete", "created_at": now.isoformat(), "reference": ctx.reference}
    manifest |= overfitting_stats(ctx, table, blocks)
    blocks.clear()
    header = f"resolved sweep config written by seesaw {__version__}"
    write_sweep(staging, final, ctx.cfg, manifest, table, chunks=int(meta["chunks"]), header=header)
    return manifest


def top_rows(
    outcome: SweepOutcome, ctx_loaded: LoadedPanel, *, sort: str, top: int, engine: str, reps: int
) -> pd.DataFrame:
    """The best ``top`` rows by ``sort``, with the statistics that need each one's daily returns.

    Sharpe 95% interval (stationary bootstrap), PSR against a Sharpe of 0, the probability the Sharpe
    beats the reference benchmark's (paired bootstrap; NaN without a reference), and DSR deflated by
    the number of combinations tried (all of them, not only the rows shown).
    """
    table = outcome.table
    ranked = rank_combinations(table, sort, top)
    # the sweep's own context when this process ran it; a reused sweep prepares it again
    simulator = sweep_engines(outcome.manifest.get("simulator", FUSED))[1]
    ctx = outcome.ctx or prepare(outcome.cfg, ctx_loaded, engine=engine, simulator=simulator)  # type: ignore[arg-type]
    result = evaluate_chunk(ctx, ranked[list(outcome.keys)], ranked["combo"].to_numpy(), keep_returns=True)
    assert result.returns is not None
    dates = ctx.dates
    ppy = m.periods_per_year(len(dates), m.years_between(dates[0].date(), dates[-1].date()))
    trials = table["sharpe"].to_numpy(dtype=float) / np.sqrt(ppy)
    trials = trials[np.isfinite(trials)]
    ref_r = None
    if ctx.reference_value is not None:
        ref_r = m.excess_returns(m.daily_returns(ctx.reference_value, outcome.cfg.initial_cash), ctx.risk_free)
    # a row without a Sharpe ratio (no variation beyond rounding) has no statistics: flat zeros give each its NaN
    flat = ~np.isfinite(ranked["sharpe"].to_numpy(dtype=float))
    returns = [np.zeros(len(dates)) if flat[j] else result.returns[:, j] for j in range(len(ranked))]
    extra = row_statistics(returns, ref_r, periods_per_year=ppy, reps=reps, trial_sharpes=trials, n_trials=len(table))
    return pd.concat([ranked.reset_index(drop=True), pd.DataFrame(extra)], axis=1)


# -- the command's glue: options -> job -> store ------------------------------------------------------------------


def run_sweep(
    path: str | Path,
    opts: Any,
    sopts: SweepOptions,
    *,
    env: Mapping[str, str],
    now: dt.datetime,
    progress: ProgressFn | None = None,
    say: Callable[[str], None] | None = None,
    stage: Callable[[str, Path], None] | None = None,
    check: Callable[[StrategyConfig], None] | None = None,
) -> SweepOutcome:
    """``seesaw sweep``: resolve the command line, load the data, run or reuse, index the result; ``check``: the
    command's own checks of the loaded config (its table options), before any data is loaded."""
    providers: dict = {}
    catalog = catalog_for(opts, env)

    def load(cfg: StrategyConfig, warmup: int) -> LoadedPanel:
        return load_for_config(data_provider(cfg, opts, env, providers), cfg, warmup_rows=warmup, file=path)

    def resolve(cfg: StrategyConfig) -> StrategyConfig:
        catalog.check_name(cfg.name, str(path))
        if check is not None:
            check(cfg)
        return resolve_data(cfg, opts, env)

    try:
        outcome = sweep_job(
            path, resolve, load, results_dir=opts.results_dir, options=sopts, engine=opts.engine, now=now,
            force=opts.force, progress=progress, record=catalog.record_sweep, say=say, stage=stage,
        )  # fmt: skip
    except SignalError as err:  # a signal from another package breaking its contract, in any chunk
        raise err.located(file=str(path)) from None
    noted = tuple(dict.fromkeys(n for p in providers.values() for n in getattr(p, "notes", [])))  # each once
    return dataclasses.replace(outcome, data_notes=noted)


def sweep_top(
    outcome: SweepOutcome, opts: Any, *, env: Mapping[str, str], sort: str, top: int, reps: int
) -> pd.DataFrame:
    """The rows ``seesaw sweep`` prints (see :func:`top_rows`); loads the panel again for a reused sweep."""
    loaded = outcome.loaded
    if loaded is None:  # pragma: no cover - run_sweep always loads
        raise UserError("the sweep's data is not loaded")
    return top_rows(outcome, loaded, sort=sort, top=top, engine=opts.engine, reps=reps)
