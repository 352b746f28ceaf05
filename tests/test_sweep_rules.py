"""Sweeps over the rule keys of docs/rules.md equal single runs: until, weight expressions, min_hold,
cooldown and sizing, each a sweep key or a parameter they use (the sweep contract of tests/test_sweep.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.config import load_config
from engine.config.params import apply_combination, grid
from engine.data.panel import load_for_config
from engine.data.synthetic import SyntheticProvider
from engine.pipeline import required_warmup, run_config
from engine.sweep import evaluate_chunk, prepare, sweep_warmup

CONFIG = """\
name: rules_sweep
data: {source: synthetic, start: 2012-01-01, end: 2015-12-31}
params: {enter: 0.2, leave: 0.4, tilt: 2.0}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  corr: {fn: rolling_corr, a: us, b: hk, window: 60}
  mom: {fn: relative_momentum, a: us, b: hk, window: 40}
  z: {fn: zscore, of: mom, window: 60}
rules:
  - when: corr < enter and mom < 0
    until: corr > leave
    weights: {hk: 1.0}
  - when: corr < enter and mom > 0
    weights: {us: 1.0}
  - otherwise: {hk: "clip(0.4 - 0.1 * tilt * z, 0, 1)", us: rest}
execution: {lag: 1, rebalance: weekly, min_hold: 10, cooldown: 5}
costs: {fee_bps: 5, slippage_bps: 5}
sizing: {target_vol: 0.12, window: 40, inverse_vol: [us, hk]}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  leave: [0.3, 0.5]
  tilt: [0.0, 3.0]
  execution.min_hold: [0, 15]
  execution.cooldown: [0, 8]
  sizing.target_vol: [0.08, 0.15]
  sizing.window: [20, 60]
  sizing.max_gross: [0.8, 1.0]
"""
METRICS = ("total_return", "ann_vol", "sharpe", "max_drawdown", "turnover", "trades", "fees_paid", "final_value")


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("cfg") / "rules_sweep.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(path)
    g = grid(cfg)
    provider = SyntheticProvider({"^GSPC": "us", "^HSI": "hk", "HKD=X": "fx"}, first=dt.date(2008, 1, 2))
    loaded = load_for_config(provider, cfg, warmup_rows=sweep_warmup(cfg, g))
    return path, cfg, g, provider, loaded


def test_the_grid_covers_every_new_key(swept) -> None:
    _, cfg, g, _, _ = swept
    assert g.size == 2**7
    assert {"execution.min_hold", "execution.cooldown", "sizing.target_vol", "sizing.window"} <= set(cfg.sweep)


def test_sweep_rows_over_the_rule_keys_equal_single_runs(swept) -> None:
    _, cfg, g, provider, loaded = swept
    combos = list(g)
    picks = [0, 1, 2, 9, 37, 64, 90, 127]  # every key at both values among them
    ctx = prepare(cfg, loaded, engine="rust")
    result = evaluate_chunk(ctx, [combos[i] for i in picks], picks)
    moved = set()
    for j, i in enumerate(picks):
        single = apply_combination(cfg, combos[i])
        own = load_for_config(provider, single, warmup_rows=required_warmup(single))
        res = run_config(single, own, engine="rust")[0]
        assert res.dates[0] == loaded.panel.dates[loaded.start]
        for key in METRICS:
            assert result.table.loc[j, key] == pytest.approx(res.metrics[key], rel=1e-12, abs=1e-12), (combos[i], key)
        moved.add(round(res.metrics["final_value"], 6))
    assert len(moved) == len(picks)  # every pick is a different strategy: the keys reach the decisions


def test_a_sweep_row_without_sizing_keys_keeps_the_configs_sizing(swept, tmp_path: Path) -> None:
    _, _, _, provider, loaded = swept
    text = CONFIG[: CONFIG.index("sweep:")] + "sweep:\n  tilt: [0.0, 3.0]\n"
    path = tmp_path / "tilt.yaml"
    path.write_text(text, encoding="utf-8")
    small = load_config(path)
    g = grid(small)
    ctx = prepare(small, loaded, engine="rust")
    result = evaluate_chunk(ctx, list(g), [0, 1])
    for j, combo in enumerate(g):
        single = apply_combination(small, combo)
        res = run_config(single, load_for_config(provider, single, warmup_rows=required_warmup(single)))[0]
        assert result.table.loc[j, "ann_vol"] == pytest.approx(res.metrics["ann_vol"], rel=1e-12)


def test_sweeping_a_rebalancing_band_equals_single_runs(swept, tmp_path: Path) -> None:
    _, _, _, provider, loaded = swept
    head = CONFIG[: CONFIG.index("sweep:")]
    text = head.replace("rebalance: weekly,", "rebalance: {band: 0.05, every: monthly},")
    text += "sweep:\n  execution.rebalance.band: [0.02, 0.1]\n"
    path = tmp_path / "band.yaml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    assert cfg.execution.band == 0.05 and cfg.execution.mode == "monthly"
    runs = _rows_equal_single_runs(cfg, list(grid(cfg)), loaded, provider)
    assert runs[0]["trades"] > runs[1]["trades"]  # a narrower band trades more


SPREAD = """\
name: spread_sweep
data: {source: synthetic, start: 2012-01-01, end: 2015-12-31}
params: {gap: 0.05, lean: 0.5}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  mom: {fn: relative_momentum, a: hk, b: us, window: 40}
  z: {fn: zscore, of: mom, window: 60}
rules:
  - when: mom < -gap
    weights: {hk: 1.0, us: -1.0}
  - when: mom > gap
    weights: {hk: "clip(-lean * z, -1.5, 1.5)", us: rest}
  - otherwise: {}
