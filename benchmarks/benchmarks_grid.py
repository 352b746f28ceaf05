"""The grid the sweep benchmarks share: 5,061 combinations of a relative-momentum rotation on real data.

241 momentum windows (20..260) x 21 thresholds (0..0.10) on the daily S&P 500 / Hang Seng history,
2002-01-02 .. 2026-08-26 (the USD/HKD series that converts the Hang Seng starts in July 2001).
``benchmarks/sweep.py`` times its parts, ``benchmarks/latency.py`` the whole ``seesaw sweep`` command.
"""

CONFIG = """\
name: bench_sweep
data: {source: csv, start: 2002-01-01, end: 2026-08-26}
params: {window: 63, cut: 0.0}
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
execution: {lag: 1, rebalance: on_change}
costs: {fee_bps: 5, slippage_bps: 5}
benchmarks:
  - {name: 50/50 monthly, weights: {us: 0.5, hk: 0.5}, rebalance: monthly}
sweep:
  window: {start: 20, stop: 260, step: 1}
  cut: {start: 0.0, stop: 0.1, step: 0.005}
"""
