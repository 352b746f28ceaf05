"""``seesaw episodes``: a signal's extremes in all its history, their uncertainty, and what followed.

Reads the config and its data as ``run`` does, computes the named signal on the whole panel
(warm-up rows included: they are history), finds the episodes (engine/episodes.py), draws their
bands (engine/episode_bands.py), runs the ``--configs`` (stored as ``run`` stores them) and
measures what followed (engine/episode_study.py).  The result is written under the results
directory as ``episodes/<id>/episodes.json``; docs/episodes.md is the contract.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.config import StrategyConfig
from engine.data.loading import fetch_rates, load_rates
from engine.data.panel import LoadedPanel, PricePanel, load_for_config
from engine.episode_bands import bootstrap_band, fisher_band, indistinguishable
from engine.episode_report import EpisodeReport
from engine.episode_study import HORIZONS, asset_forward, equity_forward, inside_any, study
from engine.episodes import DEFAULT_GAP, Direction, Episode, Observations, Threshold, find_episodes, observations
from engine.errors import ConfigError, DataError, StoreError, UserError
from engine.jobs.common import RunOptions, data_provider, resolved_configs
from engine.jobs.run_assumptions import data_warnings
from engine.pipeline import required_warmup
from engine.signals import compute_signals
from engine.store.rundir import dumps_json, load_run, write_atomic
from strategies.correlation import corr_pairs
from strategies.errors import SignalError

__all__ = ["episodes_report", "store_report"]

DEFAULT_PERCENTILE = {"low": 5.0, "high": 95.0}


def _threshold(direction: Direction, value: float | None, percentile: float | None) -> Threshold:
    if value is not None and percentile is not None:
        raise UserError("give --threshold or --percentile, not both", expected="one of them")
    if value is not None:
        if not math.isfinite(value):  # nan compares false with everything: "no episode", said as a finding
            raise UserError(f"--threshold: expected a finite number, got {value}")
        return Threshold("value", float(value))
    if percentile is not None and not 0 <= percentile <= 100:  # nan too
        raise UserError(f"--percentile: expected a number from 0 to 100, got {percentile}")
    return Threshold("percentile", float(DEFAULT_PERCENTILE[direction] if percentile is None else percentile))


def _signal_spec(cfg: StrategyConfig, name: str, file: Path) -> dict[str, Any]:
    specs = cfg.resolved_signals
    if name not in specs:
        known = ", ".join(sorted(specs)) or "none"
        raise ConfigError(
            f"--signal {name!r} is not a signal of the config (its signals: {known})", file=str(file), path="signals"
        )
    return dict(specs[name])


def _base_closes(panel: PricePanel, cfg: StrategyConfig, provider: Any, notes: list[str]) -> dict[str, pd.Series]:
    """Each asset's closes on the dates it traded, in the base currency (NaN where no rate is known)."""
    factor = np.ones((len(panel.dates), len(panel.assets)))
    foreign = [j for j, c in enumerate(panel.currencies) if c != panel.base_currency]
    if foreign:
        rate = panel.usdhkd
        if rate is None:
            first, last = panel.dates[0].date(), panel.dates[-1].date()
            try:
                extras, _ = load_rates(
                    provider, fetch_rates(provider, cfg.data.fx_symbol, None, first, last), cfg.data.fx_band
                )
                fx = extras[0].values
                rate = fx.reindex(fx.index.union(panel.dates)).ffill().reindex(panel.dates).to_numpy("float64")
            except DataError as err:  # only the forward returns need it: they are null without it
                notes.append(f"no exchange rate for the forward returns ({err.one_line()})")
                rate = np.full(len(panel.dates), np.nan)
            if np.isnan(rate).any():
                known = panel.dates[np.isfinite(rate)]
                names = ", ".join(panel.assets[j] for j in foreign)
                if len(known):
                    notes.append(
                        f"{names}: no {cfg.data.fx_symbol} rate before {known[0].date()}; "
                        "earlier forward returns are null"
                    )
                else:
                    notes.append(f"{names}: no {cfg.data.fx_symbol} rate; its forward returns are null")
        for j in foreign:
            factor[:, j] = 1.0 / rate if panel.currencies[j] == "HKD" else rate
    out = {}
    for j, a in enumerate(panel.assets):
        rows = panel.traded[:, j]
        out[a] = pd.Series(panel.close[rows, j] * factor[rows, j], index=panel.dates[rows])
    return out


def _signal_only_note(panel: PricePanel, cfg: StrategyConfig, asset: str) -> str:
    """What a signal-only asset's rows in What came after and the event study are."""
    return (
        f"{asset} ({cfg.assets[asset].symbol}) is read as a signal only (in no rule's weights): its rows in What "
        f"came after and the event study are the change of its level in {panel.base_currency}, not a return this "
        "config could earn"
    )