execution: {lag: 1, rebalance: weekly, max_gross: 2.0}
costs: {fee_bps: 5, slippage_bps: 5, borrow_bps: 50, margin_spread_bps: 100}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  lean: [0.5, 2.0]
  execution.max_gross: [2.0, 3.0]
  costs.borrow_bps: [0, 300]
  costs.margin_spread_bps: [0, 500]
"""


def test_sweeping_the_margin_keys_equals_single_runs(swept, tmp_path: Path) -> None:
    """execution.max_gross, costs.borrow_bps and costs.margin_spread_bps (docs/shorts.md) as sweep keys:
    every row equals the single run of its config, and each key moves the result."""
    _, _, _, provider, loaded = swept
    path = tmp_path / "spread_sweep.yaml"
    path.write_text(SPREAD, encoding="utf-8")
    cfg = load_config(path)
    combos = list(grid(cfg))
    assert len(combos) == 16
    runs = _rows_equal_single_runs(cfg, combos, loaded, provider)
    assert len({round(m["final_value"], 6) for m in runs}) == 16  # every key reaches the result


def _rows_equal_single_runs(cfg, combos: list, loaded, provider) -> list[dict]:
    """Sweep rows of ``combos`` (one chunk) against each combination's own single run: METRICS to 1e-12;
    returns the single runs' metrics."""
    result = evaluate_chunk(prepare(cfg, loaded, engine="rust"), combos, list(range(len(combos))))
    out = []
    for j, combo in enumerate(combos):
        single = apply_combination(cfg, combo)
        res = run_config(single, load_for_config(provider, single, warmup_rows=required_warmup(single)))[0]
        for key in METRICS:
            assert result.table.loc[j, key] == pytest.approx(res.metrics[key], rel=1e-12, abs=1e-12), (combo, key)
        out.append(res.metrics)
    return out


STATEFUL = """\
  - when: corr < enter and mom < 0
    until: corr > leave
    weights: {hk: 1.0}
"""
STATELESS = """\
  - when: corr < enter and mom < 0
    weights: {hk: 1.0}
"""


@pytest.mark.parametrize(
    ("first_rule", "keys"),
    [
        (STATEFUL, "  leave: [0.3, 0.5]\n  execution.min_hold: [0, 12]\n  execution.cooldown: [0, 7]\n"),
        (STATELESS, "  enter: [0.1, 0.3]\n"),
    ],
    ids=["latch-hold-cooldown", "no-state"],
)
def test_a_sweep_of_number_weights_equals_single_runs(swept, tmp_path: Path, first_rule: str, keys: str) -> None:
    """Rules whose weights are numbers take the chunk's weights at once: with a latch (``until``), a
    minimum hold and a cooldown swept (the compiled scan of the decisions), and without any state (the
    first rule in force), across signal sets."""
    _, _, _, provider, loaded = swept
    text = (
        """\
name: numbers_sweep
data: {source: synthetic, start: 2012-01-01, end: 2015-12-31}
params: {enter: 0.2, leave: 0.4}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  corr: {fn: rolling_corr, a: us, b: hk, window: 60}
  mom: {fn: relative_momentum, a: us, b: hk, window: 40}
rules:
"""
        + first_rule
        + """\
  - when: mom > 0
    weights: {us: 0.7, hk: 0.3}
  - otherwise: {us: 0.5, hk: 0.5}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
sweep:
  signals.mom.window: [20, 40]
"""
        + keys
    )
    path = tmp_path / "numbers.yaml"
    path.write_text(text, encoding="utf-8")
    cfg = load_config(path)
    combos = list(grid(cfg))
    runs = _rows_equal_single_runs(cfg, combos, loaded, provider)
    for key in cfg.sweep:  # each key changes some row's result when it alone moves
        pairs = [(i, j) for i, a in enumerate(combos) for j, b in enumerate(combos) if i < j and a != b]
        alone = [(i, j) for i, j in pairs if {k for k in cfg.sweep if combos[i][k] != combos[j][k]} == {key}]
        assert any(runs[i]["final_value"] != runs[j]["final_value"] for i, j in alone), key


def _seesaw(*args: str) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_a_sizing_window_the_data_cannot_fill_is_refused_and_one_it_fills_late_is_said(tmp_path: Path) -> None:
    """A run whose sizing window needs more history than the data has would run every decision unsized (or hold
    cash) and be stored as a volatility-targeted strategy: refused, naming sizing.window, as is such a window in
    a sweep's grid (one check for both).
    One the data fills after the start is run, and the warm-up warning says the weights run unsized until then
    (not that the otherwise rule applies: the signals are complete)."""
    base = CONFIG.split("sweep:")[0]
    results = ["--results-dir", str(tmp_path / "r")]
    long = tmp_path / "long.yaml"
    long.write_text(base.replace("window: 40, inverse_vol", "window: 9000, inverse_vol"), encoding="utf-8")
    code, _, err = _seesaw("run", str(long), *results)
    assert code == 2 and err.startswith(f"error: {long}: sizing.window: a sizing window of 9,000 dates needs 9,001"), (
        err
    )
    swept = tmp_path / "swept.yaml"
    swept.write_text(base + "sweep:\n  sizing.window: [40, 9000]\n", encoding="utf-8")
    code, _, err = _seesaw("sweep", str(swept), *results)
    assert code == 2 and "sweep.sizing.window: a sizing window of 9,000 dates needs 9,001 dates of prices" in err, err
    late = tmp_path / "late.yaml"
    late.write_text(base.replace("window: 40, inverse_vol", "window: 4000, inverse_vol"), encoding="utf-8")
    code, out, err = _seesaw("run", str(late), *results)
    assert code == 0, err
    said = " ".join((out + err).split())
    assert "warm-up dates before the start; until the sizing window fills, the rules' weights apply unsized" in said
