"""The passes over a sweep's grid that depend on a few keys visit their distinct values only.

Reference: the same quantities computed by visiting every combination of the grid, as
``itertools.product`` orders them (``engine.config.params.Grid``).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from engine.config import load_config
from engine.config.params import Grid, grid
from engine.evaluate import warmup_rows
from engine.sweep import chunks
from engine.sweep_setting import setting, signal_keys, sub_grid, sweep_warmup

CONFIG = """\
name: sub_grid
data: {source: synthetic, start: 2012-01-01, end: 2016-12-30}
params: {cut: 0.0, window: 40}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  rel: {fn: relative_momentum, a: us, b: hk, window: $window}
  corr: {fn: rolling_corr, a: us, b: hk, window: 60}
rules:
  - when: rel > cut and corr < 0.5
    weights: {us: 1.0}
  - otherwise: {hk: 1.0}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5}
sweep:
  cut: [0.0, 0.05, 0.1]
  window: [80, 20, 40]
  execution.lag: [1, 3]
  signals.corr.window: [30, 120]
  costs.fee_bps: [1, 10]
"""


@pytest.mark.parametrize("keys", [(), ("b",), ("a", "c"), ("c", "a"), ("a", "b", "c")])
def test_positions_in_the_sub_grid_are_those_of_every_combination(keys: tuple[str, ...]) -> None:
    g = Grid(("a", "b", "c"), ((1, 2, 3), ("x", "y"), (0.5, 0.25, 0.125, 0.0)))
    sub, index = sub_grid(g, keys)
    assert sub.keys == tuple(k for k in g.keys if k in keys)
    points = [tuple(c[k] for k in sub.keys) for c in g]
    assert [tuple(c.values()) for c in sub] == list(dict.fromkeys(itertools.product(*sub.values)))
    assert [points[i] for i in range(g.size)] == [tuple(list(sub)[j].values()) for j in index]


def test_chunks_and_warm_up_equal_a_pass_over_every_combination(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    cfg = load_config(path)
    g = grid(cfg)
    assert signal_keys(cfg, g.keys) == ["window", "signals.corr.window"]
    labels = [setting(cfg, c).signal_key for c in g]
    order = sorted(range(g.size), key=labels.__getitem__)  # stable: grid order within a signal set
    for size in (1, 5, 16, 200):
        got = chunks(cfg, g, size)
        assert [list(p) for p in got] == [order[i : i + size] for i in range(0, g.size, size)]
    every = max(warmup_rows(setting(cfg, c).signals, cfg.rules, setting(cfg, c).lag) for c in g)
    assert sweep_warmup(cfg, g) == every == 121 + 3
