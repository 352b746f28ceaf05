"""One combination of a sweep as settings: its parameters, signals, execution, costs and sizing.

:func:`setting` applies a combination to a config's knobs without building a whole config (the
sweep's hot path); :func:`engine.config.params.apply_combination` builds the config a user could
have written, and a sweep row equals that config's single run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.config.models import Costs, Execution, Sizing, StrategyConfig
from engine.config.params import Grid, sweep_target
from engine.config.refs import resolve_refs
from engine.data.panel import LoadedPanel
from engine.errors import ConfigError
from engine.evaluate import warmup_rows
from engine.signals import signal_key, signal_lookback

__all__ = [
    "Setting",
    "auto_start_warmups",
    "check_usable",
    "setting",
    "short_warmup",
    "signal_keys",
    "sub_grid",
    "sweep_warmup",
    "warmup_range",
]


@dataclass(frozen=True)
class Setting:
    """One combination's effective knobs: parameters, resolved signals, execution and costs."""

    params: dict[str, Any]
    signals: dict[str, dict[str, Any]]
    lag: int
    rebalance: str
    costs: Costs
    min_hold: int = 0
    cooldown: int = 0
    sizing: Sizing | None = None
    band: float | None = None  # a rebalancing band (rebalance is then its schedule, or "band")
    max_gross: float | None = None  # a margin account's gross limit (docs/shorts.md); None: a cash account

    @property
    def signal_key(self) -> str:
        """Combinations with equal keys have equal signals."""
        return json.dumps(self.signals, sort_keys=True, default=str)


def setting(cfg: StrategyConfig, combo: Mapping[str, Any]) -> Setting:
    """The knobs of ``cfg`` with ``combo`` applied (each value was validated by :func:`engine.config.params.grid`)."""
    params = dict(cfg.params)
    signals = {name: dict(spec) for name, spec in cfg.signals.items()}
    costs, sizing = cfg.costs, cfg.sizing
    execution: dict[str, str | int] = {"lag": cfg.execution.lag, "rebalance": cfg.execution.mode}
    execution.update(_holds(cfg.execution))
    band, max_gross = cfg.execution.band, cfg.execution.max_gross
    for key, value in combo.items():
        target = sweep_target(cfg, key)
        if target[0] == "params":
            params[target[1]] = value
        elif target[0] == "signals":
            signals[target[1]][target[2]] = value
        elif target == ("execution", "rebalance", "band"):
            band = float(value)
        elif target == ("execution", "rebalance"):  # a mode replaces a band
            execution["rebalance"], band = str(value), None
        elif target == ("execution", "max_gross"):
            max_gross = float(value)
        elif target[0] == "execution":
            execution[target[1]] = int(value)
        elif target[0] == "sizing" and sizing is not None:
            sizing = sizing.model_copy(update={target[1]: value})
        else:
            costs = costs.model_copy(update={target[1]: float(value)})
    return Setting(
        params,
        resolve_refs(signals, params),
        int(execution["lag"]),
        str(execution["rebalance"]),
        costs,
        min_hold=int(execution["min_hold"]),
        cooldown=int(execution["cooldown"]),
        sizing=sizing,
        band=band,
        max_gross=max_gross,
    )


def _holds(execution: Execution) -> dict[str, int]:
    return {"min_hold": execution.min_hold, "cooldown": execution.cooldown}


def signal_keys(cfg: StrategyConfig, keys: Sequence[str]) -> list[str]:
    """The sweep ``keys`` that change a signal: a signal's argument, or a parameter a signal names (``$name``)."""
    named = {v[1:] for spec in cfg.signals.values() for v in spec.values() if isinstance(v, str) and v[:1] == "$"}
    out = []
    for key in keys:
        target = sweep_target(cfg, key)
        if target[0] == "signals" or (target[0] == "params" and target[1] in named):
            out.append(key)
    return out


