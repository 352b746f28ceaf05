"""Evaluate every combination of a ``sweep:`` grid, vectorised, in chunks of columns.

A chunk is one call of the path a single run takes (:func:`engine.evaluate.evaluate_curves`), with
one column per combination (STYLE.md: one code path, many columns); this module only turns
combinations into columns, chunks the grid and ranks the rows:

1. :func:`prepare` loads nothing (the caller passes the panel) and computes, once per sweep,
   what every combination shares: the market (:func:`engine.evaluate.market`: unit values,
   slot prices, cash index, risk-free returns), the reference benchmark's curve, the assets'
   returns.
2. :func:`evaluate_chunk` takes a list of combinations.  Their signals are computed once per
   distinct signal-parameter set in the chunk (combinations are ordered so that those sharing
   signals are neighbours, :func:`chunks`); rules are evaluated with the parameters as (1, k)
   rows broadcast against (dates, 1) signals; the k columns are planned and filled in one
   compiled kernel, whose fills (vectorbt's own order primitives, as ``Portfolio.from_orders``
   calls them) give the value and each asset's average weight in one more pass; the metrics of
   :mod:`engine.metrics.specs`, the betas and the block sums come from two compiled passes over
   the (dates, k) equity matrix.  No Python loop runs over single combinations.
3. A chunk's result is a table (one row per combination) plus, for the overfitting statistics,
   per-block sums of each combination's daily excess returns.

A combination's row equals a single run of the config with those values
(:func:`engine.config.params.apply_combination`), to floating-point rounding: the tests check it.
Sweeps leave out ``fx_return`` (it needs a second, frozen-FX simulation per column).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from engine.config.models import Costs, Sizing, StrategyConfig
from engine.config.params import Combination, Grid, sweep_target
from engine.data.panel import LoadedPanel
from engine.errors import UserError
from engine.evaluate import Columns, Market, cost_groups, evaluate_curves, first_decision, market
from engine.memory import keep_freed_memory
from engine.metrics import specs
from engine.metrics.returns import excess_returns
from engine.metrics.specs import Curves
from engine.pipeline import benchmark_allocation, run_with_config
from engine.rule_targets import MAX_RULES, RULE_DTYPE, RuleTargets, spelled_out
from engine.rules import compile_rules, deciding_rules
from engine.signals import compute_signals
from engine.simulate import Engine
from engine.strategy import DecisionKnobs, decide_columns, sizing_plan
from engine.sweep_setting import Setting, check_usable, setting, signal_keys, sub_grid, sweep_warmup
from engine.valuation import Valuation

__all__ = [
    "BLOCKS",
    "ChunkResult",
    "Setting",
    "SweepContext",
    "check_usable",
    "chunks",
    "default_chunk_size",
    "evaluate_chunk",
    "panel_chunk_size",
    "prepare",
    "rank_combinations",
    "setting",
    "sweep_warmup",
    "window_metrics",
]

#: Combinations per chunk filled by the scheduler (``--engine fused``), unless memory is short
#: (see :func:`default_chunk_size`) ...
DEFAULT_CHUNK = 200
#: ... and per chunk re-simulated by vectorbt (``--engine rust|numba``).
SIMULATED_CHUNK = 100
#: Contiguous blocks of the run's dates for the overfitting statistics (CSCV needs an even number).
BLOCKS = 16


@dataclass(frozen=True)
class SweepContext:
    """What every chunk of one sweep shares (computed once by :func:`prepare`)."""

    cfg: StrategyConfig
    market: Market  # valuation, slot prices, cash index and risk-free returns of the run's dates
    reference: str | None  # name of the reference benchmark
    reference_value: np.ndarray | None  # (n,) its equity curve
    market_returns: np.ndarray  # (n-1, A) daily returns of each asset's unit value
    engine: Engine  # vectorbt's engine for the reference benchmark
    #: the chunks' fills: None, the order scheduler's own (vectorbt's order primitives, compiled with the
    #: plan: "fused"); "rust"/"numba", every chunk's planned orders re-simulated by vectorbt's from_orders
    simulator: Engine | None = None
    #: (first, last) rows of the run's dates (inclusive) on which to score every combination as well
    windows: tuple[tuple[int, int], ...] = ()
    #: signals already computed in this process, by name and spec: neighbouring chunks share them
    signal_cache: dict[str, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    def __getstate__(self) -> dict[str, Any]:  # a copy sent to a Dask worker starts with an empty cache
        state = dict(self.__dict__)
        state["signal_cache"] = {}
        return state

    @property
    def loaded(self) -> LoadedPanel:
        return self.market.loaded

    @property
    def start(self) -> int:
        return self.market.start

    @property
    def dates(self) -> pd.DatetimeIndex:
        return self.market.dates

    @property
    def val(self) -> Valuation:
        return self.market.val

    @property
    def close(self) -> np.ndarray:
        """(S, A) slot values from the first simulated date, cash-index units."""
        return self.market.close

    @property
    def order(self) -> np.ndarray:
        """(S, A) fill prices, same units."""
        return self.market.order

    @property
    def risk_free(self) -> np.ndarray:
        """(n,) per-date risk-free return on the run's dates."""
        return self.market.risk_free