def _corr_pairs(spec: Mapping[str, Any], panel: PricePanel) -> tuple[pd.Series, pd.Series] | None:
    """The pairs a ``rolling_corr`` signal correlates (None for any other signal)."""
    if spec.get("fn") != "rolling_corr":
        return None
    params = {k: spec[k] for k in ("on", "align", "dates", "currency") if k in spec}
    return corr_pairs(panel.signal_inputs(), spec["a"], spec["b"], **params)


def _bands(
    spec: Mapping[str, Any], pairs_of: tuple[pd.Series, pd.Series] | None, obs: Observations, ep: Episode
) -> dict[str, Any]:
    """The Fisher and bootstrap bands and the indistinguishable earlier values (a rolling_corr only)."""
    empty = {"ci_low": None, "ci_high": None, "bootstrap_low": None, "bootstrap_high": None, "indistinguishable": None}
    if pairs_of is None:
        return empty
    n, r = int(spec["window"]), float(obs.values[ep.peak])
    u, v = pairs_of
    upto = u.index <= obs.dates[ep.peak]
    pairs = np.column_stack([u[upto].to_numpy()[-n:], v[upto].to_numpy()[-n:]])
    fisher = fisher_band(r, n)
    boot = bootstrap_band(np.ascontiguousarray(pairs)) if len(pairs) == n and np.isfinite(pairs).all() else None
    same = indistinguishable(r, n, obs.values[: ep.peak], obs.dates[: ep.peak])
    return {
        "ci_low": fisher.low if fisher else None,
        "ci_high": fisher.high if fisher else None,
        "bootstrap_low": boot.low if boot else None,
        "bootstrap_high": boot.high if boot else None,
        "indistinguishable": None
        if same is None
        else {"count": same.count, "first": _day(same.first), "last": _day(same.last), "share": _num(same.share)},
    }


def _day(d: pd.Timestamp | None) -> str | None:
    return None if d is None else str(pd.Timestamp(d).date())


