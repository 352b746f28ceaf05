"""A sweep whose cash earns a rate (``cash_rate: ^IRX``), on real data, with combinations that never invest.

Contract (docs/methodology.md, Sharpe and CSCV): excess returns that vary by less than 1e-10 of the returns'
size have no Sharpe ratio (cash earning exactly the risk-free rate leaves rounding noise of about 1e-17);
CSCV scores a combination 0, cash's, on a half where it does not vary. So a combination whose table Sharpe
is NaN scores 0 on every half: the stored PBO is CSCV of the stored block sums with those combinations'
sums set to 0, not a Sharpe ratio of their noise (which, here, wins in-sample on some splits).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from engine import api
from engine.metrics.overfitting import pbo_from_block_sums

CONFIG = """\
name: cash_rate_sweep
description: relative momentum with a cash state, cash earning the 13-week T-bill rate
data: {source: csv, start: 2005-01-01, end: 2024-12-31}
cash_rate: ^IRX
params: {cut: 0.0, w: 63}
assets:
  us: {symbol: ^GSPC, market: us}
  hk: {symbol: ^HSI, market: hk}
signals:
  mom: {fn: relative_momentum, a: us, b: hk, window: $w}
rules:
  - when: mom > cut
    weights: {us: 1.0}
  - when: mom < 0 - cut
    weights: {hk: 1.0}
  - otherwise: {}
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  cut: [0.0, 0.1, 0.5, 5.0]
  w: {start: 20, stop: 250, step: 20}
"""


def test_combinations_that_never_invest_score_cash_in_every_half(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "cash_rate_sweep.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    swept = api.sweep(path, data_dir=data_dir, top=1, reps=100, results_dir=tmp_path / "r", env={})
    table = swept.combinations
    flat = ~np.isfinite(table["sharpe"].to_numpy(dtype=float))
    assert flat[table["cut"].to_numpy() == 5.0].all()  # |momentum| never passes 5: always in cash
    assert 12 <= flat.sum() < len(table)
    manifest = json.loads((swept.sweep_dir / "sweep.json").read_text(encoding="utf-8"))
    with np.load(swept.sweep_dir / "blocks.npz") as z:
        block_sum, block_sq, size = z["sum"], z["sq"], int(z["n"][0])
    assert np.abs(block_sum[:, flat]).max() < 1e-12  # stored as computed: noise, not 0
    noise = pbo_from_block_sums(block_sum, block_sq, size)
    block_sum, block_sq = block_sum.copy(), block_sq.copy()
    block_sum[:, flat] = 0.0
    block_sq[:, flat] = 0.0
    cash = pbo_from_block_sums(block_sum, block_sq, size)
    assert (manifest["pbo"], manifest["pbo_prob_loss"]) == (cash.pbo, cash.prob_loss)
    assert abs(cash.pbo - noise.pbo) > 0.05  # the noise scores would have moved PBO by 0.11 here