def prepare(
    cfg: StrategyConfig,
    loaded: LoadedPanel,
    *,
    engine: Engine,
    reference: str | None = None,
    windows: Sequence[tuple[int, int]] = (),
    simulator: Engine | None = None,
) -> SweepContext:
    """Everything the chunks share: the market (:func:`engine.evaluate.market`), the reference benchmark's curve;
    ``simulator``: :attr:`SweepContext.simulator`."""
    constant = cfg.constant_cash_rate
    mk = market(loaded, assets=cfg.assets, cash_rate=constant, fill=cfg.execution.fill)
    names = [b.name for b in cfg.benchmarks]
    ref = reference or ("50/50 monthly" if "50/50 monthly" in names else (names[0] if names else None))
    ref_value = None
    if ref is not None:
        if ref not in names:
            raise UserError(f"unknown benchmark {ref!r} (known: {', '.join(names) or 'none'})")
        bench = next(b for b in cfg.benchmarks if b.name == ref)
        [res] = run_with_config(cfg, [benchmark_allocation(bench, loaded.panel)], loaded, engine=engine)
        ref_value = res.value
    unit = mk.val.known[loaded.start :]
    return SweepContext(
        cfg=cfg,
        market=mk,
        reference=ref,
        reference_value=ref_value,
        market_returns=unit[1:] / unit[:-1] - 1.0,
        engine=engine,
        simulator=simulator,
        windows=tuple((int(a), int(b)) for a, b in windows),
    )


@dataclass(frozen=True)
class ChunkResult:
    """Rows of one chunk (one per combination) and the per-block sums of their excess returns."""

    index: np.ndarray  # (k,) positions of the combinations in the grid's order
    table: pd.DataFrame  # metrics, one row per combination
    block_sum: np.ndarray  # (BLOCKS, k) sum of daily excess returns in each block of dates
    block_sq: np.ndarray  # (BLOCKS, k) sum of their squares
    block_n: np.ndarray  # (BLOCKS,) dates per block
    returns: np.ndarray | None = None  # (n, k) daily excess returns, when asked for


@dataclass(frozen=True)
class _Knobs:
    """The knobs of k combinations as arrays, grouped where several share a computation."""

    params: dict[str, np.ndarray]  # parameter -> (k,) values
    signal_groups: list[tuple[np.ndarray, dict[str, dict[str, Any]]]]  # (rows, resolved signal specs)
    lag: np.ndarray  # (k,)
    rebalance: list[str]  # k modes
    cost_groups: list[tuple[np.ndarray, Costs]]  # (rows, costs)
    min_hold: np.ndarray  # (k,)
    cooldown: np.ndarray  # (k,)
    sizing: list[Sizing | None]  # k sizing blocks
    band: np.ndarray  # (k,) rebalancing bands, NaN for none
    max_gross: np.ndarray  # (k,) margin accounts' gross limits, NaN for a cash account

    @property
    def margin(self) -> np.ndarray | None:
        """(k,) bool: the margin accounts (docs/shorts.md), None when all are cash accounts."""
        out = ~np.isnan(self.max_gross)
        return out if out.any() else None


