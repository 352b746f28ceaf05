"""``seesaw sweep --engine``: the fused scheduler's fills against vectorbt's simulation, every combination.

Reference: vectorbt's own ``Portfolio.from_orders`` (the Rust engine, and numba on the synthetic grid)
re-simulating each chunk's planned orders (``SweepContext.simulator``), against the default, the order
scheduler filling the same legs with vectorbt's order primitives as it plans them.  Every metric of
every combination, and every combination's daily returns, must agree to 1e-9 (relative; 1e-12 absolute
near zero).  The grids cross two market calendars (New York and Hong Kong), fees, slippage, Hong Kong's
stamp duty, the HKD conversion of the Hang Seng into USD, lags, and daily and weekly rebalancing, on the
synthetic generator and on the real history.  Margin accounts are not on the grids: from_orders cannot
debit their financing, so both engines take the scheduler's fills for them (docs/shorts.md).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.config import load_config
from engine.config.params import grid
from engine.data.panel import load_for_config
from engine.data.synthetic import SyntheticProvider
from engine.sweep import chunks, evaluate_chunk, grid_frame, prepare, sweep_warmup
from tests.helpers import MemProvider, real_frames

GRID = """\
name: engines_sweep
data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}
params: {cut: 0.0, window: 40}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  rel: {fn: relative_momentum, a: us, b: hk, window: $window}
rules:
  - when: rel > cut
    weights: {us: 1.0}
  - when: rel < -cut
    weights: {hk: 1.0}
  - otherwise: {us: 0.5, hk: 0.5}
execution: {lag: 1, rebalance: on_change, allow_same_bar: true}
costs: {fee_bps: 5, slippage_bps: 5}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  window: {start: 10, stop: 70, step: 20}
  cut: [0.0, 0.02]
  execution.lag: [0, 1, 2]
  execution.rebalance: [on_change, weekly]
  costs.fee_bps: [0, 10]
"""


def _compare(fused, vectorbt) -> None:
    assert list(fused.table.columns) == list(vectorbt.table.columns)
    for column in fused.table.columns:
        a, b = fused.table[column].to_numpy(dtype=float), vectorbt.table[column].to_numpy(dtype=float)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=column)
    np.testing.assert_allclose(fused.returns, vectorbt.returns, rtol=1e-9, atol=1e-12)


def _every_chunk(cfg, loaded, simulators: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> int:
    import engine.evaluate

    calls: list[str] = []  # vectorbt's simulations, by engine: the reference must really be vectorbt's
    real = engine.evaluate._simulate
    monkeypatch.setattr(engine.evaluate, "_simulate", lambda *a: calls.append(a[5]) or real(*a))
    g = grid(cfg)
    frame = grid_frame(g)
    contexts = {s: prepare(cfg, loaded, engine="rust", simulator=s) for s in simulators}  # type: ignore[arg-type]
    fused = prepare(cfg, loaded, engine="rust")
    calls.clear()  # the reference benchmark's runs
    for part in chunks(cfg, g, 16):
        ours = evaluate_chunk(fused, frame.iloc[part], part, keep_returns=True)
        assert int(ours.table["trades"].min()) > 0  # every combination trades: the fills are exercised
        assert not calls
        for simulator, ctx in contexts.items():
            _compare(ours, evaluate_chunk(ctx, frame.iloc[part], part, keep_returns=True))
            assert calls.pop() == simulator
    return g.size


def test_fused_equals_vectorbt_on_every_combination_of_the_synthetic_grid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID, encoding="utf-8")
    cfg = load_config(path)
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2008, 1, 2))
    loaded = load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, grid(cfg)))
    assert loaded.panel.currencies == ("USD", "HKD")
    assert _every_chunk(cfg, loaded, ("rust", "numba"), monkeypatch) == 96


@pytest.mark.realdata
def test_fused_equals_vectorbt_on_every_combination_of_the_real_grid(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID.replace("source: synthetic, start: 2012-01-01", "source: csv, start: 2008-01-01"))
    cfg = load_config(path)
    frames = real_frames(data_dir, ["^GSPC", "^HSI", "HKD=X"])
    loaded = load_for_config(MemProvider(frames), cfg, warmup_rows=sweep_warmup(cfg, grid(cfg)), check_calendar=False)
    assert _every_chunk(cfg, loaded, ("rust",), monkeypatch) == 96


def test_the_command_records_its_engine_and_keeps_the_sweeps_apart(tmp_path: Path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(GRID.replace("  costs.fee_bps: [0, 10]\n", ""), encoding="utf-8")
    results = tmp_path / "results"
    out = {}
    for engine in ("fused", "rust"):
        args = ["sweep", str(path), "--results-dir", str(results), "--top", "3", "--reps", "100", "--format", "json"]
        result = CliRunner().invoke(app, [*args, "--engine", engine])
        assert result.exit_code == 0, result.stderr
        out[engine] = json.loads(result.stdout)
    dirs = sorted((results / "engines_sweep" / "sweeps").iterdir())
    assert len(dirs) == 2  # one sweep per engine: neither reuses the other's
    simulators = {json.loads((d / "sweep.json").read_text())["simulator"] for d in dirs}
    assert simulators == {"fused", "rust"}
    fused, rust = (pd.DataFrame(out[e]["rows"]) for e in ("fused", "rust"))
    assert list(fused["combo"]) == list(rust["combo"])
    np.testing.assert_allclose(fused["sharpe"], rust["sharpe"], rtol=1e-9)


def test_engine_names_map_to_the_benchmark_engine_and_the_chunks_simulator() -> None:
    from engine.errors import UserError
    from engine.jobs.sweep import FUSED, sweep_engines

    assert sweep_engines(FUSED) == ("rust", None)
    assert sweep_engines("rust") == ("rust", "rust")
    assert sweep_engines("numba") == ("numba", "numba")
    with pytest.raises(UserError, match="engine: expected one of fused, rust, numba, got 'auto'"):
        sweep_engines("auto")
