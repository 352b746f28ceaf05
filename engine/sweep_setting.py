"""One combination of a sweep as settings: its parameters, signals, execution, costs and sizing.

:func:`setting` applies a combination to a config's knobs without building a whole config (the
sweep's hot path); :func:`engine.config.params.apply_combination` builds the config a user could
have written, and a sweep row equals that config's single run.
"""

from __future__ import annotations

import dataclasses
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
from engine.evaluate import first_decision, warmup_rows
from engine.signals import compute_signals, rows_lacking, signal_key, signal_lookback
from engine.sizing import check_window
from strategies.registry import SignalInputs

__all__ = [
    "Setting",
    "check_usable",
    "setting",
    "signal_keys",
    "sub_grid",
    "sweep_warmup",
    "warmup_notes",
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
    return int(_warmups(cfg, grid).rows.max())


@dataclass(frozen=True)
class _Warmups:
    """The grid of the keys that change a signal, the lag or the sizing window (:func:`sub_grid`), each
    combination's position in it, and each of its combinations' setting and warm-up (rows before the start)."""

    sub: Grid
    index: np.ndarray
    settings: list[Setting]
    rows: np.ndarray

    def example(self, i: int) -> dict[str, Any]:
        """The values of the keys that set the warm-up in the sub-grid's combination ``i``."""
        return dict(zip(self.sub.keys, list(self.sub)[i].values(), strict=True)) if self.sub.keys else {}


def _warmups(cfg: StrategyConfig, grid: Grid) -> _Warmups:
    """:class:`_Warmups` of ``grid``: one pass over the values of the keys that set a warm-up."""
    keys = signal_keys(cfg, grid.keys)
    keys += [
        k for k in grid.keys if sweep_target(cfg, k)[:2] == ("execution", "lag") or sweep_target(cfg, k)[0] == "sizing"
    ]
    sub, index = sub_grid(grid, keys)
    settings = [setting(cfg, combo) for combo in sub]
    rows = [warmup_rows(s.signals, cfg.rules, s.lag, sizing=s.sizing) for s in settings]
    return _Warmups(sub, index, settings, np.asarray(rows, dtype=np.int64))


def warmup_notes(cfg: StrategyConfig, grid: Grid, loaded: LoadedPanel) -> dict[str, Any]:
    """What a sweep's manifest records of its combinations' warm-ups (docs/sweeps.md): ``warmup_rows`` for a
    ``start: auto`` grid whose rows start later than a single run of some combination would, else ``warmup_short``
    for an explicit start with too little history before it; and ``incomplete_signals``."""
    warm, out = _warmups(cfg, grid), dict[str, Any]()
    if cfg.data.start_date is None and (rows := _auto_start(warm, loaded)):
        out["warmup_rows"] = rows
    elif short := _short(warm, loaded.warmup_used):
        out["warmup_short"] = short
    if lacking := _incomplete(warm, loaded):  # a series starting later than the others, say
        out["incomplete_signals"] = lacking
    return out


def _auto_start(warm: _Warmups, loaded: LoadedPanel) -> list[int] | None:
    """[shortest, longest] warm-up of a ``start: auto`` grid whose rows start later than a single run of some
    combination would: the warm-ups differ and the first simulated date is not the first value of the exchange
    or cash rate (which starts every run alike); None otherwise."""
    for rate in (loaded.panel.usdhkd, loaded.panel.cash_rate):
        known = np.flatnonzero(np.isfinite(rate)) if rate is not None else np.zeros(0, dtype=np.int64)
        if len(known) and known[0] == loaded.start:
            return None
    shortest, longest = int(warm.rows.min()), int(warm.rows.max())
    return [shortest, longest] if shortest < longest else None


def _short(warm: _Warmups, available: int) -> dict[str, Any] | None:
    """The combinations whose warm-up is longer than the ``available`` rows of history before the start, as a
    sweep's manifest records them (``available``, ``combinations``: how many, ``example``: the values of the
    keys that set the warm-up in the first of them); None when every combination has its warm-up."""
    short = warm.rows > available
    if not short.any():
        return None
    example = warm.example(int(np.flatnonzero(short)[0]))
    return {"available": available, "combinations": int(short[warm.index].sum()), "example": example}


def _incomplete(warm: _Warmups, loaded: LoadedPanel) -> dict[str, Any] | None:
    """The combinations whose warm-up the data has before the start but one of whose signals still has no value
    at their first decision (a series it reads starts later than the others, or the signal is undefined there), as
    a sweep's manifest records them
    (``combinations``: how many, ``signals``: their names, ``until``: the last date on which one of them becomes
    complete, ``example``: the values of the keys that set it in the first of them); None when there are none.

    The single-run twin is the ``incomplete`` warning (:func:`engine.pipeline.incomplete_signals`): until then a
    rule naming such a signal is false and the otherwise weights apply.  Each distinct signal is computed once.
    """
    dates, inputs = loaded.panel.dates, loaded.panel.signal_inputs()
    head = _head(inputs, loaded.start + 1)  # every first decision is in the head
    cache: dict[str, np.ndarray] = {}
    head_cache: dict[str, np.ndarray] = {}
    lacking = np.zeros(len(warm.rows), dtype=bool)
    names: set[str] = set()
    until = -1
    for i, s in enumerate(warm.settings):
        if warm.rows[i] > loaded.warmup_used:  # counted by _short
            continue
        first = int(first_decision(loaded.start, s.lag))
        # signals are trailing (their value at a row reads no later row): the head decides; the whole finds when
        if rows_lacking(compute_signals(s.signals, head, cache=head_cache), first) and (
            found := rows_lacking(compute_signals(s.signals, inputs, cache=cache), first)
        ):
            lacking[i] = True
            names.update(found)
            until = max(until, *(len(dates) - 1 if r is None else first + r for r in found.values()))
    if not lacking.any():
        return None
    return {
        "combinations": int(lacking[warm.index].sum()),
        "signals": sorted(names),
        "until": str(dates[until].date()),
        "example": warm.example(int(np.flatnonzero(lacking)[0])),
    }


def _head(inputs: SignalInputs, rows: int) -> SignalInputs:
    """``inputs`` on their first ``rows`` dates only."""
    return dataclasses.replace(
        inputs,
        dates=inputs.dates[:rows],
        prices={a: v[:rows] for a, v in inputs.prices.items()},
        traded={a: v[:rows] for a, v in inputs.traded.items()},
        fx={a: v[:rows] for a, v in inputs.fx.items()},
    )


def check_usable(cfg: StrategyConfig, grid: Grid, loaded: LoadedPanel) -> None:
    """Refuse a grid in which a combination's signal, or its sizing window, needs more history than the whole data
    has.

    Such a signal has no value on any decision date, so its combination would be ranked on what
    the other rules alone produced (the single-run twin is :func:`engine.pipeline.check_usable`).
    """
    dates = loaded.panel.dates
    swept = [
        (k, v) for k, v in zip(grid.keys, grid.values, strict=True) if sweep_target(cfg, k) == ("sizing", "window")
    ]
    if cfg.sizing is not None:  # the longest window each key (or the config) gives, as a single run checks it
        for key, windows in swept or [("sizing.window", (cfg.sizing.window,))]:
            check_window(max(int(w) for w in windows), dates, path=f"sweep.{key}" if swept else key)
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