def _groups(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """Row positions of each distinct combination of ``keys`` (all rows when there are none)."""
    if not keys:
        return [(np.arange(len(frame)), {})]
    out = []
    for values, rows in frame.groupby(list(keys), sort=False).indices.items():
        values = values if isinstance(values, tuple) else (values,)
        out.append((np.asarray(rows), {k: _plain(v) for k, v in zip(keys, values, strict=True)}))
    return out


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number or string it stands for (configs validate Python types)."""
    return value.item() if hasattr(value, "item") else value


def _knobs(cfg: StrategyConfig, frame: pd.DataFrame) -> _Knobs:
    """Vectorised :func:`setting`: one pass per distinct signal set and cost setting, none per combination."""
    k = len(frame)
    targets = {key: sweep_target(cfg, key) for key in frame.columns}
    params = {}
    for p in cfg.params:
        key = next((key for key, t in targets.items() if t == ("params", p)), None)
        params[p] = frame[key].to_numpy(dtype=np.float64) if key else np.full(k, float(cfg.params[p]))
    lag_key = next((key for key, t in targets.items() if t == ("execution", "lag")), None)
    cost_keys = [key for key, t in targets.items() if t[0] == "costs"]
    state_keys = [key for key, t in targets.items() if t[0] in ("sizing", "execution") and t[1] != "lag"]
    state = [setting(cfg, combo) for _, combo in _groups(frame, state_keys)]
    state_rows = [rows for rows, _ in _groups(frame, state_keys)]
    per_row: list[Any] = [None] * k
    for rows, s in zip(state_rows, state, strict=True):
        for r in rows:
            per_row[r] = s
    return _Knobs(
        params=params,
        signal_groups=[
            (rows, setting(cfg, combo).signals) for rows, combo in _groups(frame, signal_keys(cfg, list(frame.columns)))
        ],
        lag=frame[lag_key].to_numpy(dtype=np.int64) if lag_key else np.full(k, cfg.execution.lag, dtype=np.int64),
        rebalance=[s.rebalance for s in per_row],
        cost_groups=[(rows, setting(cfg, combo).costs) for rows, combo in _groups(frame, cost_keys)],
        min_hold=np.array([s.min_hold for s in per_row], dtype=np.int64),
        cooldown=np.array([s.cooldown for s in per_row], dtype=np.int64),
        sizing=[s.sizing for s in per_row],
        band=np.array([np.nan if s.band is None else s.band for s in per_row]),
        max_gross=np.array([np.nan if s.max_gross is None else s.max_gross for s in per_row]),
    )


def _targets(cfg: StrategyConfig, ctx: SweepContext, cols: _Knobs) -> np.ndarray | RuleTargets:
    """(n, k, A) targets: signals once per distinct spec, rules with the parameters as (1, k) rows; by rule
    (:class:`engine.rule_targets.RuleTargets`) when the rules' weights are numbers taken as they are."""
    panel = ctx.loaded.panel
    n, k = len(panel.dates), len(cols.lag)
    compiled = compile_rules(cfg.rules, panel.assets, [*cfg.signals, *cfg.params])
    inputs = panel.signal_inputs()
    cache = ctx.signal_cache  # each signal once per distinct spec in this process
    if len(cache) > 512:
        cache.clear()
    knobs = DecisionKnobs(
        first=first_decision(ctx.start, cols.lag),
        min_hold=cols.min_hold,
        cooldown=cols.cooldown,
        sizing=sizing_plan(cols.sizing, panel.assets),
        max_gross=cols.max_gross,
    )
    numbers = compiled.constant and knobs.sizing is None and len(compiled.targets) <= MAX_RULES  # weights as they are
    rules = np.empty((k, n), dtype=RULE_DTYPE) if numbers else None  # by rule (RuleTargets), column after column
    out = np.empty((0, 0, 0) if numbers else (n, k, len(panel.assets)))
    for rows, signal_specs in cols.signal_groups:
        env: dict[str, np.ndarray | float] = {
            name: value[:, None] for name, value in compute_signals(signal_specs, inputs, cache=cache).items()
        }
        for p, values in cols.params.items():
            env[p] = values[rows][None, :]
        sub = knobs.subset(rows)
        if rules is not None:
            at = _as_slice(rows)
            view = rules[at].T if isinstance(at, slice) else None  # (n, rows) written in place; listed rows: copied
            found = deciding_rules(
                compiled, env, n, len(rows), first=sub.first, min_hold=sub.min_hold, cooldown=sub.cooldown, out=view
            )
            if view is None:
                rules[at] = found[0].T
            continue
        d = decide_columns(compiled, env, n, sub, unit_value=ctx.val.known, dates=panel.dates.to_numpy())
        out[:, _as_slice(rows)] = d.targets
    return out if rules is None else RuleTargets(rules.T, compiled.targets)


def _as_slice(rows: np.ndarray) -> slice | np.ndarray:
    """Consecutive ascending rows as a slice (copying into a slice is about 8x faster than into listed rows)."""
    if len(rows) and bool((np.diff(rows) == 1).all()):
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def setting_targets(cfg: StrategyConfig, ctx: SweepContext, settings: Sequence[Setting]) -> np.ndarray:
    """(n, len(settings), A): the targets of explicit settings (a walk-forward's chosen combinations)."""
    cols = _Knobs(
        params={p: np.array([s.params[p] for s in settings], dtype=np.float64) for p in cfg.params},
        signal_groups=[(np.array([i]), s.signals) for i, s in enumerate(settings)],
        lag=np.array([s.lag for s in settings], dtype=np.int64),
        rebalance=[s.rebalance for s in settings],
        cost_groups=[(np.array([i]), s.costs) for i, s in enumerate(settings)],
        min_hold=np.array([s.min_hold for s in settings], dtype=np.int64),
        cooldown=np.array([s.cooldown for s in settings], dtype=np.int64),
        sizing=[s.sizing for s in settings],
        band=np.array([np.nan if s.band is None else s.band for s in settings]),
        max_gross=np.array([np.nan if s.max_gross is None else s.max_gross for s in settings]),
    )
    return spelled_out(_targets(cfg, ctx, cols))


def evaluate_chunk(
    ctx: SweepContext,
    combos: pd.DataFrame | Sequence[Combination],
    index: Sequence[int] | np.ndarray,
    *,
    keep_returns: bool = False,
) -> ChunkResult:
    """Simulate and score the combinations ``combos`` (module docstring, step 2).

    ``combos``: one row per combination, one column per sweep key (or a list of dicts).
    """
    keep_freed_memory()  # the next chunk reuses this one's big arrays without page faults (engine/memory.py)
    cfg, mk = ctx.cfg, ctx.market
    frame = combos if isinstance(combos, pd.DataFrame) else pd.DataFrame(list(combos), columns=list(cfg.sweep))
    frame = frame.reset_index(drop=True)
    knobs = _knobs(cfg, frame)
    columns = Columns(
        targets=_targets(cfg, ctx, knobs),
        lag=knobs.lag,
        rebalance=knobs.rebalance,
        costs=cost_groups(knobs.cost_groups, mk),
        first_decision=first_decision(mk.start, knobs.lag),
        band=knobs.band,
        margin=knobs.margin,
    )
    # The scheduler fills every leg with vectorbt's order primitives, exactly as from_orders would
    # (a row equals its single run, and the same sweep re-simulated by vectorbt: the tests check both).
    curves, weights = evaluate_curves(
        mk, columns, init_cash=cfg.initial_cash, engine=ctx.simulator, reference=ctx.reference_value
    )
    del columns  # the targets: freed before the metrics allocate their arrays (engine/memory.py)
    n = len(curves.value)
    blocks = BLOCKS if n // BLOCKS >= 2 else 0  # the overfitting statistics' block sums, from the same passes
    curves = replace(curves, market=ctx.market_returns, blocks=blocks)
    table = _metrics(ctx, curves, weights)
    if ctx.windows:
        table = pd.concat([table, _window_metrics(ctx, curves.value)], axis=1)
    if blocks:
        block_sum, block_sq = curves.passes.block_sum, curves.passes.block_sq
        block_n = np.full(BLOCKS, n // BLOCKS, dtype=np.float64)
    else:  # too few dates for two in each block
        block_sum = block_sq = np.zeros((BLOCKS, curves.k))
        block_n = np.zeros(BLOCKS)
    returns = excess_returns(curves.returns, ctx.risk_free[:, None]) if keep_returns else None
    return ChunkResult(
        index=np.asarray(index, dtype=np.int64),
        table=table,
        block_sum=block_sum,
        block_sq=block_sq,
        block_n=block_n,
        returns=returns,
    )


def _metrics(ctx: SweepContext, curves: Curves, weights: np.ndarray) -> pd.DataFrame:
    """The metric table of the chunk's curves (:data:`~engine.metrics.specs.SWEEP_COLUMNS`, then each asset's
    average weight and beta); ``weights``: (k, A) each asset's average weight."""
    panel = ctx.loaded.panel
    out: dict[str, Any] = specs.compute(specs.SWEEP_COLUMNS, curves)
    for j, a in enumerate(panel.assets):
        if a not in panel.signal_only:
            out[f"weight_{a}"] = weights[:, j]
    betas = curves.betas  # (A, k): on each asset's daily returns
    for j, a in enumerate(panel.assets):
        out[f"beta_{a}"] = betas[j]
    return pd.DataFrame(out)


def window_metrics(
    dates: pd.DatetimeIndex, value: np.ndarray, window: tuple[int, int], initial: float, risk_free: np.ndarray
) -> dict[str, np.ndarray]:
    """:data:`~engine.metrics.specs.WINDOW_METRICS` of the (n, k) curves ``value`` on rows
    ``window`` = (first, last) of ``dates`` (inclusive), scored as if each curve started there.

    The first return is from the previous close (``initial`` on the first row), so a window's
    numbers use only the returns inside it; ``risk_free``: (n,) per-date returns on ``dates``.
    """
    first, last = window
    before = value[first - 1] if first > 0 else np.full(value.shape[1], initial)
    rf = risk_free[first : last + 1].copy()
    if first == 0:
        rf[0] = 0.0
    curves = Curves(dates[first : last + 1], value[first : last + 1], before, risk_free=rf)
    return specs.compute(specs.WINDOW_METRICS, curves)


def _window_metrics(ctx: SweepContext, value: np.ndarray) -> pd.DataFrame:
    out: dict[str, np.ndarray] = {}
    for i, window in enumerate(ctx.windows):
        found = window_metrics(ctx.dates, value, window, ctx.cfg.initial_cash, ctx.risk_free)
        out.update({f"w{i}:{name}": v for name, v in found.items()})
    return pd.DataFrame(out)


def chunks(cfg: StrategyConfig, grid: Grid, chunk_size: int) -> list[np.ndarray]:
    """Grid positions in chunks of at most ``chunk_size``, neighbours sharing their signals.

    Combinations are ordered by their signal parameters (stable, so grid order within a set),
    so a chunk computes few signal sets, and each set is computed in at most two chunks.  The
    signal sets are the distinct values of the keys that change a signal (:func:`sub_grid`).
    """
    sets, index = sub_grid(grid, signal_keys(cfg, grid.keys))
    rank = np.unique([setting(cfg, c).signal_key for c in sets], return_inverse=True)[1]  # equal sets, equal rank
    order = np.argsort(rank[index], kind="stable")
    return [order[i : i + chunk_size] for i in range(0, len(order), chunk_size)]


def default_chunk_size(
    n_slots: int, n_assets: int, available_bytes: int | None = None, simulator: Engine | None = None
) -> int:
    """Combinations per chunk: :data:`DEFAULT_CHUNK` filled by the scheduler (``simulator`` None), the fastest
    of 100 to 300 on the benchmark grid (``benchmarks/sweep.py``: each chunk's Python work, about 4 ms, spread
    over more combinations); :data:`SIMULATED_CHUNK` re-simulated by vectorbt, for which 200 was 7% slower
    than 100; fewer when memory is short.

    Each combination is simulated on its own order slots only (:func:`engine.simulate.group_rows`),
    so a call's size grows with its columns, not with the union of their slots, and bigger chunks
    spread the per-call Python work over more combinations.  A combination costs about 10
    float64 arrays of (slots x assets) during one call; a chunk may use a quarter of available memory.
    """
    if available_bytes is None:
        try:
            import os

            available_bytes = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            available_bytes = 2**31
    per_combo = 10 * 8 * n_slots * max(n_assets, 1)
    most = DEFAULT_CHUNK if simulator is None else SIMULATED_CHUNK
    return int(max(1, min(most, available_bytes // 4 // max(per_combo, 1))))


def panel_chunk_size(loaded: LoadedPanel, simulator: Engine | None = None) -> int:
    """:func:`default_chunk_size` for the run dates of ``loaded`` (a slot per date and market)."""
    panel = loaded.panel
    slots = len(panel.dates[loaded.start :]) * len(set(panel.markets))
    return default_chunk_size(slots, len(panel.assets), simulator=simulator)


def grid_frame(grid: Grid) -> pd.DataFrame:
    """The grid as a table: one row per combination (in grid order), one column per sweep key, typed as pandas types
    the key's values; each value picked by the row's number, not from a dict a combination (21 s and 1.2 GB for 4M)."""
    n = grid.size
    rows = np.arange(n, dtype=np.int64)
    columns: dict[str, Any] = {}
    for i, (key, values) in enumerate(zip(grid.keys, grid.values, strict=True)):
        inner = math.prod(len(v) for v in grid.values[i + 1 :])  # combinations per step of this key
        typed = pd.Series(list(values))  # the type pandas gives the key's values
        at = (rows // inner) % len(values)
        columns[key] = typed.to_numpy()[at] if isinstance(typed.dtype, np.dtype) else typed.array.take(at)
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


def sweep_id(cfg: StrategyConfig, fingerprint: str, code: str, simulator: str | None = None) -> str:
    """Identity of a sweep: the resolved config (sweep block included), the data, Seesaw's code and the
    simulator of its chunks (:attr:`SweepContext.simulator`)."""
    text = json.dumps(cfg.model_dump(mode="json"), sort_keys=True) + fingerprint + code + (simulator or "fused")
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rank_combinations(table: pd.DataFrame, sort: str, top: int | None = None) -> pd.DataFrame:
    """Every row of ``table`` (the first ``top`` only, when given), best first by ``sort`` (lowest first if
    lower is better), NaN last, ties in grid order; a one-line error for a column that is not there.

    The first ``top`` of a numeric column are taken by position from a stable argsort of its values
    (negated when higher is better: NaN still last, ties still in order), without a sorted copy of the
    whole table (a million rows of 30 columns: a 230 MB copy, and 0.28 s against 0.13 s for twenty rows).
    """
    if sort not in table.columns:
        numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and c != "combo"]
        raise UserError(f"--sort: cannot sort by {sort!r} (columns: {', '.join(numeric)})")
    lower_better = sort in specs.LOWER_IS_BETTER
    column = table[sort]
    if top is not None and top >= 0 and (pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column)):
        values = column.to_numpy(dtype=np.float64)
        order = np.argsort(values if lower_better else -values, kind="stable")
        return table.iloc[order[:top]]
    ranked = table.sort_values(sort, ascending=lower_better, na_position="last", kind="stable")
    return ranked if top is None else ranked.head(top)