def sub_grid(grid: Grid, keys: Sequence[str]) -> tuple[Grid, np.ndarray]:
    """The product of ``keys``' values only (in ``grid``'s key order), and for each combination of ``grid``
    (in its order) the position of its values of ``keys`` in that product: what a pass over the grid that
    depends on ``keys`` alone needs, without visiting every combination."""
    kept = [i for i, k in enumerate(grid.keys) if k in keys]
    lengths = [len(v) for v in grid.values]
    position = np.arange(grid.size, dtype=np.int64)
    index = np.zeros(grid.size, dtype=np.int64)
    for i in kept:
        inner = math.prod(lengths[i + 1 :])  # the last key varies fastest (itertools.product)
        index = index * lengths[i] + (position // inner) % lengths[i]
    return Grid(tuple(grid.keys[i] for i in kept), tuple(grid.values[i] for i in kept)), index


def sweep_warmup(cfg: StrategyConfig, grid: Grid) -> int:
    """Rows of history every combination needs before the start (the longest warm-up of all)."""
    return warmup_range(cfg, grid)[1]


def warmup_range(cfg: StrategyConfig, grid: Grid) -> tuple[int, int]:
    """The shortest and the longest warm-up (rows of history before the start) of the grid's combinations."""
    rows = _warmups(cfg, grid)[2]
    return int(rows.min()), int(rows.max())


def auto_start_warmups(cfg: StrategyConfig, grid: Grid, loaded: LoadedPanel) -> list[int] | None:
    """[shortest, longest] warm-up of a ``start: auto`` grid whose rows start later than a single run of some
    combination would: the warm-ups differ and the first simulated date is not the first value of the exchange
    or cash rate (which starts every run alike); None otherwise."""
    shortest, longest = warmup_range(cfg, grid)
    for rate in (loaded.panel.usdhkd, loaded.panel.cash_rate):
        known = np.flatnonzero(np.isfinite(rate)) if rate is not None else np.zeros(0, dtype=np.int64)
        if len(known) and known[0] == loaded.start:
            return None
    return [shortest, longest] if shortest < longest else None


def short_warmup(cfg: StrategyConfig, grid: Grid, available: int) -> dict[str, Any] | None:
    """The combinations whose warm-up is longer than the ``available`` rows of history before the start, as a
    sweep's manifest records them (``available``, ``combinations``: how many, ``example``: the values of the
    keys that set the warm-up in the first of them); None when every combination has its warm-up."""
    sub, index, rows = _warmups(cfg, grid)
    short = rows > available
    if not short.any():
        return None
    first = int(np.flatnonzero(short)[0])
    example = dict(zip(sub.keys, list(sub)[first].values(), strict=True)) if sub.keys else {}
    return {"available": available, "combinations": int(short[index].sum()), "example": example}


def _warmups(cfg: StrategyConfig, grid: Grid) -> tuple[Grid, np.ndarray, np.ndarray]:
    """The grid of the keys that change a signal, the lag or the sizing window (:func:`sub_grid`: the grid, each
    combination's position in it) and the warm-up of each of its combinations: one pass over their values."""
    keys = signal_keys(cfg, grid.keys)
    keys += [
        k for k in grid.keys if sweep_target(cfg, k)[:2] == ("execution", "lag") or sweep_target(cfg, k)[0] == "sizing"
    ]
    sub, index = sub_grid(grid, keys)
    rows = []
    for combo in sub:
        s = setting(cfg, combo)
        rows.append(warmup_rows(s.signals, cfg.rules, s.lag, sizing=s.sizing))
    return sub, index, np.asarray(rows, dtype=np.int64)


def check_usable(cfg: StrategyConfig, grid: Grid, loaded: LoadedPanel) -> None:
    """Refuse a grid in which a combination's signal needs more history than the whole data has.

    Such a signal has no value on any decision date, so its combination would be ranked on what
    the other rules alone produced (the single-run twin is :func:`engine.pipeline.check_usable`).
    """
    dates = loaded.panel.dates
    seen: set[str] = set()
    for combo in sub_grid(grid, signal_keys(cfg, grid.keys))[0]:
        specs = setting(cfg, combo).signals
        for name, spec in specs.items():
            key = signal_key(specs, name)
            if key in seen:
                continue
            seen.add(key)
            need = signal_lookback(specs, name)
            if need < len(dates):
                continue
            refs = {v[1:] for v in cfg.signals[name].values() if isinstance(v, str) and v[:1] == "$"}
            keys = [
                k
                for k in grid.keys
                if sweep_target(cfg, k)[:2] == ("signals", name) or sweep_target(cfg, k)[-1] in refs
            ]
            raise ConfigError(
                f"signal {name!r} with {', '.join(f'{k}={v}' for k, v in spec.items() if k != 'fn')} needs {need:,} "
                f"dates of history and the data has {len(dates):,} ({dates[0].date()} to {dates[-1].date()}): "
                "no decision could use it",
                path=f"sweep.{keys[0]}" if keys else "sweep",
                expected="swept windows shorter than the data",
            )