def _num(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _forwards(
    series: Mapping[str, tuple[str, pd.Series]], starts: pd.DatetimeIndex
) -> dict[str, dict[str, np.ndarray]]:
    """{series: {horizon: forward returns from each start}} for assets and strategies alike."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for name, (kind, level) in series.items():
        fwd = asset_forward if kind == "asset" else equity_forward
        out[name] = {h: fwd(level, starts, months) for h, months in HORIZONS.items()}
    return out


def _config_runs(
    paths: Sequence[str | Path], cfg: StrategyConfig, opts: RunOptions, env: Mapping[str, str], now: dt.datetime
) -> tuple[dict[str, tuple[str, pd.Series]], dict[str, str], list[str]]:
    """Run the ``--configs`` as ``run`` does (stored like runs); their equity curves, run directories and the
    runs' warnings."""
    from engine.jobs.run import run_configs

    if not paths:
        return {}, {}, []
    report = run_configs(paths, opts, env=env, now=now)
    series: dict[str, tuple[str, pd.Series]] = {}
    dirs: dict[str, str] = {}
    for r in report.runs:
        if r.run_dir is None:
            raise UserError(f"--configs {r.config.name}: the run was not stored", file=r.file)
        series[r.config.name] = ("config", load_run(r.run_dir).equity["value"])
        dirs[r.config.name] = str(r.run_dir)
    return series, dirs, [w for r in report.runs for w in r.warnings]


def episodes_report(
    config: str | Path,
    opts: RunOptions,
    *,
    env: Mapping[str, str],
    now: dt.datetime,
    signal: str,
    direction: Direction,
    since: dt.date | None = None,
    threshold: float | None = None,
    percentile: float | None = None,
    configs: Sequence[str | Path] = (),
    gap: int = DEFAULT_GAP,
) -> EpisodeReport:
    """The episodes of ``signal`` in ``config``'s data (see the module docstring)."""
    rule = _threshold(direction, threshold, percentile)
    file, cfg, provider, loaded, obs = _signal_history(config, signal, opts, env, configs)
    spec, panel = cfg.resolved_signals[signal], loaded.panel
    if since is not None and since > obs.dates[-1].date():  # nothing could be listed: not "no episode"
        last = obs.dates[-1].date().isoformat()
        raise UserError(f"--since {since}: after {signal}'s last observation, {last}", expected=f"a date up to {last}")
    found, _ = find_episodes(obs, direction, rule, gap)
    notes = [*panel.notes]
    series: dict[str, tuple[str, pd.Series]] = {
        a: ("asset", s) for a, s in _base_closes(panel, cfg, provider, notes).items()
    }
    notes += [_signal_only_note(panel, cfg, a) for a in panel.signal_only]
    strat, dirs, warned = _config_runs(configs, cfg, opts, env, now)
    series.update(strat)
    listed = [e for e in found if since is None or obs.dates[e.peak].date() >= since]
    pairs_of = _corr_pairs(spec, panel)
    episodes = [_episode_json(spec, pairs_of, obs, e) for e in listed]
    starts = pd.DatetimeIndex([obs.dates[e.first] for e in listed])
    fwd = _forwards(series, starts)
    for k, ep in enumerate(episodes):
        ep["forward"] = {name: {h: _num(float(fwd[name][h][k])) for h in HORIZONS} for name in series}
    summary = _summary(obs, found, listed, since, series, fwd)
    return EpisodeReport(
        config=cfg.name,
        file=str(file),
        signal=signal,
        direction=direction,
        threshold=rule,
        synthetic=panel.synthetic,
        data=_data_block(loaded),
        observations={"count": len(obs), "first": _day(obs.dates[0]), "last": _day(obs.dates[-1])},
        episodes=[
            {"config": cfg.name, "signal": signal, "direction": direction, "synthetic": panel.synthetic, **e}
            for e in episodes
        ],
        summary=summary,
        runs=dirs,
        notes=notes,
        warnings=[*data_warnings(cfg, loaded), *warned],
        history=pd.Series(obs.values, index=obs.dates),
        paths={name: level for name, (_, level) in series.items()},
        gap=gap,
    )


def _signal_history(
    config: str | Path, signal: str, opts: RunOptions, env: Mapping[str, str], configs: Sequence[str | Path]
) -> tuple[Path, StrategyConfig, Any, LoadedPanel, Observations]:
    """Validate the configs, load the config's data and compute the signal's observations."""
    ((file, cfg),) = resolved_configs([config], opts, env)
    _signal_spec(cfg, signal, file)
    for other_file, other in resolved_configs(configs, opts, env) if configs else []:  # checked before any work
        if other.base_currency != cfg.base_currency:
            raise ConfigError(
                f"--configs {other.name} counts in {other.base_currency}, the episodes in {cfg.base_currency}",
                file=str(other_file),
                path="base_currency",
                expected=cfg.base_currency,
            )
    provider = data_provider(cfg, opts, env, {})
    loaded = load_for_config(provider, cfg, warmup_rows=required_warmup(cfg), file=file)
    try:
        values = compute_signals(cfg.resolved_signals, loaded.panel.signal_inputs())[signal]
    except SignalError as err:  # a signal from another package breaking its contract
        raise err.located(file=str(file)) from None
    obs = observations(loaded.panel.dates, values)
    if not len(obs):
        raise UserError(f"signal {signal!r} has no value in the data", file=str(file), path=f"signals.{signal}")
    return file, cfg, provider, loaded, obs


def _episode_json(
    spec: Mapping[str, Any], pairs_of: tuple[pd.Series, pd.Series] | None, obs: Observations, e: Episode
) -> dict[str, Any]:
    return {
        "date": _day(obs.dates[e.peak]),
        "value": float(obs.values[e.peak]),
        "rank": e.rank,
        "percentile": e.percentile,
        "most_extreme_since": None if e.since is None else _day(obs.dates[e.since]),
        "record": e.since is None,
        **_bands(spec, pairs_of, obs, e),
        "start": _day(obs.dates[e.first]),
        "end": _day(obs.dates[e.last]),
        "observations": e.last - e.first + 1,
    }


def _summary(
    obs: Observations,
    found: Sequence[Episode],
    listed: Sequence[Episode],
    since: dt.date | None,
    series: Mapping[str, tuple[str, pd.Series]],
    fwd: Mapping[str, Mapping[str, np.ndarray]],
) -> dict[str, dict[str, dict[str, Any]]]:
    """The event study: listed episodes against every other observation date (docs/episodes.md)."""
    spans = {obs.dates[e.first]: obs.dates[e.last] for e in found}
    others = obs.dates[~inside_any(obs.dates, spans)]
    if since is not None:
        others = others[others >= pd.Timestamp(since)]
    other_fwd = _forwards(series, others)
    starts = pd.DatetimeIndex([obs.dates[e.first] for e in listed])
    return {
        name: {
            h: study(starts, fwd[name][h], others, other_fwd[name][h], months).as_dict()
            for h, months in HORIZONS.items()
        }
        for name in series
    }


def _data_block(loaded: LoadedPanel) -> dict[str, Any]:
    p = loaded.panel
    return {
        "source": p.source,
        "synthetic": p.synthetic,
        "fingerprint": loaded.fingerprint,
        "first_date": _day(p.dates[0]),
        "last_date": _day(p.dates[-1]),
        "base_currency": p.base_currency,
    }


def store_report(report: EpisodeReport, results_dir: Path, now: dt.datetime) -> Path:
    """Write ``episodes/<id>/episodes.json`` under ``results_dir`` whole or not at all; its resolved path (as a run's
    and a sweep's)."""
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    out = results_dir / "episodes" / f"{stamp}-{report.config}-{report.signal}"
    path = out / "episodes.json"
    try:
        out.mkdir(parents=True, exist_ok=False)
        write_atomic(path, lambda tmp: tmp.write_text(dumps_json(report.stored()), encoding="utf-8"))
    except OSError as exc:  # the results directory a file, read-only, or the disk full
        raise StoreError(f"cannot store the episodes: {exc.strerror or exc}", file=str(out)) from None
    return path.resolve()
